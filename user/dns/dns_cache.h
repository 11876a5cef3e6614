/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * dns_cache.h - one DNS endpoint's (one sandbox's) cache of the upstream
 * answers it released. A hit is not an answer yet: the endpoint hands it
 * to the filter exactly like a fresh upstream answer (every check, the
 * learning of its addresses into the maps, the audit record) before the
 * client gets it.
 *
 * Key: the query as the client sent it, from the flags on (header flags,
 * counts, question, EDNS record with its DO bit and options), with the
 * question name in lower case; only the ID is left out. So a query that
 * differs in anything but ID and name case is another entry.
 *
 * Only answers worth keeping are stored: NOERROR or NXDOMAIN, not
 * truncated, one question equal to the query's, at most DNS_CACHE_MAX_ANSWER
 * bytes, and a lifetime of at least 1 s: the smallest TTL of its records
 * (the OPT pseudo-record aside; an SOA counts with min(TTL, MINIMUM), as
 * RFC 2308 says for negative answers), at most DNS_CACHE_MAX_TTL. A hit
 * comes back with the client's ID and question bytes (its name's case) and
 * every TTL decreased by the whole seconds spent in the cache, rounded up;
 * an entry is never returned at or after the end of its lifetime.
 *
 * Bounds: at most max_entries answers, and at most max_entries *
 * DNS_CACHE_BYTES_PER_ENTRY bytes counting each entry's key, answer and
 * bookkeeping; past either, the least recently used entries go first.
 */
#ifndef AWF_DNS_CACHE_H
#define AWF_DNS_CACHE_H

#include <stddef.h>
#include <stdint.h>

#define DNS_CACHE_MAX_ANSWER 4096
#define DNS_CACHE_MAX_TTL 86400
#define DNS_CACHE_BYTES_PER_ENTRY 512

struct dns_cache;

struct dns_cache_stats {
	uint64_t hits;
	uint64_t misses;
	uint64_t stored;
	uint64_t evicted; /* to stay within the bounds */
	uint64_t expired; /* found past their lifetime */
	size_t entries;
	size_t bytes;
};

/* max_entries 0: no cache; NULL is returned and every call takes NULL. */
struct dns_cache *dns_cache_new(unsigned int max_entries);
void dns_cache_free(struct dns_cache *c);

/*
 * The answer to query (qlen bytes) at now_ns (CLOCK_MONOTONIC) into out
 * (cap bytes): its length, or 0 on a miss.
 */
size_t dns_cache_get(struct dns_cache *c, const uint8_t *query, size_t qlen,
		     uint64_t now_ns, uint8_t *out, size_t cap);

/* Keeps answer (received at now_ns) for query, when it is worth keeping. */
void dns_cache_put(struct dns_cache *c, const uint8_t *query, size_t qlen,
		   const uint8_t *answer, size_t alen, uint64_t now_ns);

void dns_cache_get_stats(const struct dns_cache *c, struct dns_cache_stats *st);

#endif /* AWF_DNS_CACHE_H */
