/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * optlib.h - libraries only some inputs need, loaded on first use.
 *
 * libidn2 (with libunistring) converts non-ASCII policy names; libpsl
 * groups names for `policy suggest`. Linked, they cost every start of the
 * binary about a millisecond of relocation and page faults, before any
 * policy is read: a run whose names are ASCII never needs them. The
 * dynamic build dlopen()s them when first asked; the static build
 * (AWF_STATIC) links them and hands out their addresses.
 */
#ifndef AWF_OPTLIB_H
#define AWF_OPTLIB_H

#include <stddef.h>
#include <libpsl.h>

struct idn2_api {
	int (*to_ascii_8z)(const char *in, char **out, int flags);
	const char *(*strerror)(int rc);
	void (*free)(void *ptr);
};

struct psl_api {
	psl_ctx_t *(*latest)(const char *fname);
	const psl_ctx_t *(*builtin)(void);
	const char *(*dist_filename)(void);
	void (*free)(psl_ctx_t *psl);
	const char *(*registrable_domain)(const psl_ctx_t *psl,
					  const char *domain);
};

/* The library's functions, or NULL with err set (which library, why). */
const struct idn2_api *optlib_idn2(char *err, size_t errlen);
const struct psl_api *optlib_psl(char *err, size_t errlen);

#endif /* AWF_OPTLIB_H */
