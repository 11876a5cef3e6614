/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * name_table.h - the policy's names as the kernel checks them in a
 * connection's first bytes (bpf/names.bpf.h): the names trie, compiled
 * from the domain patterns by asking the DNS filter's own matcher, and
 * the exact names the DNS filter allowed under a pattern with '*' inside
 * a label, which a trie cannot hold.
 *
 * Compiling: every pattern's literal part is a key (the name reversed,
 * awf.h). A key's verdict on itself is the matcher's verdict on that
 * name; its verdict on the names below it that no longer key covers is
 * the matcher's verdict on one such name (a probe): those names match
 * exactly the same patterns. Below the literal suffix of a pattern with
 * '*' inside a label, names differ in what they match: there the kernel
 * takes the DNS filter's word for each name (AWF_NV_EXACT).
 */
#ifndef AWF_NAME_TABLE_H
#define AWF_NAME_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "awf.h"
#include "policy/domain_match.h"
#include "policy/policy.h"

struct name_rule_entry {
	struct awf_name_key key; /* slot 0; prefixlen from the key's length */
	struct awf_name_rule rule;
};

struct name_table {
	struct name_rule_entry *rules;
	size_t n_rules;
	bool has_exact;	       /* some region is AWF_NV_EXACT */
	uint32_t *entry_flags; /* per allow entry: its AWF_LEARNED_* flags */
	size_t n_entries;
	const struct domain_matcher *matcher; /* while building */
	int rules_fd; /* -1: not written to the kernel (tests) */
	int exact_fd;
	bool exact_written; /* name_table_learn() wrote to exact_fd */
	uint32_t slot;
};

/* Compile; nothing is written yet. p and m are not kept. */
int name_table_build(struct name_table *nt, const struct policy *p,
		     const struct domain_matcher *m, char *err, size_t errlen);
void name_table_free(struct name_table *nt);

/*
 * Whether a table of p's may have EXACT regions (a pattern with '*'
 * inside a label), known before it is built: without any, nothing is
 * ever written to exact_names.
 */
bool name_table_may_learn_exact(const struct policy *p);

/* Write the trie into the kernel's maps, under slot (0 under `run`). */
int name_table_write(struct name_table *nt, int rules_fd, int exact_fd,
		     uint32_t slot, char *err, size_t errlen);
/* Agent: remove the slot's entries from both maps. */
void name_table_purge(struct name_table *nt);

/*
 * A name the DNS filter allowed (m: the matcher's answer): if it lies in
 * an EXACT region, the kernel learns its verdict. -1 with errno when the
 * map could not take it (the kernel then refuses the name: fail closed).
 */
int name_table_learn(struct name_table *nt, const char *name,
		     const struct domain_match *m);

/* The awf_learned flags of an address learned for entry_id (index + 1). */
uint32_t name_table_learned_flags(const struct name_table *nt,
				  uint32_t entry_id);

/*
 * The key of name as the kernel builds it from a ClientHello or a Host
 * header: lowercase, reversed, a final '.'. Returns its length, 0 for a
 * name the kernel refuses (as names.bpf.h name_to_key()).
 */
size_t name_key_of(const char *name, struct awf_name_key *key);

/*
 * What the kernel's trie says about name (names.bpf.h name_decide(),
 * without the exact names): NULL when no key covers it.
 */
const struct awf_name_verdict *name_table_lookup(const struct name_table *nt,
						 const char *name);

#endif /* AWF_NAME_TABLE_H */
