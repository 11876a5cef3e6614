/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * run.h - `awf-bpf run`: one command in one enforced sandbox, from set-up
 * to the last cleanup. The exit status is the command's (128+N when it died
 * of signal N), 124 on --timeout, 137 when the sandbox was killed because
 * the command outlived a SIGTERM/SIGINT (--kill-after) or a second one came,
 * 125 when awf-bpf itself failed, in which case the command never ran.
 */
#ifndef AWF_RUN_H
#define AWF_RUN_H

#include "policy/policy.h"

#define EXIT_TIMEOUT 124
#define EXIT_AWF_FAILURE 125
#define EXIT_KILLED (128 + 9) /* SIGKILL, as timeout(1) --kill-after */

#define RUN_KILL_AFTER_DEFAULT_S 10

struct run_options {
	struct policy *policy; /* finalized */
	char *const *argv;
	unsigned int timeout_s; /* 0: none */
	/* After a SIGTERM/SIGINT, kill the sandbox; 0: on the first one. */
	unsigned int kill_after_s;
	const char *audit_log;
	int audit_allowed;
	const char *user;  /* --user; NULL: the sudo user, else unchanged */
	bool seccomp_log;  /* --seccomp-log: log what seccomp would deny */
	bool quiet;	   /* --quiet: no summary of denials at exit */
	bool summary_json; /* --summary-format json */
	bool standalone;   /* --standalone: never ask the agent for a sandbox */
	/* -e NAME=VALUE entries for the command, NULL-terminated, or NULL */
	char *const *env;
};

/*
 * Before the policy is read (opts without it): the agent's connection
 * opens where an agent may take the run, so that it makes the sandbox's
 * cgroup meanwhile (run.c). run_sandbox() takes it over; a caller that
 * will not call it after all calls run_discard().
 */
void run_prepare(const struct run_options *opts);
void run_discard(void);
/*
 * Once per process, last: when it returns nothing of the sandbox is left
 * (cgroup, processes, pins), but after a command that ran, the run's own
 * descriptors and memory are left to the process's exit (run.c).
 */
int run_sandbox(const struct run_options *opts);

#endif /* AWF_RUN_H */
