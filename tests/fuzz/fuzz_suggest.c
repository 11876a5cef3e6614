// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer harness of `awf-bpf policy suggest` (user/audit/suggest.c) and
 * of the DEST parser of `policy test` (user/kernel/verdict.c).
 *
 * The input is an audit log: each line goes to suggest_add_record() when
 * json-c reads it as an object, and to verdict_dest_parse() as a DEST.
 * Besides ASan/UBSan: the suggested policy, printed as `policy suggest`
 * prints it, must load again as a policy file (it is "valid for policy
 * check"), with as many entries; a parsed name DEST is never a pattern.
 *
 * Seeds (tests/fuzz/corpus/suggest/): the unit test's log and a few DESTs.
 */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/suggest.h"
#include "common/error.h"
#include "kernel/verdict.h"
#include "policy/policy_json.h"
#include "policy/policy_load.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one_line(struct suggest *s, const char *line)
{
	struct verdict_dest d;
	char err[AWF_ERR_LEN];
	json_object *rec;

	if (verdict_dest_parse(line, &d, err, sizeof(err)) == 0 && d.is_name)
		CHECK(!strchr(d.name, '*') && d.name[0]);
	rec = json_tokener_parse(line);
	if (rec && json_object_is_type(rec, json_type_object))
		suggest_add_record(s, rec, "fuzz");
	json_object_put(rec);
}

/* The output loads back as a policy with the same entries. */
static void check_reloads(const struct policy *p)
{
	json_object *out = policy_to_json(p), *again;
	char err[AWF_ERR_LEN] = "";
	struct policy q;

	again = json_tokener_parse(json_object_to_json_string(out));
	CHECK(again);
	policy_init(&q);
	if (policy_load_json(&q, again, "suggested", err, sizeof(err)) < 0) {
		fprintf(stderr, "suggested policy refused: %s\n", err);
		abort();
	}
	CHECK(q.n_allow_domains == p->n_allow_domains);
	CHECK(q.n_cidrs == p->n_cidrs);
	policy_free(&q);
	json_object_put(again);
	json_object_put(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *line, *next;
	struct suggest *s = suggest_new(NULL);
	char err[AWF_ERR_LEN];
	struct policy p;

	if (!text || !s)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	for (line = text; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		one_line(s, line);
	}
	policy_init(&p);
	if (suggest_merge(s, &p, err, sizeof(err)) == 0)
		check_reloads(&p);
	policy_free(&p);
	suggest_free(s);
	free(text);
	return 0;
}
