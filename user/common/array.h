/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * array.h - the one way an array grows: by doubling, on reallocarray.
 */
#ifndef AWF_ARRAY_H
#define AWF_ARRAY_H

#include <stddef.h>

/* The number of elements of a true array (not a pointer). */
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Makes *arr (*cap elements of elem_size bytes) hold at least need: the
 * capacity doubles (from 1 when empty) until it does, so it stays a power
 * of two. Returns 0, or -1 with errno ENOMEM and *arr and *cap untouched
 * when memory is short or the size would overflow.
 */
int array_grow(void **arr, size_t *cap, size_t need, size_t elem_size);

/*
 * Asks for transparent huge pages under the bytes at p (the 2 MiB pages
 * wholly inside; nothing for a small array): a table of a million entries
 * then takes tens of page faults instead of thousands, each one dear on a
 * paravirtualized guest. Advice only: a kernel without THP ignores it.
 */
void array_huge(void *p, size_t bytes);

/*
 * A scratch array of bytes straight from the kernel (zeroed, in huge
 * pages where offered), NULL when out of memory; array_unmap() gives it
 * back at once. For the large arrays that live only while a table is
 * built: freed to the heap, they would stay in its RSS for the whole run
 * (glibc raises its mmap and trim thresholds as large blocks are freed).
 */
void *array_map(size_t bytes);
void array_unmap(void *p, size_t bytes);

#endif /* AWF_ARRAY_H */
