/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * domain.h - a domain pattern of the policy, normalized and validated
 * (policy/README.md: IDNA to punycode, lower case, no trailing dot, '*').
 */
#ifndef AWF_DOMAIN_H
#define AWF_DOMAIN_H

#include <stddef.h>
#include <stdint.h>

#define POLICY_MAX_DOMAIN_LEN 253

/*
 * awf's "https://NAME" and "http://NAME" (scheme in any case): returns NAME,
 * the part after the scheme, and sets *port to 443 or 80; any other text
 * comes back as it is, with *port 0. A path after NAME is left for
 * domain_normalize() to refuse.
 */
const char *domain_strip_scheme(const char *in, uint16_t *port);

/* Normalize and validate a domain pattern (see policy/README.md). */
int domain_normalize(const char *in, char *out, size_t outlen, char *err,
		     size_t errlen);

#endif /* AWF_DOMAIN_H */
