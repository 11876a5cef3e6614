/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * policy_cli.h - the flags of `awf-bpf run` merged into a struct policy:
 * lists append, scalars override; errors name the flag.
 */
#ifndef AWF_POLICY_CLI_H
#define AWF_POLICY_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/policy.h"

/* Command-line merges. list is comma separated; origin is the flag name. */
int policy_add_domains(struct policy *p, bool block, const char *list,
		       const char *origin, char *err, size_t errlen);
/* One entry per line or comma separated; '#' starts a comment. */
int policy_add_domains_file(struct policy *p, bool block, const char *path,
			    char *err, size_t errlen);
int policy_add_dns_servers(struct policy *p, const char *list,
			   const char *origin, char *err, size_t errlen);
/* "CIDR" or "CIDR:PORTS" (PORTS: "80,443,8000-8100"); IPv6 as [addr/len]:PORTS. */
int policy_add_cidr_arg(struct policy *p, const char *arg, const char *origin,
			char *err, size_t errlen);
/* "HOST:PORT" or "[v6]:PORT"; HOST must be an IP literal. */
int policy_set_proxy(struct policy *p, const char *arg, const char *origin,
		     char *err, size_t errlen);
/*
 * "80,443,8000-8100": loopback ports of the host the sandbox may reach
 * (localhost "sandbox" with these ports; narrows "allow"; refused under
 * "deny").
 */
int policy_add_host_ports(struct policy *p, const char *list,
			  const char *origin, char *err, size_t errlen);
/* One entry as a file's object form gives it (policy suggest). */
int policy_add_allow_entry(struct policy *p, const struct policy_domain *d,
			   char *err, size_t errlen);
int policy_add_cidr(struct policy *p, const struct policy_cidr *c, char *err,
		    size_t errlen);
/* How a denied name could be allowed (the summary's suggestions). */
enum policy_allow_form {
	POLICY_ALLOW_FLAG,  /* --allow-domains NAME */
	POLICY_ALLOW_ENTRY, /* only {"domain": NAME, "subdomains": false} */
	POLICY_ALLOW_NONE,  /* not at all: why in err */
};
/* By the very rules the flag and a policy file apply. */
enum policy_allow_form policy_allow_form(const char *name, char *err,
					 size_t errlen);
/* "sandbox", "allow" or "deny". */
int policy_set_localhost(struct policy *p, const char *mode, const char *origin,
			 char *err, size_t errlen);

#endif /* AWF_POLICY_CLI_H */
