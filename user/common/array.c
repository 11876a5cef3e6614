// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

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
	array_huge(p, bigger * elem_size);
	return 0;
}

#define HUGE_PAGE ((uintptr_t)2 << 20)

void *array_map(size_t bytes)
{
	void *p = mmap(NULL, bytes ? bytes : 1, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	array_huge(p, bytes);
	return p;
}

void array_unmap(void *p, size_t bytes)
{
	if (p)
		munmap(p, bytes ? bytes : 1);
}

void array_huge(void *p, size_t bytes)
{
	uintptr_t start = ((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
	uintptr_t end = ((uintptr_t)p + bytes) & ~(HUGE_PAGE - 1);

	/* EINVAL without THP, or where the range is not ours to advise */
	if (p && end > start)
		(void)madvise((void *)start, end - start, MADV_HUGEPAGE);
}
