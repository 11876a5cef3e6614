// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * rules_write() against the real kernel: a policy of some thousands of
 * prefixes (duplicates, nested prefixes with their own ports, IPv6,
 * v4-mapped, reserved ranges named and shadowing, host addresses) goes
 * into LPM tries and exact hash maps made like the programs' cidr4/cidr6
 * and cidr_exact4/6, once in batches and once one element at a time (the
 * path taken where the kernel refuses batches). The maps must hold
 * exactly the table, entry by entry, each entry in the map
 * rules_entry_exact() names. Needs root (skipped without).
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
#include "kernel/map_batch.h"
#include "kernel/rules.h"
#include "policy/cidr.h"
#include "policy/policy_cli.h"
#include "policy/ports.h"

#define N_HOSTS4 3000
#define N_HOSTS6 1500

struct tries {
	int fd4, fd6;
	int exact4, exact6, ports;
	struct rules_maps m;
};

/* The maps at the sizes the loader gives them: the table's. */
/*
 * exact_flags: the exact tables' (BPF_F_MMAPABLE as `run` makes them, or
 * 0 for the batches' path).
 */
static int make_tries_flags(struct tries *t, const struct rule_table *rt,
			    __u32 exact_flags)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_NO_PREALLOC);
	LIBBPF_OPTS(bpf_map_create_opts, xopts, .map_flags = exact_flags);
	struct rules_sizes sz;

	rules_sizes(rt, &sz);
	t->fd4 = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "t_cidr4",
				sizeof(struct awf_cidr4_key),
				sizeof(struct awf_rule), sz.trie4 + 1, &opts);
	t->fd6 = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "t_cidr6",
				sizeof(struct awf_cidr6_key),
				sizeof(struct awf_rule), sz.trie6 + 1, &opts);
	t->exact4 = bpf_map_create(
		BPF_MAP_TYPE_ARRAY, "t_exact4", sizeof(uint32_t),
		sizeof(struct awf_exact4_slot), sz.exact4 + 1, &xopts);
	t->exact6 = bpf_map_create(
		BPF_MAP_TYPE_ARRAY, "t_exact6", sizeof(uint32_t),
		sizeof(struct awf_exact6_slot), sz.exact6 + 1, &xopts);
	t->ports =
		bpf_map_create(BPF_MAP_TYPE_ARRAY, "t_ports", sizeof(uint32_t),
			       sizeof(struct awf_port_set), sz.ports + 1, NULL);
	t->m = (struct rules_maps){ .trie4 = t->fd4,
				    .trie6 = t->fd6,
				    .exact4 = t->exact4,
				    .exact6 = t->exact6,
				    .ports = t->ports };
	return t->fd4 >= 0 && t->fd6 >= 0 && t->exact4 >= 0 && t->exact6 >= 0 &&
			       t->ports >= 0 ?
		       0 :
		       -1;
}

static int make_tries(struct tries *t, const struct rule_table *rt)
{
	return make_tries_flags(t, rt, 0);
}

static void close_tries(struct tries *t)
{
	close(t->fd4);
	close(t->fd6);
	close(t->exact4);
	close(t->exact6);
	close(t->ports);
}

/*
 * The exact table's answer for a full-length address, as the programs
 * probe it (run_maps.bpf.h): 0 and *out, or -1 when it is not there.
 */
static int exact_lookup(const struct rule_table *rt, const struct tries *t,
			int family, const uint8_t *addr, struct awf_rule *out)
{
	const struct rules_exact *x =
		family == AF_INET ? &rt->exact4 : &rt->exact6;
	size_t alen = family == AF_INET ? 4 : 16;
	struct awf_exact6_slot s6;
	struct awf_exact4_slot s4;
	uint32_t w[4] = { 0 }, home;

	if (!x->mask)
		return -1;
	memcpy(w, addr, alen);
	home = awf_exact_hash(w, family == AF_INET ? 1 : 4);
	for (uint32_t p = 0; p < AWF_EXACT_PROBES; p++) {
		uint32_t k = (home + p) & x->mask;

		if (family == AF_INET) {
			assert_int_equal(
				bpf_map_lookup_elem(t->exact4, &k, &s4), 0);
			memcpy(s6.addr, s4.addr, 4);
			s6.id = s4.id;
			s6.ports = s4.ports;
			s6.kind = s4.kind;
		} else {
			assert_int_equal(
				bpf_map_lookup_elem(t->exact6, &k, &s6), 0);
		}
		if (!s6.kind)
			return -1;
		if (memcmp(s6.addr, addr, alen))
			continue;
		memset(out, 0, sizeof(*out));
		out->id = s6.id;
		out->kind = s6.kind;
		assert_int_equal(
			bpf_map_lookup_elem(t->ports, &s6.ports, &out->ports),
			0);
		return 0;
	}
	return -1;
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

/* Every entry of the table is in its map with its value. */
static void expect_table(const struct rule_table *rt, const struct tries *t)
{
	for (size_t i = 0; i < rt->n; i++) {
		const struct rule_entry *e = &rt->v[i];
		struct awf_cidr6_key k = { .prefixlen = e->prefixlen };
		struct awf_rule want, got;
		bool v4 = e->family == AF_INET;

		memcpy(k.addr, e->addr, v4 ? 4 : 16);
		rules_value(rt, e, &want);
		if (e->exact)
			assert_int_equal(
				exact_lookup(rt, t, e->family, e->addr, &got),
				0);
		else /* an exact prefix is its own longest match */
			assert_int_equal(
				bpf_map_lookup_elem(v4 ? t->fd4 : t->fd6, &k,
						    &got),
				0);
		assert_memory_equal(&got, &want, sizeof(want));
	}
}

static size_t count_exact(const struct rule_table *rt, int family)
{
	size_t n = 0;

	for (size_t i = 0; i < rt->n; i++)
		n += rt->v[i].family == family && rt->v[i].exact;
	return n;
}

/* Keys in a map: as many as rules_sizes() says. */
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

static void check_write(enum rules_write_mode mode, __u32 exact_flags)
{
	struct policy p;
	struct rule_table rt;
	struct rules_sizes sz;
	struct tries t;
	char err[AWF_ERR_LEN];
	size_t n4 = 0;

	big_policy(&p);
	assert_int_equal(rules_build(&rt, &p, NULL, 0, err, sizeof(err)), 0);
	/* thousands of host addresses: the exact tables take them */
	assert_true(rt.exact4.mask && rt.exact6.mask);
	assert_int_equal(make_tries_flags(&t, &rt, exact_flags), 0);
	assert_int_equal(rules_write_mode(&rt, &t.m, mode, err, sizeof(err)),
			 0);
	expect_table(&rt, &t);
	for (size_t i = 0; i < rt.n; i++)
		n4 += rt.v[i].family == AF_INET;
	rules_sizes(&rt, &sz);
	assert_true(n4 > N_HOSTS4 && rt.n - n4 > N_HOSTS6);
	assert_int_equal(sz.trie4 + count_exact(&rt, AF_INET), n4);
	assert_int_equal(sz.trie6 + count_exact(&rt, AF_INET6), rt.n - n4);
	/* nearly every /32 and /128 of the policy in a table */
	assert_true(count_exact(&rt, AF_INET) > N_HOSTS4 / 2 &&
		    count_exact(&rt, AF_INET6) > N_HOSTS6 / 2);
	assert_true(sz.exact4 >= 2 * count_exact(&rt, AF_INET));
	assert_int_equal(sz.ports, rt.ports.n);
	assert_int_equal(count_keys(t.fd4, sizeof(struct awf_cidr4_key)),
			 sz.trie4);
	assert_int_equal(count_keys(t.fd6, sizeof(struct awf_cidr6_key)),
			 sz.trie6);
	close_tries(&t);
	rules_free(&rt);
	policy_free(&p);
}

/* A few host addresses stay in the tries: the programs skip the maps. */
static void test_small_table_has_no_exact_entries(void **state)
{
	struct policy p;
	struct rule_table rt;
	struct rules_sizes sz;
	struct tries t;
	char err[AWF_ERR_LEN];

	(void)state;
	policy_init(&p);
	add(&p, "198.18.0.10/32:80");
	add(&p, "198.18.0.0/24:443");
	add(&p, "[2001:db8::1/128]:80");
	assert_int_equal(rules_build(&rt, &p, NULL, 0, err, sizeof(err)), 0);
	assert_true(!rt.exact4.mask && !rt.exact6.mask);
	rules_sizes(&rt, &sz);
	assert_int_equal(sz.exact4 + sz.exact6 + sz.ports, 0);
	assert_int_equal(sz.trie4 + sz.trie6, rt.n);
	assert_int_equal(make_tries(&t, &rt), 0);
	assert_int_equal(rules_write(&rt, &t.m, err, sizeof(err)), 0);
	expect_table(&rt, &t);
	assert_int_equal(count_exact(&rt, AF_INET), 0);
	close_tries(&t);
	rules_free(&rt);
	policy_free(&p);
}

/* Exact tables as `run` makes them: their slots written in place. */
static void test_mmap_write_holds_the_table(void **state)
{
	(void)state;
	check_write(RULES_WRITE_BATCH, BPF_F_MMAPABLE);
}

/* Tables that cannot be mapped take batches. */
static void test_batched_write_holds_the_table(void **state)
{
	(void)state;
	check_write(RULES_WRITE_BATCH, 0);
}

static void test_element_write_holds_the_table(void **state)
{
	(void)state;
	check_write(RULES_WRITE_ELEMENT, 0);
}

/* A 28-byte value (the kernel keeps it in 32): even slots only. */
struct fill_value {
	uint32_t w[7];
};

static void fill_even(uint32_t k, void *value, void *arg)
{
	struct fill_value v;

	(void)arg;
	if (k % 2)
		return;
	for (int i = 0; i < 7; i++)
		v.w[i] = k * 7 + (uint32_t)i + 1;
	memcpy(value, &v, sizeof(v));
}

/*
 * map_array_fill() over several windows (of 1 MiB): every slot written
 * where it belongs, the others left zero; a map that cannot be mapped
 * is left to batches (1), untouched.
 */
static void test_fill_array_writes_every_window(void **state)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_MMAPABLE);
	const uint32_t n = 3 * 32768 + 1000; /* 32-byte slots: 4 windows */
	struct fill_value *got = calloc(n, sizeof(*got));
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "t_fill", sizeof(uint32_t),
				sizeof(struct fill_value), n, &opts);
	int plain =
		bpf_map_create(BPF_MAP_TYPE_ARRAY, "t_plain", sizeof(uint32_t),
			       sizeof(struct fill_value), 16, NULL);
	struct fill_value zero = { 0 }, one;

	(void)state;
	assert_non_null(got);
	assert_true(fd >= 0 && plain >= 0);
	assert_int_equal(map_array_fill(fd, sizeof(struct fill_value), n,
					fill_even, NULL),
			 0);
	assert_int_equal(map_read_array(fd, sizeof(*got), n, got), 0);
	for (uint32_t k = 0; k < n; k++) {
		struct fill_value want = zero;

		fill_even(k, &want, NULL);
		assert_memory_equal(&got[k], &want, sizeof(want));
	}
	assert_int_equal(map_array_fill(plain, sizeof(struct fill_value), 16,
					fill_even, NULL),
			 1);
	for (uint32_t k = 0; k < 16; k++) {
		assert_int_equal(bpf_map_lookup_elem(plain, &k, &one), 0);
		assert_memory_equal(&one, &zero, sizeof(zero));
	}
	close(plain);
	close(fd);
	free(got);
}

/* map_read_array() over more slots than one batch call returns. */
static void test_read_array_reads_every_slot(void **state)
{
	const uint32_t n = 3 * 4096 + 17;
	uint64_t *got = calloc(n + 1, sizeof(*got));
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "t_read", sizeof(uint32_t),
				sizeof(uint64_t), n, NULL);

	(void)state;
	assert_non_null(got);
	assert_true(fd >= 0);
	for (uint32_t k = 0; k < n; k++) {
		uint64_t v = (uint64_t)k * 2654435761u + 1;

		assert_int_equal(bpf_map_update_elem(fd, &k, &v, BPF_ANY), 0);
	}
	assert_int_equal(map_read_array(fd, sizeof(uint64_t), n, got), 0);
	for (uint32_t k = 0; k < n; k++)
		assert_true(got[k] == (uint64_t)k * 2654435761u + 1);
	/* fewer slots: those; more than the map has: an error, not short */
	assert_int_equal(map_read_array(fd, sizeof(uint64_t), n - 1, got), 0);
	assert_int_equal(map_read_array(fd, sizeof(uint64_t), n + 1, got), -1);
	assert_int_equal(map_read_array(-1, sizeof(uint64_t), 1, got), -1);
	close(fd);
	free(got);
}

/*
 * A trie one entry short: the error names the family and counts what
 * goes into that trie, not the exact tables' entries or the other family.
 */
static void test_full_trie_names_the_entry(void **state)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_NO_PREALLOC);
	char err[AWF_ERR_LEN], want[AWF_ERR_LEN];
	struct rules_sizes sz;
	struct rule_table rt;
	struct policy p;
	struct tries t;

	(void)state;
	big_policy(&p);
	assert_int_equal(rules_build(&rt, &p, NULL, 0, err, sizeof(err)), 0);
	assert_int_equal(make_tries(&t, &rt), 0);
	rules_sizes(&rt, &sz);
	assert_true(sz.trie4 > 2 && sz.trie4 < rt.n);
	close(t.fd4);
	t.fd4 = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "t_cidr4",
			       sizeof(struct awf_cidr4_key),
			       sizeof(struct awf_rule), sz.trie4 - 1, &opts);
	assert_true(t.fd4 >= 0);
	t.m.trie4 = t.fd4;
	assert_int_equal(rules_write_mode(&rt, &t.m, RULES_WRITE_ELEMENT, err,
					  sizeof(err)),
			 -1);
	snprintf(want, sizeof(want), "writing IPv4 CIDR rule %zu of %zu: %s",
		 (size_t)sz.trie4, (size_t)sz.trie4, strerror(ENOSPC));
	assert_string_equal(err, want);
	close_tries(&t);
	rules_free(&rt);
	policy_free(&p);
}

/*
 * Folded ports as the programs answer an address (lookup_cidr()): its
 * exact map's entry, else the trie's longest match.
 */
static void expect_lookup(const struct rule_table *rt, const struct tries *t,
			  int family, const char *addr, uint32_t kind, int port,
			  bool allowed)
{
	struct awf_cidr6_key k = { .prefixlen = family == AF_INET ? 32 : 128 };
	bool v4 = family == AF_INET;
	struct awf_rule got;

	assert_int_equal(inet_pton(family, addr, k.addr), 1);
	if (exact_lookup(rt, t, family, k.addr, &got))
		assert_int_equal(
			bpf_map_lookup_elem(v4 ? t->fd4 : t->fd6, &k, &got), 0);
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
	assert_int_equal(make_tries(&t, &rt), 0);
	assert_int_equal(rules_write(&rt, &t.m, err, sizeof(err)), 0);
	/* inside 198.18.4.0/22: its 8080, the /15's 443, the /0's 25 */
	expect_lookup(&rt, &t, AF_INET, "198.18.5.250", AWF_RULE_ALLOW, 8080,
		      true);
	expect_lookup(&rt, &t, AF_INET, "198.18.5.250", AWF_RULE_ALLOW, 443,
		      true);
	expect_lookup(&rt, &t, AF_INET, "198.18.5.250", AWF_RULE_ALLOW, 25,
		      true);
	expect_lookup(&rt, &t, AF_INET, "198.18.5.250", AWF_RULE_ALLOW, 80,
		      false);
	/* the reserved range shadows the /0; the named part of it does not */
	expect_lookup(&rt, &t, AF_INET, "169.254.1.1", AWF_RULE_RESERVED, 25,
		      false);
	expect_lookup(&rt, &t, AF_INET, "169.254.169.254", AWF_RULE_ALLOW, 80,
		      true);
	expect_lookup(&rt, &t, AF_INET, "169.254.169.254", AWF_RULE_ALLOW, 25,
		      false);
	/* v4-mapped: stored as IPv4 */
	expect_lookup(&rt, &t, AF_INET, "198.19.1.7", AWF_RULE_ALLOW, 53, true);
	expect_lookup(&rt, &t, AF_INET6, "2001:db8:0:1::ffff", AWF_RULE_ALLOW,
		      8443, true);
	expect_lookup(&rt, &t, AF_INET6, "2001:db8:0:1::ffff", AWF_RULE_ALLOW,
		      443, true);
	close_tries(&t);
	rules_free(&rt);
	policy_free(&p);
}

int main(void)
{
	char why[256];
	struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mmap_write_holds_the_table),
		cmocka_unit_test(test_batched_write_holds_the_table),
		cmocka_unit_test(test_element_write_holds_the_table),
		cmocka_unit_test(test_lookups_see_folded_ports),
		cmocka_unit_test(test_full_trie_names_the_entry),
		cmocka_unit_test(test_read_array_reads_every_slot),
		cmocka_unit_test(test_fill_array_writes_every_window),
		cmocka_unit_test(test_small_table_has_no_exact_entries),
	};

	if (!bpf_privileged(why, sizeof(why)))
		skip_all(tests, sizeof(tests) / sizeof(tests[0]), why);
	return cmocka_run_group_tests_name("rules_write", tests, NULL, NULL);
}
