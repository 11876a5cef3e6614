// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <linux/netlink.h>
#include <sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/error.h"
#include "common/log.h"
#include "run/seccomp.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

struct syscall_filter {
	scmp_filter_ctx ctx;
};

/* Denied whatever their arguments. */
static const char *const denied_syscalls[] = {
	/* Reading or writing another process. */
	"ptrace",
	"process_vm_readv",
	"process_vm_writev",
	/* Code or filters into the kernel. */
	"kexec_load",
	"kexec_file_load",
	"init_module",
	"finit_module",
	"delete_module",
	"bpf",
	"perf_event_open",
	/* Kernel attack surface an agent has no use for. */
	"userfaultfd",
	"keyctl",
	"add_key",
	"request_key",
	/* The mount table: the read-only cgroup2, bpffs, /proc. */
	"mount",
	"umount",
	"umount2",
	"pivot_root",
	"fsopen",
	"fsmount",
	"fsconfig",
	"fspick",
	"move_mount",
	"open_tree",
	"mount_setattr",
	/* Host administration. */
	"swapon",
	"swapoff",
	"reboot",
	"acct",
	/* Files by handle: around the mount namespace's view. */
	"name_to_handle_at",
	"open_by_handle_at",
	/* Other namespaces: another network namespace has no filter. */
	"setns",
	/*
	 * io_uring opens sockets, connects and sends in kernel workers: we
	 * have not shown that each of those passes the cgroup's hooks.
	 */
	"io_uring_setup",
	"io_uring_enter",
	"io_uring_register",
};

/* Any of these in clone()'s or unshare()'s flags: a new namespace. */
static const uint64_t clone_ns_flags[] = {
	CLONE_NEWNS,   CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
	CLONE_NEWUSER, CLONE_NEWPID,	CLONE_NEWNET,
};

/* Packet, XDP, VM and key sockets bypass or reconfigure the IP stack. */
static const int denied_families[] = { AF_PACKET, AF_XDP, AF_VSOCK, AF_KEY };

/* The int arguments of socket(): the kernel ignores the upper 32 bits. */
#define INT_MASK 0xffffffffULL

static int rule_fail(const char *what, int rc, char *err, size_t errlen)
{
	return set_err(err, errlen, "seccomp rule for %s: %s", what,
		       strerror(-rc));
}

static int add_denied_syscalls(scmp_filter_ctx ctx, uint32_t deny, char *err,
			       size_t errlen)
{
	size_t n = sizeof(denied_syscalls) / sizeof(denied_syscalls[0]);

	for (size_t i = 0; i < n; i++) {
		/* Negative (absent on this arch) is fine: still filtered on
		 * the arches that have it. */
		int nr = seccomp_syscall_resolve_name(denied_syscalls[i]);
		int rc;

		if (nr == __NR_SCMP_ERROR)
			return set_err(err, errlen,
				       "libseccomp does not know %s",
				       denied_syscalls[i]);
		rc = seccomp_rule_add(ctx, deny, nr, 0);
		if (rc < 0)
			return rule_fail(denied_syscalls[i], rc, err, errlen);
	}
	return 0;
}

static int add_namespace_rules(scmp_filter_ctx ctx, uint32_t deny, char *err,
			       size_t errlen)
{
	size_t n = sizeof(clone_ns_flags) / sizeof(clone_ns_flags[0]);
	int rc;

	for (size_t i = 0; i < n; i++) {
		uint64_t f = clone_ns_flags[i];

		rc = seccomp_rule_add(ctx, deny, SCMP_SYS(clone), 1,
				      SCMP_A0(SCMP_CMP_MASKED_EQ, f, f));
		if (rc < 0)
			return rule_fail("clone", rc, err, errlen);
		rc = seccomp_rule_add(ctx, deny, SCMP_SYS(unshare), 1,
				      SCMP_A0(SCMP_CMP_MASKED_EQ, f, f));
		if (rc < 0)
			return rule_fail("unshare", rc, err, errlen);
	}
	/* 0x80 is part of the exit signal for clone(): unshare() only. */
	rc = seccomp_rule_add(
		ctx, deny, SCMP_SYS(unshare), 1,
		SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWTIME, CLONE_NEWTIME));
	if (rc < 0)
		return rule_fail("unshare", rc, err, errlen);
	/*
	 * clone3() passes its flags in memory, out of a filter's reach. ENOSYS
	 * (in both modes: it denies nothing) makes libcs fall back to clone(),
	 * whose flags the rules above do see.
	 */
	rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	return rc < 0 ? rule_fail("clone3", rc, err, errlen) : 0;
}

/*
 * On the i386 ABI libseccomp also covers socketcall(), whose arguments are
 * in memory: there, every socketcall socket()/socketpair() is refused.
 */
static int add_socket_rules(scmp_filter_ctx ctx, int nr, uint32_t deny,
			    char *err, size_t errlen)
{
	size_t n = sizeof(denied_families) / sizeof(denied_families[0]);
	int rc;

	for (size_t i = 0; i < n; i++) {
		rc = seccomp_rule_add(ctx, deny, nr, 1,
				      SCMP_A0(SCMP_CMP_MASKED_EQ, INT_MASK,
					      (uint64_t)denied_families[i]));
		if (rc < 0)
			return rule_fail("socket", rc, err, errlen);
	}
	/* Netlink only for NETLINK_ROUTE: getifaddrs() needs it. A 64-bit
	 * comparison: junk upper bits get a refusal, never a pass. */
	rc = seccomp_rule_add(ctx, deny, nr, 2,
			      SCMP_A0(SCMP_CMP_MASKED_EQ, INT_MASK, AF_NETLINK),
			      SCMP_A2(SCMP_CMP_NE, NETLINK_ROUTE));
	return rc < 0 ? rule_fail("netlink socket", rc, err, errlen) : 0;
}

/* A 64-bit kernel also runs its 32-bit ABIs: each needs the same rules. */
static int add_arches(scmp_filter_ctx ctx, char *err, size_t errlen)
{
	uint32_t extra[2] = { 0 };
	int rc;

	switch (seccomp_arch_native()) {
	case SCMP_ARCH_X86_64:
		extra[0] = SCMP_ARCH_X86;
		extra[1] = SCMP_ARCH_X32;
		break;
	case SCMP_ARCH_AARCH64:
		extra[0] = SCMP_ARCH_ARM;
		break;
	}
	for (size_t i = 0; i < 2 && extra[i]; i++) {
		rc = seccomp_arch_add(ctx, extra[i]);
		if (rc < 0 && rc != -EEXIST)
			return set_err(err, errlen,
				       "seccomp: adding arch 0x%x: %s",
				       extra[i], strerror(-rc));
	}
	/* A syscall of any other ABI: the process dies. */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
			      SCMP_ACT_KILL_PROCESS);
	if (rc < 0)
		return set_err(err, errlen, "seccomp: bad-arch action: %s",
			       strerror(-rc));
	return 0;
}

static int build(scmp_filter_ctx ctx, bool log_only, char *err, size_t errlen)
{
	uint32_t deny = log_only ? SCMP_ACT_LOG : SCMP_ACT_ERRNO(EPERM);

	if (log_only && seccomp_api_get() < 3)
		return set_err(
			err, errlen,
			"--seccomp-log: this kernel or libseccomp cannot log seccomp actions");
	return add_arches(ctx, err, errlen) ||
	       add_denied_syscalls(ctx, deny, err, errlen) ||
	       add_namespace_rules(ctx, deny, err, errlen) ||
	       add_socket_rules(ctx, SCMP_SYS(socket), deny, err, errlen) ||
	       add_socket_rules(ctx, SCMP_SYS(socketpair), deny, err, errlen);
}

struct syscall_filter *syscall_filter_new(bool log_only, char *err,
					  size_t errlen)
{
	struct syscall_filter *f = calloc(1, sizeof(*f));

	if (!f) {
		set_err(err, errlen, "seccomp filter: out of memory");
		return NULL;
	}
	f->ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!f->ctx) {
		set_err(err, errlen, "seccomp_init failed");
		free(f);
		return NULL;
	}
	if (build(f->ctx, log_only, err, errlen)) {
		syscall_filter_free(f);
		return NULL;
	}
	/* Whatever --log-level says: nobody runs unenforced unawares. */
	if (log_only)
		log_msg(LOG_LVL_ERROR,
			"--seccomp-log: the syscalls the filter would deny (mount, unshare, bpf, ptrace, io_uring, packet sockets...) are ALLOWED and only logged by the kernel (audit log, dmesg): this finds out what the command tries, it does not enforce");
	return f;
}

int syscall_filter_load(const struct syscall_filter *f, char *err,
			size_t errlen)
{
	int rc = seccomp_load(f->ctx);

	if (rc < 0)
		return set_err(err, errlen, "loading the seccomp filter: %s",
			       strerror(-rc));
	return 0;
}

void syscall_filter_free(struct syscall_filter *f)
{
	if (!f)
		return;
	seccomp_release(f->ctx);
	free(f);
}
