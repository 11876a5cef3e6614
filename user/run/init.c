// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run/init.h"

#define EXIT_INIT_FAILURE 125

/* What awf-bpf forwards to us, and a terminal may send. */
static const int passed_signals[] = { SIGINT,  SIGTERM, SIGHUP,
				      SIGQUIT, SIGUSR1, SIGUSR2 };

static __attribute__((noreturn)) void init_fail(const char *what)
{
	fprintf(stderr, "awf-bpf: sandbox init: %s: %s\n", what,
		strerror(errno));
	_exit(EXIT_INIT_FAILURE);
}

static void waited_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	for (size_t i = 0; i < sizeof(passed_signals) / sizeof(int); i++)
		sigaddset(set, passed_signals[i]);
}

static int exit_code_of(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

/*
 * Without WUNTRACED a stop is reported only to a tracer: a process made
 * us its tracer (PTRACE_TRACEME, possible under --seccomp-log). Let it go
 * on as if untraced: with the signal that stopped it, but not the SIGTRAP
 * the kernel sends a tracee on exec.
 */
static void release_tracee(pid_t pid, int status)
{
	long sig = WSTOPSIG(status) == SIGTRAP ? 0 : WSTOPSIG(status);

	if (ptrace(PTRACE_DETACH, pid, NULL, (void *)sig) < 0 && errno != ESRCH)
		init_fail("PTRACE_DETACH");
}

/* Reap everything that has ended; true once the workload has. */
static bool reap(pid_t workload, int *code)
{
	bool done = false;
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (WIFSTOPPED(status)) {
			release_tracee(pid, status);
		} else if (pid == workload) {
			done = true;
			*code = exit_code_of(status);
		}
	}
	if (pid < 0 && errno != ECHILD)
		init_fail("waitpid");
	return done;
}

static void pass_on(pid_t workload, const siginfo_t *si)
{
	/*
	 * A terminal signals its whole foreground process group: the
	 * workload got this one itself, and awf-bpf passes it on too.
	 */
	if (si->si_code == SI_KERNEL)
		return;
	if (kill(workload, si->si_signo) < 0 && errno != ESRCH)
		init_fail("passing a signal on");
}

struct workload_start {
	init_workload_fn fn;
	void *arg;
};

static int workload_entry(void *p)
{
	const struct workload_start *start = p;

	start->fn(start->arg);
	_exit(EXIT_INIT_FAILURE);
}

/*
 * posix_spawn's way, not fork's: the workload borrows our memory until it
 * execs (CLONE_VM), so no page table is copied, no page faults on
 * copy-on-write, and its exec drops a reference instead of tearing a copy
 * down. We sleep meanwhile (CLONE_VFORK), killably: PDEATHSIG's SIGKILL
 * still ends us, and with us the namespace. Its stack is its own, with a
 * guard page below: an overflow faults instead of writing over ours.
 *
 * Once it has exec'd nothing uses that stack, but it stays mapped until
 * we exit: a munmap() of memory another CPU has just used shoots down
 * its TLB with an IPI (0.43 ms median here, on a PVM guest), while that
 * CPU runs the command; our exit frees it without one. Its pages are the
 * few the workload touched.
 */
static pid_t start_workload(init_workload_fn fn, void *arg, size_t stack_size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t size = page + (stack_size + page - 1) / page * page;
	struct workload_start start = { .fn = fn, .arg = arg };
	char *stack;
	pid_t pid;

	stack = mmap(NULL, size, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED)
		init_fail("mmap (the workload's stack)");
	if (mprotect(stack + page, size - page, PROT_READ | PROT_WRITE) < 0)
		init_fail("mprotect (the workload's stack)");
	pid = clone(workload_entry, stack + size,
		    CLONE_VM | CLONE_VFORK | SIGCHLD, &start);
	if (pid < 0)
		init_fail("clone");
	return pid;
}

void sandbox_init(init_workload_fn workload, void *arg, size_t stack_size,
		  int workload_fd)
{
	sigset_t waited;
	pid_t pid;
	int code = 0;

	/*
	 * Blocked before the clone, waited for after it: nothing sent in
	 * between is lost (awf-bpf blocked the forwarded ones already).
	 */
	waited_signals(&waited);
	if (sigprocmask(SIG_BLOCK, &waited, NULL) < 0)
		init_fail("sigprocmask");
	/*
	 * ps in the sandbox: tell it apart from the workload. Before the
	 * clone, which returns only once the command may already run.
	 */
	if (prctl(PR_SET_NAME, "awf-bpf-init", 0, 0, 0) < 0)
		init_fail("PR_SET_NAME");
	pid = start_workload(workload, arg, stack_size);
	/*
	 * A uid, gid or capability change of the workload reset the dumpable
	 * flag of the memory it shared with us to fs.suid_dumpable: made
	 * non-dumpable again (spawn.c: its /proc/1/mem stays closed to a
	 * workload of the same uid).
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		init_fail("PR_SET_DUMPABLE");
	if (workload_fd >= 0)
		close(workload_fd);
	for (;;) {
		siginfo_t si;

		if (sigwaitinfo(&waited, &si) < 0) {
			if (errno == EINTR)
				continue;
			init_fail("sigwaitinfo");
		}
		if (si.si_signo != SIGCHLD)
			pass_on(pid, &si);
		else if (reap(pid, &code))
			_exit(code);
	}
}
