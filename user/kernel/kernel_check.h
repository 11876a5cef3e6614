/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * kernel_check.h - what awf-bpf needs of the running kernel, probed before
 * anything is loaded: BTF, each program type with the attach types we use,
 * the newest helpers. A kernel that lacks one gets a one-line
 * error naming it (exit 125), never a verifier log.
 */
#ifndef AWF_KERNEL_CHECK_H
#define AWF_KERNEL_CHECK_H

#include <stdbool.h>
#include <stddef.h>

/* The oldest kernel that has all of it (README.md, Requirements). */
#define KERNEL_MIN_VERSION "6.2"
/* The kernel's BTF; AWF_BPF_KERNEL_BTF replaces the path (tests). */
#define KERNEL_BTF_PATH "/sys/kernel/btf/vmlinux"
#define KERNEL_BTF_ENV "AWF_BPF_KERNEL_BTF"

enum kernel_need_kind {
	NEED_PROG,   /* a program type with an expected attach type */
	NEED_HELPER, /* a helper in a program type */
};

struct kernel_need {
	enum kernel_need_kind kind;
	const char *what; /* "cgroup/connect4 programs", "bpf_loop()" */
	int prog_type;	  /* enum bpf_prog_type */
	int attach_type;  /* enum bpf_attach_type (NEED_PROG) */
	int helper;	  /* enum bpf_func_id (NEED_HELPER) */
	bool agent_only;  /* the agent's tc layer */
};

/*
 * The checks of `awf-bpf run` (agent false) or `awf-bpf agent`: 0, or -1
 * with err naming the first thing missing.
 */
int kernel_check(bool agent, char *err, size_t errlen);

/*
 * Before loading: the kernel's BTF file is there (an access(), cheap enough
 * for every run). The rest is probed by kernel_check() once a load failed.
 */
int kernel_check_btf_present(char *err, size_t errlen);

/* The BTF check on path (parsed): 0 or -1 with err set. */
int kernel_check_btf(const char *path, char *err, size_t errlen);

/* The error line for a missing need; why: the probe's errno text or NULL. */
void kernel_need_message(const struct kernel_need *n, const char *why,
			 char *err, size_t errlen);

/*
 * Loads a trivial program of prog_type for attach_type: 1, or -errno
 * (-EINVAL: the kernel lacks it; -EPERM: no privilege).
 */
int kernel_probe_prog(int prog_type, int attach_type);
/*
 * That trivial program ("return 1": allow, and recvmsg's only valid
 * value), loaded and kept: its fd, or -1 with errno.
 */
int kernel_load_allow(int prog_type, int attach_type, const char *name);
/* The program type of one of `run`'s attach types (the table); -1: none. */
int kernel_prog_type_of(int attach_type);

/* The table kernel_check() walks (for the tests). */
const struct kernel_need *kernel_needs(size_t *n);

#endif
