/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * run_maps.bpf.h - the `awf-bpf run` build: one sandbox, attached to its
 * cgroup only, configured through .rodata. The maps are its own; keys
 * carry no slot.
 *
 * Every variant header (this one, agent_maps.bpf.h) provides the same
 * things to the shared headers: AWF_PIN, NAME_RULES_MAX, EXACT_NAMES_MAX,
 * POLICY_RELOADS, LEARNS, ALLOWS_CIDRS, AWF_CONFIG_AT_LOAD;
 * the maps cidr4, cidr6, learned4, learned6, host_addrs4, host_addrs6,
 * names and counters; scope_current(), scope_of_slot(), scope_of_skb(),
 * counter_add(), lookup_cidr(), lookup_learned(), is_host_addr(),
 * memo_allows() and memo_put(). A variant that counts the loopback ports
 * its sandboxes serve in a map (the agent's) defines LO_PORTS_COUNTED,
 * with the map lo_ports and LO_PORT_KEY(). This one does not: `dump`
 * finds them in the sockets themselves (user/audit/served_ports.h), so
 * no program needs to run when a socket is released.
 */
#ifndef AWF_RUN_MAPS_BPF_H
#define AWF_RUN_MAPS_BPF_H

#include "common.bpf.h"

/* Nothing is pinned by name: run pins its maps itself, per sandbox. */
#define AWF_PIN
#define NAME_RULES_MAX AWF_MAX_NAME_RULES
#define EXACT_NAMES_MAX AWF_MAX_EXACT_NAMES
/* The policy is written once: the backstop reaches the same verdicts. */
#define POLICY_RELOADS false
/* The configuration is .rodata: the verifier knows its every field. */
#define AWF_CONFIG_AT_LOAD true
/*
 * connect4 has decide_dst()'s body inline (decide()) unless the IPv4 exact
 * table's probes would be in it: the verifier walks them once per state
 * that reaches the body (2000 /32s: +445 instructions), where the call
 * walks them once.
 */
#define DECIDE_INLINE_OK (!exact4_mask)

const volatile struct awf_config awf_cfg = {};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct awf_cidr4_key);
	__type(value, struct awf_rule);
	__uint(max_entries, AWF_MAX_CIDRS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} cidr4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct awf_cidr6_key);
	__type(value, struct awf_rule);
	__uint(max_entries, AWF_MAX_CIDRS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} cidr6 SEC(".maps");

/*
 * The full-length entries of a large policy (awf.h, struct
 * awf_exact4_slot): the tables' sizes - 1, 0 for a family without one,
 * in which case the verifier drops its lookup. The loader sizes the
 * tables, cidr_ports and the tries to the policy. mmap-able: user space
 * writes the tables' slots in place (rules.c), not one copy per slot.
 */
const volatile __u32 exact4_mask = 0;
const volatile __u32 exact6_mask = 0;

/*
 * Whether the sandbox learns addresses at all: its policy names a domain
 * (or audit-only mode learns those it refuses). Without, the learned
 * maps stay empty, and the verifier drops every path that follows a
 * learned address (DNS-only policy: 10,571 -> 9,755 instructions). 0, a
 * loader that never says, only ever denies what a learned address would
 * have allowed.
 */
const volatile __u32 learns = 0;
/* A socket waits for its name check only after a learned verdict. */
#define LEARNS learns

/*
 * Whether a rule may allow: the policy lists allow_cidrs. Without, the
 * tries hold this host's addresses and the reserved ranges only, and the
 * verifier drops the allow path and its port check (DNS-only policy:
 * 6,685 -> 6,221 instructions). 0, a loader that never says, only ever
 * denies what an allow rule would have allowed.
 */
const volatile __u32 allows_cidrs = 0;
#define ALLOWS_CIDRS allows_cidrs

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct awf_exact4_slot);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
} cidr_exact4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct awf_exact6_slot);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
} cidr_exact6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct awf_port_set);
	__uint(max_entries, 1);
} cidr_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct awf_learned);
	__uint(max_entries, AWF_MAX_LEARNED);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} learned4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct awf_ip6_key);
	__type(value, struct awf_learned);
	__uint(max_entries, AWF_MAX_LEARNED);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} learned6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, AWF_C_MAX);
} counters SEC(".maps");

/*
 * What the CIDR trie answered for a destination, for the next connect()
 * and every packet to it (awf.h, struct awf_cidr_cache_key). The trie is written
 * once, before the sandbox has a process, so an answer never goes stale.
 * An entry is inserted once and never changed, and elements are freed
 * only after an RCU grace period (BPF_F_NO_PREALLOC): a pointer into it
 * holds for the program's run. Full, it takes no more destinations:
 * those are looked up in the trie every time.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct awf_cidr_cache_key);
	__type(value, struct awf_rule);
	__uint(max_entries, AWF_MAX_CIDR_CACHE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} cidr_cache SEC(".maps");

/*
 * The packet backstop's memo (memo_allows()): per CPU, the last IPv4
 * destination it found allowed for a reason that rests on the destination
 * alone, as one word (memo_word()). The packets of a flow follow each
 * other on a CPU: one load and compare spare them the look-up in
 * cidr_cache and the decision. A plain array with a slot per CPU (the
 * loader sizes it to the possible CPUs), not a per-CPU one: its slot is
 * one load from the map's own memory, where a per-CPU array's is two
 * (the slot's pointer, then the per-CPU area, 4 KiB pages), which a
 * bulk transfer's copies evict between packets (iperf3 in a sandbox,
 * bpf_stats, 6 alternating runs: 102 -> 84 ns a packet). A CPU past its
 * size finds no slot: no memo, the full decision.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct awf_memo_slot);
	__uint(max_entries, 1);
} dst_memo SEC(".maps");

/*
 * The addresses of this host's interfaces (user/kernel/hostaddr.c): the
 * only sources, loopback aside, a packet of the sandbox may carry. The
 * value is unused (1). Written once, after load: the loader creates them
 * at the number of addresses (AWF_MAX_HOST_ADDRS at most).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u8);
	__uint(max_entries, AWF_MAX_HOST_ADDRS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} host_addrs4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct awf_ip6_key);
	__type(value, __u8);
	__uint(max_entries, AWF_MAX_HOST_ADDRS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} host_addrs6 SEC(".maps");

/*
 * Read by `awf-bpf dump` and `status` from the pins, never by the programs:
 * defined here so that they are created with BTF like every other map.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct awf_name);
	__uint(max_entries, AWF_MAX_LEARNED);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} names SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct awf_domain_key);
	__type(value, struct awf_domain);
	__uint(max_entries, AWF_MAX_DOMAINS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} domains SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct awf_meta);
	__uint(max_entries, 1);
} meta SEC(".maps");

/* The programs are attached to one sandbox's cgroup only: slot 0. */
static __always_inline bool scope_current(struct awf_scope *sc)
{
	sc->cfg = &awf_cfg;
	sc->slot = 0;
	return true;
}

/*
 * A sandbox known by its slot: the one there is (slot 0). The slot is
 * kept rather than ignored: an argument of a global function (AWF_SUBPROG)
 * its body never read, clang leaves unset at the call, and the verifier
 * refuses a call whose scalar argument is not one.
 */
static __always_inline bool scope_of_slot(struct awf_scope *sc, __u32 slot)
{
	sc->cfg = &awf_cfg;
	sc->slot = slot;
	return true;
}

static __always_inline bool scope_of_skb(struct awf_scope *sc,
					 struct __sk_buff *skb)
{
	return scope_current(sc);
}

static __always_inline void counter_add(__u64 *val)
{
	*val += 1; /* per-CPU slot: no atomic needed */
}

static __always_inline struct awf_rule *lookup_trie(const struct awf_dst *d)
{
	if (d->family == AF_INET) {
		struct awf_cidr4_key k4 = { .prefixlen = 32 };
		struct awf_rule *rule;

		__builtin_memcpy(k4.addr, d->addr, 4);
		rule = bpf_map_lookup_elem(&cidr4, &k4);
		AWF_KEEP_LOOKUP();
		return rule;
	}
	struct awf_cidr6_key k6 = { .prefixlen = 128 };

	__builtin_memcpy(k6.addr, d->addr, 16);
	return bpf_map_lookup_elem(&cidr6, &k6);
}

/*
 * A slot's rule: its id and kind in buf (the caller's, for this one
 * decision), *set its ports in cidr_ports. Not copied into buf: 68 bytes
 * at each look-up, and code the verifier carries (and removes as dead)
 * in every program whose policy has no exact table.
 */
static __always_inline struct awf_rule *
exact_rule(__u32 id, __u32 kind, __u32 ports, struct awf_rule *buf,
	   const struct awf_port_set **set)
{
	*set = bpf_map_lookup_elem(&cidr_ports, &ports);
	if (!*set)
		return NULL; /* never: user space wrote every set it names */
	buf->id = id;
	buf->kind = kind;
	return buf;
}

/*
 * d's slot in the IPv4 exact table, or NULL. Every probe leaves the loop
 * by one exit, with the slot's number or none: a return in each probe
 * had the verifier walk the caller's rest once per probe that returned.
 */
static __always_inline struct awf_exact4_slot *
find_exact4(const struct awf_dst *d)
{
	__u32 mask = exact4_mask, at, hit = 0;

	if (!mask) /* known at load: the verifier drops the rest */
		return NULL;
	at = awf_exact_hash(d->addr, 1);
	for (int i = 0; i < AWF_EXACT_PROBES; i++) {
		__u32 k = (at + i) & mask;
		struct awf_exact4_slot *s =
			bpf_map_lookup_elem(&cidr_exact4, &k);

		AWF_KEEP_LOOKUP();
		if (!s || !s->kind)
			break;
		if (*(__u32 *)s->addr == d->addr[0]) {
			hit = k + 1;
			break;
		}
	}
	if (!hit)
		return NULL;
	hit--;
	return bpf_map_lookup_elem(&cidr_exact4, &hit);
}

/* d's slot in the IPv6 exact table, or NULL; one exit, as find_exact4(). */
static __always_inline struct awf_exact6_slot *
find_exact6(const struct awf_dst *d)
{
	__u32 mask = exact6_mask, at, hit = 0;

	if (!mask) /* known at load: the verifier drops the rest */
		return NULL;
	at = awf_exact_hash(d->addr, 4);
	for (int i = 0; i < AWF_EXACT_PROBES; i++) {
		__u32 k = (at + i) & mask;
		struct awf_exact6_slot *s =
			bpf_map_lookup_elem(&cidr_exact6, &k);

		if (!s || !s->kind)
			break;
		if (ip6_eq((const __u32 *)s->addr, d->addr)) {
			hit = k + 1;
			break;
		}
	}
	if (!hit)
		return NULL;
	hit--;
	return bpf_map_lookup_elem(&cidr_exact6, &hit);
}

static __always_inline struct awf_rule *
lookup_exact(const struct awf_dst *d, struct awf_rule *buf,
	     const struct awf_port_set **ports)
{
	if (d->family == AF_INET) {
		struct awf_exact4_slot *s = find_exact4(d);

		return s ? exact_rule(s->id, s->kind, s->ports, buf, ports) :
			   NULL;
	}
	struct awf_exact6_slot *s6 = find_exact6(d);

	return s6 ? exact_rule(s6->id, s6->kind, s6->ports, buf, ports) : NULL;
}

/*
 * The kind of d's most specific rule (enum awf_rule_kind), 0 for none:
 * all source_ok() asks, without the rule lookup_cidr() may copy to the
 * stack, which the backstop shares with decide_dst()'s frame (512 bytes
 * in all). Not cached: only datagrams from a loopback source ask.
 */
static __always_inline __u32 rule_kind(const struct awf_dst *d)
{
	struct awf_rule *rule;

	if (d->family == AF_INET) {
		struct awf_exact4_slot *s = find_exact4(d);

		if (s)
			return s->kind;
	} else {
		struct awf_exact6_slot *s6 = find_exact6(d);

		if (s6)
			return s6->kind;
	}
	rule = lookup_trie(d);
	return rule ? rule->kind : 0;
}

/*
 * rule_kind() behind a call where the policy has an exact table: inline,
 * the verifier walked the table's probes once for every state that asks
 * (the backstop: about fifteen, 3000 of its 6600 instructions with a list
 * of 2000 host addresses). Without a table, the trie's look-up inline:
 * not rule_kind(), whose family test before it the verifier walks apart
 * (11,321 -> 11,997 instructions for a DNS-only policy).
 */
AWF_SUBPROG int exact_rule_kind(const struct awf_dst *d)
{
	return d ? rule_kind(d) : 0;
}

static __always_inline __u32 cidr_kind(const struct awf_scope *sc,
				       const struct awf_dst *d)
{
	struct awf_rule *rule;

	/* known at load: the verifier drops the call or the look-up */
	if (d->family == AF_INET ? exact4_mask : exact6_mask)
		return exact_rule_kind(d);
	rule = lookup_trie(d);
	return rule ? rule->kind : 0;
}

/*
 * What cidr_cache holds for an address no rule covers (kind
 * AWF_RULE_NONE). In .rodata, not zeroed on the stack at every look-up:
 * 76 bytes of stores the verifier walked each time (~130 instructions
 * in all for a DNS-only policy) and of the frame every state copies.
 */
static const struct awf_rule no_rule = {};

/*
 * The rules' answer for d: its most specific prefix, or NULL; a pointer
 * into a map, or buf (id and kind only). *ports: the rule's ports. A
 * full-length entry first: its table needs no cache (a probe or two),
 * and leaves the cache to the trie's answers.
 */
static __always_inline struct awf_rule *
lookup_cidr(const struct awf_scope *sc, const struct awf_dst *d,
	    struct awf_rule *buf, const struct awf_port_set **ports)
{
	struct awf_cidr_cache_key key AWF_KEY_ALIGN = { .family = d->family };
	struct awf_rule *rule;

	rule = lookup_exact(d, buf, ports);
	if (rule)
		return rule;
	addr_to_key(key.addr, d->addr);
	rule = bpf_map_lookup_elem(&cidr_cache, &key);
	if (!rule) {
		rule = lookup_trie(d);
		bpf_map_update_elem(&cidr_cache, &key,
				    rule ? rule : (void *)&no_rule,
				    BPF_NOEXIST);
	} else if (rule->kind == AWF_RULE_NONE) {
		return NULL;
	}
	if (rule)
		*ports = &rule->ports;
	return rule;
}

static __always_inline struct awf_learned *
lookup_learned(const struct awf_scope *sc, const struct awf_dst *d)
{
	if (!LEARNS) /* known at load */
		return NULL;
	if (d->family == AF_INET) {
		__u32 k4 = d->addr[0];
		struct awf_learned *learned;

		learned = bpf_map_lookup_elem(&learned4, &k4);
		AWF_KEEP_LOOKUP();
		return learned;
	}
	struct awf_ip6_key k6 AWF_KEY_ALIGN;

	addr_to_key(k6.addr, d->addr);
	return bpf_map_lookup_elem(&learned6, &k6);
}

/* Whether addr (family's, our layout) is an address of this host. */
static __always_inline bool is_host_addr(const struct awf_scope *sc,
					 __u8 family, const __u32 *addr)
{
	if (family == AF_INET) {
		__u32 k4 = addr[0];
		bool found = bpf_map_lookup_elem(&host_addrs4, &k4) != NULL;

		AWF_KEEP_LOOKUP();
		return found;
	}
	struct awf_ip6_key k6;

	__builtin_memcpy(k6.addr, addr, 16);
	return bpf_map_lookup_elem(&host_addrs6, &k6) != NULL;
}

/*
 * An IPv4 destination as one word: address, port, protocol, family (never
 * 0, so the empty memo matches nothing). A single 64-bit store writes it:
 * a program that interrupts another on this CPU (a softirq's packet)
 * replaces the word whole, never half of it, so the memo never holds a
 * mix of two destinations.
 */
static __always_inline __u64 memo_word(const struct awf_dst *d)
{
	return (__u64)d->addr[0] << 32 | (__u32)d->port << 16 |
	       (__u32)d->proto << 8 | d->family;
}

/* This CPU's slot of the memo; NULL past the map's size. */
static __always_inline struct awf_memo_slot *memo_slot(void)
{
	__u32 cpu = bpf_get_smp_processor_id();

	return bpf_map_lookup_elem(&dst_memo, &cpu);
}

/*
 * Whether d is the destination this CPU's backstop last found allowed
 * by the policy (memo_put()). The trie is written once, before the
 * sandbox has a process: such an answer never goes stale.
 */
static __always_inline bool memo_allows(const struct awf_dst *d)
{
	struct awf_memo_slot *memo = memo_slot();

	if (d->family != AF_INET)
		return false;
	return memo && *(volatile __u64 *)&memo->word == memo_word(d);
}

/*
 * Remember d, allowed by a CIDR rule, the proxy or as this host: answers
 * that rest on d alone, unlike a learned address's, which expires.
 */
static __always_inline void memo_put(const struct awf_dst *d)
{
	struct awf_memo_slot *memo = memo_slot();

	if (d->family != AF_INET)
		return;
	if (memo)
		*(volatile __u64 *)&memo->word = memo_word(d);
}

#endif /* AWF_RUN_MAPS_BPF_H */
