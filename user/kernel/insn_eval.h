/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * insn_eval.h - what a BPF instruction computes, for the two passes
 * that read programs in this process: the loader programs' machine
 * (loader_vm.h) and the pruning of dead code (prog_prune.h).
 */
#ifndef AWF_INSN_EVAL_H
#define AWF_INSN_EVAL_H

#include <stdbool.h>
#include <stdint.h>

/* The bytes a load or store of this opcode moves: 1, 2, 4 or 8. */
int insn_mem_size(uint8_t code);

/*
 * What a load of size bytes (insn_mem_size()) reads at p, host order,
 * sign-extended (BPF_MEMSX) or not.
 */
uint64_t insn_mem_read(const void *p, int size, bool sign);

/*
 * Whether the conditional jump op (BPF_JEQ...) is taken on a and b, 64
 * bits or their low 32 (JMP32): 1 or 0, or -1 for an op it is not.
 */
int insn_jump_taken(uint8_t op, uint64_t a, uint64_t b, bool is64);

/*
 * a op b for the ALU op (BPF_ADD...; BPF_MOV: b, BPF_NEG: -a), 64 bits or
 * 32 zero-extended: 0 and *res, or -1 for an op it does not compute
 * (division, byte swaps) or a shift by the width or more.
 */
int insn_alu(uint8_t op, uint64_t a, uint64_t b, bool is64, uint64_t *res);

#endif /* AWF_INSN_EVAL_H */
