// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>

#include "common/json_keys.h"
#include "common/json_stream.h"

struct walk {
	const char *buf;
	size_t len, pos;
	/*
	 * json-c limits the depth of the whole text: a value of the top
	 * object starts one level down, an element of its array two.
	 */
	struct json_tokener *tok_value, *tok_elem;
	const struct json_stream_ops *ops;
	void *ctx;
	bool failed;  /* a callback failed: the rest is only checked */
	bool stopped; /* a callback asked to stop */
};

/* json-c's white space in strict mode. */
static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_ws(struct walk *w)
{
	while (w->pos < w->len && is_ws(w->buf[w->pos]))
		w->pos++;
}

static bool eat(struct walk *w, char c)
{
	skip_ws(w);
	if (w->pos >= w->len || w->buf[w->pos] != c)
		return false;
	w->pos++;
	return true;
}

/*
 * Where the value at i ends, found without judging it: a string at its
 * closing quote, an object or array at its matching bracket (strings
 * skipped), anything else at the next delimiter. json-c judges the span.
 */
static size_t value_end(const char *buf, size_t len, size_t i)
{
	size_t depth = 0;

	if (i >= len)
		return len;
	if (buf[i] == '"')
		return json_string_end(buf, len, i) + 1;
	if (buf[i] != '{' && buf[i] != '[') {
		while (i < len && !is_ws(buf[i]) && !strchr(",:]}", buf[i]))
			i++;
		return i;
	}
	for (; i < len; i++) {
		if (buf[i] == '"')
			i = json_string_end(buf, len, i);
		else if (buf[i] == '{' || buf[i] == '[')
			depth++;
		else if ((buf[i] == '}' || buf[i] == ']') && --depth == 0)
			return i + 1;
	}
	return len;
}

/*
 * A string of printable bytes without escapes is those bytes to json-c
 * (which checks no UTF-8 unless asked): most of a large policy, and
 * json-c would set up a locale for each.
 */
static json_object *plain_string(const char *s, size_t n)
{
	if (n < 2 || s[0] != '"' || s[n - 1] != '"')
		return NULL;
	for (size_t i = 1; i < n - 1; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == '\\' || s[i] == '"')
			return NULL;
	return json_object_new_string_len(s + 1, (int)(n - 2));
}

/*
 * The value at w->pos, parsed by json-c in strict mode, or false when it
 * is not one value exactly (*val may be NULL for a JSON null).
 */
static bool parse_value(struct walk *w, struct json_tokener *tok,
			json_object **val)
{
	size_t end;
	enum json_tokener_error jerr;

	skip_ws(w);
	end = value_end(w->buf, w->len, w->pos);
	if (end > w->len || end == w->pos)
		return false;
	*val = plain_string(w->buf + w->pos, end - w->pos);
	if (*val) {
		w->pos = end;
		return true;
	}
	json_tokener_reset(tok);
	*val = json_tokener_parse_ex(tok, w->buf + w->pos, (int)(end - w->pos));
	jerr = json_tokener_get_error(tok);
	/* a number is complete only at what follows it: the NUL says so */
	if (jerr == json_tokener_continue) {
		*val = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
	} else if (jerr == json_tokener_success &&
		   json_tokener_get_parse_end(tok) != end - w->pos) {
		jerr = json_tokener_error_parse_unexpected;
	}
	if (jerr != json_tokener_success) {
		json_object_put(*val);
		return false;
	}
	w->pos = end;
	return true;
}

/* The callback, unless one failed before (then the value is only checked). */
static void hand_over(struct walk *w, const char *key, size_t index,
		      json_object *val)
{
	int rc;

	if (w->failed)
		return;
	rc = w->ops->value(w->ctx, key, index, val);
	if (rc < 0)
		w->failed = true;
	else if (rc > 0)
		w->stopped = true;
}

/* The elements of the array at w->pos, one by one. */
static bool walk_array(struct walk *w, const char *key)
{
	json_object *val;

	w->pos++; /* '[' */
	if (eat(w, ']'))
		return true;
	for (size_t i = 0;; i++) {
		if (!parse_value(w, w->tok_elem, &val))
			return false;
		hand_over(w, key, i, val);
		json_object_put(val);
		if (w->stopped || eat(w, ']'))
			return true;
		if (!eat(w, ','))
			return false;
	}
}

/* "key": value, at w->pos. */
static bool walk_member(struct walk *w)
{
	json_object *key_obj, *val;
	const char *key;
	bool ok = true;

	skip_ws(w);
	if (w->pos >= w->len || w->buf[w->pos] != '"' ||
	    !parse_value(w, w->tok_value, &key_obj))
		return false;
	/* json-c's key is the C string: cut at an escaped NUL as here */
	key = json_object_get_string(key_obj);
	if (!eat(w, ':')) {
		ok = false;
	} else if (skip_ws(w), w->pos < w->len && w->buf[w->pos] == '[' &&
				       !w->failed &&
				       w->ops->each(w->ctx, key)) {
		ok = walk_array(w, key);
	} else if (parse_value(w, w->tok_value, &val)) {
		hand_over(w, key, JSON_STREAM_WHOLE, val);
		json_object_put(val);
	} else {
		ok = false;
	}
	json_object_put(key_obj);
	return ok;
}

static bool walk_object(struct walk *w)
{
	if (!eat(w, '{'))
		return false;
	if (!eat(w, '}')) {
		do {
			if (!walk_member(w))
				return false;
			if (w->stopped)
				return true;
		} while (eat(w, ','));
		if (!eat(w, '}'))
			return false;
	}
	skip_ws(w);
	return w->pos == w->len;
}

int json_stream_object(const char *buf, size_t len,
		       const struct json_stream_ops *ops, void *ctx)
{
	struct walk w = { .buf = buf, .len = len, .ops = ops, .ctx = ctx };
	int rc = 1;

	/* json-c stops at a NUL byte; the caller's parse says where */
	if (memchr(buf, '\0', len))
		return 1;
	w.tok_value = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH - 1);
	w.tok_elem = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH - 2);
	if (w.tok_value && w.tok_elem) {
		json_tokener_set_flags(w.tok_value, JSON_TOKENER_STRICT);
		json_tokener_set_flags(w.tok_elem, JSON_TOKENER_STRICT);
		if (walk_object(&w))
			rc = w.failed ? -1 : 0;
	}
	if (w.tok_value)
		json_tokener_free(w.tok_value);
	if (w.tok_elem)
		json_tokener_free(w.tok_elem);
	return rc;
}

/* Whether the string at buf[i] (a key) spells key, escapes aside. */
static bool is_key(const char *buf, size_t end, size_t i, const char *key)
{
	size_t n = strlen(key);

	return end - i == n + 2 && memcmp(buf + i + 1, key, n) == 0;
}

size_t json_stream_count(const char *buf, size_t len, const char *key)
{
	struct walk w = { .buf = buf, .len = len };
	size_t count = 0, end;

	if (!eat(&w, '{'))
		return 0;
	while (skip_ws(&w), w.pos < w.len && w.buf[w.pos] == '"') {
		bool wanted;

		end = value_end(buf, len, w.pos);
		wanted = end <= len && is_key(buf, end, w.pos, key);
		w.pos = end;
		if (!eat(&w, ':'))
			return 0;
		skip_ws(&w);
		if (wanted && w.pos < len && buf[w.pos] == '[') {
			w.pos++;
			while (skip_ws(&w), w.pos < len && buf[w.pos] != ']') {
				w.pos = value_end(buf, len, w.pos);
				count++;
				if (!eat(&w, ','))
					break;
			}
			return count;
		}
		w.pos = value_end(buf, len, w.pos);
		if (!eat(&w, ','))
			return 0;
	}
	return 0;
}
