/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * loader.h - load the BPF programs (a light skeleton, the core, and the
 * groups that share its maps: group_load.h) with a sandbox's
 * configuration, fill its policy maps and attach every program to the
 * sandbox cgroup.
 *
 * Programs are attached with BPF_PROG_ATTACH, not bpf_link: an attachment
 * belongs to the cgroup, so if awf-bpf dies the sandbox stays confined
 * (fail closed) until its last process is gone and the cgroup is removed.
 */
#ifndef AWF_LOADER_H
#define AWF_LOADER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "awf.h"
#include "common/placement.h"
#include "kernel/group_load.h"
#include "kernel/hook_warm.h"
#include "kernel/rules.h"
#include "policy/cidr.h"

#define LOADER_MAX_PROGS 32
#define LOADER_MAX_MAPS 32
#define LOADER_MAX_GROUPS 8

struct awf_core_lskel;

struct loader_prog {
	const char *name;
	int fd;
	int type; /* enum bpf_attach_type */
};

struct loader_map {
	const char *name;
	int fd;
};

/*
 * One of the two lanes of a load, each a thread of its own or run by the
 * caller in loader_wait(): the first loads the core (maps and the
 * smallest program), the second waits for it; then each takes the next
 * group of loader.order, the largest left, until none is left.
 */
struct loader_lane {
	struct loader *loader;
	pthread_t thread;
	bool running;  /* on its thread */
	bool deferred; /* no thread for it: loader_wait() runs it */
	bool started;  /* on its thread or deferred */
	int cpu;       /* its thread's (common/placement.h); -1: any */
	int ret;       /* 0 or -errno, once it ran */
	struct prune_scratch *prune_scratch; /* its groups' pruning's */
	void *stack; /* its thread's (LANE_STACK bytes), or NULL */
};

struct loader {
	struct awf_core_lskel *core;
	/* Loaded into the core's maps: A to G and, with the name check, NAMES. */
	struct group_load groups[LOADER_MAX_GROUPS];
	size_t n_groups;
	size_t order
		[LOADER_MAX_GROUPS]; /* indices into groups, largest first */
	size_t n_order;
	struct placement_jobs jobs;	/* order's, for the lanes to take */
	struct loader_vm_btf group_btf; /* the groups', loaded once */
	bool group_failed; /* atomic: a lane's load failed, take no more */
	struct loader_lane lanes[2];
	int core_loaded_fd; /* eventfd: the core's load ended (core_ret) */
	bool core_noted;    /* its programs and maps in progs and maps */
	void *core_blob; /* the copy of its loader's data the loader writes */
	int core_ret;
	const struct awf_config *cfg; /* its .rodata, mapped read-only */
	/* --log-level debug: the verifier's, the core's and each group's */
	char *verifier_log[1 + LOADER_MAX_GROUPS];
	size_t n_progs, n_maps;
	struct loader_prog progs[LOADER_MAX_PROGS];
	struct loader_map maps[LOADER_MAX_MAPS];
	int hooks[LOADER_MAX_PROGS]; /* the attach types, from loader_open() */
	size_t n_hooks;
	int cgroup_fd;
	uint32_t exact4_mask, exact6_mask; /* of the table it was loaded for */
	bool allows_cidrs;		   /* and whether it allows */
	size_t n_attached;
	struct {
		int prog_fd;
		int target_fd; /* the cgroup, or the map of an sk_msg program */
		int type;      /* enum bpf_attach_type */
	} attached[LOADER_MAX_PROGS];
};

/*
 * check_names false: no allow entry has its names checked, so the
 * programs of that check (sock_ops, sk_msg: the costliest to load) are
 * left out. A socket that waits for the check all the same cannot send:
 * the backstop drops its payload. names false: the policy names no
 * domain, so nothing will be learned: the maps of names get one entry.
 */
/*
 * rules: the table loader_fill_rules() will write, for the CIDR maps'
 * sizes and the exact tables' masks (.rodata). host: the addresses
 * loader_fill_host_addrs() will write, for the sizes of host_addrs4/6.
 */
int loader_load(struct loader *l, const struct awf_config *cfg,
		const struct rule_table *rules, const struct policy_cidr *host,
		size_t n_host, bool check_names, bool names, char *err,
		size_t errlen);
/*
 * loader_load() in three steps, for a caller that does something else
 * while the kernel verifies the programs: loader_open() prepares the
 * core's skeleton and the groups (the allocations); loader_start() runs
 * the loads on two threads of their own (a lane without a thread runs in
 * loader_wait(): on two CPUs or fewer the second lane is the caller's,
 * run there once its own set-up is done), system calls only, so the
 * caller may clone3() meanwhile; loader_wait() runs what had no thread, joins the threads and
 * says what failed, as loader_load() does; what a failed load made stays
 * until loader_close(), so that fds lent by loader_wait_core() outlive
 * their borrowers' teardown. Nothing of the loader may be
 * read before loader_wait() (the core's maps: loader_wait_core());
 * loader_close() waits for the threads too.
 */
int loader_open(struct loader *l, const struct awf_config *cfg,
		const struct rule_table *rules, const struct policy_cidr *host,
		size_t n_host, bool check_names, bool names, char *err,
		size_t errlen);
void loader_start(struct loader *l);
int loader_wait(struct loader *l, char *err, size_t errlen);
/*
 * loader_open() in two steps, for a caller that has yet to build the
 * configuration: loader_prepare() opens groups A to G and starts the
 * second lane's thread, if it gets one, which waits for the core while
 * the caller builds it; loader_open_core() then opens
 * NAMES if check_names (as loader_open()'s) and the core's skeleton, and
 * loader_start() starts the first lane. loader_close() stops and joins
 * the second lane however far the rest got.
 */
int loader_prepare(struct loader *l, char *err, size_t errlen);
/*
 * After loader_start(), once the core has loaded, while the groups may
 * still be loading: 0, and loader_map_fd() answers for every map (the
 * core makes them all), so that the caller fills them meanwhile; -1 if
 * the core failed (loader_wait() says how) or its lane has no thread (it
 * loads in loader_wait()). Once at most.
 */
int loader_wait_core(struct loader *l);
int loader_open_core(struct loader *l, const struct awf_config *cfg,
		     const struct rule_table *rules,
		     const struct policy_cidr *host, size_t n_host,
		     bool check_names, bool names, char *err, size_t errlen);
/*
 * After loader_open_core(), before loader_start(): the maps of names
 * that the policy bounds, at its size. A hash map allocates its bucket
 * array when it is created (1 MiB and ~2 ms here at 65536 entries, in
 * the core's loader program, which both lanes wait for): domains gets
 * the policy's n_domains (sandbox_publish() writes each once, up to
 * AWF_MAX_DOMAINS), exact_names one entry unless exact is true
 * (name_table_may_learn_exact()).
 */
void loader_size_name_maps(struct loader *l, size_t n_domains, bool exact);
/* rules_write() into the maps; t the table loader_load() was given. */
int loader_fill_rules(struct loader *l, const struct rule_table *t, char *err,
		      size_t errlen);
/*
 * The sources the sandbox's packets may carry besides loopback: this
 * host's addresses (host_local_addrs()).
 */
int loader_fill_host_addrs(struct loader *l, const struct policy_cidr *a,
			   size_t n, char *err, size_t errlen);
/*
 * All programs or none: a partial attach is rolled back. warm: the hooks
 * turned on for cgroup_fd (hook_warm_attach()), whose programs the
 * sandbox's replace, or NULL.
 */
int loader_attach(struct loader *l, int cgroup_fd, struct hook_warm *warm,
		  char *err, size_t errlen);
void loader_detach(struct loader *l);
void loader_close(struct loader *l);

/*
 * Any map of the object by name ("events", "counters", "learned4", ...);
 * -1 if none.
 */
int loader_map_fd(const struct loader *l, const char *name);
/* A loaded program by name ("awf_egress"); -1 if none. */
int loader_prog_fd(const struct loader *l, const char *name);
/*
 * The attach types loader_attach() will use, from loader_open() on (also
 * while the loader program runs: the thread never writes them).
 */
const int *loader_hooks(const struct loader *l, size_t *n);
/* The frozen .rodata configuration the programs were loaded with. */
const struct awf_config *loader_config(const struct loader *l);

/* Route libbpf's messages through log.h. */
void loader_setup_logging(void);

/*
 * Around a skeleton's load: libbpf's warnings are held back; after a
 * failed load, loader_explain_failure() asks kernel_check() (agent: the
 * agent's programs too). -1: err names what the kernel lacks, the warnings
 * are dropped; 0: the kernel has it all, the warnings are shown and the
 * caller says what failed.
 */
void loader_hold_warnings(void);
void loader_release_warnings(bool show);
int loader_explain_failure(bool agent, char *err, size_t errlen);

#endif /* AWF_LOADER_H */
