// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <sys/socket.h>

#include "policy/cidr.h"
#include "policy/ports.h"
#include "common/error.h"
#include "test_util.h"

struct cidr_row {
	const char *in;
	const char *want; /* "addr/len" as stored, or NULL: an error */
	int family;
	const char *err;
};

static const struct cidr_row cidr_rows[] = {
	{ "10.0.0.0/8", "10.0.0.0/8", AF_INET, NULL },
	{ "192.0.2.7", "192.0.2.7/32", AF_INET, NULL },
	{ "192.0.2.7/32", "192.0.2.7/32", AF_INET, NULL },
	{ "0.0.0.0/0", "0.0.0.0/0", AF_INET, NULL },
	{ "2001:db8::/32", "2001:db8::/32", AF_INET6, NULL },
	{ "2001:DB8::1", "2001:db8::1/128", AF_INET6, NULL },
	{ "fd42:a0f0::/48", "fd42:a0f0::/48", AF_INET6, NULL },
	{ "::ffff:192.0.2.0/120", "192.0.2.0/24", AF_INET, NULL },
	{ "::ffff:192.0.2.1", "192.0.2.1/32", AF_INET, NULL },
	{ "::ffff:0:0/96", "0.0.0.0/0", AF_INET, NULL },
	/* shorter than /96 covers more than the mapped range: stays IPv6 */
	{ "::/64", "::/64", AF_INET6, NULL },
	{ "10.1.2.3/16", NULL, 0,
	  "10.1.2.3/16: host bits set (did you mean 10.1.0.0/16?)" },
	{ "2001:db8::1/32", NULL, 0,
	  "2001:db8::1/32: host bits set (did you mean 2001:db8::/32?)" },
	{ "192.0.2.129/25", NULL, 0, "did you mean 192.0.2.128/25?" },
	{ "::ffff:192.0.2.1/120", NULL, 0,
	  "did you mean ::ffff:192.0.2.0/120?" },
	{ "10.0.0.0/33", NULL, 0,
	  "10.0.0.0/33: invalid prefix length \"33\" (expected 0-32)" },
	{ "2001:db8::/129", NULL, 0,
	  "invalid prefix length \"129\" (expected 0-128)" },
	{ "10.0.0.0/", NULL, 0, "invalid prefix length \"\"" },
	{ "10.0.0.0/-1", NULL, 0, "invalid prefix length \"-1\"" },
	{ "10.0.0.0/8x", NULL, 0, "invalid prefix length \"8x\"" },
	{ "10.0.0/8", NULL, 0, "10.0.0/8: not an IP address or CIDR" },
	{ "example.com/8", NULL, 0,
	  "example.com/8: not an IP address or CIDR" },
	{ "", NULL, 0, "not an IP address or CIDR" },
	{ " 10.0.0.0/8", NULL, 0, "not an IP address or CIDR" },
	{ "fe80::1%eth0/64", NULL, 0, "not an IP address or CIDR" },
	{ "1111:2222:3333:4444:5555:6666:7777:8888:9999/64", NULL, 0,
	  "not an IP address or CIDR" },
};

struct ip_row {
	const char *in;
	int family; /* 0: an error */
	bool loopback;
};

static const struct ip_row ip_rows[] = {
	{ "192.0.2.53", AF_INET, false },
	{ "127.0.0.53", AF_INET, true },
	{ "127.255.255.254", AF_INET, true },
	{ "0.0.0.0", AF_INET, true },
	{ "::1", AF_INET6, true },
	{ "::", AF_INET6, true },
	{ "::2", AF_INET6, false },
	{ "::ffff:127.0.0.1", AF_INET, true },
	{ "2001:db8::53", AF_INET6, false },
	{ "dns.example", 0, false },
	{ "192.0.2.53/32", 0, false },
};

static void test_cidr(void **state)
{
	const struct cidr_row *row = *state;
	char err[AWF_ERR_LEN] = "", ip[IP_TEXT_LEN], got[64];
	struct policy_cidr c;
	int rc = cidr_parse(&c, row->in, err, sizeof(err));

	if (!row->want) {
		assert_int_equal(rc, -1);
		assert_err_has(err, row->err);
		return;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(c.family, row->family);
	snprintf(got, sizeof(got), "%s/%u",
		 ip_format(c.family, c.addr, ip, sizeof(ip)), c.prefixlen);
	assert_string_equal(got, row->want);
	assert_true(port_set_is_all(&c.ports));
}

static void test_ip(void **state)
{
	const struct ip_row *row = *state;
	char err[AWF_ERR_LEN] = "";
	uint8_t addr[16];
	int family;
	int rc = ip_parse(row->in, &family, addr, err, sizeof(err));

	if (!row->family) {
		assert_int_equal(rc, -1);
		assert_err_has(
			err,
			"not an IP address (host names are not supported here)");
		assert_non_null(strstr(err, row->in));
		return;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(family, row->family);
	assert_int_equal(ip_is_loopback(family, addr), row->loopback);
}

static void test_mapped_bytes(void **state)
{
	static const uint8_t want[16] = { 192, 0, 2, 1 };
	struct policy_cidr c;
	char err[AWF_ERR_LEN];

	(void)state;
	assert_int_equal(
		cidr_parse(&c, "::ffff:192.0.2.1/128", err, sizeof(err)), 0);
	assert_memory_equal(c.addr, want, sizeof(want));
	assert_int_equal(c.prefixlen, 32);
}

int main(void)
{
	struct test_list l = { 0 };

	TL_ROWS(&l, test_cidr, cidr_rows);
	TL_ROWS(&l, test_ip, ip_rows);
	tl_add(&l, "v4-mapped bytes", test_mapped_bytes, NULL);
	return tl_run("cidr", &l);
}
