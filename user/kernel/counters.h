/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * counters.h - the per-sandbox counters map (per-CPU array, enum
 * awf_counter): read as sums over every CPU; the slots that belong to
 * user space (DNS decisions) are written whole, in CPU 0's slot.
 */
#ifndef AWF_COUNTERS_H
#define AWF_COUNTERS_H

#include <stdint.h>
#include <json-c/json.h>

#include "awf.h"

/* Sums of every slot into out[AWF_C_MAX]; -1 with errno on failure. */
int counters_read(int map_fd, uint64_t *out);
/* One slot, summed: one syscall instead of AWF_C_MAX. */
int counters_read_one(int map_fd, uint32_t idx, uint64_t *out);
/* Set a user-space slot (never one the programs count in). */
int counters_store(int map_fd, uint32_t idx, uint64_t value);

/*
 * {"connect_allowed": N, ..., "denied_by_reason": {"not_in_policy": N}}:
 * every named counter, the reasons only where non-zero.
 */
json_object *counters_to_json(const uint64_t *c);
/* The reverse, for an audit log's "end" line: unknown keys are skipped. */
void counters_from_json(json_object *o, uint64_t *out);

#endif /* AWF_COUNTERS_H */
