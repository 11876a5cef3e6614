// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/paths.h"
#include "kernel/pinned.h"
#include "kernel/pins.h"
#include "run/cgroup.h"
#include "run/gc.h"

bool gc_owner_alive(const char *id)
{
	bool alive;
	int pid;

	if (sscanf(id, "run-%d", &pid) != 1)
		return true; /* not a name of ours: never touch it */
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return false;
	/* The pins know the start time too: a reused pid is not the owner. */
	if (pinned_id_alive(id, &alive))
		return true;
	return alive;
}

/* `awf-bpf gc` reports on stdout; a run only in its debug log. */
static void report(const struct gc_report *r, const char *what,
		   const char *path, const char *why)
{
	if (r->verbose)
		printf("%s %s%s\n", what, path, why);
	else
		log_debug("%s %s%s", what, path, why);
}

/* A failure is gc's to report; for a run it is only a warning. */
static void report_failure(struct gc_report *r, const char *what,
			   const char *path, int err)
{
	r->failed++;
	log_msg(r->verbose ? LOG_LVL_ERROR : LOG_LVL_WARN, "%s %s: %s", what,
		path, strerror(err));
}

/* ret: a removal's (0, or -1 with errno); already gone is no failure. */
static void count_removal(struct gc_report *r, int ret, unsigned int *count,
			  const char *done, const char *verb, const char *path)
{
	if (ret == 0) {
		(*count)++;
		report(r, done, path, "");
	} else if (errno != ENOENT) {
		report_failure(r, verb, path, errno);
	}
}

static void sweep_cgroup(const char *parent, const char *id,
			 struct gc_report *r)
{
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", parent, id) >=
	    sizeof(path))
		return;
	if (cgroup_is_populated(path)) {
		r->kept++;
		report(r, "kept", path,
		       ": its awf-bpf is gone, its processes not yet");
		return;
	}
	/* Its programs are detached when the kernel frees the cgroup. */
	count_removal(r, rmdir(path), &r->cgroups, "removed cgroup", "rmdir",
		      path);
}

static void sweep_cgroups(const char *cgroup2_root, struct gc_report *r)
{
	char parent[PATH_MAX];
	struct dirent *de;
	DIR *dir;

	snprintf(parent, sizeof(parent), "%s/" AWF_CGROUP_DIR, cgroup2_root);
	dir = opendir(parent);
	if (!dir) {
		if (errno != ENOENT)
			report_failure(r, "opening", parent, errno);
		return;
	}
	while ((de = readdir(dir)))
		if (de->d_type == DT_DIR && pins_valid_id(de->d_name) &&
		    !gc_owner_alive(de->d_name))
			sweep_cgroup(parent, de->d_name, r);
	closedir(dir);
}

/*
 * Pins of a run whose cgroup is still there stay: status shows it. The
 * owner of id is known to be gone.
 */
static void sweep_pins_of(const char *cgroup2_root, const char *id,
			  struct gc_report *r)
{
	char cg[PATH_MAX], dir[PATH_MAX];
	struct stat st;

	/* A path that does not fit names no cgroup of ours: keep the pins. */
	if (cgroup_sandbox_path(cg, sizeof(cg), cgroup2_root, id) ||
	    stat(cg, &st) == 0)
		return; /* kept above, or failed */
	snprintf(dir, sizeof(dir), AWF_PIN_ROOT "/%s", id);
	count_removal(r, pins_remove_dir(dir), &r->pin_dirs, "removed pins",
		      "removing", dir);
}

static void sweep_pins(const char *cgroup2_root, struct gc_report *r)
{
	char(*ids)[AWF_ID_LEN];
	size_t n;

	if (pinned_list(&ids, &n)) {
		report_failure(r, "listing", AWF_PIN_ROOT, errno);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (!gc_owner_alive(ids[i]))
			sweep_pins_of(cgroup2_root, ids[i], r);
	free(ids);
}

void gc_sweep(const char *cgroup2_root, struct gc_report *r)
{
	/* Cgroups first: pins go only once their cgroup has. */
	sweep_cgroups(cgroup2_root, r);
	sweep_pins(cgroup2_root, r);
}

void gc_sweep_id(const char *cgroup2_root, const char *id, struct gc_report *r)
{
	char parent[PATH_MAX];

	/*
	 * Not gc_owner_alive(): the pid in id is the caller's, alive, and
	 * a run that died before its pins leaves no start time to tell it
	 * from the caller by.
	 */
	if (!pins_valid_id(id))
		return;
	snprintf(parent, sizeof(parent), "%s/" AWF_CGROUP_DIR, cgroup2_root);
	sweep_cgroup(parent, id, r);
	sweep_pins_of(cgroup2_root, id, r);
}
