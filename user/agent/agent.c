// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * agent.c - `awf-bpf agent`: the host-wide enforcer. Loads (or adopts)
 * the pinned programs, fills every sandbox's maps, then attaches; watches
 * cgroups, interfaces and the control socket; SIGHUP reloads the policies,
 * SIGTERM/SIGINT stop the process and leave enforcement in place.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "agent/agent_entries.h"
#include "agent/agent_netns.h"
#include "agent/agent_run.h"
#include "agent/agent_state.h"
#include "kernel/kernel_check.h"
#include "common/paths.h"
#include "agent/agent.h"
#include "agent/agent_int.h"
#include "policy/policy_finalize.h"
#include "policy/policy_load.h"
#include "common/error.h"
#include "run/cgroup.h"
#include "common/log.h"
#include "run/run.h"

#define SWEEP_INTERVAL_S 1
/* A new cgroup's first process, and its namespace, follow its mkdir. */
#define NETNS_SOON_MS 100

struct agent_loop {
	struct agent *ag;
	struct ev_source signal_src;
	struct ev_source sweep_src;
	struct ev_source soon_src; /* one-shot: agent_netns_scan */
	bool stop;
};

static struct agent_loop *the_loop;

static bool missing(const char *path)
{
	struct stat st;

	return stat(path, &st) < 0 && errno == ENOENT;
}

/*
 * A fresh host has no policies directory yet: the agent serves with an
 * empty policy set (each attach point's default policy for its cgroups;
 * `awf-bpf run` brings its own policy) and says so each time it loads.
 */
static int read_policies_dir(struct agent *ag, struct agent_policy_set *set,
			     char *err, size_t errlen)
{
	if (!missing(ag->cfg.policies_dir))
		return agent_policies_load(set, ag->cfg.policies_dir, NULL,
					   NULL, err, errlen);
	agent_policies_free(set);
	log_warn(
		"agent: no policies directory %s: serving with an empty policy set (create it and send SIGHUP to add policies)",
		ag->cfg.policies_dir);
	return 0;
}

static int load_policies(struct agent *ag, struct agent_policy_set *set,
			 char *err, size_t errlen)
{
	if (read_policies_dir(ag, set, err, errlen) ||
	    agent_policies_check_attach(set, &ag->cfg, err, errlen) ||
	    agent_policies_check_defaults(set, &ag->cfg, err, errlen)) {
		agent_policies_free(set);
		return -1;
	}
	return 0;
}

static bool same_attach_points(const struct agent_config *a,
			       const struct agent_config *b)
{
	if (a->n_attach != b->n_attach)
		return false;
	for (size_t i = 0; i < a->n_attach; i++)
		if (strcmp(a->attach[i].cgroup, b->attach[i].cgroup))
			return false;
	return true;
}

/*
 * agent.json again: policies_dir and the default policies apply now;
 * attach points, interfaces and the control socket need a restart.
 */
static void reload_config(struct agent *ag)
{
	struct agent_config next;
	char err[AWF_ERR_LEN];

	agent_config_defaults(&next);
	if (agent_config_load(&next, ag->cfg.origin, false, err, sizeof(err))) {
		log_error("reload: %s; keeping the configuration in force",
			  err);
		return;
	}
	if (!same_attach_points(&ag->cfg, &next)) {
		log_warn(
			"reload: attach points changed in %s: restart the agent to apply them",
			ag->cfg.origin);
		return;
	}
	for (size_t i = 0; i < ag->cfg.n_attach; i++)
		memcpy(ag->cfg.attach[i].default_policy,
		       next.attach[i].default_policy,
		       sizeof(next.attach[i].default_policy));
	memcpy(ag->cfg.policies_dir, next.policies_dir,
	       sizeof(next.policies_dir));
}

/* A broken policy file leaves the running policies as they are. */
static void reload(struct agent *ag)
{
	struct agent_policy_set next = { 0 }, old = ag->policies;
	struct agent_config saved = ag->cfg;
	char err[AWF_ERR_LEN];

	reload_config(ag);
	log_info("SIGHUP: reloading the policies in %s", ag->cfg.policies_dir);
	if (load_policies(ag, &next, err, sizeof(err))) {
		ag->cfg = saved;
		log_error("reload refused, policies unchanged: %s", err);
		return;
	}
	ag->policies = next;
	ag->generation++;
	agent_reconcile(ag);
	/* Entries built from the old set are all replaced by now. */
	agent_policies_free(&old);
}

static int on_signal(struct ev_source *src, uint32_t events)
{
	struct agent_loop *l = container_of(src, struct agent_loop, signal_src);
	struct signalfd_siginfo si;

	(void)events;
	while (read(src->fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			reload(l->ag);
		else
			l->stop = true;
	}
	return 0;
}

static int on_sweep(struct ev_source *src, uint32_t events)
{
	struct agent_loop *l = container_of(src, struct agent_loop, sweep_src);
	uint64_t ticks;

	(void)events;
	if (read(src->fd, &ticks, sizeof(ticks)) == sizeof(ticks)) {
		agent_run_sweep(l->ag);
		agent_netns_scan(l->ag);
	}
	return 0;
}

static int on_soon(struct ev_source *src, uint32_t events)
{
	struct agent_loop *l = container_of(src, struct agent_loop, soon_src);
	uint64_t ticks;

	(void)events;
	if (read(src->fd, &ticks, sizeof(ticks)) == sizeof(ticks))
		agent_netns_scan(l->ag);
	return 0;
}

static void arm_soon(struct agent_loop *l)
{
	struct itimerspec its = { .it_value.tv_nsec =
					  NETNS_SOON_MS * 1000 * 1000 };

	if (timerfd_settime(l->soon_src.fd, 0, &its, NULL))
		log_warn("timerfd: %s", strerror(errno));
}

struct watch_src {
	struct ev_source src;
	struct agent *ag;
	size_t attach;
};

static void on_cgroup_event(enum cgroup_watch_kind k, const char *rel,
			    uint64_t id, void *ctx)
{
	struct watch_src *w = ctx;

	agent_on_cgroup(w->ag, w->attach, k, rel, id);
}

static int on_watch(struct ev_source *src, uint32_t events)
{
	struct watch_src *w = container_of(src, struct watch_src, src);
	char err[AWF_ERR_LEN];

	(void)events;
	if (cgroup_watch_read(w->ag->watch[w->attach], on_cgroup_event, w, err,
			      sizeof(err)))
		log_error("cgroup watch: %s", err);
	if (w->ag->netns_scan_soon && the_loop) {
		w->ag->netns_scan_soon = false;
		arm_soon(the_loop);
	}
	return 0;
}

static struct watch_src watch_srcs[AGENT_MAX_ATTACH];

/* The attach point itself is created when missing (the default one is). */
static int open_attach_point(struct agent *ag, size_t i, int *fd, char *err,
			     size_t errlen)
{
	char path[PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s%s", ag->cg2, ag->cfg.attach[i].cgroup);
	if (mkdir(path, 0755) && errno != EEXIST)
		return set_err(err, errlen, "mkdir %.900s: %s", path,
			       strerror(errno));
	*fd = open(path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return set_err(err, errlen, "open %.900s: %s", path,
			       strerror(errno));
	return 0;
}

static int watch_attach_points(struct agent *ag, char *err, size_t errlen)
{
	char path[PATH_MAX * 2];

	for (size_t i = 0; i < ag->cfg.n_attach; i++) {
		snprintf(path, sizeof(path), "%s%s", ag->cg2,
			 ag->cfg.attach[i].cgroup);
		ag->watch[i] = cgroup_watch_open(path, err, errlen);
		if (!ag->watch[i])
			return -1;
		watch_srcs[i].ag = ag;
		watch_srcs[i].attach = i;
		watch_srcs[i].src.fd = cgroup_watch_fd(ag->watch[i]);
		watch_srcs[i].src.on_ready = on_watch;
		if (ev_add(ag->epfd, &watch_srcs[i].src, EPOLLIN))
			return set_err(err, errlen, "epoll: cgroup watch");
	}
	return 0;
}

/* Only after every sandbox is filled: nothing is enforced half-built. */
static int attach_programs(struct agent *ag, char *err, size_t errlen)
{
	for (size_t i = 0; i < ag->cfg.n_attach; i++) {
		uint64_t id;
		int fd, ret;

		if (open_attach_point(ag, i, &fd, err, errlen))
			return -1;
		ret = cgroup_id_at(fd, "", &id, err, errlen) ||
		      agent_bpf_attach_cgroup(&ag->bpf, fd, id, err, errlen);
		close(fd);
		if (ret)
			return -1;
	}
	return 0;
}

static void make_attach_points(struct agent *ag)
{
	char err[AWF_ERR_LEN];
	int fd;

	for (size_t i = 0; i < ag->cfg.n_attach; i++)
		if (!open_attach_point(ag, i, &fd, err, sizeof(err)))
			close(fd);
}

/* Run sandboxes of the previous agent, with the policy they came with. */
static void adopt_runs(struct agent *ag)
{
	for (size_t i = 0; i < ag->n_adopted; i++) {
		struct adopted *a = &ag->adopted[i];
		struct policy *p;
		json_object *pj;
		char err[AWF_ERR_LEN];

		if (a->kind != ENTRY_RUN || !a->run_policy_json)
			continue;
		p = calloc(1, sizeof(*p));
		pj = json_tokener_parse(a->run_policy_json);
		if (!p || !pj) {
			free(p);
			json_object_put(pj);
			continue;
		}
		policy_init(p);
		if (policy_load_json(p, pj, AWF_AGENT_STATE_FILE, err,
				     sizeof(err)) ||
		    policy_finalize(p, NULL, NULL, err, sizeof(err)) ||
		    !agent_entry_build(ag, ENTRY_RUN, a->cgroup, a->cgroup_id,
				       "run", p, false, err, sizeof(err))) {
			/* Its old slot stays: still enforced, by the old maps. */
			log_error("adopting %s: %s", a->cgroup, err);
			a->taken = true;
			policy_free(p);
			free(p);
		}
		json_object_put(pj);
	}
}

static int set_up(struct agent *ag, char *err, size_t errlen)
{
	gid_t group =
		ag->cfg.control_group[0] ? ag->cfg.control_gid : (gid_t)-1;
	struct rlimit nofile;

	/* Four sockets per sandbox's DNS endpoint, and map fds. */
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
		nofile.rlim_cur = nofile.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &nofile))
			log_warn("RLIMIT_NOFILE: %s", strerror(errno));
	}
	/* No name, no address: its resolver answers NXDOMAIN itself. */
	policy_init(&ag->deny_policy);
	if (policy_finalize(&ag->deny_policy, NULL, NULL, err, errlen))
		return -1;
	if (cgroup2_root(ag->cg2, sizeof(ag->cg2), err, errlen) ||
	    agent_hostaddrs_open(&ag->hostaddrs, err, errlen) ||
	    kernel_check_btf_present(err, errlen) ||
	    agent_bpf_load(&ag->bpf, err, errlen) ||
	    agent_state_load(ag, err, errlen))
		return -1;
	ag->state_loaded = true;
	make_attach_points(ag);
	if (agent_events_open(&ag->events, agent_bpf_events_fd(&ag->bpf),
			      ag->epfd, stdout, agent_slot_sink, ag, err,
			      errlen) ||
	    watch_attach_points(ag, err, errlen))
		return -1;
	adopt_runs(ag);
	if (agent_reconcile(ag))
		log_warn("not every cgroup could be read; enforcing what was");
	agent_release_adopted(ag);
	agent_state_free(ag);
	agent_state_save(ag);
	if (attach_programs(ag, err, errlen) ||
	    agent_uplinks_start(
		    &ag->uplinks, &ag->bpf, ag->epfd,
		    ag->cfg.all_interfaces ? NULL : ag->cfg.interfaces,
		    ag->cfg.n_interfaces, ag->cfg.tc_mode, err, errlen) ||
	    agent_control_open(
		    &ag->control, ag->cfg.control_socket, group, ag->epfd,
		    &(struct control_ops){ .ctx = ag,
					   .prepare = agent_run_ops.prepare,
					   .create = agent_run_ops.create,
					   .client_gone =
						   agent_run_ops.client_gone },
		    err, errlen))
		return -1;
	agent_netns_scan(ag);
	return 0;
}

static int watch_signals(struct agent_loop *l, char *err, size_t errlen)
{
	struct itimerspec its = { .it_interval.tv_sec = SWEEP_INTERVAL_S,
				  .it_value.tv_sec = SWEEP_INTERVAL_S };
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL))
		return set_err(err, errlen, "sigprocmask: %s", strerror(errno));
	l->signal_src.fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	l->signal_src.on_ready = on_signal;
	l->sweep_src.fd =
		timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	l->sweep_src.on_ready = on_sweep;
	l->soon_src.fd =
		timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	l->soon_src.on_ready = on_soon;
	the_loop = l;
	if (l->signal_src.fd < 0 || l->sweep_src.fd < 0 || l->soon_src.fd < 0 ||
	    timerfd_settime(l->sweep_src.fd, 0, &its, NULL) ||
	    ev_add(l->ag->epfd, &l->signal_src, EPOLLIN) ||
	    ev_add(l->ag->epfd, &l->sweep_src, EPOLLIN) ||
	    ev_add(l->ag->epfd, &l->soon_src, EPOLLIN)) {
		return set_err(err, errlen, "signals: %s", strerror(errno));
	}
	return 0;
}

/*
 * Leaves the pins, links and maps: the programs keep enforcing. The DNS
 * endpoints close, so queries fail until the next agent serves them.
 */
static void shut_down(struct agent *ag)
{
	agent_events_drain(&ag->events);
	if (ag->state_loaded)
		agent_state_save(ag);
	agent_run_drop_early(ag);
	agent_control_close(&ag->control);
	agent_uplinks_stop(&ag->uplinks);
	agent_hostaddrs_close(&ag->hostaddrs);
	for (size_t i = 0; i < ag->cfg.n_attach; i++)
		cgroup_watch_close(ag->watch[i]);
	agent_events_close(&ag->events);
	agent_bpf_close(&ag->bpf);
	agent_policies_free(&ag->policies);
	policy_free(&ag->deny_policy);
	agent_config_free(&ag->cfg);
	free(ag->state_text);
	free(ag->early);
	ag->early = NULL;
	ag->n_early = ag->cap_early = 0;
	ag->state_text = NULL;
}

int agent_uninstall(void)
{
	char err[AWF_ERR_LEN];

	if (agent_bpf_uninstall(err, sizeof(err))) {
		log_error("%s", err);
		return EXIT_AWF_FAILURE;
	}
	unlink(AWF_AGENT_STATE_FILE);
	log_info("agent programs, links and maps removed");
	return 0;
}

int agent_serve(const char *config_path, bool config_given)
{
	static struct agent ag;
	struct agent_loop l = { .ag = &ag };
	char err[AWF_ERR_LEN] = "";

	agent_config_defaults(&ag.cfg);
	ag.hostaddrs.fd = -1; /* shut_down() may come before it opens */
	/* Bad input: a one-line error and exit 125, nothing attached. */
	if (agent_config_load(&ag.cfg, config_path, config_given, err,
			      sizeof(err)) ||
	    load_policies(&ag, &ag.policies, err, sizeof(err))) {
		fprintf(stderr, "awf-bpf: agent: %s\n", err);
		return EXIT_AWF_FAILURE;
	}
	if (!config_given && missing(config_path))
		log_warn(
			"agent: no %s: the defaults apply (attach point %s, default policy \"%s\", control socket %s)",
			config_path, ag.cfg.attach[0].cgroup,
			ag.cfg.attach[0].default_policy, ag.cfg.control_socket);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	ag.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ag.epfd < 0) {
		log_error("agent: epoll_create1: %s", strerror(errno));
		return EXIT_AWF_FAILURE;
	}
	if (watch_signals(&l, err, sizeof(err)) ||
	    set_up(&ag, err, sizeof(err))) {
		log_error("agent: %s", err);
		shut_down(&ag);
		return EXIT_AWF_FAILURE;
	}
	log_info("agent: %zu attach point(s), %zu policies, ready",
		 ag.cfg.n_attach, ag.policies.n);
	ev_run(ag.epfd, &l.stop);
	log_info("agent: stopping; the pinned programs keep enforcing");
	shut_down(&ag);
	return 0;
}
