/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * init.h - pid 1 of the sandbox's PID namespace.
 *
 * The workload cannot see, signal or trace anything outside the namespace,
 * and when pid 1 dies (awf-bpf gone: PR_SET_PDEATHSIG) the kernel kills
 * every process in it. Pid 1 has duties a workload does not expect: it
 * must reap orphans, and the kernel drops every signal it has not asked
 * for. This init does that and nothing else.
 */
#ifndef AWF_INIT_H
#define AWF_INIT_H

#include <stddef.h>

typedef void (*init_workload_fn)(void *arg);

/*
 * Start the workload, which runs workload(arg) and must exec or _exit.
 * It runs as posix_spawn's child does: in init's memory (clone CLONE_VM |
 * CLONE_VFORK), on a stack of its own of stack_size bytes, init asleep
 * until it has exec'd or exited. So workload() must leave init's memory as
 * it found it: system calls and its own stack only, no malloc or free, no
 * stdio, no global changed (errno aside). Then: pass SIGINT, SIGTERM,
 * SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 on to
 * it, reap every process that ends, and exit as soon as the workload has
 * ended: with its exit code, or 128+N if it died of signal N. That is the
 * number awf-bpf reports for a child killed by N, so its own exit status
 * is unchanged by the namespace. (Re-raising N would not work: pid 1 of a
 * namespace is immune to signals without a handler.)
 *
 * workload_fd (-1: none) is the workload's alone: init closes its copy
 * once the workload has exec'd.
 *
 * Failures (clone, sigwaitinfo...) print one "awf-bpf: ..." line and exit
 * 125.
 */
__attribute__((noreturn)) void sandbox_init(init_workload_fn workload,
					    void *arg, size_t stack_size,
					    int workload_fd);

#endif /* AWF_INIT_H */
