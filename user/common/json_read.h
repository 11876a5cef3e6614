/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * json_read.h - the error idiom of the JSON readers (the policy file, the
 * agent's config and state): every error names its file and the key path
 * inside it, on one line.
 */
#ifndef AWF_COMMON_JSON_READ_H
#define AWF_COMMON_JSON_READ_H

#include <json-c/json.h>
#include <stddef.h>

/* Where a JSON reader is: its file (origin) and where its error goes. */
struct jctx {
	const char *origin;
	char *err;
	size_t errlen;
};

/* "ORIGIN: PATH: why" ("ORIGIN: why" for an empty PATH); returns -1. */
int jfail(const struct jctx *c, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * The string val, or NULL after an error: not a string ("expected WHAT"),
 * or one holding "\u0000", where C would silently cut the name short.
 */
const char *jget_string(const struct jctx *c, const char *path,
			json_object *val, const char *what);
/* 0 when val is the integer version this awf-bpf reads; -1 after jfail. */
int jcheck_version(const struct jctx *c, const char *path, json_object *val,
		   int version);

#endif /* AWF_COMMON_JSON_READ_H */
