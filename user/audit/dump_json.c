// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <bpf/bpf.h>

#include "audit/audit_codes.h"
#include "audit/audit_log.h"
#include "audit/served_ports.h"
#include "common/array.h"
#include "common/error.h"
#include "common/log.h"
#include "kernel/counters.h"
#include "kernel/map_batch.h"
#include "audit/dump_json.h"
#include "dns/learned.h"
#include "policy/policy.h"
#include "policy/policy_json.h"
#include "run/cgroup.h"

#define NS_PER_S 1000000000LL

static void add_str(json_object *o, const char *key, const char *val)
{
	json_object_object_add(o, key, json_object_new_string(val));
}

static void add_int(json_object *o, const char *key, int64_t val)
{
	json_object_object_add(o, key, json_object_new_int64(val));
}

/* Fixed-size fields of a map value: never trust a NUL to be there. */
static void add_field(json_object *o, const char *key, const char *field,
		      size_t len)
{
	json_object_object_add(
		o, key,
		json_object_new_string_len(field, (int)strnlen(field, len)));
}

static void addr_text(int family, const void *addr, char *buf, size_t len)
{
	if (!inet_ntop(family, addr, buf, len))
		snprintf(buf, len, "?");
}

static json_object *command_json(const struct awf_meta *m)
{
	json_object *arr = json_object_new_array();
	size_t off = 0;

	for (uint32_t i = 0; i < m->argc && off < sizeof(m->cmdline); i++) {
		size_t n = strnlen(m->cmdline + off, sizeof(m->cmdline) - off);

		json_object_array_add(arr, json_object_new_string_len(
						   m->cmdline + off, (int)n));
		off += n + 1;
	}
	return arr;
}

static json_object *counters_json(const struct pinned *p)
{
	uint64_t c[AWF_C_MAX];
	int fd = pinned_fd(p, "counters");

	if (fd < 0 || counters_read(fd, c))
		return NULL;
	return counters_to_json(c);
}

static void identity_json(json_object *o, const struct pinned *p)
{
	const struct awf_meta *m = &p->meta;
	char time[64];

	add_str(o, "sandbox", p->id);
	json_object_object_add(o, "alive",
			       json_object_new_boolean(pinned_alive(p)));
	if (!p->has_meta)
		return;
	add_int(o, "pid", m->pid);
	add_int(o, "workload_pid", m->workload_pid);
	add_int(o, "uid", m->uid);
	add_field(o, "user", m->user, sizeof(m->user));
	json_object_object_add(o, "command", command_json(m));
	audit_real_time(m->start_realtime_ns, time, sizeof(time));
	add_str(o, "started", time);
	add_int(o, "cgroup_id", (int64_t)m->cgroup_id);
	json_object_object_add(
		o, "audit_log",
		m->audit_log[0] ? json_object_new_string_len(
					  m->audit_log,
					  (int)strnlen(m->audit_log,
						       sizeof(m->audit_log))) :
				  NULL);
}

/* ------------------------------------------------------------- policy */

static json_object *dns_servers_json(const struct awf_meta *m)
{
	json_object *arr = json_object_new_array();
	char buf[INET6_ADDRSTRLEN];

	for (uint32_t i = 0; i < m->n_dns_servers && i < AWF_META_MAX_DNS;
	     i++) {
		addr_text(m->dns_servers[i].family, m->dns_servers[i].addr, buf,
			  sizeof(buf));
		json_object_array_add(arr, json_object_new_string(buf));
	}
	return arr;
}

json_object *dump_proxy_json(const struct awf_config *cfg)
{
	char addr[INET6_ADDRSTRLEN], buf[INET6_ADDRSTRLEN + 16];
	int family = cfg->proxy_family == AF_INET6 ? AF_INET6 : AF_INET;

	if (!cfg->proxy_enabled)
		return NULL;
	addr_text(family, cfg->proxy_addr, addr, sizeof(addr));
	snprintf(buf, sizeof(buf), family == AF_INET6 ? "[%s]:%u" : "%s:%u",
		 addr, cfg->proxy_port);
	return json_object_new_string(buf);
}

static int domain_cmp(const void *a, const void *b)
{
	const struct awf_domain_key *x = a, *y = b;

	if (x->list != y->list)
		return x->list < y->list ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * A hash map that changes under get_next_key may restart from its first
 * key: drop the repeats this gives once sorted.
 */
static size_t dedup(char *keys, size_t n, size_t key_size)
{
	size_t out = n ? 1 : 0;

	for (size_t i = 1; i < n; i++) {
		if (!memcmp(keys + (out - 1) * key_size, keys + i * key_size,
			    key_size))
			continue;
		memmove(keys + out * key_size, keys + i * key_size, key_size);
		out++;
	}
	return out;
}

/* Keys of a map, sorted by cmp; *n of them. NULL when none or on error. */
void *dump_map_keys(int fd, size_t key_size, size_t max,
		    int (*cmp)(const void *, const void *), size_t *n)
{
	char *keys = NULL, *prev = NULL;
	size_t cap = 0;

	*n = 0;
	if (fd < 0)
		return NULL;
	for (;;) {
		if (*n >= max ||
		    array_grow((void **)&keys, &cap, *n + 1, key_size))
			break;
		prev = *n ? keys + (*n - 1) * key_size : NULL;
		if (bpf_map_get_next_key(fd, prev, keys + *n * key_size))
			break; /* ENOENT: the last one */
		(*n)++;
	}
	if (*n && cmp) {
		qsort(keys, *n, key_size, cmp);
		*n = dedup(keys, *n, key_size);
	}
	return keys;
}

static json_object *domain_json(const struct awf_domain_key *k,
				const struct awf_domain *d)
{
	json_object *o = json_object_new_object();

	add_int(o, "id", k->id);
	add_field(o, "domain", d->name, sizeof(d->name));
	json_object_object_add(o, "subdomains",
			       json_object_new_boolean(d->subdomains));
	if (k->list == AWF_DOM_ALLOW)
		json_object_object_add(o, "ports", port_set_to_json(&d->ports));
	return o;
}

static void domains_json(json_object *policy, const struct pinned *p)
{
	json_object *allow = json_object_new_array();
	json_object *block = json_object_new_array();
	int fd = pinned_fd(p, "domains");
	struct awf_domain_key *keys;
	struct awf_domain d;
	size_t n;

	keys = dump_map_keys(fd, sizeof(*keys), AWF_MAX_DOMAINS, domain_cmp,
			     &n);
	for (size_t i = 0; i < n; i++) {
		if (bpf_map_lookup_elem(fd, &keys[i], &d))
			continue;
		json_object_array_add(keys[i].list == AWF_DOM_ALLOW ? allow :
								      block,
				      domain_json(&keys[i], &d));
	}
	free(keys);
	json_object_object_add(policy, "allow_domains", allow);
	json_object_object_add(policy, "block_domains", block);
	/* The map holds AWF_MAX_DOMAINS at most. */
	json_object_object_add(
		policy, "domains_truncated",
		json_object_new_boolean(n < (size_t)p->meta.n_allow_domains +
						    p->meta.n_block_domains));
}

static json_object *policy_json(const struct pinned *p)
{
	const struct awf_meta *m = &p->meta;
	json_object *o = json_object_new_object();
	json_object *lo = json_object_new_object();
	json_object *dns = json_object_new_object();

	domains_json(o, p);
	json_object_object_add(o, "ports", port_set_to_json(&m->default_ports));
	json_object_object_add(o, "dns_servers", dns_servers_json(m));
	add_str(lo, "mode", policy_localhost_mode_name(m->cfg.localhost_mode));
	json_object_object_add(lo, "ports", port_set_to_json(&m->cfg.lo_ports));
	json_object_object_add(o, "localhost", lo);
	json_object_object_add(o, "proxy", dump_proxy_json(&m->cfg));
	json_object_object_add(o, "ipv6",
			       json_object_new_boolean(m->cfg.ipv6_enabled));
	add_int(dns, "min_ttl", m->dns_min_ttl);
	add_int(dns, "max_ips_per_name", m->dns_max_ips_per_name);
	json_object_object_add(o, "dns", dns);
	add_str(o, "audit", m->cfg.audit_allowed ? "all" : "denied");
	add_str(o, "mode", m->cfg.audit_only ? "audit" : "enforce");
	add_int(o, "dns_endpoint_port", m->cfg.dns_port);
	return o;
}

/* -------------------------------------------------------------- CIDRs */

int dump_cidr_cmp(const void *xaddr, const void *yaddr, size_t len,
		  uint32_t xplen, uint32_t yplen)
{
	int c = memcmp(xaddr, yaddr, len);

	return c ? c : (xplen > yplen) - (xplen < yplen);
}

static int cidr4_cmp(const void *a, const void *b)
{
	const struct awf_cidr4_key *x = a, *y = b;

	return dump_cidr_cmp(x->addr, y->addr, sizeof(x->addr), x->prefixlen,
			     y->prefixlen);
}

static int cidr6_cmp(const void *a, const void *b)
{
	const struct awf_cidr6_key *x = a, *y = b;

	return dump_cidr_cmp(x->addr, y->addr, sizeof(x->addr), x->prefixlen,
			     y->prefixlen);
}

static const char *rule_kind(uint32_t kind)
{
	switch (kind) {
	case AWF_RULE_ALLOW:
		return "allow";
	case AWF_RULE_RESERVED:
		return "reserved";
	case AWF_RULE_LOCAL:
		return "local";
	}
	return "unknown";
}

json_object *dump_cidr_json(int family, const void *addr, uint32_t prefixlen,
			    const struct awf_rule *r)
{
	json_object *o = json_object_new_object();
	char a[INET6_ADDRSTRLEN], buf[INET6_ADDRSTRLEN + 8];

	addr_text(family, addr, a, sizeof(a));
	snprintf(buf, sizeof(buf), "%s/%u", a, prefixlen);
	add_str(o, "cidr", buf);
	add_str(o, "kind", rule_kind(r->kind));
	if (r->kind == AWF_RULE_ALLOW) {
		add_int(o, "rule_id", r->id);
		json_object_object_add(o, "ports", port_set_to_json(&r->ports));
	}
	return o;
}

/* One CIDR entry as dumped: its key in the trie's layout, its rule. */
struct cidr_rec {
	uint8_t key[sizeof(struct awf_slot_cidr6_key)];
	struct awf_rule rule;
};

struct cidr_recs {
	struct cidr_rec *v;
	size_t n, cap;
};

static int rec_cmp(const void *a, const void *b, void *t)
{
	const struct cidr_rec *x = a, *y = b;

	return ((const struct dump_trie *)t)->cmp(x->key, y->key);
}

static struct cidr_rec *rec_add(struct cidr_recs *r)
{
	if (array_grow((void **)&r->v, &r->cap, r->n + 1, sizeof(*r->v)))
		return NULL;
	memset(&r->v[r->n], 0, sizeof(r->v[r->n]));
	return &r->v[r->n++];
}

/* An exact table and the port sets its slots name, read whole. */
struct exact_read {
	uint8_t *slots;
	uint32_t n_slots, slot_size;
	struct awf_port_set *ports;
	uint32_t n_ports;
};

/* A used slot (kind set) of an exact table as a record; 0: one added. */
static int exact_rec(struct cidr_recs *r, const struct dump_trie *t,
		     const struct exact_read *x, const void *slot)
{
	struct awf_exact6_slot s6 = { 0 };
	size_t alen = t->family == AF_INET ? 4 : 16;
	uint32_t full = (uint32_t)alen * 8;
	struct cidr_rec *rec;

	if (t->family == AF_INET) {
		const struct awf_exact4_slot *s4 = slot;

		memcpy(s6.addr, s4->addr, 4);
		s6.id = s4->id;
		s6.ports = s4->ports;
		s6.kind = s4->kind;
	} else {
		memcpy(&s6, slot, sizeof(s6));
	}
	if (!s6.kind)
		return 1;
	rec = rec_add(r);
	if (!rec)
		return -1;
	memcpy(rec->key, &full, sizeof(full));
	memcpy(rec->key + t->addr_off, s6.addr, alen);
	rec->rule.id = s6.id;
	rec->rule.kind = s6.kind;
	if (s6.ports < x->n_ports)
		rec->rule.ports = x->ports[s6.ports];
	return 0;
}

/* An array map's every value: *n of size *size each; NULL if unreadable. */
static void *read_whole_array(int fd, uint32_t max_size, uint32_t *n,
			      uint32_t *size)
{
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);
	void *v;

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) ||
	    info.value_size > max_size)
		return NULL;
	v = array_map((size_t)info.max_entries * info.value_size);
	if (v && map_read_array(fd, info.value_size, info.max_entries, v)) {
		array_unmap(v, (size_t)info.max_entries * info.value_size);
		return NULL;
	}
	*n = info.max_entries;
	*size = info.value_size;
	return v;
}

/* Every used slot of t's exact table, read in batches. */
static void add_exact_recs(struct cidr_recs *r, const struct dump_trie *t)
{
	struct exact_read x = { 0 };
	uint32_t port_size = 0;

	x.slots = read_whole_array(t->exact_fd, sizeof(struct awf_exact6_slot),
				   &x.n_slots, &x.slot_size);
	x.ports = read_whole_array(t->ports_fd, sizeof(struct awf_port_set),
				   &x.n_ports, &port_size);
	if (x.ports && port_size != sizeof(struct awf_port_set)) {
		array_unmap(x.ports, (size_t)x.n_ports * port_size);
		x.ports = NULL;
		x.n_ports = 0;
	}
	for (uint32_t k = 0; x.slots && k < x.n_slots; k++)
		if (exact_rec(r, t, &x, x.slots + (size_t)k * x.slot_size) < 0)
			break;
	if (x.slots)
		array_unmap(x.slots, (size_t)x.n_slots * x.slot_size);
	if (x.ports)
		array_unmap(x.ports, (size_t)x.n_ports * port_size);
}

void dump_trie_json(json_object *arr, const struct dump_trie *t)
{
	size_t n;
	uint8_t *keys =
		dump_map_keys(t->fd, t->key_size, AWF_MAX_CIDRS, t->cmp, &n);
	struct cidr_recs r = { 0 };
	struct awf_rule rule;

	for (size_t i = 0; i < n; i++) {
		const uint8_t *key = keys + i * t->key_size;
		struct cidr_rec *rec;

		if (bpf_map_lookup_elem(t->fd, key, &rule) ||
		    !(rec = rec_add(&r)))
			continue;
		memcpy(rec->key, key, t->key_size);
		rec->rule = rule;
	}
	free(keys);
	if (t->has_exact) {
		add_exact_recs(&r, t);
		qsort_r(r.v, r.n, sizeof(*r.v), rec_cmp, (void *)t);
	}
	for (size_t i = 0; i < r.n; i++) {
		const uint8_t *key = r.v[i].key;
		uint32_t prefixlen, slot;

		memcpy(&prefixlen, key, sizeof(prefixlen));
		if (t->slot_bits) {
			memcpy(&slot, key + sizeof(prefixlen), sizeof(slot));
			if (ntohl(slot) != t->slot || prefixlen < t->slot_bits)
				continue;
			prefixlen -= t->slot_bits;
		}
		json_object_array_add(
			arr, dump_cidr_json(t->family, key + t->addr_off,
					    prefixlen, &r.v[i].rule));
	}
	free(r.v);
}

static void cidrs_json(json_object *arr, const struct pinned *p)
{
	const struct dump_trie tries[] = {
		{ .fd = pinned_fd(p, "cidr4"),
		  .family = AF_INET,
		  .key_size = sizeof(struct awf_cidr4_key),
		  .addr_off = offsetof(struct awf_cidr4_key, addr),
		  .cmp = cidr4_cmp,
		  .has_exact = true,
		  .exact_fd = pinned_fd(p, "cidr_exact4"),
		  .ports_fd = pinned_fd(p, "cidr_ports") },
		{ .fd = pinned_fd(p, "cidr6"),
		  .family = AF_INET6,
		  .key_size = sizeof(struct awf_cidr6_key),
		  .addr_off = offsetof(struct awf_cidr6_key, addr),
		  .cmp = cidr6_cmp,
		  .has_exact = true,
		  .exact_fd = pinned_fd(p, "cidr_exact6"),
		  .ports_fd = pinned_fd(p, "cidr_ports") },
	};

	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++)
		dump_trie_json(arr, &tries[i]);
}

/* ------------------------------------------------------------ learned */

static int key4_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 4);
}

static int key6_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

json_object *dump_learned_json(int family, const void *addr,
			       const struct awf_learned *l, int names_fd,
			       const void *name_key, int64_t now)
{
	json_object *o = json_object_new_object();
	struct awf_name name;
	char buf[INET6_ADDRSTRLEN];
	int64_t left = (int64_t)l->expires_ns - now;

	addr_text(family, addr, buf, sizeof(buf));
	add_str(o, "address", buf);
	add_str(o, "family", family == AF_INET6 ? "ipv6" : "ipv4");
	if (names_fd >= 0 &&
	    !bpf_map_lookup_elem(names_fd, name_key ? name_key : &l->name_id,
				 &name))
		add_field(o, "name", name.name, sizeof(name.name));
	else
		json_object_object_add(o, "name", NULL);
	add_int(o, "name_id", l->name_id);
	add_int(o, "rule_id", l->rule_id);
	json_object_object_add(o, "ports", port_set_to_json(&l->ports));
	add_int(o, "expires_in_s", left > 0 ? left / NS_PER_S : 0);
	json_object_object_add(o, "expired",
			       json_object_new_boolean(left <= 0));
	return o;
}

/* The addresses of one family's learned map: its keys are the address. */
static void learned_family_json(json_object *arr, int fd, int family,
				size_t key_size,
				int (*cmp)(const void *, const void *),
				int names, int64_t now)
{
	size_t n;
	uint8_t *keys = dump_map_keys(fd, key_size, AWF_MAX_LEARNED, cmp, &n);
	struct awf_learned l;

	for (size_t i = 0; i < n; i++) {
		const uint8_t *key = keys + i * key_size;

		if (!bpf_map_lookup_elem(fd, key, &l))
			json_object_array_add(
				arr, dump_learned_json(family, key, &l, names,
						       NULL, now));
	}
	free(keys);
}

static void learned_all_json(json_object *arr, const struct pinned *p)
{
	int names = pinned_fd(p, "names");
	int64_t now = (int64_t)learned_now_ns();

	learned_family_json(arr, pinned_fd(p, "learned4"), AF_INET,
			    sizeof(uint32_t), key4_cmp, names, now);
	learned_family_json(arr, pinned_fd(p, "learned6"), AF_INET6,
			    sizeof(struct awf_ip6_key), key6_cmp, names, now);
}

/* ----------------------------------------------------------- lo_ports */

json_object *dump_lo_port_json(uint16_t port, uint8_t proto_num, uint32_t refs)
{
	json_object *o = json_object_new_object();
	const char *proto = proto_code(proto_num);

	add_int(o, "port", port);
	if (proto)
		add_str(o, "proto", proto);
	else
		add_int(o, "proto", proto_num);
	add_int(o, "refs", refs);
	return o;
}

/*
 * From the sockets of the sandbox's processes (served_ports.h): nothing
 * counts the ports as sockets come and go.
 */
static void lo_ports_json(json_object *arr, const struct pinned *p)
{
	char root[PATH_MAX], cg[PATH_MAX], err[256];
	int fd = pinned_fd(p, "sk_state");
	struct served_port *ports;
	size_t n;

	if (fd < 0)
		return;
	if (cgroup2_root(root, sizeof(root), err, sizeof(err)) ||
	    (cgroup_sandbox_path(cg, sizeof(cg), root, p->id) &&
	     set_err(err, sizeof(err), "%s: cgroup path too long", root)) ||
	    served_ports(fd, cg, &ports, &n, err, sizeof(err))) {
		log_warn("%s: the loopback ports it serves: %s", p->id, err);
		return;
	}
	for (size_t i = 0; i < n; i++)
		json_object_array_add(arr, dump_lo_port_json(ports[i].port,
							     ports[i].proto,
							     ports[i].refs));
	free(ports);
}

json_object *dump_sandbox_json(const struct pinned *p, bool full)
{
	json_object *o = json_object_new_object();
	json_object *cidrs, *learned, *lo;

	if (!o)
		return NULL;
	identity_json(o, p);
	json_object_object_add(o, "counters", counters_json(p));
	if (!full || !p->has_meta)
		return o;
	json_object_object_add(o, "policy", policy_json(p));
	cidrs = json_object_new_array();
	cidrs_json(cidrs, p);
	json_object_object_add(o, "cidrs", cidrs);
	learned = json_object_new_array();
	learned_all_json(learned, p);
	json_object_object_add(o, "learned", learned);
	lo = json_object_new_array();
	lo_ports_json(lo, p);
	json_object_object_add(o, "lo_ports", lo);
	return o;
}
