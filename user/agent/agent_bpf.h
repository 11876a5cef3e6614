/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * agent_bpf.h - the agent's one set of BPF programs and maps, pinned under
 * AWF_AGENT_PIN_DIR so that they outlive any agent process.
 *
 * Maps are pinned by name and adopted by the next agent (libbpf reuses a
 * compatible pinned map, and refuses an incompatible one: then nothing is
 * replaced and the old programs keep enforcing). Cgroup and TCX
 * attachments are bpf_links pinned under links/: a new agent swaps its
 * programs in with bpf_link_update(), never detaching in between.
 */
#ifndef AWF_AGENT_BPF_H
#define AWF_AGENT_BPF_H

#include <stddef.h>
#include <stdint.h>

#include "common/paths.h"
#include "awf.h"
#include "agent/agent_config.h"
#include "agent/agent_layout.h"

struct awf_agent_bpf;

struct agent_bpf {
	struct awf_agent_bpf *skel;
};

/* Load the programs, adopting the pinned maps when there are any. */
int agent_bpf_load(struct agent_bpf *a, char *err, size_t errlen);
void agent_bpf_close(struct agent_bpf *a);

/*
 * Every cgroup program at cgroup_fd, through links pinned as
 * links/cg-<cgroup id>-<program>; existing ones get the new programs.
 */
int agent_bpf_attach_cgroup(struct agent_bpf *a, int cgroup_fd,
			    uint64_t cgroup_id, char *err, size_t errlen);
/*
 * The tc layer on ifindex: TCX (links/tc-<ifindex>), or a clsact filter
 * (forced, or AUTO on a kernel without TCX). l3_offset: where the IP
 * header starts (14 on Ethernet, 0 on an L3 device such as a tunnel).
 */
int agent_bpf_attach_uplink(struct agent_bpf *a, int ifindex,
			    enum agent_tc_mode mode, __u32 l3_offset, char *err,
			    size_t errlen);
/* Whether the programs are attached (pinned links exist) at all. */
int agent_bpf_installed(void);
/* Remove every pin and link of the agent: enforcement ends. */
int agent_bpf_uninstall(char *err, size_t errlen);

int agent_bpf_map_fd(const struct agent_bpf *a, enum agent_map m);
int agent_bpf_slots_fd(const struct agent_bpf *a);
int agent_bpf_configs_fd(const struct agent_bpf *a);
int agent_bpf_counters_fd(const struct agent_bpf *a);
int agent_bpf_events_fd(const struct agent_bpf *a);
/* host_addrs4 (AF_INET) or host_addrs6: the sources a slot may use. */
int agent_bpf_host_addrs_fd(const struct agent_bpf *a, int family);

#endif /* AWF_AGENT_BPF_H */
