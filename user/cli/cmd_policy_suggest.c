// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>

#include "cli/cmd_policy_suggest.h"
#include "run/run.h"

int policy_suggest(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("awf-bpf: policy suggest: not built yet\n", stderr);
	return EXIT_AWF_FAILURE;
}
