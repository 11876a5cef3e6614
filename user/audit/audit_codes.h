/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * audit_codes.h - the names of the codes in bpf/awf.h as the audit log,
 * `dump` and the summaries write them. The snake_case codes are part of
 * the audit log schema (docs/audit.schema.json) and of docs/dump.md:
 * never rename one, only add.
 */
#ifndef AWF_AUDIT_CODES_H
#define AWF_AUDIT_CODES_H

#include <stdbool.h>

#include "awf.h"

/* "not_in_policy"; "unknown" out of range. */
const char *reason_code(unsigned int reason);
/* "not in policy": what the stderr lines say. */
const char *reason_text(unsigned int reason);
/* AWF_R_* of a code, -1 when unknown. */
int reason_from_code(const char *code);
/* Reasons the DNS filter gives, as opposed to the programs. */
bool reason_is_dns(unsigned int reason);

const char *
verdict_code(unsigned int verdict); /* "allow", "deny", "redirect" */
/* "denied", "redirected", "allowed" (anything else): what a line says. */
const char *verdict_word(unsigned int verdict);
const char *event_kind_code(unsigned int kind); /* "connect", "sendmsg", ... */
/* AWF_EV_* of a code, -1 when unknown. */
int event_kind_from_code(const char *code);

/* "tcp", "udp", ...; NULL for a protocol without a name here. */
const char *proto_code(unsigned int proto);
/* "stream", "dgram", "raw", ...; "unknown" otherwise. */
const char *sock_type_code(unsigned int type);

/* "connect_allowed", ...; NULL for the per-reason slots. */
const char *counter_code(unsigned int idx);

#endif /* AWF_AUDIT_CODES_H */
