/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * suggest.h - a policy from audit logs (`awf-bpf policy suggest`): what the
 * logged runs used, and nothing more.
 *
 * Used: every allowed event, and every denial marked "audit_only" (it
 * passed only because the run audited instead of enforcing). A plain
 * denial that a policy could allow (a name, an address and port, a
 * loopback port, a connection whose client sends no name) is something
 * the job tried: it is included and said on the notes stream, once per
 * destination and port. Denials no policy can allow are never included,
 * only counted there: reserved (metadata) ranges, spoofed sources, socket
 * types, binds off loopback, backstop and tc drops, blocked names, and
 * the DNS filter's local answers and malformed queries.
 *
 * Names come from dns events, from the "domain" of events to learned
 * addresses and from the names tls/http events carry. They are grouped
 * under their registrable domain (libpsl) when several names of it need
 * an entry; a single name gets an entry for itself alone. Each entry has
 * the ports its names were used on, "udp": true when UDP reached them,
 * "name_check": false when a connection to them carried no name. Other
 * destinations become /32 or /128 allow_cidrs entries with their ports,
 * loopback destinations localhost ports.
 *
 * With a base policy, only what it does not allow already is added to it
 * (kernel/verdict.h decides). The output is sorted and does not depend on
 * the order of the log lines.
 */
#ifndef AWF_SUGGEST_H
#define AWF_SUGGEST_H

#include <stdio.h>
#include <json-c/json.h>

#include "policy/policy.h"

struct suggest;

/* notes: where the per-destination notes go (stderr), or NULL. */
struct suggest *suggest_new(FILE *notes);
void suggest_free(struct suggest *s);

/* One audit log line; origin ("FILE:LINE") names it in the notes. */
void suggest_add_record(struct suggest *s, json_object *rec,
			const char *origin);
/* Every line of path ("-": stdin); a line that is not a JSON object fails. */
int suggest_add_file(struct suggest *s, const char *path, char *err,
		     size_t errlen);

/*
 * Adds to p (a base policy as loaded, or a fresh policy_init() one) what
 * the records used and p does not allow.
 */
int suggest_merge(struct suggest *s, struct policy *p, char *err,
		  size_t errlen);

#endif /* AWF_SUGGEST_H */
