// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/skel_internal.h>

#include "kernel/group_load.h"

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
	g->loader_map_fd = -1;
	g->loader_prog_fd = -1;
	g->ctx = ctx = calloc(1, sz);
	if (!ctx)
		return -1;
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

static void close_loader(struct group_load *g)
{
	if (g->loader_prog_fd >= 0)
		close(g->loader_prog_fd);
	if (g->loader_map_fd >= 0)
		close(g->loader_map_fd);
	g->loader_prog_fd = -1;
	g->loader_map_fd = -1;
}

/*
 * What libbpf's bpf_load_and_run() does before it runs the loader
 * program, as a step of its own: none of it needs the core's maps.
 */
int group_load_prepare(struct group_load *g)
{
	const struct bpf_loader_ctx *ctx = g->ctx;
	const size_t attr_sz = offsetofend(union bpf_attr, fd_array);
	union bpf_attr attr;
	int key = 0;

	g->ran = true;
	g->loader_map_fd = skel_map_create(BPF_MAP_TYPE_ARRAY, "__loader.map",
					   4, g->gl->data_sz, 1);
	if (g->loader_map_fd < 0 ||
	    skel_map_update_elem(g->loader_map_fd, &key, g->gl->data, 0) < 0)
		goto fail;
	memset(&attr, 0, attr_sz);
	attr.prog_type = BPF_PROG_TYPE_SYSCALL;
	attr.insns = (uintptr_t)g->gl->insns;
	attr.insn_cnt = g->gl->insns_sz / sizeof(struct bpf_insn);
	attr.license = (uintptr_t) "Dual BSD/GPL";
	memcpy(attr.prog_name, "__loader.prog", sizeof("__loader.prog"));
	attr.fd_array = (uintptr_t)&g->loader_map_fd;
	attr.log_level = ctx->log_level;
	attr.log_size = ctx->log_size;
	attr.log_buf = ctx->log_buf;
	attr.prog_flags = BPF_F_SLEEPABLE;
	g->loader_prog_fd = skel_sys_bpf(BPF_PROG_LOAD, &attr, attr_sz);
	if (g->loader_prog_fd < 0)
		goto fail;
	return 0;
fail:
	g->ret = -errno;
	close_loader(g);
	return g->ret;
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

/*
 * The generated loader program reads map i's fd from the fd table where
 * a light skeleton's would create the map. Dups: a loader program that
 * fails closes the fds it holds itself, and the core's stay the core's.
 */
int group_load_run(struct group_load *g,
		   int (*map_fd)(const char *name, const void *arg),
		   const void *arg)
{
	const size_t attr_sz = offsetofend(union bpf_attr, test);
	union bpf_attr attr;
	int ret;

	if (!g->ran)
		group_load_prepare(g);
	if (g->ret)
		return g->ret;
	g->ret = take_maps(g, map_fd, arg);
	if (g->ret) {
		close_loader(g);
		return g->ret;
	}
	memset(&attr, 0, attr_sz);
	attr.test.prog_fd = g->loader_prog_fd;
	attr.test.ctx_in = (uintptr_t)g->ctx;
	attr.test.ctx_size_in = ((struct bpf_loader_ctx *)g->ctx)->sz;
	ret = skel_sys_bpf(BPF_PROG_RUN, &attr, attr_sz);
	if (ret < 0)
		g->ret = -errno; /* it never ran: the fds are ours to close */
	else if ((int)attr.test.retval < 0)
		g->ret = (int)attr.test.retval;
	if (!g->ret || ret < 0)
		close_fds(fd_table(g), g->gl->n_maps);
	close_loader(g);
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
	close_loader(g);
	for (size_t i = 0; g->ran && !g->ret && i < g->gl->n_progs; i++)
		if (prog_descs(g)[i].prog_fd > 0)
			close(prog_descs(g)[i].prog_fd);
	free(g->ctx);
	g->ctx = NULL;
}
