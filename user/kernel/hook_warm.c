// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "common/log.h"
#include "kernel/hook_warm.h"

/* The program type of an attach type; -1: not a cgroup hook of ours. */
static int prog_type_of(int type)
{
	switch (type) {
	case BPF_CGROUP_INET4_CONNECT:
	case BPF_CGROUP_INET6_CONNECT:
	case BPF_CGROUP_UDP4_SENDMSG:
	case BPF_CGROUP_UDP6_SENDMSG:
	case BPF_CGROUP_UDP4_RECVMSG:
	case BPF_CGROUP_UDP6_RECVMSG:
	case BPF_CGROUP_INET4_GETPEERNAME:
	case BPF_CGROUP_INET6_GETPEERNAME:
	case BPF_CGROUP_INET4_BIND:
	case BPF_CGROUP_INET6_BIND:
		return BPF_PROG_TYPE_CGROUP_SOCK_ADDR;
	case BPF_CGROUP_INET_SOCK_CREATE:
	case BPF_CGROUP_INET4_POST_BIND:
	case BPF_CGROUP_INET6_POST_BIND:
	case BPF_CGROUP_INET_SOCK_RELEASE:
		return BPF_PROG_TYPE_CGROUP_SOCK;
	case BPF_CGROUP_INET_EGRESS:
		return BPF_PROG_TYPE_CGROUP_SKB;
	case BPF_CGROUP_SOCK_OPS:
		return BPF_PROG_TYPE_SOCK_OPS;
	default:
		return -1;
	}
}

/* "return 1": allow, for every hook here (recvmsg's only valid value). */
static int load_allow(int type)
{
	const struct bpf_insn allow[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K,
		  .dst_reg = BPF_REG_0,
		  .imm = 1 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts,
		    .expected_attach_type = (enum bpf_attach_type)type);

	return bpf_prog_load((enum bpf_prog_type)prog_type_of(type), "awf_warm",
			     "Dual BSD/GPL", allow, 2, &opts);
}

static void warm_one(struct hook_warm *w, int type)
{
	int fd;

	if (prog_type_of(type) < 0 || w->n >= HOOK_WARM_MAX)
		return;
	fd = load_allow(type);
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

void hook_warm_release(struct hook_warm *w, bool detach)
{
	while (w->n) {
		w->n--;
		if (detach &&
		    bpf_prog_detach2(w->h[w->n].prog_fd, w->cgroup_fd,
				     (enum bpf_attach_type)w->h[w->n].type))
			log_warn("detaching the warm-up program of hook %d: %s",
				 w->h[w->n].type, strerror(errno));
		close(w->h[w->n].prog_fd);
	}
}
