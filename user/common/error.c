// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>

#include "common/error.h"

int set_verr(char *err, size_t errlen, const char *fmt, va_list ap)
{
	if (!errlen)
		return -1;
	vsnprintf(err, errlen, fmt, ap);
	for (char *c = err; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
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
