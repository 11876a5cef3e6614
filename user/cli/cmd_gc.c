// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cmd_gc.c - `awf-bpf gc`: on demand, what every `awf-bpf run` does first:
 * remove the cgroups and pins of runs whose awf-bpf was killed. For a host
 * where no further run comes (deploy/systemd/awf-bpf-gc.timer).
 */
#include <getopt.h>
#include <stdio.h>

#include "cli/cmd_gc.h"
#include "cli/commands.h"
#include "common/error.h"
#include "common/log.h"
#include "common/paths.h"
#include "run/cgroup.h"
#include "run/gc.h"

const char usage_gc[] =
	"Usage: awf-bpf gc\n"
	"\n"
	"Remove what killed runs left: the cgroup <cgroup2>/" AWF_CGROUP_DIR
	"/run-<pid>\n"
	"(with the programs attached to it) and the pins " AWF_PIN_ROOT
	"/run-<pid>/\n"
	"of every run whose awf-bpf is gone and whose cgroup is empty. Live\n"
	"sandboxes and the agent's pins are never touched. One line per removed\n"
	"item, then a summary. Every `awf-bpf run` does the same first.\n"
	"\n"
	"Exit status: 0 when nothing stale is left but what still has processes\n"
	"(those stay confined; a later gc removes them); 1 when something could\n"
	"not be removed or there is no cgroup v2; 2 usage error.\n";

static int parse_gc_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		fputs(usage_gc, opt == 'h' ? stdout : stderr);
		return opt == 'h' ? 0 : EXIT_CMD_USAGE;
	}
	if (optind < argc) {
		fputs(usage_gc, stderr);
		return EXIT_CMD_USAGE;
	}
	return -1;
}

int cmd_gc(int argc, char **argv)
{
	struct gc_report r = { .verbose = true };
	char root[PATH_MAX], err[AWF_ERR_LEN];
	int ret;

	ret = parse_gc_args(argc, argv);
	if (ret >= 0)
		return ret;
	if (cgroup2_root(root, sizeof(root), err, sizeof(err))) {
		log_error("gc: %s", err);
		return EXIT_CMD_NOT_FOUND;
	}
	gc_sweep(root, &r);
	printf("gc: removed %u cgroups and %u pin directories; kept %u with processes; %u failed\n",
	       r.cgroups, r.pin_dirs, r.kept, r.failed);
	return r.failed ? EXIT_CMD_NOT_FOUND : 0;
}
