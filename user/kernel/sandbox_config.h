/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * sandbox_config.h - the struct awf_config the programs read for one
 * sandbox: `run` freezes it in .rodata, the agent writes it per slot.
 */
#ifndef AWF_SANDBOX_CONFIG_H
#define AWF_SANDBOX_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "awf.h"
#include "policy/policy.h"

/* dns_port: the sandbox's DNS endpoint; dns_ipv6: whether [::1] serves. */
void sandbox_config_build(struct awf_config *cfg, const struct policy *p,
			  uint16_t dns_port, bool dns_ipv6, bool audit_allowed);

#endif /* AWF_SANDBOX_CONFIG_H */
