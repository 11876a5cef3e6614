// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "common/paths.h"
#include "common/error.h"
#include "run/cgroup.h"
#include "common/log.h"

#define KILL_WAIT_MS 5000

/*
 * Where hosts mount it (pure v2, then hybrid): one statfs each, where
 * reading mountinfo has the kernel format a line for every mount.
 */
static bool cgroup2_usual_root(char *root, size_t len)
{
	static const char *const usual[] = { "/sys/fs/cgroup",
					     "/sys/fs/cgroup/unified" };
	struct statfs sf;

	for (size_t i = 0; i < sizeof(usual) / sizeof(usual[0]); i++) {
		if (statfs(usual[i], &sf) == 0 &&
		    sf.f_type == CGROUP2_SUPER_MAGIC &&
		    strlen(usual[i]) < len) {
			strcpy(root, usual[i]);
			return true;
		}
	}
	return false;
}

int cgroup2_root(char *root, size_t len, char *err, size_t errlen)
{
	char line[4096], mnt[PATH_MAX], fstype[64];
	int found = 0;
	FILE *f;

	if (cgroup2_usual_root(root, len))
		return 0;
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return set_err(err, errlen, "/proc/self/mountinfo: %s",
			       strerror(errno));
	while (!found && fgets(line, sizeof(line), f)) {
		/* "id parent maj:min root mountpoint opts ... - fstype src opts" */
		const char *sep = strstr(line, " - ");

		if (!sep || sscanf(sep, " - %63s", fstype) != 1 ||
		    strcmp(fstype, "cgroup2") != 0)
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1 &&
		    strlen(mnt) < len) {
			strcpy(root, mnt);
			found = 1;
		}
	}
	fclose(f);
	if (!found)
		return set_err(
			err, errlen,
			"no cgroup v2 hierarchy mounted (looked in /proc/self/mountinfo); awf-bpf needs cgroup2");
	return 0;
}

static int mkdir_ok_if_exists(const char *path, char *err, size_t errlen)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return set_err(err, errlen, "mkdir %s: %s", path,
			       strerror(errno));
	return 0;
}

int cgroup_sandbox_path(char *path, size_t len, const char *root,
			const char *name)
{
	int n = snprintf(path, len, "%s/" AWF_CGROUP_DIR "/%s", root, name);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int cgroup_create(struct sandbox_cgroup *cg, const char *root, const char *name,
		  char *err, size_t errlen)
{
	char parent[PATH_MAX];

	cg->fd = -1;
	if (snprintf(parent, sizeof(parent), "%s/" AWF_CGROUP_DIR, root) >=
		    (int)sizeof(parent) ||
	    cgroup_sandbox_path(cg->path, sizeof(cg->path), root, name)) {
		return set_err(err, errlen, "cgroup path too long under %s",
			       root);
	}
	if (mkdir_ok_if_exists(parent, err, errlen))
		return -1;
	if (mkdir(cg->path, 0755) < 0) {
		set_err(err, errlen, "mkdir %s: %s", cg->path, strerror(errno));
		cg->path[0] = '\0'; /* not ours to clean up */
		return -1;
	}
	cg->fd = open(cg->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg->fd < 0) {
		set_err(err, errlen, "open %s: %s", cg->path, strerror(errno));
		rmdir(cg->path);
		cg->path[0] = '\0';
		return -1;
	}
	return 0;
}

/*
 * One read() into the stack: cgroup.events is two short lines, and this
 * is on the way to awf-bpf's exit (stdio allocated and fstat()ed).
 */
bool cgroup_is_populated(const char *path)
{
	char file[PATH_MAX + 32], buf[256];
	ssize_t n;
	int fd;

	snprintf(file, sizeof(file), "%s/cgroup.events", path);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false; /* gone */
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return strncmp(buf, "populated 1\n", 12) == 0 ||
	       strstr(buf, "\npopulated 1\n") != NULL;
}

/* cgroup.kill exists since 5.14; older kernels get one SIGKILL per pid. */
static int kill_via_procs(const char *path)
{
	char file[PATH_MAX + 32];
	FILE *f;
	int pid;

	snprintf(file, sizeof(file), "%s/cgroup.procs", path);
	f = fopen(file, "re");
	if (!f)
		return errno == ENOENT ? 0 : -1;
	while (fscanf(f, "%d", &pid) == 1)
		if (kill(pid, SIGKILL) < 0 && errno != ESRCH)
			log_warn("kill %d: %s", pid, strerror(errno));
	fclose(f);
	return 0;
}

static int write_cgroup_kill(const char *path)
{
	char file[PATH_MAX + 32];
	int fd, ret = 0;

	snprintf(file, sizeof(file), "%s/cgroup.kill", path);
	fd = open(file, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (write(fd, "1", 1) != 1)
		ret = -1;
	close(fd);
	return ret;
}

int cgroup_kill_all(const struct sandbox_cgroup *cg)
{
	const struct timespec step = { .tv_nsec = 5 * 1000 * 1000 };

	for (int waited = 0; waited < KILL_WAIT_MS; waited += 5) {
		if (!cgroup_is_populated(cg->path))
			return 0;
		if (write_cgroup_kill(cg->path) < 0)
			kill_via_procs(cg->path);
		nanosleep(&step, NULL);
	}
	log_error("%s: processes still running after SIGKILL for %d ms",
		  cg->path, KILL_WAIT_MS);
	return -1;
}

int cgroup_remove(struct sandbox_cgroup *cg)
{
	int ret = 0;

	if (cg->fd >= 0) {
		close(cg->fd);
		cg->fd = -1;
	}
	if (!cg->path[0])
		return 0;
	/* The last task may still be leaving the cgroup: retry briefly. */
	for (int i = 0; i < 200; i++) {
		if (rmdir(cg->path) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			break;
		usleep(5000);
	}
	log_error("rmdir %s: %s", cg->path, strerror(errno));
	ret = -1;
	return ret;
}
