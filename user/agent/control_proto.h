/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * control_proto.h - what `awf-bpf run` and the agent say to each other on
 * the control socket (SOCK_SEQPACKET: one message, one datagram).
 *
 *   run -> agent  {"op": "sandbox", "version": 1, "policy": {policy v1,
 *                  normalized}, "audit_allowed": bool}
 *   agent -> run  {"ok": true, "sandbox": "run-<pid>", "cgroup":
 *                  "/awf-bpf/run-<pid>"} with the cgroup's directory fd
 *                  (SCM_RIGHTS), or {"ok": false, "error": "..."}
 *   agent -> run  then, for as long as the connection lasts:
 *                  CONTROL_MSG_EVENT + struct awf_event + domain (NUL-
 *                  terminated, "" for none), or CONTROL_MSG_DNS + a JSON
 *                  object of struct dns_decision.
 *
 * The sandbox lives while the connection does: when run hangs up, the
 * agent kills what is left in the cgroup and removes it.
 */
#ifndef AWF_CONTROL_PROTO_H
#define AWF_CONTROL_PROTO_H

#define CONTROL_VERSION 1
#define CONTROL_MSG_MAX 65536
#define CONTROL_MSG_EVENT 'E'
#define CONTROL_MSG_DNS 'D'

#endif /* AWF_CONTROL_PROTO_H */
