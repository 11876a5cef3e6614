/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * dns_netns.h - the forwarder's listeners inside other network namespaces
 * (the agent's pods and containers).
 */
#ifndef AWF_DNS_NETNS_H
#define AWF_DNS_NETNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns_forward.h"

/*
 * Also serve the endpoint's port on loopback inside the network namespace
 * netns_fd (a pod's or a container's: its own 127.0.0.1 and ::1, where
 * the programs send its DNS). Answers come from our own namespace's
 * upstream sockets. ino names the namespace for dns_fwd_netns_keep().
 */
int dns_fwd_serve_netns(struct dns_fwd *fwd, int netns_fd, uint64_t ino,
			char *err, size_t errlen);
/* Whether ino is served already. */
bool dns_fwd_serves_netns(const struct dns_fwd *fwd, uint64_t ino);
/*
 * Close the listeners of every namespace for which keep(ino, ctx) says
 * false (its last process of this sandbox is gone): the sockets would
 * keep a dead namespace alive. Returns how many were let go.
 */
size_t dns_fwd_netns_prune(struct dns_fwd *fwd,
			   bool (*keep)(uint64_t ino, void *ctx), void *ctx);

/* Every namespace's listeners closed and freed (at shutdown). */
void dns_netns_free_all(struct dns_fwd *fwd);

#endif /* AWF_DNS_NETNS_H */
