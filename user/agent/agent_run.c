// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * agent_run.c - sandboxes for `awf-bpf run` clients: a cgroup under the
 * first attach point, built with the client's policy, alive while the
 * client's connection is. A sandbox adopted from a previous agent has no
 * connection any more: it stays enforced until its cgroup is empty.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent_entries.h"
#include "common/array.h"
#include "agent/agent_int.h"
#include "agent/agent_run.h"
#include "agent/agent_state.h"
#include "policy/policy_finalize.h"
#include "policy/policy_load.h"
#include "common/error.h"
#include "run/cgroup.h"
#include "common/log.h"

/* A fresh cgroup: a reused pid must never land in an older sandbox's. */
static int make_run_dir(struct agent *ag, pid_t pid, char *rel, size_t rellen,
			struct sandbox_cgroup *cg, char *err, size_t errlen)
{
	static unsigned int seq;

	for (int tries = 0; tries < 16; tries++) {
		if ((size_t)snprintf(rel, rellen, "%s/run-%d-%u",
				     ag->cfg.attach[0].cgroup, (int)pid,
				     ++seq) >= rellen ||
		    (size_t)snprintf(cg->path, sizeof(cg->path), "%s%s",
				     ag->cg2, rel) >= sizeof(cg->path)) {
			return set_err(err, errlen, "cgroup path too long");
		}
		if (mkdir(cg->path, 0755) == 0)
			return 0;
		if (errno != EEXIST)
			break;
	}
	return set_err(err, errlen, "mkdir %s: %s", cg->path, strerror(errno));
}

static int run_cgroup(struct agent *ag, pid_t pid, char *rel, size_t rellen,
		      struct sandbox_cgroup *cg, char *err, size_t errlen)
{
	if (make_run_dir(ag, pid, rel, rellen, cg, err, errlen))
		return -1;
	cg->fd = open(cg->path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (cg->fd < 0) {
		set_err(err, errlen, "open %s: %s", cg->path, strerror(errno));
		rmdir(cg->path);
		return -1;
	}
	return 0;
}

/*
 * A process that is itself in a sandbox of ours (under an attach point)
 * must not get another one, with a policy of its choosing.
 */
static int check_caller(struct agent *ag, pid_t pid, char *err, size_t errlen)
{
	char path[64], line[PATH_MAX];
	bool inside = true; /* unreadable: assume the worst */
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = '\0';
		inside = false;
		for (size_t i = 0; i < ag->cfg.n_attach; i++) {
			const char *at = ag->cfg.attach[i].cgroup;
			size_t n = strlen(at);

			if (!strncmp(line + 3, at, n) &&
			    (line[3 + n] == '\0' || line[3 + n] == '/'))
				inside = true;
		}
	}
	if (f)
		fclose(f);
	if (inside)
		set_err(err, errlen,
			"pid %d is inside a sandbox (or gone): it cannot ask for another",
			(int)pid);
	return inside ? -1 : 0;
}

static struct run_early *early_of(struct agent *ag,
				  const struct control_conn *conn)
{
	for (size_t i = 0; i < ag->n_early; i++)
		if (ag->early[i].conn == conn)
			return &ag->early[i];
	return NULL;
}

static void early_forget(struct agent *ag, struct run_early *r)
{
	*r = ag->early[--ag->n_early];
}

/*
 * The cgroup alone, ahead of the policy: the client clones the sandbox's
 * init into it while the policy is built. Until the slot is bound the
 * attach point's default policy applies there (slot_of_cgroup(): the
 * deepest ancestor's), and nothing runs the command before the client
 * has the sandbox's reply: its workload waits at its gate.
 */
static int on_prepare(void *ctx, struct control_conn *conn, pid_t pid,
		      json_object *reply, int *cgroup_fd, char *err,
		      size_t errlen)
{
	struct agent *ag = ctx;
	struct sandbox_cgroup cg = { .fd = -1 };
	struct run_early r = { .conn = conn };
	char label[32];

	if (check_caller(ag, pid, err, errlen))
		return -1;
	/* Each will need a slot: no more of them than slots. */
	if (ag->n_early >= AWF_MAX_SLOTS - 1)
		return set_err(err, errlen,
			       "%zu cgroups already wait for their policy",
			       ag->n_early);
	if (array_grow((void **)&ag->early, &ag->cap_early, ag->n_early + 1,
		       sizeof(*ag->early)))
		return set_err(err, errlen, "out of memory");
	if (run_cgroup(ag, pid, r.cgroup, sizeof(r.cgroup), &cg, err, errlen))
		return -1;
	if (cgroup_id_at(cg.fd, "", &r.cgroup_id, err, errlen)) {
		close(cg.fd);
		rmdir(cg.path);
		return -1;
	}
	ag->early[ag->n_early++] = r;
	snprintf(label, sizeof(label), "run-%d", (int)pid);
	json_object_object_add(reply, "sandbox", json_object_new_string(label));
	json_object_object_add(reply, "cgroup",
			       json_object_new_string(r.cgroup));
	*cgroup_fd = cg.fd;
	log_debug("%s: cgroup for pid %d, ahead of its policy", r.cgroup,
		  (int)pid);
	return 0;
}

static struct policy *policy_of_request(json_object *req, char *err,
					size_t errlen)
{
	struct policy *p = calloc(1, sizeof(*p));
	json_object *pj;

	if (!p) {
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	policy_init(p);
	if (!json_object_object_get_ex(req, "policy", &pj)) {
		set_err(err, errlen, "control request: no policy");
		goto fail;
	}
	if (policy_load_json(p, pj, "control request", err, errlen) ||
	    policy_finalize(p, NULL, NULL, err, errlen))
		goto fail;
	return p;
fail:
	policy_free(p);
	free(p);
	return NULL;
}

static int on_create(void *ctx, struct control_conn *conn, pid_t pid,
		     json_object *req, json_object *reply, int *cgroup_fd,
		     char *err, size_t errlen)
{
	struct agent *ag = ctx;
	struct sandbox_cgroup cg = { .fd = -1 };
	struct run_early *early = early_of(ag, conn);
	char rel[AGENT_CGROUP_PATH_MAX];
	struct agent_entry *e;
	struct policy *p;
	json_object *aa;
	uint64_t id;

	/* Again: the policy is chosen now. */
	if (check_caller(ag, pid, err, errlen))
		return -1;
	p = policy_of_request(req, err, errlen);
	if (!p)
		return -1;
	if (early) {
		snprintf(rel, sizeof(rel), "%s", early->cgroup);
		id = early->cgroup_id;
	} else if (run_cgroup(ag, pid, rel, sizeof(rel), &cg, err, errlen) ||
		   cgroup_id_at(cg.fd, "", &id, err, errlen)) {
		goto fail;
	}
	e = agent_entry_build(
		ag, ENTRY_RUN, rel, id, "run", p,
		json_object_object_get_ex(req, "audit_allowed", &aa) &&
			json_object_get_boolean(aa),
		err, errlen);
	if (!e)
		goto fail;
	if (early)
		early_forget(ag, early); /* the entry's now */
	e->conn = conn;
	snprintf(e->label, sizeof(e->label), "run-%d", (int)pid);
	json_object_object_add(reply, "sandbox",
			       json_object_new_string(e->label));
	json_object_object_add(reply, "cgroup", json_object_new_string(rel));
	*cgroup_fd = cg.fd; /* -1 if early: the client has it already */
	agent_state_save(ag);
	log_info("%s: sandbox for pid %d (slot %u)", rel, (int)pid, e->sb.slot);
	return 0;
fail:
	/* An early cgroup stays the connection's: client_gone removes it. */
	policy_free(p);
	free(p);
	if (cg.fd >= 0) {
		close(cg.fd);
		rmdir(cg.path);
	}
	return -1;
}

static void remove_run(struct agent *ag, struct agent_entry *e)
{
	struct sandbox_cgroup cg = { .fd = -1 };

	if ((size_t)snprintf(cg.path, sizeof(cg.path), "%s%s", ag->cg2,
			     e->cgroup) >= sizeof(cg.path))
		return; /* cannot happen: it was created with this path */
	/* Whatever is left of the workload goes before its policy does. */
	if (cgroup_kill_all(&cg)) {
		log_error("%s still populated: left enforced", e->cgroup);
		e->conn = NULL;
		return;
	}
	agent_entry_drop(ag, e);
	if (cgroup_remove(&cg))
		log_warn("rmdir %s: %s", cg.path, strerror(errno));
	agent_state_save(ag);
}

/* A client gone before its sandbox was built: what it started goes too. */
static void remove_early(struct agent *ag, struct run_early *r, const char *why)
{
	struct sandbox_cgroup cg = { .fd = -1 };

	log_info("%s: %s before its policy", r->cgroup, why);
	if ((size_t)snprintf(cg.path, sizeof(cg.path), "%s%s", ag->cg2,
			     r->cgroup) < sizeof(cg.path)) {
		if (cgroup_kill_all(&cg))
			log_error("%s still populated: left in place",
				  r->cgroup);
		else if (cgroup_remove(&cg))
			log_warn("rmdir %s: %s", cg.path, strerror(errno));
	}
	early_forget(ag, r);
}

void agent_run_drop_early(struct agent *ag)
{
	while (ag->n_early)
		remove_early(ag, &ag->early[ag->n_early - 1], "agent stopping");
}

static void on_client_gone(void *ctx, struct control_conn *conn)
{
	struct agent *ag = ctx;
	struct run_early *early = early_of(ag, conn);

	if (early) {
		remove_early(ag, early, "client gone");
		return;
	}

	for (uint32_t s = 1; s < AWF_MAX_SLOTS; s++) {
		struct agent_entry *e = ag->by_slot[s];

		if (e && e->kind == ENTRY_RUN && e->conn == conn) {
			log_info("%s: client gone", e->cgroup);
			remove_run(ag, e);
			return;
		}
	}
}

const struct control_ops agent_run_ops = {
	.prepare = on_prepare,
	.create = on_create,
	.client_gone = on_client_gone,
};

static bool populated(const struct agent *ag, const char *rel)
{
	char path[PATH_MAX * 2], line[64];
	bool yes = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s%s/cgroup.events", ag->cg2, rel);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (!strcmp(line, "populated 1\n"))
			yes = true;
	fclose(f);
	return yes;
}

void agent_run_sweep(struct agent *ag)
{
	for (uint32_t s = 1; s < AWF_MAX_SLOTS; s++) {
		struct agent_entry *e = ag->by_slot[s];

		if (e && e->kind == ENTRY_RUN && !e->conn &&
		    !populated(ag, e->cgroup)) {
			log_info("%s: adopted sandbox is empty: removing",
				 e->cgroup);
			remove_run(ag, e);
		}
	}
}
