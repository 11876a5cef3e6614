// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "spawn.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

static void child_fail(const char *what, const char *detail, int status)
{
	/* stderr is the only channel left; one line, then out. */
	fprintf(stderr, "awf-bpf: %s: %s\n", what, detail);
	_exit(status);
}

static void child_setenv(char *const *setenv_list)
{
	for (; setenv_list && *setenv_list; setenv_list++) {
		char *kv = strdup(*setenv_list);

		if (!kv || putenv(kv) != 0)
			child_fail("setting environment", strerror(errno), 125);
	}
}

static void child_reset_signals(const sigset_t *mask)
{
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL); /* EINVAL for SIGKILL etc. is fine */
	if (sigprocmask(SIG_SETMASK, mask, NULL) < 0)
		child_fail("sigprocmask", strerror(errno), 125);
}

/*
 * cgroup.procs files belong to root: a uid-0 workload could move itself
 * out of the sandbox through them without any capability (a cgroup
 * namespace alone does not stop that unless the hierarchy is mounted with
 * nsdelegate). Its own mount namespace gets the hierarchy read-only, which
 * it cannot undo without CAP_SYS_ADMIN.
 */
static void child_seal_filesystems(const char *cgroup2_root)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		child_fail("making mounts private", strerror(errno), 125);
	if (mount(NULL, cgroup2_root, NULL,
		  MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV |
			  MS_NOEXEC,
		  NULL) < 0)
		child_fail(cgroup2_root, strerror(errno), 125);
	/* Pinned maps and links are none of its business. */
	if (umount2("/sys/fs/bpf", MNT_DETACH) < 0 && errno != EINVAL &&
	    errno != ENOENT)
		child_fail("/sys/fs/bpf", strerror(errno), 125);
}

static __attribute__((noreturn)) void
child_main(const struct spawn_request *req, pid_t parent)
{
	char err[256];

	/* If awf-bpf dies the workload dies with it: never run unwatched. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		child_fail("PR_SET_PDEATHSIG", strerror(errno), 125);
	if (getppid() != parent)
		_exit(125);
	child_seal_filesystems(req->cgroup2_root);
	child_setenv(req->setenv);
	if (harden_drop_privileges(err, sizeof(err)))
		child_fail("hardening", err, 125);
	/* Nothing of awf-bpf's (maps, sockets, ring buffer) is inherited. */
	if (close_range(3, ~0U, 0) < 0)
		child_fail("close_range", strerror(errno), 125);
	child_reset_signals(req->child_sigmask);
	execvp(req->argv[0], req->argv);
	child_fail(req->argv[0], strerror(errno), errno == ENOENT ? 127 : 126);
	_exit(126);
}

int spawn_workload(const struct spawn_request *req, pid_t *pid, int *pidfd,
		   char *err, size_t errlen)
{
	pid_t parent = getpid();
	int fd = -1;
	struct clone_args args = {
		.flags = CLONE_INTO_CGROUP | CLONE_PIDFD | CLONE_NEWCGROUP |
			 CLONE_NEWNS,
		.pidfd = (uint64_t)(uintptr_t)&fd,
		.exit_signal = SIGCHLD,
		.cgroup = (uint64_t)req->cgroup_fd,
	};
	long ret;

	fflush(NULL);
	ret = syscall(SYS_clone3, &args, sizeof(args));
	if (ret < 0) {
		snprintf(err, errlen, "clone3 into the sandbox cgroup: %s",
			 strerror(errno));
		return -1;
	}
	if (ret == 0)
		child_main(req, parent);
	*pid = (pid_t)ret;
	*pidfd = fd;
	return 0;
}
