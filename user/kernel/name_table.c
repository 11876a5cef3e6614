// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * name_table.c - compile the policy's domain patterns into the kernel's
 * names trie (name_table.h says how), write it, and keep the exact names.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "common/array.h"
#include "common/error.h"
#include "kernel/map_batch.h"
#include "kernel/name_table.h"

/* Probe labels tried below a key: "0" to "99". */
#define MAX_PROBES 100

static bool name_char_ok(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '_';
}

size_t name_key_of(const char *name, struct awf_name_key *key)
{
	size_t n = strlen(name), label = 0;

	memset(key, 0, sizeof(*key));
	if (n && name[n - 1] == '.')
		n--;
	if (n == 0 || n > AWF_NAME_KEY_LEN - 1)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c =
			(unsigned char)tolower((unsigned char)name[i]);

		if (c == '.') {
			if (!label)
				return 0;
			label = 0;
		} else if (!name_char_ok(c) || ++label > 63) {
			return 0;
		}
		key->name[n - 1 - i] = c;
	}
	key->name[n] = '.';
	return n + 1;
}

/* The key of a pattern's literal part: any text, '*' kept ("" -> 0). */
static size_t literal_key(const char *text, size_t n, struct awf_name_key *key)
{
	memset(key, 0, sizeof(*key));
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		key->name[n - 1 - i] = text[i];
	key->name[n] = '.';
	return n + 1;
}

/*
 * The literal part of a pattern: "*.example.com" -> "example.com"; a
 * pattern with '*' inside a label -> the labels right of the last such
 * label (*inner set); a plain name -> itself.
 */
static const char *pattern_literal(const char *pattern, bool *inner)
{
	const char *star = strrchr(pattern, '*'), *dot;

	*inner = false;
	if (!star)
		return pattern;
	if (star == pattern && pattern[1] == '.' && !strchr(pattern + 2, '*'))
		return pattern + 2;
	*inner = true;
	dot = strchr(star, '.');
	return dot ? dot + 1 : "";
}

static bool any_inner_star(const struct policy_domain *d, size_t n)
{
	bool inner;

	for (size_t i = 0; i < n; i++) {
		pattern_literal(d[i].name, &inner);
		if (inner)
			return true;
	}
	return false;
}

bool name_table_may_learn_exact(const struct policy *p)
{
	return any_inner_star(p->allow_domains, p->n_allow_domains) ||
	       any_inner_star(p->block_domains, p->n_block_domains);
}

static size_t key_len(const struct name_rule_entry *e)
{
	return e->rule.len;
}

/*
 * Keys are zero after their bytes and hold no zero: comparing the whole
 * array orders them, and equal arrays are equal keys.
 */
static int key_cmp(const void *a, const void *b)
{
	const struct name_rule_entry *x = a, *y = b;

	return memcmp(x->key.name, y->key.name, sizeof(x->key.name));
}

static struct name_rule_entry *find_rule(const struct name_table *nt,
					 const struct awf_name_key *key)
{
	struct name_rule_entry probe = { .key = *key };

	return bsearch(&probe, nt->rules, nt->n_rules, sizeof(*nt->rules),
		       key_cmp);
}

/*
 * Every pattern's key, unsorted; the root of a region of exact names
 * is marked with below.kind AWF_NV_EXACT.
 */
static void add_pattern(struct name_table *nt, const char *pattern)
{
	struct name_rule_entry *e = &nt->rules[nt->n_rules];
	const char *lit;
	bool inner;

	memset(e, 0, sizeof(*e));
	lit = pattern_literal(pattern, &inner);
	e->rule.len = (uint32_t)literal_key(lit, strlen(lit), &e->key);
	if (e->rule.len > AWF_NAME_KEY_LEN)
		return; /* no name is that long: nothing to cover */
	if (inner) {
		e->rule.below.kind = AWF_NV_EXACT;
		nt->has_exact = true;
	}
	nt->n_rules++;
}

/* Sorted, one entry per key, an exact mark kept. */
static void sort_keys(struct name_table *nt)
{
	size_t n = 0;

	qsort(nt->rules, nt->n_rules, sizeof(*nt->rules), key_cmp);
	for (size_t i = 0; i < nt->n_rules; i++) {
		if (n && !key_cmp(&nt->rules[n - 1], &nt->rules[i])) {
			if (nt->rules[i].rule.below.kind == AWF_NV_EXACT)
				nt->rules[n - 1].rule.below.kind = AWF_NV_EXACT;
			continue;
		}
		nt->rules[n++] = nt->rules[i];
	}
	nt->n_rules = n;
}

static void verdict_of(const struct domain_matcher *m, const char *name,
		       struct awf_name_verdict *v)
{
	struct domain_match dm;
	int rc = domain_matcher_lookup(m, name, &dm);

	memset(v, 0, sizeof(*v));
	v->entry_id = dm.entry_id;
	if (dm.blocked)
		v->kind = AWF_NV_BLOCK;
	else if (rc == 1) {
		v->kind = AWF_NV_ALLOW;
		v->ports = dm.ports;
	}
}

/* Key bytes back to the name they spell ("" for the root). */
static void key_name(const struct awf_name_key *key, size_t len, char *out)
{
	size_t n = len ? len - 1 : 0;

	for (size_t i = 0; i < n; i++)
		out[i] = (char)key->name[n - 1 - i];
	out[n] = '\0';
}

/*
 * The keys covering key (len bytes), longest first, as the kernel's LPM
 * lookup ranks them: keys end at a label's end, so only those prefixes,
 * then the root. Start with *end = len + 1; NULL when none is left.
 */
static const struct name_rule_entry *next_cover(const struct name_table *nt,
						const struct awf_name_key *key,
						size_t *end)
{
	struct awf_name_key prefix = *key;
	const struct name_rule_entry *e;

	while (*end > 0) {
		size_t n = --*end;

		if (n && key->name[n - 1] != '.')
			continue;
		memset(prefix.name + n, 0, sizeof(prefix.name) - n);
		e = find_rule(nt, &prefix);
		if (e)
			return e;
	}
	return NULL;
}

/* Whether key c covers key e: c is e or a name e ends with. */
static bool key_covers(const struct name_rule_entry *c,
		       const struct name_rule_entry *e)
{
	/* keys end in '.': a prefix of one is a whole label sequence */
	return key_len(c) <= key_len(e) &&
	       memcmp(c->key.name, e->key.name, key_len(c)) == 0;
}

/* A name just below e that is no key itself; false when none fits. */
static bool probe_name(struct name_table *nt, const struct name_rule_entry *e,
		       char *out, size_t outlen)
{
	char base[AWF_NAME_LEN];
	struct awf_name_key key;

	key_name(&e->key, key_len(e), base);
	for (int i = 0; i < MAX_PROBES; i++) {
		snprintf(out, outlen, "%d%s%s", i, *base ? "." : "", base);
		if (name_key_of(out, &key) && !find_rule(nt, &key))
			return true;
	}
	return false;
}

/*
 * exact: e lies in a region of exact names, its own root (marked by
 * add_pattern) or one of a key covering it.
 */
static void compile_rule(struct name_table *nt, struct name_rule_entry *e,
			 bool exact)
{
	char name[AWF_NAME_LEN + 32];

	if (key_len(e)) {
		key_name(&e->key, key_len(e), name);
		verdict_of(nt->matcher, name, &e->rule.apex);
	}
	if (exact)
		e->rule.below =
			(struct awf_name_verdict){ .kind = AWF_NV_EXACT };
	else if (probe_name(nt, e, name, sizeof(name)))
		verdict_of(nt->matcher, name, &e->rule.below);
	else
		e->rule.below =
			(struct awf_name_verdict){ .kind = AWF_NV_DENY };
}

/*
 * Sorted, a key comes right before the keys it covers: one pass with the
 * stack of keys covering the current one (at most one per label) says
 * whether a region of exact names holds it.
 */
static void compile_rules(struct name_table *nt)
{
	struct cover {
		const struct name_rule_entry *e;
		bool exact;
	} stack[AWF_NAME_KEY_LEN / 2 + 2];
	size_t depth = 0;

	for (size_t i = 0; i < nt->n_rules; i++) {
		struct name_rule_entry *e = &nt->rules[i];
		bool exact = e->rule.below.kind == AWF_NV_EXACT;

		while (depth && !key_covers(stack[depth - 1].e, e))
			depth--;
		exact |= depth && stack[depth - 1].exact;
		compile_rule(nt, e, exact);
		if (depth < sizeof(stack) / sizeof(stack[0]))
			stack[depth++] =
				(struct cover){ .e = e, .exact = exact };
	}
}

int name_table_build(struct name_table *nt, const struct policy *p,
		     const struct domain_matcher *m, char *err, size_t errlen)
{
	memset(nt, 0, sizeof(*nt));
	nt->matcher = m;
	nt->rules_fd = -1;
	nt->exact_fd = -1;
	nt->rules = calloc(p->n_allow_domains + p->n_block_domains + 1,
			   sizeof(*nt->rules));
	if (!nt->rules)
		goto oom;
	array_huge(nt->rules, (p->n_allow_domains + p->n_block_domains + 1) *
				      sizeof(*nt->rules));
	for (size_t i = 0; i < p->n_allow_domains; i++)
		add_pattern(nt, p->allow_domains[i].name);
	for (size_t i = 0; i < p->n_block_domains; i++)
		add_pattern(nt, p->block_domains[i].name);
	sort_keys(nt);
	compile_rules(nt);
	nt->matcher = NULL;
	nt->entry_flags = calloc(p->n_allow_domains + 1, sizeof(uint32_t));
	if (!nt->entry_flags)
		goto oom;
	nt->n_entries = p->n_allow_domains;
	for (size_t i = 0; i < p->n_allow_domains; i++)
		nt->entry_flags[i] =
			(p->allow_domains[i].name_check ?
				 0 :
				 AWF_LEARNED_NO_NAME_CHECK) |
			(p->allow_domains[i].udp ? AWF_LEARNED_UDP : 0);
	return 0;
oom:
	name_table_free(nt);
	return set_err(err, errlen, "names trie: out of memory");
}

void name_table_free(struct name_table *nt)
{
	free(nt->rules);
	free(nt->entry_flags);
	nt->rules = NULL;
	nt->entry_flags = NULL;
	nt->n_rules = 0;
	nt->n_entries = 0;
}

static void kernel_key(const struct name_table *nt,
		       const struct awf_name_key *key, size_t len,
		       struct awf_name_key *out)
{
	*out = *key;
	out->slot = htons((uint16_t)nt->slot);
	out->prefixlen = (uint32_t)(16 + len * 8);
}

int name_table_write(struct name_table *nt, int rules_fd, int exact_fd,
		     uint32_t slot, char *err, size_t errlen)
{
	struct map_batch mb;
	struct awf_name_key k;
	int ret = 0;

	nt->rules_fd = rules_fd;
	nt->exact_fd = exact_fd;
	nt->slot = slot;
	if (map_batch_init(&mb, rules_fd, sizeof(k), sizeof(nt->rules->rule),
			   nt->n_rules, false) < 0)
		return set_err(err, errlen, "names trie: %s", strerror(errno));
	for (size_t i = 0; i < nt->n_rules && !ret; i++) {
		const struct name_rule_entry *e = &nt->rules[i];

		kernel_key(nt, &e->key, key_len(e), &k);
		ret = map_batch_add(&mb, &k, &e->rule);
	}
	if (!ret)
		ret = map_batch_flush(&mb);
	if (ret)
		set_err(err, errlen, "names trie: entry %zu of %zu: %s",
			mb.done + 1, nt->n_rules, strerror(errno));
	map_batch_free(&mb);
	return ret;
}

static void purge_exact(struct name_table *nt)
{
	struct awf_name_key key, next, *doomed = NULL;
	size_t n = 0, cap = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(nt->exact_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (ntohs(next.slot) != nt->slot)
			continue;
		if (array_grow((void **)&doomed, &cap, n + 1, sizeof(*doomed)))
			break;
		doomed[n++] = next;
	}
	for (size_t i = 0; i < n; i++)
		bpf_map_delete_elem(nt->exact_fd, &doomed[i]);
	free(doomed);
}

void name_table_purge(struct name_table *nt)
{
	struct awf_name_key k;

	if (nt->rules_fd < 0)
		return;
	for (size_t i = 0; i < nt->n_rules; i++) {
		kernel_key(nt, &nt->rules[i].key, key_len(&nt->rules[i]), &k);
		bpf_map_delete_elem(nt->rules_fd, &k);
	}
	/*
	 * A walk of the whole map (2^20 buckets in the agent: most of a
	 * sandbox's teardown) only if this table wrote to it. A slot's
	 * leftovers from another agent are agent_purge_slot()'s.
	 */
	if (nt->exact_written)
		purge_exact(nt);
}

const struct awf_name_verdict *name_table_lookup(const struct name_table *nt,
						 const char *name)
{
	const struct name_rule_entry *e;
	struct awf_name_key key;
	size_t len = name_key_of(name, &key), end = len + 1;

	if (!len)
		return NULL;
	e = next_cover(nt, &key, &end);
	if (!e)
		return NULL;
	return key_len(e) == len ? &e->rule.apex : &e->rule.below;
}

int name_table_learn(struct name_table *nt, const char *name,
		     const struct domain_match *m)
{
	struct awf_name_verdict v = { .kind = AWF_NV_ALLOW };
	const struct awf_name_verdict *found;
	struct awf_name_key key, k;
	size_t len;

	if (!nt || !nt->has_exact || nt->exact_fd < 0 || !m->allowed)
		return 0;
	found = name_table_lookup(nt, name);
	if (!found || found->kind != AWF_NV_EXACT)
		return 0;
	len = name_key_of(name, &key);
	kernel_key(nt, &key, len, &k);
	k.prefixlen = 0;
	v.entry_id = m->entry_id;
	v.ports = m->ports;
	/* Before the write: a failed one may still have left the entry. */
	nt->exact_written = true;
	return bpf_map_update_elem(nt->exact_fd, &k, &v, BPF_ANY) ? -1 : 0;
}

uint32_t name_table_learned_flags(const struct name_table *nt,
				  uint32_t entry_id)
{
	if (!nt || !nt->entry_flags || !entry_id || entry_id > nt->n_entries)
		return 0;
	return nt->entry_flags[entry_id - 1];
}
