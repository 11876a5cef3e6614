// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Unit tests of common/: the error writer, the growable array and the
 * duplicate key scan.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/array.h"
#include "common/error.h"
#include "common/json_keys.h"
#include "common/json_stream.h"
#include "common/log.h"
#include "test_util.h"

static void test_set_err_one_line(void **state)
{
	char err[AWF_ERR_LEN];

	(void)state;
	assert_int_equal(
		set_err(err, sizeof(err), "bad name %s", "a\nb\tc\x7f"), -1);
	assert_string_equal(err, "bad name a?b?c?");
}

struct utf8_row {
	const char *name;
	const char *in;
	const char *out;
};

static const struct utf8_row utf8_rows[] = {
	{ "ASCII", "a.example", "a.example" },
	{ "two, three, four bytes", "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	  "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
	{ "Latin-1 byte", "caf\xe9.example", "caf\\xe9.example" },
	{ "stray continuation",
	  "a\x80"
	  "b",
	  "a\\x80b" },
	{ "overlong", "\xc0\xaf", "\\xc0\\xaf" },
	{ "overlong of three", "\xe0\x80\xaf", "\\xe0\\x80\\xaf" },
	{ "surrogate", "\xed\xa0\x80", "\\xed\\xa0\\x80" },
	{ "past U+10FFFF", "\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80" },
	{ "cut sequence", "\xe2\x82", "\\xe2\\x82" },
	{ "lead then ASCII", "\xe2(x", "\\xe2(x" },
	{ "escape sequence", "\x1b[31mred", "?[31mred" },
};

static void test_set_err_utf8(void **state)
{
	const struct utf8_row *row = *state;
	char err[AWF_ERR_LEN];

	assert_int_equal(set_err(err, sizeof(err), "%s", row->in), -1);
	assert_string_equal(err, row->out);
}

/* An escape that would not fit whole is left out, not cut. */
static void test_set_err_escape_fits(void **state)
{
	char err[6];

	(void)state;
	set_err(err, sizeof(err), "ab\xff");
	assert_string_equal(err, "ab");
	set_err(err, sizeof(err), "a\xff");
	assert_string_equal(err, "a\\xff");
	set_err(err, sizeof(err), "abc\xc3\xa9");
	assert_string_equal(err, "abc\xc3\xa9");
	set_err(err, sizeof(err), "abcd\xc3\xa9");
	assert_string_equal(err, "abcd");
}

static void test_set_err_truncates(void **state)
{
	char err[8];

	(void)state;
	assert_int_equal(set_err(err, sizeof(err), "%s", "0123456789"), -1);
	assert_string_equal(err, "0123456");
	/* No room: nothing written, still a failure to return. */
	err[0] = 'x';
	assert_int_equal(set_err(err, 0, "%s", "y"), -1);
	assert_int_equal(err[0], 'x');
}

static void test_grow_doubles(void **state)
{
	int *v = NULL;
	size_t cap = 0;

	(void)state;
	assert_int_equal(array_grow((void **)&v, &cap, 1, sizeof(*v)), 0);
	assert_int_equal(cap, 1);
	v[0] = 7;
	assert_int_equal(array_grow((void **)&v, &cap, 1, sizeof(*v)), 0);
	assert_int_equal(cap, 1);
	assert_int_equal(array_grow((void **)&v, &cap, 2, sizeof(*v)), 0);
	assert_int_equal(cap, 2);
	assert_int_equal(array_grow((void **)&v, &cap, 100, sizeof(*v)), 0);
	assert_int_equal(cap, 128);
	v[99] = 9;
	assert_int_equal(v[0], 7);
	free(v);
}

static void test_grow_overflow(void **state)
{
	int *v = NULL, *before;
	size_t cap = 0;

	(void)state;
	assert_int_equal(array_grow((void **)&v, &cap, 3, sizeof(*v)), 0);
	before = v;
	errno = 0;
	assert_int_equal(
		array_grow((void **)&v, &cap, SIZE_MAX / 2 + 2, sizeof(*v)),
		-1);
	assert_int_equal(errno, ENOMEM);
	/* Elements times size overflows: reallocarray refuses. */
	assert_int_equal(
		array_grow((void **)&v, &cap, SIZE_MAX / 4, sizeof(*v)), -1);
	assert_int_equal(errno, ENOMEM);
	assert_ptr_equal(v, before);
	assert_int_equal(cap, 4);
	free(v);
}

struct keys_row {
	const char *name;
	const char *text;
	const char *dup; /* NULL: none */
	size_t offset;	 /* of the second occurrence */
	size_t n_keys;
};

static const struct keys_row keys_rows[] = {
	{ "no keys", "[1, \"a\", [], {}]", NULL, 0, 0 },
	{ "same key in sibling objects", "[{\"a\": 1}, {\"a\": 2}]", NULL, 0,
	  2 },
	{ "same key in parent and child", "{\"a\": {\"a\": 1}}", NULL, 0, 2 },
	{ "values are not keys", "{\"a\": \"a\", \"b\": [\"a\"]}", NULL, 0, 2 },
	{ "repeat", "{\"a\": 1, \"a\": 2}", "a", 9, 2 },
	{ "repeat after a nested object",
	  "{\"a\": {\"b\": 1, \"c\": 2}, \"a\": 3}", "a", 24, 4 },
	{ "escaped repeat", "{\"ab\": 1, \"\\u0061b\": 2}", "ab", 10, 2 },
	{ "escaped quote in a key", "{\"a\\\"\": 1, \"a\\\"\": 2}", "a\"", 11,
	  2 },
	/* json-c keys are C strings: both are "a" to it */
	{ "cut at \\u0000", "{\"a\\u0000x\": 1, \"a\\u0000y\": 2}", "a", 16,
	  2 },
	{ "the earliest repeat wins",
	  "{\"b\": 1, \"a\": 1, \"a\": 1, \"b\": 1}", "a", 17, 4 },
	{ "cut text", "{\"a\": {\"b\": [\"a\", {\"a", NULL, 0, 3 },
	{ "stray closers", "]}}{\"a\":1,\"a\"", "a", 10, 2 },
};

static void test_json_keys(void **state)
{
	const struct keys_row *row = *state;
	struct json_dup_key dup = { 0 };
	size_t n_keys = 99;

	assert_int_equal(json_find_duplicate_key(row->text, strlen(row->text),
						 &dup, &n_keys),
			 row->dup ? 1 : 0);
	assert_int_equal(n_keys, row->n_keys);
	if (!row->dup)
		return;
	assert_string_equal(dup.key, row->dup);
	assert_int_equal(dup.offset, row->offset);
}

/* json_stream_count(): elements of one top-level array, a sizing hint. */
struct count_row {
	const char *name;
	const char *text;
	size_t count;
};

static const struct count_row count_rows[] = {
	{ "strings and objects",
	  "{\"v\": 1, \"a\": [\"x\", {\"b\": [1, 2]}, \"]\" ],"
	  " \"c\": [1]}",
	  3 },
	{ "key after others", "{\"c\": {\"a\": [9]}, \"a\": [1, 2, 3, 4]}", 4 },
	{ "empty", "{\"a\": [ ]}", 0 },
	{ "not an array", "{\"a\": \"[1, 2]\"}", 0 },
	{ "no such key", "{\"b\": [1, 2]}", 0 },
	{ "not an object", "[{\"a\": [1]}]", 0 },
	{ "cut text", "{\"a\": [1, 2, ", 2 },
};

static void test_json_count(void **state)
{
	const struct count_row *row = *state;

	assert_int_equal(json_stream_count(row->text, strlen(row->text), "a"),
			 row->count);
}

/* LOG_BURST lines a window; the rest counted and handed back once. */
static void test_log_limit(void **state)
{
	struct log_limit l = { 0 };
	uint64_t t = 5 * LOG_WINDOW_NS, held = 99;
	unsigned int shown = 0;

	(void)state;
	for (int i = 0; i < 25; i++) {
		shown += log_limit_take(&l, t + (uint64_t)i, &held);
		assert_int_equal(held, 0);
	}
	assert_int_equal(shown, LOG_BURST);
	/* still the same window: held back */
	assert_false(log_limit_take(&l, t + LOG_WINDOW_NS - 1, &held));
	assert_int_equal(held, 0);
	/* the next window reports the 16 held back, and prints */
	assert_true(log_limit_take(&l, t + LOG_WINDOW_NS, &held));
	assert_int_equal(held, 25 - LOG_BURST + 1);
	assert_int_equal(log_limit_flush(&l), 0);
	for (int i = 1; i < LOG_BURST + 3; i++)
		log_limit_take(&l, t + LOG_WINDOW_NS, &held);
	assert_int_equal(log_limit_flush(&l), 3);
	assert_int_equal(log_limit_flush(&l), 0);
}

int main(void)
{
	struct test_list l = { 0 };

	tl_add(&l, "set_err keeps one line", test_set_err_one_line, NULL);
	tl_add(&l, "set_err truncates", test_set_err_truncates, NULL);
	TL_ROWS(&l, test_set_err_utf8, utf8_rows);
	tl_add(&l, "set_err escapes fit whole", test_set_err_escape_fits, NULL);
	tl_add(&l, "array_grow doubles", test_grow_doubles, NULL);
	tl_add(&l, "array_grow overflow", test_grow_overflow, NULL);
	TL_ROWS(&l, test_json_keys, keys_rows);
	TL_ROWS(&l, test_json_count, count_rows);
	tl_add(&l, "log_limit", test_log_limit, NULL);
	return tl_run("common", &l);
}
