// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/array.h"
#include "common/error.h"
#include "run/harden.h"

/*
 * Whatever can change the network, the filter or the sandbox's walls, or
 * reach around them: a workload running as root keeps everything else.
 */
static const cap_value_t dropped_caps[] = {
	CAP_NET_ADMIN, CAP_NET_RAW,	 CAP_SYS_ADMIN,	 CAP_BPF,
	CAP_PERFMON,   CAP_SYS_PTRACE,	 CAP_SYS_MODULE, CAP_SYS_RAWIO,
	CAP_SYS_BOOT,  CAP_MKNOD,	 CAP_SYS_TIME,	 CAP_AUDIT_CONTROL,
	CAP_MAC_ADMIN, CAP_MAC_OVERRIDE, CAP_SETFCAP,	 CAP_SYS_RESOURCE,
};

#define N_DROPPED (sizeof(dropped_caps) / sizeof(dropped_caps[0]))

/*
 * One prctl a capability: libcap's cap_drop_bound() reads the set before
 * each drop, on the path to every workload's start.
 */
static int drop_bounding(char *err, size_t errlen)
{
	for (size_t i = 0; i < N_DROPPED; i++) {
		if (prctl(PR_CAPBSET_DROP, dropped_caps[i], 0, 0, 0) == 0)
			continue;
		/* A cap this kernel does not know cannot be granted either. */
		if (errno == EINVAL)
			continue;
		return set_err(err, errlen,
			       "dropping %s from the bounding set: %s",
			       cap_to_name(dropped_caps[i]), strerror(errno));
	}
	return 0;
}

/*
 * One prctl: libcap's cap_reset_ambient() asks about each capability
 * first (40-odd calls). EINVAL: a kernel without ambient capabilities
 * (before 4.3), with none to clear.
 */
static int clear_ambient(void)
{
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL)
		return -1;
	return 0;
}

static int drop_process_sets(char *err, size_t errlen)
{
	cap_t caps = cap_get_proc();
	int ret = 0;

	if (!caps)
		return set_err(err, errlen, "cap_get_proc: %s",
			       strerror(errno));
	if (cap_set_flag(caps, CAP_EFFECTIVE, N_DROPPED, dropped_caps,
			 CAP_CLEAR) ||
	    cap_set_flag(caps, CAP_PERMITTED, N_DROPPED, dropped_caps,
			 CAP_CLEAR) ||
	    cap_set_flag(caps, CAP_INHERITABLE, N_DROPPED, dropped_caps,
			 CAP_CLEAR) ||
	    cap_set_proc(caps)) {
		set_err(err, errlen, "dropping capabilities: %s",
			strerror(errno));
		ret = -1;
	}
	cap_free(caps);
	return ret;
}

int harden_drop_privileges(char *err, size_t errlen)
{
	/* Bounding first: it needs CAP_SETPCAP, which the sets still hold. */
	if (drop_bounding(err, errlen) || drop_process_sets(err, errlen))
		return -1;
	if (clear_ambient() < 0)
		return set_err(err, errlen, "clearing ambient capabilities: %s",
			       strerror(errno));
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return set_err(err, errlen, "PR_SET_NO_NEW_PRIVS: %s",
			       strerror(errno));
	return 0;
}

/*
 * The workload's (harden.h): no libcap call that allocates (cap_t,
 * cap_to_name()), so capabilities are named by number in messages.
 */
int harden_drop_bounding_all(char *err, size_t errlen)
{
	for (cap_value_t cap = 0; cap < cap_max_bits(); cap++) {
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			return set_err(
				err, errlen,
				"dropping capability %d from the bounding set: %s",
				cap, strerror(errno));
	}
	return 0;
}

static int bounding_is_empty(char *err, size_t errlen)
{
	for (cap_value_t cap = 0; cap < cap_max_bits(); cap++) {
		int on = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);

		if (on < 0)
			return set_err(
				err, errlen,
				"reading capability %d of the bounding set: %s",
				cap, strerror(errno));
		if (on)
			return set_err(
				err, errlen,
				"capability %d still in the bounding set", cap);
	}
	return 0;
}

int harden_require_no_capabilities(char *err, size_t errlen)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct sets[_LINUX_CAPABILITY_U32S_3] = { 0 };

	/* setresuid clears permitted, effective and ambient, not inheritable. */
	if (syscall(SYS_capset, &hdr, sets) < 0)
		return set_err(err, errlen, "clearing capabilities: %s",
			       strerror(errno));
	if (syscall(SYS_capget, &hdr, sets) < 0)
		return set_err(err, errlen, "capget: %s", strerror(errno));
	for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
		/* Ambient is a subset of permitted: empty along with it. */
		if (sets[i].effective || sets[i].permitted ||
		    sets[i].inheritable)
			return set_err(
				err, errlen,
				"capabilities left after the uid change");
	}
	return bounding_is_empty(err, errlen);
}
