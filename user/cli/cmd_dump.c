// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cmd_dump.c - `awf-bpf dump [--json] [SANDBOX]`: what the kernel enforces
 * for a running sandbox, from its pins alone (docs/dump.md). With --agent,
 * the same for the sandboxes (slots) of the host-wide agent.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/paths.h"
#include "agent/agent_pinned.h"
#include "cli/cmd_dump.h"
#include "cli/cli_opts.h"
#include "cli/commands.h"
#include "audit/dump_json.h"
#include "audit/logs_format.h"
#include "common/error.h"
#include "kernel/pinned.h"

const char usage_dump[] =
	"Usage: awf-bpf dump [--json] [SANDBOX]\n"
	"       awf-bpf dump --agent [--json] [CGROUP|slot-N]\n"
	"\n"
	"Print what the kernel enforces for SANDBOX (run-<pid>), or for every\n"
	"running sandbox: identity, policy entries, CIDR rules, learned\n"
	"addresses with their names, ports and expiry, loopback ports bound\n"
	"inside, counters. Read from /sys/fs/bpf/awf-bpf/<SANDBOX>/ alone.\n"
	"\n"
	"  --json   one JSON object (docs/dump.md)\n"
	"  --agent  the sandboxes of the host-wide agent instead, or the one\n"
	"           of CGROUP (as in its state file) or slot N: config, CIDR\n"
	"           entries, learned addresses, loopback ports, counters.\n"
	"           Read from /sys/fs/bpf/awf-bpf/agent/ and\n"
	"           /run/awf-bpf/agent-state.json: works while the agent\n"
	"           process is stopped.\n";

/* ---------------------------------------------------------- text form */

static const char *str_of(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		return "-";
	return json_object_get_string(v);
}

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	json_object_object_get_ex(o, key, &v);
	return v;
}

/* [80, "8000-8100"] as "80,8000-8100"; "all" stays. */
static void ports_text(json_object *ports, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	if (!ports || !json_object_is_type(ports, json_type_array)) {
		snprintf(buf, len, "%s",
			 ports ? json_object_get_string(ports) : "-");
		return;
	}
	for (size_t i = 0; i < json_object_array_length(ports) && off < len;
	     i++)
		off += (size_t)snprintf(
			buf + off, len - off, "%s%s", i ? "," : "",
			json_object_get_string(
				json_object_array_get_idx(ports, i)));
}

static void print_command(json_object *cmd)
{
	logs_put_command(stdout, cmd);
	printf("\n");
}

static void print_identity(json_object *sb)
{
	printf("sandbox %s (awf-bpf pid %s, %s)\n", str_of(sb, "sandbox"),
	       str_of(sb, "pid"),
	       json_object_get_boolean(get(sb, "alive")) ? "running" :
							   "awf-bpf gone");
	printf("  command:    ");
	print_command(get(sb, "command"));
	printf("  user:       %s (uid %s)\n", str_of(sb, "user"),
	       str_of(sb, "uid"));
	printf("  started:    %s\n", str_of(sb, "started"));
	printf("  workload:   pid %s, cgroup id %s\n",
	       str_of(sb, "workload_pid"), str_of(sb, "cgroup_id"));
	printf("  audit log:  %s\n", str_of(sb, "audit_log"));
}

static void print_domains(json_object *list, const char *title)
{
	char ports[256];

	if (!list || !json_object_array_length(list))
		return;
	printf("  %s:\n", title);
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *d = json_object_array_get_idx(list, i);

		ports_text(get(d, "ports"), ports, sizeof(ports));
		printf("    [%s] %s%s%s%s\n", str_of(d, "id"),
		       str_of(d, "domain"),
		       json_object_get_boolean(get(d, "subdomains")) ?
			       " (and subdomains)" :
			       "",
		       get(d, "ports") ? " ports " : "",
		       get(d, "ports") ? ports : "");
	}
}

static void print_policy(json_object *pol)
{
	json_object *lo = get(pol, "localhost"), *dns = get(pol, "dns");
	json_object *servers = get(pol, "dns_servers");
	char ports[256];

	printf("  policy:\n");
	ports_text(get(pol, "ports"), ports, sizeof(ports));
	printf("    ports %s; ipv6 %s; proxy %s; audit %s\n", ports,
	       json_object_get_boolean(get(pol, "ipv6")) ? "on" : "off",
	       str_of(pol, "proxy"), str_of(pol, "audit"));
	ports_text(get(lo, "ports"), ports, sizeof(ports));
	printf("    localhost %s (listed ports %s)\n", str_of(lo, "mode"),
	       ports[0] ? ports : "none");
	printf("    dns_servers");
	for (size_t i = 0; servers && i < json_object_array_length(servers);
	     i++)
		printf(" %s", json_object_get_string(
				      json_object_array_get_idx(servers, i)));
	printf("; min_ttl %s s, max_ips_per_name %s; endpoint port %s\n",
	       str_of(dns, "min_ttl"), str_of(dns, "max_ips_per_name"),
	       str_of(pol, "dns_endpoint_port"));
	print_domains(get(pol, "allow_domains"), "allow_domains");
	print_domains(get(pol, "block_domains"), "block_domains");
}

static void print_cidrs(json_object *arr)
{
	char ports[256];

	printf("  cidrs:%s\n", json_object_array_length(arr) ? "" : " none");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *c = json_object_array_get_idx(arr, i);

		ports_text(get(c, "ports"), ports, sizeof(ports));
		if (get(c, "ports"))
			printf("    %-43s allow, ports %s (entry %s)\n",
			       str_of(c, "cidr"), ports, str_of(c, "rule_id"));
		else
			printf("    %-43s %s\n", str_of(c, "cidr"),
			       str_of(c, "kind"));
	}
}

static void print_learned(json_object *arr)
{
	char ports[256];

	printf("  learned:%s\n", json_object_array_length(arr) ? "" : " none");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *l = json_object_array_get_idx(arr, i);

		const char *name = str_of(l, "name");
		char id[40];

		/* The agent keeps no names: its learned addresses have ids. */
		if (!get(l, "name")) {
			snprintf(id, sizeof(id), "name_id %s",
				 str_of(l, "name_id"));
			name = id;
		}
		ports_text(get(l, "ports"), ports, sizeof(ports));
		printf("    %-39s %s ports %s, ", str_of(l, "address"), name,
		       ports);
		if (json_object_get_boolean(get(l, "expired")))
			printf("expired\n");
		else
			printf("expires in %s s\n", str_of(l, "expires_in_s"));
	}
}

static void print_lo_ports(json_object *arr)
{
	printf("  lo_ports:%s", json_object_array_length(arr) ? "" : " none");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *l = json_object_array_get_idx(arr, i);

		printf(" %s/%s", str_of(l, "proto"), str_of(l, "port"));
	}
	printf("\n");
}

static void print_counters(json_object *c)
{
	json_object *reasons = get(c, "denied_by_reason");

	printf("  counters:");
	if (!c) {
		printf(" unreadable\n");
		return;
	}
	json_object_object_foreach(c, key, val) {
		if (strcmp(key, "denied_by_reason"))
			printf(" %s=%s", key, json_object_get_string(val));
	}
	printf("\n  denied by reason:");
	json_object_object_foreach(reasons, rkey, rval)
		printf(" %s=%s", rkey, json_object_get_string(rval));
	printf("\n");
}

static void print_text(json_object *sb)
{
	print_identity(sb);
	if (get(sb, "policy")) {
		print_policy(get(sb, "policy"));
		print_cidrs(get(sb, "cidrs"));
		print_learned(get(sb, "learned"));
		print_lo_ports(get(sb, "lo_ports"));
	}
	print_counters(get(sb, "counters"));
}

static void print_agent_config(json_object *cfg)
{
	json_object *lo = get(cfg, "localhost");
	char ports[256];

	if (!cfg) {
		printf("  config: unreadable\n");
		return;
	}
	ports_text(get(lo, "ports"), ports, sizeof(ports));
	printf("  config: %slocalhost %s (listed ports %s); ipv6 %s; proxy %s; audit %s; dns endpoint port %s\n",
	       json_object_get_boolean(get(cfg, "unrestricted")) ?
		       "UNRESTRICTED; " :
		       "",
	       str_of(lo, "mode"), ports[0] ? ports : "none",
	       json_object_get_boolean(get(cfg, "ipv6")) ? "on" : "off",
	       str_of(cfg, "proxy"), str_of(cfg, "audit"),
	       str_of(cfg, "dns_endpoint_port"));
}

static void print_agent_text(json_object *sb)
{
	printf("slot %s: %s %s (cgroup id %s), policy %s, dns port %s, %s\n",
	       str_of(sb, "slot"), str_of(sb, "kind"), str_of(sb, "cgroup"),
	       str_of(sb, "cgroup_id"), str_of(sb, "policy"),
	       str_of(sb, "dns_port"),
	       json_object_get_boolean(get(sb, "bound")) ?
		       "bound" :
		       "NOT bound (the cgroup is gone or on another slot)");
	print_agent_config(get(sb, "config"));
	print_cidrs(get(sb, "cidrs"));
	print_learned(get(sb, "learned"));
	print_lo_ports(get(sb, "lo_ports"));
	print_counters(get(sb, "counters"));
}

/* ------------------------------------------------------------ command */

/* Every sandbox of the agent, or the one what names (NULL: all). */
static int dump_agent(const char *what, json_object *out)
{
	const struct agent_state_sandbox *one = NULL;
	struct agent_state_info st;
	struct agent_pinned ap;
	char err[AWF_ERR_LEN];
	int ret = 0;

	if (agent_pinned_open(&ap, err, sizeof(err))) {
		fprintf(stderr, "awf-bpf: dump: %s (agent not installed?)\n",
			err);
		return -1;
	}
	if (agent_state_read(AWF_AGENT_STATE_FILE, &st, err, sizeof(err))) {
		fprintf(stderr, "awf-bpf: dump: %s\n", err);
		agent_pinned_close(&ap);
		return -1;
	}
	if (what && !(one = agent_state_find(&st, what))) {
		fprintf(stderr, "awf-bpf: dump: %s: no such agent sandbox\n",
			what);
		ret = -1;
	}
	for (size_t i = 0; !ret && i < st.n; i++)
		if (!one || one == &st.sandboxes[i])
			json_object_array_add(
				out, agent_sandbox_json(&ap, &st.sandboxes[i],
							true));
	agent_state_info_free(&st);
	agent_pinned_close(&ap);
	return ret;
}

static int dump_one(const char *id, json_object *out)
{
	struct pinned p;
	char err[AWF_ERR_LEN];
	json_object *sb;

	if (pinned_open(&p, id, err, sizeof(err))) {
		fprintf(stderr, "awf-bpf: dump: %s\n", err);
		return -1;
	}
	sb = dump_sandbox_json(&p, true);
	pinned_close(&p);
	if (!sb) {
		fprintf(stderr, "awf-bpf: dump: out of memory\n");
		return -1;
	}
	json_object_array_add(out, sb);
	return 0;
}

static int dump_all(json_object *out)
{
	char(*ids)[AWF_ID_LEN];
	size_t n;

	if (pinned_list(&ids, &n)) {
		perror("awf-bpf: dump: " AWF_PIN_ROOT);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		dump_one(ids[i], out); /* one may end meanwhile: not fatal */
	free(ids);
	return 0;
}

static void print_all(json_object *root, bool json,
		      void (*print)(json_object *sb))
{
	json_object *list = get(root, "sandboxes");

	if (json) {
		cli_print_json(root);
		return;
	}
	if (!json_object_array_length(list))
		printf("no running sandbox\n");
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		if (i)
			printf("\n");
		print(json_object_array_get_idx(list, i));
	}
}

int cmd_dump(int argc, char **argv)
{
	json_object *root, *list;
	bool json, agent;
	const char *what;
	int ret;

	ret = cli_json_agent_opts(argc, argv, usage_dump, 1, &json, &agent);
	if (ret >= 0)
		return ret;
	root = json_object_new_object();
	list = json_object_new_array();
	json_object_object_add(root, "version",
			       json_object_new_int(DUMP_FORMAT_VERSION));
	json_object_object_add(root, "sandboxes", list);
	what = optind < argc ? argv[optind] : NULL;
	if (agent)
		ret = dump_agent(what, list);
	else
		ret = what ? dump_one(what, list) : dump_all(list);
	if (!ret)
		print_all(root, json, agent ? print_agent_text : print_text);
	json_object_put(root);
	return ret ? EXIT_CMD_NOT_FOUND : 0;
}
