/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * agent_client.h - `run`'s end of the control socket (control_proto.h):
 * ask the agent for a sandbox, then relay its verdicts and DNS decisions
 * to the run's events (stderr lines, audit log, summary).
 */
#ifndef AWF_AGENT_CLIENT_H
#define AWF_AGENT_CLIENT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/evloop.h"
#include "policy/policy.h"

struct events;

struct agent_client {
	struct ev_source src;
	struct events *events; /* where messages go */
	char sandbox[64];      /* "run-<pid>", as the agent named it */
	char cgroup[PATH_MAX]; /* from the cgroup2 root */
	bool gone; /* the agent hung up (it may come back: still enforced) */
};

/* The socket to use: $AWF_BPF_AGENT_SOCKET, else the default path. */
const char *agent_client_socket(void);

/*
 * 1: no agent listens (use the standalone path); 0: *cgroup_fd is the
 * sandbox's cgroup, c->src.fd the connection; -1: the agent refused or
 * failed, with err.
 */
int agent_client_request(struct agent_client *c, const struct policy *p,
			 bool audit_allowed, int *cgroup_fd, char *err,
			 size_t errlen);
/* Relay messages through epfd into ev; call after events_open(). */
int agent_client_watch(struct agent_client *c, int epfd, struct events *ev);
void agent_client_close(struct agent_client *c);

#endif /* AWF_AGENT_CLIENT_H */
