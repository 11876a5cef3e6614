// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * policy_json.c - the normalized policy as JSON (`awf-bpf policy check`):
 * every key with its effective value, so that a reader never has to know
 * the defaults. The output is itself a valid v1 policy.
 */
#include <stdio.h>
#include <sys/socket.h>

#include "policy/cidr.h"
#include "policy/policy_int.h"
#include "policy/policy_json.h"
#include "policy/ports.h"

static json_object *ports_json(const struct awf_port_set *set)
{
	json_object *arr;

	if (port_set_is_all(set))
		return json_object_new_string("all");
	arr = json_object_new_array();
	for (uint32_t i = 0; i < set->count; i++) {
		const struct awf_port_range *r = &set->ranges[i];
		char range[16];

		if (r->lo == r->hi) {
			json_object_array_add(arr, json_object_new_int(r->lo));
			continue;
		}
		snprintf(range, sizeof(range), "%u-%u", r->lo, r->hi);
		json_object_array_add(arr, json_object_new_string(range));
	}
	return arr;
}

json_object *port_set_to_json(const struct awf_port_set *set)
{
	return ports_json(set);
}

/* Block entries have no ports: a blocked name is blocked on all of them. */
static json_object *domains_json(const struct policy_domain *d, size_t n,
				 const struct awf_port_set *default_ports)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "domain",
				       json_object_new_string(d[i].name));
		json_object_object_add(
			o, "subdomains",
			json_object_new_boolean(d[i].subdomains));
		if (default_ports) {
			json_object_object_add(
				o, "name_check",
				json_object_new_boolean(d[i].name_check));
			json_object_object_add(
				o, "udp", json_object_new_boolean(d[i].udp));
		}
		if (default_ports)
			json_object_object_add(
				o, "ports",
				ports_json(d[i].has_ports ? &d[i].ports :
							    default_ports));
		json_object_array_add(arr, o);
	}
	return arr;
}

static json_object *ip_json(int family, const uint8_t *addr)
{
	char text[IP_TEXT_LEN];

	return json_object_new_string(
		ip_format(family, addr, text, sizeof(text)));
}

static json_object *dns_servers_json(const struct policy *p)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < p->n_dns_servers; i++)
		json_object_array_add(arr, ip_json(p->dns_servers[i].family,
						   p->dns_servers[i].addr));
	return arr;
}

static json_object *cidrs_json(const struct policy *p)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < p->n_cidrs; i++) {
		json_object *o = json_object_new_object();
		char ip[IP_TEXT_LEN], text[IP_TEXT_LEN + 8];
		struct policy_cidr c;

		policy_cidr_at(p, i, &c);
		snprintf(text, sizeof(text), "%s/%u",
			 ip_format(c.family, c.addr, ip, sizeof(ip)),
			 c.prefixlen);
		json_object_object_add(o, "cidr", json_object_new_string(text));
		json_object_object_add(o, "ports", ports_json(&c.ports));
		json_object_array_add(arr, o);
	}
	return arr;
}

static json_object *localhost_json(const struct policy *p)
{
	json_object *o = json_object_new_object();

	json_object_object_add(
		o, "mode",
		json_object_new_string(
			policy_localhost_mode_name(p->localhost_mode)));
	json_object_object_add(o, "ports", ports_json(&p->localhost_ports));
	return o;
}

static json_object *proxy_json(const struct policy *p)
{
	const char *fmt = p->proxy.family == AF_INET6 ? "[%s]:%u" : "%s:%u";
	char ip[IP_TEXT_LEN], text[IP_TEXT_LEN + 8];

	if (!p->has_proxy)
		return NULL; /* JSON null */
	snprintf(text, sizeof(text), fmt,
		 ip_format(p->proxy.family, p->proxy.addr, ip, sizeof(ip)),
		 p->proxy.port);
	return json_object_new_string(text);
}

static json_object *dns_json(const struct policy *p)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "min_ttl",
			       json_object_new_int((int)p->dns_min_ttl));
	json_object_object_add(
		o, "max_ips_per_name",
		json_object_new_int((int)p->dns_max_ips_per_name));
	json_object_object_add(o, "cache_entries",
			       json_object_new_int((int)p->dns_cache_entries));
	return o;
}

json_object *policy_to_json(const struct policy *p)
{
	json_object *root = json_object_new_object();

	if (!root)
		return NULL;
	json_object_object_add(root, "version",
			       json_object_new_int(p->version));
	json_object_object_add(
		root, "allow_domains",
		domains_json(p->allow_domains, p->n_allow_domains, &p->ports));
	json_object_object_add(
		root, "block_domains",
		domains_json(p->block_domains, p->n_block_domains, NULL));
	json_object_object_add(root, "ports", ports_json(&p->ports));
	json_object_object_add(root, "dns_servers", dns_servers_json(p));
	json_object_object_add(root, "allow_cidrs", cidrs_json(p));
	json_object_object_add(root, "localhost", localhost_json(p));
	json_object_object_add(root, "proxy", proxy_json(p));
	json_object_object_add(root, "ipv6", json_object_new_boolean(p->ipv6));
	json_object_object_add(root, "dns", dns_json(p));
	/* Only when set: a policy says nothing of it to enforce. */
	if (p->audit_only)
		json_object_object_add(root, "mode",
				       json_object_new_string("audit"));
	return root;
}
