// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "awf.h"
#include "audit/served_ports.h"
#include "common/array.h"
#include "common/error.h"

/* Cgroups below the sandbox's, deeper than any sandbox makes. */
#define MAX_DEPTH 16

/* A socket that serves a port; one socket may sit in several processes. */
struct marked {
	unsigned long ino;
	uint16_t port;
	uint8_t proto;
};

struct scan {
	int map_fd;
	struct marked *v;
	size_t n, cap;
	char *err;
	size_t errlen;
};

/* The inode of "socket:[ino]"; false for any other kind of fd. */
static bool socket_ino(int dir_fd, const char *name, unsigned long *ino)
{
	char link[64];
	ssize_t len = readlinkat(dir_fd, name, link, sizeof(link) - 1);

	if (len < 0)
		return false;
	link[len] = '\0';
	return sscanf(link, "socket:[%lu]", ino) == 1;
}

/* fd of the process behind pidfd: its state, if it serves a port. */
static int scan_fd(struct scan *s, int pidfd, int fd, unsigned long ino)
{
	struct awf_sk_state st;
	int mine = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);

	if (mine < 0) /* closed meanwhile */
		return errno == EBADF ? 0 : -1;
	/* ENOENT: no state, or not a socket the map can hold. */
	if (!bpf_map_lookup_elem(s->map_fd, &mine, &st) && st.bound_port) {
		if (array_grow((void **)&s->v, &s->cap, s->n + 1,
			       sizeof(*s->v))) {
			close(mine);
			return -1;
		}
		s->v[s->n++] = (struct marked){ .ino = ino,
						.port = st.bound_port,
						.proto = st.bound_proto };
	}
	close(mine);
	return 0;
}

static int scan_pid(struct scan *s, pid_t pid)
{
	char path[64];
	struct dirent *de;
	unsigned long ino;
	int pidfd, ret = 0;
	DIR *dir;

	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		if (errno == ESRCH)
			return 0;
		return set_err(s->err, s->errlen, "pidfd_open %d: %s", (int)pid,
			       strerror(errno));
	}
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	if (!dir) {
		close(pidfd);
		if (errno == ENOENT)
			return 0;
		return set_err(s->err, s->errlen, "%s: %s", path,
			       strerror(errno));
	}
	while (!ret && (de = readdir(dir))) {
		if (de->d_name[0] == '.' ||
		    !socket_ino(dirfd(dir), de->d_name, &ino))
			continue;
		if (scan_fd(s, pidfd, atoi(de->d_name), ino))
			ret = set_err(s->err, s->errlen,
				      "pidfd_getfd of fd %s of pid %d: %s",
				      de->d_name, (int)pid, strerror(errno));
	}
	closedir(dir);
	close(pidfd);
	return ret;
}

static int scan_procs(struct scan *s, const char *cg)
{
	char path[PATH_MAX];
	int pid, ret = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT) /* removed meanwhile */
			return 0;
		return set_err(s->err, s->errlen, "%s: %s", path,
			       strerror(errno));
	}
	while (!ret && fscanf(f, "%d", &pid) == 1)
		ret = scan_pid(s, pid);
	fclose(f);
	return ret;
}

/* The processes of cg, then of every cgroup below it. */
static int scan_cgroup(struct scan *s, const char *cg, int depth)
{
	char sub[PATH_MAX];
	struct dirent *de;
	int ret;
	DIR *dir;

	ret = scan_procs(s, cg);
	if (ret || depth >= MAX_DEPTH)
		return ret;
	dir = opendir(cg);
	if (!dir)
		return errno == ENOENT ? 0 :
					 set_err(s->err, s->errlen, "%s: %s",
						 cg, strerror(errno));
	while (!ret && (de = readdir(dir))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", cg, de->d_name) >=
		    (int)sizeof(sub))
			continue;
		ret = scan_cgroup(s, sub, depth + 1);
	}
	closedir(dir);
	return ret;
}

static int marked_cmp(const void *a, const void *b)
{
	const struct marked *x = a, *y = b;

	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return (x->ino > y->ino) - (x->ino < y->ino);
}

/* s->v sorted: one entry per port, one reference per distinct socket. */
static int count_ports(const struct scan *s, struct served_port **ports,
		       size_t *n)
{
	struct served_port *out = NULL;
	size_t cap = 0, k = 0;

	for (size_t i = 0; i < s->n; i++) {
		const struct marked *m = &s->v[i], *prev = i ? m - 1 : NULL;

		if (prev && prev->proto == m->proto && prev->port == m->port) {
			out[k - 1].refs += prev->ino != m->ino;
			continue;
		}
		if (array_grow((void **)&out, &cap, k + 1, sizeof(*out))) {
			free(out);
			return -1;
		}
		out[k++] = (struct served_port){ .port = m->port,
						 .proto = m->proto,
						 .refs = 1 };
	}
	*ports = out;
	*n = k;
	return 0;
}

int served_ports(int sk_state_fd, const char *cgroup_dir,
		 struct served_port **ports, size_t *n, char *err,
		 size_t errlen)
{
	struct scan s = { .map_fd = sk_state_fd, .err = err, .errlen = errlen };
	int ret;

	*ports = NULL;
	*n = 0;
	ret = scan_cgroup(&s, cgroup_dir, 0);
	if (!ret && s.n) {
		qsort(s.v, s.n, sizeof(*s.v), marked_cmp);
		if (count_ports(&s, ports, n))
			ret = set_err(err, errlen, "out of memory");
	}
	free(s.v);
	return ret;
}
