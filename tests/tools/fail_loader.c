// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fail_loader.c - an LD_PRELOAD library for test_failclosed.sh: the
 * BPF_PROG_LOAD of the program named AWF_TEST_FAIL_PROG, or the
 * BPF_MAP_CREATE of the map named AWF_TEST_FAIL_MAP, fails with EPERM;
 * every other system call goes through. awf-bpf's loader programs run in
 * its own process (user/kernel/loader_vm.h), so their bpf() calls pass
 * through here: a name picks the core (its maps, awf_recvmsg4) or a group
 * whichever thread loads it, and whenever.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <linux/bpf.h>

/* name: as the kernel keeps it, cut to BPF_OBJ_NAME_LEN - 1 bytes. */
static int named(const char *name, const char *want)
{
	return want && !strncmp(name, want, BPF_OBJ_NAME_LEN - 1);
}

static int fails(long cmd, const union bpf_attr *attr)
{
	if (cmd == BPF_PROG_LOAD)
		return named(attr->prog_name, getenv("AWF_TEST_FAIL_PROG"));
	if (cmd == BPF_MAP_CREATE)
		return named(attr->map_name, getenv("AWF_TEST_FAIL_MAP"));
	return 0;
}

long syscall(long nr, ...)
{
	static long (*real)(long, ...);
	long a[6];
	va_list ap;

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (!real)
		real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	if (nr == SYS_bpf && fails(a[0], (const union bpf_attr *)a[1])) {
		errno = EPERM;
		return -1;
	}
	return real(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}
