/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * cmd_agent.h - `awf-bpf agent [--config FILE] [--log-level L] |
 * --uninstall`. Exit status 125 when the agent cannot start.
 */
#ifndef AWF_CMD_AGENT_H
#define AWF_CMD_AGENT_H

int cmd_agent(int argc, char **argv);
extern const char usage_agent[];

#endif /* AWF_CMD_AGENT_H */
