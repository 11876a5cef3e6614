// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "kernel/sandbox_config.h"

void sandbox_config_build(struct awf_config *cfg, const struct policy *p,
			  uint16_t dns_port, bool dns_ipv6, bool audit_allowed)
{
	const struct in6_addr v4mapped_lo = {
		.s6_addr = { [10] = 0xff, [11] = 0xff, [12] = 127, [15] = 1 }
	};

	memset(cfg, 0, sizeof(*cfg));
	cfg->dns_ip4 = htonl(INADDR_LOOPBACK);
	/* Without ::1, native IPv6 queries still reach the v4 listener. */
	memcpy(cfg->dns_ip6, dns_ipv6 ? &in6addr_loopback : &v4mapped_lo, 16);
	cfg->dns_port = dns_port;
	cfg->localhost_mode = (__u8)p->localhost_mode;
	cfg->lo_ports = p->localhost_ports;
	cfg->ipv6_enabled = p->ipv6;
	/* Audit-only mode logs everything used: `policy suggest` reads it. */
	cfg->audit_allowed = audit_allowed || p->audit_only ? 1 : 0;
	cfg->audit_only = p->audit_only ? 1 : 0;
	if (p->has_proxy) {
		cfg->proxy_enabled = 1;
		cfg->proxy_family = (__u8)p->proxy.family;
		cfg->proxy_port = p->proxy.port;
		memcpy(cfg->proxy_addr, p->proxy.addr, 16);
	}
}
