// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/error.h"
#include "kernel/kernel_check.h"
#include "kernel/loader.h" /* before the skeletons: it defines struct awf_config */
#include "awf.lskel.h"
#include "awf_nonames.lskel.h"
/* skel_internal.h's, for its own functions above: ours is error.h's. */
#undef set_err
#include "common/log.h"

/*
 * The programs of both light skeletons in object order, with where they
 * attach: a light skeleton knows neither its programs' names nor their
 * section. Checked against the skeletons at compile time below, so that
 * a program added to bpf/ cannot be loaded and silently left unattached.
 */
#define AWF_BASE_PROGS(X)                                 \
	X(awf_connect4, BPF_CGROUP_INET4_CONNECT)         \
	X(awf_connect6, BPF_CGROUP_INET6_CONNECT)         \
	X(awf_sendmsg4, BPF_CGROUP_UDP4_SENDMSG)          \
	X(awf_sendmsg6, BPF_CGROUP_UDP6_SENDMSG)          \
	X(awf_recvmsg4, BPF_CGROUP_UDP4_RECVMSG)          \
	X(awf_recvmsg6, BPF_CGROUP_UDP6_RECVMSG)          \
	X(awf_getpeername4, BPF_CGROUP_INET4_GETPEERNAME) \
	X(awf_getpeername6, BPF_CGROUP_INET6_GETPEERNAME) \
	X(awf_sock_create, BPF_CGROUP_INET_SOCK_CREATE)   \
	X(awf_bind4, BPF_CGROUP_INET4_BIND)               \
	X(awf_bind6, BPF_CGROUP_INET6_BIND)               \
	X(awf_post_bind4, BPF_CGROUP_INET4_POST_BIND)     \
	X(awf_post_bind6, BPF_CGROUP_INET6_POST_BIND)     \
	X(awf_sock_release, BPF_CGROUP_INET_SOCK_RELEASE) \
	X(awf_egress, BPF_CGROUP_INET_EGRESS)
#define AWF_NAME_CHECK_PROGS(X)             \
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
	X(lo_ports) \
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
#define COUNT2(a, b) +1
_Static_assert(sizeof(((struct awf_lskel *)0)->progs) ==
		       (0 AWF_BASE_PROGS(COUNT2) AWF_NAME_CHECK_PROGS(COUNT2)) *
			       sizeof(struct bpf_prog_desc),
	       "a program of awf.bpf.c is missing from AWF_*_PROGS");
_Static_assert(sizeof(((struct awf_nonames_lskel *)0)->progs) ==
		       (0 AWF_BASE_PROGS(COUNT2)) *
			       sizeof(struct bpf_prog_desc),
	       "a program of awf.bpf.c is missing from AWF_BASE_PROGS");
_Static_assert(sizeof(((struct awf_lskel *)0)->maps) ==
		       (0 AWF_MAPS(COUNT)) * sizeof(struct bpf_map_desc),
	       "a map of awf.bpf.c is missing from AWF_MAPS");
_Static_assert(sizeof(((struct awf_nonames_lskel *)0)->maps) ==
		       (0 AWF_MAPS(COUNT)) * sizeof(struct bpf_map_desc),
	       "a map of awf.bpf.c is missing from AWF_MAPS");

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

/* The fds of whichever skeleton was loaded, by name. */
#define NOTE_PROG(name, attach)                                        \
	l->progs[l->n_progs++] =                                       \
		(struct loader_prog){ #name, skel->progs.name.prog_fd, \
				      attach };
#define NOTE_MAP(name)         \
	l->maps[l->n_maps++] = \
		(struct loader_map){ #name, skel->maps.name.map_fd };

static void note_full(struct loader *l)
{
	struct awf_lskel *skel = l->full;

	AWF_BASE_PROGS(NOTE_PROG)
	AWF_NAME_CHECK_PROGS(NOTE_PROG)
	AWF_MAPS(NOTE_MAP)
	l->cfg = &skel->rodata->awf_cfg;
}

static void note_lean(struct loader *l)
{
	struct awf_nonames_lskel *skel = l->lean;

	AWF_BASE_PROGS(NOTE_PROG)
	AWF_MAPS(NOTE_MAP)
	l->cfg = &skel->rodata->awf_cfg;
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

static void set_log(struct loader *l, struct bpf_loader_ctx *ctx)
{
	if (log_threshold > LOG_LVL_DEBUG)
		return;
	l->verifier_log = calloc(1, VERIFIER_LOG_SIZE);
	if (!l->verifier_log)
		return;
	ctx->log_level = 1;
	ctx->log_size = VERIFIER_LOG_SIZE;
	ctx->log_buf = (uintptr_t)l->verifier_log;
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
 * mode only: elsewhere post_bind and sock_release stay unattached (they
 * would run for every socket and find nothing to do), and lo_ports (at
 * 4096 entries a vmalloc'd bucket array, ~0.2 ms to create here) gets
 * one entry nothing writes.
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
	       type != BPF_CGROUP_INET6_POST_BIND &&
	       type != BPF_CGROUP_INET_SOCK_RELEASE;
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
 * .rodata is written before load and frozen by the loader program: the
 * programs cannot be reconfigured, and the verifier prunes what the
 * configuration disables.
 */
#define DEFINE_OPEN(fn, kind, field, socks)                                    \
	static int fn(struct loader *l, const struct awf_config *cfg,          \
		      const struct rule_table *t,                              \
		      const struct policy_cidr *host, size_t n_host,           \
		      bool names)                                              \
	{                                                                      \
		struct rules_sizes sz;                                         \
		struct kind *skel;                                             \
                                                                               \
		skel = l->field = kind##__open();                              \
		if (!skel)                                                     \
			return -1;                                             \
		memcpy((void *)&l->field->rodata->awf_cfg, cfg, sizeof(*cfg)); \
		rules_sizes(t, &sz);                                           \
		SIZE_CIDR_MAPS(skel, t, &sz);                                  \
		skel->maps.host_addrs4.max_entries =                           \
			host_addrs_size(host, n_host, AF_INET);                \
		skel->maps.host_addrs6.max_entries =                           \
			host_addrs_size(host, n_host, AF_INET6);               \
		if (!names) {                                                  \
			AWF_NAME_MAPS(SHRINK_MAP)                              \
		}                                                              \
		if (!serves_loopback(cfg))                                     \
			skel->maps.lo_ports.max_entries = 1;                   \
		l->field->maps.name_socks.max_entries = socks;                 \
		set_log(l, &l->field->ctx);                                    \
		return 0;                                                      \
	}

/* max_entries 0: as bpf/ declares it. */
DEFINE_OPEN(open_full, awf_lskel, full, 0)
DEFINE_OPEN(open_lean, awf_nonames_lskel, lean, 1)

#define NOTE_HOOK(name, attach)       \
	if (hook_needed(cfg, attach)) \
		l->hooks[l->n_hooks++] = attach;

/* What loader_attach() will attach to, known before the load. */
static void note_hooks(struct loader *l, const struct awf_config *cfg,
		       bool check_names)
{
	AWF_BASE_PROGS(NOTE_HOOK)
	if (check_names) {
		AWF_NAME_CHECK_PROGS(NOTE_HOOK)
	}
}

const int *loader_hooks(const struct loader *l, size_t *n)
{
	*n = l->n_hooks;
	return l->hooks;
}

int loader_open(struct loader *l, const struct awf_config *cfg,
		const struct rule_table *rules, const struct policy_cidr *host,
		size_t n_host, bool check_names, bool names, char *err,
		size_t errlen)
{
	int ret;

	memset(l, 0, sizeof(*l));
	l->cgroup_fd = -1;
	ret = check_names ? open_full(l, cfg, rules, host, n_host, true) :
			    open_lean(l, cfg, rules, host, n_host, names);
	l->exact4_mask = rules->exact4.mask;
	l->exact6_mask = rules->exact6.mask;
	note_hooks(l, cfg, check_names);
	if (!ret)
		return 0;
	loader_close(l);
	return set_err(err, errlen, "loading BPF programs: out of memory");
}

/*
 * System calls only (the generated __load() is bpf(), mmap() and
 * close()): no allocation, no stdio, no log line, nothing that takes a
 * lock of the C library. It may run on a thread of its own while the
 * caller clones the sandbox (a raw clone3(), which takes no fork lock).
 * 0 or -errno.
 */
static int loader_run(struct loader *l)
{
	int ret;

	if (l->full) {
		ret = awf_lskel__load(l->full);
		if (!ret)
			note_full(l);
	} else if (l->lean) {
		ret = awf_nonames_lskel__load(l->lean);
		if (!ret)
			note_lean(l);
	} else {
		return -EINVAL;
	}
	return ret > 0 ? -EINVAL : ret;
}

/* ret: loader_run()'s. Explains a failure (kernel_check()). */
static int loader_finish(struct loader *l, int ret, char *err, size_t errlen)
{
	if (l->verifier_log && ret)
		print_verifier_log(l->verifier_log);
	free(l->verifier_log);
	l->verifier_log = NULL;
	if (!ret)
		return 0;
	loader_close(l);
	if (loader_explain_failure(false, err, errlen))
		return -1;
	return set_err(
		err, errlen,
		"loading BPF programs: %s (run with --log-level debug for the verifier log)",
		strerror(-ret));
}

/* The loader program's thread: loader_run() and nothing else. */
static void *run_thread(void *arg)
{
	struct loader *l = arg;

	l->run_ret = loader_run(l);
	return NULL;
}

/*
 * No signal for this thread: a stop signal is the main thread's to take
 * (signalfd), and one the main thread has not yet blocked must kill the
 * whole process, as it would without the thread.
 */
void loader_start(struct loader *l)
{
	sigset_t all, old;
	int ret;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&l->thread, NULL, run_thread, l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!ret) {
		l->running = true;
		return;
	}
	log_debug("no thread for the BPF load (%s): loading in line",
		  strerror(ret));
	l->run_ret = loader_run(l);
}

static void join(struct loader *l)
{
	if (!l->running)
		return;
	/* cannot fail: a joinable thread of ours, joined once */
	pthread_join(l->thread, NULL);
	l->running = false;
}

int loader_wait(struct loader *l, char *err, size_t errlen)
{
	join(l);
	return loader_finish(l, l->run_ret, err, errlen);
}

int loader_load(struct loader *l, const struct awf_config *cfg,
		const struct rule_table *rules, const struct policy_cidr *host,
		size_t n_host, bool check_names, bool names, char *err,
		size_t errlen)
{
	if (loader_open(l, cfg, rules, host, n_host, check_names, names, err,
			errlen))
		return -1;
	return loader_finish(l, loader_run(l), err, errlen);
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
	    t->exact6.mask != l->exact6_mask)
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
 * replace them.
 */
static int attach_one(struct loader *l, const struct loader_prog *p, char *err,
		      size_t errlen)
{
	int target = l->cgroup_fd, flags = BPF_F_ALLOW_MULTI;
	const char *what = "the sandbox cgroup";

	if (p->type == BPF_SK_MSG_VERDICT) {
		target = loader_map_fd(l, "name_socks");
		flags = 0;
		what = "map name_socks";
	}
	if (bpf_prog_attach(p->fd, target, p->type, flags))
		return set_err(err, errlen, "attaching %s to %s: %s", p->name,
			       what, strerror(errno));
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

int loader_attach(struct loader *l, int cgroup_fd, char *err, size_t errlen)
{
	l->cgroup_fd = cgroup_fd;
	for (size_t i = 0; i < l->n_progs; i++) {
		if (!prog_needed(l, &l->progs[i]))
			continue;
		if (attach_one(l, &l->progs[i], err, errlen)) {
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
	join(l); /* a skeleton is never freed under its loader program */
	free(l->verifier_log);
	l->verifier_log = NULL;
	if (l->full)
		awf_lskel__destroy(l->full);
	if (l->lean)
		awf_nonames_lskel__destroy(l->lean);
	l->full = NULL;
	l->lean = NULL;
	l->cfg = NULL;
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
