/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * commands.h - the commands besides `run` and `policy`: each takes the
 * arguments after its name (argv[0] is the name) and returns the exit
 * status. 0 on success, 1 when what was asked for is not there, 2 for a
 * usage error.
 */
#ifndef AWF_COMMANDS_H
#define AWF_COMMANDS_H

#define EXIT_CMD_NOT_FOUND 1
#define EXIT_CMD_USAGE 2

/* awf-bpf dump [--json] [SANDBOX] */
int cmd_dump(int argc, char **argv);
/* awf-bpf status [--json] */
int cmd_status(int argc, char **argv);
/* awf-bpf logs [summary] FILE|--follow FILE|SANDBOX [--format F] */
int cmd_logs(int argc, char **argv);

extern const char usage_dump[];
extern const char usage_status[];
extern const char usage_logs[];

#endif /* AWF_COMMANDS_H */
