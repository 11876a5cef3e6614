/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * dns_filter.h - the domain allowlist at the DNS endpoint. A query for a
 * name outside allow_domains (or inside block_domains) is answered
 * NXDOMAIN locally; PTR and ANY are answered locally too. An allowed
 * query goes upstream, and every A/AAAA record reachable from its name
 * through the CNAME chain is learned into the sandbox's maps before the
 * answer is released. The DNS wire format is read by dns_msg.h.
 */
#ifndef AWF_DNS_FILTER_H
#define AWF_DNS_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns_forward.h"
#include "policy/domain_match.h"
#include "dns/learned.h"
#include "kernel/name_table.h"

struct dns_filter;

/* What the filter decided about one query, for the audit trail. */
struct dns_decision {
	const char *name;  /* query name, lower case, no trailing dot */
	const char *qtype; /* "A", "AAAA", ... */
	int allowed;
	unsigned int code;  /* enum awf_reason: AWF_R_DNS_ALLOWED, ... */
	const char *reason; /* "name not allowed", "blocked domain", ... */
	unsigned int rcode; /* when answered locally */
	size_t n_learned;   /* addresses learned from the answer */
	/* a refusal audit-only mode let through (AWF_EVF_AUDIT_ONLY) */
	bool audit_only;
	bool cached; /* the answer came from the endpoint's cache */
};

typedef void (*dns_decision_cb)(void *ctx, const struct dns_decision *d);

/* Takes no ownership of matcher; it must outlive the filter. */
struct dns_filter *dns_filter_new(const struct domain_matcher *matcher,
				  dns_decision_cb on_decision, void *cb_ctx);
/*
 * The maps exist only once the programs are loaded, which needs the
 * endpoint's port first. Until a store is set every answer is SERVFAIL.
 */
void dns_filter_use_store(struct dns_filter *f, struct learned_store *store);
/*
 * The names the kernel checks in connections' first bytes: addresses are
 * learned with their entry's name-check flag, and names the trie cannot
 * hold are written to the kernel before the answer goes out.
 */
void dns_filter_use_names(struct dns_filter *f, struct name_table *names);
/*
 * Audit-only mode ("mode": "audit"): names the policy refuses are
 * reported as refused (audit_only) and forwarded; their addresses are
 * learned with AWF_LEARNED_AUDIT_ONLY, which opens nothing.
 */
void dns_filter_set_audit_only(struct dns_filter *f, bool audit_only);
void dns_filter_free(struct dns_filter *f);

/* The hooks to give the endpoint (dns_fwd_config.filter). */
const struct dns_filter_ops *dns_filter_ops(struct dns_filter *f);

#endif /* AWF_DNS_FILTER_H */
