/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * policy_int.h - helpers shared by the policy_*.c, ports.c, cidr.c and
 * domain.c files. Not an API: other modules use policy.h.
 *
 * Value parsers (ports, addresses, domains, proxy) write a message that
 * names the bad value but no origin or key path; their callers know those
 * and prefix them, so that every final error is one complete line.
 */
#ifndef AWF_POLICY_INT_H
#define AWF_POLICY_INT_H

#include <stdarg.h>

#include "policy/policy.h"

/* Longest error text a value parser writes before its caller prefixes it. */
#define POLICY_WHY_LEN 512

/*
 * snprintf into err; control characters become '?' so that a value read
 * from a file can never split the message over several lines.
 */
void policy_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "ORIGIN: PATH: why" ("ORIGIN: why" for an empty PATH); returns -1. */
int policy_vfail(char *err, size_t errlen, const char *origin,
		 const char *path, const char *fmt, va_list ap);

/* policy.c: merge steps shared by the JSON reader and the flags. */
/* Copies d->name; an identical entry already present is not added again. */
int policy_merge_domain(struct policy *p, bool block,
			const struct policy_domain *d, char *err,
			size_t errlen);
int policy_merge_cidr(struct policy *p, const struct policy_cidr *c, char *err,
		      size_t errlen);
int policy_merge_dns_server(struct policy *p, const struct policy_addr *a,
			    char *err, size_t errlen);
/* A domain given as a bare string: default subdomains and ports. */
int policy_merge_domain_name(struct policy *p, bool block, const char *text,
			     char *err, size_t errlen);
int policy_parse_dns_server(struct policy_addr *out, const char *text,
			    char *err, size_t errlen);
int policy_merge_proxy(struct policy *p, const char *text, char *err,
		       size_t errlen);
int policy_parse_localhost_mode(enum awf_localhost_mode *out, const char *name,
				char *err, size_t errlen);
const char *policy_localhost_mode_name(enum awf_localhost_mode mode);

#endif /* AWF_POLICY_INT_H */
