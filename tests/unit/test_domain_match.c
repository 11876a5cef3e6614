// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "policy/policy_cli.h"
#include "policy/policy_load.h"
#include "policy/ports.h"
#include "common/error.h"
#include "test_util.h"
#include "policy/domain_match.h"
#include "kernel/name_table.h"
#include "domain_match_gen.h"
#include "domain_match_cases.h"

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
#define ATTEMPTS 5

/* ns per lookup in a policy of size entries. */
static double lookup_ns(size_t size)
{
	struct dmg_bench b;
	size_t allowed;
	double ns;

	assert_int_equal(dmg_setup(&b, size), 0);
	ns = dmg_time(&b, TIMED_LOOKUPS, 3, &allowed);
	dmg_teardown(&b);
	/* the hits hit and the misses miss: real work was timed */
	assert_int_equal(allowed, (TIMED_LOOKUPS + 1) / 2);
	printf("%6zu entries: %7.1f ns/lookup\n", size, ns);
	return ns;
}

/*
 * Cost must follow the name, not the size of the policy. A lookup that
 * scanned the entries would be about 1000 times slower at 10,000 in every
 * attempt; a machine busy with other work can slow one attempt's half by
 * a few times, so the best of ATTEMPTS pairs is judged.
 */
static void test_scaling(void **state)
{
	double best = 1e9;

	(void)state;
	for (int i = 0; i < ATTEMPTS && best >= MAX_RATIO; i++) {
		double small = lookup_ns(10);
		double ratio = lookup_ns(10000) / small;

		printf("ratio %.2f (limit %.1f)\n", ratio, MAX_RATIO);
		if (ratio < best)
			best = ratio;
	}
	assert_true(best < MAX_RATIO);
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
