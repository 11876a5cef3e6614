// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/array.h"
#include "common/error.h"
#include "common/log.h"
#include "run/seccomp.h"
/* libseccomp's programs, from tools/seccomp_gen.c at build time. */
#include "seccomp_filter.h"

#define N_INSNS(a) ((unsigned short)ARRAY_SIZE(a))

struct syscall_filter {
	struct sock_fprog prog;
};

/* Whether this kernel has SECCOMP_RET_LOG (Linux 4.14). */
static bool kernel_logs_seccomp(void)
{
	uint32_t action = SECCOMP_RET_LOG;

	return syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
}

struct syscall_filter *syscall_filter_new(bool log_only, char *err,
					  size_t errlen)
{
	struct syscall_filter *f;

	if (log_only && !kernel_logs_seccomp()) {
		set_err(err, errlen,
			"--seccomp-log: this kernel cannot log seccomp actions");
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		set_err(err, errlen, "seccomp filter: out of memory");
		return NULL;
	}
	if (log_only) {
		f->prog.filter = (struct sock_filter *)awf_seccomp_log;
		f->prog.len = N_INSNS(awf_seccomp_log);
	} else {
		f->prog.filter = (struct sock_filter *)awf_seccomp_enforce;
		f->prog.len = N_INSNS(awf_seccomp_enforce);
	}
	/* Whatever --log-level says: nobody runs unenforced unawares. */
	if (log_only)
		log_msg(LOG_LVL_ERROR,
			"--seccomp-log: the syscalls the filter would deny (mount, unshare, bpf, ptrace, io_uring, packet sockets...) are ALLOWED and only logged by the kernel (audit log, dmesg): this finds out what the command tries, it does not enforce");
	return f;
}

int syscall_filter_load(const struct syscall_filter *f, char *err,
			size_t errlen)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return set_err(err, errlen, "PR_SET_NO_NEW_PRIVS: %s",
			       strerror(errno));
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &f->prog) < 0)
		return set_err(err, errlen, "loading the seccomp filter: %s",
			       strerror(errno));
	return 0;
}

void syscall_filter_free(struct syscall_filter *f)
{
	free(f);
}
