// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/error.h"
#include "kernel/verdict.h"
#include "policy/cidr.h"
#include "policy/ports.h"

/* A name of 253 characters in UTF-8, a scheme and a port. */
#define RAW_DEST_MAX 1100

int verdict_ctx_init(struct verdict_ctx *c, const struct policy *p,
		     const struct policy_cidr *local, size_t n_local, char *err,
		     size_t errlen)
{
	memset(c, 0, sizeof(*c));
	c->p = p;
	if (rules_build(&c->rules, p, local, n_local, err, errlen) < 0)
		return -1;
	c->names = domain_matcher_new(p, err, errlen);
	if (!c->names) {
		rules_free(&c->rules);
		return -1;
	}
	return 0;
}

void verdict_ctx_free(struct verdict_ctx *c)
{
	domain_matcher_free(c->names);
	rules_free(&c->rules);
	memset(c, 0, sizeof(*c));
}

static int parse_port(const char *text, const char *port,
		      struct verdict_dest *d, char *err, size_t errlen)
{
	unsigned long val = 0;

	if (!*port || strspn(port, "0123456789") != strlen(port) ||
	    strlen(port) > 5 || (val = strtoul(port, NULL, 10)) == 0 ||
	    val > 65535)
		return set_err(err, errlen,
			       "%s: port \"%s\": expected a number 1-65535",
			       text, port);
	d->has_port = true;
	d->port = (uint16_t)val;
	return 0;
}

static int parse_host(const char *text, const char *host, bool bracketed,
		      struct verdict_dest *d, char *err, size_t errlen)
{
	char why[AWF_ERR_LEN];

	if (ip_parse(host, &d->family, d->addr, why, sizeof(why)) == 0)
		return 0;
	if (bracketed || strchr(host, ':'))
		return set_err(
			err, errlen,
			"%s: \"%s\" is not an IP address (an IPv6 address with a port goes in brackets: [ADDR]:PORT)",
			text, host);
	if (domain_normalize(host, d->name, sizeof(d->name), why, sizeof(why)) <
	    0)
		return set_err(err, errlen, "%s: %s", text, why);
	if (strchr(d->name, '*'))
		return set_err(err, errlen,
			       "%s: a pattern, not a name (give one name)",
			       text);
	d->is_name = true;
	return 0;
}

int verdict_dest_parse(const char *text, struct verdict_dest *d, char *err,
		       size_t errlen)
{
	char host[RAW_DEST_MAX];
	const char *rest, *port = NULL;
	uint16_t scheme_port;
	bool bracketed;

	memset(d, 0, sizeof(*d));
	rest = domain_strip_scheme(text, &scheme_port);
	if (strstr(rest, "://"))
		return set_err(
			err, errlen,
			"%s: URLs are not supported (https://NAME and http://NAME are)",
			text);
	if (strlen(rest) >= sizeof(host))
		return set_err(err, errlen, "%.40s...: too long", text);
	strcpy(host, rest);
	bracketed = host[0] == '[';
	if (bracketed) {
		char *close = strchr(host, ']');

		if (!close || (close[1] && close[1] != ':'))
			return set_err(err, errlen,
				       "%s: expected [IPv6] or [IPv6]:PORT",
				       text);
		*close = '\0';
		port = close[1] ? close + 2 : NULL;
		memmove(host, host + 1, strlen(host + 1) + 1);
	} else if (strchr(host, ':') &&
		   strchr(host, ':') == strrchr(host, ':')) {
		char *colon = strchr(host, ':');

		*colon = '\0';
		port = colon + 1;
	}
	if (!host[0])
		return set_err(err, errlen, "%s: no host", text);
	if (parse_host(text, host, bracketed, d, err, errlen) < 0 ||
	    (port && parse_port(text, port, d, err, errlen) < 0))
		return -1;
	if (scheme_port && !d->has_port) {
		d->has_port = true;
		d->port = scheme_port;
	}
	return 0;
}

/* is_loopback() of bpf/policy.bpf.h: 0.0.0.0/8 reaches this host too. */
static bool kernel_loopback(const struct verdict_dest *d)
{
	static const uint8_t zero[16];

	if (d->family == AF_INET)
		return d->addr[0] == 127 || d->addr[0] == 0;
	return memcmp(d->addr, zero, 15) == 0 && d->addr[15] <= 1;
}

/* A destination without a port: allowed when some port is. */
static bool port_ok(const struct verdict_dest *d,
		    const struct awf_port_set *set)
{
	return d->has_port ? port_set_contains(set, d->port) : set->count > 0;
}

static void set_verdict(struct verdict *v, bool allowed, unsigned int reason,
			enum verdict_rule rule)
{
	v->allowed = allowed;
	v->reason = reason;
	v->rule = rule;
}

/* decide_loopback(): the sandbox's own listeners are known at run time only. */
static void decide_loopback(const struct policy *p,
			    const struct verdict_dest *d, struct verdict *v)
{
	if (p->localhost_mode == AWF_LO_ALLOW) {
		port_set_all(&v->ports);
		set_verdict(v, true, AWF_R_LOOPBACK, VR_LOCALHOST);
		return;
	}
	if (p->localhost_mode == AWF_LO_SANDBOX)
		v->ports = p->localhost_ports;
	set_verdict(v, port_ok(d, &v->ports), AWF_R_LOOPBACK, VR_LOCALHOST);
}

static bool is_proxy(const struct policy *p, const struct verdict_dest *d)
{
	return p->has_proxy && !d->udp && d->family == p->proxy.family &&
	       (!d->has_port || d->port == p->proxy.port) &&
	       memcmp(d->addr, p->proxy.addr, d->family == AF_INET ? 4 : 16) ==
		       0;
}

/* decide() of bpf/policy.bpf.h up to the learned addresses. */
static void decide_addr(const struct verdict_ctx *c,
			const struct verdict_dest *d, struct verdict *v)
{
	const struct rule_entry *e;

	if (is_proxy(c->p, d)) {
		port_set_add(&v->ports, c->p->proxy.port, c->p->proxy.port);
		set_verdict(v, true, AWF_R_PROXY, VR_PROXY);
		return;
	}
	if (kernel_loopback(d)) {
		decide_loopback(c->p, d, v);
		return;
	}
	if (d->family == AF_INET6 && !c->p->ipv6) {
		set_verdict(v, false, AWF_R_IPV6_DISABLED, VR_IPV6);
		return;
	}
	e = rules_lookup(&c->rules, d->family, d->addr);
	v->prefix = e;
	if (!e) {
		set_verdict(v, false, AWF_R_NOT_IN_POLICY, VR_NONE);
	} else if (e->kind == AWF_RULE_LOCAL) {
		decide_loopback(c->p, d, v);
	} else if (e->kind == AWF_RULE_RESERVED) {
		set_verdict(v, false, AWF_R_RESERVED_RANGE, VR_RESERVED);
	} else {
		struct awf_rule rule;

		rules_value(&c->rules, e, &rule);
		v->index = e->id - 1;
		v->ports = rule.ports;
		set_verdict(v, port_ok(d, &v->ports),
			    port_ok(d, &v->ports) ? AWF_R_CIDR :
						    AWF_R_PORT_NOT_ALLOWED,
			    VR_CIDR);
	}
}

/*
 * The DNS filter's answer, then what connect() does with the learned
 * address (proxy-only, UDP, ports) and the name check on its first bytes,
 * which asks the same matcher with the same ports.
 */
static void decide_name(const struct verdict_ctx *c,
			const struct verdict_dest *d, struct verdict *v)
{
	const struct policy_domain *entry;
	struct domain_match m;

	if (domain_matcher_lookup(c->names, d->name, &m) < 0 || !m.allowed) {
		if (m.blocked) {
			v->index = m.entry_id - 1;
			set_verdict(v, false, AWF_R_BLOCKED_DOMAIN,
				    VR_BLOCK_DOMAIN);
		} else {
			set_verdict(v, false, AWF_R_NAME_NOT_ALLOWED, VR_NONE);
		}
		return;
	}
	v->index = m.entry_id - 1;
	v->ports = m.ports;
	entry = &c->p->allow_domains[v->index];
	if (c->p->has_proxy)
		set_verdict(v, false, AWF_R_PROXY_ONLY, VR_ALLOW_DOMAIN);
	else if (d->udp && !entry->udp)
		set_verdict(v, false, AWF_R_UDP_TO_NAME, VR_ALLOW_DOMAIN);
	else if (!port_ok(d, &v->ports))
		set_verdict(v, false, AWF_R_PORT_NOT_ALLOWED, VR_ALLOW_DOMAIN);
	else
		set_verdict(v, true, AWF_R_LEARNED, VR_ALLOW_DOMAIN);
}

void verdict_decide(const struct verdict_ctx *c, const struct verdict_dest *d,
		    struct verdict *out)
{
	memset(out, 0, sizeof(*out));
	if (d->is_name)
		decide_name(c, d, out);
	else
		decide_addr(c, d, out);
}

static const char *ports_text(const struct awf_port_set *set, char *buf,
			      size_t len)
{
	size_t used = 0;

	if (port_set_is_all(set))
		return "all";
	buf[0] = '\0';
	for (uint32_t i = 0; i < set->count && used < len; i++) {
		const struct awf_port_range *r = &set->ranges[i];
		int n = r->lo == r->hi ?
				snprintf(buf + used, len - used, "%s%u",
					 i ? "," : "", r->lo) :
				snprintf(buf + used, len - used, "%s%u-%u",
					 i ? "," : "", r->lo, r->hi);

		used += n > 0 ? (size_t)n : 0;
	}
	return set->count ? buf : "none";
}

static const char *prefix_text(const struct rule_entry *e, char *buf,
			       size_t len)
{
	char ip[IP_TEXT_LEN];

	snprintf(buf, len, "%s/%u",
		 ip_format(e->family, e->addr, ip, sizeof(ip)), e->prefixlen);
	return buf;
}

static void localhost_text(const struct policy *p, const struct verdict *v,
			   char *buf, size_t len)
{
	const char *mode = policy_localhost_mode_name(p->localhost_mode);
	char ports[160];

	if (p->localhost_mode != AWF_LO_SANDBOX)
		snprintf(buf, len, "by localhost \"%s\"", mode);
	else if (v->allowed)
		snprintf(buf, len, "by localhost ports %s",
			 ports_text(&v->ports, ports, sizeof(ports)));
	else
		snprintf(
			buf, len,
			"localhost \"sandbox\" allows ports %s, and those the sandbox serves itself",
			ports_text(&v->ports, ports, sizeof(ports)));
}

static void domain_text(const struct policy *p, const struct verdict *v,
			char *buf, size_t len)
{
	const struct policy_domain *e = &p->allow_domains[v->index];
	char ports[160];

	snprintf(buf, len, "%s %s (%s%s, ports %s)",
		 v->allowed ? "by" : "allow_domains entry", e->name,
		 e->subdomains ? "subdomains" : "this name only",
		 e->udp ? ", udp" : "",
		 ports_text(&v->ports, ports, sizeof(ports)));
}

void verdict_rule_text(const struct verdict_ctx *c, const struct verdict *v,
		       char *buf, size_t len)
{
	char ports[160], prefix[IP_TEXT_LEN + 8];

	switch (v->rule) {
	case VR_NONE:
		snprintf(buf, len, "%s",
			 v->reason == AWF_R_NAME_NOT_ALLOWED ?
				 "no allow_domains entry matches" :
				 "no allow_cidrs entry covers it");
		return;
	case VR_PROXY:
		snprintf(buf, len, "by proxy %s:%u",
			 ip_format(c->p->proxy.family, c->p->proxy.addr, prefix,
				   sizeof(prefix)),
			 c->p->proxy.port);
		return;
	case VR_LOCALHOST:
		localhost_text(c->p, v, buf, len);
		return;
	case VR_IPV6:
		snprintf(buf, len, "by \"ipv6\": false");
		return;
	case VR_CIDR:
		snprintf(buf, len, "%s %s (ports %s)",
			 v->allowed ? "by allow_cidrs" : "allow_cidrs entry",
			 prefix_text(v->prefix, prefix, sizeof(prefix)),
			 ports_text(&v->ports, ports, sizeof(ports)));
		return;
	case VR_RESERVED:
		snprintf(
			buf, len,
			"by reserved range %s (link-local, cloud metadata: allowed only when an allow_cidrs entry names it)",
			prefix_text(v->prefix, prefix, sizeof(prefix)));
		return;
	case VR_ALLOW_DOMAIN:
		domain_text(c->p, v, buf, len);
		if (v->reason == AWF_R_PROXY_ONLY)
			snprintf(buf + strlen(buf), len - strlen(buf),
				 "; proxy-only mode: through the proxy");
		return;
	case VR_BLOCK_DOMAIN:
		snprintf(buf, len, "by block_domains entry %s",
			 c->p->block_domains[v->index].name);
		return;
	}
	snprintf(buf, len, "?");
}
