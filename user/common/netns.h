/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * netns.h - run a step inside another network namespace and come back:
 * sockets and address lists belong to the namespace they were made in.
 */
#ifndef AWF_NETNS_H
#define AWF_NETNS_H

#include <stddef.h>

/* A step to run there: 0, or -1 with err set. */
typedef int (*netns_step)(void *ctx, char *err, size_t errlen);

/*
 * step(ctx) inside the namespace of netns_fd; its result. Not coming back
 * aborts: every later socket of this process would be the namespace's.
 */
int in_netns(int netns_fd, netns_step step, void *ctx, char *err,
	     size_t errlen);

#endif /* AWF_NETNS_H */
