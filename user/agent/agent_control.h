/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * agent_control.h - the agent's end of the control socket
 * (control_proto.h): who may connect (root, or the configured group, by
 * SO_PEERCRED), one request per connection (after, optionally, one for
 * its cgroup ahead of it), the reply with the cgroup's fd, then events
 * until the client hangs up.
 */
#ifndef AWF_AGENT_CONTROL_H
#define AWF_AGENT_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <json-c/json.h>

#include "awf.h"
#include "common/evloop.h"

struct control_conn;
struct dns_decision;
struct event_view;

struct control_ops {
	void *ctx;
	/*
	 * A client asked for its sandbox's cgroup ahead of the policy
	 * (control_proto.h): 0 with *cgroup_fd (sent with the reply, then
	 * closed) and the reply's members filled in, or -1 with err. The
	 * cgroup is conn's until create() takes it or client_gone(conn).
	 */
	int (*prepare)(void *ctx, struct control_conn *conn, pid_t pid,
		       json_object *reply, int *cgroup_fd, char *err,
		       size_t errlen);
	/*
	 * A client asked for a sandbox: 0 with the reply's members filled
	 * in and *cgroup_fd (sent with the reply, then closed; -1: none,
	 * the client has it from prepare()), or -1 with err.
	 * conn stays valid until client_gone(conn).
	 */
	int (*create)(void *ctx, struct control_conn *conn, pid_t pid,
		      json_object *request, json_object *reply, int *cgroup_fd,
		      char *err, size_t errlen);
	void (*client_gone)(void *ctx, struct control_conn *conn);
};

struct agent_control {
	struct ev_source src;
	int epfd;
	gid_t group; /* (gid_t)-1: root only */
	struct control_ops ops;
	char path[108];
};

int agent_control_open(struct agent_control *c, const char *path, gid_t group,
		       int epfd, const struct control_ops *ops, char *err,
		       size_t errlen);
void agent_control_close(struct agent_control *c);

/* Hand a sandbox's verdicts and DNS decisions to its client. */
void control_conn_event(struct control_conn *conn, const struct event_view *v);
void control_conn_dns(struct control_conn *conn, const struct dns_decision *d);

#endif /* AWF_AGENT_CONTROL_H */
