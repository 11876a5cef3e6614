/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * cmd_dump.h - `awf-bpf dump [--json] [SANDBOX]` and `dump --agent`: what the kernel
 * enforces for a sandbox, from its pins alone.
 * Exit status as in cli/commands.h.
 */
#ifndef AWF_CMD_DUMP_H
#define AWF_CMD_DUMP_H

int cmd_dump(int argc, char **argv);
extern const char usage_dump[];

#endif /* AWF_CMD_DUMP_H */
