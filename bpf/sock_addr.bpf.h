/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * sock_addr.bpf.h - the socket address hooks (connect, sendmsg, recvmsg,
 * getpeername, bind): reading and rewriting the address of a
 * struct bpf_sock_addr, the verdict on it, the DNS redirect and hiding it
 * again. Needs a variant header first.
 */
#ifndef AWF_SOCK_ADDR_BPF_H
#define AWF_SOCK_ADDR_BPF_H

#include "common.bpf.h"
#include "events.bpf.h"
#include "policy.bpf.h"
#include "sock_state.bpf.h"

static __always_inline void emit_sock(const struct awf_scope *sc,
				      struct bpf_sock_addr *ctx, __u8 kind,
				      const struct awf_dst *d,
				      const struct awf_decision *dec)
{
	struct awf_src src = {};

	src_of_sock(ctx->sk, &src);
	emit(sc->slot, kind, d, &src, dec, bpf_get_current_cgroup_id());
}

static __always_inline int enforce(const struct awf_scope *sc,
				   struct bpf_sock_addr *ctx,
				   const struct awf_dst *d, __u8 kind, bool v6)
{
	bool is_connect = kind == AWF_EV_CONNECT;
	struct awf_decision dec = {};

	decide(sc, d, &dec, ctx, is_connect && !v6);
	if (dec.verdict == AWF_ALLOW) {
		count(sc->slot, is_connect ? AWF_C_CONNECT_ALLOWED :
					     AWF_C_SENDMSG_ALLOWED);
		tag_allowed(ctx->sk, sc, d, &dec);
		if (sc->cfg->audit_allowed)
			emit_sock(sc, ctx, kind, d, &dec);
		return VERDICT_PROCEED;
	}
	/*
	 * A UDP connect() sends nothing, and glibc's getaddrinfo() connects
	 * one to each address it sorts (RFC 6724): refusing it would reorder
	 * a name's addresses for its TCP clients. Untagged, the socket's
	 * datagrams meet the backstop, which refuses them.
	 */
	if (is_connect && dec.reason == AWF_R_UDP_TO_NAME) {
		/* audit-only: room for the tag of packet_audited() */
		if (sc->cfg->audit_only)
			sk_state_of(ctx->sk, true);
		return VERDICT_PROCEED;
	}
	count(sc->slot,
	      is_connect ? AWF_C_CONNECT_DENIED : AWF_C_SENDMSG_DENIED);
	count_denial(sc->slot, dec.reason);
	dec.audit_only = audit_passes(sc, dec.reason);
	if (dec.audit_only)
		tag_allowed(ctx->sk, sc, d, &dec);
	emit_sock(sc, ctx, kind, d, &dec);
	return dec.audit_only ? VERDICT_PROCEED : VERDICT_REFUSE;
}

static __always_inline void note_redirect(const struct awf_scope *sc,
					  struct bpf_sock_addr *ctx,
					  const struct awf_dst *d, __u8 kind)
{
	struct awf_decision dec = { .verdict = AWF_REDIRECT,
				    .reason = AWF_R_DNS_REDIRECT };

	remember_dns_origin(ctx->sk, d);
	count(sc->slot, AWF_C_DNS_REDIRECTED);
	if (sc->cfg->audit_allowed)
		emit_sock(sc, ctx, kind, d, &dec);
}

/* The four words of user_ip6: one 32-bit ctx load each. */
static __always_inline void ctx_ip6(const struct bpf_sock_addr *ctx,
				    __u32 ip6[4])
{
	ip6[0] = ctx->user_ip6[0];
	ip6[1] = ctx->user_ip6[1];
	ip6[2] = ctx->user_ip6[2];
	ip6[3] = ctx->user_ip6[3];
}

/*
 * Rewrite user_ip6 with addr (our layout; IPv4 goes in v4-mapped form).
 * Each branch is straight-line CTX_STOREs, which clang cannot merge into
 * the 64-bit store the verifier rejects.
 */
static __always_inline void ctx_set_ip6(struct bpf_sock_addr *ctx, __u8 family,
					const volatile __u32 *addr)
{
	if (family == AF_INET) {
		CTX_STORE(ctx->user_ip6[0], 0);
		CTX_STORE(ctx->user_ip6[1], 0);
		CTX_STORE(ctx->user_ip6[2], bpf_htonl(0xffff));
		CTX_STORE(ctx->user_ip6[3], addr[0]);
		return;
	}
	CTX_STORE(ctx->user_ip6[0], addr[0]);
	CTX_STORE(ctx->user_ip6[1], addr[1]);
	CTX_STORE(ctx->user_ip6[2], addr[2]);
	CTX_STORE(ctx->user_ip6[3], addr[3]);
}

/*
 * The address a socket hook was given, of an IPv4 socket or (v6) of an
 * IPv6 one; v6 is a constant at every call site, so each program keeps
 * only its own ctx accesses.
 */
static __always_inline void
dst_from_ctx(struct awf_dst *d, const struct bpf_sock_addr *ctx, bool v6)
{
	__u32 ip6[4];

	d->proto = ctx->protocol;
	d->port = bpf_ntohs((__u16)ctx->user_port);
	if (!v6) {
		d->family = AF_INET;
		d->addr[0] = ctx->user_ip4;
		return;
	}
	ctx_ip6(ctx, ip6);
	d->family = addr_from_ip6(d->addr, ip6);
}

/*
 * Send a DNS query to the endpoint: dns_ip4 for an IPv4 server, v4-mapped
 * on an IPv6 socket so that dual-stack sockets keep working; dns_ip6 for
 * a native IPv6 one.
 */
static __always_inline void redirect(const struct awf_scope *sc,
				     struct bpf_sock_addr *ctx,
				     const struct awf_dst *d, bool v6)
{
	const volatile struct awf_config *cfg = sc->cfg;

	if (!v6)
		CTX_STORE(ctx->user_ip4, cfg->dns_ip4);
	else if (d->family == AF_INET)
		ctx_set_ip6(ctx, AF_INET, &cfg->dns_ip4);
	else
		ctx_set_ip6(ctx, AF_INET6, cfg->dns_ip6);
	CTX_STORE(ctx->user_port, bpf_htons(cfg->dns_port));
}

static __always_inline bool is_dns(const struct awf_dst *d)
{
	return d->port == AWF_DNS_PORT &&
	       (d->proto == IPPROTO_UDP || d->proto == IPPROTO_TCP);
}

/*
 * The source sendmsg() chose with IP_PKTINFO / IPV6_PKTINFO (or the
 * socket's bound address), into src; false when there is none (0).
 */
static __always_inline bool msg_src(struct awf_src *src,
				    const struct bpf_sock_addr *ctx, bool v6,
				    __u8 *family)
{
	__u32 ip6[4];

	if (!v6) {
		*family = AF_INET;
		src->addr[0] = ctx->msg_src_ip4;
		return src->addr[0] != 0;
	}
	ip6[0] = ctx->msg_src_ip6[0];
	ip6[1] = ctx->msg_src_ip6[1];
	ip6[2] = ctx->msg_src_ip6[2];
	ip6[3] = ctx->msg_src_ip6[3];
	if (!(ip6[0] | ip6[1] | ip6[2] | ip6[3]))
		return false;
	*family = addr_from_ip6(src->addr, ip6);
	return true;
}

/*
 * A datagram whose source is not this host's (see source_ok()): refused,
 * and audited with that source.
 */
static __always_inline int refuse_source(const struct awf_scope *sc,
					 struct bpf_sock_addr *ctx,
					 const struct awf_dst *d,
					 struct awf_src *src)
{
	struct awf_decision dec = { .verdict = AWF_DENY,
				    .reason = AWF_R_SPOOFED_SOURCE };

	if (ctx->sk)
		src->port = (__u16)ctx->sk->src_port;
	count(sc->slot, AWF_C_SENDMSG_DENIED);
	count_denial(sc->slot, dec.reason);
	emit(sc->slot, AWF_EV_SENDMSG, d, src, &dec,
	     bpf_get_current_cgroup_id());
	return VERDICT_REFUSE;
}

/* connect and sendmsg (kind), of an IPv4 socket or (v6) an IPv6 one. */
static __always_inline int hook(struct bpf_sock_addr *ctx, __u8 kind, bool v6)
{
	struct awf_scope sc;
	struct awf_dst d = {};
	struct awf_src src = {};
	__u8 src_family = 0;

	if (!scope_current(&sc))
		return VERDICT_REFUSE;
	if (sc.cfg->unrestricted)
		return VERDICT_PROCEED;
	dst_from_ctx(&d, ctx, v6);
	if (kind == AWF_EV_SENDMSG && msg_src(&src, ctx, v6, &src_family) &&
	    !source_ok(&sc, &d, src_family, src.addr))
		return refuse_source(&sc, ctx, &d, &src);
	/*
	 * A connected UDP socket's send with ancillary data (PKTINFO, GSO,
	 * TCLASS...) runs sendmsg with no address at all: it goes to the
	 * peer connect() judged, and the backstop judges its packets.
	 */
	if (kind == AWF_EV_SENDMSG &&
	    !(d.port | d.addr[0] | d.addr[1] | d.addr[2] | d.addr[3]))
		return VERDICT_PROCEED;
	if (!is_dns(&d))
		return enforce(&sc, ctx, &d, kind, v6);
	note_redirect(&sc, ctx, &d, kind);
	redirect(&sc, ctx, &d, v6);
	return VERDICT_PROCEED;
}

static __always_inline bool is_endpoint(const struct awf_scope *sc,
					const struct bpf_sock_addr *ctx,
					bool v6)
{
	__u32 ip6[4];

	if (bpf_ntohs((__u16)ctx->user_port) != sc->cfg->dns_port)
		return false;
	if (!v6)
		return ctx->user_ip4 == sc->cfg->dns_ip4;
	ctx_ip6(ctx, ip6);
	if (is_v4mapped(ip6))
		return ip6[3] == sc->cfg->dns_ip4;
	return ip6_eq(ip6, sc->cfg->dns_ip6);
}

/* The server a redirected socket asked for, if the peer is the endpoint. */
static __always_inline struct awf_sk_state *
dns_origin(const struct awf_scope *sc, struct bpf_sock_addr *ctx, bool v6)
{
	struct awf_sk_state *st;

	if (!is_endpoint(sc, ctx, v6))
		return NULL;
	st = sk_state_of(ctx->sk, false);
	if (!st || !st->orig_family)
		return NULL;
	/* An IPv4 socket only ever asked an IPv4 server. */
	if (!v6 && st->orig_family != AF_INET)
		return NULL;
	return st;
}

/*
 * recvmsg and getpeername: the peer the kernel reports is the endpoint,
 * show the server the socket asked for instead.
 */
static __always_inline int restore(struct bpf_sock_addr *ctx, bool v6)
{
	struct awf_sk_state *st;
	struct awf_scope sc;

	if (!scope_current(&sc))
		return VERDICT_PROCEED; /* nothing of ours to hide */
	st = dns_origin(&sc, ctx, v6);
	if (!st)
		return VERDICT_PROCEED;
	if (v6)
		ctx_set_ip6(ctx, st->orig_family, (__u32 *)st->orig_addr);
	else
		CTX_STORE(ctx->user_ip4, *(__u32 *)st->orig_addr);
	CTX_STORE(ctx->user_port, bpf_htons(st->orig_port));
	return VERDICT_PROCEED;
}

/*
 * A bind off loopback with a port (AWF_R_BIND_NOT_LOOPBACK), or to an
 * address not of this host (AWF_R_SPOOFED_SOURCE; see awf_bind4): refused,
 * and audited: the event filled inline (emit_inline()).
 */
static __always_inline int refuse_bind(const struct awf_scope *sc,
				       struct bpf_sock_addr *ctx,
				       const struct awf_dst *d, __u8 reason)
{
	struct awf_decision dec = { .verdict = AWF_DENY, .reason = reason };
	struct awf_src src = {};

	count_denial(sc->slot, dec.reason);
	src_of_sock(ctx->sk, &src);
	emit_inline(sc->slot, AWF_EV_BIND, d, &src, &dec,
		    bpf_get_current_cgroup_id());
	return VERDICT_REFUSE;
}

/* An unfiltered subtree keeps its binds; a failed lookup does not. */
static __always_inline bool bind_unconfined(struct awf_scope *sc)
{
	return scope_current(sc) && sc->cfg->unrestricted;
}

#endif /* AWF_SOCK_ADDR_BPF_H */
