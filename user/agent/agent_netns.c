// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * agent_netns.c - which network namespaces the sandboxes' processes live
 * in. A sandbox whose processes sit in a namespace of their own (a pod)
 * gets its DNS endpoint in that namespace too (dns_fwd_serve_netns); a
 * namespace none of its processes uses any more is let go, since our
 * listening sockets would keep it alive.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "agent/agent_netns.h"
#include "common/array.h"
#include "common/error.h"
#include "dns/dns_forward.h"
#include "common/log.h"
#include "dns/dns_netns.h"
#include "kernel/hostaddr.h"

struct seen {
	struct agent_entry *owner;
	uint64_t ino;
};

struct scan {
	struct agent *ag;
	const char *base; /* the attach point being walked */
	uint64_t self_ino;
	struct seen *v;
	size_t n, cap;
};

static int netns_ino(pid_t pid, uint64_t *ino)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	if (stat(path, &st))
		return -1;
	*ino = st.st_ino;
	return 0;
}

/* The sandbox a cgroup belongs to: the entry with the longest prefix. */
static struct agent_entry *owner_of(struct agent *ag, const char *cgroup)
{
	struct agent_entry *best = NULL;
	size_t best_len = 0;

	for (uint32_t s = 1; s < AWF_MAX_SLOTS; s++) {
		struct agent_entry *e = ag->by_slot[s];
		size_t n;

		if (!e || !e->sb.dns)
			continue;
		n = strlen(e->cgroup);
		if (n >= best_len && !strncmp(cgroup, e->cgroup, n) &&
		    (cgroup[n] == '\0' || cgroup[n] == '/')) {
			best = e;
			best_len = n;
		}
	}
	return best;
}

static bool already_seen(const struct scan *sc, const struct agent_entry *e,
			 uint64_t ino)
{
	for (size_t i = 0; i < sc->n; i++)
		if (sc->v[i].owner == e && sc->v[i].ino == ino)
			return true;
	return false;
}

/*
 * The namespace's own addresses become sources the sandbox may send from
 * (its packets there carry them): until then the backstop drops them.
 */
static void add_sources(struct agent_entry *e, int netns_fd, uint64_t ino)
{
	struct policy_cidr *addrs = NULL;
	char err[AWF_ERR_LEN];
	size_t n = 0;

	if (netns_local_addrs(netns_fd, &addrs, &n, err, sizeof(err)) ||
	    agent_sandbox_add_sources(&e->sb, &e->ag->bpf, addrs, n, err,
				      sizeof(err)))
		log_error("%s: source addresses of network namespace %llu: %s",
			  e->cgroup, (unsigned long long)ino, err);
	free(addrs);
}

static void serve(struct agent_entry *e, pid_t pid, uint64_t ino)
{
	char path[64], err[AWF_ERR_LEN];
	int fd;

	if (dns_fwd_serves_netns(e->sb.dns, ino))
		return;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return; /* gone meanwhile */
	if (dns_fwd_serve_netns(e->sb.dns, fd, ino, err, sizeof(err)))
		log_error("%s: DNS endpoint in network namespace %llu: %s",
			  e->cgroup, (unsigned long long)ino, err);
	else
		log_info("%s: DNS endpoint also in network namespace %llu",
			 e->cgroup, (unsigned long long)ino);
	add_sources(e, fd, ino);
	close(fd);
}

static void note(struct scan *sc, struct agent_entry *e, pid_t pid,
		 uint64_t ino)
{
	if (already_seen(sc, e, ino))
		return;
	if (array_grow((void **)&sc->v, &sc->cap, sc->n + 1, sizeof(*sc->v)))
		return;
	sc->v[sc->n++] = (struct seen){ .owner = e, .ino = ino };
	serve(e, pid, ino);
}

static int on_cgroup(const char *rel, uint64_t id, unsigned int depth,
		     void *ctx)
{
	struct scan *sc = ctx;
	char full[AGENT_CGROUP_PATH_MAX], path[PATH_MAX * 2];
	struct agent_entry *owner = NULL;
	FILE *f;
	int pid;

	(void)id;
	(void)depth;
	if (cgroup_path_join(full, sizeof(full), sc->base, rel))
		return 0;
	snprintf(path, sizeof(path), "%s%s/cgroup.procs", sc->ag->cg2, full);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fscanf(f, "%d", &pid) == 1) {
		uint64_t ino;

		if (netns_ino(pid, &ino) || ino == sc->self_ino)
			continue;
		if (!owner)
			owner = owner_of(sc->ag, full);
		if (owner)
			note(sc, owner, pid, ino);
	}
	fclose(f);
	return 0;
}

struct prune_ctx {
	const struct scan *sc;
	const struct agent_entry *e;
};

static bool seen_for(uint64_t ino, void *ctx)
{
	struct prune_ctx *p = ctx;

	return already_seen(p->sc, p->e, ino);
}

void agent_netns_scan(struct agent *ag)
{
	struct scan sc = { .ag = ag };
	char root[PATH_MAX * 2], err[AWF_ERR_LEN];
	bool complete = true;

	if (netns_ino(getpid(), &sc.self_ino))
		return;
	for (size_t i = 0; i < ag->cfg.n_attach; i++) {
		sc.base = ag->cfg.attach[i].cgroup;
		snprintf(root, sizeof(root), "%s%s", ag->cg2, sc.base);
		if (cgroup_tree_walk(root, on_cgroup, &sc, err, sizeof(err)) <
		    0) {
			log_debug("netns scan: %s", err);
			complete = false;
		}
	}
	/* What a failed walk did not see may still be in use. */
	for (uint32_t s = 1; complete && s < AWF_MAX_SLOTS; s++) {
		struct agent_entry *e = ag->by_slot[s];
		struct prune_ctx p = { .sc = &sc, .e = e };

		if (e && e->sb.dns &&
		    dns_fwd_netns_prune(e->sb.dns, seen_for, &p))
			log_info(
				"%s: DNS endpoint closed in namespaces it left",
				e->cgroup);
	}
	free(sc.v);
}
