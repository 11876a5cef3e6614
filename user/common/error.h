/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * error.h - the one way a function reports why it failed: it writes a
 * one-line message into a caller's buffer (err, errlen) and returns -1.
 */
#ifndef AWF_ERROR_H
#define AWF_ERROR_H

#include <stdarg.h>
#include <stddef.h>

/*
 * The size of every error buffer: room for a path near PATH_MAX's usual
 * length with its context, and for a policy origin, path and reason.
 */
#define AWF_ERR_LEN 1024

/*
 * snprintf into err, then turn control characters into '?' and bytes that
 * are not UTF-8 into "\xNN": names read from files, the network or the
 * command line may hold newlines or any bytes, and a message must stay one
 * line of text in logs, replies and terminals. At most AWF_ERR_LEN - 1
 * bytes of formatted text are kept. Returns -1, so that a failing
 * function can `return set_err(err, errlen, ...)`. errlen 0 writes nothing.
 */
int set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int set_verr(char *err, size_t errlen, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

#endif /* AWF_ERROR_H */
