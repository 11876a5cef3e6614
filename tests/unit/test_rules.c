// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Unit tests of rules.c: policy CIDRs to LPM trie entries. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <stdbool.h>

#include "common/array.h"
#include "common/error.h"
#include "kernel/rules.h"
#include "policy/cidr.h"
#include "policy/policy_cli.h"
#include "policy/ports.h"

struct fixture {
	struct policy p;
	struct rule_table t;
	struct policy_cidr local[4];
	size_t n_local;
	char err[AWF_ERR_LEN];
};

static int setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	policy_init(&f.p);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	rules_free(&f->t);
	policy_free(&f->p);
	return 0;
}

static void add_cidr(struct fixture *f, const char *arg)
{
	if (policy_add_cidr_arg(&f->p, arg, "test", f->err, sizeof(f->err)))
		fail_msg("%s: %s", arg, f->err);
}

static void add_local(struct fixture *f, const char *addr)
{
	char err[AWF_ERR_LEN];

	assert_int_equal(
		cidr_parse(&f->local[f->n_local++], addr, err, sizeof(err)), 0);
}

static int build(struct fixture *f)
{
	return rules_build(&f->t, &f->p, f->local, f->n_local, f->err,
			   sizeof(f->err));
}

static const struct rule_entry *find(const struct fixture *f, const char *text)
{
	struct policy_cidr c;
	char err[AWF_ERR_LEN];

	assert_int_equal(cidr_parse(&c, text, err, sizeof(err)), 0);
	for (size_t i = 0; i < f->t.n; i++) {
		const struct rule_entry *e = &f->t.v[i];

		if (e->family == c.family && e->prefixlen == c.prefixlen &&
		    memcmp(e->addr, c.addr, c.family == AF_INET ? 4 : 16) == 0)
			return e;
	}
	return NULL;
}

static const struct awf_port_set *ports_of(const struct fixture *f,
					   const struct rule_entry *e)
{
	assert_non_null(e);
	return &f->t.ports.v[e->ports];
}

static void test_single_allow_keeps_its_ports(void **state)
{
	struct fixture *f = *state;
	const struct rule_entry *e;

	add_cidr(f, "198.18.0.10/32:8080,9000-9001");
	assert_int_equal(build(f), 0);
	e = find(f, "198.18.0.10/32");
	assert_non_null(e);
	assert_int_equal(e->kind, AWF_RULE_ALLOW);
	assert_int_equal(e->id, 1);
	assert_true(port_set_contains(ports_of(f, e), 8080));
	assert_true(port_set_contains(ports_of(f, e), 9001));
	assert_false(port_set_contains(ports_of(f, e), 80));
}

static void test_covering_ports_fold_into_specific(void **state)
{
	struct fixture *f = *state;
	const struct rule_entry *wide, *narrow;

	add_cidr(f, "10.0.0.0/8:443");
	add_cidr(f, "10.1.0.0/16:8080");
	assert_int_equal(build(f), 0);
	wide = find(f, "10.0.0.0/8");
	narrow = find(f, "10.1.0.0/16");
	assert_non_null(wide);
	assert_non_null(narrow);
	/* The trie answers 10.1.x.y with the /16 only: it must carry 443. */
	assert_true(port_set_contains(ports_of(f, narrow), 443));
	assert_true(port_set_contains(ports_of(f, narrow), 8080));
	assert_false(port_set_contains(ports_of(f, wide), 8080));
}

static void test_all_ports_cover_everything(void **state)
{
	struct fixture *f = *state;

	add_cidr(f, "10.0.0.0/8");
	add_cidr(f, "10.1.2.3/32:22");
	assert_int_equal(build(f), 0);
	assert_true(port_set_is_all(ports_of(f, find(f, "10.1.2.3/32"))));
}

static void test_reserved_ranges_present_by_default(void **state)
{
	struct fixture *f = *state;
	const struct rule_entry *e;

	assert_int_equal(build(f), 0);
	e = find(f, "169.254.0.0/16");
	assert_non_null(e);
	assert_int_equal(e->kind, AWF_RULE_RESERVED);
	assert_int_equal(find(f, "fe80::/10")->kind, AWF_RULE_RESERVED);
	assert_int_equal(find(f, "fd00:ec2::254/128")->kind, AWF_RULE_RESERVED);
}

/* The other clouds' endpoints, and every IPv4 range again under NAT64. */
static void test_reserved_other_clouds_and_nat64(void **state)
{
	static const char *const reserved[] = {
		"168.63.129.16/32",	  "100.100.100.200/32",
		"64:ff9b::a9fe:0/112",	  "64:ff9b::a83f:8110/128",
		"64:ff9b::6464:64c8/128",
	};
	struct fixture *f = *state;

	add_cidr(f, "0.0.0.0/0");
	add_cidr(f, "::/0");
	add_cidr(f, "100.64.0.0/10");
	assert_int_equal(build(f), 0);
	for (size_t i = 0; i < ARRAY_SIZE(reserved); i++) {
		const struct rule_entry *e = find(f, reserved[i]);

		assert_non_null(e);
		assert_int_equal(e->kind, AWF_RULE_RESERVED);
	}
	/* the covering allows keep their own prefixes */
	assert_int_equal(find(f, "100.64.0.0/10")->kind, AWF_RULE_ALLOW);
	assert_int_equal(find(f, "::/0")->kind, AWF_RULE_ALLOW);
}

/* Named exactly, a NAT64-mapped range is the operator's to open. */
static void test_naming_nat64_metadata_replaces_it(void **state)
{
	struct fixture *f = *state;

	add_cidr(f, "64:ff9b::a9fe:0/112");
	assert_int_equal(build(f), 0);
	assert_int_equal(find(f, "64:ff9b::a9fe:0/112")->kind, AWF_RULE_ALLOW);
}

static void test_reserved_shadows_wider_allow(void **state)
{
	struct fixture *f = *state;
	const struct rule_entry *e;

	add_cidr(f, "0.0.0.0/0");
	add_cidr(f, "169.254.77.77/32:80");
	assert_int_equal(build(f), 0);
	assert_int_equal(find(f, "169.254.0.0/16")->kind, AWF_RULE_RESERVED);
	e = find(f, "169.254.77.77/32");
	assert_int_equal(e->kind, AWF_RULE_ALLOW);
	/* 0.0.0.0/0 lies beyond the reserved range: its ports stay out. */
	assert_true(port_set_contains(ports_of(f, e), 80));
	assert_false(port_set_contains(ports_of(f, e), 443));
}

static void test_naming_reserved_range_replaces_it(void **state)
{
	struct fixture *f = *state;
	const struct rule_entry *e;

	add_cidr(f, "169.254.0.0/16:80");
	assert_int_equal(build(f), 0);
	e = find(f, "169.254.0.0/16");
	assert_int_equal(e->kind, AWF_RULE_ALLOW);
	assert_int_equal(e->id, 1);
}

static void test_host_address_stays_local_under_allow(void **state)
{
	struct fixture *f = *state;

	add_local(f, "198.18.0.1");
	add_cidr(f, "198.18.0.0/24");
	assert_int_equal(build(f), 0);
	assert_int_equal(find(f, "198.18.0.1/32")->kind, AWF_RULE_LOCAL);
	assert_int_equal(find(f, "198.18.0.0/24")->kind, AWF_RULE_ALLOW);
}

static void test_duplicate_prefixes_merge_ports(void **state)
{
	struct fixture *f = *state;
	const struct rule_entry *e;
	size_t same = 0;

	add_cidr(f, "192.0.2.7/32:80");
	add_cidr(f, "192.0.2.7/32:443");
	assert_int_equal(build(f), 0);
	e = find(f, "192.0.2.7/32");
	assert_true(port_set_contains(ports_of(f, e), 80));
	assert_true(port_set_contains(ports_of(f, e), 443));
	for (size_t i = 0; i < f->t.n; i++)
		same += f->t.v[i].family == AF_INET &&
			f->t.v[i].prefixlen == 32 &&
			!memcmp(f->t.v[i].addr, e->addr, 4);
	assert_int_equal(same, 1); /* one trie key per prefix */
}

static void test_ipv6_fold(void **state)
{
	struct fixture *f = *state;
	const struct rule_entry *e;

	add_cidr(f, "[2001:db8::/32]:443");
	add_cidr(f, "[2001:db8:1::/48]:8443");
	assert_int_equal(build(f), 0);
	e = find(f, "2001:db8:1::/48");
	assert_non_null(e);
	assert_true(port_set_contains(ports_of(f, e), 443));
	assert_true(port_set_contains(ports_of(f, e), 8443));
}

static void test_too_many_folded_ranges_is_an_error(void **state)
{
	struct fixture *f = *state;
	char arg[256];

	/* 9 + 9 disjoint single ports cannot fit AWF_MAX_PORT_RANGES (16). */
	add_cidr(f, "10.0.0.0/8:1,3,5,7,9,11,13,15,17");
	snprintf(arg, sizeof(arg), "10.1.0.0/16:%s",
		 "101,103,105,107,109,111,113,115,117");
	add_cidr(f, arg);
	assert_int_equal(build(f), -1);
	assert_non_null(strstr(f->err, "allow_cidrs[1]"));
	assert_non_null(strstr(f->err, "ranges"));
}

static void test_host_bits_are_masked_in_keys(void **state)
{
	struct fixture *f = *state;
	const struct rule_entry *e;

	add_local(f, "fd42:a0f0::1");
	assert_int_equal(build(f), 0);
	e = find(f, "fd42:a0f0::1/128");
	assert_non_null(e);
	assert_int_equal(e->kind, AWF_RULE_LOCAL);
	/* fe80::/10 key must have the last 118 bits clear. */
	e = find(f, "fe80::/10");
	assert_int_equal(e->addr[1] & 0x3f, 0);
}

/* Whether prefix (cf, ca, cl) holds the prefix of e. */
static bool test_covers(int cf, const uint8_t *ca, unsigned int cl,
			const struct rule_entry *e)
{
	if (cf != e->family || cl > e->prefixlen)
		return false;
	for (unsigned int bit = 0; bit < cl; bit++)
		if ((ca[bit / 8] ^ e->addr[bit / 8]) & (0x80 >> (bit % 8)))
			return false;
	return true;
}

/*
 * Thousands of nested and repeated prefixes of both families (IPv4 ones
 * sorted by radix, IPv6 ones by qsort): the table is in (family, address,
 * prefix length) order with one entry per prefix, each allow carries the
 * id of the first policy entry of its prefix and the union of the ports
 * of every policy entry that covers it (none crosses a reserved range).
 */
static void test_large_table_against_brute_force(void **state)
{
	static const char *const ports[] = { "", ":22", ":443", ":8000-8100" };
	struct fixture *f = *state;
	uint32_t x = 20261206;
	char arg[96];

	for (int i = 0; i < 3000; i++) {
		unsigned int plen;

		x = x * 1103515245 + 12345;
		plen = (unsigned int[]){ 8, 16, 24, 30, 32, 32 }[(x >> 8) % 6];
		if (i % 10 == 9)
			snprintf(arg, sizeof(arg), "[2001:db8:%x::/%u]%s",
				 (x >> 12) & 0xf, 48 + plen % 9,
				 ports[(x >> 20) % 4]);
		else
			snprintf(arg, sizeof(arg), "198.18.%u.%u/32%s",
				 (x >> 12) & 3, (x >> 16) & 0xff,
				 ports[(x >> 20) % 4]);
		if (i % 10 != 9 && plen != 32) {
			struct policy_cidr c;
			char ip[64];

			/* the /32's address cut to plen, host bits clear */
			assert_int_equal(cidr_parse(&c, strtok(arg, "/"),
						    f->err, sizeof(f->err)),
					 0);
			for (unsigned int b = plen; b < 32; b++)
				c.addr[b / 8] &= (uint8_t) ~(0x80 >> (b % 8));
			inet_ntop(AF_INET, c.addr, ip, sizeof(ip));
			snprintf(arg, sizeof(arg), "%s/%u%s", ip, plen,
				 ports[(x >> 20) % 4]);
		}
		add_cidr(f, arg);
	}
	add_local(f, "198.19.0.1");
	assert_int_equal(build(f), 0);
	for (size_t i = 1; i < f->t.n; i++) {
		const struct rule_entry *a = &f->t.v[i - 1], *b = &f->t.v[i];
		int c = a->family != b->family ? a->family - b->family :
						 memcmp(a->addr, b->addr, 16);

		assert_true(c < 0 || (c == 0 && a->prefixlen < b->prefixlen));
	}
	for (size_t i = 0; i < f->t.n; i++) {
		const struct rule_entry *e = &f->t.v[i];
		struct awf_port_set want = { 0 };
		uint32_t first = 0;

		if (e->kind != AWF_RULE_ALLOW)
			continue;
		for (size_t j = 0; j < f->p.n_cidrs; j++) {
			struct policy_cidr c;

			policy_cidr_at(&f->p, j, &c);
			if (!test_covers(c.family, c.addr, c.prefixlen, e))
				continue;
			assert_int_equal(port_set_union(&want, &c.ports), 0);
			if (!first && c.prefixlen == e->prefixlen)
				first = (uint32_t)j + 1;
		}
		assert_int_equal(e->id, first);
		assert_true(port_set_equal(ports_of(f, e), &want));
	}
	assert_true(find(f, "198.19.0.1/32")->kind == AWF_RULE_LOCAL);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_single_allow_keeps_its_ports),
		T(test_covering_ports_fold_into_specific),
		T(test_all_ports_cover_everything),
		T(test_reserved_ranges_present_by_default),
		T(test_reserved_other_clouds_and_nat64),
		T(test_naming_nat64_metadata_replaces_it),
		T(test_reserved_shadows_wider_allow),
		T(test_naming_reserved_range_replaces_it),
		T(test_host_address_stays_local_under_allow),
		T(test_duplicate_prefixes_merge_ports),
		T(test_ipv6_fold),
		T(test_too_many_folded_ranges_is_an_error),
		T(test_host_bits_are_masked_in_keys),
		T(test_large_table_against_brute_force),
	};

	return cmocka_run_group_tests_name("rules", tests, NULL, NULL);
}
