// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "common/error.h"
#include "kernel/loader.h"
#include "common/log.h"
#include "kernel/pinned.h"
#include "policy/policy.h"
#include "kernel/map_batch.h"
#include "kernel/publish.h"

uid_t publish_invoker(char *name, size_t len)
{
	const char *sudo_user = getenv("SUDO_USER");
	const char *sudo_uid = getenv("SUDO_UID");
	struct passwd *pw;
	uid_t uid = getuid();
	char *end;

	if (uid == 0 && sudo_user && sudo_uid && *sudo_uid) {
		unsigned long v = strtoul(sudo_uid, &end, 10);

		if (!*end && v <= UINT32_MAX) {
			snprintf(name, len, "%s", sudo_user);
			return (uid_t)v;
		}
	}
	pw = getpwuid(uid);
	if (pw)
		snprintf(name, len, "%s", pw->pw_name);
	else
		snprintf(name, len, "%u", (unsigned int)uid);
	return uid;
}

/* Truncating copy: a path longer than the field is cut, not refused. */
static void copy_str(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* argv as NUL-separated strings; what does not fit is left out whole. */
static void fill_cmdline(struct awf_meta *m, char *const *argv)
{
	size_t off = 0;

	for (; *argv; argv++) {
		size_t n = strlen(*argv) + 1;

		if (off + n > sizeof(m->cmdline))
			break;
		memcpy(m->cmdline + off, *argv, n);
		off += n;
		m->argc++;
	}
}

static void fill_policy(struct awf_meta *m, const struct policy *p)
{
	m->n_allow_domains = (__u32)p->n_allow_domains;
	m->n_block_domains = (__u32)p->n_block_domains;
	m->n_dns_servers = (__u32)p->n_dns_servers;
	m->dns_min_ttl = p->dns_min_ttl;
	m->dns_max_ips_per_name = p->dns_max_ips_per_name;
	m->default_ports = p->ports;
	for (size_t i = 0; i < p->n_dns_servers && i < AWF_META_MAX_DNS; i++) {
		m->dns_servers[i].family = (__u8)p->dns_servers[i].family;
		m->dns_servers[i].port = p->dns_servers[i].port;
		memcpy(m->dns_servers[i].addr, p->dns_servers[i].addr, 16);
	}
}

static void fill_meta(struct awf_meta *m, const struct publish_args *a)
{
	struct timespec now;
	struct stat st;
	char path[PATH_MAX];
	uint64_t ticks = 0;

	memset(m, 0, sizeof(*m));
	m->version = AWF_META_VERSION;
	m->pid = (__u32)getpid();
	if (proc_start_ticks(getpid(), &ticks))
		log_warn("reading /proc/self/stat: %s", strerror(errno));
	m->pid_start_ticks = ticks;
	clock_gettime(CLOCK_REALTIME, &now);
	m->start_realtime_ns =
		(__u64)now.tv_sec * 1000000000ULL + (__u64)now.tv_nsec;
	/* On cgroup2 the inode number is the cgroup id the programs see. */
	if (a->cgroup_fd >= 0 && fstat(a->cgroup_fd, &st) == 0)
		m->cgroup_id = st.st_ino;
	m->uid = (__u32)publish_invoker(m->user, sizeof(m->user));
	fill_policy(m, a->policy);
	m->cfg = *loader_config(a->loader);
	snprintf(m->sandbox, sizeof(m->sandbox), "%s", a->sandbox);
	if (a->audit_log)
		copy_str(m->audit_log, sizeof(m->audit_log),
			 realpath(a->audit_log, path) ? path : a->audit_log);
	fill_cmdline(m, a->argv);
	m->workload_pid = (__u32)a->workload;
}

static int put_domain(struct map_batch *mb, __u32 list, __u32 id,
		      const struct policy_domain *d,
		      const struct awf_port_set *ports)
{
	struct awf_domain_key key = { .list = list, .id = id };
	struct awf_domain val = { 0 };

	val.subdomains = d->subdomains;
	val.wildcard = strncmp(d->name, "*.", 2) == 0;
	if (ports)
		val.ports = d->has_ports ? d->ports : *ports;
	snprintf(val.name, sizeof(val.name), "%s", d->name);
	return map_batch_add(mb, &key, &val);
}

/* Entry ids are index + 1, as the rule_id of the addresses they open. */
static int fill_domains(int fd, const struct policy *p, char *err,
			size_t errlen)
{
	size_t room = AWF_MAX_DOMAINS;
	struct map_batch mb;
	int ret =
		map_batch_init(&mb, fd, sizeof(struct awf_domain_key),
			       sizeof(struct awf_domain),
			       p->n_allow_domains + p->n_block_domains, false);

	for (size_t i = 0; !ret && i < p->n_allow_domains && room; i++, room--)
		ret = put_domain(&mb, AWF_DOM_ALLOW, (__u32)i + 1,
				 &p->allow_domains[i], &p->ports);
	for (size_t i = 0; !ret && i < p->n_block_domains && room; i++, room--)
		ret = put_domain(&mb, AWF_DOM_BLOCK, (__u32)i + 1,
				 &p->block_domains[i], NULL);
	if (!ret)
		ret = map_batch_flush(&mb);
	if (ret)
		set_err(err, errlen, "writing the domains map: %s",
			strerror(errno));
	map_batch_free(&mb);
	return ret;
}

static int map_fd_of(const void *ctx, const char *name)
{
	return loader_map_fd(ctx, name);
}

int sandbox_publish(struct sandbox_pub *pub, const struct publish_args *a,
		    char *err, size_t errlen)
{
	uint32_t zero = 0;

	pub->meta_fd = loader_map_fd(a->loader, "meta");
	fill_meta(&pub->meta, a);
	if (pub->meta_fd < 0 ||
	    bpf_map_update_elem(pub->meta_fd, &zero, &pub->meta, BPF_ANY)) {
		return set_err(err, errlen, "writing the meta map: %s",
			       pub->meta_fd < 0 ? "no such map" :
						  strerror(errno));
	}
	if (fill_domains(loader_map_fd(a->loader, "domains"), a->policy, err,
			 errlen))
		return -1;
	return pins_create(&pub->pins, a->sandbox, map_fd_of, a->loader, err,
			   errlen);
}

void sandbox_unpublish(struct sandbox_pub *pub)
{
	pins_remove(&pub->pins);
}
