// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cmd_status.c - `awf-bpf status [--json]`: the running sandboxes, from
 * their pins: id, pid, command, user, start time, counters.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "dump_json.h"
#include "pinned.h"

const char usage_status[] =
	"Usage: awf-bpf status [--json]\n"
	"\n"
	"List the running sandboxes: id, awf-bpf pid, user, start time,\n"
	"counters and command. --json: the objects of `dump --json` without\n"
	"policy, cidrs, learned and lo_ports (docs/dump.md).\n";

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

static void print_row(json_object *sb)
{
	json_object *c = NULL, *cmd = NULL;

	json_object_object_get_ex(sb, "counters", &c);
	json_object_object_get_ex(sb, "command", &cmd);
	printf("%-14s %-8s %-10s %-24s %7lld %7lld %7lld %5lld  ",
	       str_of(sb, "sandbox"), str_of(sb, "pid"), str_of(sb, "user"),
	       str_of(sb, "started"),
	       (long long)(int_of(c, "connect_allowed") +
			   int_of(c, "sendmsg_allowed")),
	       (long long)(int_of(c, "connect_denied") +
			   int_of(c, "sendmsg_denied") +
			   int_of(c, "sockets_denied") +
			   int_of(c, "packets_dropped")),
	       (long long)(int_of(c, "dns_blocked") + int_of(c, "dns_failed")),
	       (long long)int_of(c, "events_lost"));
	for (size_t i = 0; cmd && i < json_object_array_length(cmd); i++) {
		const char *arg = json_object_get_string(
			json_object_array_get_idx(cmd, i));

		if (i)
			putchar(' ');
		/* The workload's text: nothing unprintable reaches a tty. */
		for (; *arg; arg++)
			putchar(isprint((unsigned char)*arg) ? *arg : '?');
	}
	printf("%s\n",
	       json_object_get_boolean(json_object_object_get(sb, "alive")) ?
		       "" :
		       "  (awf-bpf gone)");
}

static void print_table(json_object *list)
{
	if (!json_object_array_length(list)) {
		printf("no running sandbox\n");
		return;
	}
	printf("%-14s %-8s %-10s %-24s %7s %7s %7s %5s  %s\n", "SANDBOX", "PID",
	       "USER", "STARTED", "ALLOWED", "DENIED", "DNS-DEN", "LOST",
	       "COMMAND");
	for (size_t i = 0; i < json_object_array_length(list); i++)
		print_row(json_object_array_get_idx(list, i));
}

static json_object *collect(void)
{
	json_object *list = json_object_new_array();
	char(*ids)[AWF_ID_LEN];
	char err[512];
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

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	json_object *root, *list;
	bool json = false;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		if (opt == 'j') {
			json = true;
			continue;
		}
		fputs(usage_status, opt == 'h' ? stdout : stderr);
		return opt == 'h' ? 0 : EXIT_CMD_USAGE;
	}
	if (optind < argc) {
		fputs(usage_status, stderr);
		return EXIT_CMD_USAGE;
	}
	list = collect();
	if (!list) {
		perror("awf-bpf: status: " PINS_ROOT);
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
	printf("%s\n", json_object_to_json_string_ext(
			       root, JSON_C_TO_STRING_PRETTY |
					     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	return 0;
}
