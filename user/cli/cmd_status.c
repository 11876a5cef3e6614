// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cmd_status.c - `awf-bpf status [--json]`: the running sandboxes, from
 * their pins: id, pid, command, user, start time, counters. With --agent,
 * the agent's pins instead: links, sandboxes per slot, counters.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/paths.h"
#include "agent/agent_pinned.h"
#include "cli/cmd_status.h"
#include "cli/cli_opts.h"
#include "cli/commands.h"
#include "audit/dump_json.h"
#include "audit/logs_format.h"
#include "common/error.h"
#include "kernel/pinned.h"

const char usage_status[] =
	"Usage: awf-bpf status [--json] [--agent]\n"
	"\n"
	"List the running sandboxes: id, awf-bpf pid, state, user, start time,\n"
	"counters and command. State \"stale\": its awf-bpf is gone (killed);\n"
	"what it left stays until `awf-bpf gc` or the next run removes it.\n"
	"--json: the objects of `dump --json` without policy, cidrs, learned\n"
	"and lo_ports (docs/dump.md); \"alive\": false is a stale sandbox.\n"
	"\n"
	"--agent: the host-wide agent instead, from its pins (also while its\n"
	"process is stopped): the cgroups and interfaces its programs are\n"
	"attached to, whether the agent process runs, and one line per\n"
	"sandbox: slot, kind, cgroup, policy, DNS port, whether the cgroup\n"
	"is still bound to the slot, counters. Exit status: 0 installed and\n"
	"running; 3 installed, agent not running (the programs enforce, DNS\n"
	"fails); 1 not installed.\n";

#define EXIT_AGENT_STOPPED 3

static int64_t int_of(json_object *o, const char *key)
{
	json_object *v = NULL;

	json_object_object_get_ex(o, key, &v);
	return v ? json_object_get_int64(v) : 0;
}

static const char *str_of(json_object *o, const char *key)
{
	json_object *v = NULL;

	json_object_object_get_ex(o, key, &v);
	return v ? json_object_get_string(v) : "-";
}

/* A sandbox whose awf-bpf is gone: what is left of it is for `gc`. */
static const char *state_of(json_object *sb)
{
	return json_object_get_boolean(json_object_object_get(sb, "alive")) ?
		       "running" :
		       "stale";
}

static void print_row(json_object *sb)
{
	json_object *c = NULL, *cmd = NULL;

	json_object_object_get_ex(sb, "counters", &c);
	json_object_object_get_ex(sb, "command", &cmd);
	printf("%-14s %-8s %-7s %-10s %-24s %7lld %7lld %7lld %5lld  ",
	       str_of(sb, "sandbox"), str_of(sb, "pid"), state_of(sb),
	       str_of(sb, "user"), str_of(sb, "started"),
	       (long long)(int_of(c, "connect_allowed") +
			   int_of(c, "sendmsg_allowed")),
	       (long long)(int_of(c, "connect_denied") +
			   int_of(c, "sendmsg_denied") +
			   int_of(c, "sockets_denied") +
			   int_of(c, "packets_dropped") +
			   int_of(c, "names_denied")),
	       (long long)(int_of(c, "dns_blocked") + int_of(c, "dns_failed")),
	       (long long)int_of(c, "events_lost"));
	logs_put_command(stdout, cmd);
	putchar('\n');
}

static void print_table(json_object *list)
{
	size_t stale = 0;

	if (!json_object_array_length(list)) {
		printf("no running sandbox\n");
		return;
	}
	printf("%-14s %-8s %-7s %-10s %-24s %7s %7s %7s %5s  %s\n", "SANDBOX",
	       "PID", "STATE", "USER", "STARTED", "ALLOWED", "DENIED",
	       "DNS-DEN", "LOST", "COMMAND");
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *sb = json_object_array_get_idx(list, i);

		print_row(sb);
		stale += !strcmp(state_of(sb), "stale");
	}
	if (stale)
		printf("%zu stale: their awf-bpf is gone; `awf-bpf gc` removes what is left\n",
		       stale);
}

static json_object *collect(void)
{
	json_object *list = json_object_new_array();
	char(*ids)[AWF_ID_LEN];
	char err[AWF_ERR_LEN];
	struct pinned p;
	size_t n;

	if (!list || pinned_list(&ids, &n)) {
		json_object_put(list);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		json_object *sb;

		if (pinned_open(&p, ids[i], err, sizeof(err)))
			continue; /* ended meanwhile */
		sb = dump_sandbox_json(&p, false);
		pinned_close(&p);
		if (sb)
			json_object_array_add(list, sb);
	}
	free(ids);
	return list;
}

/* ------------------------------------------------------------ agent */

/* A cgroup id as the state file names it; NULL if it names none. */
static const char *cgroup_name(const struct agent_state_info *st, uint64_t id)
{
	for (size_t i = 0; i < st->n; i++)
		if (st->sandboxes[i].cgroup_id == id)
			return st->sandboxes[i].cgroup;
	return NULL;
}

/* {"cgroup_id", "cgroup", "programs"} per cgroup, {"ifindex", "name"}. */
static void links_json(json_object *root, const struct agent_link *l, size_t n,
		       const struct agent_state_info *st)
{
	json_object *cgroups = json_object_new_array();
	json_object *ifaces = json_object_new_array();
	json_object *cg = NULL, *progs = NULL;
	char ifname[IF_NAMESIZE];
	const char *name;

	for (size_t i = 0; i < n; i++) {
		json_object *o;

		if (l[i].kind == AGENT_LINK_TC) {
			o = json_object_new_object();
			json_object_object_add(
				o, "ifindex",
				json_object_new_int(l[i].ifindex));
			json_object_object_add(
				o, "name",
				if_indextoname((unsigned int)l[i].ifindex,
					       ifname) ?
					json_object_new_string(ifname) :
					NULL);
			json_object_array_add(ifaces, o);
			continue;
		}
		if (!cg || (i && l[i - 1].cgroup_id != l[i].cgroup_id)) {
			cg = json_object_new_object();
			progs = json_object_new_array();
			name = cgroup_name(st, l[i].cgroup_id);
			json_object_object_add(
				cg, "cgroup_id",
				json_object_new_uint64(l[i].cgroup_id));
			json_object_object_add(
				cg, "cgroup",
				name ? json_object_new_string(name) : NULL);
			json_object_object_add(cg, "programs", progs);
			json_object_array_add(cgroups, cg);
		}
		json_object_array_add(progs,
				      json_object_new_string(l[i].program));
	}
	json_object_object_add(root, "cgroups", cgroups);
	json_object_object_add(root, "interfaces", ifaces);
}

static json_object *agent_collect(void)
{
	json_object *root = json_object_new_object();
	json_object *list = json_object_new_array();
	struct agent_state_info st;
	struct agent_pinned ap;
	struct agent_link *links;
	char err[AWF_ERR_LEN];
	bool have_state, have_maps;
	size_t n;

	if (agent_links_list(AWF_AGENT_LINKS_DIR, &links, &n))
		fprintf(stderr, "awf-bpf: status: %s: %s\n",
			AWF_AGENT_LINKS_DIR, strerror(errno));
	have_state =
		!agent_state_read(AWF_AGENT_STATE_FILE, &st, err, sizeof(err));
	if (!have_state && errno != ENOENT)
		fprintf(stderr, "awf-bpf: status: %s\n", err);
	have_maps = !agent_pinned_open(&ap, err, sizeof(err));
	json_object_object_add(root, "version",
			       json_object_new_int(DUMP_FORMAT_VERSION));
	json_object_object_add(
		root, "installed",
		json_object_new_boolean(n &&
					links[0].kind == AGENT_LINK_CGROUP));
	json_object_object_add(
		root, "running",
		json_object_new_boolean(have_state &&
					agent_pid_is_awf((pid_t)st.agent_pid)));
	json_object_object_add(root, "agent_pid",
			       have_state && st.agent_pid ?
				       json_object_new_int64(st.agent_pid) :
				       NULL);
	json_object_object_add(
		root, "state_file",
		have_state ? json_object_new_string(AWF_AGENT_STATE_FILE) :
			     NULL);
	links_json(root, links, n, &st);
	for (size_t i = 0; have_state && have_maps && i < st.n; i++)
		json_object_array_add(
			list, agent_sandbox_json(&ap, &st.sandboxes[i], false));
	json_object_object_add(root, "sandboxes", list);
	if (have_maps)
		agent_pinned_close(&ap);
	if (have_state)
		agent_state_info_free(&st);
	free(links);
	return root;
}

static void print_agent_sandbox(json_object *sb)
{
	json_object *c = NULL;

	json_object_object_get_ex(sb, "counters", &c);
	printf("%4s %-8s %-24s %-12s %5s %-5s %7lld %7lld %7lld %7lld %7lld %7lld %7lld\n",
	       str_of(sb, "slot"), str_of(sb, "kind"), str_of(sb, "cgroup"),
	       str_of(sb, "policy"), str_of(sb, "dns_port"),
	       json_object_get_boolean(json_object_object_get(sb, "bound")) ?
		       "yes" :
		       "no",
	       (long long)int_of(c, "connect_allowed"),
	       (long long)int_of(c, "connect_denied"),
	       (long long)int_of(c, "sendmsg_denied"),
	       (long long)int_of(c, "packets_dropped"),
	       (long long)int_of(c, "names_denied"),
	       (long long)int_of(c, "dns_allowed"),
	       (long long)int_of(c, "dns_blocked"));
}

static void print_agent(json_object *root)
{
	json_object *cgroups = json_object_object_get(root, "cgroups");
	json_object *ifaces = json_object_object_get(root, "interfaces");
	json_object *list = json_object_object_get(root, "sandboxes");
	bool installed = json_object_get_boolean(
		json_object_object_get(root, "installed"));
	bool running = json_object_get_boolean(
		json_object_object_get(root, "running"));

	if (!installed)
		printf("agent: not installed\n");
	else if (running)
		printf("agent: installed, running (pid %s)\n",
		       str_of(root, "agent_pid"));
	else
		printf("agent: installed, NOT running (last pid %s): the programs still enforce, DNS of the sandboxes fails\n",
		       str_of(root, "agent_pid"));
	for (size_t i = 0; i < json_object_array_length(cgroups); i++) {
		json_object *cg = json_object_array_get_idx(cgroups, i);

		printf("  cgroup %s (id %s): %zu programs\n",
		       str_of(cg, "cgroup"), str_of(cg, "cgroup_id"),
		       json_object_array_length(
			       json_object_object_get(cg, "programs")));
	}
	for (size_t i = 0; i < json_object_array_length(ifaces); i++) {
		json_object *ifc = json_object_array_get_idx(ifaces, i);

		printf("  interface %s (ifindex %s)\n", str_of(ifc, "name"),
		       str_of(ifc, "ifindex"));
	}
	if (!json_object_array_length(list)) {
		printf("no agent sandbox\n");
		return;
	}
	printf("%4s %-8s %-24s %-12s %5s %-5s %7s %7s %7s %7s %7s %7s %7s\n",
	       "SLOT", "KIND", "CGROUP", "POLICY", "DNS", "BOUND", "CONN-OK",
	       "CONN-NO", "SEND-NO", "DROPPED", "NAME-NO", "DNS-OK", "DNS-NO");
	for (size_t i = 0; i < json_object_array_length(list); i++)
		print_agent_sandbox(json_object_array_get_idx(list, i));
}

static int status_agent(bool json)
{
	json_object *root = agent_collect();
	int ret;

	if (json)
		cli_print_json(root);
	else
		print_agent(root);
	if (!json_object_get_boolean(json_object_object_get(root, "installed")))
		ret = EXIT_CMD_NOT_FOUND;
	else if (!json_object_get_boolean(
			 json_object_object_get(root, "running")))
		ret = EXIT_AGENT_STOPPED;
	else
		ret = 0;
	json_object_put(root);
	return ret;
}

/* ---------------------------------------------------------- command */

int cmd_status(int argc, char **argv)
{
	json_object *root, *list;
	bool json, agent;
	int ret;

	ret = cli_json_agent_opts(argc, argv, usage_status, 0, &json, &agent);
	if (ret >= 0)
		return ret;
	if (agent)
		return status_agent(json);
	list = collect();
	if (!list) {
		perror("awf-bpf: status: " AWF_PIN_ROOT);
		return EXIT_CMD_NOT_FOUND;
	}
	if (!json) {
		print_table(list);
		json_object_put(list);
		return 0;
	}
	root = json_object_new_object();
	json_object_object_add(root, "version",
			       json_object_new_int(DUMP_FORMAT_VERSION));
	json_object_object_add(root, "sandboxes", list);
	cli_print_json(root);
	json_object_put(root);
	return 0;
}
