// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit_codes.h"
#include "audit/audit_log.h"
#include "audit/event_view.h"
#include "common/error.h"
#include "kernel/counters.h"
#include "dns/dns_filter.h"
#include "common/log.h"

#ifndef AWF_VERSION
#define AWF_VERSION "0.0.0"
#endif

#define NS_PER_MS 1000000LL

void audit_real_time(uint64_t real_ns, char *buf, size_t len)
{
	long long ms = (long long)(real_ns / NS_PER_MS);
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&secs, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* The kernel stamps events with CLOCK_MONOTONIC: shift to wall time. */
void audit_mono_time(uint64_t mono_ns, char *buf, size_t len)
{
	struct timespec mono, real;
	long long now_mono, now_real;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	now_mono = (long long)mono.tv_sec * 1000000000LL + mono.tv_nsec;
	now_real = (long long)real.tv_sec * 1000000000LL + real.tv_nsec;
	audit_real_time((uint64_t)(now_real - (now_mono - (long long)mono_ns)),
			buf, len);
}

static void add_str(json_object *o, const char *key, const char *val)
{
	json_object_object_add(o, key, json_object_new_string(val));
}

static void add_int(json_object *o, const char *key, int64_t val)
{
	json_object_object_add(o, key, json_object_new_int64(val));
}

/* The members every line starts with. */
static json_object *record_new(const struct audit_log *a, const char *kind,
			       const char *time)
{
	json_object *o = json_object_new_object();
	char now[64];
	struct timespec ts;

	if (!o)
		return NULL;
	if (!time) {
		clock_gettime(CLOCK_REALTIME, &ts);
		audit_real_time((uint64_t)ts.tv_sec * 1000000000ULL +
					(uint64_t)ts.tv_nsec,
				now, sizeof(now));
		time = now;
	}
	add_int(o, "schema", AUDIT_SCHEMA_VERSION);
	add_str(o, "time", time);
	add_str(o, "sandbox", a->sandbox);
	add_str(o, "event", kind);
	return o;
}

static void oom(void)
{
	log_error("audit log: out of memory");
}

/* One line per record, flushed: a crash loses at most this line. */
static void record_write(struct audit_log *a, json_object *o)
{
	if (fprintf(a->f, "%s\n",
		    json_object_to_json_string_ext(
			    o, JSON_C_TO_STRING_PLAIN |
				       JSON_C_TO_STRING_NOSLASHESCAPE)) < 0 ||
	    fflush(a->f) != 0)
		log_error("audit log: %s", strerror(errno));
	json_object_put(o);
}

static void add_addr(json_object *o, const char *key, int family,
		     const uint8_t *addr)
{
	char buf[INET6_ADDRSTRLEN];

	if (!inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, addr, buf,
		       sizeof(buf)))
		snprintf(buf, sizeof(buf), "?");
	add_str(o, key, buf);
}

/* Only on a denial audit-only mode let through: absent on every other. */
static void add_audit_only(json_object *o, bool audit_only)
{
	if (audit_only)
		json_object_object_add(o, "audit_only",
				       json_object_new_boolean(true));
}

static void add_process(json_object *o, const struct awf_event *e)
{
	char comm[AWF_COMM_LEN + 1];

	add_int(o, "pid", e->pid);
	add_int(o, "tid", e->tid);
	add_int(o, "uid", e->uid);
	memcpy(comm, e->comm, AWF_COMM_LEN);
	comm[AWF_COMM_LEN] = '\0';
	add_str(o, "comm", comm);
	add_int(o, "cgroup_id", (int64_t)e->cgroup_id);
}

/* The destination, and what the address and the first bytes are known by. */
static void add_dest(json_object *o, const struct event_view *v)
{
	const struct awf_event *e = v->e;
	char name[EVENT_NAME_ESC_LEN];

	add_addr(o, "src", e->family, e->saddr);
	add_int(o, "sport", e->sport);
	add_addr(o, "dst", e->family, e->daddr);
	add_int(o, "dport", e->dport);
	if (e->rule_id)
		add_int(o, "rule_id", e->rule_id);
	if (e->name_id) {
		add_int(o, "name_id", e->name_id);
		if (v->domain)
			add_str(o, "domain", v->domain);
	}
	if (v->name) {
		event_name_escape(v->name, name);
		add_str(o, "name", name);
	}
}

void audit_log_event(struct audit_log *a, const struct event_view *v)
{
	const struct awf_event *e = v->e;
	/* A socket's protocol may not fit the 8-bit proto (MPTCP is 262). */
	unsigned int nr = e->kind == AWF_EV_SOCK_CREATE ?
				  (unsigned int)e->sock_proto :
				  e->proto;
	const char *proto = proto_code(nr);
	char time[64];
	json_object *o;

	audit_mono_time(e->ts_ns, time, sizeof(time));
	o = record_new(a, event_kind_code(e->kind), time);
	if (!o) {
		oom();
		return;
	}
	add_str(o, "verdict", verdict_code(e->verdict));
	add_str(o, "reason", reason_code(e->reason));
	add_str(o, "reason_text", reason_text(e->reason));
	add_audit_only(o, e->flags & AWF_EVF_AUDIT_ONLY);
	add_process(o, e);
	add_str(o, "family", e->family == AF_INET6 ? "ipv6" : "ipv4");
	if (proto)
		add_str(o, "proto", proto);
	else
		add_int(o, "proto", nr);
	if (e->kind == AWF_EV_SOCK_CREATE) {
		add_int(o, "sock_type", e->sock_type);
		add_str(o, "sock_type_name",
			sock_type_code((unsigned int)e->sock_type));
		return record_write(a, o);
	}
	add_dest(o, v);
	record_write(a, o);
}

void audit_log_dns(struct audit_log *a, const struct dns_decision *d)
{
	json_object *o = record_new(a, "dns", NULL);

	if (!o) {
		oom();
		return;
	}
	add_str(o, "verdict", d->allowed ? "allow" : "deny");
	add_str(o, "reason", reason_code(d->code));
	add_str(o, "reason_text", d->reason);
	add_audit_only(o, d->audit_only);
	add_str(o, "name", d->name);
	add_str(o, "qtype", d->qtype);
	if (!d->allowed)
		add_int(o, "rcode", d->rcode);
	else
		add_int(o, "learned", (int64_t)d->n_learned);
	if (d->cached)
		json_object_object_add(o, "cached", json_object_new_boolean(1));
	record_write(a, o);
}

void audit_log_lost(struct audit_log *a, uint64_t count, uint64_t total)
{
	json_object *o = record_new(a, "lost", NULL);

	if (!o) {
		oom();
		return;
	}
	add_int(o, "count", (int64_t)count);
	add_int(o, "total", (int64_t)total);
	record_write(a, o);
}

void audit_log_start(struct audit_log *a, const struct audit_start *st)
{
	json_object *o = record_new(a, "start", NULL);
	json_object *cmd = json_object_new_array();

	if (!o || !cmd) {
		json_object_put(cmd);
		json_object_put(o);
		oom();
		return;
	}
	add_str(o, "version", AWF_VERSION);
	add_int(o, "awf_pid", st->awf_pid);
	add_int(o, "pid", st->pid);
	add_int(o, "uid", st->uid);
	add_str(o, "user", st->user);
	add_int(o, "cgroup_id", (int64_t)st->cgroup_id);
	for (char *const *arg = st->argv; *arg; arg++)
		json_object_array_add(cmd, json_object_new_string(*arg));
	json_object_object_add(o, "command", cmd);
	record_write(a, o);
}

void audit_log_end(struct audit_log *a, int status, const uint64_t *counters,
		   uint64_t lost)
{
	json_object *o = record_new(a, "end", NULL);

	if (!o) {
		oom();
		return;
	}
	json_object_object_add(o, "exit_status",
			       status < 0 ? NULL : json_object_new_int(status));
	add_int(o, "events_lost", (int64_t)lost);
	if (counters)
		json_object_object_add(o, "counters",
				       counters_to_json(counters));
	record_write(a, o);
}

int audit_log_open(struct audit_log *a, const char *path, const char *sandbox,
		   char *err, size_t errlen)
{
	int fd;

	a->sandbox = sandbox;
	a->f = NULL;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0 || !(a->f = fdopen(fd, "a"))) {
		set_err(err, errlen, "--audit-log %s: %s", path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return 0;
}

void audit_log_close(struct audit_log *a)
{
	if (a->f && fclose(a->f) != 0)
		log_error("audit log: %s", strerror(errno));
	a->f = NULL;
}
