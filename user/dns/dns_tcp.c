// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * TCP side of the DNS endpoint: client connections carrying 2-byte length
 * prefixed queries, possibly pipelined and answered in completion order
 * (RFC 7766 lets clients match by ID), and one upstream connection per
 * attempt. Connections are bounded in number and idle time, and stop
 * reading while too much is in flight, so a hostile sandbox cannot make
 * the endpoint hoard fds or memory.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "common/array.h"
#include "dns/dns_forward_internal.h"
#include "common/log.h"
#include "dns/dns_tcp.h"

/* ---- stream I/O ---- */

static enum dns_io dns_recv_some(int fd, uint8_t *buf, size_t len, size_t *got)
{
	while (*got < len) {
		ssize_t n = recv(fd, buf + *got, len - *got, 0);

		if (n > 0) {
			*got += (size_t)n;
			continue;
		}
		if (n == 0)
			return DNS_IO_EOF;
		if (errno == EINTR)
			continue;
		return errno == EAGAIN || errno == EWOULDBLOCK ? DNS_IO_AGAIN :
								 DNS_IO_ERROR;
	}
	return DNS_IO_DONE;
}

static enum dns_io dns_send_some(int fd, const uint8_t *buf, size_t len,
				 size_t *off)
{
	while (*off < len) {
		ssize_t n = send(fd, buf + *off, len - *off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n >= 0) {
			*off += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		return errno == EAGAIN || errno == EWOULDBLOCK ? DNS_IO_AGAIN :
								 DNS_IO_ERROR;
	}
	return DNS_IO_DONE;
}

/* Reads the prefix, then exactly the message it announces. */
static enum dns_io dns_frame_read(int fd, struct dns_frame *f)
{
	if (!f->msg) {
		enum dns_io r = dns_recv_some(fd, f->hdr, 2, &f->hdr_got);

		if (r != DNS_IO_DONE)
			return r;
		f->len = (size_t)f->hdr[0] << 8 | f->hdr[1];
		f->got = 0;
		f->msg = malloc(f->len ? f->len : 1);
		if (!f->msg) {
			errno = ENOMEM;
			return DNS_IO_ERROR;
		}
	}
	return dns_recv_some(fd, f->msg, f->len, &f->got);
}

/* Between messages: an EOF here is a clean end. */
static bool dns_frame_idle(const struct dns_frame *f)
{
	return !f->msg && !f->hdr_got;
}

/* Hands the complete message to the caller, who frees it. */
static uint8_t *dns_frame_take(struct dns_frame *f, size_t *len)
{
	uint8_t *msg = f->msg;

	*len = f->len;
	memset(f, 0, sizeof(*f));
	return msg;
}

/* ---- accepting ---- */

static void dns_tcp_listeners_watch(struct dns_fwd *fwd, uint32_t events)
{
	static const enum dns_listener_id ids[] = { DNS_L_TCP4, DNS_L_TCP6 };

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (fwd->listeners[ids[i]].src.fd >= 0)
			ev_mod(fwd->epfd, &fwd->listeners[ids[i]].src, events);
}

/* Out of fds: level-triggered accept would spin, so wait a little. */
static void dns_tcp_accept_pause(struct dns_fwd *fwd)
{
	dns_tcp_listeners_watch(fwd, 0);
	fwd->accept_resume_ms = dns_now_ms() + DNS_ACCEPT_PAUSE_MS;
	dns_timer_sync(fwd);
}

static void dns_tcp_accept_resume(struct dns_fwd *fwd)
{
	dns_tcp_listeners_watch(fwd, EPOLLIN);
	fwd->accept_resume_ms = 0;
}

/* ---- client connections ---- */

static void dns_conn_touch(struct dns_tcp_conn *c)
{
	struct dns_fwd *fwd = c->fwd;

	c->idle_deadline_ms = dns_now_ms() + fwd->idle_ms;
	dns_list_move_tail(&fwd->conns, &c->link);
	dns_timer_sync(fwd);
}

static bool dns_conn_can_read(const struct dns_tcp_conn *c)
{
	return c->inflight < DNS_TCP_CONN_MAX_INFLIGHT &&
	       c->out_len - c->out_off < DNS_TCP_CONN_OUT_HIGH;
}

static void dns_conn_close(struct dns_tcp_conn *c, const char *why)
{
	struct dns_fwd *fwd = c->fwd;

	log_debug("dns endpoint: closing a TCP client: %s", why);
	dns_queries_cancel_conn(fwd, c);
	ev_del(fwd->epfd, &c->src);
	dns_close(c->src.fd, "TCP client");
	c->src.fd = -1;
	free(c->rd.msg);
	memset(&c->rd, 0, sizeof(c->rd));
	free(c->out);
	c->out = NULL;
	c->out_off = c->out_len = c->out_cap = 0;
	dns_list_move_tail(&fwd->free_conns, &c->link);
	fwd->n_conns--;
	dns_timer_sync(fwd);
}

/* Sets the epoll interest from the state; closes a finished connection. */
static void dns_conn_update(struct dns_tcp_conn *c)
{
	bool out_pending = c->out_off < c->out_len;
	uint32_t want = 0;

	if (c->rd_eof && !c->inflight && !out_pending) {
		dns_conn_close(c, "client finished");
		return;
	}
	if (!c->rd_eof && dns_conn_can_read(c))
		want |= EPOLLIN;
	if (out_pending)
		want |= EPOLLOUT;
	if (want == c->events)
		return;
	/* On failure the old interest stays; the idle timer reaps it. */
	if (ev_mod(c->fwd->epfd, &c->src, want) == 0)
		c->events = want;
}

static int dns_conn_flush(struct dns_tcp_conn *c)
{
	switch (dns_send_some(c->src.fd, c->out, c->out_len, &c->out_off)) {
	case DNS_IO_AGAIN:
		return 0;
	case DNS_IO_DONE:
		break;
	default:
		log_debug("dns endpoint: write to a TCP client: %s",
			  strerror(errno));
		return -1;
	}
	c->out_off = c->out_len = 0;
	/* A burst of large answers should not pin its buffer forever. */
	if (c->out_cap > DNS_TCP_CONN_OUT_HIGH) {
		free(c->out);
		c->out = NULL;
		c->out_cap = 0;
	}
	return 0;
}

/* Reads whole queries while the connection may take more; -1: close it. */
static int dns_conn_read(struct dns_tcp_conn *c)
{
	for (int i = 0; i < DNS_BURST && c->src.fd >= 0 && !c->rd_eof &&
			dns_conn_can_read(c);
	     i++) {
		struct dns_client from = { .conn = c };
		uint8_t *msg;
		size_t len;

		switch (dns_frame_read(c->src.fd, &c->rd)) {
		case DNS_IO_AGAIN:
			return 0;
		case DNS_IO_EOF:
			if (!dns_frame_idle(&c->rd)) {
				log_debug(
					"dns endpoint: TCP client closed mid-message");
				return -1;
			}
			c->rd_eof = true;
			return 0;
		case DNS_IO_ERROR:
			log_debug("dns endpoint: read from a TCP client: %s",
				  strerror(errno));
			return -1;
		case DNS_IO_DONE:
			break;
		}
		msg = dns_frame_take(&c->rd, &len);
		dns_query_received(c->fwd, &from, msg, len);
		free(msg);
	}
	return 0;
}

/* Whether fd is in error or hung up now, not in some earlier event. */
static bool dns_fd_hung_up(int fd)
{
	struct pollfd pfd = { .fd = fd };

	if (poll(&pfd, 1, 0) < 0) {
		log_warn("dns endpoint: poll: %s", strerror(errno));
		return false;
	}
	return pfd.revents & (POLLERR | POLLHUP);
}

static int dns_conn_ready(struct ev_source *src, uint32_t events)
{
	struct dns_tcp_conn *c = container_of(src, struct dns_tcp_conn, src);

	if (src->fd < 0)
		return 0;
	/* Not reading after EOF, a reset would otherwise wake us forever. */
	if ((events & (EPOLLERR | EPOLLHUP)) && dns_fd_hung_up(src->fd)) {
		dns_conn_close(c, "hung up");
		return 0;
	}
	dns_conn_touch(c);
	if (dns_conn_flush(c) < 0 || dns_conn_read(c) < 0) {
		dns_conn_close(c, "I/O error");
		return 0;
	}
	if (src->fd >= 0)
		dns_conn_update(c);
	return 0;
}

static struct dns_tcp_conn *dns_conn_alloc(struct dns_fwd *fwd)
{
	struct dns_tcp_conn *c;

	if (!dns_list_empty(&fwd->free_conns)) {
		c = container_of(fwd->free_conns.next, struct dns_tcp_conn,
				 link);
		dns_list_del(&c->link);
		return c;
	}
	c = calloc(1, sizeof(*c));
	if (c)
		dns_list_init(&c->link);
	return c;
}

static void dns_conn_open(struct dns_fwd *fwd, int fd)
{
	struct dns_tcp_conn *c;

	if (fwd->n_conns >= fwd->max_conns) {
		log_debug("dns endpoint: %u TCP clients, refusing one",
			  fwd->n_conns);
		dns_close(fd, "refused TCP client");
		return;
	}
	c = dns_conn_alloc(fwd);
	if (!c) {
		log_warn("dns endpoint: out of memory for a TCP client");
		dns_close(fd, "TCP client");
		return;
	}
	c->fwd = fwd;
	c->src.fd = fd;
	c->src.on_ready = dns_conn_ready;
	c->events = EPOLLIN;
	c->inflight = 0;
	c->rd_eof = false;
	if (ev_add(fwd->epfd, &c->src, EPOLLIN) < 0) {
		dns_close(fd, "TCP client");
		c->src.fd = -1;
		dns_list_add_tail(&fwd->free_conns, &c->link);
		return;
	}
	fwd->n_conns++;
	dns_conn_touch(c);
}

int dns_tcp_listener_ready(struct ev_source *src, uint32_t events)
{
	struct dns_listener *l = container_of(src, struct dns_listener, src);

	(void)events;
	for (int i = 0; i < DNS_BURST; i++) {
		struct sockaddr_storage peer;
		socklen_t len = sizeof(peer);
		int fd = accept4(src->fd, (struct sockaddr *)&peer, &len,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0 && !dns_client_source_ok(l, &peer)) {
			dns_close(fd, "refused client");
			continue;
		}
		if (fd >= 0) {
			dns_conn_open(l->fwd, fd);
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			log_warn(
				"dns endpoint: accept: %s; pausing TCP for %d ms",
				strerror(errno), DNS_ACCEPT_PAUSE_MS);
			dns_tcp_accept_pause(l->fwd);
			break;
		}
		/* A client gone before accept (ECONNABORTED, EPROTO...). */
		log_debug("dns endpoint: accept: %s", strerror(errno));
	}
	return 0;
}

void dns_tcp_reply(struct dns_tcp_conn *c, const uint8_t *msg, size_t len)
{
	size_t need;

	if (c->out_off) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	need = c->out_len + 2 + len;
	if (array_grow((void **)&c->out, &c->out_cap, need, 1)) {
		log_warn("dns endpoint: out of memory for a TCP answer");
		return;
	}
	c->out[c->out_len] = (uint8_t)(len >> 8);
	c->out[c->out_len + 1] = (uint8_t)len;
	memcpy(c->out + c->out_len + 2, msg, len);
	c->out_len = need;
	/* Written when the socket says so: no close from inside a query. */
	dns_conn_update(c);
}

void dns_tcp_query_done(struct dns_tcp_conn *c)
{
	dns_conn_update(c);
}

uint64_t dns_tcp_next_deadline(const struct dns_fwd *fwd)
{
	if (dns_list_empty(&fwd->conns))
		return 0;
	return container_of(fwd->conns.next, struct dns_tcp_conn, link)
		->idle_deadline_ms;
}

void dns_tcp_expire(struct dns_fwd *fwd, uint64_t now)
{
	while (!dns_list_empty(&fwd->conns)) {
		struct dns_tcp_conn *c = container_of(
			fwd->conns.next, struct dns_tcp_conn, link);

		if (c->idle_deadline_ms > now)
			break;
		/* Not idle while its queries run; they time out on their own. */
		if (c->inflight)
			dns_conn_touch(c);
		else
			dns_conn_close(c, "idle");
	}
	if (fwd->accept_resume_ms && fwd->accept_resume_ms <= now)
		dns_tcp_accept_resume(fwd);
}

void dns_tcp_free_all(struct dns_fwd *fwd)
{
	while (!dns_list_empty(&fwd->conns))
		dns_conn_close(container_of(fwd->conns.next,
					    struct dns_tcp_conn, link),
			       "shutting down");
	while (!dns_list_empty(&fwd->free_conns)) {
		struct dns_tcp_conn *c = container_of(
			fwd->free_conns.next, struct dns_tcp_conn, link);

		dns_list_del(&c->link);
		free(c);
	}
}

/* ---- upstream ---- */

static int dns_tcp_upstream_ready(struct ev_source *src, uint32_t events)
{
	struct dns_query *q = container_of(src, struct dns_query, up.src);
	uint8_t *ans;
	size_t len;

	(void)events;
	if (src->fd < 0)
		return 0;
	if (q->up.sent < q->len + 2) {
		/* EAGAIN also while the connect is in progress. */
		switch (dns_send_some(src->fd, q->wire, q->len + 2,
				      &q->up.sent)) {
		case DNS_IO_AGAIN:
			return 0;
		case DNS_IO_DONE:
			break;
		default:
			dns_query_failed(q, strerror(errno));
			return 0;
		}
		if (ev_mod(q->fwd->epfd, src, EPOLLIN) < 0) {
			dns_query_failed(q, "epoll_ctl failed");
			return 0;
		}
	}
	switch (dns_frame_read(src->fd, &q->up.rd)) {
	case DNS_IO_AGAIN:
		return 0;
	case DNS_IO_EOF:
		dns_query_failed(q, "closed before answering");
		return 0;
	case DNS_IO_ERROR:
		dns_query_failed(q, strerror(errno));
		return 0;
	case DNS_IO_DONE:
		break;
	}
	ans = dns_frame_take(&q->up.rd, &len);
	if (dns_answer_matches(q, ans, len))
		dns_query_upstream_answer(q, ans, len);
	else
		dns_query_failed(q, "answer does not match the query");
	free(ans);
	return 0;
}

/* A connection per attempt: one answer, no reuse, nothing to multiplex. */
int dns_tcp_upstream_start(struct dns_query *q)
{
	q->up.sent = 0;
	return dns_upstream_open(q, SOCK_STREAM, EPOLLOUT,
				 dns_tcp_upstream_ready);
}
