/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * domain_match.h - which allow_domains and block_domains entries of a
 * policy a DNS query name falls under, in time that depends on the name
 * and not on the number of entries.
 *
 * Patterns (already normalized by domain_normalize()):
 *   example.com         the name and every name below it; with
 *                       "subdomains": false the name alone
 *   *.example.com       every name below example.com at any depth, not
 *                       example.com itself
 *   api-*.example.com   '*' inside a label, or a whole label that is not
 *   a.*.example.com     the first one, stands for any run of characters
 *                       within that one label, never for a dot. The
 *                       pattern is otherwise a plain name: it covers the
 *                       names below the matched one unless "subdomains"
 *                       is false (x.api-1.example.com matches above).
 *
 * block_domains use the same syntax; any matching block entry wins.
 */
#ifndef AWF_DOMAIN_MATCH_H
#define AWF_DOMAIN_MATCH_H

#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"

struct domain_matcher;

struct domain_match {
	int allowed; /* 1: allowed; 0: not allowed or blocked */
	int blocked; /* 1: a block_domains entry matched (it wins) */
	/*
	 * index + 1 of the most specific matching allow entry, or block
	 * entry when blocked; 0: none. Most specific: the deepest, then the
	 * one with fewer '*' labels, then exact over "*." over plain, then
	 * the first in the policy.
	 */
	uint32_t entry_id;
	/*
	 * When allowed: the union of the ports of ALL matching allow entries
	 * (an entry's own ports, else the policy's default ports). Empty
	 * otherwise.
	 */
	struct awf_port_set ports;
};

/*
 * Fails when an entry is not in normalized form or when the ports of
 * entries that can match one name need more than AWF_MAX_PORT_RANGES
 * ranges together.
 */
struct domain_matcher *domain_matcher_new(const struct policy *p, char *err,
					  size_t errlen);

/*
 * name: a query name in presentation form: any case, an optional trailing
 * dot. Only letters, digits, '-' and '_' can match: a name with any other
 * byte (an escape, a '*', UTF-8), an empty label or more than 253
 * characters is not allowed.
 *
 * Returns out->allowed, or -1 when the matching entries' ports do not fit
 * in one port set (only possible with '*' inside labels; the name is then
 * not allowed).
 */
int domain_matcher_lookup(const struct domain_matcher *m, const char *name,
			  struct domain_match *out);

void domain_matcher_free(struct domain_matcher *m);

#endif /* AWF_DOMAIN_MATCH_H */
