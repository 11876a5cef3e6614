/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * control_proto.h - what `awf-bpf run` and the agent say to each other on
 * the control socket (SOCK_SEQPACKET: one message, one datagram).
 *
 *   run -> agent  {"op": "cgroup", "version": 1} (optional, first): the
 *                  sandbox's cgroup ahead of its policy
 *   agent -> run  {"ok": true, "sandbox": "run-<pid>", "cgroup":
 *                  "<attach point>/run-<pid>-<n>"} with the cgroup's
 *                  directory fd (SCM_RIGHTS), or {"ok": false, "error":
 *                  "..."} (an agent older than "cgroup" says so too)
 *   run -> agent  {"op": "sandbox", "version": 1, "policy": {policy v1,
 *                  normalized}, "audit_allowed": bool}
 *   agent -> run  {"ok": true, "sandbox": "run-<pid>", "cgroup": "..."},
 *                  with the cgroup's fd unless it came ahead (the same
 *                  cgroup), or {"ok": false, "error": "..."}
 *   agent -> run  then, for as long as the connection lasts:
 *                  CONTROL_MSG_EVENT + struct awf_event + domain (NUL-
 *                  terminated, "" for none) and, for the kinds of struct
 *                  awf_name_event only, its name (NUL-terminated); or
 *                  CONTROL_MSG_DNS + a JSON object of struct dns_decision.
 *
 * Each request gets one answer, in order. A cgroup that came ahead has no
 * policy of its own until the sandbox's "ok" (its attach point's default
 * applies there): run starts the sandbox's init in it meanwhile, and the
 * command only after that "ok". The sandbox (or the early cgroup) lives
 * while the connection does: when run hangs up, the agent kills what is
 * left in the cgroup and removes it.
 */
#ifndef AWF_CONTROL_PROTO_H
#define AWF_CONTROL_PROTO_H

#include <stddef.h>

#include "awf.h"

#define CONTROL_VERSION 1
#define CONTROL_MSG_MAX 65536
#define CONTROL_MSG_EVENT 'E'
#define CONTROL_MSG_DNS 'D'

struct event_view;

/* Room for any CONTROL_MSG_EVENT message. */
#define CONTROL_EVENT_LEN (1 + sizeof(struct awf_event) + 256 + AWF_NAME_LEN)

/* The agent's side: v's message in buf; its length. */
size_t control_event_encode(char buf[CONTROL_EVENT_LEN],
			    const struct event_view *v);
/*
 * The client's side: the n bytes after the type of an event message,
 * NUL-terminated at msg[n], as v (e and name_buf its storage); -1 when
 * it is too short, or a name event's lacks its name.
 */
int control_event_decode(const char *msg, size_t n, struct event_view *v,
			 struct awf_event *e, char name_buf[AWF_NAME_LEN]);

#endif /* AWF_CONTROL_PROTO_H */
