// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_kernel_check.c - the start-up check of the kernel: the messages
 * name what is missing and the minimum kernel; a missing or unreadable BTF
 * file is found; on this (supported) kernel every probe answers "present".
 */
#include "test_util.h"
#include "bpf_privilege.h"

#include "kernel/kernel_check.h"

static void test_btf_missing_named(void **state)
{
	char err[512] = "";

	(void)state;
	assert_int_equal(
		kernel_check_btf("/nonexistent/btf/vmlinux", err, sizeof(err)),
		-1);
	assert_non_null(strstr(err, "this kernel has no BTF"));
	assert_non_null(strstr(err, "/nonexistent/btf/vmlinux"));
	assert_non_null(strstr(err, "CONFIG_DEBUG_INFO_BTF=y"));
	assert_non_null(strstr(err, "Linux " KERNEL_MIN_VERSION));
	assert_null(strchr(err, '\n'));
}

static void test_btf_garbage_named(void **state)
{
	char path[] = "/tmp/awf-btf-XXXXXX", err[512] = "";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "not BTF at all\n", 15), 15);
	close(fd);
	assert_int_equal(kernel_check_btf(path, err, sizeof(err)), -1);
	unlink(path);
	assert_non_null(strstr(err, "BTF cannot be read"));
	assert_non_null(strstr(err, path));
}

static void test_btf_env_replaces_the_path(void **state)
{
	char err[512] = "";

	(void)state;
	setenv(KERNEL_BTF_ENV, "/nonexistent/vmlinux", 1);
	assert_int_equal(kernel_check_btf_present(err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/vmlinux"));
	unsetenv(KERNEL_BTF_ENV);
}

/* Every need's line names it, its kind, and the minimum kernel. */
static void test_messages_name_the_need(void **state)
{
	const struct kernel_need *needs;
	char err[512];
	size_t n;

	(void)state;
	needs = kernel_needs(&n);
	assert_true(n > 10);
	for (size_t i = 0; i < n; i++) {
		kernel_need_message(&needs[i], NULL, err, sizeof(err));
		assert_non_null(strstr(err, needs[i].what));
		assert_non_null(strstr(err, "needs Linux " KERNEL_MIN_VERSION
					    " or newer"));
		assert_null(strchr(err, '\n'));
	}
	kernel_need_message(&needs[0], "Invalid argument", err, sizeof(err));
	assert_string_equal(
		err,
		"this kernel does not support BPF programs of type cgroup/connect4: Invalid argument: awf-bpf needs Linux " KERNEL_MIN_VERSION
		" or newer with BTF (README.md, Requirements)");
}

/* The hooks of bpf/awf.bpf.c each have a probe (a new one needs its own). */
static void test_every_hook_probed(void **state)
{
	static const char *const hooks[] = {
		"cgroup/connect4",
		"cgroup/connect6",
		"cgroup/sendmsg4",
		"cgroup/sendmsg6",
		"cgroup/recvmsg4",
		"cgroup/recvmsg6",
		"cgroup/getpeername4",
		"cgroup/getpeername6",
		"cgroup/bind4",
		"cgroup/bind6",
		"cgroup/sock_create",
		"cgroup/sock_release",
		"cgroup/post_bind4",
		"cgroup/post_bind6",
		"cgroup_skb/egress",
		"sockops",
		"sk_msg",
	};
	const struct kernel_need *needs = NULL;
	size_t n, i, j;

	(void)state;
	needs = kernel_needs(&n);
	for (i = 0; i < ARRAY_SIZE(hooks); i++) {
		for (j = 0; j < n; j++)
			if (needs[j].kind == NEED_PROG &&
			    !strcmp(needs[j].what, hooks[i]))
				break;
		if (j == n)
			fail_msg("no probe for %s", hooks[i]);
	}
}

/* This kernel (the one the tests run on) has everything. */
static void test_this_kernel_passes(void **state)
{
	char err[512] = "";

	(void)state;
	if (kernel_check(true, err, sizeof(err)))
		fail_msg("%s", err);
}

int main(void)
{
	struct CMUnitTest tests[] = {
		cmocka_unit_test(test_btf_missing_named),
		cmocka_unit_test(test_btf_garbage_named),
		cmocka_unit_test(test_btf_env_replaces_the_path),
		cmocka_unit_test(test_messages_name_the_need),
		cmocka_unit_test(test_every_hook_probed),
	};
	struct CMUnitTest privileged[] = {
		cmocka_unit_test(test_this_kernel_passes),
	};
	char why[256];

	if (!bpf_privileged(why, sizeof(why)))
		skip_all(privileged, ARRAY_SIZE(privileged), why);
	return cmocka_run_group_tests_name("kernel_check", tests, NULL, NULL) |
	       cmocka_run_group_tests_name("kernel_check_privileged",
					   privileged, NULL, NULL);
}
