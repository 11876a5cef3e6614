/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * policy_finalize.h - the last step before a policy is used.
 */
#ifndef AWF_POLICY_FINALIZE_H
#define AWF_POLICY_FINALIZE_H

#include <stddef.h>

#include "policy/policy.h"

/*
 * Last step before use: cross-field checks and defaults that need the
 * host (dns_servers from resolv_conf when none were given; the stub case
 * reads stub_fallback). Pass NULL for the system paths.
 */
int policy_finalize(struct policy *p, const char *resolv_conf,
		    const char *stub_fallback, char *err, size_t errlen);

#endif /* AWF_POLICY_FINALIZE_H */
