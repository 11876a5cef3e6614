/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * spawn.h - start the workload directly inside the sandbox cgroup
 * (clone3 CLONE_INTO_CGROUP: not one instruction of it runs outside), in a
 * new cgroup namespace rooted there and a new mount namespace where the
 * cgroup2 hierarchy is read-only and bpffs is gone, with capabilities
 * dropped and no_new_privs set before exec.
 */
#ifndef AWF_SPAWN_H
#define AWF_SPAWN_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

struct spawn_request {
	int cgroup_fd;
	const char *cgroup2_root; /* mount point made read-only for it */
	char *const *argv;
	char *const *setenv; /* "K=V" entries to set, NULL-terminated or NULL */
	const sigset_t *child_sigmask; /* restored in the child before exec */
};

/*
 * Returns 0 and the child's pid and pidfd. Exec failures are reported by
 * the child itself, which exits 127 (not found) or 126 (not executable).
 */
int spawn_workload(const struct spawn_request *req, pid_t *pid, int *pidfd,
		   char *err, size_t errlen);

/* Drop the dangerous capabilities from every set; no_new_privs. */
int harden_drop_privileges(char *err, size_t errlen);

#endif /* AWF_SPAWN_H */
