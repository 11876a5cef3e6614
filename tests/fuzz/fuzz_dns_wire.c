// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer harness of the DNS endpoint's own wire helpers, the code that
 * walks hostile bytes before any parser library sees them:
 * dns_build_error() and dns_udp_payload_limit() of user/dns/dns_wire.c
 * (and through them dns_skip_name, dns_next_rr, dns_sections),
 * dns_answer_matches(), and the answer cache (user/dns/dns_cache.c).
 *
 * The input is one DNS message as it comes off the socket. The endpoint
 * only hands these helpers messages of at least a header (it drops
 * shorter ones first), so shorter inputs are not fed to them.
 *
 * Besides ASan/UBSan, every result is compared with an independent
 * reference walker written here from RFC 1035 (4.1, 4.1.4) and RFC 6891:
 * same bytes out of dns_build_error, same limit out of
 * dns_udp_payload_limit. The output buffer is exactly as large as the
 * query, so any write past the query's length is caught by ASan.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_forward_internal.h"
#include "common/log.h"
#include "fuzz_check.h"

#define REF_TYPE_OPT 41

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned int ref_u16(const uint8_t *m, size_t at)
{
	return (unsigned int)m[at] * 256u + m[at + 1];
}

/*
 * One owner name: labels (top bits 00) up to the root label, or ending in
 * a 2-byte compression pointer (top bits 11) that is not followed. The
 * 01 and 10 label types are reserved: the message is broken.
 */
static bool ref_name(const uint8_t *m, size_t len, size_t *at)
{
	size_t p = *at;

	for (;;) {
		unsigned int b;

		if (p >= len)
			return false;
		b = m[p];
		if (b == 0) {
			*at = p + 1;
			return true;
		}
		if (b >= 0xc0) {
			if (len - p < 2)
				return false;
			*at = p + 2;
			return true;
		}
		if (b >= 0x40)
			return false;
		p += b + 1u;
	}
}

/* NAME, then TYPE CLASS TTL RDLENGTH and RDLENGTH bytes of RDATA. */
static bool ref_rr(const uint8_t *m, size_t len, size_t *at, unsigned int *type,
		   unsigned int *class)
{
	size_t p = *at, rdlen;

	if (!ref_name(m, len, &p) || len - p < 10)
		return false;
	*type = ref_u16(m, p);
	*class = ref_u16(m, p + 2);
	rdlen = ref_u16(m, p + 8);
	if (len - p - 10 < rdlen)
		return false;
	*at = p + 10 + rdlen;
	return true;
}

struct ref_layout {
	bool ok;     /* every question, answer and authority record is whole */
	size_t qend; /* end of the question section */
	size_t aend; /* end of the authority section */
};

static struct ref_layout ref_walk(const uint8_t *m, size_t len)
{
	struct ref_layout l = { .ok = false };
	unsigned int qd = ref_u16(m, 4);
	unsigned long rrs = (unsigned long)ref_u16(m, 6) + ref_u16(m, 8);
	size_t p = DNS_HDR_LEN;
	unsigned int type, class;

	for (unsigned int i = 0; i < qd; i++) {
		if (!ref_name(m, len, &p) || len - p < 4)
			return l;
		p += 4;
	}
	l.qend = p;
	for (unsigned long i = 0; i < rrs; i++)
		if (!ref_rr(m, len, &p, &type, &class))
			return l;
	l.aend = p;
	l.ok = true;
	return l;
}

/* RFC 6891 6.2.3/6.2.5: the OPT CLASS is the requestor's payload size. */
static size_t ref_payload_limit(const uint8_t *m, size_t len)
{
	struct ref_layout l = ref_walk(m, len);
	unsigned int ar = ref_u16(m, 10);
	unsigned int type, class;
	size_t p;

	if (!l.ok)
		return 512;
	p = l.aend;
	for (unsigned int i = 0; i < ar; i++) {
		if (!ref_rr(m, len, &p, &type, &class))
			return 512;
		if (type == REF_TYPE_OPT)
			return class < 512   ? 512 :
			       class > 65507 ? 65507 :
					       class;
	}
	return 512;
}

/* Question and additional sections kept, answer and authority dropped. */
static size_t ref_build_error(const uint8_t *m, size_t len, unsigned int rcode,
			      uint8_t *out)
{
	struct ref_layout l = ref_walk(m, len);
	size_t n;

	memset(out, 0, DNS_HDR_LEN);
	out[0] = m[0];
	out[1] = m[1];
	out[2] = (uint8_t)(0x80 | (m[2] & 0x78) | (m[2] & 0x01));
	out[3] = (uint8_t)(((m[2] & 0x01) << 7) | (m[3] & 0x10) |
			   (rcode & 0x0f));
	if (!l.ok)
		return DNS_HDR_LEN;
	out[4] = m[4];
	out[5] = m[5];
	out[10] = m[10];
	out[11] = m[11];
	n = DNS_HDR_LEN;
	memcpy(out + n, m + n, l.qend - n);
	n = l.qend;
	memcpy(out + n, m + l.aend, len - l.aend);
	return n + (len - l.aend);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_threshold = (enum log_level)(LOG_LVL_ERROR + 1);
	return 0;
}

static void check_build_error(const uint8_t *query, size_t len,
			      unsigned int rcode, uint8_t *ref)
{
	/* Exactly len bytes: one byte more written than read is a bug. */
	uint8_t *out = malloc(len);
	size_t n, want;

	CHECK(out);
	n = dns_build_error(query, len, rcode, out);
	CHECK(n >= DNS_HDR_LEN);
	CHECK(n <= len);
	CHECK(n <= DNS_MAX_MSG + 1);
	CHECK(out[2] & DNS_FLAG_QR);
	CHECK(!(out[2] & DNS_FLAG_TC));
	CHECK((out[2] & 0x78) == (query[2] & 0x78)); /* opcode kept */
	CHECK((out[3] & 0x0f) == (rcode & 0x0f));
	CHECK(out[0] == query[0] && out[1] == query[1]);
	CHECK(out[6] == 0 && out[7] == 0 && out[8] == 0 && out[9] == 0);
	want = ref_build_error(query, len, rcode, ref);
	CHECK(n == want);
	CHECK(memcmp(out, ref, n) == 0);
	free(out);
}

/*
 * The answer cache walks answers itself: the input as the answer to
 * itself (QR set), then asked for with a new ID. A hit is exactly as long
 * as what was stored, carries the new ID, and never outlives its TTL.
 */
static void check_cache(const uint8_t *data, size_t size)
{
	static uint8_t out[DNS_CACHE_MAX_ANSWER];
	const uint64_t t0 = 1000000000000ULL;
	struct dns_cache *c = dns_cache_new(4);
	uint8_t *query = malloc(size), *answer = malloc(size);
	size_t n;

	CHECK(c && query && answer);
	memcpy(query, data, size);
	memcpy(answer, data, size);
	answer[2] |= DNS_FLAG_QR;
	dns_cache_put(c, query, size, answer, size, t0);
	query[0] ^= 0x5a;
	n = dns_cache_get(c, query, size, t0 + 1500000000ULL, out, sizeof(out));
	CHECK(n == 0 || n == size);
	if (n)
		CHECK(out[0] == query[0] && out[1] == query[1]);
	CHECK(!dns_cache_get(c, query, size,
			     t0 + (uint64_t)DNS_CACHE_MAX_TTL * 1000000000ULL,
			     out, sizeof(out)));
	dns_cache_free(c);
	free(query);
	free(answer);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_query q = { 0 };
	uint8_t *ref;
	size_t limit;

	if (size < DNS_HDR_LEN || size > DNS_MAX_MSG)
		return -1; /* callers drop these before the helpers run */
	ref = malloc(size);
	CHECK(ref);

	/* Every rcode the endpoint and the filter use, and a masked one. */
	check_build_error(data, size, DNS_RCODE_SERVFAIL, ref);
	check_build_error(data, size, 1u + data[size - 1] % 5u, ref);
	check_build_error(data, size, 0x10u | data[1], ref);

	limit = dns_udp_payload_limit(data, size);
	CHECK(limit >= DNS_UDP_MIN_PAYLOAD && limit <= DNS_UDP_MAX_PAYLOAD);
	CHECK(limit == ref_payload_limit(data, size));

	/* The answer check reads the ID of the query it is compared with. */
	q.msg = (uint8_t *)data;
	q.len = size;
	CHECK(dns_answer_matches(&q, data, size) == !!(data[2] & DNS_FLAG_QR));
	CHECK(!dns_answer_matches(&q, data, DNS_HDR_LEN - 1));

	check_cache(data, size);
	free(ref);
	return 0;
}
