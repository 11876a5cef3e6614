/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * domain_match_gen.h - random policies and query mixes that time the
 * domain matcher: the timing case of test_domain_match.c and
 * bench/domain_match_bench.c measure the same thing.
 *
 * The policy is filled directly: policy_merge_domain() looks for an equal
 * entry before adding one, which is quadratic at 100,000 entries and would
 * time the policy instead of the matcher.
 */
#ifndef AWF_DOMAIN_MATCH_GEN_H
#define AWF_DOMAIN_MATCH_GEN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"
#include "policy/domain_match.h"

#define DMG_NAME_LEN 64
#define DMG_BASE_LEN 24	  /* "<label>.<tld>" */
#define DMG_QUERIES 16384 /* cycled: more lookups than that reuse them */

struct dmg_bench {
	struct policy p;
	struct domain_matcher *m;
	char (*queries)[DMG_NAME_LEN];
	size_t n_hits; /* queries[] made to match an entry */
};

static inline uint64_t dmg_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Random letters: 26^6 names make an accidental match negligible. */
static inline const char *dmg_label(uint64_t *s, char *buf)
{
	size_t len = 6 + dmg_rand(s) % 5;

	for (size_t i = 0; i < len; i++)
		buf[i] = (char)('a' + dmg_rand(s) % 26);
	buf[len] = '\0';
	return buf;
}

/* A second-level name: "<label>.<tld>". */
static inline void dmg_base(uint64_t *s, char *out)
{
	static const char *const tlds[] = { "com", "net", "org", "io", "dev" };
	char l[16];

	snprintf(out, DMG_BASE_LEN, "%s.%s", dmg_label(s, l),
		 tlds[dmg_rand(s) % 5]);
}

/* 70% plain names, 20% "*.", 10% a '*' inside the first label. */
static inline void dmg_entry(uint64_t *s, char *out)
{
	unsigned int kind = dmg_rand(s) % 10;
	char base[DMG_BASE_LEN], l[16];

	dmg_base(s, base);
	if (kind < 7)
		snprintf(out, DMG_NAME_LEN, "%s.%s", dmg_label(s, l), base);
	else if (kind < 9)
		snprintf(out, DMG_NAME_LEN, "*.%s", base);
	else
		snprintf(out, DMG_NAME_LEN, "api-*.%s", base);
}

/* A name under entry e, in the case and form a resolver could send. */
static inline void dmg_hit(uint64_t *s, const char *e, char *out)
{
	if (e[0] == '*')
		snprintf(out, DMG_NAME_LEN, "x.%s", e + 2);
	else if (strncmp(e, "api-*", 5) == 0)
		snprintf(out, DMG_NAME_LEN, "API-7%s.", e + 5);
	else if (dmg_rand(s) % 2)
		snprintf(out, DMG_NAME_LEN, "www.%s", e);
	else
		snprintf(out, DMG_NAME_LEN, "%s", e);
}

/* Half random names, half names that share all but the first label. */
static inline void dmg_miss(uint64_t *s, const char *e, char *out)
{
	char base[DMG_BASE_LEN], l[16];

	if (dmg_rand(s) % 2 || e[0] == '*' || e[0] == 'a') {
		dmg_base(s, base);
		snprintf(out, DMG_NAME_LEN, "%s.%s", dmg_label(s, l), base);
	} else {
		snprintf(out, DMG_NAME_LEN, "q%s%s", dmg_label(s, l),
			 strchr(e, '.'));
	}
}

static inline int dmg_fill_policy(struct policy *p, size_t n, uint64_t *s)
{
	char name[DMG_NAME_LEN];

	policy_init(p);
	p->allow_domains = calloc(n, sizeof(*p->allow_domains));
	if (!p->allow_domains)
		return -1;
	for (; p->n_allow_domains < n; p->n_allow_domains++) {
		struct policy_domain *d = &p->allow_domains[p->n_allow_domains];

		dmg_entry(s, name);
		d->name = strdup(name);
		d->subdomains = true;
		if (!d->name)
			return -1;
	}
	return 0;
}

static inline void dmg_teardown(struct dmg_bench *b)
{
	domain_matcher_free(b->m);
	policy_free(&b->p);
	free(b->queries);
	memset(b, 0, sizeof(*b));
}

/* n_entries random entries; even queries hit an entry, odd ones miss. */
static inline int dmg_setup(struct dmg_bench *b, size_t n_entries)
{
	uint64_t s = 0x9e3779b97f4a7c15ull ^ n_entries;
	char err[AWF_ERR_LEN];

	memset(b, 0, sizeof(*b));
	b->queries = calloc(DMG_QUERIES, sizeof(*b->queries));
	if (!b->queries || dmg_fill_policy(&b->p, n_entries, &s) < 0)
		goto fail;
	b->m = domain_matcher_new(&b->p, err, sizeof(err));
	if (!b->m) {
		fprintf(stderr, "domain_matcher_new: %s\n", err);
		goto fail;
	}
	for (size_t i = 0; i < DMG_QUERIES; i++) {
		const char *e =
			b->p.allow_domains[dmg_rand(&s) % n_entries].name;

		if (i % 2)
			dmg_miss(&s, e, b->queries[i]);
		else
			dmg_hit(&s, e, b->queries[i]);
	}
	b->n_hits = DMG_QUERIES / 2;
	return 0;
fail:
	dmg_teardown(b);
	return -1;
}

static inline double dmg_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* ns per lookup, best of rounds: the least disturbed by other work. */
static inline double dmg_time(const struct dmg_bench *b, size_t lookups,
			      unsigned int rounds, size_t *allowed)
{
	double best = 0;
	struct domain_match out;

	for (unsigned int r = 0; r < rounds; r++) {
		double t0 = dmg_now_ns(), ns;

		*allowed = 0;
		for (size_t i = 0; i < lookups; i++)
			*allowed += domain_matcher_lookup(
					    b->m, b->queries[i % DMG_QUERIES],
					    &out) == 1;
		ns = (dmg_now_ns() - t0) / (double)lookups;
		if (r == 0 || ns < best)
			best = ns;
	}
	return best;
}

#endif /* AWF_DOMAIN_MATCH_GEN_H */
