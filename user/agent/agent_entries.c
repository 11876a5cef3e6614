// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * agent_entries.c - which cgroup is which sandbox. Each entry owns a slot;
 * replacing an entry (new policy, reload) builds the new one on a fresh
 * slot first and then flips the cgroup's "slots" entry: one map update,
 * so a cgroup is never without a complete policy.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "agent/agent_entries.h"
#include "agent/agent_int.h"
#include "agent/agent_state.h"
#include "audit/audit_log.h"
#include "audit/events.h"
#include "common/error.h"
#include "common/log.h"

static uint32_t slot_alloc(struct agent *ag)
{
	/* Round robin: a number just freed is the last to come back. */
	for (uint32_t i = 0; i < AWF_MAX_SLOTS - 1; i++) {
		uint32_t slot = 1 + (ag->next_slot + i) % (AWF_MAX_SLOTS - 1);

		if (!ag->by_slot[slot] && !ag->slot_reserved[slot]) {
			ag->next_slot = slot;
			return slot;
		}
	}
	return 0;
}

const struct agent_event_sink *agent_slot_sink(void *ctx, uint32_t slot)
{
	struct agent *ag = ctx;

	if (slot >= AWF_MAX_SLOTS || !ag->by_slot[slot])
		return NULL;
	return &ag->by_slot[slot]->sink;
}

static void forward_event(void *ctx, const struct event_view *v)
{
	struct agent_entry *en = ctx;

	if (en->conn)
		control_conn_event(en->conn, v);
}

/* The programs never touch these counters: no race but our own. */
static void count_dns(struct agent_entry *en, const struct dns_decision *d)
{
	int fd = agent_bpf_counters_fd(&en->ag->bpf);
	uint32_t idx[2];
	size_t n = dns_counter_indexes(d, idx);

	for (size_t i = 0; i < n; i++) {
		uint32_t key = en->sb.slot * AWF_C_MAX + idx[i];
		uint64_t v = 0;

		bpf_map_lookup_elem(fd, &key, &v);
		v++;
		if (bpf_map_update_elem(fd, &key, &v, BPF_ANY))
			log_warn("counters: %s", strerror(errno));
	}
}

static void on_dns(void *ctx, const struct dns_decision *d)
{
	struct agent_entry *en = ctx;
	struct audit_log *audit = &en->ag->events.audit;

	count_dns(en, d);
	if (audit->f) {
		audit->sandbox = en->label;
		audit_log_dns(audit, d);
		fflush(audit->f);
	}
	if (en->conn)
		control_conn_dns(en->conn, d);
}

static struct adopted *find_adopted(struct agent *ag, enum entry_kind kind,
				    const char *cgroup)
{
	for (size_t i = 0; i < ag->n_adopted; i++) {
		struct adopted *a = &ag->adopted[i];

		if (!a->taken && a->kind == kind && !strcmp(a->cgroup, cgroup))
			return a;
	}
	return NULL;
}

static struct agent_entry *find_entry(struct agent *ag, enum entry_kind kind,
				      const char *cgroup)
{
	for (uint32_t s = 1; s < AWF_MAX_SLOTS; s++) {
		struct agent_entry *e = ag->by_slot[s];

		if (e && e->kind == kind && !strcmp(e->cgroup, cgroup))
			return e;
	}
	return NULL;
}

static const struct policy *policy_named(struct agent *ag, const char *name,
					 bool *unrestricted)
{
	const struct agent_policy *p;

	*unrestricted = !strcmp(name, AGENT_POLICY_UNRESTRICTED);
	if (*unrestricted)
		return NULL;
	if (!strcmp(name, AGENT_POLICY_DENY))
		return &ag->deny_policy;
	p = agent_policies_find(&ag->policies, name);
	return p ? &p->policy : NULL;
}

/*
 * The learned addresses and the DNS port carry over from what the cgroup
 * had: connections to learned addresses and resolvers that keep their
 * socket survive a reload or a restart.
 */
static void carry_over(struct agent *ag, struct agent_entry *prev,
		       struct adopted *adopted, struct agent_sandbox_spec *spec)
{
	if (prev && !prev->sb.unrestricted && prev->sb.learned &&
	    !spec->unrestricted) {
		spec->learned_set = prev->sb.learned_set;
		spec->learned = prev->sb.learned;
		return;
	}
	if (adopted && adopted->learned_set && !spec->unrestricted) {
		spec->learned_set = adopted->learned_set;
		spec->adopted_set = true;
		spec->dns_port = adopted->dns_port;
		return;
	}
	spec->learned_set = ++ag->next_set;
}

static int create_sandbox(struct agent *ag, struct agent_entry *e,
			  const struct policy *p, bool unrestricted,
			  bool audit_allowed, struct agent_entry *prev,
			  char *err, size_t errlen)
{
	struct adopted *adopted = find_adopted(ag, e->kind, e->cgroup);
	struct agent_sandbox_spec spec = {
		.policy = p,
		.unrestricted = unrestricted,
		.audit_allowed = audit_allowed,
		.on_dns = on_dns,
		.on_dns_ctx = e,
	};

	spec.slot = slot_alloc(ag);
	if (!spec.slot)
		return set_err(err, errlen,
			       "no free slot (%d sandboxes at most)",
			       AWF_MAX_SLOTS - 1);
	if (!unrestricted &&
	    agent_hostaddrs_get(&ag->hostaddrs, &spec.host_addrs,
				&spec.n_host_addrs, err, errlen))
		return -1;
	carry_over(ag, prev, adopted, &spec);
	if (agent_sandbox_create(&e->sb, &ag->bpf, ag->epfd, &spec, err,
				 errlen))
		return -1;
	if (prev && spec.learned)
		prev->sb.learned = NULL; /* the store is ours now */
	if (adopted)
		adopted->taken = true;
	ag->by_slot[e->sb.slot] = e;
	return 0;
}

struct agent_entry *agent_entry_build(struct agent *ag, enum entry_kind kind,
				      const char *cgroup, uint64_t id,
				      const char *policy_name,
				      struct policy *run_policy,
				      bool audit_allowed, char *err,
				      size_t errlen)
{
	struct agent_entry *prev =
		kind == ENTRY_RUN ? NULL : find_entry(ag, kind, cgroup);
	const struct policy *p = run_policy;
	struct agent_entry *e = calloc(1, sizeof(*e));
	bool unrestricted = false;

	if (!e) {
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	e->ag = ag;
	e->kind = kind;
	e->cgroup_id = id;
	e->generation = ag->generation;
	e->run_policy = run_policy;
	snprintf(e->cgroup, sizeof(e->cgroup), "%s", cgroup);
	snprintf(e->policy_name, sizeof(e->policy_name), "%s", policy_name);
	snprintf(e->label, sizeof(e->label), "%s:%s", policy_name, cgroup);
	if (!run_policy)
		p = policy_named(ag, policy_name, &unrestricted);
	if (!p && !unrestricted) {
		set_err(err, errlen, "no policy named \"%s\"", policy_name);
		goto fail;
	}
	if (create_sandbox(ag, e, p, unrestricted, audit_allowed, prev, err,
			   errlen))
		goto fail;
	e->sink = (struct agent_event_sink){ .sandbox = e->label,
					     .names = e->sb.learned,
					     .forward = forward_event,
					     .forward_ctx = e };
	if (agent_sandbox_bind(&e->sb, &ag->bpf, id, err, errlen)) {
		ag->by_slot[e->sb.slot] = NULL;
		agent_sandbox_destroy(&e->sb, &ag->bpf);
		goto fail;
	}
	e->seen = true;
	if (prev)
		agent_entry_drop(ag, prev);
	return e;
fail:
	free(e);
	return NULL;
}

static bool cgroup_taken(const struct agent *ag, uint64_t id,
			 const struct agent_entry *except)
{
	for (uint32_t s = 1; s < AWF_MAX_SLOTS; s++) {
		const struct agent_entry *e = ag->by_slot[s];

		if (e && e != except && e->cgroup_id == id)
			return true;
	}
	return false;
}

void agent_entry_drop(struct agent *ag, struct agent_entry *e)
{
	/* Unbind unless a newer entry of the same cgroup took it over. */
	if (!cgroup_taken(ag, e->cgroup_id, e) &&
	    bpf_map_delete_elem(agent_bpf_slots_fd(&ag->bpf), &e->cgroup_id) &&
	    errno != ENOENT)
		log_warn("unbinding %s: %s", e->cgroup, strerror(errno));
	ag->by_slot[e->sb.slot] = NULL;
	agent_sandbox_destroy(&e->sb, &ag->bpf);
	if (e->run_policy) {
		policy_free(e->run_policy);
		free(e->run_policy);
	}
	free(e);
}

/* Make sure cgroup has the sandbox it should have, or keep it if it does. */
static void want(struct agent *ag, enum entry_kind kind, const char *cgroup,
		 uint64_t id, const char *policy_name)
{
	struct agent_entry *e = find_entry(ag, kind, cgroup);
	char err[AWF_ERR_LEN];

	if (e && e->cgroup_id == id && e->generation == ag->generation &&
	    !strcmp(e->policy_name, policy_name)) {
		e->seen = true;
		return;
	}
	if (!agent_entry_build(ag, kind, cgroup, id, policy_name, NULL, false,
			       err, sizeof(err))) {
		log_error("sandbox for %s (policy %s): %s", cgroup, policy_name,
			  err);
		if (e)
			e->seen = true; /* keep the old policy: fail closed */
		return;
	}
	log_info("%s: policy %s", cgroup, policy_name);
}

/* cgroup is base or below it. */
static bool within(const char *base, const char *cgroup)
{
	size_t n = strlen(base);

	return !strncmp(base, cgroup, n) &&
	       (cgroup[n] == '\0' || cgroup[n] == '/');
}

static bool owned_by_run(const struct agent *ag, const char *cgroup)
{
	for (uint32_t s = 1; s < AWF_MAX_SLOTS; s++) {
		const struct agent_entry *e = ag->by_slot[s];

		if (e && e->kind == ENTRY_RUN && within(e->cgroup, cgroup))
			return true;
	}
	for (size_t i = 0; i < ag->n_adopted; i++)
		if (ag->adopted[i].kind == ENTRY_RUN &&
		    !strcmp(ag->adopted[i].cgroup, cgroup))
			return true;
	/* Made ahead of its policy: its sandbox is on the way. */
	for (size_t i = 0; i < ag->n_early; i++)
		if (within(ag->early[i].cgroup, cgroup))
			return true;
	return false;
}

static void select_cgroup(struct agent *ag, const char *full, uint64_t id)
{
	const struct agent_policy *conflict = NULL, *p;

	if (owned_by_run(ag, full))
		return;
	p = agent_policies_match(&ag->policies, full, &conflict);
	if (!p)
		return;
	if (conflict)
		log_warn("%s: selected by policies %s and %s; %s applies", full,
			 p->name, conflict->name, p->name);
	want(ag, ENTRY_SELECTED, full, id, p->name);
}

struct walk_ctx {
	struct agent *ag;
	const char *base;
};

static int on_walk(const char *rel, uint64_t id, unsigned int depth, void *ctx)
{
	struct walk_ctx *w = ctx;
	char full[AGENT_CGROUP_PATH_MAX];

	if (depth == 0)
		return 0; /* the attach point itself: its default */
	if (cgroup_path_join(full, sizeof(full), w->base, rel))
		return 0;
	select_cgroup(w->ag, full, id);
	return 0;
}

static int want_attach_point(struct agent *ag, const struct agent_attach *at)
{
	char abs[PATH_MAX * 2], err[AWF_ERR_LEN];
	struct walk_ctx w = { .ag = ag, .base = at->cgroup };
	uint64_t id;

	snprintf(abs, sizeof(abs), "%s%s", ag->cg2, at->cgroup);
	if (cgroup_id_at(AT_FDCWD, abs, &id, err, sizeof(err))) {
		log_error("%s", err);
		return -1;
	}
	want(ag, ENTRY_DEFAULT, at->cgroup, id, at->default_policy);
	if (cgroup_tree_walk(abs, on_walk, &w, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return -1;
	}
	return 0;
}

int agent_reconcile(struct agent *ag)
{
	int ret = 0;

	for (uint32_t s = 1; s < AWF_MAX_SLOTS; s++)
		if (ag->by_slot[s] && ag->by_slot[s]->kind != ENTRY_RUN)
			ag->by_slot[s]->seen = false;
	for (size_t i = 0; i < ag->cfg.n_attach; i++)
		if (want_attach_point(ag, &ag->cfg.attach[i]))
			ret = -1;
	for (uint32_t s = 1; s < AWF_MAX_SLOTS; s++) {
		struct agent_entry *e = ag->by_slot[s];

		/* A failed walk must not drop what it could not see. */
		if (e && e->kind != ENTRY_RUN && !e->seen && !ret) {
			log_info("%s: gone", e->cgroup);
			agent_entry_drop(ag, e);
		}
	}
	agent_state_save(ag);
	return ret;
}

void agent_on_cgroup(struct agent *ag, size_t attach, enum cgroup_watch_kind k,
		     const char *rel_path, uint64_t id)
{
	const char *base = ag->cfg.attach[attach].cgroup;
	char full[AGENT_CGROUP_PATH_MAX];
	struct agent_entry *e;

	if (k == CGROUP_RESCAN) {
		agent_reconcile(ag);
		return;
	}
	if (cgroup_path_join(full, sizeof(full), base, rel_path) ||
	    !strcmp(full, base))
		return;
	if (k == CGROUP_CREATED) {
		select_cgroup(ag, full, id);
		ag->netns_scan_soon = true;
	} else {
		e = find_entry(ag, ENTRY_SELECTED, full);
		if (e) {
			log_info("%s: gone", full);
			agent_entry_drop(ag, e);
		}
	}
	agent_state_save(ag);
}

/* Slots of the previous agent that no cgroup of ours took over. */
void agent_release_adopted(struct agent *ag)
{
	for (size_t i = 0; i < ag->n_adopted; i++) {
		struct adopted *a = &ag->adopted[i];
		uint32_t slot;

		ag->slot_reserved[a->slot] = false;
		if (ag->by_slot[a->slot])
			continue; /* reused by a new entry: not the old one's */
		/* Unbind only if the cgroup still points at the old slot. */
		if (!a->taken &&
		    !bpf_map_lookup_elem(agent_bpf_slots_fd(&ag->bpf),
					 &a->cgroup_id, &slot) &&
		    slot == a->slot)
			bpf_map_delete_elem(agent_bpf_slots_fd(&ag->bpf),
					    &a->cgroup_id);
		agent_purge_slot(&ag->bpf, a->slot);
		if (!a->taken && a->learned_set)
			agent_purge_set(&ag->bpf, a->learned_set);
	}
}
