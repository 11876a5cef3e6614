// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/paths.h"
#include "agent/agent_bpf.h"
#include "awf_agent.skel.h"
#include "common/error.h"
#include "kernel/loader.h"
#include "common/log.h"
#include "kernel/pins.h"

#define BPF_TCX_EGRESS_TYPE 47 /* libbpf 1.1 predates the TCX enum */

/*
 * progs/<name>: the programs in force, for bpftool and for whoever wants
 * to see what enforces. A new agent's programs replace the old pins.
 */
static int pin_programs(struct agent_bpf *a, char *err, size_t errlen)
{
	struct bpf_program *prog;
	char path[PATH_MAX];

	bpf_object__for_each_program(prog, a->skel->obj) {
		snprintf(path, sizeof(path), AWF_AGENT_PROGS_DIR "/%s",
			 bpf_program__name(prog));
		if (unlink(path) && errno != ENOENT)
			return set_err(err, errlen, "unlink %s: %s", path,
				       strerror(errno));
		if (bpf_obj_pin(bpf_program__fd(prog), path))
			return set_err(err, errlen, "pinning %s: %s", path,
				       strerror(errno));
	}
	return 0;
}

/*
 * The sk_msg program belongs to the pinned map name_socks: it stays with
 * the map, and a new agent's program replaces the old one in place.
 */
static int attach_first_bytes(struct agent_bpf *a, char *err, size_t errlen)
{
	if (bpf_prog_attach(bpf_program__fd(a->skel->progs.awf_first_bytes),
			    bpf_map__fd(a->skel->maps.name_socks),
			    BPF_SK_MSG_VERDICT, 0))
		return set_err(err, errlen, "attaching awf_first_bytes: %s",
			       strerror(errno));
	return 0;
}

int agent_bpf_load(struct agent_bpf *a, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts,
		    .pin_root_path = AWF_AGENT_MAPS_DIR);
	int ret;

	memset(a, 0, sizeof(*a));
	if (pins_ensure_bpffs(err, errlen) ||
	    pins_make_dir(AWF_PIN_ROOT, err, errlen) ||
	    pins_make_dir(AWF_AGENT_PIN_DIR, err, errlen) ||
	    pins_make_dir(AWF_AGENT_MAPS_DIR, err, errlen) ||
	    pins_make_dir(AWF_AGENT_LINKS_DIR, err, errlen) ||
	    pins_make_dir(AWF_AGENT_PROGS_DIR, err, errlen))
		return -1;
	a->skel = awf_agent_bpf__open_opts(&opts);
	if (!a->skel)
		return set_err(err, errlen,
			       "opening the agent's BPF object: %s",
			       strerror(errno));
	loader_hold_warnings();
	ret = awf_agent_bpf__load(a->skel);
	if (!ret) {
		loader_release_warnings(true);
		return pin_programs(a, err, errlen) ||
		       attach_first_bytes(a, err, errlen);
	}
	agent_bpf_close(a);
	if (loader_explain_failure(true, err, errlen))
		return -1;
	return set_err(
		err, errlen,
		"loading the agent's BPF programs: %s (pinned maps of an incompatible version stay in place: awf-bpf agent --uninstall removes them)",
		strerror(-ret));
}

void agent_bpf_close(struct agent_bpf *a)
{
	if (a->skel)
		awf_agent_bpf__destroy(a->skel);
	a->skel = NULL;
}

/* Programs not attached to cgroups: tc (uplinks), sk_msg (a map). */
static bool not_for_cgroups(const struct bpf_program *prog)
{
	return bpf_program__type(prog) == BPF_PROG_TYPE_SCHED_CLS ||
	       bpf_program__type(prog) == BPF_PROG_TYPE_SK_MSG;
}

/*
 * A pinned link someone detached (bpftool link detach, a removed
 * interface) still exists but enforces nothing: its target reads 0.
 */
static bool link_defunct(int link_fd)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);
	__u64 target = 0;

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(link_fd, &info, &len))
		return false;
	if (info.type == BPF_LINK_TYPE_CGROUP)
		return info.cgroup.cgroup_id == 0;
	/* TCX (newer than these headers): the union starts with ifindex. */
	memcpy(&target, &info.cgroup, sizeof(__u32));
	return target == 0;
}

/*
 * Swap the program behind a pinned link, or create and pin the link.
 * Returns 0, or -errno with err set: the caller of a TCX link tells "this
 * kernel has no TCX" (-EINVAL, -EOPNOTSUPP) from other failures.
 */
static int link_program(const char *path, int prog_fd, int target_fd,
			int attach_type, char *err, size_t errlen)
{
	int link_fd = bpf_obj_get(path);
	int ret;

	if (link_fd >= 0 && link_defunct(link_fd)) {
		log_warn("%s was detached: attaching again", path);
		close(link_fd);
		unlink(path);
		link_fd = -1;
	}
	if (link_fd >= 0) {
		ret = bpf_link_update(link_fd, prog_fd, NULL) ? -errno : 0;
		close(link_fd);
		if (ret)
			set_err(err, errlen, "updating link %s: %s", path,
				strerror(-ret));
		return ret;
	}
	link_fd = bpf_link_create(prog_fd, target_fd, attach_type, NULL);
	if (link_fd < 0) {
		ret = -errno;
		set_err(err, errlen, "attaching %s: %s", path, strerror(-ret));
		return ret;
	}
	ret = bpf_obj_pin(link_fd, path) ? -errno : 0;
	close(link_fd);
	if (ret)
		set_err(err, errlen, "pinning link %s: %s", path,
			strerror(-ret));
	return ret;
}

int agent_bpf_attach_cgroup(struct agent_bpf *a, int cgroup_fd,
			    uint64_t cgroup_id, char *err, size_t errlen)
{
	struct bpf_program *prog;
	char path[PATH_MAX];

	bpf_object__for_each_program(prog, a->skel->obj) {
		if (not_for_cgroups(prog))
			continue;
		snprintf(path, sizeof(path), AWF_AGENT_LINKS_DIR "/cg-%llu-%s",
			 (unsigned long long)cgroup_id,
			 bpf_program__name(prog));
		if (link_program(path, bpf_program__fd(prog), cgroup_fd,
				 bpf_program__expected_attach_type(prog), err,
				 errlen) < 0)
			return -1;
	}
	return 0;
}

/* Kernels before 6.6 have no TCX: a clsact filter, which the qdisc keeps. */
static int attach_clsact(int prog_fd, int ifindex, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1,
		    .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE);
	int ret = bpf_tc_hook_create(&hook);

	if (ret && ret != -EEXIST)
		return set_err(err, errlen, "clsact on ifindex %d: %s", ifindex,
			       strerror(-ret));
	ret = bpf_tc_attach(&hook, &opts);
	if (ret)
		return set_err(err, errlen, "tc filter on ifindex %d: %s",
			       ifindex, strerror(-ret));
	return 0;
}

int agent_bpf_attach_uplink(struct agent_bpf *a, int ifindex,
			    enum agent_tc_mode mode, __u32 l3_offset, char *err,
			    size_t errlen)
{
	int prog_fd = bpf_program__fd(a->skel->progs.awf_tc_egress);
	__u32 key = (__u32)ifindex;
	char path[PATH_MAX];
	int ret;

	if (bpf_map_update_elem(bpf_map__fd(a->skel->maps.uplinks), &key,
				&l3_offset, BPF_ANY)) {
		return set_err(err, errlen, "uplinks map: %s", strerror(errno));
	}
	if (mode == AGENT_TC_CLSACT)
		return attach_clsact(prog_fd, ifindex, err, errlen);
	snprintf(path, sizeof(path), AWF_AGENT_LINKS_DIR "/tc-%d", ifindex);
	ret = link_program(path, prog_fd, ifindex, BPF_TCX_EGRESS_TYPE, err,
			   errlen);
	if (mode == AGENT_TC_TCX || (ret != -EINVAL && ret != -EOPNOTSUPP))
		return ret < 0 ? -1 : 0;
	log_info("no TCX on ifindex %d: using a clsact filter", ifindex);
	return attach_clsact(prog_fd, ifindex, err, errlen);
}

/* clsact filters are no links: take ours off every uplink we recorded. */
static void detach_clsact_filters(void)
{
	int fd = bpf_obj_get(AWF_AGENT_MAPS_DIR "/uplinks");
	__u32 key, *prev = NULL;

	if (fd < 0)
		return;
	while (!bpf_map_get_next_key(fd, prev, &key)) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)key,
			    .attach_point = BPF_TC_EGRESS);
		LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1);

		bpf_tc_detach(&hook, &opts); /* TCX there, or gone: fine */
		prev = &key;
	}
	close(fd);
}

int agent_bpf_installed(void)
{
	struct stat st;

	return stat(AWF_AGENT_LINKS_DIR, &st) == 0;
}

int agent_bpf_uninstall(char *err, size_t errlen)
{
	static const char *const dirs[] = { AWF_AGENT_LINKS_DIR,
					    AWF_AGENT_PROGS_DIR,
					    AWF_AGENT_MAPS_DIR,
					    AWF_AGENT_PIN_DIR };

	detach_clsact_filters();
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (pins_remove_dir(dirs[i]) && errno != ENOENT)
			return set_err(err, errlen, "removing %s: %s", dirs[i],
				       strerror(errno));
	}
	return 0;
}

int agent_bpf_map_fd(const struct agent_bpf *a, enum agent_map m)
{
	switch (m) {
	case AGENT_MAP_CIDR4:
		return bpf_map__fd(a->skel->maps.cidr4);
	case AGENT_MAP_CIDR6:
		return bpf_map__fd(a->skel->maps.cidr6);
	case AGENT_MAP_LEARNED4:
		return bpf_map__fd(a->skel->maps.learned4);
	case AGENT_MAP_LEARNED6:
		return bpf_map__fd(a->skel->maps.learned6);
	case AGENT_MAP_NAMES:
		return bpf_map__fd(a->skel->maps.names);
	case AGENT_MAP_NAME_RULES:
		return bpf_map__fd(a->skel->maps.name_rules);
	case AGENT_MAP_EXACT_NAMES:
		return bpf_map__fd(a->skel->maps.exact_names);
	default:
		return bpf_map__fd(a->skel->maps.lo_ports);
	}
}

int agent_bpf_host_addrs_fd(const struct agent_bpf *a, int family)
{
	return bpf_map__fd(family == AF_INET ? a->skel->maps.host_addrs4 :
					       a->skel->maps.host_addrs6);
}

int agent_bpf_slots_fd(const struct agent_bpf *a)
{
	return bpf_map__fd(a->skel->maps.slots);
}

int agent_bpf_configs_fd(const struct agent_bpf *a)
{
	return bpf_map__fd(a->skel->maps.configs);
}

int agent_bpf_counters_fd(const struct agent_bpf *a)
{
	return bpf_map__fd(a->skel->maps.counters);
}

int agent_bpf_events_fd(const struct agent_bpf *a)
{
	return bpf_map__fd(a->skel->maps.events);
}
