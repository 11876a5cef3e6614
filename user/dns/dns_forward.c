// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The DNS endpoint: lifecycle, the life of a query (decide, attempts with
 * failover, release of the answer), the shared timer. Sockets are in
 * dns_udp.c and dns_tcp.c, the wire format in dns_wire.c, the cache of
 * released answers in dns_cache.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "dns/dns_forward_internal.h"
#include "common/log.h"
#include "dns/dns_netns.h"
#include "dns/dns_tcp.h"
#include "dns/dns_udp.h"

#define DNS_BIND_ATTEMPTS 16

static unsigned int dns_id(const uint8_t *msg)
{
	return dns_get16(msg);
}

bool dns_answer_matches(const struct dns_query *q, const uint8_t *ans,
			size_t len)
{
	return len >= DNS_HDR_LEN && (ans[2] & DNS_FLAG_QR) &&
	       dns_id(ans) == dns_id(q->msg);
}

void dns_close(int fd, const char *what)
{
	if (close(fd) < 0)
		log_warn("dns endpoint: close %s: %s", what, strerror(errno));
}

/* ---- time ---- */

uint64_t dns_now_ns(void)
{
	struct timespec ts;

	/* Cannot fail: the clock id is valid and ts is writable. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

uint64_t dns_now_ms(void)
{
	return dns_now_ns() / 1000000;
}

static uint64_t dns_earliest(uint64_t a, uint64_t b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	return a < b ? a : b;
}

static void dns_timer_arm(struct dns_fwd *fwd, uint64_t at_ms)
{
	struct itimerspec its = { 0 };

	its.it_value.tv_sec = (time_t)(at_ms / 1000);
	its.it_value.tv_nsec = (long)(at_ms % 1000) * 1000000;
	if (timerfd_settime(fwd->timer.fd, TFD_TIMER_ABSTIME, &its, NULL) < 0) {
		log_error("dns endpoint: timerfd_settime: %s", strerror(errno));
		return;
	}
	fwd->timer_armed_ms = at_ms;
}

/*
 * Arms the timer for the earliest deadline, or disarms it when nothing
 * waits. A timer armed earlier than needed is left alone: it fires, finds
 * nothing due and is re-armed, which costs less than a syscall per query.
 */
void dns_timer_sync(struct dns_fwd *fwd)
{
	uint64_t next = fwd->accept_resume_ms;

	if (!dns_list_empty(&fwd->pending)) {
		struct dns_query *q =
			container_of(fwd->pending.next, struct dns_query, link);

		next = dns_earliest(next, q->deadline_ms);
	}
	next = dns_earliest(next, dns_tcp_next_deadline(fwd));
	if (next == fwd->timer_armed_ms)
		return;
	if (next && fwd->timer_armed_ms && next > fwd->timer_armed_ms)
		return;
	dns_timer_arm(fwd, next);
}

static void dns_queries_expire(struct dns_fwd *fwd, uint64_t now)
{
	/* A failed attempt leaves the head: freed, or requeued later. */
	while (!dns_list_empty(&fwd->pending)) {
		struct dns_query *q =
			container_of(fwd->pending.next, struct dns_query, link);

		if (q->deadline_ms > now)
			break;
		dns_query_failed(q, "timed out");
	}
}

static int dns_timer_ready(struct ev_source *src, uint32_t events)
{
	struct dns_fwd *fwd = container_of(src, struct dns_fwd, timer);
	uint64_t expirations;
	uint64_t now;

	(void)events;
	if (read(src->fd, &expirations, sizeof(expirations)) < 0 &&
	    errno != EAGAIN)
		log_warn("dns endpoint: read timerfd: %s", strerror(errno));
	/* Whether it fired or was re-armed meanwhile, sync sets it right. */
	fwd->timer_armed_ms = 0;
	now = dns_now_ms();
	dns_queries_expire(fwd, now);
	dns_tcp_expire(fwd, now);
	dns_timer_sync(fwd);
	return 0;
}

/* ---- upstream attempts ---- */

static socklen_t dns_sockaddr(const struct policy_addr *a,
			      struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(a->port);
		memcpy(&sin->sin_addr, a->addr, 4);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(a->port);
	memcpy(&sin6->sin6_addr, a->addr, 16);
	return sizeof(*sin6);
}

static const char *dns_addr_str(const struct policy_addr *a, char *buf,
				size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (!inet_ntop(a->family, a->addr, ip, sizeof(ip)))
		snprintf(ip, sizeof(ip), "?");
	snprintf(buf, len, a->family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip,
		 a->port);
	return buf;
}

static size_t dns_query_server(const struct dns_query *q)
{
	return (q->first + q->tries) % q->fwd->n_servers;
}

int dns_upstream_open(struct dns_query *q, int type, uint32_t events,
		      ev_handler on_ready)
{
	const struct policy_addr *srv = &q->fwd->servers[dns_query_server(q)];
	struct sockaddr_storage ss;
	socklen_t sslen = dns_sockaddr(srv, &ss);
	char name[INET6_ADDRSTRLEN + 8];
	int fd;

	fd = socket(srv->family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_warn("dns: upstream socket for %s: %s",
			 dns_addr_str(srv, name, sizeof(name)),
			 strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&ss, sslen) < 0 &&
	    errno != EINPROGRESS) {
		log_debug("dns: connect %s: %s",
			  dns_addr_str(srv, name, sizeof(name)),
			  strerror(errno));
		dns_close(fd, "upstream socket");
		return -1;
	}
	q->up.src.fd = fd;
	q->up.src.on_ready = on_ready;
	q->up.proto = type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
	if (ev_add(q->fwd->epfd, &q->up.src, events) < 0) {
		dns_close(fd, "upstream socket");
		q->up.src.fd = -1;
		return -1;
	}
	return 0;
}

static void dns_upstream_stop(struct dns_query *q)
{
	if (q->up.src.fd >= 0) {
		/* Explicit: a forked child may still share the socket. */
		ev_del(q->fwd->epfd, &q->up.src);
		dns_close(q->up.src.fd, "upstream socket");
		q->up.src.fd = -1;
	}
	free(q->up.rd.msg);
	memset(&q->up.rd, 0, sizeof(q->up.rd));
	q->up.sent = 0;
}

void dns_upstream_abort(struct dns_query *q, const char *why)
{
	const struct policy_addr *srv = &q->fwd->servers[dns_query_server(q)];
	char name[INET6_ADDRSTRLEN + 8];

	log_debug("dns: query %04x to %s over %s: %s", dns_id(q->msg),
		  dns_addr_str(srv, name, sizeof(name)),
		  q->up.proto == IPPROTO_TCP ? "tcp" : "udp", why);
	dns_upstream_stop(q);
}

/* ---- the life of a query ---- */

static struct dns_query *dns_query_alloc(struct dns_fwd *fwd,
					 const struct dns_client *from,
					 const uint8_t *msg, size_t len)
{
	struct dns_query *q;
	uint8_t *wire = malloc(len + 2);

	if (!wire)
		return NULL;
	if (!dns_list_empty(&fwd->free_queries)) {
		q = container_of(fwd->free_queries.next, struct dns_query,
				 link);
		dns_list_del(&q->link);
	} else {
		q = calloc(1, sizeof(*q));
		if (!q) {
			free(wire);
			return NULL;
		}
		dns_list_init(&q->link);
		q->up.src.fd = -1;
	}
	q->fwd = fwd;
	q->client = *from;
	dns_put16(wire, (unsigned int)len);
	memcpy(wire + 2, msg, len);
	q->wire = wire;
	q->msg = wire + 2;
	q->len = len;
	q->first = fwd->current;
	q->tries = 0;
	q->deadline_ms = dns_now_ms() + fwd->timeout_ms;
	dns_list_add_tail(&fwd->pending, &q->link);
	fwd->n_pending++;
	if (from->conn)
		from->conn->inflight++;
	return q;
}

static void dns_query_free(struct dns_query *q)
{
	struct dns_fwd *fwd = q->fwd;
	struct dns_tcp_conn *conn = q->client.conn;

	dns_upstream_stop(q);
	free(q->wire);
	free(q->tc_answer);
	q->wire = NULL;
	q->msg = NULL;
	q->tc_answer = NULL;
	q->client.conn = NULL;
	dns_list_move_tail(&fwd->free_queries, &q->link);
	fwd->n_pending--;
	if (conn) {
		conn->inflight--;
		dns_tcp_query_done(conn);
	}
	dns_timer_sync(fwd);
}

static void dns_client_send(const struct dns_client *to, const uint8_t *msg,
			    size_t len)
{
	if (to->conn)
		dns_tcp_reply(to->conn, msg, len);
	else
		dns_udp_reply(to, msg, len);
}

static void dns_query_reply(struct dns_query *q, const uint8_t *msg, size_t len)
{
	dns_client_send(&q->client, msg, len);
	dns_query_free(q);
}

static void dns_query_answer_local(struct dns_query *q, unsigned int rcode)
{
	size_t n = dns_build_error(q->msg, q->len, rcode, q->fwd->tx);

	dns_query_reply(q, q->fwd->tx, n);
}

/*
 * The one place an upstream answer leaves for the client. The domain
 * filter learns the answer's A/AAAA records into the BPF maps here, so
 * they are allowed before the client can connect to them.
 */
static void dns_query_release(struct dns_query *q, const uint8_t *ans,
			      size_t len)
{
	const struct dns_filter_ops *filter = q->fwd->filter;

	if (filter &&
	    filter->learn(filter->ctx, q->msg, q->len, ans, len, false)) {
		/* Not learned means not reachable: do not hand it out. */
		dns_query_answer_local(q, DNS_RCODE_SERVFAIL);
		return;
	}
	dns_cache_put(q->fwd->cache, q->msg, q->len, ans, len, dns_now_ns());
	dns_query_reply(q, ans, len);
}

static void dns_query_release_truncated(struct dns_query *q)
{
	dns_query_release(q, q->tc_answer, q->tc_len);
}

static int dns_query_start(struct dns_query *q, int proto)
{
	struct dns_fwd *fwd = q->fwd;
	int rc;

	rc = proto == IPPROTO_TCP ? dns_tcp_upstream_start(q) :
				    dns_udp_upstream_start(q);
	if (rc)
		return rc;
	q->deadline_ms = dns_now_ms() + fwd->timeout_ms;
	dns_list_move_tail(&fwd->pending, &q->link);
	dns_timer_sync(fwd);
	return 0;
}

/* Starts an attempt at the next server that takes one; SERVFAIL if none. */
static void dns_query_try(struct dns_query *q)
{
	int proto = q->client.conn ? IPPROTO_TCP : IPPROTO_UDP;

	for (; q->tries < q->fwd->n_servers; q->tries++)
		if (dns_query_start(q, proto) == 0)
			return;
	log_debug("dns: query %04x: every upstream server failed",
		  dns_id(q->msg));
	if (q->fwd->filter && q->fwd->filter->failed)
		q->fwd->filter->failed(q->fwd->filter->ctx, q->msg, q->len);
	dns_query_answer_local(q, DNS_RCODE_SERVFAIL);
}

/* An error answer at once, without taking a query slot. */
static void dns_answer_error(struct dns_fwd *fwd, const struct dns_client *from,
			     const uint8_t *msg, size_t len, unsigned int rcode)
{
	size_t n = dns_build_error(msg, len, rcode, fwd->tx);

	dns_client_send(from, fwd->tx, n);
}

/*
 * An answer from the cache goes to the filter exactly as one from
 * upstream: checked again, its addresses learned (expiry refreshed), the
 * decision reported, before the client has it. True when answered.
 */
static bool dns_answer_cached(struct dns_fwd *fwd,
			      const struct dns_client *from, const uint8_t *msg,
			      size_t len)
{
	const struct dns_filter_ops *filter = fwd->filter;
	size_t cap = from->conn ? DNS_MAX_MSG : dns_udp_payload_limit(msg, len);
	size_t n = dns_cache_get(fwd->cache, msg, len, dns_now_ns(), fwd->hit,
				 cap);

	if (!n)
		return false;
	if (filter && filter->learn(filter->ctx, msg, len, fwd->hit, n, true))
		dns_answer_error(fwd, from, msg, len, DNS_RCODE_SERVFAIL);
	else
		dns_client_send(from, fwd->hit, n);
	return true;
}

/*
 * The one place a query is decided: the domain filter answers names
 * outside the policy locally, so they never reach an upstream server;
 * an allowed one is answered from the cache, or goes upstream.
 */
void dns_query_received(struct dns_fwd *fwd, const struct dns_client *from,
			const uint8_t *msg, size_t len)
{
	const struct dns_filter_ops *filter = fwd->filter;
	struct dns_query *q;
	unsigned int rcode;

	if (len < DNS_HDR_LEN || (msg[2] & DNS_FLAG_QR)) {
		log_debug("dns: dropping a %zu byte non-query", len);
		return;
	}
	if (filter && !filter->decide(filter->ctx, msg, len, &rcode)) {
		dns_answer_error(fwd, from, msg, len, rcode);
		return;
	}
	if (dns_answer_cached(fwd, from, msg, len))
		return;
	if (fwd->n_pending >= fwd->max_pending) {
		log_debug("dns: %u queries pending, refusing %04x",
			  fwd->n_pending, dns_id(msg));
		dns_answer_error(fwd, from, msg, len, DNS_RCODE_SERVFAIL);
		return;
	}
	q = dns_query_alloc(fwd, from, msg, len);
	if (!q) {
		log_warn("dns: query %04x: out of memory", dns_id(msg));
		dns_answer_error(fwd, from, msg, len, DNS_RCODE_SERVFAIL);
		return;
	}
	dns_query_try(q);
}

void dns_query_failed(struct dns_query *q, const char *why)
{
	struct dns_fwd *fwd = q->fwd;
	size_t server = dns_query_server(q);

	dns_upstream_abort(q, why);
	if (q->tc_answer) {
		/* The truncated answer still is one; the client may retry. */
		dns_query_release_truncated(q);
		return;
	}
	/* Later queries start at the next server instead of waiting too. */
	if (fwd->current == server)
		fwd->current = (server + 1) % fwd->n_servers;
	q->tries++;
	dns_query_try(q);
}

static void dns_query_retry_tcp(struct dns_query *q, const uint8_t *ans,
				size_t len)
{
	q->tc_answer = malloc(len);
	if (!q->tc_answer) {
		log_warn("dns: query %04x: out of memory for TCP retry",
			 dns_id(q->msg));
		dns_query_release(q, ans, len);
		return;
	}
	memcpy(q->tc_answer, ans, len);
	q->tc_len = len;
	if (dns_query_start(q, IPPROTO_TCP))
		dns_query_release_truncated(q);
}

void dns_query_upstream_answer(struct dns_query *q, const uint8_t *ans,
			       size_t len)
{
	int proto = q->up.proto;

	q->fwd->current = dns_query_server(q);
	dns_upstream_stop(q);
	if (proto == IPPROTO_UDP && (ans[2] & DNS_FLAG_TC)) {
		dns_query_retry_tcp(q, ans, len);
		return;
	}
	if (q->tc_answer && len > dns_udp_payload_limit(q->msg, q->len)) {
		dns_query_release_truncated(q);
		return;
	}
	dns_query_release(q, ans, len);
}

/* A client connection closes: its queries have nobody to answer. */
void dns_queries_cancel_conn(struct dns_fwd *fwd, struct dns_tcp_conn *conn)
{
	struct dns_link *it, *next;

	for (it = fwd->pending.next; it != &fwd->pending; it = next) {
		struct dns_query *q = container_of(it, struct dns_query, link);

		next = it->next;
		if (q->client.conn != conn)
			continue;
		q->client.conn = NULL;
		dns_query_free(q);
	}
	conn->inflight = 0;
}

static void dns_queries_free_all(struct dns_fwd *fwd)
{
	while (!dns_list_empty(&fwd->pending))
		dns_query_free(container_of(fwd->pending.next, struct dns_query,
					    link));
	while (!dns_list_empty(&fwd->free_queries)) {
		struct dns_query *q = container_of(fwd->free_queries.next,
						   struct dns_query, link);

		dns_list_del(&q->link);
		free(q);
	}
}

/* ---- endpoint sockets ---- */

static const char *const dns_listener_names[DNS_L_COUNT] = {
	[DNS_L_UDP4] = "127.0.0.1:%u/udp",
	[DNS_L_TCP4] = "127.0.0.1:%u/tcp",
	[DNS_L_UDP6] = "[::1]:%u/udp",
	[DNS_L_TCP6] = "[::1]:%u/tcp",
};

static bool dns_listener_is_tcp(enum dns_listener_id id)
{
	return id == DNS_L_TCP4 || id == DNS_L_TCP6;
}

static bool dns_listener_is_v6(enum dns_listener_id id)
{
	return id == DNS_L_UDP6 || id == DNS_L_TCP6;
}

/* Returns -errno and describes it in err. */
static int dns_listener_fail(enum dns_listener_id id, uint16_t port,
			     const char *what, char *err, size_t errlen)
{
	int saved = errno;
	char name[32];

	snprintf(name, sizeof(name), dns_listener_names[id], port);
	set_err(err, errlen, "dns endpoint: %s %s: %s", what, name,
		strerror(saved));
	return -saved;
}

static int dns_listener_bind(int fd, enum dns_listener_id id, uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };

	if (dns_listener_is_v6(id)) {
		sin6.sin6_addr = in6addr_loopback;
		sin6.sin6_port = htons(port);
		return bind(fd, (struct sockaddr *)&sin6, sizeof(sin6));
	}
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	return bind(fd, (struct sockaddr *)&sin, sizeof(sin));
}

int dns_listener_socket(enum dns_listener_id id, uint16_t port, int *out,
			char *err, size_t errlen)
{
	bool tcp = dns_listener_is_tcp(id);
	int family = dns_listener_is_v6(id) ? AF_INET6 : AF_INET;
	int type =
		(tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC;
	int one = 1;
	int fd, rc;

	fd = socket(family, type, 0);
	if (fd < 0)
		return dns_listener_fail(id, port, "socket", err, errlen);
	/* TCP only: lets a restart reuse P despite TIME_WAIT leftovers. */
	if (tcp &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) {
		rc = dns_listener_fail(id, port, "SO_REUSEADDR", err, errlen);
		goto fail;
	}
	if (dns_listener_bind(fd, id, port) < 0) {
		rc = dns_listener_fail(id, port, "bind", err, errlen);
		goto fail;
	}
	if (tcp && listen(fd, SOMAXCONN) < 0) {
		rc = dns_listener_fail(id, port, "listen", err, errlen);
		goto fail;
	}
	*out = fd;
	return 0;
fail:
	dns_close(fd, "listener");
	return rc;
}

static int dns_listener_open(struct dns_fwd *fwd, enum dns_listener_id id,
			     uint16_t port, char *err, size_t errlen)
{
	return dns_listener_socket(id, port, &fwd->listeners[id].src.fd, err,
				   errlen);
}

static void dns_listeners_close(struct dns_fwd *fwd, enum dns_listener_id first)
{
	for (int id = first; id < DNS_L_COUNT; id++) {
		struct ev_source *src = &fwd->listeners[id].src;

		if (src->fd < 0)
			continue;
		ev_del(fwd->epfd, src);
		dns_close(src->fd, "listener");
		src->fd = -1;
	}
}

static int dns_bound_port(struct dns_fwd *fwd, char *err, size_t errlen)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	if (getsockname(fwd->listeners[DNS_L_UDP4].src.fd,
			(struct sockaddr *)&sin, &len) < 0)
		return dns_listener_fail(DNS_L_UDP4, 0, "getsockname", err,
					 errlen);
	fwd->port = ntohs(sin.sin_port);
	return 0;
}

static bool dns_ipv6_unavailable(int rc)
{
	return rc == -EAFNOSUPPORT || rc == -EADDRNOTAVAIL;
}

/* One try at one port P for all four sockets; -EADDRINUSE: try again. */
static int dns_bind_once(struct dns_fwd *fwd, char *err, size_t errlen)
{
	int rc;

	rc = dns_listener_open(fwd, DNS_L_UDP4, fwd->want_port, err, errlen);
	if (!rc)
		rc = dns_bound_port(fwd, err, errlen);
	if (!rc)
		rc = dns_listener_open(fwd, DNS_L_TCP4, fwd->port, err, errlen);
	if (rc)
		return rc;
	fwd->has_ipv6 = true;
	rc = dns_listener_open(fwd, DNS_L_UDP6, fwd->port, err, errlen);
	if (!rc)
		rc = dns_listener_open(fwd, DNS_L_TCP6, fwd->port, err, errlen);
	if (dns_ipv6_unavailable(rc)) {
		log_debug("%s; serving IPv4 only", err);
		dns_listeners_close(fwd, DNS_L_UDP6);
		fwd->has_ipv6 = false;
		return 0;
	}
	return rc;
}

static int dns_bind_all(struct dns_fwd *fwd, char *err, size_t errlen)
{
	for (int i = 0; i < DNS_BIND_ATTEMPTS; i++) {
		int rc = dns_bind_once(fwd, err, errlen);

		if (rc != -EADDRINUSE || fwd->want_port)
			return rc;
		dns_listeners_close(fwd, DNS_L_UDP4);
	}
	return -1; /* err tells the last collision */
}

int dns_listeners_watch(struct dns_fwd *fwd, struct dns_listener *set,
			char *err, size_t errlen)
{
	for (int id = 0; id < DNS_L_COUNT; id++) {
		struct dns_listener *l = &set[id];
		int rc;

		if (l->src.fd < 0)
			continue;
		l->fwd = fwd;
		l->src.on_ready = dns_listener_is_tcp(id) ?
					  dns_tcp_listener_ready :
					  dns_udp_listener_ready;
		rc = ev_add(fwd->epfd, &l->src, EPOLLIN);
		if (rc < 0) {
			errno = -rc;
			return dns_listener_fail(id, fwd->port, "epoll_ctl",
						 err, errlen);
		}
	}
	return 0;
}

static int dns_timer_open(struct dns_fwd *fwd, char *err, size_t errlen)
{
	int rc;

	fwd->timer.fd =
		timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fwd->timer.fd < 0)
		return set_err(err, errlen, "dns endpoint: timerfd_create: %s",
			       strerror(errno));
	fwd->timer.on_ready = dns_timer_ready;
	rc = ev_add(fwd->epfd, &fwd->timer, EPOLLIN);
	if (rc < 0)
		return set_err(err, errlen,
			       "dns endpoint: epoll_ctl(timerfd): %s",
			       strerror(-rc));
	return 0;
}

static int dns_config_apply(struct dns_fwd *fwd,
			    const struct dns_fwd_config *cfg, char *err,
			    size_t errlen)
{
	if (!cfg->n_servers)
		return set_err(err, errlen,
			       "dns endpoint: no upstream DNS server");
	for (size_t i = 0; i < cfg->n_servers; i++) {
		int family = cfg->servers[i].family;

		if (family != AF_INET && family != AF_INET6)
			return set_err(
				err, errlen,
				"dns endpoint: server %zu: address family %d",
				i, family);
	}
	/* A copy: the policy may be freed while the endpoint runs. */
	fwd->servers = calloc(cfg->n_servers, sizeof(*fwd->servers));
	if (!fwd->servers)
		return set_err(err, errlen, "dns endpoint: out of memory");
	memcpy(fwd->servers, cfg->servers,
	       cfg->n_servers * sizeof(*fwd->servers));
	fwd->n_servers = cfg->n_servers;
	fwd->timeout_ms =
		cfg->timeout_ms ? cfg->timeout_ms : DNS_DEFAULT_TIMEOUT_MS;
	fwd->max_pending =
		cfg->max_pending ? cfg->max_pending : DNS_DEFAULT_MAX_PENDING;
	fwd->filter = cfg->filter;
	fwd->cache = dns_cache_new(cfg->cache_entries);
	if (cfg->cache_entries && !fwd->cache)
		return set_err(err, errlen, "dns endpoint: out of memory");
	return 0;
}

static uint8_t dns_rx_scratch[DNS_SCRATCH_LEN];
static uint8_t dns_tx_scratch[DNS_SCRATCH_LEN];
static uint8_t dns_hit_scratch[DNS_SCRATCH_LEN];

static struct dns_fwd *dns_fwd_alloc(int epfd)
{
	struct dns_fwd *fwd = calloc(1, sizeof(*fwd));

	if (!fwd)
		return NULL;
	fwd->rx = dns_rx_scratch;
	fwd->tx = dns_tx_scratch;
	fwd->hit = dns_hit_scratch;
	fwd->epfd = epfd;
	fwd->max_conns = DNS_TCP_MAX_CONNS;
	fwd->idle_ms = DNS_TCP_IDLE_MS;
	for (int id = 0; id < DNS_L_COUNT; id++)
		fwd->listeners[id].src.fd = -1;
	fwd->timer.fd = -1;
	dns_list_init(&fwd->pending);
	dns_list_init(&fwd->free_queries);
	dns_list_init(&fwd->conns);
	dns_list_init(&fwd->free_conns);
	return fwd;
}

#define DNS_HOST_ADDRS_REFRESH_MS 1000

static void read_host_addrs(struct dns_fwd *fwd)
{
	struct ifaddrs *ifs, *it;
	size_t n = 0;

	fwd->host_addrs_ms = dns_now_ms();
	if (getifaddrs(&ifs) < 0) {
		log_warn("dns endpoint: getifaddrs: %s", strerror(errno));
		return;
	}
	for (it = ifs; it; it = it->ifa_next)
		n += it->ifa_addr && (it->ifa_addr->sa_family == AF_INET ||
				      it->ifa_addr->sa_family == AF_INET6);
	free(fwd->host_addrs);
	fwd->n_host_addrs = 0;
	fwd->host_addrs = calloc(n ? n : 1, sizeof(*fwd->host_addrs));
	for (it = ifs; it && fwd->host_addrs; it = it->ifa_next) {
		struct dns_host_addr *h = &fwd->host_addrs[fwd->n_host_addrs];

		if (!it->ifa_addr)
			continue;
		if (it->ifa_addr->sa_family == AF_INET)
			memcpy(h->addr,
			       &((struct sockaddr_in *)it->ifa_addr)->sin_addr,
			       4);
		else if (it->ifa_addr->sa_family == AF_INET6)
			memcpy(h->addr,
			       &((struct sockaddr_in6 *)it->ifa_addr)
					->sin6_addr,
			       16);
		else
			continue;
		h->family = it->ifa_addr->sa_family;
		fwd->n_host_addrs++;
	}
	freeifaddrs(ifs);
}

static bool is_host_addr(const struct dns_fwd *fwd, int family,
			 const uint8_t *addr)
{
	for (size_t i = 0; i < fwd->n_host_addrs; i++)
		if (fwd->host_addrs[i].family == family &&
		    !memcmp(fwd->host_addrs[i].addr, addr,
			    family == AF_INET ? 4 : 16))
			return true;
	return false;
}

bool dns_client_source_ok(struct dns_listener *l,
			  const struct sockaddr_storage *peer)
{
	struct dns_fwd *fwd = l->fwd;
	const uint8_t *addr;
	int family = peer->ss_family;
	char text[INET6_ADDRSTRLEN] = "?";
	bool ours = false;
	uint64_t now;

	if (family == AF_INET) {
		addr = (const uint8_t *)&((const struct sockaddr_in *)peer)
			       ->sin_addr;
	} else if (family == AF_INET6) {
		addr = ((const struct sockaddr_in6 *)peer)->sin6_addr.s6_addr;
		if (IN6_IS_ADDR_LOOPBACK((const struct in6_addr *)addr))
			return true;
		if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)addr)) {
			family = AF_INET;
			addr += 12;
		}
	} else {
		return false;
	}
	if (family == AF_INET && addr[0] == 127)
		return true;
	/* A pod's namespace: loopback only (its addresses are not read). */
	for (int id = 0; id < DNS_L_COUNT; id++)
		ours = ours || l == &fwd->listeners[id];
	if (!ours)
		goto refused;
	if (is_host_addr(fwd, family, addr))
		return true;
	now = dns_now_ms();
	if (!fwd->host_addrs_ms ||
	    now - fwd->host_addrs_ms >= DNS_HOST_ADDRS_REFRESH_MS) {
		read_host_addrs(fwd);
		if (is_host_addr(fwd, family, addr))
			return true;
	}
refused:
	now = dns_now_ms();
	if (now - fwd->refused_log_ms >= 1000) {
		fwd->refused_log_ms = now;
		inet_ntop(family, addr, text, sizeof(text));
		log_warn(
			"dns endpoint: not answering %s: not an address of this host (a spoofed source)",
			text);
	}
	return false;
}

struct dns_fwd *dns_fwd_new(const struct dns_fwd_config *cfg, int epfd,
			    char *err, size_t errlen)
{
	struct dns_fwd *fwd = dns_fwd_alloc(epfd);

	if (!fwd) {
		set_err(err, errlen, "dns endpoint: out of memory");
		return NULL;
	}
	fwd->want_port = cfg->port;
	if (dns_config_apply(fwd, cfg, err, errlen) ||
	    dns_bind_all(fwd, err, errlen) ||
	    dns_listeners_watch(fwd, fwd->listeners, err, errlen) ||
	    dns_timer_open(fwd, err, errlen)) {
		dns_fwd_free(fwd);
		return NULL;
	}
	log_debug("dns endpoint: listening on port %u%s", fwd->port,
		  fwd->has_ipv6 ? "" : " (IPv4 only)");
	return fwd;
}

uint16_t dns_fwd_port(const struct dns_fwd *fwd)
{
	return fwd->port;
}

int dns_fwd_has_ipv6(const struct dns_fwd *fwd)
{
	return fwd->has_ipv6;
}

void dns_fwd_free(struct dns_fwd *fwd)
{
	if (!fwd)
		return;
	dns_tcp_free_all(fwd);
	dns_queries_free_all(fwd);
	dns_listeners_close(fwd, DNS_L_UDP4);
	dns_netns_free_all(fwd);
	if (fwd->timer.fd >= 0) {
		ev_del(fwd->epfd, &fwd->timer);
		dns_close(fwd->timer.fd, "timerfd");
	}
	free(fwd->servers);
	free(fwd->host_addrs);
	dns_cache_free(fwd->cache);
	free(fwd);
}
