/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * verdict.h - what the sandbox would be told for one destination, decided
 * in user space from the same pieces the enforcement uses: the CIDR rule
 * table the loader writes (rules_build(), reserved ranges and the host's
 * addresses included) looked up as the kernel's LPM trie would, the order
 * of checks of decide() in bpf/policy.bpf.h, and for names the DNS
 * filter's matcher (policy/domain_match.h) with the ports and flags it
 * gives learned addresses. `awf-bpf policy test` and `policy suggest`.
 *
 * What only the running sandbox knows is not guessed: a loopback port the
 * sandbox serves itself is allowed at run time, here it is a denial that
 * says so.
 */
#ifndef AWF_VERDICT_H
#define AWF_VERDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/rules.h"
#include "policy/domain.h"
#include "policy/domain_match.h"
#include "policy/policy.h"

struct verdict_ctx {
	const struct policy *p;
	struct rule_table rules;
	struct domain_matcher *names;
};

/* p finalized; local: the host's addresses (hostaddr.h), may be empty. */
int verdict_ctx_init(struct verdict_ctx *c, const struct policy *p,
		     const struct policy_cidr *local, size_t n_local, char *err,
		     size_t errlen);
void verdict_ctx_free(struct verdict_ctx *c);

struct verdict_dest {
	bool is_name;
	char name[POLICY_MAX_DOMAIN_LEN + 1]; /* normalized, when is_name */
	int family;			      /* else: the address */
	uint8_t addr[16];
	bool has_port; /* false: allowed on any port? */
	uint16_t port;
	bool udp; /* false: TCP */
};

/* Which part of the policy decided. */
enum verdict_rule {
	VR_NONE,	 /* nothing matched */
	VR_PROXY,	 /* "proxy" */
	VR_LOCALHOST,	 /* "localhost" (loopback or this host's address) */
	VR_IPV6,	 /* "ipv6": false */
	VR_CIDR,	 /* allow_cidrs[index] */
	VR_RESERVED,	 /* a reserved range (prefix) */
	VR_ALLOW_DOMAIN, /* allow_domains[index] */
	VR_BLOCK_DOMAIN, /* block_domains[index] */
};

struct verdict {
	bool allowed;
	unsigned int reason; /* AWF_R_*, as the audit log names it */
	enum verdict_rule rule;
	size_t index;			 /* VR_CIDR, VR_*_DOMAIN */
	const struct rule_entry *prefix; /* VR_CIDR, VR_RESERVED, local */
	/* the ports the deciding rule allows (empty: none) */
	struct awf_port_set ports;
};

/*
 * NAME, NAME:PORT, ADDRESS, ADDRESS:PORT, [IPv6] or [IPv6]:PORT; also
 * https://NAME and http://NAME (port 443, 80). Names are normalized as a
 * policy's are; the error names the bad part.
 */
int verdict_dest_parse(const char *text, struct verdict_dest *d, char *err,
		       size_t errlen);

void verdict_decide(const struct verdict_ctx *c, const struct verdict_dest *d,
		    struct verdict *out);

/*
 * "by github.com (subdomains, ports 80,443)", "no allow_cidrs entry covers
 * it", ...: the deciding rule in words.
 */
void verdict_rule_text(const struct verdict_ctx *c, const struct verdict *v,
		       char *buf, size_t len);

#endif /* AWF_VERDICT_H */
