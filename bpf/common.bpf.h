/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * common.bpf.h - what every part of the programs shares, whichever build
 * (run or agent): the kernel's types, the constants vmlinux.h lacks, the
 * programs' view of a destination and of a decision, address helpers.
 */
#ifndef AWF_COMMON_BPF_H
#define AWF_COMMON_BPF_H

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

/*
 * A global function: the verifier checks it once, for any argument, rather
 * than once per call site and per value it can tell apart (the parsers of
 * bytes a client chose; the decision, shared by every path). Its pointer
 * arguments may be NULL as far as the verifier knows, and a pointer read
 * from one is a scalar: pass the slot, not a struct awf_scope, and look
 * the scope up again (scope_of_slot()).
 */
#define AWF_SUBPROG __attribute__((noinline))

/*
 * A destination as the policy sees it; v4-mapped IPv6 is folded to IPv4.
 * addr is laid out as every 16-byte address of awf.h: network order, IPv4
 * in addr[0] and the rest zero. Every awf_dst and awf_src starts zeroed
 * ({}), so an IPv4 address is written to addr[0] alone: clang does not
 * drop a second set of zero stores, and the connect path would pay them.
 */
struct awf_dst {
	__u32 addr[4];
	__u16 port; /* host order */
	__u8 family;
	__u8 proto;
};

/*
 * The local end of a socket or packet, for the audit trail only: its
 * address and port; for a socket sock_create refused, its type and
 * protocol (0 for every other event).
 */
struct awf_src {
	__u32 addr[4]; /* as awf_dst's */
	__u16 port;    /* host order */
	__s32 sock_type;
	__s32 sock_proto;
};

struct awf_decision {
	__u8 verdict;
	__u8 reason;
	/* allowed as a learned address: its first bytes must name a name */
	__u8 name_check;
	__u8 audit_only; /* a denial that proceeds: AWF_EVF_AUDIT_ONLY */
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
#define CTX_STORE(field, val)                  \
	do {                                   \
		(field) = (val);               \
		asm volatile("" ::: "memory"); \
	} while (0)

/*
 * After a map lookup in one branch of two that look up two maps alike
 * (an IPv4 and an IPv6 table): without it, clang may merge the two calls
 * into one whose map is either, and the verifier, seeing two maps at one
 * call, no longer inlines the lookup: it becomes a call through the
 * map's ops, a retpoline on this kind of host (about 65 ns per packet of
 * the backstop, measured).
 */
#define AWF_KEEP_LOOKUP() asm volatile("" ::: "memory")

/*
 * clang 14 does not lower memcmp for BPF; addresses are 4-byte aligned.
 * b may be the .rodata config: keep its reads volatile. The words are
 * compared as one (xor, or), here and in the other tests of a whole
 * address: each && was a branch, and each branch one more way for the
 * verifier to reach what follows (DNS-only policy: 9,027 -> 8,342
 * instructions verified, the backstop and sendmsg6 most).
 */
static __always_inline bool ip6_eq(const __u32 *a, const volatile __u32 *b)
{
	return !((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]));
}

static __always_inline bool is_v4mapped(const __u32 *ip6)
{
	return !(ip6[0] | ip6[1] | (ip6[2] ^ bpf_htonl(0xffff)));
}

/*
 * A 16-byte address (our layout) into a map key's bytes, a word at a
 * time. __builtin_memcpy() from an awf_dst a global function was passed
 * copies 8 bytes at a time, and since the awf_dst is only known to be
 * 4-byte aligned, each 8-byte load becomes eight byte loads and shifts.
 * key: 4-byte aligned (every key declared with it is, AWF_KEY_ALIGN).
 */
#define AWF_KEY_ALIGN __attribute__((aligned(4)))

static __always_inline void addr_to_key(void *key, const __u32 *addr)
{
	__u32 *k = key;

	k[0] = addr[0];
	k[1] = addr[1];
	k[2] = addr[2];
	k[3] = addr[3];
}

/*
 * An IPv6 address into a zeroed addr of our layout; returns the family it
 * counts as.
 */
static __always_inline __u8 addr_from_ip6(__u32 *addr, const __u32 *ip6)
{
	if (is_v4mapped(ip6)) {
		addr[0] = ip6[3];
		return AF_INET;
	}
	addr[0] = ip6[0];
	addr[1] = ip6[1];
	addr[2] = ip6[2];
	addr[3] = ip6[3];
	return AF_INET6;
}

#endif /* AWF_COMMON_BPF_H */
