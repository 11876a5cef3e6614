// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Unit tests of the workload's seccomp filter (user/run/seccomp.c,
 * tools/seccomp_gen.c). awf-bpf loads libseccomp's binary tree of the
 * syscall numbers; the same rules as libseccomp's linear chain are the
 * reference. Both run here in a classic BPF interpreter of ours over every
 * syscall number of the build's ABIs with a set of argument values the
 * rules look at, and must agree everywhere; a few verdicts are checked by
 * name, so that a pair wrong the same way fails too. Then the filter the
 * binary loads goes into a child of ours, and the kernel answers.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "run/seccomp.h"
#include "seccomp_filter.h"
#include "seccomp_filter_linear.h"
#include "test_util.h"

#define N_INSNS(a) (sizeof(a) / sizeof((a)[0]))
#define X32_BIT 0x40000000u
/* The i386 ABI's socketcall() and its SYS_SOCKET call. */
#define I386_SOCKETCALL 102
#define SYS_SOCKET_CALL 1
#define BOGUS_ARCH 0x12345678u

struct program {
	const struct sock_filter *insns;
	size_t len;
};

/*
 * A classic BPF interpreter, seccomp's subset (what libseccomp emits).
 * The verdict; 0xdead on an instruction it does not know, which no
 * filter returns.
 */
#define UNKNOWN_INSN 0xdeadu

static uint32_t word_of(const struct seccomp_data *d, uint32_t off)
{
	uint32_t w;

	if (off > sizeof(*d) - sizeof(w) || off % sizeof(w))
		return 0;
	memcpy(&w, (const char *)d + off, sizeof(w));
	return w;
}

static bool jump_taken(uint16_t code, uint32_t a, uint32_t operand)
{
	switch (BPF_OP(code)) {
	case BPF_JEQ:
		return a == operand;
	case BPF_JGT:
		return a > operand;
	case BPF_JGE:
		return a >= operand;
	case BPF_JSET:
		return a & operand;
	}
	return false;
}

static uint32_t run_filter(const struct program *p,
			   const struct seccomp_data *d)
{
	uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = { 0 };

	for (size_t pc = 0; pc < p->len; pc++) {
		const struct sock_filter *i = &p->insns[pc];
		uint32_t operand = BPF_SRC(i->code) == BPF_X ? x : i->k;

		switch (BPF_CLASS(i->code)) {
		case BPF_LD:
			if (BPF_MODE(i->code) == BPF_ABS)
				a = word_of(d, i->k);
			else if (BPF_MODE(i->code) == BPF_IMM)
				a = i->k;
			else if (BPF_MODE(i->code) == BPF_MEM)
				a = mem[i->k % BPF_MEMWORDS];
			else
				return UNKNOWN_INSN;
			break;
		case BPF_LDX:
			if (BPF_MODE(i->code) == BPF_IMM)
				x = i->k;
			else if (BPF_MODE(i->code) == BPF_MEM)
				x = mem[i->k % BPF_MEMWORDS];
			else
				return UNKNOWN_INSN;
			break;
		case BPF_ST:
			mem[i->k % BPF_MEMWORDS] = a;
			break;
		case BPF_STX:
			mem[i->k % BPF_MEMWORDS] = x;
			break;
		case BPF_ALU:
			if (BPF_OP(i->code) == BPF_AND)
				a &= operand;
			else if (BPF_OP(i->code) == BPF_OR)
				a |= operand;
			else
				return UNKNOWN_INSN;
			break;
		case BPF_JMP:
			if (BPF_OP(i->code) == BPF_JA)
				pc += i->k;
			else if (jump_taken(i->code, a, operand))
				pc += i->jt;
			else
				pc += i->jf;
			break;
		case BPF_RET:
			return BPF_RVAL(i->code) == BPF_A ? a : i->k;
		case BPF_MISC:
			if (BPF_MISCOP(i->code) == BPF_TAX)
				x = a;
			else
				a = x;
			break;
		default:
			return UNKNOWN_INSN;
		}
	}
	return UNKNOWN_INSN; /* ran off the end */
}

/* The first argument's values the rules compare (and their neighbours). */
static const uint64_t first_args[] = {
	0,
	1,
	AF_INET,
	AF_INET6,
	AF_NETLINK,
	AF_PACKET,
	AF_KEY,
	AF_VSOCK,
	AF_XDP,
	AF_XDP + 1,
	(uint64_t)1 << 32 | AF_PACKET, /* junk upper bits of an int */
	(uint64_t)1 << 32 | AF_INET,
	0x80, /* clone's exit signal; unshare's CLONE_NEWTIME */
	CLONE_NEWNS,
	CLONE_NEWCGROUP,
	CLONE_NEWUTS,
	CLONE_NEWIPC,
	CLONE_NEWUSER,
	CLONE_NEWPID,
	CLONE_NEWNET,
	CLONE_VM | CLONE_VFORK | 17,
	CLONE_NEWNET | CLONE_VM,
	0x7fffffff,
	0xffffffff,
	~(uint64_t)0,
};

/* The third: socket()'s protocol (netlink families). */
static const uint64_t third_args[] = { NETLINK_ROUTE, NETLINK_AUDIT,
				       (uint64_t)1 << 32 };

struct arch_range {
	uint32_t arch;
	uint32_t first_nr, last_nr;
};

static const struct arch_range ranges[] = {
	{ AUDIT_ARCH_X86_64, 0, 1100 },
	{ AUDIT_ARCH_X86_64, X32_BIT, X32_BIT + 1100 },
	{ AUDIT_ARCH_X86_64, 0xfffffff0u, 0xffffffffu },
	{ AUDIT_ARCH_I386, 0, 1100 },
	{ BOGUS_ARCH, 0, 4 },
};

static void expect_same(const struct program *tree,
			const struct program *linear, const char *which)
{
	struct seccomp_data d = { 0 };
	size_t runs = 0;

	for (size_t r = 0; r < ARRAY_SIZE(ranges); r++) {
		d.arch = ranges[r].arch;
		for (uint64_t nr = ranges[r].first_nr; nr <= ranges[r].last_nr;
		     nr++) {
			d.nr = (int)nr;
			for (size_t i = 0; i < ARRAY_SIZE(first_args); i++) {
				d.args[0] = first_args[i];
				for (size_t j = 0; j < ARRAY_SIZE(third_args);
				     j++) {
					uint32_t want, got;

					d.args[2] = third_args[j];
					want = run_filter(linear, &d);
					got = run_filter(tree, &d);
					if (want != got || want == UNKNOWN_INSN)
						fail_msg(
							"%s: arch 0x%x nr 0x%x a0 0x%llx a2 0x%llx: tree 0x%x, linear 0x%x",
							which, d.arch, d.nr,
							(unsigned long long)
								d.args[0],
							(unsigned long long)
								d.args[2],
							got, want);
					runs++;
				}
			}
		}
	}
	assert_true(runs > 100000);
}

static const struct program enforce = { awf_seccomp_enforce,
					N_INSNS(awf_seccomp_enforce) };
static const struct program enforce_linear = {
	awf_seccomp_enforce_linear, N_INSNS(awf_seccomp_enforce_linear)
};
static const struct program log_tree = { awf_seccomp_log,
					 N_INSNS(awf_seccomp_log) };
static const struct program log_linear = { awf_seccomp_log_linear,
					   N_INSNS(awf_seccomp_log_linear) };

static void test_tree_is_the_chain(void **state)
{
	(void)state;
	expect_same(&enforce, &enforce_linear, "enforce");
	expect_same(&log_tree, &log_linear, "log");
}

struct verdict_case {
	const char *name;
	const struct program *prog;
	uint32_t arch;
	uint32_t nr;
	uint64_t a0, a2;
	uint32_t want;
};

#define DENY (SECCOMP_RET_ERRNO | EPERM)
static const struct verdict_case verdicts[] = {
	{ "read is allowed", &enforce, AUDIT_ARCH_X86_64, __NR_read, 0, 0,
	  SECCOMP_RET_ALLOW },
	{ "bpf is refused", &enforce, AUDIT_ARCH_X86_64, __NR_bpf, 0, 0, DENY },
	{ "x32 bpf is refused", &enforce, AUDIT_ARCH_X86_64, X32_BIT | __NR_bpf,
	  0, 0, DENY },
	{ "i386 mount is refused", &enforce, AUDIT_ARCH_I386, 21, 0, 0, DENY },
	{ "a packet socket is refused", &enforce, AUDIT_ARCH_X86_64,
	  __NR_socket, AF_PACKET, 0, DENY },
	{ "an inet socket is allowed", &enforce, AUDIT_ARCH_X86_64, __NR_socket,
	  AF_INET, 0, SECCOMP_RET_ALLOW },
	{ "route netlink is allowed", &enforce, AUDIT_ARCH_X86_64, __NR_socket,
	  AF_NETLINK, NETLINK_ROUTE, SECCOMP_RET_ALLOW },
	{ "audit netlink is refused", &enforce, AUDIT_ARCH_X86_64, __NR_socket,
	  AF_NETLINK, NETLINK_AUDIT, DENY },
	{ "i386 socketcall socket() is refused", &enforce, AUDIT_ARCH_I386,
	  I386_SOCKETCALL, SYS_SOCKET_CALL, 0, DENY },
	{ "unshare of a network namespace is refused", &enforce,
	  AUDIT_ARCH_X86_64, __NR_unshare, CLONE_NEWNET, 0, DENY },
	{ "clone of a thread is allowed", &enforce, AUDIT_ARCH_X86_64,
	  __NR_clone, CLONE_VM | CLONE_VFORK | 17, 0, SECCOMP_RET_ALLOW },
	{ "clone3 says ENOSYS", &enforce, AUDIT_ARCH_X86_64, __NR_clone3, 0, 0,
	  SECCOMP_RET_ERRNO | ENOSYS },
	{ "another ABI kills", &enforce, BOGUS_ARCH, __NR_read, 0, 0,
	  SECCOMP_RET_KILL_PROCESS },
	{ "--seccomp-log logs bpf", &log_tree, AUDIT_ARCH_X86_64, __NR_bpf, 0,
	  0, SECCOMP_RET_LOG },
};

static void test_verdict(void **state)
{
	const struct verdict_case *c = *state;
	struct seccomp_data d = { .arch = c->arch, .nr = (int)c->nr };

	d.args[0] = c->a0;
	d.args[2] = c->a2;
	assert_int_equal(run_filter(c->prog, &d), c->want);
}

/* In a child: the filter awf-bpf loads, then what the kernel says. */
static int filtered_child(void)
{
	char err[256];
	struct syscall_filter *f = syscall_filter_new(false, err, sizeof(err));
	int fd;

	if (!f || syscall_filter_load(f, err, sizeof(err)))
		return 10;
	if (syscall(__NR_bpf, 0, NULL, 0) != -1 || errno != EPERM)
		return 11;
	if (socket(AF_PACKET, SOCK_RAW, 0) != -1 || errno != EPERM)
		return 12;
	if (unshare(CLONE_NEWNET) != -1 || errno != EPERM)
		return 13;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return 14;
	close(fd);
	return getpid() > 0 ? 0 : 15;
}

static void test_kernel_runs_the_tree(void **state)
{
	(void)state;
	assert_int_equal(exit_code_in_child(filtered_child), 0);
}

int main(void)
{
	struct test_list l = { 0 };

	tl_add(&l, "the tree answers as the linear chain does",
	       test_tree_is_the_chain, NULL);
	TL_ROWS(&l, test_verdict, verdicts);
	tl_add(&l, "the kernel enforces the filter awf-bpf loads",
	       test_kernel_runs_the_tree, NULL);
	return tl_run("seccomp", &l);
}
