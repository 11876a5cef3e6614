/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * dns_udp.h - the forwarder's UDP side: queries from sandboxes on its
 * listeners, one connected upstream socket per attempt, replies.
 */
#ifndef AWF_DNS_UDP_H
#define AWF_DNS_UDP_H

#include <stddef.h>
#include <stdint.h>

#include "common/evloop.h"
#include "dns/dns_forward_internal.h"

int dns_udp_listener_ready(struct ev_source *src, uint32_t events);

int dns_udp_upstream_start(struct dns_query *q);
void dns_udp_reply(const struct dns_client *to, const uint8_t *msg, size_t len);

#endif /* AWF_DNS_UDP_H */
