/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * cgroup_tree.h - the cgroup v2 ids of directories, a bounded walk of a
 * cgroup subtree, and an inotify watcher that reports cgroups as they
 * come and go, for `awf-bpf agent`.
 *
 * Paths handed to callbacks ("rel paths") are relative to the root the
 * walk or watcher was given, and written as absolute cgroup paths: "/"
 * is that root, "/a/b" a descendant. When the root is the cgroup2 mount
 * they are exactly the paths policy selectors match; under an attach
 * point, cgroup_path_join() turns them into those.
 *
 * Functions that can fail take (err, errlen), write one line naming the
 * path and the failing call, and return -1.
 */
#ifndef AWF_CGROUP_TREE_H
#define AWF_CGROUP_TREE_H

#include <stddef.h>
#include <stdint.h>

/* Directories deeper than this below a walk's or watch's root are left out. */
#define CGROUP_TREE_MAX_DEPTH 64
/* Default bound on the directories one watcher follows. */
#define CGROUP_WATCH_MAX 65536

/*
 * The id bpf_get_current_cgroup_id() returns for a task in the cgroup at
 * path, resolved from dirfd like openat(); path "" means dirfd itself.
 * Symbolic links are not followed. Outside cgroupfs (or if file handles
 * are unavailable) this is the inode number, which is what the kernfs id
 * is on 64-bit kernels.
 */
int cgroup_id_at(int dirfd, const char *path, uint64_t *id, char *err,
		 size_t errlen);

/*
 * The kernfs file handle alone: 0 and the id when path is on a kernfs
 * file system (cgroupfs); -1 with errno set (EOPNOTSUPP: another file
 * system) otherwise. cgroup_id_at() is what callers want; this one lets
 * a test tell the two ways apart.
 */
int cgroup_kernfs_id_at(int dirfd, const char *path, uint64_t *id);

/*
 * Absolute cgroup path (or selector glob): starts with '/', no empty,
 * "." or ".." component, no trailing '/' (except "/" itself), shorter
 * than len_max. 0, or -1 with the reason (without the path) in why.
 */
int cgroup_path_check(const char *path, size_t len_max, char *why,
		      size_t whylen);

/*
 * out = base + rel for a rel path of a walk or watch rooted at base:
 * ("/awf-bpf", "/a") -> "/awf-bpf/a", ("/awf-bpf", "/") -> "/awf-bpf",
 * ("/", "/a") -> "/a". -1 if it does not fit in outlen.
 */
int cgroup_path_join(char *out, size_t outlen, const char *base,
		     const char *rel);

/*
 * Called for each directory: rel path, cgroup id, depth (0 for the root).
 * A negative return stops the walk, which then returns -1 with err as the
 * callback left it (ctx can carry the caller's own buffer).
 */
typedef int (*cgroup_walk_fn)(const char *rel_path, uint64_t id,
			      unsigned int depth, void *ctx);

/*
 * Depth first, parents before children, the root first; only
 * directories, no symbolic links. A directory removed during the walk is
 * passed over. Returns the number of directories left out (deeper than
 * CGROUP_TREE_MAX_DEPTH, or whose path would exceed PATH_MAX), or -1.
 */
int cgroup_tree_walk(const char *root, cgroup_walk_fn cb, void *ctx, char *err,
		     size_t errlen);

enum cgroup_watch_kind {
	CGROUP_CREATED, /* a new directory (or one that moved into view) */
	CGROUP_REMOVED, /* gone (or moved away); id as reported when created */
	/*
	 * Events were lost (the inotify queue overflowed) or directories
	 * moved: the watcher has resynchronized its watches and reported the
	 * differences it saw, but the caller should re-walk to be sure.
	 * rel_path is "/", id 0.
	 */
	CGROUP_RESCAN,
};

typedef void (*cgroup_watch_fn)(enum cgroup_watch_kind kind,
				const char *rel_path, uint64_t id, void *ctx);

struct cgroup_watch;

/*
 * Watches every directory under root (not deeper than
 * CGROUP_TREE_MAX_DEPTH). Nothing is reported for what exists already:
 * open the watcher first, then walk, so that a directory created in
 * between is seen (perhaps twice: CREATED must be idempotent for the
 * caller). NULL with err on failure.
 */
struct cgroup_watch *cgroup_watch_open(const char *root, char *err,
				       size_t errlen);
void cgroup_watch_close(struct cgroup_watch *w);

/* Non-blocking inotify fd, to poll for EPOLLIN. */
int cgroup_watch_fd(const struct cgroup_watch *w);

/*
 * Reads what is queued (without blocking) and reports it in order,
 * parents before children. A new directory's own subdirectories, made
 * before its watch existed, are found by walking it. A directory that was
 * gone before it could be watched is reported neither way. Returns 0, or
 * -1 (too many directories, inotify limits, ...): the next call then
 * starts with a resynchronization and a RESCAN.
 */
int cgroup_watch_read(struct cgroup_watch *w, cgroup_watch_fn cb, void *ctx,
		      char *err, size_t errlen);

/* Lowers the watch bound (CGROUP_WATCH_MAX), for tests. */
void cgroup_watch_set_limit(struct cgroup_watch *w, size_t max_watches);

#endif /* AWF_CGROUP_TREE_H */
