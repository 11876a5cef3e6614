// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * policy.c - the policy object and its merge rules: lists append without
 * repeating an identical entry, scalars override. The JSON reader
 * (policy_load.c) and the flags (policy_cli.c) both merge through here, so
 * a file and a flag saying the same thing give the same policy.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/cidr.h"
#include "policy/domain.h"
#include "common/array.h"
#include "common/error.h"
#include "policy/policy_int.h"
#include "policy/ports.h"

static const char *const localhost_modes[] = {
	[AWF_LO_SANDBOX] = "sandbox",
	[AWF_LO_ALLOW] = "allow",
	[AWF_LO_DENY] = "deny",
};

#define N_MODES (sizeof(localhost_modes) / sizeof(localhost_modes[0]))

void policy_init(struct policy *p)
{
	memset(p, 0, sizeof(*p));
	p->version = POLICY_VERSION;
	port_set_add(&p->ports, 80, 80);
	port_set_add(&p->ports, 443, 443);
	p->localhost_mode = AWF_LO_SANDBOX;
	p->ipv6 = true;
	p->dns_min_ttl = POLICY_DEFAULT_MIN_TTL;
	p->dns_max_ips_per_name = POLICY_DEFAULT_MAX_IPS;
	p->dns_cache_entries = POLICY_DEFAULT_DNS_CACHE;
}

static void free_domains(struct policy_domain *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(d[i].name);
	free(d);
}

void policy_free(struct policy *p)
{
	free_domains(p->allow_domains, p->n_allow_domains);
	free_domains(p->block_domains, p->n_block_domains);
	free(p->dns_servers);
	free(p->cidrs);
	port_table_free(&p->cidr_ports);
	free(p->cidr_index);
	free(p->allow_domain_index);
	free(p->block_domain_index);
	memset(p, 0, sizeof(*p));
}

/*
 * The array of n elements with room for one more. array_grow() keeps the
 * capacity a power of two, so struct policy needs no field to remember it:
 * the array is full when n is 0 or a power of two.
 */
static void *room_for_one(void *arr, size_t n, size_t size, char *err,
			  size_t errlen)
{
	size_t cap = n && (n & (n - 1)) ? n + 1 : n;

	if (array_grow(&arr, &cap, n + 1, size)) {
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	return arr;
}

/*
 * Open-addressing hash over one of the policy's lists, so that the
 * duplicate check of a merge is O(1) and a list of a million entries loads
 * in linear time. slot[] holds index + 1 (0: empty). It covers
 * list[0..n) and catches up lazily with entries written to the array
 * directly.
 */
struct policy_index {
	size_t cap; /* power of two, more than twice n */
	size_t n;
	uint32_t slot[];
};

/* How the entries of one list are hashed and compared. */
struct index_ops {
	size_t size;
	uint64_t (*hash)(const void *entry);
	bool (*same)(const void *a, const void *b);
};

#define FNV_OFFSET 14695981039346656037ULL
#define FNV_PRIME 1099511628211ULL

static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
	const unsigned char *c = data;

	for (size_t i = 0; i < len; i++)
		h = (h ^ c[i]) * FNV_PRIME;
	return h;
}

static uint64_t ports_hash(uint64_t h, const struct awf_port_set *ports)
{
	return fnv1a(h, ports->ranges, ports->count * sizeof(ports->ranges[0]));
}

/* Where the probe for an entry of hash h starts. */
static size_t index_home(const struct policy_index *x, uint64_t h)
{
	return (size_t)(h ^ (h >> 29)) & (x->cap - 1);
}

/*
 * The slot of an entry equal to entry (of hash h), or the empty slot
 * where it goes.
 */
static uint32_t *index_slot_hashed(struct policy_index *x, const void *list,
				   const struct index_ops *ops,
				   const void *entry, uint64_t h)
{
	size_t i = index_home(x, h);

	while (x->slot[i] &&
	       !ops->same((const char *)list + (x->slot[i] - 1) * ops->size,
			  entry))
		i = (i + 1) & (x->cap - 1);
	return &x->slot[i];
}

static uint32_t *index_slot(struct policy_index *x, const void *list,
			    const struct index_ops *ops, const void *entry)
{
	return index_slot_hashed(x, list, ops, entry, ops->hash(entry));
}

/* Index list[0..n) with room for `room` entries in all. */
static int index_sync_room(struct policy_index **xp, const void *list, size_t n,
			   size_t room, const struct index_ops *ops)
{
	struct policy_index *x = *xp;
	size_t cap = x ? x->cap : 64;

	while (cap < 2 * room + 2)
		cap *= 2;
	if (!x || cap != x->cap || x->n > n) {
		free(x);
		x = calloc(1, sizeof(*x) + cap * sizeof(x->slot[0]));
		*xp = x;
		if (!x)
			return -1;
		array_huge(x, sizeof(*x) + cap * sizeof(x->slot[0]));
		x->cap = cap;
	}
	for (; x->n < n; x->n++) {
		uint32_t *slot = index_slot(
			x, list, ops, (const char *)list + x->n * ops->size);

		if (!*slot)
			*slot = (uint32_t)x->n + 1;
	}
	return 0;
}

/* Index list[0..n) plus room for one more entry. */
static int index_sync(struct policy_index **xp, const void *list, size_t n,
		      const struct index_ops *ops)
{
	return index_sync_room(xp, list, n, n + 1, ops);
}

/* Room for n entries from the start: no rehash on the way there. */
static int index_reserve(struct policy_index **xp, size_t n)
{
	size_t cap = 64;

	if (*xp)
		return 0;
	while (cap < 2 * (n + 1) + 2)
		cap *= 2;
	*xp = calloc(1, sizeof(**xp) + cap * sizeof((*xp)->slot[0]));
	if (!*xp)
		return -1;
	array_huge(*xp, sizeof(**xp) + cap * sizeof((*xp)->slot[0]));
	(*xp)->cap = cap;
	return 0;
}

/*
 * Whether list already holds entry; if not, *slot is where the caller
 * records it (as its new index + 1) after appending it to list.
 */
static int index_lookup(struct policy_index **xp, const void *list, size_t n,
			const struct index_ops *ops, const void *entry,
			uint32_t **slot, char *err, size_t errlen)
{
	if (index_sync(xp, list, n, ops) < 0)
		return set_err(err, errlen, "out of memory");
	*slot = index_slot(*xp, list, ops, entry);
	return 0;
}

/* Entries the matcher would read against the writer's intent. */
static int check_domain(bool block, const struct policy_domain *d, char *err,
			size_t errlen)
{
	if (!d->subdomains && strncmp(d->name, "*.", 2) == 0)
		return set_err(
			err, errlen,
			"%s: \"subdomains\": false contradicts the leading \"*.\" (which matches at any depth)",
			d->name);
	/* A blocked TLD is harmless; an allowed one opens it to anyone. */
	if (!block && d->subdomains && !strchr(d->name, '.'))
		return set_err(
			err, errlen,
			"%s: a single-label name with subdomains covers a whole top-level domain (for the name alone use {\"domain\": \"%s\", \"subdomains\": false})",
			d->name, d->name);
	return 0;
}

static bool same_domain(const void *x, const void *y)
{
	const struct policy_domain *a = x, *b = y;

	return strcmp(a->name, b->name) == 0 &&
	       a->subdomains == b->subdomains && a->has_ports == b->has_ports &&
	       a->name_check == b->name_check && a->udp == b->udp &&
	       (!a->has_ports || port_set_equal(&a->ports, &b->ports));
}

static uint64_t domain_hash(const void *entry)
{
	const struct policy_domain *d = entry;
	unsigned char flags =
		(unsigned char)(d->subdomains | d->has_ports << 1 |
				d->name_check << 2 | d->udp << 3);
	uint64_t h = fnv1a(FNV_OFFSET, d->name, strlen(d->name) + 1);

	h = fnv1a(h, &flags, 1);
	return d->has_ports ? ports_hash(h, &d->ports) : h;
}

static const struct index_ops domain_ops = {
	.size = sizeof(struct policy_domain),
	.hash = domain_hash,
	.same = same_domain,
};

bool policy_checks_names(const struct policy *p)
{
	for (size_t i = 0; i < p->n_allow_domains; i++)
		if (p->allow_domains[i].name_check)
			return true;
	return false;
}

int policy_merge_domain(struct policy *p, bool block,
			const struct policy_domain *d, char *err, size_t errlen)
{
	struct policy_domain **list =
		block ? &p->block_domains : &p->allow_domains;
	size_t *n = block ? &p->n_block_domains : &p->n_allow_domains;
	struct policy_index **index =
		block ? &p->block_domain_index : &p->allow_domain_index;
	struct policy_domain copy = *d, *bigger;
	uint32_t *slot = NULL;

	if (check_domain(block, d, err, errlen) < 0 ||
	    index_lookup(index, *list, *n, &domain_ops, d, &slot, err, errlen) <
		    0)
		return -1;
	if (*slot)
		return 0;
	if (*n >= UINT32_MAX - 1)
		return set_err(err, errlen, "too many domain entries");
	bigger = room_for_one(*list, *n, sizeof(**list), err, errlen);
	if (!bigger)
		return -1;
	*list = bigger;
	copy.name = strdup(d->name);
	if (!copy.name)
		return set_err(err, errlen, "out of memory");
	bigger[(*n)++] = copy;
	*slot = (uint32_t)*n;
	(*index)->n = *n;
	return 0;
}

int policy_merge_domain_name(struct policy *p, bool block, const char *text,
			     char *err, size_t errlen)
{
	char name[POLICY_MAX_DOMAIN_LEN + 1];
	struct policy_domain d = { .name = name,
				   .subdomains = true,
				   .name_check = true };
	uint16_t port;

	text = domain_strip_scheme(text, &port);
	if (domain_normalize(text, name, sizeof(name), err, errlen) < 0)
		return -1;
	/* a blocked name is blocked on every port, whatever its scheme */
	if (port && !block) {
		d.has_ports = true;
		port_set_add(&d.ports, port, port);
	}
	return policy_merge_domain(p, block, &d, err, errlen);
}

/* Equal port sets have one id in cidr_ports. */
static bool same_cidr(const void *x, const void *y)
{
	const struct policy_cidr_entry *a = x, *b = y;

	return a->family == b->family && a->prefixlen == b->prefixlen &&
	       a->ports == b->ports &&
	       memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

/* Ports left out: entries differing only there share a chain. */
static uint64_t cidr_hash(const void *entry)
{
	const struct policy_cidr_entry *c = entry;
	uint64_t h = fnv1a(FNV_OFFSET, &c->family, sizeof(c->family));

	h = fnv1a(h, &c->prefixlen, sizeof(c->prefixlen));
	return fnv1a(h, c->addr, sizeof(c->addr));
}

static const struct index_ops cidr_ops = {
	.size = sizeof(struct policy_cidr_entry),
	.hash = cidr_hash,
	.same = same_cidr,
};

/* c as the policy keeps it, its ports interned in p->cidr_ports. */
static int cidr_entry_of(struct policy *p, const struct policy_cidr *c,
			 struct policy_cidr_entry *e, char *err, size_t errlen)
{
	memset(e, 0, sizeof(*e));
	e->family = (uint8_t)c->family;
	e->prefixlen = (uint8_t)c->prefixlen;
	memcpy(e->addr, c->addr, sizeof(e->addr));
	if (port_table_intern(&p->cidr_ports, &c->ports, &e->ports) < 0)
		return set_err(err, errlen, "out of memory");
	return 0;
}

/*
 * A list of a million outgrows the heap's mmap threshold, which glibc
 * raises as large blocks are freed: each doubling would then copy it.
 * policy_reserve_cidrs() allocates the file's count at once.
 */
static int push_cidr(struct policy *p, const struct policy_cidr_entry *e,
		     char *err, size_t errlen)
{
	if (p->n_cidrs >= p->cidrs_cap) {
		void *arr = p->cidrs;
		size_t cap = p->cidrs_cap;

		if (!cap && p->n_cidrs) /* filled by hand: full */
			cap = p->n_cidrs;
		if (array_grow(&arr, &cap, p->n_cidrs + 1, sizeof(*e)) < 0)
			return set_err(err, errlen, "out of memory");
		p->cidrs = arr;
		p->cidrs_cap = cap;
	}
	p->cidrs[p->n_cidrs++] = *e;
	return 0;
}

int policy_merge_cidr(struct policy *p, const struct policy_cidr *c, char *err,
		      size_t errlen)
{
	struct policy_cidr_entry e;
	uint32_t *slot = NULL;

	if (cidr_entry_of(p, c, &e, err, errlen) < 0 ||
	    index_lookup(&p->cidr_index, p->cidrs, p->n_cidrs, &cidr_ops, &e,
			 &slot, err, errlen) < 0)
		return -1;
	if (*slot)
		return 0;
	if (p->n_cidrs >= AWF_MAX_CIDRS)
		return set_err(err, errlen, "more than %d CIDR entries",
			       AWF_MAX_CIDRS);
	if (push_cidr(p, &e, err, errlen) < 0)
		return -1;
	*slot = (uint32_t)p->n_cidrs;
	p->cidr_index->n = p->n_cidrs;
	return 0;
}

int policy_append_cidr(struct policy *p, const struct policy_cidr *c, char *err,
		       size_t errlen)
{
	struct policy_cidr_entry e;

	/* at the limit, only a merge knows whether c is one more */
	if (p->n_cidrs >= AWF_MAX_CIDRS)
		return policy_settle_cidrs(p, err, errlen) < 0 ?
			       -1 :
			       policy_merge_cidr(p, c, err, errlen);
	if (cidr_entry_of(p, c, &e, err, errlen) < 0)
		return -1;
	return push_cidr(p, &e, err, errlen);
}

/* How far ahead policy_settle_cidrs() fetches index slots. */
#define SETTLE_AHEAD 16

int policy_settle_cidrs(struct policy *p, char *err, size_t errlen)
{
	struct policy_index *x = p->cidr_index;
	size_t from = x ? x->n : 0, n = p->n_cidrs, out = from;
	uint64_t hash[SETTLE_AHEAD];

	if (x && from == n)
		return 0;
	if (index_sync_room(&p->cidr_index, p->cidrs, from, n, &cidr_ops) < 0)
		return set_err(err, errlen, "out of memory");
	x = p->cidr_index;
	/*
	 * Entry i's slot is fetched, then entry i - SETTLE_AHEAD (whose hash
	 * it replaces in the ring) looked up; the kept entries move down to
	 * out, which trails both.
	 */
	for (size_t i = from; i < n + SETTLE_AHEAD; i++) {
		uint64_t *h = &hash[i % SETTLE_AHEAD];
		uint64_t next = 0;

		if (i < n) {
			next = cidr_ops.hash(&p->cidrs[i]);
			__builtin_prefetch(&x->slot[index_home(x, next)], 1);
		}
		if (i >= from + SETTLE_AHEAD) {
			size_t j = i - SETTLE_AHEAD;
			uint32_t *slot = index_slot_hashed(
				x, p->cidrs, &cidr_ops, &p->cidrs[j], *h);

			if (!*slot) {
				p->cidrs[out] = p->cidrs[j];
				*slot = (uint32_t)++out;
			}
		}
		*h = next;
	}
	p->n_cidrs = out;
	x->n = out;
	return 0;
}

void policy_drop_indexes(struct policy *p)
{
	free(p->cidr_index);
	free(p->allow_domain_index);
	free(p->block_domain_index);
	p->cidr_index = p->allow_domain_index = p->block_domain_index = NULL;
}

int policy_reserve_cidrs(struct policy *p, size_t n)
{
	void *arr = p->cidrs;

	if (n > AWF_MAX_CIDRS)
		n = AWF_MAX_CIDRS;
	if (n > p->cidrs_cap) {
		arr = reallocarray(arr, n, sizeof(*p->cidrs));
		if (!arr)
			return -1;
		array_huge(arr, n * sizeof(*p->cidrs));
		p->cidrs = arr;
		p->cidrs_cap = n;
	}
	return index_reserve(&p->cidr_index, n);
}

void policy_cidr_at(const struct policy *p, size_t i, struct policy_cidr *out)
{
	const struct policy_cidr_entry *e = &p->cidrs[i];

	memset(out, 0, sizeof(*out));
	out->family = e->family;
	out->prefixlen = e->prefixlen;
	memcpy(out->addr, e->addr, sizeof(out->addr));
	out->ports = p->cidr_ports.v[e->ports];
}

int policy_merge_dns_server(struct policy *p, const struct policy_addr *a,
			    char *err, size_t errlen)
{
	struct policy_addr *bigger;

	for (size_t i = 0; i < p->n_dns_servers; i++) {
		const struct policy_addr *o = &p->dns_servers[i];

		if (o->family == a->family && o->port == a->port &&
		    memcmp(o->addr, a->addr, sizeof(o->addr)) == 0)
			return 0;
	}
	bigger = room_for_one(p->dns_servers, p->n_dns_servers, sizeof(*bigger),
			      err, errlen);
	if (!bigger)
		return -1;
	p->dns_servers = bigger;
	p->dns_servers[p->n_dns_servers++] = *a;
	return 0;
}

int policy_parse_dns_server(struct policy_addr *out, const char *text,
			    char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	out->port = AWF_DNS_PORT;
	return ip_parse(text, &out->family, out->addr, err, errlen);
}

/*
 * A single port 1-65535 after the host part of "HOST:PORT": decimal digits
 * only, so that one message covers 0, 70000, "" and "80-90" alike.
 */
static int parse_proxy_port(const char *text, uint16_t *port, char *err,
			    size_t errlen)
{
	size_t len = strspn(text, "0123456789");
	unsigned long v = len && len <= 5 ? strtoul(text, NULL, 10) : 0;

	if (text[len] || v == 0 || v > 65535)
		return set_err(err, errlen,
			       "proxy port \"%s\": expected one port 1-65535",
			       text);
	*port = (uint16_t)v;
	return 0;
}

static int parse_proxy(struct policy_addr *out, const char *text, char *err,
		       size_t errlen)
{
	char host[IP_TEXT_LEN];
	const char *start = text, *end, *colon;

	memset(out, 0, sizeof(*out));
	if (*text == '[') {
		start = text + 1;
		end = strchr(start, ']');
		colon = end && end[1] == ':' ? end + 1 : NULL;
	} else {
		end = colon = strrchr(text, ':');
		if (colon && memchr(text, ':', (size_t)(colon - text)))
			return set_err(
				err, errlen,
				"%s: write an IPv6 proxy as [ADDRESS]:PORT",
				text);
	}
	if (!colon || (size_t)(end - start) >= sizeof(host))
		return set_err(err, errlen,
			       "%s: expected IP:PORT or [IPv6]:PORT", text);
	memcpy(host, start, (size_t)(end - start));
	host[end - start] = '\0';
	if (ip_parse(host, &out->family, out->addr, err, errlen) < 0)
		return -1;
	return parse_proxy_port(colon + 1, &out->port, err, errlen);
}

/* Parsed aside first: a bad value must not half-replace a good one. */
int policy_merge_proxy(struct policy *p, const char *text, char *err,
		       size_t errlen)
{
	struct policy_addr proxy;

	if (parse_proxy(&proxy, text, err, errlen) < 0)
		return -1;
	p->proxy = proxy;
	p->has_proxy = true;
	return 0;
}

int policy_parse_localhost_mode(enum awf_localhost_mode *out, const char *name,
				char *err, size_t errlen)
{
	for (size_t i = 0; i < N_MODES; i++) {
		if (strcmp(name, localhost_modes[i]) == 0) {
			*out = (enum awf_localhost_mode)i;
			return 0;
		}
	}
	return set_err(
		err, errlen,
		"%s: unknown localhost mode (expected sandbox, allow or deny)",
		name);
}

const char *policy_localhost_mode_name(unsigned int mode)
{
	return mode < N_MODES && localhost_modes[mode] ? localhost_modes[mode] :
							 "unknown";
}
