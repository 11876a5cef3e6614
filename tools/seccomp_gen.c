// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * seccomp_gen.c - the workload's syscall filter (user/run/seccomp.h),
 * built with libseccomp once, at build time, and written out as the
 * classic BPF programs user/run/seccomp.c loads:
 *
 *   seccomp_gen > build/seccomp_filter.h
 *   seccomp_gen --linear > build/seccomp_filter_linear.h
 *
 * The first is libseccomp's binary tree of the syscall numbers. The
 * kernel runs a new filter once per syscall number and ABI when it is
 * loaded (its cache of the syscalls always allowed), on the path to the
 * command's exec: on a chain of 90 compares per ABI that took 0.43 ms
 * here, on the tree 0.15 ms. The second, the same rules as one linear
 * chain, is what tests/unit/test_seccomp.c checks the tree against.
 *
 * Building it at run time cost every sandbox 2-3 ms of libseccomp
 * (rule database, sorting, code generation) on the path to the command's
 * exec; the rules do not depend on anything known only then. The
 * architectures are the build's: the native ABI plus, on x86_64, i386
 * and x32.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <sched.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/array.h"
#include "common/error.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

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
	size_t n = ARRAY_SIZE(denied_syscalls);

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
	size_t n = ARRAY_SIZE(clone_ns_flags);
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
	size_t n = ARRAY_SIZE(denied_families);
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

/* A binary tree of the syscall numbers, or libseccomp's default chain. */
static int set_layout(scmp_filter_ctx ctx, bool linear, char *err,
		      size_t errlen)
{
	int rc =
		seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, linear ? 1 : 2);

	if (rc < 0)
		return set_err(err, errlen, "seccomp: the filter's layout: %s",
			       strerror(-rc));
	return 0;
}

static int build(scmp_filter_ctx ctx, bool log_only, bool linear, char *err,
		 size_t errlen)
{
	uint32_t deny = log_only ? SCMP_ACT_LOG : SCMP_ACT_ERRNO(EPERM);

	return set_layout(ctx, linear, err, errlen) ||
	       add_arches(ctx, err, errlen) ||
	       add_denied_syscalls(ctx, deny, err, errlen) ||
	       add_namespace_rules(ctx, deny, err, errlen) ||
	       add_socket_rules(ctx, SCMP_SYS(socket), deny, err, errlen) ||
	       add_socket_rules(ctx, SCMP_SYS(socketpair), deny, err, errlen);
}

/* The program libseccomp would load, through a memfd: its export API. */
static int export_program(scmp_filter_ctx ctx, const char *name, char *err,
			  size_t errlen)
{
	struct {
		uint16_t code;
		uint8_t jt, jf;
		uint32_t k;
	} insn;
	int fd = memfd_create("seccomp", MFD_CLOEXEC);
	size_t n = 0;
	int rc;

	if (fd < 0)
		return set_err(err, errlen, "memfd_create: %s",
			       strerror(errno));
	rc = seccomp_export_bpf(ctx, fd);
	if (rc < 0) {
		close(fd);
		return set_err(err, errlen, "seccomp_export_bpf: %s",
			       strerror(-rc));
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		return set_err(err, errlen, "lseek: %s", strerror(errno));
	}
	printf("static const struct sock_filter %s[] = {\n", name);
	while (read(fd, &insn, sizeof(insn)) == (ssize_t)sizeof(insn)) {
		printf("\t{ 0x%04x, %u, %u, 0x%08x },\n", insn.code, insn.jt,
		       insn.jf, insn.k);
		n++;
	}
	printf("};\n\n");
	close(fd);
	return n ? 0 : set_err(err, errlen, "%s: empty program", name);
}

static int generate(bool log_only, bool linear, const char *name, char *err,
		    size_t errlen)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int ret;

	if (!ctx)
		return set_err(err, errlen, "seccomp_init failed");
	ret = build(ctx, log_only, linear, err, errlen) ||
	      export_program(ctx, name, err, errlen);
	seccomp_release(ctx);
	return ret;
}

/* awf_seccomp_enforce and awf_seccomp_log; _linear after both with --linear. */
static int generate_both(bool linear, char *err, size_t errlen)
{
	const char *suffix = linear ? "_linear" : "";
	char enforce[64], log[64];

	snprintf(enforce, sizeof(enforce), "awf_seccomp_enforce%s", suffix);
	snprintf(log, sizeof(log), "awf_seccomp_log%s", suffix);
	return generate(false, linear, enforce, err, errlen) ||
	       generate(true, linear, log, err, errlen);
}

int main(int argc, char **argv)
{
	bool linear = argc == 2 && !strcmp(argv[1], "--linear");
	char err[256] = "";
	int rc;

	if (argc > 2 || (argc == 2 && !linear)) {
		fprintf(stderr, "usage: seccomp_gen [--linear]\n");
		return 2;
	}
	/*
	 * The actions the filter uses (SCMP_ACT_LOG, KILL_PROCESS) need API
	 * level 3; set it so that the output does not depend on the kernel
	 * of the build machine. The loader checks the running kernel.
	 */
	rc = seccomp_api_set(3);
	if (rc < 0) {
		fprintf(stderr, "seccomp_gen: seccomp_api_set(3): %s\n",
			strerror(-rc));
		return 1;
	}
	printf("/* Generated by tools/seccomp_gen.c at build time: do not edit. */\n"
	       "#include <linux/filter.h>\n\n");
	if (generate_both(linear, err, sizeof(err))) {
		fprintf(stderr, "seccomp_gen: %s\n", err);
		return 1;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
