// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <json-c/json.h>

#include "audit/audit_codes.h"
#include "cli/cli_opts.h"
#include "cli/cmd_policy.h"
#include "cli/cmd_policy_test.h"
#include "cli/policy_flags.h"
#include "common/error.h"
#include "common/log.h"
#include "kernel/hostaddr.h"
#include "kernel/verdict.h"
#include "policy/policy_json.h"
#include "run/run.h"

enum test_opt {
	OPT_JSON = 256,
	OPT_UDP,
	OPT_HELP,
};

static const struct option test_opts[] = {
	POLICY_FLAG_OPTIONS,
	{ "json", no_argument, NULL, OPT_JSON },
	{ "udp", no_argument, NULL, OPT_UDP },
	{ "help", no_argument, NULL, OPT_HELP },
	{ 0 },
};

struct test_cli {
	struct policy_flags flags;
	bool json;
	bool udp;
	char **dests;
	int n_dests;
};

static int bad_usage(const char *what)
{
	fprintf(stderr,
		"awf-bpf: policy test: %s (see 'awf-bpf help policy')\n", what);
	return EXIT_AWF_FAILURE;
}

/* -1: go on; else the exit status. */
static int parse_test_args(struct test_cli *cli, int argc, char **argv)
{
	int opt;

	if (policy_flags_init(&cli->flags, argc) < 0)
		return bad_usage("out of memory");
	optind = 1;
	while ((opt = getopt_long(argc, argv, "d:", test_opts, NULL)) != -1) {
		if (policy_flags_take(&cli->flags, opt, optarg))
			continue;
		if (opt == OPT_JSON)
			cli->json = true;
		else if (opt == OPT_UDP)
			cli->udp = true;
		else if (opt == OPT_HELP)
			return fputs(usage_policy, stdout), 0;
		else
			return bad_usage("bad option");
	}
	if (optind >= argc)
		return bad_usage("no DEST given");
	cli->dests = argv + optind;
	cli->n_dests = argc - optind;
	return -1;
}

static json_object *verdict_json(const struct verdict_ctx *c, const char *dest,
				 const struct verdict *v, const char *rule)
{
	static const char *const lists[] = {
		[VR_CIDR] = "allow_cidrs",
		[VR_ALLOW_DOMAIN] = "allow_domains",
		[VR_BLOCK_DOMAIN] = "block_domains",
	};
	json_object *o = json_object_new_object();
	const char *list = v->rule < sizeof(lists) / sizeof(lists[0]) ?
				   lists[v->rule] :
				   NULL;

	(void)c;
	json_object_object_add(o, "dest", json_object_new_string(dest));
	json_object_object_add(
		o, "verdict",
		json_object_new_string(v->allowed ? "allow" : "deny"));
	json_object_object_add(o, "reason",
			       json_object_new_string(reason_code(v->reason)));
	json_object_object_add(o, "rule", json_object_new_string(rule));
	json_object_object_add(o, "list",
			       list ? json_object_new_string(list) : NULL);
	json_object_object_add(o, "index",
			       list ? json_object_new_int64((int64_t)v->index) :
				      NULL);
	json_object_object_add(o, "ports", port_set_to_json(&v->ports));
	return o;
}

/* Every DEST parsed first: one bad DEST fails the run before any answer. */
static int parse_dests(const struct test_cli *cli, struct verdict_dest *d)
{
	char err[AWF_ERR_LEN];

	for (int i = 0; i < cli->n_dests; i++) {
		if (verdict_dest_parse(cli->dests[i], &d[i], err, sizeof(err)) <
		    0) {
			log_error("policy test: bad DEST %s", err);
			return -1;
		}
		d[i].udp = cli->udp;
	}
	return 0;
}

static int answer(const struct test_cli *cli, const struct verdict_ctx *c,
		  const struct verdict_dest *d)
{
	json_object *arr = cli->json ? json_object_new_array() : NULL;
	int status = 0;

	for (int i = 0; i < cli->n_dests; i++) {
		char rule[512];
		struct verdict v;

		verdict_decide(c, &d[i], &v);
		verdict_rule_text(c, &v, rule, sizeof(rule));
		if (!v.allowed)
			status = EXIT_POLICY_DENIED;
		if (arr)
			json_object_array_add(
				arr, verdict_json(c, cli->dests[i], &v, rule));
		else
			printf("%s %s %s: %s\n", v.allowed ? "allow" : "deny",
			       cli->dests[i], reason_code(v.reason), rule);
	}
	if (arr) {
		cli_print_json(arr);
		json_object_put(arr);
	}
	return status;
}

static int test_dests(const struct test_cli *cli)
{
	struct verdict_dest *d = calloc((size_t)cli->n_dests, sizeof(*d));
	struct policy_cidr *local = NULL;
	char err[AWF_ERR_LEN] = "";
	struct verdict_ctx ctx;
	struct policy policy;
	size_t n_local = 0;
	int status = EXIT_AWF_FAILURE;

	policy_init(&policy);
	if (!d || parse_dests(cli, d) < 0)
		goto out;
	if (policy_flags_build(&cli->flags, &policy, err, sizeof(err)) < 0 ||
	    host_local_addrs(&local, &n_local, err, sizeof(err)) < 0 ||
	    verdict_ctx_init(&ctx, &policy, local, n_local, err, sizeof(err)) <
		    0) {
		log_error("%s", err);
		goto out;
	}
	status = answer(cli, &ctx, d);
	verdict_ctx_free(&ctx);
out:
	free(local);
	free(d);
	policy_free(&policy);
	return status;
}

int policy_test(int argc, char **argv)
{
	struct test_cli cli = { 0 };
	int status = parse_test_args(&cli, argc, argv);

	if (status < 0)
		status = test_dests(&cli);
	policy_flags_free(&cli.flags);
	return status;
}
