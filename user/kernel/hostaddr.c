// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kernel/hostaddr.h"
#include "common/error.h"
#include "common/log.h"
#include "common/netns.h"
#include "kernel/rules.h"
#include "policy/ports.h"

static void cidr_from_sockaddr(struct policy_cidr *c, const struct sockaddr *sa)
{
	memset(c, 0, sizeof(*c));
	c->family = sa->sa_family;
	if (sa->sa_family == AF_INET) {
		memcpy(c->addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		c->prefixlen = 32;
	} else {
		memcpy(c->addr, &((const struct sockaddr_in6 *)sa)->sin6_addr,
		       16);
		c->prefixlen = 128;
	}
	port_set_all(&c->ports);
}

int host_local_addrs(struct policy_cidr **out, size_t *n, char *err,
		     size_t errlen)
{
	struct ifaddrs *ifs, *it;
	size_t count = 0, i = 0;

	if (getifaddrs(&ifs) < 0)
		return set_err(err, errlen, "getifaddrs: %s", strerror(errno));
	for (it = ifs; it; it = it->ifa_next)
		if (it->ifa_addr && (it->ifa_addr->sa_family == AF_INET ||
				     it->ifa_addr->sa_family == AF_INET6))
			count++;
	*out = calloc(count ? count : 1, sizeof(**out));
	if (!*out) {
		freeifaddrs(ifs);
		return set_err(err, errlen, "out of memory");
	}
	for (it = ifs; it; it = it->ifa_next)
		if (it->ifa_addr && (it->ifa_addr->sa_family == AF_INET ||
				     it->ifa_addr->sa_family == AF_INET6))
			cidr_from_sockaddr(&(*out)[i++], it->ifa_addr);
	*n = i;
	freeifaddrs(ifs);
	return 0;
}

struct addrs_step {
	struct policy_cidr **out;
	size_t *n;
};

static int addrs_there(void *ctx, char *err, size_t errlen)
{
	struct addrs_step *st = ctx;

	return host_local_addrs(st->out, st->n, err, errlen);
}

int netns_local_addrs(int netns_fd, struct policy_cidr **out, size_t *n,
		      char *err, size_t errlen)
{
	struct addrs_step st = { .out = out, .n = n };

	return in_netns(netns_fd, addrs_there, &st, err, errlen);
}
