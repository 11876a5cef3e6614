// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The packet backstop (cgroup_skb/egress) run by the real kernel on crafted
 * packets with BPF_PROG_TEST_RUN, in the way of tools/testing/selftests/bpf:
 * nothing a socket hook would stop first gets in the way, so every branch
 * of the packet parser and of the policy is reachable. Needs root (skipped
 * without).
 */
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <netinet/in.h>
#include <sched.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf_privilege.h"
#include "common/error.h"
#include "kernel/loader.h"
#include "policy/cidr.h"
#include "policy/policy_cli.h"
#include "policy/ports.h"

#define ALLOWED4 "198.18.0.10"
#define DENIED4 "198.18.0.20"
#define ALLOWED6 "fd42:a0f0::10"
#define PROXY4 "198.18.0.3"
#define PROXY6 "fd42:a0f0::3"

struct pkt4 {
	struct ethhdr eth;
	struct iphdr ip;
	union {
		struct tcphdr tcp;
		struct udphdr udp;
	};
} __attribute__((packed));

struct pkt6 {
	struct ethhdr eth;
	struct ipv6hdr ip;
	union {
		struct tcphdr tcp;
		struct udphdr udp;
		uint8_t ext[8];
	};
} __attribute__((packed));

static struct loader loader;

/* The host's addresses: the sources of the crafted packets. */
#define HOST4 "198.18.0.1"
#define HOST6 "fd42:a0f0::1"

static struct policy_cidr host[2];

static int parse_host_addrs(char *err, size_t errlen)
{
	return cidr_parse(&host[0], HOST4, err, errlen) ||
	       cidr_parse(&host[1], HOST6, err, errlen);
}

/*
 * Host entries enough for the exact tables (kernel/rules.h), in ranges no
 * packet here goes to: the loopback-source tests then take the packet
 * paths' call for the table (cidr_kind()).
 */
#define BULK_HOSTS 2000

static int add_bulk_hosts(struct policy *p, char *err, size_t errlen)
{
	char a[64];

	for (unsigned int i = 0; i < BULK_HOSTS; i++) {
		snprintf(a, sizeof(a), "240.0.%u.%u/32", i >> 8, i & 0xff);
		if (policy_add_cidr_arg(p, a, "t", err, errlen))
			return -1;
		snprintf(a, sizeof(a), "[2001:db8:ffff::%x/128]", i + 1);
		if (policy_add_cidr_arg(p, a, "t", err, errlen))
			return -1;
	}
	return 0;
}

/* What a group's policy has besides this host's addresses. */
enum policy_shape {
	WITH_BULK = 1,	   /* BULK_HOSTS more /32s and /128s: exact tables */
	WITHOUT_NAMES = 2, /* no domains */
	WITHOUT_CIDRS = 4, /* no allow_cidrs */
};

/*
 * The rules as `run` builds them: this host's addresses are LOCAL rules.
 * The policy names domains and lists ALLOWED4 and ALLOWED6, as every
 * group's but two does.
 */
static int load(int proxy_family, unsigned int shape)
{
	bool bulk = shape & WITH_BULK, names = !(shape & WITHOUT_NAMES);
	bool cidrs = !(shape & WITHOUT_CIDRS);
	struct awf_config cfg = { .ipv6_enabled = 1, .dns_port = 5353 };
	struct policy p;
	struct rule_table rules;
	char err[AWF_ERR_LEN];

	cfg.dns_ip4 = htonl(INADDR_LOOPBACK);
	if (proxy_family) {
		cfg.proxy_enabled = 1;
		cfg.proxy_family = (__u8)proxy_family;
		cfg.proxy_port = 3128;
		inet_pton(proxy_family,
			  proxy_family == AF_INET ? PROXY4 : PROXY6,
			  cfg.proxy_addr);
	}
	policy_init(&p);
	if ((cidrs && (policy_add_cidr_arg(&p, ALLOWED4 "/32:80", "t", err,
					   sizeof(err)) ||
		       policy_add_cidr_arg(&p, "[" ALLOWED6 "/128]:443", "t",
					   err, sizeof(err)))) ||
	    (bulk && add_bulk_hosts(&p, err, sizeof(err))) ||
	    parse_host_addrs(err, sizeof(err)) ||
	    rules_build(&rules, &p, host, 2, err, sizeof(err)) ||
	    loader_load(&loader, &cfg, &rules, host, 2, names, names, err,
			sizeof(err)) ||
	    loader_fill_rules(&loader, &rules, err, sizeof(err)) ||
	    loader_fill_host_addrs(&loader, host, 2, err, sizeof(err))) {
		fprintf(stderr, "setup: %s\n", err);
		return -1;
	}
	/* the bulk group tests the exact tables: it must have them */
	if (bulk != (rules.exact4.mask && rules.exact6.mask)) {
		fprintf(stderr, "setup: exact tables %s\n",
			bulk ? "missing" : "unexpected");
		return -1;
	}
	rules_free(&rules);
	policy_free(&p);
	return 0;
}

static int setup_group(void **state)
{
	(void)state;
	return load(0, 0);
}

static int setup_proxy_group(void **state)
{
	(void)state;
	return load(AF_INET, 0);
}

static int setup_proxy6_group(void **state)
{
	(void)state;
	return load(AF_INET6, 0);
}

static int setup_exact_group(void **state)
{
	(void)state;
	return load(0, WITH_BULK);
}

static int setup_no_domains_group(void **state)
{
	(void)state;
	return load(0, WITHOUT_NAMES);
}

static int setup_no_cidrs_group(void **state)
{
	(void)state;
	return load(0, WITHOUT_CIDRS);
}

static int teardown_group(void **state)
{
	(void)state;
	loader_close(&loader);
	return 0;
}

static int run_egress(void *pkt, size_t len)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt,
		    .data_size_in = (uint32_t)len, .repeat = 1);
	int err = bpf_prog_test_run_opts(loader_prog_fd(&loader, "awf_egress"),
					 &opts);

	assert_int_equal(err, 0);
	return (int)opts.retval;
}

static size_t make4(struct pkt4 *p, const char *dst, uint8_t proto,
		    uint16_t dport)
{
	memset(p, 0, sizeof(*p));
	p->eth.h_proto = htons(ETH_P_IP);
	p->ip.version = 4;
	p->ip.ihl = 5;
	p->ip.ttl = 64;
	p->ip.protocol = proto;
	p->ip.tot_len = htons(sizeof(*p) - sizeof(p->eth));
	inet_pton(AF_INET, HOST4, &p->ip.saddr);
	inet_pton(AF_INET, dst, &p->ip.daddr);
	if (proto == IPPROTO_TCP) {
		p->tcp.dest = htons(dport);
		p->tcp.source = htons(40000);
		p->tcp.doff = 5;
	} else {
		p->udp.dest = htons(dport);
		p->udp.source = htons(40000);
	}
	return sizeof(*p);
}

static size_t make6(struct pkt6 *p, const char *dst, uint8_t nexthdr,
		    uint16_t dport)
{
	memset(p, 0, sizeof(*p));
	p->eth.h_proto = htons(ETH_P_IPV6);
	p->ip.version = 6;
	p->ip.nexthdr = nexthdr;
	p->ip.hop_limit = 64;
	p->ip.payload_len = htons(sizeof(p->tcp));
	inet_pton(AF_INET6, HOST6, &p->ip.saddr);
	inet_pton(AF_INET6, dst, &p->ip.daddr);
	p->tcp.dest = htons(dport);
	p->tcp.source = htons(40000);
	p->tcp.doff = 5;
	return sizeof(*p);
}

/* make4()'s packet, but from src: the backstop's verdict (1: it leaves). */
static int egress4_from(const char *src, const char *dst, uint8_t proto,
			uint16_t dport)
{
	struct pkt4 p;
	size_t len = make4(&p, dst, proto, dport);

	inet_pton(AF_INET, src, &p.ip.saddr);
	return run_egress(&p, len);
}

/* make6()'s packet, but from src, as egress4_from(). */
static int egress6_from(const char *src, const char *dst, uint8_t nexthdr,
			uint16_t dport)
{
	struct pkt6 p;
	size_t len = make6(&p, dst, nexthdr, dport);

	inet_pton(AF_INET6, src, &p.ip.saddr);
	return run_egress(&p, len);
}

static uint64_t counter(enum awf_counter idx)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t vals[ncpu > 0 ? ncpu : 1], sum = 0;
	uint32_t key = idx;

	assert_int_equal(bpf_map_lookup_elem(loader_map_fd(&loader, "counters"),
					     &key, vals),
			 0);
	for (int i = 0; i < ncpu; i++)
		sum += vals[i];
	return sum;
}

static void test_allowed_cidr_port_passes(void **state)
{
	struct pkt4 p;

	(void)state;
	assert_int_equal(run_egress(&p, make4(&p, ALLOWED4, IPPROTO_TCP, 80)),
			 1);
}

static void test_other_port_is_dropped(void **state)
{
	struct pkt4 p;
	uint64_t before = counter(AWF_C_PACKETS_DROPPED);

	(void)state;
	assert_int_equal(run_egress(&p, make4(&p, ALLOWED4, IPPROTO_TCP, 22)),
			 0);
	assert_int_equal(counter(AWF_C_PACKETS_DROPPED), before + 1);
}

static void test_other_host_is_dropped(void **state)
{
	struct pkt4 p;

	(void)state;
	assert_int_equal(run_egress(&p, make4(&p, DENIED4, IPPROTO_TCP, 80)),
			 0);
	assert_int_equal(run_egress(&p, make4(&p, DENIED4, IPPROTO_UDP, 53)),
			 0);
}

static void test_icmp_is_dropped(void **state)
{
	struct pkt4 p;

	(void)state;
	assert_int_equal(run_egress(&p, make4(&p, ALLOWED4, IPPROTO_ICMP, 0)),
			 0);
}

static void test_fragment_is_dropped(void **state)
{
	struct pkt4 p;
	size_t len = make4(&p, ALLOWED4, IPPROTO_TCP, 80);

	(void)state;
	p.ip.frag_off = htons(0x2000); /* more fragments */
	assert_int_equal(run_egress(&p, len), 0);
	p.ip.frag_off = htons(8); /* later fragment, no ports in it */
	assert_int_equal(run_egress(&p, len), 0);
}

static void test_loopback_passes(void **state)
{
	struct pkt4 p;
	struct pkt6 p6;

	(void)state;
	assert_int_equal(
		run_egress(&p, make4(&p, "127.0.0.1", IPPROTO_TCP, 5353)), 1);
	assert_int_equal(run_egress(&p6, make6(&p6, "::1", IPPROTO_TCP, 9)), 1);
}

static void test_ipv6_allowed_and_denied(void **state)
{
	struct pkt6 p;

	(void)state;
	assert_int_equal(run_egress(&p, make6(&p, ALLOWED6, IPPROTO_TCP, 443)),
			 1);
	assert_int_equal(run_egress(&p, make6(&p, ALLOWED6, IPPROTO_TCP, 80)),
			 0);
	assert_int_equal(
		run_egress(&p, make6(&p, "fd42:a0f0::20", IPPROTO_TCP, 443)),
		0);
}

static void test_ipv6_extension_header_is_dropped(void **state)
{
	struct pkt6 p;

	(void)state;
	/* Hop-by-hop options in front of TCP: not what a TCP socket sends. */
	assert_int_equal(run_egress(&p, make6(&p, ALLOWED6, 0, 443)), 0);
}

static void test_reserved_range_is_dropped(void **state)
{
	struct pkt4 p;

	(void)state;
	assert_int_equal(
		run_egress(&p, make4(&p, "169.254.169.254", IPPROTO_TCP, 80)),
		0);
}

static void put_learned(const char *addr, uint64_t expires_ns, uint16_t port)
{
	struct awf_learned val = { .expires_ns = expires_ns, .name_id = 7 };
	uint32_t key;

	inet_pton(AF_INET, addr, &key);
	port_set_add(&val.ports, port, port);
	assert_int_equal(bpf_map_update_elem(loader_map_fd(&loader, "learned4"),
					     &key, &val, BPF_ANY),
			 0);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* addr learned for port, for another minute. */
static void learn_for_a_minute(const char *addr, uint16_t port)
{
	put_learned(addr, mono_ns() + 60ULL * 1000000000ULL, port);
}

/* The backstop's verdict on a TCP packet to addr, port (1: it leaves). */
static int tcp4_to(const char *addr, uint16_t port)
{
	struct pkt4 p;

	return run_egress(&p, make4(&p, addr, IPPROTO_TCP, port));
}

static void test_learned_address_until_expiry(void **state)
{
	(void)state;
	learn_for_a_minute("198.18.0.30", 443);
	assert_int_equal(tcp4_to("198.18.0.30", 443), 1);
	assert_int_equal(tcp4_to("198.18.0.30", 80), 0);
	put_learned("198.18.0.31", mono_ns() - 1, 443);
	assert_int_equal(tcp4_to("198.18.0.31", 443), 0);
}

/*
 * A policy without domains learns nothing, and its programs were loaded
 * knowing it (.rodata learns): an address in the learned map all the
 * same allows nothing.
 */
static void test_learned_address_ignored_without_domains(void **state)
{
	(void)state;
	learn_for_a_minute("198.18.0.33", 443);
	assert_int_equal(tcp4_to("198.18.0.33", 443), 0);
}

/*
 * A policy without allow_cidrs has no rule that allows, and its programs
 * were loaded knowing it (.rodata allows_cidrs): the reserved range
 * rewritten into an allow rule all the same allows nothing (the trie is
 * sized to the policy: no room for another), and the loader refuses to
 * write a table that has one.
 */
static void test_allow_rule_ignored_without_cidrs(void **state)
{
	struct awf_cidr4_key key = { .prefixlen = 16 };
	struct awf_rule rule = { .id = 1, .kind = AWF_RULE_ALLOW };
	struct rule_table rules;
	struct policy p;
	char err[AWF_ERR_LEN];

	(void)state;
	inet_pton(AF_INET, "169.254.0.0", key.addr);
	port_set_add(&rule.ports, 80, 80);
	assert_int_equal(bpf_map_update_elem(loader_map_fd(&loader, "cidr4"),
					     &key, &rule, BPF_EXIST),
			 0);
	assert_int_equal(tcp4_to("169.254.0.80", 80), 0);

	policy_init(&p);
	assert_int_equal(policy_add_cidr_arg(&p, ALLOWED4 "/32:80", "t", err,
					     sizeof(err)),
			 0);
	assert_int_equal(rules_build(&rules, &p, host, 2, err, sizeof(err)), 0);
	assert_int_not_equal(
		loader_fill_rules(&loader, &rules, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "loaded for another table"));
	rules_free(&rules);
	policy_free(&p);
}

/*
 * The backstop's memo (dst_memo, a slot per CPU) stands for the one destination
 * it last allowed by CIDR: never for another port or host, never for a
 * learned address, whose expiry the next packet must see. Pinned to one
 * CPU, so that every packet meets the memo the one before it left.
 */
static void test_memo_is_one_destination_and_never_a_learned_one(void **state)
{
	uint32_t learned = 0;
	cpu_set_t was, one;
	struct pkt4 p;

	(void)state;
	assert_int_equal(sched_getaffinity(0, sizeof(was), &was), 0);
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
	assert_int_equal(run_egress(&p, make4(&p, ALLOWED4, IPPROTO_TCP, 80)),
			 1);
	assert_int_equal(run_egress(&p, make4(&p, ALLOWED4, IPPROTO_TCP, 81)),
			 0);
	assert_int_equal(run_egress(&p, make4(&p, ALLOWED4, IPPROTO_TCP, 80)),
			 1);
	assert_int_equal(run_egress(&p, make4(&p, DENIED4, IPPROTO_TCP, 80)),
			 0);
	learn_for_a_minute("198.18.0.32", 443);
	assert_int_equal(tcp4_to("198.18.0.32", 443), 1);
	put_learned("198.18.0.32", mono_ns() - 1, 443);
	assert_int_equal(tcp4_to("198.18.0.32", 443), 0);
	inet_pton(AF_INET, "198.18.0.32", &learned);
	bpf_map_delete_elem(loader_map_fd(&loader, "learned4"), &learned);
	assert_int_equal(sched_setaffinity(0, sizeof(was), &was), 0);
}

/*
 * The memo has a slot for each CPU (the loader sizes it): with fewer, the
 * packets of the CPUs past its end would take the whole decision each.
 */
static void test_memo_has_a_slot_per_cpu(void **state)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	(void)state;
	assert_int_equal(
		bpf_obj_get_info_by_fd(loader_map_fd(&loader, "dst_memo"),
				       &info, &len),
		0);
	assert_int_equal(info.max_entries, libbpf_num_possible_cpus());
}

/* .rodata settings are read by the program, not folded to their zero default. */
static void test_proxy_from_config(void **state)
{
	struct pkt4 p;

	(void)state;
	assert_int_equal(run_egress(&p, make4(&p, PROXY4, IPPROTO_TCP, 3128)),
			 1);
	assert_int_equal(run_egress(&p, make4(&p, PROXY4, IPPROTO_TCP, 80)), 0);
	assert_int_equal(run_egress(&p, make4(&p, PROXY4, IPPROTO_UDP, 3128)),
			 0);
}

/* An IPv6 proxy is its whole address: not one that differs in a word. */
static void test_proxy6_is_its_address_only(void **state)
{
	struct pkt6 p;

	(void)state;
	assert_int_equal(run_egress(&p, make6(&p, PROXY6, IPPROTO_TCP, 3128)),
			 1);
	assert_int_equal(
		run_egress(&p, make6(&p, "fd42:a0f0::4", IPPROTO_TCP, 3128)),
		0);
	assert_int_equal(
		run_egress(&p, make6(&p, "fd42:a0f1::3", IPPROTO_TCP, 3128)),
		0);
}

static void test_learned_denied_in_proxy_mode(void **state)
{
	(void)state;
	learn_for_a_minute("198.18.0.32", 443);
	assert_int_equal(tcp4_to("198.18.0.32", 443), 0);
}

static int count_event(void *ctx, void *data, size_t size)
{
	const struct awf_event *e = data;
	int *backstop_events = ctx;

	if (size >= sizeof(*e) && e->kind == AWF_EV_PACKET &&
	    e->reason == AWF_R_BACKSTOP && e->dport == 8443)
		(*backstop_events)++;
	return 0;
}

/* The events of one run_egress, by reason and source. */
struct src_events {
	int spoofed;
	uint8_t saddr[16];
};

static int spoofed_event(void *ctx, void *data, size_t size)
{
	const struct awf_event *e = data;
	struct src_events *se = ctx;

	if (size >= sizeof(*e) && e->kind == AWF_EV_PACKET &&
	    e->reason == AWF_R_SPOOFED_SOURCE) {
		se->spoofed++;
		memcpy(se->saddr, e->saddr, sizeof(se->saddr));
	}
	return 0;
}

/*
 * A source not of this host: dropped whatever the destination allows, and
 * audited with that source (ICMP errors quoting the packet would go to it).
 */
static void test_spoofed_source_is_dropped(void **state)
{
	struct src_events se = { 0 };
	struct ring_buffer *rb;
	uint8_t want[16] = { 0 };

	(void)state;
	rb = ring_buffer__new(loader_map_fd(&loader, "events"), spoofed_event,
			      &se, NULL);
	assert_non_null(rb);
	ring_buffer__consume(rb);
	memset(&se, 0, sizeof(se));
	assert_int_equal(egress4_from(DENIED4, ALLOWED4, IPPROTO_UDP, 80), 0);
	ring_buffer__consume(rb);
	assert_int_equal(se.spoofed, 1);
	inet_pton(AF_INET, DENIED4, want);
	assert_memory_equal(se.saddr, want, 16);

	assert_int_equal(
		egress6_from("fd42:a0f0::20", ALLOWED6, IPPROTO_UDP, 443), 0);
	ring_buffer__consume(rb);
	assert_int_equal(se.spoofed, 2);
	inet_pton(AF_INET6, "fd42:a0f0::20", want);
	assert_memory_equal(se.saddr, want, 16);
	ring_buffer__free(rb);
}

/* Towards this host itself too: its own errors would carry the data. */
static void test_spoofed_source_to_loopback_is_dropped(void **state)
{
	(void)state;
	assert_int_equal(egress4_from(DENIED4, "127.0.0.1", IPPROTO_UDP, 5353),
			 0);
	assert_int_equal(
		egress6_from("fd42:a0f0::20", "::1", IPPROTO_UDP, 5353), 0);
}

/* Loopback sources stay on loopback; the host's own go anywhere allowed. */
static void test_loopback_source_only_for_loopback(void **state)
{
	(void)state;
	assert_int_equal(
		egress4_from("127.0.0.1", "127.0.0.1", IPPROTO_TCP, 5353), 1);
	assert_int_equal(egress4_from("127.0.0.1", ALLOWED4, IPPROTO_TCP, 80),
			 0);
	assert_int_equal(egress6_from("::1", "::1", IPPROTO_TCP, 9), 1);
	assert_int_equal(egress6_from("::1", ALLOWED6, IPPROTO_TCP, 443), 0);
	assert_int_equal(egress6_from("::", ALLOWED6, IPPROTO_TCP, 443), 0);
	/* a v4-mapped source on an IPv6 packet is no IPv4 source */
	assert_int_equal(
		egress6_from("::ffff:" HOST4, ALLOWED6, IPPROTO_TCP, 443), 0);
}

/* A loopback source to this host's own address (a LOCAL rule) stays here. */
static void test_loopback_source_to_this_host(void **state)
{
	(void)state;
	assert_int_equal(egress4_from("127.0.0.1", HOST4, IPPROTO_UDP, 5353),
			 1);
	assert_int_equal(egress6_from("::1", HOST6, IPPROTO_TCP, 9), 1);
	assert_int_equal(
		egress4_from("127.0.0.1", "240.0.0.1", IPPROTO_UDP, 5353), 0);
}

static void test_drop_emits_event(void **state)
{
	struct ring_buffer *rb;
	int seen = 0;
	struct pkt4 p;

	(void)state;
	rb = ring_buffer__new(loader_map_fd(&loader, "events"), count_event,
			      &seen, NULL);
	assert_non_null(rb);
	ring_buffer__consume(rb); /* earlier tests' events */
	seen = 0;
	assert_int_equal(run_egress(&p, make4(&p, DENIED4, IPPROTO_TCP, 8443)),
			 0);
	ring_buffer__consume(rb);
	assert_int_equal(seen, 1);
	ring_buffer__free(rb);
}

int main(void)
{
	char why[256];
	bool privileged;
	struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allowed_cidr_port_passes),
		cmocka_unit_test(test_other_port_is_dropped),
		cmocka_unit_test(test_other_host_is_dropped),
		cmocka_unit_test(test_icmp_is_dropped),
		cmocka_unit_test(test_fragment_is_dropped),
		cmocka_unit_test(test_loopback_passes),
		cmocka_unit_test(test_ipv6_allowed_and_denied),
		cmocka_unit_test(test_ipv6_extension_header_is_dropped),
		cmocka_unit_test(test_reserved_range_is_dropped),
		cmocka_unit_test(test_learned_address_until_expiry),
		cmocka_unit_test(
			test_memo_is_one_destination_and_never_a_learned_one),
		cmocka_unit_test(test_memo_has_a_slot_per_cpu),
		cmocka_unit_test(test_drop_emits_event),
		cmocka_unit_test(test_spoofed_source_is_dropped),
		cmocka_unit_test(test_spoofed_source_to_loopback_is_dropped),
		cmocka_unit_test(test_loopback_source_only_for_loopback),
		cmocka_unit_test(test_loopback_source_to_this_host),
	};

	/* The same policy with exact tables (BULK_HOSTS). */
	struct CMUnitTest exact_tests[] = {
		cmocka_unit_test(test_allowed_cidr_port_passes),
		cmocka_unit_test(test_other_host_is_dropped),
		cmocka_unit_test(test_ipv6_allowed_and_denied),
		cmocka_unit_test(test_loopback_source_only_for_loopback),
		cmocka_unit_test(test_loopback_source_to_this_host),
	};

	/* A policy without domains (.rodata learns 0). */
	struct CMUnitTest no_domains_tests[] = {
		cmocka_unit_test(test_allowed_cidr_port_passes),
		cmocka_unit_test(test_other_host_is_dropped),
		cmocka_unit_test(test_learned_address_ignored_without_domains),
	};

	/* A policy without allow_cidrs (.rodata allows_cidrs 0). */
	struct CMUnitTest no_cidrs_tests[] = {
		cmocka_unit_test(test_other_host_is_dropped),
		cmocka_unit_test(test_learned_address_until_expiry),
		cmocka_unit_test(test_allow_rule_ignored_without_cidrs),
	};

	struct CMUnitTest proxy_tests[] = {
		cmocka_unit_test(test_proxy_from_config),
		cmocka_unit_test(test_learned_denied_in_proxy_mode),
	};

	struct CMUnitTest proxy6_tests[] = {
		cmocka_unit_test(test_proxy6_is_its_address_only),
	};

	privileged = bpf_privileged(why, sizeof(why));
	if (!privileged) {
		skip_all(tests, sizeof(tests) / sizeof(tests[0]), why);
		skip_all(proxy_tests,
			 sizeof(proxy_tests) / sizeof(proxy_tests[0]), why);
		skip_all(proxy6_tests,
			 sizeof(proxy6_tests) / sizeof(proxy6_tests[0]), why);
		skip_all(exact_tests,
			 sizeof(exact_tests) / sizeof(exact_tests[0]), why);
		skip_all(no_domains_tests,
			 sizeof(no_domains_tests) / sizeof(no_domains_tests[0]),
			 why);
		skip_all(no_cidrs_tests,
			 sizeof(no_cidrs_tests) / sizeof(no_cidrs_tests[0]),
			 why);
	}
	return cmocka_run_group_tests_name("bpf_backstop", tests,
					   privileged ? setup_group : NULL,
					   privileged ? teardown_group : NULL) |
	       cmocka_run_group_tests_name(
		       "bpf_backstop_proxy_only", proxy_tests,
		       privileged ? setup_proxy_group : NULL,
		       privileged ? teardown_group : NULL) |
	       cmocka_run_group_tests_name("bpf_backstop_proxy6", proxy6_tests,
					   privileged ? setup_proxy6_group :
							NULL,
					   privileged ? teardown_group : NULL) |
	       cmocka_run_group_tests_name(
		       "bpf_backstop_exact_tables", exact_tests,
		       privileged ? setup_exact_group : NULL,
		       privileged ? teardown_group : NULL) |
	       cmocka_run_group_tests_name(
		       "bpf_backstop_no_domains", no_domains_tests,
		       privileged ? setup_no_domains_group : NULL,
		       privileged ? teardown_group : NULL) |
	       cmocka_run_group_tests_name(
		       "bpf_backstop_no_cidrs", no_cidrs_tests,
		       privileged ? setup_no_cidrs_group : NULL,
		       privileged ? teardown_group : NULL);
}
