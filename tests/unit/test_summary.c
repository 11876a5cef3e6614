// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The end-of-run summary: what it lists, what it leaves out, the flags. */
#include "test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <json-c/json.h>

#include "awf.h"
#include "audit/logs_format.h"
#include "audit/summary.h"

static struct summary_net net(const char *addr, uint16_t port,
			      unsigned int proto, unsigned int verdict,
			      unsigned int reason, const char *domain)
{
	struct summary_net n = {
		.kind = AWF_EV_CONNECT,
		.verdict = verdict,
		.reason = reason,
		.family = strchr(addr, ':') ? AF_INET6 : AF_INET,
		.proto = proto,
		.port = port,
		.pid = 42,
		.comm = "curl",
		.domain = domain,
	};

	assert_int_equal(inet_pton(n.family, addr, n.addr), 1);
	return n;
}

static void add(struct summary *s, const char *addr, uint16_t port,
		unsigned int verdict, unsigned int reason, const char *domain)
{
	struct summary_net n =
		net(addr, port, IPPROTO_TCP, verdict, reason, domain);

	summary_add_net(s, &n);
}

/* The summary's text, in a buffer the caller frees. */
static char *text_of(const struct summary *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	summary_print_text(s, f, "awf-bpf: ");
	fclose(f);
	return buf;
}

static char *markdown_of(const struct summary *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	summary_print_markdown(s, f);
	fclose(f);
	return buf;
}

static void test_flags_group_ports_per_address(void **state)
{
	struct summary *s = summary_new();
	char *text;

	(void)state;
	add(s, "198.18.0.20", 443, AWF_DENY, AWF_R_NOT_IN_POLICY, NULL);
	add(s, "198.18.0.20", 80, AWF_DENY, AWF_R_NOT_IN_POLICY, NULL);
	add(s, "198.18.0.20", 443, AWF_DENY, AWF_R_NOT_IN_POLICY, NULL);
	add(s, "fd42::20", 8080, AWF_DENY, AWF_R_PORT_NOT_ALLOWED, NULL);
	summary_add_dns(s, "pypi.org", false, AWF_R_NAME_NOT_ALLOWED, false);
	summary_add_dns(s, "files.pythonhosted.org", false,
			AWF_R_NAME_NOT_ALLOWED, false);
	summary_add_dns(s, "pypi.org", false, AWF_R_NAME_NOT_ALLOWED, false);
	text = text_of(s);
	assert_non_null(strstr(
		text,
		"awf-bpf: summary: 7 denied (2 domains, 3 destinations)\n"));
	assert_non_null(strstr(
		text,
		"awf-bpf:   domain pypi.org: name not allowed (2 queries)\n"));
	assert_non_null(strstr(
		text,
		"awf-bpf:   tcp 198.18.0.20:443 from pid 42 (curl): not in policy (2 times)\n"));
	assert_non_null(strstr(
		text,
		"awf-bpf: to allow these, add: --allow-domains pypi.org,files.pythonhosted.org "
		"--allow-cidr 198.18.0.20/32:443,80 --allow-cidr [fd42::20/128]:8080\n"));
	free(text);
	summary_free(s);
}

/* Blocked on purpose, tied to a name, or not an address of the network. */
static void test_no_flags_for_what_cannot_be_allowed_so(void **state)
{
	struct summary *s = summary_new();
	char *text;

	(void)state;
	summary_add_dns(s, "evil.test", false, AWF_R_BLOCKED_DOMAIN, false);
	summary_add_dns(s, "10.0.18.198.in-addr.arpa", false,
			AWF_R_DNS_LOCAL_ANSWER, false);
	summary_add_dns(s, "odd\\032name", false, AWF_R_NAME_NOT_ALLOWED,
			false);
	add(s, "198.18.0.10", 8080, AWF_DENY, AWF_R_PORT_NOT_ALLOWED,
	    "allowed.test");
	add(s, "127.0.0.1", 3000, AWF_DENY, AWF_R_LOOPBACK, NULL);
	add(s, "169.254.169.254", 80, AWF_DENY, AWF_R_RESERVED_RANGE, NULL);
	text = text_of(s);
	assert_null(strstr(text, "to allow these"));
	assert_non_null(strstr(
		text, "tcp 198.18.0.10:8080 (allowed.test) from pid 42"));
	free(text);
	summary_free(s);
}

/* Redirects and allowed traffic are no denial; nothing denied, no text. */
static void test_noise_is_left_out(void **state)
{
	struct summary *s = summary_new();

	(void)state;
	add(s, "198.18.0.53", 53, AWF_REDIRECT, AWF_R_DNS_REDIRECT, NULL);
	add(s, "127.0.0.1", 3000, AWF_ALLOW, AWF_R_LOOPBACK, NULL);
	add(s, "198.18.0.10", 443, AWF_ALLOW, AWF_R_LEARNED, "allowed.test");
	summary_add_dns(s, "allowed.test", true, AWF_R_DNS_ALLOWED, false);
	assert_int_equal(summary_denied(s), 0);
	summary_free(s);
}

static void test_memory_is_bounded(void **state)
{
	struct summary *s = summary_new();
	char addr[32], *text;

	(void)state;
	for (unsigned int i = 0; i < SUMMARY_MAX_ITEMS + 100; i++) {
		snprintf(addr, sizeof(addr), "10.%u.%u.%u", i >> 16,
			 (i >> 8) & 255, i & 255);
		add(s, addr, 80, AWF_DENY, AWF_R_NOT_IN_POLICY, NULL);
	}
	assert_int_equal(summary_denied(s), SUMMARY_MAX_ITEMS + 100);
	text = text_of(s);
	assert_non_null(strstr(text, "... and 100 more denials not itemized"));
	assert_non_null(strstr(text, "more destinations"));
	free(text);
	summary_free(s);
}

/* Names and comm come from the workload: they must not break the table. */
static void test_markdown_escapes(void **state)
{
	struct summary *s = summary_new();
	struct summary_net n = net("198.18.0.20", 80, IPPROTO_TCP, AWF_DENY,
				   AWF_R_NOT_IN_POLICY, NULL);
	char *md;

	(void)state;
	n.comm = "a|b<c>";
	summary_add_net(s, &n);
	summary_add_dns(s, "x|y.test", false, AWF_R_NAME_NOT_ALLOWED, false);
	md = markdown_of(s);
	assert_non_null(strstr(
		md,
		"<details>\n<summary>awf-bpf: 2 denied (1 domain, 1 destination)</summary>"));
	assert_non_null(strstr(md, "| x\\|y.test | 0 | 1 |"));
	assert_non_null(strstr(md, "| a\\|b&lt;c&gt; (42) |"));
	/* Not a plain name: never offered as a flag. */
	assert_null(strstr(md, "--allow-domains"));
	assert_non_null(strstr(md, "`--allow-cidr 198.18.0.20/32:80`"));
	free(md);
	summary_free(s);
}

/* A name event: the first bytes of a connection to a learned address. */
static void add_name(struct summary *s, unsigned int kind, const char *addr,
		     unsigned int reason, const char *name)
{
	struct summary_net n =
		net(addr, kind == AWF_EV_HTTP ? 80 : 443, IPPROTO_TCP, AWF_DENY,
		    reason, "allowed.test");

	n.kind = kind;
	n.name = name;
	summary_add_net(s, &n);
}

/* Names not allowed join --allow-domains; blocked, missing, odd do not. */
static void test_names_denied(void **state)
{
	struct summary *s = summary_new();
	char *text;

	(void)state;
	summary_add_dns(s, "pypi.org", false, AWF_R_NAME_NOT_ALLOWED, false);
	add_name(s, AWF_EV_HTTP, "198.18.0.10", AWF_R_HTTP_HOST, "other.test");
	add_name(s, AWF_EV_TLS, "198.18.0.10", AWF_R_TLS_NAME, "evil.test");
	add_name(s, AWF_EV_TLS, "198.18.0.10", AWF_R_TLS_NAME, "evil.test");
	add_name(s, AWF_EV_TLS, "fd42::10", AWF_R_TLS_NAME, "evil.test");
	add_name(s, AWF_EV_TLS, "198.18.0.10", AWF_R_TLS_NAME, "pypi.org");
	add_name(s, AWF_EV_TLS, "198.18.0.10", AWF_R_NAME_BLOCKED,
		 "blocked.test");
	add_name(s, AWF_EV_TLS, "198.18.0.10", AWF_R_NO_NAME, "");
	add_name(s, AWF_EV_PAYLOAD, "198.18.0.10", AWF_R_NOT_TLS_OR_HTTP, "");
	add_name(s, AWF_EV_HTTP, "198.18.0.10", AWF_R_HTTP_HOST,
		 "x\x1b[2J.test");
	add_name(s, AWF_EV_HTTP, "198.18.0.10", AWF_R_HTTP_HOST, "UP.test");
	add_name(s, AWF_EV_HTTP, "198.18.0.10", AWF_R_HTTP_HOST, "198.18.0.10");
	text = text_of(s);
	assert_non_null(strstr(
		text,
		"awf-bpf: summary: 12 denied (1 domain, 10 destinations)\n"));
	assert_non_null(strstr(
		text,
		"awf-bpf:   tls sni evil.test to 198.18.0.10:443 (allowed.test) from pid 42 (curl): name not allowed (2 times)\n"));
	assert_non_null(strstr(
		text,
		"awf-bpf:   tls sni evil.test to [fd42::10]:443 (allowed.test) from pid 42 (curl): name not allowed (1 time)\n"));
	assert_non_null(strstr(
		text,
		"awf-bpf:   http host other.test to 198.18.0.10:80 (allowed.test) from pid 42 (curl): name not allowed (1 time)\n"));
	assert_non_null(strstr(
		text,
		"awf-bpf:   tls sni blocked.test to 198.18.0.10:443 (allowed.test) from pid 42 (curl): blocked domain (1 time)\n"));
	assert_non_null(strstr(
		text,
		"awf-bpf:   tls sni (none) to 198.18.0.10:443 (allowed.test) from pid 42 (curl): no server name or Host (1 time)\n"));
	assert_non_null(strstr(
		text,
		"awf-bpf:   tcp payload to 198.18.0.10:443 (allowed.test) from pid 42 (curl): neither TLS nor HTTP on a web port (1 time)\n"));
	assert_non_null(strstr(
		text,
		"awf-bpf:   http host x??2?.test to 198.18.0.10:80 (allowed.test) from pid 42 (curl): name not allowed (1 time)\n"));
	assert_non_null(
		strstr(text, "awf-bpf:   http host ??.test to 198.18.0.10:80"));
	assert_non_null(strstr(
		text,
		"awf-bpf: to allow these, add: --allow-domains pypi.org,evil.test,other.test\n"));
	free(text);
	summary_free(s);
}

/* A name event's destination in the JSON summary: its kind and name. */
static void test_names_json(void **state)
{
	struct summary *s = summary_new();
	json_object *o, *dests, *d;

	(void)state;
	add_name(s, AWF_EV_HTTP, "198.18.0.10", AWF_R_HTTP_HOST,
		 "odd\\\x7f.test");
	add_name(s, AWF_EV_TLS, "198.18.0.10", AWF_R_TLS_NAME, "evil.test");
	o = summary_to_json(s);
	assert_true(json_object_object_get_ex(o, "destinations", &dests));
	assert_int_equal(json_object_array_length(dests), 2);
	d = json_object_array_get_idx(dests, 0);
	assert_string_equal(logs_record_str(d, "event"), "http");
	assert_string_equal(logs_record_str(d, "name"), "odd\\092\\127.test");
	assert_string_equal(logs_record_str(d, "domain"), "allowed.test");
	assert_string_equal(logs_record_str(d, "reason"),
			    "http_host_not_allowed");
	d = json_object_array_get_idx(dests, 1);
	assert_string_equal(logs_record_str(d, "event"), "tls");
	assert_string_equal(logs_record_str(d, "name"), "evil.test");
	assert_string_equal(logs_record_str(o, "allow_flags"),
			    "--allow-domains evil.test");
	json_object_put(o);
	summary_free(s);
}

/* `logs summary` reads the names back from the audit records. */
static void test_names_from_log(void **state)
{
	static const char *const lines[] = {
		"{\"event\":\"tls\",\"verdict\":\"deny\",\"reason\":\"tls_name_not_allowed\","
		"\"pid\":7,\"comm\":\"curl\",\"family\":\"ipv6\",\"proto\":\"tcp\","
		"\"dst\":\"fd42:a0f0::30\",\"dport\":443,\"name_id\":2,"
		"\"domain\":\"allowed.test\",\"name\":\"evil.test\"}",
		"{\"event\":\"http\",\"verdict\":\"deny\",\"reason\":\"http_host_not_allowed\","
		"\"pid\":7,\"comm\":\"curl\",\"family\":\"ipv4\",\"proto\":\"tcp\","
		"\"dst\":\"198.18.0.10\",\"dport\":80,\"name\":\"bad\\\\032name\"}",
		"{\"event\":\"tls\",\"verdict\":\"allow\",\"reason\":\"name_allowed\","
		"\"pid\":7,\"comm\":\"curl\",\"family\":\"ipv4\",\"proto\":\"tcp\","
		"\"dst\":\"198.18.0.10\",\"dport\":443,\"name\":\"allowed.test\"}",
	};
	struct summary *s = summary_new();
	char *text;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
		json_object *rec = json_tokener_parse(lines[i]);

		assert_non_null(rec);
		logs_summarize(s, rec);
		json_object_put(rec);
	}
	text = text_of(s);
	assert_non_null(strstr(
		text,
		"awf-bpf:   tls sni evil.test to [fd42:a0f0::30]:443 (allowed.test) from pid 7 (curl): name not allowed (1 time)\n"));
	assert_non_null(strstr(
		text,
		"awf-bpf:   http host bad?name to 198.18.0.10:80 from pid 7 (curl): name not allowed (1 time)\n"));
	assert_non_null(strstr(
		text,
		"awf-bpf: to allow these, add: --allow-domains evil.test\n"));
	assert_int_equal(summary_denied(s), 2);
	free(text);
	summary_free(s);
}

/* The end lines' counters in the markdown table, the name check's too. */
static void test_markdown_counters(void **state)
{
	struct summary *s = summary_new();
	uint64_t c[AWF_C_MAX] = { 0 };
	char *md;

	(void)state;
	c[AWF_C_CONNECT_DENIED] = 1;
	c[AWF_C_NAMES_PASSED] = 4;
	c[AWF_C_NAMES_DENIED] = 2;
	summary_add_counters(s, c);
	summary_add_counters(s, c);
	md = markdown_of(s);
	assert_non_null(strstr(md, "| connect_denied | 2 |\n"));
	assert_non_null(
		strstr(md, "| names_passed | 8 |\n| names_denied | 4 |\n"));
	free(md);
	summary_free(s);
}

/*
 * A single label passes as a name, yet --allow-domains refuses it (it
 * would cover a top-level domain): the summary must not offer it, and
 * says what the policy takes instead.
 */
static void test_single_label_gets_no_flag(void **state)
{
	struct summary *s = summary_new();
	char *text, *md;
	json_object *o, *why;

	(void)state;
	summary_add_dns(s, "pypi.org", false, AWF_R_NAME_NOT_ALLOWED, false);
	summary_add_dns(s, "intranet", false, AWF_R_NAME_NOT_ALLOWED, false);
	text = text_of(s);
	assert_non_null(strstr(
		text,
		"awf-bpf: to allow these, add: --allow-domains pypi.org\n"));
	assert_null(strstr(text, "intranet,"));
	assert_null(strstr(text, ",intranet"));
	assert_non_null(strstr(
		text,
		"awf-bpf:   no flag for intranet: a single-label name with subdomains covers a whole top-level domain "
		"(for the name alone use {\"domain\": \"intranet\", \"subdomains\": false})\n"));
	md = markdown_of(s);
	assert_non_null(strstr(md, "`--allow-domains pypi.org`"));
	assert_non_null(strstr(md, "\n- no flag for intranet: a single-label"));
	o = summary_to_json(s);
	assert_string_equal(logs_record_str(o, "allow_flags"),
			    "--allow-domains pypi.org");
	assert_true(json_object_object_get_ex(o, "no_flag", &why));
	assert_int_equal(json_object_array_length(why), 1);
	json_object_put(o);
	free(md);
	free(text);
	summary_free(s);
}

/*
 * Audit-only mode: what went through is listed as "would have denied",
 * apart from what was denied all the same, and the fix covers it.
 */
static void test_audit_only_would_have_denied(void **state)
{
	struct summary *s = summary_new();
	struct summary_net n = net("198.18.0.20", 80, IPPROTO_TCP, AWF_DENY,
				   AWF_R_NOT_IN_POLICY, NULL);
	json_object *o, *dests, *d;
	char *text;

	(void)state;
	n.audit_only = true;
	summary_add_net(s, &n);
	summary_add_net(s, &n);
	summary_add_dns(s, "pypi.org", false, AWF_R_NAME_NOT_ALLOWED, true);
	add(s, "169.254.169.254", 80, AWF_DENY, AWF_R_RESERVED_RANGE, NULL);
	text = text_of(s);
	assert_non_null(strstr(
		text, "awf-bpf: summary: 4 denied (1 domain, 2 destinations)\n"
		      "awf-bpf: audit-only mode: 3 of them went through; "
		      "enforcing mode would have denied them\n"));
	assert_non_null(strstr(
		text,
		"awf-bpf:   would have denied domain pypi.org: name not allowed (1 query)\n"));
	assert_non_null(strstr(
		text,
		"awf-bpf:   would have denied tcp 198.18.0.20:80 from pid 42 (curl): not in policy (2 times)\n"));
	/* The metadata address was refused: a plain line. */
	assert_non_null(strstr(
		text,
		"awf-bpf:   tcp 169.254.169.254:80 from pid 42 (curl): "));
	assert_non_null(strstr(
		text,
		"awf-bpf: to allow these, add: --allow-domains pypi.org --allow-cidr 198.18.0.20/32:80\n"));
	free(text);
	text = markdown_of(s);
	assert_non_null(
		strstr(text, ", 3 would have denied (audit-only)</summary>"));
	assert_non_null(strstr(
		text, "| not in policy (would have denied: audit-only) | 2 |"));
	o = summary_to_json(s);
	assert_string_equal(logs_record_str(o, "would_deny"), "3");
	assert_string_equal(logs_record_str(o, "denied"), "4");
	assert_true(json_object_object_get_ex(o, "destinations", &dests));
	for (size_t i = 0; i < json_object_array_length(dests); i++) {
		d = json_object_array_get_idx(dests, i);
		assert_int_equal(
			json_object_object_get_ex(d, "audit_only", NULL),
			strcmp(logs_record_str(d, "dst"), "198.18.0.20") == 0);
	}
	json_object_put(o);
	free(text);
	summary_free(s);
}

/* `logs summary` of an audit-only log: the member, and only true, counts. */
static void test_audit_only_from_log(void **state)
{
	static const char *const lines[] = {
		"{\"event\":\"connect\",\"verdict\":\"deny\",\"reason\":\"not_in_policy\","
		"\"audit_only\":true,\"pid\":7,\"comm\":\"curl\",\"family\":\"ipv4\","
		"\"proto\":\"tcp\",\"dst\":\"198.18.0.20\",\"dport\":443}",
		"{\"event\":\"connect\",\"verdict\":\"deny\",\"reason\":\"not_in_policy\","
		"\"audit_only\":false,\"pid\":7,\"comm\":\"curl\",\"family\":\"ipv4\","
		"\"proto\":\"tcp\",\"dst\":\"198.18.0.21\",\"dport\":443}",
		"{\"event\":\"dns\",\"verdict\":\"deny\",\"reason\":\"name_not_allowed\","
		"\"audit_only\":true,\"name\":\"evil.test\",\"qtype\":\"A\",\"rcode\":3}",
	};
	struct summary *s = summary_new();
	json_object *o;
	char *text;

	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		json_object *rec = json_tokener_parse(lines[i]);

		assert_non_null(rec);
		logs_summarize(s, rec);
		json_object_put(rec);
	}
	o = summary_to_json(s);
	assert_string_equal(logs_record_str(o, "would_deny"), "2");
	json_object_put(o);
	text = text_of(s);
	assert_non_null(strstr(text, "would have denied tcp 198.18.0.20:443"));
	assert_non_null(strstr(text, "awf-bpf:   tcp 198.18.0.21:443"));
	assert_non_null(strstr(text, "would have denied domain evil.test"));
	free(text);
	summary_free(s);
}

/*
 * The fix as a policy is want, and the same as allow_policy in the JSON
 * summary, which is returned (the caller puts it).
 */
static json_object *assert_fix_policy(const struct summary *s, const char *want)
{
	json_object *fix = summary_fix_policy(s), *o = summary_to_json(s);

	assert_non_null(fix);
	assert_non_null(o);
	assert_string_equal(
		json_object_to_json_string_ext(
			fix, JSON_C_TO_STRING_PLAIN |
				     JSON_C_TO_STRING_NOSLASHESCAPE),
		want);
	assert_string_equal(
		json_object_to_json_string_ext(
			json_object_object_get(o, "allow_policy"),
			JSON_C_TO_STRING_PLAIN),
		json_object_to_json_string_ext(fix, JSON_C_TO_STRING_PLAIN));
	json_object_put(fix);
	return o;
}

/* The fix as a policy: every name and address, the ports per address. */
static void test_fix_as_policy(void **state)
{
	struct summary *s = summary_new();
	json_object *o;

	(void)state;
	assert_null(summary_fix_policy(s));
	add(s, "198.18.0.20", 443, AWF_DENY, AWF_R_NOT_IN_POLICY, NULL);
	add(s, "198.18.0.20", 80, AWF_DENY, AWF_R_PORT_NOT_ALLOWED, NULL);
	add(s, "fd42:a0f0::20", 8443, AWF_DENY, AWF_R_NOT_IN_POLICY, NULL);
	/* Neither: learned from a name, and refused whatever the policy. */
	add(s, "198.18.0.30", 443, AWF_DENY, AWF_R_NOT_IN_POLICY, "good.test");
	add(s, "169.254.169.254", 80, AWF_DENY, AWF_R_RESERVED_RANGE, NULL);
	summary_add_dns(s, "pypi.org", false, AWF_R_NAME_NOT_ALLOWED, false);
	summary_add_dns(s, "evil.test", false, AWF_R_BLOCKED_DOMAIN, false);
	o = assert_fix_policy(
		s,
		"{\"version\":1,\"allow_domains\":[\"pypi.org\"],\"allow_cidrs\":["
		"{\"cidr\":\"198.18.0.20/32\",\"ports\":[443,80]},"
		"{\"cidr\":\"fd42:a0f0::20/128\",\"ports\":[8443]}]}");
	json_object_put(o);
	summary_free(s);
}

static void add_udp(struct summary *s, const char *addr, uint16_t port,
		    unsigned int reason, const char *domain)
{
	struct summary_net n =
		net(addr, port, IPPROTO_UDP, AWF_DENY, reason, domain);

	summary_add_net(s, &n);
}

/*
 * UDP to a name's addresses needs "udp": true in its entry, which no flag
 * says: the fix has an entry for the name alone on the ports UDP tried
 * (merged with the name's other entry), and the text says what to write.
 */
static void test_fix_udp_to_a_name(void **state)
{
	struct summary *s = summary_new();
	json_object *o;
	char *text;

	(void)state;
	add_udp(s, "198.18.0.30", 443, AWF_R_UDP_TO_NAME, "quic.test");
	add_udp(s, "198.18.0.31", 443, AWF_R_UDP_TO_NAME, "quic.test");
	add_udp(s, "198.18.0.30", 8443, AWF_R_UDP_TO_NAME, "quic.test");
	/* audit-only: a name not allowed yet, its UDP too */
	add_udp(s, "198.18.0.40", 123, AWF_R_NOT_IN_POLICY, "ntp.test");
	summary_add_dns(s, "ntp.test", false, AWF_R_NAME_NOT_ALLOWED, true);
	/* TCP to an allowed name's address on another port: not this fix */
	add(s, "198.18.0.30", 22, AWF_DENY, AWF_R_PORT_NOT_ALLOWED,
	    "quic.test");
	o = assert_fix_policy(
		s,
		"{\"version\":1,\"allow_domains\":[\"ntp.test\","
		"{\"domain\":\"quic.test\",\"subdomains\":false,\"ports\":[443,8443],\"udp\":true},"
		"{\"domain\":\"ntp.test\",\"subdomains\":false,\"ports\":[123],\"udp\":true}],"
		"\"allow_cidrs\":[]}");
	assert_int_equal(
		json_object_array_length(json_object_object_get(o, "no_flag")),
		2);
	json_object_put(o);
	text = text_of(s);
	assert_non_null(strstr(
		text,
		"no flag for quic.test: UDP to its addresses takes an entry with \"udp\": true: {\"domain\": \"quic.test\", \"subdomains\": false, \"ports\": [443, 8443], \"udp\": true}"));
	assert_non_null(strstr(
		text, "to allow these, add: --allow-domains ntp.test\n"));
	free(text);
	summary_free(s);
}

static size_t count_char(const char *text, char c)
{
	size_t n = 0;

	for (; *text; text++)
		n += *text == c;
	return n;
}

static size_t longest_line(const char *text)
{
	size_t longest = 0;

	while (*text) {
		size_t len = strcspn(text, "\n");

		if (len > longest)
			longest = len;
		text += len + (text[len] == '\n');
	}
	return longest;
}

/*
 * 899 names made one 27 KB line: the text names 20 and counts the rest,
 * the JSON form keeps them all. Names with no flag: 5 lines and a count.
 */
static void test_many_names_are_capped(void **state)
{
	struct summary *s = summary_new();
	char name[64], *text, *md;
	json_object *o;

	(void)state;
	for (int i = 0; i < 899; i++) {
		snprintf(name, sizeof(name), "host-%d.example.test", i);
		summary_add_dns(s, name, false, AWF_R_NAME_NOT_ALLOWED, false);
	}
	for (int i = 0; i < 30; i++) {
		snprintf(name, sizeof(name), "label%d", i);
		summary_add_dns(s, name, false, AWF_R_NAME_NOT_ALLOWED, false);
	}
	text = text_of(s);
	assert_true(longest_line(text) < 1000);
	assert_non_null(strstr(text, "--allow-domains host-0.example.test,"));
	assert_non_null(strstr(text, ",host-19.example.test\n"));
	assert_null(strstr(text, "host-20.example.test"));
	assert_non_null(strstr(
		text,
		"awf-bpf:   ... and 879 more names for --allow-domains ("));
	assert_non_null(strstr(text, "awf-bpf:   no flag for label4: "));
	assert_null(strstr(text, "no flag for label5:"));
	assert_non_null(strstr(
		text, "awf-bpf:   ... and 25 more names with no flag\n"));
	md = markdown_of(s);
	assert_true(longest_line(md) < 1000);
	assert_non_null(
		strstr(md, "... and 879 more names for --allow-domains"));
	o = summary_to_json(s);
	assert_int_equal(count_char(logs_record_str(o, "allow_flags"), ','),
			 898);
	json_object_put(o);
	free(md);
	free(text);
	summary_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flags_group_ports_per_address),
		cmocka_unit_test(test_no_flags_for_what_cannot_be_allowed_so),
		cmocka_unit_test(test_noise_is_left_out),
		cmocka_unit_test(test_memory_is_bounded),
		cmocka_unit_test(test_markdown_escapes),
		cmocka_unit_test(test_names_denied),
		cmocka_unit_test(test_names_json),
		cmocka_unit_test(test_names_from_log),
		cmocka_unit_test(test_markdown_counters),
		cmocka_unit_test(test_single_label_gets_no_flag),
		cmocka_unit_test(test_many_names_are_capped),
		cmocka_unit_test(test_audit_only_would_have_denied),
		cmocka_unit_test(test_audit_only_from_log),
		cmocka_unit_test(test_fix_as_policy),
		cmocka_unit_test(test_fix_udp_to_a_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
