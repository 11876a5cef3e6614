// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * kernel_check.c - probe the running kernel for what the programs need,
 * the way libbpf's feature probes do (libbpf_probe_bpf_helper, a trivial
 * program per attach type), so that a kernel that is
 * too old or built without BTF gets a one-line reason instead of a
 * verifier failure half-way through the set-up.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "common/error.h"
#include "kernel/kernel_check.h"

#define PROG(type, attach, name)                                         \
	{                                                                \
		.kind = NEED_PROG, .what = name,                         \
		.prog_type = BPF_PROG_TYPE_##type, .attach_type = attach \
	}
#define HELPER(type, fn, name)                                             \
	{                                                                  \
		.kind = NEED_HELPER, .what = name,                         \
		.prog_type = BPF_PROG_TYPE_##type, .helper = BPF_FUNC_##fn \
	}

static const struct kernel_need needs[] = {
	PROG(CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_CONNECT, "cgroup/connect4"),
	PROG(CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_CONNECT, "cgroup/connect6"),
	PROG(CGROUP_SOCK_ADDR, BPF_CGROUP_UDP4_SENDMSG, "cgroup/sendmsg4"),
	PROG(CGROUP_SOCK_ADDR, BPF_CGROUP_UDP6_SENDMSG, "cgroup/sendmsg6"),
	PROG(CGROUP_SOCK_ADDR, BPF_CGROUP_UDP4_RECVMSG, "cgroup/recvmsg4"),
	PROG(CGROUP_SOCK_ADDR, BPF_CGROUP_UDP6_RECVMSG, "cgroup/recvmsg6"),
	PROG(CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_GETPEERNAME,
	     "cgroup/getpeername4"),
	PROG(CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_GETPEERNAME,
	     "cgroup/getpeername6"),
	PROG(CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_BIND, "cgroup/bind4"),
	PROG(CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_BIND, "cgroup/bind6"),
	PROG(CGROUP_SOCK, BPF_CGROUP_INET_SOCK_CREATE, "cgroup/sock_create"),
	PROG(CGROUP_SOCK, BPF_CGROUP_INET_SOCK_RELEASE, "cgroup/sock_release"),
	PROG(CGROUP_SOCK, BPF_CGROUP_INET4_POST_BIND, "cgroup/post_bind4"),
	PROG(CGROUP_SOCK, BPF_CGROUP_INET6_POST_BIND, "cgroup/post_bind6"),
	PROG(CGROUP_SKB, BPF_CGROUP_INET_EGRESS, "cgroup_skb/egress"),
	PROG(SOCK_OPS, BPF_CGROUP_SOCK_OPS, "sockops"),
	PROG(SK_MSG, BPF_SK_MSG_VERDICT, "sk_msg"),
	HELPER(CGROUP_SOCK_ADDR, ringbuf_reserve,
	       "bpf_ringbuf_reserve() in cgroup/connect programs"),
	HELPER(CGROUP_SOCK_ADDR, sk_storage_get,
	       "bpf_sk_storage_get() in cgroup/connect programs"),
	HELPER(CGROUP_SOCK_ADDR, sk_lookup_tcp,
	       "bpf_sk_lookup_tcp() in cgroup/connect programs"),
	HELPER(CGROUP_SOCK_ADDR, skc_to_tcp6_sock,
	       "bpf_skc_to_tcp6_sock() in cgroup/bind programs"),
	HELPER(CGROUP_SOCK_ADDR, skc_to_udp6_sock,
	       "bpf_skc_to_udp6_sock() in cgroup/bind programs"),
	HELPER(CGROUP_SOCK, sk_storage_get,
	       "bpf_sk_storage_get() in cgroup/sock_create programs"),
	HELPER(CGROUP_SKB, sk_storage_get,
	       "bpf_sk_storage_get() in cgroup_skb programs"),
	HELPER(SK_MSG, loop, "bpf_loop() in sk_msg programs"),
	HELPER(CGROUP_SOCK_ADDR, get_current_ancestor_cgroup_id,
	       "bpf_get_current_ancestor_cgroup_id() in cgroup/connect programs"),
	HELPER(CGROUP_SKB, skb_ancestor_cgroup_id,
	       "bpf_skb_ancestor_cgroup_id() in cgroup_skb programs"),
	HELPER(CGROUP_SOCK_ADDR, probe_read_kernel,
	       "bpf_probe_read_kernel() in cgroup/connect programs"),
	{ .kind = NEED_PROG,
	  .what = "tc (sched_cls) programs",
	  .prog_type = BPF_PROG_TYPE_SCHED_CLS,
	  .agent_only = true },
	{ .kind = NEED_HELPER,
	  .what = "bpf_skb_ancestor_cgroup_id() in tc programs",
	  .prog_type = BPF_PROG_TYPE_SCHED_CLS,
	  .helper = BPF_FUNC_skb_ancestor_cgroup_id,
	  .agent_only = true },
};

const struct kernel_need *kernel_needs(size_t *n)
{
	*n = sizeof(needs) / sizeof(needs[0]);
	return needs;
}

void kernel_need_message(const struct kernel_need *n, const char *why,
			 char *err, size_t errlen)
{
	static const char *const kinds[] = {
		[NEED_PROG] = "BPF programs of type",
		[NEED_HELPER] = "the BPF helper",
	};
	const char *kind = kinds[n->kind];

	set_err(err, errlen,
		"this kernel does not support %s%s%s%s%s: awf-bpf needs Linux " KERNEL_MIN_VERSION
		" or newer with BTF (README.md, Requirements)",
		kind, *kind ? " " : "", n->what, why ? ": " : "",
		why ? why : "");
}

static const char *btf_path(void)
{
	const char *path = getenv(KERNEL_BTF_ENV);

	return path && *path ? path : KERNEL_BTF_PATH;
}

static int btf_readable(const char *path, char *err, size_t errlen)
{
	if (access(path, R_OK) == 0)
		return 0;
	return set_err(
		err, errlen,
		"this kernel has no BTF (%s: %s): awf-bpf needs Linux " KERNEL_MIN_VERSION
		" or newer built with CONFIG_DEBUG_INFO_BTF=y (README.md, Requirements)",
		path, strerror(errno));
}

int kernel_check_btf_present(char *err, size_t errlen)
{
	return btf_readable(btf_path(), err, errlen);
}

int kernel_check_btf(const char *path, char *err, size_t errlen)
{
	struct btf *btf;

	if (btf_readable(path, err, errlen))
		return -1;
	btf = btf__parse(path, NULL);
	if (!btf)
		return set_err(
			err, errlen,
			"this kernel's BTF cannot be read (%s: %s): awf-bpf needs Linux " KERNEL_MIN_VERSION
			" or newer built with CONFIG_DEBUG_INFO_BTF=y (README.md, Requirements)",
			path, strerror(errno));
	btf__free(btf);
	return 0;
}

/*
 * r0 = 1; exit: a program every attach type accepts. A bpf() of its own:
 * the first bpf_prog_load() of libbpf in a process first probes the
 * kernel twice (memcg accounting of BPF memory, program names), two more
 * programs loaded, JIT-compiled and freed, ~0.1 ms each here, and
 * hook_warm.c runs this while the sandbox starts. Neither answer matters
 * here: a kernel with what awf-bpf needs has both.
 */
int kernel_load_allow(int prog_type, int attach_type, const char *name)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K,
		  .dst_reg = BPF_REG_0,
		  .imm = 1 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = (__u32)prog_type;
	attr.expected_attach_type = (__u32)attach_type;
	attr.insns = (__u64)(uintptr_t)insns;
	attr.insn_cnt = sizeof(insns) / sizeof(insns[0]);
	attr.license = (__u64)(uintptr_t) "GPL";
	snprintf(attr.prog_name, sizeof(attr.prog_name), "%s", name);
	return (int)syscall(__NR_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
}

int kernel_probe_prog(int prog_type, int attach_type)
{
	int fd = kernel_load_allow(prog_type, attach_type, "awf_probe");

	if (fd < 0)
		return -errno;
	close(fd);
	return 1;
}

int kernel_prog_type_of(int attach_type)
{
	for (size_t i = 0; i < sizeof(needs) / sizeof(needs[0]); i++)
		if (needs[i].kind == NEED_PROG && !needs[i].agent_only &&
		    needs[i].attach_type == attach_type)
			return needs[i].prog_type;
	return -1;
}

/* 1 present, 0 absent, -errno: the probe itself failed. */
static int probe(const struct kernel_need *n)
{
	switch (n->kind) {
	case NEED_PROG:
		return kernel_probe_prog(n->prog_type, n->attach_type);
	case NEED_HELPER:
		return libbpf_probe_bpf_helper(n->prog_type, n->helper, NULL);
	}
	return -EINVAL;
}

int kernel_check(bool agent, char *err, size_t errlen)
{
	const char *path = btf_path();
	char why[AWF_ERR_LEN];
	int ret;

	if (kernel_check_btf(path, err, errlen))
		return -1;
	for (size_t i = 0; i < sizeof(needs) / sizeof(needs[0]); i++) {
		if (needs[i].agent_only && !agent)
			continue;
		ret = probe(&needs[i]);
		if (ret == 1)
			continue;
		/* No privilege is no answer: say that, not "too old". */
		if (ret == -EPERM || ret == -EACCES)
			return set_err(
				err, errlen,
				"probing the kernel for %s: %s (needs root, or CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON)",
				needs[i].what, strerror(-ret));
		if (ret < 0)
			snprintf(why, sizeof(why), "%s", strerror(-ret));
		kernel_need_message(&needs[i], ret < 0 ? why : NULL, err,
				    errlen);
		return -1;
	}
	return 0;
}
