/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * agent.h - `awf-bpf agent [--config FILE] | --uninstall`: the host-wide
 * enforcer (agent.c). Exit status 125 when it cannot start (bad config or
 * policy: nothing is attached).
 */
#ifndef AWF_AGENT_H
#define AWF_AGENT_H

int cmd_agent(int argc, char **argv);
extern const char usage_agent[];

#endif /* AWF_AGENT_H */
