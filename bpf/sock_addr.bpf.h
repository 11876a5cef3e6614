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
				   const struct awf_dst *d, __u8 kind)
{
	bool is_connect = kind == AWF_EV_CONNECT;
	struct awf_decision dec = {};

	decide(sc, d, &dec, ctx);
	if (dec.verdict == AWF_ALLOW) {
		count(sc->slot, is_connect ? AWF_C_CONNECT_ALLOWED :
					     AWF_C_SENDMSG_ALLOWED);
		tag_allowed(ctx->sk, d);
		if (sc->cfg->audit_allowed)
			emit_sock(sc, ctx, kind, d, &dec);
		return VERDICT_PROCEED;
	}
	count(sc->slot, is_connect ? AWF_C_CONNECT_DENIED :
				     AWF_C_SENDMSG_DENIED);
	count_denial(sc->slot, dec.reason);
	emit_sock(sc, ctx, kind, d, &dec);
	return VERDICT_REFUSE;
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

static __always_inline void dst_from_ctx4(struct awf_dst *d,
					  const struct bpf_sock_addr *ctx)
{
	d->family = AF_INET;
	d->proto = ctx->protocol;
	d->port = bpf_ntohs((__u16)ctx->user_port);
	d->addr[0] = ctx->user_ip4;
}

static __always_inline void dst_from_ctx6(struct awf_dst *d,
					  const struct bpf_sock_addr *ctx)
{
	__u32 ip6[4];

	ip6[0] = ctx->user_ip6[0];
	ip6[1] = ctx->user_ip6[1];
	ip6[2] = ctx->user_ip6[2];
	ip6[3] = ctx->user_ip6[3];
	d->proto = ctx->protocol;
	d->port = bpf_ntohs((__u16)ctx->user_port);
	d->family = addr_from_ip6(d->addr, ip6);
}

static __always_inline int hook4(struct bpf_sock_addr *ctx, __u8 kind)
{
	struct awf_scope sc;
	struct awf_dst d = {};

	if (!scope_current(&sc))
		return VERDICT_REFUSE;
	if (sc.cfg->unrestricted)
		return VERDICT_PROCEED;
	dst_from_ctx4(&d, ctx);
	if (is_dns(&d)) {
		note_redirect(&sc, ctx, &d, kind);
		CTX_STORE(ctx->user_ip4, sc.cfg->dns_ip4);
		CTX_STORE(ctx->user_port, bpf_htons(sc.cfg->dns_port));
		return VERDICT_PROCEED;
	}
	return enforce(&sc, ctx, &d, kind);
}

/*
 * A v4-mapped DNS server is sent to the endpoint in its v4-mapped form so
 * that dual-stack sockets keep working; native IPv6 goes to dns_ip6.
 */
static __always_inline void redirect6(const struct awf_scope *sc,
				      struct bpf_sock_addr *ctx,
				      const struct awf_dst *d)
{
	const volatile struct awf_config *cfg = sc->cfg;

	if (d->family == AF_INET) {
		CTX_STORE(ctx->user_ip6[0], 0);
		CTX_STORE(ctx->user_ip6[1], 0);
		CTX_STORE(ctx->user_ip6[2], bpf_htonl(0xffff));
		CTX_STORE(ctx->user_ip6[3], cfg->dns_ip4);
	} else {
		CTX_STORE(ctx->user_ip6[0], cfg->dns_ip6[0]);
		CTX_STORE(ctx->user_ip6[1], cfg->dns_ip6[1]);
		CTX_STORE(ctx->user_ip6[2], cfg->dns_ip6[2]);
		CTX_STORE(ctx->user_ip6[3], cfg->dns_ip6[3]);
	}
	CTX_STORE(ctx->user_port, bpf_htons(cfg->dns_port));
}

static __always_inline int hook6(struct bpf_sock_addr *ctx, __u8 kind)
{
	struct awf_scope sc;
	struct awf_dst d = {};

	if (!scope_current(&sc))
		return VERDICT_REFUSE;
	if (sc.cfg->unrestricted)
		return VERDICT_PROCEED;
	dst_from_ctx6(&d, ctx);
	if (is_dns(&d)) {
		note_redirect(&sc, ctx, &d, kind);
		redirect6(&sc, ctx, &d);
		return VERDICT_PROCEED;
	}
	return enforce(&sc, ctx, &d, kind);
}

static __always_inline bool endpoint_port(const struct awf_scope *sc,
					  const struct bpf_sock_addr *ctx)
{
	return bpf_ntohs((__u16)ctx->user_port) == sc->cfg->dns_port;
}

/* The peer the kernel reports is the endpoint: show the original server. */
static __always_inline struct awf_sk_state *
dns_origin(struct bpf_sock_addr *ctx, bool from_endpoint)
{
	struct awf_sk_state *st;

	if (!from_endpoint)
		return NULL;
	st = sk_state_of(ctx->sk, false);
	if (!st || !st->orig_family)
		return NULL;
	return st;
}

static __always_inline int restore4(struct bpf_sock_addr *ctx)
{
	struct awf_sk_state *st;
	struct awf_scope sc;

	if (!scope_current(&sc))
		return VERDICT_PROCEED; /* nothing of ours to hide */
	st = dns_origin(ctx, endpoint_port(&sc, ctx) &&
				     ctx->user_ip4 == sc.cfg->dns_ip4);
	if (!st || st->orig_family != AF_INET)
		return VERDICT_PROCEED;
	CTX_STORE(ctx->user_ip4, *(__u32 *)&st->orig_addr[0]);
	CTX_STORE(ctx->user_port, bpf_htons(st->orig_port));
	return VERDICT_PROCEED;
}

static __always_inline bool is_endpoint6(const struct awf_scope *sc,
					 const struct bpf_sock_addr *ctx)
{
	__u32 ip6[4];

	ip6[0] = ctx->user_ip6[0];
	ip6[1] = ctx->user_ip6[1];
	ip6[2] = ctx->user_ip6[2];
	ip6[3] = ctx->user_ip6[3];
	if (is_v4mapped(ip6))
		return ip6[3] == sc->cfg->dns_ip4;
	return ip6_eq(ip6, sc->cfg->dns_ip6);
}

static __always_inline int restore6(struct bpf_sock_addr *ctx)
{
	struct awf_sk_state *st;
	struct awf_scope sc;

	if (!scope_current(&sc))
		return VERDICT_PROCEED;
	st = dns_origin(ctx, endpoint_port(&sc, ctx) && is_endpoint6(&sc, ctx));
	if (!st)
		return VERDICT_PROCEED;
	if (st->orig_family == AF_INET) {
		CTX_STORE(ctx->user_ip6[0], 0);
		CTX_STORE(ctx->user_ip6[1], 0);
		CTX_STORE(ctx->user_ip6[2], bpf_htonl(0xffff));
		CTX_STORE(ctx->user_ip6[3], *(__u32 *)&st->orig_addr[0]);
	} else {
		CTX_STORE(ctx->user_ip6[0], *(__u32 *)&st->orig_addr[0]);
		CTX_STORE(ctx->user_ip6[1], *(__u32 *)&st->orig_addr[4]);
		CTX_STORE(ctx->user_ip6[2], *(__u32 *)&st->orig_addr[8]);
		CTX_STORE(ctx->user_ip6[3], *(__u32 *)&st->orig_addr[12]);
	}
	CTX_STORE(ctx->user_port, bpf_htons(st->orig_port));
	return VERDICT_PROCEED;
}

/* A bind off loopback (see awf_bind4): refused, and audited. */
static __always_inline int refuse_bind(const struct awf_scope *sc,
				       struct bpf_sock_addr *ctx,
				       const struct awf_dst *d)
{
	struct awf_decision dec = { .verdict = AWF_DENY,
				    .reason = AWF_R_BIND_NOT_LOOPBACK };

	count_denial(sc->slot, dec.reason);
	emit_sock(sc, ctx, AWF_EV_BIND, d, &dec);
	return VERDICT_REFUSE;
}

/* An unfiltered subtree keeps its binds; a failed lookup does not. */
static __always_inline bool bind_unconfined(struct awf_scope *sc)
{
	return scope_current(sc) && sc->cfg->unrestricted;
}

#endif /* AWF_SOCK_ADDR_BPF_H */
