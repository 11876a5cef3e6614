/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * dns_forward.h - the DNS endpoint every port-53 packet of the sandbox is
 * redirected to by the BPF programs. It listens on 127.0.0.1:P and [::1]:P
 * (UDP and TCP, same port P) and forwards to the policy's dns_servers with
 * failover and a bounded timeout. Its own upstream sockets belong to the
 * awf-bpf process, outside the sandbox cgroup.
 *
 * No thread: everything runs from the caller's epoll loop (evloop.h).
 */
#ifndef AWF_DNS_FORWARD_H
#define AWF_DNS_FORWARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"

struct dns_fwd;

/*
 * The domain filter's two points of contact with the endpoint: one call
 * per query before anything is sent upstream, one per upstream answer
 * before it is released to the client.
 */
struct dns_filter_ops {
	void *ctx;
	/* 1: forward; 0: answer locally with *rcode (nothing goes upstream). */
	int (*decide)(void *ctx, const uint8_t *query, size_t len,
		      unsigned int *rcode);
	/*
	 * 0: release the answer; -1: the client gets SERVFAIL instead.
	 * cached: the answer comes from the endpoint's cache, not upstream;
	 * it gets the same checks and learning as a fresh one.
	 */
	int (*learn)(void *ctx, const uint8_t *query, size_t qlen,
		     const uint8_t *answer, size_t alen, bool cached);
	/* Optional: every server failed; the client gets SERVFAIL. */
	void (*failed)(void *ctx, const uint8_t *query, size_t len);
	/*
	 * Optional, around a batch of queries answered together: after
	 * hold(), learn() may keep its map writes; commit() makes them,
	 * before any answer of the batch is released. -1: some could not
	 * be made, and every answer of the batch becomes SERVFAIL.
	 */
	void (*hold)(void *ctx);
	int (*commit)(void *ctx);
};

struct dns_fwd_config {
	const struct policy_addr *servers; /* tried in order; port is used */
	size_t n_servers;
	unsigned int timeout_ms;  /* per upstream attempt; 0 = 2000 */
	unsigned int max_pending; /* concurrent queries; 0 = 1024 */
	const struct dns_filter_ops *filter; /* NULL: forward everything */
	/*
	 * 0: any free port. Else exactly this one: a restarted agent serves
	 * the port its pinned programs still redirect to.
	 */
	uint16_t port;
	/* Answers cached (dns_cache.h); 0: no cache. */
	unsigned int cache_entries;
};

/*
 * Binds the endpoint sockets and registers them (and its timer) with epfd.
 * On failure returns NULL with a one-line message in err.
 */
struct dns_fwd *dns_fwd_new(const struct dns_fwd_config *cfg, int epfd,
			    char *err, size_t errlen);
/* The endpoint port P (host order). */
uint16_t dns_fwd_port(const struct dns_fwd *fwd);
/* Whether [::1]:P is bound (IPv6 may be disabled on the host). */
int dns_fwd_has_ipv6(const struct dns_fwd *fwd);

/* Closes every socket and frees pending queries. NULL is fine. */
void dns_fwd_free(struct dns_fwd *fwd);

#endif /* AWF_DNS_FORWARD_H */
