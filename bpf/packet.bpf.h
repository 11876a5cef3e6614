/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * packet.bpf.h - the packet paths (cgroup_skb backstop, the agent's tc
 * layer): parse the IP header and judge the packet by its socket's tag,
 * else by the policy. Needs a variant header first.
 */
#ifndef AWF_PACKET_BPF_H
#define AWF_PACKET_BPF_H

#include "common.bpf.h"
#include "events.bpf.h"
#include "name_check.bpf.h"
#include "policy.bpf.h"
#include "sock_state.bpf.h"

/* off: where the TCP or UDP header starts; kept in *l4 for the caller. */
static __always_inline int parse_ports(struct __sk_buff *skb, __u32 off,
				       struct awf_dst *d, struct awf_src *s,
				       __u32 *l4)
{
	__be16 ports[2];

	if (d->proto != IPPROTO_TCP && d->proto != IPPROTO_UDP)
		return -1;
	*l4 = off;
	if (bpf_skb_load_bytes(skb, off, ports, sizeof(ports)))
		return -1;
	s->port = bpf_ntohs(ports[0]);
	d->port = bpf_ntohs(ports[1]);
	return 0;
}

static __always_inline int parse_ipv4(struct __sk_buff *skb, __u32 l3,
				      struct awf_dst *d, struct awf_src *s,
				      __u32 *l4)
{
	struct iphdr ip;

	if (bpf_skb_load_bytes(skb, l3, &ip, sizeof(ip)))
		return -1;
	d->family = AF_INET;
	d->proto = ip.protocol;
	d->addr[0] = ip.daddr;
	s->addr[0] = ip.saddr;
	if (is_loopback(d))
		return 0;
	/* Sockets the hooks allowed never send fragments past this point. */
	if (ip.frag_off & bpf_htons(IP_MF | IP_OFFSET))
		return -1;
	return parse_ports(skb, l3 + ip.ihl * 4, d, s, l4);
}

static __always_inline int parse_ipv6(struct __sk_buff *skb, __u32 l3,
				      struct awf_dst *d, struct awf_src *s,
				      __u32 *l4)
{
	struct ipv6hdr ip6;

	if (bpf_skb_load_bytes(skb, l3, &ip6, sizeof(ip6)))
		return -1;
	d->family = AF_INET6;
	d->proto = ip6.nexthdr;
	__builtin_memcpy(d->addr, &ip6.daddr, 16);
	__builtin_memcpy(s->addr, &ip6.saddr, 16);
	if (is_loopback(d))
		return 0;
	/* Extension headers are not something TCP/UDP sockets send. */
	return parse_ports(skb, l3 + sizeof(ip6), d, s, l4);
}

/*
 * Whether a packet of the sandbox sc may leave: AWF_R_NONE, or the
 * reason it may not (dropped): a source not of this host
 * (AWF_R_SPOOFED_SOURCE), then the destination. l3 is where its IP header starts; why a
 * drop: d and src are filled for its audit event.
 */
static __always_inline __u8 packet_verdict(struct __sk_buff *skb, __u32 l3,
					   const struct awf_scope *sc,
					   struct awf_dst *d,
					   struct awf_src *src, __u8 why)
{
	struct awf_sk_state *st;
	struct awf_decision dec;
	__u32 l4 = 0;
	int err = -1;

	if (skb->protocol == bpf_htons(ETH_P_IP))
		err = parse_ipv4(skb, l3, d, src, &l4);
	else if (skb->protocol == bpf_htons(ETH_P_IPV6))
		err = parse_ipv6(skb, l3, d, src, &l4);
	if (err)
		return why;
	/* Whatever its destination: no source that is not this host's. */
	if (!source_ok(sc, d, d->family, src->addr))
		return AWF_R_SPOOFED_SOURCE;
	/* One storage lookup: the socket's tag and its name check. */
	st = sk_state_of_skb(skb);
	if (d->proto == IPPROTO_TCP && l4 && unchecked_payload(skb, st, l4))
		return AWF_R_NAME_UNCHECKED;
	/* A learned address's tag outlives the address (tag_allowed()). */
	if (matches_tag(st, d))
		return AWF_R_NONE;
	decide(sc, d, &dec, NULL);
	if (dec.verdict == AWF_ALLOW)
		return AWF_R_NONE;
	/* connect() let it through (sock_addr.bpf.h, enforce()) */
	return dec.reason == AWF_R_UDP_TO_NAME ? dec.reason : why;
}

static __always_inline void packet_dropped(struct __sk_buff *skb, __u32 slot,
					   __u8 reason, const struct awf_dst *d,
					   const struct awf_src *src)
{
	struct awf_decision dec = { .verdict = AWF_DENY, .reason = reason };

	count(slot, AWF_C_PACKETS_DROPPED);
	count_denial(slot, reason);
	emit(slot, AWF_EV_PACKET, d, src, &dec, bpf_skb_cgroup_id(skb));
}

/*
 * Audit-only mode: a packet the policy refuses (audit_passes()) leaves,
 * with the event of its drop. A datagram of a UDP socket connect() let
 * through (udp_to_name) tags the socket with its destination, so that
 * one event stands for the socket's datagrams there, not one per packet.
 */
static __always_inline void packet_audited(struct __sk_buff *skb, __u32 slot,
					   __u8 reason, const struct awf_dst *d,
					   const struct awf_src *src)
{
	struct awf_decision dec = { .verdict = AWF_DENY,
				    .reason = reason,
				    .audit_only = 1 };
	struct awf_sk_state *st = sk_state_of_skb(skb);

	if (st && reason == AWF_R_UDP_TO_NAME) {
		st->allowed_family = d->family;
		st->allowed_port = d->port;
		__builtin_memcpy(st->allowed_addr, d->addr, 16);
	}
	count(slot, AWF_C_PACKETS_DROPPED);
	count_denial(slot, reason);
	emit(slot, AWF_EV_PACKET, d, src, &dec, bpf_skb_cgroup_id(skb));
}

#endif /* AWF_PACKET_BPF_H */
