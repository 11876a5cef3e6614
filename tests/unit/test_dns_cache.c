// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Unit tests of the DNS endpoint's answer cache (user/dns/dns_cache.c):
 * keys, TTL expiry and decrement, what is never kept, bounds and LRU
 * eviction, and that two caches (two sandboxes' endpoints) share nothing.
 * The clock is passed in: no test sleeps.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "dns/dns_cache.h"
#include "dns/dns_wire.h"

#define S 1000000000ULL /* one second in ns */
#define T0 (1000 * S)	/* an arbitrary monotonic "now" */
#define TYPE_A 1
#define TYPE_AAAA 28
#define CLASS_IN 1

struct msg {
	uint8_t b[DNS_CACHE_MAX_ANSWER + 512];
	size_t len;
};

static void put_name(struct msg *m, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);

		m->b[m->len++] = (uint8_t)l;
		memcpy(m->b + m->len, name, l);
		m->len += l;
		name += l + (dot ? 1 : 0);
	}
	m->b[m->len++] = 0;
}

static void put16m(struct msg *m, unsigned int v)
{
	dns_put16(m->b + m->len, v);
	m->len += 2;
}

/* A query for name/type with RD; flags3 is header byte 3 (AD, CD). */
static void query(struct msg *m, unsigned int id, const char *name,
		  unsigned int type, uint8_t flags3)
{
	memset(m, 0, sizeof(*m));
	dns_put16(m->b, id);
	m->b[2] = 0x01;
	m->b[3] = flags3;
	dns_put16(m->b + 4, 1);
	m->len = DNS_HDR_LEN;
	put_name(m, name);
	put16m(m, type);
	put16m(m, CLASS_IN);
}

/* Adds an OPT record: EDNS payload 1232, DO as given. */
static void add_opt(struct msg *m, int dnssec_ok)
{
	m->b[m->len++] = 0;
	put16m(m, DNS_TYPE_OPT);
	put16m(m, 1232);
	put16m(m, 0);
	put16m(m, dnssec_ok ? 0x8000 : 0);
	put16m(m, 0);
	dns_put16(m->b + 10, dns_get16(m->b + 10) + 1);
}

/* The answer to q: rcode, then n A records with the given TTLs. */
static void answer(struct msg *a, const struct msg *q, unsigned int rcode,
		   const uint32_t *ttls, unsigned int n)
{
	size_t qend = DNS_HDR_LEN;

	while (q->b[qend])
		qend += q->b[qend] + 1u;
	qend += 5;
	memset(a, 0, sizeof(*a));
	memcpy(a->b, q->b, qend);
	a->b[2] = 0x81;
	a->b[3] = (uint8_t)(0x80 | rcode);
	dns_put16(a->b + 6, n);
	dns_put16(a->b + 8, 0);
	dns_put16(a->b + 10, 0);
	a->len = qend;
	for (unsigned int i = 0; i < n; i++) {
		put16m(a, 0xc00c);
		put16m(a, TYPE_A);
		put16m(a, CLASS_IN);
		dns_put32(a->b + a->len, ttls[i]);
		a->len += 4;
		put16m(a, 4);
		a->b[a->len++] = 198;
		a->b[a->len++] = 18;
		a->b[a->len++] = 0;
		a->b[a->len++] = (uint8_t)(10 + i);
	}
}

/* The TTL of the i-th record after the question (fixed-size A records). */
static uint32_t ttl_at(const uint8_t *a, size_t qend, unsigned int i)
{
	return dns_get32(a + qend + i * 16 + 6);
}

static size_t qend_of(const struct msg *q)
{
	size_t off = DNS_HDR_LEN;

	assert_int_equal(dns_skip_questions(q->b, q->len, &off), 0);
	return off;
}

static struct dns_cache *cache_with(unsigned int entries, const char *name,
				    uint32_t ttl)
{
	struct dns_cache *c = dns_cache_new(entries);
	struct msg q, a;

	assert_non_null(c);
	query(&q, 1, name, TYPE_A, 0);
	answer(&a, &q, 0, &ttl, 1);
	dns_cache_put(c, q.b, q.len, a.b, a.len, T0);
	return c;
}

static size_t get(struct dns_cache *c, const char *name, unsigned int id,
		  uint64_t now, uint8_t *out)
{
	struct msg q;

	query(&q, id, name, TYPE_A, 0);
	return dns_cache_get(c, q.b, q.len, now, out, DNS_CACHE_MAX_ANSWER);
}

static void test_hit_takes_client_id_and_case(void **state)
{
	uint32_t ttls[2] = { 300, 60 };
	struct dns_cache *c = dns_cache_new(16);
	struct msg q, a, q2;
	uint8_t out[DNS_CACHE_MAX_ANSWER];
	size_t n;

	(void)state;
	query(&q, 0x1111, "WWW.Example.test", TYPE_A, 0);
	answer(&a, &q, 0, ttls, 2);
	dns_cache_put(c, q.b, q.len, a.b, a.len, T0);

	query(&q2, 0x2222, "www.EXAMPLE.TEST", TYPE_A, 0);
	n = dns_cache_get(c, q2.b, q2.len, T0, out, sizeof(out));
	assert_int_equal(n, a.len);
	assert_int_equal(dns_get16(out), 0x2222);
	/* The question as this client wrote it; the rest as upstream sent. */
	assert_memory_equal(out + 2, a.b + 2, DNS_HDR_LEN - 2);
	assert_memory_equal(out + DNS_HDR_LEN, q2.b + DNS_HDR_LEN,
			    q2.len - DNS_HDR_LEN);
	assert_memory_equal(out + q2.len, a.b + q2.len, a.len - q2.len);
	dns_cache_free(c);
}

static void test_ttl_decreased_rounded_up(void **state)
{
	uint32_t ttls[2] = { 300, 60 };
	struct dns_cache *c = dns_cache_new(16);
	struct msg q, a;
	uint8_t out[DNS_CACHE_MAX_ANSWER];
	size_t qend;

	(void)state;
	query(&q, 7, "ttl.test", TYPE_A, 0);
	answer(&a, &q, 0, ttls, 2);
	qend = qend_of(&q);
	dns_cache_put(c, q.b, q.len, a.b, a.len, T0);

	assert_int_equal(get(c, "ttl.test", 8, T0, out), a.len);
	assert_int_equal(ttl_at(out, qend, 0), 300);
	assert_int_equal(ttl_at(out, qend, 1), 60);
	/* 5.3 s in the cache count as 6: never longer than upstream said. */
	assert_int_equal(get(c, "ttl.test", 8, T0 + 5 * S + S / 3, out), a.len);
	assert_int_equal(ttl_at(out, qend, 0), 294);
	assert_int_equal(ttl_at(out, qend, 1), 54);
	/* The stored copy is untouched by what a hit wrote. */
	assert_int_equal(get(c, "ttl.test", 8, T0 + 1, out), a.len);
	assert_int_equal(ttl_at(out, qend, 0), 299);
	dns_cache_free(c);
}

static void test_expires_with_smallest_ttl(void **state)
{
	uint32_t ttls[2] = { 300, 10 };
	struct dns_cache *c = dns_cache_new(16);
	struct dns_cache_stats st;
	struct msg q, a;
	uint8_t out[DNS_CACHE_MAX_ANSWER];
	size_t qend;

	(void)state;
	query(&q, 7, "short.test", TYPE_A, 0);
	answer(&a, &q, 0, ttls, 2);
	qend = qend_of(&q);
	dns_cache_put(c, q.b, q.len, a.b, a.len, T0);
	/* The last nanosecond of its life: served, that record at 0. */
	assert_int_equal(get(c, "short.test", 9, T0 + 10 * S - 1, out), a.len);
	assert_int_equal(ttl_at(out, qend, 1), 0);
	assert_int_equal(ttl_at(out, qend, 0), 290);
	/* At its end: gone, and dropped. */
	assert_int_equal(get(c, "short.test", 9, T0 + 10 * S, out), 0);
	dns_cache_get_stats(c, &st);
	assert_int_equal(st.expired, 1);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.bytes, 0);
	dns_cache_free(c);
}

static void test_key_is_the_whole_question(void **state)
{
	uint32_t ttl = 60;
	struct dns_cache *c = dns_cache_new(16);
	struct msg q, a;
	uint8_t out[DNS_CACHE_MAX_ANSWER];

	(void)state;
	query(&q, 1, "k.test", TYPE_A, 0);
	answer(&a, &q, 0, &ttl, 1);
	dns_cache_put(c, q.b, q.len, a.b, a.len, T0);

	query(&q, 2, "k.test", TYPE_AAAA, 0); /* another type */
	assert_int_equal(dns_cache_get(c, q.b, q.len, T0, out, sizeof(out)), 0);
	query(&q, 2, "k.test", TYPE_A, 0x10); /* CD set */
	assert_int_equal(dns_cache_get(c, q.b, q.len, T0, out, sizeof(out)), 0);
	query(&q, 2, "k.test", TYPE_A, 0);
	q.b[2] = 0; /* RD clear */
	assert_int_equal(dns_cache_get(c, q.b, q.len, T0, out, sizeof(out)), 0);
	query(&q, 2, "k.test", TYPE_A, 0);
	dns_put16(q.b + q.len - 2, 3); /* class CH */
	assert_int_equal(dns_cache_get(c, q.b, q.len, T0, out, sizeof(out)), 0);
	query(&q, 2, "kk.test", TYPE_A, 0);
	assert_int_equal(dns_cache_get(c, q.b, q.len, T0, out, sizeof(out)), 0);
	/* EDNS, and its DO bit, make other entries. */
	query(&q, 2, "k.test", TYPE_A, 0);
	add_opt(&q, 0);
	assert_int_equal(dns_cache_get(c, q.b, q.len, T0, out, sizeof(out)), 0);
	answer(&a, &q, 0, &ttl, 1);
	add_opt(&a, 0);
	dns_cache_put(c, q.b, q.len, a.b, a.len, T0);
	assert_int_equal(dns_cache_get(c, q.b, q.len, T0, out, sizeof(out)),
			 a.len);
	query(&q, 2, "k.test", TYPE_A, 0);
	add_opt(&q, 1);
	assert_int_equal(dns_cache_get(c, q.b, q.len, T0, out, sizeof(out)), 0);
	/* The plain query still finds its own answer. */
	assert_int_not_equal(get(c, "K.TEST", 3, T0, out), 0);
	dns_cache_free(c);
}

/* Only letters fold: '[' and '{' (0x5b, 0x7b) differ like 'A' and 'a'. */
static void test_case_folds_letters_only(void **state)
{
	uint32_t ttl = 60;
	struct dns_cache *c = dns_cache_new(16);
	struct msg q, a;
	uint8_t out[DNS_CACHE_MAX_ANSWER];

	(void)state;
	query(&q, 1, "x[y.test", TYPE_A, 0);
	answer(&a, &q, 0, &ttl, 1);
	dns_cache_put(c, q.b, q.len, a.b, a.len, T0);
	assert_int_equal(get(c, "x{y.test", 2, T0, out), 0);
	assert_int_equal(get(c, "x[y.tesu", 2, T0, out), 0);
	assert_int_not_equal(get(c, "X[Y.TEST", 2, T0, out), 0);
	dns_cache_free(c);
}

static void test_not_kept(void **state)
{
	uint32_t zero = 0, big = 0x80000001u, ttl = 60;
	struct dns_cache *c = dns_cache_new(16);
	struct dns_cache_stats st;
	struct msg q, a, other;

	(void)state;
	query(&q, 1, "n.test", TYPE_A, 0);
	answer(&a, &q, 0, &zero, 1); /* TTL 0 */
	dns_cache_put(c, q.b, q.len, a.b, a.len, T0);
	answer(&a, &q, 0, &big, 1); /* top bit: counts as 0 */
	dns_cache_put(c, q.b, q.len, a.b, a.len, T0);
	answer(&a, &q, 2, NULL, 0); /* SERVFAIL */
	dns_cache_put(c, q.b, q.len, a.b, a.len, T0);
	answer(&a, &q, 0, NULL, 0); /* no record, no lifetime */
	dns_cache_put(c, q.b, q.len, a.b, a.len, T0);
	answer(&a, &q, 0, &ttl, 1);
	a.b[2] |= 0x02; /* truncated */
	dns_cache_put(c, q.b, q.len, a.b, a.len, T0);
	answer(&a, &q, 0, &ttl, 1);
	a.b[2] &= 0x7f; /* not an answer */
	dns_cache_put(c, q.b, q.len, a.b, a.len, T0);
	answer(&a, &q, 0, &ttl, 1);
	dns_put16(a.b + 6, 2); /* claims more records than it has */
	dns_cache_put(c, q.b, q.len, a.b, a.len, T0);
	query(&other, 1, "m.test", TYPE_A, 0); /* another question */
	answer(&a, &other, 0, &ttl, 1);
	dns_cache_put(c, q.b, q.len, a.b, a.len, T0);
	answer(&a, &q, 0, &ttl, 1); /* larger than DNS_CACHE_MAX_ANSWER */
	memset(a.b + a.len, 0, DNS_CACHE_MAX_ANSWER);
	dns_cache_put(c, q.b, q.len, a.b, a.len + DNS_CACHE_MAX_ANSWER, T0);
	dns_cache_get_stats(c, &st);
	assert_int_equal(st.stored, 0);
	assert_int_equal(st.entries, 0);
	dns_cache_free(c);
}

/* RFC 2308: a negative answer lives min(SOA TTL, SOA MINIMUM). */
static void test_negative_answer_soa_minimum(void **state)
{
	struct dns_cache *c = dns_cache_new(16);
	struct msg q, a;
	uint8_t out[DNS_CACHE_MAX_ANSWER];
	size_t soa_ttl;

	(void)state;
	query(&q, 1, "gone.test", TYPE_A, 0);
	answer(&a, &q, 3, NULL, 0);
	dns_put16(a.b + 8, 1);
	put16m(&a, 0xc00c);
	put16m(&a, DNS_TYPE_SOA);
	put16m(&a, CLASS_IN);
	soa_ttl = a.len;
	dns_put32(a.b + a.len, 3600);
	a.len += 4;
	put16m(&a, 2 + 2 + 20);
	put16m(&a, 0xc00c); /* MNAME */
	put16m(&a, 0xc00c); /* RNAME */
	for (int i = 0; i < 4; i++) {
		dns_put32(a.b + a.len, 1000);
		a.len += 4;
	}
	dns_put32(a.b + a.len, 30); /* MINIMUM */
	a.len += 4;
	dns_cache_put(c, q.b, q.len, a.b, a.len, T0);
	assert_int_equal(get(c, "gone.test", 2, T0 + 2 * S, out), a.len);
	assert_int_equal(out[3] & 0x0f, 3);
	assert_int_equal(dns_get32(out + soa_ttl), 28);
	assert_int_equal(get(c, "gone.test", 2, T0 + 30 * S, out), 0);
	dns_cache_free(c);
}

static void test_opt_record_untouched(void **state)
{
	uint32_t ttl = 60;
	struct dns_cache *c = dns_cache_new(16);
	struct msg q, a;
	uint8_t out[DNS_CACHE_MAX_ANSWER];

	(void)state;
	query(&q, 1, "opt.test", TYPE_A, 0);
	add_opt(&q, 1);
	answer(&a, &q, 0, &ttl, 1);
	add_opt(&a, 1);
	dns_cache_put(c, q.b, q.len, a.b, a.len, T0);
	dns_put16(q.b, 2);
	assert_int_equal(
		dns_cache_get(c, q.b, q.len, T0 + 9 * S, out, sizeof(out)),
		a.len);
	/* OPT's TTL field (extended rcode, version, DO) as upstream sent. */
	assert_memory_equal(out + a.len - 6, a.b + a.len - 6, 4);
	dns_cache_free(c);
}

static void test_too_big_for_client_is_a_miss(void **state)
{
	struct dns_cache *c = cache_with(16, "big.test", 60);
	struct msg q;
	uint8_t out[DNS_CACHE_MAX_ANSWER];

	(void)state;
	query(&q, 2, "big.test", TYPE_A, 0);
	assert_int_equal(dns_cache_get(c, q.b, q.len, T0, out, 20), 0);
	assert_int_not_equal(dns_cache_get(c, q.b, q.len, T0, out, 512), 0);
	dns_cache_free(c);
}

static void test_entry_bound_lru(void **state)
{
	uint32_t ttl = 60;
	struct dns_cache *c = dns_cache_new(4);
	struct dns_cache_stats st;
	uint8_t out[DNS_CACHE_MAX_ANSWER];
	char name[32];
	struct msg q, a;

	(void)state;
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "n%d.test", i);
		query(&q, 1, name, TYPE_A, 0);
		answer(&a, &q, 0, &ttl, 1);
		dns_cache_put(c, q.b, q.len, a.b, a.len, T0);
	}
	/* n0 used again: n1 is now the least recently used. */
	assert_int_not_equal(get(c, "n0.test", 2, T0, out), 0);
	query(&q, 1, "n4.test", TYPE_A, 0);
	answer(&a, &q, 0, &ttl, 1);
	dns_cache_put(c, q.b, q.len, a.b, a.len, T0);
	dns_cache_get_stats(c, &st);
	assert_int_equal(st.entries, 4);
	assert_int_equal(st.evicted, 1);
	assert_int_equal(get(c, "n1.test", 2, T0, out), 0);
	assert_int_not_equal(get(c, "n0.test", 2, T0, out), 0);
	assert_int_not_equal(get(c, "n2.test", 2, T0, out), 0);
	assert_int_not_equal(get(c, "n4.test", 2, T0, out), 0);
	/* The same question again replaces its entry: no growth. */
	dns_cache_put(c, q.b, q.len, a.b, a.len, T0 + S);
	dns_cache_get_stats(c, &st);
	assert_int_equal(st.entries, 4);
	dns_cache_free(c);
}

static void test_byte_bound(void **state)
{
	const unsigned int entries = 8;
	uint32_t ttls[64];
	struct dns_cache *c = dns_cache_new(entries);
	struct dns_cache_stats st;
	char name[32];
	struct msg q, a;

	(void)state;
	for (int i = 0; i < 64; i++)
		ttls[i] = 60;
	/* 40 records: about 700 bytes each, more than the mean allowed. */
	for (int i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "big%d.test", i);
		query(&q, 1, name, TYPE_A, 0);
		answer(&a, &q, 0, ttls, 40);
		dns_cache_put(c, q.b, q.len, a.b, a.len, T0);
		dns_cache_get_stats(c, &st);
		assert_true(st.bytes <= entries * DNS_CACHE_BYTES_PER_ENTRY);
	}
	assert_true(st.entries < entries);
	assert_true(st.evicted > 0);
	/* One answer larger than the whole budget is never kept. */
	dns_cache_free(c);
	c = dns_cache_new(1);
	query(&q, 1, "huge.test", TYPE_A, 0);
	answer(&a, &q, 0, ttls, 64);
	dns_cache_put(c, q.b, q.len, a.b, a.len, T0);
	dns_cache_get_stats(c, &st);
	assert_int_equal(st.entries, 0);
	dns_cache_free(c);
}

/* Two endpoints, two caches: what one sandbox asked the other never gets. */
static void test_no_sharing_between_caches(void **state)
{
	struct dns_cache *a = cache_with(16, "mine.test", 60);
	struct dns_cache *b = dns_cache_new(16);
	uint8_t out[DNS_CACHE_MAX_ANSWER];

	(void)state;
	assert_int_not_equal(get(a, "mine.test", 2, T0, out), 0);
	assert_int_equal(get(b, "mine.test", 2, T0, out), 0);
	dns_cache_free(a);
	dns_cache_free(b);
}

static void test_disabled(void **state)
{
	uint8_t out[DNS_CACHE_MAX_ANSWER];
	struct dns_cache_stats st;

	(void)state;
	assert_null(dns_cache_new(0));
	assert_int_equal(get(NULL, "x.test", 1, T0, out), 0);
	dns_cache_put(NULL, out, 0, out, 0, T0);
	dns_cache_get_stats(NULL, &st);
	assert_int_equal(st.entries, 0);
	dns_cache_free(NULL);
}

static void test_lifetime_capped(void **state)
{
	struct dns_cache *c = cache_with(16, "long.test", 7 * 86400);
	uint8_t out[DNS_CACHE_MAX_ANSWER];

	(void)state;
	assert_int_not_equal(
		get(c, "long.test", 2, T0 + DNS_CACHE_MAX_TTL * S - 1, out), 0);
	assert_int_equal(
		get(c, "long.test", 2, T0 + DNS_CACHE_MAX_TTL * S, out), 0);
	dns_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_takes_client_id_and_case),
		cmocka_unit_test(test_ttl_decreased_rounded_up),
		cmocka_unit_test(test_expires_with_smallest_ttl),
		cmocka_unit_test(test_key_is_the_whole_question),
		cmocka_unit_test(test_case_folds_letters_only),
		cmocka_unit_test(test_not_kept),
		cmocka_unit_test(test_negative_answer_soa_minimum),
		cmocka_unit_test(test_opt_record_untouched),
		cmocka_unit_test(test_too_big_for_client_is_a_miss),
		cmocka_unit_test(test_entry_bound_lru),
		cmocka_unit_test(test_byte_bound),
		cmocka_unit_test(test_no_sharing_between_caches),
		cmocka_unit_test(test_disabled),
		cmocka_unit_test(test_lifetime_capped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
