// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The kernel's verdict on the name in a connection's first bytes must be
 * the DNS filter's: every policy and name of tests/unit/domain_match_cases.h
 * goes to the user-space matcher and, as a real TLS ClientHello and as an
 * HTTP/1.1 request, through the BPF code awf_first_bytes runs
 * (first_bytes_probe.bpf.c, BPF_PROG_TEST_RUN), on ports in and out of
 * what the matcher allows. The names trie and the exact names are filled
 * by user/kernel/name_table.c as `run` fills them: the trie from the
 * policy, an exact name when the DNS filter allowed it. Needs root.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "awf.h"
#include "first_bytes_probe.h" /* before its skeleton */
#include "first_bytes_probe.skel.h"
#include "kernel/name_table.h"
#include "policy/ports.h"
#include "domain_match_cases.h"
#include "bpf_privilege.h"

#define ETH_HLEN 14
#define PKT_MAX 3072 /* below the page BPF_PROG_TEST_RUN takes */

static struct first_bytes_probe *probe;

/* The ports each name is asked on: the defaults, the table's, none. */
static const uint16_t probe_ports[] = { 1, 2, 22, 80, 443, 8050, 8443, 65535 };

struct packet {
	uint8_t b[PKT_MAX];
	size_t len;
};

static void put(struct packet *p, const void *data, size_t n)
{
	assert_true(p->len + n <= sizeof(p->b));
	memcpy(p->b + p->len, data, n);
	p->len += n;
}

static void put8(struct packet *p, uint8_t v)
{
	put(p, &v, 1);
}

static void put16(struct packet *p, uint16_t v)
{
	uint16_t be = htons(v);

	put(p, &be, 2);
}

static void put24(struct packet *p, uint32_t v)
{
	put8(p, v >> 16);
	put16(p, v & 0xffff);
}

static void fill(struct packet *p, uint8_t byte, size_t n)
{
	assert_true(p->len + n <= sizeof(p->b));
	memset(p->b + p->len, byte, n);
	p->len += n;
}

/* Where a length written later goes: its offset in the packet. */
static void set16(struct packet *p, size_t at, size_t v)
{
	p->b[at] = v >> 8;
	p->b[at + 1] = v & 0xff;
}

static void frame(struct packet *p)
{
	p->len = 0;
	fill(p, 0, 12);	  /* MAC addresses */
	put16(p, 0x88b5); /* local experimental: not IP to the kernel */
}

/*
 * The shape of a ClientHello's extensions: n_before empty extensions
 * ahead of server_name (none: sni NULL); past_end: the last one's length
 * runs past the list.
 */
struct hello_shape {
	const char *sni;
	unsigned int n_before;
	bool past_end;
};

static void hello_of(struct packet *p, const struct hello_shape *sh)
{
	size_t rec, hs, exts;

	frame(p);
	put8(p, 0x16); /* handshake */
	put16(p, 0x0301);
	rec = p->len;
	put16(p, 0);
	put8(p, 1); /* ClientHello */
	hs = p->len;
	put24(p, 0);
	put16(p, 0x0303);
	fill(p, 0xab, 32); /* random */
	put8(p, 32);
	fill(p, 0xcd, 32); /* session id */
	put16(p, 6);
	put16(p, 0x1301);
	put16(p, 0x1302);
	put16(p, 0x1303);
	put8(p, 1);
	put8(p, 0); /* no compression */
	exts = p->len;
	put16(p, 0);
	put16(p, 0x0a0a); /* GREASE */
	put16(p, 0);
	put16(p, 0x002b); /* supported_versions: TLS 1.3 */
	put16(p, 3);
	put8(p, 2);
	put16(p, 0x0304);
	for (unsigned int i = 0; i < sh->n_before; i++) {
		put16(p, 0xfe00 + i); /* private use, empty */
		put16(p, 0);
	}
	if (sh->sni) {
		size_t n = strlen(sh->sni);

		put16(p, 0x0000); /* server_name */
		put16(p, n + 5);
		put16(p, n + 3);
		put8(p, 0); /* host_name */
		put16(p, n);
		put(p, sh->sni, n);
	}
	put16(p, 0x0015); /* padding */
	put16(p, sh->past_end ? 601 : 600);
	fill(p, 0, 600);
	set16(p, exts, p->len - exts - 2);
	p->b[hs] = 0;
	set16(p, hs + 1, p->len - hs - 3);
	set16(p, rec, p->len - rec - 2);
}

/*
 * A TLS 1.3 ClientHello as browsers send them: a session id, extensions
 * before and after server_name, a padding extension.
 */
static void client_hello(struct packet *p, const char *sni)
{
	hello_of(p, &(struct hello_shape){ .sni = sni });
}

/* An HTTP/1.1 request; with_port: "Host: NAME:PORT" (the port is dropped). */
static void http_request(struct packet *p, const char *host, uint16_t port,
			 bool with_port)
{
	char head[1024];
	int n;

	if (with_port)
		n = snprintf(
			head, sizeof(head),
			"GET /x HTTP/1.1\r\nUser-Agent: t\r\nHost: %s:%u\r\nAccept: */*\r\n\r\n",
			host, port);
	else
		n = snprintf(
			head, sizeof(head),
			"GET /x HTTP/1.1\r\nUser-Agent: t\r\nHost: %s\r\nAccept: */*\r\n\r\n",
			host);
	assert_true(n > 0 && (size_t)n < sizeof(head));
	frame(p);
	put(p, head, n);
}

static void run_probe(const struct packet *p, uint16_t port)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p->b,
		    .data_size_in = p->len, .repeat = 1);
	int err;

	probe->bss->probe_port = port;
	probe->bss->probe_slot = 0;
	err = bpf_prog_test_run_opts(
		bpf_program__fd(probe->progs.probe_first_bytes), &opts);
	if (err)
		fail_msg("BPF_PROG_TEST_RUN: %s", strerror(errno));
	if (!probe->bss->probe_result.done)
		fail_msg("the probe did not decide (need %u)",
			 probe->bss->probe_result.need);
}

/*
 * What the matcher says of query on port, as the kernel must say it. One
 * difference is by design: below a block pattern with '*' inside a label
 * (an EXACT region, name_table.h) the kernel knows only the names the DNS
 * filter allowed, so a blocked name there is refused as not allowed.
 */
static void expect(const char *what, const char *query, uint16_t port,
		   const struct domain_match *dm, bool matched, uint8_t kind,
		   bool exact_region)
{
	const struct probe_result *got = &probe->bss->probe_result;
	bool allowed = matched && port_set_contains(&dm->ports, port);
	uint8_t reason = allowed		      ? AWF_R_NAME_OK :
			 dm->blocked && !exact_region ? AWF_R_NAME_BLOCKED :
			 kind == AWF_EV_TLS	      ? AWF_R_TLS_NAME :
							AWF_R_HTTP_HOST;

	if (got->kind != kind || (got->verdict == AWF_ALLOW) != allowed ||
	    got->reason != reason || (allowed && got->rule_id != dm->entry_id))
		fail_msg(
			"%s \"%s\" port %u: kernel kind %u verdict %u reason %u rule %u; matcher: %s, reason %u, entry %u",
			what, query, port, got->kind, got->verdict, got->reason,
			got->rule_id, allowed ? "allowed" : "not allowed",
			reason, dm->entry_id);
}

/* How many keys a map holds. */
static unsigned int map_entries(int fd)
{
	struct awf_name_key key, next;
	unsigned int n = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next) && n < 1u << 20) {
		key = next;
		prev = &key;
		n++;
	}
	return n;
}

static void check_query(struct name_table *nt, const struct domain_matcher *m,
			const struct query_case *c)
{
	const struct awf_name_verdict *v = name_table_lookup(nt, c->query);
	bool exact_region = v && v->kind == AWF_NV_EXACT;
	struct domain_match dm;
	bool matched = domain_matcher_lookup(m, c->query, &dm) == 1;
	struct packet p;

	/* as the DNS filter does before it answers an allowed name */
	if (matched)
		assert_int_equal(name_table_learn(nt, c->query, &dm), 0);
	/* the table's own answer, so that both cannot be wrong alike */
	assert_int_equal(matched, c->want == Y);
	assert_int_equal(dm.blocked, c->want == B);
	for (size_t i = 0; i < ARRAY_SIZE(probe_ports); i++) {
		uint16_t port = probe_ports[i];

		client_hello(&p, c->query);
		run_probe(&p, port);
		expect("tls sni", c->query, port, &dm, matched, AWF_EV_TLS,
		       exact_region);
		if (strpbrk(c->query, "\r\n") || !*c->query)
			continue; /* not one Host header of its own */
		http_request(&p, c->query, port, false);
		run_probe(&p, port);
		expect("http host", c->query, port, &dm, matched, AWF_EV_HTTP,
		       exact_region);
		http_request(&p, c->query, port, true);
		run_probe(&p, port);
		expect("http host:port", c->query, port, &dm, matched,
		       AWF_EV_HTTP, exact_region);
	}
}

static void test_row(void **state)
{
	const struct match_row *row = *state;
	char err[AWF_ERR_LEN] = "";
	struct name_table nt;
	struct policy p;
	struct domain_matcher *m = row_matcher(row, &p);

	if (name_table_build(&nt, &p, m, err, sizeof(err)) < 0 ||
	    name_table_write(&nt, bpf_map__fd(probe->maps.name_rules),
			     bpf_map__fd(probe->maps.exact_names), 0, err,
			     sizeof(err)) < 0)
		fail_msg("name table: %s", err);
	for (const struct query_case *c = row->q;
	     c < row->q + ARRAY_SIZE(row->q) && c->query; c++)
		check_query(&nt, m, c);
	name_table_purge(&nt);
	/* what the rows learned is gone with the table: nothing left over */
	assert_int_equal(map_entries(bpf_map__fd(probe->maps.exact_names)), 0);
	assert_int_equal(map_entries(bpf_map__fd(probe->maps.name_rules)), 0);
	name_table_free(&nt);
	domain_matcher_free(m);
	policy_free(&p);
}

/* The probe answers as the table says at all: a name it cannot be wrong on. */
static void test_probe_refuses_without_rules(void **state)
{
	struct domain_match none = { 0 };
	struct packet p;

	(void)state;
	client_hello(&p, "github.com");
	run_probe(&p, 443);
	expect("tls sni", "github.com", 443, &none, false, AWF_EV_TLS, false);
}

/*
 * How far into a ClientHello's extensions the walk goes: server_name
 * after 60 others is found (looked up: no rules, so not allowed by
 * name); after 70 it is past the walk's TLS_MAX_EXTENSIONS (64); a list
 * without it has no name; an extension running past the list cannot be
 * checked, server_name or not.
 */
static const struct {
	const char *what;
	struct hello_shape shape;
	uint8_t reason;
} hello_shapes[] = {
	{ "sni after 60 extensions",
	  { "github.com", 60, false },
	  AWF_R_TLS_NAME },
	{ "sni after 70 extensions",
	  { "github.com", 70, false },
	  AWF_R_HELLO_UNCHECKABLE },
	{ "no sni", { NULL, 3, false }, AWF_R_NO_NAME },
	{ "no sni, last extension past the list",
	  { NULL, 3, true },
	  AWF_R_HELLO_UNCHECKABLE },
	{ "sni, last extension past the list",
	  { "github.com", 3, true },
	  AWF_R_TLS_NAME },
};

static void test_hello_shapes(void **state)
{
	const struct probe_result *got = &probe->bss->probe_result;
	struct packet p;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(hello_shapes); i++) {
		hello_of(&p, &hello_shapes[i].shape);
		run_probe(&p, 443);
		if (got->kind != AWF_EV_TLS || got->verdict == AWF_ALLOW ||
		    got->reason != hello_shapes[i].reason)
			fail_msg(
				"%s: kind %u verdict %u reason %u, want reason %u",
				hello_shapes[i].what, got->kind, got->verdict,
				got->reason, hello_shapes[i].reason);
	}
}

int main(void)
{
	struct test_list l = { 0 };
	size_t n_queries = 0;
	char why[256];
	int failed;

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
		for (size_t j = 0;
		     j < ARRAY_SIZE(rows[i].q) && rows[i].q[j].query; j++)
			n_queries++;
	print_message("%zu names in %zu policies, each on %zu ports\n",
		      n_queries, ARRAY_SIZE(rows), ARRAY_SIZE(probe_ports));
	tl_add(&l, "no rules", test_probe_refuses_without_rules, NULL);
	tl_add(&l, "ClientHello shapes", test_hello_shapes, NULL);
	TL_ROWS(&l, test_row, rows);
	if (!bpf_privileged(why, sizeof(why))) {
		skip_all(l.t, l.n, why);
		return tl_run("first_bytes", &l);
	}
	probe = first_bytes_probe__open_and_load();
	if (!probe) {
		fprintf(stderr, "first_bytes_probe: load: %s\n",
			strerror(errno));
		return 1;
	}
	failed = tl_run("first_bytes", &l);
	first_bytes_probe__destroy(probe);
	return failed;
}
