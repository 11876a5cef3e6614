/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * agent_run.h - the sandboxes `awf-bpf run` clients ask the agent for over
 * its control socket (agent/control_proto.h).
 */
#ifndef AWF_AGENT_RUN_H
#define AWF_AGENT_RUN_H

#include "agent/agent_control.h"
#include "agent/agent_int.h"

extern const struct control_ops agent_run_ops;
/*
 * Cgroups made ahead of a policy that never came (the agent stops): what
 * their clients started in them is killed, and they are removed. A client
 * sees the agent hang up and exits 125.
 */
void agent_run_drop_early(struct agent *ag);
/* Adopted run sandboxes whose cgroup has emptied are removed. */
void agent_run_sweep(struct agent *ag);

#endif /* AWF_AGENT_RUN_H */
