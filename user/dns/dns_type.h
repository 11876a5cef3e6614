/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * dns_type.h - record types as the audit trail spells them: the IANA
 * mnemonic ("A", "AAAA", "HTTPS", ...) or "TYPE<n>" (RFC 3597), the
 * same table ldns 1.8.3 had.
 */
#ifndef AWF_DNS_TYPE_H
#define AWF_DNS_TYPE_H

#include <stddef.h>

#define DNS_TYPE_A 1
#define DNS_TYPE_CNAME 5
#define DNS_TYPE_PTR 12
#define DNS_TYPE_AAAA 28
#define DNS_TYPE_ANY 255
#define DNS_TYPE_TEXT_MAX 16 /* "TYPE65535" and the longest mnemonic */

void dns_type_to_text(unsigned int type, char *out, size_t size);

#endif /* AWF_DNS_TYPE_H */
