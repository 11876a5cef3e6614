// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Kernel events in user space: the ring buffer record of a name event,
 * the line printed for it, its name as a terminal and the audit log see
 * it.
 */
#include "test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <json-c/json.h>

#include "awf.h"
#include "agent/control_proto.h"
#include "audit/audit_log.h"
#include "audit/event_view.h"
#include "audit/events.h"
#include "audit/logs_format.h"

/* A denied name event as the programs queue it. */
static struct awf_name_event name_event(unsigned int kind, const char *addr,
					uint16_t port, const char *name)
{
	struct awf_name_event ne = {
		.ev = {
			.pid = 412,
			.kind = (uint8_t)kind,
			.verdict = AWF_DENY,
			.reason = kind == AWF_EV_HTTP ? AWF_R_HTTP_HOST :
							AWF_R_TLS_NAME,
			.family = strchr(addr, ':') ? AF_INET6 : AF_INET,
			.proto = IPPROTO_TCP,
			.dport = port,
			.rule_id = 1,
			.name_id = 3,
		},
	};

	assert_int_equal(inet_pton(ne.ev.family, addr, ne.ev.daddr), 1);
	memcpy(ne.ev.comm, "curl", 5);
	snprintf(ne.name, sizeof(ne.name), "%s", name);
	return ne;
}

struct line_row {
	const char *test;
	unsigned int kind;
	unsigned int verdict;
	unsigned int reason;
	const char *addr;
	uint16_t port;
	const char *name;
	const char *want;
};

static const struct line_row line_rows[] = {
	{ "line_tls", AWF_EV_TLS, AWF_DENY, AWF_R_TLS_NAME, "198.18.0.10", 443,
	  "evil.test",
	  "denied tls sni evil.test to 198.18.0.10:443 from pid 412 (curl): name not allowed" },
	{ "line_http", AWF_EV_HTTP, AWF_DENY, AWF_R_HTTP_HOST, "198.18.0.10",
	  80, "other-site.test",
	  "denied http host other-site.test to 198.18.0.10:80 from pid 412 (curl): name not allowed" },
	{ "line_payload", AWF_EV_PAYLOAD, AWF_DENY, AWF_R_NOT_TLS_OR_HTTP,
	  "198.18.0.10", 443, "",
	  "denied tcp payload to 198.18.0.10:443 from pid 412 (curl): neither TLS nor HTTP on a web port" },
	{ "line_tls_no_name", AWF_EV_TLS, AWF_DENY, AWF_R_NO_NAME,
	  "198.18.0.10", 443, "",
	  "denied tls sni (none) to 198.18.0.10:443 from pid 412 (curl): no server name or Host" },
	{ "line_http_no_name", AWF_EV_HTTP, AWF_DENY, AWF_R_NO_NAME,
	  "198.18.0.10", 80, "",
	  "denied http host (none) to 198.18.0.10:80 from pid 412 (curl): no server name or Host" },
	{ "line_ipv6", AWF_EV_TLS, AWF_DENY, AWF_R_NAME_BLOCKED,
	  "fd42:a0f0::30", 443, "blocked.test",
	  "denied tls sni blocked.test to [fd42:a0f0::30]:443 from pid 412 (curl): blocked domain" },
	{ "line_hostile_name", AWF_EV_HTTP, AWF_DENY, AWF_R_HTTP_HOST,
	  "198.18.0.10", 80, "a\x1b[31mB c\xc3\xa9/\n_x-1.",
	  "denied http host a??31m??c????_x-1. to 198.18.0.10:80 from pid 412 (curl): name not allowed" },
	{ "line_allowed", AWF_EV_TLS, AWF_ALLOW, AWF_R_NAME_OK, "198.18.0.10",
	  443, "allowed.test",
	  "allowed tls sni allowed.test to 198.18.0.10:443 from pid 412 (curl): name allowed" },
};

/* The workload's comm is as untrusted as the name. */
static void test_line_comm_cleaned(void **state)
{
	struct awf_name_event ne =
		name_event(AWF_EV_TLS, "198.18.0.10", 443, "x.test");
	char line[EVENT_LINE_LEN], name[AWF_NAME_LEN];
	struct event_view v;

	(void)state;
	memcpy(ne.ev.comm, "c\x1b]0;x\aabcdefghij", AWF_COMM_LEN);
	assert_int_equal(event_view_parse(&v, &ne, sizeof(ne), name), 0);
	event_format_line(&v, line, sizeof(line));
	assert_string_equal(
		line,
		"denied tls sni x.test to 198.18.0.10:443 from pid 412 (c?]0;x?abcdefghi): name not allowed");
	/* connect lines alike */
	ne.ev.kind = AWF_EV_CONNECT;
	ne.ev.reason = AWF_R_NOT_IN_POLICY;
	assert_int_equal(event_view_parse(&v, &ne, sizeof(ne.ev), name), 0);
	event_format_line(&v, line, sizeof(line));
	assert_string_equal(
		line,
		"denied tcp 198.18.0.10:443 from pid 412 (c?]0;x?abcdefghi): not in policy");
}

/* A record too short for its kind is dropped, never read past its end. */
static void test_parse_sizes(void **state)
{
	struct awf_name_event ne =
		name_event(AWF_EV_TLS, "198.18.0.10", 443, "x.test");
	char name[AWF_NAME_LEN];
	struct event_view v = { 0 };

	(void)state;
	assert_int_equal(event_view_parse(&v, &ne, sizeof(ne) - 1, name), -1);
	assert_null(v.e);
	assert_int_equal(event_view_parse(&v, &ne, sizeof(ne.ev), name), -1);
	assert_int_equal(event_view_parse(&v, &ne, sizeof(ne.ev) - 1, name),
			 -1);
	assert_int_equal(event_view_parse(&v, &ne, sizeof(ne) + 8, name), 0);
	assert_ptr_equal(v.e, &ne.ev);
	assert_string_equal(v.name, "x.test");
	assert_null(v.domain);
	/* Other kinds: an awf_event is enough, and they carry no name. */
	ne.ev.kind = AWF_EV_CONNECT;
	assert_int_equal(event_view_parse(&v, &ne, sizeof(ne.ev), name), 0);
	assert_null(v.name);
}

/* The kernel's name need not end: the copy does. */
static void test_parse_unterminated_name(void **state)
{
	struct awf_name_event ne =
		name_event(AWF_EV_HTTP, "198.18.0.10", 80, "");
	char name[AWF_NAME_LEN];
	struct event_view v;

	(void)state;
	memset(ne.name, 'a', sizeof(ne.name));
	assert_int_equal(event_view_parse(&v, &ne, sizeof(ne), name), 0);
	assert_int_equal(strlen(v.name), AWF_NAME_LEN - 1);
	assert_ptr_equal(v.name, name);
}

/* The audit record of v, parsed back as `logs` reads it. */
static json_object *record_of(const struct event_view *v)
{
	struct audit_log a = { .sandbox = "run-42" };
	char *buf = NULL;
	size_t len = 0;
	json_object *rec;

	a.f = open_memstream(&buf, &len);
	assert_non_null(a.f);
	audit_log_event(&a, v);
	fclose(a.f);
	assert_non_null(strchr(buf, '\n'));
	assert_ptr_equal(strchr(buf, '\n'), buf + len - 1);
	rec = json_tokener_parse(buf);
	assert_non_null(rec);
	free(buf);
	return rec;
}

/* What `logs FILE` prints of rec. */
static char *pretty_of(json_object *rec, enum logs_format f)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	assert_non_null(out);
	logs_print_record(f, rec, out);
	fclose(out);
	return buf;
}

/* `logs` prints v's record as the line printed live, after time and sandbox. */
static void check_logs_line(const struct event_view *v, const char *line)
{
	json_object *rec = record_of(v);
	char want[EVENT_LINE_LEN + 128], *got;

	snprintf(want, sizeof(want), "%s run-42 %s\n",
		 logs_record_str(rec, "time"), line);
	got = pretty_of(rec, LOGS_PRETTY);
	assert_string_equal(got, want);
	free(got);
	json_object_put(rec);
}

/* The line printed live, and as `logs` prints the audit record. */
static void test_line(void **state)
{
	const struct line_row *r = *state;
	struct awf_name_event ne =
		name_event(r->kind, r->addr, r->port, r->name);
	char line[EVENT_LINE_LEN], name[AWF_NAME_LEN];
	struct event_view v;

	ne.ev.verdict = (uint8_t)r->verdict;
	ne.ev.reason = (uint8_t)r->reason;
	assert_int_equal(event_view_parse(&v, &ne, sizeof(ne), name), 0);
	/* The learned name is in the audit log; the line has the name sent. */
	v.domain = "allowed.test";
	event_format_line(&v, line, sizeof(line));
	assert_string_equal(line, r->want);
	check_logs_line(&v, line);
}

/* The record's members, the name escaped by the writer, quoted by json-c. */
static void test_audit_record(void **state)
{
	struct awf_name_event ne =
		name_event(AWF_EV_HTTP, "fd42:a0f0::30", 80, "a\"b\\c\x01\xff");
	char name[AWF_NAME_LEN], *md;
	struct event_view v;
	json_object *rec;

	(void)state;
	assert_int_equal(event_view_parse(&v, &ne, sizeof(ne), name), 0);
	v.domain = "allowed.test";
	rec = record_of(&v);
	assert_string_equal(logs_record_str(rec, "event"), "http");
	assert_string_equal(logs_record_str(rec, "verdict"), "deny");
	assert_string_equal(logs_record_str(rec, "reason"),
			    "http_host_not_allowed");
	assert_string_equal(logs_record_str(rec, "proto"), "tcp");
	assert_string_equal(logs_record_str(rec, "dst"), "fd42:a0f0::30");
	assert_string_equal(logs_record_str(rec, "dport"), "80");
	assert_string_equal(logs_record_str(rec, "rule_id"), "1");
	assert_string_equal(logs_record_str(rec, "name_id"), "3");
	assert_string_equal(logs_record_str(rec, "domain"), "allowed.test");
	assert_string_equal(logs_record_str(rec, "name"),
			    "a\"b\\092c\\001\\255");
	md = pretty_of(rec, LOGS_MARKDOWN);
	assert_non_null(strstr(
		md,
		"| http | deny | http host a?b?c?? to \\[fd42:a0f0::30\\]:80 (allowed.test) | curl (412) | name not allowed |"));
	free(md);
	json_object_put(rec);
}

/*
 * A denial audit-only mode let through is the same record plus
 * "audit_only": true; the member is absent from every other.
 */
static void test_audit_record_audit_only(void **state)
{
	struct awf_name_event ne =
		name_event(AWF_EV_TLS, "198.18.0.30", 443, "other.test");
	char name[AWF_NAME_LEN], line[EVENT_LINE_LEN];
	struct event_view v;
	json_object *plain, *audited, *val;

	(void)state;
	assert_int_equal(event_view_parse(&v, &ne, sizeof(ne), name), 0);
	plain = record_of(&v);
	assert_false(json_object_object_get_ex(plain, "audit_only", &val));
	ne.ev.flags = AWF_EVF_AUDIT_ONLY;
	assert_int_equal(event_view_parse(&v, &ne, sizeof(ne), name), 0);
	audited = record_of(&v);
	assert_true(json_object_object_get_ex(audited, "audit_only", &val));
	assert_true(json_object_is_type(val, json_type_boolean));
	assert_true(json_object_get_boolean(val));
	/* Everything else is the same record. */
	json_object_object_del(audited, "audit_only");
	json_object_object_del(audited, "time");
	json_object_object_del(plain, "time");
	assert_true(json_object_equal(plain, audited));
	assert_string_equal(logs_record_str(plain, "verdict"), "deny");
	event_format_line(&v, line, sizeof(line));
	assert_string_equal(
		line,
		"denied tls sni other.test to 198.18.0.30:443 from pid 412 (curl): name not allowed");
	json_object_put(plain);
	json_object_put(audited);
}

/* A connect record has no name; a payload record an empty one. */
static void test_audit_record_name_member(void **state)
{
	struct awf_name_event ne =
		name_event(AWF_EV_PAYLOAD, "198.18.0.10", 443, "");
	char name[AWF_NAME_LEN];
	struct event_view v;
	json_object *rec, *val;

	(void)state;
	assert_int_equal(event_view_parse(&v, &ne, sizeof(ne), name), 0);
	rec = record_of(&v);
	assert_true(json_object_object_get_ex(rec, "name", &val));
	assert_string_equal(json_object_get_string(val), "");
	assert_false(json_object_object_get_ex(rec, "domain", &val));
	json_object_put(rec);
	ne.ev.kind = AWF_EV_CONNECT;
	assert_int_equal(event_view_parse(&v, &ne, sizeof(ne.ev), name), 0);
	rec = record_of(&v);
	assert_false(json_object_object_get_ex(rec, "name", &val));
	json_object_put(rec);
}

/* msg, len bytes of a message, as the client's recv() leaves it. */
static int decode(const char *msg, size_t len, struct event_view *v,
		  struct awf_event *e, char name[AWF_NAME_LEN])
{
	static char buf[CONTROL_EVENT_LEN + 1];

	assert_true(len >= 1 && len <= CONTROL_EVENT_LEN);
	assert_int_equal(msg[0], CONTROL_MSG_EVENT);
	memcpy(buf, msg, len);
	buf[len] = '\0';
	return control_event_decode(buf + 1, len - 1, v, e, name);
}

/* The agent relays a sandbox's events to its `run`: the name goes along. */
static void test_relay_round_trip(void **state)
{
	struct awf_name_event ne =
		name_event(AWF_EV_TLS, "fd42:a0f0::30", 443, "evil.test");
	char msg[CONTROL_EVENT_LEN], name[AWF_NAME_LEN], got_name[AWF_NAME_LEN];
	struct event_view v, got;
	struct awf_event e;
	size_t len;

	(void)state;
	assert_int_equal(event_view_parse(&v, &ne, sizeof(ne), name), 0);
	v.domain = "allowed.test";
	len = control_event_encode(msg, &v);
	assert_int_equal(decode(msg, len, &got, &e, got_name), 0);
	assert_memory_equal(&e, &ne.ev, sizeof(e));
	assert_string_equal(got.domain, "allowed.test");
	assert_string_equal(got.name, "evil.test");
	/* Cut before the name: dropped, as a short ring buffer record. */
	assert_int_equal(
		decode(msg, len - strlen("evil.test") - 1, &got, &e, got_name),
		-1);
	/* No domain, the longest name. */
	memset(name, 'a', AWF_NAME_LEN - 1);
	v.domain = NULL;
	len = control_event_encode(msg, &v);
	assert_int_equal(decode(msg, len, &got, &e, got_name), 0);
	assert_null(got.domain);
	assert_int_equal(strlen(got.name), AWF_NAME_LEN - 1);
	/* An empty name is a name. */
	name[0] = '\0';
	len = control_event_encode(msg, &v);
	assert_int_equal(decode(msg, len, &got, &e, got_name), 0);
	assert_string_equal(got.name, "");
}

/* Other kinds carry no name, whatever follows the domain. */
static void test_relay_connect(void **state)
{
	struct awf_name_event ne =
		name_event(AWF_EV_TLS, "198.18.0.10", 443, "x.test");
	char msg[CONTROL_EVENT_LEN], name[AWF_NAME_LEN];
	struct event_view v = { .e = &ne.ev, .domain = "allowed.test" };
	struct awf_event e;
	size_t len;

	(void)state;
	ne.ev.kind = AWF_EV_CONNECT;
	len = control_event_encode(msg, &v);
	assert_int_equal(len, 1 + sizeof(e) + strlen("allowed.test") + 1);
	assert_int_equal(decode(msg, len, &v, &e, name), 0);
	assert_string_equal(v.domain, "allowed.test");
	assert_null(v.name);
	assert_int_equal(decode(msg, sizeof(e), &v, &e, name), -1);
}

static void test_name_escape_round_trip(void **state)
{
	const char *raw = "a\\b\"c d\x01\xff.test";
	char esc[EVENT_NAME_ESC_LEN], back[AWF_NAME_LEN];
	char longest[AWF_NAME_LEN];

	(void)state;
	event_name_escape(raw, esc);
	assert_string_equal(esc, "a\\092b\"c\\032d\\001\\255.test");
	event_name_unescape(esc, back);
	assert_string_equal(back, raw);
	/* A backslash that starts no \DDD stays as it is. */
	event_name_unescape("a\\b\\000\\256", back);
	assert_string_equal(back, "a\\b\\000\\256");
	/* Every byte escaped: still fits. */
	memset(longest, 0xfe, sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	event_name_escape(longest, esc);
	assert_int_equal(strlen(esc), 4 * (AWF_NAME_LEN - 1));
	event_name_unescape(esc, back);
	assert_string_equal(back, longest);
}

int main(void)
{
	struct test_list l = { 0 };

	TL_ROWS(&l, test_line, line_rows);
	tl_add(&l, "audit_record", test_audit_record, NULL);
	tl_add(&l, "audit_record_name_member", test_audit_record_name_member,
	       NULL);
	tl_add(&l, "audit_record_audit_only", test_audit_record_audit_only,
	       NULL);
	tl_add(&l, "line_comm_cleaned", test_line_comm_cleaned, NULL);
	tl_add(&l, "parse_sizes", test_parse_sizes, NULL);
	tl_add(&l, "parse_unterminated_name", test_parse_unterminated_name,
	       NULL);
	tl_add(&l, "name_escape_round_trip", test_name_escape_round_trip, NULL);
	tl_add(&l, "relay_round_trip", test_relay_round_trip, NULL);
	tl_add(&l, "relay_connect", test_relay_connect, NULL);
	return tl_run("events", &l);
}
