// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <string.h>

#include "common/error.h"

/*
 * The length of the well-formed UTF-8 sequence at s (RFC 3629: no
 * overlong forms, no surrogates, nothing past U+10FFFF), or 0. Stops at
 * the first byte that does not fit, so a NUL ends it.
 */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	n = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/*
 * Copies text into err: control characters become '?', bytes that are not
 * UTF-8 "\xNN", so that a terminal shows what a file held instead of
 * garbage or a broken escape sequence. Cut where the next piece no longer
 * fits.
 */
static void copy_printable(char *err, size_t errlen, const char *text)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t out = 0;

	while (*s) {
		size_t n = utf8_len(s);
		char piece[5];

		if (n == 0) {
			snprintf(piece, sizeof(piece), "\\x%02x", *s);
		} else if (n == 1 && (*s < 0x20 || *s == 0x7f)) {
			strcpy(piece, "?");
		} else {
			memcpy(piece, s, n);
			piece[n] = '\0';
		}
		if (out + strlen(piece) >= errlen)
			break;
		memcpy(err + out, piece, strlen(piece));
		out += strlen(piece);
		s += n ? n : 1;
	}
	err[out] = '\0';
}

int set_verr(char *err, size_t errlen, const char *fmt, va_list ap)
{
	char text[AWF_ERR_LEN];

	if (!errlen)
		return -1;
	vsnprintf(text, sizeof(text), fmt, ap);
	copy_printable(err, errlen, text);
	return -1;
}

int set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_verr(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}
