// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Unit tests of kernel/verdict.c, `awf-bpf policy test`: DEST parsing, the
 * verdicts on a table of policies and destinations (allow or deny, reason
 * code, the deciding rule), and that the user-space LPM lookup of the rule
 * table answers as the kernel's LPM trie filled by rules_write() (needs
 * BPF privilege; skipped without it).
 */
#include <arpa/inet.h>
#include <sys/socket.h>

#include "test_util.h"
#include "bpf_privilege.h"
#include "audit/audit_codes.h"
#include "cli/policy_flags.h"
#include "common/error.h"
#include "kernel/verdict.h"
#include "policy/cidr.h"
#include "policy/policy_cli.h"

struct parse_row {
	const char *text;
	const char *name; /* expected name, or NULL for an address */
	const char *addr; /* expected address, as ip_format() prints it */
	int port;	  /* -1: none */
	const char *err;  /* expected error (substring), or NULL */
};

static const struct parse_row parse_rows[] = {
	{ "api.github.com", "api.github.com", NULL, -1, NULL },
	{ "API.GitHub.com.:443", "api.github.com", NULL, 443, NULL },
	{ "https://api.github.com", "api.github.com", NULL, 443, NULL },
	{ "http://x.example", "x.example", NULL, 80, NULL },
	{ "https://x.example:8443", "x.example", NULL, 8443, NULL },
	{ "bücher.example:80", "xn--bcher-kva.example", NULL, 80, NULL },
	{ "192.0.2.1", NULL, "192.0.2.1", -1, NULL },
	{ "192.0.2.1:53", NULL, "192.0.2.1", 53, NULL },
	{ "2001:db8::1", NULL, "2001:db8::1", -1, NULL },
	{ "[2001:db8::1]", NULL, "2001:db8::1", -1, NULL },
	{ "[2001:db8::1]:443", NULL, "2001:db8::1", 443, NULL },
	{ "[::ffff:192.0.2.7]:80", NULL, "192.0.2.7", 80, NULL },
	{ "x.example:0", NULL, NULL, 0,
	  "x.example:0: port \"0\": expected a number 1-65535" },
	{ "x.example:65536", NULL, NULL, 0, "port \"65536\"" },
	{ "x.example:", NULL, NULL, 0, "x.example:: port \"\"" },
	{ "x.example:8o", NULL, NULL, 0, "port \"8o\"" },
	{ ":443", NULL, NULL, 0, ":443: no host" },
	{ "[2001:db8::1", NULL, NULL, 0, "expected [IPv6] or [IPv6]:PORT" },
	{ "[2001:db8::1]443", NULL, NULL, 0, "expected [IPv6] or [IPv6]:PORT" },
	{ "[x.example]:443", NULL, NULL, 0,
	  "[x.example]:443: \"x.example\" is not an IP address" },
	{ "*.example.com", NULL, NULL, 0, "a pattern, not a name" },
	{ "a..example", NULL, NULL, 0, "a..example: a..example: empty label" },
	{ "x.example/path", NULL, NULL, 0, "paths are not supported" },
	{ "ftp://x.example", NULL, NULL, 0, "URLs are not supported" },
	{ "", NULL, NULL, 0, "no host" },
};

static void test_parse(void **state)
{
	const struct parse_row *r = *state;
	char err[AWF_ERR_LEN] = "", ip[IP_TEXT_LEN];
	struct verdict_dest d;
	int rc = verdict_dest_parse(r->text, &d, err, sizeof(err));

	if (r->err) {
		assert_int_equal(rc, -1);
		if (!strstr(err, r->err))
			fail_msg("error \"%s\" lacks \"%s\"", err, r->err);
		return;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(d.is_name, r->name != NULL);
	if (r->name)
		assert_string_equal(d.name, r->name);
	else
		assert_string_equal(ip_format(d.family, d.addr, ip, sizeof(ip)),
				    r->addr);
	assert_int_equal(d.has_port, r->port >= 0);
	if (r->port >= 0)
		assert_int_equal(d.port, r->port);
}

#define MAX_FLAGS 6

struct verdict_row {
	const char *what;
	struct policy_flag_arg flags[MAX_FLAGS]; /* ends at opt 0 */
	const char *dest;
	bool udp;
	bool allowed;
	const char *reason;
	const char *rule; /* the whole rule text */
};

#define D 'd'
#define BLOCK PFLAG_BLOCK_DOMAINS
#define CIDR PFLAG_ALLOW_CIDR
#define LO PFLAG_LOCALHOST
#define HOSTPORTS PFLAG_ALLOW_HOST_PORTS
#define HOSTACCESS PFLAG_ENABLE_HOST_ACCESS
#define PROXY PFLAG_PROXY
#define NO_IPV6 -1 /* not a flag: "ipv6": false */

/* 198.18.0.15 is this host's address in every row (a LOCAL rule). */
static const struct verdict_row verdict_rows[] = {
	{ "name under an entry",
	  { { D, "github.com" } },
	  "api.github.com:443",
	  false,
	  true,
	  "learned",
	  "by github.com (subdomains, ports 80,443)" },
	{ "name, other port",
	  { { D, "github.com" } },
	  "api.github.com:22",
	  false,
	  false,
	  "port_not_allowed",
	  "allow_domains entry github.com (subdomains, ports 80,443)" },
	{ "name, no port",
	  { { D, "github.com" } },
	  "github.com",
	  false,
	  true,
	  "learned",
	  "by github.com (subdomains, ports 80,443)" },
	{ "name not listed",
	  { { D, "github.com" } },
	  "notgithub.com:443",
	  false,
	  false,
	  "name_not_allowed",
	  "no allow_domains entry matches" },
	{ "block wins",
	  { { D, "github.com" }, { BLOCK, "gist.github.com" } },
	  "x.gist.github.com:443",
	  false,
	  false,
	  "blocked_domain",
	  "by block_domains entry gist.github.com" },
	{ "most specific entry decides, ports of all",
	  { { D, "github.com" }, { D, "https://api.github.com" } },
	  "api.github.com:80",
	  false,
	  true,
	  "learned",
	  "by api.github.com (subdomains, ports 80,443)" },
	{ "https:// entry: 443 only",
	  { { D, "https://a.example" } },
	  "a.example:80",
	  false,
	  false,
	  "port_not_allowed",
	  "allow_domains entry a.example (subdomains, ports 443)" },
	{ "UDP to a name without udp",
	  { { D, "a.example" } },
	  "a.example:443",
	  true,
	  false,
	  "udp_to_name",
	  "allow_domains entry a.example (subdomains, ports 80,443)" },
	{ "proxy-only: names through the proxy",
	  { { D, "a.example" }, { PROXY, "192.0.2.3:3128" } },
	  "a.example:443",
	  false,
	  false,
	  "proxy_only",
	  "allow_domains entry a.example (subdomains, ports 80,443); proxy-only mode: through the proxy" },
	{ "the proxy itself",
	  { { PROXY, "192.0.2.3:3128" } },
	  "192.0.2.3:3128",
	  false,
	  true,
	  "proxy",
	  "by proxy 192.0.2.3:3128" },
	{ "the proxy's address, other port",
	  { { PROXY, "192.0.2.3:3128" } },
	  "192.0.2.3:80",
	  false,
	  false,
	  "not_in_policy",
	  "no allow_cidrs entry covers it" },
	{ "CIDR with ports",
	  { { CIDR, "10.0.0.0/8:22" } },
	  "10.1.2.3:22",
	  false,
	  true,
	  "cidr",
	  "by allow_cidrs 10.0.0.0/8 (ports 22)" },
	{ "CIDR, other port",
	  { { CIDR, "10.0.0.0/8:22" } },
	  "10.1.2.3:80",
	  false,
	  false,
	  "port_not_allowed",
	  "allow_cidrs entry 10.0.0.0/8 (ports 22)" },
	{ "covering CIDR's ports fold in",
	  { { CIDR, "10.0.0.0/8:22" }, { CIDR, "10.1.0.0/16:80" } },
	  "10.1.2.3:22",
	  false,
	  true,
	  "cidr",
	  "by allow_cidrs 10.1.0.0/16 (ports 22,80)" },
	{ "IPv6 CIDR",
	  { { CIDR, "[2001:db8::/32]:443" } },
	  "[2001:db8::1]:443",
	  false,
	  true,
	  "cidr",
	  "by allow_cidrs 2001:db8::/32 (ports 443)" },
	{ "v4-mapped decided as IPv4",
	  { { CIDR, "192.0.2.0/24" } },
	  "[::ffff:192.0.2.9]:1",
	  false,
	  true,
	  "cidr",
	  "by allow_cidrs 192.0.2.0/24 (ports all)" },
	{ "not in policy",
	  { { D, "a.example" } },
	  "198.51.100.1:443",
	  false,
	  false,
	  "not_in_policy",
	  "no allow_cidrs entry covers it" },
	{ "metadata under 0.0.0.0/0",
	  { { CIDR, "0.0.0.0/0" } },
	  "169.254.169.254:80",
	  false,
	  false,
	  "link_local",
	  "by reserved range 169.254.0.0/16 (link-local, cloud metadata: allowed only when an allow_cidrs entry names it)" },
	{ "metadata named",
	  { { CIDR, "169.254.169.254/32:80" } },
	  "169.254.169.254:80",
	  false,
	  true,
	  "cidr",
	  "by allow_cidrs 169.254.169.254/32 (ports 80)" },
	{ "IMDS over IPv6",
	  { { CIDR, "::/0" } },
	  "[fd00:ec2::254]:80",
	  false,
	  false,
	  "link_local",
	  "by reserved range fd00:ec2::254/128 (link-local, cloud metadata: allowed only when an allow_cidrs entry names it)" },
	{ "IPv6 off",
	  { { CIDR, "::/0" }, { NO_IPV6, NULL } },
	  "[2001:db8::1]:443",
	  false,
	  false,
	  "ipv6_disabled",
	  "by \"ipv6\": false" },
	{ "IPv6 off: v4-mapped is IPv4",
	  { { CIDR, "0.0.0.0/0" }, { NO_IPV6, NULL } },
	  "[::ffff:192.0.2.1]:443",
	  false,
	  true,
	  "cidr",
	  "by allow_cidrs 0.0.0.0/0 (ports all)" },
	{ "loopback, sandbox mode",
	  { { D, "a.example" } },
	  "127.0.0.1:8080",
	  false,
	  false,
	  "loopback",
	  "localhost \"sandbox\" allows ports none, and those the sandbox serves itself" },
	{ "0.0.0.0/8 is loopback",
	  { { HOSTPORTS, "8080" } },
	  "0.1.2.3:8080",
	  false,
	  true,
	  "loopback",
	  "by localhost ports 8080" },
	{ "--allow-host-ports",
	  { { HOSTPORTS, "5432,6000-6010" } },
	  "[::1]:6005",
	  false,
	  true,
	  "loopback",
	  "by localhost ports 5432,6000-6010" },
	{ "--allow-host-ports narrows --enable-host-access",
	  { { HOSTPORTS, "5432" }, { HOSTACCESS, NULL } },
	  "127.0.0.1:80",
	  false,
	  false,
	  "loopback",
	  "localhost \"sandbox\" allows ports 5432, and those the sandbox serves itself" },
	{ "--enable-host-access",
	  { { HOSTACCESS, NULL } },
	  "127.0.0.1:80",
	  false,
	  true,
	  "loopback",
	  "by localhost \"allow\"" },
	{ "localhost deny",
	  { { LO, "deny" } },
	  "127.0.0.1:80",
	  false,
	  false,
	  "loopback",
	  "by localhost \"deny\"" },
	{ "the host's own address is loopback",
	  { { CIDR, "198.18.0.0/16" }, { HOSTPORTS, "22" } },
	  "198.18.0.15:22",
	  false,
	  true,
	  "loopback",
	  "by localhost ports 22" },
	{ "the host's own address, other port",
	  { { CIDR, "198.18.0.0/16" } },
	  "198.18.0.15:80",
	  false,
	  false,
	  "loopback",
	  "localhost \"sandbox\" allows ports none, and those the sandbox serves itself" },
};

static void test_verdict(void **state)
{
	const struct verdict_row *r = *state;
	struct policy_flag_arg args[MAX_FLAGS + 1];
	struct policy_flags f = { .v = args };
	char err[AWF_ERR_LEN] = "", rule[512];
	struct policy_cidr host;
	struct verdict_dest d;
	struct verdict_ctx c;
	struct verdict v;
	struct policy p;

	policy_init(&p);
	args[f.n++] =
		(struct policy_flag_arg){ PFLAG_DNS_SERVERS, "192.0.2.53" };
	for (size_t i = 0; i < MAX_FLAGS && r->flags[i].opt; i++)
		if (r->flags[i].opt != NO_IPV6)
			args[f.n++] = r->flags[i];
	assert_int_equal(policy_flags_build(&f, &p, err, sizeof(err)), 0);
	for (size_t i = 0; i < MAX_FLAGS && r->flags[i].opt; i++)
		p.ipv6 &= r->flags[i].opt != NO_IPV6;
	assert_int_equal(cidr_parse(&host, "198.18.0.15", err, sizeof(err)), 0);
	assert_int_equal(verdict_ctx_init(&c, &p, &host, 1, err, sizeof(err)),
			 0);
	assert_int_equal(verdict_dest_parse(r->dest, &d, err, sizeof(err)), 0);
	d.udp = r->udp;
	verdict_decide(&c, &d, &v);
	verdict_rule_text(&c, &v, rule, sizeof(rule));
	assert_string_equal(reason_code(v.reason), r->reason);
	assert_int_equal(v.allowed, r->allowed);
	assert_string_equal(rule, r->rule);
	verdict_ctx_free(&c);
	policy_free(&p);
}

/*
 * The kernel's LPM tries, filled by rules_write() as the loader does,
 * answer every probe as rules_lookup() does: the same entry (prefix, kind,
 * rule id, ports) or none.
 */
static const char *const lpm_flags[] = {
	"10.0.0.0/8:22",	   "10.1.0.0/16:80",	    "10.1.2.0/24",
	"10.1.2.128/25:443",	   "169.254.169.254/32:80", "0.0.0.0/1:7",
	"[2001:db8::/32]:443",	   "[2001:db8:1::/48]:80",  "[fe80::1/128]:22",
	"[::ffff:192.0.2.0/120]:5"
};

static void lpm_probe(int fd, const struct rule_table *t, int family,
		      const uint8_t *addr)
{
	const struct rule_entry *want = rules_lookup(t, family, addr);
	struct awf_cidr6_key k6 = { .prefixlen = 128 };
	struct awf_cidr4_key k4 = { .prefixlen = 32 };
	struct awf_rule got, want_rule;
	char ip[IP_TEXT_LEN];
	int rc;

	memcpy(k4.addr, addr, 4);
	memcpy(k6.addr, addr, 16);
	rc = bpf_map_lookup_elem(fd, family == AF_INET ? (void *)&k4 : &k6,
				 &got);
	if ((rc == 0) != (want != NULL))
		fail_msg("%s: kernel %s, user space %s",
			 ip_format(family, addr, ip, sizeof(ip)),
			 rc ? "none" : "an entry", want ? "an entry" : "none");
	if (!want)
		return;
	rules_value(t, want, &want_rule);
	if (got.id != want_rule.id || got.kind != want_rule.kind ||
	    memcmp(&got.ports, &want_rule.ports, sizeof(got.ports)))
		fail_msg(
			"%s: kernel rule %u kind %u, user space rule %u kind %u",
			ip_format(family, addr, ip, sizeof(ip)), got.id,
			got.kind, want_rule.id, want_rule.kind);
}

static int lpm_trie(int family)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_NO_PREALLOC);
	size_t key = family == AF_INET ? sizeof(struct awf_cidr4_key) :
					 sizeof(struct awf_cidr6_key);

	return bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "awf_test_lpm", key,
			      sizeof(struct awf_rule), 64, &opts);
}

static void test_lpm_agrees(void **state)
{
	char err[AWF_ERR_LEN] = "";
	struct policy_cidr host[2];
	struct rule_table t;
	struct policy p;
	uint32_t x = 12345;
	int fd4, fd6;

	(void)state;
	policy_init(&p);
	for (size_t i = 0; i < ARRAY_SIZE(lpm_flags); i++)
		assert_int_equal(policy_add_cidr_arg(&p, lpm_flags[i],
						     "--allow-cidr", err,
						     sizeof(err)),
				 0);
	assert_int_equal(cidr_parse(&host[0], "10.1.2.3", err, sizeof(err)), 0);
	assert_int_equal(cidr_parse(&host[1], "2001:db8::5", err, sizeof(err)),
			 0);
	assert_int_equal(rules_build(&t, &p, host, 2, err, sizeof(err)), 0);
	fd4 = lpm_trie(AF_INET);
	fd6 = lpm_trie(AF_INET6);
	assert_true(fd4 >= 0 && fd6 >= 0);
	/* a few entries: all in the tries (test_rules_write.c: the rest) */
	assert_true(!t.exact4.mask && !t.exact6.mask);
	assert_int_equal(rules_write(&t,
				     &(struct rules_maps){ .trie4 = fd4,
							   .trie6 = fd6,
							   .exact4 = -1,
							   .exact6 = -1,
							   .ports = -1 },
				     err, sizeof(err)),
			 0);
	/* each entry's first address, its neighbours, then pseudo-random ones */
	for (size_t i = 0; i < t.n; i++) {
		const struct rule_entry *e = &t.v[i];
		uint8_t a[16];

		for (int delta = -1; delta <= 1; delta++) {
			memcpy(a, e->addr, 16);
			a[e->family == AF_INET ? 3 : 15] += (uint8_t)delta;
			lpm_probe(e->family == AF_INET ? fd4 : fd6, &t,
				  e->family, a);
		}
	}
	for (int i = 0; i < 20000; i++) {
		uint8_t a[16] = { 0 };

		for (int b = 0; b < 16; b++) {
			x = x * 1103515245 + 12345;
			a[b] = (uint8_t)(x >> 16);
		}
		/* stay near the entries half of the time */
		if (i & 1) {
			a[0] = i & 2 ? 10 : 0x20;
			a[1] = i & 2 ? a[1] % 3 : 0x01;
			a[2] = 0x0d;
			a[3] = i & 4 ? 0xb8 : a[3];
		}
		lpm_probe(fd4, &t, AF_INET, a);
		lpm_probe(fd6, &t, AF_INET6, a);
	}
	close(fd4);
	close(fd6);
	rules_free(&t);
	policy_free(&p);
}

int main(void)
{
	struct test_list l = { 0 }, k = { 0 };
	char why[256];
	int failed;

	TL_ROWS(&l, test_parse, parse_rows);
	TL_ROWS(&l, test_verdict, verdict_rows);
	failed = tl_run("verdict", &l);
	tl_add(&k, "user-space LPM lookup agrees with the kernel's trie",
	       test_lpm_agrees, NULL);
	if (!bpf_privileged(why, sizeof(why)))
		skip_all(k.t, k.n, why);
	return failed + tl_run("verdict_kernel", &k);
}
