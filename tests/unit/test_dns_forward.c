// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Unit tests of the DNS endpoint. Loopback only: fake upstream servers on
 * 127.0.0.1 / ::1 with kernel-chosen ports, answered from the test's own
 * epoll loop, which also runs the forwarder. Every wait is bounded.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/error.h"
#include "dns/dns_forward.h"
#include "dns/dns_forward_internal.h"
#include "common/evloop.h"
#include "common/log.h"

#define MAX_SERVERS 3
#define FAKE_CONNS 8
#define MARKER(i) (uint8_t)(10 + (i)) /* last byte of a server's A record */

/* ---- DNS messages ---- */

static void put16(uint8_t *p, unsigned int v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static unsigned int get16(const uint8_t *p)
{
	return (unsigned int)p[0] << 8 | p[1];
}

/* "www.example.com" A IN with RD, and an OPT record when edns is set. */
static size_t make_query(uint8_t *out, unsigned int id, unsigned int edns)
{
	static const uint8_t question[] = { 3,	 'w', 'w', 'w', 7,   'e', 'x',
					    'a', 'm', 'p', 'l', 'e', 3,	  'c',
					    'o', 'm', 0,   0,	1,   0,	  1 };
	size_t n = DNS_HDR_LEN;

	memset(out, 0, DNS_HDR_LEN);
	put16(out, id);
	out[2] = 0x01;
	put16(out + 4, 1);
	memcpy(out + n, question, sizeof(question));
	n += sizeof(question);
	if (edns) {
		put16(out + 10, 1);
		memset(out + n, 0, 11);
		put16(out + n + 1, 41);
		put16(out + n + 3, edns);
		n += 11;
	}
	return n;
}

/* The fake servers' answer: the question, then n A records 127.0.0.m. */
static size_t make_answer(const uint8_t *q, size_t qlen, uint8_t marker,
			  unsigned int n, int tc, uint8_t *out)
{
	size_t qend = DNS_HDR_LEN;

	while (qend < qlen && q[qend])
		qend += q[qend] + 1u;
	qend += 5;
	memcpy(out, q, qend);
	out[2] = (uint8_t)(0x80 | (q[2] & 0x01) | (tc ? 0x02 : 0));
	out[3] = 0x80;
	put16(out + 6, tc ? 0 : n);
	put16(out + 8, 0);
	put16(out + 10, 0);
	if (tc)
		return qend;
	for (unsigned int i = 0; i < n; i++) {
		static const uint8_t rr[] = { 0xc0, 0x0c, 0, 1, 0,   1, 0, 0,
					      0,    60,	  0, 4, 127, 0, 0 };

		memcpy(out + qend, rr, sizeof(rr));
		out[qend + sizeof(rr)] = marker;
		qend += sizeof(rr) + 1;
	}
	return qend;
}

static uint8_t answer_marker(const uint8_t *a, size_t len)
{
	assert_true(get16(a + 6) >= 1);
	return a[len - 1];
}

/* ---- the loop ---- */

static int test_epfd = -1;

static void loop_once(int timeout_ms)
{
	struct epoll_event evs[8];
	int n = epoll_wait(test_epfd, evs, 8, timeout_ms);

	if (n < 0)
		assert_int_equal(errno, EINTR);
	for (int i = 0; i < n; i++) {
		struct ev_source *src = evs[i].data.ptr;

		src->on_ready(src, evs[i].events);
	}
}

/* Runs the loop until done(arg) or max_ms pass; returns done(arg). */
static int loop_until(int (*done)(void *), void *arg, int max_ms)
{
	uint64_t end = dns_now_ms() + (uint64_t)max_ms;

	while (!done(arg)) {
		uint64_t now = dns_now_ms();

		if (now >= end)
			return 0;
		loop_once(end - now < 10 ? (int)(end - now) : 10);
	}
	return 1;
}

static int never(void *arg)
{
	(void)arg;
	return 0;
}

static void loop_for(int ms)
{
	loop_until(never, NULL, ms);
}

/* ---- fake upstream servers ---- */

enum fake_mode {
	FAKE_ANSWER,
	FAKE_SILENT,   /* reads queries, never answers */
	FAKE_TRUNCATE, /* UDP: TC set, no records; TCP: full answer */
	FAKE_WRONG_ID, /* UDP: a wrong ID, then the answer; TCP: wrong ID */
};

struct fake_conn {
	struct ev_source src;
	struct fake_server *srv;
	uint8_t buf[70000];
	size_t len;
};

struct fake_server {
	struct ev_source udp, tcp;
	uint16_t port;
	enum fake_mode mode;
	uint8_t marker;
	unsigned int tcp_records; /* A records in a TCP answer */
	int udp_queries, tcp_queries;
	struct fake_conn conns[FAKE_CONNS];
};

static int fake_udp_ready(struct ev_source *src, uint32_t events)
{
	struct fake_server *s = container_of(src, struct fake_server, udp);
	uint8_t q[4096], a[4096];
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	ssize_t n;
	size_t len;

	(void)events;
	n = recvfrom(src->fd, q, sizeof(q), MSG_DONTWAIT,
		     (struct sockaddr *)&peer, &plen);
	if (n < DNS_HDR_LEN)
		return 0;
	s->udp_queries++;
	if (s->mode == FAKE_SILENT)
		return 0;
	len = make_answer(q, (size_t)n, s->marker, 1, s->mode == FAKE_TRUNCATE,
			  a);
	if (s->mode == FAKE_WRONG_ID) {
		a[1] ^= 1;
		assert_true(sendto(src->fd, a, len, 0, (struct sockaddr *)&peer,
				   plen) == (ssize_t)len);
		a[1] ^= 1;
	}
	assert_true(sendto(src->fd, a, len, 0, (struct sockaddr *)&peer,
			   plen) == (ssize_t)len);
	return 0;
}

static void fake_conn_close(struct fake_conn *c)
{
	close(c->src.fd);
	c->src.fd = -1;
	c->len = 0;
}

static void fake_conn_answer(struct fake_conn *c, const uint8_t *q, size_t qlen)
{
	uint8_t a[4096 + 2];
	size_t len;

	c->srv->tcp_queries++;
	if (c->srv->mode == FAKE_SILENT)
		return;
	len = make_answer(q, qlen, c->srv->marker, c->srv->tcp_records, 0,
			  a + 2);
	if (c->srv->mode == FAKE_WRONG_ID)
		a[3] ^= 1;
	put16(a, len);
	assert_true(send(c->src.fd, a, len + 2, MSG_NOSIGNAL) ==
		    (ssize_t)len + 2);
}

static int fake_conn_ready(struct ev_source *src, uint32_t events)
{
	struct fake_conn *c = container_of(src, struct fake_conn, src);
	ssize_t n;

	(void)events;
	if (src->fd < 0)
		return 0;
	n = recv(src->fd, c->buf + c->len, sizeof(c->buf) - c->len,
		 MSG_DONTWAIT);
	if (n <= 0) {
		if (n == 0 || errno != EAGAIN)
			fake_conn_close(c);
		return 0;
	}
	c->len += (size_t)n;
	while (c->len >= 2 && c->len >= 2 + get16(c->buf)) {
		size_t flen = get16(c->buf);

		fake_conn_answer(c, c->buf + 2, flen);
		memmove(c->buf, c->buf + 2 + flen, c->len - 2 - flen);
		c->len -= 2 + flen;
	}
	return 0;
}

static int fake_tcp_ready(struct ev_source *src, uint32_t events)
{
	struct fake_server *s = container_of(src, struct fake_server, tcp);
	int fd = accept4(src->fd, NULL, NULL, SOCK_CLOEXEC);

	(void)events;
	if (fd < 0)
		return 0;
	for (int i = 0; i < FAKE_CONNS; i++) {
		struct fake_conn *c = &s->conns[i];

		if (c->src.fd >= 0)
			continue;
		c->src.fd = fd;
		c->src.on_ready = fake_conn_ready;
		c->srv = s;
		c->len = 0;
		assert_int_equal(ev_add(test_epfd, &c->src, EPOLLIN), 0);
		return 0;
	}
	close(fd);
	return 0;
}

static socklen_t loopback(int family, uint16_t port,
			  struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		sin6->sin6_port = htons(port);
		return sizeof(*sin6);
	}
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin->sin_port = htons(port);
	return sizeof(*sin);
}

static uint16_t bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* A UDP and a TCP socket on loopback with the same kernel-chosen port. */
static void bind_pair(int family, int *udp, int *tcp, uint16_t *port)
{
	for (int attempt = 0; attempt < 16; attempt++) {
		struct sockaddr_storage ss;
		socklen_t len = loopback(family, 0, &ss);

		*udp = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		*tcp = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_true(*udp >= 0 && *tcp >= 0);
		assert_int_equal(bind(*udp, (struct sockaddr *)&ss, len), 0);
		*port = bound_port(*udp);
		len = loopback(family, *port, &ss);
		if (bind(*tcp, (struct sockaddr *)&ss, len) == 0 &&
		    listen(*tcp, 16) == 0)
			return;
		close(*udp);
		close(*tcp);
	}
	fail_msg("no port free for both UDP and TCP");
}

static void fake_start(struct fake_server *s, int family, enum fake_mode mode,
		       uint8_t marker)
{
	int udp, tcp;

	memset(s, 0, sizeof(*s));
	s->mode = mode;
	s->marker = marker;
	s->tcp_records = 1;
	for (int i = 0; i < FAKE_CONNS; i++)
		s->conns[i].src.fd = -1;
	bind_pair(family, &udp, &tcp, &s->port);
	s->udp.fd = udp;
	s->udp.on_ready = fake_udp_ready;
	s->tcp.fd = tcp;
	s->tcp.on_ready = fake_tcp_ready;
	assert_int_equal(ev_add(test_epfd, &s->udp, EPOLLIN), 0);
	assert_int_equal(ev_add(test_epfd, &s->tcp, EPOLLIN), 0);
}

static void fake_stop(struct fake_server *s)
{
	if (!s->port)
		return;
	for (int i = 0; i < FAKE_CONNS; i++)
		if (s->conns[i].src.fd >= 0)
			fake_conn_close(&s->conns[i]);
	close(s->udp.fd);
	close(s->tcp.fd);
	s->port = 0;
}

/* A port where nothing listens, UDP or TCP: queries are refused. */
static uint16_t closed_port(void)
{
	int udp, tcp;
	uint16_t port;

	bind_pair(AF_INET, &udp, &tcp, &port);
	close(udp);
	close(tcp);
	return port;
}

/* ---- fixture ---- */

struct ctx {
	struct fake_server srv[MAX_SERVERS];
	struct policy_addr addrs[MAX_SERVERS];
	size_t n_addrs;
	struct dns_fwd *fwd;
	int fds[16];
	size_t n_fds;
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	if (!c)
		return -1;
	test_epfd = epoll_create1(EPOLL_CLOEXEC);
	if (test_epfd < 0) {
		free(c);
		return -1;
	}
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	dns_fwd_free(c->fwd);
	for (int i = 0; i < MAX_SERVERS; i++)
		fake_stop(&c->srv[i]);
	for (size_t i = 0; i < c->n_fds; i++)
		close(c->fds[i]);
	close(test_epfd);
	test_epfd = -1;
	free(c);
	return 0;
}

static void add_server(struct ctx *c, int family, uint16_t port)
{
	struct policy_addr *a = &c->addrs[c->n_addrs++];

	memset(a, 0, sizeof(*a));
	a->family = family;
	a->port = port;
	if (family == AF_INET6)
		memcpy(a->addr, &in6addr_loopback, 16);
	else
		a->addr[0] = 127, a->addr[3] = 1;
}

/* Server i of the context, answering with MARKER(i). */
static struct fake_server *add_fake(struct ctx *c, int family,
				    enum fake_mode mode)
{
	struct fake_server *s = &c->srv[c->n_addrs];

	fake_start(s, family, mode, MARKER(c->n_addrs));
	add_server(c, family, s->port);
	return s;
}

static void start_fwd(struct ctx *c, unsigned int timeout_ms,
		      unsigned int max_pending)
{
	struct dns_fwd_config cfg = {
		.servers = c->addrs,
		.n_servers = c->n_addrs,
		.timeout_ms = timeout_ms,
		.max_pending = max_pending,
	};
	char err[AWF_ERR_LEN] = "";

	c->fwd = dns_fwd_new(&cfg, test_epfd, err, sizeof(err));
	if (!c->fwd)
		fail_msg("dns_fwd_new: %s", err);
	assert_true(dns_fwd_port(c->fwd) != 0);
}

/* The forwarder in front of one fake IPv4 server. */
static struct fake_server *serve(struct ctx *c, enum fake_mode mode,
				 unsigned int timeout_ms,
				 unsigned int max_pending)
{
	struct fake_server *s = add_fake(c, AF_INET, mode);

	start_fwd(c, timeout_ms, max_pending);
	return s;
}

static int keep_fd(struct ctx *c, int fd)
{
	assert_true(fd >= 0);
	assert_true(c->n_fds < sizeof(c->fds) / sizeof(c->fds[0]));
	c->fds[c->n_fds++] = fd;
	return fd;
}

/* ---- clients ---- */

struct udp_wait {
	int fd;
	uint8_t buf[65536];
	ssize_t len;
};

static int udp_client(struct ctx *c, int family)
{
	return keep_fd(c, socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
}

static void udp_send(struct ctx *c, int fd, int family, const uint8_t *msg,
		     size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sslen = loopback(family, dns_fwd_port(c->fwd), &ss);

	assert_true(sendto(fd, msg, len, 0, (struct sockaddr *)&ss, sslen) ==
		    (ssize_t)len);
}

static int udp_got(void *arg)
{
	struct udp_wait *w = arg;

	w->len = recv(w->fd, w->buf, sizeof(w->buf), MSG_DONTWAIT);
	return w->len >= 0;
}

/* The next datagram on fd within max_ms; len -1 when none came. */
static struct udp_wait *udp_wait(int fd, int max_ms)
{
	static struct udp_wait w;

	w.fd = fd;
	w.len = -1;
	loop_until(udp_got, &w, max_ms);
	return &w;
}

static int tcp_client(struct ctx *c, int family)
{
	int fd = keep_fd(c, socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
	struct sockaddr_storage ss;
	socklen_t len = loopback(family, dns_fwd_port(c->fwd), &ss);

	/* Completes from the listen backlog: the loop need not run. */
	assert_int_equal(connect(fd, (struct sockaddr *)&ss, len), 0);
	return fd;
}

static void tcp_send_frame(int fd, const uint8_t *msg, size_t len)
{
	uint8_t buf[4096];

	put16(buf, len);
	memcpy(buf + 2, msg, len);
	assert_true(send(fd, buf, len + 2, MSG_NOSIGNAL) == (ssize_t)len + 2);
}

struct tcp_wait {
	int fd;
	uint8_t buf[1 << 17];
	size_t len;
	int want;
	int eof;
};

static int tcp_frames(const struct tcp_wait *w)
{
	size_t off = 0;
	int n = 0;

	while (off + 2 <= w->len && off + 2 + get16(w->buf + off) <= w->len) {
		off += 2 + get16(w->buf + off);
		n++;
	}
	return n;
}

static int tcp_got(void *arg)
{
	struct tcp_wait *w = arg;
	ssize_t n;

	n = recv(w->fd, w->buf + w->len, sizeof(w->buf) - w->len, MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN))
		w->eof = 1;
	else if (n > 0)
		w->len += (size_t)n;
	return w->eof || tcp_frames(w) >= w->want;
}

/* Waits for want answers (or EOF); frame i starts at tcp_frame(w, i). */
static struct tcp_wait *tcp_wait(int fd, int want, int max_ms)
{
	static struct tcp_wait w;

	w.fd = fd;
	w.len = 0;
	w.want = want;
	w.eof = 0;
	loop_until(tcp_got, &w, max_ms);
	return &w;
}

static const uint8_t *tcp_frame(const struct tcp_wait *w, int i, size_t *len)
{
	size_t off = 0;

	assert_true(tcp_frames(w) > i);
	while (i--)
		off += 2 + get16(w->buf + off);
	*len = get16(w->buf + off);
	return w->buf + off + 2;
}

/* Sends q from fd to the endpoint; the reply, len -1 if none came. */
static struct udp_wait *udp_ask(struct ctx *c, int fd, int family,
				const uint8_t *q, size_t qlen, int max_ms)
{
	udp_send(c, fd, family, q, qlen);
	return udp_wait(fd, max_ms);
}

/* Sends q on a new TCP connection and returns the first answer. */
static const uint8_t *tcp_ask(struct ctx *c, int family, const uint8_t *q,
			      size_t qlen, size_t *alen, int max_ms)
{
	int fd = tcp_client(c, family);

	tcp_send_frame(fd, q, qlen);
	return tcp_frame(tcp_wait(fd, 1, max_ms), 0, alen);
}

/* A NOERROR answer to id carrying the record of server i. */
static void check_answer(const uint8_t *a, ssize_t len, unsigned int id,
			 int server)
{
	assert_true(len > DNS_HDR_LEN);
	assert_int_equal(get16(a), id);
	assert_true(a[2] & DNS_FLAG_QR);
	assert_int_equal(a[3] & 0x0f, 0);
	assert_int_equal(answer_marker(a, (size_t)len), MARKER(server));
}

static void check_servfail(const uint8_t *a, ssize_t alen, const uint8_t *q,
			   size_t qlen)
{
	assert_int_equal(alen, qlen);
	assert_memory_equal(a, q, 2);
	assert_int_equal(a[2], 0x80 | 0x01);		   /* QR, RD kept */
	assert_int_equal(a[3], 0x80 | DNS_RCODE_SERVFAIL); /* RA per RD */
	assert_memory_equal(a + 4, q + 4, 2);		   /* QDCOUNT */
	assert_int_equal(get16(a + 6), 0);
	assert_int_equal(get16(a + 8), 0);
	assert_memory_equal(a + 10, q + 10, qlen - 10); /* ARCOUNT, body */
}

static uint64_t ms_since(uint64_t t0)
{
	return dns_now_ms() - t0;
}

/* ---- tests ---- */

static void test_udp_relay(void **state)
{
	struct ctx *c = *state;
	struct fake_server *s;
	uint8_t q[512];
	size_t qlen = make_query(q, 0x1234, 0);
	struct udp_wait *w;

	s = serve(c, FAKE_ANSWER, 1000, 0);
	w = udp_ask(c, udp_client(c, AF_INET), AF_INET, q, qlen, 2000);
	check_answer(w->buf, w->len, 0x1234, 0);
	assert_memory_equal(w->buf + DNS_HDR_LEN, q + DNS_HDR_LEN,
			    qlen - DNS_HDR_LEN);
	assert_int_equal(s->udp_queries, 1);
	assert_int_equal(s->tcp_queries, 0);
}

static void test_tcp_relay(void **state)
{
	struct ctx *c = *state;
	struct fake_server *s;
	uint8_t q[512];
	size_t qlen = make_query(q, 0xbeef, 0), alen;
	const uint8_t *a;

	s = serve(c, FAKE_ANSWER, 1000, 0);
	a = tcp_ask(c, AF_INET, q, qlen, &alen, 2000);
	check_answer(a, (ssize_t)alen, 0xbeef, 0);
	assert_int_equal(s->tcp_queries, 1);
	assert_int_equal(s->udp_queries, 0);
}

static void test_tcp_pipelined(void **state)
{
	struct ctx *c = *state;
	uint8_t q1[512], q2[512], both[1024 + 4];
	size_t l1 = make_query(q1, 0x0101, 0),
	       l2 = make_query(q2, 0x0202, 1232);
	size_t alen;
	unsigned int seen = 0;
	struct tcp_wait *w;
	int fd;

	serve(c, FAKE_ANSWER, 1000, 0);
	fd = tcp_client(c, AF_INET);
	/* One write: both queries reach the endpoint in one segment. */
	put16(both, l1);
	memcpy(both + 2, q1, l1);
	put16(both + 2 + l1, l2);
	memcpy(both + 4 + l1, q2, l2);
	assert_true(send(fd, both, l1 + l2 + 4, 0) == (ssize_t)(l1 + l2 + 4));
	w = tcp_wait(fd, 2, 2000);
	assert_int_equal(tcp_frames(w), 2);
	for (int i = 0; i < 2; i++) {
		const uint8_t *a = tcp_frame(w, i, &alen);

		seen |= get16(a) == 0x0101 ? 1 : get16(a) == 0x0202 ? 2 : 4;
	}
	assert_int_equal(seen, 3);
}

static void test_failover_refused(void **state)
{
	struct ctx *c = *state;
	uint8_t q[512];
	size_t qlen = make_query(q, 0x5151, 0), alen;
	uint64_t t0 = dns_now_ms();
	struct udp_wait *w;
	const uint8_t *a;

	add_server(c, AF_INET, closed_port());
	add_fake(c, AF_INET, FAKE_ANSWER);
	/* A long timeout: the refusal, not the timer, must move on. */
	start_fwd(c, 3000, 0);
	w = udp_ask(c, udp_client(c, AF_INET), AF_INET, q, qlen, 2000);
	check_answer(w->buf, w->len, 0x5151, 1);
	assert_true(ms_since(t0) < 1500);

	c->fwd->current = 0; /* make TCP meet the closed port first too */
	t0 = dns_now_ms();
	a = tcp_ask(c, AF_INET, q, qlen, &alen, 2000);
	check_answer(a, (ssize_t)alen, 0x5151, 1);
	assert_true(ms_since(t0) < 1500);
}

static void test_failover_timeout(void **state)
{
	struct ctx *c = *state;
	struct fake_server *silent = add_fake(c, AF_INET, FAKE_SILENT);
	uint8_t q[512];
	size_t qlen = make_query(q, 0x7001, 0);
	uint64_t t0, took;
	struct udp_wait *w;
	int fd;

	add_fake(c, AF_INET, FAKE_ANSWER);
	start_fwd(c, 200, 0);
	fd = udp_client(c, AF_INET);
	t0 = dns_now_ms();
	w = udp_ask(c, fd, AF_INET, q, qlen, 2000);
	took = ms_since(t0);
	check_answer(w->buf, w->len, 0x7001, 1);
	assert_true(took >= 190 && took < 1000);
	assert_int_equal(silent->udp_queries, 1);

	/* The next query goes to the server that answered, at once. */
	qlen = make_query(q, 0x7002, 0);
	t0 = dns_now_ms();
	w = udp_ask(c, fd, AF_INET, q, qlen, 2000);
	check_answer(w->buf, w->len, 0x7002, 1);
	assert_true(ms_since(t0) < 150);
	assert_int_equal(silent->udp_queries, 1);
}

static void test_wrong_id_ignored(void **state)
{
	struct ctx *c = *state;
	struct fake_server *liar = add_fake(c, AF_INET, FAKE_WRONG_ID);
	uint8_t q[512];
	size_t qlen = make_query(q, 0x1d1d, 0), alen;
	struct udp_wait *w;
	const uint8_t *a;
	int fd;

	add_fake(c, AF_INET, FAKE_ANSWER);
	start_fwd(c, 1000, 0);
	/* UDP: the forged datagram is skipped, the real answer relayed. */
	fd = udp_client(c, AF_INET);
	w = udp_ask(c, fd, AF_INET, q, qlen, 2000);
	check_answer(w->buf, w->len, 0x1d1d, 0);
	assert_true(udp_wait(fd, 100)->len < 0);

	/* TCP: a wrong answer ends the attempt; the next server answers. */
	a = tcp_ask(c, AF_INET, q, qlen, &alen, 2000);
	check_answer(a, (ssize_t)alen, 0x1d1d, 1);
	assert_int_equal(liar->tcp_queries, 1);
}

static void test_all_down_servfail(void **state)
{
	struct ctx *c = *state;
	uint8_t q[512];
	size_t qlen = make_query(q, 0xdead, 1232), alen;
	uint64_t t0, took;
	struct udp_wait *w;
	const uint8_t *a;

	add_fake(c, AF_INET, FAKE_SILENT);
	add_fake(c, AF_INET, FAKE_SILENT);
	start_fwd(c, 200, 0);
	t0 = dns_now_ms();
	w = udp_ask(c, udp_client(c, AF_INET), AF_INET, q, qlen, 3000);
	took = ms_since(t0);
	check_servfail(w->buf, w->len, q, qlen);
	assert_true(took >= 390 && took < 1200);
	assert_int_equal(c->srv[0].udp_queries, 1);
	assert_int_equal(c->srv[1].udp_queries, 1);

	/* Over TCP, silent servers time out the same way. */
	t0 = dns_now_ms();
	a = tcp_ask(c, AF_INET, q, qlen, &alen, 3000);
	took = ms_since(t0);
	check_servfail(a, (ssize_t)alen, q, qlen);
	assert_true(took >= 390 && took < 1200);
	assert_int_equal(c->fwd->n_pending, 0);
}

static void test_all_refused_servfail(void **state)
{
	struct ctx *c = *state;
	uint8_t q[512];
	size_t qlen = make_query(q, 0x0bad, 0);
	struct udp_wait *w;

	add_server(c, AF_INET, closed_port());
	add_server(c, AF_INET, closed_port());
	start_fwd(c, 3000, 0);
	w = udp_ask(c, udp_client(c, AF_INET), AF_INET, q, qlen, 1500);
	check_servfail(w->buf, w->len, q, qlen);
}

/* UDP answer with TC, retried over TCP; returns what the client got. */
static struct udp_wait *truncated_query(struct ctx *c, unsigned int records,
					unsigned int edns)
{
	struct fake_server *s;
	uint8_t q[512];
	size_t qlen = make_query(q, 0x7c7c, edns);
	struct udp_wait *w;

	s = serve(c, FAKE_TRUNCATE, 1000, 0);
	s->tcp_records = records;
	w = udp_ask(c, udp_client(c, AF_INET), AF_INET, q, qlen, 2000);
	assert_true(w->len > 0);
	assert_int_equal(get16(w->buf), 0x7c7c);
	assert_int_equal(s->udp_queries, 1);
	assert_int_equal(s->tcp_queries, 1);
	return w;
}

static void test_truncated_retried_over_tcp(void **state)
{
	struct udp_wait *w = truncated_query(*state, 1, 0);

	assert_int_equal(w->buf[2] & DNS_FLAG_TC, 0);
	check_answer(w->buf, w->len, 0x7c7c, 0);
}

static void test_truncated_tcp_answer_too_big(void **state)
{
	/* 40 records are over 512 bytes: the client gets the TC answer. */
	struct udp_wait *w = truncated_query(*state, 40, 0);

	assert_true(w->buf[2] & DNS_FLAG_TC);
	assert_int_equal(get16(w->buf + 6), 0);
}

static void test_truncated_tcp_answer_fits_edns(void **state)
{
	struct udp_wait *w = truncated_query(*state, 40, 4096);

	assert_int_equal(w->buf[2] & DNS_FLAG_TC, 0);
	assert_int_equal(get16(w->buf + 6), 40);
	assert_true(w->len > 512);
}

static int ipv6_loopback_works(void)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(AF_INET6, 0, &ss);
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int ok = fd >= 0 && bind(fd, (struct sockaddr *)&ss, len) == 0;

	if (fd >= 0)
		close(fd);
	return ok;
}

static void test_ipv6_endpoint(void **state)
{
	struct ctx *c = *state;
	uint8_t q[512];
	size_t qlen = make_query(q, 0x0606, 0), alen;
	struct udp_wait *w;
	const uint8_t *a;

	if (!ipv6_loopback_works())
		skip();
	/* An IPv6 upstream too, so both address families are forwarded. */
	add_fake(c, AF_INET6, FAKE_ANSWER);
	start_fwd(c, 1000, 0);
	assert_true(dns_fwd_has_ipv6(c->fwd));
	w = udp_ask(c, udp_client(c, AF_INET6), AF_INET6, q, qlen, 2000);
	check_answer(w->buf, w->len, 0x0606, 0);
	a = tcp_ask(c, AF_INET6, q, qlen, &alen, 2000);
	check_answer(a, (ssize_t)alen, 0x0606, 0);
	assert_int_equal(c->srv[0].tcp_queries, 1);
}

static int port_taken(int family, int type, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(family, port, &ss);
	int fd = socket(family, type | SOCK_CLOEXEC, 0);
	int rc;

	assert_true(fd >= 0);
	rc = bind(fd, (struct sockaddr *)&ss, len);
	close(fd);
	return rc < 0 && errno == EADDRINUSE;
}

static void test_same_port_everywhere(void **state)
{
	struct ctx *c = *state;
	uint16_t port;

	serve(c, FAKE_ANSWER, 0, 0);
	port = dns_fwd_port(c->fwd);
	assert_true(port_taken(AF_INET, SOCK_DGRAM, port));
	assert_true(port_taken(AF_INET, SOCK_STREAM, port));
	if (dns_fwd_has_ipv6(c->fwd)) {
		assert_true(port_taken(AF_INET6, SOCK_DGRAM, port));
		assert_true(port_taken(AF_INET6, SOCK_STREAM, port));
	}
	assert_int_equal(c->fwd->timeout_ms, DNS_DEFAULT_TIMEOUT_MS);
	assert_int_equal(c->fwd->max_pending, DNS_DEFAULT_MAX_PENDING);
}

static void test_garbage_ignored(void **state)
{
	struct ctx *c = *state;
	struct fake_server *s;
	uint8_t q[512], junk[5] = { 1, 2, 3, 4, 5 };
	size_t qlen = make_query(q, 0x4242, 0), alen;
	struct udp_wait *w;
	const uint8_t *a;
	int fd;

	s = serve(c, FAKE_ANSWER, 1000, 0);
	fd = udp_client(c, AF_INET);
	udp_send(c, fd, AF_INET, junk, sizeof(junk));
	q[2] |= DNS_FLAG_QR; /* a response: not a query */
	udp_send(c, fd, AF_INET, q, qlen);
	q[2] &= (uint8_t)~DNS_FLAG_QR;
	w = udp_ask(c, fd, AF_INET, q, qlen, 2000);
	check_answer(w->buf, w->len, 0x4242, 0);
	assert_true(udp_wait(fd, 150)->len < 0);
	assert_int_equal(s->udp_queries, 1);

	/* Over TCP: an empty and a short message, then a real one. */
	fd = tcp_client(c, AF_INET);
	tcp_send_frame(fd, junk, 0);
	tcp_send_frame(fd, junk, sizeof(junk));
	tcp_send_frame(fd, q, qlen);
	a = tcp_frame(tcp_wait(fd, 1, 2000), 0, &alen);
	check_answer(a, (ssize_t)alen, 0x4242, 0);
	assert_int_equal(s->tcp_queries, 1);
}

static void test_max_pending_overflow(void **state)
{
	struct ctx *c = *state;
	uint8_t q[512];
	size_t qlen;
	struct udp_wait *w;
	uint64_t t0;
	int fd;

	serve(c, FAKE_SILENT, 5000, 2);
	fd = udp_client(c, AF_INET);
	for (unsigned int id = 1; id <= 2; id++)
		udp_send(c, fd, AF_INET, q, make_query(q, id, 0));
	loop_for(50);
	assert_int_equal(c->fwd->n_pending, 2);
	qlen = make_query(q, 3, 0);
	t0 = dns_now_ms();
	w = udp_ask(c, fd, AF_INET, q, qlen, 1000);
	check_servfail(w->buf, w->len, q, qlen);
	assert_true(ms_since(t0) < 500);
	assert_true(udp_wait(fd, 100)->len < 0);
	assert_int_equal(c->fwd->n_pending, 2);
	/* dns_fwd_free in teardown drops the two pending queries. */
}

static void test_tcp_conn_limit(void **state)
{
	struct ctx *c = *state;
	uint8_t q[512];
	size_t alen;
	const uint8_t *a;
	int fd;

	serve(c, FAKE_ANSWER, 1000, 0);
	c->fwd->max_conns = 2;
	for (int i = 0; i < 3; i++) {
		fd = tcp_client(c, AF_INET);
		loop_for(20);
	}
	assert_int_equal(c->fwd->n_conns, 2);
	assert_true(tcp_wait(fd, 1, 1000)->eof); /* the third one */
	tcp_send_frame(c->fds[0], q, make_query(q, 0x0c0c, 0));
	a = tcp_frame(tcp_wait(c->fds[0], 1, 2000), 0, &alen);
	check_answer(a, (ssize_t)alen, 0x0c0c, 0);
}

static void test_tcp_idle_timeout(void **state)
{
	struct ctx *c = *state;
	uint64_t t0;
	int fd;

	serve(c, FAKE_ANSWER, 1000, 0);
	c->fwd->idle_ms = 200;
	fd = tcp_client(c, AF_INET);
	t0 = dns_now_ms();
	assert_true(tcp_wait(fd, 1, 2000)->eof);
	assert_true(ms_since(t0) >= 190);
	assert_int_equal(c->fwd->n_conns, 0);
}

static void test_tcp_half_close(void **state)
{
	struct ctx *c = *state;
	uint8_t q[512];
	size_t alen;
	struct tcp_wait *w;
	int fd;

	serve(c, FAKE_ANSWER, 1000, 0);
	fd = tcp_client(c, AF_INET);
	tcp_send_frame(fd, q, make_query(q, 0x0d0d, 0));
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	w = tcp_wait(fd, 2, 2000); /* the answer, then EOF */
	assert_int_equal(tcp_frames(w), 1);
	assert_int_equal(get16(tcp_frame(w, 0, &alen)), 0x0d0d);
	assert_true(w->eof);
	assert_int_equal(c->fwd->n_conns, 0);
}

static void test_tcp_client_gone(void **state)
{
	struct ctx *c = *state;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	uint8_t q[512];
	int fd;

	serve(c, FAKE_SILENT, 5000, 0);
	fd = tcp_client(c, AF_INET);
	tcp_send_frame(fd, q, make_query(q, 0x0e0e, 0));
	loop_for(100);
	assert_int_equal(c->fwd->n_pending, 1);
	/* A reset: its pending query is dropped with it. */
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)),
			 0);
	close(fd);
	c->n_fds--;
	loop_for(100);
	assert_int_equal(c->fwd->n_pending, 0);
	assert_int_equal(c->fwd->n_conns, 0);
}

static void test_bad_config(void **state)
{
	struct ctx *c = *state;
	struct dns_fwd_config cfg = { .servers = c->addrs };
	char err[AWF_ERR_LEN] = "";

	assert_null(dns_fwd_new(&cfg, test_epfd, err, sizeof(err)));
	assert_non_null(strstr(err, "no upstream"));
	add_server(c, AF_INET, 53);
	c->addrs[0].family = AF_UNIX;
	cfg.n_servers = 1;
	assert_null(dns_fwd_new(&cfg, test_epfd, err, sizeof(err)));
	assert_non_null(strstr(err, "family"));
}

static void test_build_error_drops_answers(void **state)
{
	uint8_t q[512], out[512];
	size_t qlen, n;

	(void)state;
	/* A query carrying an answer record: only the question stays. */
	qlen = make_query(q, 0x1111, 0);
	qlen = make_answer(q, qlen, 1, 1, 0, out);
	memcpy(q, out, qlen);
	q[2] = 0x00; /* RD clear: RA clear too */
	n = dns_build_error(q, qlen, DNS_RCODE_SERVFAIL, out);
	assert_int_equal(n, qlen - 16);
	assert_int_equal(out[2], 0x80);
	assert_int_equal(out[3], DNS_RCODE_SERVFAIL);
	assert_int_equal(get16(out + 6), 0);

	/* A name running off the end: a bare header. */
	q[DNS_HDR_LEN] = 60;
	n = dns_build_error(q, DNS_HDR_LEN + 4, DNS_RCODE_SERVFAIL, out);
	assert_int_equal(n, DNS_HDR_LEN);
	assert_int_equal(get16(out + 4), 0);
	assert_int_equal(get16(out + 10), 0);
}

static void test_udp_payload_limit(void **state)
{
	uint8_t q[512];

	(void)state;
	assert_int_equal(dns_udp_payload_limit(q, make_query(q, 1, 0)), 512);
	assert_int_equal(dns_udp_payload_limit(q, make_query(q, 1, 1232)),
			 1232);
	assert_int_equal(dns_udp_payload_limit(q, make_query(q, 1, 100)), 512);
	assert_int_equal(dns_udp_payload_limit(q, make_query(q, 1, 65535)),
			 DNS_UDP_MAX_PAYLOAD);
}

/* In a child's own network namespace with IPv6 off on lo. */
static int child_without_ipv6(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	struct policy_addr srv = { .family = AF_INET, .port = 53 };
	struct dns_fwd_config cfg = { .servers = &srv, .n_servers = 1 };
	char err[AWF_ERR_LEN];
	struct dns_fwd *fwd;
	int fd, epfd, ok;

	if (unshare(CLONE_NEWNET) < 0)
		return 77;
	fd = open("/proc/sys/net/ipv6/conf/lo/disable_ipv6", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "1", 1) != 1)
			return 2;
		close(fd);
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return 3;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		return 4;
	close(fd);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	fwd = dns_fwd_new(&cfg, epfd, err, sizeof(err));
	if (!fwd) {
		fprintf(stderr, "dns_fwd_new: %s\n", err);
		return 5;
	}
	ok = !dns_fwd_has_ipv6(fwd) && dns_fwd_port(fwd) &&
	     fwd->listeners[DNS_L_UDP6].src.fd < 0 &&
	     fwd->listeners[DNS_L_TCP4].src.fd >= 0;
	dns_fwd_free(fwd);
	close(epfd);
	return ok ? 0 : 6;
}

static void test_ipv6_unavailable(void **state)
{
	int code;

	(void)state;
	code = exit_code_in_child(child_without_ipv6);
	if (code == 77)
		skip();
	assert_int_equal(code, 0);
}

static bool source_ok(struct dns_listener *l, const char *addr)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, addr, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, addr, &s4->sin_addr), 1);
	}
	return dns_client_source_ok(l, &ss);
}

/* An address of one of this namespace's interfaces, not loopback. */
static bool some_host_addr(char *buf, size_t len)
{
	struct ifaddrs *ifs, *it;
	bool found = false;

	if (getifaddrs(&ifs) < 0)
		return false;
	for (it = ifs; it && !found; it = it->ifa_next) {
		if (!it->ifa_addr || it->ifa_addr->sa_family != AF_INET)
			continue;
		inet_ntop(AF_INET,
			  &((struct sockaddr_in *)it->ifa_addr)->sin_addr, buf,
			  (socklen_t)len);
		found = strncmp(buf, "127.", 4) != 0;
	}
	freeifaddrs(ifs);
	return found;
}

/*
 * Only clients on loopback, or on an address of this host, get answers:
 * any other source is spoofed, and the answer would leave the host. A
 * listener in a pod's namespace answers loopback only.
 */
static void test_client_source(void **state)
{
	struct ctx *c = *state;
	struct dns_listener *main_l, pod_l;
	char host[INET6_ADDRSTRLEN];

	serve(c, FAKE_ANSWER, 0, 0);
	main_l = &c->fwd->listeners[DNS_L_UDP4];
	pod_l = (struct dns_listener){ .fwd = c->fwd };
	for (int i = 0; i < 2; i++) {
		struct dns_listener *l = i ? &pod_l : main_l;

		assert_true(source_ok(l, "127.0.0.1"));
		assert_true(source_ok(l, "127.3.2.1"));
		assert_true(source_ok(l, "::1"));
		assert_true(source_ok(l, "::ffff:127.0.0.1"));
		assert_false(source_ok(l, "198.51.100.7"));
		assert_false(source_ok(l, "::ffff:198.51.100.7"));
		assert_false(source_ok(l, "2001:db8::7"));
		assert_false(source_ok(l, "::"));
	}
	if (some_host_addr(host, sizeof(host))) {
		assert_true(source_ok(main_l, host));
		assert_false(source_ok(&pod_l, host));
	}
}

/* A filter that lets everything through and counts what it was shown. */
struct fake_filter {
	int learned, learned_cached;
	int refuse; /* learn() fails */
	int held, committed;
	int commit_fails;
};

static void fake_hold(void *ctx)
{
	((struct fake_filter *)ctx)->held++;
}

static int fake_commit(void *ctx)
{
	struct fake_filter *f = ctx;

	f->committed++;
	return f->commit_fails ? -1 : 0;
}

static int fake_decide(void *ctx, const uint8_t *query, size_t len,
		       unsigned int *rcode)
{
	(void)ctx, (void)query, (void)len, (void)rcode;
	return 1;
}

static int fake_learn(void *ctx, const uint8_t *query, size_t qlen,
		      const uint8_t *answer, size_t alen, bool cached)
{
	struct fake_filter *f = ctx;

	(void)query, (void)qlen, (void)answer, (void)alen;
	f->learned++;
	f->learned_cached += cached;
	return f->refuse ? -1 : 0;
}

static struct dns_fwd *cached_fwd(struct ctx *c,
				  const struct dns_filter_ops *ops)
{
	struct dns_fwd_config cfg = {
		.servers = c->addrs,
		.n_servers = c->n_addrs,
		.filter = ops,
		.cache_entries = 16,
	};
	char err[AWF_ERR_LEN] = "";
	struct dns_fwd *fwd = dns_fwd_new(&cfg, test_epfd, err, sizeof(err));

	if (!fwd)
		fail_msg("dns_fwd_new: %s", err);
	return fwd;
}

/*
 * A repeated query is answered from the endpoint's cache, over UDP and
 * TCP, with its own ID, and still shown to the filter (as cached) before
 * it goes out; a refused cached answer becomes SERVFAIL. Another endpoint
 * (another sandbox) has a cache of its own and asks upstream itself.
 */
static void test_cache_per_endpoint(void **state)
{
	struct ctx *c = *state;
	struct fake_server *s = add_fake(c, AF_INET, FAKE_ANSWER);
	struct fake_filter ff = { 0 };
	struct dns_filter_ops ops = { .ctx = &ff,
				      .decide = fake_decide,
				      .learn = fake_learn,
				      .hold = fake_hold,
				      .commit = fake_commit };
	uint8_t q[512];
	size_t qlen = make_query(q, 0x0a0a, 0), alen;
	struct dns_fwd *mine;
	struct udp_wait *w;
	const uint8_t *a;
	int fd;

	c->fwd = cached_fwd(c, &ops);
	fd = udp_client(c, AF_INET);
	w = udp_ask(c, fd, AF_INET, q, qlen, 2000);
	check_answer(w->buf, w->len, 0x0a0a, 0);
	assert_int_equal(s->udp_queries, 1);
	assert_int_equal(ff.learned, 1);
	assert_int_equal(ff.learned_cached, 0);

	qlen = make_query(q, 0x0b0b, 0);
	w = udp_ask(c, fd, AF_INET, q, qlen, 2000);
	check_answer(w->buf, w->len, 0x0b0b, 0);
	a = tcp_ask(c, AF_INET, q, qlen, &alen, 2000);
	check_answer(a, (ssize_t)alen, 0x0b0b, 0);
	assert_int_equal(s->udp_queries, 1);
	assert_int_equal(s->tcp_queries, 0);
	assert_int_equal(ff.learned, 3);
	assert_int_equal(ff.learned_cached, 2);

	ff.refuse = 1;
	w = udp_ask(c, fd, AF_INET, q, qlen, 2000);
	check_servfail(w->buf, w->len, q, qlen);
	assert_int_equal(ff.learned_cached, 3);
	ff.refuse = 0;

	/* What a batch learned could not be written: nothing goes out. */
	ff.commit_fails = 1;
	w = udp_ask(c, fd, AF_INET, q, qlen, 2000);
	check_servfail(w->buf, w->len, q, qlen);
	ff.commit_fails = 0;
	assert_true(ff.held >= 3 && ff.committed == ff.held);

	mine = c->fwd;
	c->fwd = cached_fwd(c, &ops);
	w = udp_ask(c, fd, AF_INET, q, qlen, 2000);
	check_answer(w->buf, w->len, 0x0b0b, 0);
	assert_int_equal(s->udp_queries, 2);
	assert_int_equal(ff.learned_cached, 4);
	dns_fwd_free(c->fwd);
	c->fwd = mine;
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_udp_relay),
		T(test_tcp_relay),
		T(test_tcp_pipelined),
		T(test_failover_refused),
		T(test_failover_timeout),
		T(test_wrong_id_ignored),
		T(test_all_down_servfail),
		T(test_all_refused_servfail),
		T(test_truncated_retried_over_tcp),
		T(test_truncated_tcp_answer_too_big),
		T(test_truncated_tcp_answer_fits_edns),
		T(test_ipv6_endpoint),
		T(test_same_port_everywhere),
		T(test_garbage_ignored),
		T(test_max_pending_overflow),
		T(test_tcp_conn_limit),
		T(test_tcp_idle_timeout),
		T(test_tcp_half_close),
		T(test_tcp_client_gone),
		T(test_bad_config),
		T(test_build_error_drops_answers),
		T(test_udp_payload_limit),
		T(test_ipv6_unavailable),
		T(test_client_source),
		T(test_cache_per_endpoint),
	};

	if (getenv("AWF_TEST_DEBUG"))
		log_threshold = LOG_LVL_DEBUG;
	else
		log_threshold = LOG_LVL_ERROR;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
