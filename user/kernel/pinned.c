// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "common/paths.h"
#include "common/dirlist.h"
#include "common/error.h"
#include "kernel/pinned.h"

int proc_start_ticks(pid_t pid, uint64_t *ticks)
{
	char path[64], buf[1024], *p;
	unsigned long long val;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* comm may hold spaces and ')': fields count from the last ')'. */
	p = strrchr(buf, ')');
	if (!p)
		return -1;
	/* state is field 3, starttime field 22: skip 19 fields after ')'. */
	for (int field = 3; field < 22; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return -1;
	}
	if (sscanf(p + 1, "%llu", &val) != 1)
		return -1;
	*ticks = val;
	return 0;
}

static int open_map(const char *id, const char *name)
{
	LIBBPF_OPTS(bpf_obj_get_opts, opts, .file_flags = BPF_F_RDONLY);
	char path[PATH_MAX];

	snprintf(path, sizeof(path), AWF_PIN_ROOT "/%s/%s", id, name);
	return bpf_obj_get_opts(path, &opts);
}

static bool read_meta(int fd, struct awf_meta *meta)
{
	uint32_t zero = 0;

	return fd >= 0 && bpf_map_lookup_elem(fd, &zero, meta) == 0 &&
	       meta->version == AWF_META_VERSION;
}

int pinned_open(struct pinned *p, const char *id, char *err, size_t errlen)
{
	char dir[PATH_MAX];

	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < PINS_N_MAPS; i++)
		p->fds[i] = -1;
	if (!pins_valid_id(id))
		return set_err(err, errlen, "%s: not a sandbox id (run-<pid>)",
			       id);
	snprintf(p->id, sizeof(p->id), "%s", id);
	snprintf(dir, sizeof(dir), AWF_PIN_ROOT "/%s", id);
	if (access(dir, F_OK))
		return set_err(err, errlen, "%s: %s", dir, strerror(errno));
	for (size_t i = 0; i < PINS_N_MAPS; i++)
		p->fds[i] = open_map(id, pins_maps[i]);
	p->has_meta = read_meta(p->fds[0], &p->meta);
	return 0;
}

void pinned_close(struct pinned *p)
{
	for (size_t i = 0; i < PINS_N_MAPS; i++) {
		if (p->fds[i] >= 0)
			close(p->fds[i]);
		p->fds[i] = -1;
	}
}

int pinned_fd(const struct pinned *p, const char *map)
{
	for (size_t i = 0; i < PINS_N_MAPS; i++)
		if (strcmp(pins_maps[i], map) == 0)
			return p->fds[i];
	return -1;
}

static int id_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int parse_id(const char *name, void *id)
{
	if (!pins_valid_id(name))
		return -1;
	/* pins_valid_id() bounds the length. */
	memcpy(id, name, strlen(name) + 1);
	return 0;
}

int pinned_list(char (**ids)[AWF_ID_LEN], size_t *n)
{
	return dir_list(AWF_PIN_ROOT, sizeof(**ids), parse_id, id_cmp,
			(void **)ids, n);
}

static bool owner_alive(const char *id, const struct awf_meta *meta)
{
	uint64_t ticks;
	int pid;

	if (meta) {
		if (proc_start_ticks((pid_t)meta->pid, &ticks))
			return false;
		return ticks == meta->pid_start_ticks;
	}
	/* Before meta is pinned: the pid of the name is all there is. */
	if (sscanf(id, "run-%d", &pid) != 1)
		return false;
	return kill(pid, 0) == 0 || errno != ESRCH;
}

bool pinned_alive(const struct pinned *p)
{
	return owner_alive(p->id, p->has_meta ? &p->meta : NULL);
}

/*
 * The same answer from the meta pin alone: every run's gc sweep asks it
 * of every other sandbox, and opening all their pins for it would cost
 * a run started next to many others a few milliseconds.
 */
int pinned_id_alive(const char *id, bool *alive)
{
	struct awf_meta meta;
	char dir[PATH_MAX];
	bool has_meta;
	int fd;

	if (!pins_valid_id(id))
		return -1;
	snprintf(dir, sizeof(dir), AWF_PIN_ROOT "/%s", id);
	if (access(dir, F_OK))
		return -1;
	fd = open_map(id, pins_maps[0]);
	has_meta = read_meta(fd, &meta);
	if (fd >= 0)
		close(fd);
	*alive = owner_alive(id, has_meta ? &meta : NULL);
	return 0;
}
