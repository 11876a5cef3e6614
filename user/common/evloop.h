/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * evloop.h - the single epoll loop of the awf-bpf process. Every fd in it
 * is registered with epoll_event.data.ptr pointing at a struct ev_source
 * (usually embedded in its owner) so the loop dispatches without a table.
 */
#ifndef AWF_EVLOOP_H
#define AWF_EVLOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr)-offsetof(type, member)))

struct ev_source;

/*
 * Called with the epoll events of src. Returns 0, or < 0 when it failed:
 * the handler logs the failure itself (only it knows the context), the loop
 * notes it at debug level and keeps going, for one failing source must not
 * starve the others. A handler never stops the loop by its return value: it
 * sets the flag its owner passed to ev_run().
 */
typedef int (*ev_handler)(struct ev_source *src, uint32_t events);

struct ev_source {
	int fd;
	ev_handler on_ready;
};

/* epoll_ctl(ADD) with data.ptr = src; logs and returns -errno on failure. */
int ev_add(int epfd, struct ev_source *src, uint32_t events);
int ev_mod(int epfd, struct ev_source *src, uint32_t events);
void ev_del(int epfd, struct ev_source *src);

/*
 * Work put off until the events of the current epoll_wait batch are all
 * dispatched: a map write that every event of a burst would repeat (a
 * counter) is done once per batch. Queued jobs run once, before the loop
 * waits again; the owner of a job runs ev_run_deferred() itself before it
 * reads what the job writes, and ev_cancel()s it before freeing it.
 */
struct ev_deferred {
	void (*run)(struct ev_deferred *d);
	struct ev_deferred *next;
	bool queued;
};

void ev_defer(struct ev_deferred *d); /* d->run set; queued once */
void ev_cancel(struct ev_deferred *d);
void ev_run_deferred(void);

/*
 * Waits on epfd and dispatches every ready source until *stop is true. The
 * flag is read before each wait, so the events of the batch that set it are
 * still dispatched. EINTR is retried. Returns 0 once stopped, -1 (logged)
 * when epoll_wait fails.
 */
int ev_run(int epfd, const bool *stop);

#endif /* AWF_EVLOOP_H */
