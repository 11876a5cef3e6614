// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>

#include "dns/dns_wire.h"

#define DNS_FLAG_QR 0x80 /* in byte 2 */

int dns_skip_name(const uint8_t *m, size_t len, size_t *off)
{
	while (*off < len) {
		uint8_t l = m[*off];

		if (l == 0) {
			*off += 1;
			return 0;
		}
		if ((l & 0xc0) == 0xc0) {
			*off += 2;
			return *off <= len ? 0 : -1;
		}
		if (l & 0xc0)
			return -1;
		*off += 1u + l;
	}
	return -1;
}

int dns_skip_questions(const uint8_t *m, size_t len, size_t *off)
{
	for (unsigned int n = dns_get16(m + 4); n; n--) {
		if (dns_skip_name(m, len, off) || *off + 4 > len)
			return -1;
		*off += 4;
	}
	return 0;
}

int dns_next_rr(const uint8_t *m, size_t len, size_t *off, struct dns_rr *rr)
{
	if (dns_skip_name(m, len, off) || *off + 10 > len)
		return -1;
	rr->type = dns_get16(m + *off);
	rr->class = dns_get16(m + *off + 2);
	rr->ttl_off = *off + 4;
	rr->rdlen = dns_get16(m + *off + 8);
	rr->rdata_off = *off + 10;
	*off += 10 + rr->rdlen;
	return *off <= len ? 0 : -1;
}

static int dns_skip_rrs(const uint8_t *m, size_t len, unsigned int n,
			size_t *off)
{
	struct dns_rr rr;

	for (; n; n--)
		if (dns_next_rr(m, len, off, &rr))
			return -1;
	return 0;
}

int dns_sections(const uint8_t *m, size_t len, size_t *qend, size_t *aend)
{
	*qend = DNS_HDR_LEN;
	if (dns_skip_questions(m, len, qend))
		return -1;
	*aend = *qend;
	return dns_skip_rrs(m, len, dns_get16(m + 6) + dns_get16(m + 8), aend);
}

size_t dns_build_error(const uint8_t *query, size_t len, unsigned int rcode,
		       uint8_t *out)
{
	size_t qend, aend;
	size_t n = DNS_HDR_LEN;

	memcpy(out, query, DNS_HDR_LEN);
	if (dns_sections(query, len, &qend, &aend)) {
		memset(out + 4, 0, 8);
	} else {
		memcpy(out + n, query + n, qend - n);
		memcpy(out + qend, query + aend, len - aend);
		n = qend + (len - aend);
	}
	/* QR set; opcode and RD kept; AA and TC cleared. */
	out[2] = (uint8_t)(DNS_FLAG_QR | (query[2] & 0x79));
	/* RA mirrors RD; CD kept; AD cleared. */
	out[3] = (uint8_t)((query[2] & 0x01 ? 0x80 : 0) | (query[3] & 0x10) |
			   (rcode & 0x0f));
	dns_put16(out + 6, 0);
	dns_put16(out + 8, 0);
	return n;
}

size_t dns_udp_payload_limit(const uint8_t *query, size_t len)
{
	size_t qend, off;
	struct dns_rr rr;

	if (dns_sections(query, len, &qend, &off))
		return DNS_UDP_MIN_PAYLOAD;
	for (unsigned int n = dns_get16(query + 10); n; n--) {
		if (dns_next_rr(query, len, &off, &rr))
			break;
		if (rr.type != DNS_TYPE_OPT)
			continue;
		if (rr.class < DNS_UDP_MIN_PAYLOAD)
			return DNS_UDP_MIN_PAYLOAD;
		return rr.class < DNS_UDP_MAX_PAYLOAD ? rr.class :
							DNS_UDP_MAX_PAYLOAD;
	}
	return DNS_UDP_MIN_PAYLOAD;
}
