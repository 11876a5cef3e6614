// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "agent/agent_bpf.h"
#include "agent/agent_uplinks.h"
#include "common/error.h"
#include "common/log.h"

static bool wanted(const struct agent_uplinks *u, const char *name,
		   unsigned int flags)
{
	if (u->all)
		return !(flags & IFF_LOOPBACK);
	for (size_t i = 0; i < u->n_names; i++)
		if (!strcmp(u->names[i], name))
			return true;
	return false;
}

static void attach(struct agent_uplinks *u, int ifindex, const char *name,
		   unsigned short type)
{
	/* The IP header follows an Ethernet header, or nothing (tun, wg). */
	__u32 l3 = type == ARPHRD_ETHER ? 14 : 0;
	char err[AWF_ERR_LEN];

	if (agent_bpf_attach_uplink(u->bpf, ifindex, u->mode, l3, err,
				    sizeof(err)))
		log_error("tc layer on %s: %s", name, err);
	else
		log_debug("tc layer on %s (ifindex %d)", name, ifindex);
}

static void on_link(struct agent_uplinks *u, struct ifinfomsg *ifi, int len)
{
	struct rtattr *rta = IFLA_RTA(ifi);
	const char *name = NULL;

	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
		if (rta->rta_type == IFLA_IFNAME)
			name = RTA_DATA(rta);
	if (name && wanted(u, name, ifi->ifi_flags))
		attach(u, ifi->ifi_index, name, ifi->ifi_type);
}

static int request_dump(int fd, char *err, size_t errlen);

static int on_netlink(struct ev_source *src, uint32_t events)
{
	struct agent_uplinks *u = container_of(src, struct agent_uplinks, src);
	char buf[16384] __attribute__((aligned(4)));
	ssize_t n;

	(void)events;
	while ((n = recv(src->fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		struct nlmsghdr *nh = (struct nlmsghdr *)buf;

		for (; NLMSG_OK(nh, (unsigned int)n); nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_type != RTM_NEWLINK)
				continue;
			on_link(u, NLMSG_DATA(nh), (int)IFLA_PAYLOAD(nh));
		}
	}
	if (n < 0 && errno == ENOBUFS) {
		char err[AWF_ERR_LEN];

		/* Notifications were lost: look at every interface again. */
		log_warn("rtnetlink overrun: re-reading interfaces");
		if (request_dump(src->fd, err, sizeof(err)))
			log_error("%s", err);
	}
	return 0;
}

/* A dump of every link: the same messages as a new one. */
static int request_dump(int fd, char *err, size_t errlen)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = {
		.nh = { .nlmsg_len = sizeof(req),
			.nlmsg_type = RTM_GETLINK,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.ifi = { .ifi_family = AF_UNSPEC },
	};

	if (send(fd, &req, sizeof(req), 0) < 0)
		return set_err(err, errlen, "rtnetlink dump: %s",
			       strerror(errno));
	return 0;
}

int agent_uplinks_start(struct agent_uplinks *u, struct agent_bpf *bpf,
			int epfd, char (*names)[16], size_t n_names, int mode,
			char *err, size_t errlen)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
				  .nl_groups = RTMGRP_LINK };

	u->bpf = bpf;
	u->all = names == NULL;
	u->mode = mode;
	u->names = names;
	u->n_names = n_names;
	u->src.fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
			   NETLINK_ROUTE);
	u->src.on_ready = on_netlink;
	if (u->src.fd < 0)
		return set_err(err, errlen, "rtnetlink socket: %s",
			       strerror(errno));
	if (bind(u->src.fd, (struct sockaddr *)&sa, sizeof(sa)))
		return set_err(err, errlen, "rtnetlink bind: %s",
			       strerror(errno));
	if (request_dump(u->src.fd, err, errlen))
		return -1;
	if (ev_add(epfd, &u->src, EPOLLIN))
		return set_err(err, errlen, "epoll: rtnetlink");
	return 0;
}

void agent_uplinks_stop(struct agent_uplinks *u)
{
	if (u->src.fd >= 0)
		close(u->src.fd);
	u->src.fd = -1;
}
