// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * hook_floor.bpf.c - programs that allow at once, at the hooks a TCP
 * connect of a sandbox meets (socket creation, connect4, each packet): what
 * those hooks cost under kernel.bpf_stats_enabled before any program does
 * any work. bench/run.sh measures them beside awf-bpf's own (progstats).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("cgroup/sock_create")
int floor_sock_create(struct bpf_sock *ctx)
{
	return 1;
}

SEC("cgroup/connect4")
int floor_connect4(struct bpf_sock_addr *ctx)
{
	return 1;
}

SEC("cgroup_skb/egress")
int floor_egress(struct __sk_buff *skb)
{
	return 1;
}
