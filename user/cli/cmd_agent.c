// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cmd_agent.c - `awf-bpf agent [--config FILE] | --uninstall`: the command
 * line of the host-wide enforcer (user/agent/).
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "agent/agent.h"
#include "cli/cmd_agent.h"
#include "common/log.h"
#include "common/paths.h"
#include "run/run.h"

const char usage_agent[] =
	"usage: awf-bpf agent [--config FILE] [--log-level LEVEL]\n"
	"       awf-bpf agent --uninstall\n"
	"\n"
	"The host-wide enforcer: one set of programs, pinned under\n" AWF_AGENT_PIN_DIR
	", for every sandbox on the host.\n"
	"\n"
	"  --config FILE     default " AWF_AGENT_CONFIG "\n"
	"  --uninstall       remove the pinned programs, links and maps:\n"
	"                    enforcement by the agent ends\n"
	"  --log-level L     error, warn, info (default), debug\n"
	"\n"
	"SIGHUP reloads the policies; SIGTERM stops the agent and leaves the\n"
	"programs enforcing until the next agent adopts them.\n";

/* -1: go on; otherwise the exit status (help, usage error). */
static int parse_args(int argc, char **argv, const char **config,
		      bool *do_uninstall)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "uninstall", no_argument, NULL, 'u' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int opt, lvl;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:ul:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			*config = optarg;
			break;
		case 'u':
			*do_uninstall = true;
			break;
		case 'l':
			lvl = log_level_parse(optarg);
			if (lvl < 0) {
				fprintf(stderr,
					"awf-bpf: agent: --log-level: unknown level '%s'\n",
					optarg);
				return EXIT_AWF_FAILURE;
			}
			log_threshold = lvl;
			break;
		case 'h':
			fputs(usage_agent, stdout);
			return 0;
		default:
			fputs(usage_agent, stderr);
			return EXIT_AWF_FAILURE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "awf-bpf: agent: unexpected argument '%s'\n",
			argv[optind]);
		return EXIT_AWF_FAILURE;
	}
	return -1;
}

int cmd_agent(int argc, char **argv)
{
	const char *config = NULL;
	bool do_uninstall = false;
	int ret;

	ret = parse_args(argc, argv, &config, &do_uninstall);
	if (ret >= 0)
		return ret;
	if (do_uninstall)
		return agent_uninstall();
	return agent_serve(config ? config : AWF_AGENT_CONFIG, config != NULL);
}
