// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <bpf/bpf.h>

#include "common/array.h"
#include "common/error.h"
#include "kernel/map_batch.h"
#include "kernel/rules.h"
#include "policy/cidr.h"
#include "policy/ports.h"

/*
 * Denied unless an allow_cidrs entry names them (or a part of them): the
 * clouds' metadata and host-agent endpoints, which hand out credentials
 * to whatever asks. Each IPv4 range is refused again under the NAT64
 * well-known prefix 64:ff9b::/96 (RFC 6052): on an IPv6-only host with
 * DNS64, 64:ff9b::a9fe:a9fe is 169.254.169.254.
 */
static const char *const reserved_ranges4[] = {
	"169.254.0.0/16",     /* IPv4 link-local: AWS, GCP, Azure IMDS */
	"168.63.129.16/32",   /* Azure WireServer / host agent, DNS */
	"100.100.100.200/32", /* Alibaba Cloud metadata */
};

static const char *const reserved_ranges6[] = {
	"fe80::/10",	     /* IPv6 link-local */
	"fd00:ec2::254/128", /* AWS IMDS over IPv6 */
};

#define NAT64_PREFIXLEN 96
static const uint8_t nat64_prefix[12] = { 0x00, 0x64, 0xff, 0x9b };

/* Each IPv4 range twice (itself and under NAT64), each IPv6 one once. */
#define N_RESERVED \
	(2 * ARRAY_SIZE(reserved_ranges4) + ARRAY_SIZE(reserved_ranges6))

static unsigned int addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static void mask_addr(uint8_t *out, const uint8_t *addr, unsigned int len,
		      unsigned int prefixlen)
{
	memset(out, 0, 16);
	for (unsigned int bit = 0; bit < prefixlen && bit / 8 < len; bit += 8) {
		unsigned int left = prefixlen - bit;

		out[bit / 8] = left >= 8 ? addr[bit / 8] :
					   addr[bit / 8] & (0xff << (8 - left));
	}
}

/*
 * memcmp() of two addresses as two big-endian words: a million entries
 * take twenty million comparisons to sort.
 */
static int addr_cmp(const uint8_t *a, const uint8_t *b)
{
	for (int half = 0; half < 2; half++) {
		uint64_t x, y;

		memcpy(&x, a + 8 * half, sizeof(x));
		memcpy(&y, b + 8 * half, sizeof(y));
		if (x != y)
			return be64toh(x) < be64toh(y) ? -1 : 1;
	}
	return 0;
}

/* At one prefix: the reserved range, the host's address, the allows. */
static int kind_rank(uint8_t kind)
{
	return kind == AWF_RULE_RESERVED ? 0 : kind == AWF_RULE_LOCAL ? 1 : 2;
}

/* Family, address, prefix length: also the built table's bsearch order. */
static int prefix_cmp(const void *a, const void *b)
{
	const struct rule_entry *x = a, *y = b;
	int rc;

	if (x->family != y->family)
		return x->family - y->family;
	rc = addr_cmp(x->addr, y->addr);
	if (rc)
		return rc;
	return x->prefixlen - y->prefixlen;
}

/*
 * The table's order: a prefix comes right before the prefixes inside it,
 * so that one pass with a stack of the prefixes around the current one
 * sees each prefix's cover; entries of one prefix stay in the order they
 * were added, which is the order they merge in.
 */
static int entry_cmp(const void *a, const void *b)
{
	const struct rule_entry *x = a, *y = b;
	int rc = prefix_cmp(a, b);

	if (rc)
		return rc;
	if (x->kind != y->kind)
		return kind_rank(x->kind) - kind_rank(y->kind);
	return (x->id > y->id) - (x->id < y->id);
}

static bool same_prefix(const struct rule_entry *x, const struct rule_entry *y)
{
	return x->family == y->family && x->prefixlen == y->prefixlen &&
	       memcmp(x->addr, y->addr, 16) == 0;
}

/* Whether prefix c holds prefix e (or is it). */
static bool covers(const struct rule_entry *c, const struct rule_entry *e)
{
	unsigned int full = c->prefixlen / 8, rest = c->prefixlen % 8;

	if (c->family != e->family || c->prefixlen > e->prefixlen ||
	    memcmp(c->addr, e->addr, full) != 0)
		return false;
	return !rest ||
	       ((c->addr[full] ^ e->addr[full]) & (0xff << (8 - rest))) == 0;
}

/*
 * Of several errors the one reported is the one the checks met first
 * when they went by family, prefix length and address: the same message
 * whatever the table's order.
 */
struct build_err {
	char *err;
	size_t errlen;
	bool failed;
	struct rule_entry at;
};

static int report_cmp(const struct rule_entry *x, const struct rule_entry *y)
{
	if (x->family != y->family)
		return x->family - y->family;
	if (x->prefixlen != y->prefixlen)
		return x->prefixlen - y->prefixlen;
	return memcmp(x->addr, y->addr, 16);
}

__attribute__((format(printf, 3, 4))) static void
build_fail(struct build_err *b, const struct rule_entry *e, const char *fmt,
	   ...)
{
	va_list ap;

	if (b->failed && report_cmp(e, &b->at) >= 0)
		return;
	b->failed = true;
	b->at = *e;
	va_start(ap, fmt);
	vsnprintf(b->err, b->errlen, fmt, ap);
	va_end(ap);
}

static void entry_init(struct rule_entry *e, int family, const uint8_t *addr,
		       unsigned int prefixlen, uint32_t kind, uint32_t id,
		       uint32_t ports)
{
	memset(e, 0, sizeof(*e));
	e->family = (uint8_t)family;
	e->prefixlen = (uint8_t)prefixlen;
	mask_addr(e->addr, addr, addr_len(family), prefixlen);
	e->kind = (uint8_t)kind;
	e->id = id;
	e->ports = ports;
}

/* Reserved ranges and host addresses have no ports: none, the empty set. */
static void push_reserved(struct rule_table *t, const struct policy_cidr *c,
			  uint32_t none)
{
	entry_init(&t->v[t->n++], c->family, c->addr, c->prefixlen,
		   AWF_RULE_RESERVED, 0, none);
}

/* 64:ff9b::a.b.c.d/(96 + len) for the IPv4 range c. */
static void push_reserved_nat64(struct rule_table *t,
				const struct policy_cidr *c, uint32_t none)
{
	struct policy_cidr m = { .family = AF_INET6,
				 .prefixlen = NAT64_PREFIXLEN + c->prefixlen };

	memcpy(m.addr, nat64_prefix, sizeof(nat64_prefix));
	memcpy(m.addr + sizeof(nat64_prefix), c->addr, 4);
	push_reserved(t, &m, none);
}

/* Reserved ranges have no ports: none, the empty set. */
static int add_reserved(struct rule_table *t, uint32_t none, char *err,
			size_t errlen)
{
	struct policy_cidr c;

	for (size_t i = 0; i < ARRAY_SIZE(reserved_ranges4); i++) {
		if (cidr_parse(&c, reserved_ranges4[i], err, errlen))
			return -1;
		push_reserved(t, &c, none);
		push_reserved_nat64(t, &c, none);
	}
	for (size_t i = 0; i < ARRAY_SIZE(reserved_ranges6); i++) {
		if (cidr_parse(&c, reserved_ranges6[i], err, errlen))
			return -1;
		push_reserved(t, &c, none);
	}
	return 0;
}

static void add_local(struct rule_table *t, const struct policy_cidr *local,
		      size_t n_local, uint32_t none)
{
	for (size_t i = 0; i < n_local; i++)
		entry_init(&t->v[t->n++], local[i].family, local[i].addr,
			   local[i].prefixlen, AWF_RULE_LOCAL, 0, none);
}

/*
 * The policy's port sets come first into the table's (they are distinct:
 * ids in order), so its entries keep their ids.
 */
static int intern_policy_ports(struct rule_table *t, const struct policy *p)
{
	for (size_t i = 0; i < p->cidr_ports.n; i++) {
		uint32_t id;

		if (port_table_intern(&t->ports, &p->cidr_ports.v[i], &id) < 0)
			return -1;
		if (id != i) {
			errno = EINVAL;
			return -1;
		}
	}
	return 0;
}

/*
 * The entries to sort: allow_cidrs[i] is entry i, extras->v[j] (reserved
 * ranges, host addresses) entry n_cidrs + j.
 */
struct entry_source {
	const struct policy *p;
	const struct rule_table *extras;
};

static void source_entry(const struct entry_source *s, size_t i,
			 struct rule_entry *out)
{
	const struct policy_cidr_entry *c;

	if (i >= s->p->n_cidrs) {
		*out = s->extras->v[i - s->p->n_cidrs];
		return;
	}
	c = &s->p->cidrs[i];
	entry_init(out, c->family, c->addr, c->prefixlen, AWF_RULE_ALLOW,
		   (uint32_t)i + 1, c->ports);
}

static int source_family(const struct entry_source *s, size_t i)
{
	return i < s->p->n_cidrs ? s->p->cidrs[i].family :
				   s->extras->v[i - s->p->n_cidrs].family;
}

/*
 * An IPv4 entry's place in entry_cmp()'s order as one number: address,
 * prefix length, kind, then its source index (allows in id order, the
 * others apart by kind).
 */
#define KEY_INDEX_BITS 24
#define KEY_INDEX(key) ((size_t)((key) & ((1u << KEY_INDEX_BITS) - 1)))

static uint64_t entry_key4(const struct rule_entry *e, size_t i)
{
	uint32_t a;

	memcpy(&a, e->addr, sizeof(a));
	return (uint64_t)be32toh(a) << 32 | (uint64_t)e->prefixlen << 26 |
	       (uint64_t)kind_rank(e->kind) << KEY_INDEX_BITS | i;
}

static int key_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/*
 * Below this many keys qsort() wins: the radix passes clear and fault in
 * a 512 KiB count table four times, about a millisecond on every run of
 * a small policy.
 */
#define RADIX_MIN_KEYS 4096

/* LSD radix sort, 16 bits a pass; a pass all keys agree on is skipped. */
static int radix_sort64(uint64_t *v, size_t n)
{
	size_t *count;
	uint64_t *tmp, *from = v, *to;

	if (n < RADIX_MIN_KEYS) {
		qsort(v, n, sizeof(*v), key_cmp);
		return 0;
	}
	count = malloc((1 << 16) * sizeof(*count));
	tmp = array_map(n * sizeof(*tmp));
	to = tmp;
	if (!count || !tmp) {
		free(count);
		array_unmap(tmp, n * sizeof(*tmp));
		return -1;
	}
	for (unsigned int shift = 0; shift < 64; shift += 16) {
		size_t sum = 0;

		memset(count, 0, (1 << 16) * sizeof(*count));
		for (size_t i = 0; i < n; i++)
			count[(from[i] >> shift) & 0xffff]++;
		if (n && count[(from[0] >> shift) & 0xffff] == n)
			continue;
		for (size_t d = 0; d < 1 << 16; d++) {
			size_t c = count[d];

			count[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			to[count[(from[i] >> shift) & 0xffff]++] = from[i];
		to = from;
		from = from == v ? tmp : v;
	}
	if (from != v)
		memcpy(v, from, n * sizeof(*v));
	free(count);
	array_unmap(tmp, n * sizeof(*tmp));
	return 0;
}

/* How far ahead add_sorted() fetches the source of an entry. */
#define FILL_AHEAD 8

/*
 * Every entry of s into t, in entry_cmp()'s order: the IPv4 ones (all of
 * a large policy) by their keys, sorted by radix (qsort() would move 28
 * bytes a step and allocate a second table), the IPv6 ones by qsort().
 */
static int add_sorted(struct rule_table *t, const struct entry_source *s)
{
	size_t total = s->p->n_cidrs + s->extras->n, n4 = 0;
	uint64_t *keys;

	if (total >= (size_t)1 << KEY_INDEX_BITS) {
		errno = E2BIG;
		return -1;
	}
	keys = array_map(total * sizeof(*keys));
	if (!keys)
		return -1;
	for (size_t i = 0; i < total; i++) {
		struct rule_entry e;

		if (source_family(s, i) != AF_INET)
			continue;
		source_entry(s, i, &e);
		keys[n4++] = entry_key4(&e, i);
	}
	if (radix_sort64(keys, n4) < 0) {
		array_unmap(keys, total * sizeof(*keys));
		return -1;
	}
	for (size_t k = 0; k < n4; k++) {
		size_t ahead = k + FILL_AHEAD;

		if (ahead < n4 && KEY_INDEX(keys[ahead]) < s->p->n_cidrs)
			__builtin_prefetch(
				&s->p->cidrs[KEY_INDEX(keys[ahead])]);
		source_entry(s, KEY_INDEX(keys[k]), &t->v[t->n++]);
	}
	array_unmap(keys, total * sizeof(*keys));
	for (size_t i = 0; i < total; i++)
		if (source_family(s, i) != AF_INET)
			source_entry(s, i, &t->v[t->n++]);
	qsort(t->v + n4, t->n - n4, sizeof(*t->v), entry_cmp);
	return 0;
}

/* The union of sets a and b into t; -1 with *too_many when it does not fit. */
static int union_ports(struct rule_table *t, uint32_t *a, uint32_t b,
		       bool *too_many)
{
	struct awf_port_set set = t->ports.v[*a];

	*too_many = port_set_union(&set, &t->ports.v[b]) < 0;
	if (*too_many)
		return -1;
	return port_table_intern(&t->ports, &set, a);
}

/*
 * One entry per prefix. Allows of the same prefix merge their ports; an
 * allow equal to a reserved range or a host address names it explicitly
 * and replaces it.
 */
static int merge_same_prefix(struct rule_table *t, struct build_err *b)
{
	size_t out = 0;
	bool too_many, group_failed = false;

	for (size_t i = 0; i < t->n; i++) {
		struct rule_entry *e = &t->v[i], *prev;

		if (!out || !same_prefix(&t->v[out - 1], e)) {
			t->v[out++] = *e;
			group_failed = false;
			continue;
		}
		prev = &t->v[out - 1];
		if (e->kind != AWF_RULE_ALLOW || group_failed)
			continue;
		if (prev->kind != AWF_RULE_ALLOW) {
			*prev = *e;
			continue;
		}
		if (!union_ports(t, &prev->ports, e->ports, &too_many))
			continue;
		if (!too_many)
			return -1;
		group_failed = true;
		build_fail(
			b, e,
			"allow_cidrs[%u]: ports need more than %d ranges together with allow_cidrs[%u]",
			e->id - 1, AWF_MAX_PORT_RANGES, prev->id - 1);
	}
	t->n = out;
	return 0;
}

/*
 * Give each allow prefix the ports of the allow prefixes that cover it,
 * nearest first, stopping at a reserved or local prefix in between: that
 * one shadows everything above it. The stack holds the prefixes around
 * the current one (at most one per length) with their own ports.
 */
static int fold_covering_ports(struct rule_table *t, struct build_err *b)
{
	struct cover {
		size_t idx;
		uint32_t own_ports;
	} stack[129 + 1];
	size_t depth = 0;

	for (size_t i = 0; i < t->n; i++) {
		struct rule_entry *e = &t->v[i];
		uint32_t own = e->ports;

		while (depth && !covers(&t->v[stack[depth - 1].idx], e))
			depth--;
		for (size_t j = depth; e->kind == AWF_RULE_ALLOW && j-- > 0;) {
			const struct rule_entry *c = &t->v[stack[j].idx];
			bool too_many;

			if (c->kind != AWF_RULE_ALLOW)
				break;
			if (!union_ports(t, &e->ports, stack[j].own_ports,
					 &too_many))
				continue;
			if (!too_many)
				return -1;
			build_fail(
				b, e,
				"allow_cidrs[%u]: ports need more than %d ranges together with the covering allow_cidrs[%u]",
				e->id - 1, AWF_MAX_PORT_RANGES, c->id - 1);
			break;
		}
		stack[depth++] = (struct cover){ .idx = i, .own_ports = own };
	}
	return 0;
}

static bool full_length(const struct rule_entry *e)
{
	return e->prefixlen == addr_len(e->family) * 8;
}

static size_t count_full_length(const struct rule_table *t, int family)
{
	size_t n = 0;

	for (size_t i = 0; i < t->n; i++)
		n += t->v[i].family == family && full_length(&t->v[i]);
	return n;
}

/* The home slot of an address, as the programs compute it. */
static uint32_t exact_home(const struct rule_entry *e)
{
	uint32_t w[4];

	memcpy(w, e->addr, sizeof(w));
	return awf_exact_hash(w, e->family == AF_INET ? 1 : 4);
}

/*
 * The family's full-length entries into slots by linear probing, when
 * there are enough of them: one without a free slot within
 * AWF_EXACT_PROBES of its home stays in the trie (a hostile list of
 * colliding addresses costs trie inserts, never longer probes).
 */
static int build_exact(struct rule_table *t, int family, struct rules_exact *x)
{
	size_t n = count_full_length(t, family), slots = 2;

	if (n < RULES_EXACT_MIN)
		return 0;
	while (slots < 2 * n)
		slots *= 2;
	x->slot = calloc(slots, sizeof(*x->slot));
	if (!x->slot)
		return -1;
	x->mask = (uint32_t)(slots - 1);
	for (size_t i = 0; i < t->n; i++) {
		struct rule_entry *e = &t->v[i];
		uint32_t home;

		/* an entry's home slot is anywhere in the table */
		if (i + FILL_AHEAD < t->n &&
		    t->v[i + FILL_AHEAD].family == family)
			__builtin_prefetch(
				&x->slot[exact_home(&t->v[i + FILL_AHEAD]) &
					 x->mask]);
		if (e->family != family || !full_length(e))
			continue;
		home = exact_home(e);
		for (uint32_t p = 0; p < AWF_EXACT_PROBES; p++) {
			uint32_t *s = &x->slot[(home + p) & x->mask];

			if (*s)
				continue;
			*s = (uint32_t)i + 1;
			e->exact = 1;
			break;
		}
	}
	return 0;
}

int rules_build(struct rule_table *t, const struct policy *p,
		const struct policy_cidr *local, size_t n_local, char *err,
		size_t errlen)
{
	static const struct awf_port_set none;
	struct build_err b = { .err = err, .errlen = errlen };
	struct rule_table extras = { .cap = N_RESERVED + n_local };
	struct entry_source src = { .p = p, .extras = &extras };
	uint32_t none_id;

	memset(t, 0, sizeof(*t));
	err[0] = '\0';
	extras.v = malloc(extras.cap * sizeof(*extras.v));
	/* sized once: a doubling array would copy a million entries */
	t->cap = extras.cap + p->n_cidrs;
	t->v = malloc(t->cap * sizeof(*t->v));
	array_huge(t->v, t->cap * sizeof(*t->v));
	if (!extras.v || !t->v || intern_policy_ports(t, p) ||
	    port_table_intern(&t->ports, &none, &none_id) < 0 ||
	    add_reserved(&extras, none_id, err, errlen))
		goto fail;
	add_local(&extras, local, n_local, none_id);
	if (add_sorted(t, &src) || merge_same_prefix(t, &b))
		goto fail;
	free(extras.v);
	extras.v = NULL;
	if (!b.failed && fold_covering_ports(t, &b))
		goto fail;
	if (!b.failed && (build_exact(t, AF_INET, &t->exact4) ||
			  build_exact(t, AF_INET6, &t->exact6)))
		goto fail;
	t->allows = p->n_cidrs > 0;
	if (!b.failed)
		return 0;
fail:
	free(extras.v);
	if (!err[0])
		set_err(err, errlen, "out of memory");
	rules_free(t);
	return -1;
}

void rules_free(struct rule_table *t)
{
	free(t->v);
	free(t->exact4.slot);
	free(t->exact6.slot);
	port_table_free(&t->ports);
	memset(t, 0, sizeof(*t));
}

const struct rule_entry *rules_lookup(const struct rule_table *t, int family,
				      const uint8_t *addr)
{
	unsigned int len = addr_len(family);

	for (int plen = (int)len * 8; plen >= 0; plen--) {
		struct rule_entry key = { .family = (uint8_t)family,
					  .prefixlen = (uint8_t)plen };
		const struct rule_entry *e;

		mask_addr(key.addr, addr, len, (unsigned int)plen);
		e = bsearch(&key, t->v, t->n, sizeof(key), prefix_cmp);
		if (e)
			return e;
	}
	return NULL;
}

void rules_value(const struct rule_table *t, const struct rule_entry *e,
		 struct awf_rule *out)
{
	memset(out, 0, sizeof(*out));
	out->id = e->id;
	out->kind = e->kind;
	out->ports = t->ports.v[e->ports];
}

void rules_sizes(const struct rule_table *t, struct rules_sizes *s)
{
	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < t->n; i++) {
		const struct rule_entry *e = &t->v[i];

		if (!e->exact)
			*(e->family == AF_INET ? &s->trie4 : &s->trie6) += 1;
	}
	s->exact4 = t->exact4.mask ? (size_t)t->exact4.mask + 1 : 0;
	s->exact6 = t->exact6.mask ? (size_t)t->exact6.mask + 1 : 0;
	if (s->exact4 || s->exact6)
		s->ports = t->ports.n;
}

/* The trie entries of one family (the table holds them together). */
static int write_trie(const struct rule_table *t, int family, int fd,
		      enum rules_write_mode mode, char *err, size_t errlen)
{
	size_t key_size = family == AF_INET ? sizeof(struct awf_cidr4_key) :
					      sizeof(struct awf_cidr6_key);
	size_t first = 0, in_trie = 0, i;
	struct map_batch mb;
	int ret = 0;

	while (first < t->n && t->v[first].family != family)
		first++;
	for (i = first; i < t->n && t->v[i].family == family; i++)
		in_trie += !t->v[i].exact;
	if (!in_trie)
		return 0;
	if (map_batch_init(&mb, fd, (uint32_t)key_size, sizeof(struct awf_rule),
			   in_trie, mode == RULES_WRITE_ELEMENT) < 0)
		return set_err(err, errlen, "writing CIDR rules: %s",
			       strerror(errno));
	for (i = first; i < t->n && t->v[i].family == family && !ret; i++) {
		const struct rule_entry *e = &t->v[i];
		/* the key types differ in the size of addr only */
		struct awf_cidr6_key k = { .prefixlen = e->prefixlen };
		struct awf_rule value;

		if (e->exact)
			continue;
		memcpy(k.addr, e->addr, key_size - sizeof(k.prefixlen));
		rules_value(t, e, &value);
		ret = map_batch_add(&mb, &k, &value);
	}
	if (!ret)
		ret = map_batch_flush(&mb);
	if (ret)
		set_err(err, errlen, "writing IPv%d CIDR rule %zu of %zu: %s",
			family == AF_INET ? 4 : 6, mb.done + 1, in_trie,
			strerror(errno));
	map_batch_free(&mb);
	return ret;
}

/* The slot of entry e, in the layout of its family's table. */
static size_t exact_slot(const struct rule_entry *e, void *out)
{
	struct awf_exact6_slot s6 = { .id = e->id,
				      .ports = e->ports,
				      .kind = e->kind };
	struct awf_exact4_slot s4 = { .id = e->id,
				      .ports = e->ports,
				      .kind = e->kind };

	if (e->family == AF_INET) {
		memcpy(s4.addr, e->addr, sizeof(s4.addr));
		memcpy(out, &s4, sizeof(s4));
		return sizeof(s4);
	}
	memcpy(s6.addr, e->addr, sizeof(s6.addr));
	memcpy(out, &s6, sizeof(s6));
	return sizeof(s6);
}

/* An exact table's slots as map_array_fill() asks for them. */
struct exact_fill {
	const struct rule_table *t;
	const struct rules_exact *x;
};

static void fill_exact_slot(uint32_t k, void *value, void *arg)
{
	const struct exact_fill *f = arg;
	uint32_t ahead = f->x->slot[(k + FILL_AHEAD) & f->x->mask];

	/* the slots are in hash order: their entries anywhere */
	if (ahead)
		__builtin_prefetch(&f->t->v[ahead - 1]);
	if (f->x->slot[k])
		exact_slot(&f->t->v[f->x->slot[k] - 1], value);
}

/*
 * The used slots of x (the others are zero: empty) into fd: in place
 * where the table is mmap-able (run_maps.bpf.h; a 1M-entry policy's
 * table took a third of its start as batches, one copy and check per
 * slot in the kernel), else in batches.
 */
static int write_exact(const struct rule_table *t, const struct rules_exact *x,
		       int family, int fd, enum rules_write_mode mode,
		       char *err, size_t errlen)
{
	size_t value_size = family == AF_INET ? sizeof(struct awf_exact4_slot) :
						sizeof(struct awf_exact6_slot);
	struct exact_fill f = { .t = t, .x = x };
	struct awf_exact6_slot slot;
	struct map_batch mb;
	int ret = 0;

	if (!x->mask)
		return 0;
	if (mode == RULES_WRITE_BATCH) {
		int filled = map_array_fill(fd, (uint32_t)value_size,
					    x->mask + 1, fill_exact_slot, &f);

		if (filled < 0)
			return set_err(err, errlen,
				       "writing exact CIDR slots (IPv%d): %s",
				       family == AF_INET ? 4 : 6,
				       strerror(errno));
		if (!filled)
			return 0;
	}
	if (map_batch_init(&mb, fd, sizeof(uint32_t), (uint32_t)value_size,
			   (size_t)x->mask + 1,
			   mode == RULES_WRITE_ELEMENT) < 0)
		return set_err(err, errlen, "writing CIDR rules: %s",
			       strerror(errno));
	for (uint32_t k = 0; k <= x->mask && !ret; k++) {
		fill_exact_slot(k, &slot, &f);
		if (x->slot[k])
			ret = map_batch_add(&mb, &k, &slot);
	}
	if (!ret)
		ret = map_batch_flush(&mb);
	if (ret)
		set_err(err, errlen, "writing exact CIDR slot %zu (IPv%d): %s",
			mb.done + 1, family == AF_INET ? 4 : 6,
			strerror(errno));
	map_batch_free(&mb);
	return ret;
}

/* The port sets the exact tables' slots name, by index. */
static int write_ports(const struct rule_table *t, int fd,
		       enum rules_write_mode mode, char *err, size_t errlen)
{
	struct map_batch mb;
	int ret = 0;

	if (!t->exact4.mask && !t->exact6.mask)
		return 0;
	if (map_batch_init(&mb, fd, sizeof(uint32_t),
			   sizeof(struct awf_port_set), t->ports.n,
			   mode == RULES_WRITE_ELEMENT) < 0)
		return set_err(err, errlen, "writing CIDR port sets: %s",
			       strerror(errno));
	for (uint32_t i = 0; i < t->ports.n && !ret; i++)
		ret = map_batch_add(&mb, &i, &t->ports.v[i]);
	if (!ret)
		ret = map_batch_flush(&mb);
	if (ret)
		set_err(err, errlen, "writing CIDR port set %zu of %zu: %s",
			mb.done + 1, t->ports.n, strerror(errno));
	map_batch_free(&mb);
	return ret;
}

int rules_write_mode(const struct rule_table *t, const struct rules_maps *m,
		     enum rules_write_mode mode, char *err, size_t errlen)
{
	if (write_trie(t, AF_INET, m->trie4, mode, err, errlen) ||
	    write_trie(t, AF_INET6, m->trie6, mode, err, errlen) ||
	    write_ports(t, m->ports, mode, err, errlen) ||
	    write_exact(t, &t->exact4, AF_INET, m->exact4, mode, err, errlen) ||
	    write_exact(t, &t->exact6, AF_INET6, m->exact6, mode, err, errlen))
		return -1;
	return 0;
}

int rules_write(const struct rule_table *t, const struct rules_maps *m,
		char *err, size_t errlen)
{
	return rules_write_mode(t, m, RULES_WRITE_BATCH, err, errlen);
}
