/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * sock_state.bpf.h - what the programs remember per socket (struct
 * awf_sk_state): the destination last allowed, for the packet backstop;
 * the DNS server a redirected query was meant for; the loopback port the
 * socket holds for localhost "sandbox" mode. Also what the programs read
 * of a socket itself. Needs a variant header first (AWF_PIN,
 * scope_current(); lo_ports and LO_PORT_KEY() if LO_PORTS_COUNTED).
 */
#ifndef AWF_SOCK_STATE_BPF_H
#define AWF_SOCK_STATE_BPF_H

#include "common.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__type(key, int);
	__type(value, struct awf_sk_state);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	AWF_PIN;
} sk_state SEC(".maps");

/*
 * The fields of the kernel's struct sock read here, as CO-RE finds them
 * by name (the ___awf flavour is dropped): the programs' BTF carries these
 * two types, not vmlinux.h's struct sock and the ~140 types it reaches,
 * which the kernel would check in every group's BTF at every load.
 */
struct sock_common___awf {
	unsigned char skc_ipv6only : 1;
} __attribute__((preserve_access_index));

struct sock___awf {
	struct sock_common___awf __sk_common;
	void *sk_reuseport_cb;
} __attribute__((preserve_access_index));

/*
 * The kernel's address of a socket, as a number: *addr. The verifier
 * admits no arithmetic on a socket pointer, so the pointer is copied out
 * of the stack slot it was spilled to (a helper's argument of any type
 * may be a pointer for a program loaded with CAP_PERFMON, which awf-bpf
 * needs). Not the kfunc bpf_rdonly_cast(): the light skeleton's loader
 * resolves a kfunc by a linear search of vmlinux BTF in every program
 * that calls it (~0.25 ms each, four programs). Nor the helpers
 * bpf_skc_to_*(): none casts an IPv4 UDP socket, and the verifier
 * searches vmlinux BTF by name for every pointer field loaded through
 * the trusted pointer they give.
 */
static __always_inline long sock_addr_of(struct bpf_sock *sk, __u64 *addr)
{
	struct bpf_sock *spilled = sk;

	return bpf_probe_read_kernel(addr, sizeof(*addr), &spilled);
}

/*
 * A socket in an SO_REUSEPORT group shares its address with the group:
 * connections the kernel spreads over it may reach a host service through
 * "the sandbox's own" port. Membership is read from the socket itself, so
 * it holds however the option was set (the kernel runs no cgroup/
 * setsockopt program for 32-bit calls) and whenever (before or after
 * bind). Refusing the option would break clients that set it (dig).
 * sk: a full socket (bpf_sk_lookup_*()'s); one that cannot be read
 * counts as in a group.
 */
static __always_inline bool in_reuseport_group(struct bpf_sock *sk)
{
	void *cb = NULL;
	__u64 addr;

	if (sock_addr_of(sk, &addr) ||
	    bpf_probe_read_kernel(
		    &cb, sizeof(cb),
		    (void *)(addr + bpf_core_field_offset(struct sock___awf,
							  sk_reuseport_cb))))
		return true;
	return cb != NULL;
}

/*
 * IPV6_V6ONLY of an AF_INET6 socket, for bind6: TCP and UDP only
 * (sock_create admits no other), both cast by helpers, so that bind6
 * has no kfunc for the loader to resolve (the bit is no pointer: no
 * search of BTF at verification either). Any other socket counts as
 * v6-only, which narrows its wildcard to ::1: loopback either way.
 */
static __always_inline bool v6only(struct bpf_sock *sk)
{
	struct sock___awf *ks;

	if (sk->protocol == IPPROTO_TCP)
		ks = (struct sock___awf *)bpf_skc_to_tcp6_sock(sk);
	else if (sk->protocol == IPPROTO_UDP)
		ks = (struct sock___awf *)bpf_skc_to_udp6_sock(sk);
	else
		ks = NULL;
	if (!ks)
		return true;
	return BPF_CORE_READ_BITFIELD(&ks->__sk_common, skc_ipv6only);
}

static __always_inline struct awf_sk_state *sk_state_of(struct bpf_sock *sk,
							bool create)
{
	if (!sk)
		return NULL;
	return bpf_sk_storage_get(&sk_state, sk, NULL,
				  create ? BPF_SK_STORAGE_GET_F_CREATE : 0);
}

/*
 * Whether a socket of the sandbox sc may carry a tag (tag_allowed()). Not
 * under run for a policy that learns nothing and is enforced, both known
 * at load: its programs then judge no packet by a socket's storage, and
 * the verifier drops each look-up of it.
 */
static __always_inline bool may_tag(const struct awf_scope *sc)
{
	return LEARNS || sc->cfg->audit_only || POLICY_RELOADS;
}

/*
 * Remember what the hook allowed so the packet backstop can match it; and
 * whether the connection's first bytes must carry an allowed name
 * (sock_ops then puts it in name_socks, where the sk_msg program reads
 * them). Only a verdict that rests on a learned address needs the tag:
 * the address may expire while the connection lives on, and the name
 * check keeps its state here. The backstop reaches every other verdict
 * (CIDR, loopback, proxy) again from the policy, so such a socket gets no
 * storage: creating it is most of what a connect() costs the programs.
 * (Not so in the agent, whose policies change on reload: POLICY_RELOADS.)
 * A socket that has storage anyway (a DNS redirect, a loopback port, an
 * earlier verdict) has its tag rewritten on every verdict, so one
 * connected again elsewhere (AF_UNSPEC first) is judged for its new
 * destination.
 */
static __always_inline void tag_allowed(struct bpf_sock *sk,
					const struct awf_scope *sc,
					const struct awf_dst *d,
					const struct awf_decision *dec)
{
	/*
	 * What the trie cannot answer again at each packet: a learned
	 * address (it may expire), a denial audit-only mode let through.
	 * LEARNS and the config's audit_only: where the policy has
	 * neither (known at load under run), the verifier drops what only
	 * they need.
	 */
	bool name_check = LEARNS && dec->name_check;
	bool tagged = (LEARNS && dec->reason == AWF_R_LEARNED) ||
		      (sc->cfg->audit_only && dec->audit_only) ||
		      POLICY_RELOADS;
	struct awf_sk_state *st;

	if (!may_tag(sc))
		return;
	st = sk_state_of(sk, tagged);
	if (!st)
		return;
	st->name_check = name_check ? AWF_NC_PENDING : AWF_NC_NONE;
	if (!tagged) {
		st->allowed_family = 0; /* matches no packet */
		return;
	}
	st->allowed_family = d->family;
	st->allowed_port = d->port;
	__builtin_memcpy(st->allowed_addr, d->addr, 16);
	if (!name_check)
		return;
	st->name_slot = sc->slot;
	st->name_rule_id = dec->rule_id;
	st->name_id = dec->name_id;
}

/* The full socket a packet comes from; NULL when it has none. */
static __always_inline struct bpf_sock *
full_sock_of_skb(const struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;

	if (!sk)
		return NULL;
	return bpf_sk_fullsock(sk);
}

/* The state of the socket a packet comes from; NULL when it has none. */
static __always_inline struct awf_sk_state *
sk_state_of_skb(const struct __sk_buff *skb)
{
	return sk_state_of(full_sock_of_skb(skb), false);
}

static __always_inline bool matches_tag(const struct awf_sk_state *st,
					const struct awf_dst *d)
{
	return st && st->allowed_family == d->family &&
	       st->allowed_port == d->port &&
	       ip6_eq((const __u32 *)st->allowed_addr, d->addr);
}

static __always_inline void remember_dns_origin(struct bpf_sock *sk,
						const struct awf_dst *d)
{
	struct awf_sk_state *st = sk_state_of(sk, true);

	if (!st)
		return;
	st->orig_family = d->family;
	st->orig_port = d->port;
	__builtin_memcpy(st->orig_addr, d->addr, 16);
}

/* The socket's bound address and port, for the audit trail; 0 if unbound. */
static __always_inline void src_of_sock(struct bpf_sock *sk, struct awf_src *s)
{
	__u32 ip6[4];

	if (!sk)
		return;
	s->port = (__u16)sk->src_port;
	if (sk->family == AF_INET) {
		s->addr[0] = sk->src_ip4;
		return;
	}
	ip6[0] = sk->src_ip6[0];
	ip6[1] = sk->src_ip6[1];
	ip6[2] = sk->src_ip6[2];
	ip6[3] = sk->src_ip6[3];
	addr_from_ip6(s->addr, ip6);
}

/*
 * Mark the socket as serving a loopback port of the sandbox: what
 * served_by_sandbox() reads, and what `dump` lists (from the sockets
 * themselves, or from lo_ports where LO_PORTS_COUNTED: a reference per
 * socket, since several may hold a port: SO_REUSEPORT, v4 and v6).
 */
static __always_inline void hold_lo_port(struct bpf_sock *ctx)
{
	struct awf_sk_state *st;
	struct awf_scope sc;

	if (!scope_current(&sc) || sc.cfg->localhost_mode != AWF_LO_SANDBOX ||
	    !ctx->src_port)
		return;
	st = bpf_sk_storage_get(&sk_state, ctx, NULL,
				BPF_SK_STORAGE_GET_F_CREATE);
	if (!st || st->bound_port)
		return;
#ifdef LO_PORTS_COUNTED
	__u32 one = 1, *refs;

	LO_PORT_KEY(key, sc.slot, ctx->src_port, ctx->protocol);
	if (bpf_map_update_elem(&lo_ports, &key, &one, BPF_NOEXIST)) {
		/* Another socket holds the port too. */
		refs = bpf_map_lookup_elem(&lo_ports, &key);
		if (!refs)
			return;
		__sync_fetch_and_add(refs, 1);
	}
#endif
	st->bound_port = ctx->src_port;
	st->bound_proto = ctx->protocol;
	st->slot = sc.slot;
}

#ifdef LO_PORTS_COUNTED
static __always_inline void release_lo_port(struct bpf_sock *ctx)
{
	struct awf_sk_state *st;
	__u32 *refs;

	st = bpf_sk_storage_get(&sk_state, ctx, NULL, 0);
	if (!st || !st->bound_port)
		return;
	/* The slot it was counted under, even if that slot is gone now. */
	LO_PORT_KEY(key, st->slot, st->bound_port, st->bound_proto);
	refs = bpf_map_lookup_elem(&lo_ports, &key);
	if (refs && __sync_fetch_and_add(refs, -1) == 1)
		bpf_map_delete_elem(&lo_ports, &key);
}
#endif /* LO_PORTS_COUNTED */

#endif /* AWF_SOCK_STATE_BPF_H */
