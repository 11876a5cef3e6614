/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * placement.h - threads that must run beside each other, each on a CPU
 * of its own.
 *
 * The scheduler would spread them itself where it sees the other CPUs
 * idle. On the 2-vCPU guest of docs/benchmarks.md it does not: a new
 * thread stays on its creator's CPU, and a thread woken up joins its
 * waker's, while the other CPU idles (measured there; a guest whose
 * halted vCPUs look preempted rather than idle behaves so). So `run`'s
 * two BPF load lanes took turns on one CPU. Placed, each on a CPU of its
 * own for its life (a load, milliseconds): a standalone run 17.1 -> 16.1
 * ms and 18.2 -> 16.2 ms median there.
 */
#ifndef AWF_PLACEMENT_H
#define AWF_PLACEMENT_H

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * A CPU for a new thread: not avoid (another placed thread's CPU, or -1)
 * and not the caller's where another is allowed. -1 (anywhere) on one
 * CPU, when more tasks are runnable than there are CPUs (then the
 * scheduler balances better than a pinned thread can), or on error.
 */
int placement_cpu(int avoid);

/*
 * Whether a second thread of work would share the caller's CPU: two CPUs
 * or fewer allowed, whatever their load. The caller had better do that
 * work itself once it is free.
 */
bool placement_caller_works(void);

/*
 * placement_cpu()'s choice among allowed for a caller on CPU here (-1:
 * unknown), the machine's load aside.
 */
int placement_pick(const cpu_set_t *allowed, int here, int avoid);

/*
 * pthread_create() of fn(arg) pinned to *cpu (from placement_cpu()), or
 * unpinned if *cpu is -1 or refused (then *cpu becomes -1); on stack
 * (stack_size bytes, the caller's to free once the thread is joined), or
 * on one of glibc's if stack is NULL.
 */
int placement_thread_create(pthread_t *thread, int *cpu, void *(*fn)(void *),
			    void *arg, void *stack, size_t stack_size);

/*
 * A list of jobs, largest first, that placed threads share, each taking
 * the next (the largest left) as it is done: the last ones are the
 * smallest, and the threads end close together, however late one
 * started. Lock-free: the threads make system calls only.
 */
struct placement_jobs {
	uint32_t next; /* atomic: the first unclaimed, or past the end */
	uint32_t n;
};

void placement_jobs_init(struct placement_jobs *jobs, uint32_t n);
/* The next job for a thread into *job; false when none is left. */
bool placement_jobs_claim(struct placement_jobs *jobs, uint32_t *job);

#endif /* AWF_PLACEMENT_H */
