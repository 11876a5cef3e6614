/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * events.h - the kernel's verdicts, read from the BPF ring buffer: one
 * stderr line per denial and, with --audit-log, one JSON object per event.
 */
#ifndef AWF_EVENTS_H
#define AWF_EVENTS_H

#include <stddef.h>
#include <stdio.h>

#include "../bpf/awf.h"
#include "evloop.h"

#define AUDIT_SCHEMA_VERSION 1

struct ring_buffer;

struct events {
	struct ev_source src;
	struct ring_buffer *rb;
	FILE *audit;
	const char *sandbox; /* "run-<pid>" */
	unsigned long denied;
};

int events_open(struct events *ev, int ringbuf_fd, int epfd,
		const char *audit_path, const char *sandbox, char *err,
		size_t errlen);
/* Read everything the kernel has queued (also called before exit). */
void events_drain(struct events *ev);
void events_close(struct events *ev);

struct dns_decision;

/* dns_decision_cb of the DNS filter: ctx is the struct events. */
void events_dns_decision(void *ctx, const struct dns_decision *d);

/* Text of a reason code, and the one line printed for a denial. */
const char *event_reason_text(unsigned int reason);
void event_format_line(const struct awf_event *e, char *buf, size_t len);

#endif /* AWF_EVENTS_H */
