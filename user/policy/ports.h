/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ports.h - sets of port ranges (struct awf_port_set): parsed from the
 * policy's "80,443,8000-8100" forms, merged, tested. Every function that
 * can fail writes one line into err and returns -1.
 */
#ifndef AWF_PORTS_H
#define AWF_PORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "awf.h"

/* "443" or "8000-8100", appended to set. */
int port_set_parse(struct awf_port_set *set, const char *spec, char *err,
		   size_t errlen);
int port_set_add(struct awf_port_set *set, uint16_t lo, uint16_t hi);
/* Union into dst, merging ranges; -1 when more than AWF_MAX_PORT_RANGES. */
int port_set_union(struct awf_port_set *dst, const struct awf_port_set *src);
bool port_set_contains(const struct awf_port_set *set, uint16_t port);
void port_set_all(struct awf_port_set *set);
bool port_set_is_all(const struct awf_port_set *set);
bool port_set_equal(const struct awf_port_set *a, const struct awf_port_set *b);
/* Adds one port given as a number that may be out of range. */
int port_set_add_number(struct awf_port_set *set, long long port, char *err,
			size_t errlen);
/* "80,443,8000-8100" */
int port_set_parse_list(struct awf_port_set *set, const char *list, char *err,
			size_t errlen);

/*
 * Distinct port sets, each kept once and named by its index: a million
 * policy entries usually share a handful of sets, and an index takes 4
 * bytes where a set takes 68.
 */
struct port_table {
	struct awf_port_set *v;
	size_t n, cap;
	uint32_t *slot; /* open addressing: index + 1, 0 empty */
	size_t n_slots; /* power of two, at least twice n */
	uint32_t last;	/* the id interned last: runs of one set are common */
};

/* *id of set in t, added if new; -1 when out of memory. */
int port_table_intern(struct port_table *t, const struct awf_port_set *set,
		      uint32_t *id);
void port_table_free(struct port_table *t);

#endif /* AWF_PORTS_H */
