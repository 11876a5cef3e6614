// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "agent/agent_hostaddrs.h"
#include "common/error.h"
#include "common/log.h"
#include "kernel/hostaddr.h"

int agent_hostaddrs_open(struct agent_hostaddrs *h, char *err, size_t errlen)
{
	struct sockaddr_nl sa = {
		.nl_family = AF_NETLINK,
		.nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
	};

	memset(h, 0, sizeof(*h));
	h->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
		       NETLINK_ROUTE);
	if (h->fd < 0)
		return set_err(err, errlen, "rtnetlink socket: %s",
			       strerror(errno));
	/* Subscribed before the first dump: no change falls in between. */
	if (bind(h->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		set_err(err, errlen, "rtnetlink bind (address groups): %s",
			strerror(errno));
		close(h->fd);
		h->fd = -1;
		return -1;
	}
	return 0;
}

/*
 * Reads every queued notification. Whatever they say (an address came,
 * went or changed its flags), the list is read again; so it is after an
 * overrun (ENOBUFS: some were lost) or any other error.
 */
static void drain(struct agent_hostaddrs *h)
{
	char buf[8192] __attribute__((aligned(4)));

	for (;;) {
		ssize_t n = recv(h->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n > 0 || (n < 0 && errno == ENOBUFS)) {
			h->valid = false;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN) {
			log_warn("rtnetlink (addresses): %s", strerror(errno));
			h->valid = false;
		}
		return;
	}
}

int agent_hostaddrs_get(struct agent_hostaddrs *h,
			const struct policy_cidr **out, size_t *n, char *err,
			size_t errlen)
{
	drain(h);
	if (!h->valid) {
		free(h->v);
		h->v = NULL;
		h->n = 0;
		if (host_local_addrs(&h->v, &h->n, err, errlen))
			return -1;
		h->valid = true;
		log_debug("the host's addresses read: %zu", h->n);
	}
	*out = h->v;
	*n = h->n;
	return 0;
}

void agent_hostaddrs_close(struct agent_hostaddrs *h)
{
	if (h->fd >= 0)
		close(h->fd);
	free(h->v);
	memset(h, 0, sizeof(*h));
	h->fd = -1;
}
