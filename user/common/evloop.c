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
