// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <string.h>

#include "dns/dns_name.h"

#define LABEL_POINTER 0xc0

static uint8_t ascii_lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + ('a' - 'A')) : c;
}

/*
 * Follows the pointer at *pos to where it points. Offset 0 is the
 * header, never a name; past the end is nowhere.
 */
static int follow_pointer(const uint8_t *m, size_t len, size_t *pos,
			  unsigned int *hops)
{
	size_t target;

	if (*pos + 2 > len || ++*hops > DNS_NAME_MAX_HOPS)
		return -1;
	target = (size_t)(m[*pos] & ~LABEL_POINTER) << 8 | m[*pos + 1];
	if (target == 0 || target >= len)
		return -1;
	*pos = target;
	return 0;
}

int dns_name_read(const uint8_t *m, size_t len, size_t *off,
		  struct dns_name *out)
{
	size_t pos = *off, next = 0; /* next: where the name is written up to */
	unsigned int hops = 0, n = 0;

	for (;;) {
		uint8_t l;

		if (pos >= len)
			return -1;
		l = m[pos];
		if ((l & LABEL_POINTER) == LABEL_POINTER) {
			if (!hops)
				next = pos + 2;
			if (follow_pointer(m, len, &pos, &hops))
				return -1;
			continue;
		}
		if (l == 0)
			break;
		/* 0x40 and 0x80: extended and reserved label types */
		if (l > DNS_LABEL_MAX || pos + 1 + l > len ||
		    n + 1 + l >= DNS_NAME_MAX)
			return -1;
		memcpy(out->wire + n, m + pos, 1 + (size_t)l);
		n += 1 + l;
		pos += 1 + (size_t)l;
	}
	out->wire[n++] = 0;
	out->len = n;
	*off = hops ? next : pos + 1;
	return 0;
}

bool dns_name_equal(const struct dns_name *a, const struct dns_name *b)
{
	if (a->len != b->len)
		return false;
	/* Length bytes (0..63) are no letters: the lower case leaves them. */
	for (unsigned int i = 0; i < a->len; i++)
		if (ascii_lower(a->wire[i]) != ascii_lower(b->wire[i]))
			return false;
	return true;
}

/* How one byte of a label is spelled; returns the characters written. */
static size_t byte_text(uint8_t c, char buf[5])
{
	if (strchr(".;()\\", c) && c)
		return (size_t)snprintf(buf, 5, "\\%c", c);
	if (c <= ' ' || c >= 0x7f)
		return (size_t)snprintf(buf, 5, "\\%03u", c);
	buf[0] = (char)ascii_lower(c);
	return 1;
}

void dns_name_to_text(const struct dns_name *n, char *out, size_t size)
{
	size_t o = 0, p = 0;

	while (p < n->len && n->wire[p]) {
		uint8_t l = n->wire[p++];

		if (p > 1 && o + 1 < size)
			out[o++] = '.';
		for (unsigned int i = 0; i < l && p < n->len; i++, p++) {
			char buf[5];
			size_t k = byte_text(n->wire[p], buf);

			for (size_t j = 0; j < k && o + 1 < size; j++)
				out[o++] = buf[j];
		}
	}
	out[o] = '\0';
}
