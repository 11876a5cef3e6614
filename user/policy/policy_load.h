/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * policy_load.h - a policy file (JSON, strict) merged into a struct policy:
 * lists append, scalars override; errors name the key path.
 */
#ifndef AWF_POLICY_LOAD_H
#define AWF_POLICY_LOAD_H

#include <stddef.h>
#include <json-c/json.h>

#include "policy/policy.h"

/* Merge a JSON policy file into p: lists append, scalars override. */
int policy_load_file(struct policy *p, const char *path, char *err,
		     size_t errlen);
/* The same from an already parsed object; origin names it in errors. */
int policy_load_json(struct policy *p, json_object *root, const char *origin,
		     char *err, size_t errlen);

/*
 * Strict JSON (no trailing commas, nothing after the value); on error a
 * one-line "ORIGIN: line N: what" in err. Shared with the agent's files.
 */
json_object *policy_json_parse(const char *origin, const char *buf, size_t len,
			       char *err, size_t errlen);

#endif /* AWF_POLICY_LOAD_H */
