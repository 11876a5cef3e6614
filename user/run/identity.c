// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/error.h"
#include "run/harden.h"
#include "run/identity.h"

#define NAME_MAX_LEN 256

/* What passwd says about a user, copied out of libc's static buffer. */
struct pw_info {
	bool found;
	uid_t uid;
	gid_t gid;
	char name[NAME_MAX_LEN];
	char dir[PATH_MAX];
};

static int parse_id(const char *s, unsigned int *out)
{
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	/* (uid_t)-1 means "leave unchanged" to setresuid: never a target. */
	if (errno || *end || v >= (unsigned int)-1)
		return -1;
	*out = (unsigned int)v;
	return 0;
}

/* getpw*() and getgr*() report "no such entry" as NULL with these. */
static int lookup_failed(void)
{
	return errno != 0 && errno != ENOENT && errno != ESRCH &&
	       errno != EBADF && errno != EPERM;
}

static int lookup_passwd(const char *name, uid_t uid, struct pw_info *pi,
			 char *err, size_t errlen)
{
	struct passwd *pw;

	memset(pi, 0, sizeof(*pi));
	errno = 0;
	pw = name ? getpwnam(name) : getpwuid(uid);
	if (!pw) {
		if (!lookup_failed())
			return 0;
		if (name)
			set_err(err, errlen, "looking up user %s: %s", name,
				strerror(errno));
		else
			set_err(err, errlen, "looking up uid %u: %s", uid,
				strerror(errno));
		return -1;
	}
	if (strlen(pw->pw_name) >= sizeof(pi->name) ||
	    strlen(pw->pw_dir) >= sizeof(pi->dir)) {
		return set_err(err, errlen, "user %u: passwd entry too long",
			       pw->pw_uid);
	}
	pi->found = true;
	pi->uid = pw->pw_uid;
	pi->gid = pw->pw_gid;
	strcpy(pi->name, pw->pw_name);
	strcpy(pi->dir, pw->pw_dir);
	return 0;
}

static int lookup_group(const char *spec, gid_t *gid, char *err, size_t errlen)
{
	struct group *gr;
	unsigned int v;

	if (parse_id(spec, &v) == 0) {
		*gid = v;
		return 0;
	}
	errno = 0;
	gr = getgrnam(spec);
	if (gr) {
		*gid = gr->gr_gid;
		return 0;
	}
	if (lookup_failed())
		set_err(err, errlen, "looking up group %s: %s", spec,
			strerror(errno));
	else
		set_err(err, errlen, "--user: no such group: %s", spec);
	return -1;
}

/* The groups initgroups(3) would give: the /etc/group memberships. */
static int supplementary_groups(struct identity *id, const char *name,
				char *err, size_t errlen)
{
	int n = 16;

	for (;;) {
		gid_t *groups = realloc(id->groups, (size_t)n * sizeof(gid_t));
		int want = n;

		if (!groups)
			return set_err(err, errlen,
				       "groups of %s: out of memory", name);
		id->groups = groups;
		if (getgrouplist(name, id->gid, groups, &want) >= 0) {
			id->n_groups = (size_t)want;
			return 0;
		}
		if (want <= n || want > NGROUPS_MAX)
			return set_err(err, errlen,
				       "groups of %s: getgrouplist failed",
				       name);
		n = want;
	}
}

static int set_env(struct identity *id, const struct pw_info *pi, char *err,
		   size_t errlen)
{
	static const char *const names[] = { "HOME", "USER", "LOGNAME" };
	const char *values[] = { pi->dir, pi->name, pi->name };

	for (size_t i = 0; i < 3; i++) {
		if (asprintf(&id->env[i], "%s=%s", names[i], values[i]) < 0) {
			id->env[i] = NULL;
			return set_err(err, errlen,
				       "environment of %s: out of memory",
				       pi->name);
		}
	}
	return 0;
}

static int finish(struct identity *id, uid_t uid, gid_t gid,
		  const struct pw_info *pi, char *err, size_t errlen)
{
	id->change = true;
	id->uid = uid;
	id->gid = gid;
	/* A uid unknown to passwd gets no supplementary group at all. */
	if (!pi->found)
		return 0;
	return supplementary_groups(id, pi->name, err, errlen) ||
	       set_env(id, pi, err, errlen);
}

/* --user NAME|UID[:GROUP|:GID] */
static int resolve_spec(struct identity *id, const char *spec, char *err,
			size_t errlen)
{
	const char *colon = strchr(spec, ':');
	size_t ulen = colon ? (size_t)(colon - spec) : strlen(spec);
	char user[NAME_MAX_LEN];
	struct pw_info pi;
	unsigned int uid;
	gid_t gid;

	if (ulen == 0 || ulen >= sizeof(user) || (colon && !colon[1]))
		return set_err(err, errlen,
			       "--user %s: expected NAME|UID[:GID]", spec);
	memcpy(user, spec, ulen);
	user[ulen] = '\0';
	if (parse_id(user, &uid) == 0) {
		if (lookup_passwd(NULL, uid, &pi, err, errlen))
			return -1;
	} else {
		if (lookup_passwd(user, 0, &pi, err, errlen))
			return -1;
		if (!pi.found)
			return set_err(err, errlen, "--user: no such user: %s",
				       user);
		uid = pi.uid;
	}
	if (colon) {
		if (lookup_group(colon + 1, &gid, err, errlen))
			return -1;
	} else if (pi.found) {
		gid = pi.gid;
	} else {
		/* Guessing a gid could hand out a privileged group. */
		return set_err(
			err, errlen,
			"--user %s: uid %u has no passwd entry; give UID:GID",
			spec, uid);
	}
	return finish(id, uid, gid, &pi, err, errlen);
}

static const char *env_nonempty(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* sudo leaves the invoking user in SUDO_UID/SUDO_GID. */
static int resolve_sudo(struct identity *id, const char *suid, const char *sgid,
			char *err, size_t errlen)
{
	unsigned int uid, gid;
	struct pw_info pi;

	if (!suid || !sgid || parse_id(suid, &uid) || parse_id(sgid, &gid))
		return set_err(
			err, errlen,
			"SUDO_UID=%s SUDO_GID=%s: not a uid and a gid; unset them or pass --user",
			suid ? suid : "(unset)", sgid ? sgid : "(unset)");
	if (lookup_passwd(NULL, uid, &pi, err, errlen))
		return -1;
	return finish(id, uid, gid, &pi, err, errlen);
}

int identity_resolve(struct identity *id, const char *spec, char *err,
		     size_t errlen)
{
	const char *suid = env_nonempty("SUDO_UID");
	const char *sgid = env_nonempty("SUDO_GID");
	int ret = 0;

	memset(id, 0, sizeof(*id));
	if (spec)
		ret = resolve_spec(id, spec, err, errlen);
	else if (getuid() == 0 && (suid || sgid))
		ret = resolve_sudo(id, suid, sgid, err, errlen);
	if (ret)
		identity_free(id);
	return ret;
}

static int check_ids(const struct identity *id, char *err, size_t errlen)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
		return set_err(err, errlen, "getresuid/getresgid: %s",
			       strerror(errno));
	if (ru != id->uid || eu != id->uid || su != id->uid || rg != id->gid ||
	    eg != id->gid || sg != id->gid) {
		return set_err(err, errlen,
			       "uid/gid %u/%u after switching to %u:%u", eu, eg,
			       id->uid, id->gid);
	}
	return 0;
}

/*
 * The ids change by the system calls themselves, not glibc's wrappers:
 * in a process that ever had a second thread (awf-bpf loads its programs
 * on one), those signal every thread on glibc's list to change its ids
 * too, and the workload runs in its init's memory, a copy of awf-bpf's
 * with that list (init.h). The workload is a process of one thread, so
 * the kernel's change of the caller's ids is the whole process's.
 */
static int set_groups(size_t n, const gid_t *groups)
{
	return syscall(SYS_setgroups, n, groups) < 0 ? -1 : 0;
}

static int set_all_gids(gid_t gid)
{
	return syscall(SYS_setresgid, gid, gid, gid) < 0 ? -1 : 0;
}

static int set_all_uids(uid_t uid)
{
	return syscall(SYS_setresuid, uid, uid, uid) < 0 ? -1 : 0;
}

/* The way back to root must be closed, not merely unused. */
static int check_no_way_back(char *err, size_t errlen)
{
	if (set_all_uids(0) == 0 || errno != EPERM)
		return set_err(err, errlen, "uid 0 could be regained (%s)",
			       strerror(errno));
	return harden_require_no_capabilities(err, errlen);
}

int identity_apply(const struct identity *id, char *err, size_t errlen)
{
	if (!id->change)
		return 0;
	/* Needs CAP_SETPCAP, which the uid change takes away. */
	if (id->uid != 0 && harden_drop_bounding_all(err, errlen))
		return -1;
	if (set_groups(id->n_groups, id->groups) < 0)
		return set_err(err, errlen, "setgroups (%zu groups): %s",
			       id->n_groups, strerror(errno));
	if (set_all_gids(id->gid) < 0)
		return set_err(err, errlen, "setresgid %u: %s", id->gid,
			       strerror(errno));
	if (set_all_uids(id->uid) < 0)
		return set_err(err, errlen, "setresuid %u: %s", id->uid,
			       strerror(errno));
	if (check_ids(id, err, errlen))
		return -1;
	return id->uid != 0 ? check_no_way_back(err, errlen) : 0;
}

void identity_free(struct identity *id)
{
	free(id->groups);
	for (size_t i = 0; i < 3; i++)
		free(id->env[i]);
	memset(id, 0, sizeof(*id));
}
