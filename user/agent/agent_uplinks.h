/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * agent_uplinks.h - which interfaces get the tc egress layer, including
 * the ones that appear later (an rtnetlink link-group socket in the
 * agent's epoll loop).
 */
#ifndef AWF_AGENT_UPLINKS_H
#define AWF_AGENT_UPLINKS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/evloop.h"

struct agent_bpf;

struct agent_uplinks {
	struct ev_source src; /* NETLINK_ROUTE, RTMGRP_LINK */
	struct agent_bpf *bpf;
	bool all; /* every non-loopback interface */
	int mode; /* enum agent_tc_mode */
	char (*names)[16];
	size_t n_names;
};

/* names NULL: all. Attaches to what exists now and watches for more. */
int agent_uplinks_start(struct agent_uplinks *u, struct agent_bpf *bpf,
			int epfd, char (*names)[16], size_t n_names, int mode,
			char *err, size_t errlen);
void agent_uplinks_stop(struct agent_uplinks *u);

#endif /* AWF_AGENT_UPLINKS_H */
