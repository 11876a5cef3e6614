/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * agent_hostaddrs.h - the host's addresses for each new sandbox
 * (kernel/hostaddr.h), dumped again only when the kernel has announced a
 * change since the last dump, rather than once per sandbox.
 *
 * Never stale: the kernel queues its RTM_NEWADDR / RTM_DELADDR
 * notification before the call that changed an address returns, and every
 * look-up first drains the notification socket; anything in it (or an
 * overrun, or an error) means a new dump. A change that has happened
 * before a request arrived is always seen by that request.
 */
#ifndef AWF_AGENT_HOSTADDRS_H
#define AWF_AGENT_HOSTADDRS_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/cidr.h"

struct agent_hostaddrs {
	int fd; /* NETLINK_ROUTE, the IPv4 and IPv6 address groups */
	struct policy_cidr *v;
	size_t n;
	bool valid; /* v is the host's, as of the last drained notification */
};

int agent_hostaddrs_open(struct agent_hostaddrs *h, char *err, size_t errlen);
/*
 * The host's addresses now: *out (n of them) belongs to h, valid until
 * the next call. -1 with err when they cannot be read.
 */
int agent_hostaddrs_get(struct agent_hostaddrs *h,
			const struct policy_cidr **out, size_t *n, char *err,
			size_t errlen);
void agent_hostaddrs_close(struct agent_hostaddrs *h);

#endif /* AWF_AGENT_HOSTADDRS_H */
