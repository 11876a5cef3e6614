/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * agent_netns.h - DNS endpoints in the network namespaces sandboxes live in
 * (pods, containers): their own loopback, where the programs send DNS.
 */
#ifndef AWF_AGENT_NETNS_H
#define AWF_AGENT_NETNS_H

#include "agent/agent_int.h"

void agent_netns_scan(struct agent *ag);

#endif /* AWF_AGENT_NETNS_H */
