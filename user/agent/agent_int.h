/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * agent_int.h - the agent's state, shared by agent.c (process, loop,
 * signals), agent_entries.c (sandboxes per cgroup and their slots),
 * agent_state.c (what a restarted agent adopts) and agent_run.c (the
 * sandboxes `run` clients ask for).
 */
#ifndef AWF_AGENT_INT_H
#define AWF_AGENT_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/agent_bpf.h"
#include "agent/agent_config.h"
#include "agent/agent_control.h"
#include "agent/agent_events.h"
#include "agent/agent_hostaddrs.h"
#include "agent/agent_policies.h"
#include "agent/agent_sandbox.h"
#include "agent/agent_uplinks.h"
#include "agent/cgroup_tree.h"

enum entry_kind {
	ENTRY_DEFAULT,	/* an attach point, with its default policy */
	ENTRY_SELECTED, /* a cgroup a policy's selector matched */
	ENTRY_RUN,	/* asked for by `awf-bpf run` */
};

struct agent_entry {
	enum entry_kind kind;
	char cgroup[AGENT_CGROUP_PATH_MAX]; /* from the cgroup2 root */
	uint64_t cgroup_id;
	char policy_name[AGENT_POLICY_NAME_MAX + 1];
	char label[AGENT_CGROUP_PATH_MAX + 80]; /* "sandbox" in audit lines */
	unsigned int generation; /* of the policy set it was built from */
	struct agent_sandbox sb;
	struct agent_event_sink sink;
	struct policy *run_policy; /* ENTRY_RUN: owned */
	struct control_conn *conn; /* ENTRY_RUN; NULL once adopted */
	struct agent *ag;
	bool seen; /* reconcile mark */
};

/* What a previous agent left (agent_state.c), until taken over. */
struct adopted {
	enum entry_kind kind;
	char cgroup[AGENT_CGROUP_PATH_MAX];
	uint64_t cgroup_id;
	uint32_t slot;
	uint32_t learned_set;
	uint16_t dns_port;
	char *run_policy_json; /* ENTRY_RUN */
	bool taken;
};

/*
 * A run's cgroup, made for its connection ahead of the policy (op
 * "cgroup"): the client starts the sandbox's processes in it while the
 * policy is built. Its own until the sandbox's entry takes it over.
 */
struct run_early {
	struct control_conn *conn;
	char cgroup[AGENT_CGROUP_PATH_MAX]; /* from the cgroup2 root */
	uint64_t cgroup_id;
};

struct agent {
	struct agent_config cfg;
	struct agent_policy_set policies;
	struct policy deny_policy; /* the built-in "deny": nothing allowed */
	unsigned int generation;
	char cg2[PATH_MAX];
	struct agent_bpf bpf;
	int epfd;
	struct agent_entry *by_slot[AWF_MAX_SLOTS];
	bool slot_reserved[AWF_MAX_SLOTS]; /* adopted, not yet released */
	uint32_t next_slot;
	uint32_t next_set; /* learned sets: never reused by one agent */
	struct adopted *adopted;
	size_t n_adopted;
	struct cgroup_watch *watch[AGENT_MAX_ATTACH];
	struct ev_source watch_src[AGENT_MAX_ATTACH];
	struct agent_uplinks uplinks;
	struct agent_hostaddrs hostaddrs; /* for each new sandbox */
	struct agent_control control;
	struct agent_events events;
	bool netns_scan_soon; /* a cgroup appeared: look for its namespace */
	char *state_text;     /* as last written to AWF_AGENT_STATE_FILE */
	/*
	 * The state file was read (the previous agent's sandboxes adopted):
	 * only then may this agent write it. One that fails earlier (no BTF,
	 * no cgroup2) leaves it as it found it, the previous agent's.
	 */
	bool state_loaded;
	struct run_early *early; /* cgroups of runs without a policy yet */
	size_t n_early, cap_early;
};

#endif /* AWF_AGENT_INT_H */
