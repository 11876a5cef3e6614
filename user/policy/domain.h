/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * domain.h - a domain pattern of the policy, normalized and validated
 * (policy/README.md: IDNA to punycode, lower case, no trailing dot, '*').
 */
#ifndef AWF_DOMAIN_H
#define AWF_DOMAIN_H

#include <stddef.h>

#define POLICY_MAX_DOMAIN_LEN 253

/* Normalize and validate a domain pattern (see policy/README.md). */
int domain_normalize(const char *in, char *out, size_t outlen, char *err,
		     size_t errlen);

#endif /* AWF_DOMAIN_H */
