// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "audit/audit_codes.h"
#include "audit/event_view.h"
#include "common/error.h"
#include "kernel/counters.h"
#include "dns/dns_filter.h"
#include "audit/events.h"
#include "dns/learned.h"
#include "common/log.h"
#include "kernel/publish.h"
#include "audit/summary.h"

const char *event_reason_text(unsigned int reason)
{
	return reason_text(reason);
}

static void addr_text(int family, const uint8_t *addr, char *buf, size_t len)
{
	if (!inet_ntop(family == AF_INET ? AF_INET : AF_INET6, addr, buf, len))
		snprintf(buf, len, "?");
}

static void sock_type_text(const struct awf_event *e, char *buf, size_t len)
{
	const char *type = sock_type_code((unsigned int)e->sock_type);
	/* proto is 8 bits: MPTCP (262) would read as TCP there. */
	const char *proto = proto_code((unsigned int)e->sock_proto);

	if (proto)
		snprintf(buf, len, "%s %s/%s",
			 e->family == AF_INET6 ? "ipv6" : "ipv4", type, proto);
	else
		snprintf(buf, len, "%s %s/protocol %d",
			 e->family == AF_INET6 ? "ipv6" : "ipv4", type,
			 e->sock_proto);
}

static void name_line_of(const struct awf_event *e, const char *name,
			 char *addr, struct name_line *l)
{
	addr_text(e->family, e->daddr, addr, INET6_ADDRSTRLEN);
	*l = (struct name_line){
		.kind = e->kind,
		.verdict = e->verdict,
		.name = name,
		.dst = addr,
		.v6 = e->family == AF_INET6,
		.port = e->dport,
		.pid = e->pid,
		.comm = e->comm,
		.reason = event_reason_text(e->reason),
	};
}

void event_format_line(const struct event_view *v, char *buf, size_t len)
{
	const struct awf_event *e = v->e;
	const char *proto = proto_code(e->proto);
	char what[96], addr[INET6_ADDRSTRLEN], comm[EVENT_COMM_TEXT_LEN];
	struct name_line l;

	if (v->name) {
		name_line_of(e, v->name, addr, &l);
		name_line_format(&l, buf, len);
		return;
	}
	event_comm_clean(e->comm, comm);
	if (e->kind == AWF_EV_SOCK_CREATE) {
		sock_type_text(e, what, sizeof(what));
		snprintf(buf, len, "%s socket %s from pid %u (%s): %s",
			 verdict_word(e->verdict), what, e->pid, comm,
			 event_reason_text(e->reason));
		return;
	}
	addr_text(e->family, e->daddr, addr, sizeof(addr));
	/* The name goes last: scripts match the line up to the reason. */
	snprintf(buf, len, "%s %s %s%s%s:%u from pid %u (%s): %s%s%s%s",
		 verdict_word(e->verdict), proto ? proto : "ip",
		 e->family == AF_INET6 ? "[" : "", addr,
		 e->family == AF_INET6 ? "]" : "", e->dport, e->pid, comm,
		 event_reason_text(e->reason), v->domain ? " (" : "",
		 v->domain ? v->domain : "", v->domain ? ")" : "");
}

static const char *domain_of(const struct events *ev, uint32_t name_id)
{
	if (!name_id || !ev->names)
		return NULL;
	return learned_store_name(ev->names, name_id);
}

static void flush_user_counters(struct ev_deferred *d)
{
	struct events *ev = container_of(d, struct events, flush);

	for (uint32_t idx = 0; idx < AWF_C_MAX; idx++) {
		if (!ev->user_dirty[idx])
			continue;
		ev->user_dirty[idx] = false;
		if (counters_store(ev->counters_fd, idx,
				   ev->user_counters[idx]))
			log_warn("counters map: slot %u: %s", idx,
				 strerror(errno));
	}
}

/*
 * The counters map holds the DNS decisions too, for `dump` and `status`:
 * written once per batch of the loop, not once per query (a map write is
 * a syscall, dearer than the rest of a cached answer).
 */
static void count_user(struct events *ev, uint32_t idx)
{
	ev->user_counters[idx]++;
	if (ev->counters_fd < 0)
		return;
	ev->user_dirty[idx] = true;
	ev->flush.run = flush_user_counters;
	ev_defer(&ev->flush);
}

size_t dns_counter_indexes(const struct dns_decision *d, uint32_t idx[2])
{
	if (d->allowed) {
		idx[0] = AWF_C_DNS_ALLOWED;
		return 1;
	}
	if (d->code == AWF_R_DNS_UPSTREAM_FAILURE ||
	    d->code == AWF_R_DNS_BAD_ANSWER)
		idx[0] = AWF_C_DNS_FAILED;
	else
		idx[0] = AWF_C_DNS_BLOCKED;
	if (d->code >= AWF_R_MAX)
		return 1;
	idx[1] = AWF_C_DENIED_BY_REASON + d->code;
	return 2;
}

static void count_dns(struct events *ev, const struct dns_decision *d)
{
	uint32_t idx[2];
	size_t n = dns_counter_indexes(d, idx);

	for (size_t i = 0; i < n; i++)
		count_user(ev, idx[i]);
}

static void report_held(uint64_t held, unsigned int code)
{
	if (held)
		log_info(
			"denied dns: %llu more lines for %s not shown (the summary and the audit log count them)",
			(unsigned long long)held, reason_text(code));
}

/*
 * Anyone in the sandbox can send a stream of malformed queries: past a
 * burst, lines of one reason are counted instead of printed.
 */
static void log_dns_denial(struct events *ev, const struct dns_decision *d,
			   const char *name)
{
	unsigned int code = d->code < AWF_R_MAX ? d->code : AWF_R_MAX;
	uint64_t held;
	bool show = log_limit_take(&ev->dns_lines[code], log_now_ns(), &held);

	report_held(held, code);
	if (show)
		log_info("%sdenied dns %s %s: %s",
			 d->audit_only ? AUDIT_ONLY_PREFIX : "", d->qtype, name,
			 d->reason);
}

void events_dns_decision(void *ctx, const struct dns_decision *d)
{
	struct events *ev = ctx;
	const char *name = d->name[0] ? d->name : ".";

	if (!d->allowed) {
		ev->denied++;
		log_dns_denial(ev, d, name);
	} else {
		log_debug("allowed dns %s %s: %zu addresses learned", d->qtype,
			  name, d->n_learned);
	}
	count_dns(ev, d);
	if (ev->summary)
		summary_add_dns(ev->summary, name, d->allowed, d->code,
				d->audit_only);
	if (ev->audit.f)
		audit_log_dns(&ev->audit, d);
}

static void summarize(struct events *ev, const struct event_view *v)
{
	const struct awf_event *e = v->e;
	char comm[AWF_COMM_LEN + 1];
	struct summary_net n = {
		.kind = e->kind,
		.verdict = e->verdict,
		.reason = e->reason,
		.family = e->family == AF_INET6 ? AF_INET6 : AF_INET,
		.proto = e->kind == AWF_EV_SOCK_CREATE ?
				 (unsigned int)e->sock_proto :
				 e->proto,
		.sock_type = e->sock_type,
		.port = e->dport,
		.pid = e->pid,
		.comm = comm,
		.domain = v->domain,
		.name = v->name,
		.audit_only = e->flags & AWF_EVF_AUDIT_ONLY,
	};

	memcpy(comm, e->comm, AWF_COMM_LEN);
	comm[AWF_COMM_LEN] = '\0';
	memcpy(n.addr, e->daddr, sizeof(n.addr));
	summary_add_net(ev->summary, &n);
}

static int handle_event(void *ctx, void *data, size_t size)
{
	struct events *ev = ctx;
	char name[AWF_NAME_LEN];
	struct event_view v;

	if (event_view_parse(&v, data, size, name))
		return 0;
	v.domain = domain_of(ev, v.e->name_id);
	events_feed(ev, &v);
	return 0;
}

void events_feed(struct events *ev, const struct event_view *v)
{
	char line[EVENT_LINE_LEN];

	if (v->e->verdict == AWF_DENY) {
		ev->denied++;
		event_format_line(v, line, sizeof(line));
		log_info("%s%s",
			 v->e->flags & AWF_EVF_AUDIT_ONLY ? AUDIT_ONLY_PREFIX :
							    "",
			 line);
	} else if (log_threshold <= LOG_LVL_DEBUG) {
		event_format_line(v, line, sizeof(line));
		log_debug("%s", line);
	}
	if (ev->summary)
		summarize(ev, v);
	if (ev->audit.f)
		audit_log_event(&ev->audit, v);
}

/*
 * The programs count what they could not queue. Reported as soon as seen,
 * so a reader of the audit log knows where the gap is.
 */
static void check_lost(struct events *ev)
{
	uint64_t lost;

	if (ev->counters_fd < 0)
		return;
	if (counters_read_one(ev->counters_fd, AWF_C_EVENTS_LOST, &lost)) {
		log_warn("counters map: %s", strerror(errno));
		return;
	}
	if (lost <= ev->lost)
		return;
	if (ev->audit.f)
		audit_log_lost(&ev->audit, lost - ev->lost, lost);
	ev->lost = lost;
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
	ev->counters_fd = -1;
	if (audit_path &&
	    audit_log_open(&ev->audit, audit_path, sandbox, err, errlen))
		return -1;
	ev->summary = summary_new();
	if (!ev->summary) {
		set_err(err, errlen, "events: out of memory");
		events_close(ev);
		return -1;
	}
	if (ringbuf_fd < 0)
		return 0; /* events come from the agent (events_feed) */
	ev->rb = ring_buffer__new(ringbuf_fd, handle_event, ev, NULL);
	if (!ev->rb) {
		set_err(err, errlen, "ring buffer: %s", strerror(errno));
		events_close(ev);
		return -1;
	}
	ev->src.fd = ring_buffer__epoll_fd(ev->rb);
	ev->src.on_ready = on_ringbuf_ready;
	if (ev_add(epfd, &ev->src, EPOLLIN) < 0) {
		set_err(err, errlen, "ring buffer: cannot watch it");
		events_close(ev);
		return -1;
	}
	return 0;
}

void events_attach(struct events *ev, const struct learned_store *names,
		   int counters_fd)
{
	ev->names = names;
	ev->counters_fd = counters_fd;
}

void events_drain(struct events *ev)
{
	int ret = ev->rb ? ring_buffer__consume(ev->rb) : 0;

	if (ret < 0 && ret != -EINTR)
		log_error("reading events: %s", strerror(-ret));
	check_lost(ev);
}

void events_start(struct events *ev, pid_t pid, char *const *argv,
		  uint64_t cgroup_id)
{
	char user[AWF_USER_LEN];
	struct audit_start st = {
		.awf_pid = getpid(),
		.pid = pid,
		.user = user,
		.argv = argv,
		.cgroup_id = cgroup_id,
	};

	if (!ev->audit.f)
		return;
	st.uid = publish_invoker(user, sizeof(user));
	audit_log_start(&ev->audit, &st);
}

/* One line of JSON on stderr: `2>&1 | tail -n 1 | jq .allow_policy`. */
static void print_summary_json(const struct summary *s)
{
	json_object *o = summary_to_json(s);

	if (!o) {
		log_error("summary: out of memory");
		return;
	}
	fprintf(stderr, "%s\n",
		json_object_to_json_string_ext(
			o, JSON_C_TO_STRING_PLAIN |
				   JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

void events_finish(struct events *ev, int status, bool quiet)
{
	uint64_t c[AWF_C_MAX];
	bool have = false;

	if (!ev->summary)
		return; /* never opened */
	events_drain(ev);
	if (ev->flush.queued) {
		ev_cancel(&ev->flush);
		flush_user_counters(&ev->flush);
	}
	/* For the audit log's last record only: one lookup a counter. */
	if (ev->audit.f && ev->counters_fd >= 0) {
		have = counters_read(ev->counters_fd, c) == 0;
		if (!have)
			log_warn("counters map: %s", strerror(errno));
	}
	if (ev->audit.f)
		audit_log_end(&ev->audit, status, have ? c : NULL, ev->lost);
	audit_log_close(&ev->audit);
	for (unsigned int i = 0; i <= AWF_R_MAX; i++)
		report_held(log_limit_flush(&ev->dns_lines[i]), i);
	/* Never silent, whatever the log level. */
	if (ev->lost)
		fprintf(stderr,
			"awf-bpf: %llu events lost (ring buffer full)\n",
			(unsigned long long)ev->lost);
	if (quiet || !ev->summary)
		return;
	/* Asked for, the JSON form comes even when empty: a tool reads it. */
	if (ev->summary_json)
		print_summary_json(ev->summary);
	else if (summary_denied(ev->summary))
		summary_print_text(ev->summary, stderr, "awf-bpf: ");
}

void events_close(struct events *ev)
{
	ev_cancel(&ev->flush);
	if (ev->rb)
		ring_buffer__free(ev->rb);
	ev->rb = NULL;
	audit_log_close(&ev->audit);
	summary_free(ev->summary);
	ev->summary = NULL;
}
