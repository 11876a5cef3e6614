// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <bpf/bpf.h>

#include "common/array.h"
#include "dns/learned.h"
#include "common/log.h"
#include "policy/policy.h"
#include "policy/ports.h"

#define NS_PER_S 1000000000ULL
#define NAME_BUCKETS 4096
#define WRITTEN_BUCKETS 4096

struct learned_addr {
	int family;
	uint8_t addr[16];
};

/* One allowed name and the addresses it resolved to, oldest first. */
struct learned_name {
	struct learned_name *next; /* hash chain */
	char *name;
	uint32_t id;
	uint32_t count;
	uint32_t oldest;	     /* ring index of the oldest address */
	struct learned_addr addrs[]; /* max_per_name slots */
};

/*
 * What this store last wrote into the map for one address. Only the store
 * of a set writes its entries, so once it wrote one it knows the entry
 * without reading it back: a repeated answer (the endpoint's cache) costs
 * one map update per address, not a lookup and an update.
 */
struct learned_written {
	struct learned_written *next; /* hash chain */
	struct learned_addr key;
	struct awf_learned val;
};

/*
 * Map writes held while the endpoint answers a batch of queries
 * (learned_store_hold): written with one bpf(BPF_MAP_UPDATE_BATCH) per map
 * before any answer of the batch is released.
 */
#define HELD_MAX 128

struct learned_held {
	unsigned int n;
	struct learned_addr addrs[HELD_MAX];
	uint8_t keys[HELD_MAX * sizeof(struct awf_set_ip6_key)];
	struct awf_learned vals[HELD_MAX];
};

struct learned_store {
	int map4_fd;
	int map6_fd;
	int names_fd;	   /* -1: none */
	bool keyed_by_set; /* agent: keys are awf_set_ip4/6_key */
	uint32_t set;
	unsigned int min_ttl;
	unsigned int max_per_name;
	struct learned_name *buckets[NAME_BUCKETS];
	struct learned_written *written[WRITTEN_BUCKETS];
	size_t n_written; /* entries in written */
	bool used;	  /* an address added, or names read back */
	bool holding;
	bool held_failed;	      /* a held write could not be made */
	struct learned_held *held[2]; /* IPv4, IPv6; allocated when held */
	struct learned_name **by_id;  /* by_id[id - 1] */
	uint32_t n_names;
	size_t cap_names;
};

uint64_t learned_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static uint32_t name_hash(const char *name)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *name; name++)
		h = (h ^ (uint8_t)*name) * 16777619u;
	return h;
}

/*
 * 64 KiB of hash buckets, most of them never used: mapped anonymous, a
 * page is zero until touched and costs its page fault only then. calloc()
 * zeroed all 16 (0.45 ms of page faults on a PVM guest, on the main
 * thread while the programs load).
 */
static struct learned_store *store_alloc(void)
{
	void *p =
		mmap(NULL, sizeof(struct learned_store), PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

struct learned_store *learned_store_new(int map4_fd, int map6_fd,
					unsigned int min_ttl,
					unsigned int max_per_name)
{
	struct learned_store *s = store_alloc();

	if (!s)
		return NULL;
	s->map4_fd = map4_fd;
	s->map6_fd = map6_fd;
	s->names_fd = -1;
	s->min_ttl = min_ttl;
	s->max_per_name = max_per_name ? max_per_name : 1;
	return s;
}

void learned_store_free(struct learned_store *s)
{
	if (!s)
		return;
	free(s->held[0]);
	free(s->held[1]);
	/* Not a page of buckets read (and faulted in) for nothing. */
	for (size_t i = 0; s->n_written && i < WRITTEN_BUCKETS; i++) {
		while (s->written[i]) {
			struct learned_written *w = s->written[i];

			s->written[i] = w->next;
			free(w);
		}
	}
	for (uint32_t i = 0; i < s->n_names; i++) {
		free(s->by_id[i]->name);
		free(s->by_id[i]);
	}
	free(s->by_id);
	munmap(s, sizeof(*s));
}

static struct learned_name *name_find(struct learned_store *s, const char *name,
				      uint32_t hash)
{
	struct learned_name *n = s->buckets[hash % NAME_BUCKETS];

	for (; n; n = n->next)
		if (strcmp(n->name, name) == 0)
			return n;
	return NULL;
}

void learned_store_use_names_map(struct learned_store *s, int names_fd)
{
	s->names_fd = names_fd;
}

void learned_store_use_set(struct learned_store *s, uint32_t set)
{
	s->keyed_by_set = true;
	s->set = set;
}

/* The map key of addr: the address itself, or (agent) set + address. */
static const void *map_key(const struct learned_store *s, int family,
			   const uint8_t *addr, uint8_t *buf)
{
	if (!s->keyed_by_set)
		return addr;
	memcpy(buf, &s->set, sizeof(s->set));
	memcpy(buf + sizeof(s->set), addr, family == AF_INET ? 4 : 16);
	return buf;
}

/*
 * Only `dump` reads the names map: a name it cannot show is no reason to
 * refuse the answer, so a failure is reported, not returned.
 */
static void name_publish(struct learned_store *s, const struct learned_name *n)
{
	struct awf_name val = { 0 };

	if (s->names_fd < 0)
		return;
	struct awf_set_name_key key = { .set = s->set, .id = n->id };
	const void *k = s->keyed_by_set ? (const void *)&key : &n->id;

	snprintf(val.name, sizeof(val.name), "%s", n->name);
	if (bpf_map_update_elem(s->names_fd, k, &val, BPF_ANY))
		log_warn("names map: %s (id %u): %s", n->name, n->id,
			 strerror(errno));
}

static struct learned_name *name_insert(struct learned_store *s,
					const char *name, uint32_t hash)
{
	struct learned_name *n;

	/* As many names as the map has addresses: enough, and bounded. */
	if (s->n_names >= AWF_MAX_LEARNED) {
		errno = ENOSPC;
		return NULL;
	}
	if (array_grow((void **)&s->by_id, &s->cap_names, s->n_names + 1,
		       sizeof(*s->by_id)))
		return NULL;
	n = calloc(1, sizeof(*n) + s->max_per_name * sizeof(n->addrs[0]));
	if (!n || !(n->name = strdup(name))) {
		free(n);
		return NULL;
	}
	n->id = ++s->n_names;
	s->by_id[n->id - 1] = n;
	n->next = s->buckets[hash % NAME_BUCKETS];
	s->buckets[hash % NAME_BUCKETS] = n;
	name_publish(s, n);
	return n;
}

static int id_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The ids of this store's set in the names map, sorted; *n of them. */
static uint32_t *set_ids(const struct learned_store *s, size_t *n)
{
	struct awf_set_name_key key, *prev = NULL;
	uint32_t *ids = NULL;
	size_t cap = 0;

	*n = 0;
	while (!bpf_map_get_next_key(s->names_fd, prev, &key)) {
		prev = &key;
		if (key.set != s->set)
			continue;
		if (array_grow((void **)&ids, &cap, *n + 1, sizeof(*ids)))
			break;
		ids[(*n)++] = key.id;
	}
	if (ids)
		qsort(ids, *n, sizeof(*ids), id_cmp);
	return ids;
}

int learned_store_load_names(struct learned_store *s)
{
	struct awf_set_name_key key = { .set = s->set };
	struct awf_name val;
	size_t n;
	uint32_t *ids;

	s->used = true; /* a previous agent's set: its entries are there */
	if (!s->keyed_by_set || s->names_fd < 0 || s->n_names)
		return 0;
	ids = set_ids(s, &n);
	/* Ids are dense from 1: a gap (a failed write) ends what is usable. */
	for (size_t i = 0; i < n && ids[i] == s->n_names + 1; i++) {
		key.id = ids[i];
		if (bpf_map_lookup_elem(s->names_fd, &key, &val))
			break;
		val.name[sizeof(val.name) - 1] = '\0';
		if (!name_insert(s, val.name, name_hash(val.name)))
			break;
	}
	free(ids);
	return (int)s->n_names;
}

bool learned_store_used(const struct learned_store *s)
{
	return s->used;
}

const char *learned_store_name(const struct learned_store *s, uint32_t id)
{
	if (!id || id > s->n_names)
		return NULL;
	return s->by_id[id - 1]->name;
}

static int map_fd_of(const struct learned_store *s, int family)
{
	return family == AF_INET ? s->map4_fd : s->map6_fd;
}

static bool addr_eq(const struct learned_addr *a, int family,
		    const uint8_t *addr)
{
	return a->family == family &&
	       memcmp(a->addr, addr, family == AF_INET ? 4 : 16) == 0;
}

static struct learned_written **written_slot(struct learned_store *s,
					     int family, const uint8_t *addr)
{
	size_t len = family == AF_INET ? 4 : 16;
	uint32_t h = 2166136261u ^ (uint32_t)family; /* FNV-1a */
	struct learned_written **pp;

	for (size_t i = 0; i < len; i++)
		h = (h ^ addr[i]) * 16777619u;
	pp = &s->written[h % WRITTEN_BUCKETS];
	while (*pp && !addr_eq(&(*pp)->key, family, addr))
		pp = &(*pp)->next;
	return pp;
}

/* The entry of addr as the map has it; false when there is none. */
static bool entry_read(struct learned_store *s, int family, const uint8_t *addr,
		       const void *key, struct awf_learned *val)
{
	struct learned_written *w = *written_slot(s, family, addr);

	if (w) {
		*val = w->val;
		return true;
	}
	return !bpf_map_lookup_elem(map_fd_of(s, family), key, val);
}

/* Remembers what was written; without memory, the map is read next time. */
static void entry_written(struct learned_store *s, int family,
			  const uint8_t *addr, const struct awf_learned *val)
{
	struct learned_written **pp = written_slot(s, family, addr);

	if (!*pp) {
		*pp = calloc(1, sizeof(**pp));
		if (!*pp)
			return;
		s->n_written++;
		(*pp)->key.family = family;
		memcpy((*pp)->key.addr, addr, family == AF_INET ? 4 : 16);
	}
	(*pp)->val = *val;
}

static void entry_deleted(struct learned_store *s, int family,
			  const uint8_t *addr)
{
	struct learned_written **pp = written_slot(s, family, addr);
	struct learned_written *w = *pp;

	if (w) {
		*pp = w->next;
		free(w);
	}
}

static size_t key_size(const struct learned_store *s, int family)
{
	if (family == AF_INET)
		return s->keyed_by_set ? sizeof(struct awf_set_ip4_key) : 4;
	return s->keyed_by_set ? sizeof(struct awf_set_ip6_key) :
				 sizeof(struct awf_ip6_key);
}

static struct learned_held *held_of(struct learned_store *s, int family)
{
	return s->held[family == AF_INET ? 0 : 1];
}

/*
 * Writes what is held for one map: one batch update, or one update per
 * entry where the kernel has no batch for it. An entry not written is
 * forgotten as written, so the map is read the next time.
 */
static int held_flush(struct learned_store *s, int family)
{
	struct learned_held *h = held_of(s, family);
	size_t ks = key_size(s, family);
	int fd = map_fd_of(s, family), ret = 0;
	__u32 done;

	if (!h || !h->n)
		return 0;
	done = h->n;
	if (bpf_map_update_batch(fd, h->keys, h->vals, &done, NULL) == 0)
		done = h->n;
	else if (done > h->n)
		done = 0;
	for (unsigned int i = done; i < h->n; i++) {
		if (!bpf_map_update_elem(fd, h->keys + i * ks, &h->vals[i],
					 BPF_ANY))
			continue;
		ret = -1;
		entry_deleted(s, family, h->addrs[i].addr);
	}
	h->n = 0;
	return ret;
}

static int held_find(const struct learned_held *h, int family,
		     const uint8_t *addr)
{
	for (unsigned int i = 0; h && i < h->n; i++)
		if (addr_eq(&h->addrs[i], family, addr))
			return (int)i;
	return -1;
}

/* Holds one write (the latest one for an address wins). */
static int held_put(struct learned_store *s, int family, const uint8_t *addr,
		    const void *key, const struct awf_learned *val)
{
	struct learned_held **hp = &s->held[family == AF_INET ? 0 : 1];
	size_t ks = key_size(s, family);
	int i;

	if (!*hp && !(*hp = calloc(1, sizeof(**hp))))
		return -1;
	i = held_find(*hp, family, addr);
	if (i < 0) {
		if ((*hp)->n == HELD_MAX && held_flush(s, family))
			s->held_failed = true;
		i = (int)(*hp)->n++;
		(*hp)->addrs[i].family = family;
		memcpy((*hp)->addrs[i].addr, addr, family == AF_INET ? 4 : 16);
		memcpy((*hp)->keys + (size_t)i * ks, key, ks);
	}
	(*hp)->vals[i] = *val;
	entry_written(s, family, addr, val);
	return 0;
}

/* An evicted address must not come back with the held writes. */
static void held_drop(struct learned_store *s, int family, const uint8_t *addr)
{
	struct learned_held *h = held_of(s, family);
	size_t ks = key_size(s, family);
	int i = held_find(h, family, addr);

	if (i < 0)
		return;
	h->n--;
	h->addrs[i] = h->addrs[h->n];
	memcpy(h->keys + (size_t)i * ks, h->keys + (size_t)h->n * ks, ks);
	h->vals[i] = h->vals[h->n];
}

void learned_store_hold(struct learned_store *s)
{
	s->holding = true;
	s->held_failed = false;
}

int learned_store_commit(struct learned_store *s)
{
	int ret = s->held_failed ? -1 : 0;

	s->holding = false;
	s->held_failed = false;
	if (held_flush(s, AF_INET))
		ret = -1;
	if (held_flush(s, AF_INET6))
		ret = -1;
	return ret;
}

static int map_write(struct learned_store *s, const struct learned_name *n,
		     const struct learned_rule *rule, int family,
		     const uint8_t *addr, uint64_t expires)
{
	struct awf_learned val = { .expires_ns = expires,
				   .name_id = n->id,
				   .rule_id = rule->rule_id,
				   .ports = *rule->ports,
				   .flags = rule->flags };
	struct awf_learned old;
	int fd = map_fd_of(s, family);
	uint8_t buf[sizeof(struct awf_set_ip6_key)];
	const void *key = map_key(s, family, addr, buf);

	if (entry_read(s, family, addr, key, &old) &&
	    old.expires_ns > learned_now_ns() && old.name_id != n->id) {
		/* Audit-only mode: an allowed name's entry stays as it is. */
		if ((val.flags & AWF_LEARNED_AUDIT_ONLY) &&
		    !(old.flags & AWF_LEARNED_AUDIT_ONLY))
			return 0;
		/*
		 * Shared (CDN) address: both names' ports stay open, one
		 * name without a name check leaves it unchecked, one name
		 * with "udp" opens it to UDP.
		 */
		if (port_set_union(&val.ports, &old.ports) == 0 &&
		    old.expires_ns > expires)
			val.expires_ns = old.expires_ns;
		val.flags |= old.flags &
			     (AWF_LEARNED_NO_NAME_CHECK | AWF_LEARNED_UDP);
	}
	if (s->holding)
		return held_put(s, family, addr, key, &val);
	/* libbpf returns -errno and sets errno: keep the documented -1. */
	if (bpf_map_update_elem(fd, key, &val, BPF_ANY))
		return -1;
	entry_written(s, family, addr, &val);
	return 0;
}

/* Drop the oldest address of a full name, unless another name owns it now. */
static void evict_oldest(struct learned_store *s, struct learned_name *n)
{
	struct learned_addr *victim = &n->addrs[n->oldest];
	int fd = map_fd_of(s, victim->family);
	uint8_t buf[sizeof(struct awf_set_ip6_key)];
	const void *key = map_key(s, victim->family, victim->addr, buf);
	struct awf_learned cur;

	if (entry_read(s, victim->family, victim->addr, key, &cur) &&
	    cur.name_id == n->id) {
		if (s->holding)
			held_drop(s, victim->family, victim->addr);
		bpf_map_delete_elem(fd, key);
		/* Gone, or not: either way the map is read next time. */
		entry_deleted(s, victim->family, victim->addr);
	}
	n->oldest = (n->oldest + 1) % s->max_per_name;
	n->count--;
}

static void remember(struct learned_store *s, struct learned_name *n,
		     int family, const uint8_t *addr)
{
	struct learned_addr *slot;

	if (n->count == s->max_per_name)
		evict_oldest(s, n);
	slot = &n->addrs[(n->oldest + n->count) % s->max_per_name];
	slot->family = family;
	memset(slot->addr, 0, sizeof(slot->addr));
	memcpy(slot->addr, addr, family == AF_INET ? 4 : 16);
	n->count++;
}

static bool already_known(const struct learned_store *s,
			  const struct learned_name *n, int family,
			  const uint8_t *addr)
{
	for (uint32_t i = 0; i < n->count; i++)
		if (addr_eq(&n->addrs[(n->oldest + i) % s->max_per_name],
			    family, addr))
			return true;
	return false;
}

int learned_store_add(struct learned_store *s, const char *name,
		      const struct learned_rule *rule, int family,
		      const uint8_t *addr, uint32_t ttl)
{
	uint32_t hash = name_hash(name);
	struct learned_name *n = name_find(s, name, hash);
	uint64_t lifetime = (uint64_t)(ttl > s->min_ttl ? ttl : s->min_ttl);

	s->used = true;
	/* TTL 0 with min_ttl 0 would open nothing: give the client a second. */
	if (!lifetime)
		lifetime = 1;

	if (family != AF_INET && family != AF_INET6) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	if (!n && !(n = name_insert(s, name, hash)))
		return -1;
	if (!already_known(s, n, family, addr))
		remember(s, n, family, addr);
	return map_write(s, n, rule, family, addr,
			 learned_now_ns() + lifetime * NS_PER_S);
}
