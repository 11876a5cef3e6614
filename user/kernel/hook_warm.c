// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "common/log.h"
#include "kernel/hook_warm.h"
#include "kernel/kernel_check.h"

static void warm_one(struct hook_warm *w, int type)
{
	int prog_type = kernel_prog_type_of(type), fd;

	/* sk_msg attaches to a map: no static key of the cgroup's. */
	if (prog_type < 0 || type == BPF_SK_MSG_VERDICT ||
	    w->n >= HOOK_WARM_MAX)
		return;
	fd = kernel_load_allow(prog_type, type, "awf_warm");
	if (fd < 0) {
		log_debug("warming hook %d: loading: %s", type,
			  strerror(errno));
		return;
	}
	if (bpf_prog_attach(fd, w->cgroup_fd, (enum bpf_attach_type)type,
			    BPF_F_ALLOW_MULTI)) {
		log_debug("warming hook %d: attaching: %s", type,
			  strerror(errno));
		close(fd);
		return;
	}
	w->h[w->n].prog_fd = fd;
	w->h[w->n].type = type;
	w->h[w->n].replaced = false;
	w->n++;
}

void hook_warm_attach(struct hook_warm *w, int cgroup_fd, const int *types,
		      size_t n)
{
	w->cgroup_fd = cgroup_fd;
	w->n = 0;
	for (size_t i = 0; i < n; i++)
		warm_one(w, types[i]);
}

int hook_warm_fd(const struct hook_warm *w, int type)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->h[i].type == type && !w->h[i].replaced)
			return w->h[i].prog_fd;
	return -1;
}

void hook_warm_replaced(struct hook_warm *w, int type)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->h[i].type == type)
			w->h[i].replaced = true;
}

void hook_warm_release(struct hook_warm *w, bool detach)
{
	while (w->n) {
		w->n--;
		if (detach && !w->h[w->n].replaced &&
		    bpf_prog_detach2(w->h[w->n].prog_fd, w->cgroup_fd,
				     (enum bpf_attach_type)w->h[w->n].type))
			log_warn("detaching the warm-up program of hook %d: %s",
				 w->h[w->n].type, strerror(errno));
		close(w->h[w->n].prog_fd);
	}
}
