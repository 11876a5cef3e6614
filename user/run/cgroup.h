/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * cgroup.h - the sandbox's cgroup v2 directory: find the unified
 * hierarchy, create <root>/awf-bpf/run-<id>, kill everything in it and
 * remove it.
 */
#ifndef AWF_CGROUP_H
#define AWF_CGROUP_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

struct sandbox_cgroup {
	char path[PATH_MAX];
	int fd; /* O_DIRECTORY, for clone3(CLONE_INTO_CGROUP) and prog attach */
};

/*
 * The cgroup2 mount point: /sys/fs/cgroup on a pure v2 host,
 * /sys/fs/cgroup/unified on a hybrid one, else the first one in
 * /proc/self/mountinfo. -1 with a message in err when there is none.
 */
int cgroup2_root(char *root, size_t len, char *err, size_t errlen);

/* <root>/awf-bpf/<name> into path: 0, or -1 when it does not fit in len. */
int cgroup_sandbox_path(char *path, size_t len, const char *root,
			const char *name);

/* mkdir <root>/awf-bpf/<name>; fd stays open. */
int cgroup_create(struct sandbox_cgroup *cg, const char *root, const char *name,
		  char *err, size_t errlen);

/* SIGKILL every process in the cgroup and wait (bounded) until empty. */
int cgroup_kill_all(const struct sandbox_cgroup *cg);

/* rmdir; programs attached to it go with it. cg->fd is closed. */
int cgroup_remove(struct sandbox_cgroup *cg);

/* Whether a process is in the cgroup at path; false once it is gone. */
bool cgroup_is_populated(const char *path);

#endif /* AWF_CGROUP_H */
