/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * hook_warm.h - turn the kernel's cgroup BPF hooks on before the sandbox's
 * programs are ready.
 *
 * The kernel runs a cgroup hook only while some cgroup has a program on
 * it: one static key per attach type, whose turn from 0 to 1 patches the
 * kernel's text on every CPU (0.15 ms a hook on a PVM guest, a dozen
 * hooks: most of `attach`). A program that only says "allow" (1), of each
 * hook the sandbox needs, attached to its cgroup while the verifier works
 * on the sandbox's programs, pays for that off the critical path; those
 * then attach with the keys on, each in its hook's warm-up program's
 * place (BPF_F_REPLACE: hook_warm_fd()), so that no detach is left for
 * later. With BPF_F_ALLOW_MULTI every program of a cgroup must allow: one
 * that always does changes no verdict. Any not replaced go once the
 * command runs (with the sandbox's programs attached, that patches
 * nothing).
 *
 * Best effort: a hook that cannot be warmed is only slower to attach.
 */
#ifndef AWF_HOOK_WARM_H
#define AWF_HOOK_WARM_H

#include <stdbool.h>
#include <stddef.h>

#define HOOK_WARM_MAX 32

struct hook_warm {
	int cgroup_fd;
	size_t n;
	struct {
		int prog_fd;
		int type;      /* enum bpf_attach_type */
		bool replaced; /* by the sandbox's: off the cgroup */
	} h[HOOK_WARM_MAX];
};

/* Attach an "allow" program of each of types[0..n) to cgroup_fd. */
void hook_warm_attach(struct hook_warm *w, int cgroup_fd, const int *types,
		      size_t n);
/*
 * The warm-up program attached to hook type, for the sandbox's to take its
 * place (BPF_F_REPLACE); -1 if none (not warmed, or replaced).
 */
int hook_warm_fd(const struct hook_warm *w, int type);
/* The sandbox's program of hook type took its warm-up program's place. */
void hook_warm_replaced(struct hook_warm *w, int type);
/*
 * Close them; detach: first take those not replaced off the cgroup (else
 * they go with it, as the sandbox's own programs do).
 */
void hook_warm_release(struct hook_warm *w, bool detach);

#endif /* AWF_HOOK_WARM_H */
