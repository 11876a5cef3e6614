/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * dump_json.h - one sandbox as `awf-bpf dump --json` and `status --json`
 * print it, read from its pins alone (docs/dump.md). The text forms are
 * rendered from this object, so both always say the same.
 */
#ifndef AWF_DUMP_JSON_H
#define AWF_DUMP_JSON_H

#include <stdbool.h>
#include <json-c/json.h>

#include "pinned.h"

#define DUMP_FORMAT_VERSION 1

/*
 * full: with the policy, CIDR entries, learned addresses and loopback
 * ports; otherwise only who, what, since when and the counters (status).
 * NULL when out of memory.
 */
json_object *dump_sandbox_json(const struct pinned *p, bool full);

#endif /* AWF_DUMP_JSON_H */
