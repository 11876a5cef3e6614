/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * dns_msg.h - a DNS message (RFC 1035 4.1) as the domain filter reads it:
 * header fields, the first question, the records of the answer section.
 * dns_msg_parse() walks every section first and refuses the message if
 * any record is broken, so that a message is judged whole, as ldns did:
 * a name that does not decompress (dns_name.h), a record or rdata running
 * past the end, and rdata that does not have its type's shape (A: 4
 * bytes, AAAA: 16, CNAME/NS/PTR/DNAME...: exactly one name, MX, SOA,
 * SRV, TXT...: their fields, all of them) are refused. Empty rdata is
 * accepted (a record without data: nothing to learn), and bytes after
 * the last section are ignored, as ldns did.
 *
 * Where it differs from ldns_wire2pkt (1.8.3), on purpose:
 *  - stricter for the types above: ldns took a prefix of their fields
 *    (an MX of only its preference) and read fixed-size fields without
 *    checking that the rdata ended there (an A record of 5 bytes made it
 *    read the next record from inside that rdata);
 *  - rdata of other types is opaque bytes, where ldns checked the fixed
 *    fields of the ~90 types it knew (an EUI48 of 1 byte): the filter
 *    never reads them, the client gets them as the upstream sent them;
 *  - at most DNS_NAME_MAX_HOPS pointer hops per name (ldns: 65535).
 */
#ifndef AWF_DNS_MSG_H
#define AWF_DNS_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns_name.h"

#define DNS_OPCODE_QUERY 0
#define DNS_RCODE_NOERROR 0

struct dns_msg {
	const uint8_t *m; /* the message, not owned */
	size_t len;
	unsigned int opcode, rcode; /* rcode: the header's 4 bits */
	unsigned int qdcount, ancount;
	/* The first question, when qdcount > 0. */
	struct dns_name qname;
	unsigned int qtype;
	size_t answer_off; /* where the answer section starts */
};

/* One record of the answer section. */
struct dns_msg_rr {
	struct dns_name owner;
	unsigned int type;
	uint32_t ttl;
	const uint8_t *rdata; /* into the message */
	size_t rdlen;
	bool has_target;	/* a CNAME with data: */
	struct dns_name target; /* the name it points to, decompressed */
};

/* Where an iteration over the answer section is. */
struct dns_msg_iter {
	size_t off;
	unsigned int left;
};

/* 0 if the whole message is well formed; -1, msg undefined, if not. */
int dns_msg_parse(const uint8_t *m, size_t len, struct dns_msg *msg);

void dns_msg_answers(const struct dns_msg *msg, struct dns_msg_iter *it);
/* The next answer record into rr; false after the last one. */
bool dns_msg_next_answer(const struct dns_msg *msg, struct dns_msg_iter *it,
			 struct dns_msg_rr *rr);

#endif /* AWF_DNS_MSG_H */
