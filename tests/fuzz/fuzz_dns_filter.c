// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer harness of the domain filter's two hooks, decide and learn
 * (user/dns/dns_filter.c over ldns, user/policy/domain_match.c, user/dns/learned.c),
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
 * Oracles, independent of the filter's own name handling (names are read
 * label by label from the wire form ldns parsed, never from text):
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
#include <ldns/ldns.h>

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
#define NAME_TEXT_MAX 253 /* the matcher's limit */

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

/* An uncompressed wire name as ldns stores it; false if odd. */
static bool labels_of(const ldns_rdf *dname, struct labels *out)
{
	const uint8_t *d;
	size_t size, p = 0;

	out->n = 0;
	if (!dname || ldns_rdf_get_type(dname) != LDNS_RDF_TYPE_DNAME)
		return false;
	d = ldns_rdf_data(dname);
	size = ldns_rdf_size(dname);
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

static bool oracle_name_allowed(const ldns_rdf *dname)
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
static bool oracle_name_blocked(const ldns_rdf *dname)
{
	struct labels l;

	return labels_of(dname, &l) && (strict_block || labels_plain(&l)) &&
	       oracle_blocked(&l);
}

/* "www.example.com": lower case, no trailing dot (plain names only). */
static void oracle_name_text(const ldns_rdf *dname, char *out, size_t len)
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
static bool dname_eq(const ldns_rdf *a, const ldns_rdf *b)
{
	const uint8_t *x = ldns_rdf_data(a), *y = ldns_rdf_data(b);
	size_t n = ldns_rdf_size(a);

	if (n != ldns_rdf_size(b))
		return false;
	for (size_t i = 0; i < n; i++)
		if (tolower(x[i]) != tolower(y[i]))
			return false;
	return true;
}

/* ---- a parsed message, for the oracle ---- */

struct omsg {
	ldns_pkt *pkt;
	const ldns_rdf *qname; /* NULL unless one standard question */
	ldns_rr_type qtype;
};

static void omsg_parse(const uint8_t *msg, size_t len, struct omsg *m)
{
	ldns_rr *rr;

	memset(m, 0, sizeof(*m));
	if (ldns_wire2pkt(&m->pkt, msg, len) != LDNS_STATUS_OK) {
		m->pkt = NULL;
		return;
	}
	if (ldns_pkt_get_opcode(m->pkt) != LDNS_PACKET_QUERY ||
	    ldns_pkt_qdcount(m->pkt) != 1)
		return;
	rr = ldns_rr_list_rr(ldns_pkt_question(m->pkt), 0);
	if (!rr || !ldns_rr_owner(rr))
		return;
	m->qname = ldns_rr_owner(rr);
	m->qtype = ldns_rr_get_type(rr);
}

static void omsg_free(struct omsg *m)
{
	if (m->pkt)
		ldns_pkt_free(m->pkt);
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
	CHECK(strlen(d->name) <= LDNS_MAX_DOMAINLEN);
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
	want = q.qname && q.qtype != LDNS_RR_TYPE_ANY &&
	       q.qtype != LDNS_RR_TYPE_PTR &&
	       (r->audit || oracle_name_allowed(q.qname));
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
	CHECK(a->query.qname &&
	      (r->audit || oracle_name_allowed(a->query.qname)));
	omsg_parse(answer, alen, &a->answer);
	CHECK(a->answer.qname && dname_eq(a->answer.qname, a->query.qname) &&
	      a->answer.qtype == a->query.qtype);
	if (ldns_pkt_get_rcode(a->answer.pkt) != LDNS_RCODE_NOERROR)
		CHECK(map_count(map4_fd) + map_count(map6_fd) == before);
	oracle_name_text(a->query.qname, a->name, sizeof(a->name));
	r->n_acc++;
}

/* The names of ans reachable from qname through its CNAME records. */
static bool reachable(const ldns_rr_list *ans, const ldns_rdf *qname,
		      const ldns_rdf *owner)
{
	size_t n = ldns_rr_list_rr_count(ans);
	const ldns_rdf **seen = calloc(n + 1, sizeof(*seen));
	size_t n_seen = 1;
	bool grew = true, found = false;

	CHECK(seen);
	seen[0] = qname;
	while (grew) {
		grew = false;
		for (size_t i = 0; i < n; i++) {
			const ldns_rr *rr = ldns_rr_list_rr(ans, i);
			const ldns_rdf *to = ldns_rr_rdf(rr, 0);
			bool from = false, known = false;

			if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_CNAME || !to ||
			    ldns_rdf_get_type(to) != LDNS_RDF_TYPE_DNAME)
				continue;
			for (size_t j = 0; j < n_seen; j++) {
				from |= dname_eq(seen[j], ldns_rr_owner(rr));
				known |= dname_eq(seen[j], to);
			}
			if (from && !known) {
				seen[n_seen++] = to;
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
	ldns_rr_type want = family == 4 ? LDNS_RR_TYPE_A : LDNS_RR_TYPE_AAAA;
	size_t klen = family == 4 ? 4 : 16;

	for (size_t i = 0; i < r->n_acc; i++) {
		const struct accepted *a = &r->acc[i];
		const ldns_rr_list *ans = ldns_pkt_answer(a->answer.pkt);

		if (!audited && strcmp(a->name, name))
			continue;
		for (size_t j = 0; j < ldns_rr_list_rr_count(ans); j++) {
			const ldns_rr *rr = ldns_rr_list_rr(ans, j);
			const ldns_rdf *rd = ldns_rr_rdf(rr, 0);

			if (ldns_rr_get_type(rr) != want || !rd ||
			    ldns_rdf_size(rd) != klen ||
			    memcmp(ldns_rdf_data(rd), key, klen) ||
			    (!audited &&
			     oracle_name_blocked(ldns_rr_owner(rr))) ||
			    !reachable(ans, a->query.qname, ldns_rr_owner(rr)))
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
