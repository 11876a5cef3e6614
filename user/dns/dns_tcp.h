/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * dns_tcp.h - the forwarder's TCP side: pipelined client connections,
 * upstream TCP (also the retry of a truncated UDP answer), idle expiry.
 */
#ifndef AWF_DNS_TCP_H
#define AWF_DNS_TCP_H

#include <stddef.h>
#include <stdint.h>

#include "common/evloop.h"
#include "dns/dns_forward_internal.h"

int dns_tcp_listener_ready(struct ev_source *src, uint32_t events);
int dns_tcp_upstream_start(struct dns_query *q);
void dns_tcp_reply(struct dns_tcp_conn *conn, const uint8_t *msg, size_t len);
/* One query of conn finished (inflight already decremented). */
void dns_tcp_query_done(struct dns_tcp_conn *conn);
uint64_t dns_tcp_next_deadline(const struct dns_fwd *fwd);
void dns_tcp_expire(struct dns_fwd *fwd, uint64_t now);
void dns_tcp_free_all(struct dns_fwd *fwd);

#endif /* AWF_DNS_TCP_H */
