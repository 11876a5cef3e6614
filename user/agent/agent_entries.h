/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * agent_entries.h - the agent's sandboxes: one entry per cgroup it enforces
 * on (an attach point, a cgroup a policy selects, a `run` client), each
 * with a slot in the programs' maps.
 */
#ifndef AWF_AGENT_ENTRIES_H
#define AWF_AGENT_ENTRIES_H

#include <stddef.h>
#include <stdint.h>

#include "agent/agent_int.h"
#include "agent/cgroup_tree.h"

int agent_reconcile(struct agent *ag);
void agent_on_cgroup(struct agent *ag, size_t attach, enum cgroup_watch_kind k,
		     const char *rel_path, uint64_t id);
struct agent_entry *agent_entry_build(struct agent *ag, enum entry_kind kind,
				      const char *cgroup, uint64_t id,
				      const char *policy_name,
				      struct policy *run_policy,
				      bool audit_allowed, char *err,
				      size_t errlen);
void agent_entry_drop(struct agent *ag, struct agent_entry *e);
void agent_release_adopted(struct agent *ag);
const struct agent_event_sink *agent_slot_sink(void *ctx, uint32_t slot);

#endif /* AWF_AGENT_ENTRIES_H */
