/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * paths.h - every file system path awf-bpf owns or reads by default, in
 * one place, so that the docs (docs/fleet.md, docs/dump.md), the systemd
 * unit and the code name the same ones.
 */
#ifndef AWF_PATHS_H
#define AWF_PATHS_H

/* Runtime state: the agent's socket and state file. */
#define AWF_RUN_DIR "/run/awf-bpf"
#define AWF_AGENT_SOCKET AWF_RUN_DIR "/agent.sock"
#define AWF_AGENT_STATE_FILE AWF_RUN_DIR "/agent-state.json"

/* Configuration of the host-wide agent. */
#define AWF_ETC_DIR "/etc/awf-bpf"
#define AWF_AGENT_CONFIG AWF_ETC_DIR "/agent.json"
#define AWF_AGENT_POLICIES_DIR AWF_ETC_DIR "/policies"

/* bpffs: one directory per sandbox (run-<pid>) and one for the agent. */
#define AWF_BPFFS "/sys/fs/bpf"
#define AWF_PIN_ROOT AWF_BPFFS "/awf-bpf"
#define AWF_AGENT_PIN_DIR AWF_PIN_ROOT "/agent"

/* Below the cgroup2 root: the parent of every run-<pid> sandbox. */
#define AWF_CGROUP_DIR "awf-bpf"

#endif /* AWF_PATHS_H */
