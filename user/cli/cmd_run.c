// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cmd_run.c - `awf-bpf run [OPTIONS] -- CMD [ARGS...]`: the command line of
 * a standalone sandbox. Flags are merged into the policy file: lists
 * append, scalars override, whatever their order on the command line.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd_run.h"
#include "cli/policy_flags.h"
#include "common/error.h"
#include "common/log.h"
#include "common/paths.h"
#include "kernel/loader.h"
#include "policy/policy.h"
#include "run/run.h"

#define MAX_TIMEOUT_S (7 * 24 * 3600)

#ifndef AWF_VERSION
#define AWF_VERSION "0.0.0"
#endif

const char usage_run[] =
	"Usage: awf-bpf run [OPTIONS] -- CMD [ARGS...]\n"
	"\n" POLICY_FLAGS_USAGE
	"  --timeout SECONDS           stop the command after SECONDS (exit 124)\n"
	"  --agent-timeout MINUTES     the same in minutes (awf)\n"
	"  --kill-after SECONDS        SIGTERM and SIGINT are passed to the command;\n"
	"                              if it still runs SECONDS later (default 10),\n"
	"                              or a second one comes, the whole sandbox is\n"
	"                              killed (exit 137). 0: kill on the first one\n"
	"  --audit-log FILE            append every event as a JSON line\n"
	"  --audit all|denied          also log allowed connections (default denied)\n"
	"  --audit-only                enforce NOTHING the policy refuses: let it\n"
	"                              through and log it as \"would have denied\"\n"
	"                              (audit_only in the audit log), with every\n"
	"                              allowed connection too (as --audit all);\n"
	"                              the policy's \"mode\": \"audit\". Reserved\n"
	"                              ranges (cloud metadata), raw and packet\n"
	"                              sockets and the sandbox stay enforced\n"
	"  --summary-format text|json  the summary at exit as text (default) or one\n"
	"                              JSON object, its fix also as a policy to\n"
	"                              merge (\"allow_policy\")\n"
	"  --quiet                     no summary of denials at exit (the per-denial\n"
	"                              lines stay: --log-level error drops them)\n"
	"  --log-level LEVEL           debug, info (default), warn or error\n"
	"  --standalone                load our own programs even when an agent\n"
	"                              listens on $AWF_BPF_AGENT_SOCKET (default\n"
	"                              " AWF_AGENT_SOCKET ")\n"
	"  --user NAME|UID[:GID]       run CMD as this user (NAME: its groups too);\n"
	"                              default: the sudo user (SUDO_UID/SUDO_GID)\n"
	"                              when run through sudo, else the invoking\n"
	"                              user. Even root runs without the\n"
	"                              capabilities that could lift the filter\n"
	"  --seccomp-log               do NOT deny the syscalls the seccomp filter\n"
	"                              refuses (mount, unshare, bpf, ptrace,\n"
	"                              io_uring, packet sockets...): only log them\n"
	"                              (audit log, dmesg); to find out what CMD\n"
	"                              tries, never for enforcement\n"
	"  -e, --env NAME=VALUE        set NAME for CMD (repeatable; CMD inherits\n"
	"                              the environment otherwise)\n"
	"  --env-all                   accepted for awf: the environment is\n"
	"                              inherited anyway\n"
	"  -V, --version               show the version\n"
	"\n"
	"Exit status: the command's; 128+N if it died of signal N; 124 on timeout;\n"
	"137 if the sandbox was killed after SIGTERM/SIGINT (--kill-after);\n"
	"125 if awf-bpf failed (the command did not run); 126 not executable;\n"
	"127 not found.\n";

enum run_flag {
	OPT_TIMEOUT = 256,
	OPT_KILL_AFTER,
	OPT_AUDIT_LOG,
	OPT_AUDIT,
	OPT_AUDIT_ONLY,
	OPT_SUMMARY_FORMAT,
	OPT_LOG_LEVEL,
	OPT_USER,
	OPT_SECCOMP_LOG,
	OPT_QUIET,
	OPT_STANDALONE,
	OPT_HELP,
	OPT_ENV_ALL,
	OPT_AGENT_TIMEOUT,
};

static const struct option run_longopts[] = {
	POLICY_FLAG_OPTIONS,
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "kill-after", required_argument, NULL, OPT_KILL_AFTER },
	{ "audit-log", required_argument, NULL, OPT_AUDIT_LOG },
	{ "audit", required_argument, NULL, OPT_AUDIT },
	{ "audit-only", no_argument, NULL, OPT_AUDIT_ONLY },
	{ "summary-format", required_argument, NULL, OPT_SUMMARY_FORMAT },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "user", required_argument, NULL, OPT_USER },
	{ "seccomp-log", no_argument, NULL, OPT_SECCOMP_LOG },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "standalone", no_argument, NULL, OPT_STANDALONE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "env", required_argument, NULL, 'e' },
	{ "env-all", no_argument, NULL, OPT_ENV_ALL },
	{ "agent-timeout", required_argument, NULL, OPT_AGENT_TIMEOUT },
	{ "version", no_argument, NULL, 'V' },
	{ 0 },
};

struct run_cli {
	struct policy_flags flags;
	char **env; /* -e NAME=VALUE, NULL-terminated */
	size_t n_env;
	bool audit_only; /* --audit-only: over the file's "mode" */
	struct run_options run;
};

static int fail_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "awf-bpf: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see 'awf-bpf help run')\n");
	return EXIT_AWF_FAILURE;
}

/* Whole seconds, min to MAX_TIMEOUT_S: no sign, no suffix. */
static int parse_seconds(const char *arg, unsigned long min, unsigned int *out)
{
	char *end;
	unsigned long val;

	errno = 0;
	if (*arg < '0' || *arg > '9')
		return -1;
	val = strtoul(arg, &end, 10);
	if (errno || *end || val < min || val > MAX_TIMEOUT_S)
		return -1;
	*out = (unsigned int)val;
	return 0;
}

/*
 * -e NAME=VALUE (awf, docker): set for the command only, never in awf-bpf
 * itself, whose own settings (AWF_BPF_AGENT_SOCKET) the command must not
 * choose.
 */
static int take_env(struct run_cli *cli, const char *arg)
{
	size_t name_len = strcspn(arg, "=");

	if (!arg[name_len] || name_len == 0 ||
	    strspn(arg, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			"0123456789_") != name_len ||
	    (arg[0] >= '0' && arg[0] <= '9'))
		return fail_usage(
			"--env %s: expected NAME=VALUE (NAME: letters, digits, '_', not starting with a digit)",
			arg);
	cli->env[cli->n_env++] = (char *)arg;
	return 0;
}

static int take_immediate(struct run_cli *cli, int opt, const char *arg)
{
	int level;

	switch (opt) {
	case 'e':
		return take_env(cli, arg);
	case OPT_ENV_ALL:
		return 0;
	case OPT_AGENT_TIMEOUT:
		if (parse_seconds(arg, 1, &cli->run.timeout_s) ||
		    cli->run.timeout_s > MAX_TIMEOUT_S / 60)
			return fail_usage(
				"--agent-timeout %s: expected whole minutes from 1 to 10080",
				arg);
		cli->run.timeout_s *= 60;
		return 0;
	case OPT_TIMEOUT:
		if (parse_seconds(arg, 1, &cli->run.timeout_s))
			return fail_usage(
				"--timeout %s: expected whole seconds from 1 to 604800",
				arg);
		return 0;
	case OPT_KILL_AFTER:
		if (parse_seconds(arg, 0, &cli->run.kill_after_s))
			return fail_usage(
				"--kill-after %s: expected whole seconds from 0 to 604800",
				arg);
		return 0;
	case OPT_AUDIT_LOG:
		cli->run.audit_log = arg;
		return 0;
	case OPT_USER:
		cli->run.user = arg;
		return 0;
	case OPT_SECCOMP_LOG:
		cli->run.seccomp_log = true;
		return 0;
	case OPT_QUIET:
		cli->run.quiet = true;
		return 0;
	case OPT_STANDALONE:
		cli->run.standalone = true;
		return 0;
	case OPT_AUDIT_ONLY:
		cli->audit_only = true;
		return 0;
	case OPT_SUMMARY_FORMAT:
		if (strcmp(arg, "text") && strcmp(arg, "json"))
			return fail_usage(
				"--summary-format %s: expected text or json",
				arg);
		cli->run.summary_json = strcmp(arg, "json") == 0;
		return 0;
	case OPT_AUDIT:
		if (strcmp(arg, "all") && strcmp(arg, "denied"))
			return fail_usage("--audit %s: expected all or denied",
					  arg);
		cli->run.audit_allowed = strcmp(arg, "all") == 0;
		return 0;
	case OPT_LOG_LEVEL:
		level = log_level_parse(arg);
		if (level < 0)
			return fail_usage(
				"--log-level %s: expected debug, info, warn or error",
				arg);
		log_threshold = (enum log_level)level;
		return 0;
	}
	return -1;
}

static int parse_run_args(struct run_cli *cli, int argc, char **argv)
{
	int opt;

	cli->env = calloc((size_t)argc + 1, sizeof(*cli->env));
	if (!cli->env || policy_flags_init(&cli->flags, argc) < 0)
		return fail_usage("%s", "out of memory");
	cli->run.env = cli->env;
	optind = 1;
	/* '+': the command's own options are never ours. */
	while ((opt = getopt_long(argc, argv, "+d:e:V", run_longopts, NULL)) !=
	       -1) {
		int ret;

		if (opt == '?')
			return fail_usage("%s", "bad option");
		if (opt == OPT_HELP || opt == 'V') {
			if (opt == 'V')
				printf("awf-bpf %s\n", AWF_VERSION);
			else
				fputs(usage_run, stdout);
			exit(0);
		}
		/* policy flags wait until the policy file is read */
		if (policy_flags_take(&cli->flags, opt, optarg))
			continue;
		ret = take_immediate(cli, opt, optarg);
		if (ret == EXIT_AWF_FAILURE)
			return ret;
	}
	if (optind >= argc)
		return fail_usage("%s", "run: no command given after --");
	cli->run.argv = argv + optind;
	return 0;
}

static int build_policy(struct run_cli *cli, struct policy *p)
{
	char err[AWF_ERR_LEN] = "";

	if (policy_flags_build(&cli->flags, p, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return -1;
	}
	if (cli->audit_only)
		p->audit_only = true;
	return 0;
}

int cmd_run(int argc, char **argv)
{
	struct run_cli cli = { 0 };
	struct policy policy;
	int status;

	policy_init(&policy);
	cli.run.kill_after_s = RUN_KILL_AFTER_DEFAULT_S;
	status = parse_run_args(&cli, argc, argv);
	if (!status)
		run_prepare(&cli.run);
	if (!status && build_policy(&cli, &policy))
		status = EXIT_AWF_FAILURE;
	if (!status) {
		cli.run.policy = &policy;
		loader_setup_logging();
		status = run_sandbox(&cli.run);
	} else {
		run_discard();
	}
	policy_free(&policy);
	policy_flags_free(&cli.flags);
	free(cli.env);
	return status;
}
