// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "awf.h"
#include "audit/audit_codes.h"
#include "audit/event_view.h"
#include "kernel/counters.h"
#include "audit/logs_format.h"
#include "audit/summary.h"

int logs_format_parse(const char *name)
{
	if (!strcmp(name, "pretty") || !strcmp(name, "text"))
		return LOGS_PRETTY;
	if (!strcmp(name, "json"))
		return LOGS_JSON;
	if (!strcmp(name, "markdown") || !strcmp(name, "md"))
		return LOGS_MARKDOWN;
	return -1;
}

const char *logs_record_str(json_object *rec, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(rec, key, &v) || !v)
		return "";
	return json_object_get_string(v);
}

static int64_t int_of(json_object *rec, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(rec, key, &v) || !v)
		return 0;
	return json_object_get_int64(v);
}

static bool has(json_object *rec, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(rec, key, &v) && v;
}

/* A boolean member that is absent unless true ("audit_only"). */
static bool is_true(json_object *rec, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(rec, key, &v) &&
	       json_object_is_type(v, json_type_boolean) &&
	       json_object_get_boolean(v);
}

static bool is_net_kind(const char *kind)
{
	return !strcmp(kind, "connect") || !strcmp(kind, "sendmsg") ||
	       !strcmp(kind, "packet") || !strcmp(kind, "socket") ||
	       !strcmp(kind, "bind");
}

/* tls, http, payload: a name event's record. */
static bool is_name_kind(const char *kind)
{
	int k = event_kind_from_code(kind);

	return k > 0 && event_kind_has_name((unsigned int)k);
}

/* Log text came from the workload: keep it to printable ASCII. */
static void put_clean(FILE *out, const char *s)
{
	for (; *s; s++)
		fputc(isprint((unsigned char)*s) ? *s : '?', out);
}

/* enum awf_verdict of a record's "verdict". */
static unsigned int verdict_of(json_object *rec)
{
	const char *verdict = logs_record_str(rec, "verdict");

	if (!strcmp(verdict, "deny"))
		return AWF_DENY;
	if (!strcmp(verdict, "redirect"))
		return AWF_REDIRECT;
	return AWF_ALLOW;
}

/* The line of a name record, as events.c has it; name: its bytes. */
static void name_line_of(json_object *rec, struct name_line *l,
			 char name[AWF_NAME_LEN])
{
	const char *dst = logs_record_str(rec, "dst");
	int kind = event_kind_from_code(logs_record_str(rec, "event"));

	event_name_unescape(logs_record_str(rec, "name"), name);
	*l = (struct name_line){
		.kind = kind < 0 ? 0 : (unsigned int)kind,
		.verdict = verdict_of(rec),
		.name = name,
		.dst = dst,
		.v6 = strchr(dst, ':') != NULL,
		.port = (unsigned int)int_of(rec, "dport"),
		.pid = (unsigned int)int_of(rec, "pid"),
		.comm = logs_record_str(rec, "comm"),
		.reason = logs_record_str(rec, "reason_text"),
	};
}

static void pretty_name(json_object *rec, FILE *out)
{
	char name[AWF_NAME_LEN], line[EVENT_LINE_LEN];
	struct name_line l;

	name_line_of(rec, &l, name);
	name_line_format(&l, line, sizeof(line));
	fputs(line, out);
}

/*
 * "tcp 198.18.0.20:80", "tls sni NAME to 198.18.0.20:443", with_domain:
 * "... (name)"; "socket ipv4 raw/icmp".
 */
static void what_net(json_object *rec, FILE *out, bool with_domain)
{
	const char *kind = logs_record_str(rec, "event");
	const char *dst = logs_record_str(rec, "dst");
	char name[AWF_NAME_LEN], what[EVENT_LINE_LEN];
	bool v6 = strchr(dst, ':') != NULL;
	struct name_line l;

	if (!strcmp(kind, "socket")) {
		fprintf(out, "socket %s %s/%s", logs_record_str(rec, "family"),
			logs_record_str(rec, "sock_type_name"),
			logs_record_str(rec, "proto"));
		return;
	}
	if (is_name_kind(kind)) {
		name_line_of(rec, &l, name);
		name_line_what(&l, what, sizeof(what));
		fputs(what, out);
	} else {
		fprintf(out, "%s %s%s%s:%lld", logs_record_str(rec, "proto"),
			v6 ? "[" : "", dst, v6 ? "]" : "",
			(long long)int_of(rec, "dport"));
	}
	if (with_domain && has(rec, "domain")) {
		fputs(" (", out);
		put_clean(out, logs_record_str(rec, "domain"));
		fputs(")", out);
	}
}

/* As the stderr line of run (events.c): the name, if any, goes last. */
static void pretty_net(json_object *rec, FILE *out)
{
	fprintf(out, "%s ", verdict_word(verdict_of(rec)));
	what_net(rec, out, false);
	fprintf(out, " from pid %lld (", (long long)int_of(rec, "pid"));
	put_clean(out, logs_record_str(rec, "comm"));
	fprintf(out, "): %s", logs_record_str(rec, "reason_text"));
	if (has(rec, "domain")) {
		fputs(" (", out);
		put_clean(out, logs_record_str(rec, "domain"));
		fputs(")", out);
	}
}

static void pretty_dns(json_object *rec, FILE *out)
{
	fprintf(out, "%s dns %s ", verdict_word(verdict_of(rec)),
		logs_record_str(rec, "qtype"));
	put_clean(out, logs_record_str(rec, "name"));
	if (!strcmp(logs_record_str(rec, "verdict"), "allow"))
		fprintf(out, ": %lld %s learned",
			(long long)int_of(rec, "learned"),
			int_of(rec, "learned") == 1 ? "address" : "addresses");
	else
		fprintf(out, ": %s", logs_record_str(rec, "reason_text"));
}

void logs_put_command(FILE *out, json_object *cmd)
{
	for (size_t i = 0; cmd && i < json_object_array_length(cmd); i++) {
		if (i)
			fputc(' ', out);
		put_clean(out, json_object_get_string(
				       json_object_array_get_idx(cmd, i)));
	}
}

static void pretty_start(json_object *rec, FILE *out)
{
	json_object *cmd = NULL;

	fprintf(out, "start: pid %lld, user %s (uid %lld):",
		(long long)int_of(rec, "pid"), logs_record_str(rec, "user"),
		(long long)int_of(rec, "uid"));
	json_object_object_get_ex(rec, "command", &cmd);
	if (cmd && json_object_array_length(cmd)) {
		fputc(' ', out);
		logs_put_command(out, cmd);
	}
}

static void pretty_end(json_object *rec, FILE *out)
{
	if (has(rec, "exit_status"))
		fprintf(out, "end: exit status %lld",
			(long long)int_of(rec, "exit_status"));
	else
		fprintf(out, "end: the command did not run");
	if (int_of(rec, "events_lost"))
		fprintf(out, ", %lld events lost",
			(long long)int_of(rec, "events_lost"));
}

static void print_pretty(json_object *rec, FILE *out)
{
	const char *kind = logs_record_str(rec, "event");

	fprintf(out, "%s %s ", logs_record_str(rec, "time"),
		logs_record_str(rec, "sandbox"));
	if (is_name_kind(kind))
		pretty_name(rec, out);
	else if (is_net_kind(kind))
		pretty_net(rec, out);
	else if (!strcmp(kind, "dns"))
		pretty_dns(rec, out);
	else if (!strcmp(kind, "start"))
		pretty_start(rec, out);
	else if (!strcmp(kind, "end"))
		pretty_end(rec, out);
	else if (!strcmp(kind, "lost"))
		fprintf(out, "lost %lld events (ring buffer full)",
			(long long)int_of(rec, "count"));
	else
		fputs(json_object_to_json_string_ext(
			      rec, JSON_C_TO_STRING_PLAIN |
					   JSON_C_TO_STRING_NOSLASHESCAPE),
		      out);
	fputc('\n', out);
}

static void print_markdown(json_object *rec, FILE *out)
{
	const char *kind = logs_record_str(rec, "event");
	char what[EVENT_LINE_LEN + AWF_NAME_LEN] = "";
	FILE *mem = fmemopen(what, sizeof(what) - 1, "w");

	if (mem) {
		if (is_net_kind(kind) || is_name_kind(kind))
			what_net(rec, mem, true);
		else if (!strcmp(kind, "dns"))
			fprintf(mem, "%s %s", logs_record_str(rec, "qtype"),
				logs_record_str(rec, "name"));
		else if (!strcmp(kind, "lost"))
			fprintf(mem, "%lld events",
				(long long)int_of(rec, "count"));
		fclose(mem);
	}
	fprintf(out, "| %s | %s | %s | %s | ", logs_record_str(rec, "time"),
		logs_record_str(rec, "sandbox"), kind,
		logs_record_str(rec, "verdict"));
	summary_md_put(out, what);
	fputs(" | ", out);
	if (has(rec, "comm")) {
		summary_md_put(out, logs_record_str(rec, "comm"));
		fprintf(out, " (%lld)", (long long)int_of(rec, "pid"));
	}
	fputs(" | ", out);
	summary_md_put(out, logs_record_str(rec, "reason_text"));
	fputs(" |\n", out);
}

void logs_print_header(enum logs_format f, FILE *out)
{
	if (f == LOGS_MARKDOWN)
		fputs("| Time | Sandbox | Event | Verdict | Destination | Process | Reason |\n"
		      "|---|---|---|---|---|---|---|\n",
		      out);
}

void logs_print_record(enum logs_format f, json_object *rec, FILE *out)
{
	switch (f) {
	case LOGS_PRETTY:
		print_pretty(rec, out);
		break;
	case LOGS_JSON:
		fprintf(out, "%s\n",
			json_object_to_json_string_ext(
				rec, JSON_C_TO_STRING_PLAIN |
					     JSON_C_TO_STRING_NOSLASHESCAPE));
		break;
	case LOGS_MARKDOWN:
		print_markdown(rec, out);
		break;
	}
}

static unsigned int proto_of(json_object *rec)
{
	static const unsigned int protos[] = { IPPROTO_TCP,   IPPROTO_UDP,
					       IPPROTO_ICMP,  IPPROTO_ICMPV6,
					       IPPROTO_SCTP,  IPPROTO_RAW,
					       IPPROTO_MPTCP, IPPROTO_UDPLITE };
	json_object *v;

	if (!json_object_object_get_ex(rec, "proto", &v) || !v)
		return 0;
	if (json_object_is_type(v, json_type_int))
		return (unsigned int)json_object_get_int(v);
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (!strcmp(proto_code(protos[i]), json_object_get_string(v)))
			return protos[i];
	return 0;
}

static void summarize_net(struct summary *s, json_object *rec)
{
	int kind = event_kind_from_code(logs_record_str(rec, "event"));
	int reason = reason_from_code(logs_record_str(rec, "reason"));
	char name[AWF_NAME_LEN];
	struct summary_net n = {
		.kind = kind < 0 ? AWF_EV_CONNECT : (unsigned int)kind,
		.verdict = verdict_of(rec),
		.reason = reason < 0 ? AWF_R_NONE : (unsigned int)reason,
		.family = strcmp(logs_record_str(rec, "family"), "ipv6") ?
				  AF_INET :
				  AF_INET6,
		.proto = proto_of(rec),
		.sock_type = (int)int_of(rec, "sock_type"),
		.port = (uint16_t)int_of(rec, "dport"),
		.pid = (uint32_t)int_of(rec, "pid"),
		.comm = logs_record_str(rec, "comm"),
		.domain = has(rec, "domain") ? logs_record_str(rec, "domain") :
					       NULL,
		.audit_only = is_true(rec, "audit_only"),
	};

	if (event_kind_has_name(n.kind)) {
		event_name_unescape(logs_record_str(rec, "name"), name);
		n.name = name;
	}

	if (n.kind != AWF_EV_SOCK_CREATE &&
	    inet_pton(n.family, logs_record_str(rec, "dst"), n.addr) != 1)
		memset(n.addr, 0, sizeof(n.addr));
	summary_add_net(s, &n);
}

void logs_summarize(struct summary *s, json_object *rec)
{
	const char *kind = logs_record_str(rec, "event");
	json_object *counters;
	uint64_t c[AWF_C_MAX];
	int reason;

	if (is_net_kind(kind) || is_name_kind(kind)) {
		summarize_net(s, rec);
	} else if (!strcmp(kind, "dns")) {
		reason = reason_from_code(logs_record_str(rec, "reason"));
		summary_add_dns(
			s, logs_record_str(rec, "name"),
			!strcmp(logs_record_str(rec, "verdict"), "allow"),
			reason < 0 ? AWF_R_NONE : (unsigned int)reason,
			is_true(rec, "audit_only"));
	} else if (!strcmp(kind, "lost")) {
		summary_add_lost(s, (uint64_t)int_of(rec, "count"));
	} else if (!strcmp(kind, "start")) {
		summary_add_run(s);
	} else if (!strcmp(kind, "end") &&
		   json_object_object_get_ex(rec, "counters", &counters) &&
		   counters) {
		counters_from_json(counters, c);
		summary_add_counters(s, c);
	}
}
