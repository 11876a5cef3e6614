/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * seccomp.h - the workload's syscall filter: everything is allowed except
 * the syscalls that could reach around the cgroup's socket hooks or the
 * sandbox's walls (namespaces, mounts, BPF, tracing, io_uring, raw and
 * netlink sockets...), which fail with EPERM. Built by awf-bpf, loaded by
 * the workload as the very last step before exec.
 */
#ifndef AWF_SECCOMP_H
#define AWF_SECCOMP_H

#include <stdbool.h>
#include <stddef.h>

struct syscall_filter;

/*
 * log_only (--seccomp-log): the denied syscalls are let through and only
 * logged by the kernel (SCMP_ACT_LOG, audit log / dmesg). For finding out
 * what a workload tries; NOT enforcing. NULL with a message in err.
 */
struct syscall_filter *syscall_filter_new(bool log_only, char *err,
					  size_t errlen);

/* Install it in the calling process (and sets no_new_privs). */
int syscall_filter_load(const struct syscall_filter *f, char *err,
			size_t errlen);

void syscall_filter_free(struct syscall_filter *f);

#endif /* AWF_SECCOMP_H */
