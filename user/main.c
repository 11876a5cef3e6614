// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * main.c - the awf-bpf command line: a table of commands (user/cli/), help
 * and version.
 */
#include <stdio.h>
#include <string.h>
#ifdef AWF_STATIC
#include <nss.h>
#endif

#include "cli/cmd_agent.h"
#include "cli/cmd_dump.h"
#include "cli/cmd_gc.h"
#include "cli/cmd_logs.h"
#include "cli/cmd_policy.h"
#include "cli/cmd_run.h"
#include "cli/cmd_status.h"
#include "cli/commands.h"
#include "common/error.h"
#include "kernel/loader.h"
#include "common/log.h"
#include "policy/policy.h"
#include "run/run.h"

#ifndef AWF_VERSION
#define AWF_VERSION "0.0.0"
#endif

static const char usage_main[] =
	"Usage: awf-bpf COMMAND [ARGS]\n"
	"\n"
	"Kernel-enforced egress firewall for one command (eBPF, cgroup v2).\n"
	"\n"
	"Commands:\n"
	"  run [OPTIONS] -- CMD [ARGS...]  run CMD with egress limited to the policy\n"
	"  policy check FILE               validate FILE, print the normalized policy\n"
	"  policy test [FLAGS] DEST...     allow or deny DEST under a policy, and why\n"
	"  policy suggest [--base F] LOG   a policy from audit logs: what was used\n"
	"  logs FILE [--format F]          print an audit log (pretty, json, markdown)\n"
	"  logs summary FILE               denials, counters, flags to allow them\n"
	"  logs --follow FILE|SANDBOX      print a running sandbox's log as it grows\n"
	"  dump [--json] [SANDBOX]         what the kernel enforces for a sandbox\n"
	"  status [--json]                 the running sandboxes\n"
	"  gc                              remove what killed runs left behind\n"
	"  agent [--config FILE]           the host-wide enforcer (docs/fleet.md)\n"
	"  dump|status --agent             the agent's sandboxes, from its pins\n"
	"  help [COMMAND]                  this text, or the options of COMMAND\n"
	"\n"
	"  -h, --help     show this help\n"
	"  -V, --version  show the version\n";

static int cmd_help(int argc, char **argv);

static const struct awf_command cmds[] = {
	{ "run", cmd_run, usage_run },
	{ "policy", cmd_policy, usage_policy },
	{ "logs", cmd_logs, usage_logs },
	{ "dump", cmd_dump, usage_dump },
	{ "status", cmd_status, usage_status },
	{ "gc", cmd_gc, usage_gc },
	{ "agent", cmd_agent, usage_agent },
	{ "help", cmd_help, usage_main },
};

#define N_CMDS (sizeof(cmds) / sizeof(cmds[0]))

static const struct awf_command *find_command(const char *name)
{
	for (size_t i = 0; i < N_CMDS; i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

static int cmd_help(int argc, char **argv)
{
	const struct awf_command *cmd = argc > 1 ? find_command(argv[1]) : NULL;

	fputs(cmd ? cmd->usage : usage_main, stdout);
	return 0;
}

/*
 * The static build (make static) carries glibc's files backend only: any
 * other NSS module named in nsswitch.conf (systemd, sss, ldap) would be
 * dlopen()ed from the host's glibc, of another version. --user NAME and
 * control_group names come from /etc/passwd and /etc/group there; host
 * names (libraries only: policies take IP literals) from /etc/hosts and DNS.
 */
static void static_nss_files_only(void)
{
#ifdef AWF_STATIC
	__nss_configure_lookup("passwd", "files");
	__nss_configure_lookup("group", "files");
	__nss_configure_lookup("initgroups", "files");
	__nss_configure_lookup("hosts", "files dns");
	__nss_configure_lookup("services", "files");
	__nss_configure_lookup("protocols", "files");
#endif
}

int main(int argc, char **argv)
{
	const struct awf_command *cmd;

	static_nss_files_only();

	if (argc < 2)
		return fputs(usage_main, stderr), EXIT_AWF_FAILURE;
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cmd_help(1, argv);
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))
		return printf("awf-bpf %s\n", AWF_VERSION), 0;
	cmd = find_command(argv[1]);
	if (cmd)
		return cmd->run(argc - 1, argv + 1);
	fprintf(stderr,
		"awf-bpf: unknown command '%s' (see 'awf-bpf --help')\n",
		argv[1]);
	return EXIT_AWF_FAILURE;
}
