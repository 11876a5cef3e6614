// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The loader programs' machine (user/kernel/loader_vm.h) on small
 * programs of its instruction set: what it computes, where it reads and
 * writes, the helpers it calls, and every program it must refuse rather
 * than run. tests/bpf/test_loader_vm_kernel.c runs the real loaders.
 */
#include <errno.h>
#include <linux/bpf.h>

#include "test_util.h"
#include "kernel/loader_vm.h"
#include "bpf_insns.h"

#define MAX_INSNS 16

struct row {
	const char *name;
	struct bpf_insn insns[MAX_INSNS];
	int want; /* the return value */
};

/* The context: 8 words, word 1 = 5; the blob: 4 words, word 2 = 9. */
static int run_row(const struct row *r, uint64_t ctx[8])
{
	uint64_t blob[4] = { 0, 0, 9, 0 };
	size_t n = MAX_INSNS;

	ctx[1] = 5;
	/* Up to its last instruction that is not all zeros. */
	while (n && !r->insns[n - 1].code && !r->insns[n - 1].imm)
		n--;
	return loader_vm_run(r->insns, n * sizeof(struct bpf_insn), blob,
			     sizeof(blob), ctx, 8 * sizeof(uint64_t), NULL);
}

static const struct row rows[] = {
	{ "returns R0", { MOV_K(0, 42), EXIT() }, 42 },
	{ "negative immediates are sign-extended",
	  { MOV_K(0, -1), JMP_K(BPF_JSLT, 0, 0, 1), EXIT(), MOV_K(0, -EPERM),
	    EXIT() },
	  -EPERM },
	{ "R1 is the context",
	  { LDX(BPF_DW, 0, 1, 8), ALU_K(BPF_ADD, 0, 1), EXIT() },
	  6 },
	{ "a store into the context stays there",
	  { ST(BPF_W, 1, 16, 7), LDX(BPF_DW, 0, 1, 16), EXIT() },
	  7 },
	{ "a word load is zero-extended",
	  { ST(BPF_W, 1, 24, -1), LDX(BPF_W, 0, 1, 24), ALU_K(BPF_RSH, 0, 31),
	    EXIT() },
	  1 },
	{ "the stack below R10",
	  { MOV_K(2, 11), STX(BPF_DW, 10, 2, -8), LDX(BPF_DW, 0, 10, -8),
	    EXIT() },
	  11 },
	{ "the stack starts zeroed", { LDX(BPF_DW, 0, 10, -512), EXIT() }, 0 },
	{ "a map value's address is in the blob",
	  { LD_IMM64(2, BPF_PSEUDO_MAP_IDX_VALUE, 0, 16), LDX(BPF_DW, 0, 2, 0),
	    EXIT() },
	  9 },
	{ "a 64-bit constant",
	  { LD_IMM64(0, 0, 0, 1), ALU_K(BPF_RSH, 0, 32), EXIT() },
	  1 },
	{ "JSET on the context's flags",
	  { LDX(BPF_DW, 2, 1, 8), MOV_K(0, 1), JMP_K(BPF_JSET, 2, 4, 1),
	    MOV_K(0, 2), EXIT() },
	  1 },
	{ "sys_close(-1) gives -EBADF",
	  { MOV_K(1, -1), CALL(BPF_FUNC_sys_close), EXIT() },
	  -EBADF },
	{ "probe_read_kernel from NULL zeroes its destination",
	  { ST(BPF_DW, 10, -8, 3), MOV_X(1, 10), ALU_K(BPF_ADD, 1, -8),
	    MOV_K(2, 8), MOV_K(3, 0), CALL(BPF_FUNC_probe_read_kernel),
	    LDX(BPF_DW, 0, 10, -8), EXIT() },
	  0 },
	{ "probe_read_kernel from the context",
	  { MOV_X(3, 1), ALU_K(BPF_ADD, 3, 8), MOV_X(1, 10),
	    ALU_K(BPF_ADD, 1, -8), MOV_K(2, 8),
	    CALL(BPF_FUNC_probe_read_kernel), LDX(BPF_DW, 0, 10, -8), EXIT() },
	  5 },
	/* Refused: -EINVAL, and nothing after the instruction runs. */
	{ "refused: an opcode it does not know (32-bit ALU)",
	  { { .code = BPF_ALU | BPF_MOV | BPF_K }, EXIT() },
	  -EINVAL },
	{ "refused: a helper libbpf's loaders do not call",
	  { CALL(BPF_FUNC_map_lookup_elem), EXIT() },
	  -EINVAL },
	{ "refused: a call of a kfunc",
	  { { .code = BPF_JMP | BPF_CALL, .src_reg = BPF_PSEUDO_KFUNC_CALL },
	    EXIT() },
	  -EINVAL },
	{ "refused: a load past the context",
	  { LDX(BPF_DW, 0, 1, 64), EXIT() },
	  -EINVAL },
	{ "refused: a store above the stack",
	  { ST(BPF_B, 10, 0, 1), MOV_K(0, 0), EXIT() },
	  -EINVAL },
	{ "refused: a store straddling the context's end",
	  { ST(BPF_DW, 1, 60, 1), MOV_K(0, 0), EXIT() },
	  -EINVAL },
	{ "refused: a write of R10", { MOV_K(10, 0), EXIT() }, -EINVAL },
	{ "refused: a map by fd",
	  { LD_IMM64(0, BPF_PSEUDO_MAP_FD, 3, 0), EXIT() },
	  -EINVAL },
	{ "refused: a map value past the blob",
	  { LD_IMM64(0, BPF_PSEUDO_MAP_IDX_VALUE, 0, 33), EXIT() },
	  -EINVAL },
	{ "refused: a jump out of the program",
	  { JMP_K(BPF_JEQ, 1, 0, 0),
	    { .code = BPF_JMP | BPF_JA, .off = 5 },
	    EXIT() },
	  -EINVAL },
	{ "refused: no exit", { MOV_K(0, 0) }, -EINVAL },
	{ "refused: a loop that never ends",
	  { { .code = BPF_JMP | BPF_JA, .off = -1 }, EXIT() },
	  -EINVAL },
	{ "refused: sys_bpf on attributes outside the regions",
	  { MOV_K(1, BPF_MAP_CREATE), MOV_K(2, 0), MOV_K(3, 72),
	    CALL(BPF_FUNC_sys_bpf), EXIT() },
	  -EINVAL },
};

static void test_row(void **state)
{
	const struct row *r = *state;
	uint64_t ctx[8] = { 0 };

	assert_int_equal(run_row(r, ctx), r->want);
}

/* Refused mid-way: what ran before stays done, nothing after runs. */
static void test_refusal_stops_the_program(void **state)
{
	const struct row r = {
		.insns = { ST(BPF_W, 1, 16, 7), LDX(BPF_DW, 0, 1, 64),
			   ST(BPF_W, 1, 24, 8), MOV_K(0, 0), EXIT() },
	};
	uint64_t ctx[8] = { 0 };

	(void)state;
	assert_int_equal(run_row(&r, ctx), -EINVAL);
	assert_int_equal(ctx[2], 7);
	assert_int_equal(ctx[3], 0);
}

int main(void)
{
	struct test_list l = { 0 };

	TL_ROWS(&l, test_row, rows);
	tl_add(&l, "a refusal stops the program",
	       test_refusal_stops_the_program, NULL);
	return tl_run("loader_vm", &l);
}
