/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * publish.h - describe a running sandbox in its own maps (meta: who, what,
 * since when, with which settings; domains: the policy's domain entries)
 * and pin them with the policy, learned and counter maps (pins.h), so that
 * `dump` and `status` need nothing but bpffs.
 */
#ifndef AWF_PUBLISH_H
#define AWF_PUBLISH_H

#include <stddef.h>
#include <sys/types.h>

#include "awf.h"
#include "kernel/pins.h"

struct loader;
struct policy;

struct sandbox_pub {
	struct pins pins;
	int meta_fd; /* valid while pins.dir is set */
	struct awf_meta meta;
};

struct publish_args {
	const char *sandbox;
	const struct policy *policy;
	const struct loader *loader; /* loaded: its maps exist */
	char *const *argv;
	const char *audit_log; /* or NULL */
	int cgroup_fd;
	pid_t workload; /* the command's, running */
};

/* -1 with a message in err. */
int sandbox_publish(struct sandbox_pub *pub, const struct publish_args *a,
		    char *err, size_t errlen);
void sandbox_unpublish(struct sandbox_pub *pub);

/* Who started awf-bpf (the sudo user when through sudo): name and uid. */
uid_t publish_invoker(char *name, size_t len);

#endif /* AWF_PUBLISH_H */
