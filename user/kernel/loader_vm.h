/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * loader_vm.h - run a light skeleton's loader program (libbpf's
 * gen_loader: `bpftool gen skeleton -L`, tools/gen_group_loader.c) in
 * this process instead of in the kernel.
 *
 * The kernel would verify the loader program before it runs it: 1.1-1.7
 * ms for each of run's three or four loaders, CPU time that every
 * `awf-bpf run` spent before its real programs could load. What the
 * loader does is a series of bpf() calls (BTF, maps, programs: the
 * kernel still verifies every program they load and applies CO-RE to
 * it) on attributes it assembles in its data blob; run here, the same
 * calls are made with the same attributes, from the same process. The
 * machine knows the instructions and helpers libbpf's loaders use and
 * refuses any other, and any access outside the context, the blob and
 * its stack: a loader it cannot run fails the load (fail closed).
 */
#ifndef AWF_LOADER_VM_H
#define AWF_LOADER_VM_H

#include <stddef.h>
#include <stdint.h>

#include "kernel/prog_prune.h"

/* The programs' pruning (prog_prune.h) before they load; NULL: none. */
struct loader_vm_prune {
	struct prune_rodata rodata;
	struct prune_scratch *scratch;
	uint32_t removed; /* out: instructions taken out, all programs */
};

/*
 * Runs the loader program insns on ctx (struct bpf_loader_ctx and what
 * follows it, ctx_sz bytes) with blob, a writable copy of its data
 * (blob_sz bytes): the program's return value (0, or -errno from the
 * call that failed, whose fds it closed), or -EINVAL for a program the
 * machine does not run (nothing after the offending instruction ran).
 * System calls only: no allocation (it may run beside a raw clone3()).
 * prune: each program pruned before it loads, or NULL.
 */
int loader_vm_run(const void *insns, size_t insns_sz, void *blob,
		  size_t blob_sz, void *ctx, size_t ctx_sz,
		  struct loader_vm_prune *prune);

#endif /* AWF_LOADER_VM_H */
