// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>

#include "cli/policy_flags.h"
#include "common/error.h"
#include "policy/policy_cli.h"
#include "policy/policy_finalize.h"
#include "policy/policy_load.h"

int policy_flags_init(struct policy_flags *f, int argc)
{
	f->policy_file = NULL;
	f->n = 0;
	f->v = calloc(argc > 0 ? (size_t)argc : 1, sizeof(*f->v));
	return f->v ? 0 : -1;
}

int policy_flags_take(struct policy_flags *f, int opt, const char *arg)
{
	if (opt == PFLAG_POLICY) {
		f->policy_file = arg;
		return 1;
	}
	if (opt != 'd' &&
	    (opt < PFLAG_ALLOW_DOMAINS_FILE || opt > PFLAG_ALLOW_HOST_PORTS))
		return 0;
	f->v[f->n++] = (struct policy_flag_arg){ .opt = opt, .arg = arg };
	return 1;
}

static int apply_flag(struct policy *p, const struct policy_flag_arg *f,
		      char *err, size_t errlen)
{
	switch (f->opt) {
	case 'd':
		return policy_add_domains(p, false, f->arg, "--allow-domains",
					  err, errlen);
	case PFLAG_BLOCK_DOMAINS:
		return policy_add_domains(p, true, f->arg, "--block-domains",
					  err, errlen);
	case PFLAG_ALLOW_DOMAINS_FILE:
		return policy_add_domains_file(p, false, f->arg, err, errlen);
	case PFLAG_BLOCK_DOMAINS_FILE:
		return policy_add_domains_file(p, true, f->arg, err, errlen);
	case PFLAG_DNS_SERVERS:
		return policy_add_dns_servers(p, f->arg, "--dns-servers", err,
					      errlen);
	case PFLAG_ALLOW_CIDR:
		return policy_add_cidr_arg(p, f->arg, "--allow-cidr", err,
					   errlen);
	case PFLAG_PROXY:
		return policy_set_proxy(p, f->arg, "--proxy", err, errlen);
	case PFLAG_LOCALHOST:
		return policy_set_localhost(p, f->arg, "--localhost", err,
					    errlen);
	case PFLAG_ENABLE_HOST_ACCESS:
		return policy_set_localhost(p, "allow", "--enable-host-access",
					    err, errlen);
	case PFLAG_ALLOW_HOST_PORTS:
		return policy_add_host_ports(p, f->arg, "--allow-host-ports",
					     err, errlen);
	}
	return set_err(err, errlen, "internal: unhandled flag %d", f->opt);
}

int policy_flags_build(const struct policy_flags *f, struct policy *p,
		       char *err, size_t errlen)
{
	if (f->policy_file &&
	    policy_load_file(p, f->policy_file, err, errlen) < 0)
		return -1;
	/* host ports narrow --enable-host-access whatever their order */
	for (int host_ports = 0; host_ports <= 1; host_ports++)
		for (size_t i = 0; i < f->n; i++)
			if ((f->v[i].opt == PFLAG_ALLOW_HOST_PORTS) ==
				    host_ports &&
			    apply_flag(p, &f->v[i], err, errlen) < 0)
				return -1;
	return policy_finalize(p, NULL, NULL, err, errlen);
}

void policy_flags_free(struct policy_flags *f)
{
	free(f->v);
	f->v = NULL;
	f->n = 0;
}
