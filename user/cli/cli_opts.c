// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <getopt.h>
#include <stdio.h>

#include "cli/cli_opts.h"
#include "cli/commands.h"

int cli_json_agent_opts(int argc, char **argv, const char *usage,
			int max_operands, bool *json, bool *agent)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "agent", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int opt;

	*json = false;
	*agent = false;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		if (opt == 'j' || opt == 'a') {
			*json |= opt == 'j';
			*agent |= opt == 'a';
			continue;
		}
		fputs(usage, opt == 'h' ? stdout : stderr);
		return opt == 'h' ? 0 : EXIT_CMD_USAGE;
	}
	if (argc - optind > max_operands) {
		fputs(usage, stderr);
		return EXIT_CMD_USAGE;
	}
	return -1;
}

void cli_print_json(json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(
			       o, JSON_C_TO_STRING_PRETTY |
					  JSON_C_TO_STRING_NOSLASHESCAPE));
}
