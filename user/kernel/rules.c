// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <bpf/bpf.h>

#include "common/array.h"
#include "common/error.h"
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

static int entry_cmp(const void *a, const void *b)
{
	const struct rule_entry *x = a, *y = b;

	if (x->family != y->family)
		return x->family - y->family;
	if (x->prefixlen != y->prefixlen)
		return (int)x->prefixlen - (int)y->prefixlen;
	return memcmp(x->addr, y->addr, 16);
}

static struct rule_entry *find_exact(const struct rule_table *t, int family,
				     const uint8_t *addr,
				     unsigned int prefixlen)
{
	struct rule_entry key = { .family = family, .prefixlen = prefixlen };

	memcpy(key.addr, addr, 16);
	return bsearch(&key, t->v, t->n, sizeof(key), entry_cmp);
}

static int table_push(struct rule_table *t, const struct rule_entry *e)
{
	if (array_grow((void **)&t->v, &t->cap, t->n + 1, sizeof(*t->v)))
		return -1;
	t->v[t->n++] = *e;
	return 0;
}

static void entry_init(struct rule_entry *e, int family, const uint8_t *addr,
		       unsigned int prefixlen, uint32_t kind, uint32_t id)
{
	memset(e, 0, sizeof(*e));
	e->family = family;
	e->prefixlen = prefixlen;
	mask_addr(e->addr, addr, addr_len(family), prefixlen);
	e->rule.kind = kind;
	e->rule.id = id;
}

static int push_reserved(struct rule_table *t, const struct policy_cidr *c)
{
	struct rule_entry e;

	entry_init(&e, c->family, c->addr, c->prefixlen, AWF_RULE_RESERVED, 0);
	return table_push(t, &e);
}

/* 64:ff9b::a.b.c.d/(96 + len) for the IPv4 range c. */
static int push_reserved_nat64(struct rule_table *t,
			       const struct policy_cidr *c)
{
	struct policy_cidr m = { .family = AF_INET6,
				 .prefixlen = NAT64_PREFIXLEN + c->prefixlen };

	memcpy(m.addr, nat64_prefix, sizeof(nat64_prefix));
	memcpy(m.addr + sizeof(nat64_prefix), c->addr, 4);
	return push_reserved(t, &m);
}

static int add_reserved(struct rule_table *t, char *err, size_t errlen)
{
	struct policy_cidr c;

	for (size_t i = 0; i < ARRAY_SIZE(reserved_ranges4); i++) {
		if (cidr_parse(&c, reserved_ranges4[i], err, errlen) ||
		    push_reserved(t, &c) || push_reserved_nat64(t, &c))
			return -1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(reserved_ranges6); i++) {
		if (cidr_parse(&c, reserved_ranges6[i], err, errlen) ||
		    push_reserved(t, &c))
			return -1;
	}
	return 0;
}

static int add_local(struct rule_table *t, const struct policy_cidr *local,
		     size_t n_local)
{
	for (size_t i = 0; i < n_local; i++) {
		struct rule_entry e;

		entry_init(&e, local[i].family, local[i].addr,
			   local[i].prefixlen, AWF_RULE_LOCAL, 0);
		if (table_push(t, &e))
			return -1;
	}
	return 0;
}

static int add_allows(struct rule_table *t, const struct policy *p)
{
	for (size_t i = 0; i < p->n_cidrs; i++) {
		const struct policy_cidr *c = &p->cidrs[i];
		struct rule_entry e;

		entry_init(&e, c->family, c->addr, c->prefixlen, AWF_RULE_ALLOW,
			   (uint32_t)i + 1);
		e.rule.ports = c->ports;
		if (table_push(t, &e))
			return -1;
	}
	return 0;
}

/*
 * One entry per prefix. Allows of the same prefix merge their ports; an
 * allow equal to a reserved range or a host address names it explicitly
 * and replaces it.
 */
static int merge_same_prefix(struct rule_table *t, char *err, size_t errlen)
{
	size_t out = 0;

	qsort(t->v, t->n, sizeof(*t->v), entry_cmp);
	for (size_t i = 0; i < t->n; i++) {
		struct rule_entry *e = &t->v[i], *prev;

		if (!out || entry_cmp(&t->v[out - 1], e) != 0) {
			t->v[out++] = *e;
			continue;
		}
		prev = &t->v[out - 1];
		if (e->rule.kind != AWF_RULE_ALLOW)
			continue;
		if (prev->rule.kind != AWF_RULE_ALLOW) {
			*prev = *e;
			continue;
		}
		if (port_set_union(&prev->rule.ports, &e->rule.ports))
			return set_err(
				err, errlen,
				"allow_cidrs[%u]: ports need more than %d ranges together with allow_cidrs[%u]",
				e->rule.id - 1, AWF_MAX_PORT_RANGES,
				prev->rule.id - 1);
	}
	t->n = out;
	return 0;
}

/*
 * Give each allow prefix the ports of the allow prefixes that cover it,
 * walking towards shorter prefixes and stopping at a reserved or local
 * prefix in between: that one shadows everything above it.
 */
static int fold_covering_ports(struct rule_table *t, char *err, size_t errlen)
{
	struct awf_port_set *orig = malloc((t->n ? t->n : 1) * sizeof(*orig));

	if (!orig)
		return set_err(err, errlen, "out of memory");
	for (size_t i = 0; i < t->n; i++)
		orig[i] = t->v[i].rule.ports;

	for (size_t i = 0; i < t->n; i++) {
		struct rule_entry *e = &t->v[i];
		unsigned int len = addr_len(e->family);

		if (e->rule.kind != AWF_RULE_ALLOW)
			continue;
		for (int plen = (int)e->prefixlen - 1; plen >= 0; plen--) {
			uint8_t masked[16];
			struct rule_entry *c;

			mask_addr(masked, e->addr, len, (unsigned int)plen);
			c = find_exact(t, e->family, masked,
				       (unsigned int)plen);
			if (!c)
				continue;
			if (c->rule.kind != AWF_RULE_ALLOW)
				break;
			if (port_set_union(&e->rule.ports, &orig[c - t->v])) {
				set_err(err, errlen,
					"allow_cidrs[%u]: ports need more than %d ranges together with the covering allow_cidrs[%u]",
					e->rule.id - 1, AWF_MAX_PORT_RANGES,
					c->rule.id - 1);
				free(orig);
				return -1;
			}
		}
	}
	free(orig);
	return 0;
}

int rules_build(struct rule_table *t, const struct policy *p,
		const struct policy_cidr *local, size_t n_local, char *err,
		size_t errlen)
{
	memset(t, 0, sizeof(*t));
	err[0] = '\0';
	if (add_reserved(t, err, errlen) || add_local(t, local, n_local) ||
	    add_allows(t, p)) {
		if (!err[0])
			set_err(err, errlen, "out of memory");
		rules_free(t);
		return -1;
	}
	if (merge_same_prefix(t, err, errlen) ||
	    fold_covering_ports(t, err, errlen)) {
		rules_free(t);
		return -1;
	}
	return 0;
}

void rules_free(struct rule_table *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}

const struct rule_entry *rules_lookup(const struct rule_table *t, int family,
				      const uint8_t *addr)
{
	unsigned int len = addr_len(family);

	for (int plen = (int)len * 8; plen >= 0; plen--) {
		const struct rule_entry *e;
		uint8_t masked[16];

		mask_addr(masked, addr, len, (unsigned int)plen);
		e = find_exact(t, family, masked, (unsigned int)plen);
		if (e)
			return e;
	}
	return NULL;
}

static int rule_put(const struct rule_entry *e, int cidr4_fd, int cidr6_fd)
{
	if (e->family == AF_INET) {
		struct awf_cidr4_key k = { .prefixlen = e->prefixlen };

		memcpy(k.addr, e->addr, sizeof(k.addr));
		return bpf_map_update_elem(cidr4_fd, &k, &e->rule, BPF_ANY);
	}
	struct awf_cidr6_key k = { .prefixlen = e->prefixlen };

	memcpy(k.addr, e->addr, sizeof(k.addr));
	return bpf_map_update_elem(cidr6_fd, &k, &e->rule, BPF_ANY);
}

int rules_write(const struct rule_table *t, int cidr4_fd, int cidr6_fd,
		char *err, size_t errlen)
{
	for (size_t i = 0; i < t->n; i++) {
		if (rule_put(&t->v[i], cidr4_fd, cidr6_fd) < 0)
			return set_err(err, errlen,
				       "writing CIDR rule %zu of %zu: %s",
				       i + 1, t->n, strerror(errno));
	}
	return 0;
}
