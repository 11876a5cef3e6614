// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cmd_policy.c - `awf-bpf policy check|test|suggest`: a policy validated and
 * printed normalized, asked about destinations offline, or written from
 * audit logs.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

#include "cli/cli_opts.h"
#include "cli/cmd_policy.h"
#include "cli/policy_flags.h"
#include "cli/cmd_policy_test.h"
#include "cli/cmd_policy_suggest.h"
#include "common/error.h"
#include "common/log.h"
#include "policy/policy.h"
#include "policy/policy_finalize.h"
#include "policy/policy_json.h"
#include "policy/policy_load.h"
#include "run/run.h"

const char usage_policy[] =
	"Usage: awf-bpf policy check FILE\n"
	"       awf-bpf policy test [POLICY FLAGS] [--udp] [--json] DEST...\n"
	"       awf-bpf policy suggest [--base FILE] AUDIT.jsonl...\n"
	"\n"
	"check: validate FILE (policy/README.md) and print the normalized\n"
	"policy. Exit status 125 with a one-line error naming the field when it\n"
	"is bad.\n"
	"\n"
	"test: what a sandbox under the policy that `run` builds from the same\n"
	"flags would be told for each DEST, decided offline from the same\n"
	"tables and matcher (no root, nothing loaded). One line per DEST:\n"
	"  allow api.github.com:443 learned: by github.com (subdomains, ports 80,443)\n"
	"DEST: NAME, NAME:PORT, ADDRESS, ADDRESS:PORT, [IPv6]:PORT, https://NAME;\n"
	"without a port, whether some port is allowed. A loopback port the\n"
	"sandbox serves itself is allowed at run time only. Exit status 0 when\n"
	"every DEST is allowed, 1 when one is denied, 125 on a bad policy or\n"
	"DEST.\n" POLICY_FLAGS_USAGE
	"  --udp                       UDP instead of TCP\n"
	"  --json                      one JSON array\n"
	"\n"
	"suggest: a policy (JSON, valid for `policy check`) that allows what\n"
	"the audit logs (`run --audit-log`, `--audit-only`) show was used, and\n"
	"nothing more: names, under their registrable domain (Public Suffix\n"
	"List) when several names of it were used, with their ports; addresses\n"
	"reached without a name as /32 or /128 with their ports; loopback\n"
	"ports. --base FILE: only what FILE does not allow yet, added to it.\n"
	"Denials that a policy could allow are included, each said on stderr;\n"
	"those no policy allows (metadata ranges, spoofed sources, socket\n"
	"types, malformed DNS) never are. Exit status 125 on a bad file.\n";

static int policy_check(int argc, char **argv)
{
	char err[AWF_ERR_LEN] = "";
	struct policy policy;
	json_object *out;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		return fputs(usage_policy, stdout), 0;
	if (argc != 2 || argv[1][0] == '-')
		return fputs("awf-bpf: usage: awf-bpf policy check FILE (see 'awf-bpf help policy')\n",
			     stderr),
		       EXIT_AWF_FAILURE;
	policy_init(&policy);
	if (policy_load_file(&policy, argv[1], err, sizeof(err)) ||
	    policy_finalize(&policy, NULL, NULL, err, sizeof(err))) {
		log_error("%s", err);
		policy_free(&policy);
		return EXIT_AWF_FAILURE;
	}
	out = policy_to_json(&policy);
	cli_print_json(out);
	json_object_put(out);
	policy_free(&policy);
	return 0;
}

int cmd_policy(int argc, char **argv)
{
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		return fputs(usage_policy, stdout), 0;
	if (argc >= 2 && !strcmp(argv[1], "check"))
		return policy_check(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "test"))
		return policy_test(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "suggest"))
		return policy_suggest(argc - 1, argv + 1);
	fputs("awf-bpf: usage: awf-bpf policy check|test|suggest ... (see 'awf-bpf help policy')\n",
	      stderr);
	return EXIT_AWF_FAILURE;
}
