// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cidr.c - IP literals and CIDR prefixes as a policy writes them. The
 * address itself is left to inet_pton: a hand-written parser is where
 * "010.1.1.1" or "1.2.3" surprises hide.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "policy/cidr.h"
#include "common/error.h"
#include "policy/policy_int.h"
#include "policy/ports.h"

static const uint8_t v4_mapped_prefix[12] = { [10] = 0xff, [11] = 0xff };

static unsigned int family_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

static int parse_raw(const char *text, int *family, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, text, addr) == 1)
		*family = AF_INET;
	else if (inet_pton(AF_INET6, text, addr) == 1)
		*family = AF_INET6;
	else
		return -1;
	return 0;
}

/*
 * The kernel reports a v4-mapped peer of a dual-stack socket as IPv4, so
 * the policy stores such prefixes in the IPv4 form. Shorter prefixes cover
 * more than the mapped range and stay IPv6.
 */
static void unmap_v4(int *family, uint8_t addr[16], unsigned int *prefixlen)
{
	if (*family != AF_INET6 || *prefixlen < 96 ||
	    memcmp(addr, v4_mapped_prefix, sizeof(v4_mapped_prefix)) != 0)
		return;
	memmove(addr, addr + 12, 4);
	memset(addr + 4, 0, 12);
	*family = AF_INET;
	*prefixlen -= 96;
}

int ip_parse(const char *text, int *family, uint8_t addr[16], char *err,
	     size_t errlen)
{
	unsigned int len = 128;

	if (parse_raw(text, family, addr) < 0)
		return set_err(
			err, errlen,
			"%s: not an IP address (host names are not supported here)",
			text);
	unmap_v4(family, addr, &len);
	return 0;
}

const char *ip_format(int family, const uint8_t *addr, char *buf, size_t len)
{
	if (!inet_ntop(family, addr, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

/* The unspecified address counts: connecting to it reaches this host. */
bool ip_is_loopback(int family, const uint8_t *addr)
{
	static const uint8_t zero[16];

	if (family == AF_INET)
		return addr[0] == 127 || memcmp(addr, zero, 4) == 0;
	return memcmp(addr, zero, 15) == 0 && addr[15] <= 1;
}

static bool clear_host_bits(uint8_t addr[16], unsigned int prefixlen)
{
	bool had_bits = false;

	for (unsigned int i = 0; i < 16; i++) {
		unsigned int keep = prefixlen > 8 * i ? prefixlen - 8 * i : 0;
		uint8_t mask = keep >= 8 ? 0xff : (uint8_t)(0xff00 >> keep);

		had_bits |= (addr[i] & ~mask) != 0;
		addr[i] &= mask;
	}
	return had_bits;
}

static int parse_prefixlen(const char *s, unsigned int max, unsigned int *out)
{
	unsigned int v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		v = v * 10 + (unsigned int)(*s - '0');
		if (v > max)
			return -1;
	}
	*out = v;
	return 0;
}

int cidr_parse(struct policy_cidr *out, const char *text, char *err,
	       size_t errlen)
{
	char addr_text[IP_TEXT_LEN], fix[IP_TEXT_LEN];
	const char *slash = strchr(text, '/');
	size_t addr_len = slash ? (size_t)(slash - text) : strlen(text);

	memset(out, 0, sizeof(*out));
	if (addr_len >= sizeof(addr_text))
		goto bad_addr;
	memcpy(addr_text, text, addr_len);
	addr_text[addr_len] = '\0';
	if (parse_raw(addr_text, &out->family, out->addr) < 0)
		goto bad_addr;
	out->prefixlen = family_bits(out->family);
	if (slash &&
	    parse_prefixlen(slash + 1, out->prefixlen, &out->prefixlen) < 0) {
		return set_err(
			err, errlen,
			"%s: invalid prefix length \"%s\" (expected 0-%u)",
			text, slash + 1, family_bits(out->family));
	}
	/* Guessing which network was meant is not a firewall's call. */
	if (clear_host_bits(out->addr, out->prefixlen))
		return set_err(
			err, errlen, "%s: host bits set (did you mean %s/%u?)",
			text,
			ip_format(out->family, out->addr, fix, sizeof(fix)),
			out->prefixlen);
	unmap_v4(&out->family, out->addr, &out->prefixlen);
	port_set_all(&out->ports);
	return 0;

bad_addr:
	return set_err(
		err, errlen,
		"%s: not an IP address or CIDR (expected e.g. 10.0.0.0/8 or 2001:db8::/32)",
		text);
}
