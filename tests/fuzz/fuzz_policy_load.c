// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer harness of a policy file read value by value
 * (policy_load_file(): user/common/json_stream.c, the allow_cidrs appended
 * and their duplicates dropped in bulk, the key paths of list elements
 * formatted by hand) and of the CIDR table built from it (rules_build():
 * the IPv4 entries sorted by radix).
 *
 * The input is the text of a policy file. Besides ASan/UBSan: the file
 * read value by value and the same text read as one json-c tree give the
 * same result (status, message, normalized policy); a policy that loads
 * has no two allow_cidrs entries alike and gives a table in (family, address, prefix length) order, one entry per
 * prefix, whose lookup of each entry's address finds that entry or one
 * inside it.
 *
 * Seeds (tests/fuzz/corpus/policy_load/): the policy examples and lists
 * with repeats, nesting and both families.
 */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/error.h"
#include "kernel/rules.h"
#include "policy/policy_json.h"
#include "policy/policy_load.h"
#include "fuzz_check.h"

/* No two entries of allow_cidrs alike (the bulk pass dropped them). */
static void check_no_repeats(const struct policy *p)
{
	for (size_t i = 0; i < p->n_cidrs && p->n_cidrs <= 4096; i++)
		for (size_t j = 0; j < i; j++)
			CHECK(memcmp(&p->cidrs[i], &p->cidrs[j],
				     sizeof(p->cidrs[i])) != 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The normalized policy as one string (malloc'd). */
static char *normalized(const struct policy *p)
{
	json_object *o = policy_to_json(p);
	char *s;

	CHECK(o);
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	CHECK(s);
	json_object_put(o);
	return s;
}

static int prefix_order(const struct rule_entry *a, const struct rule_entry *b)
{
	int c = a->family != b->family ? a->family - b->family :
					 memcmp(a->addr, b->addr, 16);

	return c ? c : a->prefixlen - b->prefixlen;
}

static void check_table(const struct policy *p)
{
	char err[AWF_ERR_LEN];
	struct rule_table t;

	if (rules_build(&t, p, NULL, 0, err, sizeof(err)) < 0) {
		CHECK(err[0]);
		return;
	}
	for (size_t i = 0; i < t.n; i++) {
		const struct rule_entry *e = &t.v[i], *got;

		CHECK(i == 0 || prefix_order(&t.v[i - 1], e) < 0);
		got = rules_lookup(&t, e->family, e->addr);
		CHECK(got && got->family == e->family &&
		      got->prefixlen >= e->prefixlen);
	}
	rules_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err_file[AWF_ERR_LEN] = "", err_tree[AWF_ERR_LEN] = "";
	int fd, rc_file, rc_tree = -1;
	struct policy pf, pt;
	json_object *root;

	if (size > 1 << 20)
		return 0;
	/* a regular file, as policy_read_file() wants, without a disk */
	fd = memfd_create("policy", MFD_CLOEXEC);
	CHECK(fd >= 0);
	CHECK(write(fd, data, size) == (ssize_t)size);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	policy_init(&pf);
	policy_init(&pt);
	rc_file = policy_load_file(&pf, path, err_file, sizeof(err_file));
	close(fd);
	root = policy_json_parse(path, (const char *)data, size, err_tree,
				 sizeof(err_tree));
	if (root)
		rc_tree = policy_load_json(&pt, root, path, err_tree,
					   sizeof(err_tree));
	json_object_put(root);
	/* a NUL byte: the file is refused before json-c sees it */
	if (!memchr(data, '\0', size)) {
		CHECK(rc_file == rc_tree);
		CHECK(strcmp(err_file, err_tree) == 0);
	}
	if (rc_file == 0 && rc_tree == 0) {
		char *a = normalized(&pf), *b = normalized(&pt);

		CHECK(strcmp(a, b) == 0);
		free(a);
		free(b);
		check_no_repeats(&pf);
		check_table(&pf);
	}
	policy_free(&pf);
	policy_free(&pt);
	return 0;
}
