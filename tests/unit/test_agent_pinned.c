// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * agent_pinned.c: the names of the agent's pinned links, its state file,
 * the sandbox argument of `dump --agent`, and one sandbox's JSON read
 * from maps laid out as the agent's (that part needs root).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sys/stat.h>
#include <bpf/bpf.h>

#include "common/error.h"
#include "test_util.h"

#include "agent/agent_pinned.h"

/* ------------------------------------------------------------- links */

struct link_row {
	const char *name;
	int ok;
	enum agent_link_kind kind;
	uint64_t cgroup_id;
	const char *program;
	int ifindex;
};

#define CG(n, id, prog)                                          \
	{                                                        \
		.name = (n), .ok = 1, .kind = AGENT_LINK_CGROUP, \
		.cgroup_id = (id), .program = (prog)             \
	}
#define TC(n, idx)                                                            \
	{                                                                     \
		.name = (n), .ok = 1, .kind = AGENT_LINK_TC, .ifindex = (idx) \
	}
#define BAD(n)              \
	{                   \
		.name = (n) \
	}

static const struct link_row link_rows[] = {
	CG("cg-8123-awf_connect4", 8123, "awf_connect4"),
	CG("cg-1-a-b", 1, "a-b"),
	CG("cg-18446744073709551615-p", 18446744073709551615ULL, "p"),
	TC("tc-1", 1),
	TC("tc-42", 42),
	BAD("cg-18446744073709551616-p"), /* overflows */
	BAD("cg-12-"),
	BAD("cg--prog"),
	BAD("cg-12"),
	BAD("cg-1x-prog"),
	BAD("cg-+1-prog"),
	BAD("tc-"),
	BAD("tc-0"),
	BAD("tc-3x"),
	BAD("tc-2147483648"),
	/* program name too long */
	BAD("cg-1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
	BAD("xdp-1"),
	BAD("."),
};

static void test_link(void **state)
{
	const struct link_row *r = *state;
	struct agent_link l;

	if (!r->ok) {
		assert_int_equal(agent_link_parse(r->name, &l), -1);
		return;
	}
	assert_int_equal(agent_link_parse(r->name, &l), 0);
	assert_int_equal(l.kind, r->kind);
	if (r->kind == AGENT_LINK_TC) {
		assert_int_equal(l.ifindex, r->ifindex);
		return;
	}
	assert_true(l.cgroup_id == r->cgroup_id);
	assert_string_equal(l.program, r->program);
}

static void touch(const char *dir, const char *name)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
}

static void rm_dir(const char *dir, const char *const *names, size_t n)
{
	char path[256];

	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

static void test_links_list(void **state)
{
	static const char *const names[] = {
		"tc-7", "cg-20-b", "junk", "cg-3-z", "cg-20-a", "tc-1",
	};
	char dir[] = "/tmp/awf-test-links-XXXXXX";
	struct agent_link *l;
	size_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		touch(dir, names[i]);
	assert_int_equal(agent_links_list(dir, &l, &n), 0);
	rm_dir(dir, names, ARRAY_SIZE(names));
	assert_int_equal(n, 5);
	/* cgroups by id and program first, then interfaces by ifindex */
	assert_true(l[0].kind == AGENT_LINK_CGROUP && l[0].cgroup_id == 3);
	assert_string_equal(l[1].program, "a");
	assert_string_equal(l[2].program, "b");
	assert_true(l[2].cgroup_id == 20);
	assert_true(l[3].kind == AGENT_LINK_TC && l[3].ifindex == 1);
	assert_int_equal(l[4].ifindex, 7);
	free(l);
}

static void test_links_missing(void **state)
{
	struct agent_link *l = (void *)1;
	size_t n = 9;

	(void)state;
	assert_int_equal(agent_links_list("/nonexistent/awf", &l, &n), 0);
	assert_null(l);
	assert_int_equal(n, 0);
}

/* -------------------------------------------------------- state file */

static const char state_text[] =
	"{\"version\":1,\"agent_pid\":4242,\"sandboxes\":["
	"{\"kind\":\"default\",\"cgroup\":\"/awft\",\"cgroup_id\":100,"
	" \"policy\":\"deny\",\"slot\":1,\"dns_port\":40001},"
	"{\"kind\":\"selected\",\"cgroup\":\"/awft/web1\",\"cgroup_id\":"
	" 18446744073709551615,\"policy\":\"web\",\"slot\":2,"
	" \"dns_port\":40002},"
	"{\"kind\":\"run\",\"cgroup\":\"/awft/run-9\",\"cgroup_id\":102,"
	" \"slot\":3,\"dns_port\":40003,\"run_policy\":{\"version\":1}},"
	"{\"kind\":\"selected\",\"cgroup\":\"/bad\",\"cgroup_id\":5,\"slot\":0},"
	"{\"kind\":\"selected\",\"cgroup\":\"/bad\",\"cgroup_id\":5,"
	" \"slot\":4096},"
	"{\"kind\":\"selected\",\"cgroup\":\"/bad\",\"slot\":5},"
	"\"not an object\""
	"]}";

static void check_state(const struct agent_state_info *st)
{
	assert_int_equal(st->agent_pid, 4242);
	assert_int_equal(st->n, 3);
	assert_string_equal(st->sandboxes[0].kind, "default");
	assert_string_equal(st->sandboxes[0].cgroup, "/awft");
	assert_true(st->sandboxes[0].cgroup_id == 100);
	assert_string_equal(st->sandboxes[0].policy, "deny");
	assert_int_equal(st->sandboxes[0].slot, 1);
	assert_int_equal(st->sandboxes[0].dns_port, 40001);
	assert_true(st->sandboxes[1].cgroup_id == UINT64_MAX);
	assert_string_equal(st->sandboxes[2].kind, "run");
	assert_string_equal(st->sandboxes[2].policy, "");
	assert_int_equal(st->sandboxes[2].slot, 3);
}

static void test_state_parse(void **state)
{
	json_object *root = json_tokener_parse(state_text);
	struct agent_state_info st;
	char err[AWF_ERR_LEN];

	(void)state;
	assert_non_null(root);
	assert_int_equal(agent_state_parse(root, &st, err, sizeof(err)), 0);
	json_object_put(root);
	check_state(&st);
	agent_state_info_free(&st);
}

static void test_state_read(void **state)
{
	struct agent_state_info st;
	char path[64], err[AWF_ERR_LEN];

	(void)state;
	write_temp(path, state_text);
	assert_int_equal(agent_state_read(path, &st, err, sizeof(err)), 0);
	unlink(path);
	check_state(&st);
	agent_state_info_free(&st);
}

static void test_state_missing(void **state)
{
	struct agent_state_info st;
	char err[AWF_ERR_LEN];

	(void)state;
	assert_int_equal(agent_state_read("/nonexistent/state.json", &st, err,
					  sizeof(err)),
			 -1);
	assert_int_equal(errno, ENOENT);
	assert_err_has(err, "/nonexistent/state.json");
	assert_int_equal(st.n, 0);
}

struct bad_row {
	const char *name;
	const char *text;
};

static const struct bad_row bad_rows[] = {
	{ "state: not JSON", "{\"sandboxes\": [" },
	{ "state: no sandboxes", "{\"version\":1,\"agent_pid\":1}" },
	{ "state: sandboxes not an array", "{\"sandboxes\":{}}" },
	{ "state: an array", "[]" },
};

static void test_state_bad(void **state)
{
	const struct bad_row *r = *state;
	struct agent_state_info st;
	char path[64], err[AWF_ERR_LEN];

	write_temp(path, r->text);
	assert_int_equal(agent_state_read(path, &st, err, sizeof(err)), -1);
	unlink(path);
	assert_int_equal(errno, EINVAL);
	assert_err_has(err, path);
}

static void test_state_no_pid(void **state)
{
	json_object *root =
		json_tokener_parse("{\"agent_pid\":-3,\"sandboxes\":[]}");
	struct agent_state_info st;
	char err[AWF_ERR_LEN];

	(void)state;
	assert_int_equal(agent_state_parse(root, &st, err, sizeof(err)), 0);
	json_object_put(root);
	assert_int_equal(st.agent_pid, 0);
	assert_int_equal(st.n, 0);
	agent_state_info_free(&st);
}

struct find_row {
	const char *name;
	const char *what;
	int slot; /* 0: none */
};

static const struct find_row find_rows[] = {
	{ "find: slot-2", "slot-2", 2 },
	{ "find: slot-3", "slot-3", 3 },
	{ "find: slot-9 absent", "slot-9", 0 },
	{ "find: slot-x", "slot-x", 0 },
	{ "find: slot-", "slot-", 0 },
	{ "find: cgroup path", "/awft/web1", 2 },
	{ "find: without the slash", "awft/web1", 2 },
	{ "find: the attach point", "/awft", 1 },
	{ "find: a prefix is not enough", "/awft/web", 0 },
	{ "find: unknown cgroup", "/other", 0 },
};

static void test_find(void **state)
{
	const struct find_row *r = *state;
	json_object *root = json_tokener_parse(state_text);
	const struct agent_state_sandbox *sb;
	struct agent_state_info st;
	char err[AWF_ERR_LEN];

	assert_int_equal(agent_state_parse(root, &st, err, sizeof(err)), 0);
	json_object_put(root);
	sb = agent_state_find(&st, r->what);
	if (r->slot)
		assert_int_equal(sb ? (int)sb->slot : -1, r->slot);
	else
		assert_null(sb);
	agent_state_info_free(&st);
}

static void test_pid_is_awf(void **state)
{
	(void)state;
	/* This process is a test binary, not awf-bpf. */
	assert_false(agent_pid_is_awf(getpid()));
	assert_false(agent_pid_is_awf(0));
	assert_false(agent_pid_is_awf(-1));
	assert_false(agent_pid_is_awf(INT32_MAX));
}

/* ------------------------------------------------------ maps (root) */

#define SLOT 7
#define SET 77

static json_object *member(json_object *o, const char *key)
{
	json_object *v = NULL;

	assert_true(json_object_object_get_ex(o, key, &v));
	return v;
}

static int lpm(size_t key_size)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_NO_PREALLOC);

	return bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "awf_test", key_size,
			      sizeof(struct awf_rule), 16, &opts);
}

static int hash(size_t key_size, size_t value_size)
{
	return bpf_map_create(BPF_MAP_TYPE_HASH, "awf_test", key_size,
			      value_size, 16, NULL);
}

static void put(int fd, const void *key, const void *val)
{
	assert_int_equal(bpf_map_update_elem(fd, key, val, BPF_ANY), 0);
}

/* Maps laid out as the agent's: the entries of SLOT and of a neighbour. */
static void make_maps(struct agent_pinned *ap)
{
	struct awf_config cfg = { .dns_port = 40007,
				  .ipv6_enabled = 1,
				  .localhost_mode = AWF_LO_DENY,
				  .learned_set = SET };
	struct awf_slot_cidr4_key k4 = { .prefixlen = 32 + 32,
					 .slot = htonl(SLOT),
					 .addr = { 127, 0, 0, 2 } };
	struct awf_slot_cidr6_key k6 = { .prefixlen = 32 + 128,
					 .slot = htonl(SLOT + 1) };
	struct awf_rule rule = { .id = 3, .kind = AWF_RULE_ALLOW };
	struct awf_learned l = { .expires_ns = 1, .name_id = 9, .rule_id = 1 };
	struct awf_set_ip4_key a4 = { .set = SET, .addr = { 192, 0, 2, 1 } };
	struct awf_slot_lo_port_key lo = { .slot = SLOT,
					   .port = 8080,
					   .proto = 6 };
	uint32_t slot = SLOT, key, refs = 1;
	uint64_t val, cg = 555;

	/* The name check's maps: not read for a sandbox's JSON. */
	for (int m = 0; m < AGENT_MAP_N; m++)
		ap->maps[m] = -1;
	ap->slots = hash(8, 4);
	ap->configs = bpf_map_create(BPF_MAP_TYPE_ARRAY, "awf_test", 4,
				     sizeof(cfg), AWF_MAX_SLOTS, NULL);
	ap->counters = bpf_map_create(BPF_MAP_TYPE_ARRAY, "awf_test", 4, 8,
				      AWF_MAX_SLOTS * AWF_C_MAX, NULL);
	ap->maps[AGENT_MAP_CIDR4] = lpm(sizeof(k4));
	ap->maps[AGENT_MAP_CIDR6] = lpm(sizeof(k6));
	ap->maps[AGENT_MAP_LEARNED4] = hash(sizeof(a4), sizeof(l));
	ap->maps[AGENT_MAP_LEARNED6] =
		hash(sizeof(struct awf_set_ip6_key), sizeof(l));
	ap->maps[AGENT_MAP_LO_PORTS] = hash(sizeof(lo), 4);
	/* no name learned: every learned entry without one */
	ap->maps[AGENT_MAP_NAMES] =
		hash(sizeof(struct awf_set_name_key), sizeof(struct awf_name));
	assert_true(ap->slots >= 0 && ap->configs >= 0 && ap->counters >= 0);
	for (int m = 0; m <= AGENT_MAP_NAMES; m++)
		assert_true(ap->maps[m] >= 0);
	put(ap->slots, &cg, &slot);
	put(ap->configs, &slot, &cfg);
	/* Counters of SLOT; the next slot's must not leak in. */
	key = SLOT * AWF_C_MAX + AWF_C_CONNECT_DENIED;
	val = 5;
	put(ap->counters, &key, &val);
	key = SLOT * AWF_C_MAX + AWF_C_DNS_BLOCKED;
	val = 2;
	put(ap->counters, &key, &val);
	key = (SLOT + 1) * AWF_C_MAX + AWF_C_CONNECT_DENIED;
	val = 99;
	put(ap->counters, &key, &val);
	put(ap->maps[AGENT_MAP_CIDR4], &k4, &rule);
	k4.slot = htonl(SLOT + 1); /* the neighbour's */
	k4.addr[3] = 3;
	put(ap->maps[AGENT_MAP_CIDR4], &k4, &rule);
	put(ap->maps[AGENT_MAP_CIDR6], &k6, &rule);
	put(ap->maps[AGENT_MAP_LEARNED4], &a4, &l);
	a4.set = SET + 1;
	a4.addr[3] = 2;
	put(ap->maps[AGENT_MAP_LEARNED4], &a4, &l);
	put(ap->maps[AGENT_MAP_LO_PORTS], &lo, &refs);
	lo.slot = SLOT + 1;
	lo.port = 9090;
	put(ap->maps[AGENT_MAP_LO_PORTS], &lo, &refs);
}

static void check_full(json_object *o)
{
	json_object *c = member(o, "counters"), *cfg = member(o, "config");
	json_object *cidr, *learned, *lo;

	assert_int_equal(json_object_get_int(member(o, "slot")), SLOT);
	assert_string_equal(json_object_get_string(member(o, "policy")), "web");
	assert_true(json_object_get_boolean(member(o, "bound")));
	assert_int_equal(json_object_get_int(member(c, "connect_denied")), 5);
	assert_int_equal(json_object_get_int(member(c, "dns_blocked")), 2);
	assert_int_equal(json_object_get_int(member(cfg, "dns_endpoint_port")),
			 40007);
	assert_int_equal(json_object_get_int(member(cfg, "learned_set")), SET);
	assert_string_equal(json_object_get_string(
				    member(member(cfg, "localhost"), "mode")),
			    "deny");
	assert_true(json_object_get_boolean(member(cfg, "ipv6")));
	assert_false(json_object_get_boolean(member(cfg, "unrestricted")));
	/* Only the slot's entries, with the slot's 32 bits off the prefix. */
	assert_int_equal(json_object_array_length(member(o, "cidrs")), 1);
	cidr = json_object_array_get_idx(member(o, "cidrs"), 0);
	assert_string_equal(json_object_get_string(member(cidr, "cidr")),
			    "127.0.0.2/32");
	assert_string_equal(json_object_get_string(member(cidr, "kind")),
			    "allow");
	assert_int_equal(json_object_get_int(member(cidr, "rule_id")), 3);
	assert_int_equal(json_object_array_length(member(o, "learned")), 1);
	learned = json_object_array_get_idx(member(o, "learned"), 0);
	assert_string_equal(json_object_get_string(member(learned, "address")),
			    "192.0.2.1");
	assert_int_equal(json_object_get_int(member(learned, "name_id")), 9);
	assert_null(member(learned, "name"));
	assert_true(json_object_get_boolean(member(learned, "expired")));
	assert_int_equal(json_object_array_length(member(o, "lo_ports")), 1);
	lo = json_object_array_get_idx(member(o, "lo_ports"), 0);
	assert_int_equal(json_object_get_int(member(lo, "port")), 8080);
	assert_string_equal(json_object_get_string(member(lo, "proto")), "tcp");
}

static void test_sandbox_json(void **state)
{
	struct agent_state_sandbox sb = {
		.kind = "selected",
		.cgroup = "/awft/web1",
		.cgroup_id = 555,
		.policy = "web",
		.slot = SLOT,
		.dns_port = 40007,
	};
	struct agent_pinned ap;
	uint32_t other = SLOT + 1;
	uint64_t cg = 555;
	json_object *o;

	(void)state;
	if (geteuid()) {
		skip();
		return;
	}
	make_maps(&ap);
	o = agent_sandbox_json(&ap, &sb, true);
	assert_non_null(o);
	check_full(o);
	json_object_put(o);

	/* Status: no config nor entries; a cgroup moved on is unbound. */
	put(ap.slots, &cg, &other);
	o = agent_sandbox_json(&ap, &sb, false);
	assert_false(json_object_get_boolean(member(o, "bound")));
	assert_false(json_object_object_get_ex(o, "config", NULL));
	assert_false(json_object_object_get_ex(o, "cidrs", NULL));
	json_object_put(o);

	/* A free slot (zeroed config): no learned set, nothing listed. */
	sb.slot = SLOT + 2;
	o = agent_sandbox_json(&ap, &sb, true);
	assert_int_equal(json_object_array_length(member(o, "cidrs")), 0);
	assert_int_equal(json_object_array_length(member(o, "learned")), 0);
	assert_int_equal(json_object_array_length(member(o, "lo_ports")), 0);
	json_object_put(o);
	agent_pinned_close(&ap);
}

int main(void)
{
	struct test_list l = { 0 };

	TL_ROWS(&l, test_link, link_rows);
	tl_add(&l, "links: listed and sorted", test_links_list, NULL);
	tl_add(&l, "links: no directory", test_links_missing, NULL);
	tl_add(&l, "state: parsed", test_state_parse, NULL);
	tl_add(&l, "state: read from a file", test_state_read, NULL);
	tl_add(&l, "state: missing", test_state_missing, NULL);
	TL_ROWS(&l, test_state_bad, bad_rows);
	tl_add(&l, "state: no agent pid", test_state_no_pid, NULL);
	TL_ROWS(&l, test_find, find_rows);
	tl_add(&l, "pid: awf-bpf or not", test_pid_is_awf, NULL);
	tl_add(&l, "sandbox JSON from maps shaped as the agent's",
	       test_sandbox_json, NULL);
	return tl_run("agent_pinned", &l);
}
