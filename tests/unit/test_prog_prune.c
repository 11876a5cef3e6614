// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The pruning of a program under its frozen .rodata (user/kernel/
 * prog_prune.h) on small programs: what it decides from constants and
 * what it must not, how it re-targets jumps, calls and records, and the
 * programs it leaves alone. tests/bpf/test_loader_vm_kernel.c checks the
 * real programs against the kernel's own pruning.
 */
#include <string.h>

#include "test_util.h"
#include "kernel/prog_prune.h"
#include "bpf_insns.h"

#define MAX_INSNS 16
#define MAX_RECS 4
#define NONE 0xffff

/* .rodata as map 3 of the load's fd_array, at offset o. */
#define RODATA(dst, o) LD_IMM64(dst, BPF_PSEUDO_MAP_IDX_VALUE, 3, o)
#define NOP() JA(0)

struct row {
	const char *name;
	struct bpf_insn insns[MAX_INSNS];
	uint64_t rodata;	  /* its 8 bytes, little-endian */
	uint16_t funcs[MAX_RECS]; /* func_info's instructions, NONE-ended */
	uint16_t relos[MAX_RECS]; /* CO-RE's instructions, NONE-ended */
	struct bpf_insn want[MAX_INSNS];
	uint16_t want_funcs[MAX_RECS];
	uint16_t want_relos[MAX_RECS];
	uint32_t want_removed;
};

static const struct row rows[] = {
	{ "a branch .rodata never takes becomes a nop, its target goes",
	  { RODATA(1, 0), LDX(BPF_B, 1, 1, 0), JMP_K(BPF_JNE, 1, 0, 2),
	    MOV_K(0, 1), EXIT(), MOV_K(0, 2), EXIT() },
	  0,
	  { 0, NONE },
	  { NONE },
	  { RODATA(1, 0), LDX(BPF_B, 1, 1, 0), NOP(), MOV_K(0, 1), EXIT() },
	  { 0, NONE },
	  { NONE },
	  2 },
	{ "a branch .rodata always takes becomes a jump, the rest goes",
	  { RODATA(1, 0), LDX(BPF_B, 1, 1, 0), JMP_K(BPF_JNE, 1, 0, 2),
	    MOV_K(0, 1), EXIT(), MOV_K(0, 2), EXIT() },
	  1,
	  { 0, NONE },
	  { NONE },
	  { RODATA(1, 0), LDX(BPF_B, 1, 1, 0), JA(0), MOV_K(0, 2), EXIT() },
	  { 0, NONE },
	  { NONE },
	  2 },
	{ "a 32-bit comparison reads the low half",
	  { RODATA(1, 0), LDX(BPF_DW, 1, 1, 0), JMP32_K(BPF_JEQ, 1, 0, 2),
	    MOV_K(0, 1), EXIT(), MOV_K(0, 2), EXIT() },
	  0x100000000ULL,
	  { 0, NONE },
	  { NONE },
	  { RODATA(1, 0), LDX(BPF_DW, 1, 1, 0), JA(0), MOV_K(0, 2), EXIT() },
	  { 0, NONE },
	  { NONE },
	  2 },
	{ "a 64-bit comparison reads it whole",
	  { RODATA(1, 0), LDX(BPF_DW, 1, 1, 0), JMP_K(BPF_JEQ, 1, 0, 2),
	    MOV_K(0, 1), EXIT(), MOV_K(0, 2), EXIT() },
	  0x100000000ULL,
	  { 0, NONE },
	  { NONE },
	  { RODATA(1, 0), LDX(BPF_DW, 1, 1, 0), NOP(), MOV_K(0, 1), EXIT() },
	  { 0, NONE },
	  { NONE },
	  2 },
	{ "arithmetic on constants is followed",
	  { RODATA(1, 0), LDX(BPF_B, 1, 1, 1), ALU_K(BPF_ADD, 1, 3),
	    ALU_K(BPF_LSH, 1, 4), JMP_K(BPF_JEQ, 1, 0x50, 2), MOV_K(0, 1),
	    EXIT(), MOV_K(0, 2), EXIT() },
	  0x0200,
	  { 0, NONE },
	  { NONE },
	  { RODATA(1, 0), LDX(BPF_B, 1, 1, 1), ALU_K(BPF_ADD, 1, 3),
	    ALU_K(BPF_LSH, 1, 4), JA(0), MOV_K(0, 2), EXIT() },
	  { 0, NONE },
	  { NONE },
	  2 },
	{ "what CO-RE rewrites is the kernel's: not known",
	  { MOV_K(1, 0), JMP_K(BPF_JEQ, 1, 0, 2), MOV_K(0, 1), EXIT(),
	    MOV_K(0, 2), EXIT() },
	  0,
	  { 0, NONE },
	  { 0, NONE },
	  { MOV_K(1, 0), JMP_K(BPF_JEQ, 1, 0, 2), MOV_K(0, 1), EXIT(),
	    MOV_K(0, 2), EXIT() },
	  { 0, NONE },
	  { 0, NONE },
	  0 },
	{ "the same without CO-RE: known",
	  { MOV_K(1, 0), JMP_K(BPF_JEQ, 1, 0, 2), MOV_K(0, 1), EXIT(),
	    MOV_K(0, 2), EXIT() },
	  0,
	  { 0, NONE },
	  { NONE },
	  { MOV_K(1, 0), JA(0), MOV_K(0, 2), EXIT() },
	  { 0, NONE },
	  { NONE },
	  2 },
	{ "a pointer into .rodata is not NULL",
	  { RODATA(1, 0), JMP_K(BPF_JEQ, 1, 0, 2), MOV_K(0, 1), EXIT(),
	    MOV_K(0, 2), EXIT() },
	  0,
	  { 0, NONE },
	  { NONE },
	  { RODATA(1, 0), NOP(), MOV_K(0, 1), EXIT() },
	  { 0, NONE },
	  { NONE },
	  2 },
	{ "a load past .rodata's end is not known",
	  { RODATA(1, 0), LDX(BPF_W, 1, 1, 8), JMP_K(BPF_JEQ, 1, 0, 2),
	    MOV_K(0, 1), EXIT(), MOV_K(0, 2), EXIT() },
	  0,
	  { 0, NONE },
	  { NONE },
	  { RODATA(1, 0), LDX(BPF_W, 1, 1, 8), JMP_K(BPF_JEQ, 1, 0, 2),
	    MOV_K(0, 1), EXIT(), MOV_K(0, 2), EXIT() },
	  { 0, NONE },
	  { NONE },
	  0 },
	{ "a value a call returns is not known",
	  { MOV_K(0, 0), CALL(BPF_FUNC_get_prandom_u32),
	    JMP_K(BPF_JEQ, 0, 0, 2), MOV_K(0, 1), EXIT(), MOV_K(0, 2), EXIT() },
	  0,
	  { 0, NONE },
	  { NONE },
	  { MOV_K(0, 0), CALL(BPF_FUNC_get_prandom_u32),
	    JMP_K(BPF_JEQ, 0, 0, 2), MOV_K(0, 1), EXIT(), MOV_K(0, 2), EXIT() },
	  { 0, NONE },
	  { NONE },
	  0 },
	{ "a constant met with another at a join is not known",
	  { LDX(BPF_W, 2, 1, 0), MOV_K(3, 1), JMP_K(BPF_JEQ, 2, 0, 1),
	    MOV_K(3, 2), JMP_K(BPF_JEQ, 3, 1, 2), MOV_K(0, 1), EXIT(),
	    MOV_K(0, 2), EXIT() },
	  0,
	  { 0, NONE },
	  { NONE },
	  { LDX(BPF_W, 2, 1, 0), MOV_K(3, 1), JMP_K(BPF_JEQ, 2, 0, 1),
	    MOV_K(3, 2), JMP_K(BPF_JEQ, 3, 1, 2), MOV_K(0, 1), EXIT(),
	    MOV_K(0, 2), EXIT() },
	  { 0, NONE },
	  { NONE },
	  0 },
	{ "jumps across what goes and a 64-bit load are re-targeted",
	  { LDX(BPF_W, 2, 1, 0), JMP_K(BPF_JEQ, 2, 0, 6), RODATA(3, 0),
	    LDX(BPF_B, 3, 3, 0), JMP_K(BPF_JNE, 3, 0, 1), JA(1), MOV_K(0, 5),
	    LD_IMM64(4, 0, 7, 0), MOV_K(0, 0), EXIT() },
	  0,
	  { 0, NONE },
	  { NONE },
	  { LDX(BPF_W, 2, 1, 0), JMP_K(BPF_JEQ, 2, 0, 5), RODATA(3, 0),
	    LDX(BPF_B, 3, 3, 0), NOP(), JA(0), LD_IMM64(4, 0, 7, 0),
	    MOV_K(0, 0), EXIT() },
	  { 0, NONE },
	  { NONE },
	  1 },
	{ "a function only dead code calls goes, with its records",
	  { RODATA(1, 0), LDX(BPF_B, 1, 1, 0), JMP_K(BPF_JNE, 1, 0, 2),
	    CALL_PC(3), EXIT(), CALL_PC(3), EXIT(), MOV_K(0, 1), EXIT(),
	    MOV_K(0, 2), EXIT() },
	  0,
	  { 0, 8, 10, NONE },
	  { 8, 10, NONE },
	  { RODATA(1, 0), LDX(BPF_B, 1, 1, 0), NOP(), CALL_PC(1), EXIT(),
	    MOV_K(0, 1), EXIT() },
	  { 0, 6, NONE },
	  { 6, NONE },
	  4 },
	{ "an instruction it does not know leaves the program alone",
	  { RODATA(1, 0),
	    LDX(BPF_B, 1, 1, 0),
	    JMP_K(BPF_JNE, 1, 0, 2),
	    { .code = BPF_JMP | 0xe0 /* may_goto */, .off = 0 },
	    EXIT(),
	    MOV_K(0, 2),
	    EXIT() },
	  0,
	  { 0, NONE },
	  { NONE },
	  { RODATA(1, 0),
	    LDX(BPF_B, 1, 1, 0),
	    JMP_K(BPF_JNE, 1, 0, 2),
	    { .code = BPF_JMP | 0xe0, .off = 0 },
	    EXIT(),
	    MOV_K(0, 2),
	    EXIT() },
	  { 0, NONE },
	  { NONE },
	  0 },
};

static uint32_t n_insns(const struct bpf_insn *insns)
{
	uint32_t n = MAX_INSNS;

	while (n && !insns[n - 1].code && !insns[n - 1].imm)
		n--;
	return n;
}

static uint32_t n_recs(const uint16_t *offs)
{
	uint32_t n = 0;

	while (n < MAX_RECS && offs[n] != NONE)
		n++;
	return n;
}

static void test_row(void **state)
{
	static struct prune_scratch scratch;
	const struct row *r = *state;
	struct bpf_insn insns[MAX_INSNS];
	struct bpf_func_info funcs[MAX_RECS] = { 0 };
	struct bpf_core_relo relos[MAX_RECS] = { 0 };
	struct prune_rodata ro = { .map_idx = 3,
				   .value = &r->rodata,
				   .size = sizeof(r->rodata) };
	union bpf_attr attr;
	uint32_t removed;

	memcpy(insns, r->insns, sizeof(insns));
	memset(&attr, 0, sizeof(attr)); /* {0} zeroes only its first member */
	for (uint32_t i = 0; i < n_recs(r->funcs); i++) {
		funcs[i].insn_off = r->funcs[i];
		funcs[i].type_id = 100 + i;
	}
	for (uint32_t i = 0; i < n_recs(r->relos); i++) {
		relos[i].insn_off = r->relos[i] * sizeof(struct bpf_insn);
		relos[i].type_id = 200 + i;
	}
	attr.insns = (uintptr_t)insns;
	attr.insn_cnt = n_insns(r->insns);
	attr.func_info = (uintptr_t)funcs;
	attr.func_info_rec_size = sizeof(funcs[0]);
	attr.func_info_cnt = n_recs(r->funcs);
	attr.core_relos = (uintptr_t)relos;
	attr.core_relo_rec_size = sizeof(relos[0]);
	attr.core_relo_cnt = n_recs(r->relos);

	removed = prog_prune(&attr, &ro, &scratch);

	assert_int_equal(removed, r->want_removed);
	assert_int_equal(attr.insn_cnt, n_insns(r->want));
	assert_memory_equal(insns, r->want,
			    attr.insn_cnt * sizeof(struct bpf_insn));
	assert_int_equal(attr.func_info_cnt, n_recs(r->want_funcs));
	for (uint32_t i = 0; i < attr.func_info_cnt; i++)
		assert_int_equal(funcs[i].insn_off, r->want_funcs[i]);
	assert_int_equal(attr.core_relo_cnt, n_recs(r->want_relos));
	for (uint32_t i = 0; i < attr.core_relo_cnt; i++)
		assert_int_equal(relos[i].insn_off,
				 r->want_relos[i] * sizeof(struct bpf_insn));
}

/* The verifier log's line info would not follow: such a load is left be. */
static void test_line_info_left_alone(void **state)
{
	static struct prune_scratch scratch;
	const struct row *r = &rows[0];
	struct bpf_insn insns[MAX_INSNS];
	struct prune_rodata ro = { .map_idx = 3,
				   .value = &r->rodata,
				   .size = sizeof(r->rodata) };
	union bpf_attr attr;

	(void)state;
	memcpy(insns, r->insns, sizeof(insns));
	memset(&attr, 0, sizeof(attr));
	attr.insns = (uintptr_t)insns;
	attr.insn_cnt = n_insns(r->insns);
	attr.line_info_cnt = 1;
	assert_int_equal(prog_prune(&attr, &ro, &scratch), 0);
	assert_int_equal(attr.insn_cnt, n_insns(r->insns));
	assert_memory_equal(insns, r->insns,
			    attr.insn_cnt * sizeof(struct bpf_insn));
}

int main(void)
{
	struct test_list l = { 0 };

	TL_ROWS(&l, test_row, rows);
	tl_add(&l, "a load with line info is left alone",
	       test_line_info_left_alone, NULL);
	return tl_run("prog_prune", &l);
}
