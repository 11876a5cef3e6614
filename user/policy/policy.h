/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * policy.h - the in-memory form of a policy (policy/README.md), built from a
 * JSON file and command-line flags, validated and normalized.
 *
 * Every function that can fail takes (err, errlen) and writes one line that
 * names the origin (file name or flag) and the key path, e.g.
 *   "p.json: allow_cidrs[1].ports[0]: port 70000 out of range 0-65535"
 * and returns -1. They return 0 on success.
 */
#ifndef AWF_POLICY_H
#define AWF_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "awf.h"

#define POLICY_VERSION 1
#define POLICY_DEFAULT_MIN_TTL 60
#define POLICY_DEFAULT_MAX_IPS 64
#define POLICY_MAX_DOMAIN_LEN 253

struct policy_domain {
	char *name;      /* lower case, ASCII (punycode), no trailing dot; may hold '*' */
	bool subdomains; /* "example.com" matches below it too */
	bool has_ports;  /* false: the policy's default "ports" apply */
	struct awf_port_set ports;
};

struct policy_addr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network order; IPv4 in the first 4 bytes */
	uint16_t port;    /* host order */
};

struct policy_cidr {
	int family;
	uint8_t addr[16]; /* network order, host bits cleared */
	unsigned int prefixlen;
	struct awf_port_set ports; /* {0-65535} when the entry names none */
};

struct policy {
	int version;
	struct policy_domain *allow_domains;
	size_t n_allow_domains;
	struct policy_domain *block_domains;
	size_t n_block_domains;
	struct awf_port_set ports; /* default ports of domain entries */
	bool ports_set;            /* "ports" given explicitly */
	struct policy_addr *dns_servers; /* port is 53 */
	size_t n_dns_servers;
	struct policy_cidr *cidrs;
	size_t n_cidrs;
	struct policy_cidr_index *cidr_index; /* policy.c: duplicate lookups */
	enum awf_localhost_mode localhost_mode;
	struct awf_port_set localhost_ports; /* extra loopback ports (sandbox mode) */
	bool has_proxy;
	struct policy_addr proxy;
	bool ipv6;
	unsigned int dns_min_ttl;
	unsigned int dns_max_ips_per_name;
};

/* Defaults of policy v1: ports [80, 443], localhost sandbox, ipv6 on. */
void policy_init(struct policy *p);
void policy_free(struct policy *p);

/* Merge a JSON policy file into p: lists append, scalars override. */
int policy_load_file(struct policy *p, const char *path, char *err,
		     size_t errlen);
/* The same from an already parsed object; origin names it in errors. */
int policy_load_json(struct policy *p, json_object *root, const char *origin,
		     char *err, size_t errlen);

/*
 * "sandbox", "allow" or "deny"; "unknown" for any other value (a pinned
 * config of another version).
 */
const char *policy_localhost_mode_name(unsigned int mode);
/* Command-line merges. list is comma separated; origin is the flag name. */
int policy_add_domains(struct policy *p, bool block, const char *list,
		       const char *origin, char *err, size_t errlen);
/* One entry per line or comma separated; '#' starts a comment. */
int policy_add_domains_file(struct policy *p, bool block, const char *path,
			    char *err, size_t errlen);
int policy_add_dns_servers(struct policy *p, const char *list,
			   const char *origin, char *err, size_t errlen);
/* "CIDR" or "CIDR:PORTS" (PORTS: "80,443,8000-8100"); IPv6 as [addr/len]:PORTS. */
int policy_add_cidr_arg(struct policy *p, const char *arg, const char *origin,
			char *err, size_t errlen);
/* "HOST:PORT" or "[v6]:PORT"; HOST must be an IP literal. */
int policy_set_proxy(struct policy *p, const char *arg, const char *origin,
		     char *err, size_t errlen);
/* "sandbox", "allow" or "deny". */
int policy_set_localhost(struct policy *p, const char *mode,
			 const char *origin, char *err, size_t errlen);

/*
 * Last step before use: cross-field checks and defaults that need the
 * host (dns_servers from resolv_conf when none were given; the stub case
 * reads stub_fallback). Pass NULL for the system paths.
 */
int policy_finalize(struct policy *p, const char *resolv_conf,
		    const char *stub_fallback, char *err, size_t errlen);

/* Normalized policy, the output of `awf-bpf policy check`. */
json_object *policy_to_json(const struct policy *p);

/* Port helpers shared by the policy and the map builder. */
int port_set_parse(struct awf_port_set *set, const char *spec, char *err,
		   size_t errlen); /* "443" or "8000-8100" appended */
int port_set_add(struct awf_port_set *set, uint16_t lo, uint16_t hi);
/* Union into dst, merging ranges; -1 when more than AWF_MAX_PORT_RANGES. */
int port_set_union(struct awf_port_set *dst, const struct awf_port_set *src);
bool port_set_contains(const struct awf_port_set *set, uint16_t port);
void port_set_all(struct awf_port_set *set);
bool port_set_is_all(const struct awf_port_set *set);
/* As in the normalized policy: "all", or [80, "8000-8100"]. */
json_object *port_set_to_json(const struct awf_port_set *set);

/* "10.0.0.0/8", "2001:db8::/32", or a bare address (full-length prefix). */
int cidr_parse(struct policy_cidr *out, const char *text, char *err,
	       size_t errlen);
/* Normalize and validate a domain pattern (see policy/README.md). */
int domain_normalize(const char *in, char *out, size_t outlen, char *err,
		     size_t errlen);

#endif /* AWF_POLICY_H */
