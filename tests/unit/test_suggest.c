// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Unit tests of audit/suggest.c, `awf-bpf policy suggest`: audit logs
 * under tests/unit/fixtures/suggest/ to the policy, byte for byte
 * (registrable domains through libpsl, a multi-label public suffix
 * (co.uk) and a private one (github.io), ports, udp, name_check, /32 and
 * /128, loopback, --base), the same output whatever the order of the
 * lines, the notes on stderr, and that the suggested policy allows what
 * the log used and refuses what it did not (kernel/verdict.c).
 */
#include <errno.h>
#include <sys/socket.h>

#include "test_util.h"
#include "audit/audit_codes.h"
#include "audit/suggest.h"
#include "common/error.h"
#include "kernel/verdict.h"
#include "policy/policy_json.h"
#include "policy/policy_load.h"

#define FIXTURES "tests/unit/fixtures/suggest/"

struct result {
	char *json;  /* the policy as `policy suggest` prints it */
	char *notes; /* what it says on stderr */
	struct policy p;
};

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0;

	if (!f)
		fail_msg("%s: %s", path, strerror(errno));
	FILE *out = open_memstream(&buf, &len);
	int c;

	while ((c = fgetc(f)) != EOF)
		fputc(c, out);
	fclose(f);
	fclose(out);
	return buf;
}

static void suggest_run(struct result *r, const char *base,
			const char *const *logs, size_t n_logs)
{
	char err[AWF_ERR_LEN] = "";
	size_t notes_len = 0;
	FILE *notes = open_memstream(&r->notes, &notes_len);
	struct suggest *s = suggest_new(notes);
	json_object *o;

	assert_non_null(s);
	policy_init(&r->p);
	if (base)
		assert_int_equal(
			policy_load_file(&r->p, base, err, sizeof(err)), 0);
	for (size_t i = 0; i < n_logs; i++)
		if (suggest_add_file(s, logs[i], err, sizeof(err)) < 0)
			fail_msg("%s", err);
	if (suggest_merge(s, &r->p, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	suggest_free(s);
	fclose(notes);
	o = policy_to_json(&r->p);
	/* as cli_print_json() writes it */
	assert_int_equal(
		asprintf(&r->json, "%s\n",
			 json_object_to_json_string_ext(
				 o, JSON_C_TO_STRING_PRETTY |
					    JSON_C_TO_STRING_NOSLASHESCAPE)) >
			0,
		1);
	json_object_put(o);
}

static void result_free(struct result *r)
{
	free(r->json);
	free(r->notes);
	policy_free(&r->p);
}

static void assert_notes_have(const struct result *r, const char *line)
{
	if (!strstr(r->notes, line))
		fail_msg("notes lack \"%s\":\n%s", line, r->notes);
}

static void test_exact_output(void **state)
{
	static const char *const logs[] = { FIXTURES "run.jsonl" };
	char *want = read_all(FIXTURES "run.expected.json");
	struct result r;

	(void)state;
	suggest_run(&r, NULL, logs, 1);
	assert_string_equal(r.json, want);
	assert_notes_have(
		&r,
		"awf-bpf: policy suggest: " FIXTURES
		"run.jsonl:33: tried.example.org was denied (name_not_allowed) in the audited run; suggested because the job tried it\n");
	assert_notes_have(
		&r,
		"run.jsonl:34: 203.0.113.5 port 443 was denied (not_in_policy) in the audited run; suggested because the job tried it\n");
	assert_notes_have(&r, "not suggested: 1 event denied as link_local\n");
	assert_notes_have(&r, "not suggested: 1 event denied as socket_type\n");
	assert_notes_have(&r,
			  "not suggested: 1 event denied as blocked_domain\n");
	assert_notes_have(&r,
			  "not suggested: 1 event denied as dns_malformed\n");
	/* audit_only denials are used, not "tried" */
	assert_null(strstr(r.notes, "codeload.github.com was denied"));
	assert_null(strstr(r.notes, "stays denied"));
	result_free(&r);
	free(want);
}

static void test_order_does_not_matter(void **state)
{
	static const char *const one[] = { FIXTURES "run.jsonl" };
	static const char *const split[] = { FIXTURES "shuffled-b.jsonl",
					     FIXTURES "shuffled-a.jsonl" };
	struct result a, b;

	(void)state;
	suggest_run(&a, NULL, one, 1);
	suggest_run(&b, NULL, split, 2);
	assert_string_equal(a.json, b.json);
	result_free(&a);
	result_free(&b);
}

static void test_base_merge(void **state)
{
	static const char *const logs[] = { FIXTURES "run.jsonl" };
	char *want = read_all(FIXTURES "base.expected.json");
	struct result r;

	(void)state;
	suggest_run(&r, FIXTURES "base.json", logs, 1);
	assert_string_equal(r.json, want);
	assert_null(strstr(r.notes, "stays denied"));
	result_free(&r);
	free(want);
}

/* What the base's own rules refuse is said, not hidden. */
static void test_base_still_refuses(void **state)
{
	static const char *const logs[] = { FIXTURES "run.jsonl" };
	struct result r;

	(void)state;
	suggest_run(&r, FIXTURES "base-blocks.json", logs, 1);
	assert_notes_have(
		&r,
		"tcp cdn.shop.co.uk port 443 stays denied under this policy (blocked_domain)\n");
	assert_notes_have(
		&r,
		"udp 2001:db8::7 port 123 stays denied under this policy (ipv6_disabled)\n");
	result_free(&r);
}

struct dest_row {
	const char *dest;
	bool udp;
	bool allowed;
};

/*
 * The log used the first rows; the others it did not (and the base-less
 * suggestion must refuse them). github.com's subdomains are in: three of
 * its names were used, so the registrable domain is the entry.
 */
static const struct dest_row dest_rows[] = {
	{ "api.github.com:443", false, true },
	{ "codeload.github.com:22", false, true },
	{ "github.com:443", false, true },
	{ "new.github.com:443", false, true },
	{ "alice.github.io:443", false, true },
	{ "bob.github.io:443", false, true },
	{ "www.shop.co.uk:80", false, true },
	{ "cdn.shop.co.uk:443", false, true },
	{ "pypi.org:443", false, true },
	{ "pypi.org:443", true, true },
	{ "files.pythonhosted.org:443", false, true },
	{ "raw.example.net:443", false, true },
	{ "tried.example.org:443", false, true },
	{ "192.0.2.7:5432", false, true },
	{ "192.0.2.7:5433", false, true },
	{ "[2001:db8::7]:123", true, true },
	{ "198.51.100.9:8080", false, true },
	{ "127.0.0.1:6379", false, true },
	{ "[::1]:5000", false, true },
	{ "github.com:80", false, false },
	{ "carol.github.io:443", false, false },
	{ "github.io:443", false, false },
	{ "alice.github.io:80", false, false },
	{ "x.alice.github.io:443", false, false },
	{ "shop.co.uk:22", false, false },
	{ "other.co.uk:443", false, false },
	{ "pypi.org:80", false, false },
	{ "x.pypi.org:443", false, false },
	{ "pythonhosted.org:443", false, false },
	{ "files.pythonhosted.org:443", true, false },
	{ "192.0.2.7:5434", false, false },
	{ "192.0.2.8:5432", false, false },
	{ "[2001:db8::8]:123", true, false },
	{ "169.254.169.254:80", false, false },
	{ "192.0.2.53:53", false, false },
	{ "127.0.0.1:6380", false, false },
};

static void test_suggested_policy_decides(void **state)
{
	static const char *const logs[] = { FIXTURES "run.jsonl" };
	char err[AWF_ERR_LEN] = "";
	struct verdict_ctx c;
	struct result r;

	(void)state;
	suggest_run(&r, NULL, logs, 1);
	assert_int_equal(verdict_ctx_init(&c, &r.p, NULL, 0, err, sizeof(err)),
			 0);
	for (size_t i = 0; i < ARRAY_SIZE(dest_rows); i++) {
		const struct dest_row *row = &dest_rows[i];
		struct verdict_dest d;
		struct verdict v;

		assert_int_equal(
			verdict_dest_parse(row->dest, &d, err, sizeof(err)), 0);
		d.udp = row->udp;
		verdict_decide(&c, &d, &v);
		if (v.allowed != row->allowed)
			fail_msg("%s%s: %s (%s), expected %s", row->dest,
				 row->udp ? " udp" : "",
				 v.allowed ? "allowed" : "denied",
				 reason_code(v.reason),
				 row->allowed ? "allowed" : "denied");
	}
	verdict_ctx_free(&c);
	result_free(&r);
}

static void test_bad_line(void **state)
{
	char err[AWF_ERR_LEN] = "", path[] = "/tmp/awf-suggest-XXXXXX";
	int fd = mkstemp(path);
	struct suggest *s = suggest_new(NULL);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{\"schema\": 1}\n[1]\n", 18), 18);
	close(fd);
	assert_int_equal(suggest_add_file(s, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":2: not a JSON object"));
	assert_int_equal(
		suggest_add_file(s, "/nonexistent/x.jsonl", err, sizeof(err)),
		-1);
	assert_string_equal(err,
			    "/nonexistent/x.jsonl: No such file or directory");
	unlink(path);
	suggest_free(s);
}

/* Lines a log should not hold, or holds from a newer awf-bpf: no entry. */
static const char *const odd_lines[] = {
	"{}",
	"{\"event\": 7}",
	"{\"event\": \"connect\", \"verdict\": \"allow\", \"reason\": \"cidr\"}",
	"{\"event\": \"connect\", \"verdict\": \"allow\", \"reason\": \"cidr\", \"dst\": \"192.0.2.1\", \"dport\": 70000}",
	"{\"event\": \"connect\", \"verdict\": \"allow\", \"reason\": \"cidr\", \"dst\": \"192.0.2.1\", \"dport\": 0}",
	"{\"event\": \"connect\", \"verdict\": \"allow\", \"reason\": \"cidr\", \"dst\": \"not-an-ip\", \"dport\": 80}",
	"{\"event\": \"connect\", \"verdict\": \"allow\", \"reason\": \"cidr\", \"dst\": [1], \"dport\": \"x\"}",
	"{\"event\": \"dns\", \"verdict\": \"allow\", \"reason\": \"dns_allowed\", \"name\": \"a\\\\010b.example\"}",
	"{\"event\": \"dns\", \"verdict\": \"allow\", \"reason\": \"dns_allowed\", \"name\": \"*.example.com\"}",
	"{\"event\": \"dns\", \"verdict\": \"allow\", \"reason\": \"dns_allowed\", \"name\": \"192.0.2.1\"}",
	"{\"event\": \"dns\", \"verdict\": \"allow\", \"reason\": \"dns_allowed\", \"name\": \"\"}",
	"{\"event\": \"tls\", \"verdict\": \"deny\", \"reason\": \"no_name\", \"audit_only\": true, \"dport\": 443}",
	"{\"event\": \"quic\", \"verdict\": \"allow\", \"reason\": \"learned\"}",
	"{\"event\": \"connect\", \"verdict\": \"allow\", \"reason\": \"from_the_future\"}",
	"{\"event\": \"lost\", \"count\": -5}",
};

static void test_odd_lines(void **state)
{
	char err[AWF_ERR_LEN] = "", *notes = NULL;
	size_t notes_len = 0;
	FILE *out = open_memstream(&notes, &notes_len);
	struct suggest *s = suggest_new(out);
	struct policy p;

	(void)state;
	policy_init(&p);
	for (size_t i = 0; i < ARRAY_SIZE(odd_lines); i++) {
		json_object *rec = json_tokener_parse(odd_lines[i]);

		assert_non_null(rec);
		suggest_add_record(s, rec, "odd");
		json_object_put(rec);
	}
	assert_int_equal(suggest_merge(s, &p, err, sizeof(err)), 0);
	fclose(out);
	assert_int_equal(p.n_allow_domains, 0);
	assert_int_equal(p.n_cidrs, 0);
	assert_int_equal(p.localhost_ports.count, 0);
	if (!strstr(notes,
		    "skipped: 4 lines of a kind or reason this awf-bpf does not know"))
		fail_msg("notes:\n%s", notes);
	assert_null(strstr(notes, "events were lost"));
	assert_non_null(strstr(
		notes, "name \"*.example.com\" cannot be a policy entry"));
	suggest_free(s);
	policy_free(&p);
	free(notes);
}

int main(void)
{
	struct test_list l = { 0 };

	tl_add(&l, "byte-exact policy from a log", test_exact_output, NULL);
	tl_add(&l, "the order of lines and files does not matter",
	       test_order_does_not_matter, NULL);
	tl_add(&l, "--base: only what it lacks is added", test_base_merge,
	       NULL);
	tl_add(&l, "--base: what it still refuses is said",
	       test_base_still_refuses, NULL);
	tl_add(&l, "the suggestion allows what was used, nothing else",
	       test_suggested_policy_decides, NULL);
	tl_add(&l, "a line that is not JSON, a missing file", test_bad_line,
	       NULL);
	tl_add(&l, "odd lines make no entry", test_odd_lines, NULL);
	return tl_run("suggest", &l);
}
