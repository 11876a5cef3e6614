/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * spawn.h - start the workload directly inside the sandbox cgroup
 * (clone3 CLONE_INTO_CGROUP: not one instruction of it runs outside).
 *
 * The clone3 child is pid 1 of a new PID namespace (init.h), in a new
 * cgroup namespace rooted at the sandbox cgroup and a new mount namespace
 * with a /proc of its own, /proc/sys, /sys and the cgroup2 hierarchy
 * read-only and bpffs gone; the dangerous capabilities are dropped and
 * no_new_privs is set. It sets the command's environment and starts the
 * workload in its own memory (init.h), which takes its user
 * (identity.h), closes every inherited file descriptor, loads the seccomp
 * filter (seccomp.h) and execs.
 */
#ifndef AWF_SPAWN_H
#define AWF_SPAWN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * A gate the workload waits at right before exec, with everything of the
 * sandbox in place (namespaces, mounts, user, capabilities, seccomp) but
 * the BPF programs: awf-bpf loads them meanwhile and opens the gate once
 * they are attached. Closed instead, and the workload exits 125 without
 * a word (awf-bpf says why, and removes the sandbox); awf-bpf gone, and
 * its init and with it the workload are killed (PR_SET_PDEATHSIG).
 */
struct spawn_gate {
	int rfd, wfd; /* a pipe; -1 when closed */
};

struct spawn_request {
	int cgroup_fd;
	const char *cgroup2_root; /* mount point made read-only for it */
	char *const *argv;
	char *const *setenv; /* "K=V" entries to set, NULL-terminated or NULL */
	char *const *user_env;	       /* -e "K=V": set last, so they win */
	const sigset_t *child_sigmask; /* restored in the child before exec */
	const char *user; /* --user, or NULL: the sudo user or unchanged */
	bool seccomp_log; /* --seccomp-log: log what the filter would deny */
	struct spawn_gate *gate; /* NULL: the workload starts at once */
};

/*
 * Returns 0 and the pid and pidfd of the sandbox's init, whose exit status
 * is the workload's (128+N if the workload died of signal N). Exec
 * failures are reported by the workload itself, which exits 127 (not
 * found) or 126 (not executable); any hardening step that fails in the
 * sandbox prints one "awf-bpf: ..." line and exits 125 before exec.
 */
int spawn_workload(const struct spawn_request *req, pid_t *pid, int *pidfd,
		   char *err, size_t errlen);

int spawn_gate_new(struct spawn_gate *g, char *err, size_t errlen);
/* Let the workload start. A sandbox whose init has already exited is
 * not an error here: its exit status says why. */
int spawn_gate_open(struct spawn_gate *g, char *err, size_t errlen);
void spawn_gate_close(struct spawn_gate *g);

#endif /* AWF_SPAWN_H */
