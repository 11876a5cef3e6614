// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * awf.bpf.c - the egress policy of the sandboxes: the programs. Built
 * twice: plainly for `awf-bpf run` (one sandbox, run_maps.bpf.h) and with
 * -DAWF_AGENT for the agent (every sandbox of the host, agent_maps.bpf.h);
 * the logic they share is in the headers, by concern: policy.bpf.h (the
 * decision), sock_addr.bpf.h (the address hooks), sock_state.bpf.h (per
 * socket state), packet.bpf.h (the packet paths), events.bpf.h (audit).
 *
 * Socket hooks decide at connect()/sendmsg() time, so a denial is an
 * immediate EPERM rather than a hanging connection. Port 53 of any server
 * is rewritten to the awf-bpf DNS endpoint and the rewrite is hidden again
 * on recvmsg()/getpeername(). sock_create refuses every socket type whose
 * traffic the address hooks cannot see. The cgroup_skb egress program is
 * the backstop: it parses each packet and drops whatever no socket-level
 * verdict allowed.
 */
#include "common.bpf.h"
#ifdef AWF_AGENT
#include "agent_maps.bpf.h"
#else
#include "run_maps.bpf.h"
#endif
#include "events.bpf.h"
#include "sock_state.bpf.h"
#include "policy.bpf.h"
#include "sock_addr.bpf.h"
#include "packet.bpf.h"
#include "name_check.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * `run` loads its programs in groups, two at once on two CPUs
 * (user/kernel/group_load.h). The core, loaded first, creates the maps
 * and has one small program (a light skeleton needs one): built with
 * -DAWF_CORE_ONLY, every map and that program alone. The groups are
 * each some programs of the whole object (the Makefile's GROUP_PROGS_*),
 * so that all of them embed its BTF, which is loaded once for all.
 */
#ifndef AWF_CORE_ONLY
#define AWF_CORE_ONLY 0
#endif

SEC("cgroup/recvmsg4")
int awf_recvmsg4(struct bpf_sock_addr *ctx)
{
	return restore(ctx, false);
}

#if !AWF_CORE_ONLY
SEC("cgroup/connect4")
int awf_connect4(struct bpf_sock_addr *ctx)
{
	return hook(ctx, AWF_EV_CONNECT, false);
}

SEC("cgroup/connect6")
int awf_connect6(struct bpf_sock_addr *ctx)
{
	return hook(ctx, AWF_EV_CONNECT, true);
}

SEC("cgroup/sendmsg4")
int awf_sendmsg4(struct bpf_sock_addr *ctx)
{
	return hook(ctx, AWF_EV_SENDMSG, false);
}

SEC("cgroup/sendmsg6")
int awf_sendmsg6(struct bpf_sock_addr *ctx)
{
	return hook(ctx, AWF_EV_SENDMSG, true);
}

SEC("cgroup/recvmsg6")
int awf_recvmsg6(struct bpf_sock_addr *ctx)
{
	return restore(ctx, true);
}

SEC("cgroup/getpeername4")
int awf_getpeername4(struct bpf_sock_addr *ctx)
{
	return restore(ctx, false);
}

SEC("cgroup/getpeername6")
int awf_getpeername6(struct bpf_sock_addr *ctx)
{
	return restore(ctx, true);
}

/*
 * Only TCP and UDP: their every destination passes the address hooks.
 * Raw, ICMP (ping) sockets, SCTP, MPTCP and UDP-Lite would not.
 */
SEC("cgroup/sock_create")
int awf_sock_create(struct bpf_sock *ctx)
{
	struct awf_decision dec = { .verdict = AWF_DENY,
				    .reason = AWF_R_SOCKET_TYPE };
	struct awf_scope sc = {};
	struct awf_dst d = {};
	struct awf_src src = {};

	/*
	 * TCP and UDP pass in every scope: tested first, so that the
	 * sockets of nearly every program cost no look-up of the scope.
	 */
	if ((ctx->type == SOCK_STREAM && ctx->protocol == IPPROTO_TCP) ||
	    (ctx->type == SOCK_DGRAM && ctx->protocol == IPPROTO_UDP))
		return VERDICT_PROCEED;
	/* Without a sandbox, slot 0's counters take the denial. */
	if (scope_current(&sc) && sc.cfg->unrestricted)
		return VERDICT_PROCEED;

	count(sc.slot, AWF_C_SOCKET_DENIED);
	count_denial(sc.slot, dec.reason);
	d.family = ctx->family;
	d.proto = ctx->protocol;
	src.sock_type = ctx->type;
	src.sock_proto = ctx->protocol;
	emit_inline(sc.slot, AWF_EV_SOCK_CREATE, &d, &src, &dec,
		    bpf_get_current_cgroup_id());
	return VERDICT_REFUSE;
}

/*
 * Listening ports stay on loopback. A port open to the outside world is a
 * covert channel even when every reply is dropped: an outside host reads
 * it from the kernel's RST (closed) against the backstop's silence (open).
 * A wildcard bind is narrowed to loopback so that local servers keep
 * working; a bind to any other address with a port is refused. Port 0
 * stays free for clients that pick their source address, but only an
 * address of this host: IP_FREEBIND, IP_TRANSPARENT or ip_nonlocal_bind
 * would let a socket bind (and, for IPv6, send from) any address.
 */
SEC("cgroup/bind4")
int awf_bind4(struct bpf_sock_addr *ctx)
{
	struct awf_scope sc = {};
	struct awf_dst d = {};
	__u8 reason = AWF_R_BIND_NOT_LOOPBACK;

	if (bind_unconfined(&sc))
		return VERDICT_PROCEED;
	dst_from_ctx(&d, ctx, false);
	if ((bpf_ntohl(d.addr[0]) >> 24) == 127)
		return VERDICT_PROCEED;
	if (d.addr[0] == 0) {
		if (d.port)
			CTX_STORE(ctx->user_ip4, bpf_htonl(0x7f000001));
		return VERDICT_PROCEED;
	}
	if (!d.port) {
		if (is_host_addr(&sc, AF_INET, d.addr))
			return VERDICT_PROCEED;
		reason = AWF_R_SPOOFED_SOURCE;
	}
	/* one refusal: each would have the event filled inline */
	return refuse_bind(&sc, ctx, &d, reason);
}

/*
 * [::] becomes 127.0.0.1 (v4-mapped) on a dual-stack socket: scripts name
 * 127.0.0.1 far more often than [::1], and clients of "localhost" try
 * both. An IPV6_V6ONLY socket gets ::1.
 */
SEC("cgroup/bind6")
int awf_bind6(struct bpf_sock_addr *ctx)
{
	struct awf_scope sc = {};
	struct awf_dst d = {};
	__u8 reason = AWF_R_BIND_NOT_LOOPBACK;
	bool any;

	if (bind_unconfined(&sc))
		return VERDICT_PROCEED;
	dst_from_ctx(&d, ctx, true);
	if (d.family == AF_INET) {
		if ((bpf_ntohl(d.addr[0]) >> 24) == 127)
			return VERDICT_PROCEED;
		any = d.addr[0] == 0;
	} else {
		any = !d.addr[0] && !d.addr[1] && !d.addr[2];
		if (any && d.addr[3] == bpf_htonl(1))
			return VERDICT_PROCEED;
		any = any && d.addr[3] == 0;
	}
	if (!any && !d.port) {
		if (is_host_addr(&sc, d.family, d.addr))
			return VERDICT_PROCEED;
		reason = AWF_R_SPOOFED_SOURCE;
	} else if (any && !d.port) {
		return VERDICT_PROCEED;
	} else if (any && d.family == AF_INET6) {
		if (v6only(ctx->sk)) {
			CTX_STORE(ctx->user_ip6[3], bpf_htonl(1));
			return VERDICT_PROCEED;
		}
		CTX_STORE(ctx->user_ip6[2], bpf_htonl(0xffff));
		CTX_STORE(ctx->user_ip6[3], bpf_htonl(0x7f000001));
		return VERDICT_PROCEED;
	}
	/*
	 * Off loopback with a port, ::ffff:0.0.0.0 with a port among them, or
	 * a source not of this host. One refusal: each would have the event
	 * filled inline.
	 */
	return refuse_bind(&sc, ctx, &d, reason);
}

/* Loopback ports the sandbox serves on, for localhost "sandbox" mode. */
SEC("cgroup/post_bind4")
int awf_post_bind4(struct bpf_sock *ctx)
{
	hold_lo_port(ctx);
	return VERDICT_PROCEED;
}

SEC("cgroup/post_bind6")
int awf_post_bind6(struct bpf_sock *ctx)
{
	hold_lo_port(ctx);
	return VERDICT_PROCEED;
}

/*
 * Where the served ports are counted (the agent), the count goes down with
 * the socket. `run` counts nothing: no program runs at a socket's release.
 */
#ifdef LO_PORTS_COUNTED
SEC("cgroup/sock_release")
int awf_sock_release(struct bpf_sock *ctx)
{
	release_lo_port(ctx);
	return VERDICT_PROCEED;
}
#endif

SEC("cgroup_skb/egress")
int awf_egress(struct __sk_buff *skb)
{
	__u8 why = AWF_R_BACKSTOP;
	struct awf_scope sc = {};
	struct awf_src src = {};
	struct awf_dst d = {};

	if (scope_of_skb(&sc, skb)) {
		if (sc.cfg->unrestricted)
			return VERDICT_PROCEED;
		why = packet_verdict(skb, 0, &sc, &d, &src, why, true);
		if (why == AWF_R_NONE)
			return VERDICT_PROCEED;
		if (audit_passes(&sc, why)) {
			packet_audited(skb, sc.slot, why, &d, &src);
			return VERDICT_PROCEED;
		}
	}
	packet_dropped(skb, sc.slot, why, &d, &src);
	return VERDICT_REFUSE;
}

/*
 * Names on shared addresses (name_check.bpf.h): a connection to a learned
 * address enters name_socks once established; its first send()s meet
 * awf_first_bytes. `run` loads them (group NAMES) only for a policy that
 * checks names.
 */
SEC("sockops")
int awf_sockops(struct bpf_sock_ops *skops)
{
	await_first_bytes(skops);
	release_checked(skops);
	return 1;
}

SEC("sk_msg")
int awf_first_bytes(struct sk_msg_md *msg)
{
	return check_first_bytes(msg);
}
#endif /* !AWF_CORE_ONLY */

#ifdef AWF_AGENT
/* Host-wide layer (agent only) ----------------------------------------- */

#define TC_ACT_OK 0
#define TC_ACT_SHOT 2
#define ETH_HLEN 14

/*
 * Every packet leaving an uplink whose socket belongs to a sandbox is
 * judged again by that sandbox's policy, as awf's DOCKER-USER chain: it
 * holds if a socket ever got past the cgroup programs (detached by hand,
 * a cgroup outside their attach point). Packets without a socket of a
 * sandbox are the host's, not ours to judge.
 */
SEC("tc")
int awf_tc_egress(struct __sk_buff *skb)
{
	__u32 ifindex = skb->ifindex, l3 = ETH_HLEN, *off;
	__u8 why;
	struct awf_scope sc = {};
	struct awf_src src = {};
	struct awf_dst d = {};

	if (!bpf_skb_cgroup_id(skb) || !scope_of_skb(&sc, skb) ||
	    sc.cfg->unrestricted)
		return TC_ACT_OK;
	off = bpf_map_lookup_elem(&uplinks, &ifindex);
	if (off)
		l3 = *off;
	why = packet_verdict(skb, l3, &sc, &d, &src, AWF_R_TC_EGRESS, false);
	if (why == AWF_R_NONE)
		return TC_ACT_OK;
	if (audit_passes(&sc, why)) {
		packet_audited(skb, sc.slot, why, &d, &src);
		return TC_ACT_OK;
	}
	packet_dropped(skb, sc.slot, why, &d, &src);
	return TC_ACT_SHOT;
}
#endif
