/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * json_keys.h - finds a key given twice in one JSON object. json-c keeps
 * the last value of a repeated key without a word, so "localhost": "deny"
 * followed by "localhost": "allow" would allow; the readers refuse such a
 * file instead. Meant for text json-c has accepted, but safe on any bytes.
 */
#ifndef AWF_COMMON_JSON_KEYS_H
#define AWF_COMMON_JSON_KEYS_H

#include <stddef.h>

#define JSON_KEY_SHOWN 128

struct json_dup_key {
	size_t offset;		  /* of the second occurrence's opening quote */
	char key[JSON_KEY_SHOWN]; /* decoded, cut to fit */
};

/*
 * 1 and *dup filled when some object of buf holds a key twice (compared
 * after decoding escapes, as json-c compares them), 0 when none does, -1
 * when out of memory. *n_keys (if not NULL) counts the keys of all
 * objects.
 */
int json_find_duplicate_key(const char *buf, size_t len,
			    struct json_dup_key *dup, size_t *n_keys);

/* Index of the quote that closes the string opening at buf[i], or len. */
size_t json_string_end(const char *buf, size_t len, size_t i);

#endif /* AWF_COMMON_JSON_KEYS_H */
