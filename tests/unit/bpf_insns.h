/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * bpf_insns.h - BPF instructions for the unit tests' small programs
 * (test_loader_vm.c, test_prog_prune.c).
 */
#ifndef AWF_TEST_BPF_INSNS_H
#define AWF_TEST_BPF_INSNS_H

#include <linux/bpf.h>

#define MOV_K(dst, k)                                            \
	((struct bpf_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_K, \
			    .dst_reg = dst,                      \
			    .imm = k })
#define MOV_X(dst, src)                                          \
	((struct bpf_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_X, \
			    .dst_reg = dst,                      \
			    .src_reg = src })
#define ALU_K(op, dst, k)   \
	((struct bpf_insn){ \
		.code = BPF_ALU64 | (op) | BPF_K, .dst_reg = dst, .imm = k })
#define LDX(size, dst, src, o)                                  \
	((struct bpf_insn){ .code = BPF_LDX | BPF_MEM | (size), \
			    .dst_reg = dst,                     \
			    .src_reg = src,                     \
			    .off = o })
#define STX(size, dst, src, o)                                  \
	((struct bpf_insn){ .code = BPF_STX | BPF_MEM | (size), \
			    .dst_reg = dst,                     \
			    .src_reg = src,                     \
			    .off = o })
#define ST(size, dst, o, k)                                    \
	((struct bpf_insn){ .code = BPF_ST | BPF_MEM | (size), \
			    .dst_reg = dst,                    \
			    .off = o,                          \
			    .imm = k })
#define JMP_K(op, dst, k, o)                                \
	((struct bpf_insn){ .code = BPF_JMP | (op) | BPF_K, \
			    .dst_reg = dst,                 \
			    .off = o,                       \
			    .imm = k })
#define CALL(helper) \
	((struct bpf_insn){ .code = BPF_JMP | BPF_CALL, .imm = helper })
#define EXIT() ((struct bpf_insn){ .code = BPF_JMP | BPF_EXIT })
/* The two halves of a 64-bit immediate; src: 0 or a pseudo source. */
#define LD_IMM64(dst, src, lo, hi)                             \
	((struct bpf_insn){ .code = BPF_LD | BPF_IMM | BPF_DW, \
			    .dst_reg = dst,                    \
			    .src_reg = src,                    \
			    .imm = lo }),                      \
		((struct bpf_insn){ .imm = hi })
#define JMP32_K(op, dst, k, o)                                \
	((struct bpf_insn){ .code = BPF_JMP32 | (op) | BPF_K, \
			    .dst_reg = dst,                   \
			    .off = o,                         \
			    .imm = k })
#define JA(o) ((struct bpf_insn){ .code = BPF_JMP | BPF_JA, .off = o })
/* A call of the subprogram o instructions after the next one. */
#define CALL_PC(o)                                      \
	((struct bpf_insn){ .code = BPF_JMP | BPF_CALL, \
			    .src_reg = BPF_PSEUDO_CALL, \
			    .imm = o })

#endif /* AWF_TEST_BPF_INSNS_H */
