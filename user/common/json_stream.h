/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * json_stream.h - a JSON object read key by key, and the arrays under its
 * keys element by element: json-c parses each value (each element) on
 * its own, so a policy of a million entries is never a million json-c
 * objects at once (a million strings took 80 MiB as one tree).
 *
 * Only the text between values (the object's braces, an array's
 * brackets, commas, colons, white space) is read here, and more strictly
 * than json-c reads it. Whatever is not read here to the end - a top
 * level that is not an object, a syntax error, a NUL byte - is json-c's
 * to judge on the whole text: the caller falls back to parsing it the
 * usual way, which gives the usual message.
 */
#ifndef AWF_COMMON_JSON_STREAM_H
#define AWF_COMMON_JSON_STREAM_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The index of a value that is not an element of a streamed array. */
#define JSON_STREAM_WHOLE SIZE_MAX

struct json_stream_ops {
	/* Whether the value of key, if an array, comes element by element. */
	bool (*each)(void *ctx, const char *key);
	/*
	 * The value of key (index JSON_STREAM_WHOLE) or element index of
	 * its array, in the order of the text. 0: go on; -1: failed (the
	 * rest of the text is only checked); 1: stop the walk here.
	 */
	int (*value)(void *ctx, const char *key, size_t index,
		     json_object *val);
};

/*
 * 0: every value was handed over, or a callback stopped the walk; -1: a
 * callback failed, and the whole text is sound JSON; 1: the text is for
 * json-c to judge (or memory ran out).
 */
int json_stream_object(const char *buf, size_t len,
		       const struct json_stream_ops *ops, void *ctx);

/*
 * How many elements the array under key of the top-level object has, as
 * far as the text is read without json-c: a hint for sizing, not a check
 * (0 when the text is odd).
 */
size_t json_stream_count(const char *buf, size_t len, const char *key);

#endif /* AWF_COMMON_JSON_STREAM_H */
