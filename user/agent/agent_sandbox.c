// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "kernel/name_table.h"
#include "agent/agent_sandbox.h"
#include "common/array.h"
#include "kernel/map_batch.h"
#include "common/error.h"
#include "dns/dns_forward.h"
#include "policy/domain_match.h"
#include "dns/learned.h"
#include "common/log.h"
#include "kernel/sandbox_config.h"

union slot_cidr_key {
	struct awf_slot_cidr4_key v4;
	struct awf_slot_cidr6_key v6;
};

/*
 * The key of e in the shared trie of its family: the slot's 32 bits lead
 * the prefix. Returns the fd of that trie.
 */
static int rule_key(struct agent_bpf *a, uint32_t slot,
		    const struct rule_entry *e, union slot_cidr_key *k)
{
	memset(k, 0, sizeof(*k));
	if (e->family == AF_INET) {
		k->v4.prefixlen = 32 + e->prefixlen;
		k->v4.slot = htonl(slot);
		memcpy(k->v4.addr, e->addr, sizeof(k->v4.addr));
		return agent_bpf_map_fd(a, AGENT_MAP_CIDR4);
	}
	k->v6.prefixlen = 32 + e->prefixlen;
	k->v6.slot = htonl(slot);
	memcpy(k->v6.addr, e->addr, sizeof(k->v6.addr));
	return agent_bpf_map_fd(a, AGENT_MAP_CIDR6);
}

static void rule_del(struct agent_bpf *a, uint32_t slot,
		     const struct rule_entry *e)
{
	union slot_cidr_key k;
	int fd = rule_key(a, slot, e, &k);

	bpf_map_delete_elem(fd, &k);
}

/* Queues of n elements for the v4 and v6 maps of a pair, [0] and [1]. */
static int batch_pair(struct map_batch mb[2], int fd4, int fd6,
		      uint32_t key4_size, uint32_t key6_size,
		      uint32_t value_size, size_t n)
{
	if (map_batch_init(&mb[0], fd4, key4_size, value_size, n, false))
		return -1;
	if (map_batch_init(&mb[1], fd6, key6_size, value_size, n, false)) {
		map_batch_free(&mb[0]);
		return -1;
	}
	return 0;
}

/* What is queued in both, written; -1 with errno on the first refusal. */
static int batch_pair_finish(struct map_batch mb[2], int ret)
{
	int saved;

	if (!ret)
		ret = map_batch_flush(&mb[0]);
	if (!ret)
		ret = map_batch_flush(&mb[1]);
	saved = errno;
	map_batch_free(&mb[0]);
	map_batch_free(&mb[1]);
	errno = saved;
	return ret;
}

/*
 * Remembered before they are written: a failed batch may have left some
 * in the map, and the teardown then removes them key by key instead of
 * walking both maps (2^16 buckets each) for the slot.
 */
static int note_sources(struct agent_sandbox *sb,
			const struct policy_cidr *addrs, size_t n)
{
	if (array_grow((void **)&sb->sources, &sb->cap_sources,
		       sb->n_sources + n, sizeof(*sb->sources)))
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct agent_source *src = &sb->sources[sb->n_sources++];

		src->family = addrs[i].family;
		memcpy(src->addr, addrs[i].addr, sizeof(src->addr));
	}
	return 0;
}

int agent_sandbox_add_sources(struct agent_sandbox *sb, struct agent_bpf *a,
			      const struct policy_cidr *addrs, size_t n,
			      char *err, size_t errlen)
{
	struct map_batch mb[2];
	uint8_t one = 1;
	int ret = 0;

	if (!n)
		return 0;
	if (note_sources(sb, addrs, n) ||
	    batch_pair(mb, agent_bpf_host_addrs_fd(a, AF_INET),
		       agent_bpf_host_addrs_fd(a, AF_INET6),
		       sizeof(struct awf_slot_ip4_key),
		       sizeof(struct awf_slot_ip6_key), sizeof(one), n))
		return set_err(err, errlen, "source addresses: %s",
			       strerror(errno));
	for (size_t i = 0; i < n && !ret; i++) {
		struct awf_slot_ip4_key k4 = { .slot = sb->slot };
		struct awf_slot_ip6_key k6 = { .slot = sb->slot };

		if (addrs[i].family == AF_INET) {
			memcpy(k4.addr, addrs[i].addr, sizeof(k4.addr));
			ret = map_batch_add(&mb[0], &k4, &one);
		} else {
			memcpy(k6.addr, addrs[i].addr, sizeof(k6.addr));
			ret = map_batch_add(&mb[1], &k6, &one);
		}
	}
	if (batch_pair_finish(mb, ret))
		return set_err(
			err, errlen,
			"writing the %zu source addresses of slot %u: %s", n,
			sb->slot, strerror(errno));
	return 0;
}

/* What agent_sandbox_add_sources() wrote (a repeat: ENOENT, harmless). */
static void remove_sources(struct agent_sandbox *sb, struct agent_bpf *a)
{
	for (size_t i = 0; i < sb->n_sources; i++) {
		const struct agent_source *src = &sb->sources[i];
		struct awf_slot_ip4_key k4 = { .slot = sb->slot };
		struct awf_slot_ip6_key k6 = { .slot = sb->slot };

		if (src->family == AF_INET) {
			memcpy(k4.addr, src->addr, sizeof(k4.addr));
			bpf_map_delete_elem(agent_bpf_host_addrs_fd(a, AF_INET),
					    &k4);
		} else {
			memcpy(k6.addr, src->addr, sizeof(k6.addr));
			bpf_map_delete_elem(
				agent_bpf_host_addrs_fd(a, AF_INET6), &k6);
		}
	}
	free(sb->sources);
	sb->sources = NULL;
	sb->n_sources = sb->cap_sources = 0;
}

/* The slot's CIDR rules into the shared tries: a batch per family. */
static int write_rules(const struct agent_sandbox *sb, struct agent_bpf *a,
		       char *err, size_t errlen)
{
	const struct rule_table *t = &sb->rules;
	struct map_batch mb[2];
	int ret = 0;

	if (!t->n)
		return 0;
	if (batch_pair(mb, agent_bpf_map_fd(a, AGENT_MAP_CIDR4),
		       agent_bpf_map_fd(a, AGENT_MAP_CIDR6),
		       sizeof(struct awf_slot_cidr4_key),
		       sizeof(struct awf_slot_cidr6_key),
		       sizeof(struct awf_rule), t->n))
		return set_err(err, errlen, "CIDR rules: %s", strerror(errno));
	for (size_t i = 0; i < t->n && !ret; i++) {
		union slot_cidr_key k;
		struct awf_rule value;

		rule_key(a, sb->slot, &t->v[i], &k);
		rules_value(t, &t->v[i], &value);
		ret = map_batch_add(&mb[t->v[i].family == AF_INET6], &k,
				    &value);
	}
	if (batch_pair_finish(mb, ret))
		return set_err(err, errlen,
			       "writing the %zu CIDR rules of slot %u: %s",
			       t->n, sb->slot, strerror(errno));
	return 0;
}

/* The host's addresses as of this sandbox's creation (agent_hostaddrs.h). */
static int fill_rules(struct agent_sandbox *sb, struct agent_bpf *a,
		      const struct agent_sandbox_spec *spec, char *err,
		      size_t errlen)
{
	const struct policy_cidr *local = spec->host_addrs;
	size_t n_local = spec->n_host_addrs;

	if (rules_build(&sb->rules, spec->policy, local, n_local, err,
			errlen) ||
	    agent_sandbox_add_sources(sb, a, local, n_local, err, errlen))
		return -1;
	return write_rules(sb, a, err, errlen);
}

static int open_learned(struct agent_sandbox *sb, struct agent_bpf *a,
			const struct agent_sandbox_spec *spec)
{
	const struct policy *p = spec->policy;

	if (spec->learned) {
		sb->learned = spec->learned;
		return 0;
	}
	sb->learned =
		learned_store_new(agent_bpf_map_fd(a, AGENT_MAP_LEARNED4),
				  agent_bpf_map_fd(a, AGENT_MAP_LEARNED6),
				  p->dns_min_ttl, p->dns_max_ips_per_name);
	if (!sb->learned)
		return -1;
	learned_store_use_set(sb->learned, sb->learned_set);
	learned_store_use_names_map(sb->learned,
				    agent_bpf_map_fd(a, AGENT_MAP_NAMES));
	/*
	 * An adopted set: the ids in its learned entries keep their names.
	 * A new one has none, and reading would walk the whole names map.
	 */
	if (spec->adopted_set)
		learned_store_load_names(sb->learned);
	return 0;
}

static int open_dns(struct agent_sandbox *sb, struct agent_bpf *a, int epfd,
		    const struct agent_sandbox_spec *spec, char *err,
		    size_t errlen)
{
	const struct policy *p = spec->policy;
	struct dns_fwd_config cfg = {
		.servers = p->dns_servers,
		.n_servers = p->n_dns_servers,
		.port = spec->dns_port,
		.cache_entries = p->dns_cache_entries,
	};

	sb->matcher = domain_matcher_new(p, err, errlen);
	if (!sb->matcher)
		return -1;
	sb->filter =
		dns_filter_new(sb->matcher, spec->on_dns, spec->on_dns_ctx);
	if (!sb->filter || open_learned(sb, a, spec))
		return set_err(err, errlen, "dns filter: out of memory");
	dns_filter_set_audit_only(sb->filter, p->audit_only);
	dns_filter_use_store(sb->filter, sb->learned);
	if (name_table_build(&sb->names, p, sb->matcher, err, errlen) ||
	    name_table_write(&sb->names,
			     agent_bpf_map_fd(a, AGENT_MAP_NAME_RULES),
			     agent_bpf_map_fd(a, AGENT_MAP_EXACT_NAMES),
			     sb->slot, err, errlen))
		return -1;
	dns_filter_use_names(sb->filter, &sb->names);
	cfg.filter = dns_filter_ops(sb->filter);
	sb->dns = dns_fwd_new(&cfg, epfd, err, errlen);
	if (!sb->dns && spec->dns_port) {
		/* The old port is taken: any port will do for a new slot. */
		cfg.port = 0;
		sb->dns = dns_fwd_new(&cfg, epfd, err, errlen);
	}
	if (!sb->dns)
		return -1;
	sb->dns_port = dns_fwd_port(sb->dns);
	return 0;
}

static int write_config(struct agent_sandbox *sb, struct agent_bpf *a,
			const struct agent_sandbox_spec *spec, char *err,
			size_t errlen)
{
	struct awf_config cfg = { 0 };

	if (spec->unrestricted)
		cfg.unrestricted = 1;
	else
		sandbox_config_build(&cfg, spec->policy, sb->dns_port,
				     dns_fwd_has_ipv6(sb->dns),
				     spec->audit_allowed);
	cfg.learned_set = sb->learned_set;
	if (bpf_map_update_elem(agent_bpf_configs_fd(a), &sb->slot, &cfg,
				BPF_ANY)) {
		return set_err(err, errlen, "config of slot %u: %s", sb->slot,
			       strerror(errno));
	}
	return 0;
}

int agent_sandbox_create(struct agent_sandbox *sb, struct agent_bpf *a,
			 int epfd, const struct agent_sandbox_spec *spec,
			 char *err, size_t errlen)
{
	memset(sb, 0, sizeof(*sb));
	sb->slot = spec->slot;
	sb->learned_set = spec->learned_set;
	sb->unrestricted = spec->unrestricted;
	if (!spec->unrestricted && (fill_rules(sb, a, spec, err, errlen) ||
				    open_dns(sb, a, epfd, spec, err, errlen)))
		goto fail;
	/* Rules before config: a hook that finds the config finds its rules. */
	if (write_config(sb, a, spec, err, errlen))
		goto fail;
	return 0;
fail:
	if (sb->learned == spec->learned)
		sb->learned = NULL; /* still the predecessor's */
	agent_sandbox_destroy(sb, a);
	return -1;
}

int agent_sandbox_bind(const struct agent_sandbox *sb, struct agent_bpf *a,
		       uint64_t cgroup_id, char *err, size_t errlen)
{
	if (bpf_map_update_elem(agent_bpf_slots_fd(a), &cgroup_id, &sb->slot,
				BPF_ANY)) {
		return set_err(err, errlen, "cgroup %llu -> slot %u: %s",
			       (unsigned long long)cgroup_id, sb->slot,
			       strerror(errno));
	}
	return 0;
}

/*
 * Delete every key of map with the __u32 at first_off equal to first.
 * Collected first: deleting while walking a hash restarts the walk.
 */
static void purge_bytes(int fd, size_t key_size, size_t off, const void *val,
			size_t len)
{
	uint8_t key[sizeof(struct awf_name_key)], *doomed = NULL;
	size_t n = 0, cap = 0;
	bool have = false;

	if (key_size > sizeof(key))
		return;
	while (!bpf_map_get_next_key(fd, have ? key : NULL, key)) {
		have = true;
		if (memcmp(key + off, val, len))
			continue;
		if (array_grow((void **)&doomed, &cap, n + 1, key_size))
			break;
		memcpy(doomed + n++ * key_size, key, key_size);
	}
	for (size_t i = 0; i < n; i++)
		bpf_map_delete_elem(fd, doomed + i * key_size);
	free(doomed);
}

/* The keys of fd whose 32 bits at first_off are first. */
static void purge(int fd, size_t key_size, size_t first_off, uint32_t first)
{
	purge_bytes(fd, key_size, first_off, &first, sizeof(first));
}

static void purge_sources(struct agent_bpf *a, uint32_t slot)
{
	purge(agent_bpf_host_addrs_fd(a, AF_INET),
	      sizeof(struct awf_slot_ip4_key), 0, slot);
	purge(agent_bpf_host_addrs_fd(a, AF_INET6),
	      sizeof(struct awf_slot_ip6_key), 0, slot);
}

/* A slot's counters start from zero for its next sandbox: one batch. */
static void clear_counters(struct agent_bpf *a, uint32_t slot)
{
	struct map_batch mb;
	uint64_t zero = 0;
	int ret = 0;

	if (map_batch_init(&mb, agent_bpf_counters_fd(a), sizeof(uint32_t),
			   sizeof(zero), AWF_C_MAX, false)) {
		log_warn("counters of slot %u: %s", slot, strerror(errno));
		return;
	}
	for (uint32_t i = 0; i < AWF_C_MAX && !ret; i++) {
		uint32_t key = slot * AWF_C_MAX + i;

		ret = map_batch_add(&mb, &key, &zero);
	}
	if (ret || map_batch_flush(&mb))
		log_warn("clearing the counters of slot %u: %s", slot,
			 strerror(errno));
	map_batch_free(&mb);
}

/* A slot's names, whichever sandbox wrote them. */
static void purge_names(struct agent_bpf *a, uint32_t slot)
{
	uint16_t key_slot = htons((uint16_t)slot);

	purge_bytes(agent_bpf_map_fd(a, AGENT_MAP_NAME_RULES),
		    sizeof(struct awf_name_key),
		    offsetof(struct awf_name_key, slot), &key_slot,
		    sizeof(key_slot));
	purge_bytes(agent_bpf_map_fd(a, AGENT_MAP_EXACT_NAMES),
		    sizeof(struct awf_name_key),
		    offsetof(struct awf_name_key, slot), &key_slot,
		    sizeof(key_slot));
}

void agent_purge_slot(struct agent_bpf *a, uint32_t slot)
{
	struct awf_config none = { 0 };

	bpf_map_update_elem(agent_bpf_configs_fd(a), &slot, &none, BPF_ANY);
	clear_counters(a, slot);
	purge(agent_bpf_map_fd(a, AGENT_MAP_CIDR4),
	      sizeof(struct awf_slot_cidr4_key), 4, htonl(slot));
	purge(agent_bpf_map_fd(a, AGENT_MAP_CIDR6),
	      sizeof(struct awf_slot_cidr6_key), 4, htonl(slot));
	purge(agent_bpf_map_fd(a, AGENT_MAP_LO_PORTS),
	      sizeof(struct awf_slot_lo_port_key), 0, slot);
	purge_sources(a, slot);
	purge_names(a, slot);
}

void agent_purge_set(struct agent_bpf *a, uint32_t set)
{
	purge(agent_bpf_map_fd(a, AGENT_MAP_NAMES),
	      sizeof(struct awf_set_name_key), 0, set);
	purge(agent_bpf_map_fd(a, AGENT_MAP_LEARNED4),
	      sizeof(struct awf_set_ip4_key), 0, set);
	purge(agent_bpf_map_fd(a, AGENT_MAP_LEARNED6),
	      sizeof(struct awf_set_ip6_key), 0, set);
}

void agent_sandbox_destroy(struct agent_sandbox *sb, struct agent_bpf *a)
{
	struct awf_config none = { 0 };

	/* First: a hook that still finds the slot now refuses. */
	bpf_map_update_elem(agent_bpf_configs_fd(a), &sb->slot, &none, BPF_ANY);
	for (size_t i = 0; i < sb->rules.n; i++)
		rule_del(a, sb->slot, &sb->rules.v[i]);
	rules_free(&sb->rules);
	name_table_purge(&sb->names);
	name_table_free(&sb->names);
	purge(agent_bpf_map_fd(a, AGENT_MAP_LO_PORTS),
	      sizeof(struct awf_slot_lo_port_key), 0, sb->slot);
	remove_sources(sb, a);
	clear_counters(a, sb->slot);
	if (sb->learned) {
		/* Unused, its set is empty: no walk of three 2^20 maps. */
		bool used = learned_store_used(sb->learned);

		learned_store_free(sb->learned);
		if (used)
			agent_purge_set(a, sb->learned_set);
	}
	dns_fwd_free(sb->dns);
	dns_filter_free(sb->filter);
	domain_matcher_free(sb->matcher);
	sb->dns = NULL;
	sb->filter = NULL;
	sb->learned = NULL;
	sb->matcher = NULL;
}
