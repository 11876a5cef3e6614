// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Unit tests of the DNS message reader (user/dns/dns_msg.c, dns_name.c,
 * dns_type.c): compression pointers, truncation, name and label limits,
 * rdata shapes, name text with escapes, case-insensitive compare, type
 * text. Messages are copied into buffers of exactly their size, so that
 * an over-read shows under ASan (`make asan`).
 */
#include "test_util.h"

#include "dns/dns_msg.h"
#include "dns/dns_name.h"
#include "dns/dns_type.h"

#define MSG_MAX 2048

/* ---- building messages ---- */

struct msg {
	size_t n;
	uint8_t b[MSG_MAX];
};

static void put(struct msg *m, const void *p, size_t n)
{
	assert_true(m->n + n <= MSG_MAX);
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void put8(struct msg *m, unsigned int v)
{
	uint8_t b = (uint8_t)v;

	put(m, &b, 1);
}

static void put16(struct msg *m, unsigned int v)
{
	put8(m, v >> 8);
	put8(m, v & 0xff);
}

static void put32(struct msg *m, uint32_t v)
{
	put16(m, v >> 16);
	put16(m, v & 0xffff);
}

/* A header: id 0x1234, QR when answer, the given opcode, rcode, counts. */
static void header(struct msg *m, bool answer, unsigned int opcode,
		   unsigned int rcode, unsigned int qd, unsigned int an,
		   unsigned int ns, unsigned int ar)
{
	m->n = 0;
	put16(m, 0x1234);
	put8(m, (answer ? 0x80 : 0) | opcode << 3 | 1);
	put8(m, (answer ? 0x80 : 0) | rcode);
	put16(m, qd);
	put16(m, an);
	put16(m, ns);
	put16(m, ar);
}

/* "www.example.com" uncompressed: dotted text to labels. */
static void put_name(struct msg *m, const char *text)
{
	while (*text) {
		const char *dot = strchr(text, '.');
		size_t l = dot ? (size_t)(dot - text) : strlen(text);

		put8(m, l);
		put(m, text, l);
		text += l + (dot ? 1 : 0);
	}
	put8(m, 0);
}

static void put_ptr(struct msg *m, unsigned int off)
{
	put16(m, 0xc000 | off);
}

/* Fixed fields of a record: type, class IN, ttl, rdlength. */
static void rr_fixed(struct msg *m, unsigned int type, uint32_t ttl,
		     unsigned int rdlen)
{
	put16(m, type);
	put16(m, 1);
	put32(m, ttl);
	put16(m, rdlen);
}

static int parse(const struct msg *m, size_t len, struct dns_msg *out)
{
	uint8_t *copy = malloc(len ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, m->b, len);
	rc = dns_msg_parse(copy, len, out);
	if (!rc) {
		/* walk the answers while the copy lives */
		struct dns_msg_iter it;
		struct dns_msg_rr rr;
		unsigned int n = 0;

		dns_msg_answers(out, &it);
		while (dns_msg_next_answer(out, &it, &rr))
			n++;
		assert_int_equal(n, out->ancount);
	}
	free(copy);
	return rc;
}

static struct dns_name name_of(const char *text)
{
	struct msg m = { 0 };
	struct dns_name n;
	size_t off = 0;

	put_name(&m, text);
	/* offset 0 is never a pointer's target: a byte before the name */
	memmove(m.b + 1, m.b, m.n);
	m.b[0] = 0;
	off = 1;
	assert_int_equal(dns_name_read(m.b, m.n + 1, &off, &n), 0);
	return n;
}

/*
 * The answer of a resolver: www.example.com A, CNAME to
 * edge.cdn.example.net (compressed against the question), its A record,
 * an SOA in the authority section, an OPT record.
 */
static void real_answer(struct msg *m)
{
	size_t target;

	header(m, true, 0, 0, 1, 2, 1, 1);
	put_name(m, "www.example.com"); /* at 12 */
	put16(m, DNS_TYPE_A);
	put16(m, 1);
	put_ptr(m, 12);
	rr_fixed(m, DNS_TYPE_CNAME, 300, 5 + 4 + 2);
	target = m->n;
	put8(m, 4);
	put(m, "edge", 4);
	put8(m, 3);
	put(m, "cdn", 3);
	put_ptr(m, 16); /* "example.com" of the question */
	put_ptr(m, target);
	rr_fixed(m, DNS_TYPE_A, 60, 4);
	put32(m, 0xc0000201); /* 192.0.2.1 */
	put_ptr(m, 16);	      /* example.com SOA */
	rr_fixed(m, 6, 3600, 2 + 2 + 20);
	put_ptr(m, 12);
	put_ptr(m, 16);
	for (int i = 0; i < 5; i++)
		put32(m, (uint32_t)i + 1);
	put8(m, 0); /* OPT */
	put16(m, 41);
	put16(m, 1232);
	put32(m, 0);
	put16(m, 0);
}

static void test_real_answer(void **state)
{
	struct dns_msg msg;
	struct dns_msg_iter it;
	struct dns_msg_rr rr;
	struct dns_name want;
	struct msg m;
	char text[256];
	uint8_t *copy;

	(void)state;
	real_answer(&m);
	copy = malloc(m.n);
	assert_non_null(copy);
	memcpy(copy, m.b, m.n);
	assert_int_equal(dns_msg_parse(copy, m.n, &msg), 0);
	assert_int_equal(msg.opcode, 0);
	assert_int_equal(msg.rcode, 0);
	assert_int_equal(msg.qdcount, 1);
	assert_int_equal(msg.ancount, 2);
	assert_int_equal(msg.qtype, DNS_TYPE_A);
	dns_name_to_text(&msg.qname, text, sizeof(text));
	assert_string_equal(text, "www.example.com");

	dns_msg_answers(&msg, &it);
	assert_true(dns_msg_next_answer(&msg, &it, &rr));
	assert_int_equal(rr.type, DNS_TYPE_CNAME);
	assert_int_equal(rr.ttl, 300);
	assert_true(dns_name_equal(&rr.owner, &msg.qname));
	assert_true(rr.has_target);
	want = name_of("edge.cdn.example.com");
	assert_true(dns_name_equal(&rr.target, &want));

	assert_true(dns_msg_next_answer(&msg, &it, &rr));
	assert_int_equal(rr.type, DNS_TYPE_A);
	assert_int_equal(rr.ttl, 60);
	assert_false(rr.has_target);
	assert_true(dns_name_equal(&rr.owner, &want));
	assert_int_equal(rr.rdlen, 4);
	assert_memory_equal(rr.rdata, "\xc0\x00\x02\x01", 4);
	assert_false(dns_msg_next_answer(&msg, &it, &rr));
	free(copy);
}

/* Every cut of the real answer is refused (the last record ends it). */
static void test_truncated(void **state)
{
	struct dns_msg msg;
	struct msg m;

	(void)state;
	real_answer(&m);
	for (size_t len = 0; len < m.n; len++)
		if (parse(&m, len, &msg) == 0)
			fail_msg("accepted the first %zu bytes of %zu", len,
				 m.n);
	assert_int_equal(parse(&m, m.n, &msg), 0);
	/* bytes after the last section are ignored, as ldns did */
	put8(&m, 0xff);
	assert_int_equal(parse(&m, m.n, &msg), 0);
}

/* ---- compression pointers ---- */

/* A query whose name is built by fn at offset 12. */
static int query_with(void (*fn)(struct msg *), struct dns_msg *msg)
{
	struct msg m;

	header(&m, false, 0, 0, 1, 0, 0, 0);
	fn(&m);
	put16(&m, DNS_TYPE_A);
	put16(&m, 1);
	return parse(&m, m.n, msg);
}

static void ptr_to_itself(struct msg *m)
{
	put_ptr(m, 12);
}

static void ptr_after_label_to_itself(struct msg *m)
{
	put8(m, 1);
	put8(m, 'a');
	put_ptr(m, 12); /* a.a.a.a... until 255 bytes */
}

static void ptr_loop_of_two(struct msg *m)
{
	/* 12: pointer to 14; 14: pointer to 12 */
	put_ptr(m, 14);
	put_ptr(m, 12);
}

static void ptr_to_header(struct msg *m)
{
	put_ptr(m, 0);
}

static void ptr_past_end(struct msg *m)
{
	put_ptr(m, 0x3fff);
}

static void ptr_half(struct msg *m)
{
	put8(m, 0xc0); /* the second byte is the type's first */
}

/* Pointer forward to a name written after the question's fixed fields. */
static void ptr_forward(struct msg *m)
{
	put_ptr(m, 18);
	put16(m, DNS_TYPE_A); /* 14..17: the question's type and class */
	put16(m, 1);
	put_name(m, "fwd.test"); /* 18: a later name (trailing bytes) */
}

static void label_0x40(struct msg *m)
{
	put8(m, 0x41);
	put(m, "a", 1);
	put8(m, 0);
}

static void label_0x80(struct msg *m)
{
	put8(m, 0x81);
	put(m, "a", 1);
	put8(m, 0);
}

static void label_63(struct msg *m)
{
	put8(m, 63);
	for (int i = 0; i < 63; i++)
		put8(m, 'x');
	put8(m, 0);
}

static void label_past_end(struct msg *m)
{
	put8(m, 60); /* the rest of the message is shorter */
	put(m, "abc", 3);
}

/* 255 bytes of wire: 3 labels of 63, one of 61, the root. */
static void name_255(struct msg *m)
{
	for (int l = 0; l < 4; l++) {
		int n = l < 3 ? 63 : 61;

		put8(m, n);
		for (int i = 0; i < n; i++)
			put8(m, 'a' + l);
	}
	put8(m, 0);
}

static void name_256(struct msg *m)
{
	for (int l = 0; l < 4; l++) {
		int n = l < 3 ? 63 : 62;

		put8(m, n);
		for (int i = 0; i < n; i++)
			put8(m, 'a' + l);
	}
	put8(m, 0);
}

static const struct name_row {
	const char *name;
	void (*fn)(struct msg *);
	int rc;
	size_t wire_len; /* of the name read, when rc == 0 */
} name_rows[] = {
	{ "pointer to itself", ptr_to_itself, -1, 0 },
	{ "label then pointer back: grows past 255", ptr_after_label_to_itself,
	  -1, 0 },
	{ "loop of two pointers", ptr_loop_of_two, -1, 0 },
	{ "pointer to offset 0", ptr_to_header, -1, 0 },
	{ "pointer past the end", ptr_past_end, -1, 0 },
	{ "pointer cut in half", ptr_half, -1, 0 },
	{ "label type 0x40", label_0x40, -1, 0 },
	{ "label type 0x80", label_0x80, -1, 0 },
	{ "label of 63 bytes", label_63, 0, 65 },
	{ "label past the end", label_past_end, -1, 0 },
	{ "name of 255 bytes", name_255, 0, 255 },
	{ "name of 256 bytes", name_256, -1, 0 },
};

static void test_name(void **state)
{
	const struct name_row *row = *state;
	struct dns_msg msg;

	assert_int_equal(query_with(row->fn, &msg), row->rc);
	if (!row->rc)
		assert_int_equal(msg.qname.len, row->wire_len);
}

/* A forward pointer is followed (ldns did too), bounded like any other. */
static void test_forward_pointer(void **state)
{
	struct dns_name want = name_of("fwd.test");
	struct dns_msg msg;
	struct msg m;

	(void)state;
	header(&m, false, 0, 0, 1, 0, 0, 0);
	ptr_forward(&m);
	assert_int_equal(parse(&m, m.n, &msg), 0);
	assert_true(dns_name_equal(&msg.qname, &want));
}

/*
 * A chain of pointers to pointers: DNS_NAME_MAX_HOPS hops are followed,
 * one more is refused (a loop never ends otherwise).
 */
static void chain(struct msg *m, unsigned int hops)
{
	size_t start;

	header(m, false, 0, 0, 1, 0, 0, 0);
	put_ptr(m, 18); /* the question's name: the first hop */
	put16(m, DNS_TYPE_A);
	put16(m, 1);
	start = m->n; /* 18 */
	for (unsigned int i = 1; i < hops; i++)
		put_ptr(m, start + 2 * i);
	put_name(m, "end.test");
}

static void test_pointer_hops(void **state)
{
	struct dns_msg msg;
	struct msg m;

	(void)state;
	chain(&m, DNS_NAME_MAX_HOPS);
	assert_int_equal(parse(&m, m.n, &msg), 0);
	chain(&m, DNS_NAME_MAX_HOPS + 1);
	assert_int_equal(parse(&m, m.n, &msg), -1);
}

/* ---- records ---- */

/* An answer for a.test with one record of the given type and rdata. */
static int answer_with(unsigned int type, const void *rdata, size_t rdlen,
		       struct dns_msg *msg)
{
	struct msg m;

	header(&m, true, 0, 0, 1, 1, 0, 0);
	put_name(&m, "a.test");
	put16(&m, DNS_TYPE_A);
	put16(&m, 1);
	put_ptr(&m, 12);
	rr_fixed(&m, type, 1, rdlen);
	put(&m, rdata, rdlen);
	return parse(&m, m.n, msg);
}

static const struct rdata_row {
	const char *name;
	unsigned int type;
	const char *rdata;
	size_t rdlen;
	int rc;
} rdata_rows[] = {
	{ "A of 4 bytes", DNS_TYPE_A, "\x01\x02\x03\x04", 4, 0 },
	{ "A of 3 bytes", DNS_TYPE_A, "\x01\x02\x03", 3, -1 },
	{ "A of 5 bytes", DNS_TYPE_A, "\x01\x02\x03\x04\x05", 5, -1 },
	{ "A without data", DNS_TYPE_A, "", 0, 0 },
	{ "AAAA of 16 bytes", DNS_TYPE_AAAA, "0123456789abcdef", 16, 0 },
	{ "AAAA of 4 bytes", DNS_TYPE_AAAA, "0123", 4, -1 },
	{ "CNAME", DNS_TYPE_CNAME,
	  "\x01"
	  "b\xc0\x0c",
	  4, 0 },
	{ "CNAME and a byte more", DNS_TYPE_CNAME,
	  "\x01"
	  "b\x00\x00",
	  4, -1 },
	{ "CNAME running past its rdata", DNS_TYPE_CNAME,
	  "\x01"
	  "b",
	  2, -1 },
	{ "CNAME with a broken pointer", DNS_TYPE_CNAME, "\xc0\x00", 2, -1 },
	{ "MX", 15,
	  "\x00\x0a\x01"
	  "m\x00",
	  5, 0 },
	{ "MX without its name", 15, "\x00\x0a", 2, -1 },
	{ "TXT of two strings", 16,
	  "\x02"
	  "ab\x01"
	  "c",
	  5, 0 },
	{ "TXT string past its rdata", 16,
	  "\x05"
	  "ab",
	  3, -1 },
	{ "SRV", 33, "\x00\x01\x00\x02\x00\x03\x00", 7, 0 },
	{ "SRV cut", 33, "\x00\x01\x00\x02\x00", 5, -1 },
	{ "unknown type: opaque", 65534, "\xff\xfe\xfd", 3, 0 },
};

static void test_rdata(void **state)
{
	const struct rdata_row *row = *state;
	struct dns_msg msg;

	assert_int_equal(answer_with(row->type, row->rdata, row->rdlen, &msg),
			 row->rc);
}

/* A broken record in any section refuses the whole message. */
static void test_broken_additional(void **state)
{
	struct dns_msg msg;
	struct msg m;

	(void)state;
	header(&m, true, 0, 0, 1, 0, 0, 1);
	put_name(&m, "a.test");
	put16(&m, DNS_TYPE_A);
	put16(&m, 1);
	put_ptr(&m, 12);
	rr_fixed(&m, DNS_TYPE_A, 1, 3);
	put(&m, "\x01\x02\x03", 3);
	assert_int_equal(parse(&m, m.n, &msg), -1);
	/* and a count of records the message does not have */
	header(&m, true, 0, 0, 1, 1, 0, 0);
	put_name(&m, "a.test");
	put16(&m, DNS_TYPE_A);
	put16(&m, 1);
	assert_int_equal(parse(&m, m.n, &msg), -1);
	assert_int_equal(parse(&m, 11, &msg), -1); /* not even a header */
}

static void test_header_fields(void **state)
{
	struct dns_msg msg;
	struct msg m;

	(void)state;
	header(&m, true, 2, 3, 0, 0, 0, 0);
	assert_int_equal(parse(&m, m.n, &msg), 0);
	assert_int_equal(msg.opcode, 2);
	assert_int_equal(msg.rcode, 3);
	assert_int_equal(msg.qdcount, 0);
}

/* ---- names: compare, text ---- */

static void test_compare(void **state)
{
	struct dns_name a = name_of("WWW.Example.COM");
	struct dns_name b = name_of("www.example.com");
	struct dns_name c = name_of("www.example.co");
	struct dns_name d = name_of("www.example.con");
	struct dns_name e, f;

	(void)state;
	assert_true(dns_name_equal(&a, &b));
	assert_false(dns_name_equal(&a, &c));
	assert_false(dns_name_equal(&b, &d));
	/* ASCII only: 0xc1 and 0xe1 (Latin-1 A/a acute) differ */
	e = name_of("x");
	f = e;
	e.wire[1] = 0xc1;
	f.wire[1] = 0xe1;
	assert_false(dns_name_equal(&e, &f));
	/* labels differ where the text would not: "a.b" vs one label */
	e = name_of("a.b");
	f.len = 5;
	memcpy(f.wire,
	       "\x03"
	       "a.b\x00",
	       5);
	assert_false(dns_name_equal(&e, &f));
}

static const struct text_row {
	const char *name;
	const char *wire; /* labels and root */
	size_t len;
	const char *text;
} text_rows[] = {
	{ "root", "\x00", 1, "" },
	{ "lower case, no trailing dot",
	  "\x03WwW\x07"
	  "Example\x03"
	  "COM\x00",
	  17, "www.example.com" },
	{ "dot inside a label",
	  "\x03"
	  "a.b\x01"
	  "c\x00",
	  7, "a\\.b.c" },
	{ "specials", "\x05;()\\\"\x00", 7, "\\;\\(\\)\\\\\"" },
	{ "space, NUL, DEL, high bytes", "\x05 \x00\x7f\x80\xff\x00", 7,
	  "\\032\\000\\127\\128\\255" },
	{ "hyphen, underscore, star", "\x03-_*\x00", 5, "-_*" },
};

static void test_text(void **state)
{
	const struct text_row *row = *state;
	struct dns_name n = { .len = (unsigned int)row->len };
	char out[256];

	memcpy(n.wire, row->wire, row->len);
	dns_name_to_text(&n, out, sizeof(out));
	assert_string_equal(out, row->text);
}

/* Text longer than the buffer is cut, and terminated. */
static void test_text_cut(void **state)
{
	struct dns_name n = name_of("abcdef.example");
	char out[5];

	(void)state;
	dns_name_to_text(&n, out, sizeof(out));
	assert_string_equal(out, "abcd");
}

static const struct type_row {
	const char *name;
	unsigned int type;
	const char *text;
} type_rows[] = {
	{ "A", 1, "A" },
	{ "AAAA", 28, "AAAA" },
	{ "CNAME", 5, "CNAME" },
	{ "TXT", 16, "TXT" },
	{ "HTTPS", 65, "HTTPS" },
	{ "NSAP-PTR", 23, "NSAP-PTR" },
	{ "ANY", 255, "ANY" },
	{ "CAA", 257, "CAA" },
	{ "DLV", 32769, "DLV" },
	{ "type 0", 0, "TYPE0" },
	{ "unassigned 54", 54, "TYPE54" },
	{ "unassigned 66", 66, "TYPE66" },
	{ "private 65534", 65534, "TYPE65534" },
	{ "65535", 65535, "TYPE65535" },
};

static void test_type(void **state)
{
	const struct type_row *row = *state;
	char out[DNS_TYPE_TEXT_MAX];

	dns_type_to_text(row->type, out, sizeof(out));
	assert_string_equal(out, row->text);
}

int main(void)
{
	struct test_list l = { 0 };

	tl_add(&l, "real answer", test_real_answer, NULL);
	tl_add(&l, "truncated at every byte", test_truncated, NULL);
	TL_ROWS(&l, test_name, name_rows);
	tl_add(&l, "forward pointer", test_forward_pointer, NULL);
	tl_add(&l, "pointer hops bounded", test_pointer_hops, NULL);
	TL_ROWS(&l, test_rdata, rdata_rows);
	tl_add(&l, "broken additional record", test_broken_additional, NULL);
	tl_add(&l, "header fields", test_header_fields, NULL);
	tl_add(&l, "case-insensitive compare", test_compare, NULL);
	TL_ROWS(&l, test_text, text_rows);
	tl_add(&l, "text cut to the buffer", test_text_cut, NULL);
	TL_ROWS(&l, test_type, type_rows);
	return tl_run("dns_msg", &l);
}
