// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * first_bytes_probe.bpf.c - the verdict awf_first_bytes (sk_msg) gives on
 * a connection's first bytes, made callable through BPF_PROG_TEST_RUN,
 * which sk_msg programs lack: the same headers, the same maps (run's
 * build), the bytes from the test's packet after its Ethernet header.
 * tests/bpf/test_first_bytes.c feeds it the table of
 * tests/unit/domain_match_cases.h.
 */
#include "common.bpf.h"
#include "run_maps.bpf.h"
#include "events.bpf.h"
#include "sock_state.bpf.h"
#include "policy.bpf.h"
#include "first_bytes.bpf.h"
#include "first_bytes_probe.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define ETH_HLEN 14

/* Set by the test before a run. */
__u16 probe_port;
__u32 probe_slot;

/* The verdict of the last run. */
struct probe_result probe_result;

SEC("tc")
int probe_first_bytes(struct __sk_buff *skb)
{
	struct awf_decision dec = {};
	struct first_look fl = {};
	struct name_build *nb;
	struct first_bytes *fb;
	__u32 zero = 0, len;

	__builtin_memset(&probe_result, 0, sizeof(probe_result));
	fb = bpf_map_lookup_elem(&first_bytes_scratch, &zero);
	nb = bpf_map_lookup_elem(&name_build_scratch, &zero);
	if (!fb || !nb || skb->len <= ETH_HLEN)
		return 0;
	len = skb->len - ETH_HLEN;
	if (len > TLS_RECORD_MAX)
		len = TLS_RECORD_MAX;
	barrier_var(len);
	len &= SCRATCH_MASK;
	if (!len || bpf_skb_load_bytes(skb, ETH_HLEN, fb->buf, len))
		return 0;
	probe_result.done = first_bytes_verdict(fb, len, probe_slot, probe_port,
						nb, &fl, &dec);
	probe_result.verdict = dec.verdict;
	probe_result.reason = dec.reason;
	probe_result.rule_id = dec.rule_id;
	probe_result.kind = fl.kind;
	probe_result.need = fl.need;
	return 0;
}
