/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * summary.h - what a sandbox was denied, folded for a person: blocked
 * domains with their reason, blocked destinations (with the name a
 * connection's first bytes carried, when it was checked) with the process
 * that tried, and the flags that would allow them. Fed live by the events of
 * `run` (printed on stderr at exit) or from an audit log by `awf-bpf logs
 * summary` (text, markdown for $GITHUB_STEP_SUMMARY, or JSON).
 *
 * Memory is bounded: past SUMMARY_MAX_ITEMS distinct domains or
 * destinations, further ones are only counted.
 */
#ifndef AWF_SUMMARY_H
#define AWF_SUMMARY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <json-c/json.h>

#define SUMMARY_MAX_ITEMS 4096
#define SUMMARY_MAX_LINES 20 /* per list in the text and markdown forms */
#define SUMMARY_MAX_ROWS 100 /* of the markdown Domain table */

struct summary;

/* A kernel event, as the ring buffer or an audit log line gives it. */
struct summary_net {
	unsigned int kind;    /* enum awf_event_kind */
	unsigned int verdict; /* enum awf_verdict */
	unsigned int reason;  /* enum awf_reason */
	int family;	      /* AF_INET or AF_INET6 */
	unsigned int proto;   /* IPPROTO_* */
	int sock_type;	      /* AWF_EV_SOCK_CREATE */
	uint8_t addr[16];     /* destination, IPv4 in the first 4 bytes */
	uint16_t port;
	uint32_t pid;
	const char *comm;
	const char *domain; /* the name the address was learned from, or NULL */
	const char *name; /* tls, http, payload: the name sent, raw; or NULL */
	bool audit_only;  /* a denial audit-only mode let through */
};

struct summary *summary_new(void);
void summary_free(struct summary *s);

void summary_add_net(struct summary *s, const struct summary_net *n);
void summary_add_dns(struct summary *s, const char *name, bool allowed,
		     unsigned int reason, bool audit_only);
void summary_add_lost(struct summary *s, uint64_t n);
/* Kernel counters of one run (enum awf_counter); added up over runs. */
void summary_add_counters(struct summary *s, const uint64_t *counters);
void summary_add_run(struct summary *s);

/* Denials, audit-only ones included. */
uint64_t summary_denied(const struct summary *s);

/* Lines "<prefix>...", as at the end of `awf-bpf run`. */
void summary_print_text(const struct summary *s, FILE *out, const char *prefix);
/* A <details> block for $GITHUB_STEP_SUMMARY. */
void summary_print_markdown(const struct summary *s, FILE *out);
json_object *summary_to_json(const struct summary *s);
/*
 * The fix as a policy fragment ({"version": 1, "allow_domains": [...],
 * "allow_cidrs": [...]}), to merge into a policy file; NULL when there
 * is nothing to allow or memory is short.
 */
json_object *summary_fix_policy(const struct summary *s);

/* Write text escaped for markdown (tables, inline code, HTML). */
void summary_md_put(FILE *out, const char *text);

#endif /* AWF_SUMMARY_H */
