/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * cmd_logs.h - `awf-bpf logs [summary] FILE|--follow FILE|SANDBOX [--format F]`:
 * an audit log printed, summarized or followed.
 * Exit status as in cli/commands.h.
 */
#ifndef AWF_CMD_LOGS_H
#define AWF_CMD_LOGS_H

int cmd_logs(int argc, char **argv);
extern const char usage_logs[];

#endif /* AWF_CMD_LOGS_H */
