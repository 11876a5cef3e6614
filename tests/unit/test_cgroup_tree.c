// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cgroup ids, the walk and the watcher. The walk and the watcher run on
 * a plain temporary directory; the ids and inotify on cgroupfs are
 * checked in a cgroup made under the cgroup2 mount when there is a
 * writable one (else those tests say so and pass), and the id against
 * bpf_get_current_cgroup_id() when BPF programs can be loaded (root).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>

#include "common/error.h"
#include "test_util.h"
#include "run/cgroup.h"
#include "agent/cgroup_tree.h"

#define CG_LEN (PATH_MAX + 64) /* a cgroup2 mount path and a bit */

struct check_row {
	const char *path;
	const char *why; /* NULL: valid */
};

static const struct check_row check_rows[] = {
	{ "/", NULL },
	{ "/awf-bpf", NULL },
	{ "/a/b.c/..d/.e/*", NULL },
	{ "awf-bpf", "must be an absolute cgroup path" },
	{ "", "must be an absolute cgroup path" },
	{ "/a/", "has an empty component" },
	{ "//a", "has an empty component" },
	{ "/a//b", "has an empty component" },
	{ "/..", "must not contain \".\" or \"..\" components" },
	{ "/a/./b", "must not contain \".\" or \"..\" components" },
	{ "/a/..", "must not contain \".\" or \"..\" components" },
	{ "/0123456789abcdef", "longer than 15 bytes" },
};

static void test_check(void **state)
{
	const struct check_row *row = *state;
	char why[AWF_ERR_LEN] = "";
	int rc = cgroup_path_check(row->path, 16, why, sizeof(why));

	if (!row->why) {
		assert_int_equal(rc, 0);
		return;
	}
	assert_int_equal(rc, -1);
	assert_err_has(why, row->why);
}

struct join_row {
	const char *name;
	const char *base, *rel, *out; /* out NULL: does not fit in 12 */
};

static const struct join_row join_rows[] = {
	{ "below", "/awf-bpf", "/a", "/awf-bpf/a" },
	{ "the base", "/awf-bpf", "/", "/awf-bpf" },
	{ "from the root", "/", "/a/b", "/a/b" },
	{ "root and root", "/", "/", "/" },
	{ "too long", "/awf-bpf", "/abc", NULL },
	{ "just fits", "/awf-bpf", "/ab", "/awf-bpf/ab" },
};

static void test_join(void **state)
{
	const struct join_row *row = *state;
	char out[12];
	int rc = cgroup_path_join(out, sizeof(out), row->base, row->rel);

	if (!row->out) {
		assert_int_equal(rc, -1);
		return;
	}
	assert_int_equal(rc, 0);
	assert_string_equal(out, row->out);
}

/* ---- helpers over a temporary tree ---- */

static void mk(const char *root, const char *rel)
{
	char path[PATH_MAX * 2];
	int rc;

	snprintf(path, sizeof(path), "%s%s", root, rel);
	rc = mkdir(path, 0755);
	if (rc < 0)
		print_error("mkdir %s: %s\n", path, strerror(errno));
	assert_int_equal(rc, 0);
}

static void rm(const char *root, const char *rel)
{
	char path[PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s%s", root, rel);
	assert_int_equal(rmdir(path), 0);
}

static uint64_t ino(const char *root, const char *rel)
{
	char path[PATH_MAX * 2];
	struct stat st;

	snprintf(path, sizeof(path), "%s%s", root, rel);
	assert_int_equal(lstat(path, &st), 0);
	return st.st_ino;
}

/* rm -r by fds: paths in the long-name test exceed PATH_MAX. */
static void remove_at(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	struct dirent *de;
	DIR *d;

	if (fd < 0) {
		unlinkat(dfd, name, 0);
		return;
	}
	d = fdopendir(fd);
	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			remove_at(dirfd(d), de->d_name);
	closedir(d);
	assert_int_equal(unlinkat(dfd, name, AT_REMOVEDIR), 0);
}

static void temp_root(char root[64])
{
	snprintf(root, 64, "/tmp/awf-test-XXXXXX");
	assert_non_null(mkdtemp(root));
}

/* ---- ids ---- */

static void test_id_plain_dir(void **state)
{
	char root[64], err[AWF_ERR_LEN] = "";
	uint64_t id = 0, kid;
	int fd;

	(void)state;
	temp_root(root);
	/* not kernfs: no kernfs handle, the inode number instead */
	assert_int_equal(cgroup_kernfs_id_at(AT_FDCWD, root, &kid), -1);
	assert_int_equal(cgroup_id_at(AT_FDCWD, root, &id, err, AWF_ERR_LEN),
			 0);
	assert_int_equal(id, ino(root, ""));
	fd = open(root, O_RDONLY | O_DIRECTORY);
	id = 0;
	assert_int_equal(cgroup_id_at(fd, "", &id, err, AWF_ERR_LEN), 0);
	assert_int_equal(id, ino(root, ""));
	close(fd);
	rm(root, "");
	assert_int_equal(cgroup_id_at(AT_FDCWD, root, &id, err, AWF_ERR_LEN),
			 -1);
	assert_err_has(err, "No such file or directory");
}

/* A cgroup of our own under the cgroup2 mount, or false (skip). */
static bool make_test_cgroup(char *path, size_t len)
{
	char root[PATH_MAX - 64], err[AWF_ERR_LEN];

	if (cgroup2_root(root, sizeof(root), err, sizeof(err)) < 0) {
		print_message("skipped: %s\n", err);
		return false;
	}
	snprintf(path, len, "%s/awf-test-cgroup-tree-%d", root, (int)getpid());
	if (mkdir(path, 0755) < 0) {
		print_message("skipped: no writable cgroup2 (mkdir %s: %s)\n",
			      path, strerror(errno));
		return false;
	}
	return true;
}

/* This process's cgroup v2 path, from "0::/path" in /proc/self/cgroup. */
static bool own_cgroup(char *path, size_t len)
{
	char line[PATH_MAX];
	bool found = false;
	FILE *f = fopen("/proc/self/cgroup", "re");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		if (strncmp(line, "0::", 3) == 0) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(path, len, "%s", line + 3);
			found = true;
		}
	fclose(f);
	return found;
}

static int move_self(const char *cgroup_dir)
{
	char file[PATH_MAX + 16], pid[16];
	int fd, n, rc;

	snprintf(file, sizeof(file), "%s/cgroup.procs", cgroup_dir);
	n = snprintf(pid, sizeof(pid), "%d", (int)getpid());
	fd = open(file, O_WRONLY);
	if (fd < 0)
		return -1;
	rc = write(fd, pid, (size_t)n) == n ? 0 : -1;
	close(fd);
	return rc;
}

/* r0 = bpf_get_current_cgroup_id() >> shift; a socket filter returns it. */
static int load_id_prog(int shift)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_JMP | BPF_CALL,
		  .imm = BPF_FUNC_get_current_cgroup_id },
		{ .code = BPF_ALU64 | BPF_RSH | BPF_K,
		  .dst_reg = BPF_REG_0,
		  .imm = shift },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "cgid", "GPL", insns,
			     ARRAY_SIZE(insns), NULL);
}

static int run_prog(int fd, uint32_t *out)
{
	char pkt[64] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt,
		    .data_size_in = sizeof(pkt));

	if (bpf_prog_test_run_opts(fd, &opts) < 0)
		return -1;
	*out = opts.retval;
	return 0;
}

/*
 * What the kernel reports for this process while it sits in cgroup_dir;
 * false when BPF is not available here. Nothing in between may fail an
 * assertion: the process must get back to its cgroup.
 */
static bool bpf_cgroup_id(const char *cgroup_dir, const char *back,
			  uint64_t *id)
{
	int lo_fd = load_id_prog(0), hi_fd = load_id_prog(32);
	uint32_t lo = 0, hi = 0;
	bool ok = false;

	if (lo_fd >= 0 && hi_fd >= 0 && move_self(cgroup_dir) == 0) {
		ok = run_prog(lo_fd, &lo) == 0 && run_prog(hi_fd, &hi) == 0;
		if (move_self(back) < 0)
			ok = false;
	}
	if (lo_fd >= 0)
		close(lo_fd);
	if (hi_fd >= 0)
		close(hi_fd);
	*id = (uint64_t)hi << 32 | lo;
	return ok;
}

static void test_id_cgroupfs(void **state)
{
	char cg[CG_LEN], root[PATH_MAX], own[PATH_MAX], back[PATH_MAX * 2];
	char err[AWF_ERR_LEN] = "";
	uint64_t kid = 0, id = 0, bid = 0;
	bool have_bpf;

	(void)state;
	if (!make_test_cgroup(cg, sizeof(cg)))
		return;
	assert_int_equal(cgroup_kernfs_id_at(AT_FDCWD, cg, &kid), 0);
	assert_int_equal(cgroup_id_at(AT_FDCWD, cg, &id, err, AWF_ERR_LEN), 0);
	assert_int_equal(id, kid);
	/* on 64-bit, the kernfs id is also the inode number */
	assert_int_equal(kid, ino(cg, ""));
	assert_int_equal(cgroup2_root(root, sizeof(root), err, AWF_ERR_LEN), 0);
	if (!own_cgroup(own, sizeof(own))) {
		have_bpf = false;
	} else {
		snprintf(back, sizeof(back), "%s%s", root, own);
		have_bpf = bpf_cgroup_id(cg, back, &bid);
	}
	rm(cg, "");
	if (!have_bpf) {
		print_message("bpf_get_current_cgroup_id check skipped: "
			      "no BPF here (needs root)\n");
		return;
	}
	assert_int_equal(bid, kid);
}

/* ---- walk ---- */

struct seen {
	char rel[64][PATH_MAX / 16];
	unsigned int depth[64];
	uint64_t id[64];
	size_t n;
	const char *stop_at;
};

static int on_dir(const char *rel, uint64_t id, unsigned int depth, void *ctx)
{
	struct seen *s = ctx;

	if (s->stop_at && strcmp(rel, s->stop_at) == 0)
		return -1;
	if (s->n < 64) {
		snprintf(s->rel[s->n], sizeof(s->rel[0]), "%s", rel);
		s->depth[s->n] = depth;
		s->id[s->n] = id;
	}
	s->n++;
	return 0;
}

static ssize_t seen_index(const struct seen *s, const char *rel)
{
	for (size_t i = 0; i < s->n && i < 64; i++)
		if (strcmp(s->rel[i], rel) == 0)
			return (ssize_t)i;
	return -1;
}

static void test_walk(void **state)
{
	static const char *const dirs[] = { "/a", "/a/b", "/a/b/c", "/d" };
	static const unsigned int depths[] = { 1, 2, 3, 1 };
	char root[64], path[PATH_MAX], err[AWF_ERR_LEN] = "";
	struct seen s = { 0 };
	int fd;

	(void)state;
	temp_root(root);
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		mk(root, dirs[i]);
	snprintf(path, sizeof(path), "%s/file", root);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	close(fd);
	snprintf(path, sizeof(path), "%s/link", root);
	assert_int_equal(symlink("a", path), 0);

	assert_int_equal(cgroup_tree_walk(root, on_dir, &s, err, AWF_ERR_LEN),
			 0);
	assert_int_equal(s.n, 5);
	assert_string_equal(s.rel[0], "/");
	assert_int_equal(s.depth[0], 0);
	assert_int_equal(s.id[0], ino(root, ""));
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		ssize_t at = seen_index(&s, dirs[i]);

		assert_true(at > 0);
		assert_int_equal(s.depth[at], depths[i]);
		assert_int_equal(s.id[at], ino(root, dirs[i]));
	}
	/* parents first */
	assert_true(seen_index(&s, "/a") < seen_index(&s, "/a/b"));
	assert_true(seen_index(&s, "/a/b") < seen_index(&s, "/a/b/c"));

	/* a negative return stops it */
	memset(&s, 0, sizeof(s));
	s.stop_at = "/a/b";
	assert_int_equal(cgroup_tree_walk(root, on_dir, &s, err, AWF_ERR_LEN),
			 -1);
	assert_int_equal(seen_index(&s, "/a/b/c"), -1);

	remove_at(AT_FDCWD, root);
	assert_int_equal(cgroup_tree_walk(root, on_dir, &s, err, AWF_ERR_LEN),
			 -1);
	snprintf(path, sizeof(path), "open %s: No such file or directory",
		 root);
	assert_err_has(err, path);
}

static int count_dir(const char *rel, uint64_t id, unsigned int depth,
		     void *ctx)
{
	unsigned int *max_depth = ctx;

	(void)rel;
	(void)id;
	if (depth > *max_depth)
		*max_depth = depth;
	return 0;
}

/* 66 levels below the root: 64 are walked, one is counted as left out. */
static void test_walk_depth(void **state)
{
	char root[64], rel[PATH_MAX] = "", err[AWF_ERR_LEN] = "";
	unsigned int max_depth = 0;

	(void)state;
	temp_root(root);
	for (int i = 0; i < 66; i++) {
		strcat(rel, "/x");
		mk(root, rel);
	}
	assert_int_equal(
		cgroup_tree_walk(root, count_dir, &max_depth, err, AWF_ERR_LEN),
		1);
	assert_int_equal(max_depth, CGROUP_TREE_MAX_DEPTH);
	remove_at(AT_FDCWD, root);
}

/* Paths that would exceed PATH_MAX are left out, not an error. */
static void test_walk_long_path(void **state)
{
	char root[64], name[256], err[AWF_ERR_LEN] = "";
	unsigned int max_depth = 0;
	int fd, next;

	(void)state;
	temp_root(root);
	memset(name, 'n', 255);
	name[255] = '\0';
	fd = open(root, O_RDONLY | O_DIRECTORY);
	for (int i = 0; i < 17; i++) {
		assert_int_equal(mkdirat(fd, name, 0755), 0);
		next = openat(fd, name, O_RDONLY | O_DIRECTORY);
		assert_true(next >= 0);
		close(fd);
		fd = next;
	}
	close(fd);
	/* "/" + 255 bytes per level: level 16 would need 4096 bytes */
	assert_int_equal(
		cgroup_tree_walk(root, count_dir, &max_depth, err, AWF_ERR_LEN),
		1);
	assert_int_equal(max_depth, 15);
	remove_at(AT_FDCWD, root);
}

/* ---- watcher ---- */

struct event {
	enum cgroup_watch_kind kind;
	char rel[256];
	uint64_t id;
};

struct events {
	struct event v[64];
	size_t n;
};

static void on_event(enum cgroup_watch_kind kind, const char *rel, uint64_t id,
		     void *ctx)
{
	struct events *e = ctx;

	if (e->n < ARRAY_SIZE(e->v)) {
		e->v[e->n].kind = kind;
		snprintf(e->v[e->n].rel, sizeof(e->v[0].rel), "%s", rel);
		e->v[e->n].id = id;
	}
	e->n++;
}

static const char *kind_name(enum cgroup_watch_kind k)
{
	return k == CGROUP_CREATED ? "CREATED" :
	       k == CGROUP_REMOVED ? "REMOVED" :
				     "RESCAN";
}

/* The events of one read, as "KIND rel" lines, against want. */
static void expect(struct cgroup_watch *w, const char *want)
{
	char got[2048] = "", err[AWF_ERR_LEN] = "";
	struct events e = { 0 };
	size_t off = 0;

	if (cgroup_watch_read(w, on_event, &e, err, AWF_ERR_LEN) < 0)
		print_error("cgroup_watch_read: %s\n", err);
	for (size_t i = 0; i < e.n && i < ARRAY_SIZE(e.v); i++)
		off += (size_t)snprintf(got + off, sizeof(got) - off, "%s %s\n",
					kind_name(e.v[i].kind), e.v[i].rel);
	if (strcmp(got, want) != 0)
		print_error("got:\n%swant:\n%s", got, want);
	assert_string_equal(got, want);
}

/* One read that must bring n events; their ids. */
static size_t read_ids(struct cgroup_watch *w, uint64_t *ids, size_t n)
{
	char err[AWF_ERR_LEN] = "";
	struct events e = { 0 };

	assert_int_equal(cgroup_watch_read(w, on_event, &e, err, AWF_ERR_LEN),
			 0);
	assert_int_equal(e.n, n);
	for (size_t i = 0; i < n; i++)
		ids[i] = e.v[i].id;
	return e.n;
}

static void test_watch(void **state)
{
	char root[64], path[PATH_MAX], err[AWF_ERR_LEN] = "";
	uint64_t ids[3], c_id;
	struct cgroup_watch *w;
	int fd;

	(void)state;
	temp_root(root);
	mk(root, "/old");
	w = cgroup_watch_open(root, err, AWF_ERR_LEN);
	assert_non_null(w);
	assert_true(cgroup_watch_fd(w) >= 0);
	/* what was there at open is not reported */
	expect(w, "");

	/* a directory made right after its parent, before any read */
	mk(root, "/a");
	mk(root, "/a/b");
	mk(root, "/a/b/c");
	mk(root, "/old/n");
	expect(w, "CREATED /a\nCREATED /a/b\nCREATED /a/b/c\nCREATED /old/n\n");
	c_id = ino(root, "/a/b/c");

	/* files and links are no cgroups */
	snprintf(path, sizeof(path), "%s/a/file", root);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	close(fd);
	snprintf(path, sizeof(path), "%s/a/link", root);
	assert_int_equal(symlink("b", path), 0);
	expect(w, "");

	mk(root, "/d");
	rm(root, "/a/b/c");
	assert_int_equal(read_ids(w, ids, 2), 2);
	assert_int_equal(ids[0], ino(root, "/d"));
	assert_int_equal(ids[1], c_id); /* the id it was created with */

	/* a name taken again by a new directory: two events, two ids */
	rm(root, "/d");
	mk(root, "/d");
	expect(w, "REMOVED /d\nCREATED /d\n");

	/* a move: resynchronized, the differences reported, then RESCAN */
	snprintf(path, sizeof(path), "%s/a", root);
	{
		char to[PATH_MAX];

		snprintf(to, sizeof(to), "%s/z", root);
		assert_int_equal(rename(path, to), 0);
	}
	expect(w,
	       "REMOVED /a\nCREATED /z\nREMOVED /a/b\nCREATED /z/b\nRESCAN /\n");
	mk(root, "/z/b/new");
	expect(w, "CREATED /z/b/new\n");

	/* the root itself going away */
	remove_at(AT_FDCWD, root);
	{
		struct events e = { 0 };
		bool root_gone = false;

		assert_int_equal(
			cgroup_watch_read(w, on_event, &e, err, AWF_ERR_LEN),
			0);
		for (size_t i = 0; i < e.n; i++) {
			assert_int_equal(e.v[i].kind, CGROUP_REMOVED);
			root_gone |= strcmp(e.v[i].rel, "/") == 0;
		}
		assert_true(root_gone);
		/* /z, /z/b, /z/b/new, /old, /old/n, /d and / */
		assert_int_equal(e.n, 7);
	}
	expect(w, "");
	cgroup_watch_close(w);
}

static void test_watch_limit(void **state)
{
	char root[64], err[AWF_ERR_LEN] = "";
	struct events e = { 0 };
	struct cgroup_watch *w;

	(void)state;
	temp_root(root);
	w = cgroup_watch_open(root, err, AWF_ERR_LEN);
	assert_non_null(w);
	cgroup_watch_set_limit(w, 3); /* the root is one */
	mk(root, "/x1");
	mk(root, "/x2");
	mk(root, "/x3");
	assert_int_equal(cgroup_watch_read(w, on_event, &e, err, AWF_ERR_LEN),
			 -1);
	assert_err_has(err, "/x3: more than 3 cgroup directories to watch");
	assert_int_equal(e.n, 2);
	/* the next read starts over from what is there */
	cgroup_watch_set_limit(w, CGROUP_WATCH_MAX);
	expect(w, "CREATED /x3\nRESCAN /\n");
	cgroup_watch_close(w);
	remove_at(AT_FDCWD, root);

	assert_null(cgroup_watch_open(root, err, AWF_ERR_LEN));
	assert_err_has(err, "No such file or directory");
}

/* inotify on cgroupfs, with kernfs ids. */
static void test_watch_cgroupfs(void **state)
{
	char cg[CG_LEN], err[AWF_ERR_LEN] = "";
	struct cgroup_watch *w;
	uint64_t ids[2];

	(void)state;
	if (!make_test_cgroup(cg, sizeof(cg)))
		return;
	w = cgroup_watch_open(cg, err, AWF_ERR_LEN);
	if (!w)
		rm(cg, "");
	assert_non_null(w);
	mk(cg, "/c");
	mk(cg, "/c/g");
	assert_int_equal(read_ids(w, ids, 2), 2);
	assert_int_equal(ids[0], ino(cg, "/c"));
	assert_int_equal(ids[1], ino(cg, "/c/g"));
	rm(cg, "/c/g");
	rm(cg, "/c");
	expect(w, "REMOVED /c/g\nREMOVED /c\n");
	cgroup_watch_close(w);
	rm(cg, "");
}

int main(void)
{
	struct test_list l = { 0 };

	TL_ROWS(&l, test_check, check_rows);
	TL_ROWS(&l, test_join, join_rows);
	tl_add(&l, "id of a plain directory", test_id_plain_dir, NULL);
	tl_add(&l, "id on cgroupfs", test_id_cgroupfs, NULL);
	tl_add(&l, "walk", test_walk, NULL);
	tl_add(&l, "walk depth bound", test_walk_depth, NULL);
	tl_add(&l, "walk path length bound", test_walk_long_path, NULL);
	tl_add(&l, "watch", test_watch, NULL);
	tl_add(&l, "watch bound", test_watch_limit, NULL);
	tl_add(&l, "watch on cgroupfs", test_watch_cgroupfs, NULL);
	return tl_run("cgroup_tree", &l);
}
