/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * cmd_run.h - `awf-bpf run [OPTIONS] -- CMD [ARGS...]`. Exit status: the
 * command's, or 125 when awf-bpf could not enforce (the command never ran).
 */
#ifndef AWF_CMD_RUN_H
#define AWF_CMD_RUN_H

int cmd_run(int argc, char **argv);
extern const char usage_run[];

#endif /* AWF_CMD_RUN_H */
