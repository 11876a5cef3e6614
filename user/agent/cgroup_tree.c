// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cgroup_tree.c - cgroup ids, a bounded walk of a cgroup subtree and a
 * recursive inotify watcher over it. Every directory is opened once with
 * O_NOFOLLOW and everything about it (id, watch) is taken from that fd,
 * so that a directory replaced under the same name is never half one and
 * half the other.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <search.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/cgroup_tree.h"
#include "common/error.h"

/* include/linux/exportfs.h: the handle holds the 64-bit kernfs node id. */
#define FILEID_KERNFS 0xfe

/*
 * IN_MOVED_*: cgroup2 cannot rename, but a plain directory tree can; a
 * move makes the watcher resynchronize rather than patch paths.
 */
#define WATCH_MASK                                                \
	(IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_MOVED_FROM | \
	 IN_MOVED_TO | IN_ONLYDIR)
#define READ_BUF 65536
/* Per call: a flood of events must not keep the caller's loop here. */
#define MAX_READS 64

int cgroup_kernfs_id_at(int dirfd, const char *path, uint64_t *id)
{
	char buf[sizeof(struct file_handle) + MAX_HANDLE_SZ]
		__attribute__((aligned(8)));
	struct file_handle *fh = (struct file_handle *)buf;
	int mount_id;

	fh->handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(dirfd, path, fh, &mount_id,
			      *path ? 0 : AT_EMPTY_PATH) < 0)
		return -1;
	if (fh->handle_type != FILEID_KERNFS ||
	    fh->handle_bytes != sizeof(*id)) {
		errno = EOPNOTSUPP;
		return -1;
	}
	memcpy(id, fh->f_handle, sizeof(*id));
	return 0;
}

int cgroup_id_at(int dirfd, const char *path, uint64_t *id, char *err,
		 size_t errlen)
{
	struct stat st;

	if (cgroup_kernfs_id_at(dirfd, path, id) == 0)
		return 0;
	/* kernfs_id_ino(): with a 64-bit ino_t the inode number is the id */
	if (fstatat(dirfd, path, &st,
		    AT_SYMLINK_NOFOLLOW | (*path ? 0 : AT_EMPTY_PATH)) < 0) {
		if (*path)
			return set_err(err, errlen, "stat %s: %s", path,
				       strerror(errno));
		return set_err(err, errlen, "fstat: %s", strerror(errno));
	}
	*id = st.st_ino;
	return 0;
}

static int component_check(const char *c, size_t len, char *why, size_t whylen)
{
	if (len == 0)
		return set_err(
			why, whylen,
			"has an empty component (\"//\" or a trailing \"/\")");
	if ((len == 1 && c[0] == '.') ||
	    (len == 2 && c[0] == '.' && c[1] == '.'))
		return set_err(why, whylen,
			       "must not contain \".\" or \"..\" components");
	return 0;
}

int cgroup_path_check(const char *path, size_t len_max, char *why,
		      size_t whylen)
{
	const char *c = path + 1, *slash;

	if (path[0] != '/')
		return set_err(
			why, whylen,
			"must be an absolute cgroup path (starting with \"/\", the cgroup2 root)");
	if (strlen(path) >= len_max)
		return set_err(why, whylen, "longer than %zu bytes",
			       len_max - 1);
	if (!*c)
		return 0;
	for (;; c = slash + 1) {
		slash = strchr(c, '/');
		if (component_check(c, slash ? (size_t)(slash - c) : strlen(c),
				    why, whylen) < 0)
			return -1;
		if (!slash)
			return 0;
	}
}

int cgroup_path_join(char *out, size_t outlen, const char *base,
		     const char *rel)
{
	int n;

	if (strcmp(rel, "/") == 0)
		n = snprintf(out, outlen, "%s", base);
	else if (strcmp(base, "/") == 0)
		n = snprintf(out, outlen, "%s", rel);
	else
		n = snprintf(out, outlen, "%s%s", base, rel);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/*
 * The walk shared by cgroup_tree_walk() and the watcher. visit sees each
 * directory (its path in rel) with an fd it must not close; it returns
 * <0 to stop, 1 to skip the directory's subtree, 0 to go on.
 */
struct walk {
	int (*visit)(struct walk *wk, int fd, unsigned int depth);
	const char *root;
	char rel[PATH_MAX];
	size_t skipped;
	char *err;
	size_t errlen;
};

/* The absolute path of wk->rel, for messages only. */
static const char *walk_where(const struct walk *wk, char *buf, size_t len)
{
	if (cgroup_path_join(buf, len, wk->root, wk->rel) < 0)
		snprintf(buf, len, "%s/...", wk->root);
	return buf;
}

/* Out of line: the walk recurses, and this buffer should not. */
__attribute__((noinline)) static int walk_fail(struct walk *wk,
					       const char *what, int errnum)
{
	char where[PATH_MAX];

	return set_err(wk->err, wk->errlen, "%s %s: %s", what,
		       walk_where(wk, where, sizeof(where)), strerror(errnum));
}

static int walk_dir(struct walk *wk, int fd, size_t rel_len,
		    unsigned int depth);

/* Appends "/name" to wk->rel; false when it would not fit (left out). */
static bool rel_push(struct walk *wk, size_t rel_len, const char *name)
{
	size_t base = rel_len == 1 ? 0 : rel_len; /* "/" + "a" is "/a" */
	int n = snprintf(wk->rel + base, sizeof(wk->rel) - base, "/%s", name);

	if (n < 0 || (size_t)n >= sizeof(wk->rel) - base) {
		wk->rel[rel_len] = '\0';
		return false;
	}
	return true;
}

static bool is_dir_candidate(const struct dirent *de)
{
	if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
		return false;
	return strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
}

static int walk_child(struct walk *wk, DIR *d, const char *name, size_t rel_len,
		      unsigned int depth)
{
	int fd, rc;

	if (depth >= CGROUP_TREE_MAX_DEPTH || !rel_push(wk, rel_len, name)) {
		wk->skipped++;
		return 0;
	}
	fd = openat(dirfd(d), name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		/* removed meanwhile, a file, or a symbolic link */
		if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) {
			wk->rel[rel_len] = '\0';
			return 0;
		}
		rc = walk_fail(wk, "open", errno);
		wk->rel[rel_len] = '\0';
		return rc;
	}
	rc = walk_dir(wk, fd, strlen(wk->rel), depth + 1);
	wk->rel[rel_len] = '\0';
	return rc;
}

static int walk_children(struct walk *wk, int fd, size_t rel_len,
			 unsigned int depth)
{
	struct dirent *de;
	DIR *d = fdopendir(fd);

	if (!d) {
		walk_fail(wk, "opendir", errno);
		close(fd);
		return -1;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de)
			break;
		if (is_dir_candidate(de) &&
		    walk_child(wk, d, de->d_name, rel_len, depth) < 0) {
			closedir(d);
			return -1;
		}
	}
	/* a directory removed while being read simply ends */
	if (errno && errno != ENOENT) {
		walk_fail(wk, "readdir", errno);
		closedir(d);
		return -1;
	}
	closedir(d);
	return 0;
}

/* Takes fd over. */
static int walk_dir(struct walk *wk, int fd, size_t rel_len, unsigned int depth)
{
	int rc = wk->visit(wk, fd, depth);

	if (rc != 0) {
		close(fd);
		return rc < 0 ? -1 : 0;
	}
	return walk_children(wk, fd, rel_len, depth);
}

static int open_dir(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		set_err(err, errlen, "open %s: %s", path, strerror(errno));
	return fd;
}

/* Walks root (or, for the watcher, a directory under it) from fd. */
static int walk_from(struct walk *wk, int fd, const char *rel,
		     unsigned int depth)
{
	snprintf(wk->rel, sizeof(wk->rel), "%s", rel);
	return walk_dir(wk, fd, strlen(wk->rel), depth);
}

struct tree_walk {
	struct walk wk; /* first: visit gets it back */
	cgroup_walk_fn cb;
	void *ctx;
};

/* The id of the directory open as fd, with where it is in a message. */
static int id_of_fd(int fd, const char *where, uint64_t *id, char *err,
		    size_t errlen)
{
	char why[AWF_ERR_LEN];

	if (cgroup_id_at(fd, "", id, why, sizeof(why)) < 0)
		return set_err(err, errlen, "%s: %s", where, why);
	return 0;
}

static int tree_visit(struct walk *wk, int fd, unsigned int depth)
{
	struct tree_walk *tw = (struct tree_walk *)wk;
	char where[PATH_MAX];
	uint64_t id;

	if (id_of_fd(fd, walk_where(wk, where, sizeof(where)), &id, wk->err,
		     wk->errlen) < 0)
		return -1;
	return tw->cb(wk->rel, id, depth, tw->ctx) < 0 ? -1 : 0;
}

int cgroup_tree_walk(const char *root, cgroup_walk_fn cb, void *ctx, char *err,
		     size_t errlen)
{
	struct tree_walk tw = { .wk = { .visit = tree_visit,
					.root = root,
					.err = err,
					.errlen = errlen },
				.cb = cb,
				.ctx = ctx };
	int fd = open_dir(root, err, errlen);

	if (fd < 0)
		return -1;
	if (walk_from(&tw.wk, fd, "/", 0) < 0)
		return -1;
	return tw.wk.skipped > INT_MAX ? INT_MAX : (int)tw.wk.skipped;
}

/* One watched directory. */
struct watch_ent {
	struct watch_ent *prev, *next; /* all of them, for a resync */
	int wd;
	unsigned int depth;
	/*
	 * In by_rel under rel: reported CREATED (or there at open) and not
	 * REMOVED. An entry stays in by_wd until its IN_IGNORED arrives.
	 */
	bool named;
	bool stale; /* during a resync: not seen again yet */
	uint64_t id;
	char *rel;
};

struct cgroup_watch {
	int fd;
	char *root;
	void *by_wd, *by_rel; /* tsearch trees of struct watch_ent */
	struct watch_ent all; /* list head */
	size_t n, max;
	bool resync; /* events were lost: resynchronize before reading on */
	cgroup_watch_fn cb; /* during cgroup_watch_read() only */
	void *ctx;
};

static int cmp_wd(const void *a, const void *b)
{
	const struct watch_ent *x = a, *y = b;

	return (x->wd > y->wd) - (x->wd < y->wd);
}

static int cmp_rel(const void *a, const void *b)
{
	return strcmp(((const struct watch_ent *)a)->rel,
		      ((const struct watch_ent *)b)->rel);
}

static struct watch_ent *find_wd(struct cgroup_watch *w, int wd)
{
	struct watch_ent key = { .wd = wd };
	void *node = tfind(&key, &w->by_wd, cmp_wd);

	return node ? *(struct watch_ent **)node : NULL;
}

static struct watch_ent *find_rel(struct cgroup_watch *w, const char *rel)
{
	struct watch_ent key = { .rel = (char *)rel };
	void *node = tfind(&key, &w->by_rel, cmp_rel);

	return node ? *(struct watch_ent **)node : NULL;
}

static void report(struct cgroup_watch *w, enum cgroup_watch_kind kind,
		   const struct watch_ent *e)
{
	if (w->cb)
		w->cb(kind, e->rel, e->id, w->ctx);
}

static void ent_unname(struct cgroup_watch *w, struct watch_ent *e)
{
	tdelete(e, &w->by_rel, cmp_rel);
	e->named = false;
	report(w, CGROUP_REMOVED, e);
}

/* e now stands for rel; whatever stood for rel before was replaced. */
static int ent_name(struct cgroup_watch *w, struct watch_ent *e,
		    const char *rel, char *err, size_t errlen)
{
	struct watch_ent *old = find_rel(w, rel);
	char *copy = strdup(rel);

	if (!copy)
		return set_err(err, errlen, "out of memory");
	if (old)
		ent_unname(w, old);
	free(e->rel);
	e->rel = copy;
	if (!tsearch(e, &w->by_rel, cmp_rel))
		return set_err(err, errlen, "out of memory");
	e->named = true;
	report(w, CGROUP_CREATED, e);
	return 0;
}

static void drop(struct cgroup_watch *w, struct watch_ent *e)
{
	if (e->named)
		ent_unname(w, e);
	tdelete(e, &w->by_wd, cmp_wd);
	e->prev->next = e->next;
	e->next->prev = e->prev;
	w->n--;
	free(e->rel);
	free(e);
}

static struct watch_ent *ent_new(struct cgroup_watch *w, int wd, uint64_t id,
				 unsigned int depth)
{
	struct watch_ent *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->wd = wd;
	e->id = id;
	e->depth = depth;
	if (!tsearch(e, &w->by_wd, cmp_wd)) {
		free(e);
		return NULL;
	}
	e->next = &w->all;
	e->prev = w->all.prev;
	w->all.prev->next = e;
	w->all.prev = e;
	w->n++;
	return e;
}

/*
 * A watch through /proc/self/fd binds the inode fd holds, not whatever
 * the path names by now.
 */
static int add_watch(struct cgroup_watch *w, int fd, const char *where,
		     char *err, size_t errlen)
{
	char proc[32];
	int wd;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	wd = inotify_add_watch(w->fd, proc, WATCH_MASK);
	if (wd >= 0)
		return wd;
	if (errno == ENOSPC)
		return set_err(
			err, errlen,
			"inotify_add_watch %s: %s (raise fs.inotify.max_user_watches)",
			where, strerror(errno));
	return set_err(err, errlen, "inotify_add_watch %s: %s", where,
		       strerror(errno));
}

static struct watch_ent *track_new(struct cgroup_watch *w, int fd, int wd,
				   unsigned int depth, const char *where,
				   char *err, size_t errlen)
{
	struct watch_ent *e = NULL;
	uint64_t id;

	if (w->n >= w->max)
		set_err(err, errlen,
			"%s: more than %zu cgroup directories to watch", where,
			w->max);
	else if (id_of_fd(fd, where, &id, err, errlen) == 0 &&
		 !(e = ent_new(w, wd, id, depth)))
		set_err(err, errlen, "out of memory");
	if (!e)
		inotify_rm_watch(w->fd, wd);
	return e;
}

/*
 * Watches the directory of fd at rel and reports it if it is new (or
 * moved here). 1 when it was watched under rel already: its subtree is
 * known too.
 */
static int track(struct cgroup_watch *w, int fd, const char *rel,
		 unsigned int depth, const char *where, char *err,
		 size_t errlen)
{
	int wd = add_watch(w, fd, where, err, errlen);
	struct watch_ent *e;

	if (wd < 0)
		return -1;
	e = find_wd(w, wd);
	if (e) {
		e->stale = false;
		e->depth = depth;
		if (e->named && strcmp(e->rel, rel) == 0)
			return 1;
		if (e->named)
			ent_unname(w, e);
	} else {
		e = track_new(w, fd, wd, depth, where, err, errlen);
		if (!e)
			return -1;
	}
	return ent_name(w, e, rel, err, errlen);
}

struct watch_walk {
	struct walk wk; /* first: visit gets it back */
	struct cgroup_watch *w;
	bool resync; /* visit every directory, even known ones */
};

static int watch_visit(struct walk *wk, int fd, unsigned int depth)
{
	struct watch_walk *ww = (struct watch_walk *)wk;
	char where[PATH_MAX];
	int rc;

	rc = track(ww->w, fd, wk->rel, depth,
		   walk_where(wk, where, sizeof(where)), wk->err, wk->errlen);
	return rc > 0 && ww->resync ? 0 : rc;
}

static int watch_walk(struct cgroup_watch *w, int fd, const char *rel,
		      unsigned int depth, bool resync, char *err, size_t errlen)
{
	struct watch_walk ww = { .wk = { .visit = watch_visit,
					 .root = w->root,
					 .err = err,
					 .errlen = errlen },
				 .w = w,
				 .resync = resync };

	return walk_from(&ww.wk, fd, rel, depth);
}

/*
 * Mark and sweep: watch whatever is there now, then forget what was not
 * seen. Paths that changed are reported as REMOVED then CREATED.
 */
static int resync(struct cgroup_watch *w, char *err, size_t errlen)
{
	struct watch_ent *e, *next;
	int fd;

	for (e = w->all.next; e != &w->all; e = e->next)
		e->stale = true;
	fd = open(w->root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno != ENOENT)
		return set_err(err, errlen, "open %s: %s", w->root,
			       strerror(errno));
	if (fd >= 0 && watch_walk(w, fd, "/", 0, true, err, errlen) < 0)
		return -1;
	for (e = w->all.next; e != &w->all; e = next) {
		next = e->next;
		if (!e->stale)
			continue;
		/* a wd just removed is not handed out again soon (cyclic) */
		inotify_rm_watch(w->fd, e->wd);
		drop(w, e);
	}
	w->resync = false;
	return 0;
}

struct cgroup_watch *cgroup_watch_open(const char *root, char *err,
				       size_t errlen)
{
	struct cgroup_watch *w = calloc(1, sizeof(*w));
	int fd;

	if (!w || !(w->root = strdup(root))) {
		free(w);
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	w->all.next = w->all.prev = &w->all;
	w->max = CGROUP_WATCH_MAX;
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0) {
		set_err(err, errlen, "inotify_init1: %s", strerror(errno));
		cgroup_watch_close(w);
		return NULL;
	}
	fd = open_dir(root, err, errlen);
	if (fd < 0 || watch_walk(w, fd, "/", 0, true, err, errlen) < 0) {
		cgroup_watch_close(w);
		return NULL;
	}
	return w;
}

static void no_free(void *p)
{
	(void)p;
}

void cgroup_watch_close(struct cgroup_watch *w)
{
	struct watch_ent *e, *next;

	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	tdestroy(w->by_rel, no_free);
	tdestroy(w->by_wd, no_free);
	for (e = w->all.next; e && e != &w->all; e = next) {
		next = e->next;
		free(e->rel);
		free(e);
	}
	free(w->root);
	free(w);
}

int cgroup_watch_fd(const struct cgroup_watch *w)
{
	return w->fd;
}

void cgroup_watch_set_limit(struct cgroup_watch *w, size_t max_watches)
{
	w->max = max_watches;
}

/* The directory at rel (under a watched parent) was created. */
static int child_created(struct cgroup_watch *w, const char *rel,
			 unsigned int depth, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int fd;

	if (depth > CGROUP_TREE_MAX_DEPTH ||
	    cgroup_path_join(path, sizeof(path), w->root, rel) < 0)
		return 0; /* left out, as a walk would */
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
			return 0; /* gone already */
		return set_err(err, errlen, "open %s: %s", path,
			       strerror(errno));
	}
	/* what was made inside before the watch existed sent no event */
	return watch_walk(w, fd, rel, depth, false, err, errlen);
}

/*
 * The directory at rel was removed. A stale event (the name has been
 * taken again by the directory the entry now stands for) is passed over.
 */
static void child_removed(struct cgroup_watch *w, const char *rel)
{
	struct watch_ent *e = find_rel(w, rel);
	char path[PATH_MAX], scratch[16];
	uint64_t id;

	if (!e)
		return;
	if (cgroup_path_join(path, sizeof(path), w->root, rel) == 0 &&
	    cgroup_id_at(AT_FDCWD, path, &id, scratch, sizeof(scratch)) == 0 &&
	    id == e->id)
		return;
	ent_unname(w, e);
}

static int child_event(struct cgroup_watch *w, const struct watch_ent *parent,
		       const struct inotify_event *ev, char *err, size_t errlen)
{
	char rel[PATH_MAX];
	int n;

	if (ev->mask & (IN_MOVED_FROM | IN_MOVED_TO)) {
		w->resync = true;
		return 0;
	}
	n = snprintf(rel, sizeof(rel), "%s/%s",
		     strcmp(parent->rel, "/") ? parent->rel : "", ev->name);
	if (n < 0 || (size_t)n >= sizeof(rel))
		return 0; /* left out, as a walk would */
	if (ev->mask & IN_DELETE) {
		child_removed(w, rel);
		return 0;
	}
	if (ev->mask & IN_CREATE)
		return child_created(w, rel, parent->depth + 1, err, errlen);
	return 0;
}

static int handle_event(struct cgroup_watch *w, const struct inotify_event *ev,
			char *err, size_t errlen)
{
	struct watch_ent *e;

	if (ev->mask & IN_Q_OVERFLOW) {
		w->resync = true;
		return 0;
	}
	e = find_wd(w, ev->wd);
	if (!e)
		return 0; /* a watch already forgotten */
	if (ev->mask & IN_IGNORED) {
		drop(w, e);
		return 0;
	}
	if (ev->mask & (IN_DELETE_SELF | IN_UNMOUNT)) {
		if (e->named)
			ent_unname(w, e);
		return 0;
	}
	/* files come and go in every cgroup; an unnamed entry has left */
	if (!(ev->mask & IN_ISDIR) || !ev->len || !e->named)
		return 0;
	return child_event(w, e, ev, err, errlen);
}

static int handle_buffer(struct cgroup_watch *w, const char *buf, size_t len,
			 char *err, size_t errlen)
{
	const struct inotify_event *ev;

	for (size_t off = 0; off + sizeof(*ev) <= len;
	     off += sizeof(*ev) + ev->len) {
		ev = (const struct inotify_event *)(buf + off);
		if (handle_event(w, ev, err, errlen) < 0)
			return -1;
	}
	return 0;
}

static int read_events(struct cgroup_watch *w, char *err, size_t errlen)
{
	char buf[READ_BUF]
		__attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	for (int i = 0; i < MAX_READS; i++) {
		n = read(w->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0)
			return set_err(err, errlen, "read inotify (%s): %s",
				       w->root, strerror(errno));
		if (n == 0)
			return 0;
		if (handle_buffer(w, buf, (size_t)n, err, errlen) < 0)
			return -1;
	}
	return 0;
}

static void report_rescan(struct cgroup_watch *w)
{
	const struct watch_ent root = { .rel = "/" };

	report(w, CGROUP_RESCAN, &root);
}

int cgroup_watch_read(struct cgroup_watch *w, cgroup_watch_fn cb, void *ctx,
		      char *err, size_t errlen)
{
	bool rescanned = false;
	int rc = 0;

	w->cb = cb;
	w->ctx = ctx;
	for (int pass = 0; pass < 2 && rc == 0; pass++) {
		if (w->resync) {
			rc = resync(w, err, errlen);
			rescanned = rc == 0;
		}
		if (pass == 0 && rc == 0)
			rc = read_events(w, err, errlen);
	}
	if (rc < 0)
		w->resync = true; /* events were dropped with the error */
	else if (rescanned)
		report_rescan(w);
	w->cb = NULL;
	w->ctx = NULL;
	return rc;
}
