// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * json_keys.c - a scan of JSON text for its object keys, and nothing else:
 * json-c (which has no flag to refuse repeated keys) still does all the
 * parsing, and decodes every key written with escapes, so that "a" and
 * "\u0061" are the same key here as they are to it.
 *
 * The keys of each open object sit at the end of one array; when the
 * object closes they are sorted and compared, then dropped: O(k log k) for
 * k keys, whatever the nesting.
 */
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/json_keys.h"

struct key_rec {
	const char *name; /* into the text, or owned */
	size_t len;
	size_t offset;
	char *owned; /* decoded copy of a key written with escapes */
};

struct open_value {
	bool object;
	size_t first_key; /* its keys are keys[first_key..n_keys) */
};

struct key_scan {
	const char *buf;
	size_t len;
	struct key_rec *keys;
	size_t n_keys, cap_keys;
	struct open_value *open;
	size_t n_open, cap_open;
	size_t total;
	bool found;
	struct json_dup_key *dup;
};

size_t json_string_end(const char *buf, size_t len, size_t i)
{
	for (i++; i < len && buf[i] != '"'; i++)
		if (buf[i] == '\\')
			i++;
	return i < len ? i : len;
}

/*
 * json-c's own reading of the key text from quote to quote into *key.
 * Keys are C strings to it: one cut at a "\u0000" is the key up to there.
 * Text it cannot read (a bad escape) leaves *key NULL: json-c refuses that
 * file anyway. -1 only when out of memory.
 */
static int decode_key(const char *text, size_t len, char **key)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *s;

	*key = NULL;
	if (!tok)
		return -1;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	s = json_tokener_parse_ex(tok, text, (int)len);
	json_tokener_free(tok);
	if (!json_object_is_type(s, json_type_string)) {
		json_object_put(s);
		return 0;
	}
	*key = strdup(json_object_get_string(s));
	json_object_put(s);
	return *key ? 0 : -1;
}

static int add_key(struct key_scan *s, size_t start, size_t end)
{
	struct key_rec *k;

	if (array_grow((void **)&s->keys, &s->cap_keys, s->n_keys + 1,
		       sizeof(*s->keys)) < 0)
		return -1;
	k = &s->keys[s->n_keys];
	memset(k, 0, sizeof(*k));
	k->offset = start;
	k->name = s->buf + start + 1;
	k->len = strnlen(k->name, end - start - 1);
	/* end < len: a key cut by the end of the text has no escapes to read */
	if (end < s->len && memchr(k->name, '\\', k->len)) {
		if (decode_key(s->buf + start, end - start + 1, &k->owned) < 0)
			return -1;
		if (k->owned) {
			k->name = k->owned;
			k->len = strlen(k->owned);
		}
	}
	s->n_keys++;
	s->total++;
	return 0;
}

static int key_cmp(const void *a, const void *b)
{
	const struct key_rec *x = a, *y = b;
	int rc = memcmp(x->name, y->name, x->len < y->len ? x->len : y->len);

	if (rc)
		return rc;
	return (x->len > y->len) - (x->len < y->len);
}

static bool same_key(const struct key_rec *a, const struct key_rec *b)
{
	return a->len == b->len && memcmp(a->name, b->name, a->len) == 0;
}

/* Of all repeats, the one that comes first in the text is reported. */
static void note_dup(struct key_scan *s, const struct key_rec *a,
		     const struct key_rec *b)
{
	size_t second = a->offset > b->offset ? a->offset : b->offset;

	if (s->found && s->dup->offset <= second)
		return;
	s->found = true;
	s->dup->offset = second;
	snprintf(s->dup->key, sizeof(s->dup->key), "%.*s", (int)a->len,
		 a->name);
}

static void close_object(struct key_scan *s, size_t first)
{
	size_t n = s->n_keys - first;
	struct key_rec *keys;

	if (!n)
		return;
	keys = s->keys + first;
	qsort(keys, n, sizeof(*keys), key_cmp);
	for (size_t i = 1; i < n; i++)
		if (same_key(&keys[i - 1], &keys[i]))
			note_dup(s, &keys[i - 1], &keys[i]);
	for (size_t i = 0; i < n; i++)
		free(keys[i].owned);
	s->n_keys = first;
}

static int open_value(struct key_scan *s, bool object)
{
	if (array_grow((void **)&s->open, &s->cap_open, s->n_open + 1,
		       sizeof(*s->open)) < 0)
		return -1;
	s->open[s->n_open++] =
		(struct open_value){ .object = object, .first_key = s->n_keys };
	return 0;
}

/* A closer that does not match what is open is json-c's error to report. */
static void close_value(struct key_scan *s)
{
	if (!s->n_open)
		return;
	s->n_open--;
	if (s->open[s->n_open].object)
		close_object(s, s->open[s->n_open].first_key);
}

static int scan(struct key_scan *s)
{
	bool want_key = false;

	for (size_t i = 0; i < s->len; i++) {
		bool in_object = s->n_open && s->open[s->n_open - 1].object;
		size_t end;

		switch (s->buf[i]) {
		case '"':
			end = json_string_end(s->buf, s->len, i);
			if (want_key && add_key(s, i, end) < 0)
				return -1;
			want_key = false;
			i = end;
			break;
		case '{':
		case '[':
			if (open_value(s, s->buf[i] == '{') < 0)
				return -1;
			want_key = s->buf[i] == '{';
			break;
		case '}':
		case ']':
			close_value(s);
			want_key = false;
			break;
		case ',':
			want_key = in_object;
			break;
		}
	}
	return 0;
}

int json_find_duplicate_key(const char *buf, size_t len,
			    struct json_dup_key *dup, size_t *n_keys)
{
	struct key_scan s = { .buf = buf, .len = len, .dup = dup };
	int rc = scan(&s);

	/* objects left open by a cut text: their keys count as well */
	while (s.n_open)
		close_value(&s);
	for (size_t i = 0; i < s.n_keys; i++)
		free(s.keys[i].owned);
	free(s.keys);
	free(s.open);
	if (n_keys)
		*n_keys = s.total;
	if (rc < 0)
		return -1;
	return s.found ? 1 : 0;
}
