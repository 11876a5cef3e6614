/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * cli_opts.h - what dump and status share: their options and their JSON
 * output.
 */
#ifndef AWF_CLI_OPTS_H
#define AWF_CLI_OPTS_H

#include <stdbool.h>
#include <json-c/json.h>

/*
 * Parses [--json] [--agent] [--help] and allows at most max_operands
 * operands, which start at optind. Returns -1 to go on, or the exit status
 * to return at once: 0 after --help (usage on stdout), EXIT_CMD_USAGE after
 * a wrong option or too many operands (usage on stderr).
 */
int cli_json_agent_opts(int argc, char **argv, const char *usage,
			int max_operands, bool *json, bool *agent);

/* o as pretty JSON, one document on stdout. */
void cli_print_json(json_object *o);

#endif /* AWF_CLI_OPTS_H */
