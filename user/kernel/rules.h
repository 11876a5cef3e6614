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
#include "policy/ports.h"

/*
 * One trie entry in 28 bytes: a million of them are a policy's largest
 * copy. Its value (struct awf_rule) is made when it is written.
 */
struct rule_entry {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t prefixlen;
	uint8_t kind; /* enum awf_rule_kind */
	uint32_t id;
	uint32_t ports; /* in rule_table.ports */
	uint8_t addr[16];
};

/* Sorted by family, address, prefix length: a prefix before those inside. */
struct rule_table {
	struct rule_entry *v;
	size_t n;
	size_t cap;
	struct port_table ports;
};

/* id of an allow_cidrs[i] entry is i + 1; 0 names no entry. */
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
/* The trie value of e. */
void rules_value(const struct rule_table *t, const struct rule_entry *e,
		 struct awf_rule *out);

enum rules_write_mode {
	RULES_WRITE_BATCH,   /* BPF_MAP_UPDATE_BATCH, one element at a time
				where the kernel refuses it */
	RULES_WRITE_ELEMENT, /* one element at a time (tests of the fallback) */
};

/* Every entry into the CIDR tries cidr4_fd / cidr6_fd. */
int rules_write(const struct rule_table *t, int cidr4_fd, int cidr6_fd,
		char *err, size_t errlen);
int rules_write_mode(const struct rule_table *t, int cidr4_fd, int cidr6_fd,
		     enum rules_write_mode mode, char *err, size_t errlen);

#endif /* AWF_RULES_H */
