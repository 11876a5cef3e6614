// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * UDP side of the DNS endpoint: queries from the listening sockets, one
 * fresh connected socket per upstream attempt, answers back through the
 * listening socket the query came in on.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "dns/dns_forward_internal.h"
#include "common/log.h"
#include "dns/dns_udp.h"

int dns_udp_listener_ready(struct ev_source *src, uint32_t events)
{
	struct dns_listener *l = container_of(src, struct dns_listener, src);
	struct dns_fwd *fwd = l->fwd;

	(void)events;
	for (int i = 0; i < DNS_BURST; i++) {
		struct dns_client from = { .udp = l };
		ssize_t n;

		from.peer_len = sizeof(from.peer);
		n = recvfrom(src->fd, fwd->rx, DNS_SCRATCH_LEN, 0,
			     (struct sockaddr *)&from.peer, &from.peer_len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("dns endpoint: recvfrom: %s",
					 strerror(errno));
			break;
		}
		if (!dns_client_source_ok(l, &from.peer))
			continue;
		dns_query_received(fwd, &from, fwd->rx, (size_t)n);
	}
	return 0;
}

void dns_udp_reply(const struct dns_client *to, const uint8_t *msg, size_t len)
{
	/* Never wait on a client: a reply that cannot go now is lost, as UDP. */
	if (sendto(to->udp->src.fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL,
		   (const struct sockaddr *)&to->peer, to->peer_len) < 0)
		log_debug("dns endpoint: reply %04x to client: %s",
			  (unsigned int)msg[0] << 8 | msg[1], strerror(errno));
}

static int dns_udp_upstream_ready(struct ev_source *src, uint32_t events)
{
	struct dns_query *q = container_of(src, struct dns_query, up.src);
	struct dns_fwd *fwd = q->fwd;

	(void)events;
	/* Bounded: a server may flood us with answers that do not match. */
	for (int i = 0; i < DNS_BURST && src->fd >= 0; i++) {
		ssize_t n = recv(src->fd, fwd->rx, DNS_SCRATCH_LEN, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* ICMP errors such as ECONNREFUSED arrive here. */
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				dns_query_failed(q, strerror(errno));
			return 0;
		}
		if (!dns_answer_matches(q, fwd->rx, (size_t)n)) {
			log_debug(
				"dns: ignoring a %zd byte datagram that does not answer %04x",
				n, (unsigned int)q->msg[0] << 8 | q->msg[1]);
			continue;
		}
		dns_query_upstream_answer(q, fwd->rx, (size_t)n);
		return 0;
	}
	return 0;
}

/*
 * A fresh connected socket per attempt: the kernel picks a random source
 * port and only delivers datagrams from the server, so with the query ID
 * an off-path spoofer has little to aim at, and answers need no table.
 */
int dns_udp_upstream_start(struct dns_query *q)
{
	if (dns_upstream_open(q, SOCK_DGRAM, EPOLLIN, dns_udp_upstream_ready))
		return -1;
	if (send(q->up.src.fd, q->msg, q->len, MSG_DONTWAIT | MSG_NOSIGNAL) <
	    0) {
		dns_upstream_abort(q, strerror(errno));
		return -1;
	}
	return 0;
}
