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

/*
 * Where the headers a packet's parser reads may start: the agent's uplinks
 * put the IP header behind a link header of at most this many bytes.
 */
#define L3_MAX 64

/*
 * len bytes of the packet at off: in place when the skb's linear part
 * holds them (the headers of every packet the stack builds), else copied
 * into buf; NULL if the packet is shorter. Reading in place spares a
 * helper call and a copy per header on every packet.
 */
static __always_inline const void *header_at(struct __sk_buff *skb, __u32 off,
					     void *buf, __u32 len)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;

	if (off <= L3_MAX + 60 && data + off + len <= end)
		return data + off;
	if (bpf_skb_load_bytes(skb, off, buf, len))
		return NULL;
	return buf;
}

/* off: where the TCP or UDP header starts; kept in *l4 for the caller. */
static __always_inline int parse_ports(struct __sk_buff *skb, __u32 off,
				       struct awf_dst *d, struct awf_src *s,
				       __u32 *l4)
{
	const __be16 *ports;
	__be16 buf[2];

	if (d->proto != IPPROTO_TCP && d->proto != IPPROTO_UDP)
		return -1;
	*l4 = off;
	ports = header_at(skb, off, buf, sizeof(buf));
	if (!ports)
		return -1;
	s->port = bpf_ntohs(ports[0]);
	d->port = bpf_ntohs(ports[1]);
	return 0;
}

static __always_inline int parse_ipv4(struct __sk_buff *skb, __u32 l3,
				      struct awf_dst *d, struct awf_src *s,
				      __u32 *l4)
{
	const struct iphdr *ip;
	struct iphdr buf;

	ip = header_at(skb, l3, &buf, sizeof(buf));
	if (!ip)
		return -1;
	d->family = AF_INET;
	d->proto = ip->protocol;
	d->addr[0] = ip->daddr;
	s->addr[0] = ip->saddr;
	if (is_loopback(d))
		return 0;
	/* Sockets the hooks allowed never send fragments past this point. */
	if (ip->frag_off & bpf_htons(IP_MF | IP_OFFSET))
		return -1;
	return parse_ports(skb, l3 + ip->ihl * 4, d, s, l4);
}

static __always_inline int parse_ipv6(struct __sk_buff *skb, __u32 l3,
				      struct awf_dst *d, struct awf_src *s,
				      __u32 *l4)
{
	const struct ipv6hdr *ip6;
	struct ipv6hdr buf;

	ip6 = header_at(skb, l3, &buf, sizeof(buf));
	if (!ip6)
		return -1;
	d->family = AF_INET6;
	d->proto = ip6->nexthdr;
	__builtin_memcpy(d->addr, &ip6->daddr, 16);
	__builtin_memcpy(s->addr, &ip6->saddr, 16);
	if (is_loopback(d))
		return 0;
	/* Extension headers are not something TCP/UDP sockets send. */
	return parse_ports(skb, l3 + sizeof(*ip6), d, s, l4);
}

/*
 * Whether a TCP packet carries its own socket's address (sk: its full
 * socket), which needs no look-up in the host's addresses: the kernel
 * builds every TCP header from the socket's address, and only
 * IP_TRANSPARENT or TCP_REPAIR (CAP_NET_ADMIN, dropped) would let it
 * carry another. That address is one bind4/6 let through (loopback or
 * this host's), one the kernel picked from this host's routes at
 * connect(), or the local end of a connection this host received. Only
 * where those hooks run on every socket of the sandbox (the cgroup_skb
 * backstop; not the agent's tc layer, which is there for sockets that got
 * past them). Loopback and unset sources take the full check (loopback
 * only towards this host).
 */
static __always_inline bool
own_tcp_source(struct bpf_sock *sk, const struct awf_dst *d, const __u32 *src)
{
	if (!sk || d->proto != IPPROTO_TCP || sk->protocol != IPPROTO_TCP)
		return false;
	if (d->family == AF_INET)
		return src[0] == sk->src_ip4 && src[0] &&
		       (bpf_ntohl(src[0]) >> 24) != 127;
	if ((src[0] ^ sk->src_ip6[0]) | (src[1] ^ sk->src_ip6[1]) |
	    (src[2] ^ sk->src_ip6[2]) | (src[3] ^ sk->src_ip6[3]))
		return false;
	return src[0] | src[1] | src[2] | (src[3] & ~bpf_htonl(1));
}

/*
 * source_ok() for the packet layers, a global function: inline, its
 * look-ups were walked once for each of the ~16 states the parse and
 * the socket's tests leave. The socket hooks keep it inline (each call
 * there costs a datagram 10-20 ns, see source_ok()); here it is one
 * call per packet that is not its socket's own TCP.
 */
AWF_SUBPROG int packet_source_ok(__u32 slot, const struct awf_dst *d,
				 const struct awf_src *src)
{
	/*
	 * source_ok() reads the slot of a scope, nothing else (no cfg: a
	 * read of it here would fail the load, not pass).
	 */
	struct awf_scope sc = { .slot = slot };

	if (!d || !src)
		return 0;
	return source_ok(&sc, d, d->family, src->addr);
}

/*
 * Whether a packet of the sandbox sc may leave: AWF_R_NONE, or the
 * reason it may not (dropped): a source not of this host
 * (AWF_R_SPOOFED_SOURCE), then the destination. l3 is where its IP
 * header starts; hooks_ran: whether the socket hooks of the sandbox ran
 * for the packet's socket (own_tcp_source()); why a drop: d and src are
 * filled for its audit event.
 */
static __always_inline __u8 packet_verdict(struct __sk_buff *skb, __u32 l3,
					   const struct awf_scope *sc,
					   struct awf_dst *d,
					   struct awf_src *src, __u8 why,
					   bool hooks_ran)
{
	struct awf_sk_state *st;
	struct awf_decision dec;
	struct bpf_sock *sk;
	__u32 l4 = 0;
	int err = -1;

	if (skb->protocol == bpf_htons(ETH_P_IP))
		err = parse_ipv4(skb, l3, d, src, &l4);
	else if (skb->protocol == bpf_htons(ETH_P_IPV6))
		err = parse_ipv6(skb, l3, d, src, &l4);
	if (err)
		return why;
	/*
	 * The socket after the parse, not before: the verifier would walk
	 * the parse once with a socket and once without. Its one storage
	 * lookup (the tag and the name check) before the source's check,
	 * after which sk is dead: the source's check is walked once per
	 * state st can be in, not once per exit of own_tcp_source().
	 */
	sk = full_sock_of_skb(skb);
	st = may_tag(sc) ? sk_state_of(sk, false) : NULL;
	/* Whatever its destination: no source that is not this host's. */
	if (!(hooks_ran && own_tcp_source(sk, d, src->addr)) &&
	    !packet_source_ok(sc->slot, d, src))
		return AWF_R_SPOOFED_SOURCE;
	/*
	 * LEARNS here, not in unchecked_payload(): first, it spares the
	 * verifier the protocol tests too (+149 instructions inside).
	 */
	if (LEARNS && d->proto == IPPROTO_TCP && l4 &&
	    unchecked_payload(skb, st, l4))
		return AWF_R_NAME_UNCHECKED;
	/* A learned address's tag outlives the address (tag_allowed()). */
	if (matches_tag(st, d) || memo_allows(d))
		return AWF_R_NONE;
	decide(sc, d, &dec, NULL, false);
	if (dec.verdict == AWF_ALLOW) {
		if (dec.reason == AWF_R_CIDR || dec.reason == AWF_R_PROXY ||
		    dec.reason == AWF_R_LOOPBACK)
			memo_put(d);
		return AWF_R_NONE;
	}
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
