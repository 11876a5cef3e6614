// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include <bpf/bpf.h>

#include "common/paths.h"
#include "common/error.h"
#include "common/log.h"
#include "kernel/pinned.h"
#include "kernel/pins.h"

/* meta first: a directory without it is one whose set-up is under way. */
const char *const pins_maps[PINS_N_MAPS] = {
	"meta",	    "domains",	   "names",	  "cidr4",
	"cidr6",    "cidr_exact4", "cidr_exact6", "cidr_ports",
	"learned4", "learned6",	   "sk_state",	  "counters",
};

bool pins_valid_id(const char *id)
{
	const char *p;

	if (strncmp(id, "run-", 4) != 0 || !id[4] || strlen(id) >= AWF_ID_LEN)
		return false;
	for (p = id + 4; *p; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	return true;
}

/* systemd mounts bpffs at boot; a bare machine or container may not. */
int pins_ensure_bpffs(char *err, size_t errlen)
{
	struct statfs st;

	if (statfs(AWF_BPFFS, &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", AWF_BPFFS, "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=0700")) {
		return set_err(err, errlen, "mounting bpffs at %s: %s",
			       AWF_BPFFS, strerror(errno));
	}
	log_debug("mounted bpffs at %s", AWF_BPFFS);
	return 0;
}

int pins_make_dir(const char *path, char *err, size_t errlen)
{
	if (mkdir(path, 0700) && errno != EEXIST)
		return set_err(err, errlen, "mkdir %s: %s", path,
			       strerror(errno));
	return 0;
}

/* Everything in a sandbox directory is a pin of ours: unlink all. */
int pins_remove_dir(const char *path)
{
	char file[PATH_MAX * 2];
	struct dirent *de;
	DIR *dir = opendir(path);

	if (!dir)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
		if (unlink(file) && errno != ENOENT)
			log_warn("unlink %s: %s", file, strerror(errno));
	}
	closedir(dir);
	return rmdir(path);
}

int pins_create(struct pins *p, const char *sandbox, pins_fd_of fd_of,
		const void *ctx, char *err, size_t errlen)
{
	char dir[PATH_MAX], path[PATH_MAX * 2];

	p->dir[0] = '\0';
	snprintf(dir, sizeof(dir), AWF_PIN_ROOT "/%s", sandbox);
	if (pins_ensure_bpffs(err, errlen) ||
	    pins_make_dir(AWF_PIN_ROOT, err, errlen))
		return -1;
	/* Our own id: whatever is there was left by a dead namesake. */
	if (pins_remove_dir(dir) && errno != ENOENT)
		log_warn("removing stale %s: %s", dir, strerror(errno));
	if (mkdir(dir, 0700))
		return set_err(err, errlen, "mkdir %s: %s", dir,
			       strerror(errno));
	snprintf(p->dir, sizeof(p->dir), "%s", dir);
	for (size_t i = 0; i < PINS_N_MAPS; i++) {
		int fd = fd_of(ctx, pins_maps[i]);

		snprintf(path, sizeof(path), "%s/%s", dir, pins_maps[i]);
		if (fd < 0 || bpf_obj_pin(fd, path)) {
			set_err(err, errlen, "pinning %s: %s", path,
				fd < 0 ? "no such map" : strerror(errno));
			pins_remove(p);
			return -1;
		}
	}
	log_debug("maps pinned in %s", dir);
	return 0;
}

/*
 * Our own directory holds the pins we made: unlinked by name, on the
 * way to awf-bpf's exit, without reading the directory (opendir()'s
 * buffer, two getdents). Anything else there (ENOTEMPTY) goes as a dead
 * namesake's directory does.
 */
void pins_remove(struct pins *p)
{
	char path[PATH_MAX * 2];
	int ret;

	if (!p->dir[0])
		return;
	for (size_t i = 0; i < PINS_N_MAPS; i++) {
		snprintf(path, sizeof(path), "%s/%s", p->dir, pins_maps[i]);
		if (unlink(path) && errno != ENOENT)
			log_warn("unlink %s: %s", path, strerror(errno));
	}
	ret = rmdir(p->dir);
	if (ret && errno == ENOTEMPTY)
		ret = pins_remove_dir(p->dir);
	if (ret && errno != ENOENT)
		log_warn("removing %s: %s", p->dir, strerror(errno));
	else
		log_debug("pins removed: %s", p->dir);
	p->dir[0] = '\0';
}
