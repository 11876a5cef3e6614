/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * hostaddr.h - the addresses of this host's interfaces, read once at start:
 * loopback rules apply to them (a sandbox reaching the host through its
 * own address is reaching loopback).
 */
#ifndef AWF_HOSTADDR_H
#define AWF_HOSTADDR_H

#include <stddef.h>

#include "policy/cidr.h"

/* Addresses of this host's interfaces, as /32 and /128 prefixes. */
int host_local_addrs(struct policy_cidr **out, size_t *n, char *err,
		     size_t errlen);

/* The same, of the network namespace netns_fd (a pod's). */
int netns_local_addrs(int netns_fd, struct policy_cidr **out, size_t *n,
		      char *err, size_t errlen);

#endif /* AWF_HOSTADDR_H */
