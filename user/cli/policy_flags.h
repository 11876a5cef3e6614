/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * policy_flags.h - the policy flags that `run` and `policy test` share:
 * their getopt entries, their usage lines and how they build a policy, so
 * that `policy test` answers for exactly the policy `run` would enforce.
 */
#ifndef AWF_POLICY_FLAGS_H
#define AWF_POLICY_FLAGS_H

#include <getopt.h>
#include <stddef.h>

#include "policy/policy.h"

/* Above the values of any command's own options. */
enum policy_flag {
	PFLAG_POLICY = 512,
	PFLAG_ALLOW_DOMAINS_FILE,
	PFLAG_BLOCK_DOMAINS,
	PFLAG_BLOCK_DOMAINS_FILE,
	PFLAG_DNS_SERVERS,
	PFLAG_ALLOW_CIDR,
	PFLAG_PROXY,
	PFLAG_LOCALHOST,
	PFLAG_ENABLE_HOST_ACCESS,
	PFLAG_ALLOW_HOST_PORTS,
};

/* Entries of a command's struct option table; short option "d:". */
#define POLICY_FLAG_OPTIONS                                                    \
	{ "policy", required_argument, NULL, PFLAG_POLICY },                   \
		{ "allow-domains", required_argument, NULL, 'd' },             \
		{ "allow-domains-file", required_argument, NULL,               \
		  PFLAG_ALLOW_DOMAINS_FILE },                                  \
		{ "block-domains", required_argument, NULL,                    \
		  PFLAG_BLOCK_DOMAINS },                                       \
		{ "block-domains-file", required_argument, NULL,               \
		  PFLAG_BLOCK_DOMAINS_FILE },                                  \
		{ "dns-servers", required_argument, NULL, PFLAG_DNS_SERVERS }, \
		{ "allow-cidr", required_argument, NULL, PFLAG_ALLOW_CIDR },   \
		{ "proxy", required_argument, NULL, PFLAG_PROXY },             \
		{ "localhost", required_argument, NULL, PFLAG_LOCALHOST },     \
		{ "enable-host-access", no_argument, NULL,                     \
		  PFLAG_ENABLE_HOST_ACCESS },                                  \
	{                                                                      \
		"allow-host-ports", required_argument, NULL,                   \
			PFLAG_ALLOW_HOST_PORTS                                 \
	}

/* Their lines of a usage text (the one source of `help` and the man pages). */
#define POLICY_FLAGS_USAGE                                                     \
	"  --policy FILE               policy file (policy/README.md)\n"       \
	"  -d, --allow-domains LIST    comma-separated domains to allow;\n"    \
	"                              https://NAME (http://NAME) allows\n"    \
	"                              port 443 (80) only\n"                   \
	"  --allow-domains-file F      one domain per line ('#' comments)\n"   \
	"  --block-domains LIST        domains to block (wins over allow)\n"   \
	"  --block-domains-file F      one domain per line\n"                  \
	"  --dns-servers LIST          trusted upstream resolvers (IP "        \
	"literals)\n"                                                          \
	"  --allow-cidr CIDR[:PORTS]   allow a network, optionally on PORTS\n" \
	"                              (80,443,8000-8100); IPv6: "             \
	"[CIDR]:PORTS\n"                                                       \
	"  --proxy HOST:PORT           proxy-only mode through this proxy\n"   \
	"  --localhost MODE            sandbox (default), allow or deny\n"     \
	"  --enable-host-access        = --localhost allow (awf)\n"            \
	"  --allow-host-ports LIST     loopback ports of the host CMD may\n"   \
	"                              reach (awf; narrows "                   \
	"--enable-host-access\n"                                               \
	"                              to them, whatever the order)\n"

struct policy_flag_arg {
	int opt;
	const char *arg;
};

struct policy_flags {
	const char *policy_file;
	struct policy_flag_arg *v; /* in command-line order */
	size_t n;
};

/* Room for every flag of an argv of argc entries; -1: out of memory. */
int policy_flags_init(struct policy_flags *f, int argc);
/* 1 when opt is a policy flag (kept for policy_flags_build), else 0. */
int policy_flags_take(struct policy_flags *f, int opt, const char *arg);
/*
 * The policy file, then the flags in their order (--allow-host-ports
 * last), then policy_finalize(): the policy `run` enforces.
 */
int policy_flags_build(const struct policy_flags *f, struct policy *p,
		       char *err, size_t errlen);
void policy_flags_free(struct policy_flags *f);

#endif /* AWF_POLICY_FLAGS_H */
