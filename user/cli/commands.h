/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * commands.h - what every `awf-bpf COMMAND` has in common. A command takes
 * the arguments after its name (argv[0] is the name) and returns the exit
 * status: `run` and `agent` 125 when awf-bpf failed (run/run.h); the
 * inspection commands (dump, status, logs) 0 on success, 1 when what was
 * asked for is not there, 2 for a usage error; gc likewise, 1 when
 * something could not be removed.
 */
#ifndef AWF_COMMANDS_H
#define AWF_COMMANDS_H

#define EXIT_CMD_NOT_FOUND 1
#define EXIT_CMD_USAGE 2

struct awf_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage; /* `awf-bpf help NAME`, `awf-bpf NAME --help` */
};

#endif /* AWF_COMMANDS_H */
