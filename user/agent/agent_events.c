// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <bpf/libbpf.h>

#include "agent/agent_events.h"
#include "audit/event_view.h"
#include "common/error.h"
#include "dns/learned.h"
#include "common/log.h"

static int handle_event(void *ctx, void *data, size_t size)
{
	struct agent_events *ev = ctx;
	const struct agent_event_sink *sink;
	char name[AWF_NAME_LEN];
	struct event_view v;

	if (event_view_parse(&v, data, size, name))
		return 0;
	sink = ev->sink_of(ev->sink_ctx, v.e->slot);
	if (sink && sink->names && v.e->name_id)
		v.domain = learned_store_name(sink->names, v.e->name_id);
	if (ev->audit.f) {
		ev->audit.sandbox =
			sink && sink->sandbox ? sink->sandbox : "unknown";
		audit_log_event(&ev->audit, &v);
	}
	if (sink && sink->forward)
		sink->forward(sink->forward_ctx, &v);
	return 0;
}

static int on_ready(struct ev_source *src, uint32_t events)
{
	(void)events;
	agent_events_drain(container_of(src, struct agent_events, src));
	return 0;
}

int agent_events_open(struct agent_events *ev, int ringbuf_fd, int epfd,
		      FILE *out, agent_sink_of sink_of, void *sink_ctx,
		      char *err, size_t errlen)
{
	memset(ev, 0, sizeof(*ev));
	ev->audit.f = out;
	ev->sink_of = sink_of;
	ev->sink_ctx = sink_ctx;
	ev->rb = ring_buffer__new(ringbuf_fd, handle_event, ev, NULL);
	if (!ev->rb)
		return set_err(err, errlen, "ring buffer: %s", strerror(errno));
	ev->src.fd = ring_buffer__epoll_fd(ev->rb);
	ev->src.on_ready = on_ready;
	if (ev_add(epfd, &ev->src, EPOLLIN) < 0)
		return set_err(err, errlen, "ring buffer: cannot watch it");
	return 0;
}

void agent_events_drain(struct agent_events *ev)
{
	int ret;

	/* A set-up that failed before the ring buffer was opened. */
	if (!ev->rb)
		return;
	ret = ring_buffer__consume(ev->rb);
	if (ret < 0 && ret != -EINTR)
		log_error("reading events: %s", strerror(-ret));
	if (ev->audit.f)
		fflush(ev->audit.f);
}

void agent_events_close(struct agent_events *ev)
{
	if (ev->rb)
		ring_buffer__free(ev->rb);
	ev->rb = NULL;
	/* The stream belongs to the caller. */
	ev->audit.f = NULL;
}
