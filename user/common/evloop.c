// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>

#include "common/evloop.h"
#include "common/log.h"

static int ev_ctl(int epfd, int op, struct ev_source *src, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = src };

	if (epoll_ctl(epfd, op, src->fd, &ev) < 0) {
		int saved = errno;

		log_error("epoll_ctl(fd %d): %s", src->fd, strerror(saved));
		return -saved;
	}
	return 0;
}

int ev_add(int epfd, struct ev_source *src, uint32_t events)
{
	return ev_ctl(epfd, EPOLL_CTL_ADD, src, events);
}

int ev_mod(int epfd, struct ev_source *src, uint32_t events)
{
	return ev_ctl(epfd, EPOLL_CTL_MOD, src, events);
}

void ev_del(int epfd, struct ev_source *src)
{
	/* The fd may already be closed by its owner; nothing to report. */
	epoll_ctl(epfd, EPOLL_CTL_DEL, src->fd, NULL);
}

/* How many ready sources one epoll_wait hands over. */
#define EV_BATCH 64

/* The loop is single-threaded: one list for the process. */
static struct ev_deferred *ev_deferred_head;

void ev_defer(struct ev_deferred *d)
{
	if (d->queued)
		return;
	d->queued = true;
	d->next = ev_deferred_head;
	ev_deferred_head = d;
}

void ev_cancel(struct ev_deferred *d)
{
	struct ev_deferred **pp = &ev_deferred_head;

	if (!d->queued)
		return;
	while (*pp && *pp != d)
		pp = &(*pp)->next;
	if (*pp)
		*pp = d->next;
	d->queued = false;
}

void ev_run_deferred(void)
{
	while (ev_deferred_head) {
		struct ev_deferred *d = ev_deferred_head;

		ev_deferred_head = d->next;
		d->queued = false;
		d->run(d);
	}
}

int ev_run(int epfd, const bool *stop)
{
	struct epoll_event evs[EV_BATCH];

	while (!*stop) {
		int n = epoll_wait(epfd, evs, EV_BATCH, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("epoll_wait: %s", strerror(errno));
			return -1;
		}
		for (int i = 0; i < n; i++) {
			struct ev_source *src = evs[i].data.ptr;

			if (src->on_ready(src, evs[i].events) < 0)
				log_debug("handler of fd %d failed", src->fd);
		}
		ev_run_deferred();
	}
	return 0;
}
