/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * For the unit tests that need the kernel's BPF (maps, programs): `make
 * unit` runs as any user, and without the privilege such a test is
 * reported as skipped, with the reason, not as failed. tests/run.sh runs
 * them as root, where they run.
 *
 * Include after <cmocka.h>.
 */
#ifndef AWF_TESTS_BPF_PRIVILEGE_H
#define AWF_TESTS_BPF_PRIVILEGE_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "kernel/kernel_check.h"

/*
 * Whether this process may load a cgroup/connect4 program, the privilege
 * awf-bpf's programs need (root, or CAP_BPF with CAP_NET_ADMIN). Only a
 * refusal (EPERM, EACCES) counts: any other error is left to the test,
 * which then fails with its own message. When refused, why says so.
 */
static inline bool bpf_privileged(char *why, size_t len)
{
	int ret = kernel_probe_prog(BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
				    BPF_CGROUP_INET4_CONNECT);

	if (ret != -EPERM && ret != -EACCES)
		return true;
	snprintf(why, len,
		 "loading a BPF program: %s (needs root, or CAP_BPF and "
		 "CAP_NET_ADMIN)",
		 strerror(-ret));
	return false;
}

static void bpf_privilege_skip(void **state)
{
	(void)state;
	skip();
}

/*
 * Every test of the group reported as skipped, their fixtures not run, why
 * printed. The group's own setup and teardown are the caller's to leave out.
 */
static inline void skip_all(struct CMUnitTest *tests, size_t n, const char *why)
{
	size_t i;

	print_message("skipped: %s\n", why);
	for (i = 0; i < n; i++) {
		tests[i].test_func = bpf_privilege_skip;
		tests[i].setup_func = NULL;
		tests[i].teardown_func = NULL;
	}
}

#endif
