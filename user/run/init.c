// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
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

void sandbox_init(init_workload_fn workload, void *arg, int workload_fd)
{
	sigset_t waited;
	pid_t pid;
	int code = 0;

	/*
	 * Blocked before the fork, waited for after it: nothing sent in
	 * between is lost (awf-bpf blocked the forwarded ones already).
	 */
	waited_signals(&waited);
	if (sigprocmask(SIG_BLOCK, &waited, NULL) < 0)
		init_fail("sigprocmask");
	pid = fork();
	if (pid < 0)
		init_fail("fork");
	if (pid == 0) {
		workload(arg);
		_exit(EXIT_INIT_FAILURE);
	}
	if (workload_fd >= 0)
		close(workload_fd);
	/* ps in the sandbox: tell it apart from the workload. */
	if (prctl(PR_SET_NAME, "awf-bpf-init", 0, 0, 0) < 0)
		init_fail("PR_SET_NAME");
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
