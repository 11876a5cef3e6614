/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * learned.h - addresses learned from allowed DNS answers. Each is written
 * into the sandbox's learned4/learned6 map (address -> expiry, ports, name)
 * before the answer is released, so the client can connect the moment it
 * reads it, and nothing it did not ask an allowed name for.
 *
 * Expiry is max(TTL, dns.min_ttl, 1 s); a name keeps at most
 * dns.max_ips_per_name addresses, the oldest evicted first.
 */
#ifndef AWF_LEARNED_H
#define AWF_LEARNED_H

#include <stdbool.h>
#include <stdint.h>

#include "awf.h"

struct learned_store;

struct learned_store *learned_store_new(int map4_fd, int map6_fd,
					unsigned int min_ttl,
					unsigned int max_per_name);
void learned_store_free(struct learned_store *s);

/* What an address learned for a name opens. */
struct learned_rule {
	uint32_t rule_id; /* the allow entry, index + 1 */
	const struct awf_port_set *ports;
	uint32_t flags; /* enum awf_learned_flag */
};

/*
 * Learn addr (4 or 16 bytes, network order) for name. An address another
 * live name already opened keeps that name's ports too. Returns 0, or -1
 * with errno when the map could not be written: the answer must then not
 * reach the client.
 */
int learned_store_add(struct learned_store *s, const char *name,
		      const struct learned_rule *rule, int family,
		      const uint8_t *addr, uint32_t ttl);

/*
 * Batches: after hold, learned_store_add() keeps its map writes (and
 * returns 0); commit writes them, one batch update per map. Nothing
 * learned may be released before commit returned 0; -1 (errno): some
 * address could not be written.
 */
void learned_store_hold(struct learned_store *s);
int learned_store_commit(struct learned_store *s);

/*
 * Also write name_id -> name into names_fd (the pinned "names" map that
 * `awf-bpf dump` reads) whenever a name gets its id. -1: do not.
 */
void learned_store_use_names_map(struct learned_store *s, int names_fd);

/*
 * Agent: the maps are shared by every sandbox and keyed by set + address
 * (struct awf_set_ip4_key / awf_set_ip6_key).
 */
void learned_store_use_set(struct learned_store *s, uint32_t set);

/*
 * Agent: take the names a previous agent wrote for this set back from the
 * names map (before any other name is added), so that ids keep meaning
 * the same names. Returns how many.
 */
int learned_store_load_names(struct learned_store *s);

/*
 * False while s has neither been asked to add an address nor read names
 * back: with a set of its own, nothing of it is in the maps yet.
 */
bool learned_store_used(const struct learned_store *s);

/* The name behind a map entry's name_id, NULL if unknown. */
const char *learned_store_name(const struct learned_store *s, uint32_t id);

/* CLOCK_MONOTONIC in ns: the clock of bpf_ktime_get_ns(). */
uint64_t learned_now_ns(void);

#endif /* AWF_LEARNED_H */
