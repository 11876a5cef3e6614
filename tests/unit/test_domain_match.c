// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "policy/policy_cli.h"
#include "policy/policy_load.h"
#include "policy/ports.h"
#include "common/error.h"
#include "test_util.h"
#include "policy/domain_match.h"
#include "kernel/name_table.h"
#include "domain_match_gen.h"

#define L63 "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij123"
#define L49 "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghi"
/* 253 characters: the longest name DNS can carry */
#define N253 L63 "." L63 "." L63 "." L49 ".example.com"

/* Odd ports, one range each: 9 and 8 of them make 17 ranges together. */
#define P9 "[1, 3, 5, 7, 9, 11, 13, 15, 17]"
#define P8 "[19, 21, 23, 25, 27, 29, 31, 33]"

/* Keys of a policy file, without the quoting noise. */
#define ALLOW(...) "\"allow_domains\": [" __VA_ARGS__ "]"
#define BLOCK(...) "\"block_domains\": [" __VA_ARGS__ "]"
#define DOM(name, keys) "{\"domain\": \"" name "\"" keys "}"
#define PORTS(list) ", \"ports\": " list
#define EXACT ", \"subdomains\": false"
#define DEF "80,443" /* the default ports of policy v1 */

enum want { N, Y, B };
static const char *const want_names[] = { "not allowed", "allowed", "blocked" };

/* one query per line: the table reads as a table */
/* clang-format off */
#define NO(query) { query, N, 0, NULL }
#define BLOCKED(query, id) { query, B, id, NULL }
#define YES(query, id, ports) { query, Y, id, ports }
/* clang-format on */

struct query_case {
	const char *query; /* NULL: end of the list */
	enum want want;
	uint32_t entry_id; /* 0: none */
	const char *ports; /* when allowed */
};

/* One policy, then the queries asked of it. */
struct match_row {
	const char *name;
	const char *allow; /* list for policy_add_domains(), or NULL */
	const char *block;
	const char *json; /* keys of a policy file, merged before the lists */
	struct query_case q[12];
};

/* clang-format off */
static const struct match_row rows[] = {
	{ "plain name: apex and every depth below", "github.com", NULL, NULL, {
		YES("github.com", 1, DEF),
		YES("api.github.com", 1, DEF),
		YES("a.b.c.d.github.com", 1, DEF),
		YES("GitHub.COM", 1, DEF),
		YES("github.com.", 1, DEF),
		YES("API.GitHub.Com.", 1, DEF),
		YES("_acme-challenge.github.com", 1, DEF),
		NO("notgithub.com"),
		NO("github.com.evil.com"),
		NO("githubXcom"),
		NO("github.co"),
		NO("com"),
	} },
	{ "plain name: malformed queries", "github.com", NULL, NULL, {
		NO("hub.com"),
		NO("github.com.."),
		NO(".github.com"),
		NO("api..github.com"),
		NO(""),
		NO("."),
		NO("evil\\.github.com"),
		NO("a\\046b.github.com"),
		NO("*.github.com"),
		NO("api .github.com"),
		NO("\xc3\xbc.github.com"),
	} },
	{ "pattern normalized", "GitHub.Com.", NULL, NULL, {
		YES("github.com", 1, DEF),
		YES("x.GITHUB.com", 1, DEF),
	} },
	{ "most specific entry", "a.com,example.com,api.example.com", NULL,
	  NULL, {
		YES("x.api.example.com", 3, DEF),
		YES("www.example.com", 2, DEF),
		YES("a.com", 1, DEF),
	} },
	{ "star: every depth below, not the apex", "*.example.com", NULL,
	  NULL, {
		NO("example.com"),
		YES("a.example.com", 1, DEF),
		YES("a.b.c.example.com", 1, DEF),
		NO("aexample.com"),
		NO("com"),
	} },
	{ "star and apex", "example.com,*.example.com", NULL, NULL, {
		YES("example.com", 1, DEF),
		YES("a.example.com", 2, DEF),
	} },
	{ "two stars", "*.*.example.com", NULL, NULL, {
		YES("a.b.example.com", 1, DEF),
		YES("a.b.c.example.com", 1, DEF),
		NO("a.example.com"),
	} },
	{ "star in a label: one label, and below", "api-*.example.com", NULL,
	  NULL, {
		YES("api-1.example.com", 1, DEF),
		YES("api-.example.com", 1, DEF),
		NO("api.example.com"),
		NO("example.com"),
		YES("x.api-1.example.com", 1, DEF),
		NO("api-1.x.example.com"),
		YES("API-EU1.Example.COM.", 1, DEF),
	} },
	{ "star in a label, exact", NULL, NULL,
	  ALLOW(DOM("api-*.example.com", EXACT)), {
		YES("api-1.example.com", 1, DEF),
		NO("x.api-1.example.com"),
	} },
	{ "star starts a label", "*-cdn.example.com", NULL, NULL, {
		YES("eu-cdn.example.com", 1, DEF),
		YES("a.eu-cdn.example.com", 1, DEF),
		NO("eu-cdn-x.example.com"),
	} },
	{ "star inside a label", "a*b.example.com", NULL, NULL, {
		YES("ab.example.com", 1, DEF),
		YES("axyb.example.com", 1, DEF),
		NO("axyc.example.com"),
		NO("a.b.example.com"),
	} },
	{ "star label inside the name", "a.*.example.com", NULL, NULL, {
		YES("a.x.example.com", 1, DEF),
		NO("a.example.com"),
		NO("a.x.y.example.com"),
		YES("b.a.x.example.com", 1, DEF),
	} },
	{ "literal beats glob", "api-*.example.com,api-1.example.com", NULL,
	  NULL, {
		YES("api-1.example.com", 2, DEF),
		YES("api-2.example.com", 1, DEF),
	} },
	{ "block a subdomain", "github.com", "gist.github.com", NULL, {
		BLOCKED("gist.github.com", 1),
		BLOCKED("a.gist.github.com", 1),
		YES("api.github.com", 1, DEF),
		YES("github.com", 1, DEF),
	} },
	{ "block a star", "x.com", "*.x.com", NULL, {
		YES("x.com", 1, DEF),
		BLOCKED("a.x.com", 1),
	} },
	{ "block the allowed name", "x.com", "x.com", NULL, {
		BLOCKED("x.com", 1),
	} },
	{ "block without allow", NULL, "evil.com", NULL, {
		BLOCKED("evil.com", 1),
		NO("good.com"),
	} },
	{ "block most specific", "github.com", "github.com,gist.github.com",
	  NULL, {
		BLOCKED("gist.github.com", 2),
		BLOCKED("api.github.com", 1),
	} },
	{ "block exact only", "github.com", NULL,
	  BLOCK(DOM("gist.github.com", EXACT)), {
		BLOCKED("gist.github.com", 1),
		YES("a.gist.github.com", 1, DEF),
	} },
	{ "block a glob", "example.com", "*-evil.example.com,evil.example.com",
	  NULL, {
		BLOCKED("x-evil.example.com", 1),
		BLOCKED("evil.example.com", 2),
		YES("notevil.example.com", 1, DEF),
	} },
	{ "exact", NULL, NULL, ALLOW(DOM("proxy.golang.org", EXACT)), {
		YES("proxy.golang.org", 1, DEF),
		YES("PROXY.golang.org.", 1, DEF),
		NO("a.proxy.golang.org"),
		NO("golang.org"),
	} },
	{ "exact single label", NULL, NULL, ALLOW(DOM("localhost", EXACT)), {
		YES("localhost", 1, DEF),
		NO("a.localhost"),
	} },
	{ "default ports", "github.com", NULL, "\"ports\": [443]", {
		YES("github.com", 1, "443"),
	} },
	{ "entry ports", NULL, NULL,
	  ALLOW(DOM("a.com", PORTS("[8443]")) ", "
		DOM("b.com", PORTS("\"all\""))), {
		YES("a.com", 1, "8443"),
		YES("x.b.com", 2, "0-65535"),
	} },
	{ "ports of a name and its parent", NULL, NULL,
	  ALLOW(DOM("example.com", PORTS("[443]")) ", "
		DOM("api.example.com", PORTS("[8080]"))), {
		YES("api.example.com", 2, "443,8080"),
		YES("www.example.com", 1, "443"),
	} },
	{ "entry ports and default ports", "example.com", NULL,
	  ALLOW(DOM("api.example.com", PORTS("[\"8000-8100\"]"))), {
		YES("v1.api.example.com", 1, "80,443,8000-8100"),
		YES("example.com", 2, DEF),
	} },
	{ "one name twice", NULL, NULL,
	  ALLOW(DOM("a.com", PORTS("[1]")) ", " DOM("a.com", PORTS("[2]"))), {
		YES("a.com", 1, "1-2"),
	} },
	{ "ports of star and apex", NULL, NULL,
	  ALLOW(DOM("example.com", PORTS("[443]")) ", "
		DOM("*.example.com", PORTS("[22]"))), {
		YES("a.example.com", 2, "22,443"),
		YES("example.com", 1, "443"),
	} },
	{ "ports of glob and literal", NULL, NULL,
	  ALLOW(DOM("api-*.example.com", PORTS("[1]")) ", "
		DOM("api-1.example.com", PORTS("[2]"))), {
		YES("api-1.example.com", 2, "1-2"),
		YES("api-2.example.com", 1, "1"),
	} },
	{ "exact ports stay on the name", NULL, NULL,
	  ALLOW(DOM("example.com", EXACT PORTS("[22]")) ", "
		DOM("*.example.com", PORTS("[443]"))), {
		YES("a.example.com", 2, "443"),
		YES("example.com", 1, "22"),
	} },
	{ "idn: punycode pattern", "xn--bcher-kva.example", NULL, NULL, {
		YES("xn--bcher-kva.example", 1, DEF),
		YES("XN--BCHER-KVA.example.", 1, DEF),
		NO("bcher.example"),
	} },
	{ "idn: unicode pattern", "b\xc3\xbc" "cher.example", NULL, NULL, {
		YES("xn--bcher-kva.example", 1, DEF),
		NO("b\xc3\xbc" "cher.example"),
	} },
	{ "empty policy", NULL, NULL, NULL, {
		NO("github.com"),
		NO(""),
	} },
	{ "length limits", "example.com", NULL, NULL, {
		YES(N253, 1, DEF),
		YES(N253 ".", 1, DEF),
		NO("a" N253),
		NO("a" N253 "."),
		YES(L63 ".example.com", 1, DEF),
		NO(L63 "4.example.com"),
	} },
};
/* clang-format on */

static void load_json(struct policy *p, const char *keys)
{
	char text[2048], err[AWF_ERR_LEN] = "";
	json_object *root;

	snprintf(text, sizeof(text), "{\"version\": 1, %s}", keys);
	root = json_tokener_parse(text);
	assert_non_null(root);
	if (policy_load_json(p, root, "test", err, sizeof(err)) < 0)
		fail_msg("policy: %s", err);
	json_object_put(root);
}

/* The policy of a row, through the same calls as a file and the flags. */
static struct domain_matcher *row_matcher(const struct match_row *row,
					  struct policy *p)
{
	struct domain_matcher *m;
	char err[AWF_ERR_LEN] = "";

	policy_init(p);
	if (row->json)
		load_json(p, row->json);
	if (row->allow &&
	    policy_add_domains(p, false, row->allow, "--allow-domains", err,
			       sizeof(err)) < 0)
		fail_msg("allow: %s", err);
	if (row->block &&
	    policy_add_domains(p, true, row->block, "--block-domains", err,
			       sizeof(err)) < 0)
		fail_msg("block: %s", err);
	m = domain_matcher_new(p, err, sizeof(err));
	if (!m)
		fail_msg("domain_matcher_new: %s", err);
	return m;
}

static void assert_ports(const char *query, const struct awf_port_set *got,
			 const char *want)
{
	struct awf_port_set set = { 0 };
	char err[AWF_ERR_LEN];

	if (want)
		assert_int_equal(
			port_set_parse_list(&set, want, err, sizeof(err)), 0);
	if (!port_set_equal(got, &set)) {
		for (uint32_t i = 0; i < got->count; i++)
			print_error("got ports %u-%u\n", got->ranges[i].lo,
				    got->ranges[i].hi);
		fail_msg("query \"%s\": ports differ from \"%s\"", query,
			 want ? want : "");
	}
}

static void check_query(const struct domain_matcher *m,
			const struct query_case *c)
{
	struct domain_match out;
	int rc = domain_matcher_lookup(m, c->query, &out);

	/* cmocka names the row; this names the query of the row */
	if (rc != (c->want == Y) || out.allowed != (c->want == Y) ||
	    out.blocked != (c->want == B) || out.entry_id != c->entry_id) {
		print_error(
			"query \"%s\": rc %d allowed %d blocked %d entry %u, want %s entry %u\n",
			c->query, rc, out.allowed, out.blocked, out.entry_id,
			want_names[c->want], c->entry_id);
		fail();
	}
	assert_ports(c->query, &out.ports, c->want == Y ? c->ports : NULL);
}

static void test_match(void **state)
{
	const struct match_row *row = *state;
	struct policy p;
	struct domain_matcher *m = row_matcher(row, &p);

	for (const struct query_case *c = row->q;
	     c < row->q + ARRAY_SIZE(row->q) && c->query; c++)
		check_query(m, c);
	domain_matcher_free(m);
	policy_free(&p);
}

/*
 * The kernel's view of a name (the names trie name_table compiles, as
 * names.bpf.h looks it up) must say what the matcher says. Where the
 * trie defers to the exact names, the kernel knows what the DNS filter
 * allowed: the matcher's own answer for an allowed name, none otherwise.
 */
static void check_kernel_view(const struct domain_matcher *m,
			      const struct name_table *nt, const char *query)
{
	const struct awf_name_verdict *v = name_table_lookup(nt, query);
	struct domain_match dm;
	bool allowed = domain_matcher_lookup(m, query, &dm) == 1;

	if (v && v->kind == AWF_NV_EXACT) {
		assert_true(nt->has_exact);
		return; /* learned per name: the matcher's answer itself */
	}
	if (allowed != (v && v->kind == AWF_NV_ALLOW))
		fail_msg("%s: matcher %s, kernel trie %s", query,
			 allowed ? "allows" : "does not allow",
			 v && v->kind == AWF_NV_ALLOW ? "allows" : "does not");
	if (dm.blocked && !(v && v->kind == AWF_NV_BLOCK))
		fail_msg("%s: blocked by the matcher, not by the trie", query);
	if (!allowed)
		return;
	assert_int_equal(v->entry_id, dm.entry_id);
	assert_true(port_set_equal(&v->ports, &dm.ports));
}

static void test_kernel_trie(void **state)
{
	const struct match_row *row = *state;
	char err[AWF_ERR_LEN] = "";
	struct name_table nt;
	struct policy p;
	struct domain_matcher *m = row_matcher(row, &p);

	assert_int_equal(name_table_build(&nt, &p, m, err, sizeof(err)), 0);
	for (const struct query_case *c = row->q;
	     c < row->q + ARRAY_SIZE(row->q) && c->query; c++)
		check_kernel_view(m, &nt, c->query);
	name_table_free(&nt);
	domain_matcher_free(m);
	policy_free(&p);
}

struct build_row {
	const char *name;
	const char *json;
	const char *err; /* NULL: the matcher builds */
};

static const struct build_row build_rows[] = {
	{ "ports overflow on one path",
	  ALLOW(DOM("example.com", PORTS(P9)) ", " DOM("api.example.com",
						       PORTS(P8))),
	  "allow_domains[1]: api.example.com: ports need more than 16 ranges together with the entries that cover the same names" },
	{ "ports overflow below a star",
	  ALLOW(DOM("*.example.com", PORTS(P9)) ", " DOM("a.b.example.com",
							 PORTS(P8))),
	  "allow_domains[1]: a.b.example.com: ports need more than 16" },
	{ "ports overflow in one name",
	  ALLOW(DOM("a.example.com", PORTS(P9)) ", " DOM("a.example.com",
							 PORTS(P8))),
	  "allow_domains[1]: a.example.com: ports need more than 16 ranges together with the other entries of this name" },
	{ "disjoint names keep their ports",
	  ALLOW(DOM("example.com", EXACT PORTS(P9)) ", " DOM("*.example.com",
							     PORTS(P8))),
	  NULL },
	{ "siblings keep their ports",
	  ALLOW(DOM("a.example.com", PORTS(P9)) ", " DOM("b.example.com",
							 PORTS(P8))),
	  NULL },
};

static void test_build(void **state)
{
	const struct build_row *row = *state;
	struct domain_matcher *m;
	struct policy p;
	char err[AWF_ERR_LEN] = "";

	policy_init(&p);
	load_json(&p, row->json);
	m = domain_matcher_new(&p, err, sizeof(err));
	if (row->err) {
		assert_null(m);
		assert_err_has(err, row->err);
	} else if (!m) {
		fail_msg("domain_matcher_new: %s", err);
	}
	domain_matcher_free(m);
	policy_free(&p);
}

/* A policy built without domain_normalize() must not reach the trie. */
static void test_not_normalized(void **state)
{
	static const char *const bad[] = {
		"",  "a..example.com",	 ".a.com", "a.com.", "*.",
		"*", L63 "4.example.com"
	};
	struct policy_domain d = { .subdomains = true };
	struct policy p;
	char err[AWF_ERR_LEN];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		policy_init(&p);
		d.name = (char *)bad[i];
		p.allow_domains = &d;
		p.n_allow_domains = 1;
		err[0] = '\0';
		assert_null(domain_matcher_new(&p, err, sizeof(err)));
		assert_err_has(err, "allow_domains[0]: ");
		assert_err_has(err, ": not a normalized domain pattern");
	}
}

/* A '*' label and a literal sibling cannot be checked at load. */
static void test_lookup_overflow(void **state)
{
	struct domain_match out;
	struct domain_matcher *m;
	struct policy p;
	char err[AWF_ERR_LEN] = "";

	(void)state;
	policy_init(&p);
	load_json(&p, ALLOW(DOM("api-*.example.com", PORTS(P9)) ", " DOM(
			      "api-1.example.com", PORTS(P8))));
	m = domain_matcher_new(&p, err, sizeof(err));
	assert_non_null(m);
	assert_int_equal(domain_matcher_lookup(m, "api-1.example.com", &out),
			 -1);
	assert_int_equal(out.allowed, 0);
	assert_int_equal(out.entry_id, 2);
	assert_int_equal(out.ports.count, 0);
	assert_int_equal(domain_matcher_lookup(m, "api-2.example.com", &out),
			 1);
	assert_int_equal(out.ports.count, 9);
	domain_matcher_free(m);
	policy_free(&p);
}

#define TIMED_LOOKUPS 200000
#define MAX_RATIO 3.0

/* Cost must follow the name, not the size of the policy. */
static void test_scaling(void **state)
{
	static const size_t sizes[2] = { 10, 10000 };
	struct dmg_bench b;
	double ns[2];
	size_t allowed;

	(void)state;
	for (int i = 0; i < 2; i++) {
		assert_int_equal(dmg_setup(&b, sizes[i]), 0);
		ns[i] = dmg_time(&b, TIMED_LOOKUPS, 3, &allowed);
		dmg_teardown(&b);
		/* the hits hit and the misses miss: real work was timed */
		assert_int_equal(allowed, (TIMED_LOOKUPS + 1) / 2);
		printf("%6zu entries: %7.1f ns/lookup\n", sizes[i], ns[i]);
	}
	printf("ratio %.2f (limit %.1f)\n", ns[1] / ns[0], MAX_RATIO);
	assert_true(ns[1] < MAX_RATIO * ns[0]);
}

int main(void)
{
	struct test_list l = { 0 };

	TL_ROWS(&l, test_match, rows);
	TL_ROWS(&l, test_kernel_trie, rows);
	TL_ROWS(&l, test_build, build_rows);
	tl_add(&l, "not normalized", test_not_normalized, NULL);
	tl_add(&l, "lookup ports overflow", test_lookup_overflow, NULL);
	tl_add(&l, "10 vs 10,000 entries", test_scaling, NULL);
	return tl_run("domain_match", &l);
}
