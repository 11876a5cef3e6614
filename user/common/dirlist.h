/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * dirlist.h - the entries of a directory that a parser accepts, as a
 * sorted array (the pins of the sandboxes, the agent's links).
 */
#ifndef AWF_DIRLIST_H
#define AWF_DIRLIST_H

#include <stddef.h>

/* 0 when name is one of ours (then written into elem), non-zero to skip. */
typedef int (*dir_entry_parse)(const char *name, void *elem);

/*
 * Every entry of dir that parse accepts, as elements of elem_size bytes
 * sorted by cmp: *out (to free; NULL when there is none) and *n. A missing
 * dir holds none. Returns 0, or -1 with errno (then *out NULL, *n 0).
 */
int dir_list(const char *dir, size_t elem_size, dir_entry_parse parse,
	     int (*cmp)(const void *, const void *), void **out, size_t *n);

#endif /* AWF_DIRLIST_H */
