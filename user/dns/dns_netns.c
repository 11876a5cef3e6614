// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * dns_netns.c - the endpoint inside other network namespaces. A process
 * of a sandbox in a namespace of its own (a Kubernetes pod, a container)
 * has its DNS redirected to 127.0.0.1:P of *its* namespace, where nothing
 * of ours would listen: queries would fail. So the endpoint also listens
 * there. A socket stays in the namespace it was created in, so the
 * process enters the namespace (setns), opens the listeners and returns;
 * upstream sockets are opened later, in our own namespace.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/error.h"
#include "common/netns.h"
#include "dns/dns_forward_internal.h"
#include "common/log.h"
#include "dns/dns_netns.h"

static void netns_close(struct dns_fwd *fwd, struct dns_netns *ns)
{
	for (int id = 0; id < DNS_L_COUNT; id++) {
		struct dns_listener *l = &ns->listeners[id];

		if (l->src.fd < 0)
			continue;
		ev_del(fwd->epfd, &l->src);
		close(l->src.fd);
		l->src.fd = -1;
	}
	ns->live = false;
}

/* Opened inside the namespace; IPv6 is optional there as here. */
static int open_listeners(struct dns_netns *ns, uint16_t port, char *err,
			  size_t errlen)
{
	for (int id = 0; id < DNS_L_COUNT; id++) {
		int rc = dns_listener_socket(
			id, port, &ns->listeners[id].src.fd, err, errlen);

		if (rc && id >= DNS_L_UDP6 &&
		    (rc == -EAFNOSUPPORT || rc == -EADDRNOTAVAIL)) {
			ns->listeners[id].src.fd = -1;
			continue;
		}
		if (rc)
			return -1;
	}
	return 0;
}

struct listen_step {
	struct dns_netns *ns;
	uint16_t port;
};

static int listen_there(void *ctx, char *err, size_t errlen)
{
	struct listen_step *st = ctx;

	return open_listeners(st->ns, st->port, err, errlen);
}

static int enter_and_open(struct dns_fwd *fwd, struct dns_netns *ns,
			  int netns_fd, char *err, size_t errlen)
{
	struct listen_step st = { .ns = ns, .port = fwd->port };

	return in_netns(netns_fd, listen_there, &st, err, errlen);
}

/*
 * Closed entries may still be the client of a pending UDP query: free
 * them only when nothing is pending.
 */
static void reap(struct dns_fwd *fwd)
{
	size_t kept = 0;

	if (fwd->n_pending)
		return;
	for (size_t i = 0; i < fwd->n_netns; i++) {
		if (fwd->netns[i]->live || fwd->netns[i]->failed)
			fwd->netns[kept++] = fwd->netns[i];
		else
			free(fwd->netns[i]);
	}
	fwd->n_netns = kept;
}

int dns_fwd_serve_netns(struct dns_fwd *fwd, int netns_fd, uint64_t ino,
			char *err, size_t errlen)
{
	struct dns_netns **grown, *ns;

	reap(fwd);
	grown = realloc(fwd->netns, (fwd->n_netns + 1) * sizeof(*grown));
	ns = calloc(1, sizeof(*ns));
	if (!grown || !ns) {
		free(ns);
		if (grown)
			fwd->netns = grown;
		return set_err(err, errlen, "out of memory");
	}
	fwd->netns = grown;
	ns->ino = ino;
	ns->live = true;
	for (int id = 0; id < DNS_L_COUNT; id++)
		ns->listeners[id].src.fd = -1;
	fwd->netns[fwd->n_netns++] = ns;
	if (enter_and_open(fwd, ns, netns_fd, err, errlen) ||
	    dns_listeners_watch(fwd, ns->listeners, err, errlen)) {
		netns_close(fwd, ns);
		ns->failed = true; /* one error, not one per scan */
		return -1;
	}
	return 0;
}

bool dns_fwd_serves_netns(const struct dns_fwd *fwd, uint64_t ino)
{
	for (size_t i = 0; i < fwd->n_netns; i++)
		if ((fwd->netns[i]->live || fwd->netns[i]->failed) &&
		    fwd->netns[i]->ino == ino)
			return true;
	return false;
}

size_t dns_fwd_netns_prune(struct dns_fwd *fwd,
			   bool (*keep)(uint64_t ino, void *ctx), void *ctx)
{
	size_t closed = 0;

	for (size_t i = 0; i < fwd->n_netns; i++) {
		struct dns_netns *ns = fwd->netns[i];

		if ((ns->live || ns->failed) && !keep(ns->ino, ctx)) {
			closed += ns->live;
			netns_close(fwd, ns);
			ns->failed = false;
		}
	}
	reap(fwd);
	return closed;
}

void dns_netns_free_all(struct dns_fwd *fwd)
{
	for (size_t i = 0; i < fwd->n_netns; i++) {
		netns_close(fwd, fwd->netns[i]);
		free(fwd->netns[i]);
	}
	free(fwd->netns);
	fwd->netns = NULL;
	fwd->n_netns = 0;
}
