// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * awf.bpf.c - the egress policy of one sandbox cgroup.
 *
 * Socket hooks decide at connect()/sendmsg() time, so a denial is an
 * immediate EPERM rather than a hanging connection. Port 53 of any server
 * is rewritten to the awf-bpf DNS endpoint and the rewrite is hidden again
 * on recvmsg()/getpeername(). sock_create refuses every socket type whose
 * traffic the address hooks cannot see. The cgroup_skb egress program is
 * the backstop: it parses each packet and drops whatever no socket-level
 * verdict allowed.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_core_read.h>

#include "awf.h"

#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IP_MF 0x2000
#define IP_OFFSET 0x1FFF

#define VERDICT_REFUSE 0
#define VERDICT_PROCEED 1

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * The agent's maps are pinned by name (pin_root_path): a restarted or
 * upgraded agent adopts them, learned addresses and all.
 */
#ifdef AWF_AGENT
#define AWF_PIN __uint(pinning, LIBBPF_PIN_BY_NAME)
#else
#define AWF_PIN
#endif

/* A read-only view of a kernel object, for fields no context exposes. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

#ifndef AWF_AGENT
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
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct awf_lo_port_key);
	__type(value, __u32);
	__uint(max_entries, AWF_MAX_LO_PORTS);
} lo_ports SEC(".maps");

#else
/* The same maps, shared by every sandbox: keys carry the slot. */
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
#endif

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__type(key, int);
	__type(value, struct awf_sk_state);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	AWF_PIN;
} sk_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, AWF_RINGBUF_BYTES);
	AWF_PIN;
} events SEC(".maps");

#ifdef AWF_AGENT
/* Shared, not per CPU: per-CPU slots for 4096 sandboxes cost too much. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, AWF_MAX_SLOTS * AWF_C_MAX);
	AWF_PIN;
} counters SEC(".maps");
#else
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, AWF_C_MAX);
	AWF_PIN;
} counters SEC(".maps");
#endif

#ifndef AWF_AGENT
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
#endif

/* A destination as the policy sees it; v4-mapped IPv6 is folded to IPv4. */
struct awf_dst {
	__u32 ip6[4]; /* network order; ip6[3] holds the IPv4 address */
	__u16 port;   /* host order */
	__u8 family;
	__u8 proto;
};

/* The local end of a socket or packet, for the audit trail only. */
struct awf_src {
	__u32 ip6[4]; /* network order; IPv4 in ip6[0] */
	__u16 port;   /* host order */
};

struct awf_decision {
	__u8 verdict;
	__u8 reason;
	__u32 rule_id;
	__u32 name_id; /* the learned entry that matched, if live */
};

/* The sandbox a hook runs for: its slot and its configuration. */
struct awf_scope {
	const volatile struct awf_config *cfg;
	__u32 slot;
};

/*
 * clang may merge neighbouring 32-bit ctx stores into one 64-bit store,
 * which the verifier rejects for user_ip6: keep a barrier between them.
 */
#define CTX_STORE(field, val)                        \
	do {                                         \
		(field) = (val);                     \
		asm volatile("" ::: "memory");       \
	} while (0)

#ifndef AWF_AGENT
/* `run`: the programs are attached to one sandbox's cgroup only. */
static __always_inline bool scope_current(struct awf_scope *sc)
{
	sc->cfg = &awf_cfg;
	sc->slot = 0;
	return true;
}

static __always_inline bool scope_of_skb(struct awf_scope *sc,
					 struct __sk_buff *skb)
{
	return scope_current(sc);
}

#else
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
 * The deepest selected cgroup on the path wins, so a sandbox's whole
 * subtree inherits its policy even before the agent has seen a new child.
 * No slot: the caller refuses (fail closed).
 */
/*
 * The cgroup's own slot, else its deepest ancestor's. skb NULL: the
 * current task's cgroup (socket hooks); else the packet's socket's. The
 * helpers differ per program type; skb is a constant at every call site,
 * so each program keeps only its own.
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

static __always_inline bool scope_of_skb(struct awf_scope *sc,
					 struct __sk_buff *skb)
{
	__u32 slot = slot_of_cgroup(skb);

	return slot && scope_fill(sc, slot);
}

#endif

static __always_inline void count(__u32 slot, __u32 idx)
{
	__u32 key = slot * AWF_C_MAX + idx;
	__u64 *val = bpf_map_lookup_elem(&counters, &key);

	if (!val)
		return;
#ifdef AWF_AGENT
	__sync_fetch_and_add(val, 1);
#else
	*val += 1; /* per-CPU slot: no atomic needed */
#endif
}

/*
 * clang 14 does not lower memcmp for BPF; addresses are 4-byte aligned.
 * b may be the .rodata config: keep its reads volatile.
 */
static __always_inline bool ip6_eq(const __u32 *a, const volatile __u32 *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3];
}

static __always_inline bool is_v4mapped(const __u32 *ip6)
{
	return ip6[0] == 0 && ip6[1] == 0 && ip6[2] == bpf_htonl(0xffff);
}

static __always_inline void dst_from_ip6(struct awf_dst *d, const __u32 *ip6)
{
	if (is_v4mapped(ip6)) {
		d->family = AF_INET;
		d->ip6[3] = ip6[3];
		return;
	}
	d->family = AF_INET6;
	d->ip6[0] = ip6[0];
	d->ip6[1] = ip6[1];
	d->ip6[2] = ip6[2];
	d->ip6[3] = ip6[3];
}

static __always_inline void count_denial(__u32 slot, __u8 reason)
{
	count(slot, AWF_C_DENIED_BY_REASON + (reason < AWF_R_MAX ? reason : 0));
}

static __always_inline void emit(__u32 slot, __u8 kind,
				 const struct awf_dst *d,
				 const struct awf_src *src,
				 const struct awf_decision *dec, __u64 cgroup_id)
{
	struct awf_event *e;
	__u64 id;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(slot, AWF_C_EVENTS_LOST);
		return;
	}
	e->slot = slot;
	e->pad3 = 0;
	id = bpf_get_current_pid_tgid();
	e->ts_ns = bpf_ktime_get_ns();
	e->cgroup_id = cgroup_id;
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->rule_id = dec->rule_id;
	e->name_id = dec->name_id;
	e->kind = kind;
	e->verdict = dec->verdict;
	e->reason = dec->reason;
	e->family = d->family;
	e->proto = d->proto;
	e->pad = 0;
	e->dport = d->port;
	e->sport = src->port;
	e->pad2[0] = 0;
	e->pad2[1] = 0;
	if (d->family == AF_INET) {
		__builtin_memset(e->daddr, 0, sizeof(e->daddr));
		__builtin_memcpy(e->daddr, &d->ip6[3], 4);
	} else {
		__builtin_memcpy(e->daddr, d->ip6, 16);
	}
	__builtin_memcpy(e->saddr, src->ip6, 16);
	e->sock_type = 0;
	e->sock_proto = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
}

static __always_inline bool port_in(const volatile struct awf_port_set *set,
				    __u16 port)
{
	__u32 n = set->count;

	for (__u32 i = 0; i < AWF_MAX_PORT_RANGES; i++) {
		if (i >= n)
			break;
		if (port >= set->ranges[i].lo && port <= set->ranges[i].hi)
			return true;
	}
	return false;
}

static __always_inline bool is_loopback(const struct awf_dst *d)
{
	__u32 first;

	if (d->family == AF_INET) {
		first = bpf_ntohl(d->ip6[3]) >> 24;
		return first == 127 || first == 0; /* 0.0.0.0/8 reaches this host */
	}
	/* ::1 and :: (connect to :: means this host) */
	return d->ip6[0] == 0 && d->ip6[1] == 0 && d->ip6[2] == 0 &&
	       (d->ip6[3] == 0 || d->ip6[3] == bpf_htonl(1));
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

static __always_inline struct sock *kernel_sock(void *sk)
{
	return bpf_rdonly_cast(sk, bpf_core_type_id_kernel(struct sock));
}

/*
 * A socket in an SO_REUSEPORT group shares its address with the group:
 * connections the kernel spreads over it may reach a host service through
 * "the sandbox's own" port. Membership is read from the socket itself, so
 * it holds however the option was set (the kernel runs no cgroup/
 * setsockopt program for 32-bit calls) and whenever (before or after
 * bind). Refusing the option would break clients that set it (dig).
 */
static __always_inline bool in_reuseport_group(struct bpf_sock *sk)
{
	struct sock *ks = kernel_sock(sk);

	return ks->sk_reuseport_cb != NULL;
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
		tuple.ipv4.daddr = d->ip6[3];
		tuple.ipv4.dport = bpf_htons(d->port);
		size = sizeof(tuple.ipv4);
	} else {
		tuple.ipv6.daddr[0] = d->ip6[0];
		tuple.ipv6.daddr[1] = d->ip6[1];
		tuple.ipv6.daddr[2] = d->ip6[2];
		tuple.ipv6.daddr[3] = d->ip6[3];
		tuple.ipv6.dport = bpf_htons(d->port);
		size = sizeof(tuple.ipv6);
	}
	if (d->proto == IPPROTO_TCP)
		sk = bpf_sk_lookup_tcp(ctx, &tuple, size, BPF_F_CURRENT_NETNS, 0);
	else
		sk = bpf_sk_lookup_udp(ctx, &tuple, size, BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return false;
	st = bpf_sk_storage_get(&sk_state, sk, NULL, 0);
	ours = st && st->bound_port && !in_reuseport_group(sk);
	bpf_sk_release(sk);
	return ours;
}

/* sa is NULL on the packet path, which never needs the owner lookup. */
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
	    (port_in(&sc->cfg->lo_ports, d->port) ||
	     (sa && served_by_sandbox(sa, d)))) {
		allow(dec, AWF_R_LOOPBACK, 0);
		return;
	}
	deny(dec, AWF_R_LOOPBACK);
}

static __always_inline bool is_proxy(const struct awf_scope *sc,
				     const struct awf_dst *d)
{
	const volatile struct awf_config *cfg = sc->cfg;

	if (!cfg->proxy_enabled || d->proto != IPPROTO_TCP ||
	    d->family != cfg->proxy_family || d->port != cfg->proxy_port)
		return false;
	if (d->family == AF_INET)
		return d->ip6[3] == cfg->proxy_addr[0];
	return ip6_eq(d->ip6, cfg->proxy_addr);
}

static __always_inline struct awf_rule *lookup_cidr(const struct awf_scope *sc,
						   const struct awf_dst *d)
{
#ifdef AWF_AGENT
	if (d->family == AF_INET) {
		struct awf_slot_cidr4_key k4 = { .prefixlen = 64,
						 .slot = bpf_htonl(sc->slot) };

		__builtin_memcpy(k4.addr, &d->ip6[3], 4);
		return bpf_map_lookup_elem(&cidr4, &k4);
	}
	struct awf_slot_cidr6_key k6 = { .prefixlen = 160,
					 .slot = bpf_htonl(sc->slot) };
#else
	if (d->family == AF_INET) {
		struct awf_cidr4_key k4 = { .prefixlen = 32 };

		__builtin_memcpy(k4.addr, &d->ip6[3], 4);
		return bpf_map_lookup_elem(&cidr4, &k4);
	}
	struct awf_cidr6_key k6 = { .prefixlen = 128 };
#endif

	__builtin_memcpy(k6.addr, d->ip6, 16);
	return bpf_map_lookup_elem(&cidr6, &k6);
}

static __always_inline struct awf_learned *
lookup_learned(const struct awf_scope *sc, const struct awf_dst *d)
{
#ifdef AWF_AGENT
	if (d->family == AF_INET) {
		struct awf_set_ip4_key k4 = { .set = sc->cfg->learned_set };

		__builtin_memcpy(k4.addr, &d->ip6[3], 4);
		return bpf_map_lookup_elem(&learned4, &k4);
	}
	struct awf_set_ip6_key k6 = { .set = sc->cfg->learned_set };
#else
	if (d->family == AF_INET) {
		__u32 k4 = d->ip6[3];

		return bpf_map_lookup_elem(&learned4, &k4);
	}
	struct awf_ip6_key k6;
#endif

	__builtin_memcpy(k6.addr, d->ip6, 16);
	return bpf_map_lookup_elem(&learned6, &k6);
}

/*
 * The policy: proxy, loopback, reserved ranges, CIDRs, learned addresses;
 * anything else is denied. A port mismatch is remembered so the denial
 * says "port not allowed" rather than "not in policy".
 */
static __always_inline void decide(const struct awf_scope *sc,
				   const struct awf_dst *d,
				   struct awf_decision *dec,
				   struct bpf_sock_addr *sa)
{
	struct awf_learned *learned;
	struct awf_rule *rule;
	__u8 miss = AWF_R_NOT_IN_POLICY;

	dec->rule_id = 0;
	dec->name_id = 0;
	if (is_proxy(sc, d)) {
		allow(dec, AWF_R_PROXY, 0);
		return;
	}
	if (is_loopback(d)) {
		decide_loopback(sc, d, dec, sa);
		return;
	}
	if (d->family == AF_INET6 && !sc->cfg->ipv6_enabled) {
		deny(dec, AWF_R_IPV6_DISABLED);
		return;
	}
	rule = lookup_cidr(sc, d);
	if (rule) {
		if (rule->kind == AWF_RULE_LOCAL) {
			decide_loopback(sc, d, dec, sa);
			return;
		}
		if (rule->kind == AWF_RULE_RESERVED) {
			deny(dec, AWF_R_RESERVED_RANGE);
			dec->rule_id = rule->id;
			return;
		}
		if (port_in(&rule->ports, d->port)) {
			allow(dec, AWF_R_CIDR, rule->id);
			return;
		}
		miss = AWF_R_PORT_NOT_ALLOWED;
	}
	learned = lookup_learned(sc, d);
	if (learned && learned->expires_ns > bpf_ktime_get_ns()) {
		dec->name_id = learned->name_id;
		if (sc->cfg->proxy_enabled) {
			deny(dec, AWF_R_PROXY_ONLY);
			return;
		}
		if (port_in(&learned->ports, d->port)) {
			allow(dec, AWF_R_LEARNED, learned->rule_id);
			return;
		}
		miss = AWF_R_PORT_NOT_ALLOWED;
	}
	deny(dec, miss);
}

static __always_inline struct awf_sk_state *sk_state_of(struct bpf_sock *sk,
							 bool create)
{
	if (!sk)
		return NULL;
	return bpf_sk_storage_get(&sk_state, sk, NULL,
				  create ? BPF_SK_STORAGE_GET_F_CREATE : 0);
}

/* Remember what the hook allowed so the packet backstop can match it. */
static __always_inline void tag_allowed(struct bpf_sock *sk,
					const struct awf_dst *d)
{
	struct awf_sk_state *st = sk_state_of(sk, true);

	if (!st)
		return;
	st->allowed_family = d->family;
	st->allowed_port = d->port;
	__builtin_memcpy(st->allowed_addr, d->ip6, 16);
}

static __always_inline void remember_dns_origin(struct bpf_sock *sk,
						const struct awf_dst *d)
{
	struct awf_sk_state *st = sk_state_of(sk, true);

	if (!st)
		return;
	st->orig_family = d->family;
	st->orig_port = d->port;
	__builtin_memcpy(st->orig_addr, d->ip6, 16);
}

/* The socket's bound address and port, for the audit trail; 0 if unbound. */
static __always_inline void src_of_sock(struct bpf_sock *sk,
					struct awf_src *s)
{
	__u32 ip6[4];

	if (!sk)
		return;
	s->port = (__u16)sk->src_port;
	if (sk->family == AF_INET) {
		s->ip6[0] = sk->src_ip4;
		return;
	}
	ip6[0] = sk->src_ip6[0];
	ip6[1] = sk->src_ip6[1];
	ip6[2] = sk->src_ip6[2];
	ip6[3] = sk->src_ip6[3];
	if (is_v4mapped(ip6)) {
		s->ip6[0] = ip6[3];
		return;
	}
	s->ip6[0] = ip6[0];
	s->ip6[1] = ip6[1];
	s->ip6[2] = ip6[2];
	s->ip6[3] = ip6[3];
}

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

static __always_inline bool is_dns(const struct awf_dst *d)
{
	return d->port == AWF_DNS_PORT &&
	       (d->proto == IPPROTO_UDP || d->proto == IPPROTO_TCP);
}

static __always_inline void dst_from_ctx4(struct awf_dst *d,
					  const struct bpf_sock_addr *ctx)
{
	d->family = AF_INET;
	d->proto = ctx->protocol;
	d->port = bpf_ntohs((__u16)ctx->user_port);
	d->ip6[3] = ctx->user_ip4;
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
	dst_from_ip6(d, ip6);
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

SEC("cgroup/connect4")
int awf_connect4(struct bpf_sock_addr *ctx)
{
	return hook4(ctx, AWF_EV_CONNECT);
}

SEC("cgroup/connect6")
int awf_connect6(struct bpf_sock_addr *ctx)
{
	return hook6(ctx, AWF_EV_CONNECT);
}

SEC("cgroup/sendmsg4")
int awf_sendmsg4(struct bpf_sock_addr *ctx)
{
	return hook4(ctx, AWF_EV_SENDMSG);
}

SEC("cgroup/sendmsg6")
int awf_sendmsg6(struct bpf_sock_addr *ctx)
{
	return hook6(ctx, AWF_EV_SENDMSG);
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

static __always_inline bool endpoint_port(const struct awf_scope *sc,
					  const struct bpf_sock_addr *ctx)
{
	return bpf_ntohs((__u16)ctx->user_port) == sc->cfg->dns_port;
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
	CTX_STORE(ctx->user_ip4, *(__u32 *)&st->orig_addr[12]);
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
		CTX_STORE(ctx->user_ip6[3], *(__u32 *)&st->orig_addr[12]);
	} else {
		CTX_STORE(ctx->user_ip6[0], *(__u32 *)&st->orig_addr[0]);
		CTX_STORE(ctx->user_ip6[1], *(__u32 *)&st->orig_addr[4]);
		CTX_STORE(ctx->user_ip6[2], *(__u32 *)&st->orig_addr[8]);
		CTX_STORE(ctx->user_ip6[3], *(__u32 *)&st->orig_addr[12]);
	}
	CTX_STORE(ctx->user_port, bpf_htons(st->orig_port));
	return VERDICT_PROCEED;
}

SEC("cgroup/recvmsg4")
int awf_recvmsg4(struct bpf_sock_addr *ctx)
{
	return restore4(ctx);
}

SEC("cgroup/recvmsg6")
int awf_recvmsg6(struct bpf_sock_addr *ctx)
{
	return restore6(ctx);
}

SEC("cgroup/getpeername4")
int awf_getpeername4(struct bpf_sock_addr *ctx)
{
	return restore4(ctx);
}

SEC("cgroup/getpeername6")
int awf_getpeername6(struct bpf_sock_addr *ctx)
{
	return restore6(ctx);
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
	struct awf_event *e;
	__u64 id;

	/* Without a sandbox, slot 0's counters take the denial. */
	if (scope_current(&sc) && sc.cfg->unrestricted)
		return VERDICT_PROCEED;
	if ((ctx->type == SOCK_STREAM && ctx->protocol == IPPROTO_TCP) ||
	    (ctx->type == SOCK_DGRAM && ctx->protocol == IPPROTO_UDP))
		return VERDICT_PROCEED;

	count(sc.slot, AWF_C_SOCKET_DENIED);
	count_denial(sc.slot, dec.reason);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(sc.slot, AWF_C_EVENTS_LOST);
		return VERDICT_REFUSE;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->slot = sc.slot;
	id = bpf_get_current_pid_tgid();
	e->ts_ns = bpf_ktime_get_ns();
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->kind = AWF_EV_SOCK_CREATE;
	e->verdict = dec.verdict;
	e->reason = dec.reason;
	e->family = ctx->family;
	e->proto = ctx->protocol;
	e->sock_type = ctx->type;
	e->sock_proto = ctx->protocol;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return VERDICT_REFUSE;
}

/*
 * Listening ports stay on loopback. A port open to the outside world is a
 * covert channel even when every reply is dropped: an outside host reads
 * it from the kernel's RST (closed) against the backstop's silence (open).
 * A wildcard bind is narrowed to loopback so that local servers keep
 * working; a bind to any other address with a port is refused. Port 0
 * stays free: clients bind it to pick their source address.
 */
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

SEC("cgroup/bind4")
int awf_bind4(struct bpf_sock_addr *ctx)
{
	struct awf_scope sc = {};
	struct awf_dst d = {};

	if (bind_unconfined(&sc))
		return VERDICT_PROCEED;
	dst_from_ctx4(&d, ctx);
	if (!d.port || (bpf_ntohl(d.ip6[3]) >> 24) == 127)
		return VERDICT_PROCEED;
	if (d.ip6[3] == 0) {
		CTX_STORE(ctx->user_ip4, bpf_htonl(0x7f000001));
		return VERDICT_PROCEED;
	}
	return refuse_bind(&sc, ctx, &d);
}

static __always_inline bool v6only(struct bpf_sock *sk)
{
	struct sock *ks = kernel_sock(sk);

	return BPF_CORE_READ_BITFIELD(&ks->__sk_common, skc_ipv6only);
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
	bool any;

	if (bind_unconfined(&sc))
		return VERDICT_PROCEED;
	dst_from_ctx6(&d, ctx);
	if (!d.port)
		return VERDICT_PROCEED;
	if (d.family == AF_INET) {
		if ((bpf_ntohl(d.ip6[3]) >> 24) == 127)
			return VERDICT_PROCEED;
		return refuse_bind(&sc, ctx, &d);
	}
	any = !d.ip6[0] && !d.ip6[1] && !d.ip6[2];
	if (any && d.ip6[3] == bpf_htonl(1))
		return VERDICT_PROCEED;
	if (!any || d.ip6[3] != 0)
		return refuse_bind(&sc, ctx, &d);
	if (v6only(ctx->sk)) {
		CTX_STORE(ctx->user_ip6[3], bpf_htonl(1));
		return VERDICT_PROCEED;
	}
	CTX_STORE(ctx->user_ip6[2], bpf_htonl(0xffff));
	CTX_STORE(ctx->user_ip6[3], bpf_htonl(0x7f000001));
	return VERDICT_PROCEED;
}

/* Loopback ports the sandbox serves on, for localhost "sandbox" mode. */
#ifdef AWF_AGENT
#define LO_PORT_KEY(name, sl, p, pr)                                      \
	struct awf_slot_lo_port_key name = { .slot = (sl), .port = (p),   \
					     .proto = (pr) }
#else
#define LO_PORT_KEY(name, sl, p, pr)                                      \
	struct awf_lo_port_key name = { .port = (p), .proto = (pr) }
#endif

static __always_inline int note_bind(struct bpf_sock *ctx)
{
	struct awf_sk_state *st;
	__u32 one = 1, *refs;
	struct awf_scope sc;

	if (!scope_current(&sc) ||
	    sc.cfg->localhost_mode != AWF_LO_SANDBOX || !ctx->src_port)
		return VERDICT_PROCEED;
	LO_PORT_KEY(key, sc.slot, ctx->src_port, ctx->protocol);
	st = bpf_sk_storage_get(&sk_state, ctx, NULL,
				BPF_SK_STORAGE_GET_F_CREATE);
	if (!st || st->bound_port)
		return VERDICT_PROCEED;
	if (bpf_map_update_elem(&lo_ports, &key, &one, BPF_NOEXIST)) {
		/* Another socket holds the port too (SO_REUSEPORT, v4+v6). */
		refs = bpf_map_lookup_elem(&lo_ports, &key);
		if (!refs)
			return VERDICT_PROCEED;
		__sync_fetch_and_add(refs, 1);
	}
	st->bound_port = key.port;
	st->bound_proto = key.proto;
	st->slot = sc.slot;
	return VERDICT_PROCEED;
}

SEC("cgroup/post_bind4")
int awf_post_bind4(struct bpf_sock *ctx)
{
	return note_bind(ctx);
}

SEC("cgroup/post_bind6")
int awf_post_bind6(struct bpf_sock *ctx)
{
	return note_bind(ctx);
}

SEC("cgroup/sock_release")
int awf_sock_release(struct bpf_sock *ctx)
{
	struct awf_sk_state *st;
	__u32 *refs;

	st = bpf_sk_storage_get(&sk_state, ctx, NULL, 0);
	if (!st || !st->bound_port)
		return VERDICT_PROCEED;
	/* The slot it was counted under, even if that slot is gone now. */
	LO_PORT_KEY(key, st->slot, st->bound_port, st->bound_proto);
	refs = bpf_map_lookup_elem(&lo_ports, &key);
	if (refs && __sync_fetch_and_add(refs, -1) == 1)
		bpf_map_delete_elem(&lo_ports, &key);
	return VERDICT_PROCEED;
}

/* Packet backstop ------------------------------------------------------- */

static __always_inline int parse_ports(struct __sk_buff *skb, __u32 off,
				       struct awf_dst *d, struct awf_src *s)
{
	__be16 ports[2];

	if (d->proto != IPPROTO_TCP && d->proto != IPPROTO_UDP)
		return -1;
	if (bpf_skb_load_bytes(skb, off, ports, sizeof(ports)))
		return -1;
	s->port = bpf_ntohs(ports[0]);
	d->port = bpf_ntohs(ports[1]);
	return 0;
}

static __always_inline int parse_ipv4(struct __sk_buff *skb, __u32 l3,
				      struct awf_dst *d, struct awf_src *s)
{
	struct iphdr ip;

	if (bpf_skb_load_bytes(skb, l3, &ip, sizeof(ip)))
		return -1;
	d->family = AF_INET;
	d->proto = ip.protocol;
	d->ip6[3] = ip.daddr;
	s->ip6[0] = ip.saddr;
	if (is_loopback(d))
		return 0;
	/* Sockets the hooks allowed never send fragments past this point. */
	if (ip.frag_off & bpf_htons(IP_MF | IP_OFFSET))
		return -1;
	return parse_ports(skb, l3 + ip.ihl * 4, d, s);
}

static __always_inline int parse_ipv6(struct __sk_buff *skb, __u32 l3,
				      struct awf_dst *d, struct awf_src *s)
{
	struct ipv6hdr ip6;

	if (bpf_skb_load_bytes(skb, l3, &ip6, sizeof(ip6)))
		return -1;
	d->family = AF_INET6;
	d->proto = ip6.nexthdr;
	__builtin_memcpy(d->ip6, &ip6.daddr, 16);
	__builtin_memcpy(s->ip6, &ip6.saddr, 16);
	if (is_loopback(d))
		return 0;
	/* Extension headers are not something TCP/UDP sockets send. */
	return parse_ports(skb, l3 + sizeof(ip6), d, s);
}

static __always_inline bool matches_tag(struct __sk_buff *skb,
					const struct awf_dst *d)
{
	struct bpf_sock *sk = skb->sk;
	struct awf_sk_state *st;

	if (!sk)
		return false;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return false;
	st = bpf_sk_storage_get(&sk_state, sk, NULL, 0);
	return st && st->allowed_family == d->family &&
	       st->allowed_port == d->port &&
	       ip6_eq((const __u32 *)st->allowed_addr, d->ip6);
}

/* Traffic to this host itself never leaves it: the socket hooks govern it. */
static __always_inline bool is_local(const struct awf_scope *sc,
				     const struct awf_dst *d)
{
	struct awf_rule *rule;

	if (is_loopback(d))
		return true;
	rule = lookup_cidr(sc, d);
	return rule && rule->kind == AWF_RULE_LOCAL;
}

/*
 * Whether a packet of the sandbox sc may leave; l3 is where its IP header
 * starts. d and src are filled for the audit event of a drop.
 */
static __always_inline bool packet_allowed(struct __sk_buff *skb, __u32 l3,
					   const struct awf_scope *sc,
					   struct awf_dst *d,
					   struct awf_src *src)
{
	struct awf_decision dec;
	int err = -1;

	if (skb->protocol == bpf_htons(ETH_P_IP))
		err = parse_ipv4(skb, l3, d, src);
	else if (skb->protocol == bpf_htons(ETH_P_IPV6))
		err = parse_ipv6(skb, l3, d, src);
	if (err)
		return false;
	/* The tag first: one storage lookup, the common case. */
	if (matches_tag(skb, d) || is_local(sc, d))
		return true;
	decide(sc, d, &dec, NULL);
	return dec.verdict == AWF_ALLOW;
}

static __always_inline void packet_dropped(struct __sk_buff *skb,
					   __u32 slot, __u8 reason,
					   const struct awf_dst *d,
					   const struct awf_src *src)
{
	struct awf_decision dec = { .verdict = AWF_DENY, .reason = reason };

	count(slot, AWF_C_PACKETS_DROPPED);
	count_denial(slot, reason);
	emit(slot, AWF_EV_PACKET, d, src, &dec, bpf_skb_cgroup_id(skb));
}

SEC("cgroup_skb/egress")
int awf_egress(struct __sk_buff *skb)
{
	struct awf_scope sc = {};
	struct awf_src src = {};
	struct awf_dst d = {};

	if (scope_of_skb(&sc, skb) &&
	    (sc.cfg->unrestricted || packet_allowed(skb, 0, &sc, &d, &src)))
		return VERDICT_PROCEED;
	packet_dropped(skb, sc.slot, AWF_R_BACKSTOP, &d, &src);
	return VERDICT_REFUSE;
}

#ifdef AWF_AGENT
/* Host-wide layer (agent only) ----------------------------------------- */

#define TC_ACT_OK 0
#define TC_ACT_SHOT 2
#define ETH_HLEN 14

/* Uplinks the agent attached to: ifindex -> offset of the IP header. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 1024);
	AWF_PIN;
} uplinks SEC(".maps");

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
	struct awf_scope sc = {};
	struct awf_src src = {};
	struct awf_dst d = {};

	if (!bpf_skb_cgroup_id(skb) || !scope_of_skb(&sc, skb) ||
	    sc.cfg->unrestricted)
		return TC_ACT_OK;
	off = bpf_map_lookup_elem(&uplinks, &ifindex);
	if (off)
		l3 = *off;
	if (packet_allowed(skb, l3, &sc, &d, &src))
		return TC_ACT_OK;
	packet_dropped(skb, sc.slot, AWF_R_TC_EGRESS, &d, &src);
	return TC_ACT_SHOT;
}
#endif
