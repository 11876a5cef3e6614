// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The endpoint's answer cache: a hash table of entries on one LRU list.
 * Everything it reads of a message it walks itself with dns_wire.c and
 * bounds-checks; a message it cannot walk is simply not cached.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "dns/dns_cache.h"
#include "dns/dns_wire.h"

#define NS_PER_S 1000000000ULL
#define QNAME_OFF DNS_HDR_LEN
#define KEY_SKIP 2 /* the ID is not part of the key */
#define MAX_KEY (DNS_CACHE_MAX_ANSWER - KEY_SKIP)
#define RCODE_NOERROR 0
#define RCODE_NXDOMAIN 3
#define FLAG_QR 0x80 /* byte 2 */
#define FLAG_TC 0x02 /* byte 2 */
#define OPCODE_MASK 0x78

struct cache_link {
	struct cache_link *prev, *next;
};

struct cache_entry {
	struct cache_link lru;	   /* first: the list's nodes are entries */
	struct cache_entry *hnext; /* hash chain */
	uint64_t hash;
	uint64_t stored_ns;
	uint64_t expires_ns;
	uint16_t klen;
	uint16_t alen;
	uint16_t qname_len;
	uint8_t data[]; /* key, then answer */
};

struct dns_cache {
	struct cache_entry **buckets; /* allocated at the first put */
	size_t n_buckets;	      /* a power of two */
	struct cache_link lru;	      /* sentinel: next is the most recent */
	uint64_t seed;
	unsigned int max_entries;
	size_t max_bytes;
	struct dns_cache_stats st;
};

/* ---- the key ---- */

/* Length of the uncompressed question name at QNAME_OFF, 0 if none. */
static size_t qname_len(const uint8_t *m, size_t len)
{
	size_t off = QNAME_OFF;

	while (off < len) {
		uint8_t l = m[off];

		if (l == 0)
			return off + 1 - QNAME_OFF;
		if (l & 0xc0)
			return 0; /* compressed or reserved: not cached */
		off += 1u + l;
	}
	return 0;
}

/* Copies a name, letters of its labels in lower case (length bytes not). */
static void name_lower(uint8_t *dst, const uint8_t *src, size_t n)
{
	size_t next_len = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t b = src[i];

		if (i == next_len)
			next_len = i + 1u + b;
		else if (b >= 'A' && b <= 'Z')
			b = (uint8_t)(b + ('a' - 'A'));
		dst[i] = b;
	}
}

/* The key of a query with one plain question; its length, or 0. */
static size_t make_key(const uint8_t *q, size_t qlen, uint8_t *key,
		       size_t *qname)
{
	size_t n;

	if (qlen < DNS_HDR_LEN || qlen - KEY_SKIP > MAX_KEY ||
	    dns_get16(q + 4) != 1)
		return 0;
	n = qname_len(q, qlen);
	if (!n || QNAME_OFF + n + 4 > qlen)
		return 0;
	memcpy(key, q + KEY_SKIP, qlen - KEY_SKIP);
	name_lower(key + QNAME_OFF - KEY_SKIP, q + QNAME_OFF, n);
	*qname = n;
	return qlen - KEY_SKIP;
}

static uint64_t key_hash(const struct dns_cache *c, const uint8_t *key,
			 size_t n)
{
	uint64_t h = 14695981039346656037ULL ^ c->seed; /* FNV-1a, seeded */

	for (size_t i = 0; i < n; i++)
		h = (h ^ key[i]) * 1099511628211ULL;
	return h;
}

/* ---- lists ---- */

static struct cache_entry *entry_of(struct cache_link *l)
{
	return (struct cache_entry *)l; /* lru is the first member */
}

static void lru_unlink(struct cache_entry *e)
{
	e->lru.prev->next = e->lru.next;
	e->lru.next->prev = e->lru.prev;
}

static void lru_push_front(struct dns_cache *c, struct cache_entry *e)
{
	e->lru.prev = &c->lru;
	e->lru.next = c->lru.next;
	c->lru.next->prev = &e->lru;
	c->lru.next = &e->lru;
}

static struct cache_entry **bucket_of(struct dns_cache *c, uint64_t hash)
{
	return &c->buckets[hash & (c->n_buckets - 1)];
}

static size_t entry_size(const struct cache_entry *e)
{
	return sizeof(*e) + e->klen + e->alen;
}

static void entry_remove(struct dns_cache *c, struct cache_entry *e)
{
	struct cache_entry **pp = bucket_of(c, e->hash);

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	lru_unlink(e);
	c->st.entries--;
	c->st.bytes -= entry_size(e);
	free(e);
}

static struct cache_entry *entry_find(struct dns_cache *c, const uint8_t *key,
				      size_t klen, uint64_t hash)
{
	struct cache_entry *e;

	if (!c->buckets)
		return NULL;
	for (e = *bucket_of(c, hash); e; e = e->hnext)
		if (e->hash == hash && e->klen == klen &&
		    memcmp(e->data, key, klen) == 0)
			return e;
	return NULL;
}

/* ---- TTLs ---- */

/* RFC 2181 8: a TTL with the top bit set counts as 0. */
static uint32_t ttl_value(uint32_t ttl)
{
	return ttl & 0x80000000u ? 0 : ttl;
}

/* The TTL a record is good for; an SOA no longer than its MINIMUM. */
static uint32_t rr_ttl(const uint8_t *m, const struct dns_rr *rr)
{
	uint32_t ttl = ttl_value(dns_get32(m + rr->ttl_off));

	if (rr->type == DNS_TYPE_SOA && rr->rdlen >= 20) {
		uint32_t minimum = dns_get32(m + rr->rdata_off + rr->rdlen - 4);

		if (minimum < ttl)
			ttl = minimum;
	}
	return ttl;
}

/*
 * Walks the records after the question; with elapsed (seconds) set, writes
 * every TTL decreased by it. Returns the smallest TTL (UINT32_MAX if there
 * is no record), or -1 when the message cannot be walked.
 */
static int64_t walk_ttls(uint8_t *m, size_t len, size_t qend, uint32_t elapsed,
			 bool write)
{
	unsigned int n =
		dns_get16(m + 6) + dns_get16(m + 8) + dns_get16(m + 10);
	uint32_t min = UINT32_MAX;
	size_t off = qend;
	struct dns_rr rr;

	for (; n; n--) {
		uint32_t ttl;

		if (dns_next_rr(m, len, &off, &rr))
			return -1;
		if (rr.type == DNS_TYPE_OPT)
			continue; /* its TTL field holds EDNS flags */
		ttl = rr_ttl(m, &rr);
		if (ttl < min)
			min = ttl;
		if (write)
			dns_put32(m + rr.ttl_off,
				  ttl > elapsed ? ttl - elapsed : 0);
	}
	return min;
}

/* ---- the cache ---- */

static uint64_t random_seed(void)
{
	uint64_t seed;
	struct timespec ts;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == sizeof(seed))
		return seed;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 32;
}

struct dns_cache *dns_cache_new(unsigned int max_entries)
{
	struct dns_cache *c;

	if (!max_entries)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->max_entries = max_entries;
	c->max_bytes = (size_t)max_entries * DNS_CACHE_BYTES_PER_ENTRY;
	c->lru.next = c->lru.prev = &c->lru;
	c->seed = random_seed();
	return c;
}

void dns_cache_free(struct dns_cache *c)
{
	if (!c)
		return;
	while (c->lru.next != &c->lru)
		entry_remove(c, entry_of(c->lru.next));
	free(c->buckets);
	free(c);
}

size_t dns_cache_get(struct dns_cache *c, const uint8_t *query, size_t qlen,
		     uint64_t now_ns, uint8_t *out, size_t cap)
{
	uint8_t key[MAX_KEY];
	struct cache_entry *e;
	size_t klen, qname;
	uint64_t elapsed;

	if (!c)
		return 0;
	klen = make_key(query, qlen, key, &qname);
	e = klen ? entry_find(c, key, klen, key_hash(c, key, klen)) : NULL;
	if (e && now_ns >= e->expires_ns) {
		entry_remove(c, e);
		c->st.expired++;
		e = NULL;
	}
	if (!e || e->alen > cap) {
		c->st.misses++;
		return 0;
	}
	lru_unlink(e);
	lru_push_front(c, e);
	c->st.hits++;
	memcpy(out, e->data + e->klen, e->alen);
	memcpy(out, query, 2); /* the client's ID */
	memcpy(out + QNAME_OFF, query + QNAME_OFF, e->qname_len); /* its case */
	elapsed = now_ns > e->stored_ns ? now_ns - e->stored_ns : 0;
	/* Checked when stored: the walk cannot fail here. */
	walk_ttls(out, e->alen, QNAME_OFF + e->qname_len + 4,
		  (uint32_t)((elapsed + NS_PER_S - 1) / NS_PER_S), true);
	return e->alen;
}

/* The answer's lifetime in seconds, 0 when it is not to be kept. */
static uint32_t answer_lifetime(const uint8_t *key, size_t qname,
				const uint8_t *a, size_t alen)
{
	uint8_t lower[DNS_CACHE_MAX_ANSWER];
	unsigned int rcode;
	int64_t min;

	if (alen < DNS_HDR_LEN || alen > DNS_CACHE_MAX_ANSWER)
		return 0;
	rcode = a[3] & 0x0f;
	if (!(a[2] & FLAG_QR) || (a[2] & (FLAG_TC | OPCODE_MASK)) ||
	    (rcode != RCODE_NOERROR && rcode != RCODE_NXDOMAIN) ||
	    dns_get16(a + 4) != 1 || qname_len(a, alen) != qname ||
	    QNAME_OFF + qname + 4 > alen)
		return 0;
	/* The same question: name (any case), type and class. */
	name_lower(lower, a + QNAME_OFF, qname);
	if (memcmp(lower, key + QNAME_OFF - KEY_SKIP, qname) ||
	    memcmp(a + QNAME_OFF + qname, key + QNAME_OFF - KEY_SKIP + qname,
		   4))
		return 0;
	min = walk_ttls((uint8_t *)a, alen, QNAME_OFF + qname + 4, 0, false);
	if (min < 0 || min == UINT32_MAX)
		return 0;
	return min > DNS_CACHE_MAX_TTL ? DNS_CACHE_MAX_TTL : (uint32_t)min;
}

static int buckets_alloc(struct dns_cache *c)
{
	size_t n = 16;

	while (n < c->max_entries)
		n <<= 1;
	c->buckets = calloc(n, sizeof(*c->buckets));
	if (!c->buckets)
		return -1;
	c->n_buckets = n;
	return 0;
}

/* Least recently used first, until e fits. */
static void make_room(struct dns_cache *c, size_t size)
{
	while (c->st.entries && (c->st.entries >= c->max_entries ||
				 c->st.bytes + size > c->max_bytes)) {
		entry_remove(c, entry_of(c->lru.prev));
		c->st.evicted++;
	}
}

void dns_cache_put(struct dns_cache *c, const uint8_t *query, size_t qlen,
		   const uint8_t *answer, size_t alen, uint64_t now_ns)
{
	uint8_t key[MAX_KEY];
	struct cache_entry *e;
	size_t klen, qname, size;
	uint32_t lifetime;
	uint64_t hash;

	if (!c)
		return;
	klen = make_key(query, qlen, key, &qname);
	lifetime = klen ? answer_lifetime(key, qname, answer, alen) : 0;
	size = sizeof(*e) + klen + alen;
	if (!lifetime || size > c->max_bytes ||
	    (!c->buckets && buckets_alloc(c)))
		return;
	hash = key_hash(c, key, klen);
	e = entry_find(c, key, klen, hash);
	if (e)
		entry_remove(c, e); /* a newer answer to the same query */
	make_room(c, size);
	e = malloc(size);
	if (!e)
		return;
	e->hash = hash;
	e->stored_ns = now_ns;
	e->expires_ns = now_ns + (uint64_t)lifetime * NS_PER_S;
	e->klen = (uint16_t)klen;
	e->alen = (uint16_t)alen;
	e->qname_len = (uint16_t)qname;
	memcpy(e->data, key, klen);
	memcpy(e->data + klen, answer, alen);
	e->hnext = *bucket_of(c, hash);
	*bucket_of(c, hash) = e;
	lru_push_front(c, e);
	c->st.entries++;
	c->st.bytes += size;
	c->st.stored++;
}

void dns_cache_get_stats(const struct dns_cache *c, struct dns_cache_stats *st)
{
	if (c)
		*st = c->st;
	else
		memset(st, 0, sizeof(*st));
}
