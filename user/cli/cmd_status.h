/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * cmd_status.h - `awf-bpf status [--json]` and `status --agent`: the running
 * sandboxes, from their pins alone.
 * Exit status as in cli/commands.h.
 */
#ifndef AWF_CMD_STATUS_H
#define AWF_CMD_STATUS_H

int cmd_status(int argc, char **argv);
extern const char usage_status[];

#endif /* AWF_CMD_STATUS_H */
