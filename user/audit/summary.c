// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "awf.h"
#include "audit/audit_codes.h"
#include "audit/event_view.h"
#include "common/array.h"
#include "policy/domain.h"
#include "policy/policy_cli.h"
#include "common/error.h"
#include "kernel/counters.h"
#include "audit/summary.h"

#define BUCKETS 1024
#define MAX_CIDR_HINTS 64
/* names in the flag line, and lines saying why a name has no flag */
#define SUMMARY_MAX_NAMES 20
#define SUMMARY_MAX_HINTS 5
#define ALL_NAMES_HINT \
	"every one is in the audit log: awf-bpf logs summary FILE --format json"
/* the lines of what audit-only mode let through start so */
#define WOULD_HAVE "would have denied "
/* dest_text(): the destination, " (" domain ")" */
#define DEST_TEXT_LEN (EVENT_LINE_LEN + AWF_NAME_LEN + 3)

struct sum_domain {
	struct sum_domain *next; /* hash chain */
	char *name;
	uint64_t allowed, denied;
	unsigned int reason; /* of the first denial; 0: never denied */
	bool audit_only;     /* that denial was let through (audit-only) */
	size_t order;
};

/*
 * A denied destination, or for sockets a denied (family, type, protocol).
 * kind: AWF_EV_SOCK_CREATE, a name event's kind, or AWF_EV_CONNECT for
 * the other kinds.
 */
struct sum_dest {
	struct sum_dest *next;
	unsigned int kind, reason, proto;
	int family, sock_type;
	uint8_t addr[16];
	uint16_t port;
	uint32_t pid; /* the first process that tried */
	char comm[AWF_COMM_LEN + 1];
	char *domain;
	char *name;	 /* name events: the name sent, raw */
	bool audit_only; /* its first denial was let through (audit-only) */
	uint64_t count;
	size_t order;
};

struct summary {
	struct sum_domain *dom_hash[BUCKETS];
	struct sum_domain **doms;
	size_t n_doms, cap_doms;
	struct sum_dest *dest_hash[BUCKETS];
	struct sum_dest **dests;
	size_t n_dests, cap_dests;
	uint64_t untracked; /* denials past SUMMARY_MAX_ITEMS */
	uint64_t denied, allowed;
	uint64_t would_deny; /* of denied: let through by audit-only mode */
	uint64_t dns_allowed, dns_blocked, dns_failed;
	uint64_t lost;
	uint64_t counters[AWF_C_MAX];
	bool has_counters;
	unsigned int runs;
};

/* A growing string for the flag line. */
struct strbuf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void sb_add(struct strbuf *b, const char *text)
{
	size_t n = strlen(text);

	if (b->oom)
		return;
	if (array_grow((void **)&b->s, &b->cap, b->len + n + 1, 1)) {
		b->oom = true;
		return;
	}
	memcpy(b->s + b->len, text, n + 1);
	b->len += n;
}

static uint32_t hash_bytes(uint32_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u; /* FNV-1a */
	return h;
}

struct summary *summary_new(void)
{
	return calloc(1, sizeof(struct summary));
}

void summary_free(struct summary *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_doms; i++) {
		free(s->doms[i]->name);
		free(s->doms[i]);
	}
	for (size_t i = 0; i < s->n_dests; i++) {
		free(s->dests[i]->domain);
		free(s->dests[i]->name);
		free(s->dests[i]);
	}
	free(s->doms);
	free(s->dests);
	free(s);
}

/*
 * A zeroed item of size bytes, with room for its pointer at (*list)[n] of
 * an array of pointers; NULL when the list is full or memory is short.
 */
static void *item_new(void *list, size_t *cap, size_t n, size_t size)
{
	if (n >= SUMMARY_MAX_ITEMS ||
	    array_grow(list, cap, n + 1, sizeof(void *)))
		return NULL;
	return calloc(1, size);
}

static uint32_t domain_hash(const char *name)
{
	return hash_bytes(2166136261u, name, strlen(name)) % BUCKETS;
}

static struct sum_domain *domain_find(const struct summary *s, const char *name)
{
	struct sum_domain *d;

	for (d = s->dom_hash[domain_hash(name)]; d; d = d->next)
		if (strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

static struct sum_domain *domain_get(struct summary *s, const char *name)
{
	uint32_t h = domain_hash(name);
	struct sum_domain *d = domain_find(s, name);

	if (d)
		return d;
	d = item_new(&s->doms, &s->cap_doms, s->n_doms, sizeof(*d));
	if (!d || !(d->name = strdup(name))) {
		free(d);
		return NULL;
	}
	d->order = s->n_doms;
	d->next = s->dom_hash[h];
	s->dom_hash[h] = d;
	s->doms[s->n_doms++] = d;
	return d;
}

/* What tells destinations apart: sockets, each name kind, the rest. */
static unsigned int dest_kind(unsigned int kind)
{
	if (kind == AWF_EV_SOCK_CREATE || event_kind_has_name(kind))
		return kind;
	return AWF_EV_CONNECT;
}

/* n's name, "" for a name event without one; NULL for other kinds. */
static const char *dest_name(const struct summary_net *n)
{
	if (!event_kind_has_name(n->kind))
		return NULL;
	return n->name ? n->name : "";
}

static bool dest_same(const struct sum_dest *d, const struct summary_net *n)
{
	if (d->kind != dest_kind(n->kind) || d->reason != n->reason ||
	    d->family != n->family || d->proto != n->proto)
		return false;
	if (d->kind == AWF_EV_SOCK_CREATE)
		return d->sock_type == n->sock_type;
	if (d->name && strcmp(d->name, dest_name(n)))
		return false;
	return d->port == n->port && memcmp(d->addr, n->addr, 16) == 0;
}

static uint32_t dest_hash(const struct summary_net *n)
{
	uint32_t h = hash_bytes(2166136261u, &n->reason, sizeof(n->reason));
	const char *name = dest_name(n);

	h = hash_bytes(h, &n->proto, sizeof(n->proto));
	if (n->kind == AWF_EV_SOCK_CREATE)
		return hash_bytes(h, &n->sock_type, sizeof(n->sock_type)) %
		       BUCKETS;
	if (name)
		h = hash_bytes(h, name, strlen(name));
	h = hash_bytes(h, n->addr, sizeof(n->addr));
	return hash_bytes(h, &n->port, sizeof(n->port)) % BUCKETS;
}

static struct sum_dest *dest_new(struct summary *s, const struct summary_net *n)
{
	const char *name = dest_name(n);
	struct sum_dest *d;

	d = item_new(&s->dests, &s->cap_dests, s->n_dests, sizeof(*d));
	if (!d)
		return NULL;
	if (name && !(d->name = strdup(name))) {
		free(d);
		return NULL;
	}
	d->kind = dest_kind(n->kind);
	d->reason = n->reason;
	d->proto = n->proto;
	d->family = n->family;
	d->sock_type = n->sock_type;
	memcpy(d->addr, n->addr, 16);
	d->port = n->port;
	d->pid = n->pid;
	d->audit_only = n->audit_only;
	event_comm_clean(n->comm, d->comm);
	d->order = s->n_dests;
	s->dests[s->n_dests++] = d;
	return d;
}

static void dest_count(struct summary *s, const struct summary_net *n)
{
	uint32_t h = dest_hash(n);
	struct sum_dest *d;

	for (d = s->dest_hash[h]; d; d = d->next)
		if (dest_same(d, n))
			break;
	if (!d) {
		d = dest_new(s, n);
		if (!d) {
			s->untracked++;
			return;
		}
		d->next = s->dest_hash[h];
		s->dest_hash[h] = d;
	}
	if (!d->domain && n->domain)
		d->domain = strdup(n->domain);
	d->count++;
}

void summary_add_net(struct summary *s, const struct summary_net *n)
{
	struct sum_domain *dom;

	/* The DNS redirect is plumbing, not a decision anyone made. */
	if (n->verdict == AWF_REDIRECT)
		return;
	if (n->verdict != AWF_DENY) {
		s->allowed++;
		if (n->domain && (dom = domain_get(s, n->domain)))
			dom->allowed++;
		return;
	}
	s->denied++;
	s->would_deny += n->audit_only;
	if (n->domain && (dom = domain_get(s, n->domain)))
		dom->denied++;
	dest_count(s, n);
}

void summary_add_dns(struct summary *s, const char *name, bool allowed,
		     unsigned int reason, bool audit_only)
{
	struct sum_domain *d = domain_get(s, name[0] ? name : ".");

	if (allowed) {
		s->dns_allowed++;
		if (d)
			d->allowed++;
		return;
	}
	if (reason == AWF_R_DNS_UPSTREAM_FAILURE ||
	    reason == AWF_R_DNS_BAD_ANSWER)
		s->dns_failed++;
	else
		s->dns_blocked++;
	s->denied++;
	s->would_deny += audit_only;
	if (!d) {
		s->untracked++;
		return;
	}
	d->denied++;
	if (!d->reason) {
		d->reason = reason;
		d->audit_only = audit_only;
	}
}

void summary_add_lost(struct summary *s, uint64_t n)
{
	s->lost += n;
}

void summary_add_counters(struct summary *s, const uint64_t *counters)
{
	for (size_t i = 0; i < AWF_C_MAX; i++)
		s->counters[i] += counters[i];
	s->has_counters = true;
}

void summary_add_run(struct summary *s)
{
	s->runs++;
}

uint64_t summary_denied(const struct summary *s)
{
	return s->denied;
}

/* ------------------------------------------------------------ ordering */

/* The larger count first; on a tie, the one seen first. */
static int count_then_order(uint64_t xn, uint64_t yn, uint64_t xo, uint64_t yo)
{
	if (xn != yn)
		return xn < yn ? 1 : -1;
	return xo < yo ? -1 : xo > yo;
}

static int by_count_domain(const void *a, const void *b)
{
	const struct sum_domain *x = *(const struct sum_domain *const *)a;
	const struct sum_domain *y = *(const struct sum_domain *const *)b;

	return count_then_order(x->denied, y->denied, x->order, y->order);
}

static int by_count_dest(const void *a, const void *b)
{
	const struct sum_dest *x = *(const struct sum_dest *const *)a;
	const struct sum_dest *y = *(const struct sum_dest *const *)b;

	return count_then_order(x->count, y->count, x->order, y->order);
}

/* Denied domains, most denied first; the caller frees the array. */
static struct sum_domain **denied_domains(const struct summary *s, size_t *n)
{
	struct sum_domain **v = calloc(s->n_doms + 1, sizeof(*v));

	*n = 0;
	if (!v)
		return NULL;
	for (size_t i = 0; i < s->n_doms; i++)
		if (s->doms[i]->reason)
			v[(*n)++] = s->doms[i];
	qsort(v, *n, sizeof(*v), by_count_domain);
	return v;
}

static struct sum_dest **sorted_dests(const struct summary *s)
{
	struct sum_dest **v = calloc(s->n_dests + 1, sizeof(*v));

	if (!v)
		return NULL;
	if (s->n_dests) /* s->dests is NULL until the first */
		memcpy(v, s->dests, s->n_dests * sizeof(*v));
	qsort(v, s->n_dests, sizeof(*v), by_count_dest);
	return v;
}

/* ---------------------------------------------------------- the flags */

/*
 * The names denied as not allowed, sorted by how --allow-domains takes
 * them: as they are (flag), only as a policy entry (a single label:
 * entry_why), or not at all (none_why). The "why" lines are the policy's
 * own refusal of the flag, so they say what to write instead.
 */
struct suggestions {
	const char **flag;
	size_t n_flag, cap_flag;
	char **why; /* entry and none alike */
	size_t n_why, cap_why;
	bool oom;
};

static void push_name(struct suggestions *g, const char *name)
{
	if (g->oom || array_grow((void **)&g->flag, &g->cap_flag, g->n_flag + 1,
				 sizeof(*g->flag))) {
		g->oom = true;
		return;
	}
	g->flag[g->n_flag++] = name;
}

static void push_why(struct suggestions *g, const char *why)
{
	char *copy = g->oom ? NULL : strdup(why);

	if (!copy || array_grow((void **)&g->why, &g->cap_why, g->n_why + 1,
				sizeof(*g->why))) {
		free(copy);
		g->oom = true;
		return;
	}
	g->why[g->n_why++] = copy;
}

/*
 * Never a suggestion the next run would refuse: the policy's own rules
 * decide. A name it would take in another spelling (upper case, trailing
 * dot) is that name, listed as it is elsewhere; '*' would be a pattern.
 */
static void suggest_name(struct suggestions *g, const char *name)
{
	char norm[POLICY_MAX_DOMAIN_LEN + 1], why[AWF_ERR_LEN];

	if (strcmp(name, ".") == 0 || strchr(name, '*'))
		return;
	if (domain_normalize(name, norm, sizeof(norm), why, sizeof(why)) == 0 &&
	    strcmp(norm, name) != 0)
		return;
	if (policy_allow_form(name, why, sizeof(why)) == POLICY_ALLOW_FLAG)
		push_name(g, name);
	else
		push_why(g, why);
}

/* A DNS name denied as not allowed: an allow entry would allow it. */
static bool dns_wants_domain(const struct sum_domain *d)
{
	return d->reason == AWF_R_NAME_NOT_ALLOWED;
}

/*
 * A TLS server name or HTTP Host not allowed there. Never a blocked name,
 * nor what carried none; nor a name the DNS list already has.
 */
static bool wants_domain(const struct summary *s, const struct sum_dest *d)
{
	const struct sum_domain *dns;

	if (!d->name ||
	    (d->reason != AWF_R_TLS_NAME && d->reason != AWF_R_HTTP_HOST))
		return false;
	dns = domain_find(s, d->name);
	return !dns || !dns_wants_domain(dns);
}

/* The DNS names, then the names sent, once each, most denied first. */
static void suggest_names(struct suggestions *g, const struct summary *s,
			  struct sum_dest **v)
{
	size_t n_doms;
	struct sum_domain **doms = denied_domains(s, &n_doms);

	if (!doms)
		g->oom = true;
	for (size_t i = 0; doms && i < n_doms; i++)
		if (dns_wants_domain(doms[i]))
			suggest_name(g, doms[i]->name);
	free(doms);
	for (size_t i = 0; v && i < s->n_dests; i++) {
		bool first = wants_domain(s, v[i]);

		for (size_t j = 0; j < i && first; j++)
			first = !(v[j]->name &&
				  strcmp(v[i]->name, v[j]->name) == 0 &&
				  wants_domain(s, v[j]));
		if (first)
			suggest_name(g, v[i]->name);
	}
}

static void suggestions_free(struct suggestions *g)
{
	for (size_t i = 0; i < g->n_why; i++)
		free(g->why[i]);
	free(g->why);
	free(g->flag);
}

/* Not in policy, or on the wrong port: an address of its own, no name. */
static bool wants_cidr(const struct sum_dest *d)
{
	return d->kind != AWF_EV_SOCK_CREATE && !d->domain &&
	       (d->reason == AWF_R_NOT_IN_POLICY ||
		d->reason == AWF_R_PORT_NOT_ALLOWED) &&
	       (d->proto == IPPROTO_TCP || d->proto == IPPROTO_UDP);
}

static bool same_addr(const struct sum_dest *a, const struct sum_dest *b)
{
	return a->family == b->family && memcmp(a->addr, b->addr, 16) == 0;
}

/*
 * UDP to an address learned for a name: its entry lacks "udp": true
 * (udp_to_name), or, in audit-only mode, the name is not allowed yet or
 * not on that port. No flag says "udp": the fix is an entry for the name
 * alone with "udp": true on the ports tried, which the policy merges with
 * the name's other entry (ports and "udp" of a name's entries add up).
 */
static bool wants_udp(const struct sum_dest *d)
{
	return d->kind == AWF_EV_CONNECT && d->domain &&
	       d->proto == IPPROTO_UDP &&
	       (d->reason == AWF_R_UDP_TO_NAME ||
		d->reason == AWF_R_NOT_IN_POLICY ||
		d->reason == AWF_R_PORT_NOT_ALLOWED);
}

static bool same_domain(const struct sum_dest *a, const struct sum_dest *b)
{
	return strcmp(a->domain, b->domain) == 0;
}

/* What one entry of the fix covers: an address (cidr), a name (udp). */
struct fix_kind {
	bool (*wants)(const struct sum_dest *d);
	bool (*same)(const struct sum_dest *a, const struct sum_dest *b);
};

static const struct fix_kind cidr_fix = { wants_cidr, same_addr };
static const struct fix_kind udp_fix = { wants_udp, same_domain };

#define MAX_CIDR_PORTS 64

/* The ports the fix needs for v[i]'s entry (v[i] and after), each once. */
static size_t fix_ports(const struct fix_kind *k, struct sum_dest **v, size_t n,
			size_t i, uint16_t seen[MAX_CIDR_PORTS])
{
	size_t n_seen = 0;

	for (size_t j = i; j < n && n_seen < MAX_CIDR_PORTS; j++) {
		bool dup = false;

		if (!k->wants(v[j]) || !k->same(v[i], v[j]))
			continue;
		for (size_t m = 0; m < n_seen; m++)
			dup |= seen[m] == v[j]->port;
		if (!dup)
			seen[n_seen++] = v[j]->port;
	}
	return n_seen;
}

/* Whether v[i] is the first destination of its entry in the fix. */
static bool fix_first(const struct fix_kind *k, struct sum_dest **v, size_t i)
{
	if (!k->wants(v[i]))
		return false;
	for (size_t j = 0; j < i; j++)
		if (k->wants(v[j]) && k->same(v[i], v[j]))
			return false;
	return true;
}

/* "198.18.0.20/32" or "2001:db8::1/128". */
static void cidr_text(const struct sum_dest *d, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN];

	inet_ntop(d->family, d->addr, addr, sizeof(addr));
	snprintf(buf, len, "%s/%d", addr, d->family == AF_INET6 ? 128 : 32);
}

/* "--allow-cidr 198.18.0.20/32:80,443" for every port tried on it. */
static void cidr_flag(struct strbuf *b, struct sum_dest **v, size_t n, size_t i)
{
	char cidr[INET6_ADDRSTRLEN + 8], port[8];
	uint16_t seen[MAX_CIDR_PORTS];
	size_t n_seen = fix_ports(&cidr_fix, v, n, i, seen);

	cidr_text(v[i], cidr, sizeof(cidr));
	sb_add(b, b->len ? " --allow-cidr " : "--allow-cidr ");
	sb_add(b, v[i]->family == AF_INET6 ? "[" : "");
	sb_add(b, cidr);
	sb_add(b, v[i]->family == AF_INET6 ? "]:" : ":");
	for (size_t k = 0; k < n_seen; k++) {
		snprintf(port, sizeof(port), "%s%u", k ? "," : "", seen[k]);
		sb_add(b, port);
	}
}

/* "--allow-domains a,b" with the first max names of g. */
static void domains_flag(struct strbuf *b, const struct suggestions *g,
			 size_t max)
{
	for (size_t i = 0; i < g->n_flag && i < max; i++) {
		sb_add(b, i ? "," : "--allow-domains ");
		sb_add(b, g->flag[i]);
	}
}

/*
 * The flags that allow what was denied, with at most max_names names;
 * NULL when nothing would.
 */
static char *allow_flags(const struct summary *s, const struct suggestions *g,
			 size_t max_names)
{
	struct sum_dest **v = sorted_dests(s);
	struct strbuf b = { 0 };
	size_t n_cidrs = 0;

	domains_flag(&b, g, max_names);
	for (size_t i = 0; v && i < s->n_dests && n_cidrs < MAX_CIDR_HINTS;
	     i++) {
		if (!fix_first(&cidr_fix, v, i))
			continue;
		cidr_flag(&b, v, s->n_dests, i);
		n_cidrs++;
	}
	free(v);
	if (b.oom || !b.len) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

/* A name UDP needs: no flag says so, the line says what entry does. */
static void suggest_udp(struct suggestions *g, const struct summary *s,
			struct sum_dest **v)
{
	char why[AWF_ERR_LEN], ports[MAX_CIDR_PORTS * 7];
	uint16_t seen[MAX_CIDR_PORTS];

	for (size_t i = 0; v && i < s->n_dests; i++) {
		size_t n_seen, used = 0;

		if (!fix_first(&udp_fix, v, i))
			continue;
		n_seen = fix_ports(&udp_fix, v, s->n_dests, i, seen);
		ports[0] = '\0';
		for (size_t m = 0; m < n_seen; m++)
			used += (size_t)snprintf(ports + used,
						 sizeof(ports) - used, "%s%u",
						 m ? ", " : "", seen[m]);
		snprintf(
			why, sizeof(why),
			"%s: UDP to its addresses takes an entry with \"udp\": true: {\"domain\": \"%s\", \"subdomains\": false, \"ports\": [%s], \"udp\": true}",
			v[i]->domain, v[i]->domain, ports);
		push_why(g, why);
	}
}

/* -1 after running out of memory: no suggestion rather than half one. */
static int suggest(const struct summary *s, struct suggestions *g)
{
	struct sum_dest **v = sorted_dests(s);

	memset(g, 0, sizeof(*g));
	suggest_names(g, s, v);
	suggest_udp(g, s, v);
	free(v);
	if (g->oom) {
		suggestions_free(g);
		memset(g, 0, sizeof(*g));
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------- output */

/* "tls sni NAME to ADDR:PORT", as the line of the event says it. */
static void name_dest_text(const struct sum_dest *d, const char *addr,
			   char *buf, size_t len)
{
	struct name_line l = {
		.kind = d->kind,
		.name = d->name,
		.dst = addr,
		.v6 = d->family == AF_INET6,
		.port = d->port,
	};

	name_line_what(&l, buf, len);
}

static void dest_text(const struct sum_dest *d, char *buf, size_t len)
{
	const char *proto = proto_code(d->proto);
	char addr[INET6_ADDRSTRLEN], pbuf[16], what[EVENT_LINE_LEN];

	if (!proto) {
		snprintf(pbuf, sizeof(pbuf), "protocol %u", d->proto);
		proto = pbuf;
	}
	if (d->kind == AWF_EV_SOCK_CREATE) {
		snprintf(buf, len, "socket %s %s/%s",
			 d->family == AF_INET6 ? "ipv6" : "ipv4",
			 sock_type_code((unsigned int)d->sock_type), proto);
		return;
	}
	if (!inet_ntop(d->family == AF_INET6 ? AF_INET6 : AF_INET, d->addr,
		       addr, sizeof(addr)))
		snprintf(addr, sizeof(addr), "?");
	if (d->name)
		name_dest_text(d, addr, what, sizeof(what));
	else
		snprintf(what, sizeof(what), "%s %s%s%s:%u", proto,
			 d->family == AF_INET6 ? "[" : "", addr,
			 d->family == AF_INET6 ? "]" : "", d->port);
	snprintf(buf, len, "%s%s%s%s", what, d->domain ? " (" : "",
		 d->domain ? d->domain : "", d->domain ? ")" : "");
}

static const char *times(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static void print_domains_text(const struct summary *s, FILE *out,
			       const char *prefix)
{
	struct sum_domain **v;
	size_t n;

	v = denied_domains(s, &n);
	for (size_t i = 0; v && i < n && i < SUMMARY_MAX_LINES; i++)
		fprintf(out, "%s  %sdomain %s: %s (%llu %s)\n", prefix,
			v[i]->audit_only ? WOULD_HAVE : "", v[i]->name,
			reason_text(v[i]->reason),
			(unsigned long long)v[i]->denied,
			times(v[i]->denied, "query", "queries"));
	if (v && n > SUMMARY_MAX_LINES)
		fprintf(out, "%s  ... and %zu more domains\n", prefix,
			n - SUMMARY_MAX_LINES);
	free(v);
}

static void print_dests_text(const struct summary *s, FILE *out,
			     const char *prefix)
{
	struct sum_dest **v = sorted_dests(s);
	char what[DEST_TEXT_LEN];

	for (size_t i = 0; v && i < s->n_dests && i < SUMMARY_MAX_LINES; i++) {
		dest_text(v[i], what, sizeof(what));
		fprintf(out, "%s  %s%s from pid %u (%s): %s (%llu %s)\n",
			prefix, v[i]->audit_only ? WOULD_HAVE : "", what,
			v[i]->pid, v[i]->comm, reason_text(v[i]->reason),
			(unsigned long long)v[i]->count,
			times(v[i]->count, "time", "times"));
	}
	if (v && s->n_dests > SUMMARY_MAX_LINES)
		fprintf(out, "%s  ... and %zu more destinations\n", prefix,
			s->n_dests - SUMMARY_MAX_LINES);
	free(v);
}

/*
 * One flag line, however many names: past SUMMARY_MAX_NAMES the rest are
 * counted (the JSON form has them all). Then why the names left out of it
 * cannot be in it.
 */
static void print_suggestions_text(const struct summary *s, FILE *out,
				   const char *prefix)
{
	struct suggestions g;
	char *flags;

	if (suggest(s, &g) < 0)
		return;
	flags = allow_flags(s, &g, SUMMARY_MAX_NAMES);
	if (flags)
		fprintf(out, "%sto allow these, add: %s\n", prefix, flags);
	if (g.n_flag > SUMMARY_MAX_NAMES)
		fprintf(out,
			"%s  ... and %zu more names for --allow-domains (%s)\n",
			prefix, g.n_flag - SUMMARY_MAX_NAMES, ALL_NAMES_HINT);
	for (size_t i = 0; i < g.n_why && i < SUMMARY_MAX_HINTS; i++)
		fprintf(out, "%s  no flag for %s\n", prefix, g.why[i]);
	if (g.n_why > SUMMARY_MAX_HINTS)
		fprintf(out, "%s  ... and %zu more names with no flag\n",
			prefix, g.n_why - SUMMARY_MAX_HINTS);
	free(flags);
	suggestions_free(&g);
}

void summary_print_text(const struct summary *s, FILE *out, const char *prefix)
{
	size_t n_doms;

	free(denied_domains(s, &n_doms));
	fprintf(out, "%ssummary: %llu denied (%zu %s, %zu %s)\n", prefix,
		(unsigned long long)s->denied, n_doms,
		times(n_doms, "domain", "domains"), s->n_dests,
		times(s->n_dests, "destination", "destinations"));
	if (s->would_deny)
		fprintf(out,
			"%saudit-only mode: %llu of them went through; enforcing mode would have denied them\n",
			prefix, (unsigned long long)s->would_deny);
	print_domains_text(s, out, prefix);
	print_dests_text(s, out, prefix);
	if (s->untracked)
		fprintf(out, "%s  ... and %llu more denials not itemized\n",
			prefix, (unsigned long long)s->untracked);
	if (s->lost)
		fprintf(out, "%s  %llu events lost (ring buffer full)\n",
			prefix, (unsigned long long)s->lost);
	print_suggestions_text(s, out, prefix);
}

/* Text from the workload or the network goes into markdown escaped. */
void summary_md_put(FILE *out, const char *text)
{
	for (; *text; text++) {
		unsigned char c = (unsigned char)*text;

		if (c == '<')
			fputs("&lt;", out);
		else if (c == '>')
			fputs("&gt;", out);
		else if (c == '&')
			fputs("&amp;", out);
		else if (strchr("|\\`*_[]#~", c))
			fprintf(out, "\\%c", c);
		else if (!isprint(c))
			fputc('?', out);
		else
			fputc(c, out);
	}
}

static void md_counters(const struct summary *s, FILE *out)
{
	static const unsigned int rows[] = {
		AWF_C_CONNECT_ALLOWED, AWF_C_CONNECT_DENIED,
		AWF_C_SENDMSG_ALLOWED, AWF_C_SENDMSG_DENIED,
		AWF_C_SOCKET_DENIED,   AWF_C_PACKETS_DROPPED,
		AWF_C_NAMES_PASSED,    AWF_C_NAMES_DENIED,
		AWF_C_DNS_ALLOWED,     AWF_C_DNS_BLOCKED,
		AWF_C_DNS_FAILED,      AWF_C_EVENTS_LOST,
	};

	fputs("| Counter | Count |\n|---|---:|\n", out);
	if (!s->has_counters) {
		fprintf(out, "| denied (events in the log) | %llu |\n",
			(unsigned long long)s->denied);
		fprintf(out, "| allowed (events in the log) | %llu |\n",
			(unsigned long long)s->allowed);
		fprintf(out, "| events lost | %llu |\n",
			(unsigned long long)s->lost);
		return;
	}
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		fprintf(out, "| %s | %llu |\n", counter_code(rows[i]),
			(unsigned long long)s->counters[rows[i]]);
}

static void md_domains(const struct summary *s, FILE *out)
{
	if (!s->n_doms)
		return;
	fputs("\n| Domain | Allowed | Denied |\n|---|---:|---:|\n", out);
	for (size_t i = 0; i < s->n_doms && i < SUMMARY_MAX_ROWS; i++) {
		fputs("| ", out);
		summary_md_put(out, s->doms[i]->name);
		fprintf(out, " | %llu | %llu |\n",
			(unsigned long long)s->doms[i]->allowed,
			(unsigned long long)s->doms[i]->denied);
	}
	if (s->n_doms > SUMMARY_MAX_ROWS)
		fprintf(out, "\n... and %zu more domains\n",
			s->n_doms - SUMMARY_MAX_ROWS);
}

static void md_dests(const struct summary *s, FILE *out)
{
	struct sum_dest **v = sorted_dests(s);
	char what[DEST_TEXT_LEN];

	if (!v || !s->n_dests) {
		free(v);
		return;
	}
	fputs("\n| Denied | Process | Reason | Count |\n|---|---|---|---:|\n",
	      out);
	for (size_t i = 0; i < s->n_dests && i < SUMMARY_MAX_LINES; i++) {
		dest_text(v[i], what, sizeof(what));
		fputs("| ", out);
		summary_md_put(out, what);
		fputs(" | ", out);
		summary_md_put(out, v[i]->comm);
		fprintf(out, " (%u) | %s%s | %llu |\n", v[i]->pid,
			reason_text(v[i]->reason),
			v[i]->audit_only ? " (would have denied: audit-only)" :
					   "",
			(unsigned long long)v[i]->count);
	}
	if (s->n_dests > SUMMARY_MAX_LINES)
		fprintf(out, "\n... and %zu more destinations\n",
			s->n_dests - SUMMARY_MAX_LINES);
	free(v);
}

static void md_suggestions(const struct summary *s, FILE *out)
{
	struct suggestions g;
	char *flags;

	if (suggest(s, &g) < 0)
		return;
	flags = allow_flags(s, &g, SUMMARY_MAX_NAMES);
	if (flags) {
		fputs("\nTo allow these, add: `", out);
		/* The flags hold only [a-z0-9._:,/[]-] and spaces. */
		fputs(flags, out);
		fputs("`\n", out);
	}
	if (g.n_flag > SUMMARY_MAX_NAMES)
		fprintf(out,
			"\n... and %zu more names for --allow-domains (%s)\n",
			g.n_flag - SUMMARY_MAX_NAMES, ALL_NAMES_HINT);
	for (size_t i = 0; i < g.n_why && i < SUMMARY_MAX_HINTS; i++) {
		fputs(i ? "- no flag for " : "\n- no flag for ", out);
		summary_md_put(out, g.why[i]);
		fputc('\n', out);
	}
	if (g.n_why > SUMMARY_MAX_HINTS)
		fprintf(out, "- ... and %zu more names with no flag\n",
			g.n_why - SUMMARY_MAX_HINTS);
	free(flags);
	suggestions_free(&g);
}

void summary_print_markdown(const struct summary *s, FILE *out)
{
	size_t n_doms;

	free(denied_domains(s, &n_doms));
	fprintf(out,
		"<details>\n<summary>awf-bpf: %llu denied (%zu %s, %zu %s)",
		(unsigned long long)s->denied, n_doms,
		times(n_doms, "domain", "domains"), s->n_dests,
		times(s->n_dests, "destination", "destinations"));
	if (s->would_deny)
		fprintf(out, ", %llu would have denied (audit-only)",
			(unsigned long long)s->would_deny);
	if (s->lost)
		fprintf(out, ", %llu events lost", (unsigned long long)s->lost);
	fputs("</summary>\n\n", out);
	md_counters(s, out);
	md_domains(s, out);
	md_dests(s, out);
	md_suggestions(s, out);
	fputs("\n</details>\n", out);
}

/* ---------------------------------------------------------------- JSON */

static json_object *strings_json(char *const *v, size_t n)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; a && i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

static void add_u64(json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_int64((int64_t)v));
}

/* As in the audit log: present only when true. */
static void add_audit_only(json_object *o, bool audit_only)
{
	if (audit_only)
		json_object_object_add(o, "audit_only",
				       json_object_new_boolean(true));
}

static json_object *domains_json(const struct summary *s)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; arr && i < s->n_doms; i++) {
		const struct sum_domain *d = s->doms[i];
		json_object *o = json_object_new_object();

		json_object_object_add(o, "name",
				       json_object_new_string(d->name));
		add_u64(o, "allowed", d->allowed);
		add_u64(o, "denied", d->denied);
		if (d->reason)
			json_object_object_add(
				o, "reason",
				json_object_new_string(reason_code(d->reason)));
		add_audit_only(o, d->audit_only);
		json_object_array_add(arr, o);
	}
	return arr;
}

/* "socket", "tls", "http", "payload"; "net" for the other kinds. */
static const char *dest_event(const struct sum_dest *d)
{
	if (d->kind == AWF_EV_SOCK_CREATE || d->name)
		return event_kind_code(d->kind);
	return "net";
}

static json_object *dest_json(const struct sum_dest *d)
{
	json_object *o = json_object_new_object();
	const char *proto = proto_code(d->proto);
	char addr[INET6_ADDRSTRLEN], name[EVENT_NAME_ESC_LEN];

	json_object_object_add(o, "event",
			       json_object_new_string(dest_event(d)));
	json_object_object_add(o, "family",
			       json_object_new_string(d->family == AF_INET6 ?
							      "ipv6" :
							      "ipv4"));
	json_object_object_add(o, "proto",
			       proto ? json_object_new_string(proto) :
				       json_object_new_int((int)d->proto));
	if (d->kind == AWF_EV_SOCK_CREATE) {
		json_object_object_add(o, "sock_type",
				       json_object_new_int(d->sock_type));
	} else {
		inet_ntop(d->family == AF_INET6 ? AF_INET6 : AF_INET, d->addr,
			  addr, sizeof(addr));
		json_object_object_add(o, "dst", json_object_new_string(addr));
		json_object_object_add(o, "dport",
				       json_object_new_int(d->port));
		if (d->domain)
			json_object_object_add(
				o, "domain", json_object_new_string(d->domain));
	}
	if (d->name) {
		/* As in the audit log: odd bytes as \DDD. */
		event_name_escape(d->name, name);
		json_object_object_add(o, "name", json_object_new_string(name));
	}
	json_object_object_add(o, "reason",
			       json_object_new_string(reason_code(d->reason)));
	add_audit_only(o, d->audit_only);
	json_object_object_add(o, "pid", json_object_new_int64(d->pid));
	json_object_object_add(o, "comm", json_object_new_string(d->comm));
	add_u64(o, "count", d->count);
	return o;
}

/* The ports of v[i]'s entry in the fix, as a JSON array. */
static json_object *fix_ports_json(const struct fix_kind *k,
				   struct sum_dest **v, size_t n, size_t i)
{
	json_object *ports = json_object_new_array();
	uint16_t seen[MAX_CIDR_PORTS];
	size_t n_seen = fix_ports(k, v, n, i, seen);

	for (size_t m = 0; ports && m < n_seen; m++)
		json_object_array_add(ports, json_object_new_int(seen[m]));
	return ports;
}

static json_object *cidr_entry_json(struct sum_dest **v, size_t n, size_t i)
{
	json_object *o = json_object_new_object();
	json_object *ports = fix_ports_json(&cidr_fix, v, n, i);
	char cidr[INET6_ADDRSTRLEN + 8];

	if (!o || !ports) {
		json_object_put(o);
		json_object_put(ports);
		return NULL;
	}
	cidr_text(v[i], cidr, sizeof(cidr));
	json_object_object_add(o, "cidr", json_object_new_string(cidr));
	json_object_object_add(o, "ports", ports);
	return o;
}

/* {"domain": NAME, "subdomains": false, "ports": [...], "udp": true} */
static json_object *udp_entry_json(struct sum_dest **v, size_t n, size_t i)
{
	json_object *o = json_object_new_object();
	json_object *ports = fix_ports_json(&udp_fix, v, n, i);

	if (!o || !ports) {
		json_object_put(o);
		json_object_put(ports);
		return NULL;
	}
	json_object_object_add(o, "domain",
			       json_object_new_string(v[i]->domain));
	json_object_object_add(o, "subdomains", json_object_new_boolean(false));
	json_object_object_add(o, "ports", ports);
	json_object_object_add(o, "udp", json_object_new_boolean(true));
	return o;
}

/*
 * The same fix as allow_flags(), every name and address, as a policy
 * (policy/README.md) that merges into another: lists append.
 */
static json_object *fix_policy(const struct summary *s,
			       const struct suggestions *g)
{
	json_object *o = json_object_new_object();
	json_object *doms = json_object_new_array();
	json_object *cidrs = json_object_new_array();
	struct sum_dest **v = sorted_dests(s);

	if (!o || !doms || !cidrs || (s->n_dests && !v)) {
		json_object_put(o);
		json_object_put(doms);
		json_object_put(cidrs);
		free(v);
		return NULL;
	}
	for (size_t i = 0; i < g->n_flag; i++)
		json_object_array_add(doms, json_object_new_string(g->flag[i]));
	for (size_t i = 0; i < s->n_dests; i++) {
		if (fix_first(&udp_fix, v, i))
			json_object_array_add(doms,
					      udp_entry_json(v, s->n_dests, i));
		if (fix_first(&cidr_fix, v, i))
			json_object_array_add(
				cidrs, cidr_entry_json(v, s->n_dests, i));
	}
	free(v);
	if (!json_object_array_length(doms) &&
	    !json_object_array_length(cidrs)) {
		json_object_put(o);
		json_object_put(doms);
		json_object_put(cidrs);
		return NULL;
	}
	json_object_object_add(o, "version",
			       json_object_new_int(POLICY_VERSION));
	json_object_object_add(o, "allow_domains", doms);
	json_object_object_add(o, "allow_cidrs", cidrs);
	return o;
}

json_object *summary_to_json(const struct summary *s)
{
	json_object *o = json_object_new_object();
	json_object *dests = json_object_new_array();
	struct suggestions g;
	char *flags;

	if (!o || !dests || suggest(s, &g) < 0) {
		json_object_put(o);
		json_object_put(dests);
		return NULL;
	}
	flags = allow_flags(s, &g, SIZE_MAX);
	add_u64(o, "runs", s->runs);
	add_u64(o, "denied", s->denied);
	add_u64(o, "would_deny", s->would_deny);
	add_u64(o, "allowed", s->allowed);
	add_u64(o, "dns_allowed", s->dns_allowed);
	add_u64(o, "dns_blocked", s->dns_blocked);
	add_u64(o, "dns_failed", s->dns_failed);
	add_u64(o, "events_lost", s->lost);
	add_u64(o, "untracked", s->untracked);
	json_object_object_add(o, "counters",
			       s->has_counters ? counters_to_json(s->counters) :
						 NULL);
	json_object_object_add(o, "domains", domains_json(s));
	for (size_t i = 0; i < s->n_dests; i++)
		json_object_array_add(dests, dest_json(s->dests[i]));
	json_object_object_add(o, "destinations", dests);
	json_object_object_add(o, "allow_flags",
			       flags ? json_object_new_string(flags) : NULL);
	json_object_object_add(o, "no_flag", strings_json(g.why, g.n_why));
	json_object_object_add(o, "allow_policy", fix_policy(s, &g));
	free(flags);
	suggestions_free(&g);
	return o;
}

json_object *summary_fix_policy(const struct summary *s)
{
	struct suggestions g;
	json_object *o;

	if (suggest(s, &g) < 0)
		return NULL;
	o = fix_policy(s, &g);
	suggestions_free(&g);
	return o;
}
