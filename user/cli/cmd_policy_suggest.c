// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <getopt.h>
#include <stdio.h>
#include <json-c/json.h>

#include "audit/suggest.h"
#include "cli/cli_opts.h"
#include "cli/cmd_policy.h"
#include "cli/cmd_policy_suggest.h"
#include "common/error.h"
#include "common/log.h"
#include "policy/policy_json.h"
#include "policy/policy_load.h"
#include "run/run.h"

enum suggest_opt {
	OPT_BASE = 256,
	OPT_HELP,
};

static const struct option suggest_opts[] = {
	{ "base", required_argument, NULL, OPT_BASE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ 0 },
};

static int suggest_from(const char *base, char **logs, int n_logs)
{
	struct suggest *s = suggest_new(stderr);
	char err[AWF_ERR_LEN] = "";
	struct policy policy;
	int rc = -1;

	policy_init(&policy);
	if (!s) {
		set_err(err, sizeof(err), "out of memory");
		goto out;
	}
	/* the base as written: its DNS servers stay unresolved, like a file */
	if (base && policy_load_file(&policy, base, err, sizeof(err)) < 0)
		goto out;
	for (int i = 0; i < n_logs; i++)
		if (suggest_add_file(s, logs[i], err, sizeof(err)) < 0)
			goto out;
	rc = suggest_merge(s, &policy, err, sizeof(err));
	if (rc == 0) {
		json_object *out = policy_to_json(&policy);

		cli_print_json(out);
		json_object_put(out);
	}
out:
	if (rc < 0)
		log_error("policy suggest: %s", err);
	suggest_free(s);
	policy_free(&policy);
	return rc < 0 ? EXIT_AWF_FAILURE : 0;
}

int policy_suggest(int argc, char **argv)
{
	const char *base = NULL;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", suggest_opts, NULL)) != -1) {
		if (opt == OPT_BASE)
			base = optarg;
		else if (opt == OPT_HELP)
			return fputs(usage_policy, stdout), 0;
		else
			goto usage;
	}
	if (optind < argc)
		return suggest_from(base, argv + optind, argc - optind);
usage:
	fputs("awf-bpf: usage: awf-bpf policy suggest [--base FILE] AUDIT.jsonl... (see 'awf-bpf help policy')\n",
	      stderr);
	return EXIT_AWF_FAILURE;
}
