// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer harness of the DNS message reader the domain filter judges by
 * (user/dns/dns_msg.c, dns_name.c, dns_type.c). The input is one DNS
 * message, copied into a buffer of exactly its size (over-reads hit the
 * redzone).
 *
 * Besides ASan/UBSan, it checks what the filter relies on:
 *  - a message is accepted only if every record of every section lies
 *    within it: a reference walk written here (RFC 1035 4.1, names
 *    stepped over, never followed) must reach the end of the last
 *    section inside the message;
 *  - every cut of an accepted message that ends before its last record
 *    is refused;
 *  - names are 1..255 bytes of well-formed labels (at most 63 bytes
 *    each, the root last), equal to themselves, and their text is
 *    printable ASCII without an unescaped '.' inside a label, at most 4
 *    characters per byte;
 *  - answer records number ancount; a CNAME target is there exactly when
 *    the CNAME has rdata; A and AAAA rdata is empty or 4 / 16 bytes;
 *  - type text is short and never empty.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_msg.h"
#include "dns/dns_name.h"
#include "dns/dns_type.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned int u16(const uint8_t *m, size_t at)
{
	return (unsigned int)m[at] * 256u + m[at + 1];
}

/* Steps over a name without following pointers; false past the end. */
static bool ref_skip_name(const uint8_t *m, size_t len, size_t *at)
{
	for (;;) {
		if (*at >= len)
			return false;
		if (m[*at] >= 0xc0) {
			*at += 2;
			return *at <= len;
		}
		if (m[*at] == 0) {
			*at += 1;
			return true;
		}
		*at += 1u + m[*at];
	}
}

/* Where the last section ends, walked coarsely; false if it cannot. */
static bool ref_end(const uint8_t *m, size_t len, size_t *end)
{
	size_t at = 12;
	unsigned long n_rr;

	if (len < 12)
		return false;
	for (unsigned int i = u16(m, 4); i; i--) {
		if (!ref_skip_name(m, len, &at) || len - at < 4)
			return false;
		at += 4;
	}
	n_rr = (unsigned long)u16(m, 6) + u16(m, 8) + u16(m, 10);
	for (; n_rr; n_rr--) {
		if (!ref_skip_name(m, len, &at) || len - at < 10)
			return false;
		at += 10 + (size_t)u16(m, at + 8);
		if (at > len)
			return false;
	}
	*end = at;
	return true;
}

static void check_name(const struct dns_name *n)
{
	char text[4 * DNS_NAME_MAX + 1];
	size_t p = 0, chars = 0;

	CHECK(n->len >= 1 && n->len <= DNS_NAME_MAX);
	while (n->wire[p]) {
		CHECK(n->wire[p] <= DNS_LABEL_MAX);
		chars += 4u * n->wire[p] + 1;
		p += 1u + n->wire[p];
		CHECK(p < n->len);
	}
	CHECK(p + 1 == n->len);
	CHECK(dns_name_equal(n, n));
	dns_name_to_text(n, text, sizeof(text));
	CHECK(strlen(text) <= chars);
	for (size_t i = 0; text[i]; i++) {
		CHECK(text[i] > ' ' && text[i] < 0x7f);
		CHECK(!(text[i] >= 'A' && text[i] <= 'Z'));
		if (text[i] == '\\')
			i++; /* the escaped character, or \DDD's first digit */
	}
}

static void check_type(unsigned int type)
{
	char text[DNS_TYPE_TEXT_MAX];

	dns_type_to_text(type, text, sizeof(text));
	CHECK(text[0] && strlen(text) < sizeof(text) - 1);
}

static void check_answers(const struct dns_msg *msg)
{
	struct dns_msg_iter it;
	struct dns_msg_rr rr;
	unsigned int n = 0;

	dns_msg_answers(msg, &it);
	while (dns_msg_next_answer(msg, &it, &rr)) {
		check_name(&rr.owner);
		check_type(rr.type);
		CHECK(rr.rdata >= msg->m &&
		      rr.rdata + rr.rdlen <= msg->m + msg->len);
		CHECK(rr.has_target == (rr.type == DNS_TYPE_CNAME && rr.rdlen));
		if (rr.has_target)
			check_name(&rr.target);
		if (rr.type == DNS_TYPE_A && rr.rdlen)
			CHECK(rr.rdlen == 4);
		if (rr.type == DNS_TYPE_AAAA && rr.rdlen)
			CHECK(rr.rdlen == 16);
		n++;
	}
	CHECK(n == msg->ancount);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *m = malloc(size ? size : 1);
	struct dns_msg msg;
	size_t end;

	CHECK(m);
	memcpy(m, data, size);
	if (dns_msg_parse(m, size, &msg) == 0) {
		CHECK(ref_end(m, size, &end));
		if (msg.qdcount) {
			check_name(&msg.qname);
			check_type(msg.qtype);
		}
		check_answers(&msg);
		/* a cut inside the last record (or the header) is refused */
		if (end > 12) {
			struct dns_msg cut;

			CHECK(dns_msg_parse(m, end - 1, &cut) == -1);
		}
	}
	free(m);
	return 0;
}
