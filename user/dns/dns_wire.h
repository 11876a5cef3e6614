/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * dns_wire.h - the little of the DNS wire format (RFC 1035 4.1) the
 * endpoint reads and writes itself, before or without a parser library:
 * stepping over names and records of hostile messages, error answers, the
 * EDNS payload limit. Every function stays within the given length.
 */
#ifndef AWF_DNS_WIRE_H
#define AWF_DNS_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define DNS_HDR_LEN 12
#define DNS_TYPE_SOA 6
#define DNS_TYPE_OPT 41
#define DNS_UDP_MIN_PAYLOAD 512	  /* RFC 1035 limit without EDNS */
#define DNS_UDP_MAX_PAYLOAD 65507 /* largest IPv4 UDP payload */

static inline unsigned int dns_get16(const uint8_t *p)
{
	return (unsigned int)p[0] << 8 | p[1];
}

static inline uint32_t dns_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void dns_put16(uint8_t *p, unsigned int v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void dns_put32(uint8_t *p, uint32_t v)
{
	dns_put16(p, v >> 16);
	dns_put16(p + 2, v & 0xffff);
}

/* Steps over a possibly compressed name without following pointers. */
int dns_skip_name(const uint8_t *m, size_t len, size_t *off);
/* Steps over the question section (QDCOUNT entries). */
int dns_skip_questions(const uint8_t *m, size_t len, size_t *off);

/* One resource record: where its fixed fields and data are. */
struct dns_rr {
	unsigned int type;
	unsigned int class;
	size_t ttl_off; /* of the 4-byte TTL */
	size_t rdata_off;
	size_t rdlen;
};

/* Steps over one resource record at *off, describing it in rr. */
int dns_next_rr(const uint8_t *m, size_t len, size_t *off, struct dns_rr *rr);
/* Finds where the question ends and where the additional section starts. */
int dns_sections(const uint8_t *m, size_t len, size_t *qend, size_t *aend);

/*
 * An error answer built from the query: question and additional section
 * (EDNS) kept, answer and authority sections dropped. A query too broken
 * to walk gets a bare header. out holds at least len bytes.
 */
size_t dns_build_error(const uint8_t *query, size_t len, unsigned int rcode,
		       uint8_t *out);
/* What a UDP client can take: 512, or more as its EDNS OPT record says. */
size_t dns_udp_payload_limit(const uint8_t *query, size_t len);

#endif /* AWF_DNS_WIRE_H */
