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

#include "common/json_read.h"
#include "policy/policy.h"

/* A policy or a domain list is small; this stops a wrong path early. */
#define POLICY_FILE_MAX (64 << 20)

/* policy.c: merge steps shared by the JSON reader and the flags. */
/* Copies d->name; an identical entry already present is not added again. */
int policy_merge_domain(struct policy *p, bool block,
			const struct policy_domain *d, char *err,
			size_t errlen);
int policy_merge_cidr(struct policy *p, const struct policy_cidr *c, char *err,
		      size_t errlen);
/*
 * c at the end of p's allow_cidrs, duplicate or not, for a policy file's
 * list; policy_settle_cidrs() then drops the duplicates in bulk (a lookup
 * each in an index of a million entries waits for memory at every one).
 * The first entry of several equal ones stays where it was.
 */
int policy_append_cidr(struct policy *p, const struct policy_cidr *c, char *err,
		       size_t errlen);
int policy_settle_cidrs(struct policy *p, char *err, size_t errlen);
/*
 * A hint: about n CIDR entries are coming (a policy file's count). Sizes
 * the duplicate lookup once; -1 when out of memory.
 */
int policy_reserve_cidrs(struct policy *p, size_t n);
/*
 * Frees the duplicate lookups of the merges (16 MiB for a million CIDRs);
 * a later merge builds them again from the lists.
 */
void policy_drop_indexes(struct policy *p);
int policy_merge_dns_server(struct policy *p, const struct policy_addr *a,
			    char *err, size_t errlen);
/* A domain given as a bare string: default subdomains and ports. */
int policy_merge_domain_name(struct policy *p, bool block, const char *text,
			     char *err, size_t errlen);
int policy_parse_dns_server(struct policy_addr *out, const char *text,
			    char *err, size_t errlen);
int policy_merge_proxy(struct policy *p, const char *text, char *err,
		       size_t errlen);
/*
 * policy_load.c: the whole of a regular file of at most POLICY_FILE_MAX
 * bytes into *buf (malloc'd, with a NUL after its *len bytes). Anything else (a FIFO,
 * a device, a directory) is refused without blocking.
 */
int policy_read_file(const char *path, char **buf, size_t *len, char *err,
		     size_t errlen);
int policy_parse_localhost_mode(enum awf_localhost_mode *out, const char *name,
				char *err, size_t errlen);

#endif /* AWF_POLICY_INT_H */
