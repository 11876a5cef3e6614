/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * evloop.h - the single epoll loop of the awf-bpf process. Every fd in it
 * is registered with epoll_event.data.ptr pointing at a struct ev_source
 * (usually embedded in its owner) so the loop dispatches without a table.
 */
#ifndef AWF_EVLOOP_H
#define AWF_EVLOOP_H

#include <stddef.h>
#include <stdint.h>

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

struct ev_source;

/* Return < 0 only for errors the loop should log; the loop keeps going. */
typedef int (*ev_handler)(struct ev_source *src, uint32_t events);

struct ev_source {
	int fd;
	ev_handler on_ready;
};

/* epoll_ctl(ADD) with data.ptr = src; logs and returns -errno on failure. */
int ev_add(int epfd, struct ev_source *src, uint32_t events);
int ev_mod(int epfd, struct ev_source *src, uint32_t events);
void ev_del(int epfd, struct ev_source *src);

#endif /* AWF_EVLOOP_H */
