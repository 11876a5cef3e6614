// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * learned.c against real BPF hash maps of the layout the programs use:
 * expiry from TTL and min_ttl, the per-name cap with the oldest evicted,
 * and addresses shared by two names. Needs root (skipped without).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include <bpf/bpf.h>

#include "bpf_privilege.h"
#include "dns/learned.h"
#include "policy/policy.h"
#include "policy/ports.h"

#define NS_PER_S 1000000000ULL

struct fixture {
	int map4;
	int map6;
	struct learned_store *store;
	struct awf_port_set https;
	struct awf_port_set ssh;
};

static int make_map(unsigned int key_size)
{
	return bpf_map_create(BPF_MAP_TYPE_HASH, "awf_test", key_size,
			      sizeof(struct awf_learned), 64, NULL);
}

static int setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	f.map4 = make_map(4);
	f.map6 = make_map(16);
	if (f.map4 < 0 || f.map6 < 0)
		return -1;
	/* min_ttl 60, at most 2 addresses per name */
	f.store = learned_store_new(f.map4, f.map6, 60, 2);
	port_set_add(&f.https, 443, 443);
	port_set_add(&f.ssh, 22, 22);
	*state = &f;
	return f.store ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	learned_store_free(f->store);
	close(f->map4);
	close(f->map6);
	return 0;
}

static void add4(struct fixture *f, const char *name, const char *addr,
		 const struct awf_port_set *ports, uint32_t ttl)
{
	uint8_t a[4];

	inet_pton(AF_INET, addr, a);
	assert_int_equal(
		learned_store_add(f->store, name,
				  &(struct learned_rule){ 1, ports, 0 },
				  AF_INET, a, ttl),
		0);
}

static int get4(struct fixture *f, const char *addr, struct awf_learned *out)
{
	uint8_t a[4];

	inet_pton(AF_INET, addr, a);
	return bpf_map_lookup_elem(f->map4, a, out);
}

static void test_min_ttl_raises_short_ttls(void **state)
{
	struct fixture *f = *state;
	struct awf_learned v;
	uint64_t now = learned_now_ns();

	add4(f, "a.test", "198.18.0.10", &f->https, 2);
	assert_int_equal(get4(f, "198.18.0.10", &v), 0);
	assert_true(v.expires_ns >= now + 59 * NS_PER_S);
	assert_true(v.expires_ns <= now + 61 * NS_PER_S);
	assert_string_equal(learned_store_name(f->store, v.name_id), "a.test");
	assert_true(port_set_contains(&v.ports, 443));
}

static void test_long_ttl_is_kept(void **state)
{
	struct fixture *f = *state;
	struct awf_learned v;
	uint64_t now = learned_now_ns();

	add4(f, "a.test", "198.18.0.10", &f->https, 3600);
	assert_int_equal(get4(f, "198.18.0.10", &v), 0);
	assert_true(v.expires_ns >= now + 3599 * NS_PER_S);
}

static void test_oldest_address_is_evicted(void **state)
{
	struct fixture *f = *state;
	struct awf_learned v;

	add4(f, "a.test", "198.18.0.10", &f->https, 60);
	add4(f, "a.test", "198.18.0.11", &f->https, 60);
	add4(f, "a.test", "198.18.0.12", &f->https, 60);
	assert_int_equal(get4(f, "198.18.0.10", &v), -ENOENT); /* evicted */
	assert_int_equal(get4(f, "198.18.0.11", &v), 0);
	assert_int_equal(get4(f, "198.18.0.12", &v), 0);
}

static void test_refresh_does_not_evict(void **state)
{
	struct fixture *f = *state;
	struct awf_learned v;

	add4(f, "a.test", "198.18.0.10", &f->https, 60);
	add4(f, "a.test", "198.18.0.11", &f->https, 60);
	add4(f, "a.test", "198.18.0.10", &f->https, 60); /* seen again */
	assert_int_equal(get4(f, "198.18.0.10", &v), 0);
	assert_int_equal(get4(f, "198.18.0.11", &v), 0);
}

static void test_shared_address_keeps_both_names_ports(void **state)
{
	struct fixture *f = *state;
	struct awf_learned v;

	add4(f, "a.test", "198.18.0.10", &f->https, 60);
	add4(f, "b.test", "198.18.0.10", &f->ssh, 60);
	assert_int_equal(get4(f, "198.18.0.10", &v), 0);
	assert_true(port_set_contains(&v.ports, 443));
	assert_true(port_set_contains(&v.ports, 22));
}

static void test_eviction_spares_address_owned_by_another_name(void **state)
{
	struct fixture *f = *state;
	struct awf_learned v;

	add4(f, "a.test", "198.18.0.10", &f->https, 60);
	add4(f, "b.test", "198.18.0.10", &f->https, 60); /* b owns it now */
	add4(f, "a.test", "198.18.0.11", &f->https, 60);
	add4(f, "a.test", "198.18.0.12", &f->https, 60); /* a evicts .10 */
	assert_int_equal(get4(f, "198.18.0.10", &v), 0);
	assert_string_equal(learned_store_name(f->store, v.name_id), "b.test");
}

static void test_ipv6_goes_to_its_map(void **state)
{
	struct fixture *f = *state;
	struct awf_learned v;
	uint8_t a[16];

	inet_pton(AF_INET6, "fd42:a0f0::10", a);
	assert_int_equal(
		learned_store_add(f->store, "a.test",
				  &(struct learned_rule){ 1, &f->https, 0 },
				  AF_INET6, a, 60),
		0);
	assert_int_equal(bpf_map_lookup_elem(f->map6, a, &v), 0);
	assert_int_equal(bpf_map_lookup_elem(f->map4, a, &v), -ENOENT);
}

static void test_map_failure_is_reported(void **state)
{
	struct fixture *f = *state;
	uint8_t a[4] = { 198, 18, 0, 10 };
	struct learned_store *broken = learned_store_new(-1, -1, 60, 2);

	(void)f;
	/* The caller answers SERVFAIL on -1: nothing half-learned reaches it. */
	assert_int_equal(
		learned_store_add(broken, "a.test",
				  &(struct learned_rule){ 1, &f->https, 0 },
				  AF_INET, a, 60),
		-1);
	learned_store_free(broken);
}

/* Held writes reach the map only at commit, the latest per address. */
static void test_held_writes_at_commit(void **state)
{
	struct fixture *f = *state;
	struct awf_learned v;

	learned_store_hold(f->store);
	add4(f, "a.test", "198.18.0.10", &f->https, 60);
	add4(f, "b.test", "198.18.0.10", &f->ssh, 60);
	add4(f, "b.test", "198.18.0.20", &f->ssh, 60);
	assert_int_equal(get4(f, "198.18.0.10", &v), -ENOENT);
	assert_int_equal(learned_store_commit(f->store), 0);
	assert_int_equal(get4(f, "198.18.0.10", &v), 0);
	assert_true(port_set_contains(&v.ports, 443));
	assert_true(port_set_contains(&v.ports, 22));
	assert_int_equal(get4(f, "198.18.0.20", &v), 0);
	/* Not holding any more: written at once. */
	add4(f, "c.test", "198.18.0.30", &f->https, 60);
	assert_int_equal(get4(f, "198.18.0.30", &v), 0);
}

/* An address evicted within a batch does not come back at commit. */
static void test_held_eviction(void **state)
{
	struct fixture *f = *state;
	struct awf_learned v;

	learned_store_hold(f->store);
	add4(f, "a.test", "198.18.0.10", &f->https, 60);
	add4(f, "a.test", "198.18.0.11", &f->https, 60);
	add4(f, "a.test", "198.18.0.12", &f->https, 60);
	assert_int_equal(learned_store_commit(f->store), 0);
	assert_int_equal(get4(f, "198.18.0.10", &v), -ENOENT);
	assert_int_equal(get4(f, "198.18.0.11", &v), 0);
	assert_int_equal(get4(f, "198.18.0.12", &v), 0);
}

/* More held writes than one batch holds, into a map that fills up. */
static void test_held_failure_is_reported(void **state)
{
	struct fixture *f = *state;
	struct learned_store *big =
		learned_store_new(f->map4, f->map6, 60, 4096);
	char addr[32];
	uint8_t a[4];

	learned_store_hold(big);
	for (int i = 0; i < 200; i++) {
		snprintf(addr, sizeof(addr), "198.18.%d.%d", i / 250, i % 250);
		inet_pton(AF_INET, addr, a);
		assert_int_equal(learned_store_add(big, "many.test",
						   &(struct learned_rule){
							   1, &f->https, 0 },
						   AF_INET, a, 60),
				 0);
	}
	/* The map takes 64: the caller must refuse the batch's answers. */
	assert_int_equal(learned_store_commit(big), -1);
	learned_store_free(big);
}

/*
 * Agent: keys carry the learned set; a new store for the same set (the
 * next agent) takes the names back, so ids keep meaning the same names.
 */
static void test_set_keys_and_names_survive_a_new_store(void **state)
{
	struct fixture *f = *state;
	const uint8_t a1[4] = { 192, 0, 2, 1 }, a2[4] = { 192, 0, 2, 2 };
	struct awf_set_ip4_key k = { .set = 7 };
	struct awf_learned val;
	struct learned_store *s1, *s2;
	int m4, m6, names;

	(void)f;
	m4 = bpf_map_create(BPF_MAP_TYPE_HASH, "awf_test", sizeof(k),
			    sizeof(struct awf_learned), 64, NULL);
	m6 = bpf_map_create(BPF_MAP_TYPE_HASH, "awf_test",
			    sizeof(struct awf_set_ip6_key),
			    sizeof(struct awf_learned), 64, NULL);
	names = bpf_map_create(BPF_MAP_TYPE_HASH, "awf_test",
			       sizeof(struct awf_set_name_key),
			       sizeof(struct awf_name), 64, NULL);
	assert_true(m4 >= 0 && m6 >= 0 && names >= 0);
	s1 = learned_store_new(m4, m6, 60, 2);
	learned_store_use_set(s1, 7);
	learned_store_use_names_map(s1, names);
	/* The agent skips purging a set whose store was never used. */
	assert_false(learned_store_used(s1));
	assert_int_equal(
		learned_store_add(s1, "one.test",
				  &(struct learned_rule){ 1, &f->https, 0 },
				  AF_INET, a1, 60),
		0);
	assert_int_equal(
		learned_store_add(s1, "two.test",
				  &(struct learned_rule){ 1, &f->https, 0 },
				  AF_INET, a2, 60),
		0);
	assert_true(learned_store_used(s1));
	memcpy(k.addr, a2, 4);
	assert_int_equal(bpf_map_lookup_elem(m4, &k, &val), 0);
	assert_int_equal(val.name_id, 2);
	learned_store_free(s1);

	s2 = learned_store_new(m4, m6, 60, 2);
	learned_store_use_set(s2, 7);
	learned_store_use_names_map(s2, names);
	assert_false(learned_store_used(s2));
	assert_int_equal(learned_store_load_names(s2), 2);
	/* An adopted set holds a previous agent's entries: it is used. */
	assert_true(learned_store_used(s2));
	assert_string_equal(learned_store_name(s2, 2), "two.test");
	/* A known name keeps its id; a new one gets the next. */
	assert_int_equal(
		learned_store_add(s2, "two.test",
				  &(struct learned_rule){ 1, &f->https, 0 },
				  AF_INET, a2, 60),
		0);
	assert_int_equal(bpf_map_lookup_elem(m4, &k, &val), 0);
	assert_int_equal(val.name_id, 2);
	assert_int_equal(
		learned_store_add(s2, "three.test",
				  &(struct learned_rule){ 1, &f->https, 0 },
				  AF_INET, a1, 60),
		0);
	memcpy(k.addr, a1, 4);
	assert_int_equal(bpf_map_lookup_elem(m4, &k, &val), 0);
	assert_int_equal(val.name_id, 3);
	/* Another set's names are not ours. */
	struct learned_store *other = learned_store_new(m4, m6, 60, 2);

	learned_store_use_set(other, 8);
	learned_store_use_names_map(other, names);
	assert_int_equal(learned_store_load_names(other), 0);
	learned_store_free(other);
	learned_store_free(s2);
	close(m4);
	close(m6);
	close(names);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	char why[256];
	struct CMUnitTest tests[] = {
		T(test_min_ttl_raises_short_ttls),
		T(test_long_ttl_is_kept),
		T(test_oldest_address_is_evicted),
		T(test_refresh_does_not_evict),
		T(test_shared_address_keeps_both_names_ports),
		T(test_eviction_spares_address_owned_by_another_name),
		T(test_ipv6_goes_to_its_map),
		T(test_held_writes_at_commit),
		T(test_held_eviction),
		T(test_held_failure_is_reported),
		T(test_map_failure_is_reported),
		T(test_set_keys_and_names_survive_a_new_store),
	};

	if (!bpf_privileged(why, sizeof(why)))
		skip_all(tests, sizeof(tests) / sizeof(tests[0]), why);
	return cmocka_run_group_tests_name("learned", tests, NULL, NULL);
}
