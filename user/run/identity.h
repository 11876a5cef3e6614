/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * identity.h - the user the workload runs as: --user when given, else the
 * sudo user when awf-bpf was started through sudo as root, else whoever
 * started awf-bpf (unchanged).
 *
 * Resolved by awf-bpf itself (passwd and group lookups may need NSS
 * modules, files and sockets that have no place in the sandbox); applied
 * by the workload just before its seccomp filter and exec.
 */
#ifndef AWF_IDENTITY_H
#define AWF_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct identity {
	bool change; /* false: keep the credentials awf-bpf was started with */
	uid_t uid;
	gid_t gid;
	gid_t *groups; /* supplementary groups */
	size_t n_groups;
	/* HOME=, USER=, LOGNAME= of a user known to passwd; NULL-terminated */
	char *env[4];
};

/*
 * spec: the --user argument (NAME, UID, NAME:GROUP or UID:GID) or NULL.
 * -1 with a message in err for an unknown user, a uid without a passwd
 * entry and no GID, or malformed SUDO_UID/SUDO_GID.
 */
int identity_resolve(struct identity *id, const char *spec, char *err,
		     size_t errlen);

/*
 * In the workload: supplementary groups, gid, uid, in that order. For a
 * uid other than 0, every capability and the whole bounding set go, and
 * regaining uid 0 must fail. -1 with a message in err otherwise. System
 * calls only, nothing allocated: the workload runs in its init's memory
 * (init.h): the ids change by raw system calls, whatever threads
 * awf-bpf had (identity.c).
 */
int identity_apply(const struct identity *id, char *err, size_t errlen);

void identity_free(struct identity *id);

#endif /* AWF_IDENTITY_H */
