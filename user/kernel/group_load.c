// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/skel_internal.h>

#include "kernel/group_load.h"
#include "kernel/loader_vm.h"

/* Linux 5.14's; older headers lack it, older kernels refuse it (EINVAL). */
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/*
 * The loader context as the generated loader program reads it: the light
 * skeleton's (struct bpf_loader_ctx, map descs, prog descs), then the
 * table of the map fds it uses (gen_group_loader.c).
 */
static struct bpf_map_desc *map_descs(const struct group_load *g)
{
	return (struct bpf_map_desc *)((struct bpf_loader_ctx *)g->ctx + 1);
}

static struct bpf_prog_desc *prog_descs(const struct group_load *g)
{
	return (struct bpf_prog_desc *)(map_descs(g) + g->gl->n_maps);
}

static __u32 *fd_table(const struct group_load *g)
{
	return (__u32 *)(prog_descs(g) + g->gl->n_progs);
}

void *group_blob_alloc(size_t size)
{
	void *blob = mmap(NULL, size, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (blob == MAP_FAILED)
		return NULL;
	/* Not the sandbox's: its pages stay out of the clone's COW. */
	if (madvise(blob, size, MADV_DONTFORK)) {
		munmap(blob, size);
		return NULL;
	}
	return blob;
}

void group_blob_free(void *blob, size_t size)
{
	if (blob)
		munmap(blob, size);
}

int group_load_open(struct group_load *g, const struct group_loader *gl,
		    char *log_buf, unsigned int log_size)
{
	size_t sz = sizeof(struct bpf_loader_ctx) +
		    gl->n_maps * sizeof(struct bpf_map_desc) +
		    gl->n_progs * sizeof(struct bpf_prog_desc) +
		    gl->n_maps * sizeof(__u32);
	struct bpf_loader_ctx *ctx;

	memset(g, 0, sizeof(*g));
	g->gl = gl;
	g->ctx = ctx = calloc(1, sz);
	g->blob = group_blob_alloc(gl->data_sz);
	if (!ctx || !g->blob) {
		free(g->ctx);
		group_blob_free(g->blob, gl->data_sz);
		g->ctx = g->blob = NULL;
		return -1;
	}
	ctx->sz = sz;
	if (log_buf) {
		ctx->log_level = 1;
		ctx->log_size = log_size;
		ctx->log_buf = (uintptr_t)log_buf;
	}
	for (size_t i = 0; i < gl->n_progs; i++)
		prog_descs(g)[i].prog_fd = -1;
	return 0;
}

static void close_fds(const __u32 *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		close((int)fds[i]);
}

/* Dups of the core's map fds in the fd table; 0 or -errno. */
static int take_maps(struct group_load *g,
		     int (*map_fd)(const char *name, const void *arg),
		     const void *arg)
{
	__u32 *fds = fd_table(g);

	for (size_t i = 0; i < g->gl->n_maps; i++) {
		int fd = map_fd(g->gl->maps[i], arg);
		int ret = fd < 0 ? -ENOENT : 0;

		if (fd >= 0) {
			fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
			ret = fd < 0 ? -errno : 0;
		}
		if (ret) {
			close_fds(fds, i);
			return ret;
		}
		fds[i] = fd;
	}
	return 0;
}

int group_loader_run(const struct group_loader *gl, void *blob, void *ctx,
		     const struct loader_vm_opts *opts)
{
	int ret;

	/*
	 * One system call for its pages rather than a fault each (~100 of
	 * them). Before 5.14 the kernel does not know it: the faults then.
	 */
	madvise(blob, gl->data_sz, MADV_POPULATE_WRITE);
	memcpy(blob, gl->data, gl->data_sz);
	ret = loader_vm_run(gl->insns, gl->insns_sz, blob, gl->data_sz, ctx,
			    ((struct bpf_loader_ctx *)ctx)->sz, opts);
	return ret > 0 ? -EINVAL : ret;
}

/* The VM's pruning of g's programs under prune's .rodata; false: none. */
static bool vm_prune_of(const struct group_load *g,
			const struct group_prune *prune,
			struct loader_vm_prune *vp)
{
	if (!prune || !prune->rodata || !prune->scratch)
		return false;
	for (size_t i = 0; i < g->gl->n_maps; i++) {
		if (strcmp(g->gl->maps[i], "rodata"))
			continue;
		vp->rodata.map_idx = i;
		vp->rodata.value = prune->rodata;
		vp->rodata.size = prune->rodata_sz;
		vp->scratch = prune->scratch;
		vp->removed = 0;
		return true;
	}
	return false;
}

/*
 * The generated loader program reads map i's fd from the fd table where
 * a light skeleton's would create the map. Dups: a loader program that
 * fails closes the fds it holds itself, and the core's stay the core's.
 */
int group_load_run(struct group_load *g,
		   int (*map_fd)(const char *name, const void *arg),
		   const void *arg, struct group_prune *prune,
		   struct loader_vm_btf *btf)
{
	struct loader_vm_prune vp;
	struct loader_vm_opts opts = { .btf = btf };
	bool pruned;

	g->ran = true;
	g->ret = take_maps(g, map_fd, arg);
	if (g->ret)
		return g->ret;
	pruned = vm_prune_of(g, prune, &vp);
	opts.prune = pruned ? &vp : NULL;
	g->ret = group_loader_run(g->gl, g->blob, g->ctx, &opts);
	if (pruned)
		prune->removed += vp.removed;
	/* Failed, the loader closed what it held, or never will. */
	if (!g->ret)
		close_fds(fd_table(g), g->gl->n_maps);
	return g->ret;
}

int group_load_prog_fd(const struct group_load *g, size_t i)
{
	if (!g->ctx || !g->ran || g->ret || i >= g->gl->n_progs)
		return -1;
	return prog_descs(g)[i].prog_fd;
}

void group_load_close(struct group_load *g)
{
	if (!g->ctx)
		return;
	for (size_t i = 0; g->ran && !g->ret && i < g->gl->n_progs; i++)
		if (prog_descs(g)[i].prog_fd > 0)
			close(prog_descs(g)[i].prog_fd);
	free(g->ctx);
	group_blob_free(g->blob, g->gl->data_sz);
	g->ctx = g->blob = NULL;
}
