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
	bool asked_cgroup;     /* "cgroup" sent: its answer comes first */
	bool early;	       /* the cgroup came ahead of the sandbox */
	bool gone; /* the agent hung up (it may come back: still enforced) */
};

/* The socket to use: $AWF_BPF_AGENT_SOCKET, else the default path. */
const char *agent_client_socket(void);

/*
 * Connect, and ask for the sandbox's cgroup ahead of the policy (the
 * agent makes it while the policy is read). 1: no agent listens (use the
 * standalone path); 0: connected; -1: failure, with err.
 */
int agent_client_open(struct agent_client *c, char *err, size_t errlen);

/*
 * Ask for the sandbox with policy p, connecting first if
 * agent_client_open() has not (c zeroed, src.fd -1). 1: no agent
 * listens; -1: failure, with err; 0: asked, and *early_fd is the
 * sandbox's cgroup if the agent made it ahead (c->sandbox and c->cgroup
 * set), else -1. The sandbox's processes may start in an early cgroup,
 * but not the command: only once agent_client_reply() says the sandbox
 * is built (until then its attach point's default policy applies there).
 */
int agent_client_request(struct agent_client *c, const struct policy *p,
			 bool audit_allowed, int *early_fd, char *err,
			 size_t errlen);

/*
 * The agent's reply: 0 when the sandbox is built (c->sandbox, c->cgroup;
 * *cgroup_fd its cgroup unless it came early: cgroup_fd may then be
 * NULL), c->src.fd the connection; -1: refused or failed, with err.
 */
int agent_client_reply(struct agent_client *c, int *cgroup_fd, char *err,
		       size_t errlen);
/* Relay messages through epfd into ev; call after events_open(). */
int agent_client_watch(struct agent_client *c, int epfd, struct events *ev);
void agent_client_close(struct agent_client *c);

#endif /* AWF_AGENT_CLIENT_H */
