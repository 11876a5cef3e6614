/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * pins.h - the maps of a running sandbox, pinned in bpffs so that `awf-bpf
 * dump` and `status` can read them without its awf-bpf process:
 *
 *   /sys/fs/bpf/awf-bpf/            0700, created on first use
 *   /sys/fs/bpf/awf-bpf/run-<pid>/  0700, one per sandbox, <pid> its awf-bpf
 *       meta domains names cidr4 cidr6 cidr_exact4 cidr_exact6 cidr_ports
 *       learned4 learned6 sk_state counters
 *
 * sk_state (the sockets' state) is pinned for `dump`, which finds the
 * loopback ports the sandbox serves in its sockets
 * (user/audit/served_ports.h). bpffs is mounted at /sys/fs/bpf when
 * nothing is. The directory goes at exit, also after a failed set-up; the
 * directory of a sandbox whose awf-bpf is gone (killed) is removed by the
 * next run or `awf-bpf gc` (run/gc.h). The workload never sees bpffs
 * (spawn.c covers it in its mount namespace).
 */
#ifndef AWF_PINS_H
#define AWF_PINS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/paths.h"

#define PINS_N_MAPS 12

/* The pinned maps, in the order they are pinned (meta first). */
extern const char *const pins_maps[PINS_N_MAPS];

struct pins {
	char dir[PATH_MAX]; /* "" while nothing is pinned */
};

/* fd_of(ctx, name): the fd of the map called name. */
typedef int (*pins_fd_of)(const void *ctx, const char *name);

int pins_create(struct pins *p, const char *sandbox, pins_fd_of fd_of,
		const void *ctx, char *err, size_t errlen);
/* Unpin everything and remove the directory; nothing pinned is fine. */
void pins_remove(struct pins *p);

/* bpffs at AWF_BPFFS, mounted when nothing is. */
int pins_ensure_bpffs(char *err, size_t errlen);
/* mkdir 0700; an existing directory is fine. */
int pins_make_dir(const char *path, char *err, size_t errlen);
/* Unlink every entry of path (pins only), then path itself. */
int pins_remove_dir(const char *path);

/* "run-<digits>": the only names awf-bpf makes or reads in AWF_PIN_ROOT. */
bool pins_valid_id(const char *id);

#endif /* AWF_PINS_H */
