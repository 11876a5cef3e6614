// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * domain_match.c - the allow_domains / block_domains lookup of the DNS
 * filter.
 *
 * Each list is a trie of labels read from the top-level domain down
 * ("api.github.com" is root -> com -> github -> api). Literal children are
 * found in one open-addressing hash per trie keyed by (parent, label), so a
 * lookup costs one probe per label of the name whatever the number of
 * entries. A label holding '*' cannot be hashed: it hangs in a list on its
 * parent that is tried one by one (a handful under one parent in real
 * policies, and never a scan of the whole policy).
 *
 * A node sits at one depth and is reached only through the name's label at
 * that depth, so a lookup visits each node at most once however many '*'
 * labels match.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awf.h"
#include "policy/domain.h"
#include "common/array.h"
#include "common/error.h"
#include "policy/domain_match.h"
#include "policy/ports.h"

#define LABEL_MAX 63
#define NAME_MAX_LEN POLICY_MAX_DOMAIN_LEN
#define LABELS_MAX ((NAME_MAX_LEN + 1) / 2)
#define MIN_SLOTS 16
#define LABEL_HASH_INIT 2166136261u /* FNV-1a offset basis */

/*
 * What an entry covers from the node its name ends at. The order is the
 * tie-break between entries of one node: fewer names is more specific.
 */
enum dm_kind {
	DM_SUBTREE, /* "example.com": the name and everything below */
	DM_BELOW,   /* "*.example.com": everything below only */
	DM_EXACT,   /* "subdomains": false: the name alone */
	DM_KINDS,
};

/* All entries of one kind ending at one node, folded together. */
struct dm_rule {
	uint32_t entry_id; /* the first of them: index + 1 */
	struct awf_port_set ports;
};

struct dm_node {
	uint32_t parent;
	uint32_t label;	    /* offset in the trie's label pool */
	uint32_t glob_head; /* first child whose label holds '*'; 0: none */
	uint32_t glob_next; /* next such child of the same parent */
	uint32_t rule[DM_KINDS]; /* index + 1 in rules; 0: none */
	uint8_t label_len;
	uint8_t depth;
	uint8_t literals; /* labels without '*' from the root to here */
};

/* The hash is kept next to the node id so that misses stay in the table. */
struct dm_slot {
	uint32_t hash;
	uint32_t node; /* 0: empty; the root (node 0) is nobody's child */
};

struct dm_trie {
	struct dm_node *nodes;
	size_t n_nodes, cap_nodes;
	struct dm_slot *slots;
	size_t n_slots; /* a power of two, at most half full */
	size_t n_hashed;
	char *pool;
	size_t pool_len, cap_pool;
	struct dm_rule *rules;
	size_t n_rules, cap_rules;
};

struct domain_matcher {
	struct dm_trie allow;
	struct dm_trie block;
};

/* A query name split into lower-case labels, leftmost first. */
struct dm_query {
	char buf[NAME_MAX_LEN + 1];
	uint8_t off[LABELS_MAX];
	uint8_t len[LABELS_MAX];
	uint32_t hash[LABELS_MAX];
	unsigned int n;
};

/* What one trie says about a query. */
struct dm_hits {
	const struct dm_trie *t;
	const struct dm_query *q;
	uint32_t score; /* of the most specific entry so far; 0: none */
	uint32_t entry_id;
	struct awf_port_set ports;
	bool overflow;
};

/* FNV-1a: labels are short, and the parent is mixed in afterwards. */
static uint32_t label_hash_step(uint32_t h, char c)
{
	return (h ^ (unsigned char)c) * 16777619u;
}

static uint32_t label_hash(const char *s, size_t len)
{
	uint32_t h = LABEL_HASH_INIT;

	for (size_t i = 0; i < len; i++)
		h = label_hash_step(h, s[i]);
	return h;
}

/* Mixed so that the children of one parent do not cluster in the table. */
static uint32_t child_hash(uint32_t lhash, uint32_t parent)
{
	return awf_exact_mix(lhash ^ (parent * 0x9e3779b1u));
}

/* Within one label: '*' is any run of characters, none of them a dot. */
static bool glob_match(const char *pat, size_t plen, const char *s, size_t slen)
{
	size_t p = 0, i = 0, star = SIZE_MAX, mark = 0;

	while (i < slen) {
		if (p < plen && pat[p] == '*') {
			star = p++;
			mark = i;
		} else if (p < plen && pat[p] == s[i]) {
			p++;
			i++;
		} else if (star != SIZE_MAX) {
			p = star + 1;
			i = ++mark;
		} else {
			return false;
		}
	}
	while (p < plen && pat[p] == '*')
		p++;
	return p == plen;
}

static int trie_init(struct dm_trie *t)
{
	memset(t, 0, sizeof(*t));
	t->nodes = calloc(1, sizeof(*t->nodes));
	t->slots = calloc(MIN_SLOTS, sizeof(*t->slots));
	if (!t->nodes || !t->slots)
		return -1;
	t->n_nodes = t->cap_nodes = 1;
	t->n_slots = MIN_SLOTS;
	return 0;
}

static void trie_free(struct dm_trie *t)
{
	free(t->nodes);
	free(t->slots);
	free(t->pool);
	free(t->rules);
}

static const char *node_label(const struct dm_trie *t, const struct dm_node *n)
{
	return t->pool + n->label;
}

static uint32_t find_child(const struct dm_trie *t, uint32_t parent,
			   const char *label, size_t len, uint32_t h)
{
	size_t mask = t->n_slots - 1;

	for (size_t i = h & mask; t->slots[i].node; i = (i + 1) & mask) {
		const struct dm_node *n = &t->nodes[t->slots[i].node];

		if (t->slots[i].hash == h && n->parent == parent &&
		    n->label_len == len &&
		    memcmp(node_label(t, n), label, len) == 0)
			return t->slots[i].node;
	}
	return 0;
}

static void slot_put(struct dm_slot *slots, size_t n_slots, uint32_t h,
		     uint32_t node)
{
	size_t i = h & (n_slots - 1);

	while (slots[i].node)
		i = (i + 1) & (n_slots - 1);
	slots[i] = (struct dm_slot){ .hash = h, .node = node };
}

static int hash_insert(struct dm_trie *t, uint32_t h, uint32_t node)
{
	if (2 * (t->n_hashed + 1) > t->n_slots) {
		size_t n = 2 * t->n_slots;
		struct dm_slot *slots = calloc(n, sizeof(*slots));

		if (!slots)
			return -1;
		for (size_t i = 0; i < t->n_slots; i++)
			if (t->slots[i].node)
				slot_put(slots, n, t->slots[i].hash,
					 t->slots[i].node);
		free(t->slots);
		t->slots = slots;
		t->n_slots = n;
	}
	slot_put(t->slots, t->n_slots, h, node);
	t->n_hashed++;
	return 0;
}

/* A new child of parent; 0 when out of memory. */
static uint32_t node_new(struct dm_trie *t, uint32_t parent, const char *label,
			 size_t len, bool glob)
{
	uint32_t id = (uint32_t)t->n_nodes;

	if (t->n_nodes >= UINT32_MAX)
		return 0;
	if (array_grow((void **)&t->nodes, &t->cap_nodes, t->n_nodes + 1,
		       sizeof(*t->nodes)) ||
	    array_grow((void **)&t->pool, &t->cap_pool, t->pool_len + len, 1))
		return 0;
	memcpy(t->pool + t->pool_len, label, len);
	t->nodes[id] = (struct dm_node){
		.parent = parent,
		.label = (uint32_t)t->pool_len,
		.label_len = (uint8_t)len,
		.depth = (uint8_t)(t->nodes[parent].depth + 1),
		.literals = (uint8_t)(t->nodes[parent].literals + !glob),
	};
	t->pool_len += len;
	t->n_nodes++;
	return id;
}

/* Labels with '*' are few under one parent: a list is enough. */
static uint32_t glob_child(struct dm_trie *t, uint32_t parent,
			   const char *label, size_t len)
{
	uint32_t id;

	for (id = t->nodes[parent].glob_head; id; id = t->nodes[id].glob_next)
		if (t->nodes[id].label_len == len &&
		    memcmp(node_label(t, &t->nodes[id]), label, len) == 0)
			return id;
	id = node_new(t, parent, label, len, true);
	if (id) {
		t->nodes[id].glob_next = t->nodes[parent].glob_head;
		t->nodes[parent].glob_head = id;
	}
	return id;
}

/* The child of parent for label, made when missing; 0: out of memory. */
static uint32_t child(struct dm_trie *t, uint32_t parent, const char *label,
		      size_t len)
{
	uint32_t h, id;

	if (memchr(label, '*', len))
		return glob_child(t, parent, label, len);
	h = child_hash(label_hash(label, len), parent);
	id = find_child(t, parent, label, len, h);
	if (id)
		return id;
	id = node_new(t, parent, label, len, false);
	if (id && hash_insert(t, h, id) < 0)
		return 0;
	return id;
}

/*
 * Labels of name from the right, each made a node; the last one's id, -1
 * for a name that is not normalized, -2 when out of memory. Patterns come
 * from domain_normalize(), but a hand-built policy could skip it, and an
 * empty label would make a node no query reaches.
 */
static int64_t add_path(struct dm_trie *t, const char *name)
{
	size_t end = strlen(name);
	uint32_t node = 0;

	if (end == 0 || end > NAME_MAX_LEN)
		return -1;
	for (;;) {
		const char *dot = memrchr(name, '.', end);
		size_t start = dot ? (size_t)(dot - name) + 1 : 0;

		if (end == start || end - start > LABEL_MAX)
			return -1;
		/* a '*' there would match under every top-level domain */
		if (node == 0 && memchr(name + start, '*', end - start))
			return -1;
		node = child(t, node, name + start, end - start);
		if (!node)
			return -2;
		if (!dot)
			return node;
		end = start - 1;
	}
}

static enum dm_kind entry_kind(const struct policy_domain *d, const char **rest)
{
	*rest = d->name;
	if (strncmp(d->name, "*.", 2) == 0) {
		*rest = d->name + 2;
		return DM_BELOW;
	}
	return d->subdomains ? DM_SUBTREE : DM_EXACT;
}

static int fold_rule(struct dm_trie *t, uint32_t node, enum dm_kind kind,
		     uint32_t entry_id, const struct awf_port_set *ports)
{
	uint32_t *slot = &t->nodes[node].rule[kind];

	if (*slot)
		return port_set_union(&t->rules[*slot - 1].ports, ports);
	if (array_grow((void **)&t->rules, &t->cap_rules, t->n_rules + 1,
		       sizeof(*t->rules)))
		return -2;
	t->rules[t->n_rules] =
		(struct dm_rule){ .entry_id = entry_id, .ports = *ports };
	*slot = (uint32_t)++t->n_rules;
	return 0;
}

static int trie_add(struct dm_trie *t, const char *list, size_t i,
		    const struct policy_domain *d,
		    const struct awf_port_set *ports, char *err, size_t errlen)
{
	const char *rest;
	enum dm_kind kind = entry_kind(d, &rest);
	int64_t node = add_path(t, rest);
	int rc;

	if (node == -1)
		return set_err(err, errlen,
			       "%s[%zu]: %s: not a normalized domain pattern",
			       list, i, d->name);
	rc = node < 0 ? -2 : fold_rule(t, (uint32_t)node, kind, i + 1, ports);
	if (rc == -1)
		set_err(err, errlen,
			"%s[%zu]: %s: ports need more than %d ranges together with the other entries of this name",
			list, i, d->name, AWF_MAX_PORT_RANGES);
	else if (rc == -2)
		set_err(err, errlen, "out of memory");
	return rc < 0 ? -1 : 0;
}

static int union_rule(const struct dm_trie *t, const struct dm_node *n,
		      enum dm_kind kind, struct awf_port_set *set,
		      uint32_t *culprit)
{
	const struct dm_rule *r;

	if (!n->rule[kind])
		return 0;
	r = &t->rules[n->rule[kind] - 1];
	*culprit = r->entry_id;
	return port_set_union(set, &r->ports);
}

/*
 * Entries on one path of the trie can all match one name; their ports must
 * fit in one set. Checked here so that such a policy fails at load and not
 * at the first query. Parents come before their children in the array.
 */
static int check_path_ports(const struct dm_trie *t, const struct policy *p,
			    char *err, size_t errlen)
{
	struct awf_port_set *below = calloc(t->n_nodes, sizeof(*below));
	uint32_t culprit = 0;
	int rc = 0;

	if (!below)
		return set_err(err, errlen, "out of memory");
	for (size_t i = 0; i < t->n_nodes && rc == 0; i++) {
		const struct dm_node *n = &t->nodes[i];
		struct awf_port_set at;

		if (i)
			below[i] = below[n->parent];
		rc = union_rule(t, n, DM_SUBTREE, &below[i], &culprit);
		at = below[i];
		if (rc == 0)
			rc = union_rule(t, n, DM_EXACT, &at, &culprit);
		if (rc == 0)
			rc = union_rule(t, n, DM_BELOW, &below[i], &culprit);
	}
	if (rc < 0)
		set_err(err, errlen,
			"allow_domains[%u]: %s: ports need more than %d ranges together with the entries that cover the same names",
			culprit - 1, p->allow_domains[culprit - 1].name,
			AWF_MAX_PORT_RANGES);
	free(below);
	return rc;
}

static int build(struct domain_matcher *m, const struct policy *p, char *err,
		 size_t errlen)
{
	static const struct awf_port_set none;

	if (trie_init(&m->allow) < 0 || trie_init(&m->block) < 0)
		return set_err(err, errlen, "out of memory");
	for (size_t i = 0; i < p->n_allow_domains; i++) {
		const struct policy_domain *d = &p->allow_domains[i];

		if (trie_add(&m->allow, "allow_domains", i, d,
			     d->has_ports ? &d->ports : &p->ports, err,
			     errlen) < 0)
			return -1;
	}
	for (size_t i = 0; i < p->n_block_domains; i++)
		if (trie_add(&m->block, "block_domains", i,
			     &p->block_domains[i], &none, err, errlen) < 0)
			return -1;
	return check_path_ports(&m->allow, p, err, errlen);
}

struct domain_matcher *domain_matcher_new(const struct policy *p, char *err,
					  size_t errlen)
{
	struct domain_matcher *m = calloc(1, sizeof(*m));

	if (!m) {
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	if (build(m, p, err, errlen) < 0) {
		domain_matcher_free(m);
		return NULL;
	}
	return m;
}

void domain_matcher_free(struct domain_matcher *m)
{
	if (!m)
		return;
	trie_free(&m->allow);
	trie_free(&m->block);
	free(m);
}

static bool query_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '_';
}

static bool query_end_label(struct dm_query *q, size_t start, size_t end,
			    uint32_t h)
{
	if (end == start || end - start > LABEL_MAX)
		return false;
	q->off[q->n] = (uint8_t)start;
	q->len[q->n] = (uint8_t)(end - start);
	q->hash[q->n] = h;
	q->n++;
	return true;
}

/*
 * Anything a pattern cannot hold never matches: above all '\' escapes
 * ("github.com\.evil.com" is one label) and '*', which is a literal
 * character in a query, not a wildcard.
 */
static bool query_parse(struct dm_query *q, const char *name)
{
	size_t len = strnlen(name, NAME_MAX_LEN + 2), start = 0;
	uint32_t h = LABEL_HASH_INIT;

	if (len && name[len - 1] == '.')
		len--;
	if (len == 0 || len > NAME_MAX_LEN)
		return false;
	q->n = 0;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (c == '.') {
			if (!query_end_label(q, start, i, h))
				return false;
			start = i + 1;
			h = LABEL_HASH_INIT;
			continue;
		}
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!query_char_ok(c))
			return false;
		q->buf[i] = c;
		h = label_hash_step(h, c);
	}
	return query_end_label(q, start, len, h);
}

static void hit(struct dm_hits *h, const struct dm_node *n, enum dm_kind kind)
{
	const struct dm_rule *r;
	uint32_t score;

	if (!n->rule[kind])
		return;
	r = &h->t->rules[n->rule[kind] - 1];
	/* deeper, then fewer '*' labels, then fewer names: more specific */
	score = (uint32_t)n->depth << 16 | (uint32_t)n->literals << 8 |
		(kind + 1);
	if (score > h->score ||
	    (score == h->score && r->entry_id < h->entry_id)) {
		h->score = score;
		h->entry_id = r->entry_id;
	}
	/* the usual single match skips the sort of a union */
	if (!h->ports.count)
		h->ports = r->ports;
	else if (port_set_union(&h->ports, &r->ports) < 0)
		h->overflow = true;
}

static void visit(struct dm_hits *h, uint32_t id)
{
	const struct dm_trie *t = h->t;
	const struct dm_node *n = &t->nodes[id];
	const struct dm_query *q = h->q;
	unsigned int idx;
	const char *label;
	uint32_t c;

	hit(h, n, DM_SUBTREE);
	if (n->depth == q->n) {
		hit(h, n, DM_EXACT);
		return;
	}
	hit(h, n, DM_BELOW);
	idx = q->n - 1 - n->depth;
	label = q->buf + q->off[idx];
	c = find_child(t, id, label, q->len[idx], child_hash(q->hash[idx], id));
	if (c)
		visit(h, c);
	for (c = n->glob_head; c; c = t->nodes[c].glob_next)
		if (glob_match(node_label(t, &t->nodes[c]),
			       t->nodes[c].label_len, label, q->len[idx]))
			visit(h, c);
}

static void trie_match(const struct dm_trie *t, const struct dm_query *q,
		       struct dm_hits *h)
{
	memset(h, 0, sizeof(*h));
	h->t = t;
	h->q = q;
	visit(h, 0);
}

int domain_matcher_lookup(const struct domain_matcher *m, const char *name,
			  struct domain_match *out)
{
	struct dm_query q;
	struct dm_hits h;

	memset(out, 0, sizeof(*out));
	if (!query_parse(&q, name))
		return 0;
	trie_match(&m->block, &q, &h);
	if (h.entry_id) {
		out->blocked = 1;
		out->entry_id = h.entry_id;
		return 0;
	}
	trie_match(&m->allow, &q, &h);
	out->entry_id = h.entry_id;
	if (!h.entry_id)
		return 0;
	/* fail closed: a subset of the ports would be a guess */
	if (h.overflow)
		return -1;
	out->allowed = 1;
	out->ports = h.ports;
	return 1;
}
