// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cmd_policy.c - `awf-bpf policy check FILE`: validate a policy file and
 * print it normalized, as `run` would enforce it.
 */
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

#include "cli/cmd_policy.h"
#include "common/error.h"
#include "common/log.h"
#include "policy/policy.h"
#include "policy/policy_finalize.h"
#include "policy/policy_json.h"
#include "policy/policy_load.h"
#include "run/run.h"

const char usage_policy[] =
	"Usage: awf-bpf policy check FILE\n"
	"\n"
	"Validate FILE (policy/README.md) and print the normalized policy.\n"
	"Exit status 125 with a one-line error naming the field when it is bad.\n";

int cmd_policy(int argc, char **argv)
{
	char err[AWF_ERR_LEN] = "";
	struct policy policy;
	json_object *out;

	if (argc != 3 || strcmp(argv[1], "check") != 0)
		return fputs("awf-bpf: usage: awf-bpf policy check FILE (see 'awf-bpf help policy')\n",
			     stderr),
		       EXIT_AWF_FAILURE;
	policy_init(&policy);
	if (policy_load_file(&policy, argv[2], err, sizeof(err)) ||
	    policy_finalize(&policy, NULL, NULL, err, sizeof(err))) {
		log_error("%s", err);
		policy_free(&policy);
		return EXIT_AWF_FAILURE;
	}
	out = policy_to_json(&policy);
	printf("%s\n", json_object_to_json_string_ext(
			       out, JSON_C_TO_STRING_PRETTY |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(out);
	policy_free(&policy);
	return 0;
}
