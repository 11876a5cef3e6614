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
#include "policy/cidr.h"
#include "policy/ports.h"

#define POLICY_VERSION 1
#define POLICY_DEFAULT_MIN_TTL 60
#define POLICY_DEFAULT_MAX_IPS 64
/* Answers the DNS endpoint keeps (user/dns/dns_cache.h); 0: none. */
#define POLICY_DEFAULT_DNS_CACHE 1024
#define POLICY_MAX_DNS_CACHE 65536

struct policy_domain {
	char *name; /* lower case, ASCII (punycode), no trailing dot; may hold '*' */
	bool subdomains; /* "example.com" matches below it too */
	bool has_ports;	 /* false: the policy's default "ports" apply */
	struct awf_port_set ports;
	/*
	 * Connections to its addresses must name an allowed name in their
	 * first bytes (TLS server_name, HTTP Host); "name_check": false
	 * turns that off for clients that cannot.
	 */
	bool name_check;
	/*
	 * "udp": true lets UDP reach its addresses on its ports (QUIC, NTP,
	 * ...). Off by default: a datagram carries no name the kernel can
	 * check (QUIC's Initial is encrypted), so UDP would open every other
	 * name on a shared address.
	 */
	bool udp;
};

/*
 * An allow_cidrs entry as the policy keeps it: a million of them take
 * 24 MB; policy_cidr_at() gives it back as a struct policy_cidr.
 */
struct policy_cidr_entry {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t prefixlen;
	uint32_t ports; /* in policy.cidr_ports */
	uint8_t addr[16];
};

struct policy {
	int version;
	struct policy_domain *allow_domains;
	size_t n_allow_domains;
	struct policy_domain *block_domains;
	size_t n_block_domains;
	struct awf_port_set ports;	 /* default ports of domain entries */
	bool ports_set;			 /* "ports" given explicitly */
	struct policy_addr *dns_servers; /* port is 53 */
	size_t n_dns_servers;
	struct policy_cidr_entry *cidrs;
	size_t n_cidrs;
	size_t cidrs_cap; /* allocated; 0: as room_for_one() (policy.c) */
	struct port_table cidr_ports; /* the port sets of cidrs */
	/* policy.c: duplicate lookups of the merges */
	struct policy_index *cidr_index;
	struct policy_index *allow_domain_index;
	struct policy_index *block_domain_index;
	enum awf_localhost_mode localhost_mode;
	struct awf_port_set
		localhost_ports; /* extra loopback ports (sandbox mode) */
	bool has_proxy;
	struct policy_addr proxy;
	bool ipv6;
	unsigned int dns_min_ttl;
	unsigned int dns_max_ips_per_name;
	/*
	 * "mode": "audit" (`run --audit-only`): what the policy refuses
	 * proceeds and is logged as what enforcing mode would have refused
	 * (AWF_AUDIT_ONLY_REASONS); the sandbox itself stays as it is.
	 */
	bool audit_only;
	unsigned int dns_cache_entries;
};

/* Defaults of policy v1: ports [80, 443], localhost sandbox, ipv6 on. */
void policy_init(struct policy *p);
void policy_free(struct policy *p);
/*
 * "sandbox", "allow" or "deny"; "unknown" for any other value (a pinned
 * config of another version).
 */
const char *policy_localhost_mode_name(unsigned int mode);
/* allow_cidrs entry i (i < n_cidrs), its ports included. */
void policy_cidr_at(const struct policy *p, size_t i, struct policy_cidr *out);
/* Whether some allow entry has its names checked ("name_check"). */
bool policy_checks_names(const struct policy *p);

#endif /* AWF_POLICY_H */
