/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * agent_pinned.h - the reading side of the agent's pins, for `status
 * --agent` and `dump --agent`: its links (which cgroups and interfaces it
 * enforces on), its state file (which slot serves which cgroup) and its
 * maps, opened read-only. None of it needs the agent process: the pins
 * outlive it (docs/dump.md, section "agent").
 */
#ifndef AWF_AGENT_PINNED_H
#define AWF_AGENT_PINNED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <json-c/json.h>

#include "agent/agent_layout.h"
#include "awf.h"

#define AGENT_PINNED_PROG_LEN 64

/* ------------------------------------------------------------- links */

enum agent_link_kind {
	AGENT_LINK_CGROUP = 1, /* cg-<cgroup id>-<program> */
	AGENT_LINK_TC = 2,     /* tc-<ifindex> */
};

struct agent_link {
	enum agent_link_kind kind;
	uint64_t cgroup_id;		     /* AGENT_LINK_CGROUP */
	char program[AGENT_PINNED_PROG_LEN]; /* AGENT_LINK_CGROUP */
	int ifindex;			     /* AGENT_LINK_TC */
};

/* The name of a pinned link; -1 when it is none of the agent's. */
int agent_link_parse(const char *name, struct agent_link *out);
/*
 * Every link pinned in dir (AWF_AGENT_LINKS_DIR), sorted: cgroup links by
 * id and program, then tc links by ifindex. *links is freed by the
 * caller. A missing dir is no link; -1 on other errors.
 */
int agent_links_list(const char *dir, struct agent_link **links, size_t *n);

/* -------------------------------------------------------- state file */

struct agent_state_sandbox {
	char kind[16]; /* "default", "selected", "run" */
	char cgroup[AGENT_CGROUP_PATH_MAX];
	uint64_t cgroup_id;
	char policy[AGENT_POLICY_NAME_MAX + 1]; /* "" when not recorded */
	uint32_t slot;
	uint16_t dns_port;
};

struct agent_state_info {
	int64_t agent_pid; /* 0 when not recorded */
	struct agent_state_sandbox *sandboxes;
	size_t n;
};

/*
 * The agent's state file as parsed JSON (agent_state.c writes it); entries
 * without a valid slot or cgroup id are skipped. -1 with a message if it
 * is not one.
 */
int agent_state_parse(json_object *root, struct agent_state_info *st, char *err,
		      size_t errlen);
/* The same from a file; -1 with errno ENOENT when there is none. */
int agent_state_read(const char *path, struct agent_state_info *st, char *err,
		     size_t errlen);
void agent_state_info_free(struct agent_state_info *st);
/*
 * The sandbox a `dump --agent` argument names: "slot-N", or a cgroup path
 * as in the state file (the leading '/' may be left out). NULL if none.
 */
const struct agent_state_sandbox *
agent_state_find(const struct agent_state_info *st, const char *what);

/* Whether pid runs and is an awf-bpf (/proc/<pid>/comm). */
bool agent_pid_is_awf(pid_t pid);

/* -------------------------------------------------------------- maps */

struct agent_pinned {
	int slots;	       /* cgroup id -> slot */
	int configs;	       /* slot -> struct awf_config */
	int counters;	       /* slot * AWF_C_MAX + counter -> __u64 */
	int maps[AGENT_MAP_N]; /* shared; keys carry the slot or learned set */
};

/* Every map of AWF_AGENT_MAPS_DIR, read-only; -1 with a message if none. */
int agent_pinned_open(struct agent_pinned *ap, char *err, size_t errlen);
void agent_pinned_close(struct agent_pinned *ap);
/* The slot cgroup_id points at; -1 when it points nowhere. */
int agent_pinned_slot_of(const struct agent_pinned *ap, uint64_t cgroup_id,
			 uint32_t *slot);
int agent_pinned_config(const struct agent_pinned *ap, uint32_t slot,
			struct awf_config *cfg);
/* out[AWF_C_MAX], the counters of slot. */
int agent_pinned_counters(const struct agent_pinned *ap, uint32_t slot,
			  uint64_t *out);

/*
 * One sandbox as `status --agent --json` (full: false) and `dump --agent
 * --json` (full: true) print it: the state file's entry, whether its
 * cgroup is still bound to its slot, the counters and, with full, the
 * slot's config and its entries of the shared maps: CIDR entries, learned
 * addresses (those of the config's learned_set), loopback ports.
 */
json_object *agent_sandbox_json(const struct agent_pinned *ap,
				const struct agent_state_sandbox *sb,
				bool full);

#endif /* AWF_AGENT_PINNED_H */
