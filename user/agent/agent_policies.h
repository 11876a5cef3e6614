/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * agent_policies.h - the named policies of `awf-bpf agent`: every
 * NAME.json in the policies directory is a v1 policy (policy/README.md)
 * plus "selector", the cgroups it applies to:
 *
 *   {"version": 1, "selector": ["/awf-bpf/ci-*", "/awf-bpf/jobs/job-*"],
 *    "allow_domains": ["github.com"]}
 *
 * A selector is a glob (fnmatch(3) with FNM_PATHNAME: '*' stays within
 * one path component) on cgroup paths from the cgroup2 root. A policy
 * without one serves only as an attach point's default_policy.
 *
 * Errors are one line naming the file and the key path, e.g.
 *   "/etc/awf-bpf/policies/ci.json: selector[1]: must be an absolute cgroup path ..."
 */
#ifndef AWF_AGENT_POLICIES_H
#define AWF_AGENT_POLICIES_H

#include <stdbool.h>
#include <stddef.h>

#include "agent/agent_config.h"
#include "policy/policy.h"

#define AGENT_MAX_SELECTORS 64
#define AGENT_MAX_POLICIES 1024

struct agent_policy {
	char name[AGENT_POLICY_NAME_MAX + 1]; /* file name without ".json" */
	char *path;			      /* the file, for messages */
	struct policy policy;		      /* finalized */
	char **selectors;
	size_t n_selectors; /* 0: only usable as a default_policy */
	bool selector_array; /* written as an array: messages say "selector[i]" */
};

struct agent_policy_set {
	struct agent_policy *v; /* sorted by name (strcmp) */
	size_t n;
};

/*
 * Loads every *.json regular file (or link to one) in dir, in name
 * order; hidden files (".x.json", editors' and tools' temporaries) are
 * passed over. Each is finalized as `awf-bpf run` does, with
 * resolv_conf and stub_fallback as for policy_finalize() (NULL: the
 * system's). All or nothing: on error set is left as it was, so that a
 * reload keeps the policies in force.
 */
int agent_policies_load(struct agent_policy_set *set, const char *dir,
			const char *resolv_conf, const char *stub_fallback,
			char *err, size_t errlen);
void agent_policies_free(struct agent_policy_set *set);

/* The policy of that name, or NULL. */
const struct agent_policy *
agent_policies_find(const struct agent_policy_set *set, const char *name);

/*
 * The first policy (by name) with a selector matching cgroup_path (from
 * the cgroup2 root, e.g. "/awf-bpf/ci-1"), or NULL: then the attach
 * point's default_policy applies. When conflict is not NULL it receives
 * the next policy that matches too, or NULL: the caller warns about it.
 */
const struct agent_policy *
agent_policies_match(const struct agent_policy_set *set,
		     const char *cgroup_path,
		     const struct agent_policy **conflict);

/*
 * Every selector can only match at or below one of cfg's attach points:
 * a selector elsewhere would never apply, which is a mistake to report.
 */
int agent_policies_check_attach(const struct agent_policy_set *set,
				const struct agent_config *cfg, char *err,
				size_t errlen);

/* Every default_policy of cfg is built in or names a loaded policy. */
int agent_policies_check_defaults(const struct agent_policy_set *set,
				  const struct agent_config *cfg, char *err,
				  size_t errlen);

#endif /* AWF_AGENT_POLICIES_H */
