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

/* Where a JSON reader is: its file (origin) and where its error goes. */
struct jctx {
	const char *origin;
	char *err;
	size_t errlen;
};

/* "ORIGIN: PATH: why" ("ORIGIN: why" for an empty PATH); returns -1. */
int jfail(const struct jctx *c, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * The string val, or NULL after an error: not a string ("expected WHAT"),
 * or one holding "\u0000", where C would silently cut the name short.
 */
const char *jget_string(const struct jctx *c, const char *path,
			json_object *val, const char *what);
/* 0 when val is the integer version this awf-bpf reads; -1 after jfail. */
int jcheck_version(const struct jctx *c, const char *path, json_object *val,
		   int version);

/* ports.c */
bool port_set_equal(const struct awf_port_set *a, const struct awf_port_set *b);
/* Adds one port given as a number that may be out of range. */
int port_set_add_number(struct awf_port_set *set, long long port, char *err,
			size_t errlen);
/* "80,443,8000-8100" */
int port_set_parse_list(struct awf_port_set *set, const char *list, char *err,
			size_t errlen);

/* cidr.c */
/* An IP literal; v4-mapped IPv6 addresses come back as AF_INET. */
int ip_parse(const char *text, int *family, uint8_t addr[16], char *err,
	     size_t errlen);
#define IP_TEXT_LEN 46 /* INET6_ADDRSTRLEN */
const char *ip_format(int family, const uint8_t *addr, char *buf, size_t len);
bool ip_is_loopback(int family, const uint8_t *addr);

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

/*
 * Strict JSON (no trailing commas, nothing after the value); on error a
 * one-line "ORIGIN: line N: what" in err. Shared with the agent's files.
 */
json_object *policy_json_parse(const char *origin, const char *buf,
			       size_t len, char *err, size_t errlen);

#endif /* AWF_POLICY_INT_H */
