/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * rules.h - the policy's address rules as CIDR trie entries.
 *
 * An LPM trie answers with the most specific prefix only, so the builder
 * makes every prefix carry the ports of all allow prefixes that cover it,
 * and adds the prefixes that are never plain allows: link-local/metadata
 * ranges (denied unless an entry names them) and the host's own addresses
 * (loopback rules apply to them).
 */
#ifndef AWF_RULES_H
#define AWF_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"

struct rule_entry {
	int family;
	uint8_t addr[16];
	unsigned int prefixlen;
	struct awf_rule rule;
};

struct rule_table {
	struct rule_entry *v;
	size_t n;
	size_t cap;
};

/* rule.id of an allow_cidrs[i] entry is i + 1; 0 names no entry. */
int rules_build(struct rule_table *t, const struct policy *p,
		const struct policy_cidr *local, size_t n_local, char *err,
		size_t errlen);
void rules_free(struct rule_table *t);
/*
 * What the kernel's LPM trie answers for addr: the longest prefix of t
 * that covers it, or NULL. For `policy test` and the tests, in user space.
 */
const struct rule_entry *rules_lookup(const struct rule_table *t, int family,
				      const uint8_t *addr);
/* Every entry into the CIDR tries cidr4_fd / cidr6_fd. */
int rules_write(const struct rule_table *t, int cidr4_fd, int cidr6_fd,
		char *err, size_t errlen);

#endif /* AWF_RULES_H */
