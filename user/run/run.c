// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/agent_client.h"
#include "kernel/name_table.h"
#include "kernel/hook_warm.h"
#include "kernel/hostaddr.h"
#include "common/error.h"
#include "run/cgroup.h"
#include "run/gc.h"
#include "agent/cgroup_tree.h"
#include "dns/dns_filter.h"
#include "dns/dns_forward.h"
#include "policy/domain_match.h"
#include "audit/events.h"
#include "dns/learned.h"
#include "kernel/loader.h"
#include "common/log.h"
#include "kernel/publish.h"
#include "kernel/rules.h"
#include "run/run.h"
#include "kernel/kernel_check.h"
#include "kernel/sandbox_config.h"
#include "run/spawn.h"

#define TIMEOUT_GRACE_S 2
#define MAX_PROXY_ENV 8

/*
 * The one run of the process: its agent connection may open before the
 * policy is read (run_prepare()), and what release() leaves to the exit
 * stays reachable, so these outlive cmd_run()'s frames but not by much.
 */
static struct loader run_loader = { .cgroup_fd = -1 };
static struct agent_client run_agent = { .src = { .fd = -1 } };

/* Signals a supervisor is sent that belong to the workload. */
static const int forwarded_signals[] = { SIGINT,  SIGTERM, SIGHUP,
					 SIGQUIT, SIGUSR1, SIGUSR2 };

struct run_state {
	const struct run_options *opts;
	int epfd;
	struct sandbox_cgroup cg;
	struct loader *loader; /* run_loader */
	struct hook_warm warm; /* until the command runs */
	struct dns_fwd *dns;
	struct domain_matcher *matcher;
	struct dns_filter *filter;
	struct learned_store *learned;
	struct rule_table rules;   /* until written into the loaded maps */
	struct policy_cidr *local; /* this host's addresses, likewise */
	size_t n_local;
	struct name_table names; /* the names checked in first bytes */
	struct events events;
	bool events_open;
	bool core_used;		   /* use_core_maps() done */
	struct sandbox_pub pub;	   /* the pins `dump` and `status` read */
	struct agent_client agent; /* the agent's sandbox, if it gave one */
	bool from_agent;
	uint64_t cgroup_id;
	char sandbox_id[32];
	char cgroup2_root[PATH_MAX];
	sigset_t orig_mask;

	struct ev_source child_src;  /* pidfd */
	struct ev_source signal_src; /* signalfd */
	struct ev_source timer_src;  /* timerfd for --timeout */
	struct ev_source kill_src;   /* timerfd for --kill-after */
	struct spawn_gate gate;	     /* init waits there until attach */
	pid_t child;
	bool child_done;
	int child_status; /* exit status as the shell reports it */
	bool timed_out;
	bool grace_over;
	bool stop_asked; /* a SIGTERM or SIGINT was passed on */
	bool killed;	 /* the sandbox was killed for ignoring it */
};

/* The filtering resolver: its answers open addresses in the maps. */
static int open_dns_endpoint(struct run_state *s, char *err, size_t errlen)
{
	const struct policy *p = s->opts->policy;
	struct dns_fwd_config cfg = {
		.servers = p->dns_servers,
		.n_servers = p->n_dns_servers,
		.cache_entries = p->dns_cache_entries,
	};

	s->matcher = domain_matcher_new(p, err, errlen);
	if (!s->matcher)
		return -1;
	s->filter = dns_filter_new(s->matcher, events_dns_decision, &s->events);
	if (!s->filter)
		return set_err(err, errlen, "dns filter: out of memory");
	dns_filter_set_audit_only(s->filter, p->audit_only);
	cfg.filter = dns_filter_ops(s->filter);
	s->dns = dns_fwd_new(&cfg, s->epfd, err, errlen);
	return s->dns ? 0 : -1;
}

static int open_learned_store(struct run_state *s, char *err, size_t errlen)
{
	const struct policy *p = s->opts->policy;

	s->learned = learned_store_new(loader_map_fd(s->loader, "learned4"),
				       loader_map_fd(s->loader, "learned6"),
				       p->dns_min_ttl, p->dns_max_ips_per_name);
	if (!s->learned)
		return set_err(err, errlen, "learned addresses: out of memory");
	learned_store_use_names_map(s->learned,
				    loader_map_fd(s->loader, "names"));
	dns_filter_use_store(s->filter, s->learned);
	return 0;
}

/* The policy's names into the kernel, for the first bytes' check. */
static int write_name_table(struct run_state *s, char *err, size_t errlen)
{
	if (name_table_write(&s->names, loader_map_fd(s->loader, "name_rules"),
			     loader_map_fd(s->loader, "exact_names"), 0, err,
			     errlen))
		return -1;
	dns_filter_use_names(s->filter, &s->names);
	return 0;
}

static void free_rules(struct run_state *s)
{
	rules_free(&s->rules);
	free(s->local);
	s->local = NULL;
	s->n_local = 0;
}

/*
 * What the loader program is given: .rodata (with the DNS endpoint's
 * port) and the CIDR maps' sizes, those of the rule table, which holds
 * this host's addresses too.
 */
static int open_programs(struct run_state *s, char *err, size_t errlen)
{
	const struct policy *p = s->opts->policy;
	struct awf_config cfg;

	sandbox_config_build(&cfg, p, dns_fwd_port(s->dns),
			     dns_fwd_has_ipv6(s->dns), s->opts->audit_allowed);
	if (host_local_addrs(&s->local, &s->n_local, err, errlen) ||
	    rules_build(&s->rules, p, s->local, s->n_local, err, errlen))
		return -1;
	/* audit-only mode learns the addresses of names outside the policy */
	if (loader_open_core(s->loader, &cfg, &s->rules, s->local, s->n_local,
			     policy_checks_names(p),
			     p->n_allow_domains || p->n_block_domains ||
				     p->audit_only,
			     err, errlen))
		return -1;
	loader_size_name_maps(s->loader,
			      p->n_allow_domains + p->n_block_domains,
			      name_table_may_learn_exact(p));
	return 0;
}

static int fill_policy_maps(struct run_state *s, char *err, size_t errlen)
{
	int ret = loader_fill_rules(s->loader, &s->rules, err, errlen) ||
		  loader_fill_host_addrs(s->loader, s->local, s->n_local, err,
					 errlen);

	free_rules(s);
	return ret ? -1 : 0;
}

/* Everything `run` writes into the maps before anything is attached. */
static int fill_maps(struct run_state *s, char *err, size_t errlen)
{
	return fill_policy_maps(s, err, errlen) ||
	       open_learned_store(s, err, errlen) ||
	       write_name_table(s, err, errlen);
}

/*
 * The ring buffer's reader, the audit log and the counters. The first
 * drain reads nothing (nothing is attached yet) but the lost-events
 * counter, and with it the number of CPUs, a sysfs file libbpf reads
 * once: not on the way out, after the command.
 */
static int open_events(struct run_state *s, char *err, size_t errlen)
{
	if (events_open(&s->events, loader_map_fd(s->loader, "events"), s->epfd,
			s->opts->audit_log, s->sandbox_id, err, errlen))
		return -1;
	s->events_open = true;
	events_attach(&s->events, s->learned,
		      loader_map_fd(s->loader, "counters"));
	events_drain(&s->events);
	return 0;
}

/*
 * What needs the core's maps and nothing attached: done while the groups
 * load (0.6 ms of it, 0.3 the events', once between attach and the gate).
 */
static int use_core_maps(struct run_state *s, char *err, size_t errlen)
{
	if (fill_maps(s, err, errlen) || open_events(s, err, errlen))
		return -1;
	s->core_used = true;
	return 0;
}

/* "http://addr:port" for HTTP_PROXY and friends. */
static void proxy_url(const struct policy_addr *a, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	inet_ntop(a->family, a->addr, host, sizeof(host));
	if (a->family == AF_INET6)
		snprintf(buf, len, "http://[%s]:%u", host, a->port);
	else
		snprintf(buf, len, "http://%s:%u", host, a->port);
}

static void build_proxy_env(const struct policy *p, char env[][96], char **list)
{
	static const char *const names[] = { "HTTP_PROXY", "HTTPS_PROXY",
					     "http_proxy", "https_proxy" };
	char url[80];
	size_t n = 0;

	if (p->has_proxy) {
		proxy_url(&p->proxy, url, sizeof(url));
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			snprintf(env[n], 96, "%s=%s", names[i], url);
			list[n] = env[n];
			n++;
		}
		snprintf(env[n], 96, "NO_PROXY=localhost,127.0.0.1,::1");
		list[n] = env[n];
		n++;
		snprintf(env[n], 96, "no_proxy=localhost,127.0.0.1,::1");
		list[n] = env[n];
		n++;
	}
	list[n] = NULL;
}

static int status_of(const siginfo_t *si)
{
	if (si->si_code == CLD_EXITED)
		return si->si_status;
	return 128 + si->si_status; /* killed or dumped */
}

static int on_child_exit(struct ev_source *src, uint32_t events)
{
	struct run_state *s = container_of(src, struct run_state, child_src);
	siginfo_t si = { 0 };

	(void)events;
	if (waitid(P_PIDFD, (id_t)src->fd, &si, WEXITED | WNOHANG) < 0) {
		log_error("waitid: %s", strerror(errno));
		return -1;
	}
	if (si.si_pid == 0)
		return 0; /* spurious wake-up */
	s->child_done = true;
	s->child_status = status_of(&si);
	return 0;
}

static int arm_timer(int fd, unsigned int seconds)
{
	struct itimerspec its = { .it_value.tv_sec = seconds };

	if (timerfd_settime(fd, 0, &its, NULL) < 0) {
		log_error("timerfd_settime: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void forward_signal(struct run_state *s, int sig)
{
	log_debug("forwarding signal %d to pid %d", sig, s->child);
	if (syscall(SYS_pidfd_send_signal, s->child_src.fd, sig, NULL, 0) < 0 &&
	    errno != ESRCH)
		log_error("forwarding signal %d: %s", sig, strerror(errno));
}

/*
 * The sandbox's init is pid 1 of its PID namespace: when it dies, the
 * kernel kills every process in the namespace. tear_down() empties the
 * cgroup for whatever else is left.
 */
static int kill_sandbox(struct run_state *s, const char *why)
{
	log_warn("%s: killing the sandbox", why);
	s->killed = true;
	if (syscall(SYS_pidfd_send_signal, s->child_src.fd, SIGKILL, NULL, 0) <
		    0 &&
	    errno != ESRCH) {
		log_error("SIGKILL to the sandbox's init: %s", strerror(errno));
		return cgroup_kill_all(&s->cg);
	}
	return 0;
}

/*
 * The first SIGTERM or SIGINT is the command's to handle, for --kill-after
 * seconds; a command that ignores it must not run on. A second one is the
 * caller insisting: no more waiting.
 */
static int on_stop_signal(struct run_state *s, int sig)
{
	if (s->stop_asked)
		return kill_sandbox(s, "second SIGTERM/SIGINT");
	if (!s->opts->kill_after_s)
		return kill_sandbox(s, "SIGTERM/SIGINT with --kill-after 0");
	s->stop_asked = true;
	forward_signal(s, sig);
	return arm_timer(s->kill_src.fd, s->opts->kill_after_s);
}

static int on_signal(struct ev_source *src, uint32_t events)
{
	struct run_state *s = container_of(src, struct run_state, signal_src);
	struct signalfd_siginfo si;

	(void)events;
	while (read(src->fd, &si, sizeof(si)) == sizeof(si)) {
		int sig = (int)si.ssi_signo;

		if (sig != SIGTERM && sig != SIGINT)
			forward_signal(s, sig);
		else if (on_stop_signal(s, sig))
			return -1;
	}
	return 0;
}

static int on_kill_after(struct ev_source *src, uint32_t events)
{
	struct run_state *s = container_of(src, struct run_state, kill_src);
	uint64_t ticks;

	(void)events;
	if (read(src->fd, &ticks, sizeof(ticks)) != sizeof(ticks))
		return 0;
	return kill_sandbox(s, "the command outlived --kill-after");
}

/* First expiry: SIGTERM to the command; after a grace period, SIGKILL all. */
static int on_timeout(struct ev_source *src, uint32_t events)
{
	struct run_state *s = container_of(src, struct run_state, timer_src);
	uint64_t ticks;

	(void)events;
	if (read(src->fd, &ticks, sizeof(ticks)) != sizeof(ticks))
		return 0;
	if (!s->timed_out) {
		s->timed_out = true;
		log_warn("timeout of %u s reached: stopping the command",
			 s->opts->timeout_s);
		syscall(SYS_pidfd_send_signal, s->child_src.fd, SIGTERM, NULL,
			0);
		return arm_timer(src->fd, TIMEOUT_GRACE_S);
	}
	s->grace_over = true;
	return cgroup_kill_all(&s->cg);
}

static int watch_signals(struct run_state *s, char *err, size_t errlen)
{
	sigset_t mask;

	sigemptyset(&mask);
	for (size_t i = 0; i < sizeof(forwarded_signals) / sizeof(int); i++)
		sigaddset(&mask, forwarded_signals[i]);
	if (sigprocmask(SIG_BLOCK, &mask, &s->orig_mask) < 0)
		return set_err(err, errlen, "sigprocmask: %s", strerror(errno));
	s->signal_src.fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	s->signal_src.on_ready = on_signal;
	if (s->signal_src.fd < 0)
		return set_err(err, errlen, "signalfd: %s", strerror(errno));
	s->kill_src.fd =
		timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	s->kill_src.on_ready = on_kill_after;
	if (s->kill_src.fd < 0)
		return set_err(err, errlen, "timerfd_create: %s",
			       strerror(errno));
	if (ev_add(s->epfd, &s->signal_src, EPOLLIN) ||
	    ev_add(s->epfd, &s->kill_src, EPOLLIN))
		return set_err(err, errlen, "cannot watch signals");
	return 0;
}

static int watch_timeout(struct run_state *s, char *err, size_t errlen)
{
	if (!s->opts->timeout_s)
		return 0;
	s->timer_src.fd =
		timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	s->timer_src.on_ready = on_timeout;
	if (s->timer_src.fd < 0)
		return set_err(err, errlen, "timerfd_create: %s",
			       strerror(errno));
	if (ev_add(s->epfd, &s->timer_src, EPOLLIN) ||
	    arm_timer(s->timer_src.fd, s->opts->timeout_s)) {
		return set_err(err, errlen, "cannot arm --timeout");
	}
	return 0;
}

static int spawn(struct run_state *s, struct spawn_gate *gate, char *err,
		 size_t errlen)
{
	char env_store[MAX_PROXY_ENV][96];
	char *env[MAX_PROXY_ENV + 1];
	struct spawn_request req = {
		.cgroup_fd = s->cg.fd,
		.cgroup2_root = s->cgroup2_root,
		.argv = s->opts->argv,
		.setenv = env,
		.user_env = s->opts->env,
		.child_sigmask = &s->orig_mask,
		.user = s->opts->user,
		.seccomp_log = s->opts->seccomp_log,
		.gate = gate,
	};

	build_proxy_env(s->opts->policy, env_store, env);
	return spawn_workload(&req, &s->child, &s->child_src.fd, err, errlen);
}

/*
 * The sandbox's init and workload set themselves up (namespaces, mounts,
 * user, seccomp: several ms) while the programs are verified, on another
 * CPU where there is one; the workload execs the command only once
 * start_workload() opens the gate, after attach. tear_down() kills them
 * if that never comes.
 */
static int spawn_behind_gate(struct run_state *s, char *err, size_t errlen)
{
	return spawn_gate_new(&s->gate, err, errlen) ||
	       spawn(s, &s->gate, err, errlen);
}

static int start_workload(struct run_state *s, char *err, size_t errlen)
{
	if (s->child_src.fd < 0 && spawn(s, NULL, err, errlen))
		return -1;
	s->child_src.on_ready = on_child_exit;
	if (ev_add(s->epfd, &s->child_src, EPOLLIN)) {
		/* Cannot supervise it: it must not run. */
		cgroup_kill_all(&s->cg);
		return set_err(err, errlen, "cannot watch the command's pidfd");
	}
	events_start(&s->events, s->child, s->opts->argv, s->cgroup_id);
	return s->gate.wfd >= 0 ? spawn_gate_open(&s->gate, err, errlen) : 0;
}

/*
 * Pin the maps for `awf-bpf dump` and `status`; tear_down unpins. Once
 * the command runs: the pins serve those two, not enforcement, which
 * every program attached before the gate opened is. A failure leaves
 * the command running, confined as ever (to stop it for want of `dump`
 * would be no safer, and would end a command that has started), and
 * says so: the sandbox is not published.
 */
static void publish(struct run_state *s)
{
	char err[AWF_ERR_LEN] = "";
	struct publish_args a = {
		.sandbox = s->sandbox_id,
		.policy = s->opts->policy,
		.loader = s->loader,
		.argv = s->opts->argv,
		.audit_log = s->opts->audit_log,
		.cgroup_fd = s->cg.fd,
		.workload = s->child,
	};

	if (s->from_agent || !sandbox_publish(&s->pub, &a, err, sizeof(err)))
		return;
	log_error(
		"%s: sandbox %s is enforced, but `awf-bpf dump` and `status` cannot see it",
		err, s->sandbox_id);
}

/* The agent's cgroup (s->cg.fd), as it named it. */
static int agent_cgroup(struct run_state *s, char *err, size_t errlen)
{
	snprintf(s->sandbox_id, sizeof(s->sandbox_id), "%.31s",
		 s->agent.sandbox);
	if ((size_t)snprintf(s->cg.path, sizeof(s->cg.path), "%s%s",
			     s->cgroup2_root,
			     s->agent.cgroup) >= sizeof(s->cg.path) ||
	    cgroup_id_at(s->cg.fd, "", &s->cgroup_id, err, errlen)) {
		return set_err(err, errlen, "the agent's cgroup %.400s",
			       s->agent.cgroup);
	}
	return 0;
}

/*
 * The agent built the sandbox (programs, maps, DNS endpoint) and gave us
 * its cgroup: what is left is the workload, its events and its lifetime.
 */
static int set_up_with_agent(struct run_state *s, char *err, size_t errlen)
{
	if (events_open(&s->events, -1, s->epfd, s->opts->audit_log,
			s->sandbox_id, err, errlen))
		return -1;
	s->events_open = true;
	if (agent_client_watch(&s->agent, s->epfd, &s->events))
		return set_err(err, errlen, "cannot watch the agent's socket");
	log_debug("sandbox %s from the agent", s->sandbox_id);
	return watch_signals(s, err, errlen) || watch_timeout(s, err, errlen);
}

/*
 * While the kernel verifies the programs (the loader programs' bpf()
 * calls: tens of ms, on two threads and CPUs of their own where there
 * are), the main
 * thread sweeps what a dead run of our pid left (after the loader's
 * start, which needs none of it), makes the cgroup, spawns the sandbox
 * behind its gate (the main thread: PR_SET_PDEATHSIG is about the thread
 * that cloned init), builds the name table, turns the hooks on
 * (hook_warm.h) and, once the core has loaded, fills the maps and opens
 * the events (use_core_maps()). Nothing here reads the loader but the
 * hooks loader_open_core() noted and the core's maps (loader_wait_core()).
 */
static int beside_load(struct run_state *s, char *err, size_t errlen)
{
	struct gc_report swept = { .verbose = false };
	const int *hooks;
	size_t n_hooks;

	/* Our names: a dead run of our pid may hold them. Others: sweep_later() */
	gc_sweep_id(s->cgroup2_root, s->sandbox_id, &swept);
	if (cgroup_create(&s->cg, s->cgroup2_root, s->sandbox_id, err,
			  errlen) ||
	    cgroup_id_at(s->cg.fd, "", &s->cgroup_id, err, errlen) ||
	    spawn_behind_gate(s, err, errlen) ||
	    name_table_build(&s->names, s->opts->policy, s->matcher, err,
			     errlen))
		return -1;
	hooks = loader_hooks(s->loader, &n_hooks);
	hook_warm_attach(&s->warm, s->cg.fd, hooks, n_hooks);
	/*
	 * The core makes every map: they are filled while the groups
	 * load (after it, if the core has no thread of its own).
	 */
	if (!loader_wait_core(s->loader))
		return use_core_maps(s, err, errlen);
	return 0;
}

/*
 * The load is always waited for, whatever failed beside it: tear_down()
 * frees what the loader program writes. The first failure is the one
 * reported; a failed load leaves none of the sandbox's programs attached
 * and the gate shut.
 */
static int load_beside_spawn(struct run_state *s, char *err, size_t errlen)
{
	char load_err[AWF_ERR_LEN] = "";
	int ret;

	if (open_programs(s, err, errlen))
		return -1;
	loader_start(s->loader);
	ret = beside_load(s, err, errlen);
	if (loader_wait(s->loader, load_err, sizeof(load_err)) && !ret) {
		snprintf(err, errlen, "%s", load_err);
		ret = -1;
	}
	return ret ? -1 : 0;
}

/*
 * 1: no agent; 0: the agent's sandbox is set up; -1: failure. A cgroup
 * the agent made ahead of the policy gets the sandbox's init (behind its
 * gate: start_workload() opens it) while the agent builds the sandbox; a
 * refusal then kills it (tear_down()) before the command ever ran.
 */
static int try_agent(struct run_state *s, char *err, size_t errlen)
{
	int ret, early_fd;

	if (s->opts->standalone)
		return 1;
	ret = agent_client_request(&s->agent, s->opts->policy,
				   s->opts->audit_allowed, &early_fd, err,
				   errlen);
	if (ret)
		return ret;
	s->from_agent = true;
	if (early_fd >= 0) {
		s->cg.fd = early_fd;
		if (agent_cgroup(s, err, errlen) ||
		    spawn_behind_gate(s, err, errlen))
			return -1;
	}
	if (agent_client_reply(&s->agent, &s->cg.fd, err, errlen) ||
	    (early_fd < 0 && agent_cgroup(s, err, errlen)))
		return -1;
	return set_up_with_agent(s, err, errlen) ? -1 : 0;
}

static int set_up(struct run_state *s, char *err, size_t errlen)
{
	if (cgroup2_root(s->cgroup2_root, sizeof(s->cgroup2_root), err, errlen))
		return -1;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0)
		return set_err(err, errlen, "epoll_create1: %s",
			       strerror(errno));
	switch (try_agent(s, err, errlen)) {
	case 0:
		return 0;
	case -1:
		return -1;
	}
	/*
	 * The second lane's thread waits for the core while this one
	 * builds the configuration.
	 */
	if (loader_prepare(s->loader, err, errlen))
		return -1;
	if (kernel_check_btf_present(err, errlen) ||
	    open_dns_endpoint(s, err, errlen))
		return -1;
	snprintf(s->sandbox_id, sizeof(s->sandbox_id), "run-%d", (int)getpid());
	if (load_beside_spawn(s, err, errlen) ||
	    (!s->core_used && use_core_maps(s, err, errlen)) ||
	    loader_attach(s->loader, s->cg.fd, &s->warm, err, errlen))
		return -1;
	return watch_signals(s, err, errlen) || watch_timeout(s, err, errlen);
}

/*
 * The leftovers of dead runs (gc.h), swept while the command runs rather
 * than before the set-up: they hold other names than this run's, which
 * set_up() swept itself, and an empty cgroup with nobody in it confines
 * nobody, so a few more ms of them weaken nothing.
 */
static void sweep_later(const struct run_state *s)
{
	struct gc_report swept = { .verbose = false };

	gc_sweep(s->cgroup2_root, &swept);
}

/* What awf-bpf exits with, for the audit log; -1: the command never ran. */
static int final_status(const struct run_state *s)
{
	if (!s->child_done)
		return -1;
	if (s->timed_out)
		return EXIT_TIMEOUT;
	return s->killed ? EXIT_KILLED : s->child_status;
}

/*
 * Programs go only once the cgroup is empty: while anything of the
 * workload lives, it stays confined. They are not detached one by one:
 * the kernel releases a removed cgroup's programs itself, off the path
 * to our exit (each detach that turns off the last program of a hook
 * patches the kernel's text, synchronously, on every CPU). An empty
 * cgroup that cannot be removed keeps them.
 */
static void tear_down(struct run_state *s)
{
	bool emptied = true;

	if (s->events_open)
		events_drain(&s->events);
	if (s->cg.fd >= 0 || s->cg.path[0])
		emptied = cgroup_kill_all(&s->cg) == 0;
	if (s->from_agent) {
		/* Hanging up tells the agent to remove the sandbox. */
		close(s->cg.fd);
		s->cg.fd = -1;
	} else if (emptied) {
		if (s->cg.path[0])
			cgroup_remove(&s->cg);
	} else {
		log_error("%s left in place, still enforced", s->cg.path);
	}
	if (s->events_open) {
		s->events.summary_json = s->opts->summary_json;
		events_finish(&s->events, final_status(s), s->opts->quiet);
	}
	agent_client_close(&s->agent);
	sandbox_unpublish(&s->pub);
}

/*
 * The run's own descriptors (the programs', the maps', the DNS
 * endpoint's sockets: a hundred), mappings (the ring buffer's) and
 * memory, which are nothing to anyone but this process once tear_down()
 * is done. After the command, they are left to the process's exit, which
 * follows: it closes them without a system call each and unmaps without
 * a TLB shootdown of the CPUs the loader's threads ran on (0.2 ms, and
 * 0.15 ms for the ring buffer, less between the command's exit and
 * ours). A set-up that failed releases them (its loader threads may
 * still run).
 */
static void release(struct run_state *s)
{
	if (s->events_open)
		events_close(&s->events);
	hook_warm_release(&s->warm, false);
	loader_close(s->loader);
	dns_fwd_free(s->dns);
	dns_filter_free(s->filter);
	learned_store_free(s->learned);
	name_table_free(&s->names);
	free_rules(s);
	domain_matcher_free(s->matcher);
	if (s->signal_src.fd >= 0)
		close(s->signal_src.fd);
	if (s->timer_src.fd >= 0)
		close(s->timer_src.fd);
	if (s->kill_src.fd >= 0)
		close(s->kill_src.fd);
	if (s->child_src.fd >= 0)
		close(s->child_src.fd);
	spawn_gate_close(&s->gate);
	if (s->epfd >= 0)
		close(s->epfd);
	sigprocmask(SIG_SETMASK, &s->orig_mask, NULL);
}

/*
 * The agent makes the sandbox's cgroup while the policy is read. A
 * failure: try_agent() tries again, and says why. (A standalone run's
 * loader starts in set_up(): with its loader programs run in this
 * process, a second lane started before the policy had nothing to do.)
 */
void run_prepare(const struct run_options *opts)
{
	char err[AWF_ERR_LEN];

	if (!opts->standalone && access(agent_client_socket(), F_OK) == 0)
		agent_client_open(&run_agent, err, sizeof(err));
}

void run_discard(void)
{
	agent_client_close(&run_agent);
}

int run_sandbox(const struct run_options *opts)
{
	/* Static: what release() leaves to the exit stays reachable. */
	static struct run_state s;
	char err[AWF_ERR_LEN] = "";
	int status;

	s = (struct run_state){
		.opts = opts,
		.epfd = -1,
		.cg = { .fd = -1 },
		.loader = &run_loader,
		.signal_src = { .fd = -1 },
		.timer_src = { .fd = -1 },
		.kill_src = { .fd = -1 },
		.child_src = { .fd = -1 },
		.gate = { .rfd = -1, .wfd = -1 },
		.agent = run_agent, /* connected by run_prepare(), or not */
	};
	sigprocmask(SIG_SETMASK, NULL, &s.orig_mask);
	/* A client that hangs up must not kill the supervisor. */
	signal(SIGPIPE, SIG_IGN);
	/* Never silent, whatever the log level: nothing is enforced. */
	if (opts->policy->audit_only)
		fputs("awf-bpf: audit-only mode: nothing the policy refuses is enforced; "
		      "would-be denials are logged (reserved ranges, socket types "
		      "and the sandbox stay enforced)\n",
		      stderr);
	if (set_up(&s, err, sizeof(err)) ||
	    start_workload(&s, err, sizeof(err))) {
		log_error("%s", err[0] ? err : "set-up failed");
		tear_down(&s);
		release(&s);
		return EXIT_AWF_FAILURE;
	}
	publish(&s);
	hook_warm_release(&s.warm, true);
	sweep_later(&s);
	log_debug("sandbox %s: pid %d in %s", s.sandbox_id, s.child, s.cg.path);
	if (ev_run(s.epfd, &s.child_done) < 0) {
		tear_down(&s);
		release(&s);
		return EXIT_AWF_FAILURE;
	}
	status = final_status(&s);
	tear_down(&s);
	return status;
}
