/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * dns_forward_internal.h - what the DNS endpoint's files share:
 * dns_forward.c (lifecycle, queries, failover, timer),
 * dns_udp.c (UDP clients and upstreams) and dns_tcp.c (TCP clients and
 * upstreams). Private to them and to their unit test.
 *
 * Lifetime rule: a struct embedding an ev_source that was ever registered
 * (listener, client connection, query) is not freed before dns_fwd_free.
 * Finished queries and closed connections go to a free list for reuse.
 * The caller's loop may still hold an event for a socket closed earlier in
 * the same epoll_wait batch (or still open in a forked child); that event
 * then lands on valid memory whose fd is -1 or a newer socket. So every
 * handler returns at once when its fd is -1 and acts on what its syscalls
 * return (EAGAIN), never on the event mask alone.
 */
#ifndef AWF_DNS_FORWARD_INTERNAL_H
#define AWF_DNS_FORWARD_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dns/dns_forward.h"
#include "dns/dns_cache.h"
#include "dns/dns_wire.h"
#include "common/evloop.h"

#define DNS_MAX_MSG 65535
#define DNS_SCRATCH_LEN (DNS_MAX_MSG + 1)
#define DNS_FLAG_QR 0x80 /* in byte 2 */
#define DNS_FLAG_TC 0x02 /* in byte 2 */
#define DNS_RCODE_SERVFAIL 2

#define DNS_DEFAULT_TIMEOUT_MS 2000
#define DNS_DEFAULT_MAX_PENDING 1024
#define DNS_TCP_MAX_CONNS 256
#define DNS_TCP_IDLE_MS 10000
/* Per connection: stop reading queries until these drain (backpressure). */
#define DNS_TCP_CONN_MAX_INFLIGHT 32
#define DNS_TCP_CONN_OUT_HIGH 65536
/* Datagrams, accepts or frames handled per wakeup, for fairness. */
#define DNS_BURST 64
#define DNS_ACCEPT_PAUSE_MS 1000

/* Circular doubly linked list with a sentinel head. */
struct dns_link {
	struct dns_link *prev, *next;
};

static inline void dns_list_init(struct dns_link *head)
{
	head->prev = head;
	head->next = head;
}

static inline bool dns_list_empty(const struct dns_link *head)
{
	return head->next == head;
}

static inline void dns_list_del(struct dns_link *node)
{
	node->prev->next = node->next;
	node->next->prev = node->prev;
	dns_list_init(node);
}

static inline void dns_list_add_tail(struct dns_link *head,
				     struct dns_link *node)
{
	node->prev = head->prev;
	node->next = head;
	head->prev->next = node;
	head->prev = node;
}

static inline void dns_list_move_tail(struct dns_link *head,
				      struct dns_link *node)
{
	dns_list_del(node);
	dns_list_add_tail(head, node);
}

enum dns_listener_id {
	DNS_L_UDP4,
	DNS_L_TCP4,
	DNS_L_UDP6,
	DNS_L_TCP6,
	DNS_L_COUNT,
};

struct dns_listener {
	struct ev_source src;
	struct dns_fwd *fwd;
};

/* The endpoint's listeners inside another network namespace (a pod's). */
struct dns_netns {
	uint64_t ino; /* of the namespace, as /proc/PID/ns/net */
	bool live;    /* false: closed; freed once no query can point at it */
	bool failed;  /* could not listen there: not tried again */
	struct dns_listener listeners[DNS_L_COUNT];
};

/* Where an answer goes: a UDP peer of a listener, or a TCP connection. */
struct dns_client {
	struct dns_listener *udp;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	struct dns_tcp_conn *conn; /* NULL for UDP */
};

/* A 2-byte length prefixed message being read from a stream. */
struct dns_frame {
	uint8_t hdr[2];
	size_t hdr_got;
	uint8_t *msg; /* NULL until the prefix is complete */
	size_t len;
	size_t got;
};

enum dns_io {
	DNS_IO_AGAIN,
	DNS_IO_DONE,
	DNS_IO_EOF,
	DNS_IO_ERROR, /* errno says why */
};

/* One attempt at one upstream server. */
struct dns_upstream {
	struct ev_source src; /* fd -1 when no attempt runs */
	int proto;	      /* IPPROTO_UDP or IPPROTO_TCP */
	size_t sent;	      /* TCP: bytes of the framed query written */
	struct dns_frame rd;  /* TCP: the answer */
};

struct dns_query {
	struct dns_link link; /* fwd->pending by deadline, or the free list */
	struct dns_fwd *fwd;
	struct dns_client client;
	uint8_t *wire; /* 2-byte length prefix, then the query: TCP ready */
	uint8_t *msg;  /* wire + 2 */
	size_t len;
	size_t first;	      /* server index of the first attempt */
	size_t tries;	      /* attempts started before the current one */
	uint64_t deadline_ms; /* of the current attempt */
	struct dns_upstream up;
	uint8_t *tc_answer; /* truncated UDP answer while retrying over TCP */
	size_t tc_len;
};

struct dns_tcp_conn {
	struct ev_source src;
	struct dns_link link; /* fwd->conns, least recently active first */
	struct dns_fwd *fwd;
	uint64_t idle_deadline_ms;
	uint32_t events;       /* current epoll interest */
	unsigned int inflight; /* its queries in fwd->pending */
	bool rd_eof; /* client shut down its side: answer, then close */
	struct dns_frame rd;
	uint8_t *out; /* framed answers not yet written */
	size_t out_off, out_len, out_cap;
};

struct dns_fwd {
	int epfd;
	struct policy_addr *servers;
	size_t n_servers;
	size_t current; /* server new queries try first */
	unsigned int timeout_ms;
	unsigned int max_pending;
	const struct dns_filter_ops *filter; /* NULL: forward everything */
	unsigned int max_conns; /* DNS_TCP_MAX_CONNS; tests lower it */
	unsigned int idle_ms;	/* DNS_TCP_IDLE_MS; tests lower it */
	uint16_t port;
	uint16_t want_port;	  /* dns_fwd_config.port */
	struct dns_netns **netns; /* dns_netns.c */
	size_t n_netns;
	bool has_ipv6;
	struct dns_listener listeners[DNS_L_COUNT];
	struct ev_source timer;
	uint64_t timer_armed_ms;   /* 0: disarmed */
	uint64_t accept_resume_ms; /* 0 unless accept paused on fd shortage */
	struct dns_link pending;
	unsigned int n_pending;
	struct dns_link free_queries;
	struct dns_link conns;
	unsigned int n_conns;
	struct dns_link free_conns;
	/*
	 * Scratch for one datagram and one local answer, shared by every
	 * endpoint of the process (the agent runs thousands): only ever used
	 * within one callback of the single-threaded loop.
	 */
	uint8_t *rx;
	uint8_t *tx;
	uint8_t *hit;		 /* an answer out of the cache */
	struct dns_cache *cache; /* NULL: none */
	/* This namespace's addresses, for dns_client_source_ok() */
	struct dns_host_addr *host_addrs;
	size_t n_host_addrs;
	uint64_t host_addrs_ms;	 /* when read; 0: never */
	uint64_t refused_log_ms; /* last warning about a refused client */
};

struct dns_host_addr {
	int family;
	uint8_t addr[16];
};

/* dns_forward.c */
void dns_close(int fd, const char *what); /* logs a failed close */
uint64_t dns_now_ms(void);
uint64_t dns_now_ns(void); /* CLOCK_MONOTONIC */
void dns_timer_sync(struct dns_fwd *fwd);
void dns_query_received(struct dns_fwd *fwd, const struct dns_client *from,
			const uint8_t *msg, size_t len);
bool dns_answer_matches(const struct dns_query *q, const uint8_t *ans,
			size_t len);
void dns_query_upstream_answer(struct dns_query *q, const uint8_t *ans,
			       size_t len);
void dns_query_failed(struct dns_query *q, const char *why);
void dns_queries_cancel_conn(struct dns_fwd *fwd, struct dns_tcp_conn *conn);
int dns_upstream_open(struct dns_query *q, int type, uint32_t events,
		      ev_handler on_ready);
/* Logs why the current attempt ends and closes it; no failover. */
void dns_upstream_abort(struct dns_query *q, const char *why);

/*
 * Whether a client may be answered: its source is loopback, or (on the
 * listeners of our own namespace) an address of this host. Any other
 * source is spoofed (the programs refuse such packets already), and an
 * answer would leave the host for it.
 */
bool dns_client_source_ok(struct dns_listener *l,
			  const struct sockaddr_storage *peer);

/* dns_forward.c: one listening socket on loopback:port, in this netns. */
int dns_listener_socket(enum dns_listener_id id, uint16_t port, int *fd,
			char *err, size_t errlen);
/* Register a set of DNS_L_COUNT listeners (fd -1: absent) with the loop. */
int dns_listeners_watch(struct dns_fwd *fwd, struct dns_listener *set,
			char *err, size_t errlen);

#endif /* AWF_DNS_FORWARD_INTERNAL_H */
