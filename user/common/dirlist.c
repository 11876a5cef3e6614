// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>

#include "common/array.h"
#include "common/dirlist.h"

int dir_list(const char *dir, size_t elem_size, dir_entry_parse parse,
	     int (*cmp)(const void *, const void *), void **out, size_t *n)
{
	char *v = NULL;
	size_t cap = 0;
	struct dirent *de;
	DIR *d;
	int saved;

	*out = NULL;
	*n = 0;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -1;
	/* Room first: parse writes the element in place. */
	while ((de = readdir(d))) {
		if (array_grow((void **)&v, &cap, *n + 1, elem_size))
			goto fail;
		if (!parse(de->d_name, v + *n * elem_size))
			(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(v, *n, elem_size, cmp);
	*out = v;
	return 0;
fail:
	saved = errno;
	free(v);
	closedir(d);
	*n = 0;
	errno = saved;
	return -1;
}
