// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer harness of the domain filter's two hooks, decide and learn
 * (user/dns/dns_filter.c over user/dns/dns_msg.c, user/policy/domain_match.c,
 * user/dns/learned.c),
 * with a fixed policy and two real BPF hash maps (needs root).
 *
 * Input: one flag byte, then up to MAX_CHUNKS chunks, each a big-endian
 * 16-bit length and that many bytes (a length past the end takes what is
 * left). Chunks alternate query, answer: every query goes to decide, and
 * every (query, answer) pair to learn, whatever decide said.
 *   flags & 0x03: max addresses per name: 64, 1, 2, 3 (eviction)
 *   flags & 0x04: dns.min_ttl 0 instead of 60
 *   flags & 0x08: audit-only mode (dns_filter_set_audit_only)
 *   flags & 0x80: no learned store yet (the filter must refuse answers);
 *                 ignored when AWF_FUZZ_SKIP_NO_STORE=1 is in the
 *                 environment (to fuzz the rest while that state crashes)
 * AWF_FUZZ_STRICT_BLOCK=1: see oracle_name_blocked().
 * The store and the maps start empty for every input.
 *
 * Oracles, independent of the filter's own parsing and name handling: the
 * harness reads the messages itself (omsg_parse below, written apart from
 * user/dns/dns_msg.c and dns_name.c, to the same rules: RFC 1035 names
 * with at most 127 pointer hops, rdata shapes of A, AAAA, the name types,
 * MX, SOA, SRV, TXT...), and names are judged label by label, never from
 * text:
 *  - decide forwards exactly the standard queries with one question,
 *    type neither ANY nor PTR, whose name is plain (letters, digits, '-',
 *    '_'; at most 253 characters) and inside POLICY_ALLOW, outside
 *    POLICY_BLOCK. In particular it never forwards a name outside the
 *    allowlist.
 *  - learn only accepts answers to such a name;
 *  - every address in the maps comes from an A/AAAA record of an answer
 *    learn accepted, owned by its question's name or a name reachable from
 *    it through that answer's CNAMEs, owned by no blocked name, and is
 *    filed under the name of that question.
 * In audit-only mode decide forwards every standard query of one
 * question but ANY and PTR, and learn accepts answers to them; what the
 * policy refuses is learned only as AWF_LEARNED_AUDIT_ONLY entries that
 * open nothing (no rule, no port): every other entry still satisfies the
 * oracle above, so audit mode never opens an address of a name the
 * policy refuses.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "dns/dns_filter.h"
#include "policy/domain_match.h"
#include "dns/learned.h"
#include "common/log.h"
#include "policy/policy.h"
#include "policy/policy_cli.h"
#include "fuzz_check.h"

#define POLICY_ALLOW "example.com, *.cdn.test, api-*.svc.test"
#define POLICY_BLOCK "ads.example.com, bad.cdn.test"
#define MAP_ENTRIES 1024
#define MAX_CHUNKS 8
#define MAX_PAIRS (MAX_CHUNKS / 2)
#define MAX_LABELS 128
#define NAME_TEXT_MAX 253   /* the matcher's limit */
#define REPORT_TEXT_MAX 255 /* the filter's name text, escapes included */
#define WIRE_NAME_MAX 255
#define MAX_HOPS 127
#define T_A 1
#define T_CNAME 5
#define T_PTR 12
#define T_AAAA 28
#define T_ANY 255

#define FLAG_NO_STORE 0x80
#define FLAG_MIN_TTL_0 0x04
#define FLAG_AUDIT 0x08

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct policy policy;
static struct domain_matcher *matcher;
static struct dns_filter *filter;
static const struct dns_filter_ops *ops;
static int map4_fd = -1, map6_fd = -1;
static bool skip_no_store;
static bool strict_block;

/* ---- the oracle's view of names: labels of the wire form ---- */

struct labels {
	size_t n;
	const uint8_t *label[MAX_LABELS]; /* leftmost first */
	uint8_t len[MAX_LABELS];
};

/* A name as the oracle decompressed it: labels, then the root's 0. */
struct oname {
	size_t size;
	uint8_t d[WIRE_NAME_MAX];
};

/* The labels of an uncompressed wire name; false if odd. */
static bool labels_of(const struct oname *dname, struct labels *out)
{
	const uint8_t *d = dname->d;
	size_t size = dname->size, p = 0;

	out->n = 0;
	while (p < size && d[p]) {
		if (d[p] > 63 || size - p - 1 < d[p] || out->n == MAX_LABELS)
			return false;
		out->label[out->n] = d + p + 1;
		out->len[out->n] = d[p];
		out->n++;
		p += 1u + d[p];
	}
	return p + 1 == size;
}

static bool label_eq(const uint8_t *l, size_t len, const char *s)
{
	if (strlen(s) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (tolower(l[i]) != s[i])
			return false;
	return true;
}

/* The i-th label from the right (0: the top-level one). */
static bool rlabel_eq(const struct labels *l, size_t i, const char *s)
{
	return i < l->n &&
	       label_eq(l->label[l->n - 1 - i], l->len[l->n - 1 - i], s);
}

static bool rlabel_has_prefix(const struct labels *l, size_t i, const char *s)
{
	size_t k = strlen(s);

	return i < l->n && l->len[l->n - 1 - i] >= k &&
	       label_eq(l->label[l->n - 1 - i], k, s);
}

/* Letters, digits, '-', '_' only, and short enough for the matcher. */
static bool labels_plain(const struct labels *l)
{
	size_t text = 0;

	if (!l->n)
		return false;
	for (size_t i = 0; i < l->n; i++) {
		for (size_t j = 0; j < l->len[i]; j++) {
			uint8_t c = l->label[i][j];

			if (!isalnum(c) && c != '-' && c != '_')
				return false;
		}
		text += l->len[i] + (i ? 1u : 0u);
	}
	return text <= NAME_TEXT_MAX;
}

/* POLICY_BLOCK: ads.example.com and bad.cdn.test, with all below them. */
static bool oracle_blocked(const struct labels *l)
{
	return (rlabel_eq(l, 0, "com") && rlabel_eq(l, 1, "example") &&
		rlabel_eq(l, 2, "ads")) ||
	       (rlabel_eq(l, 0, "test") && rlabel_eq(l, 1, "cdn") &&
		rlabel_eq(l, 2, "bad"));
}

/* POLICY_ALLOW, ignoring blocks and characters. */
static bool oracle_listed(const struct labels *l)
{
	if (rlabel_eq(l, 0, "com") && rlabel_eq(l, 1, "example"))
		return true; /* example.com and below */
	if (rlabel_eq(l, 0, "test") && rlabel_eq(l, 1, "cdn") && l->n >= 3)
		return true; /* *.cdn.test: below only */
	if (rlabel_eq(l, 0, "test") && rlabel_eq(l, 1, "svc") &&
	    rlabel_has_prefix(l, 2, "api-"))
		return true; /* api-*.svc.test ('*' may be empty) and below */
	return false;
}

static bool oracle_name_allowed(const struct oname *dname)
{
	struct labels l;

	return labels_of(dname, &l) && labels_plain(&l) && oracle_listed(&l) &&
	       !oracle_blocked(&l);
}

/*
 * The matcher judges plain names only, so the filter does not see that
 * "x*y.ads.example.com" is below a blocked name; AWF_FUZZ_STRICT_BLOCK=1
 * makes the oracle insist on it anyway.
 */
static bool oracle_name_blocked(const struct oname *dname)
{
	struct labels l;

	return labels_of(dname, &l) && (strict_block || labels_plain(&l)) &&
	       oracle_blocked(&l);
}

/* "www.example.com": lower case, no trailing dot (plain names only). */
static void oracle_name_text(const struct oname *dname, char *out, size_t len)
{
	struct labels l;
	size_t o = 0;

	CHECK(labels_of(dname, &l) && len > NAME_TEXT_MAX);
	for (size_t i = 0; i < l.n; i++) {
		if (i)
			out[o++] = '.';
		for (size_t j = 0; j < l.len[i]; j++)
			out[o++] = (char)tolower(l.label[i][j]);
	}
	out[o] = '\0';
}

/* Case-insensitive equality of two wire names. */
static bool dname_eq(const struct oname *a, const struct oname *b)
{
	if (a->size != b->size)
		return false;
	for (size_t i = 0; i < a->size; i++)
		if (tolower(a->d[i]) != tolower(b->d[i]))
			return false;
	return true;
}

/* ---- the oracle's own reading of a message ---- */

/*
 * RFC 1035 4.1.4: the name at *off, pointers followed (never to offset
 * 0, at most MAX_HOPS of them); *off moves past the name's own bytes.
 */
static bool oname_read(const uint8_t *m, size_t len, size_t *off,
		       struct oname *out)
{
	size_t p = *off, resume = 0;
	unsigned int hops = 0;

	out->size = 0;
	for (;;) {
		uint8_t c;

		if (p >= len)
			return false;
		c = m[p];
		if (c >= 0xc0) {
			if (len - p < 2 || hops == MAX_HOPS)
				return false;
			if (!hops++)
				resume = p + 2;
			p = (size_t)(c & 0x3f) * 256 + m[p + 1];
			if (p == 0)
				return false;
			continue;
		}
		if (c > 63) /* 0x40, 0x80: not labels */
			return false;
		if (c == 0)
			break;
		if (len - p <= c || out->size + c + 1 >= WIRE_NAME_MAX)
			return false;
		memcpy(out->d + out->size, m + p, c + 1u);
		out->size += c + 1u;
		p += c + 1u;
	}
	out->d[out->size++] = 0;
	*off = hops ? resume : p + 1;
	return true;
}

/* One <character-string> inside [*p, end). */
static bool ostr(const uint8_t *m, size_t *p, size_t end)
{
	if (*p >= end || end - *p < 1u + m[*p])
		return false;
	*p += 1u + m[*p];
	return true;
}

/* A name inside [*p, end) (a pointer may lead elsewhere). */
static bool oname_in(const uint8_t *m, size_t len, size_t *p, size_t end)
{
	struct oname n;

	return oname_read(m, len, p, &n) && *p <= end;
}

/* Rdata with its type's fields, all of them; empty rdata is fine too. */
static bool ordata_ok(const uint8_t *m, size_t len, unsigned int type, size_t p,
		      size_t rdlen)
{
	size_t end = p + rdlen;

	if (!rdlen)
		return true;
	switch (type) {
	case T_A:
		return rdlen == 4;
	case T_AAAA:
		return rdlen == 16;
	case 2:
	case 3:
	case 4:
	case T_CNAME:
	case 7:
	case 8:
	case 9:
	case T_PTR:
	case 39: /* NS MD MF CNAME MB MG MR PTR DNAME */
		return oname_in(m, len, &p, end) && p == end;
	case 14:
	case 17: /* MINFO RP */
		return oname_in(m, len, &p, end) && oname_in(m, len, &p, end) &&
		       p == end;
	case 6: /* SOA */
		return oname_in(m, len, &p, end) && oname_in(m, len, &p, end) &&
		       end - p == 20;
	case 15:
	case 18:
	case 21:
	case 36: /* MX AFSDB RT KX */
		p += 2;
		return p <= end && oname_in(m, len, &p, end) && p == end;
	case 33: /* SRV */
		p += 6;
		return p <= end && oname_in(m, len, &p, end) && p == end;
	case 13: /* HINFO */
		return ostr(m, &p, end) && ostr(m, &p, end) && p == end;
	case 16:
	case 99: /* TXT SPF */
		while (p < end)
			if (!ostr(m, &p, end))
				return false;
		return true;
	default:
		return true;
	}
}

/* An answer record, copied out of the message. */
struct orr {
	struct oname owner;
	unsigned int type;
	size_t rdlen;
	uint8_t rd[16]; /* the first bytes of the rdata */
	bool has_target;
	struct oname target; /* CNAME */
};

struct omsg {
	bool ok;  /* well formed */
	bool std; /* and a standard query of one question: */
	struct oname qname;
	unsigned int qtype, rcode;
	size_t n_ans;
	struct orr *ans;
};

static unsigned int get16(const uint8_t *p)
{
	return (unsigned int)p[0] << 8 | p[1];
}

static bool orr_read(const uint8_t *m, size_t len, size_t *off, struct orr *rr)
{
	size_t rd;

	if (!oname_read(m, len, off, &rr->owner) || len - *off < 10)
		return false;
	rr->type = get16(m + *off);
	rr->rdlen = get16(m + *off + 8);
	rd = *off + 10;
	if (len - rd < rr->rdlen || !ordata_ok(m, len, rr->type, rd, rr->rdlen))
		return false;
	memcpy(rr->rd, m + rd, rr->rdlen < 16 ? rr->rdlen : 16);
	rr->has_target = rr->type == T_CNAME && rr->rdlen;
	if (rr->has_target) {
		size_t t = rd;

		CHECK(oname_read(m, len, &t, &rr->target));
	}
	*off = rd + rr->rdlen;
	return true;
}

static void omsg_parse(const uint8_t *m, size_t len, struct omsg *msg)
{
	size_t off = 12;
	unsigned int qd, an, rest;
	struct orr tmp;

	memset(msg, 0, sizeof(*msg));
	if (len < 12)
		return;
	qd = get16(m + 4);
	an = get16(m + 6);
	rest = get16(m + 8) + get16(m + 10);
	msg->rcode = m[3] & 15;
	for (unsigned int i = 0; i < qd; i++) {
		struct oname n;

		if (!oname_read(m, len, &off, &n) || len - off < 4)
			return;
		if (!i) {
			msg->qname = n;
			msg->qtype = get16(m + off);
		}
		off += 4;
	}
	msg->ans = calloc(an + 1u, sizeof(*msg->ans));
	CHECK(msg->ans);
	for (msg->n_ans = 0; msg->n_ans < an; msg->n_ans++)
		if (!orr_read(m, len, &off, &msg->ans[msg->n_ans]))
			return;
	for (unsigned int i = 0; i < rest; i++)
		if (!orr_read(m, len, &off, &tmp))
			return;
	msg->ok = true;
	msg->std = ((m[2] >> 3) & 15) == 0 && qd == 1;
}

static void omsg_free(struct omsg *m)
{
	free(m->ans);
	memset(m, 0, sizeof(*m));
}

/* ---- one input ---- */

/* An answer learn accepted, kept to account for what is in the maps. */
struct accepted {
	struct omsg query, answer;
	char name[NAME_TEXT_MAX + 1];
};

struct run {
	struct learned_store *store;
	bool audit;		/* FLAG_AUDIT */
	uint64_t min_expiry_ns; /* start of the input + min_ttl */
	struct accepted acc[MAX_PAIRS];
	size_t n_acc;
};

static void on_decision(void *ctx, const struct dns_decision *d)
{
	(void)ctx;
	CHECK(d->name && d->qtype && d->reason);
	CHECK(strlen(d->name) <= REPORT_TEXT_MAX);
	CHECK(strlen(d->qtype) < 16);
	CHECK(d->allowed || d->rcode);
}

static void map_clear(int fd)
{
	uint8_t key[16];

	while (!bpf_map_get_next_key(fd, NULL, key))
		CHECK(!bpf_map_delete_elem(fd, key));
}

static size_t map_count(int fd)
{
	uint8_t key[16], next[16];
	size_t n = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, sizeof(key));
		prev = key;
		n++;
	}
	return n;
}

static void check_decide(const struct run *r, const uint8_t *query, size_t len)
{
	unsigned int rcode = 0;
	struct omsg q;
	bool want;
	int rc;

	rc = ops->decide(ops->ctx, query, len, &rcode);
	omsg_parse(query, len, &q);
	want = q.ok && q.std && q.qtype != T_ANY && q.qtype != T_PTR &&
	       (r->audit || oracle_name_allowed(&q.qname));
	CHECK(rc == 0 || rc == 1);
	if (!rc)
		CHECK(rcode >= 1 && rcode <= 15);
	/* Never forwards what the policy does not allow... */
	if (rc)
		CHECK(want);
	/* ...and forwards every plain allowed name. */
	CHECK(rc == (int)want);
	omsg_free(&q);
}

static void check_learn(struct run *r, const uint8_t *query, size_t qlen,
			const uint8_t *answer, size_t alen)
{
	size_t before = map_count(map4_fd) + map_count(map6_fd);
	struct accepted *a = &r->acc[r->n_acc];
	int rc;

	rc = ops->learn(ops->ctx, query, qlen, answer, alen, false);
	CHECK(rc == 0 || rc == -1);
	if (rc) {
		/* Refused answers open nothing (the maps never fill here). */
		CHECK(map_count(map4_fd) + map_count(map6_fd) == before);
		return;
	}
	/* Accepted: a store, and a question decide would let through. */
	CHECK(r->store);
	omsg_parse(query, qlen, &a->query);
	CHECK(a->query.ok && a->query.std &&
	      (r->audit || oracle_name_allowed(&a->query.qname)));
	omsg_parse(answer, alen, &a->answer);
	CHECK(a->answer.ok && a->answer.std &&
	      dname_eq(&a->answer.qname, &a->query.qname) &&
	      a->answer.qtype == a->query.qtype);
	if (a->answer.rcode != 0)
		CHECK(map_count(map4_fd) + map_count(map6_fd) == before);
	oracle_name_text(&a->query.qname, a->name, sizeof(a->name));
	r->n_acc++;
}

/* The names of ans reachable from qname through its CNAME records. */
static bool reachable(const struct omsg *ans, const struct oname *qname,
		      const struct oname *owner)
{
	size_t n = ans->n_ans;
	const struct oname **seen = calloc(n + 1, sizeof(*seen));
	size_t n_seen = 1;
	bool grew = true, found = false;

	CHECK(seen);
	seen[0] = qname;
	while (grew) {
		grew = false;
		for (size_t i = 0; i < n; i++) {
			const struct orr *rr = &ans->ans[i];
			bool from = false, known = false;

			if (!rr->has_target)
				continue;
			for (size_t j = 0; j < n_seen; j++) {
				from |= dname_eq(seen[j], &rr->owner);
				known |= dname_eq(seen[j], &rr->target);
			}
			if (from && !known) {
				seen[n_seen++] = &rr->target;
				grew = true;
			}
		}
	}
	for (size_t j = 0; j < n_seen && !found; j++)
		found = dname_eq(seen[j], owner);
	free(seen);
	return found;
}

/*
 * Some accepted answer filed under name has an A/AAAA record for key;
 * audited (an audit-only entry): of any accepted answer, owned by any
 * name of its chain (a name the policy refuses may be one the oracle
 * cannot spell as the filter does: escaped bytes).
 */
static bool accounted_for(const struct run *r, const char *name, int family,
			  const uint8_t *key, bool audited)
{
	unsigned int want = family == 4 ? T_A : T_AAAA;
	size_t klen = family == 4 ? 4 : 16;

	for (size_t i = 0; i < r->n_acc; i++) {
		const struct accepted *a = &r->acc[i];

		if (!audited && strcmp(a->name, name))
			continue;
		for (size_t j = 0; j < a->answer.n_ans; j++) {
			const struct orr *rr = &a->answer.ans[j];

			if (rr->type != want || rr->rdlen != klen ||
			    memcmp(rr->rd, key, klen) ||
			    (!audited && oracle_name_blocked(&rr->owner)) ||
			    !reachable(&a->answer, &a->query.qname, &rr->owner))
				continue;
			return true;
		}
	}
	return false;
}

static void check_map(const struct run *r, int fd, int family)
{
	uint8_t key[16] = { 0 }, next[16] = { 0 };
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, next)) {
		struct awf_learned v;
		const char *name;

		memcpy(key, next, sizeof(key));
		prev = key;
		CHECK(!bpf_map_lookup_elem(fd, key, &v));
		CHECK(r->store);
		name = learned_store_name(r->store, v.name_id);
		CHECK(name);
		/* min_ttl 0 and TTL 0 give an entry that expires at once. */
		CHECK(v.expires_ns >= r->min_expiry_ns);
		if (v.flags & AWF_LEARNED_AUDIT_ONLY) {
			/* only ever in audit mode, and opening nothing */
			CHECK(r->audit);
			CHECK(v.rule_id == 0 && v.ports.count == 0);
			CHECK(accounted_for(r, name, family, key, true));
			continue;
		}
		CHECK(v.rule_id > 0);
		CHECK(v.ports.count > 0);
		CHECK(accounted_for(r, name, family, key, false));
	}
}

static bool env_flag(const char *name)
{
	const char *v = getenv(name);

	return v && *v && strcmp(v, "0");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	(void)argc;
	(void)argv;
	log_threshold = (enum log_level)(LOG_LVL_ERROR + 1);
	skip_no_store = env_flag("AWF_FUZZ_SKIP_NO_STORE");
	strict_block = env_flag("AWF_FUZZ_STRICT_BLOCK");
	policy_init(&policy);
	if (policy_add_domains(&policy, false, POLICY_ALLOW, "allow", err,
			       sizeof(err)) ||
	    policy_add_domains(&policy, true, POLICY_BLOCK, "block", err,
			       sizeof(err)) ||
	    !(matcher = domain_matcher_new(&policy, err, sizeof(err)))) {
		fprintf(stderr, "fuzz_dns_filter: policy: %s\n", err);
		exit(1);
	}
	map4_fd = bpf_map_create(BPF_MAP_TYPE_HASH, "fuzz_learned4", 4,
				 sizeof(struct awf_learned), MAP_ENTRIES, NULL);
	map6_fd = bpf_map_create(BPF_MAP_TYPE_HASH, "fuzz_learned6", 16,
				 sizeof(struct awf_learned), MAP_ENTRIES, NULL);
	if (map4_fd < 0 || map6_fd < 0) {
		fprintf(stderr,
			"fuzz_dns_filter: bpf_map_create: %s (needs root)\n",
			strerror(errno));
		exit(1);
	}
	filter = dns_filter_new(matcher, on_decision, NULL);
	if (!filter) {
		fprintf(stderr, "fuzz_dns_filter: out of memory\n");
		exit(1);
	}
	ops = dns_filter_ops(filter);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned int per_name[4] = { 64, 1, 2, 3 };
	const uint8_t *chunk[MAX_CHUNKS];
	size_t len[MAX_CHUNKS], n = 0, off = 1;
	struct run r = { 0 };
	unsigned int min_ttl;
	uint8_t flags;

	if (size < 1)
		return -1;
	flags = data[0];
	if (skip_no_store)
		flags &= (uint8_t)~FLAG_NO_STORE;
	while (n < MAX_CHUNKS && size - off >= 2) {
		size_t want = (size_t)data[off] << 8 | data[off + 1];

		off += 2;
		len[n] = want < size - off ? want : size - off;
		chunk[n] = data + off;
		off += len[n];
		n++;
	}

	map_clear(map4_fd);
	map_clear(map6_fd);
	min_ttl = flags & FLAG_MIN_TTL_0 ? 0 : 60;
	r.min_expiry_ns = learned_now_ns() + min_ttl * 1000000000ULL;
	if (!(flags & FLAG_NO_STORE)) {
		r.store = learned_store_new(map4_fd, map6_fd, min_ttl,
					    per_name[flags & 3]);
		CHECK(r.store);
	}
	dns_filter_use_store(filter, r.store);
	r.audit = flags & FLAG_AUDIT;
	dns_filter_set_audit_only(filter, r.audit);

	for (size_t i = 0; i < n; i += 2) {
		/* Copies of exactly their size: over-reads hit a redzone. */
		uint8_t *q = malloc(len[i] ? len[i] : 1), *a = NULL;

		CHECK(q);
		memcpy(q, chunk[i], len[i]);
		check_decide(&r, q, len[i]);
		if (i + 1 < n) {
			a = malloc(len[i + 1] ? len[i + 1] : 1);
			CHECK(a);
			memcpy(a, chunk[i + 1], len[i + 1]);
			check_learn(&r, q, len[i], a, len[i + 1]);
		}
		free(a);
		free(q);
	}

	check_map(&r, map4_fd, 4);
	check_map(&r, map6_fd, 6);
	for (size_t i = 0; i < r.n_acc; i++) {
		omsg_free(&r.acc[i].query);
		omsg_free(&r.acc[i].answer);
	}
	dns_filter_use_store(filter, NULL);
	learned_store_free(r.store);
	return 0;
}
