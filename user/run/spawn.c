// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/array.h"
#include "common/paths.h"
#include "common/error.h"
#include "run/harden.h"
#include "run/identity.h"
#include "run/init.h"
#include "common/log.h"
#include "run/seccomp.h"
#include "run/spawn.h"

/* Room for the workload's own frames and execvp()'s path buffer. */
#define WORKLOAD_STACK (64 * 1024)

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* Everything the sandbox's init and workload need, prepared by awf-bpf. */
struct workload {
	const struct spawn_request *req;
	struct identity id;
	struct syscall_filter *filter;
	int parent_pidfd; /* awf-bpf: readable once it has exited */
};

/*
 * stderr is the only channel left; one line, then out. One writev, not
 * stdio: the workload shares init's memory, stdio's buffers and locks
 * included (init.h).
 */
static __attribute__((noreturn)) void child_fail(const char *what,
						 const char *detail, int status)
{
	struct iovec line[] = {
		{ .iov_base = "awf-bpf: ", .iov_len = 9 },
		{ .iov_base = (char *)what, .iov_len = strlen(what) },
		{ .iov_base = ": ", .iov_len = 2 },
		{ .iov_base = (char *)detail, .iov_len = strlen(detail) },
		{ .iov_base = "\n", .iov_len = 1 },
	};

	/* A failed write has nobody to tell: the exit status still does. */
	(void)!writev(STDERR_FILENO, line, ARRAY_SIZE(line));
	_exit(status);
}

/*
 * Set by init, in its own copy of awf-bpf's memory, for the workload to
 * inherit: putenv() allocates, which the workload may not (init.h), and
 * execvp() searches the PATH the command gets.
 */
static void init_setenv(char *const *setenv_list)
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
 * Nothing of awf-bpf's (maps, sockets, ring buffer, pidfds) goes in; the
 * read end of the gate (spawn.h) stays until the workload has passed it.
 */
static void child_close_fds(const struct spawn_gate *g)
{
	int keep = g ? g->rfd : -1;

	if ((keep > 3 && close_range(3, (unsigned int)keep - 1, 0) < 0) ||
	    close_range(keep >= 3 ? (unsigned int)keep + 1 : 3, ~0U, 0) < 0)
		child_fail("close_range", strerror(errno), 125);
}

/*
 * The workload's last step before exec: everything of the sandbox is in
 * place but the programs, which awf-bpf may still be loading. EOF: it
 * gave up (and says why).
 */
static void wait_at_gate(const struct spawn_gate *g)
{
	ssize_t n;
	char go;

	if (!g)
		return;
	do
		n = read(g->rfd, &go, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(125);
	close(g->rfd);
}

/*
 * A /proc of the new PID namespace: the workload sees its own processes
 * only, and no /proc/<pid>/root, /fd or /environ of anything outside.
 * It covers the host's (see child_cover()).
 */
static void child_mount_proc(void)
{
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) < 0)
		child_fail("mounting /proc", strerror(errno), 125);
}

/*
 * Mounted over, not unmounted: an umount2() in a mount namespace waits
 * for an RCU grace period (0.2-0.4 ms here, some runs 3-5 ms, IPIs to
 * every CPU while the programs load), a mount on top 0.05 ms. What is
 * covered is out of reach all the same: no path leads below a mount, and
 * only umount2() or the new mount API (CAP_SYS_ADMIN, and refused by the
 * seccomp filter, seccomp.h) could lift it. An empty, read-only tmpfs.
 */
static void child_cover(const char *path)
{
	if (mount("none", path, "tmpfs",
		  MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=0555,size=4k") < 0 &&
	    errno != ENOENT)
		child_fail(path, strerror(errno), 125);
}

/*
 * uid 0 in the sandbox still owns the kernel's root-only files, and some
 * run code outside of every cgroup: a kernel.core_pattern pipe helper,
 * /sys/kernel/uevent_helper, sysrq (reboot). Read-only for it, the way
 * container runtimes do it: /proc's knobs, and /sys with every mount
 * below it (debugfs, tracefs, securityfs...).
 */
static const char *const readonly_proc[] = {
	"/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus",
	"/proc/fs",
};

static void child_bind_readonly(const char *path)
{
	if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
		if (errno == ENOENT)
			return; /* not in this kernel: nothing to protect */
		child_fail(path, strerror(errno), 125);
	}
	if (mount(NULL, path, NULL,
		  MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV |
			  MS_NOEXEC,
		  NULL) < 0)
		child_fail(path, strerror(errno), 125);
}

static void child_readonly_kernel_knobs(void)
{
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
	int rc;

	for (size_t i = 0; i < sizeof(readonly_proc) / sizeof(char *); i++)
		child_bind_readonly(readonly_proc[i]);
	rc = mount_setattr(AT_FDCWD, "/sys", AT_RECURSIVE, &ro, sizeof(ro));
	/* EINVAL: /sys is no mount point, there is no sysfs to protect. */
	if (rc < 0 && errno != EINVAL && errno != ENOENT)
		child_fail("making /sys read-only", strerror(errno), 125);
}

/*
 * cgroup.procs files belong to root: a uid-0 workload could move itself
 * out of the sandbox through them without any capability (a cgroup
 * namespace alone does not stop that unless the hierarchy is mounted with
 * nsdelegate). Its own mount namespace gets the hierarchy read-only, which
 * it cannot undo without CAP_SYS_ADMIN and mount(2).
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
	child_cover(AWF_BPFFS);
	child_mount_proc();
	child_readonly_kernel_knobs();
}

/*
 * Started by the sandbox's init, in its memory until exec (init.h): every
 * step is system calls and this stack. The user change comes late (it
 * takes away the capabilities the steps before need), the seccomp filter
 * last (it refuses syscalls the steps before make). glibc's execvp()
 * searches PATH in a buffer on the stack, as posix_spawnp's child does.
 */
static __attribute__((noreturn)) void workload_main(void *arg)
{
	const struct workload *w = arg;
	char err[AWF_ERR_LEN];

	if (identity_apply(&w->id, err, sizeof(err)))
		child_fail("switching user", err, 125);
	child_close_fds(w->req->gate);
	child_reset_signals(w->req->child_sigmask);
	if (syscall_filter_load(w->filter, err, sizeof(err)))
		child_fail("seccomp", err, 125);
	wait_at_gate(w->req->gate);
	execvp(w->req->argv[0], w->req->argv);
	child_fail(w->req->argv[0], strerror(errno),
		   errno == ENOENT ? 127 : 126);
}

static bool parent_gone(int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	/* Readable: exited. An error: we cannot know, so assume the worst. */
	return poll(&p, 1, 0) != 0;
}

int spawn_gate_new(struct spawn_gate *g, char *err, size_t errlen)
{
	int fds[2];

	g->rfd = g->wfd = -1;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return set_err(err, errlen, "pipe2: %s", strerror(errno));
	g->rfd = fds[0];
	g->wfd = fds[1];
	return 0;
}

int spawn_gate_open(struct spawn_gate *g, char *err, size_t errlen)
{
	ssize_t n;

	do
		n = write(g->wfd, "g", 1);
	while (n < 0 && errno == EINTR);
	if (n != 1 && errno != EPIPE)
		return set_err(err, errlen, "starting the command: %s",
			       strerror(errno));
	spawn_gate_close(g);
	return 0;
}

void spawn_gate_close(struct spawn_gate *g)
{
	if (g->rfd >= 0)
		close(g->rfd);
	if (g->wfd >= 0)
		close(g->wfd);
	g->rfd = g->wfd = -1;
}

/*
 * workload_main's frames take a few KiB; execvp() adds a path buffer
 * (PATH_MAX + NAME_MAX at most) and, for a script without #!, a copy of
 * argv for /bin/sh. Pages never touched cost nothing.
 */
static size_t workload_stack_size(char *const *argv)
{
	size_t argc = 0;

	while (argv[argc])
		argc++;
	return WORKLOAD_STACK + (argc + 3) * sizeof(char *);
}

/* pid 1 of the new PID namespace. */
static __attribute__((noreturn)) void init_main(struct workload *w)
{
	char err[AWF_ERR_LEN];

	/* If awf-bpf dies, init dies, and with it the whole namespace. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		child_fail("PR_SET_PDEATHSIG", strerror(errno), 125);
	/* getppid() is 0 across the namespace boundary: ask the pidfd. */
	if (parent_gone(w->parent_pidfd))
		_exit(125);
	child_seal_filesystems(w->req->cgroup2_root);
	if (harden_drop_privileges(err, sizeof(err)))
		child_fail("hardening", err, 125);
	/*
	 * A root workload may not open /proc/1/mem of its init (same uid,
	 * same capabilities): init runs without the seccomp filter.
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		child_fail("PR_SET_DUMPABLE", strerror(errno), 125);
	/* The gate's write end too: else no EOF could ever come. */
	child_close_fds(w->req->gate);
	init_setenv(w->req->setenv);
	init_setenv(w->id.env);
	init_setenv(w->req->user_env);
	sandbox_init(workload_main, w, workload_stack_size(w->req->argv),
		     w->req->gate ? w->req->gate->rfd : -1);
}

static int prepare(struct workload *w, const struct spawn_request *req,
		   char *err, size_t errlen)
{
	w->req = req;
	w->parent_pidfd = -1;
	if (identity_resolve(&w->id, req->user, err, errlen))
		return -1;
	if (w->id.change)
		log_debug("the command runs as uid %u gid %u (%zu groups)",
			  w->id.uid, w->id.gid, w->id.n_groups);
	w->filter = syscall_filter_new(req->seccomp_log, err, errlen);
	if (!w->filter)
		return -1;
	w->parent_pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (w->parent_pidfd < 0)
		return set_err(err, errlen, "pidfd_open: %s", strerror(errno));
	return 0;
}

static void release(struct workload *w)
{
	if (w->parent_pidfd >= 0)
		close(w->parent_pidfd);
	syscall_filter_free(w->filter);
	identity_free(&w->id);
}

int spawn_workload(const struct spawn_request *req, pid_t *pid, int *pidfd,
		   char *err, size_t errlen)
{
	struct workload w = { 0 };
	int fd = -1;
	struct clone_args args = {
		.flags = CLONE_INTO_CGROUP | CLONE_PIDFD | CLONE_NEWCGROUP |
			 CLONE_NEWNS | CLONE_NEWPID,
		.pidfd = (uint64_t)(uintptr_t)&fd,
		.exit_signal = SIGCHLD,
		.cgroup = (uint64_t)req->cgroup_fd,
	};
	long ret;

	if (prepare(&w, req, err, errlen)) {
		release(&w);
		return -1;
	}
	fflush(NULL);
	ret = syscall(SYS_clone3, &args, sizeof(args));
	if (ret == 0)
		init_main(&w);
	if (ret < 0)
		set_err(err, errlen, "clone3 into the sandbox cgroup: %s",
			strerror(errno));
	release(&w);
	if (ret < 0)
		return -1;
	/* Init's end: ours could only keep it from ever seeing EOF. */
	if (req->gate) {
		close(req->gate->rfd);
		req->gate->rfd = -1;
	}
	*pid = (pid_t)ret;
	*pidfd = fd;
	return 0;
}
