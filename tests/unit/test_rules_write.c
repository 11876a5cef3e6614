// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * rules_write() against the real kernel: a policy of some thousands of
 * prefixes (duplicates, nested prefixes with their own ports, IPv6,
 * v4-mapped, reserved ranges named and shadowing, host addresses) goes
 * into LPM tries made like the programs' cidr4/cidr6, once in batches and
 * once one element at a time (the path taken where the kernel refuses
 * batches). Both tries must hold exactly the table, entry by entry.
 * Needs root (skipped without).
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <bpf/bpf.h>

#include "bpf_privilege.h"
#include "common/error.h"
#include "kernel/rules.h"
#include "policy/cidr.h"
#include "policy/policy_cli.h"
#include "policy/ports.h"

#define N_HOSTS4 3000
#define N_HOSTS6 1500

struct tries {
	int fd4, fd6;
};

static int make_tries(struct tries *t)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_NO_PREALLOC);

	t->fd4 = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "t_cidr4",
				sizeof(struct awf_cidr4_key),
				sizeof(struct awf_rule), AWF_MAX_CIDRS, &opts);
	t->fd6 = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "t_cidr6",
				sizeof(struct awf_cidr6_key),
				sizeof(struct awf_rule), AWF_MAX_CIDRS, &opts);
	return t->fd4 >= 0 && t->fd6 >= 0 ? 0 : -1;
}

static void close_tries(struct tries *t)
{
	close(t->fd4);
	close(t->fd6);
}

static void add(struct policy *p, const char *fmt, ...)
{
	char arg[128], err[AWF_ERR_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(arg, sizeof(arg), fmt, ap);
	va_end(ap);
	if (policy_add_cidr_arg(p, arg, "test", err, sizeof(err)))
		fail_msg("%s: %s", arg, err);
}

/*
 * Hosts of 198.18.0.0/15 and 2001:db8::/32 in a scrambled order (a
 * policy is not sorted), every 7th given twice with other ports, under
 * covering prefixes with ports of their own; a reserved range named, one
 * shadowing a wide allow.
 */
static void big_policy(struct policy *p)
{
	policy_init(p);
	add(p, "198.18.0.0/15:443");
	add(p, "198.18.4.0/22:8080");
	add(p, "0.0.0.0/0:25");
	add(p, "[2001:db8::/32]:443");
	add(p, "[2001:db8:0:1::/64]:8443");
	add(p, "169.254.169.0/24:80");
	add(p, "[::ffff:198.19.1.0/120]:53");
	for (unsigned int i = 0; i < N_HOSTS4; i++) {
		unsigned int h = (i * 2654435761u) % 65536;

		add(p, "198.18.%u.%u/32:%u", h / 256, h % 256, 1000 + i % 50);
		if (i % 7 == 0)
			add(p, "198.18.%u.%u:22", h / 256, h % 256);
	}
	for (unsigned int i = 0; i < N_HOSTS6; i++) {
		unsigned int h = (i * 2654435761u) % 4096;

		add(p, "[2001:db8:0:%x::%x/128]:%u", h / 256, h % 256 + 1,
		    2000 + i % 30);
		if (i % 7 == 0)
			add(p, "[2001:db8:0:%x::/64]:9000-9100", h / 256);
	}
}

/* Every entry of the table is in its trie with its value. */
static void expect_table(const struct rule_table *rt, const struct tries *t)
{
	for (size_t i = 0; i < rt->n; i++) {
		const struct rule_entry *e = &rt->v[i];
		struct awf_cidr6_key k = { .prefixlen = e->prefixlen };
		struct awf_rule want, got;
		int fd = e->family == AF_INET ? t->fd4 : t->fd6;

		memcpy(k.addr, e->addr, e->family == AF_INET ? 4 : 16);
		rules_value(rt, e, &want);
		/* an exact prefix is its own longest match */
		assert_int_equal(bpf_map_lookup_elem(fd, &k, &got), 0);
		assert_memory_equal(&got, &want, sizeof(want));
	}
}

/* Keys in the trie: as many as the table has of that family. */
static size_t count_keys(int fd, size_t key_size)
{
	uint8_t key[sizeof(struct awf_cidr6_key)], next[sizeof(key)];
	size_t n = 0;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(key, next, key_size);
		prev = key;
		n++;
	}
	return n;
}

static void check_write(enum rules_write_mode mode)
{
	struct policy p;
	struct rule_table rt;
	struct tries t;
	char err[AWF_ERR_LEN];
	size_t n4 = 0;

	big_policy(&p);
	assert_int_equal(rules_build(&rt, &p, NULL, 0, err, sizeof(err)), 0);
	assert_int_equal(make_tries(&t), 0);
	assert_int_equal(
		rules_write_mode(&rt, t.fd4, t.fd6, mode, err, sizeof(err)), 0);
	expect_table(&rt, &t);
	for (size_t i = 0; i < rt.n; i++)
		n4 += rt.v[i].family == AF_INET;
	assert_true(n4 > N_HOSTS4 && rt.n - n4 > N_HOSTS6);
	assert_int_equal(count_keys(t.fd4, sizeof(struct awf_cidr4_key)), n4);
	assert_int_equal(count_keys(t.fd6, sizeof(struct awf_cidr6_key)),
			 rt.n - n4);
	close_tries(&t);
	rules_free(&rt);
	policy_free(&p);
}

static void test_batched_write_holds_the_table(void **state)
{
	(void)state;
	check_write(RULES_WRITE_BATCH);
}

static void test_element_write_holds_the_table(void **state)
{
	(void)state;
	check_write(RULES_WRITE_ELEMENT);
}

/* Folded ports as the trie answers an address: the longest match. */
static void expect_lookup(int fd, int family, const char *addr, uint32_t kind,
			  int port, bool allowed)
{
	struct awf_cidr6_key k = { .prefixlen = family == AF_INET ? 32 : 128 };
	struct awf_rule got;

	assert_int_equal(inet_pton(family, addr, k.addr), 1);
	assert_int_equal(bpf_map_lookup_elem(fd, &k, &got), 0);
	assert_int_equal(got.kind, kind);
	assert_int_equal(port_set_contains(&got.ports, (uint16_t)port),
			 allowed);
}

static void test_lookups_see_folded_ports(void **state)
{
	struct policy p;
	struct rule_table rt;
	struct tries t;
	char err[AWF_ERR_LEN];

	(void)state;
	big_policy(&p);
	assert_int_equal(rules_build(&rt, &p, NULL, 0, err, sizeof(err)), 0);
	assert_int_equal(make_tries(&t), 0);
	assert_int_equal(rules_write(&rt, t.fd4, t.fd6, err, sizeof(err)), 0);
	/* inside 198.18.4.0/22: its 8080, the /15's 443, the /0's 25 */
	expect_lookup(t.fd4, AF_INET, "198.18.5.250", AWF_RULE_ALLOW, 8080,
		      true);
	expect_lookup(t.fd4, AF_INET, "198.18.5.250", AWF_RULE_ALLOW, 443,
		      true);
	expect_lookup(t.fd4, AF_INET, "198.18.5.250", AWF_RULE_ALLOW, 25, true);
	expect_lookup(t.fd4, AF_INET, "198.18.5.250", AWF_RULE_ALLOW, 80,
		      false);
	/* the reserved range shadows the /0; the named part of it does not */
	expect_lookup(t.fd4, AF_INET, "169.254.1.1", AWF_RULE_RESERVED, 25,
		      false);
	expect_lookup(t.fd4, AF_INET, "169.254.169.254", AWF_RULE_ALLOW, 80,
		      true);
	expect_lookup(t.fd4, AF_INET, "169.254.169.254", AWF_RULE_ALLOW, 25,
		      false);
	/* v4-mapped: stored as IPv4 */
	expect_lookup(t.fd4, AF_INET, "198.19.1.7", AWF_RULE_ALLOW, 53, true);
	expect_lookup(t.fd6, AF_INET6, "2001:db8:0:1::ffff", AWF_RULE_ALLOW,
		      8443, true);
	expect_lookup(t.fd6, AF_INET6, "2001:db8:0:1::ffff", AWF_RULE_ALLOW,
		      443, true);
	close_tries(&t);
	rules_free(&rt);
	policy_free(&p);
}

int main(void)
{
	char why[256];
	struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batched_write_holds_the_table),
		cmocka_unit_test(test_element_write_holds_the_table),
		cmocka_unit_test(test_lookups_see_folded_ports),
	};

	if (!bpf_privileged(why, sizeof(why)))
		skip_all(tests, sizeof(tests) / sizeof(tests[0]), why);
	return cmocka_run_group_tests_name("rules_write", tests, NULL, NULL);
}
