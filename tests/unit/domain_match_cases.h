/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * domain_match_cases.h - policies and the names asked of them, with the
 * answer the policy's semantics give (policy/README.md). One table for
 * every implementation of those semantics: the DNS filter's matcher and
 * the kernel's names trie (tests/unit/test_domain_match.c), and the BPF
 * programs that read names from a connection's first bytes
 * (tests/bpf/test_first_bytes.c).
 */
#ifndef AWF_DOMAIN_MATCH_CASES_H
#define AWF_DOMAIN_MATCH_CASES_H

#include <json-c/json.h>
#include <stdio.h>

#include "common/error.h"
#include "policy/domain_match.h"
#include "policy/policy.h"
#include "policy/policy_cli.h"
#include "policy/policy_load.h"
#include "test_util.h"

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

#endif /* AWF_DOMAIN_MATCH_CASES_H */
