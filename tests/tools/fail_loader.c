// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fail_loader.c - an LD_PRELOAD library for test_failclosed.sh: the Nth
 * light-skeleton loader program awf-bpf loads (BPF_PROG_LOAD of a
 * BPF_PROG_TYPE_SYSCALL program, N from AWF_TEST_FAIL_LOADER) fails with
 * EPERM; every other system call goes through. They come from two
 * threads: group A's first, then the core's and group B's in either
 * order, and NAMES's last, where names are checked (on the second
 * thread after B's, or on the first after A's programs).
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <linux/bpf.h>

static int loaders;

long syscall(long nr, ...)
{
	static long (*real)(long, ...);
	const char *fail_at = getenv("AWF_TEST_FAIL_LOADER");
	long a[6];
	va_list ap;

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (!real)
		real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	if (nr == SYS_bpf && a[0] == BPF_PROG_LOAD && fail_at &&
	    ((union bpf_attr *)a[1])->prog_type == BPF_PROG_TYPE_SYSCALL &&
	    __atomic_add_fetch(&loaders, 1, __ATOMIC_SEQ_CST) == atoi(fail_at)) {
		errno = EPERM;
		return -1;
	}
	return real(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}
