/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * gc.h - what an `awf-bpf run` killed with SIGKILL leaves behind: its
 * cgroup <cgroup2>/awf-bpf/run-<pid> with the programs attached to it, and
 * its pins /sys/fs/bpf/awf-bpf/run-<pid>/. They go once the run's awf-bpf
 * is gone and the cgroup is empty, never earlier: while anything of the
 * workload lives, it stays confined. Only run-<digits> names are touched:
 * the agent's pins and cgroups are never ours to sweep.
 */
#ifndef AWF_GC_H
#define AWF_GC_H

#include <stdbool.h>

struct gc_report {
	bool verbose;	       /* one line per removed or kept item, stdout */
	unsigned int cgroups;  /* removed */
	unsigned int pin_dirs; /* removed */
	unsigned int kept;     /* awf-bpf gone, its cgroup not empty yet */
	unsigned int failed;   /* could not be removed (logged) */
};

/* Whether the awf-bpf of sandbox id ("run-<pid>") still runs. */
bool gc_owner_alive(const char *id);

/* Remove the leftovers of dead runs; what was done goes into r. */
void gc_sweep(const char *cgroup2_root, struct gc_report *r);

/*
 * gc_sweep() for the caller's own sandbox id (run-<its pid>): what a run
 * does before it makes its cgroup and pins, whose names only a dead run
 * of the same pid can hold. A cgroup that still has processes stays.
 */
void gc_sweep_id(const char *cgroup2_root, const char *id, struct gc_report *r);

#endif /* AWF_GC_H */
