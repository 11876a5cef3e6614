// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * json_read.c - errors and checked getters for the JSON readers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "common/json_read.h"

int jfail(const struct jctx *c, const char *path, const char *fmt, ...)
{
	char why[AWF_ERR_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (*path)
		return set_err(c->err, c->errlen, "%s: %s: %s", c->origin, path,
			       why);
	return set_err(c->err, c->errlen, "%s: %s", c->origin, why);
}

int jcheck_version(const struct jctx *c, const char *path, json_object *val,
		   int version)
{
	if (!json_object_is_type(val, json_type_int))
		return jfail(c, path, "expected an integer");
	if (json_object_get_int64(val) != version)
		return jfail(
			c, path,
			"unsupported version %s (this awf-bpf reads version %d)",
			json_object_to_json_string(val), version);
	return 0;
}

const char *jget_string(const struct jctx *c, const char *path,
			json_object *val, const char *what)
{
	const char *s;

	if (!json_object_is_type(val, json_type_string)) {
		jfail(c, path, "expected %s", what);
		return NULL;
	}
	s = json_object_get_string(val);
	if (strlen(s) != (size_t)json_object_get_string_len(val)) {
		jfail(c, path, "contains a NUL character");
		return NULL;
	}
	return s;
}
