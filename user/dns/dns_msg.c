// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>

#include "common/array.h"
#include "dns/dns_msg.h"
#include "dns/dns_type.h"
#include "dns/dns_wire.h"

/* The fields of rdata, in order, for the types whose shape is checked. */
enum field {
	F_END,
	F_NAME, /* a (compressible) domain name */
	F_U16,
	F_U32,
	F_ADDR6,
	F_STR,	/* one <character-string>: a length byte and that many */
	F_STRS, /* one or more strings, up to the end of the rdata */
};

#define MAX_FIELDS 8

static const struct shape {
	unsigned int type;
	enum field f[MAX_FIELDS];
} shapes[] = {
	{ DNS_TYPE_A, { F_U32 } },
	{ 2, { F_NAME } }, /* NS */
	{ 3, { F_NAME } }, /* MD */
	{ 4, { F_NAME } }, /* MF */
	{ DNS_TYPE_CNAME, { F_NAME } },
	{ 6, { F_NAME, F_NAME, F_U32, F_U32, F_U32, F_U32, F_U32 } }, /* SOA */
	{ 7, { F_NAME } },					      /* MB */
	{ 8, { F_NAME } },					      /* MG */
	{ 9, { F_NAME } },					      /* MR */
	{ DNS_TYPE_PTR, { F_NAME } },				      /* PTR */
	{ 13, { F_STR, F_STR } },   /* HINFO */
	{ 14, { F_NAME, F_NAME } }, /* MINFO */
	{ 15, { F_U16, F_NAME } },  /* MX */
	{ 16, { F_STRS } },	    /* TXT */
	{ 17, { F_NAME, F_NAME } }, /* RP */
	{ 18, { F_U16, F_NAME } },  /* AFSDB */
	{ 21, { F_U16, F_NAME } },  /* RT */
	{ DNS_TYPE_AAAA, { F_ADDR6 } },
	{ 33, { F_U16, F_U16, F_U16, F_NAME } }, /* SRV */
	{ 36, { F_U16, F_NAME } },		 /* KX */
	{ 39, { F_NAME } },			 /* DNAME */
	{ 99, { F_STRS } },			 /* SPF */
};

static const struct shape *shape_of(unsigned int type)
{
	for (size_t i = 0; i < ARRAY_SIZE(shapes); i++)
		if (shapes[i].type == type)
			return &shapes[i];
	return NULL;
}

/* Steps over one field ending at or before end; -1 if it does not fit. */
static int skip_field(const uint8_t *m, size_t len, size_t end, enum field f,
		      size_t *pos)
{
	static const size_t fixed[] = {
		[F_U16] = 2, [F_U32] = 4, [F_ADDR6] = 16
	};
	struct dns_name name;

	switch (f) {
	case F_NAME:
		/* a pointer may lead anywhere, the name's own bytes not */
		return dns_name_read(m, len, pos, &name) || *pos > end ? -1 : 0;
	case F_U16:
	case F_U32:
	case F_ADDR6:
		if (end - *pos < fixed[f])
			return -1;
		*pos += fixed[f];
		return 0;
	case F_STR:
		if (*pos >= end || end - *pos - 1 < m[*pos])
			return -1;
		*pos += 1u + m[*pos];
		return 0;
	case F_STRS:
		do {
			if (skip_field(m, len, end, F_STR, pos))
				return -1;
		} while (*pos < end);
		return 0;
	case F_END:
		break;
	}
	return -1;
}

/* Rdata of a checked type must be its fields, all of them, and no more. */
static int check_rdata(const uint8_t *m, size_t len, unsigned int type,
		       size_t off, size_t rdlen)
{
	const struct shape *s = shape_of(type);
	size_t pos = off, end = off + rdlen;

	if (!s || rdlen == 0)
		return 0;
	for (size_t i = 0; i < MAX_FIELDS && s->f[i] != F_END; i++)
		if (skip_field(m, len, end, s->f[i], &pos))
			return -1;
	return pos == end ? 0 : -1;
}

/*
 * One record at *off: owner, fixed fields and (unless a question) rdata,
 * checked. rr may be NULL when only the check is wanted.
 */
static int read_rr(const uint8_t *m, size_t len, size_t *off, bool question,
		   struct dns_msg_rr *rr)
{
	struct dns_msg_rr tmp;
	size_t pos = *off;

	if (!rr)
		rr = &tmp;
	if (dns_name_read(m, len, &pos, &rr->owner) || len - pos < 4)
		return -1;
	rr->type = dns_get16(m + pos);
	pos += 4; /* type, class */
	rr->has_target = false;
	if (question) {
		*off = pos;
		return 0;
	}
	if (len - pos < 6)
		return -1;
	rr->ttl = dns_get32(m + pos);
	rr->rdlen = dns_get16(m + pos + 4);
	pos += 6;
	if (len - pos < rr->rdlen ||
	    check_rdata(m, len, rr->type, pos, rr->rdlen))
		return -1;
	rr->rdata = m + pos;
	if (rr->type == DNS_TYPE_CNAME && rr->rdlen) {
		size_t t = pos;

		if (dns_name_read(m, len, &t, &rr->target))
			return -1; /* check_rdata read it already */
		rr->has_target = true;
	}
	*off = pos + rr->rdlen;
	return 0;
}

int dns_msg_parse(const uint8_t *m, size_t len, struct dns_msg *msg)
{
	unsigned int nscount, arcount;
	size_t off = DNS_HDR_LEN;
	struct dns_msg_rr rr;

	if (len < DNS_HDR_LEN)
		return -1;
	memset(msg, 0, sizeof(*msg));
	msg->m = m;
	msg->len = len;
	msg->opcode = (m[2] >> 3) & 0x0f;
	msg->rcode = m[3] & 0x0f;
	msg->qdcount = dns_get16(m + 4);
	msg->ancount = dns_get16(m + 6);
	nscount = dns_get16(m + 8);
	arcount = dns_get16(m + 10);
	for (unsigned int i = 0; i < msg->qdcount; i++) {
		if (read_rr(m, len, &off, true, &rr))
			return -1;
		if (i == 0) {
			msg->qname = rr.owner;
			msg->qtype = rr.type;
		}
	}
	msg->answer_off = off;
	for (unsigned long i = 0;
	     i < (unsigned long)msg->ancount + nscount + arcount; i++)
		if (read_rr(m, len, &off, false, NULL))
			return -1;
	return 0;
}

void dns_msg_answers(const struct dns_msg *msg, struct dns_msg_iter *it)
{
	it->off = msg->answer_off;
	it->left = msg->ancount;
}

bool dns_msg_next_answer(const struct dns_msg *msg, struct dns_msg_iter *it,
			 struct dns_msg_rr *rr)
{
	if (!it->left)
		return false;
	/* dns_msg_parse() read it already: it cannot fail here */
	if (read_rr(msg->m, msg->len, &it->off, false, rr)) {
		it->left = 0;
		return false;
	}
	it->left--;
	return true;
}
