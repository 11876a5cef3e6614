// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "policy/ports.h"
#include "common/error.h"
#include "test_util.h"

struct parse_row {
	const char *in;
	const char *want; /* the set afterwards, or NULL: an error */
	const char *err;
};

static const struct parse_row parse_rows[] = {
	{ "443", "443", NULL },
	{ "0", "0", NULL },
	{ "65535", "65535", NULL },
	{ "8000-8100", "8000-8100", NULL },
	{ "80-80", "80", NULL },
	{ "0-65535", "0-65535", NULL },
	{ "00443", "443", NULL },
	{ "70000", NULL, "port 70000 out of range 0-65535" },
	{ "100-70000", NULL, "port 70000 out of range 0-65535" },
	{ "99999999999999999999", NULL, "out of range 0-65535" },
	{ "8100-8000", NULL, "port range 8100-8000: the low end is above" },
	{ "", NULL, "invalid port \"\"" },
	{ "http", NULL, "invalid port \"http\"" },
	{ "-1", NULL, "invalid port \"-1\"" },
	{ "+80", NULL, "invalid port \"+80\"" },
	{ " 80", NULL, "invalid port \" 80\"" },
	{ "80-", NULL, "invalid port \"80-\"" },
	{ "1-2-3", NULL, "invalid port \"1-2-3\"" },
	{ "0x50", NULL, "invalid port \"0x50\"" },
};

struct merge_row {
	const char *name;
	struct awf_port_range add[4];
	size_t n;
	const char *want;
};

static const struct merge_row merge_rows[] = {
	{ "sorted", { { 443, 443 }, { 80, 80 } }, 2, "80,443" },
	{ "overlap", { { 80, 90 }, { 85, 100 } }, 2, "80-100" },
	{ "adjacent", { { 80, 89 }, { 90, 99 } }, 2, "80-99" },
	{ "contained", { { 1, 100 }, { 50, 60 } }, 2, "1-100" },
	{ "bridge", { { 1, 5 }, { 10, 20 }, { 6, 9 } }, 3, "1-20" },
	{ "top end", { { 65535, 65535 }, { 0, 65534 } }, 2, "0-65535" },
	{ "duplicate", { { 22, 22 }, { 22, 22 } }, 2, "22" },
};

static void fmt_set(const struct awf_port_set *set, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (uint32_t i = 0; i < set->count; i++) {
		const struct awf_port_range *r = &set->ranges[i];

		off += (size_t)snprintf(buf + off, len - off, "%s%u",
					i ? "," : "", r->lo);
		if (r->hi != r->lo)
			off += (size_t)snprintf(buf + off, len - off, "-%u",
						r->hi);
	}
}

static void assert_set(const struct awf_port_set *set, const char *want)
{
	char got[512];

	fmt_set(set, got, sizeof(got));
	assert_string_equal(got, want);
}

static void test_parse(void **state)
{
	const struct parse_row *row = *state;
	struct awf_port_set set = { 0 };
	char err[AWF_ERR_LEN] = "";
	int rc = port_set_parse(&set, row->in, err, sizeof(err));

	if (row->want) {
		assert_int_equal(rc, 0);
		assert_set(&set, row->want);
	} else {
		assert_int_equal(rc, -1);
		assert_err_has(err, row->err);
	}
}

static void test_merge(void **state)
{
	const struct merge_row *row = *state;
	struct awf_port_set set = { 0 };

	for (size_t i = 0; i < row->n; i++)
		assert_int_equal(
			port_set_add(&set, row->add[i].lo, row->add[i].hi), 0);
	assert_set(&set, row->want);
}

/* Ports 0, 10, 20, ... 150: sixteen ranges, no room for another. */
static void fill16(struct awf_port_set *set)
{
	memset(set, 0, sizeof(*set));
	for (uint16_t i = 0; i < AWF_MAX_PORT_RANGES; i++)
		assert_int_equal(port_set_add(set, i * 10, i * 10), 0);
}

static void test_add_full(void **state)
{
	struct awf_port_set set, before;

	(void)state;
	fill16(&set);
	before = set;
	assert_int_equal(port_set_add(&set, 1000, 1000), -1);
	assert_memory_equal(&set, &before, sizeof(set));
	/* merging into an existing range needs no room */
	assert_int_equal(port_set_add(&set, 1, 9), 0);
	assert_int_equal(set.count, AWF_MAX_PORT_RANGES - 1);
	assert_int_equal(port_set_add(&set, 9, 1), -1);
}

static void test_union(void **state)
{
	struct awf_port_set a = { 0 }, b = { 0 }, full, before;

	(void)state;
	port_set_add(&a, 80, 80);
	port_set_add(&a, 8000, 8100);
	port_set_add(&b, 443, 443);
	port_set_add(&b, 8050, 8200);
	assert_int_equal(port_set_union(&a, &b), 0);
	assert_set(&a, "80,443,8000-8200");
	fill16(&full);
	before = full;
	memset(&b, 0, sizeof(b));
	port_set_add(&b, 5, 5);
	assert_int_equal(port_set_union(&full, &b), -1);
	assert_memory_equal(&full, &before, sizeof(full));
}

static void test_contains_all(void **state)
{
	struct awf_port_set set = { 0 };

	(void)state;
	port_set_add(&set, 8000, 8100);
	assert_true(port_set_contains(&set, 8000));
	assert_true(port_set_contains(&set, 8100));
	assert_false(port_set_contains(&set, 8101));
	assert_false(port_set_contains(&set, 7999));
	assert_false(port_set_is_all(&set));
	port_set_all(&set);
	assert_true(port_set_is_all(&set));
	assert_true(port_set_contains(&set, 0));
	assert_true(port_set_contains(&set, 65535));
	assert_set(&set, "0-65535");
}

static void test_parse_list(void **state)
{
	struct awf_port_set set = { 0 };
	char err[AWF_ERR_LEN] = "";

	(void)state;
	assert_int_equal(
		port_set_parse_list(&set, "443,80,8000-8100", err, sizeof(err)),
		0);
	assert_set(&set, "80,443,8000-8100");
	assert_int_equal(port_set_parse_list(&set, "80,,443", err, sizeof(err)),
			 -1);
	assert_err_has(err, "invalid port \"\"");
	assert_int_equal(
		port_set_parse_list(&set, "80,99999", err, sizeof(err)), -1);
	assert_err_has(err, "port 99999 out of range 0-65535");
}

static void test_too_many_message(void **state)
{
	struct awf_port_set set;
	char err[AWF_ERR_LEN] = "";

	(void)state;
	fill16(&set);
	assert_int_equal(port_set_parse(&set, "5000", err, sizeof(err)), -1);
	assert_err_has(err, "more than 16 separate port ranges");
	assert_int_equal(port_set_add_number(&set, -1, err, sizeof(err)), -1);
	assert_err_has(err, "port -1 out of range 0-65535");
}

int main(void)
{
	struct test_list l = { 0 };

	TL_ROWS(&l, test_parse, parse_rows);
	TL_ROWS(&l, test_merge, merge_rows);
	tl_add(&l, "add to a full set", test_add_full, NULL);
	tl_add(&l, "union", test_union, NULL);
	tl_add(&l, "contains and all", test_contains_all, NULL);
	tl_add(&l, "parse list", test_parse_list, NULL);
	tl_add(&l, "too many ranges", test_too_many_message, NULL);
	return tl_run("ports", &l);
}
