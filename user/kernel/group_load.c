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

/* The loader context as the generated loader program reads it. */
static struct bpf_map_desc *map_descs(const struct group_load *g)
{
	return (struct bpf_map_desc *)((struct bpf_loader_ctx *)g->ctx + 1);
}

static struct bpf_prog_desc *prog_descs(const struct group_load *g)
{
	return (struct bpf_prog_desc *)(map_descs(g) + g->gl->n_maps);
}

int group_load_open(struct group_load *g, const struct group_loader *gl,
		    char *log_buf, unsigned int log_size)
{
	size_t sz = sizeof(struct bpf_loader_ctx) +
		    gl->n_maps * sizeof(struct bpf_map_desc) +
		    gl->n_progs * sizeof(struct bpf_prog_desc);
	struct bpf_loader_ctx *ctx;

	g->gl = gl;
	g->ran = false;
	g->ret = 0;
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

static void close_fds(struct bpf_map_desc *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (d[i].map_fd > 0)
			close(d[i].map_fd);
}

/*
 * The generated loader program takes map i's fd from map desc i where a
 * light skeleton's would create the map (gen_group_loader.c); it hands
 * the same fds back there. Dups: its clean-up after a failure closes the
 * fds it holds, and the core's stay the core's.
 */
int group_load_run(struct group_load *g,
		   int (*map_fd)(const char *name, const void *arg),
		   const void *arg)
{
	struct bpf_map_desc *maps = map_descs(g);
	struct bpf_load_and_run_opts opts = {
		.ctx = g->ctx,
		.data = g->gl->data,
		.data_sz = g->gl->data_sz,
		.insns = g->gl->insns,
		.insns_sz = g->gl->insns_sz,
	};
	size_t i;
	int fd;

	g->ran = true;
	for (i = 0; i < g->gl->n_maps; i++) {
		fd = map_fd(g->gl->maps[i], arg);
		maps[i].map_fd = fd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (maps[i].map_fd < 0) {
			g->ret = fd < 0 ? -ENOENT : -errno;
			close_fds(maps, i);
			return g->ret;
		}
	}
	g->ret = bpf_load_and_run(&opts);
	/*
	 * A loader program that ran and failed closed them itself; one that
	 * never ran (its own load failed) did not.
	 */
	if (!g->ret || strcmp(opts.errstr, "failed to execute loader prog"))
		close_fds(maps, g->gl->n_maps);
	if (g->ret > 0)
		g->ret = -EINVAL;
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
	g->ctx = NULL;
}
