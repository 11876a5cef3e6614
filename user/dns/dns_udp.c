// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * UDP side of the DNS endpoint: queries from the listening sockets, one
 * fresh connected socket per upstream attempt, answers back through the
 * listening socket the query came in on.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "dns/dns_forward_internal.h"
#include "common/log.h"
#include "dns/dns_udp.h"

/*
 * Datagrams move in batches: one recvmmsg() takes up to DNS_UDP_BATCH
 * queries, and the replies that are ready before the batch is done (local
 * answers, answers from the cache) leave together in one sendmmsg(). On
 * this path a syscall costs more than the work between them. The buffers
 * are shared by every endpoint of the process: only ever used within one
 * callback of the single-threaded loop.
 */
#define DNS_UDP_BATCH 32
#define DNS_UDP_SLOT \
	4096 /* larger queries are dropped, larger replies go alone */

struct dns_udp_batch {
	struct mmsghdr msgs[DNS_UDP_BATCH];
	struct iovec iov[DNS_UDP_BATCH];
	struct sockaddr_storage peers[DNS_UDP_BATCH];
	uint8_t bufs[DNS_UDP_BATCH][DNS_UDP_SLOT];
};

static struct dns_udp_batch dns_udp_in, dns_udp_out;
/* The listener whose replies dns_udp_out gathers; NULL: send at once. */
static struct dns_listener *dns_udp_out_of;
static unsigned int dns_udp_out_n;
/* Which query of dns_udp_in each gathered reply answers. */
static unsigned int dns_udp_out_query[DNS_UDP_BATCH];
static unsigned int dns_udp_in_current;

static void dns_udp_batch_prepare(struct dns_udp_batch *b, unsigned int i,
				  size_t len, socklen_t peer_len)
{
	b->iov[i].iov_base = b->bufs[i];
	b->iov[i].iov_len = len;
	memset(&b->msgs[i].msg_hdr, 0, sizeof(b->msgs[i].msg_hdr));
	b->msgs[i].msg_hdr.msg_name = &b->peers[i];
	b->msgs[i].msg_hdr.msg_namelen = peer_len;
	b->msgs[i].msg_hdr.msg_iov = &b->iov[i];
	b->msgs[i].msg_hdr.msg_iovlen = 1;
}

static void dns_udp_log_reply_error(const uint8_t *msg)
{
	log_debug("dns endpoint: reply %04x to client: %s",
		  (unsigned int)msg[0] << 8 | msg[1], strerror(errno));
}

/* Sends what was gathered; a reply that cannot go now is lost, as UDP. */
static void dns_udp_flush(void)
{
	struct dns_listener *l = dns_udp_out_of;
	unsigned int done = 0;

	while (l && done < dns_udp_out_n) {
		int n = sendmmsg(l->src.fd, dns_udp_out.msgs + done,
				 dns_udp_out_n - done,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* The first one failed: skip it, send the rest. */
			dns_udp_log_reply_error(dns_udp_out.bufs[done]);
			n = 1;
		}
		done += (unsigned int)n;
	}
	dns_udp_out_n = 0;
}

/* The filter could not learn what the batch's answers open: SERVFAIL all. */
static void dns_udp_refuse_gathered(void)
{
	for (unsigned int i = 0; i < dns_udp_out_n; i++) {
		unsigned int q = dns_udp_out_query[i];

		dns_udp_out.iov[i].iov_len = dns_build_error(
			dns_udp_in.bufs[q], dns_udp_in.msgs[q].msg_len,
			DNS_RCODE_SERVFAIL, dns_udp_out.bufs[i]);
	}
}

/*
 * Releases the gathered replies: first the filter writes what their
 * answers opened (filter->hold() made it keep those writes), then one
 * sendmmsg().
 */
static void dns_udp_release(struct dns_fwd *fwd)
{
	const struct dns_filter_ops *filter = fwd->filter;

	if (filter && filter->commit && filter->commit(filter->ctx))
		dns_udp_refuse_gathered();
	dns_udp_flush();
}

static void dns_udp_hold(struct dns_fwd *fwd)
{
	const struct dns_filter_ops *filter = fwd->filter;

	if (filter && filter->hold)
		filter->hold(filter->ctx);
}

/* The queries of one recvmmsg(); false when the socket has no more. */
static bool dns_udp_receive_batch(struct dns_listener *l)
{
	struct dns_fwd *fwd = l->fwd;
	int n;

	for (unsigned int i = 0; i < DNS_UDP_BATCH; i++)
		dns_udp_batch_prepare(&dns_udp_in, i, DNS_UDP_SLOT,
				      sizeof(dns_udp_in.peers[i]));
	do
		n = recvmmsg(l->src.fd, dns_udp_in.msgs, DNS_UDP_BATCH,
			     MSG_DONTWAIT, NULL);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			log_warn("dns endpoint: recvmmsg: %s", strerror(errno));
		return false;
	}
	dns_udp_out_of = l;
	dns_udp_hold(fwd);
	for (int i = 0; i < n && l->src.fd >= 0; i++) {
		struct mmsghdr *m = &dns_udp_in.msgs[i];
		struct dns_client from = { .udp = l };

		memcpy(&from.peer, &dns_udp_in.peers[i],
		       m->msg_hdr.msg_namelen);
		from.peer_len = m->msg_hdr.msg_namelen;
		if (!dns_client_source_ok(l, &from.peer))
			continue;
		if (m->msg_hdr.msg_flags & MSG_TRUNC) {
			log_debug("dns: dropping a query of more than %u bytes",
				  DNS_UDP_SLOT);
			continue;
		}
		dns_udp_in_current = (unsigned int)i;
		dns_query_received(fwd, &from, dns_udp_in.bufs[i], m->msg_len);
	}
	dns_udp_release(fwd);
	dns_udp_out_of = NULL;
	return n == DNS_UDP_BATCH;
}

int dns_udp_listener_ready(struct ev_source *src, uint32_t events)
{
	struct dns_listener *l = container_of(src, struct dns_listener, src);

	(void)events;
	/* Bounded, for fairness: DNS_BURST datagrams per wakeup. */
	for (int i = 0; i < DNS_BURST / DNS_UDP_BATCH && src->fd >= 0; i++)
		if (!dns_udp_receive_batch(l))
			break;
	return 0;
}

void dns_udp_reply(const struct dns_client *to, const uint8_t *msg, size_t len)
{
	unsigned int i = dns_udp_out_n;

	if (to->udp == dns_udp_out_of && len <= DNS_UDP_SLOT) {
		if (i == DNS_UDP_BATCH) { /* one reply per query: cannot be */
			dns_udp_release(to->udp->fwd);
			dns_udp_hold(to->udp->fwd);
			i = 0;
		}
		dns_udp_out_query[i] = dns_udp_in_current;
		memcpy(dns_udp_out.bufs[i], msg, len);
		memcpy(&dns_udp_out.peers[i], &to->peer, to->peer_len);
		dns_udp_batch_prepare(&dns_udp_out, i, len, to->peer_len);
		dns_udp_out_n = i + 1;
		return;
	}
	/* Never wait on a client: a reply that cannot go now is lost, as UDP. */
	if (sendto(to->udp->src.fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL,
		   (const struct sockaddr *)&to->peer, to->peer_len) < 0)
		dns_udp_log_reply_error(msg);
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
