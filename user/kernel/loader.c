// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/error.h"
#include "kernel/loader.h" /* before the skeleton: it defines struct awf_config */
#include "awf.skel.h"
#include "common/log.h"

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	char line[1024];
	enum log_level lvl =
		level == LIBBPF_WARN ? LOG_LVL_WARN : LOG_LVL_DEBUG;

	if (lvl < log_threshold)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_msg(lvl, "libbpf: %s", line);
	return 0;
}

void loader_setup_logging(void)
{
	libbpf_set_print(libbpf_print);
}

int loader_load(struct loader *l, const struct awf_config *cfg,
		bool check_names, char *err, size_t errlen)
{
	int ret;

	memset(l, 0, sizeof(*l));
	l->cgroup_fd = -1;
	l->skel = awf_bpf__open();
	if (!l->skel)
		return set_err(err, errlen, "opening BPF object: %s",
			       strerror(errno));
	/* .rodata is frozen at load: the programs cannot be reconfigured. */
	memcpy((void *)&l->skel->rodata->awf_cfg, cfg, sizeof(*cfg));
	if (!check_names) {
		bpf_program__set_autoload(l->skel->progs.awf_sockops, false);
		bpf_program__set_autoload(l->skel->progs.awf_first_bytes,
					  false);
	}
	/*
	 * The loopback ports the sandbox serves on matter to localhost
	 * "sandbox" mode only; elsewhere these would run for every socket
	 * and find nothing to do.
	 */
	if (cfg->localhost_mode != AWF_LO_SANDBOX) {
		bpf_program__set_autoload(l->skel->progs.awf_post_bind4, false);
		bpf_program__set_autoload(l->skel->progs.awf_post_bind6, false);
		bpf_program__set_autoload(l->skel->progs.awf_sock_release,
					  false);
	}
	ret = awf_bpf__load(l->skel);
	if (!ret)
		return 0;
	loader_close(l);
	return set_err(
		err, errlen,
		"loading BPF programs: %s (run with --log-level debug for the verifier log)",
		strerror(-ret));
}

int loader_fill_rules(struct loader *l, const struct rule_table *t, char *err,
		      size_t errlen)
{
	return rules_write(t, bpf_map__fd(l->skel->maps.cidr4),
			   bpf_map__fd(l->skel->maps.cidr6), err, errlen);
}

int loader_fill_host_addrs(struct loader *l, const struct policy_cidr *a,
			   size_t n, char *err, size_t errlen)
{
	int fd4 = bpf_map__fd(l->skel->maps.host_addrs4);
	int fd6 = bpf_map__fd(l->skel->maps.host_addrs6);
	uint8_t one = 1;

	for (size_t i = 0; i < n; i++) {
		struct awf_ip6_key k6;
		uint32_t k4;
		int ret;

		if (a[i].family == AF_INET) {
			memcpy(&k4, a[i].addr, 4);
			ret = bpf_map_update_elem(fd4, &k4, &one, BPF_ANY);
		} else {
			memcpy(k6.addr, a[i].addr, 16);
			ret = bpf_map_update_elem(fd6, &k6, &one, BPF_ANY);
		}
		if (ret)
			return set_err(err, errlen,
				       "writing host address %zu of %zu: %s",
				       i + 1, n, strerror(errno));
	}
	return 0;
}

/*
 * The sk_msg program belongs to the map of the connections whose first
 * bytes it reads; every other one to the sandbox cgroup. ALLOW_MULTI:
 * programs of nested cgroups run in addition to ours and can never
 * replace them.
 */
static int attach_one(struct loader *l, struct bpf_program *prog, char *err,
		      size_t errlen)
{
	int fd = bpf_program__fd(prog);
	int type = bpf_program__expected_attach_type(prog);
	int target = l->cgroup_fd, flags = BPF_F_ALLOW_MULTI;
	const char *what = "the sandbox cgroup";

	if (l->n_attached == LOADER_MAX_PROGS)
		return set_err(err, errlen, "more than %d BPF programs",
			       LOADER_MAX_PROGS);
	if (type == BPF_SK_MSG_VERDICT) {
		target = bpf_map__fd(l->skel->maps.name_socks);
		flags = 0;
		what = "map name_socks";
	}
	if (bpf_prog_attach(fd, target, type, flags))
		return set_err(err, errlen, "attaching %s to %s: %s",
			       bpf_program__name(prog), what, strerror(errno));
	l->attached[l->n_attached].prog_fd = fd;
	l->attached[l->n_attached].target_fd = target;
	l->attached[l->n_attached].type = type;
	l->n_attached++;
	return 0;
}

int loader_attach(struct loader *l, int cgroup_fd, char *err, size_t errlen)
{
	struct bpf_program *prog;

	l->cgroup_fd = cgroup_fd;
	bpf_object__for_each_program(prog, l->skel->obj) {
		if (!bpf_program__autoload(prog))
			continue;
		if (attach_one(l, prog, err, errlen)) {
			loader_detach(l);
			return -1;
		}
	}
	return 0;
}

void loader_detach(struct loader *l)
{
	while (l->n_attached) {
		l->n_attached--;
		if (bpf_prog_detach2(l->attached[l->n_attached].prog_fd,
				     l->attached[l->n_attached].target_fd,
				     l->attached[l->n_attached].type))
			log_warn("detaching BPF program (type %d): %s",
				 l->attached[l->n_attached].type,
				 strerror(errno));
	}
}

void loader_close(struct loader *l)
{
	if (l->skel)
		awf_bpf__destroy(l->skel);
	l->skel = NULL;
}

int loader_map_fd(const struct loader *l, const char *name)
{
	struct bpf_map *map;

	if (!l->skel)
		return -1;
	map = bpf_object__find_map_by_name(l->skel->obj, name);
	return map ? bpf_map__fd(map) : -1;
}

const struct awf_config *loader_config(const struct loader *l)
{
	return (const struct awf_config *)&l->skel->rodata->awf_cfg;
}
