/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * cidr.h - IP literals and networks of a policy: parsed (v4-mapped
 * IPv6 comes back as IPv4), printed, classified.
 */
#ifndef AWF_CIDR_H
#define AWF_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "awf.h"

struct policy_addr {
	int family;	  /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network order; IPv4 in the first 4 bytes */
	uint16_t port;	  /* host order */
};

struct policy_cidr {
	int family;
	uint8_t addr[16]; /* network order, host bits cleared */
	unsigned int prefixlen;
	struct awf_port_set ports; /* {0-65535} when the entry names none */
};

/* "10.0.0.0/8", "2001:db8::/32", or a bare address (full-length prefix). */
int cidr_parse(struct policy_cidr *out, const char *text, char *err,
	       size_t errlen);

/* An IP literal; v4-mapped IPv6 addresses come back as AF_INET. */
int ip_parse(const char *text, int *family, uint8_t addr[16], char *err,
	     size_t errlen);
#define IP_TEXT_LEN 46 /* INET6_ADDRSTRLEN */
const char *ip_format(int family, const uint8_t *addr, char *buf, size_t len);
bool ip_is_loopback(int family, const uint8_t *addr);

#endif /* AWF_CIDR_H */
