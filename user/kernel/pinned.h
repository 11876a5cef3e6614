/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * pinned.h - the reading side of pins.h: open the pinned maps of a
 * sandbox read-only, list the sandboxes, tell whether one still runs.
 */
#ifndef AWF_PINNED_H
#define AWF_PINNED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "awf.h"
#include "kernel/pins.h"

struct pinned {
	char id[AWF_ID_LEN];
	int fds[PINS_N_MAPS]; /* -1: not pinned */
	bool has_meta;
	struct awf_meta meta;
};

/* -1 with a message when the sandbox has no pin directory. */
int pinned_open(struct pinned *p, const char *id, char *err, size_t errlen);
void pinned_close(struct pinned *p);
/* The fd of a pinned map by name, -1 if absent. */
int pinned_fd(const struct pinned *p, const char *map);

/* Sorted ids of every sandbox directory; *ids is freed by the caller. */
int pinned_list(char (**ids)[AWF_ID_LEN], size_t *n);

/* Whether the awf-bpf of the sandbox still runs (pid and start time). */
bool pinned_alive(const struct pinned *p);

/*
 * pinned_alive() of sandbox id without opening its maps; -1 when it has
 * no pin directory.
 */
int pinned_id_alive(const char *id, bool *alive);

/* Field 22 of /proc/<pid>/stat: tells a reused pid apart. */
int proc_start_ticks(pid_t pid, uint64_t *ticks);

#endif /* AWF_PINNED_H */
