// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/array.h"

int array_grow(void **arr, size_t *cap, size_t need, size_t elem_size)
{
	size_t bigger = *cap ? *cap : 1;
	void *p;

	if (need <= *cap)
		return 0;
	while (bigger < need) {
		if (bigger > SIZE_MAX / 2) {
			errno = ENOMEM;
			return -1;
		}
		bigger *= 2;
	}
	/* reallocarray fails with ENOMEM when bigger * elem_size overflows. */
	p = reallocarray(*arr, bigger, elem_size);
	if (!p)
		return -1;
	*arr = p;
	*cap = bigger;
	return 0;
}
