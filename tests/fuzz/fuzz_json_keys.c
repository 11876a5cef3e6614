// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer harness of json_find_duplicate_key() (user/common/json_keys.c),
 * the scan that walks a policy file's bytes next to json-c to find a key
 * given twice in one object.
 *
 * The input is the text of a file. Besides ASan/UBSan, whenever json-c
 * reads the whole input as one strict JSON value, the scan is checked
 * against json-c's tree: json-c keeps one key of each repeated set, so
 * the scan finds no repeat exactly when it counted as many keys as the
 * tree's objects hold. A reported repeat must point at a quote.
 *
 * Seeds (tests/fuzz/corpus/json_keys/): the policy examples and a few
 * files with repeats, escapes and nesting.
 */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json_keys.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t tree_keys(json_object *o)
{
	size_t n = 0;

	if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++)
			n += tree_keys(json_object_array_get_idx(o, i));
	} else if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, key, val) {
			(void)key;
			n += 1 + tree_keys(val);
		}
	}
	return n;
}

/* json-c's strict reading of all of text, as policy_json_parse does. */
static json_object *parse_all(const char *text, size_t size)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *root;

	CHECK(tok);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tok, text, (int)size);
	if (root && json_tokener_get_parse_end(tok) != size) {
		json_object_put(root);
		root = NULL;
	}
	json_tokener_free(tok);
	return root;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct json_dup_key dup;
	size_t n_keys;
	json_object *root;
	int found;

	if (size > 1 << 20)
		return 0;
	found = json_find_duplicate_key(text, size, &dup, &n_keys);
	CHECK(found == 0 || found == 1);
	if (found) {
		CHECK(dup.offset < size && text[dup.offset] == '"');
		CHECK(strlen(dup.key) < sizeof(dup.key));
	}
	/* policy_json_parse refuses a NUL before json-c sees the text */
	if (memchr(text, '\0', size))
		return 0;
	root = parse_all(text, size);
	if (!root)
		return 0;
	CHECK(found == (tree_keys(root) != n_keys));
	json_object_put(root);
	return 0;
}
