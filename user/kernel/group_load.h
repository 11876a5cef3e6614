/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * group_load.h - load a group of `run`'s BPF programs into maps another
 * loader created.
 *
 * `run`'s programs load in groups: the core (bpf/awf.bpf.c built with
 * AWF_CORE_ONLY), a light skeleton that creates every map and loads the
 * smallest program, then groups of the other programs (the Makefile's
 * GROUP_PROGS_*) whose loader programs (tools/gen_group_loader.c, at
 * build time) take the core's maps instead of creating their own, and
 * share one BTF. The kernel verifies one program at a time per loader
 * program; two groups load on two CPUs at once (loader.c). The loader
 * programs themselves run in this process (loader_vm.h), unverified.
 */
#ifndef AWF_GROUP_LOAD_H
#define AWF_GROUP_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/loader_vm.h"

/* What tools/gen_group_loader.c writes for a group (build/awf_group_*.h). */
struct group_loader {
	const char *name; /* "a", "b", "names" */
	const void *insns, *data;
	size_t insns_sz, data_sz;
	/* The object's maps in its order: the loader program's fd_array. */
	const char *const *maps;
	size_t n_maps;
	const char *const *progs;
	size_t n_progs;
};

/* One load of a group: its loader context and, once run, its programs. */
struct group_load {
	const struct group_loader *gl;
	void *ctx;  /* struct bpf_loader_ctx, map descs, prog descs, fds */
	void *blob; /* the copy of gl->data its loader program writes */
	bool ran;
	int ret; /* 0 or -errno, once it ran */
};

/*
 * Allocates the loader context and its data's copy (before any thread
 * runs: group_load_run() allocates nothing). log_buf, log_size: the
 * verifier log, or NULL, 0.
 */
int group_load_open(struct group_load *g, const struct group_loader *gl,
		    char *log_buf, unsigned int log_size);
/* What a group's programs are pruned under (prog_prune.h). */
struct group_prune {
	const void *rodata; /* the core's .rodata, frozen */
	size_t rodata_sz;
	struct prune_scratch *scratch; /* the lane's */
	uint32_t removed;	       /* out: instructions taken out */
};

/*
 * map_fd(name, arg) gives the core's fd of each map the group names
 * ("rodata" for .rodata); the loader program gets a dup() of each
 * (group_loader_run()). prune: each program pruned under .rodata before
 * it loads (prog_prune.h), its count of instructions taken out added to;
 * NULL: loaded as built. btf: the BTF the groups share (loader_vm.h), or
 * NULL: the group loads its own. System calls only: it may run on a
 * thread of its own. 0 or -errno.
 */
int group_load_run(struct group_load *g,
		   int (*map_fd)(const char *name, const void *arg),
		   const void *arg, struct group_prune *prune,
		   struct loader_vm_btf *btf);
/*
 * gl's loader program run in this process (loader_vm.h), not in the
 * kernel, on blob (gl->data_sz bytes), where it gets a fresh copy of its
 * data to write as it goes; ctx: its struct bpf_loader_ctx and what
 * follows (ctx->sz bytes); opts: the VM's, or NULL. 0 or -errno. System
 * calls only.
 */
int group_loader_run(const struct group_loader *gl, void *blob, void *ctx,
		     const struct loader_vm_opts *opts);
/*
 * Memory for a loader program's data copy, size bytes, out of any fork's
 * copy-on-write (the sandbox is cloned while the lanes write theirs);
 * NULL if none. group_loader_run() faults a data copy in at once. The
 * loader takes the lanes' other memory from it too (their stacks, the
 * pruning's scratch). Freed by group_blob_free().
 */
void *group_blob_alloc(size_t size);
void group_blob_free(void *blob, size_t size);
/* Program i of the group (the order of gl->progs): its fd, or -1. */
int group_load_prog_fd(const struct group_load *g, size_t i);
/* Closes the group's programs, frees the context. */
void group_load_close(struct group_load *g);

#endif /* AWF_GROUP_LOAD_H */
