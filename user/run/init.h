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

typedef void (*init_workload_fn)(void *arg);

/*
 * Fork the workload, which runs workload(arg) (it must exec or _exit).
 * Then: pass SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 on to
 * it, reap every process that ends, and exit as soon as the workload has
 * ended: with its exit code, or 128+N if it died of signal N. That is the
 * number awf-bpf reports for a child killed by N, so its own exit status
 * is unchanged by the namespace. (Re-raising N would not work: pid 1 of a
 * namespace is immune to signals without a handler.)
 *
 * workload_fd (-1: none) is the workload's alone: init closes its copy
 * once forked.
 *
 * Failures (fork, sigwaitinfo...) print one "awf-bpf: ..." line and exit
 * 125.
 */
__attribute__((noreturn)) void sandbox_init(init_workload_fn workload,
					    void *arg, int workload_fd);

#endif /* AWF_INIT_H */
