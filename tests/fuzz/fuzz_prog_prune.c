// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer harness of prog_prune() (user/kernel/prog_prune.c), the
 * pruning of a program's dead code under its frozen .rodata.
 *
 * Input: 32 bytes of .rodata, then instructions (8 bytes each, at most
 * 64). .rodata is map 0 of the load's fd_array, as the loader VM
 * (user/kernel/loader_vm.c) reads BPF_PSEUDO_MAP_IDX_VALUE of map 0.
 * Besides ASan/UBSan:
 * - a program the pass changed keeps its shape: fewer instructions by
 *   the count taken out, every jump and call inside it, no target in
 *   the middle of a 64-bit load, each 64-bit load whole (one it left
 *   alone is the same bytes);
 * - it computes what the original does: both are run by the loader VM
 *   on the same context, with .rodata as its data; where the original
 *   runs to its end (a return value of 0 or more) without writing
 *   .rodata (which the verifier would refuse), the pruned one returns
 *   the same and leaves the same context.
 *
 * Seeds (tests/fuzz/corpus/prog_prune/): the unit test's shapes, written
 * by tests/fuzz/make_seeds.py.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <linux/bpf.h>

#include "kernel/loader_vm.h"
#include "kernel/prog_prune.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RODATA_SZ 32
#define MAX_FUZZ_INSNS 64

static bool is_ld_imm64(const struct bpf_insn *in)
{
	return in->code == (BPF_LD | BPF_IMM | BPF_DW);
}

/* Whether in (at i) jumps or calls or names a function; *to: where. */
static bool target_of(const struct bpf_insn *in, uint32_t i, int64_t *to)
{
	uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code);

	if (is_ld_imm64(in)) {
		*to = (int64_t)i + 1 + in->imm;
		return in->src_reg == BPF_PSEUDO_FUNC;
	}
	if ((cls != BPF_JMP && cls != BPF_JMP32) || op == BPF_EXIT ||
	    (op == BPF_CALL && in->src_reg != BPF_PSEUDO_CALL))
		return false;
	*to = (int64_t)i + 1 +
	      (op == BPF_CALL || in->code == (BPF_JMP32 | BPF_JA) ? in->imm :
								    in->off);
	return true;
}

static void check_shape(const struct bpf_insn *insns, uint32_t n)
{
	bool hi[MAX_FUZZ_INSNS] = { false };
	int64_t to;

	for (uint32_t i = 0; i < n; i++) {
		if (!is_ld_imm64(&insns[i]))
			continue;
		CHECK(i + 1 < n);
		hi[++i] = true;
	}
	for (uint32_t i = 0; i < n; i++)
		if (!hi[i] && target_of(&insns[i], i, &to))
			CHECK(to >= 0 && to < n && !hi[to]);
}

#define RODATA_WRITTEN (-1000)

/*
 * R0 of insns run by the VM on ro (filled with rodata) and ctx (filled
 * as the harness fills it), or < 0; what ctx holds after it, in out.
 * RODATA_WRITTEN: the program wrote .rodata.
 */
static int run(const struct bpf_insn *insns, uint32_t n, const uint8_t *rodata,
	       uint8_t *ro, uint64_t *ctx, uint64_t out[8])
{
	static const uint64_t ctx_init[8] = { 1, 5, 0, 0, 7 };
	int ret;

	memcpy(ro, rodata, RODATA_SZ);
	memcpy(ctx, ctx_init, sizeof(ctx_init));
	ret = loader_vm_run(insns, n * sizeof(*insns), ro, RODATA_SZ, ctx,
			    8 * sizeof(uint64_t), NULL);
	memcpy(out, ctx, 8 * sizeof(uint64_t));
	return memcmp(ro, rodata, RODATA_SZ) ? RODATA_WRITTEN : ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct prune_scratch scratch;
	struct bpf_insn orig[MAX_FUZZ_INSNS], pruned[MAX_FUZZ_INSNS];
	static uint8_t ro_run[RODATA_SZ];
	static uint64_t ctx_run[8];
	uint8_t rodata[RODATA_SZ];
	uint64_t ctx_a[8], ctx_b[8];
	union bpf_attr attr;
	struct prune_rodata ro = { .map_idx = 0,
				   .value = rodata,
				   .size = RODATA_SZ };
	uint32_t n, removed;
	int ret_a, ret_b;

	if (size < RODATA_SZ)
		return 0;
	memcpy(rodata, data, RODATA_SZ);
	n = (size - RODATA_SZ) / sizeof(struct bpf_insn);
	if (!n || n > MAX_FUZZ_INSNS)
		return 0;
	memcpy(orig, data + RODATA_SZ, n * sizeof(struct bpf_insn));
	memcpy(pruned, orig, sizeof(pruned));
	/* the whole union: {0} zeroes only its first member */
	memset(&attr, 0, sizeof(attr));
	attr.insns = (uintptr_t)pruned;
	attr.insn_cnt = n;

	removed = prog_prune(&attr, &ro, &scratch);

	CHECK(removed <= n);
	CHECK(attr.insn_cnt == n - removed);
	/* Left alone, it may be anything the fuzzer wrote; changed, not. */
	if (!removed)
		CHECK(!memcmp(pruned, orig, n * sizeof(struct bpf_insn)));
	else
		check_shape(pruned, attr.insn_cnt);

	/*
	 * Both runs on the same buffers, refilled: a pointer the fuzzer
	 * moved out of .rodata may land in another region of the machine
	 * by address, and must land in the same one each time.
	 */
	ret_a = run(orig, n, rodata, ro_run, ctx_run, ctx_a);
	ret_b = run(pruned, attr.insn_cnt, rodata, ro_run, ctx_run, ctx_b);
	if (ret_a == RODATA_WRITTEN || ret_b == RODATA_WRITTEN)
		return 0; /* not a program the verifier lets load */
	/*
	 * The original ran to its end (a negative R0 cannot be told from a
	 * refusal): the pruned one runs the same path less its nops.
	 */
	if (ret_a < 0)
		return 0;
	CHECK(ret_b == ret_a);
	CHECK(!memcmp(ctx_a, ctx_b, sizeof(ctx_a)));
	return 0;
}
