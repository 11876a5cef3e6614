/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * agent_maps.bpf.h - the `awf-bpf agent` build (-DAWF_AGENT): one set of
 * programs for every sandbox of the host. A cgroup resolves to a slot
 * (map "slots"), the slot to its config (map "configs"); the shared
 * policy maps carry the slot, or the config's learned_set, in their keys.
 * Provides what run_maps.bpf.h lists, the same names with these meanings.
 */
#ifndef AWF_AGENT_MAPS_BPF_H
#define AWF_AGENT_MAPS_BPF_H

#include "common.bpf.h"

/*
 * The agent's maps are pinned by name (pin_root_path): a restarted or
 * upgraded agent adopts them, learned addresses and all.
 */
#define AWF_PIN __uint(pinning, LIBBPF_PIN_BY_NAME)
#define NAME_RULES_MAX AWF_AGENT_MAX_NAME_RULES
#define EXACT_NAMES_MAX AWF_AGENT_MAX_EXACT_NAMES
/*
 * A reload replaces a sandbox's policy: a flow established before keeps
 * the verdict it was allowed by, so every allowed socket is tagged.
 */
#define POLICY_RELOADS true
/* Every sandbox may learn: its policy is not known at load. */
#define LEARNS true
/* Any sandbox's policy may list CIDRs. */
#define ALLOWS_CIDRS true
/* The configurations are map values, unknown to the verifier. */
#define AWF_CONFIG_AT_LOAD false
/* connect4 calls decide_dst() (decide()): the configuration is no constant. */
#define DECIDE_INLINE_OK false
/*
 * The loopback ports the sandboxes serve are counted in lo_ports (post_bind
 * and sock_release), the slot's entries of which `dump --agent` lists.
 * (`run` reads them from the sockets instead: user/audit/served_ports.h.)
 */
#define LO_PORTS_COUNTED

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct awf_slot_cidr4_key);
	__type(value, struct awf_rule);
	__uint(max_entries, AWF_MAX_CIDRS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	AWF_PIN;
} cidr4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct awf_slot_cidr6_key);
	__type(value, struct awf_rule);
	__uint(max_entries, AWF_MAX_CIDRS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	AWF_PIN;
} cidr6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct awf_set_ip4_key);
	__type(value, struct awf_learned);
	__uint(max_entries, AWF_AGENT_MAX_LEARNED);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	AWF_PIN;
} learned4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct awf_set_ip6_key);
	__type(value, struct awf_learned);
	__uint(max_entries, AWF_AGENT_MAX_LEARNED);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	AWF_PIN;
} learned6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct awf_slot_lo_port_key);
	__type(value, __u32);
	__uint(max_entries, AWF_AGENT_MAX_LO_PORTS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	AWF_PIN;
} lo_ports SEC(".maps");

/*
 * Read by `dump --agent` and by the next agent, never by the programs:
 * the names behind the learned addresses' name_id.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct awf_set_name_key);
	__type(value, struct awf_name);
	__uint(max_entries, AWF_AGENT_MAX_LEARNED);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	AWF_PIN;
} names SEC(".maps");

/* cgroup id -> slot, for every cgroup a policy selected. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u64);
	__type(value, __u32);
	__uint(max_entries, AWF_MAX_SLOTS * 4);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	AWF_PIN;
} slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct awf_config);
	__uint(max_entries, AWF_MAX_SLOTS);
	AWF_PIN;
} configs SEC(".maps");

/* Shared, not per CPU: per-CPU slots for 4096 sandboxes cost too much. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, AWF_AGENT_N_COUNTERS);
	AWF_PIN;
} counters SEC(".maps");

/*
 * The sources a slot's packets may carry besides loopback: the host's
 * addresses, and those of the network namespaces its processes live in
 * (a pod's). The value is unused (1).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct awf_slot_ip4_key);
	__type(value, __u8);
	__uint(max_entries, AWF_AGENT_MAX_HOST_ADDRS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	AWF_PIN;
} host_addrs4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct awf_slot_ip6_key);
	__type(value, __u8);
	__uint(max_entries, AWF_AGENT_MAX_HOST_ADDRS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	AWF_PIN;
} host_addrs6 SEC(".maps");

/* Uplinks the agent attached to: ifindex -> offset of the IP header. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 1024);
	AWF_PIN;
} uplinks SEC(".maps");

/* A zeroed config (learned_set 0) is a slot being torn down: refuse. */
static __always_inline bool scope_fill(struct awf_scope *sc, __u32 slot)
{
	struct awf_config *cfg = bpf_map_lookup_elem(&configs, &slot);

	if (!cfg || (!cfg->learned_set && !cfg->unrestricted))
		return false;
	sc->cfg = cfg;
	sc->slot = slot;
	return true;
}

/*
 * The cgroup's own slot, else its deepest ancestor's: a sandbox's whole
 * subtree inherits its policy even before the agent has seen a new child.
 * 0: no slot, and the caller refuses (fail closed). skb NULL: the current
 * task's cgroup (socket hooks); else the packet's socket's. The helpers
 * differ per program type; skb is a constant at every call site, so each
 * program keeps only its own.
 */
static __always_inline __u32 slot_of_cgroup(struct __sk_buff *skb)
{
	__u64 id = skb ? bpf_skb_cgroup_id(skb) : bpf_get_current_cgroup_id();
	__u32 *slot = bpf_map_lookup_elem(&slots, &id);
	__u32 found = 0;

	if (slot)
		return *slot;
	for (int level = 0; level < AWF_MAX_CG_DEPTH; level++) {
		id = skb ? bpf_skb_ancestor_cgroup_id(skb, level) :
			   bpf_get_current_ancestor_cgroup_id(level);
		if (!id)
			break;
		slot = bpf_map_lookup_elem(&slots, &id);
		if (slot)
			found = *slot;
	}
	return found;
}

static __always_inline bool scope_current(struct awf_scope *sc)
{
	__u32 slot = slot_of_cgroup(NULL);

	return slot && scope_fill(sc, slot);
}

static __always_inline bool scope_of_slot(struct awf_scope *sc, __u32 slot)
{
	return slot && scope_fill(sc, slot);
}

static __always_inline bool scope_of_skb(struct awf_scope *sc,
					 struct __sk_buff *skb)
{
	__u32 slot = slot_of_cgroup(skb);

	return slot && scope_fill(sc, slot);
}

static __always_inline void counter_add(__u64 *val)
{
	__sync_fetch_and_add(val, 1);
}

/* d's most specific prefix of the slot's, or NULL. */
static __always_inline struct awf_rule *lookup_trie(const struct awf_scope *sc,
						    const struct awf_dst *d)
{
	if (d->family == AF_INET) {
		struct awf_slot_cidr4_key k4 = { .prefixlen = 64,
						 .slot = bpf_htonl(sc->slot) };
		struct awf_rule *rule;

		__builtin_memcpy(k4.addr, d->addr, 4);
		rule = bpf_map_lookup_elem(&cidr4, &k4);
		AWF_KEEP_LOOKUP();
		return rule;
	}
	struct awf_slot_cidr6_key k6 = { .prefixlen = 160,
					 .slot = bpf_htonl(sc->slot) };

	__builtin_memcpy(k6.addr, d->addr, 16);
	return bpf_map_lookup_elem(&cidr6, &k6);
}

/*
 * prefixlen counts the slot's 32 bits too. buf unused: every entry is in
 * the trie (no exact tables: the trie is shared by every sandbox and
 * pinned, and a reload rewrites one slot's part of it in place).
 * *ports: the rule's ports.
 */
static __always_inline struct awf_rule *
lookup_cidr(const struct awf_scope *sc, const struct awf_dst *d,
	    struct awf_rule *buf, const struct awf_port_set **ports)
{
	struct awf_rule *rule = lookup_trie(sc, d);

	if (rule)
		*ports = &rule->ports;
	return rule;
}

/* The kind of d's most specific rule (enum awf_rule_kind), 0 for none. */
static __always_inline __u32 cidr_kind(const struct awf_scope *sc,
				       const struct awf_dst *d)
{
	struct awf_rule *rule = lookup_trie(sc, d);

	return rule ? rule->kind : 0;
}

static __always_inline struct awf_learned *
lookup_learned(const struct awf_scope *sc, const struct awf_dst *d)
{
	if (d->family == AF_INET) {
		struct awf_set_ip4_key k4 = { .set = sc->cfg->learned_set };
		struct awf_learned *learned;

		__builtin_memcpy(k4.addr, d->addr, 4);
		learned = bpf_map_lookup_elem(&learned4, &k4);
		AWF_KEEP_LOOKUP();
		return learned;
	}
	struct awf_set_ip6_key k6 = { .set = sc->cfg->learned_set };

	__builtin_memcpy(k6.addr, d->addr, 16);
	return bpf_map_lookup_elem(&learned6, &k6);
}

/*
 * Whether addr (family's, our layout) is a source the slot may send from.
 * Only the slot is read: a hook without a sandbox (slot 0) finds none.
 */
static __always_inline bool is_host_addr(const struct awf_scope *sc,
					 __u8 family, const __u32 *addr)
{
	if (family == AF_INET) {
		struct awf_slot_ip4_key k4 = { .slot = sc->slot };
		bool found;

		__builtin_memcpy(k4.addr, addr, 4);
		found = bpf_map_lookup_elem(&host_addrs4, &k4) != NULL;
		AWF_KEEP_LOOKUP();
		return found;
	}
	struct awf_slot_ip6_key k6 = { .slot = sc->slot };

	__builtin_memcpy(k6.addr, addr, 16);
	return bpf_map_lookup_elem(&host_addrs6, &k6) != NULL;
}

/*
 * A loopback port the sandbox serves on (localhost "sandbox" mode), under
 * the slot it was counted for.
 */
#define LO_PORT_KEY(name, sl, p, pr)                       \
	struct awf_slot_lo_port_key name = { .slot = (sl), \
					     .port = (p),  \
					     .proto = (pr) }

/*
 * No memo of the backstop's answers (run_maps.bpf.h): a reload changes a
 * sandbox's policy, and every allowed socket is tagged anyway.
 */
static __always_inline bool memo_allows(const struct awf_dst *d)
{
	return false;
}

static __always_inline void memo_put(const struct awf_dst *d)
{
}

#endif /* AWF_AGENT_MAPS_BPF_H */
