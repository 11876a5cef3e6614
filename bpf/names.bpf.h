/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * names.bpf.h - the policy's names in the kernel: a name as a key of the
 * names trie (awf.h, struct awf_name_key) and the verdict on it. The trie
 * is compiled by user space from the DNS filter's own matcher
 * (user/kernel/name_rules.c), so the two answer alike. Needs a variant
 * header first (AWF_PIN, NAME_RULES_MAX, EXACT_NAMES_MAX) and
 * policy.bpf.h.
 */
#ifndef AWF_NAMES_BPF_H
#define AWF_NAMES_BPF_H

#include "common.bpf.h"
#include "policy.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct awf_name_key);
	__type(value, struct awf_name_rule);
	__uint(max_entries, NAME_RULES_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	AWF_PIN;
} name_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct awf_name_key);
	__type(value, struct awf_name_verdict);
	__uint(max_entries, EXACT_NAMES_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	AWF_PIN;
} exact_names SEC(".maps");

/* The bytes a name is read from: a power of two, for masked offsets. */
#define SCRATCH_LEN 32768
#define SCRATCH_MASK (SCRATCH_LEN - 1)

#define NAME_KEY_BITS(len) (16 + (len)*8)
#define MAX_LABEL_LEN 63

/*
 * What each byte of a name stands for in its key: lowercase (A-Z folded),
 * 0-9, '-', '_' and the dot as themselves, 0 for a byte no name may hold.
 * One load per byte, where compares would split the verifier's walk of
 * name_to_key()'s loop into a state per kind of byte.
 */
#define NC_SAME(c) [c] = c
#define NC_LETTER(c) [c] = c, [c - ('a' - 'A')] = c

/* clang-format off */
static const __u8 name_chars[256] = {
	NC_LETTER('a'), NC_LETTER('b'), NC_LETTER('c'), NC_LETTER('d'),
	NC_LETTER('e'), NC_LETTER('f'), NC_LETTER('g'), NC_LETTER('h'),
	NC_LETTER('i'), NC_LETTER('j'), NC_LETTER('k'), NC_LETTER('l'),
	NC_LETTER('m'), NC_LETTER('n'), NC_LETTER('o'), NC_LETTER('p'),
	NC_LETTER('q'), NC_LETTER('r'), NC_LETTER('s'), NC_LETTER('t'),
	NC_LETTER('u'), NC_LETTER('v'), NC_LETTER('w'), NC_LETTER('x'),
	NC_LETTER('y'), NC_LETTER('z'),
	NC_SAME('0'), NC_SAME('1'), NC_SAME('2'), NC_SAME('3'), NC_SAME('4'),
	NC_SAME('5'), NC_SAME('6'), NC_SAME('7'), NC_SAME('8'), NC_SAME('9'),
	NC_SAME('-'), NC_SAME('_'), NC_SAME('.'),
};
/* clang-format on */

/* The bytes a name is read from (first_bytes.bpf.h). */
struct first_bytes {
	__u8 buf[SCRATCH_LEN];
};

/*
 * A key being built. label counts the current label's bytes and bad says
 * the name is not one the matcher allows; ext_off is where the walk of a
 * ClientHello's extensions is (first_bytes.bpf.h). All in map memory,
 * whose values the verifier does not follow: in a register or on the
 * stack each value would be a state of its own.
 */
struct name_build {
	struct awf_name_key key;
	__u32 label;
	__u32 bad;
	__u32 ext_off;
};

/* Where name_key_byte() reads a name from and builds its key. */
struct name_walk {
	const __u8 *buf;
	struct name_build *nb;
	__u32 off;
	__u32 n;
};

/*
 * Byte i of the name into the key (bpf_loop: its body is checked once, not
 * once per byte as a loop of 253 rounds would be: a quarter of a name
 * check's load). 1 stops the walk: a byte the key cannot hold.
 */
static long name_key_byte(__u32 i, struct name_walk *w)
{
	struct name_build *nb = w->nb;
	__u32 idx = w->n - 1 - i;
	__u8 c;

	c = name_chars[w->buf[(w->off + i) & SCRATCH_MASK]];
	if (!c || idx >= AWF_NAME_KEY_LEN)
		goto bad;
	nb->key.name[idx] = c;
	if (c == '.') {
		if (!nb->label)
			goto bad;
		nb->label = 0;
	} else if (++nb->label > MAX_LABEL_LEN) {
		goto bad;
	}
	return 0;
bad:
	nb->bad = 1;
	return 1;
}

/*
 * nb->key.name from the n bytes of a name at off (nb zeroed by the
 * caller): lowercase, characters reversed, a final '.'; a trailing dot of
 * the name is dropped. Returns the key's length, or 0 for what the
 * matcher never allows: an empty or too long label, a byte other than
 * [a-zA-Z0-9_-], a name longer than 253.
 */
AWF_SUBPROG int name_to_key(const struct first_bytes *fb, __u32 off, __u32 n,
			    struct name_build *nb)
{
	struct name_walk w = { .nb = nb, .off = off };

	if (!fb || !nb)
		return 0;
	w.buf = fb->buf;
	if (n && w.buf[(off + n - 1) & SCRATCH_MASK] == '.')
		n--;
	if (n == 0 || n > AWF_NAME_KEY_LEN - 1)
		return 0;
	w.n = n;
	nb->label = 0;
	nb->bad = 0;
	bpf_loop(n, name_key_byte, &w, 0);
	if (nb->bad)
		return 0;
	nb->key.name[n] = '.';
	return n + 1;
}

/*
 * The policy's verdict on the name of key (klen bytes) on port, for the
 * sandbox slot. The verdict of an EXACT region is the one the DNS filter
 * stored for that very name; a name it never allowed is not allowed.
 */
static __always_inline void name_decide(__u32 slot, struct awf_name_key *key,
					__u32 klen, __u16 port,
					struct awf_decision *dec)
{
	struct awf_name_verdict *v;
	struct awf_name_rule *rule;

	deny(dec, AWF_R_TLS_NAME);
	if (!klen || klen > AWF_NAME_KEY_LEN)
		return;
	key->slot = bpf_htons((__u16)slot);
	key->prefixlen = NAME_KEY_BITS(klen);
	rule = bpf_map_lookup_elem(&name_rules, key);
	if (!rule)
		return;
	v = rule->len == klen ? &rule->apex : &rule->below;
	if (v->kind == AWF_NV_EXACT) {
		key->prefixlen = 0;
		v = bpf_map_lookup_elem(&exact_names, key);
		if (!v)
			return;
	}
	dec->rule_id = v->entry_id;
	if (v->kind == AWF_NV_BLOCK)
		deny(dec, AWF_R_NAME_BLOCKED);
	else if (v->kind == AWF_NV_ALLOW && port_in_map(&v->ports, port))
		allow(dec, AWF_R_NAME_OK, v->entry_id);
}

#endif /* AWF_NAMES_BPF_H */
