// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `awf-bpf policy test` (kernel/verdict.c) against the kernel: each policy
 * of the table is built from flags as `run` builds it, loaded and attached
 * through the real loader (sandbox_config_build, rules_build with a host
 * address, loader_fill_rules, loader_attach) to a throwaway cgroup, and a
 * child in that cgroup connect()s to every destination of the table. The
 * hook's answer (EPERM, or anything else: allowed) must be the verdict's.
 * Destinations by address only: names go through the DNS filter's own
 * matcher in both (tests/unit/test_domain_match.c, test_first_bytes.c).
 *
 * Runs in a network namespace of its own in which no interface is up:
 * an allowed connect() fails with a routing error, nothing can leave the
 * machine whatever the programs decide. Needs root.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <bpf/bpf.h>

#include "test_util.h"
#include "bpf_privilege.h"
#include "audit/audit_codes.h"
#include "cli/policy_flags.h"
#include "common/error.h"
#include "kernel/loader.h"
#include "kernel/sandbox_config.h"
#include "kernel/verdict.h"
#include "policy/cidr.h"
#include "policy/policy_cli.h"
#include "run/cgroup.h"

#define HOST_ADDR "198.18.0.15" /* a LOCAL rule: this host's address */
#define MAX_FLAGS 8
#define MAX_EXPECT 8

struct policy_row {
	const char *what;
	struct policy_flag_arg flags[MAX_FLAGS]; /* ends at opt 0 */
	bool no_ipv6;
	/*
	 * bulk: that many more host addresses of each family (240.0.0.0/4,
	 * 2001:db8:ffff::/48: never a destination here), enough for the
	 * exact tables (kernel/rules.h), which the row then must use.
	 */
	unsigned int bulk;
	/* destinations of dests[] the kernel must allow / refuse */
	const char *allow[MAX_EXPECT];
	const char *deny[MAX_EXPECT];
};

static const struct policy_row policies[] = {
	{ "CIDRs with ports, host ports",
	  { { PFLAG_ALLOW_CIDR, "10.0.0.0/8:22" },
	    { PFLAG_ALLOW_CIDR, "10.1.0.0/16:80" },
	    { PFLAG_ALLOW_CIDR, "0.0.0.0/1:7" },
	    { PFLAG_ALLOW_CIDR, "[2001:db8::/32]:443" },
	    { PFLAG_ALLOW_HOST_PORTS, "5432" } },
	  false,
	  0,
	  { NULL },
	  { NULL } },
	{ "everything, host access",
	  { { PFLAG_ALLOW_CIDR, "0.0.0.0/0" },
	    { PFLAG_ALLOW_CIDR, "::/0" },
	    { PFLAG_ENABLE_HOST_ACCESS, NULL } },
	  false,
	  0,
	  { NULL },
	  { NULL } },
	{ "metadata named, localhost deny, proxy",
	  { { PFLAG_ALLOW_CIDR, "169.254.169.254/32:80" },
	    { PFLAG_LOCALHOST, "deny" },
	    { PFLAG_PROXY, "192.0.2.3:3128" } },
	  false,
	  0,
	  { NULL },
	  { NULL } },
	{ "IPv6 off",
	  { { PFLAG_ALLOW_CIDR, "::/0" },
	    { PFLAG_ALLOW_CIDR, "0.0.0.0/0:443" },
	    { PFLAG_ALLOW_HOST_PORTS, "5432,6000-6010" } },
	  true,
	  0,
	  { NULL },
	  { NULL } },
	/*
	 * Host entries in the exact tables over shorter prefixes, with rules
	 * of their own, in the tries: the most specific still wins.
	 */
	{ "host entries in the exact tables, prefixes in the tries",
	  { { PFLAG_ALLOW_CIDR, "198.51.100.0/24:443" },
	    { PFLAG_ALLOW_CIDR, "198.51.100.7/32:80" },
	    { PFLAG_ALLOW_CIDR, "169.254.169.254/32:80" },
	    { PFLAG_ALLOW_CIDR, "198.18.0.0/16:80" },
	    { PFLAG_ALLOW_CIDR, "[2001:db8::/64]:443" },
	    { PFLAG_ALLOW_CIDR, "[2001:db8::7/128]:80" },
	    { PFLAG_ALLOW_HOST_PORTS, "5432" } },
	  false,
	  2000,
	  { "198.51.100.7:80", "198.51.100.7:443", "198.51.100.8:443",
	    "169.254.169.254:80", "[2001:db8::7]:80", "[2001:db8::7]:443",
	    HOST_ADDR ":5432" },
	  { "198.51.100.8:80", "169.254.169.254:443", "169.254.1.1:80",
	    "[2001:db8::8]:80", HOST_ADDR ":80", "[fd00:ec2::254]:80" } },
};

static const char *const dests[] = {
	"10.1.2.3:22",
	"10.1.2.3:80",
	"10.1.2.3:81",
	"10.2.0.1:22",
	"10.2.0.1:80",
	"100.64.0.1:7",
	"100.64.0.1:8",
	"198.51.100.1:443",
	"198.51.100.7:80",
	"198.51.100.7:443",
	"198.51.100.8:80",
	"198.51.100.8:443",
	"169.254.169.254:443",
	"[2001:db8::7]:80",
	"[2001:db8::7]:443",
	"[2001:db8::8]:80",
	"169.254.169.254:80",
	"169.254.1.1:80",
	"192.0.2.3:3128",
	"192.0.2.3:80",
	"127.0.0.1:5432",
	"127.0.0.1:5433",
	"127.1.2.3:6005",
	"0.0.0.0:5432",
	"0.1.2.3:80",
	HOST_ADDR ":5432",
	HOST_ADDR ":80",
	"[2001:db8::1]:443",
	"[2001:db8::1]:80",
	"[2001:db9::1]:443",
	"[fe80::1]:443",
	"[fd00:ec2::254]:80",
	"[::1]:5432",
	"[::1]:80",
	"[::]:5432",
	"[::ffff:10.1.2.3]:22",
	"[::ffff:10.1.2.3]:80",
	"[::ffff:127.0.0.1]:5432",
	"[::ffff:169.254.169.254]:80",
};

#define N_DESTS ARRAY_SIZE(dests)

static char cgroup_root[PATH_MAX];

static socklen_t sockaddr_of(const struct verdict_dest *d,
			     struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (d->family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(d->port);
		memcpy(&in->sin_addr, d->addr, 4);
		return sizeof(*in);
	}
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons(d->port);
	memcpy(&in6->sin6_addr, d->addr, 16);
	return sizeof(*in6);
}

/* The text's own family: "[::ffff:a.b.c.d]" goes through connect6. */
static int connect_errno(const char *text, const struct verdict_dest *d)
{
	struct sockaddr_storage ss;
	struct verdict_dest as_given = *d;
	socklen_t len;
	int fd, rc;

	if (text[0] == '[' && d->family == AF_INET) {
		memset(as_given.addr, 0, 16);
		as_given.family = AF_INET6;
		as_given.addr[10] = as_given.addr[11] = 0xff;
		memcpy(as_given.addr + 12, d->addr, 4);
	}
	len = sockaddr_of(&as_given, &ss);
	fd = socket(as_given.family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (struct sockaddr *)&ss, len);
	rc = rc ? errno : 0;
	close(fd);
	return rc;
}

/* In the cgroup: one errno per destination on out. */
static void child_connects(const char *cgroup, int out,
			   const struct verdict_dest *d)
{
	char procs[PATH_MAX + 16];
	int fd;

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cgroup);
	fd = open(procs, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "0", 1) != 1)
		_exit(2);
	close(fd);
	for (size_t i = 0; i < N_DESTS; i++) {
		int e = connect_errno(dests[i], &d[i]);

		if (write(out, &e, sizeof(e)) != sizeof(e))
			_exit(3);
	}
	_exit(0);
}

static void kernel_errnos(const char *cgroup, const struct verdict_dest *d,
			  int *errs)
{
	int pipefd[2], status;
	pid_t pid;

	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(pipefd[0]);
		child_connects(cgroup, pipefd[1], d);
	}
	close(pipefd[1]);
	for (size_t i = 0; i < N_DESTS; i++)
		assert_int_equal(read(pipefd[0], &errs[i], sizeof(errs[i])),
				 sizeof(errs[i]));
	close(pipefd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void build_policy(const struct policy_row *r, struct policy *p)
{
	struct policy_flag_arg args[MAX_FLAGS + 1];
	struct policy_flags f = { .v = args };
	char err[AWF_ERR_LEN] = "";

	policy_init(p);
	args[f.n++] =
		(struct policy_flag_arg){ PFLAG_DNS_SERVERS, "192.0.2.53" };
	for (size_t i = 0; i < MAX_FLAGS && r->flags[i].opt; i++)
		args[f.n++] = r->flags[i];
	if (policy_flags_build(&f, p, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	for (unsigned int i = 0; i < r->bulk; i++) {
		char a[64];

		snprintf(a, sizeof(a), "240.%u.%u.%u/32", i >> 16 & 0xff,
			 i >> 8 & 0xff, i & 0xff);
		if (policy_add_cidr_arg(p, a, "test", err, sizeof(err)) < 0)
			fail_msg("%s: %s", a, err);
		snprintf(a, sizeof(a), "[2001:db8:ffff::%x/128]", i + 1);
		if (policy_add_cidr_arg(p, a, "test", err, sizeof(err)) < 0)
			fail_msg("%s: %s", a, err);
	}
	p->ipv6 = !r->no_ipv6;
}

static size_t dest_index(const char *text)
{
	for (size_t i = 0; i < N_DESTS; i++)
		if (!strcmp(dests[i], text))
			return i;
	fail_msg("%s: not in dests[]", text);
	return 0;
}

/* The row's own expectations, on top of agreeing with `policy test`. */
static int row_expectations(const struct policy_row *r, const int *errs)
{
	int wrong = 0;

	for (size_t i = 0; i < MAX_EXPECT; i++) {
		size_t a = r->allow[i] ? dest_index(r->allow[i]) : 0;
		size_t d = r->deny[i] ? dest_index(r->deny[i]) : 0;

		if (r->allow[i] && errs[a] == EPERM) {
			print_message("%s: %s: kernel denies, want allowed\n",
				      r->what, r->allow[i]);
			wrong++;
		}
		if (r->deny[i] && errs[d] != EPERM) {
			print_message(
				"%s: %s: kernel allows (%s), want denied\n",
				r->what, r->deny[i], strerror(errs[d]));
			wrong++;
		}
	}
	return wrong;
}

/*
 * The programs a sandbox's every connection or packet runs: each map
 * lookup in them must be one the verifier inlined. One it could not (the
 * same call reached with two maps: clang merges look-ups alike in the
 * two branches of a family, AWF_KEEP_LOOKUP()) stays a call of
 * bpf_map_lookup_elem() through the map's ops, a retpoline here.
 */
static const char *const hot_progs[] = {
	"awf_connect4", "awf_connect6", "awf_sendmsg4", "awf_sendmsg6",
	"awf_egress",	"awf_bind4",	"awf_bind6",
};

/* A kernel symbol's address; 0 if there is none or it is hidden. */
static unsigned long kernel_symbol(const char *name)
{
	unsigned long addr = 0, a;
	char line[512], sym[256], type;
	FILE *f = fopen("/proc/kallsyms", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx %c %255s", &a, &type, sym) == 3 &&
		    !strcmp(sym, name)) {
			addr = a;
			break;
		}
	fclose(f);
	return addr;
}

/* The calls of bpf_map_lookup_elem() left in the program's final code. */
static int generic_lookups(int prog_fd, long imm)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info), n;
	struct bpf_insn *insns;
	int calls = 0;

	assert_int_equal(bpf_obj_get_info_by_fd(prog_fd, &info, &len), 0);
	n = info.xlated_prog_len / sizeof(*insns);
	assert_true(n > 0);
	insns = calloc(n, sizeof(*insns));
	assert_non_null(insns);
	memset(&info, 0, sizeof(info));
	info.xlated_prog_len = n * sizeof(*insns);
	info.xlated_prog_insns = (__u64)(unsigned long)insns;
	len = sizeof(info);
	assert_int_equal(bpf_obj_get_info_by_fd(prog_fd, &info, &len), 0);
	for (__u32 i = 0; i < n; i++)
		if (insns[i].code == (BPF_JMP | BPF_CALL) &&
		    insns[i].src_reg == 0 && insns[i].imm == imm)
			calls++;
	free(insns);
	return calls;
}

/* Helper calls are encoded as their offset from __bpf_call_base. */
static int check_inlined_lookups(const struct loader *l, const char *what)
{
	unsigned long base = kernel_symbol("__bpf_call_base");
	unsigned long lookup = kernel_symbol("bpf_map_lookup_elem");
	int wrong = 0, calls;

	if (!base || !lookup)
		fail_msg("/proc/kallsyms: no __bpf_call_base or "
			 "bpf_map_lookup_elem (kernel.kptr_restrict?)");
	for (size_t i = 0; i < ARRAY_SIZE(hot_progs); i++) {
		int fd = loader_prog_fd(l, hot_progs[i]);

		assert_true(fd >= 0);
		calls = generic_lookups(fd, (long)(lookup - base));
		if (!calls)
			continue;
		print_message("%s: %s: %d map lookup(s) not inlined\n", what,
			      hot_progs[i], calls);
		wrong++;
	}
	return wrong;
}

static void test_policy(void **state)
{
	const struct policy_row *r = *state;
	struct verdict_dest d[N_DESTS];
	struct sandbox_cgroup cg = { .fd = -1 };
	char err[AWF_ERR_LEN] = "", name[64];
	struct loader l = { 0 };
	struct policy_cidr host;
	struct rule_table rules;
	struct awf_config cfg;
	struct verdict_ctx c;
	struct policy p;
	int errs[N_DESTS];
	int mismatches = 0;

	build_policy(r, &p);
	assert_int_equal(cidr_parse(&host, HOST_ADDR, err, sizeof(err)), 0);
	for (size_t i = 0; i < N_DESTS; i++)
		assert_int_equal(
			verdict_dest_parse(dests[i], &d[i], err, sizeof(err)),
			0);
	sandbox_config_build(&cfg, &p, 5300, false, false);
	snprintf(name, sizeof(name), "awft-verdict-%d", (int)getpid());
	if (rules_build(&rules, &p, &host, 1, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	/* the bulk rows test the exact tables: they must have them */
	assert_int_equal(r->bulk > 0, rules.exact4.mask != 0);
	assert_int_equal(r->bulk > 0, rules.exact6.mask != 0);
	if (loader_load(&l, &cfg, &rules, &host, 1, false, true, err,
			sizeof(err)) < 0 ||
	    loader_fill_rules(&l, &rules, err, sizeof(err)) < 0 ||
	    loader_fill_host_addrs(&l, &host, 1, err, sizeof(err)) < 0 ||
	    cgroup_create(&cg, cgroup_root, name, err, sizeof(err)) < 0 ||
	    loader_attach(&l, cg.fd, NULL, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	kernel_errnos(cg.path, d, errs);
	mismatches += check_inlined_lookups(&l, r->what);
	loader_detach(&l);
	loader_close(&l);
	cgroup_remove(&cg);
	rules_free(&rules);

	assert_int_equal(verdict_ctx_init(&c, &p, &host, 1, err, sizeof(err)),
			 0);
	for (size_t i = 0; i < N_DESTS; i++) {
		bool kernel_allowed = errs[i] != EPERM;
		struct verdict v;

		verdict_decide(&c, &d[i], &v);
		if (v.allowed == kernel_allowed)
			continue;
		print_message(
			"%s: %s: kernel %s (%s), policy test %s (%s)\n",
			r->what, dests[i], kernel_allowed ? "allows" : "denies",
			strerror(errs[i]), v.allowed ? "allows" : "denies",
			reason_code(v.reason));
		mismatches++;
	}
	mismatches += row_expectations(r, errs);
	verdict_ctx_free(&c);
	policy_free(&p);
	assert_int_equal(mismatches, 0);
}

/* Every connect() of the test stays in a namespace with nothing up. */
static int private_netns(char *why, size_t len)
{
	if (unshare(CLONE_NEWNET) == 0)
		return 0;
	snprintf(why, len, "unshare(CLONE_NEWNET): %s", strerror(errno));
	return -1;
}

int main(void)
{
	struct test_list l = { 0 };
	char why[AWF_ERR_LEN];

	TL_ROWS(&l, test_policy, policies);
	if (!bpf_privileged(why, sizeof(why)) ||
	    private_netns(why, sizeof(why)) < 0 ||
	    cgroup2_root(cgroup_root, sizeof(cgroup_root), why, sizeof(why)) <
		    0)
		skip_all(l.t, l.n, why);
	else
		print_message("%zu destinations under %zu policies\n", N_DESTS,
			      ARRAY_SIZE(policies));
	return tl_run("verdict_kernel", &l);
}
