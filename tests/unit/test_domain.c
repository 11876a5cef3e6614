// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "policy/domain.h"
#include "common/error.h"
#include "test_util.h"

#define L63 "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij123"
#define L50 "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghij"

struct domain_row {
	const char *in;
	const char *want; /* normalized, or NULL: an error */
	const char *err;
};

static const struct domain_row rows[] = {
	{ "github.com", "github.com", NULL },
	{ "GitHub.COM", "github.com", NULL },
	{ "example.com.", "example.com", NULL },
	{ "*.example.com", "*.example.com", NULL },
	{ "*.Example.Com.", "*.example.com", NULL },
	{ "api-*.example.com", "api-*.example.com", NULL },
	{ "*-api.example.com", "*-api.example.com", NULL },
	{ "a.*.example.com", "a.*.example.com", NULL },
	{ "_dmarc.example.com", "_dmarc.example.com", NULL },
	{ "xn--bcher-kva.de", "xn--bcher-kva.de", NULL },
	{ "bücher.de", "xn--bcher-kva.de", NULL },
	{ "Bücher.DE.", "xn--bcher-kva.de", NULL },
	{ "*.bücher.de", "*.xn--bcher-kva.de", NULL },
	{ "例え。jp", "xn--r8jz45g.jp", NULL },
	{ "localhost", "localhost", NULL },
	{ "123.example", "123.example", NULL },
	{ L63 ".example.com", L63 ".example.com", NULL },
	{ "", NULL, "empty domain name" },
	{ "http://example.com", NULL,
	  "http://example.com: URLs are not supported in a domain entry" },
	{ "https://example.com/x", NULL,
	  "URLs are not supported in a domain entry" },
	{ "example.com:443", NULL,
	  "example.com:443: ports are not supported in a domain entry (use the object form" },
	{ "example.com/path", NULL,
	  "example.com/path: paths are not supported in a domain entry" },
	{ "192.0.2.1", NULL, "192.0.2.1: an IP address is not a domain" },
	{ "192.0.2.1.", NULL, "an IP address is not a domain" },
	{ "2001:db8::1", NULL, "2001:db8::1: an IP address is not a domain" },
	{ "a..example.com", NULL, "a..example.com: empty label" },
	{ ".example.com", NULL, "empty label" },
	{ "example.com..", NULL, "empty label" },
	{ ".", NULL, "empty label" },
	{ L63 "4.example.com", NULL, "is longer than 63 characters" },
	{ L50 "." L50 "." L50 "." L50 "." L50 ".com", NULL,
	  "longer than 253 characters" },
	{ "exa mple.com", NULL, "character ' ' is not allowed" },
	{ "ex!ample.com", NULL, "character '!' is not allowed" },
	{ "a\tb.com", NULL, "character '?' is not allowed" },
	{ "-a.example.com", NULL, "label \"-a\" starts or ends with '-'" },
	{ "a-.example.com", NULL, "label \"a-\" starts or ends with '-'" },
	{ "*", NULL, "*: the pattern matches every name" },
	{ "*.*", NULL, "the pattern matches every name" },
	{ "*.com", NULL, "*.com: the pattern covers a whole top-level domain" },
	{ "api-*.com", NULL, "covers a whole top-level domain" },
	{ "*.*.com", NULL, "covers a whole top-level domain" },
	{ "example.*", NULL, "'*' is not allowed in the top-level label" },
	{ "example.c*m", NULL, "'*' is not allowed in the top-level label" },
	{ "**.example.com", NULL, "\"**\" is not supported" },
	{ "\xff.de", NULL, "not a valid internationalized domain name" },
	{ "-ü.de", NULL, "not a valid internationalized domain name" },
};

static void test_normalize(void **state)
{
	const struct domain_row *row = *state;
	char out[POLICY_MAX_DOMAIN_LEN + 1] = "", err[AWF_ERR_LEN] = "";
	int rc = domain_normalize(row->in, out, sizeof(out), err, sizeof(err));

	if (row->want) {
		if (rc != 0)
			print_error("unexpected error: %s\n", err);
		assert_int_equal(rc, 0);
		assert_string_equal(out, row->want);
	} else {
		assert_int_equal(rc, -1);
		assert_err_has(err, row->err);
	}
}

static void test_small_buffer(void **state)
{
	char out[8], err[AWF_ERR_LEN] = "";

	(void)state;
	assert_int_equal(domain_normalize("example.com", out, sizeof(out), err,
					  sizeof(err)),
			 -1);
	assert_err_has(err, "example.com: no room");
}

int main(void)
{
	struct test_list l = { 0 };

	TL_ROWS(&l, test_normalize, rows);
	tl_add(&l, "output buffer too small", test_small_buffer, NULL);
	return tl_run("domain", &l);
}
