/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * first_bytes_probe.h - what first_bytes_probe.bpf.c reports of a run,
 * shared with tests/bpf/test_first_bytes.c.
 */
#ifndef AWF_FIRST_BYTES_PROBE_H
#define AWF_FIRST_BYTES_PROBE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

struct probe_result {
	__u32 done; /* 0: the bytes were not read, or more were needed */
	__u32 verdict;
	__u32 reason;
	__u32 rule_id;
	__u32 kind;
	__u32 need;
};

#endif /* AWF_FIRST_BYTES_PROBE_H */
