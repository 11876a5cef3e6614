// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * policy_finalize.c - the checks that need the whole policy, and the DNS
 * servers taken from the host when the policy names none. There is no
 * public resolver to fall back on: a firewall must not quietly send the
 * sandbox's queries somewhere the user never chose.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "policy/cidr.h"
#include "policy/policy_finalize.h"
#include "common/error.h"
#include "policy/policy_int.h"

#define RESOLV_CONF "/etc/resolv.conf"
#define RESOLV_STUB_FALLBACK "/run/systemd/resolve/resolv.conf"

/*
 * Merges the non-loopback nameservers of path into p (the loopback ones
 * too with take_loopback); counts the loopback ones (a local stub such as
 * systemd-resolved's 127.0.0.53). Lines that are not usable addresses
 * (e.g. "fe80::1%eth0") are passed over.
 */
static int read_nameservers(struct policy *p, const char *path,
			    bool take_loopback, unsigned int *n_loopback,
			    char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, *save, *word, why[AWF_ERR_LEN];
	struct policy_addr a;
	size_t cap = 0;
	int rc = 0;

	if (!f)
		return set_err(err, errlen, "%s", strerror(errno));
	while (rc == 0 && getline(&line, &cap, f) >= 0) {
		word = strtok_r(line, " \t\r\n", &save);
		if (!word || strcmp(word, "nameserver") != 0)
			continue;
		word = strtok_r(NULL, " \t\r\n", &save);
		if (!word ||
		    policy_parse_dns_server(&a, word, why, sizeof(why)) < 0)
			continue;
		if (ip_is_loopback(a.family, a.addr))
			(*n_loopback)++;
		if (take_loopback || !ip_is_loopback(a.family, a.addr))
			rc = policy_merge_dns_server(p, &a, err, errlen);
	}
	free(line);
	fclose(f);
	return rc;
}

static int dns_from_host(struct policy *p, const char *resolv_conf,
			 const char *stub_fallback, char *err, size_t errlen)
{
	unsigned int n_loopback = 0;
	char why[AWF_ERR_LEN];

	if (read_nameservers(p, resolv_conf, false, &n_loopback, why,
			     sizeof(why)) < 0) {
		return set_err(
			err, errlen,
			"no dns_servers given and %s: %s; set dns_servers",
			resolv_conf, why);
	}
	if (p->n_dns_servers)
		return 0;
	if (!n_loopback)
		return set_err(
			err, errlen,
			"no dns_servers given and none usable in %s; set dns_servers",
			resolv_conf);
	/* A stub on loopback: its upstream servers are listed elsewhere. */
	if (read_nameservers(p, stub_fallback, false, &n_loopback, why,
			     sizeof(why)) == 0 &&
	    p->n_dns_servers)
		return 0;
	/*
	 * Else the stub itself: awf-bpf asks it from outside the sandbox, in
	 * its own network namespace, where the stub listens (the sandbox's
	 * queries never reach it but through the filter).
	 */
	if (read_nameservers(p, resolv_conf, true, &n_loopback, err, errlen))
		return -1;
	return 0;
}

/* The sandbox connects to the proxy itself, so it must be reachable. */
static int check_proxy(const struct policy *p, char *err, size_t errlen)
{
	if (p->has_proxy && p->proxy.family == AF_INET6 && !p->ipv6)
		return set_err(
			err, errlen,
			"policy: proxy: an IPv6 proxy needs \"ipv6\": true");
	return 0;
}

int policy_finalize(struct policy *p, const char *resolv_conf,
		    const char *stub_fallback, char *err, size_t errlen)
{
	if (check_proxy(p, err, errlen) < 0)
		return -1;
	/* merged: the sandbox is built from the lists alone */
	policy_drop_indexes(p);
	if (p->n_dns_servers)
		return 0;
	return dns_from_host(p, resolv_conf ? resolv_conf : RESOLV_CONF,
			     stub_fallback ? stub_fallback :
					     RESOLV_STUB_FALLBACK,
			     err, errlen);
}
