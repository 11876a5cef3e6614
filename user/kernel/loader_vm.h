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
 * A BTF that several loader programs load, the same bytes (the groups':
 * tools/gen_group_loader.c), for one BPF_BTF_LOAD in all: the first to
 * load it shares it, the others get a dup() of its fd. Each load checks
 * the bytes: another BTF loads as its own. Shared by the lanes (state:
 * atomic). Set up by loader_vm_btf_init(), its fd closed by
 * loader_vm_btf_close() once no loader program runs.
 */
struct loader_vm_btf {
	int state; /* enum in loader_vm.c */
	int fd;
	const void *bytes; /* the first's (in its blob: alive as long) */
	uint32_t size;
};

void loader_vm_btf_init(struct loader_vm_btf *btf);
void loader_vm_btf_close(struct loader_vm_btf *btf);

/* What a run may do besides running the program as libbpf wrote it. */
struct loader_vm_opts {
	struct loader_vm_prune *prune; /* the programs pruned, or NULL */
	struct loader_vm_btf *btf;     /* a BTF shared, or NULL */
};

/*
 * Runs the loader program insns on ctx (struct bpf_loader_ctx and what
 * follows it, ctx_sz bytes) with blob, a writable copy of its data
 * (blob_sz bytes): the program's return value (0, or -errno from the
 * call that failed, whose fds it closed), or -EINVAL for a program the
 * machine does not run (nothing after the offending instruction ran).
 * System calls only: no allocation (it may run beside a raw clone3()).
 * opts: NULL, or what it does besides (struct loader_vm_opts).
 */
int loader_vm_run(const void *insns, size_t insns_sz, void *blob,
		  size_t blob_sz, void *ctx, size_t ctx_sz,
		  const struct loader_vm_opts *opts);

#endif /* AWF_LOADER_VM_H */
