/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * events.h - the kernel's verdicts, read from the BPF ring buffer, and the
 * DNS filter's decisions: one stderr line per denial, with --audit-log one
 * JSON line per event (audit_log.h), the DNS counters in the counters map,
 * and at exit the events lost and the summary of what was denied.
 */
#ifndef AWF_EVENTS_H
#define AWF_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "awf.h"
#include "audit/audit_log.h"
#include "audit/event_view.h"
#include "common/evloop.h"
#include "common/log.h"

/* The stderr line of a denial audit-only mode let through starts so. */
#define AUDIT_ONLY_PREFIX "audit-only, not enforced: "

struct ring_buffer;
struct learned_store;
struct summary;

struct events {
	struct ev_source src;
	struct ring_buffer *rb;
	struct audit_log audit; /* audit.f NULL without --audit-log */
	const char *sandbox;	/* "run-<pid>" */
	unsigned long denied;
	const struct learned_store *names; /* name_id -> name */
	int counters_fd;		   /* -1 until events_attach() */
	uint64_t user_counters[AWF_C_MAX]; /* the slots user space owns */
	bool user_dirty[AWF_C_MAX];	   /* not yet in the counters map */
	struct ev_deferred flush; /* writes them, once per loop batch */
	uint64_t lost;		  /* events lost so far, as reported */
	struct summary *summary;
	bool summary_json; /* the exit summary as one JSON object */
	/* stderr lines of DNS denials, per reason (AWF_R_MAX: any other) */
	struct log_limit dns_lines[AWF_R_MAX + 1];
};

/* ringbuf_fd -1: no ring buffer; the agent's events come by events_feed. */
int events_open(struct events *ev, int ringbuf_fd, int epfd,
		const char *audit_path, const char *sandbox, char *err,
		size_t errlen);
/* One kernel verdict, with its name and the domain behind its name_id. */
void events_feed(struct events *ev, const struct event_view *v);
/* Where names and counters are: events before this carry no domain. */
void events_attach(struct events *ev, const struct learned_store *names,
		   int counters_fd);
/* Read everything the kernel has queued (also called before exit). */
void events_drain(struct events *ev);
/* The "start" line of the audit log, once the command runs. */
void events_start(struct events *ev, pid_t pid, char *const *argv,
		  uint64_t cgroup_id);
/*
 * After the last process of the sandbox is gone: drain, report events
 * lost, the "end" line (status -1: the command never ran) and close the
 * audit log (its last write's error reported), and unless quiet the
 * summary of denials on stderr.
 */
void events_finish(struct events *ev, int status, bool quiet);
/* The rest: the ring buffer's reader and mappings, the summary. */
void events_close(struct events *ev);

struct dns_decision;

/* The counters a DNS decision adds one to (user space owns them). */
size_t dns_counter_indexes(const struct dns_decision *d, uint32_t idx[2]);

/* dns_decision_cb of the DNS filter: ctx is the struct events. */
void events_dns_decision(void *ctx, const struct dns_decision *d);

/*
 * Text of a reason code, and the one line printed for a denial (at debug
 * level for what was allowed), without the "awf-bpf: " of log_info().
 */
const char *event_reason_text(unsigned int reason);
void event_format_line(const struct event_view *v, char *buf, size_t len);

#endif /* AWF_EVENTS_H */
