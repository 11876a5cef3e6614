// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dlfcn.h>
#include <idn2.h>

#include "common/optlib.h"
#include "common/array.h"
#include "common/error.h"

#ifdef AWF_STATIC

static const struct idn2_api idn2_linked = {
	.to_ascii_8z = idn2_to_ascii_8z,
	.strerror = idn2_strerror,
	.free = idn2_free,
};

static const struct psl_api psl_linked = {
	.latest = psl_latest,
	.builtin = psl_builtin,
	.dist_filename = psl_dist_filename,
	.free = psl_free,
	.registrable_domain = psl_registrable_domain,
};

const struct idn2_api *optlib_idn2(char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	return &idn2_linked;
}

const struct psl_api *optlib_psl(char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	return &psl_linked;
}

#else /* !AWF_STATIC */

/*
 * Every symbol of names[] into fns[], in order, from the library soname;
 * the handle is kept for the life of the process.
 */
static int load(const char *soname, const char *const *names, void **fns,
		size_t n, char *err, size_t errlen)
{
	void *lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);

	if (!lib)
		return set_err(err, errlen, "cannot load %s: %s", soname,
			       dlerror());
	for (size_t i = 0; i < n; i++) {
		fns[i] = dlsym(lib, names[i]);
		if (!fns[i]) {
			set_err(err, errlen, "%s has no %s: %s", soname,
				names[i], dlerror());
			dlclose(lib);
			return -1;
		}
	}
	return 0;
}

/* Copies the loaded pointers into the API table (ISO C: no void * casts). */
#define FN(table, i, member) \
	__builtin_memcpy(&(table).member, &fns[i], sizeof(fns[i]))

const struct idn2_api *optlib_idn2(char *err, size_t errlen)
{
	static const char *const names[] = { "idn2_to_ascii_8z",
					     "idn2_strerror", "idn2_free" };
	static struct idn2_api api;
	static int loaded;
	void *fns[ARRAY_SIZE(names)];

	if (loaded)
		return &api;
	if (load("libidn2.so.0", names, fns, ARRAY_SIZE(names), err, errlen) <
	    0)
		return NULL;
	FN(api, 0, to_ascii_8z);
	FN(api, 1, strerror);
	FN(api, 2, free);
	loaded = 1;
	return &api;
}

const struct psl_api *optlib_psl(char *err, size_t errlen)
{
	static const char *const names[] = { "psl_latest", "psl_builtin",
					     "psl_dist_filename", "psl_free",
					     "psl_registrable_domain" };
	static struct psl_api api;
	static int loaded;
	void *fns[ARRAY_SIZE(names)];

	if (loaded)
		return &api;
	if (load("libpsl.so.5", names, fns, ARRAY_SIZE(names), err, errlen) < 0)
		return NULL;
	FN(api, 0, latest);
	FN(api, 1, builtin);
	FN(api, 2, dist_filename);
	FN(api, 3, free);
	FN(api, 4, registrable_domain);
	loaded = 1;
	return &api;
}

#endif /* AWF_STATIC */
