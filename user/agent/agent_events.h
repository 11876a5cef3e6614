/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * agent_events.h - the agent's one ring buffer: every sandbox's verdicts,
 * told apart by the slot in each event. Each becomes a JSON line of the
 * audit log (docs/audit.schema.json, "sandbox" naming the sandbox) and,
 * for a sandbox a `run` client asked for, is also handed to that client.
 */
#ifndef AWF_AGENT_EVENTS_H
#define AWF_AGENT_EVENTS_H

#include <stdint.h>
#include <stdio.h>

#include "awf.h"
#include "audit/audit_log.h"
#include "common/evloop.h"

struct event_view;
struct learned_store;
struct ring_buffer;

/* Where the events of one slot go; NULL members are skipped. */
struct agent_event_sink {
	const char *sandbox;
	const struct learned_store *names;
	void (*forward)(void *ctx, const struct event_view *v);
	void *forward_ctx;
};

typedef const struct agent_event_sink *(*agent_sink_of)(void *ctx,
							uint32_t slot);

struct agent_events {
	struct ev_source src;
	struct ring_buffer *rb;
	struct audit_log audit;
	agent_sink_of sink_of;
	void *sink_ctx;
};

/* out: the audit log's stream (stdout under systemd: the journal). */
int agent_events_open(struct agent_events *ev, int ringbuf_fd, int epfd,
		      FILE *out, agent_sink_of sink_of, void *sink_ctx,
		      char *err, size_t errlen);
void agent_events_drain(struct agent_events *ev);
void agent_events_close(struct agent_events *ev);

#endif /* AWF_AGENT_EVENTS_H */
