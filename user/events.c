// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <unistd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <bpf/libbpf.h>

#include "dns_filter.h"
#include "events.h"
#include "log.h"

static const char *const reason_texts[AWF_R_MAX] = {
	[AWF_R_NONE] = "none",
	[AWF_R_NOT_IN_POLICY] = "not in policy",
	[AWF_R_PORT_NOT_ALLOWED] = "port not allowed",
	[AWF_R_RESERVED_RANGE] = "link-local/metadata range",
	[AWF_R_LOOPBACK] = "loopback port not allowed",
	[AWF_R_IPV6_DISABLED] = "ipv6 disabled by policy",
	[AWF_R_SOCKET_TYPE] = "socket type not allowed",
	[AWF_R_BACKSTOP] = "dropped by packet backstop",
	[AWF_R_DNS_REDIRECT] = "dns sent to the awf-bpf resolver",
	[AWF_R_CIDR] = "allow_cidrs",
	[AWF_R_PROXY] = "proxy",
	[AWF_R_LEARNED] = "learned from an allowed domain",
	[AWF_R_PROXY_ONLY] = "proxy-only mode: use the proxy",
};

static const char *const verdict_texts[] = {
	[AWF_ALLOW] = "allow",
	[AWF_DENY] = "deny",
	[AWF_REDIRECT] = "redirect",
};

static const char *const kind_texts[] = {
	[AWF_EV_CONNECT] = "connect",
	[AWF_EV_SENDMSG] = "sendmsg",
	[AWF_EV_SOCK_CREATE] = "socket",
	[AWF_EV_PACKET] = "packet",
};

#define TEXT_OF(table, i) \
	((i) < sizeof(table) / sizeof(table[0]) && table[i] ? table[i] : "unknown")

const char *event_reason_text(unsigned int reason)
{
	return TEXT_OF(reason_texts, reason);
}

static const char *proto_text(unsigned int proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	case IPPROTO_SCTP:
		return "sctp";
	case IPPROTO_RAW:
		return "raw";
	case IPPROTO_MPTCP:
		return "mptcp";
	case IPPROTO_UDPLITE:
		return "udplite";
	default:
		return NULL;
	}
}

static void addr_text(const struct awf_event *e, char *buf, size_t len)
{
	if (!inet_ntop(e->family == AF_INET ? AF_INET : AF_INET6, e->daddr,
		       buf, len))
		snprintf(buf, len, "?");
}

static void sock_type_text(const struct awf_event *e, char *buf, size_t len)
{
	static const char *const types[] = { [1] = "stream", [2] = "dgram",
					     [3] = "raw",    [4] = "rdm",
					     [5] = "seqpacket", [10] = "packet" };
	const char *type = TEXT_OF(types, (unsigned int)e->sock_type);
	const char *proto = proto_text(e->proto);

	if (proto)
		snprintf(buf, len, "%s %s/%s",
			 e->family == AF_INET6 ? "ipv6" : "ipv4", type, proto);
	else
		snprintf(buf, len, "%s %s/protocol %u",
			 e->family == AF_INET6 ? "ipv6" : "ipv4", type, e->proto);
}

void event_format_line(const struct awf_event *e, char *buf, size_t len)
{
	const char *proto = proto_text(e->proto);
	char what[96], addr[INET6_ADDRSTRLEN];

	if (e->kind == AWF_EV_SOCK_CREATE) {
		sock_type_text(e, what, sizeof(what));
		snprintf(buf, len, "%s socket %s from pid %u (%.16s): %s",
			 e->verdict == AWF_DENY ? "denied" : "allowed", what,
			 e->pid, e->comm, event_reason_text(e->reason));
		return;
	}
	addr_text(e, addr, sizeof(addr));
	snprintf(buf, len, "%s %s %s%s%s:%u from pid %u (%.16s): %s",
		 e->verdict == AWF_DENY ? "denied" :
		 e->verdict == AWF_REDIRECT ? "redirected" : "allowed",
		 proto ? proto : "ip", e->family == AF_INET6 ? "[" : "", addr,
		 e->family == AF_INET6 ? "]" : "", e->dport, e->pid, e->comm,
		 event_reason_text(e->reason));
}

/* Monotonic event time to wall-clock ISO 8601, to the millisecond. */
static void event_time_text(__u64 ts_ns, char *buf, size_t len)
{
	struct timespec mono, real;
	long long wall_ms;
	time_t secs;
	struct tm tm;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	wall_ms = (long long)real.tv_sec * 1000 + real.tv_nsec / 1000000 -
		  ((long long)mono.tv_sec * 1000000000LL + mono.tv_nsec -
		   (long long)ts_ns) / 1000000;
	secs = (time_t)(wall_ms / 1000);
	gmtime_r(&secs, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (int)(wall_ms % 1000));
}

static void json_add_str(json_object *o, const char *key, const char *val)
{
	json_object_object_add(o, key, json_object_new_string(val));
}

static void json_add_int(json_object *o, const char *key, int64_t val)
{
	json_object_object_add(o, key, json_object_new_int64(val));
}

static json_object *event_to_json(const struct events *ev,
				  const struct awf_event *e)
{
	json_object *o = json_object_new_object();
	char buf[64], comm[AWF_COMM_LEN + 1];
	const char *proto = proto_text(e->proto);

	if (!o)
		return NULL;
	json_add_int(o, "schema", AUDIT_SCHEMA_VERSION);
	event_time_text(e->ts_ns, buf, sizeof(buf));
	json_add_str(o, "time", buf);
	json_add_str(o, "sandbox", ev->sandbox);
	json_add_str(o, "event", TEXT_OF(kind_texts, e->kind));
	json_add_str(o, "verdict", TEXT_OF(verdict_texts, e->verdict));
	json_add_str(o, "reason", event_reason_text(e->reason));
	json_add_int(o, "pid", e->pid);
	json_add_int(o, "tid", e->tid);
	json_add_int(o, "uid", e->uid);
	memcpy(comm, e->comm, AWF_COMM_LEN);
	comm[AWF_COMM_LEN] = '\0';
	json_add_str(o, "comm", comm);
	json_add_int(o, "cgroup_id", (int64_t)e->cgroup_id);
	json_add_str(o, "family", e->family == AF_INET6 ? "ipv6" : "ipv4");
	if (proto)
		json_add_str(o, "proto", proto);
	else
		json_add_int(o, "proto", e->proto);
	if (e->kind == AWF_EV_SOCK_CREATE) {
		json_add_int(o, "sock_type", e->sock_type);
		return o;
	}
	addr_text(e, buf, sizeof(buf));
	json_add_str(o, "dst", buf);
	json_add_int(o, "dport", e->dport);
	if (e->rule_id)
		json_add_int(o, "rule_id", e->rule_id);
	return o;
}

/* One line per event, flushed: a crash loses at most this line. */
static void audit_write_json(struct events *ev, json_object *o)
{
	if (fprintf(ev->audit, "%s\n",
		    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)) < 0 ||
	    fflush(ev->audit) != 0)
		log_error("audit log: %s", strerror(errno));
	json_object_put(o);
}

static void audit_write(struct events *ev, const struct awf_event *e)
{
	json_object *o = event_to_json(ev, e);

	if (!o) {
		log_error("audit log: out of memory");
		return;
	}
	audit_write_json(ev, o);
}

static void audit_dns(struct events *ev, const struct dns_decision *d)
{
	json_object *o = json_object_new_object();
	char now[64];

	if (!o)
		return;
	json_add_int(o, "schema", AUDIT_SCHEMA_VERSION);
	event_time_text(learned_now_ns(), now, sizeof(now));
	json_add_str(o, "time", now);
	json_add_str(o, "sandbox", ev->sandbox);
	json_add_str(o, "event", "dns");
	json_add_str(o, "verdict", d->allowed ? "allow" : "deny");
	json_add_str(o, "reason", d->reason);
	json_add_str(o, "name", d->name);
	json_add_str(o, "qtype", d->qtype);
	if (!d->allowed)
		json_add_int(o, "rcode", d->rcode);
	else
		json_add_int(o, "learned", (int64_t)d->n_learned);
	audit_write_json(ev, o);
}

void events_dns_decision(void *ctx, const struct dns_decision *d)
{
	struct events *ev = ctx;
	const char *name = d->name[0] ? d->name : ".";

	if (!d->allowed) {
		ev->denied++;
		log_info("denied dns %s %s: %s", d->qtype, name, d->reason);
	} else {
		log_debug("allowed dns %s %s: %zu addresses learned", d->qtype,
			  name, d->n_learned);
	}
	if (ev->audit)
		audit_dns(ev, d);
}

static int handle_event(void *ctx, void *data, size_t size)
{
	struct events *ev = ctx;
	const struct awf_event *e = data;
	char line[256];

	if (size < sizeof(*e))
		return 0;
	if (e->verdict == AWF_DENY) {
		ev->denied++;
		event_format_line(e, line, sizeof(line));
		log_info("%s", line);
	} else if (log_threshold <= LOG_LVL_DEBUG) {
		event_format_line(e, line, sizeof(line));
		log_debug("%s", line);
	}
	if (ev->audit)
		audit_write(ev, e);
	return 0;
}

static int on_ringbuf_ready(struct ev_source *src, uint32_t events)
{
	struct events *ev = (struct events *)src;

	(void)events;
	events_drain(ev);
	return 0;
}

int events_open(struct events *ev, int ringbuf_fd, int epfd,
		const char *audit_path, const char *sandbox, char *err,
		size_t errlen)
{
	memset(ev, 0, sizeof(*ev));
	ev->sandbox = sandbox;
	if (audit_path) {
		int fd = open(audit_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			      0640);

		if (fd < 0 || !(ev->audit = fdopen(fd, "a"))) {
			snprintf(err, errlen, "--audit-log %s: %s", audit_path,
				 strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
	}
	ev->rb = ring_buffer__new(ringbuf_fd, handle_event, ev, NULL);
	if (!ev->rb) {
		snprintf(err, errlen, "ring buffer: %s", strerror(errno));
		events_close(ev);
		return -1;
	}
	ev->src.fd = ring_buffer__epoll_fd(ev->rb);
	ev->src.on_ready = on_ringbuf_ready;
	if (ev_add(epfd, &ev->src, EPOLLIN) < 0) {
		snprintf(err, errlen, "ring buffer: cannot watch it");
		events_close(ev);
		return -1;
	}
	return 0;
}

void events_drain(struct events *ev)
{
	int ret = ring_buffer__consume(ev->rb);

	if (ret < 0 && ret != -EINTR)
		log_error("reading events: %s", strerror(-ret));
}

void events_close(struct events *ev)
{
	if (ev->rb)
		ring_buffer__free(ev->rb);
	ev->rb = NULL;
	if (ev->audit)
		fclose(ev->audit);
	ev->audit = NULL;
}
