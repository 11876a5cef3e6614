// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ports.c - sets of inclusive port ranges, kept sorted and merged so that
 * a set always has its smallest form: the BPF side has room for only
 * AWF_MAX_PORT_RANGES ranges, and equal sets compare equal.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/error.h"
#include "policy/policy_int.h"
#include "policy/ports.h"

#define PORT_MAX 65535

static int range_cmp(const void *a, const void *b)
{
	const struct awf_port_range *x = a, *y = b;

	return (int)x->lo - (int)y->lo;
}

/* All or nothing: dst is left alone when the result does not fit. */
static int merge_into(struct awf_port_set *dst,
		      const struct awf_port_range *extra, size_t n_extra)
{
	struct awf_port_range all[2 * AWF_MAX_PORT_RANGES];
	struct awf_port_set out = { 0 };
	size_t n = dst->count;

	memcpy(all, dst->ranges, n * sizeof(all[0]));
	memcpy(all + n, extra, n_extra * sizeof(all[0]));
	n += n_extra;
	qsort(all, n, sizeof(all[0]), range_cmp);
	for (size_t i = 0; i < n; i++) {
		struct awf_port_range *last = out.ranges + out.count;

		/* adjacent ranges merge too; unsigned so hi + 1 cannot wrap */
		if (out.count && (unsigned int)all[i].lo <= last[-1].hi + 1u) {
			if (all[i].hi > last[-1].hi)
				last[-1].hi = all[i].hi;
			continue;
		}
		if (out.count == AWF_MAX_PORT_RANGES)
			return -1;
		*last = all[i];
		out.count++;
	}
	*dst = out;
	return 0;
}

int port_set_add(struct awf_port_set *set, uint16_t lo, uint16_t hi)
{
	struct awf_port_range r = { .lo = lo, .hi = hi };

	if (lo > hi)
		return -1;
	return merge_into(set, &r, 1);
}

int port_set_union(struct awf_port_set *dst, const struct awf_port_set *src)
{
	return merge_into(dst, src->ranges, src->count);
}

bool port_set_contains(const struct awf_port_set *set, uint16_t port)
{
	for (uint32_t i = 0; i < set->count; i++)
		if (port >= set->ranges[i].lo && port <= set->ranges[i].hi)
			return true;
	return false;
}

void port_set_all(struct awf_port_set *set)
{
	memset(set, 0, sizeof(*set));
	set->count = 1;
	set->ranges[0].hi = PORT_MAX;
}

bool port_set_is_all(const struct awf_port_set *set)
{
	return set->count == 1 && set->ranges[0].lo == 0 &&
	       set->ranges[0].hi == PORT_MAX;
}

bool port_set_equal(const struct awf_port_set *a, const struct awf_port_set *b)
{
	return a->count == b->count &&
	       memcmp(a->ranges, b->ranges, a->count * sizeof(a->ranges[0])) ==
		       0;
}

static int add_checked(struct awf_port_set *set, long long lo, long long hi,
		       char *err, size_t errlen)
{
	long long bad = (lo < 0 || lo > PORT_MAX) ? lo : hi;

	if (bad < 0 || bad > PORT_MAX)
		return set_err(err, errlen, "port %lld out of range 0-%d", bad,
			       PORT_MAX);
	if (lo > hi)
		return set_err(
			err, errlen,
			"port range %lld-%lld: the low end is above the high end",
			lo, hi);
	if (port_set_add(set, (uint16_t)lo, (uint16_t)hi) < 0)
		return set_err(
			err, errlen,
			"more than %d separate port ranges (merge them into wider ranges)",
			AWF_MAX_PORT_RANGES);
	return 0;
}

int port_set_add_number(struct awf_port_set *set, long long port, char *err,
			size_t errlen)
{
	return add_checked(set, port, port, err, errlen);
}

/* Digits only: strtoul would take signs, spaces and "0x". */
static const char *parse_number(const char *s, long long *out)
{
	long long v = 0;

	if (!isdigit((unsigned char)*s))
		return NULL;
	for (; isdigit((unsigned char)*s); s++)
		if (v <= PORT_MAX) /* saturate: keeps the "out of range" path */
			v = v * 10 + (*s - '0');
	*out = v;
	return s;
}

int port_set_parse(struct awf_port_set *set, const char *spec, char *err,
		   size_t errlen)
{
	long long lo, hi;
	const char *end = parse_number(spec, &lo);

	hi = lo;
	if (end && *end == '-')
		end = parse_number(end + 1, &hi);
	if (!end || *end)
		return set_err(
			err, errlen,
			"invalid port \"%s\" (expected a number 0-%d or a range LO-HI)",
			spec, PORT_MAX);
	return add_checked(set, lo, hi, err, errlen);
}

int port_set_parse_list(struct awf_port_set *set, const char *list, char *err,
			size_t errlen)
{
	char *copy = strdup(list), *save = NULL, *item;
	int ret = 0;

	if (!copy)
		return set_err(err, errlen, "out of memory");
	/* strtok_r would skip the empty item of "80,,443" */
	for (item = copy; item && ret == 0; item = save) {
		save = strchr(item, ',');
		if (save)
			*save++ = '\0';
		ret = port_set_parse(set, item, err, errlen);
	}
	free(copy);
	return ret;
}

static uint64_t set_hash(const struct awf_port_set *set)
{
	uint64_t h = 14695981039346656037ULL; /* FNV-1a */
	const unsigned char *b = (const unsigned char *)set->ranges;

	for (size_t i = 0; i < set->count * sizeof(set->ranges[0]); i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return h ^ (h >> 29);
}

static uint32_t *table_slot(const struct port_table *t,
			    const struct awf_port_set *set)
{
	size_t i = (size_t)set_hash(set) & (t->n_slots - 1);

	while (t->slot[i] && !port_set_equal(&t->v[t->slot[i] - 1], set))
		i = (i + 1) & (t->n_slots - 1);
	return &t->slot[i];
}

static int table_rehash(struct port_table *t)
{
	size_t n_slots = t->n_slots ? 2 * t->n_slots : 16;
	uint32_t *slot = calloc(n_slots, sizeof(*slot));

	if (!slot)
		return -1;
	free(t->slot);
	t->slot = slot;
	t->n_slots = n_slots;
	for (size_t i = 0; i < t->n; i++)
		*table_slot(t, &t->v[i]) = (uint32_t)i + 1;
	return 0;
}

int port_table_intern(struct port_table *t, const struct awf_port_set *set,
		      uint32_t *id)
{
	uint32_t *slot;

	if (t->n && port_set_equal(&t->v[t->last], set)) {
		*id = t->last;
		return 0;
	}
	if (2 * (t->n + 1) > t->n_slots && table_rehash(t) < 0)
		return -1;
	slot = table_slot(t, set);
	if (!*slot) {
		if (t->n >= UINT32_MAX - 1 ||
		    array_grow((void **)&t->v, &t->cap, t->n + 1,
			       sizeof(*t->v)) < 0)
			return -1;
		/* unused ranges zero, whatever the caller left there */
		memset(&t->v[t->n], 0, sizeof(t->v[0]));
		t->v[t->n].count = set->count;
		memcpy(t->v[t->n].ranges, set->ranges,
		       set->count * sizeof(set->ranges[0]));
		*slot = (uint32_t)++t->n;
	}
	t->last = *slot - 1;
	*id = t->last;
	return 0;
}

void port_table_free(struct port_table *t)
{
	free(t->v);
	free(t->slot);
	memset(t, 0, sizeof(*t));
}
