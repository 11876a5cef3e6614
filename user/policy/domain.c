// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * domain.c - domain patterns of a policy, brought to the one form the DNS
 * matcher compares against: lower case ASCII (punycode), no trailing dot.
 * Anything a matcher could read two ways is rejected here instead.
 */
#include <arpa/inet.h>
#include <idn2.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/cidr.h"
#include "policy/domain.h"
#include "common/error.h"
#include "common/optlib.h"
#include "policy/policy_int.h"

#define LABEL_MAX 63
/* Room for a name written in UTF-8 before punycode shortens its labels. */
#define RAW_MAX (4 * POLICY_MAX_DOMAIN_LEN)

struct name_shape {
	unsigned int labels;
	unsigned int literal_labels; /* labels without '*' */
	bool wildcard;
	bool wildcard_in_last;
};

const char *domain_strip_scheme(const char *in, uint16_t *port)
{
	static const struct {
		const char *prefix;
		uint16_t port;
	} schemes[] = { { "https://", 443 }, { "http://", 80 } };

	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		size_t len = strlen(schemes[i].prefix);

		if (strncasecmp(in, schemes[i].prefix, len) == 0) {
			*port = schemes[i].port;
			return in + len;
		}
	}
	*port = 0;
	return in;
}

/* Things people paste from a browser: say what to write instead. */
static int reject_url_parts(const char *in, char *err, size_t errlen)
{
	if (!*in)
		set_err(err, errlen, "empty domain name");
	else if (strstr(in, "://"))
		set_err(err, errlen,
			"%s: URLs are not supported in a domain entry (give the bare host name, or https://NAME or http://NAME for port 443 or 80 only; use the object form with \"ports\" for other ports)",
			in);
	else if (strchr(in, '/'))
		set_err(err, errlen,
			"%s: paths are not supported in a domain entry (give the bare host name; the policy decides by name and port, never by path)",
			in);
	else
		return 0;
	return -1;
}

/* After to_ascii(), so that "192.0.2.1." is seen as an address too. */
static int reject_addresses(const char *in, const char *name, char *err,
			    size_t errlen)
{
	uint8_t addr[16];

	/* as ip_parse() reads an address, without its message for a name */
	if (inet_pton(AF_INET, name, addr) == 1 ||
	    inet_pton(AF_INET6, name, addr) == 1)
		set_err(err, errlen,
			"%s: an IP address is not a domain (put it in allow_cidrs)",
			in);
	else if (strchr(name, ':'))
		set_err(err, errlen,
			"%s: ports are not supported in a domain entry (use the object form {\"domain\": ..., \"ports\": [...]})",
			in);
	else
		return 0;
	return -1;
}

/* Lower case, one trailing dot dropped, Unicode labels to punycode. */
static int to_ascii(const char *in, char *buf, size_t buflen, char *err,
		    size_t errlen)
{
	size_t len = strlen(in);
	bool unicode = false;
	const struct idn2_api *idn2;
	char *ascii = NULL;
	int rc;

	if (len >= RAW_MAX)
		return set_err(err, errlen,
			       "%.40s...: longer than %d characters", in,
			       POLICY_MAX_DOMAIN_LEN);
	for (size_t i = 0; i <= len; i++) {
		unsigned char c = (unsigned char)in[i];

		unicode |= c >= 0x80;
		buf[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	if (len > 1 && buf[len - 1] == '.')
		buf[len - 1] = '\0';
	if (!unicode)
		return 0;
	idn2 = optlib_idn2(err, errlen);
	if (!idn2)
		return -1;
	rc = idn2->to_ascii_8z(buf, &ascii,
			       IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	if (rc != IDN2_OK)
		return set_err(
			err, errlen,
			"%s: not a valid internationalized domain name (%s)",
			in, idn2->strerror(rc));
	rc = strlen(ascii) < buflen ? 0 : -1;
	if (rc == 0)
		strcpy(buf, ascii);
	else
		set_err(err, errlen, "%s: longer than %d characters", in,
			POLICY_MAX_DOMAIN_LEN);
	idn2->free(ascii);
	return rc;
}

static bool label_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '_' || c == '*';
}

static int check_label(const char *in, const char *label, size_t len, char *err,
		       size_t errlen)
{
	int n = (int)len;

	if (len == 0)
		return set_err(err, errlen, "%s: empty label", in);
	if (len > LABEL_MAX)
		return set_err(
			err, errlen,
			"%s: label \"%.*s\" is longer than %d characters", in,
			n, label, LABEL_MAX);
	if (label[0] == '-' || label[len - 1] == '-')
		return set_err(err, errlen,
			       "%s: label \"%.*s\" starts or ends with '-'", in,
			       n, label);
	for (size_t i = 0; i < len; i++) {
		if (!label_char_ok(label[i]))
			return set_err(
				err, errlen,
				"%s: character '%c' is not allowed (only a-z, 0-9, '-', '_' and '*')",
				in, label[i]);
		if (label[i] == '*' && i > 0 && label[i - 1] == '*')
			return set_err(
				err, errlen,
				"%s: \"**\" is not supported (one '*' already matches any run of characters)",
				in);
	}
	return 0;
}

static int check_labels(const char *in, const char *name,
			struct name_shape *shape, char *err, size_t errlen)
{
	const char *label = name;

	memset(shape, 0, sizeof(*shape));
	for (;;) {
		size_t len = strcspn(label, ".");
		bool wild = memchr(label, '*', len) != NULL;

		if (check_label(in, label, len, err, errlen) < 0)
			return -1;
		shape->labels++;
		shape->literal_labels += !wild;
		shape->wildcard |= wild;
		if (!label[len]) {
			shape->wildcard_in_last = wild;
			return 0;
		}
		label += len + 1;
	}
}

/*
 * A wildcard must leave at least a registrable-looking name literal:
 * "*.com" or "api-*.com" would let the sandbox reach anyone's server.
 */
static int check_wildcards(const char *in, const struct name_shape *shape,
			   char *err, size_t errlen)
{
	if (!shape->wildcard)
		return 0;
	if (shape->literal_labels == 0)
		set_err(err, errlen, "%s: the pattern matches every name", in);
	else if (shape->wildcard_in_last)
		set_err(err, errlen,
			"%s: '*' is not allowed in the top-level label", in);
	else if (shape->literal_labels == 1)
		set_err(err, errlen,
			"%s: the pattern covers a whole top-level domain", in);
	else
		return 0;
	return -1;
}

int domain_normalize(const char *in, char *out, size_t outlen, char *err,
		     size_t errlen)
{
	char name[RAW_MAX];
	struct name_shape shape;
	size_t len;

	if (reject_url_parts(in, err, errlen) < 0 ||
	    to_ascii(in, name, sizeof(name), err, errlen) < 0 ||
	    reject_addresses(in, name, err, errlen) < 0)
		return -1;
	len = strlen(name);
	if (len > POLICY_MAX_DOMAIN_LEN)
		return set_err(err, errlen, "%s: longer than %d characters", in,
			       POLICY_MAX_DOMAIN_LEN);
	if (check_labels(in, name, &shape, err, errlen) < 0 ||
	    check_wildcards(in, &shape, err, errlen) < 0)
		return -1;
	if (len >= outlen)
		return set_err(err, errlen,
			       "%s: no room for the normalized name", in);
	memcpy(out, name, len + 1);
	return 0;
}
