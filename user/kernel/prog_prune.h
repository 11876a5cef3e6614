/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * prog_prune.h - leave out of a program, before BPF_PROG_LOAD, the code
 * that its frozen .rodata makes unreachable.
 *
 * `run`'s programs read the policy's shape from .rodata (struct
 * awf_config, `learns`, the exact tables' masks), frozen before they
 * load: the verifier then knows every branch on it and walks one side.
 * The other side is dead, up to half of a large program under a small
 * policy, and the kernel takes it out one range at a time, moving the
 * whole program and re-targeting every jump at each range (with the
 * patching that follows over the longer program: ~0.6 ms of a start-up's
 * CPU here). This pass finds the same code from the same constants
 * (registers holding a constant or a pointer into .rodata, loads from
 * it, conditional jumps on constants) and takes it out in one sweep.
 *
 * What it hands the kernel is the program as the verifier's own passes
 * would have left it before they take out nops: unreachable code gone,
 * a branch whose fall-through is unreachable a jump, one whose target is
 * a nop (tests/bpf/test_loader_vm_kernel.c compares the kernel's
 * rewritten programs, pruned and not, under many .rodata contents). It
 * knows fewer constants than the verifier (nothing spilled to the stack,
 * nothing CO-RE rewrites): what it misses, the kernel still removes. A
 * jump it does not know leaves the program as it was.
 */
#ifndef AWF_PROG_PRUNE_H
#define AWF_PROG_PRUNE_H

#include <stdint.h>
#include <linux/bpf.h>

/* The largest program and the most basic blocks it prunes. */
#define PRUNE_MAX_INSNS 4096
#define PRUNE_MAX_BLOCKS 1536

/* What a register holds on entry to a block, as far as the pass knows. */
struct prune_regs {
	uint64_t val[MAX_BPF_REG];
	uint8_t kind[MAX_BPF_REG];
};

/* Working memory of one pass (~200 KiB): no allocation in a lane. */
struct prune_scratch {
	uint8_t flags[PRUNE_MAX_INSNS];
	uint16_t block_of[PRUNE_MAX_INSNS];
	uint32_t new_idx[PRUNE_MAX_INSNS + 1];
	uint16_t block_start[PRUNE_MAX_BLOCKS];
	uint16_t work[PRUNE_MAX_BLOCKS];
	uint8_t queued[PRUNE_MAX_BLOCKS];
	uint8_t reached[PRUNE_MAX_BLOCKS];
	struct prune_regs in[PRUNE_MAX_BLOCKS];
};

/* The frozen map whose value the program reads as constants. */
struct prune_rodata {
	uint32_t map_idx; /* its index in the load's fd_array */
	const void *value;
	uint32_t size;
};

/*
 * The program of a BPF_PROG_LOAD attr, in place: insns, insn_cnt, its
 * func_info and core_relos records (whose pointers the caller checked:
 * insns, func_info, core_relos are the caller's memory). Not with line
 * info (the verifier log's). The number of instructions taken out;
 * 0 also when it left the program alone.
 */
uint32_t prog_prune(union bpf_attr *attr, const struct prune_rodata *ro,
		    struct prune_scratch *s);

#endif /* AWF_PROG_PRUNE_H */
