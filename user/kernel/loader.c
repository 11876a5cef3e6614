// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/error.h"
#include "common/placement.h"
#include "kernel/kernel_check.h"
#include "kernel/loader.h" /* before the skeletons: it defines struct awf_config */
#include "awf_core.lskel.h"
#include "awf_group_core.h"
#include "awf_group_a.h"
#include "awf_group_b.h"
#include "awf_group_c.h"
#include "awf_group_d.h"
#include "awf_group_e.h"
#include "awf_group_f.h"
#include "awf_group_g.h"
#include "awf_group_names.h"
/* skel_internal.h's, for its own functions above: ours is error.h's. */
#undef set_err
#include "common/log.h"

/*
 * The programs of the core and the groups (the Makefile) with where they
 * attach: a light skeleton knows neither its programs' section nor, for
 * the groups, anything but their names. Checked against the skeleton and
 * the groups at compile time below, so that a program added to bpf/
 * cannot be loaded and silently left unattached (and that every program
 * of the object is in one group: tests/bpf/test_loader_vm_kernel.c).
 */
#define AWF_CORE_PROGS(X) X(awf_recvmsg4, BPF_CGROUP_UDP4_RECVMSG)
/* Groups A to G: every policy's. */
#define AWF_AB_PROGS(X)                                   \
	X(awf_connect4, BPF_CGROUP_INET4_CONNECT)         \
	X(awf_connect6, BPF_CGROUP_INET6_CONNECT)         \
	X(awf_sendmsg4, BPF_CGROUP_UDP4_SENDMSG)          \
	X(awf_sendmsg6, BPF_CGROUP_UDP6_SENDMSG)          \
	X(awf_recvmsg6, BPF_CGROUP_UDP6_RECVMSG)          \
	X(awf_getpeername4, BPF_CGROUP_INET4_GETPEERNAME) \
	X(awf_getpeername6, BPF_CGROUP_INET6_GETPEERNAME) \
	X(awf_sock_create, BPF_CGROUP_INET_SOCK_CREATE)   \
	X(awf_bind4, BPF_CGROUP_INET4_BIND)               \
	X(awf_bind6, BPF_CGROUP_INET6_BIND)               \
	X(awf_post_bind4, BPF_CGROUP_INET4_POST_BIND)     \
	X(awf_post_bind6, BPF_CGROUP_INET6_POST_BIND)     \
	X(awf_egress, BPF_CGROUP_INET_EGRESS)
#define AWF_NAMES_PROGS(X)                  \
	X(awf_sockops, BPF_CGROUP_SOCK_OPS) \
	X(awf_first_bytes, BPF_SK_MSG_VERDICT)

/* One map a line: clang-format would refold the list on every run. */
/* clang-format off */
#define AWF_MAPS(X) \
	X(cidr4) \
	X(cidr6) \
	X(cidr_exact4) \
	X(cidr_exact6) \
	X(cidr_ports) \
	X(cidr_cache) \
	X(dst_memo) \
	X(learned4) \
	X(learned6) \
	X(counters) \
	X(host_addrs4) \
	X(host_addrs6) \
	X(names) \
	X(domains) \
	X(meta) \
	X(events) \
	X(sk_state) \
	X(name_rules) \
	X(exact_names) \
	X(first_bytes_scratch) \
	X(name_build_scratch) \
	X(name_socks) \
	X(rodata)
/* clang-format on */

#define COUNT(...) +1
#define N_OF(array) (sizeof(array) / sizeof((array)[0]))
_Static_assert(sizeof(((struct awf_core_lskel *)0)->progs) ==
		       (0 AWF_CORE_PROGS(COUNT)) * sizeof(struct bpf_prog_desc),
	       "a program of the core is missing from AWF_CORE_PROGS");
_Static_assert(N_OF(awf_group_a_progs) + N_OF(awf_group_b_progs) +
			       N_OF(awf_group_c_progs) +
			       N_OF(awf_group_d_progs) +
			       N_OF(awf_group_e_progs) +
			       N_OF(awf_group_f_progs) +
			       N_OF(awf_group_g_progs) ==
		       (0 AWF_AB_PROGS(COUNT)),
	       "a program of groups A to G is missing from AWF_AB_PROGS");
_Static_assert(N_OF(awf_group_names_progs) == (0 AWF_NAMES_PROGS(COUNT)),
	       "a program of group NAMES is missing from AWF_NAMES_PROGS");
_Static_assert(sizeof(((struct awf_core_lskel *)0)->maps) ==
		       (0 AWF_MAPS(COUNT)) * sizeof(struct bpf_map_desc),
	       "a map of awf.bpf.c is missing from AWF_MAPS");
/* The core's loader program (awf_group_core.h) reads bpftool's layout. */
_Static_assert(N_OF(awf_group_core_maps) == (0 AWF_MAPS(COUNT)) &&
		       N_OF(awf_group_core_progs) == (0 AWF_CORE_PROGS(COUNT)),
	       "the core's loader program and skeleton disagree");

#define PROG_TYPE(name, attach) { #name, attach },
/* Where the groups' programs attach, by name. */
static const struct {
	const char *name;
	int type;
} group_prog_types[] = { AWF_AB_PROGS(PROG_TYPE) AWF_NAMES_PROGS(PROG_TYPE) };

/* Bytes of verifier log kept for --log-level debug. */
#define VERIFIER_LOG_SIZE (4U << 20)

#define HELD_LINES 16
#define HELD_LINE_LEN 1024

/*
 * libbpf's warnings during a load wait here: when the load fails because
 * the kernel lacks something, kernel_check() names it in one line and
 * they are dropped; otherwise they are shown.
 */
static struct {
	bool on;
	size_t n, lost;
	char line[HELD_LINES][HELD_LINE_LEN];
} held;

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	char line[1024];
	enum log_level lvl =
		level == LIBBPF_WARN ? LOG_LVL_WARN : LOG_LVL_DEBUG;

	if (lvl < log_threshold)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	if (held.on && lvl == LOG_LVL_WARN) {
		if (held.n < HELD_LINES)
			snprintf(held.line[held.n++], HELD_LINE_LEN, "%s",
				 line);
		else
			held.lost++;
		return 0;
	}
	log_msg(lvl, "libbpf: %s", line);
	return 0;
}

void loader_hold_warnings(void)
{
	held.on = true;
	held.n = 0;
	held.lost = 0;
}

void loader_release_warnings(bool show)
{
	held.on = false;
	for (size_t i = 0; show && i < held.n; i++)
		log_warn("libbpf: %s", held.line[i]);
	if (show && held.lost)
		log_warn("libbpf: (%zu more lines)", held.lost);
	held.n = 0;
	held.lost = 0;
}

int loader_explain_failure(bool agent, char *err, size_t errlen)
{
	if (kernel_check(agent, err, errlen) == 0) {
		loader_release_warnings(true);
		return 0;
	}
	loader_release_warnings(false);
	return -1;
}

void loader_setup_logging(void)
{
	libbpf_set_print(libbpf_print);
}

/* The core's fds, by name. */
#define NOTE_PROG(name, attach)                                        \
	l->progs[l->n_progs++] =                                       \
		(struct loader_prog){ #name, skel->progs.name.prog_fd, \
				      attach };
#define NOTE_MAP(name)         \
	l->maps[l->n_maps++] = \
		(struct loader_map){ #name, skel->maps.name.map_fd };

static void note_core(struct loader *l)
{
	struct awf_core_lskel *skel = l->core;

	if (l->core_noted)
		return;
	l->core_noted = true;
	AWF_CORE_PROGS(NOTE_PROG)
	AWF_MAPS(NOTE_MAP)
	l->cfg = &skel->rodata->awf_cfg;
}

static int group_prog_type(const char *name)
{
	for (size_t i = 0; i < N_OF(group_prog_types); i++)
		if (!strcmp(group_prog_types[i].name, name))
			return group_prog_types[i].type;
	return -1;
}

/* A group's programs; -1 if one has no attach type (compile-time checked). */
static int note_group(struct loader *l, const struct group_load *g)
{
	for (size_t i = 0; i < g->gl->n_progs; i++) {
		const char *name = g->gl->progs[i];
		int type = group_prog_type(name);

		if (type < 0 || l->n_progs == LOADER_MAX_PROGS)
			return -1;
		l->progs[l->n_progs++] =
			(struct loader_prog){ name, group_load_prog_fd(g, i),
					      type };
	}
	return 0;
}

/* The verifier's last words, line by line, for --log-level debug. */
static void print_verifier_log(const char *log)
{
	while (*log) {
		size_t n = strcspn(log, "\n");

		log_debug("verifier: %.*s", (int)n, log);
		log += n + (log[n] == '\n');
	}
}

/* Log buffer i (0: the core's), for --log-level debug; NULL otherwise. */
static char *verifier_log(struct loader *l, size_t i)
{
	if (log_threshold > LOG_LVL_DEBUG)
		return NULL;
	l->verifier_log[i] = calloc(1, VERIFIER_LOG_SIZE);
	return l->verifier_log[i];
}

static void set_core_log(struct loader *l, struct bpf_loader_ctx *ctx)
{
	char *log = verifier_log(l, 0);

	if (!log)
		return;
	ctx->log_level = 1;
	ctx->log_size = VERIFIER_LOG_SIZE;
	ctx->log_buf = (uintptr_t)log;
}

/*
 * The maps only names fill: a hash map allocates its bucket array (1 MiB
 * at 65536 entries) when it is created, so a policy without any domain
 * gets them with one entry (nothing ever writes them then). name_socks
 * is for the name check alone, which the lean build does not have.
 */
#define AWF_NAME_MAPS(X) \
	X(learned4) X(learned6) X(names) X(exact_names) X(domains)
#define SHRINK_MAP(name) skel->maps.name.max_entries = 1;

/*
 * The loopback ports the sandbox serves on matter to localhost "sandbox"
 * mode only: elsewhere post_bind stays unattached (it would run for every
 * bound socket and find nothing to do).
 */
static bool serves_loopback(const struct awf_config *cfg)
{
	return cfg->localhost_mode == AWF_LO_SANDBOX;
}

/* (A light skeleton loads every program: those not needed stay unattached.) */
static bool hook_needed(const struct awf_config *cfg, int type)
{
	if (serves_loopback(cfg))
		return true;
	return type != BPF_CGROUP_INET4_POST_BIND &&
	       type != BPF_CGROUP_INET6_POST_BIND;
}

/* A map's size for n entries: the kernel refuses max_entries 0. */
static uint32_t map_size(size_t n)
{
	return n ? (uint32_t)n : 1;
}

/*
 * The CIDR maps at the size of the policy's table: an array map is
 * allocated whole when it is created, and the tries are written once,
 * before the sandbox has a process. The exact tables' masks go with
 * them: the programs probe the tables these sizes make.
 */
#define SIZE_CIDR_MAPS(skel, t, sz)                                            \
	do {                                                                   \
		(skel)->maps.cidr4.max_entries = map_size((sz)->trie4);        \
		(skel)->maps.cidr6.max_entries = map_size((sz)->trie6);        \
		(skel)->maps.cidr_exact4.max_entries = map_size((sz)->exact4); \
		(skel)->maps.cidr_exact6.max_entries = map_size((sz)->exact6); \
		(skel)->maps.cidr_ports.max_entries = map_size((sz)->ports);   \
		(skel)->rodata->exact4_mask = (t)->exact4.mask;                \
		(skel)->rodata->exact6_mask = (t)->exact6.mask;                \
	} while (0)

/*
 * The backstop's memo has a slot per CPU (bpf/run_maps.bpf.h). Without
 * the count, one: the other CPUs' packets take the full decision, no
 * verdict changes.
 */
static uint32_t memo_slots(void)
{
	int cpus = libbpf_num_possible_cpus();

	if (cpus > 0)
		return (uint32_t)cpus;
	log_warn(
		"the number of possible CPUs: %s; the packet memo gets one slot",
		strerror(-cpus));
	return 1;
}

/*
 * This host's addresses of a family: `run` writes them once, after load
 * (loader_fill_host_addrs()), so its maps are created at their number. A
 * hash map's bucket array is allocated when it is created, and at 4096
 * entries (64 KiB) it is past kmalloc's limit: vmalloc, about 0.2 ms a
 * map here against 20 us.
 */
static uint32_t host_addrs_size(const struct policy_cidr *host, size_t n,
				int family)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += host[i].family == family;
	return map_size(k < AWF_MAX_HOST_ADDRS ? k : AWF_MAX_HOST_ADDRS);
}

/*
 * .rodata is written before load and frozen by the core's loader
 * program: the programs cannot be reconfigured, and the verifier prunes
 * what the configuration disables. name_socks: max_entries 0 is as bpf/
 * declares it, for the name check; without it, one entry nothing uses.
 */
static int open_core(struct loader *l, const struct awf_config *cfg,
		     const struct rule_table *t, const struct policy_cidr *host,
		     size_t n_host, bool check_names, bool names)
{
	struct awf_core_lskel *skel;
	struct rules_sizes sz;

	skel = l->core = awf_core_lskel__open();
	l->core_blob = group_blob_alloc(awf_group_core.data_sz);
	if (!skel || !l->core_blob)
		return -1;
	memcpy((void *)&skel->rodata->awf_cfg, cfg, sizeof(*cfg));
	rules_sizes(t, &sz);
	SIZE_CIDR_MAPS(skel, t, &sz);
	skel->maps.host_addrs4.max_entries =
		host_addrs_size(host, n_host, AF_INET);
	skel->maps.host_addrs6.max_entries =
		host_addrs_size(host, n_host, AF_INET6);
	skel->maps.dst_memo.max_entries = memo_slots();
	skel->rodata->learns = names || check_names;
	skel->rodata->allows_cidrs = t->allows;
	if (!skel->rodata->learns) {
		AWF_NAME_MAPS(SHRINK_MAP)
	}
	skel->maps.name_socks.max_entries = check_names ? 0 : 1;
	set_core_log(l, &skel->ctx);
	return 0;
}

static int open_group(struct loader *l, const struct group_loader *gl)
{
	size_t i = l->n_groups;

	if (group_load_open(&l->groups[i], gl, verifier_log(l, 1 + i),
			    VERIFIER_LOG_SIZE))
		return -1;
	l->n_groups++;
	return 0;
}

/* Every policy's, largest first (the Makefile's GROUP_PROGS_*). */
static int open_base_groups(struct loader *l)
{
	return open_group(l, &awf_group_a) || open_group(l, &awf_group_b) ||
	       open_group(l, &awf_group_c) || open_group(l, &awf_group_d) ||
	       open_group(l, &awf_group_e) || open_group(l, &awf_group_f) ||
	       open_group(l, &awf_group_g);
}

/*
 * NAMES for the name check, and the order in which the lanes take the
 * groups: largest first (NAMES the largest of all, then A to G, 0.2-1.1
 * ms of the verifier's each here), each lane taking the largest left as
 * it is done (placement_jobs_claim()). The caller's own lane starts
 * after its set-up, 0.4-2 ms after the other: with the smallest groups
 * last, whichever ends first finds one to take until both end close
 * together. (With four groups of 1-1.3 ms, and the caller taking the
 * smallest left, they ended 0.47 ms apart, median of 50 runs; now 0.09.)
 */
static int open_lanes(struct loader *l, bool check_names)
{
	size_t base = l->n_groups;

	if (check_names) {
		if (open_group(l, &awf_group_names))
			return -1;
		l->order[l->n_order++] = base;
	}
	for (size_t i = 0; i < base; i++)
		l->order[l->n_order++] = i;
	placement_jobs_init(&l->jobs, (uint32_t)l->n_order);
	return 0;
}

#define NOTE_HOOK(name, attach)       \
	if (hook_needed(cfg, attach)) \
		l->hooks[l->n_hooks++] = attach;

/* What loader_attach() will attach to, known before the load. */
static void note_hooks(struct loader *l, const struct awf_config *cfg,
		       bool check_names)
{
	AWF_CORE_PROGS(NOTE_HOOK)
	AWF_AB_PROGS(NOTE_HOOK)
	if (check_names) {
		AWF_NAMES_PROGS(NOTE_HOOK)
	}
}

const int *loader_hooks(const struct loader *l, size_t *n)
{
	*n = l->n_hooks;
	return l->hooks;
}

/* What any configuration needs: the groups and the lanes' eventfds. */
static int open_loader(struct loader *l, char *err, size_t errlen)
{
	memset(l, 0, sizeof(*l));
	l->cgroup_fd = -1;
	loader_vm_btf_init(&l->group_btf);
	l->lanes[0].loader = l->lanes[1].loader = l;
	for (size_t i = 0; i < 2; i++)
		l->lanes[i].prune_scratch =
			group_blob_alloc(sizeof(struct prune_scratch));
	l->lanes[0].cpu = l->lanes[1].cpu = -1;
	l->core_loaded_fd = eventfd(0, EFD_CLOEXEC | EFD_SEMAPHORE);
	if (l->core_loaded_fd < 0) {
		set_err(err, errlen, "loading BPF programs: eventfd: %s",
			strerror(errno));
		loader_close(l);
		return -1;
	}
	if (!open_base_groups(l))
		return 0;
	loader_close(l);
	return set_err(err, errlen, "loading BPF programs: out of memory");
}

int loader_open_core(struct loader *l, const struct awf_config *cfg,
		     const struct rule_table *rules,
		     const struct policy_cidr *host, size_t n_host,
		     bool check_names, bool names, char *err, size_t errlen)
{
	l->exact4_mask = rules->exact4.mask;
	l->exact6_mask = rules->exact6.mask;
	l->allows_cidrs = rules->allows;
	note_hooks(l, cfg, check_names);
	if (!open_lanes(l, check_names) &&
	    !open_core(l, cfg, rules, host, n_host, check_names, names))
		return 0;
	loader_close(l);
	return set_err(err, errlen, "loading BPF programs: out of memory");
}

void loader_size_name_maps(struct loader *l, size_t n_domains, bool exact)
{
	struct awf_core_lskel *skel = l->core;

	skel->maps.domains.max_entries = map_size(
		n_domains < AWF_MAX_DOMAINS ? n_domains : AWF_MAX_DOMAINS);
	if (!exact)
		skel->maps.exact_names.max_entries = 1;
}

int loader_open(struct loader *l, const struct awf_config *cfg,
		const struct rule_table *rules, const struct policy_cidr *host,
		size_t n_host, bool check_names, bool names, char *err,
		size_t errlen)
{
	return open_loader(l, err, errlen) ||
	       loader_open_core(l, cfg, rules, host, n_host, check_names, names,
				err, errlen);
}

/* group_load_run()'s: the core's map fds by name. */
static int core_map_fd(const char *name, const void *arg)
{
	const struct awf_core_lskel *skel = arg;

#define MAP_BY_NAME(map)         \
	if (!strcmp(name, #map)) \
		return skel->maps.map.map_fd;
	AWF_MAPS(MAP_BY_NAME)
#undef MAP_BY_NAME
	return -1;
}

/*
 * The core's load ended: the second lane may go on (or give up), and so
 * may the caller in loader_wait_core(): one read each of the semaphore.
 */
static void core_loaded(struct loader *l, int ret)
{
	uint64_t two = 2;

	__atomic_store_n(&l->core_ret, ret, __ATOMIC_RELEASE);
	/* cannot fail: an eventfd of ours, far from its maximum */
	if (write(l->core_loaded_fd, &two, sizeof(two)) < 0)
		__atomic_store_n(&l->core_ret, -errno, __ATOMIC_RELEASE);
}

static int wait_core(struct loader *l)
{
	uint64_t n;

	while (read(l->core_loaded_fd, &n, sizeof(n)) < 0)
		if (errno != EINTR)
			return -errno;
	return __atomic_load_n(&l->core_ret, __ATOMIC_ACQUIRE);
}

/*
 * What the core's light skeleton does in awf_core_lskel__load(), with its
 * loader program run here (group_loader_run()) on l->core_blob: the
 * maps, the core's programs, then .rodata mapped read-only where the
 * skeleton had its initial value.
 */
static int load_core(struct loader *l)
{
	struct awf_core_lskel *skel = l->core;
	size_t rodata_sz = sizeof(*skel->rodata), page = 4096;
	int ret;

	ret = group_loader_run(&awf_group_core, l->core_blob, &skel->ctx, NULL);
	if (ret)
		return ret;
	skel->rodata =
		skel_finalize_map_data(&skel->maps.rodata.initial_value,
				       (rodata_sz + page - 1) / page * page,
				       PROT_READ, skel->maps.rodata.map_fd);
	return skel->rodata ? 0 : -ENOMEM;
}

/*
 * A lane's work. System calls only (the generated loaders are bpf(),
 * mmap() and close()): no allocation, no stdio, no log line, nothing
 * that takes a lock of the C library. It may run on a thread of its own
 * while the caller clones the sandbox (a raw clone3(), which takes no
 * fork lock). 0 or -errno.
 */
static int run_lane(struct loader *l, struct loader_lane *lane)
{
	struct group_prune prune = { .scratch = lane->prune_scratch };
	uint32_t next;
	int ret;

	if (lane == &l->lanes[0]) {
		ret = load_core(l);
		core_loaded(l, ret);
	} else {
		ret = wait_core(l);
	}
	prune.rodata = l->core->rodata;
	prune.rodata_sz = sizeof(*l->core->rodata);
	while (!ret && !__atomic_load_n(&l->group_failed, __ATOMIC_RELAXED) &&
	       placement_jobs_claim(&l->jobs, &next))
		ret = group_load_run(&l->groups[l->order[next]], core_map_fd,
				     l->core, &prune, &l->group_btf);
	/* The other lane takes no more: the load has failed. */
	if (ret)
		__atomic_store_n(&l->group_failed, true, __ATOMIC_RELAXED);
	return ret;
}

/* The first failure, and who had it ("" for the core or a lane). */
static int load_result(const struct loader *l, const char **who)
{
	*who = "";
	if (l->core_ret)
		return l->core_ret;
	for (size_t i = 0; i < l->n_groups; i++)
		if (l->groups[i].ran && l->groups[i].ret) {
			*who = l->groups[i].gl->name;
			return l->groups[i].ret;
		}
	return l->lanes[0].ret ? l->lanes[0].ret : l->lanes[1].ret;
}

static void print_verifier_logs(struct loader *l)
{
	for (size_t i = 0; i <= l->n_groups; i++)
		if (l->verifier_log[i])
			print_verifier_log(l->verifier_log[i]);
}

/*
 * Explains a failure (kernel_check()); notes every fd otherwise. A failed
 * load is left to loader_close(): fds lent since loader_wait_core() (the
 * counters, the ring buffer) stay valid until their borrowers are done.
 */
static int loader_finish(struct loader *l, char *err, size_t errlen)
{
	const char *who;
	int ret = load_result(l, &who);

	if (ret)
		print_verifier_logs(l);
	for (size_t i = 0; i < N_OF(l->verifier_log); i++) {
		free(l->verifier_log[i]);
		l->verifier_log[i] = NULL;
	}
	if (!ret) {
		note_core(l);
		for (size_t i = 0; i < l->n_groups; i++)
			if (note_group(l, &l->groups[i]))
				ret = -EINVAL;
	}
	if (!ret)
		return 0;
	if (loader_explain_failure(false, err, errlen))
		return -1;
	return set_err(
		err, errlen,
		"loading BPF programs%s%s: %s (run with --log-level debug for the verifier log)",
		who[0] ? ", group " : "", who, strerror(-ret));
}

/* A lane's thread: run_lane() and nothing else. */
static void *lane_thread(void *arg)
{
	struct loader_lane *lane = arg;

	lane->ret = run_lane(lane->loader, lane);
	return NULL;
}

/*
 * A lane thread's stack, and with it the thread's TLS (glibc puts it at
 * the stack's top): a mapping of its own, out of the sandbox's clone like
 * the loaders' data (group_blob_alloc()). On glibc's, every page the lane
 * wrote after the clone took a copy-on-write fault, and a TLB shootdown
 * of the other CPU with it. Its lowest page is a guard. NULL: glibc's.
 */
#define LANE_STACK (256U << 10)
#define LANE_GUARD 4096U

static void *lane_stack_alloc(void)
{
	void *stack = group_blob_alloc(LANE_STACK);

	if (stack && mprotect(stack, LANE_GUARD, PROT_NONE)) {
		group_blob_free(stack, LANE_STACK);
		return NULL;
	}
	return stack;
}

/*
 * No signal for these threads: a stop signal is the main thread's to
 * take (signalfd), and one the main thread has not yet blocked must kill
 * the whole process, as it would without them. A lane that gets no
 * thread runs in loader_wait().
 */
static void start_lane(struct loader *l, size_t i)
{
	struct loader_lane *lane = &l->lanes[i];
	sigset_t all, old;
	int ret;

	/*
	 * The groups of the two lanes verify at once, on two CPUs. On a
	 * machine of two (or one), the second lane is the caller itself, in
	 * loader_wait(), once its own set-up is done: as a thread beside
	 * it on its CPU, it got that CPU only as the scheduler's slices
	 * allowed (1-2 ms late, traced), and then took a last group while
	 * the other CPU idled. The first lane, which loads the core that
	 * every group and the caller's map writes wait for, gets a CPU the
	 * caller is not on.
	 */
	if (i == 1 && placement_caller_works()) {
		lane->deferred = true;
		lane->started = true;
		return;
	}
	lane->cpu = placement_cpu(l->lanes[1 - i].cpu);
	lane->stack = lane_stack_alloc();
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = placement_thread_create(
		&lane->thread, &lane->cpu, lane_thread, lane,
		lane->stack ? (char *)lane->stack + LANE_GUARD : NULL,
		LANE_STACK - LANE_GUARD);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		group_blob_free(lane->stack, LANE_STACK);
		lane->stack = NULL;
	}
	lane->running = !ret;
	lane->deferred = ret;
	lane->started = true;
	if (ret)
		log_debug(
			"no thread for BPF load lane %zu (%s): loading in line",
			i, strerror(ret));
}

void loader_start(struct loader *l)
{
	for (size_t i = 0; i < 2; i++)
		if (!l->lanes[i].started)
			start_lane(l, i);
}

/* The second lane's thread, before the configuration: it waits for the core. */
int loader_prepare(struct loader *l, char *err, size_t errlen)
{
	if (open_loader(l, err, errlen))
		return -1;
	start_lane(l, 1);
	return 0;
}

/*
 * The lanes without a thread run here, in order (the second waits for
 * the core), or, run false, are given up: the second is told the core
 * will not come.
 */
static void join(struct loader *l, bool run)
{
	for (size_t i = 0; i < 2; i++) {
		struct loader_lane *lane = &l->lanes[i];

		if (lane->deferred && run)
			lane->ret = run_lane(l, lane);
		else if (lane->deferred && i == 0)
			core_loaded(l, -ECANCELED);
		lane->deferred = false;
	}
	/* An early second lane waits for a core whose lane never started. */
	if (!l->lanes[0].started && l->lanes[1].running) {
		l->lanes[0].started = true;
		core_loaded(l, -ECANCELED);
	}
	for (size_t i = 0; i < 2; i++) {
		if (!l->lanes[i].running)
			continue;
		/* cannot fail: a joinable thread of ours, joined once */
		pthread_join(l->lanes[i].thread, NULL);
		l->lanes[i].running = false;
		group_blob_free(l->lanes[i].stack, LANE_STACK);
		l->lanes[i].stack = NULL;
	}
}

int loader_wait_core(struct loader *l)
{
	if (!l->lanes[0].running || l->core_noted || wait_core(l))
		return -1;
	note_core(l);
	return 0;
}

int loader_wait(struct loader *l, char *err, size_t errlen)
{
	join(l, true);
	return loader_finish(l, err, errlen);
}

int loader_load(struct loader *l, const struct awf_config *cfg,
		const struct rule_table *rules, const struct policy_cidr *host,
		size_t n_host, bool check_names, bool names, char *err,
		size_t errlen)
{
	if (loader_open(l, cfg, rules, host, n_host, check_names, names, err,
			errlen))
		return -1;
	for (size_t i = 0; i < 2; i++)
		l->lanes[i].deferred = true;
	return loader_wait(l, err, errlen);
}

int loader_fill_rules(struct loader *l, const struct rule_table *t, char *err,
		      size_t errlen)
{
	const struct rules_maps m = {
		.trie4 = loader_map_fd(l, "cidr4"),
		.trie6 = loader_map_fd(l, "cidr6"),
		.exact4 = loader_map_fd(l, "cidr_exact4"),
		.exact6 = loader_map_fd(l, "cidr_exact6"),
		.ports = loader_map_fd(l, "cidr_ports"),
	};

	/* the programs probe the tables the masks they were loaded with make */
	if (t->exact4.mask != l->exact4_mask ||
	    t->exact6.mask != l->exact6_mask || (t->allows && !l->allows_cidrs))
		return set_err(
			err, errlen,
			"CIDR rules: the programs were loaded for another table");
	return rules_write(t, &m, err, errlen);
}

int loader_fill_host_addrs(struct loader *l, const struct policy_cidr *a,
			   size_t n, char *err, size_t errlen)
{
	int fd4 = loader_map_fd(l, "host_addrs4");
	int fd6 = loader_map_fd(l, "host_addrs6");
	uint8_t one = 1;

	for (size_t i = 0; i < n; i++) {
		struct awf_ip6_key k6;
		uint32_t k4;
		int ret;

		if (a[i].family == AF_INET) {
			memcpy(&k4, a[i].addr, 4);
			ret = bpf_map_update_elem(fd4, &k4, &one, BPF_ANY);
		} else {
			memcpy(k6.addr, a[i].addr, 16);
			ret = bpf_map_update_elem(fd6, &k6, &one, BPF_ANY);
		}
		if (ret)
			return set_err(err, errlen,
				       "writing host address %zu of %zu: %s",
				       i + 1, n, strerror(errno));
	}
	return 0;
}

/*
 * The sk_msg program belongs to the map of the connections whose first
 * bytes it reads; every other one to the sandbox cgroup. ALLOW_MULTI:
 * programs of nested cgroups run in addition to ours and can never
 * replace them. A hook's warm-up program (hook_warm.h) gives the
 * sandbox's its place: no detach of it left for later, and the list of
 * the hook never holds both.
 */
static int attach_one(struct loader *l, const struct loader_prog *p,
		      struct hook_warm *warm, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_prog_attach_opts, opts, .flags = BPF_F_ALLOW_MULTI);
	const char *what = "the sandbox cgroup";
	int warm_fd = warm ? hook_warm_fd(warm, p->type) : -1;
	int target = l->cgroup_fd;

	if (p->type == BPF_SK_MSG_VERDICT) {
		target = loader_map_fd(l, "name_socks");
		opts.flags = 0;
		what = "map name_socks";
	} else if (warm_fd >= 0) {
		opts.replace_prog_fd = warm_fd;
		opts.flags |= BPF_F_REPLACE;
	}
	if (bpf_prog_attach_opts(p->fd, target, p->type, &opts))
		return set_err(err, errlen, "attaching %s to %s: %s", p->name,
			       what, strerror(errno));
	if (opts.flags & BPF_F_REPLACE)
		hook_warm_replaced(warm, p->type);
	l->attached[l->n_attached].prog_fd = p->fd;
	l->attached[l->n_attached].target_fd = target;
	l->attached[l->n_attached].type = p->type;
	l->n_attached++;
	return 0;
}

static bool prog_needed(const struct loader *l, const struct loader_prog *p)
{
	return hook_needed(l->cfg, p->type);
}

int loader_attach(struct loader *l, int cgroup_fd, struct hook_warm *warm,
		  char *err, size_t errlen)
{
	l->cgroup_fd = cgroup_fd;
	for (size_t i = 0; i < l->n_progs; i++) {
		if (!prog_needed(l, &l->progs[i]))
			continue;
		if (attach_one(l, &l->progs[i], warm, err, errlen)) {
			loader_detach(l);
			return -1;
		}
	}
	return 0;
}

void loader_detach(struct loader *l)
{
	while (l->n_attached) {
		l->n_attached--;
		if (bpf_prog_detach2(l->attached[l->n_attached].prog_fd,
				     l->attached[l->n_attached].target_fd,
				     l->attached[l->n_attached].type))
			log_warn("detaching BPF program (type %d): %s",
				 l->attached[l->n_attached].type,
				 strerror(errno));
	}
}

void loader_close(struct loader *l)
{
	join(l, false); /* never freed under a loader program */
	for (size_t i = 0; i < N_OF(l->verifier_log); i++) {
		free(l->verifier_log[i]);
		l->verifier_log[i] = NULL;
	}
	for (size_t i = 0; i < l->n_groups; i++)
		group_load_close(&l->groups[i]);
	l->n_groups = 0;
	l->n_order = 0;
	placement_jobs_init(&l->jobs, 0);
	l->group_failed = false;
	if (l->core)
		awf_core_lskel__destroy(l->core);
	l->core = NULL;
	/* > 0: a loader never opened is all zeros but cgroup_fd */
	if (l->core_loaded_fd > 0)
		close(l->core_loaded_fd);
	l->core_loaded_fd = -1;
	if (l->group_btf.fd > 0) /* a dup above 2 once shared */
		loader_vm_btf_close(&l->group_btf);
	group_blob_free(l->core_blob, awf_group_core.data_sz);
	for (size_t i = 0; i < 2; i++) {
		group_blob_free(l->lanes[i].prune_scratch,
				sizeof(struct prune_scratch));
		l->lanes[i].prune_scratch = NULL;
	}
	l->core_blob = NULL;
	l->cfg = NULL;
	l->core_noted = false;
	l->n_progs = 0;
	l->n_maps = 0;
}

int loader_map_fd(const struct loader *l, const char *name)
{
	for (size_t i = 0; i < l->n_maps; i++)
		if (!strcmp(l->maps[i].name, name))
			return l->maps[i].fd;
	return -1;
}

int loader_prog_fd(const struct loader *l, const char *name)
{
	for (size_t i = 0; i < l->n_progs; i++)
		if (!strcmp(l->progs[i].name, name))
			return l->progs[i].fd;
	return -1;
}

const struct awf_config *loader_config(const struct loader *l)
{
	return l->cfg;
}
