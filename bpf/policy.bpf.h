/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * policy.bpf.h - the decision on one destination of one sandbox, the
 * same for the socket hooks and the packet paths. Needs a variant header
 * first (lookup_cidr(), lookup_learned()) and sock_state.bpf.h.
 */
#ifndef AWF_POLICY_BPF_H
#define AWF_POLICY_BPF_H

#include "common.bpf.h"
#include "sock_state.bpf.h"

/*
 * Unrolled: as a loop, every iteration is a new state for the verifier
 * (its counter is precise, and states inside a loop are not pruned), for
 * each state the caller reaches it in. Unrolled, the paths of a range
 * meet again at the next one. The form matters: clang unrolls this one
 * (one exit per range, count checked within the condition), not one that
 * breaks out of the loop at the count.
 */
static __always_inline bool port_in(const volatile struct awf_port_set *set,
				    __u16 port)
{
	__u32 n = set->count;

#pragma clang loop unroll(full)
	for (__u32 i = 0; i < AWF_MAX_PORT_RANGES; i++) {
		if (i < n && port >= set->ranges[i].lo &&
		    port <= set->ranges[i].hi)
			return true;
	}
	return false;
}

struct port_walk {
	const struct awf_port_set *set;
	__u32 port;
	__u32 found;
};

/* Range i of the set (bpf_loop: its body is checked once). 1: found. */
static long port_range_has(__u32 i, struct port_walk *w)
{
	const struct awf_port_range *r;

	if (i >= AWF_MAX_PORT_RANGES)
		return 1;
	r = &w->set->ranges[i];
	if (w->port >= r->lo && w->port <= r->hi) {
		w->found = 1;
		return 1;
	}
	return 0;
}

/*
 * port_in() of a set in a map's value (a rule's, a learned address's): a
 * global function, whose ranges bpf_loop() walks, so that the verifier
 * checks one range, not the 16 an unrolled loop would have it check in
 * every program that calls it (~190 instructions each). The config's own
 * sets stay inline: .rodata is read-only to the programs, and a global
 * function's pointer argument must be writable memory.
 */
AWF_SUBPROG int port_in_map(const struct awf_port_set *set, __u16 port)
{
	struct port_walk w = { .set = set, .port = port };
	__u32 n;

	if (!set)
		return 0;
	n = set->count;
	if (n > AWF_MAX_PORT_RANGES)
		n = AWF_MAX_PORT_RANGES;
	bpf_loop(n, port_range_has, &w, 0);
	return w.found;
}

/*
 * port_in() of the configuration's own set (lo_ports). Under `run` the
 * configuration is .rodata, frozen, its count known at load
 * (AWF_CONFIG_AT_LOAD): a loop, which the verifier walks that many times,
 * where the unrolled form left the code of 16 ranges for it to remove as
 * dead at every load (count 0, the default). The agent's configurations
 * are map values, of a count the verifier does not know: unrolled.
 */
static __always_inline bool
port_in_config(const volatile struct awf_port_set *set, __u16 port)
{
	__u32 n = set->count;

	if (!AWF_CONFIG_AT_LOAD)
		return port_in(set, port);
#pragma clang loop unroll(disable)
	for (__u32 i = 0; i < n && i < AWF_MAX_PORT_RANGES; i++) {
		if (port >= set->ranges[i].lo && port <= set->ranges[i].hi)
			return true;
	}
	return false;
}

static __always_inline bool is_loopback(const struct awf_dst *d)
{
	__u32 first;

	if (d->family == AF_INET) {
		first = bpf_ntohl(d->addr[0]) >> 24;
		/* 0.0.0.0/8 reaches this host too */
		return first == 127 || first == 0;
	}
	/* ::1 and :: (connect to :: means this host) */
	return !(d->addr[0] | d->addr[1] | d->addr[2] |
		 (d->addr[3] & ~bpf_htonl(1)));
}

static __always_inline void allow(struct awf_decision *dec, __u8 reason,
				  __u32 rule_id)
{
	dec->verdict = AWF_ALLOW;
	dec->reason = reason;
	dec->rule_id = rule_id;
}

static __always_inline void deny(struct awf_decision *dec, __u8 reason)
{
	dec->verdict = AWF_DENY;
	dec->reason = reason;
}

/* Audit-only mode: whether a denial for reason proceeds (awf.h). */
static __always_inline bool audit_passes(const struct awf_scope *sc,
					 __u8 reason)
{
	return sc->cfg->audit_only && reason < 64 &&
	       ((AWF_AUDIT_ONLY_REASONS >> reason) & 1);
}

/*
 * Whether the socket that would receive d on this host is one the sandbox
 * bound: only sockets of this sandbox carry our sk_state with bound_port
 * (post_bind). The receiving socket is looked up rather than inferred
 * from the port, so binding port Q on another local address never opens
 * the host's own service on Q.
 */
static __always_inline bool served_by_sandbox(struct bpf_sock_addr *ctx,
					      const struct awf_dst *d)
{
	struct bpf_sock_tuple tuple = {};
	struct awf_sk_state *st;
	struct bpf_sock *sk;
	bool ours;
	__u32 size;

	if (d->family == AF_INET) {
		tuple.ipv4.daddr = d->addr[0];
		tuple.ipv4.dport = bpf_htons(d->port);
		size = sizeof(tuple.ipv4);
	} else {
		tuple.ipv6.daddr[0] = d->addr[0];
		tuple.ipv6.daddr[1] = d->addr[1];
		tuple.ipv6.daddr[2] = d->addr[2];
		tuple.ipv6.daddr[3] = d->addr[3];
		tuple.ipv6.dport = bpf_htons(d->port);
		size = sizeof(tuple.ipv6);
	}
	if (d->proto == IPPROTO_TCP)
		sk = bpf_sk_lookup_tcp(ctx, &tuple, size, BPF_F_CURRENT_NETNS,
				       0);
	else
		sk = bpf_sk_lookup_udp(ctx, &tuple, size, BPF_F_CURRENT_NETNS,
				       0);
	if (!sk)
		return false;
	st = bpf_sk_storage_get(&sk_state, sk, NULL, 0);
	ours = st && st->bound_port && !in_reuseport_group(sk);
	bpf_sk_release(sk);
	return ours;
}

/* The socket hooks' verdict on traffic to this host. */
static __always_inline void decide_loopback(const struct awf_scope *sc,
					    const struct awf_dst *d,
					    struct awf_decision *dec,
					    struct bpf_sock_addr *sa)
{
	if (sc->cfg->localhost_mode == AWF_LO_ALLOW) {
		allow(dec, AWF_R_LOOPBACK, 0);
		return;
	}
	if (sc->cfg->localhost_mode == AWF_LO_SANDBOX &&
	    (port_in_config(&sc->cfg->lo_ports, d->port) ||
	     (sa && served_by_sandbox(sa, d)))) {
		allow(dec, AWF_R_LOOPBACK, 0);
		return;
	}
	deny(dec, AWF_R_LOOPBACK);
}

/*
 * Traffic to this host itself never leaves it: the socket hooks govern it
 * (sa, their context); on the packet paths (sa NULL) it passes.
 */
static __always_inline void decide_local(const struct awf_scope *sc,
					 const struct awf_dst *d,
					 struct awf_decision *dec,
					 struct bpf_sock_addr *sa)
{
	if (!sa) {
		allow(dec, AWF_R_LOOPBACK, 0);
		return;
	}
	decide_loopback(sc, d, dec, sa);
}

static __always_inline bool is_proxy(const struct awf_scope *sc,
				     const struct awf_dst *d)
{
	const volatile struct awf_config *cfg = sc->cfg;

	if (!cfg->proxy_enabled || d->proto != IPPROTO_TCP ||
	    d->family != cfg->proxy_family || d->port != cfg->proxy_port)
		return false;
	if (d->family == AF_INET)
		return d->addr[0] == cfg->proxy_addr[0];
	return ip6_eq(d->addr, cfg->proxy_addr);
}

/* decide_dst(): d is this host, which only the caller can judge */
#define AWF_DST_LOCAL 1

/*
 * The policy: proxy, loopback, reserved ranges, CIDRs, learned addresses;
 * anything else is denied. A port mismatch is remembered so the denial
 * says "port not allowed" rather than "not in policy". One lookup in the
 * CIDR trie at most: it also knows the host's own addresses. Traffic to
 * this host (loopback, a LOCAL rule) returns AWF_DST_LOCAL for decide()
 * to judge: the socket hooks' verdict on it needs their context, which a
 * global function shared with the packet paths cannot take. The body of
 * decide_dst().
 */
static __always_inline int
decide_dst_inline(__u32 slot, const struct awf_dst *d, struct awf_decision *dec)
{
	struct awf_learned *learned;
	struct awf_rule *rule, buf; /* buf: a full-length entry's rule */
	const struct awf_port_set *ports;
	__u8 miss = AWF_R_NOT_IN_POLICY;
	struct awf_scope scope;
	struct awf_scope *sc = &scope;

	if (!d || !dec)
		return 0;
	dec->rule_id = 0;
	dec->name_id = 0;
	dec->name_check = 0;
	/* Fail closed should the sandbox go while its hook runs (agent). */
	if (!scope_of_slot(sc, slot)) {
		deny(dec, AWF_R_NOT_IN_POLICY);
		return 0;
	}
	if (is_proxy(sc, d)) {
		allow(dec, AWF_R_PROXY, 0);
		return 0;
	}
	if (is_loopback(d))
		return AWF_DST_LOCAL;
	if (d->family == AF_INET6 && !sc->cfg->ipv6_enabled) {
		deny(dec, AWF_R_IPV6_DISABLED);
		return 0;
	}
	rule = lookup_cidr(sc, d, &buf, &ports);
	if (rule) {
		if (rule->kind == AWF_RULE_LOCAL)
			return AWF_DST_LOCAL;
		if (rule->kind == AWF_RULE_RESERVED) {
			deny(dec, AWF_R_RESERVED_RANGE);
			dec->rule_id = rule->id;
			return 0;
		}
		if (ALLOWS_CIDRS) { /* else no rule allows: known at load */
			if (port_in_map(ports, d->port)) {
				allow(dec, AWF_R_CIDR, rule->id);
				return 0;
			}
			miss = AWF_R_PORT_NOT_ALLOWED;
		}
	}
	learned = lookup_learned(sc, d);
	if (learned && learned->expires_ns > bpf_ktime_get_ns()) {
		dec->name_id = learned->name_id;
		if (learned->flags & AWF_LEARNED_AUDIT_ONLY) {
			deny(dec, miss);
			return 0;
		}
		if (sc->cfg->proxy_enabled) {
			deny(dec, AWF_R_PROXY_ONLY);
			return 0;
		}
		if (d->proto == IPPROTO_UDP &&
		    !(learned->flags & AWF_LEARNED_UDP)) {
			deny(dec, AWF_R_UDP_TO_NAME);
			return 0;
		}
		if (port_in_map(&learned->ports, d->port)) {
			allow(dec, AWF_R_LEARNED, learned->rule_id);
			dec->name_check =
				d->proto == IPPROTO_TCP &&
				!(learned->flags & AWF_LEARNED_NO_NAME_CHECK);
			return 0;
		}
		miss = AWF_R_PORT_NOT_ALLOWED;
	}
	deny(dec, miss);
	return 0;
}

/*
 * A global function: every path of every program calls it, and inline
 * each would have the verifier walk the whole policy again for each of
 * its own states (decide() says where it is inline all the same).
 */
AWF_SUBPROG int decide_dst(__u32 slot, const struct awf_dst *d,
			   struct awf_decision *dec)
{
	return decide_dst_inline(slot, d, dec);
}

/*
 * The policy's verdict on d (decide_dst()); sa: as decide_local()'s.
 * inline_dst: decide_dst()'s body in place of the call where the variant
 * allows (DECIDE_INLINE_OK), for connect4, whose family the verifier
 * knows there: fewer instructions to verify (1590 -> 1405 with a DNS-only
 * policy), and 45 ns less per call on the busiest hook (bpf_stats, 8
 * alternating rounds: median 453 -> 407 ns), the call's own cost.
 */
static __always_inline void decide(const struct awf_scope *sc,
				   const struct awf_dst *d,
				   struct awf_decision *dec,
				   struct bpf_sock_addr *sa, bool inline_dst)
{
	int local = inline_dst && DECIDE_INLINE_OK ?
			    decide_dst_inline(sc->slot, d, dec) :
			    decide_dst(sc->slot, d, dec);

	if (local == AWF_DST_LOCAL)
		decide_local(sc, d, dec, sa);
}

/* Traffic to this host itself never leaves it: the socket hooks govern it. */
static __always_inline bool is_local(const struct awf_scope *sc,
				     const struct awf_dst *d)
{
	return is_loopback(d) || cidr_kind(sc, d) == AWF_RULE_LOCAL;
}

/*
 * Whether a packet to d may carry the source src (family's, our layout;
 * an IPv4 source only goes with an IPv4 destination): an address of this
 * host, or loopback for traffic that stays on it. Anything else is a
 * spoofed source (IPV6_FREEBIND, IP_TRANSPARENT, a PKTINFO source): the
 * peer's answers, ICMP errors quoting the packet among them, would go to
 * a host the policy never named. Inline in the socket hooks: a global
 * function costs each UDP datagram there about 10-20 ns (measured with
 * is_host_addr()'s look-ups kept apart, AWF_KEEP_LOOKUP(); the 100 ns it
 * once cost were their merge). The packet layers call it through one,
 * packet_source_ok(), for what is not their socket's own TCP.
 */
static __always_inline bool source_ok(const struct awf_scope *sc,
				      const struct awf_dst *d, __u8 family,
				      const __u32 *src)
{
	if (family != d->family)
		return false;
	if (family == AF_INET) {
		if ((bpf_ntohl(src[0]) >> 24) == 127)
			return is_local(sc, d);
	} else if (!(src[0] | src[1] | src[2] | (src[3] ^ bpf_htonl(1)))) {
		return is_local(sc, d);
	}
	return is_host_addr(sc, family, src);
}

#endif /* AWF_POLICY_BPF_H */
