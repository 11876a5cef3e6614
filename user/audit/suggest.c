// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "audit/audit_codes.h"
#include "audit/suggest.h"
#include "common/array.h"
#include "common/error.h"
#include "common/optlib.h"
#include "kernel/verdict.h"
#include "policy/cidr.h"
#include "policy/domain.h"
#include "policy/policy_cli.h"
#include "policy/ports.h"

/* Ports in ascending order, each once. */
struct port_list {
	uint16_t *v;
	size_t n;
	size_t cap;
};

struct used_name {
	char name[POLICY_MAX_DOMAIN_LEN + 1];
	struct port_list tcp;
	struct port_list udp;
	bool no_name_check; /* a connection to it sent no checkable name */
};

struct used_addr {
	int family;
	uint8_t addr[16];
	struct port_list tcp;
	struct port_list udp;
};

struct suggest {
	FILE *notes;
	struct used_name *names;
	size_t n_names;
	size_t cap_names;
	struct used_addr *addrs;
	size_t n_addrs;
	size_t cap_addrs;
	struct port_list lo_ports;
	uint64_t never[AWF_R_MAX]; /* denials no policy allows, by reason */
	uint64_t lost;
	uint64_t unknown_kinds;
	bool oom;
};

/* What one record says was used. */
struct use {
	const char *origin;
	json_object *rec;
	bool tried; /* a plain (enforced) denial */
	unsigned int reason;
};

struct suggest *suggest_new(FILE *notes)
{
	struct suggest *s = calloc(1, sizeof(*s));

	if (s)
		s->notes = notes;
	return s;
}

static void port_list_free(struct port_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

void suggest_free(struct suggest *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_names; i++) {
		port_list_free(&s->names[i].tcp);
		port_list_free(&s->names[i].udp);
	}
	for (size_t i = 0; i < s->n_addrs; i++) {
		port_list_free(&s->addrs[i].tcp);
		port_list_free(&s->addrs[i].udp);
	}
	free(s->names);
	free(s->addrs);
	port_list_free(&s->lo_ports);
	free(s);
}

/* 1 when port is new to l, 0 when it was there, -1 out of memory. */
static int port_list_add(struct port_list *l, uint16_t port)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (l->v[mid] == port)
			return 0;
		if (l->v[mid] < port)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (array_grow((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v)))
		return -1;
	memmove(l->v + lo + 1, l->v + lo, (l->n - lo) * sizeof(*l->v));
	l->v[lo] = port;
	l->n++;
	return 1;
}

static void note(const struct suggest *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void note(const struct suggest *s, const char *fmt, ...)
{
	char line[AWF_ERR_LEN];
	va_list ap;

	if (!s->notes)
		return;
	va_start(ap, fmt);
	set_verr(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(s->notes, "awf-bpf: policy suggest: %s\n", line);
}

/* Adds port to l; a denied destination new to the list gets its note. */
static void use_port(struct suggest *s, const struct use *u,
		     struct port_list *l, uint16_t port, const char *what)
{
	int added = port_list_add(l, port);

	if (added < 0)
		s->oom = true;
	else if (added && u->tried)
		note(s,
		     "%s: %s port %u was denied (%s) in the audited run; suggested because the job tried it",
		     u->origin, what, port, reason_code(u->reason));
}

/*
 * A name as the policy writes it, or NULL: a name the log escaped, an
 * address, a pattern are no entry.
 */
static struct used_name *name_slot(struct suggest *s, const struct use *u,
				   const char *raw)
{
	char name[POLICY_MAX_DOMAIN_LEN + 1], why[AWF_ERR_LEN];

	if (!raw[0])
		return NULL;
	if (strchr(raw, '\\') || strchr(raw, '*') ||
	    domain_normalize(raw, name, sizeof(name), why, sizeof(why)) < 0) {
		note(s,
		     "%s: name \"%s\" cannot be a policy entry; not suggested",
		     u->origin, raw);
		return NULL;
	}
	for (size_t i = 0; i < s->n_names; i++)
		if (!strcmp(s->names[i].name, name))
			return &s->names[i];
	if (array_grow((void **)&s->names, &s->cap_names, s->n_names + 1,
		       sizeof(*s->names))) {
		s->oom = true;
		return NULL;
	}
	memset(&s->names[s->n_names], 0, sizeof(*s->names));
	strcpy(s->names[s->n_names].name, name);
	if (u->tried && u->reason != AWF_R_PORT_NOT_ALLOWED)
		note(s,
		     "%s: %s was denied (%s) in the audited run; suggested because the job tried it",
		     u->origin, name, reason_code(u->reason));
	return &s->names[s->n_names++];
}

static struct used_addr *addr_slot(struct suggest *s, int family,
				   const uint8_t *addr)
{
	size_t len = family == AF_INET ? 4 : 16;
	struct used_addr *a;

	for (size_t i = 0; i < s->n_addrs; i++)
		if (s->addrs[i].family == family &&
		    !memcmp(s->addrs[i].addr, addr, len))
			return &s->addrs[i];
	if (array_grow((void **)&s->addrs, &s->cap_addrs, s->n_addrs + 1,
		       sizeof(*s->addrs))) {
		s->oom = true;
		return NULL;
	}
	a = &s->addrs[s->n_addrs++];
	memset(a, 0, sizeof(*a));
	a->family = family;
	memcpy(a->addr, addr, len);
	return a;
}

/* A member as text; "" when absent or null. */
static const char *str_member(json_object *rec, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(rec, key, &v) || !v)
		return "";
	return json_object_get_string(v);
}

static int64_t int_member(json_object *rec, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(rec, key, &v) || !v)
		return -1;
	return json_object_get_int64(v);
}

static bool has_member(json_object *rec, const char *key)
{
	return json_object_object_get_ex(rec, key, NULL);
}

static bool is_udp(json_object *rec)
{
	const char *proto = str_member(rec, "proto");

	return !strcmp(proto, "udp") || int_member(rec, "proto") == 17;
}

static void use_name_port(struct suggest *s, const struct use *u,
			  const char *raw, int64_t port, bool udp)
{
	struct used_name *n = name_slot(s, u, raw);

	if (!n || port <= 0 || port > 65535)
		return;
	use_port(s, u, udp ? &n->udp : &n->tcp, (uint16_t)port, n->name);
}

/* A destination reached by address: loopback rules, or the address. */
static void use_address(struct suggest *s, const struct use *u)
{
	const char *dst = str_member(u->rec, "dst");
	int64_t port = int_member(u->rec, "dport");
	char why[AWF_ERR_LEN], what[IP_TEXT_LEN + 16];
	uint8_t addr[16];
	struct used_addr *a;
	int family;

	if (port <= 0 || port > 65535 ||
	    ip_parse(dst, &family, addr, why, sizeof(why)) < 0)
		return;
	if (u->reason == AWF_R_LOOPBACK) {
		use_port(s, u, &s->lo_ports, (uint16_t)port, "localhost");
		return;
	}
	a = addr_slot(s, family, addr);
	if (!a)
		return;
	snprintf(what, sizeof(what), "%s", dst);
	use_port(s, u, is_udp(u->rec) ? &a->udp : &a->tcp, (uint16_t)port,
		 what);
}

/* connect, sendmsg: a name's learned address, or an address. */
static void use_net(struct suggest *s, const struct use *u)
{
	switch (u->reason) {
	case AWF_R_DNS_REDIRECT: /* our own resolver */
		return;
	case AWF_R_LOOPBACK:
	case AWF_R_CIDR:
	case AWF_R_PROXY:
		use_address(s, u);
		return;
	case AWF_R_LEARNED:
	case AWF_R_NOT_IN_POLICY:
	case AWF_R_PORT_NOT_ALLOWED:
	case AWF_R_IPV6_DISABLED:
	case AWF_R_PROXY_ONLY:
	case AWF_R_UDP_TO_NAME:
		if (has_member(u->rec, "domain"))
			use_name_port(s, u, str_member(u->rec, "domain"),
				      int_member(u->rec, "dport"),
				      is_udp(u->rec));
		else
			use_address(s, u);
		return;
	}
	s->never[u->reason]++;
}

/* tls, http, payload: the first bytes of a connection to a learned address. */
static void use_first_bytes(struct suggest *s, const struct use *u)
{
	const char *domain = str_member(u->rec, "domain");
	int64_t port = int_member(u->rec, "dport");
	struct used_name *n;

	switch (u->reason) {
	case AWF_R_NAME_OK:
	case AWF_R_TLS_NAME:
	case AWF_R_HTTP_HOST:
		use_name_port(s, u, str_member(u->rec, "name"), port, false);
		return;
	case AWF_R_NO_NAME:
	case AWF_R_NOT_TLS_OR_HTTP:
	case AWF_R_HELLO_UNCHECKABLE:
	case AWF_R_NAME_UNCHECKED:
		/* its client cannot name it: the entry skips the check */
		n = name_slot(s, u, domain);
		if (!n)
			break;
		if (!n->no_name_check && u->tried)
			note(s,
			     "%s: a connection to %s sent no name it could be checked for (%s); suggested with \"name_check\": false",
			     u->origin, n->name, reason_code(u->reason));
		n->no_name_check = true;
		if (port > 0 && port <= 65535)
			use_port(s, u, &n->tcp, (uint16_t)port, n->name);
		return;
	}
	s->never[u->reason]++;
}

static void use_dns(struct suggest *s, const struct use *u)
{
	switch (u->reason) {
	case AWF_R_DNS_ALLOWED:
	case AWF_R_NAME_NOT_ALLOWED:
	/* the policy allowed the name; the answer failed */
	case AWF_R_DNS_UPSTREAM_FAILURE:
	case AWF_R_DNS_BAD_ANSWER:
		name_slot(s, u, str_member(u->rec, "name"));
		return;
	}
	s->never[u->reason]++;
}

void suggest_add_record(struct suggest *s, json_object *rec, const char *origin)
{
	const char *kind = str_member(rec, "event");
	const char *verdict = str_member(rec, "verdict");
	json_object *audit_only;
	int reason = reason_from_code(str_member(rec, "reason"));
	struct use u = { .origin = origin, .rec = rec };

	if (!strcmp(kind, "lost")) {
		int64_t count = int_member(rec, "count");

		s->lost += count > 0 ? (uint64_t)count : 0;
		return;
	}
	if (!strcmp(kind, "start") || !strcmp(kind, "end"))
		return;
	if (reason < 0 || !strcmp(verdict, "redirect")) {
		s->unknown_kinds += reason < 0;
		return;
	}
	u.reason = (unsigned int)reason;
	u.tried = strcmp(verdict, "allow") != 0 &&
		  !(json_object_object_get_ex(rec, "audit_only", &audit_only) &&
		    json_object_get_boolean(audit_only));
	if (!strcmp(kind, "dns"))
		use_dns(s, &u);
	else if (!strcmp(kind, "connect") || !strcmp(kind, "sendmsg"))
		use_net(s, &u);
	else if (!strcmp(kind, "tls") || !strcmp(kind, "http") ||
		 !strcmp(kind, "payload"))
		use_first_bytes(s, &u);
	else if (!strcmp(kind, "packet") || !strcmp(kind, "bind") ||
		 !strcmp(kind, "socket"))
		s->never[u.reason]++;
	else
		s->unknown_kinds++;
}

int suggest_add_file(struct suggest *s, const char *path, char *err,
		     size_t errlen)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "re") : stdin;
	char *line = NULL, origin[PATH_MAX + 24];
	unsigned long line_no = 0;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	if (!f)
		return set_err(err, errlen, "%s: %s", path, strerror(errno));
	while (rc == 0 && (n = getline(&line, &cap, f)) >= 0) {
		json_object *rec;

		line_no++;
		if (strspn(line, " \t\r\n") == (size_t)n)
			continue;
		rec = json_tokener_parse(line);
		if (!rec || !json_object_is_type(rec, json_type_object)) {
			rc = set_err(
				err, errlen,
				"%s:%lu: not a JSON object (an audit log has one per line)",
				path, line_no);
		} else {
			snprintf(origin, sizeof(origin), "%s:%lu", path,
				 line_no);
			suggest_add_record(s, rec, origin);
		}
		json_object_put(rec);
	}
	if (rc == 0 && ferror(f))
		rc = set_err(err, errlen, "%s: %s", path, strerror(errno));
	free(line);
	if (f != stdin)
		fclose(f);
	return rc;
}

/* ------------------------------------------------------------ merging */

/* What an entry still needs once the base policy had its say. */
struct need {
	const char *name;
	const char *group; /* registrable domain, or NULL */
	struct port_list tcp;
	struct port_list udp;
	bool no_name_check;
	bool resolve_only; /* used, no port seen, and not allowed */
};

static bool allowed_by(const struct verdict_ctx *c, struct verdict_dest *d,
		       bool has_port, uint16_t port, bool udp,
		       struct verdict *v)
{
	d->has_port = has_port;
	d->port = port;
	d->udp = udp;
	verdict_decide(c, d, v);
	return v->allowed;
}

/* The ports of from that c does not allow, into to. */
static int denied_ports(const struct verdict_ctx *c, struct verdict_dest *d,
			const struct port_list *from, bool udp,
			struct port_list *to)
{
	struct verdict v;

	for (size_t i = 0; i < from->n; i++)
		if (!allowed_by(c, d, true, from->v[i], udp, &v) &&
		    port_list_add(to, from->v[i]) < 0)
			return -1;
	return 0;
}

static int name_need(const struct verdict_ctx *c, const struct used_name *u,
		     struct need *n)
{
	struct verdict_dest d = { .is_name = true };
	struct verdict v;

	memset(n, 0, sizeof(*n));
	n->name = u->name;
	strcpy(d.name, u->name);
	if (denied_ports(c, &d, &u->tcp, false, &n->tcp) < 0 ||
	    denied_ports(c, &d, &u->udp, true, &n->udp) < 0)
		return -1;
	if (u->no_name_check && (!allowed_by(c, &d, false, 0, false, &v) ||
				 c->p->allow_domains[v.index].name_check))
		n->no_name_check = true;
	if (!u->tcp.n && !u->udp.n && !allowed_by(c, &d, false, 0, false, &v))
		n->resolve_only = true;
	return 0;
}

static bool needs_entry(const struct need *n)
{
	return n->tcp.n || n->udp.n || n->no_name_check || n->resolve_only;
}

static int need_cmp(const void *a, const void *b)
{
	const struct need *x = a, *y = b;
	int rc = strcmp(x->group ? x->group : x->name,
			y->group ? y->group : y->name);

	return rc ? rc : strcmp(x->name, y->name);
}

/* Joins the two ranges of r[0..n) with the smallest gap between them. */
static size_t join_closest(struct awf_port_range *r, size_t n)
{
	size_t best = 0;

	for (size_t j = 1; j + 1 < n; j++)
		if (r[j + 1].lo - r[j].hi < r[best + 1].lo - r[best].hi)
			best = j;
	r[best].hi = r[best + 1].hi;
	memmove(r + best + 1, r + best + 2, (n - best - 2) * sizeof(*r));
	return n - 1;
}

/*
 * More than AWF_MAX_PORT_RANGES ranges do not fit one entry: the closest
 * ranges are joined until they do. Returns 1 when that widened the set,
 * -1 when out of memory.
 */
static int ports_to_set(const struct port_list *l, struct awf_port_set *set)
{
	struct awf_port_range *r = calloc(l->n + 1, sizeof(*r));
	size_t n = 0;
	int widened = 0;

	if (!r)
		return -1;
	memset(set, 0, sizeof(*set));
	for (size_t i = 0; i < l->n; i++) {
		if (n && r[n - 1].hi + 1 == l->v[i]) {
			r[n - 1].hi = l->v[i];
			continue;
		}
		r[n].lo = r[n].hi = l->v[i];
		n++;
	}
	for (; n > AWF_MAX_PORT_RANGES; widened = 1)
		n = join_closest(r, n);
	for (size_t i = 0; i < n; i++)
		port_set_add(set, r[i].lo, r[i].hi);
	free(r);
	return widened;
}

/* ports_to_set() with its note; -1 when out of memory. */
static int entry_ports(const struct suggest *s, const char *what,
		       const struct port_list *l, struct awf_port_set *set,
		       char *err, size_t errlen)
{
	int widened = ports_to_set(l, set);

	if (widened < 0)
		return set_err(err, errlen, "out of memory");
	if (widened)
		note(s,
		     "%s: %zu ports used, more than %d ranges fit one entry: nearest ranges joined",
		     what, l->n, AWF_MAX_PORT_RANGES);
	return 0;
}

static int union_into(struct port_list *to, const struct port_list *from)
{
	for (size_t i = 0; i < from->n; i++)
		if (port_list_add(to, from->v[i]) < 0)
			return -1;
	return 0;
}

/* One allow_domains entry for needs[0..n): a group, or one name. */
static int make_entry(const struct suggest *s, const struct need *needs,
		      size_t n, struct policy_domain *out, char *err,
		      size_t errlen)
{
	struct policy_domain d = { .name_check = true };
	struct port_list ports = { 0 };
	int rc = -1;

	d.name = (char *)(n > 1 ? needs[0].group : needs[0].name);
	d.subdomains = n > 1;
	for (size_t i = 0; i < n; i++) {
		if (union_into(&ports, &needs[i].tcp) < 0 ||
		    union_into(&ports, &needs[i].udp) < 0)
			goto out;
		d.udp |= needs[i].udp.n > 0;
		d.name_check &= !needs[i].no_name_check;
	}
	d.has_ports = ports.n > 0;
	if (!d.has_ports)
		note(s,
		     "%s: resolved, no connection seen: the policy's default ports",
		     d.name);
	else if (entry_ports(s, d.name, &ports, &d.ports, err, errlen) < 0)
		goto out;
	*out = d;
	rc = 0;
out:
	free(ports.v);
	return rc;
}

static int domain_cmp(const void *a, const void *b)
{
	const struct policy_domain *x = a, *y = b;

	return strcmp(x->name, y->name);
}

/*
 * Needs sorted by group: a group of several names is one entry. The
 * entries join p sorted by name.
 */
static int add_name_entries(const struct suggest *s, struct policy *p,
			    const struct need *needs, size_t n, char *err,
			    size_t errlen)
{
	struct policy_domain *entries = calloc(n + 1, sizeof(*entries));
	size_t n_entries = 0;
	int rc = 0;

	if (!entries)
		return set_err(err, errlen, "out of memory");
	for (size_t i = 0, j; i < n && rc == 0; i = j) {
		for (j = i + 1; j < n && needs[i].group && needs[j].group &&
				!strcmp(needs[i].group, needs[j].group);
		     j++)
			;
		rc = make_entry(s, needs + i, j - i, &entries[n_entries], err,
				errlen);
		n_entries += rc == 0;
	}
	qsort(entries, n_entries, sizeof(*entries), domain_cmp);
	for (size_t i = 0; i < n_entries && rc == 0; i++)
		rc = policy_add_allow_entry(p, &entries[i], err, errlen);
	free(entries);
	return rc;
}

/* A name's registrable domain: what its entry is grouped under. */
struct psl_use {
	const struct psl_api *api;
	const psl_ctx_t *ctx;
};

static int merge_names(const struct suggest *s, const struct verdict_ctx *c,
		       const struct psl_use *psl, struct policy *p, char *err,
		       size_t errlen)
{
	struct need *needs = calloc(s->n_names + 1, sizeof(*needs));
	size_t n = 0;
	int rc = -1;

	if (!needs)
		return set_err(err, errlen, "out of memory");
	for (size_t i = 0; i < s->n_names; i++) {
		if (name_need(c, &s->names[i], &needs[n]) < 0) {
			set_err(err, errlen, "out of memory");
			n++;
			goto out;
		}
		needs[n].group = psl->api->registrable_domain(psl->ctx,
							      s->names[i].name);
		if (needs_entry(&needs[n]))
			n++;
		else
			port_list_free(&needs[n].tcp),
				port_list_free(&needs[n].udp);
	}
	qsort(needs, n, sizeof(*needs), need_cmp);
	rc = add_name_entries(s, p, needs, n, err, errlen);
out:
	for (size_t i = 0; i < n; i++) {
		port_list_free(&needs[i].tcp);
		port_list_free(&needs[i].udp);
	}
	free(needs);
	return rc;
}

static int addr_cmp(const void *a, const void *b)
{
	const struct used_addr *x = a, *y = b;

	if (x->family != y->family)
		return x->family == AF_INET ? -1 : 1;
	return memcmp(x->addr, y->addr, 16);
}

static int merge_addrs(const struct suggest *s, const struct verdict_ctx *c,
		       struct policy *p, char *err, size_t errlen)
{
	if (s->n_addrs) /* qsort() wants an array, even of none */
		qsort(s->addrs, s->n_addrs, sizeof(*s->addrs), addr_cmp);
	for (size_t i = 0; i < s->n_addrs; i++) {
		const struct used_addr *a = &s->addrs[i];
		struct verdict_dest d = { .family = a->family };
		struct policy_cidr cidr = { .family = a->family };
		struct port_list ports = { 0 };
		char ip[IP_TEXT_LEN];
		int rc;

		memcpy(d.addr, a->addr, 16);
		if (denied_ports(c, &d, &a->tcp, false, &ports) < 0 ||
		    denied_ports(c, &d, &a->udp, true, &ports) < 0) {
			free(ports.v);
			return set_err(err, errlen, "out of memory");
		}
		memcpy(cidr.addr, a->addr, 16);
		cidr.prefixlen = a->family == AF_INET ? 32 : 128;
		ip_format(a->family, a->addr, ip, sizeof(ip));
		rc = ports.n ? entry_ports(s, ip, &ports, &cidr.ports, err,
					   errlen) :
			       0;
		if (rc == 0 && ports.n)
			rc = policy_add_cidr(p, &cidr, err, errlen);
		free(ports.v);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* Loopback ports the base refuses join its localhost ports. */
static int merge_loopback(const struct suggest *s, const struct verdict_ctx *c,
			  struct policy *p, char *err, size_t errlen)
{
	struct verdict_dest d = { .family = AF_INET, .addr = { 127, 0, 0, 1 } };
	struct awf_port_set add;
	struct port_list ports = { 0 };
	int rc = 0;

	if (denied_ports(c, &d, &s->lo_ports, false, &ports) < 0)
		return set_err(err, errlen, "out of memory");
	if (!ports.n)
		return 0;
	if (p->localhost_mode == AWF_LO_DENY)
		note(s,
		     "localhost: the base policy says \"deny\"; the loopback ports used need \"sandbox\" with ports");
	if (entry_ports(s, "localhost", &ports, &add, err, errlen) < 0) {
		free(ports.v);
		return -1;
	}
	p->localhost_mode = AWF_LO_SANDBOX;
	if (port_set_union(&p->localhost_ports, &add) < 0)
		rc = set_err(
			err, errlen,
			"localhost ports: more than %d ranges with the base policy's",
			AWF_MAX_PORT_RANGES);
	free(ports.v);
	return rc;
}

static void check_ports(const struct suggest *s, const struct verdict_ctx *c,
			struct verdict_dest *d, const struct port_list *l,
			bool udp, const char *what)
{
	struct verdict v;

	for (size_t i = 0; i < l->n; i++)
		if (!allowed_by(c, d, true, l->v[i], udp, &v))
			note(s,
			     "%s %s port %u stays denied under this policy (%s)",
			     udp ? "udp" : "tcp", what, l->v[i],
			     reason_code(v.reason));
}

/*
 * Everything used, asked again of the policy the merge made: what the
 * base's own rules still refuse (a block entry, "ipv6": false, a proxy)
 * is said, never hidden.
 */
static int check_result(const struct suggest *s, const struct policy *p,
			char *err, size_t errlen)
{
	struct verdict_dest lo = { .family = AF_INET,
				   .addr = { 127, 0, 0, 1 } };
	struct verdict_ctx c;
	struct verdict v;
	char ip[IP_TEXT_LEN];

	if (verdict_ctx_init(&c, p, NULL, 0, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < s->n_names; i++) {
		const struct used_name *u = &s->names[i];
		struct verdict_dest d = { .is_name = true };

		strcpy(d.name, u->name);
		if (!allowed_by(&c, &d, false, 0, false, &v))
			note(s, "%s stays denied under this policy (%s)",
			     u->name, reason_code(v.reason));
		check_ports(s, &c, &d, &u->tcp, false, u->name);
		check_ports(s, &c, &d, &u->udp, true, u->name);
	}
	for (size_t i = 0; i < s->n_addrs; i++) {
		const struct used_addr *a = &s->addrs[i];
		struct verdict_dest d = { .family = a->family };

		memcpy(d.addr, a->addr, 16);
		ip_format(a->family, a->addr, ip, sizeof(ip));
		check_ports(s, &c, &d, &a->tcp, false, ip);
		check_ports(s, &c, &d, &a->udp, true, ip);
	}
	check_ports(s, &c, &lo, &s->lo_ports, false, "localhost");
	verdict_ctx_free(&c);
	return 0;
}

static void note_not_suggested(const struct suggest *s)
{
	for (unsigned int r = 0; r < AWF_R_MAX; r++)
		if (s->never[r])
			note(s, "not suggested: %llu event%s denied as %s",
			     (unsigned long long)s->never[r],
			     s->never[r] == 1 ? "" : "s", reason_code(r));
	if (s->unknown_kinds)
		note(s,
		     "skipped: %llu line%s of a kind or reason this awf-bpf does not know",
		     (unsigned long long)s->unknown_kinds,
		     s->unknown_kinds == 1 ? "" : "s");
	if (s->lost)
		note(s,
		     "%llu events were lost when the log was written: the suggestion may miss destinations",
		     (unsigned long long)s->lost);
}

/* The system's Public Suffix List when it has one, else libpsl's own. */
static int psl_open(struct psl_use *psl, char *err, size_t errlen)
{
	psl->api = optlib_psl(err, errlen);
	if (!psl->api)
		return -1;
	psl->ctx = psl->api->latest(NULL);
	if (!psl->ctx)
		psl->ctx = psl->api->builtin();
	if (!psl->ctx)
		return set_err(
			err, errlen,
			"no Public Suffix List: libpsl has none built in and %s is missing (Debian, Ubuntu: publicsuffix)",
			psl->api->dist_filename());
	return 0;
}

static void psl_close(struct psl_use *psl)
{
	if (psl->ctx != psl->api->builtin())
		psl->api->free((psl_ctx_t *)psl->ctx);
}

int suggest_merge(struct suggest *s, struct policy *p, char *err, size_t errlen)
{
	struct psl_use psl;
	struct verdict_ctx c;
	int rc;

	if (s->oom)
		return set_err(err, errlen, "out of memory");
	if (psl_open(&psl, err, errlen) < 0)
		return -1;
	if (verdict_ctx_init(&c, p, NULL, 0, err, errlen) < 0) {
		psl_close(&psl);
		return -1;
	}
	rc = merge_names(s, &c, &psl, p, err, errlen);
	/* entries added above do not change what the CIDR table says */
	if (rc == 0)
		rc = merge_addrs(s, &c, p, err, errlen);
	if (rc == 0)
		rc = merge_loopback(s, &c, p, err, errlen);
	verdict_ctx_free(&c);
	psl_close(&psl);
	if (rc == 0)
		rc = check_result(s, p, err, errlen);
	if (rc == 0)
		note_not_suggested(s);
	return rc;
}
