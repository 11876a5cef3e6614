// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Unit tests of run/init.c: the sandbox's init starts its workload in its
 * own memory (clone CLONE_VM | CLONE_VFORK) and sleeps until the workload
 * has exec'd. That sleep must not weaken init: SIGKILL still ends it (the
 * PDEATHSIG awf-bpf leaves it), a signal sent meanwhile still reaches the
 * command, exit codes pass through. sandbox_init() never returns: each
 * test runs it in a child of its own, which is not pid 1 of a namespace
 * here, but waits, reaps and passes signals on all the same.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "run/init.h"
#include "test_util.h"

#define WORKLOAD_STACK (64 * 1024)

/*
 * A workload that says it runs (still before exec: init is asleep in
 * clone), waits for the test's word, then execs argv or exits with code.
 * System calls only: it runs in init's memory.
 */
struct job {
	int ready_w, go_r; /* pipes to and from the test */
	char *const *argv; /* NULL: _exit(code) instead of exec */
	int code;
};

static void workload(void *arg)
{
	const struct job *j = arg;
	sigset_t none;
	char c;

	if (write(j->ready_w, "r", 1) != 1)
		_exit(90);
	if (read(j->go_r, &c, 1) != 1)
		_exit(91);
	if (!j->argv)
		_exit(j->code);
	/* Init blocked what it waits for; the command gets none blocked. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execv(j->argv[0], j->argv);
	_exit(92);
}

struct init_run {
	pid_t pid;
	int pidfd;
	int ready_r, go_w;
};

/*
 * Fork init running fn (workload() or a variant), and wait until its
 * workload runs (before exec). non_root: init runs as nobody when the
 * test runs as root, and non-dumpable, as spawn.c makes it.
 */
static void start_init_with(struct init_run *r, init_workload_fn fn,
			    char *const *argv, int code, bool non_root)
{
	int ready[2], go[2];
	char c;

	assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
	assert_int_equal(pipe2(go, O_CLOEXEC), 0);
	r->pid = fork();
	assert_true(r->pid >= 0);
	if (r->pid == 0) {
		struct job j = { .ready_w = ready[1],
				 .go_r = go[0],
				 .argv = argv,
				 .code = code };

		if (non_root && getuid() == 0 &&
		    (setresgid(65534, 65534, 65534) < 0 ||
		     setresuid(65534, 65534, 65534) < 0))
			_exit(94);
		if (non_root && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
			_exit(95);
		close(ready[0]);
		close(go[1]);
		sandbox_init(fn, &j, WORKLOAD_STACK, -1);
	}
	close(ready[1]);
	close(go[0]);
	r->ready_r = ready[0];
	r->go_w = go[1];
	r->pidfd = (int)syscall(SYS_pidfd_open, r->pid, 0);
	assert_true(r->pidfd >= 0);
	assert_int_equal(read(r->ready_r, &c, 1), 1);
}

static void start_init(struct init_run *r, char *const *argv, int code)
{
	start_init_with(r, workload, argv, code, false);
}

static void let_go(struct init_run *r)
{
	assert_int_equal(write(r->go_w, "g", 1), 1);
}

/* Init's wait status, within 5 s. */
static int wait_init(struct init_run *r)
{
	struct pollfd p = { .fd = r->pidfd, .events = POLLIN };
	int status;

	assert_int_equal(poll(&p, 1, 5000), 1);
	assert_int_equal(waitpid(r->pid, &status, 0), r->pid);
	close(r->pidfd);
	close(r->ready_r);
	close(r->go_w);
	return status;
}

/* Let the workload go; init's exit code (it must exit, not be killed). */
static int exit_code_once_let_go(struct init_run *r)
{
	int status;

	let_go(r);
	status = wait_init(r);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* The system call init is in, from /proc/PID/syscall. */
static long current_syscall(pid_t pid)
{
	char path[64], buf[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/syscall", pid);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n > 0);
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

static void test_exit_code(void **state)
{
	struct init_run r;

	(void)state;
	start_init(&r, NULL, 7);
	assert_int_equal(exit_code_once_let_go(&r), 7);
}

static void test_killed_command(void **state)
{
	char *const argv[] = { "/bin/sh", "-c", "kill -USR2 $$", NULL };
	struct init_run r;

	(void)state;
	start_init(&r, argv, 0);
	assert_int_equal(exit_code_once_let_go(&r), 128 + SIGUSR2);
}

/*
 * Sent while init sleeps in clone: kept pending (init blocks what it
 * waits for), passed on to the command once it has exec'd.
 */
static void test_signal_during_the_wait(void **state)
{
	char *const argv[] = { "/bin/sleep", "30", NULL };
	struct init_run r;

	(void)state;
	start_init(&r, argv, 0);
	assert_int_equal(current_syscall(r.pid), SYS_clone);
	assert_int_equal(kill(r.pid, SIGTERM), 0);
	assert_int_equal(exit_code_once_let_go(&r), 128 + SIGTERM);
}

/*
 * awf-bpf's death reaches init as SIGKILL (PR_SET_PDEATHSIG) while the
 * workload still waits at the gate: init asleep in clone must die of it
 * at once, not when the workload execs (in a namespace, its death then
 * kills the workload). Here the workload lives on, ours to reap.
 */
static void test_sigkill_during_the_wait(void **state)
{
	struct init_run r;
	int status;
	pid_t orphan;

	(void)state;
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
	start_init(&r, NULL, 0);
	assert_int_equal(current_syscall(r.pid), SYS_clone);
	assert_int_equal(kill(r.pid, SIGKILL), 0);
	status = wait_init(&r);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	/* The workload, still at its read: EOF now, it exits 91. */
	orphan = waitpid(-1, &status, 0);
	assert_true(orphan > 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 91);
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0), 0);
}

/*
 * A uid or gid change in the workload resets the dumpable flag of the
 * memory it shares with init (to fs.suid_dumpable); PR_SET_DUMPABLE 1
 * here stands for it. Once the command runs, init must be non-dumpable
 * again: /proc/PID/stat of a non-dumpable process belongs to root.
 */
static void dumpable_workload(void *arg)
{
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		_exit(93);
	workload(arg);
}

/* The owner of /proc/PID/stat, once it is root's (2 s at most). */
static uid_t stat_owner_when_root(pid_t pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	for (int i = 0; i < 200; i++) {
		assert_int_equal(stat(path, &st), 0);
		if (st.st_uid == 0)
			break;
		usleep(10000);
	}
	return st.st_uid;
}

static void test_init_stays_non_dumpable(void **state)
{
	char *const argv[] = { "/bin/sleep", "30", NULL };
	struct init_run r;
	uid_t owner;
	int status;

	(void)state;
	/* Not root: else its /proc files are root's either way. */
	start_init_with(&r, dumpable_workload, argv, 0, true);
	let_go(&r);
	owner = stat_owner_when_root(r.pid);
	assert_int_equal(kill(r.pid, SIGTERM), 0);
	status = wait_init(&r);
	assert_int_equal(owner, 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 128 + SIGTERM);
}

int main(void)
{
	struct test_list l = { 0 };

	tl_add(&l, "exit code of the workload", test_exit_code, NULL);
	tl_add(&l, "128+N for a command killed by N", test_killed_command,
	       NULL);
	tl_add(&l, "a signal sent before exec reaches the command",
	       test_signal_during_the_wait, NULL);
	tl_add(&l, "SIGKILL ends init while the workload waits",
	       test_sigkill_during_the_wait, NULL);
	tl_add(&l, "init non-dumpable again after the workload's exec",
	       test_init_stays_non_dumpable, NULL);
	return tl_run("init", &l);
}
