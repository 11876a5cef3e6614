/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * agent.h - the host-wide enforcer (`awf-bpf agent`, docs/fleet.md): one
 * pinned set of programs for every sandbox on the host, its DNS endpoints,
 * its control socket for `awf-bpf run`.
 */
#ifndef AWF_AGENT_H
#define AWF_AGENT_H

#include <stdbool.h>

/*
 * Loads the config at config_path (a missing file is an error only when
 * config_given) and its policies, attaches or adopts the pinned programs
 * and serves until SIGTERM/SIGINT; SIGHUP reloads. Returns the exit status:
 * 125 when it cannot start (bad config or policy: nothing is attached).
 */
int agent_serve(const char *config_path, bool config_given);

/* Removes the pinned programs, links, maps and the state file. */
int agent_uninstall(void);

#endif /* AWF_AGENT_H */
