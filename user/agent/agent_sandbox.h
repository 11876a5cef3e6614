/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * agent_sandbox.h - one sandbox of the agent: a slot, its entries in the
 * shared policy maps, its configuration, its learned addresses (a learned
 * set) and its DNS endpoint.
 *
 * A sandbox is built completely (rules written, endpoint listening,
 * config written) before any cgroup points at its slot; the switch is the
 * single update of the "slots" map entry of each of its cgroups. That is
 * also how a reload swaps a policy atomically: a new sandbox on a new
 * slot that takes over the learned set (and its store) of the old one,
 * then one update per cgroup.
 */
#ifndef AWF_AGENT_SANDBOX_H
#define AWF_AGENT_SANDBOX_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/agent_bpf.h"
#include "dns/dns_filter.h"
#include "policy/cidr.h"
#include "policy/policy.h"
#include "kernel/rules.h"

/* A source address written for the slot, to remove it again. */
struct agent_source {
	int family;
	uint8_t addr[16];
};

struct agent_sandbox {
	uint32_t slot;
	uint32_t learned_set;
	bool unrestricted;
	struct rule_table rules; /* as written (slot-keyed), to remove them */
	struct domain_matcher *matcher;
	struct name_table names; /* written slot-keyed, to remove them */
	struct dns_filter *filter;
	struct learned_store *learned; /* NULL once handed to a successor */
	struct dns_fwd *dns;
	uint16_t dns_port;
	struct agent_source *sources; /* written to host_addrs4/6 */
	size_t n_sources, cap_sources;
};

struct agent_sandbox_spec {
	const struct policy *policy; /* NULL with unrestricted */
	bool unrestricted;
	bool audit_allowed;
	uint32_t slot;
	uint32_t learned_set; /* non-zero */
	bool adopted_set;     /* a previous agent's: its names are read back */
	/* The predecessor's store (reload): taken over, with its names. */
	struct learned_store *learned;
	uint16_t dns_port; /* 0: any free port */
	/* The host's addresses now: loopback to the rules, and sources. */
	const struct policy_cidr *host_addrs;
	size_t n_host_addrs;
	dns_decision_cb on_dns;
	void *on_dns_ctx;
};

int agent_sandbox_create(struct agent_sandbox *sb, struct agent_bpf *a,
			 int epfd, const struct agent_sandbox_spec *spec,
			 char *err, size_t errlen);
/* Point cgroup_id at the sandbox's slot: from now on it is enforced. */
int agent_sandbox_bind(const struct agent_sandbox *sb, struct agent_bpf *a,
		       uint64_t cgroup_id, char *err, size_t errlen);
/*
 * Free the slot (its cgroups point elsewhere already) and everything of
 * it; its learned addresses too unless a successor took the store.
 */
void agent_sandbox_destroy(struct agent_sandbox *sb, struct agent_bpf *a);

/*
 * Addresses the slot's packets may carry as their source besides
 * loopback: the host's (written at create) and a pod's (agent_netns.c).
 */
int agent_sandbox_add_sources(struct agent_sandbox *sb, struct agent_bpf *a,
			      const struct policy_cidr *addrs, size_t n,
			      char *err, size_t errlen);

/* Entries a previous agent left for slot or set: removed. */
void agent_purge_slot(struct agent_bpf *a, uint32_t slot);
void agent_purge_set(struct agent_bpf *a, uint32_t set);

#endif /* AWF_AGENT_SANDBOX_H */
