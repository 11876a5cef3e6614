/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * awf.h - every map key, map value, event and constant shared by the BPF
 * programs (bpf/awf.bpf.c and its headers) and user space. Nothing else
 * may define them.
 *
 * Byte order: addresses are stored as on the wire (network order) so that
 * the BPF side compares them without conversions; ports are host order.
 *
 * An address of either family in 16 bytes (awf_sk_state's, awf_event's,
 * awf_dns_server's, awf_config.proxy_addr) holds IPv6 as is, or IPv4 in
 * its first 4 bytes with the other 12 zero, next to a family that says
 * which. A v4-mapped IPv6 address (::ffff:a.b.c.d) is stored as IPv4.
 */
#ifndef AWF_H
#define AWF_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define AWF_DNS_PORT 53
#define AWF_MAX_PORT_RANGES 16
#define AWF_COMM_LEN 16
#define AWF_NAME_LEN 256 /* a DNS name in presentation form, NUL-terminated */

/* Map sizes: bounded so that a hostile policy cannot exhaust memlock. */
#define AWF_MAX_CIDRS (1 << 20) /* allocated per entry (BPF_F_NO_PREALLOC) */
#define AWF_MAX_LEARNED 65536
#define AWF_MAX_HOST_ADDRS 4096
/*
 * Destinations whose trie answer is kept. 2048: a hash map allocates its
 * buckets at creation, and 4096 of them (64 KiB) are past kmalloc's
 * limit: vmalloc, ~0.2 ms per run here against ~20 us.
 */
#define AWF_MAX_CIDR_CACHE 2048
#define AWF_RINGBUF_BYTES (256 * 1024)

/*
 * The agent (awf-bpf agent) serves many sandboxes with one set of
 * programs: a cgroup resolves to a slot (map "slots", deepest ancestor
 * wins), the slot to its config. Its entries in the shared policy maps
 * carry the slot in their keys (learned addresses: the config's
 * learned_set, which a reload keeps). No maps of maps: replacing an inner
 * map waits for an RCU grace period, ~10 ms each, and a sandbox would
 * need five. Slot 0 is never an agent sandbox: `run` uses it for its one.
 */
#define AWF_MAX_SLOTS 4096
#define AWF_MAX_CG_DEPTH 16
#define AWF_AGENT_MAX_LEARNED (1 << 20) /* all sandboxes together */
#define AWF_AGENT_MAX_LO_PORTS (1 << 16)
#define AWF_AGENT_MAX_HOST_ADDRS (1 << 16) /* all sandboxes together */

/* prefixlen counts the 32 bits of slot (network order) too. */
struct awf_slot_cidr4_key {
	__u32 prefixlen;
	__u32 slot;
	__u8 addr[4];
};

struct awf_slot_cidr6_key {
	__u32 prefixlen;
	__u32 slot;
	__u8 addr[16];
};

struct awf_set_ip4_key {
	__u32 set; /* awf_config.learned_set */
	__u8 addr[4];
};

struct awf_set_ip6_key {
	__u32 set;
	__u8 addr[16];
};

/*
 * The agent's host_addrs4/6 keys: an address a sandbox's packets may carry
 * as their source (an address of the host, or of a pod the sandbox's
 * processes live in), per slot.
 */
struct awf_slot_ip4_key {
	__u32 slot;
	__u8 addr[4];
};

struct awf_slot_ip6_key {
	__u32 slot;
	__u8 addr[16];
};

/* The agent's names map: a learned set's name_id -> name. */
struct awf_set_name_key {
	__u32 set;
	__u32 id;
};

struct awf_slot_lo_port_key {
	__u32 slot;
	__u16 port;
	__u8 proto;
	__u8 pad;
};

enum awf_localhost_mode {
	/* only ports the sandbox bound, plus listed ports */
	AWF_LO_SANDBOX = 0,
	AWF_LO_ALLOW = 1,
	AWF_LO_DENY = 2,
};

/* Inclusive range, host byte order. "every port" is {0, 65535}. */
struct awf_port_range {
	__u16 lo;
	__u16 hi;
};

struct awf_port_set {
	__u32 count;
	struct awf_port_range ranges[AWF_MAX_PORT_RANGES];
};

/*
 * What a CIDR trie entry means. The trie returns the most specific prefix,
 * so user space folds the ports of every covering allow prefix into each
 * more specific one; a lookup then answers for the union of all entries.
 */
enum awf_rule_kind {
	/* never in the trie: cidr_cache's answer for "no prefix" */
	AWF_RULE_NONE = 0,
	AWF_RULE_ALLOW = 1,
	AWF_RULE_RESERVED = 2, /* link-local / cloud metadata: denied */
	AWF_RULE_LOCAL = 3,    /* an address of this host: loopback rules */
};

struct awf_cidr4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct awf_cidr6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

struct awf_rule {
	__u32 id;   /* index of the policy entry, for audit */
	__u32 kind; /* enum awf_rule_kind */
	struct awf_port_set ports;
};

struct awf_ip6_key {
	__u8 addr[16];
};

/*
 * The full-length CIDR entries (/32, /128) of a large `run` policy: an
 * open-addressing hash table that user space lays out in an array map
 * (cidr_exact4/6; the slot of an address is awf_exact_hash() & mask, then
 * the next ones, AWF_EXACT_PROBES at most), their port sets in another
 * (cidr_ports). On this kind of host a trie node or a hash map element
 * costs about 1 us to insert (the bucket lock saves and restores the
 * interrupt flag, an exit on a paravirtualized guest); an array element
 * is a copy. An entry that finds no free slot within AWF_EXACT_PROBES
 * stays in the trie. A full-length match is the most specific there is,
 * so the table answers before the trie.
 */
#define AWF_EXACT_PROBES 16

struct awf_exact4_slot {
	__u8 addr[4];
	__u32 id;    /* as awf_rule's */
	__u32 ports; /* index in cidr_ports */
	__u32 kind;  /* enum awf_rule_kind; 0: an empty slot */
};

struct awf_exact6_slot {
	__u8 addr[16];
	__u32 id;
	__u32 ports;
	__u32 kind;
};

/*
 * murmur3's finalizer: every bit of x moves the low bits of the slot (and
 * of the policy's name trie buckets, user/policy/domain_match.c).
 */
static inline __u32 awf_exact_mix(__u32 x)
{
	x ^= x >> 16;
	x *= 0x85ebca6bU;
	x ^= x >> 13;
	x *= 0xc2b2ae35U;
	x ^= x >> 16;
	return x;
}

/* The home slot (before & mask) of an address of n_words 32-bit words. */
static inline __u32 awf_exact_hash(const __u32 *w, int n_words)
{
	__u32 h = 0;

	for (int i = 0; i < n_words; i++)
		h = awf_exact_mix(h ^ w[i]);
	return h;
}

/*
 * The CIDR trie's answer for one destination (`run` only, map
 * cidr_cache): a walk of a trie of 1M entries misses the cache at every
 * level, a hash lookup does not grow with the policy. The value is the
 * struct awf_rule the trie holds, or one of kind 0 when no prefix covers
 * the destination (no entry of the trie has kind 0): the programs insert
 * the trie's own entry, with no copy to the stack, which the verifier
 * would walk once for each map it came from.
 */
struct awf_cidr_cache_key {
	__u8 addr[16]; /* as every 16-byte address here */
	__u8 family;
	__u8 pad[3];
};

/*
 * A CPU's slot of the packet backstop's memo (run: dst_memo, indexed by
 * CPU): word is the destination it last found allowed (memo_word()).
 * One cache line each: a CPU writes only its own.
 */
struct awf_memo_slot {
	__u64 word;
	__u64 pad[7];
};

/* An address learned from an allowed DNS answer (filled by user space). */
struct awf_learned {
	__u64 expires_ns; /* CLOCK_MONOTONIC, as bpf_ktime_get_ns() */
	__u32 name_id;
	__u32 rule_id;
	struct awf_port_set ports;
	__u32 flags; /* enum awf_learned_flag */
	__u32 pad;
};

enum awf_learned_flag {
	/*
	 * A name of an entry with "name_check": false resolved to this
	 * address: TCP connections to it are not checked for their TLS
	 * server name or HTTP Host (an address shared by several names is
	 * checked only if none of them turned the check off).
	 */
	AWF_LEARNED_NO_NAME_CHECK = 1 << 0,
	/* UDP may reach it too ("udp": true; merged: any of the names). */
	AWF_LEARNED_UDP = 1 << 1,
	/*
	 * Audit-only mode: learned from a name the policy does not allow,
	 * so that the events of its connections name it. Decided as if it
	 * were not learned (never written in enforcing mode); an allowed
	 * name's entry for the same address wins.
	 */
	AWF_LEARNED_AUDIT_ONLY = 1 << 2,
};

/*
 * Names checked in the kernel (docs/architecture.md, "Names on shared
 * addresses"): a TCP connection allowed only because its address was
 * learned from an allowed name has its first bytes checked before they
 * leave the host: the TLS ClientHello's server_name or the HTTP/1.x Host
 * header must be a name the policy allows on that port.
 *
 * The names trie holds the policy's domain patterns, compiled by user
 * space from the same matcher the DNS filter uses. A key is the name with
 * its characters in reverse order, lowercase, and a final '.':
 * "www.example.com" is "moc.elpmaxe.www.". A pattern's key is a prefix of
 * exactly the keys of the names at and below it, so the longest prefix
 * match finds the most specific pattern. prefixlen counts the 16 bits of
 * slot (network order; 0 under `run`) too: an LPM key holds at most 256
 * bytes, and slot and the longest name (253) with its '.' take them.
 */
#define AWF_NAME_KEY_LEN 254
#define AWF_MAX_NAME_RULES (1 << 20)
#define AWF_MAX_EXACT_NAMES 65536
#define AWF_AGENT_MAX_NAME_RULES (1 << 20)
#define AWF_AGENT_MAX_EXACT_NAMES (1 << 20)
#define AWF_MAX_NAME_SOCKS 65536 /* connections awaiting their first bytes */

struct awf_name_key {
	__u32 prefixlen;
	__u16 slot;
	__u8 name[AWF_NAME_KEY_LEN]; /* zero after the name */
};

enum awf_name_verdict_kind {
	AWF_NV_DENY = 0,  /* no allow entry covers the name */
	AWF_NV_ALLOW = 1, /* allowed on ports */
	AWF_NV_BLOCK = 2, /* a block_domains entry covers it */
	/*
	 * A pattern with '*' inside a label covers some names here: only
	 * the names the DNS filter allowed are known (map exact_names: the
	 * name's key with prefixlen 0 -> its verdict).
	 */
	AWF_NV_EXACT = 3,
};

struct awf_name_verdict {
	__u8 kind; /* enum awf_name_verdict_kind */
	__u8 pad[3];
	__u32 entry_id; /* the most specific entry, index + 1, as rule_id */
	struct awf_port_set ports;
};

/*
 * One trie entry: the verdict on the name the key spells (key length in
 * bytes == len) and on every name below it that no longer key covers.
 */
struct awf_name_rule {
	__u32 len;
	__u32 pad;
	struct awf_name_verdict apex;
	struct awf_name_verdict below;
};

/* What the programs know of a checked connection (in awf_sk_state). */
enum awf_name_check_state {
	AWF_NC_NONE = 0,    /* not a connection that needs a name */
	AWF_NC_PENDING = 1, /* its first bytes are not checked yet */
	AWF_NC_PASSED = 2,
	AWF_NC_REFUSED = 3,
};

/*
 * Per socket state (BPF_MAP_TYPE_SK_STORAGE). orig_* is the destination a
 * DNS query was sent to before the redirect, restored on recvmsg and
 * getpeername. allowed_* is the last destination a socket hook allowed:
 * the packet backstop lets exactly that destination through. Addresses as
 * every 16-byte address here (IPv4 in the first 4 bytes).
 */
struct awf_sk_state {
	__u8 orig_family; /* 0 when the socket was never redirected */
	__u8 allowed_family;
	__u16 orig_port;
	__u8 orig_addr[16];
	__u16 allowed_port;
	__u16 bound_port; /* loopback port it serves the sandbox on (post_bind) */
	__u8 allowed_addr[16];
	__u8 bound_proto;
	__u8 name_check; /* enum awf_name_check_state */
	__u8 pad[2];
	__u32 slot;	    /* the sandbox that holds bound_port (agent) */
	__u32 name_slot;    /* the sandbox whose names apply */
	__u32 name_rule_id; /* the learned address's rule, for the event */
	__u32 name_id;	    /* and its name */
	__u32 pad2;
	__u64 name_cookie; /* its key in name_socks while it is there */
};

/*
 * Set once before load; read-only for the programs (.rodata), so the
 * verifier prunes branches of disabled features. The BPF side must read it
 * through volatile accesses only: a cast that drops the qualifier lets clang
 * fold the read to the zero initializer.
 */
struct awf_config {
	__u32 dns_ip4;	  /* DNS endpoint, network order */
	__u32 dns_ip6[4]; /* DNS endpoint for native IPv6 sockets */
	__u16 dns_port;	  /* host order */
	__u8 localhost_mode;
	__u8 ipv6_enabled;
	__u8 proxy_enabled;
	__u8 proxy_family;
	__u16 proxy_port;
	__u32 proxy_addr[4]; /* IPv4 in proxy_addr[0], the rest zero */
	__u8 audit_allowed;  /* also emit events for allowed connects */
	__u8 unrestricted;   /* agent: a subtree the operator left unfiltered */
	__u8 audit_only;     /* "mode": "audit": see AWF_AUDIT_ONLY_REASONS */
	__u8 pad;
	struct awf_port_set lo_ports; /* loopback ports the policy lists */
	__u32 learned_set; /* agent: key of the learned addresses; run: 0 */
};

enum awf_event_kind {
	AWF_EV_CONNECT = 1,
	AWF_EV_SENDMSG = 2,
	AWF_EV_SOCK_CREATE = 3,
	AWF_EV_PACKET = 4,
	AWF_EV_BIND = 5, /* daddr/dport: the address the socket asked for */
	/* struct awf_name_event: the first bytes of a checked connection */
	AWF_EV_TLS = 6,	    /* a TLS ClientHello; name: its server_name */
	AWF_EV_HTTP = 7,    /* an HTTP/1.x request; name: its Host, port cut */
	AWF_EV_PAYLOAD = 8, /* neither (name empty) */
};

enum awf_verdict {
	AWF_ALLOW = 0,
	AWF_DENY = 1,
	AWF_REDIRECT = 2, /* DNS sent to the awf-bpf endpoint */
};

enum awf_reason {
	AWF_R_NONE = 0,
	AWF_R_NOT_IN_POLICY = 1,
	AWF_R_PORT_NOT_ALLOWED = 2,
	AWF_R_RESERVED_RANGE = 3,
	AWF_R_LOOPBACK = 4,
	AWF_R_IPV6_DISABLED = 5,
	AWF_R_SOCKET_TYPE = 6,
	AWF_R_BACKSTOP = 7,
	AWF_R_DNS_REDIRECT = 8,
	AWF_R_CIDR = 9,
	AWF_R_PROXY = 10,
	AWF_R_LEARNED = 11,
	AWF_R_PROXY_ONLY = 12,
	/* Decided by the DNS filter in user space, never by the programs. */
	AWF_R_DNS_ALLOWED = 13,
	AWF_R_BLOCKED_DOMAIN = 14,
	AWF_R_NAME_NOT_ALLOWED = 15,
	AWF_R_DNS_UPSTREAM_FAILURE = 16,
	AWF_R_DNS_LOCAL_ANSWER = 17,  /* PTR and ANY */
	AWF_R_DNS_MALFORMED = 18,     /* not a query awf-bpf can judge */
	AWF_R_DNS_BAD_ANSWER = 19,    /* the upstream answer was rejected */
	AWF_R_BIND_NOT_LOOPBACK = 20, /* a listening port off loopback */
	AWF_R_TC_EGRESS = 21,	      /* dropped by the agent's tc layer */
	/* The first bytes of a connection to a learned address. */
	AWF_R_TLS_NAME = 22,  /* server_name not allowed (on that port) */
	AWF_R_HTTP_HOST = 23, /* Host not allowed (on that port) */
	AWF_R_NO_NAME = 24,   /* ClientHello without server_name, no Host */
	AWF_R_NOT_TLS_OR_HTTP = 25,   /* other bytes to port 80 or 443 */
	AWF_R_HELLO_UNCHECKABLE = 26, /* a ClientHello the check cannot read */
	AWF_R_NAME_UNCHECKED = 27, /* bytes sent before the check could run */
	AWF_R_NAME_BLOCKED = 28,   /* the name is in block_domains */
	AWF_R_NAME_OK = 29,	   /* allowed: the name is allowed there */
	AWF_R_UDP_TO_NAME = 30,	   /* UDP to a name's address without "udp" */
	/* A source address not of this host: bind, PKTINFO or the packet's */
	AWF_R_SPOOFED_SOURCE = 31,
	AWF_R_MAX,
};

/*
 * The reasons that are the policy's own. In audit-only mode ("mode":
 * "audit", `run --audit-only`) a denial for one of them is not enforced:
 * the operation proceeds and its event, otherwise the same, carries
 * AWF_EVF_AUDIT_ONLY. A denial for any other reason stays: audit mode
 * opens the policy, not the sandbox (reserved ranges, socket types,
 * spoofed sources, binds off loopback, packets the backstop cannot
 * parse, the DNS filter's refusals of what it cannot judge).
 */
#define AWF_REASON_BIT(r) (1ULL << (r))
#define AWF_AUDIT_ONLY_REASONS                                              \
	(AWF_REASON_BIT(AWF_R_NOT_IN_POLICY) |                              \
	 AWF_REASON_BIT(AWF_R_PORT_NOT_ALLOWED) |                           \
	 AWF_REASON_BIT(AWF_R_LOOPBACK) |                                   \
	 AWF_REASON_BIT(AWF_R_IPV6_DISABLED) |                              \
	 AWF_REASON_BIT(AWF_R_PROXY_ONLY) |                                 \
	 AWF_REASON_BIT(AWF_R_BLOCKED_DOMAIN) |                             \
	 AWF_REASON_BIT(AWF_R_NAME_NOT_ALLOWED) |                           \
	 AWF_REASON_BIT(AWF_R_TLS_NAME) | AWF_REASON_BIT(AWF_R_HTTP_HOST) | \
	 AWF_REASON_BIT(AWF_R_NO_NAME) |                                    \
	 AWF_REASON_BIT(AWF_R_NOT_TLS_OR_HTTP) |                            \
	 AWF_REASON_BIT(AWF_R_HELLO_UNCHECKABLE) |                          \
	 AWF_REASON_BIT(AWF_R_NAME_UNCHECKED) |                             \
	 AWF_REASON_BIT(AWF_R_NAME_BLOCKED) |                               \
	 AWF_REASON_BIT(AWF_R_UDP_TO_NAME))

enum awf_event_flag {
	/* passed only because of audit-only mode; enforcing would refuse */
	AWF_EVF_AUDIT_ONLY = 1 << 0,
};

/*
 * daddr and saddr as every 16-byte address here: IPv4 in the first 4
 * bytes, the rest zero. The source is the socket's bound address and port
 * (0 while unbound) for the socket hooks, the IP header's for packets.
 */
struct awf_event {
	__u64 ts_ns; /* CLOCK_MONOTONIC */
	__u64 cgroup_id;
	__u32 pid; /* thread group id, as user space sees a pid */
	__u32 tid;
	__u32 uid;
	__u32 rule_id;
	__u32 name_id; /* learned address: its name in the names map; 0 none */
	__u8 kind;     /* enum awf_event_kind */
	__u8 verdict;  /* enum awf_verdict */
	__u8 reason;   /* enum awf_reason */
	__u8 family; /* AF_INET or AF_INET6; v4-mapped is reported as AF_INET */
	__u8 proto;  /* IPPROTO_* */
	__u8 flags;  /* enum awf_event_flag */
	__u16 dport; /* host order */
	__u16 sport; /* host order */
	__u8 pad2[2];
	__u8 daddr[16];
	__u8 saddr[16];
	__s32 sock_type; /* AWF_EV_SOCK_CREATE only */
	__s32 sock_proto;
	__u32 slot; /* the agent's sandbox; 0 under `run` */
	__u32 pad3;
	char comm[AWF_COMM_LEN];
};

/*
 * An event about a name: struct awf_event, then the name the connection's
 * first bytes carried (lowercase, NUL-terminated; "" when none).
 */
struct awf_name_event {
	struct awf_event ev; /* kind AWF_EV_TLS, _HTTP or _PAYLOAD */
	char name[AWF_NAME_LEN];
};

enum awf_counter {
	AWF_C_CONNECT_ALLOWED = 0,
	AWF_C_CONNECT_DENIED,
	AWF_C_SENDMSG_ALLOWED,
	AWF_C_SENDMSG_DENIED,
	AWF_C_DNS_REDIRECTED,
	AWF_C_SOCKET_DENIED,
	AWF_C_PACKETS_DROPPED,
	AWF_C_EVENTS_LOST,
	/*
	 * Written by user space (the DNS filter), in CPU 0's slot: the
	 * programs never touch these, so the writes race with nothing.
	 */
	AWF_C_DNS_ALLOWED,
	AWF_C_DNS_BLOCKED,
	AWF_C_DNS_FAILED,
	/* Connections whose first bytes were checked for a name; refused. */
	AWF_C_NAMES_PASSED,
	AWF_C_NAMES_DENIED,
	/* Denials by enum awf_reason; the DNS reasons written by user space. */
	AWF_C_DENIED_BY_REASON,
	AWF_C_MAX = AWF_C_DENIED_BY_REASON + AWF_R_MAX,
};

/* The agent's counters map: AWF_C_MAX counters per slot, at slot * AWF_C_MAX. */
#define AWF_AGENT_N_COUNTERS (AWF_MAX_SLOTS * AWF_C_MAX)

/*
 * Maps for `awf-bpf dump` and `status`. The programs never read them; they
 * exist so that the pins of a sandbox describe it without the help of its
 * awf-bpf process: pinned under /sys/fs/bpf/awf-bpf/<sandbox>/ with the
 * policy maps, the learned maps, sk_state and counters (docs/dump.md).
 */
#define AWF_META_VERSION 1
#define AWF_MAX_DOMAINS 65536
#define AWF_ID_LEN 32
#define AWF_USER_LEN 32
#define AWF_PATH_LEN 512
#define AWF_CMDLINE_LEN 1024
#define AWF_META_MAX_DNS 8

/* name_id (as in awf_learned and awf_event) -> name */
struct awf_name {
	char name[AWF_NAME_LEN];
};

enum awf_domain_list {
	AWF_DOM_ALLOW = 1,
	AWF_DOM_BLOCK = 2,
};

/* id is the entry's index + 1, as rule_id of the addresses it opened. */
struct awf_domain_key {
	__u32 list; /* enum awf_domain_list */
	__u32 id;
};

struct awf_domain {
	__u8 subdomains;
	__u8 wildcard; /* "*.name": below the name only */
	__u8 pad[2];
	struct awf_port_set ports; /* effective ports; none for block entries */
	char name[AWF_NAME_LEN];
};

struct awf_dns_server {
	__u8 family;
	__u8 pad;
	__u16 port;
	__u8 addr[16];
};

/* The one entry (key 0) of the meta array. */
struct awf_meta {
	__u32 version;	    /* AWF_META_VERSION */
	__u32 pid;	    /* the awf-bpf process */
	__u32 workload_pid; /* 0 until the command is started */
	__u32 uid;
	__u64 pid_start_ticks; /* /proc/<pid>/stat starttime: a reused pid differs */
	__u64 start_realtime_ns; /* CLOCK_REALTIME */
	__u64 cgroup_id;
	__u32 n_allow_domains; /* in the policy; the domains map may hold fewer */
	__u32 n_block_domains;
	__u32 n_dns_servers;
	__u32 dns_min_ttl;
	__u32 dns_max_ips_per_name;
	__u32 argc;
	struct awf_dns_server dns_servers[AWF_META_MAX_DNS];
	struct awf_port_set default_ports;
	struct awf_config cfg;
	char sandbox[AWF_ID_LEN];
	char user[AWF_USER_LEN];
	char audit_log[AWF_PATH_LEN]; /* "" without --audit-log */
	/* argv, each NUL-terminated; truncated */
	char cmdline[AWF_CMDLINE_LEN];
};

#endif /* AWF_H */
