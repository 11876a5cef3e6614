// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <fcntl.h>
#include <glob.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "policy/policy_cli.h"
#include "policy/policy_finalize.h"
#include "policy/policy_json.h"
#include "policy/policy_int.h"
#include "policy/policy_load.h"
#include "policy/ports.h"
#include "common/error.h"
#include "test_util.h"

#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

static const char spec_example[] =
	"{\"version\": 1,"
	" \"allow_domains\": [\"github.com\", \"*.githubusercontent.com\","
	"   {\"domain\": \"db.example.test\", \"ports\": [5432], \"subdomains\": false}],"
	" \"block_domains\": [\"gist.github.com\"],"
	" \"ports\": [80, 443],"
	" \"dns_servers\": [\"192.0.2.53\", \"2001:db8::53\"],"
	" \"allow_cidrs\": [\"192.0.2.7/32\", {\"cidr\": \"10.1.0.0/16\", \"ports\": [8080, 9000]}],"
	" \"localhost\": \"sandbox\","
	" \"proxy\": \"10.1.0.3:3128\","
	" \"ipv6\": true,"
	" \"dns\": {\"min_ttl\": 60, \"max_ips_per_name\": 64}}";

static const char spec_example_normalized[] =
	"{\"version\":1,"
	"\"allow_domains\":[{\"domain\":\"github.com\",\"subdomains\":true,\"name_check\":true,\"udp\":false,\"ports\":[80,443]},"
	"{\"domain\":\"*.githubusercontent.com\",\"subdomains\":true,\"name_check\":true,\"udp\":false,\"ports\":[80,443]},"
	"{\"domain\":\"db.example.test\",\"subdomains\":false,\"name_check\":true,\"udp\":false,\"ports\":[5432]}],"
	"\"block_domains\":[{\"domain\":\"gist.github.com\",\"subdomains\":true}],"
	"\"ports\":[80,443],"
	"\"dns_servers\":[\"192.0.2.53\",\"2001:db8::53\"],"
	"\"allow_cidrs\":[{\"cidr\":\"192.0.2.7/32\",\"ports\":\"all\"},"
	"{\"cidr\":\"10.1.0.0/16\",\"ports\":[8080,9000]}],"
	"\"localhost\":{\"mode\":\"sandbox\",\"ports\":[]},"
	"\"proxy\":\"10.1.0.3:3128\","
	"\"ipv6\":true,"
	"\"dns\":{\"min_ttl\":60,\"max_ips_per_name\":64,\"cache_entries\":1024}}";

static const char defaults_normalized[] =
	"{\"version\":1,\"allow_domains\":[],\"block_domains\":[],"
	"\"ports\":[80,443],\"dns_servers\":[],\"allow_cidrs\":[],"
	"\"localhost\":{\"mode\":\"sandbox\",\"ports\":[]},\"proxy\":null,"
	"\"ipv6\":true,\"dns\":{\"min_ttl\":60,\"max_ips_per_name\":64,\"cache_entries\":1024}}";

/*
 * Rows whose JSON must be refused with err (origin "p.json"). Text that is
 * not a whole document ('{' or '[' first) is keys of {"version": 1, ...}.
 */
struct bad_row {
	const char *err;
	const char *json;
};

static const struct bad_row bad_rows[] = {
	{ "p.json: version: missing (this format needs \"version\": 1)",
	  "{\"ports\": [80]}" },
	{ "p.json: version: unsupported version 2 (this awf-bpf reads version 1)",
	  "{\"version\": 2, \"whatever\": true}" },
	{ "p.json: version: expected an integer", "{\"version\": \"1\"}" },
	{ "p.json: expected a JSON object at the top level", "[1]" },
	{ "p.json: frobnicate: unknown key", "\"frobnicate\": 1}" },
	{ "p.json: allow_cidrs[1].ports[0]: port 70000 out of range 0-65535",
	  "\"allow_cidrs\": [\"192.0.2.0/24\", {\"cidr\": \"10.1.0.0/16\", \"ports\": [70000]}]}" },
	{ "p.json: allow_domains[2].subdomains: expected a boolean",
	  "\"allow_domains\": [\"a.example\", \"b.example\", {\"domain\": \"c.example\", \"subdomains\": \"no\"}]}" },
	{ "p.json: allow_domains: expected an array",
	  "\"allow_domains\": \"github.com\"}" },
	{ "p.json: allow_domains[0]: expected a domain name or an object",
	  "\"allow_domains\": [42]}" },
	{ "p.json: allow_domains[0]: missing \"domain\"",
	  "\"allow_domains\": [{\"ports\": [443]}]}" },
	{ "p.json: allow_domains[0].port: unknown key",
	  "\"allow_domains\": [{\"domain\": \"a.example\", \"port\": 443}]}" },
	{ "p.json: allow_domains[0].ports: an empty list would allow nothing",
	  "\"allow_domains\": [{\"domain\": \"a.example\", \"ports\": []}]}" },
	{ "p.json: allow_domains[0].domain: ftp://a.example: URLs are not supported in a domain entry",
	  "\"allow_domains\": [{\"domain\": \"ftp://a.example\"}]}" },
	{ "p.json: allow_domains[0]: a.example/x: paths are not supported in a domain entry",
	  "\"allow_domains\": [\"https://a.example/x\"]}" },
	{ "p.json: allow_domains[0]: \"ports\" and a scheme in \"domain\" (https://, http://) both set the ports",
	  "\"allow_domains\": [{\"domain\": \"https://a.example\", \"ports\": [8443]}]}" },
	{ "p.json: allow_domains[1]: a.example:8080: ports are not supported in a domain entry",
	  "\"allow_domains\": [\"b.example\", \"a.example:8080\"]}" },
	{ "p.json: allow_domains[0]: *.com: the pattern covers a whole top-level domain",
	  "\"allow_domains\": [\"*.com\"]}" },
	{ "p.json: allow_domains[0]: com: a single-label name with subdomains covers a whole top-level domain",
	  "\"allow_domains\": [\"com\"]}" },
	{ "p.json: allow_domains[0]: *.a.example: \"subdomains\": false contradicts",
	  "\"allow_domains\": [{\"domain\": \"*.a.example\", \"subdomains\": false}]}" },
	{ "p.json: allow_domains[0].domain: contains a NUL character",
	  "\"allow_domains\": [{\"domain\": \"a\\u0000.evil.example\"}]}" },
	{ "p.json: block_domains[0].ports: not supported in block_domains",
	  "\"block_domains\": [{\"domain\": \"a.example\", \"ports\": [22]}]}" },
	{ "p.json: block_domains[0].udp: not supported in block_domains",
	  "\"block_domains\": [{\"domain\": \"a.example\", \"udp\": true}]}" },
	{ "p.json: allow_domains[0].udp: expected a boolean",
	  "\"allow_domains\": [{\"domain\": \"a.example\", \"udp\": 1}]}" },
	{ "p.json: block_domains[0]: *: the pattern matches every name",
	  "\"block_domains\": [\"*\"]}" },
	{ "p.json: ports: an empty list would allow nothing",
	  "\"ports\": []}" },
	{ "p.json: ports: expected an array of ports or \"all\"",
	  "\"ports\": 443}" },
	{ "p.json: ports[1]: expected a port number or a \"LO-HI\" string",
	  "\"ports\": [80, true]}" },
	{ "p.json: ports[0]: port range 9000-8000: the low end is above the high end",
	  "\"ports\": [\"9000-8000\"]}" },
	{ "p.json: ports[0]: invalid port \"https\"",
	  "\"ports\": [\"https\"]}" },
	{ "p.json: ports[0]: port -1 out of range 0-65535",
	  "\"ports\": [-1]}" },
	{ "p.json: ports[16]: more than 16 separate port ranges",
	  "\"ports\": [1,3,5,7,9,11,13,15,17,19,21,23,25,27,29,31,33]}" },
	{ "p.json: dns_servers[0]: dns.example: not an IP address",
	  "\"dns_servers\": [\"dns.example\"]}" },
	{ "p.json: dns_servers[1]: expected an IP address string",
	  "\"dns_servers\": [\"192.0.2.53\", 53]}" },
	{ "p.json: allow_cidrs[0]: 10.1.2.3/16: host bits set (did you mean 10.1.0.0/16?)",
	  "\"allow_cidrs\": [\"10.1.2.3/16\"]}" },
	{ "p.json: allow_cidrs[0]: missing \"cidr\"",
	  "\"allow_cidrs\": [{\"ports\": [80]}]}" },
	{ "p.json: allow_cidrs[0].cidr: expected a CIDR string",
	  "\"allow_cidrs\": [{\"cidr\": 10}]}" },
	{ "p.json: allow_cidrs[0]: expected a CIDR string or an object",
	  "\"allow_cidrs\": [true]}" },
	{ "p.json: allow_cidrs[0].ports: an empty list would allow nothing",
	  "\"allow_cidrs\": [{\"cidr\": \"192.0.2.0/24\", \"ports\": []}]}" },
	{ "p.json: localhost: open: unknown localhost mode (expected sandbox, allow or deny)",
	  "\"localhost\": \"open\"}" },
	{ "p.json: localhost.ports: only valid with mode \"sandbox\"",
	  "\"localhost\": {\"mode\": \"allow\", \"ports\": [5432]}}" },
	{ "p.json: localhost.extra: unknown key",
	  "\"localhost\": {\"mode\": \"sandbox\", \"extra\": 1}}" },
	{ "p.json: localhost.ports[0]: port range 6010-6000",
	  "\"localhost\": {\"ports\": [\"6010-6000\"]}}" },
	{ "p.json: proxy: proxy.example: not an IP address",
	  "\"proxy\": \"proxy.example:3128\"}" },
	{ "p.json: proxy: 10.1.0.3: expected IP:PORT or [IPv6]:PORT",
	  "\"proxy\": \"10.1.0.3\"}" },
	{ "p.json: proxy: proxy port \"0\": expected one port 1-65535",
	  "\"proxy\": \"10.1.0.3:0\"}" },
	{ "p.json: proxy: proxy port \"70000\": expected one port 1-65535",
	  "\"proxy\": \"10.1.0.3:70000\"}" },
	{ "p.json: proxy: 2001:db8::1:3128: write an IPv6 proxy as [ADDRESS]:PORT",
	  "\"proxy\": \"2001:db8::1:3128\"}" },
	{ "p.json: proxy: expected \"IP:PORT\" or null", "\"proxy\": 3128}" },
	{ "p.json: ipv6: expected a boolean", "\"ipv6\": 1}" },
	{ "p.json: dns.min_ttl: 86401 out of range 0-86400",
	  "\"dns\": {\"min_ttl\": 86401}}" },
	{ "p.json: dns.max_ips_per_name: 0 out of range 1-4096",
	  "\"dns\": {\"max_ips_per_name\": 0}}" },
	{ "p.json: dns.cache_entries: 65537 out of range 0-65536",
	  "\"dns\": {\"cache_entries\": 65537}}" },
	{ "p.json: dns.cache_entries: -1 out of range 0-65536",
	  "\"dns\": {\"cache_entries\": -1}}" },
	{ "p.json: dns.min_ttl: expected an integer",
	  "\"dns\": {\"min_ttl\": 1.5}}" },
	{ "p.json: dns.ttl: unknown key", "\"dns\": {\"ttl\": 1}}" },
	{ "p.json: dns: expected an object", "\"dns\": []}" },
};

/* Rows that must load; frag must appear in the normalized output. */
struct good_row {
	const char *name;
	const char *json;
	const char *frag;
};

static const struct good_row good_rows[] = {
	{ "ports all", "\"ports\": \"all\"}", "\"ports\":\"all\"" },
	{ "ports merge and sort",
	  "\"ports\": [443, \"8000-8100\", 80, \"8101\"]}",
	  "\"ports\":[80,443,\"8000-8101\"]" },
	{ "explicit ports replace the default",
	  "\"allow_domains\": [{\"domain\": \"a.example\", \"ports\": [22]}]}",
	  "{\"domain\":\"a.example\",\"subdomains\":true,\"name_check\":true,\"udp\":false,\"ports\":[22]}" },
	{ "default ports follow top-level ports",
	  "\"ports\": [8443], \"allow_domains\": [\"a.example\"]}",
	  "{\"domain\":\"a.example\",\"subdomains\":true,\"name_check\":true,\"udp\":false,\"ports\":[8443]}" },
	{ "udp on an entry",
	  "\"allow_domains\": [{\"domain\": \"a.example\", \"udp\": true}]}",
	  "{\"domain\":\"a.example\",\"subdomains\":true,\"name_check\":true,\"udp\":true,\"ports\":[80,443]}" },
	{ "idn and case", "\"allow_domains\": [\"Bücher.Example.\"]}",
	  "\"domain\":\"xn--bcher-kva.example\"" },
	{ "single label without subdomains",
	  "\"allow_domains\": [{\"domain\": \"intranet\", \"subdomains\": false}]}",
	  "{\"domain\":\"intranet\",\"subdomains\":false,\"name_check\":true,\"udp\":false,\"ports\":[80,443]}" },
	{ "a blocked TLD", "\"block_domains\": [\"zip\"]}",
	  "\"block_domains\":[{\"domain\":\"zip\",\"subdomains\":true}]" },
	{ "v4-mapped CIDR", "\"allow_cidrs\": [\"::ffff:192.0.2.0/120\"]}",
	  "{\"cidr\":\"192.0.2.0/24\",\"ports\":\"all\"}" },
	{ "duplicate CIDR once",
	  "\"allow_cidrs\": [\"192.0.2.0/24\", \"192.0.2.0/24\"]}",
	  "\"allow_cidrs\":[{\"cidr\":\"192.0.2.0/24\",\"ports\":\"all\"}]" },
	{ "localhost object without mode",
	  "\"localhost\": {\"ports\": [5432, \"6000-6010\"]}}",
	  "\"localhost\":{\"mode\":\"sandbox\",\"ports\":[5432,\"6000-6010\"]}" },
	{ "localhost deny with no ports",
	  "\"localhost\": {\"mode\": \"deny\", \"ports\": []}}",
	  "\"localhost\":{\"mode\":\"deny\",\"ports\":[]}" },
	{ "proxy null", "\"proxy\": null}", "\"proxy\":null" },
	{ "IPv6 proxy", "\"proxy\": \"[2001:DB8::3]:3128\"}",
	  "\"proxy\":\"[2001:db8::3]:3128\"" },
	{ "v4-mapped proxy", "\"proxy\": \"[::ffff:192.0.2.3]:8080\"}",
	  "\"proxy\":\"192.0.2.3:8080\"" },
	{ "dns bounds",
	  "\"dns\": {\"min_ttl\": 0, \"max_ips_per_name\": 4096, \"cache_entries\": 0}}",
	  "\"dns\":{\"min_ttl\":0,\"max_ips_per_name\":4096,\"cache_entries\":0}" },
	{ "dns cache at its bound", "\"dns\": {\"cache_entries\": 65536}}",
	  "\"dns\":{\"min_ttl\":60,\"max_ips_per_name\":64,\"cache_entries\":65536}" },
	{ "dns servers deduplicated",
	  "\"dns_servers\": [\"192.0.2.53\", \"::ffff:192.0.2.53\"]}",
	  "\"dns_servers\":[\"192.0.2.53\"]" },
};

static json_object *parse(const char *text)
{
	json_object *root = json_tokener_parse(text);

	assert_non_null(root);
	return root;
}

static int load(struct policy *p, const char *text, char *err)
{
	char doc[4096];
	json_object *root;
	int rc;

	if (text[0] == '{' || text[0] == '[')
		snprintf(doc, sizeof(doc), "%s", text);
	else
		snprintf(doc, sizeof(doc), "{\"version\": 1, %s", text);
	root = parse(doc);
	rc = policy_load_json(p, root, "p.json", err, AWF_ERR_LEN);
	json_object_put(root);
	return rc;
}

/* The normalized policy as one compact line. */
static char *normalized(const struct policy *p)
{
	json_object *o = policy_to_json(p);
	char *s = strdup(json_object_to_json_string_ext(o, JSON_FLAGS));

	json_object_put(o);
	assert_non_null(s);
	return s;
}

static void assert_normalized_has(const struct policy *p, const char *frag)
{
	char *s = normalized(p);

	if (!strstr(s, frag))
		print_error("%s\n  lacks %s\n", s, frag);
	assert_non_null(strstr(s, frag));
	free(s);
}

static void test_bad(void **state)
{
	const struct bad_row *row = *state;
	char err[AWF_ERR_LEN] = "";
	struct policy p;

	policy_init(&p);
	assert_int_equal(load(&p, row->json, err), -1);
	assert_err_has(err, row->err);
	policy_free(&p);
}

static void test_good(void **state)
{
	const struct good_row *row = *state;
	char err[AWF_ERR_LEN] = "";
	struct policy p;

	policy_init(&p);
	if (load(&p, row->json, err) < 0)
		print_error("unexpected error: %s\n", err);
	assert_string_equal(err, "");
	assert_normalized_has(&p, row->frag);
	policy_free(&p);
}

static void test_spec_example(void **state)
{
	char err[AWF_ERR_LEN] = "", *s;
	struct policy_cidr c;
	struct policy p;

	(void)state;
	policy_init(&p);
	assert_int_equal(load(&p, spec_example, err), 0);
	assert_int_equal(p.n_allow_domains, 3);
	assert_false(p.allow_domains[2].subdomains);
	assert_true(p.allow_domains[2].has_ports);
	assert_false(p.allow_domains[0].has_ports);
	assert_true(p.ports_set);
	assert_int_equal(p.n_dns_servers, 2);
	assert_int_equal(p.dns_servers[1].family, AF_INET6);
	assert_int_equal(p.dns_servers[1].port, 53);
	assert_int_equal(p.n_cidrs, 2);
	policy_cidr_at(&p, 0, &c);
	assert_true(port_set_is_all(&c.ports));
	assert_true(p.has_proxy);
	assert_int_equal(p.proxy.port, 3128);
	s = normalized(&p);
	assert_string_equal(s, spec_example_normalized);
	free(s);
	policy_free(&p);
}

static void test_defaults(void **state)
{
	struct policy p;
	char *s;

	(void)state;
	policy_init(&p);
	assert_false(p.ports_set);
	s = normalized(&p);
	assert_string_equal(s, defaults_normalized);
	free(s);
	policy_free(&p);
}

/* policy check output is itself a policy that reads back the same. */
static void test_round_trip(void **state)
{
	char err[AWF_ERR_LEN] = "", *first, *second;
	struct policy p, q;

	(void)state;
	policy_init(&p);
	policy_init(&q);
	assert_int_equal(load(&p, spec_example, err), 0);
	assert_int_equal(load(&p,
			      "\"localhost\": {\"ports\": [\"6000-6010\"]},"
			      " \"allow_cidrs\": [\"2001:db8::/32\"]}",
			      err),
			 0);
	first = normalized(&p);
	assert_int_equal(load(&q, first, err), 0);
	second = normalized(&q);
	assert_string_equal(first, second);
	free(first);
	free(second);
	policy_free(&p);
	policy_free(&q);
}

static void test_merge_files(void **state)
{
	char err[AWF_ERR_LEN] = "";
	struct policy p;

	(void)state;
	policy_init(&p);
	assert_int_equal(load(&p,
			      "\"allow_domains\": [\"a.example\"],"
			      " \"ports\": [80], \"proxy\": \"192.0.2.1:3128\","
			      " \"ipv6\": false, \"dns\": {\"min_ttl\": 10},"
			      " \"localhost\": {\"ports\": [5432]}}",
			      err),
			 0);
	assert_int_equal(
		load(&p,
		     "\"allow_domains\": [\"a.example\", \"b.example\","
		     " {\"domain\": \"a.example\", \"ports\": [22]}],"
		     " \"ports\": [443], \"proxy\": null,"
		     " \"dns\": {\"max_ips_per_name\": 5},"
		     " \"localhost\": \"sandbox\"}",
		     err),
		0);
	/* lists append without repeats; other ports are another entry */
	assert_int_equal(p.n_allow_domains, 3);
	assert_string_equal(p.allow_domains[1].name, "b.example");
	/* scalars override, and only the ones the later file names */
	assert_normalized_has(&p, "\"ports\":[443],");
	assert_false(p.has_proxy);
	assert_false(p.ipv6);
	assert_int_equal(p.dns_min_ttl, 10);
	assert_int_equal(p.dns_max_ips_per_name, 5);
	assert_int_equal(p.localhost_ports.count, 0);
	policy_free(&p);
}

struct cli_row {
	const char *arg;
	const char *frag; /* in the normalized policy, or NULL: an error */
	const char *err;
};

static const struct cli_row cidr_rows[] = {
	{ "10.0.0.0/8", "{\"cidr\":\"10.0.0.0/8\",\"ports\":\"all\"}", NULL },
	{ "10.0.0.0/8:443,80,8000-8100",
	  "{\"cidr\":\"10.0.0.0/8\",\"ports\":[80,443,\"8000-8100\"]}", NULL },
	{ "192.0.2.7:22", "{\"cidr\":\"192.0.2.7/32\",\"ports\":[22]}", NULL },
	{ "[2001:db8::/32]:443", "{\"cidr\":\"2001:db8::/32\",\"ports\":[443]}",
	  NULL },
	{ "[2001:db8::/32]", "{\"cidr\":\"2001:db8::/32\",\"ports\":\"all\"}",
	  NULL },
	{ "2001:db8::/32", "{\"cidr\":\"2001:db8::/32\",\"ports\":\"all\"}",
	  NULL },
	{ "10.0.0.0/8:99999", NULL,
	  "--allow-cidr: port 99999 out of range 0-65535" },
	{ "10.0.0.0/8:", NULL, "--allow-cidr: invalid port \"\"" },
	{ "10.0.0.0/8:80,,443", NULL, "--allow-cidr: invalid port \"\"" },
	{ "[2001:db8::/32", NULL,
	  "--allow-cidr: [2001:db8::/32: expected [CIDR] or [CIDR]:PORTS" },
	{ "[2001:db8::/32]443", NULL, "expected [CIDR] or [CIDR]:PORTS" },
	{ "10.1.2.3/8:80", NULL,
	  "--allow-cidr: 10.1.2.3/8: host bits set (did you mean 10.0.0.0/8?)" },
	{ "2001:db8::/32:443", NULL,
	  "--allow-cidr: 2001:db8::/32:443: invalid prefix length" },
	{ "intranet.example/8", NULL,
	  "--allow-cidr: intranet.example/8: not an IP address or CIDR" },
};

static const struct cli_row proxy_rows[] = {
	{ "192.0.2.1:3128", "\"proxy\":\"192.0.2.1:3128\"", NULL },
	{ "[2001:db8::1]:3128", "\"proxy\":\"[2001:db8::1]:3128\"", NULL },
	{ "[::ffff:192.0.2.1]:8080", "\"proxy\":\"192.0.2.1:8080\"", NULL },
	{ "[2001:db8::1]", NULL,
	  "--proxy: [2001:db8::1]: expected IP:PORT or [IPv6]:PORT" },
	{ "[2001:db8::1]:", NULL,
	  "--proxy: proxy port \"\": expected one port 1-65535" },
	{ "192.0.2.1:99999999999999999999", NULL,
	  "--proxy: proxy port \"99999999999999999999\": expected one port 1-65535" },
	{ "192.0.2.1:+80", NULL,
	  "--proxy: proxy port \"+80\": expected one port 1-65535" },
	{ "192.0.2.1:65535", "\"proxy\":\"192.0.2.1:65535\"", NULL },
	{ "192.0.2.1:80-90", NULL,
	  "--proxy: proxy port \"80-90\": expected one port" },
	{ "proxy.example:3128", NULL,
	  "--proxy: proxy.example: not an IP address" },
};

typedef int (*cli_fn)(struct policy *p, const char *arg, const char *origin,
		      char *err, size_t errlen);

/* The old proxy must survive a bad --proxy. */
static void check_cli_row(const struct cli_row *row, cli_fn fn,
			  const char *origin, const char *before)
{
	char err[AWF_ERR_LEN] = "";
	struct policy p;
	int rc;

	policy_init(&p);
	assert_int_equal(load(&p, before, err), 0);
	rc = fn(&p, row->arg, origin, err, sizeof(err));
	if (row->frag) {
		assert_int_equal(rc, 0);
		assert_normalized_has(&p, row->frag);
	} else {
		assert_int_equal(rc, -1);
		assert_err_has(err, row->err);
		assert_normalized_has(&p, "\"proxy\":\"198.18.0.1:1\"");
	}
	policy_free(&p);
}

static void test_cidr_arg(void **state)
{
	check_cli_row(*state, policy_add_cidr_arg, "--allow-cidr",
		      "\"proxy\": \"198.18.0.1:1\"}");
}

static void test_proxy_arg(void **state)
{
	check_cli_row(*state, policy_set_proxy, "--proxy",
		      "\"proxy\": \"198.18.0.1:1\"}");
}

/* awf's entries: the scheme picks the one port; a block stays whole. */
static void test_scheme_entries(void **state)
{
	char err[AWF_ERR_LEN] = "";
	struct policy p;

	(void)state;
	policy_init(&p);
	assert_int_equal(load(&p,
			      "\"allow_domains\": [\"HTTPS://a.example\", "
			      "{\"domain\": \"http://b.example\", "
			      "\"subdomains\": false}], \"block_domains\": "
			      "[\"https://c.a.example\"]}",
			      err),
			 0);
	assert_int_equal(policy_add_domains(&p, false, "https://d.example",
					    "--allow-domains", err,
					    AWF_ERR_LEN),
			 0);
	assert_int_equal(p.n_allow_domains, 3);
	assert_string_equal(p.allow_domains[0].name, "a.example");
	assert_true(p.allow_domains[0].has_ports);
	assert_true(port_set_contains(&p.allow_domains[0].ports, 443));
	assert_false(port_set_contains(&p.allow_domains[0].ports, 80));
	assert_string_equal(p.allow_domains[1].name, "b.example");
	assert_false(p.allow_domains[1].subdomains);
	assert_true(port_set_contains(&p.allow_domains[1].ports, 80));
	assert_false(port_set_contains(&p.allow_domains[1].ports, 443));
	assert_string_equal(p.allow_domains[2].name, "d.example");
	assert_int_equal(p.allow_domains[2].ports.count, 1);
	assert_string_equal(p.block_domains[0].name, "c.a.example");
	assert_false(p.block_domains[0].has_ports);
	policy_free(&p);
}

static void test_cli_domains(void **state)
{
	char err[AWF_ERR_LEN] = "";
	struct policy p;

	(void)state;
	policy_init(&p);
	assert_int_equal(load(&p, "\"allow_domains\": [\"a.example\"]}", err),
			 0);
	assert_int_equal(
		policy_add_domains(&p, false, " a.example, C.Example ,",
				   "--allow-domains", err, AWF_ERR_LEN),
		0);
	assert_int_equal(p.n_allow_domains, 2);
	assert_string_equal(p.allow_domains[1].name, "c.example");
	assert_int_equal(policy_add_domains(&p, true, "gist.c.example",
					    "--block-domains", err,
					    AWF_ERR_LEN),
			 0);
	assert_int_equal(p.n_block_domains, 1);
	assert_int_equal(
		policy_add_domains(&p, false, "ok.example,ftp://x.example",
				   "--allow-domains", err, AWF_ERR_LEN),
		-1);
	assert_err_has(
		err,
		"--allow-domains: ftp://x.example: URLs are not supported in a domain entry");
	assert_int_equal(policy_add_domains(&p, false, " , ", "--allow-domains",
					    err, AWF_ERR_LEN),
			 -1);
	assert_err_has(err, "--allow-domains: no domains given");
	assert_int_equal(policy_add_domains(&p, false, "*.com",
					    "--allow-domains", err,
					    AWF_ERR_LEN),
			 -1);
	assert_err_has(
		err,
		"--allow-domains: *.com: the pattern covers a whole top-level domain");
	policy_free(&p);
}

static void test_cli_dns_localhost(void **state)
{
	char err[AWF_ERR_LEN] = "";
	struct policy p;

	(void)state;
	policy_init(&p);
	assert_int_equal(load(&p,
			      "\"dns_servers\": [\"192.0.2.53\"],"
			      " \"localhost\": {\"ports\": [5432]}}",
			      err),
			 0);
	assert_int_equal(policy_add_dns_servers(&p, "192.0.2.53, 2001:db8::53",
						"--dns-servers", err,
						AWF_ERR_LEN),
			 0);
	assert_int_equal(p.n_dns_servers, 2);
	assert_int_equal(policy_add_dns_servers(&p, "dns.example",
						"--dns-servers", err,
						AWF_ERR_LEN),
			 -1);
	assert_err_has(err, "--dns-servers: dns.example: not an IP address");
	assert_int_equal(policy_add_dns_servers(&p, "", "--dns-servers", err,
						AWF_ERR_LEN),
			 -1);
	assert_err_has(err, "--dns-servers: no DNS servers given");
	/* a flag replaces the whole localhost value, ports included */
	assert_int_equal(policy_set_localhost(&p, "deny", "--localhost", err,
					      AWF_ERR_LEN),
			 0);
	assert_normalized_has(&p,
			      "\"localhost\":{\"mode\":\"deny\",\"ports\":[]}");
	assert_int_equal(policy_set_localhost(&p, "open", "--localhost", err,
					      AWF_ERR_LEN),
			 -1);
	assert_err_has(
		err,
		"--localhost: open: unknown localhost mode (expected sandbox, allow or deny)");
	assert_int_equal(p.localhost_mode, AWF_LO_DENY);
	policy_free(&p);
}

static void test_domains_file(void **state)
{
	char path[64], want[128], err[AWF_ERR_LEN] = "";
	struct policy p;

	(void)state;
	policy_init(&p);
	write_temp(path, "# CI hosts\n"
			 "github.com, api.example.org # trailing comment\n"
			 "\n"
			 "   *.example.net\r\n"
			 "ftp://bad.example\n");
	assert_int_equal(
		policy_add_domains_file(&p, false, path, err, AWF_ERR_LEN), -1);
	snprintf(want, sizeof(want),
		 "%s:5: ftp://bad.example: URLs are not supported", path);
	assert_err_has(err, want);
	/* lines before the bad one were merged: the caller discards p */
	assert_int_equal(p.n_allow_domains, 3);
	assert_string_equal(p.allow_domains[2].name, "*.example.net");
	unlink(path);
	write_temp(path, "gist.github.com\n");
	assert_int_equal(
		policy_add_domains_file(&p, true, path, err, AWF_ERR_LEN), 0);
	assert_int_equal(p.n_block_domains, 1);
	unlink(path);
	assert_int_equal(
		policy_add_domains_file(&p, true, path, err, AWF_ERR_LEN), -1);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	assert_err_has(err, want);
	policy_free(&p);
}

/* write_temp() for text with NUL bytes in it */
static void write_temp_bytes(char path[64], const char *bytes, size_t len)
{
	int fd;

	snprintf(path, 64, "/tmp/awf-test-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, bytes, len), (ssize_t)len);
	close(fd);
}

/* A domain list without a final newline still has its last name. */
static void test_domains_file_last_line(void **state)
{
	char path[64], err[AWF_ERR_LEN] = "";
	struct policy p;

	(void)state;
	policy_init(&p);
	write_temp(path, "a.example\nb.example");
	assert_int_equal(
		policy_add_domains_file(&p, false, path, err, AWF_ERR_LEN), 0);
	assert_int_equal(p.n_allow_domains, 2);
	assert_string_equal(p.allow_domains[1].name, "b.example");
	unlink(path);
	policy_free(&p);
}

/* A NUL would end the line for C: what follows it must not vanish. */
static void test_domains_file_nul(void **state)
{
	static const char text[] = "a.example\nb.example\0evil.example\n";
	char path[64], want[128], err[AWF_ERR_LEN] = "";
	struct policy p;

	(void)state;
	policy_init(&p);
	write_temp_bytes(path, text, sizeof(text) - 1);
	assert_int_equal(
		policy_add_domains_file(&p, false, path, err, AWF_ERR_LEN), -1);
	snprintf(want, sizeof(want), "%s:2: contains a NUL byte", path);
	assert_err_has(err, want);
	unlink(path);
	policy_free(&p);
}

/*
 * Each way a path can fail to be a small regular file, for both readers.
 * A FIFO without a writer would block a plain open() forever, /dev/zero
 * would grow without end: each must fail at once.
 */
static void check_refused(const char *path, const char *why)
{
	char want[128], err[AWF_ERR_LEN] = "";
	struct policy p;

	snprintf(want, sizeof(want), "%s: %s", path, why);
	policy_init(&p);
	assert_int_equal(policy_load_file(&p, path, err, AWF_ERR_LEN), -1);
	assert_err_has(err, want);
	assert_int_equal(
		policy_add_domains_file(&p, false, path, err, AWF_ERR_LEN), -1);
	assert_err_has(err, want);
	assert_int_equal(
		policy_add_domains_file(&p, true, path, err, AWF_ERR_LEN), -1);
	assert_err_has(err, want);
	policy_free(&p);
}

static void test_file_not_regular(void **state)
{
	char fifo[64] = "/tmp/awf-test-fifo-XXXXXX", big[64];
	int fd;

	(void)state;
	assert_non_null(mkdtemp(fifo));
	assert_true(strlen(fifo) + 3 < sizeof(fifo));
	strcat(fifo, "/f");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	check_refused(fifo, "not a regular file");
	check_refused("/dev/zero", "not a regular file");
	check_refused("/tmp", "Is a directory");
	unlink(fifo);
	*strrchr(fifo, '/') = '\0';
	rmdir(fifo);

	/* sparse: 64 MiB + 1 byte costs no disk */
	write_temp(big, "");
	fd = open(big, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, POLICY_FILE_MAX + 1), 0);
	close(fd);
	check_refused(big, "larger than the limit of 64 MiB");
	unlink(big);
}

struct file_row {
	const char *name;
	const char *text;
	const char *err; /* after "<path>: " */
};

static const struct file_row file_rows[] = {
	{ "syntax error line",
	  "{\n  \"version\": 1,\n  \"ports\": [80,,443]\n}\n", "line 3: " },
	{ "empty file", "", "line 1: unexpected end of file" },
	{ "truncated", "{\n\"version\": 1,\n",
	  "line 3: unexpected end of file" },
	{ "trailing data", "{\"version\": 1}\nx\n",
	  "line 2: unexpected character" },
	{ "trailing comma", "{\"version\": 1,\n}", "line 2: " },
	{ "origin is the path", "{\"version\": 1, \"frobnicate\": 1}",
	  "frobnicate: unknown key" },
	{ "null", "null", "expected a JSON object at the top level, not null" },
	{ "null and blanks", " null\n",
	  "expected a JSON object at the top level, not null" },
	{ "a number", "5", "expected a JSON object at the top level" },
	{ "cut in a literal", "nul", "line 1: unexpected end of file" },
	{ "cut in a string", "{\"version\": 1, \"ab",
	  "line 1: unexpected end of file" },
	/* json-c would keep the last: a typo must not widen the policy */
	{ "duplicate key",
	  "{\"version\": 1,\n\"localhost\": \"deny\",\n"
	  "\"localhost\": \"allow\"}",
	  "line 3: duplicate key \"localhost\"" },
	{ "duplicate key written with an escape",
	  "{\"version\": 1, \"dns\": {\"min_ttl\": 1, \"\\u006din_ttl\": 2}}",
	  "line 1: duplicate key \"min_ttl\"" },
	{ "duplicate key deep down",
	  "{\"version\": 1, \"allow_domains\": [{\"domain\": \"a.test\"},\n"
	  "{\"domain\": \"b.test\", \"ports\": [1], \"domain\": \"c.test\"}]}",
	  "line 2: duplicate key \"domain\"" },
	{ "first of two duplicates",
	  "{\"version\": 1, \"ipv6\": true,\n"
	  "\"ipv6\": true, \"version\": 1}",
	  "line 2: duplicate key \"ipv6\"" },
};

/* JSON text never holds a raw NUL; json-c would stop reading there. */
static const struct file_row nul_rows[] = {
	{ "NUL after the value", "{\"version\": 1}\n\0{\"x\": 1}",
	  "line 2: contains a NUL byte" },
	{ "NUL in a string", "{\"version\": 1,\n\"allow_domains\": [\"a\0b\"]}",
	  "line 2: contains a NUL byte" },
};

/* text is a string literal of nul_rows: its size, not strlen */
static void test_file_nul(void **state)
{
	const struct file_row *row = *state;
	char path[64], want[128], err[AWF_ERR_LEN] = "";
	size_t len = strlen(row->text);
	struct policy p;

	/* the NUL itself, then the rest */
	len += 1 + strlen(row->text + len + 1);
	policy_init(&p);
	write_temp_bytes(path, row->text, len);
	assert_int_equal(policy_load_file(&p, path, err, AWF_ERR_LEN), -1);
	snprintf(want, sizeof(want), "%s: %s", path, row->err);
	assert_err_has(err, want);
	unlink(path);
	policy_free(&p);
}

static void test_file(void **state)
{
	const struct file_row *row = *state;
	char path[64], want[128], err[AWF_ERR_LEN] = "";
	struct policy p;

	policy_init(&p);
	write_temp(path, row->text);
	assert_int_equal(policy_load_file(&p, path, err, AWF_ERR_LEN), -1);
	snprintf(want, sizeof(want), "%s: %s", path, row->err);
	assert_err_has(err, want);
	unlink(path);
	policy_free(&p);
}

/*
 * The same text read from a file (value by value: json_stream.h) and as
 * one json-c tree (policy_json_parse + policy_load_json) gives the same
 * result: the same message, or the same policy.
 */
static void check_streamed_same(const char *text)
{
	char path[64], err_file[AWF_ERR_LEN] = "", err_tree[AWF_ERR_LEN] = "";
	struct policy pf, pt;
	json_object *root;
	int rc_file, rc_tree = -1;

	write_temp(path, text);
	policy_init(&pf);
	policy_init(&pt);
	rc_file = policy_load_file(&pf, path, err_file, AWF_ERR_LEN);
	root = policy_json_parse(path, text, strlen(text), err_tree,
				 AWF_ERR_LEN);
	if (root)
		rc_tree = policy_load_json(&pt, root, path, err_tree,
					   AWF_ERR_LEN);
	json_object_put(root);
	if (rc_file != rc_tree || strcmp(err_file, err_tree) != 0)
		print_error("%s\n  file: %d %s\n  tree: %d %s\n", text, rc_file,
			    err_file, rc_tree, err_tree);
	assert_int_equal(rc_file, rc_tree);
	assert_string_equal(err_file, err_tree);
	if (rc_file == 0) {
		char *a = normalized(&pf), *b = normalized(&pt);

		assert_string_equal(a, b);
		free(a);
		free(b);
	}
	unlink(path);
	policy_free(&pf);
	policy_free(&pt);
}

/* A row's text as load() completes it. */
static void check_row_streamed(const char *json)
{
	char doc[4096];

	if (json[0] == '{' || json[0] == '[')
		snprintf(doc, sizeof(doc), "%s", json);
	else
		snprintf(doc, sizeof(doc), "{\"version\": 1, %s", json);
	check_streamed_same(doc);
}

static void test_bad_streamed(void **state)
{
	check_row_streamed(((const struct bad_row *)*state)->json);
}

static void test_good_streamed(void **state)
{
	check_row_streamed(((const struct good_row *)*state)->json);
}

static void test_file_streamed(void **state)
{
	check_streamed_same(((const struct file_row *)*state)->text);
}

struct stream_row {
	const char *name;
	const char *text;
};

static void test_stream_row(void **state)
{
	check_streamed_same(((const struct stream_row *)*state)->text);
}

/* Where reading value by value could differ from the tree. */
static const struct stream_row stream_rows[] = {
	{ "version last",
	  "{\"allow_cidrs\": [\"10.0.0.0/8\"], \"version\": 1}" },
	{ "version missing", "{\"allow_cidrs\": [\"10.0.0.0/8\"]}" },
	{ "bad version after entries",
	  "{\"allow_cidrs\": [\"bad\"], \"version\": 2}" },
	{ "syntax error after a bad entry",
	  "{\"version\": 1, \"allow_cidrs\": [\"bad\"],\n\"ports\": [80,,443]}" },
	{ "syntax error inside the array after a bad entry",
	  "{\"version\": 1, \"allow_cidrs\": [\"bad\", \"10.0.0.0/8\" \"x\"]}" },
	{ "unknown key then a bad array",
	  "{\"version\": 1, \"alow_cidrs\": [1, 2], \"allow_cidrs\": [3]}" },
	{ "array not an array",
	  "{\"version\": 1, \"allow_cidrs\": \"10.0.0.0/8\"}" },
	{ "empty arrays",
	  "{\"version\": 1, \"allow_cidrs\": [ ], \"allow_domains\": []}" },
	{ "blanks everywhere",
	  " \r\n\t{ \"version\" : 1 ,\n \"allow_cidrs\" : [ \"10.0.0.0/8\" ,"
	  " { \"cidr\" : \"::1\" , \"ports\" : [ 1 , \"2-3\" ] } ] } \n" },
	{ "a form feed (not JSON white space)",
	  "{\"version\": 1,\f\"ipv6\": true}" },
	{ "comment", "{\"version\": 1, /* x */ \"ipv6\": true}" },
	{ "escaped key",
	  "{\"version\": 1, \"allow_\\u0063idrs\": [\"10.0.0.0/8\"]}" },
	{ "key with an escaped NUL",
	  "{\"version\": 1, \"ipv6\\u0000x\": true}" },
	{ "number cut", "{\"version\": 1, \"dns\": {\"min_ttl\": 1e}}" },
	{ "number last", "{\"version\": 1, \"dns\": {\"min_ttl\": 10}}" },
	{ "literal glued", "{\"version\": 1, \"ipv6\": truex}" },
	{ "raw tab in a string",
	  "{\"version\": 1, \"allow_domains\": [\"a\tb.example\"]}" },
	{ "raw DEL and UTF-8 in a string",
	  "{\"version\": 1, \"allow_domains\": [\"a\x7f\xc3\xbc.example\"]}" },
	{ "string with escapes in an array",
	  "{\"version\": 1, \"allow_domains\": [\"a\\\"b\", \"c\\\\d\"]}" },
	{ "brackets crossed", "{\"version\": 1, \"allow_cidrs\": [}" },
	{ "nested arrays",
	  "{\"version\": 1, \"allow_cidrs\": [[\"10.0.0.0/8\"]]}" },
	{ "version an array", "{\"version\": [1], \"ipv6\": true}" },
	{ "top level array", "[{\"version\": 1}]" },
	{ "two objects", "{\"version\": 1} {\"version\": 1}" },
	{ "missing colon", "{\"version\" 1}" },
	{ "missing comma", "{\"version\": 1 \"ipv6\": true}" },
	{ "unquoted key", "{version: 1}" },
	{ "trailing comma in an array",
	  "{\"version\": 1, \"allow_cidrs\": [\"10.0.0.0/8\",]}" },
};

/*
 * json-c's depth limit counts from the top of the text: an element of a
 * streamed array is two levels down. 27 to 32 brackets inside one.
 */
static void test_depth_streamed(void **state)
{
	char doc[256];

	(void)state;
	for (int depth = 27; depth <= 32; depth++) {
		int n = snprintf(doc, sizeof(doc),
				 "{\"version\": 1, \"allow_domains\": [");

		for (int i = 0; i < depth; i++)
			doc[n++] = '[';
		for (int i = 0; i < depth; i++)
			doc[n++] = ']';
		snprintf(doc + n, sizeof(doc) - (size_t)n, "]}");
		check_streamed_same(doc);
		n = snprintf(doc, sizeof(doc), "{\"version\": 1, \"dns\": ");
		for (int i = 0; i < depth; i++)
			n += snprintf(doc + n, sizeof(doc) - (size_t)n,
				      "{\"a\":");
		n += snprintf(doc + n, sizeof(doc) - (size_t)n, "1");
		for (int i = 0; i < depth; i++)
			doc[n++] = '}';
		snprintf(doc + n, sizeof(doc) - (size_t)n, "}");
		check_streamed_same(doc);
	}
}

static void test_file_missing(void **state)
{
	char err[AWF_ERR_LEN] = "";
	struct policy p;

	(void)state;
	policy_init(&p);
	assert_int_equal(
		policy_load_file(&p, "/nonexistent/p.json", err, AWF_ERR_LEN),
		-1);
	assert_err_has(err, "/nonexistent/p.json: No such file or directory");
	assert_int_equal(policy_load_file(&p, "/tmp", err, AWF_ERR_LEN), -1);
	assert_err_has(err, "/tmp: Is a directory");
	policy_free(&p);
}

static void test_examples(void **state)
{
	char err[AWF_ERR_LEN] = "";
	glob_t g;

	(void)state;
	assert_int_equal(glob("policy/examples/*.json", 0, NULL, &g), 0);
	assert_true(g.gl_pathc >= 5);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct policy p;

		policy_init(&p);
		if (policy_load_file(&p, g.gl_pathv[i], err, AWF_ERR_LEN) < 0)
			print_error("%s\n", err);
		assert_string_equal(err, "");
		policy_free(&p);
	}
	globfree(&g);
}

struct resolv_row {
	const char *name;
	const char *resolv;  /* NULL: the file does not exist */
	const char *stub;    /* NULL: the file does not exist */
	const char *servers; /* normalized dns_servers, or NULL: an error */
	const char *err;     /* "%R" and "%S" stand for the two paths */
};

static const struct resolv_row resolv_rows[] = {
	{ "non-loopback servers in order",
	  "# generated\nsearch example.test\nnameserver 127.0.0.53\n"
	  "nameserver 192.0.2.53\nnameserver 2001:db8::53\n"
	  "nameserver\t192.0.2.53\noptions edns0\n",
	  NULL, "[\"192.0.2.53\",\"2001:db8::53\"]", NULL },
	{ "stub on loopback: its upstream", "nameserver 127.0.0.53\n",
	  "nameserver 198.18.0.53\n", "[\"198.18.0.53\"]", NULL },
	{ "unusable and ::1: the stub's upstream",
	  "nameserver fe80::1%eth0\nnameserver ::1\n",
	  "nameserver ::1\nnameserver 2001:db8::53\n", "[\"2001:db8::53\"]",
	  NULL },
	{ "stub without upstream file: the stub", "nameserver 127.0.0.53\n",
	  NULL, "[\"127.0.0.53\"]", NULL },
	{ "stub upstream loopback too: the stub",
	  "nameserver 127.0.0.53\nnameserver ::1\n", "nameserver 127.0.0.1\n",
	  "[\"127.0.0.53\",\"::1\"]", NULL },
	{ "no resolv.conf", NULL, "nameserver 198.18.0.53\n", NULL,
	  "no dns_servers given and %R: No such file or directory; set dns_servers" },
	{ "no nameserver lines", "search example.test\n",
	  "nameserver 198.18.0.53\n", NULL,
	  "no dns_servers given and none usable in %R; set dns_servers" },
};

static void temp_or_missing(char path[64], const char *text)
{
	write_temp(path, text ? text : "");
	if (!text)
		unlink(path);
}

/* err with %R and %S replaced by the two paths */
static void expand(char *out, size_t len, const char *fmt, const char *r,
		   const char *s)
{
	size_t off = 0;

	for (; *fmt && off + 64 < len; fmt++) {
		if (fmt[0] == '%' && (fmt[1] == 'R' || fmt[1] == 'S')) {
			off += (size_t)snprintf(out + off, len - off, "%s",
						*++fmt == 'R' ? r : s);
			continue;
		}
		out[off++] = *fmt;
	}
	out[off] = '\0';
}

static void test_resolv(void **state)
{
	const struct resolv_row *row = *state;
	char resolv[64], stub[64], want[AWF_ERR_LEN], err[AWF_ERR_LEN] = "";
	struct policy p;

	policy_init(&p);
	temp_or_missing(resolv, row->resolv);
	temp_or_missing(stub, row->stub);
	if (row->servers) {
		snprintf(want, sizeof(want), "\"dns_servers\":%s",
			 row->servers);
		if (policy_finalize(&p, resolv, stub, err, AWF_ERR_LEN) < 0)
			print_error("unexpected error: %s\n", err);
		assert_string_equal(err, "");
		assert_normalized_has(&p, want);
	} else {
		expand(want, sizeof(want), row->err, resolv, stub);
		assert_int_equal(
			policy_finalize(&p, resolv, stub, err, AWF_ERR_LEN),
			-1);
		assert_err_has(err, want);
	}
	unlink(resolv);
	unlink(stub);
	policy_free(&p);
}

static void test_finalize_given(void **state)
{
	char err[AWF_ERR_LEN] = "";
	struct policy p;

	(void)state;
	policy_init(&p);
	assert_int_equal(load(&p, "\"dns_servers\": [\"127.0.0.1\"]}", err), 0);
	/* given servers are kept as they are, and no file is read */
	assert_int_equal(policy_finalize(&p, "/nonexistent/r", "/nonexistent/s",
					 err, AWF_ERR_LEN),
			 0);
	assert_int_equal(p.n_dns_servers, 1);
	assert_int_equal(
		load(&p, "\"ipv6\": false, \"proxy\": \"[2001:db8::3]:3128\"}",
		     err),
		0);
	assert_int_equal(policy_finalize(&p, "/nonexistent/r", "/nonexistent/s",
					 err, AWF_ERR_LEN),
			 -1);
	assert_err_has(err, "proxy: an IPv6 proxy needs \"ipv6\": true");
	policy_free(&p);
}

static void test_cidr_limit(void **state)
{
	struct policy_cidr_entry c = { .family = AF_INET, .prefixlen = 24 };
	struct awf_port_set all;
	char err[AWF_ERR_LEN] = "";
	struct policy p;

	(void)state;
	policy_init(&p);
	port_set_all(&all);
	assert_int_equal(port_table_intern(&p.cidr_ports, &all, &c.ports), 0);
	/* filled directly: merging one by one is quadratic (dedupe) */
	p.cidrs = calloc(AWF_MAX_CIDRS, sizeof(*p.cidrs));
	assert_non_null(p.cidrs);
	for (unsigned int i = 0; i < AWF_MAX_CIDRS; i++) {
		c.addr[0] = 10;
		c.addr[1] = (uint8_t)(i >> 8);
		c.addr[2] = (uint8_t)i;
		p.cidrs[p.n_cidrs++] = c;
	}
	/* a repeat still merges; one more does not fit */
	assert_int_equal(policy_add_cidr_arg(&p, "10.255.255.0/24",
					     "--allow-cidr", err, AWF_ERR_LEN),
			 0);
	assert_int_equal(policy_add_cidr_arg(&p, "11.255.255.0/24",
					     "--allow-cidr", err, AWF_ERR_LEN),
			 -1);
	assert_err_has(err, "more than 1048576 CIDR entries");
	assert_int_equal(p.n_cidrs, AWF_MAX_CIDRS);
	policy_free(&p);
}

static double seconds_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) +
	       (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/*
 * A list of 200k names, each given twice, loads in linear time: the
 * duplicate check used to scan the whole list (about a minute for this),
 * now it is a hash lookup (well under a second).
 */
#define MANY_NAMES 200000

static void test_many_domains(void **state)
{
	struct policy_domain d = { .subdomains = true, .name_check = true };
	char name[64], err[AWF_ERR_LEN] = "";
	struct timespec start;
	struct policy p;

	(void)state;
	policy_init(&p);
	d.name = name;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < MANY_NAMES; i++) {
			snprintf(name, sizeof(name), "host%d.example.test", i);
			assert_int_equal(policy_merge_domain(&p, round, &d, err,
							     AWF_ERR_LEN),
					 0);
			assert_int_equal(policy_merge_domain(&p, false, &d, err,
							     AWF_ERR_LEN),
					 0);
		}
	}
	assert_true(seconds_since(&start) < 5.0);
	assert_int_equal(p.n_allow_domains, MANY_NAMES);
	assert_int_equal(p.n_block_domains, MANY_NAMES);
	/* the same name with other flags or ports is another entry */
	snprintf(name, sizeof(name), "host7.example.test");
	d.udp = true;
	assert_int_equal(policy_merge_domain(&p, false, &d, err, AWF_ERR_LEN),
			 0);
	d.has_ports = true;
	port_set_add(&d.ports, 8080, 8080);
	assert_int_equal(policy_merge_domain(&p, false, &d, err, AWF_ERR_LEN),
			 0);
	assert_int_equal(policy_merge_domain(&p, false, &d, err, AWF_ERR_LEN),
			 0);
	port_set_add(&d.ports, 9090, 9090);
	assert_int_equal(policy_merge_domain(&p, false, &d, err, AWF_ERR_LEN),
			 0);
	assert_int_equal(p.n_allow_domains, MANY_NAMES + 3);
	assert_string_equal(p.allow_domains[MANY_NAMES + 2].name,
			    "host7.example.test");
	assert_int_equal(p.allow_domains[MANY_NAMES + 2].ports.count, 2);
	policy_free(&p);
}

/*
 * A file's allow_cidrs are appended as read and their duplicates dropped
 * in bulk afterwards (policy_settle_cidrs): the first of equal entries
 * stays where it was, the same prefix with other ports is another entry,
 * and the file read value by value agrees with the tree. 300 entries:
 * more than the look-ahead of the bulk pass.
 */
static void test_cidr_duplicates(void **state)
{
	size_t cap = 64 * 1024, len = 0;
	char *text = malloc(cap), err[AWF_ERR_LEN] = "", path[64];
	struct policy_cidr c;
	struct policy p;

	(void)state;
	assert_non_null(text);
	len += (size_t)snprintf(text + len, cap - len,
				"{\"version\": 1, \"allow_cidrs\": [");
	for (int i = 0; i < 300; i++) {
		/* 10.0.k.0/24 for k = i % 100; i % 100 == 7: port 22 too */
		int k = i % 100;

		if (k == 7 && i >= 100)
			len += (size_t)snprintf(
				text + len, cap - len,
				"{\"cidr\": \"10.0.%d.0/24\", \"ports\": [22]}, ",
				k);
		else
			len += (size_t)snprintf(text + len, cap - len,
						"\"10.0.%d.0/24\", ", k);
	}
	snprintf(text + len - 2, cap - len + 2, "]}");
	check_streamed_same(text);
	write_temp(path, text);
	policy_init(&p);
	assert_int_equal(policy_load_file(&p, path, err, AWF_ERR_LEN), 0);
	unlink(path);
	assert_int_equal(p.n_cidrs, 101);
	for (size_t i = 0; i < 100; i++) {
		policy_cidr_at(&p, i, &c);
		assert_int_equal(c.addr[2], i);
		assert_true(port_set_is_all(&c.ports));
	}
	policy_cidr_at(&p, 100, &c);
	assert_int_equal(c.addr[2], 7);
	assert_false(port_set_is_all(&c.ports));
	/* a flag after the file finds the file's entries */
	assert_int_equal(policy_add_cidr_arg(&p, "10.0.99.0/24", "--allow-cidr",
					     err, AWF_ERR_LEN),
			 0);
	assert_int_equal(p.n_cidrs, 101);
	policy_free(&p);
	free(text);
}

int main(void)
{
	struct test_list l = { 0 };

	TL_ROWS(&l, test_bad, bad_rows);
	TL_ROWS(&l, test_good, good_rows);
	TL_ROWS(&l, test_cidr_arg, cidr_rows);
	TL_ROWS(&l, test_proxy_arg, proxy_rows);
	TL_ROWS(&l, test_file, file_rows);
	TL_ROWS(&l, test_file_nul, nul_rows);
	TL_ROWS(&l, test_bad_streamed, bad_rows);
	TL_ROWS(&l, test_good_streamed, good_rows);
	TL_ROWS(&l, test_file_streamed, file_rows);
	TL_ROWS(&l, test_stream_row, stream_rows);
	tl_add(&l, "depth limit read value by value", test_depth_streamed,
	       NULL);
	TL_ROWS(&l, test_resolv, resolv_rows);
	tl_add(&l, "spec example", test_spec_example, NULL);
	tl_add(&l, "duplicate allow_cidrs of a file", test_cidr_duplicates,
	       NULL);
	tl_add(&l, "defaults", test_defaults, NULL);
	tl_add(&l, "normalized output reads back", test_round_trip, NULL);
	tl_add(&l, "merging two files", test_merge_files, NULL);
	tl_add(&l, "domain flags", test_cli_domains, NULL);
	tl_add(&l, "https:// and http:// entries", test_scheme_entries, NULL);
	tl_add(&l, "dns and localhost flags", test_cli_dns_localhost, NULL);
	tl_add(&l, "domains file", test_domains_file, NULL);
	tl_add(&l, "domains file without a final newline",
	       test_domains_file_last_line, NULL);
	tl_add(&l, "domains file with a NUL byte", test_domains_file_nul, NULL);
	tl_add(&l, "missing policy file", test_file_missing, NULL);
	tl_add(&l, "FIFO, device, directory, huge file", test_file_not_regular,
	       NULL);
	tl_add(&l, "policy/examples load", test_examples, NULL);
	tl_add(&l, "finalize keeps given servers", test_finalize_given, NULL);
	tl_add(&l, "CIDR limit", test_cidr_limit, NULL);
	tl_add(&l, "200k domains load in linear time", test_many_domains, NULL);
	return tl_run("policy", &l);
}
