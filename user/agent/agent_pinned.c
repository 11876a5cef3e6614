// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "agent/agent_pinned.h"
#include "common/dirlist.h"
#include "common/error.h"
#include "kernel/counters.h"
#include "audit/dump_json.h"
#include "dns/learned.h"
#include "policy/policy.h"
#include "policy/policy_json.h"

/* ------------------------------------------------------------- links */

/* Decimal digits only, no sign, no leading junk; -1 otherwise. */
static int parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (!len || len > 20)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned int d = (unsigned char)s[i] - '0';

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int agent_link_parse(const char *name, struct agent_link *out)
{
	const char *dash;
	uint64_t v;

	memset(out, 0, sizeof(*out));
	if (!strncmp(name, "tc-", 3)) {
		if (parse_u64(name + 3, strlen(name + 3), &v) || !v ||
		    v > INT32_MAX)
			return -1;
		out->kind = AGENT_LINK_TC;
		out->ifindex = (int)v;
		return 0;
	}
	if (strncmp(name, "cg-", 3))
		return -1;
	dash = strchr(name + 3, '-');
	if (!dash || parse_u64(name + 3, (size_t)(dash - name - 3), &v) ||
	    !dash[1] || strlen(dash + 1) >= sizeof(out->program))
		return -1;
	out->kind = AGENT_LINK_CGROUP;
	out->cgroup_id = v;
	snprintf(out->program, sizeof(out->program), "%s", dash + 1);
	return 0;
}

static int cmp_u64(uint64_t x, uint64_t y)
{
	return (x > y) - (x < y);
}

static int link_cmp(const void *a, const void *b)
{
	const struct agent_link *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->kind == AGENT_LINK_TC)
		return cmp_u64((uint64_t)x->ifindex, (uint64_t)y->ifindex);
	if (x->cgroup_id != y->cgroup_id)
		return cmp_u64(x->cgroup_id, y->cgroup_id);
	return strcmp(x->program, y->program);
}

static int parse_link(const char *name, void *link)
{
	return agent_link_parse(name, link);
}

int agent_links_list(const char *dir, struct agent_link **links, size_t *n)
{
	return dir_list(dir, sizeof(**links), parse_link, link_cmp,
			(void **)links, n);
}

/* -------------------------------------------------------- state file */

static const char *str_member(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

static int64_t int_member(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return -1;
	return json_object_get_int64(v);
}

static int entry_parse(json_object *o, struct agent_state_sandbox *sb)
{
	int64_t slot = int_member(o, "slot"), port = int_member(o, "dns_port");
	json_object *id;

	if (!json_object_is_type(o, json_type_object) || slot < 1 ||
	    slot >= AWF_MAX_SLOTS ||
	    !json_object_object_get_ex(o, "cgroup_id", &id) ||
	    !json_object_is_type(id, json_type_int))
		return -1;
	memset(sb, 0, sizeof(*sb));
	sb->slot = (uint32_t)slot;
	sb->cgroup_id = json_object_get_uint64(id);
	sb->dns_port = port > 0 && port <= 65535 ? (uint16_t)port : 0;
	snprintf(sb->kind, sizeof(sb->kind), "%s", str_member(o, "kind"));
	snprintf(sb->cgroup, sizeof(sb->cgroup), "%s", str_member(o, "cgroup"));
	snprintf(sb->policy, sizeof(sb->policy), "%s", str_member(o, "policy"));
	return 0;
}

int agent_state_parse(json_object *root, struct agent_state_info *st, char *err,
		      size_t errlen)
{
	json_object *list;
	int64_t pid;
	size_t n;

	memset(st, 0, sizeof(*st));
	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "sandboxes", &list) ||
	    !json_object_is_type(list, json_type_array)) {
		return set_err(err, errlen, "no sandboxes array");
	}
	pid = int_member(root, "agent_pid");
	st->agent_pid = pid > 0 && pid <= INT32_MAX ? pid : 0;
	n = json_object_array_length(list);
	st->sandboxes = calloc(n ? n : 1, sizeof(*st->sandboxes));
	if (!st->sandboxes)
		return set_err(err, errlen, "out of memory");
	for (size_t i = 0; i < n; i++)
		if (!entry_parse(json_object_array_get_idx(list, i),
				 &st->sandboxes[st->n]))
			st->n++;
	return 0;
}

int agent_state_read(const char *path, struct agent_state_info *st, char *err,
		     size_t errlen)
{
	json_object *root;
	int ret;

	memset(st, 0, sizeof(*st));
	if (access(path, F_OK)) {
		int saved = errno;

		set_err(err, errlen, "%s: %s", path, strerror(saved));
		errno = saved;
		return -1;
	}
	root = json_object_from_file(path);
	if (!root) {
		set_err(err, errlen, "%s: not JSON", path);
		errno = EINVAL;
		return -1;
	}
	ret = agent_state_parse(root, st, err, errlen);
	json_object_put(root);
	if (ret) {
		char why[AWF_ERR_LEN];

		snprintf(why, sizeof(why), "%s", err);
		set_err(err, errlen, "%s in %s", why, path);
		errno = EINVAL;
	}
	return ret;
}

void agent_state_info_free(struct agent_state_info *st)
{
	free(st->sandboxes);
	memset(st, 0, sizeof(*st));
}

const struct agent_state_sandbox *
agent_state_find(const struct agent_state_info *st, const char *what)
{
	uint64_t slot;

	if (!strncmp(what, "slot-", 5)) {
		if (parse_u64(what + 5, strlen(what + 5), &slot))
			return NULL;
		for (size_t i = 0; i < st->n; i++)
			if (st->sandboxes[i].slot == slot)
				return &st->sandboxes[i];
		return NULL;
	}
	for (size_t i = 0; i < st->n; i++) {
		const char *cg = st->sandboxes[i].cgroup;

		if (!strcmp(cg, what) ||
		    (cg[0] == '/' && !strcmp(cg + 1, what)))
			return &st->sandboxes[i];
	}
	return NULL;
}

bool agent_pid_is_awf(pid_t pid)
{
	char path[64], comm[32];
	size_t n;
	FILE *f;

	if (pid <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	n = fread(comm, 1, sizeof(comm) - 1, f);
	fclose(f);
	comm[n] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
	return !strcmp(comm, "awf-bpf");
}

/* -------------------------------------------------------------- maps */

static const char *const map_names[AGENT_MAP_N] = {
	[AGENT_MAP_CIDR4] = "cidr4",
	[AGENT_MAP_CIDR6] = "cidr6",
	[AGENT_MAP_LEARNED4] = "learned4",
	[AGENT_MAP_LEARNED6] = "learned6",
	[AGENT_MAP_LO_PORTS] = "lo_ports",
	[AGENT_MAP_NAMES] = "names",
	[AGENT_MAP_NAME_RULES] = "name_rules",
	[AGENT_MAP_EXACT_NAMES] = "exact_names",
};

static int open_map(const char *name)
{
	LIBBPF_OPTS(bpf_obj_get_opts, opts, .file_flags = BPF_F_RDONLY);
	char path[PATH_MAX];

	snprintf(path, sizeof(path), AWF_AGENT_MAPS_DIR "/%s", name);
	return bpf_obj_get_opts(path, &opts);
}

int agent_pinned_open(struct agent_pinned *ap, char *err, size_t errlen)
{
	ap->slots = open_map("slots");
	ap->configs = open_map("configs");
	ap->counters = open_map("counters");
	for (size_t m = 0; m < AGENT_MAP_N; m++)
		ap->maps[m] = open_map(map_names[m]);
	if (ap->slots >= 0 || ap->configs >= 0 || ap->counters >= 0)
		return 0;
	set_err(err, errlen, "%s: %s", AWF_AGENT_MAPS_DIR,
		access(AWF_AGENT_MAPS_DIR, F_OK) ? strerror(errno) :
						   "no map of the agent");
	agent_pinned_close(ap);
	return -1;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void agent_pinned_close(struct agent_pinned *ap)
{
	close_fd(&ap->slots);
	close_fd(&ap->configs);
	close_fd(&ap->counters);
	for (size_t m = 0; m < AGENT_MAP_N; m++)
		close_fd(&ap->maps[m]);
}

int agent_pinned_slot_of(const struct agent_pinned *ap, uint64_t cgroup_id,
			 uint32_t *slot)
{
	__u64 key = cgroup_id;

	if (ap->slots < 0)
		return -1;
	return bpf_map_lookup_elem(ap->slots, &key, slot) ? -1 : 0;
}

int agent_pinned_config(const struct agent_pinned *ap, uint32_t slot,
			struct awf_config *cfg)
{
	if (ap->configs < 0)
		return -1;
	return bpf_map_lookup_elem(ap->configs, &slot, cfg) ? -1 : 0;
}

int agent_pinned_counters(const struct agent_pinned *ap, uint32_t slot,
			  uint64_t *out)
{
	if (ap->counters < 0 || slot >= AWF_MAX_SLOTS)
		return -1;
	for (uint32_t i = 0; i < AWF_C_MAX; i++) {
		__u32 key = slot * AWF_C_MAX + i;

		if (bpf_map_lookup_elem(ap->counters, &key, &out[i]))
			return -1;
	}
	return 0;
}

/* -------------------------------------------------------------- JSON */

static json_object *config_json(const struct awf_config *cfg)
{
	json_object *o = json_object_new_object();
	json_object *lo = json_object_new_object();

	json_object_object_add(o, "unrestricted",
			       json_object_new_boolean(cfg->unrestricted));
	json_object_object_add(
		lo, "mode",
		json_object_new_string(
			policy_localhost_mode_name(cfg->localhost_mode)));
	json_object_object_add(lo, "ports", port_set_to_json(&cfg->lo_ports));
	json_object_object_add(o, "localhost", lo);
	json_object_object_add(o, "ipv6",
			       json_object_new_boolean(cfg->ipv6_enabled));
	json_object_object_add(o, "proxy", dump_proxy_json(cfg));
	json_object_object_add(
		o, "audit",
		json_object_new_string(cfg->audit_allowed ? "all" : "denied"));
	json_object_object_add(
		o, "mode",
		json_object_new_string(cfg->audit_only ? "audit" : "enforce"));
	json_object_object_add(o, "dns_endpoint_port",
			       json_object_new_int(cfg->dns_port));
	json_object_object_add(o, "learned_set",
			       json_object_new_int64(cfg->learned_set));
	return o;
}

static json_object *counters_json(const struct agent_pinned *ap, uint32_t slot)
{
	uint64_t c[AWF_C_MAX];

	if (agent_pinned_counters(ap, slot, c))
		return NULL;
	return counters_to_json(c);
}

/*
 * The shared maps hold the entries of every slot: sorted by slot (or
 * set) first, then as dump_json.c sorts each kind.
 */
static int slot_cidr4_cmp(const void *a, const void *b)
{
	const struct awf_slot_cidr4_key *x = a, *y = b;
	int c = cmp_u64(ntohl(x->slot), ntohl(y->slot));

	return c ? c :
		   dump_cidr_cmp(x->addr, y->addr, sizeof(x->addr),
				 x->prefixlen, y->prefixlen);
}

static int slot_cidr6_cmp(const void *a, const void *b)
{
	const struct awf_slot_cidr6_key *x = a, *y = b;
	int c = cmp_u64(ntohl(x->slot), ntohl(y->slot));

	return c ? c :
		   dump_cidr_cmp(x->addr, y->addr, sizeof(x->addr),
				 x->prefixlen, y->prefixlen);
}

static int set_ip4_cmp(const void *a, const void *b)
{
	const struct awf_set_ip4_key *x = a, *y = b;
	int c = cmp_u64(x->set, y->set);

	return c ? c : memcmp(x->addr, y->addr, sizeof(x->addr));
}

static int set_ip6_cmp(const void *a, const void *b)
{
	const struct awf_set_ip6_key *x = a, *y = b;
	int c = cmp_u64(x->set, y->set);

	return c ? c : memcmp(x->addr, y->addr, sizeof(x->addr));
}

static int slot_lo_cmp(const void *a, const void *b)
{
	const struct awf_slot_lo_port_key *x = a, *y = b;
	int c = cmp_u64(x->slot, y->slot);

	if (!c)
		c = cmp_u64(x->proto, y->proto);
	return c ? c : cmp_u64(x->port, y->port);
}

/* The trie's prefixlen counts the 32 bits of the slot too. */
#define SLOT_BITS 32

static void cidrs_json(json_object *arr, const struct agent_pinned *ap,
		       uint32_t slot)
{
	const struct dump_trie tries[] = {
		{ .fd = ap->maps[AGENT_MAP_CIDR4],
		  .family = AF_INET,
		  .key_size = sizeof(struct awf_slot_cidr4_key),
		  .addr_off = offsetof(struct awf_slot_cidr4_key, addr),
		  .cmp = slot_cidr4_cmp,
		  .slot_bits = SLOT_BITS,
		  .slot = slot },
		{ .fd = ap->maps[AGENT_MAP_CIDR6],
		  .family = AF_INET6,
		  .key_size = sizeof(struct awf_slot_cidr6_key),
		  .addr_off = offsetof(struct awf_slot_cidr6_key, addr),
		  .cmp = slot_cidr6_cmp,
		  .slot_bits = SLOT_BITS,
		  .slot = slot },
	};

	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++)
		dump_trie_json(arr, &tries[i]);
}

/* Names come from the agent's names map, keyed by learned set and id. */
static void learned_all_json(json_object *arr, const struct agent_pinned *ap,
			     uint32_t set)
{
	int fd4 = ap->maps[AGENT_MAP_LEARNED4];
	int fd6 = ap->maps[AGENT_MAP_LEARNED6];
	int64_t now = (int64_t)learned_now_ns();
	struct awf_set_ip4_key *k4;
	struct awf_set_ip6_key *k6;
	struct awf_learned l;
	size_t n;

	k4 = dump_map_keys(fd4, sizeof(*k4), AWF_AGENT_MAX_LEARNED, set_ip4_cmp,
			   &n);
	for (size_t i = 0; i < n; i++)
		if (k4[i].set == set && !bpf_map_lookup_elem(fd4, &k4[i], &l))
			json_object_array_add(
				arr,
				dump_learned_json(AF_INET, k4[i].addr, &l,
						  ap->maps[AGENT_MAP_NAMES],
						  &(struct awf_set_name_key){
							  set, l.name_id },
						  now));
	free(k4);
	k6 = dump_map_keys(fd6, sizeof(*k6), AWF_AGENT_MAX_LEARNED, set_ip6_cmp,
			   &n);
	for (size_t i = 0; i < n; i++)
		if (k6[i].set == set && !bpf_map_lookup_elem(fd6, &k6[i], &l))
			json_object_array_add(
				arr,
				dump_learned_json(AF_INET6, k6[i].addr, &l,
						  ap->maps[AGENT_MAP_NAMES],
						  &(struct awf_set_name_key){
							  set, l.name_id },
						  now));
	free(k6);
}

static void lo_ports_json(json_object *arr, const struct agent_pinned *ap,
			  uint32_t slot)
{
	int fd = ap->maps[AGENT_MAP_LO_PORTS];
	struct awf_slot_lo_port_key *keys;
	uint32_t refs;
	size_t n;

	keys = dump_map_keys(fd, sizeof(*keys), AWF_AGENT_MAX_LO_PORTS,
			     slot_lo_cmp, &n);
	for (size_t i = 0; i < n; i++)
		if (keys[i].slot == slot &&
		    !bpf_map_lookup_elem(fd, &keys[i], &refs))
			json_object_array_add(
				arr, dump_lo_port_json(keys[i].port,
						       keys[i].proto, refs));
	free(keys);
}

static void slot_maps_json(json_object *o, const struct agent_pinned *ap,
			   uint32_t slot)
{
	json_object *cidrs = json_object_new_array();
	json_object *learned = json_object_new_array();
	json_object *lo = json_object_new_array();
	struct awf_config cfg;
	bool have_cfg = !agent_pinned_config(ap, slot, &cfg);

	json_object_object_add(o, "config",
			       have_cfg ? config_json(&cfg) : NULL);
	cidrs_json(cidrs, ap, slot);
	/* Set 0 is no set: a zeroed config is a free slot. */
	if (have_cfg && cfg.learned_set)
		learned_all_json(learned, ap, cfg.learned_set);
	lo_ports_json(lo, ap, slot);
	json_object_object_add(o, "cidrs", cidrs);
	json_object_object_add(o, "learned", learned);
	json_object_object_add(o, "lo_ports", lo);
}

json_object *agent_sandbox_json(const struct agent_pinned *ap,
				const struct agent_state_sandbox *sb, bool full)
{
	json_object *o = json_object_new_object();
	uint32_t bound;

	if (!o)
		return NULL;
	json_object_object_add(o, "slot", json_object_new_int((int)sb->slot));
	json_object_object_add(o, "kind", json_object_new_string(sb->kind));
	json_object_object_add(o, "cgroup", json_object_new_string(sb->cgroup));
	json_object_object_add(o, "cgroup_id",
			       json_object_new_uint64(sb->cgroup_id));
	json_object_object_add(
		o, "policy",
		sb->policy[0] ? json_object_new_string(sb->policy) : NULL);
	json_object_object_add(o, "dns_port",
			       json_object_new_int(sb->dns_port));
	json_object_object_add(
		o, "bound",
		json_object_new_boolean(
			!agent_pinned_slot_of(ap, sb->cgroup_id, &bound) &&
			bound == sb->slot));
	json_object_object_add(o, "counters", counters_json(ap, sb->slot));
	if (full)
		slot_maps_json(o, ap, sb->slot);
	return o;
}
