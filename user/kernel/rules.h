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

#include <stdbool.h>
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
	uint8_t kind;  /* enum awf_rule_kind */
	uint8_t exact; /* in its family's exact table, not in the trie */
	uint32_t id;
	uint32_t ports; /* in rule_table.ports */
	uint8_t addr[16];
};

/*
 * A family with at least this many full-length entries (/32, /128: host
 * addresses, as large lists mostly are) has them in an exact table
 * (awf.h, struct awf_exact4_slot), filled at a fraction of a trie
 * insert's cost. Below that the tries hold everything: their inserts
 * cost little there, and the programs skip the table's lookup.
 */
#define RULES_EXACT_MIN 1024

/* One family's exact table: twice as many slots as entries or more. */
struct rules_exact {
	uint32_t *slot; /* slot -> index in the table + 1; 0: empty */
	uint32_t mask;	/* slots - 1; 0: no table */
};

/* Sorted by family, address, prefix length: a prefix before those inside. */
struct rule_table {
	struct rule_entry *v;
	size_t n;
	size_t cap;
	struct port_table ports;
	struct rules_exact exact4, exact6;
	bool allows; /* some entry is AWF_RULE_ALLOW: the policy's allow_cidrs */
};

/* The elements of each map: the loader creates the maps at these sizes. */
struct rules_sizes {
	size_t trie4, trie6;   /* the entries not in an exact table */
	size_t exact4, exact6; /* slots */
	size_t ports;	       /* port sets, for the exact tables' entries */
};

/* The maps rules_write() fills; the exact ones used only with a table. */
struct rules_maps {
	int trie4, trie6;
	int exact4, exact6, ports;
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
/* The trie value of e (an exact map's too). */
void rules_value(const struct rule_table *t, const struct rule_entry *e,
		 struct awf_rule *out);
void rules_sizes(const struct rule_table *t, struct rules_sizes *s);

enum rules_write_mode {
	RULES_WRITE_BATCH,   /* exact tables in place where mmap-able; else
				BPF_MAP_UPDATE_BATCH, one element at a time
				where the kernel refuses it */
	RULES_WRITE_ELEMENT, /* one element at a time (tests of the fallback) */
};

/* Every entry into its map of m: a trie, or an exact table's slot. */
int rules_write(const struct rule_table *t, const struct rules_maps *m,
		char *err, size_t errlen);
int rules_write_mode(const struct rule_table *t, const struct rules_maps *m,
		     enum rules_write_mode mode, char *err, size_t errlen);

#endif /* AWF_RULES_H */
