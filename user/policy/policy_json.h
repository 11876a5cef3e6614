/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * policy_json.h - a policy and its parts as JSON, normalized (the output of
 * `awf-bpf policy check`, the control protocol, dumps).
 */
#ifndef AWF_POLICY_JSON_H
#define AWF_POLICY_JSON_H

#include <json-c/json.h>

#include "awf.h"
#include "policy/policy.h"

/* Normalized policy, the output of `awf-bpf policy check`. */
json_object *policy_to_json(const struct policy *p);

/* As in the normalized policy: "all", or [80, "8000-8100"]. */
json_object *port_set_to_json(const struct awf_port_set *set);

#endif /* AWF_POLICY_JSON_H */
