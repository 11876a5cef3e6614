// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
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

int netns_local_addrs(int netns_fd, struct policy_cidr **out, size_t *n,
		      char *err, size_t errlen)
{
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int ret;

	if (self < 0)
		return set_err(err, errlen, "/proc/self/ns/net: %s",
			       strerror(errno));
	if (setns(netns_fd, CLONE_NEWNET)) {
		set_err(err, errlen, "setns: %s", strerror(errno));
		close(self);
		return -1;
	}
	ret = host_local_addrs(out, n, err, errlen);
	/* Back home, or every later socket would be the namespace's. */
	if (setns(self, CLONE_NEWNET)) {
		log_error("setns back to our own network namespace: %s",
			  strerror(errno));
		abort();
	}
	close(self);
	return ret;
}
