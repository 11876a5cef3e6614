/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * dump_json.h - one sandbox as `awf-bpf dump --json` and `status --json`
 * print it, read from its pins alone (docs/dump.md). The text forms are
 * rendered from this object, so both always say the same.
 */
#ifndef AWF_DUMP_JSON_H
#define AWF_DUMP_JSON_H

#include <stdbool.h>
#include <json-c/json.h>

#include "kernel/pinned.h"

#define DUMP_FORMAT_VERSION 1

/*
 * full: with the policy, CIDR entries, learned addresses and loopback
 * ports; otherwise only who, what, since when and the counters (status).
 * NULL when out of memory.
 */
json_object *dump_sandbox_json(const struct pinned *p, bool full);

/*
 * The pieces of a sandbox object, also for the agent's shared maps
 * (agent_pinned.c), whose keys carry the slot.
 *
 * The keys of map fd (-1: none), sorted by cmp with repeats dropped, *n
 * of them, at most max; free()d by the caller. NULL when none or on error.
 */
void *dump_map_keys(int fd, size_t key_size, size_t max,
		    int (*cmp)(const void *, const void *), size_t *n);
/* The order of CIDR keys: by address, then by prefix length. */
int dump_cidr_cmp(const void *xaddr, const void *yaddr, size_t len,
		  uint32_t xplen, uint32_t yplen);
/*
 * A CIDR trie of the programs. Its keys start with prefixlen; with
 * slot_bits, the next 32 bits are a slot (network order) and count in
 * prefixlen: only the keys of slot are dumped, without those bits.
 */
struct dump_trie {
	int fd;
	int family;
	size_t key_size;
	size_t addr_off; /* where the address starts in a key */
	int (*cmp)(const void *, const void *);
	unsigned int slot_bits;
	uint32_t slot;
	/*
	 * With has_exact: the exact table of the trie's family (cidr_exact4/6,
	 * struct awf_exact4_slot or awf_exact6_slot) and the port sets its
	 * slots name; its entries are dumped among the trie's as the
	 * full-length prefixes they are.
	 */
	bool has_exact;
	int exact_fd, ports_fd;
};

/* Every entry of t, sorted by t->cmp, as dump_cidr_json() objects. */
void dump_trie_json(json_object *arr, const struct dump_trie *t);
/* {"cidr", "kind"[, "rule_id", "ports"]} */
json_object *dump_cidr_json(int family, const void *addr, uint32_t prefixlen,
			    const struct awf_rule *r);
/*
 * {"address", "family", "name", "name_id", ...}: now is learned_now_ns();
 * names_fd (name_id -> struct awf_name) -1 leaves "name" null.
 */
/* name_key: the names map's key of l->name_id; NULL: the id itself. */
json_object *dump_learned_json(int family, const void *addr,
			       const struct awf_learned *l, int names_fd,
			       const void *name_key, int64_t now);
/* {"port", "proto", "refs"} */
json_object *dump_lo_port_json(uint16_t port, uint8_t proto, uint32_t refs);
/* "addr:port" / "[addr]:port", or NULL (JSON null) without a proxy. */
json_object *dump_proxy_json(const struct awf_config *cfg);

#endif /* AWF_DUMP_JSON_H */
