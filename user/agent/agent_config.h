/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * agent_config.h - /etc/awf-bpf/agent.json, the settings of `awf-bpf
 * agent`: which cgroups it confines and with what default, where its
 * policies and its control socket are. Every member is optional:
 *
 *   {"version": 1,
 *    "attach": [{"cgroup": "/awf-bpf", "default_policy": "deny"}],
 *    "policies_dir": "/etc/awf-bpf/policies",
 *    "interfaces": "all" | ["eth0", ...],
 *    "control_socket": "/run/awf-bpf/agent.sock",
 *    "control_group": "awf-bpf"}
 *
 * Errors are one line naming the file and the key path, e.g.
 *   "/etc/awf-bpf/agent.json: attach[1].cgroup: must be an absolute cgroup path ..."
 */
#ifndef AWF_AGENT_CONFIG_H
#define AWF_AGENT_CONFIG_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <json-c/json.h>

#include "agent/agent_layout.h"
#include "common/paths.h"

#define AGENT_CONFIG_VERSION 1
#define AGENT_MAX_ATTACH 16
#define AGENT_MAX_INTERFACES 16
#define AGENT_SOCKET_PATH_MAX 108 /* sizeof(sun_path), with the NUL */
#define AGENT_GROUP_NAME_MAX 256  /* with the NUL */
/* The built-in default policies; no policy file may take these names. */
#define AGENT_POLICY_DENY "deny"
#define AGENT_POLICY_UNRESTRICTED "unrestricted"

struct agent_attach {
	/* from the cgroup2 root: "/awf-bpf" */
	char cgroup[AGENT_CGROUP_PATH_MAX];
	/* "deny", "unrestricted" or a policy name (checked against the set later) */
	char default_policy[AGENT_POLICY_NAME_MAX + 1];
};

/* How the tc layer is attached: TCX where the kernel has it, or clsact. */
enum agent_tc_mode {
	AGENT_TC_AUTO,
	AGENT_TC_TCX,
	AGENT_TC_CLSACT,
};

struct agent_config {
	char origin[PATH_MAX]; /* the file, read or not, for later messages */
	struct agent_attach attach[AGENT_MAX_ATTACH];
	size_t n_attach; /* 1 or more; no path under another */
	char policies_dir[PATH_MAX];
	bool all_interfaces; /* "all"; otherwise the names below */
	char interfaces[AGENT_MAX_INTERFACES][IFNAMSIZ];
	size_t n_interfaces;
	enum agent_tc_mode tc_mode; /* "tc": "auto", "tcx" or "clsact" */
	char control_socket[AGENT_SOCKET_PATH_MAX];
	char control_group[AGENT_GROUP_NAME_MAX];
	bool control_group_set; /* named in the file, not the default */
	gid_t control_gid; /* control_group resolved; (gid_t)-1 until loaded */
};

/* The values above; control_gid is left unresolved. */
void agent_config_defaults(struct agent_config *cfg);

/*
 * Defaults, then the file at path, then control_group resolved to a gid.
 * A missing file is the defaults unless explicit (given on the command
 * line). On error cfg is left as it was, so a reload keeps the old one.
 */
int agent_config_load(struct agent_config *cfg, const char *path, bool explicit,
		      char *err, size_t errlen);

/* Nothing is allocated today; callers still pair it with a load. */
void agent_config_free(struct agent_config *cfg);

/* [A-Za-z0-9._-]{1,AGENT_POLICY_NAME_MAX} */
bool agent_policy_name_ok(const char *name);

/*
 * Strict JSON (no trailing commas or text) from an open file of at most
 * 16 MiB; origin names it in errors ("FILE: line 3: ..."). Shared with
 * agent_policies.c. NULL with err on failure.
 */
json_object *agent_json_read(int fd, const char *origin, char *err,
			     size_t errlen);

#endif /* AWF_AGENT_CONFIG_H */
