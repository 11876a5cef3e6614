// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The socket hooks run by the real kernel on real sockets, in the way of
 * tools/testing/selftests/bpf/prog_tests/sock_addr.c. Both builds of the
 * programs are loaded, `run`'s (awf.skel.h, twice: with and without IPv6)
 * and the agent's (awf_agent.skel.h), configured and filled here directly
 * rather than through user/ (that is what the integration tests exercise),
 * and attached to throwaway cgroups. Each table row forks a child into one
 * of them that makes one connect(), sendto(), bind() or sendmsg() with a
 * source of its choosing (IP_FREEBIND, PKTINFO), and checks the errno the
 * hook gave and the event it emitted.
 *
 * The whole test runs in a network namespace of its own that has only lo:
 * the non-loopback addresses a row may reach are added to lo there, so an
 * allowed connection ends at a listener of this test, and nothing can
 * leave the machine whatever the programs decide. Needs root.
 *
 * The IPv6-less cgroup also has the "allow" programs awf-bpf attaches
 * while it loads (user/kernel/hook_warm.c), one of every hook, attached
 * first as there: its rows hold with them, as they must (with
 * BPF_F_ALLOW_MULTI every program of a cgroup must allow).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "test_util.h"
#include "awf.h" /* before the skeletons: they use struct awf_config */
#include "awf.skel.h"
#include "awf_agent.skel.h"
#include "kernel/hook_warm.h"
#include "run/cgroup.h"

/* On lo in the test's namespace: a row that is allowed reaches them. */
#define ALLOWED4 "198.18.0.10"	   /* CIDR rule 1, port 8080 */
#define LEARNED4 "198.18.0.11"	   /* learned (run, slot 1), port 8080 */
#define LEARNED_UDP4 "198.18.0.16" /* learned, "udp": true */
/* learned in audit-only mode from a name the policy refuses */
#define AUDIT_LEARNED4 "198.18.0.17"
#define OTHER_SET4 "198.18.0.13" /* learned in slot 2's set only */
#define SLOT2_4 "198.18.0.14"	 /* CIDR rule 5 of slot 2 only */
#define ALLOWED6 "fd42:a0f0::10" /* CIDR rule 2, port 8080 */
#define LEARNED6 "fd42:a0f0::11"
/* Not on lo: no row that reaches them may be allowed. */
#define EXPIRED4 "198.18.0.12" /* learned, expired */
#define HOST4 "198.18.0.15"    /* a LOCAL rule: this host's address */
#define DENIED4 "198.18.0.20"
#define DENIED6 "fd42:a0f0::20"
#define METADATA4 "169.254.169.254"
#define DNS4 "192.0.2.53" /* the server a workload names, redirected */
#define DNS6 "2001:db8::53"
#define MAPPED(a) "::ffff:" a

#define SVC_PORT 8080	   /* the test's listener; the allowed port */
#define OTHER_PORT 8081	   /* nothing listens, nothing allows it */
#define OWN_PORT 9000	   /* a port the sandbox itself listens on */
#define ENDPOINT_PORT 5300 /* the DNS endpoint (UDP and TCP) */

#define RULE_LEARNED 4 /* rule_id of every learned address */
#define LIVE_NS (3600ULL * 1000000000ULL)
#define CHILD_TIMEOUT_MS 10000
#define IO_TIMEOUT_MS 2000
#define MAX_EVENTS 8

/* The programs a row runs against (rows hold a mask of them). */
enum variant {
	V_RUN = 1 << 0,	     /* awf.skel.h, IPv6 enabled */
	V_RUN_NOV6 = 1 << 1, /* awf.skel.h, IPv6 disabled */
	V_AGENT = 1 << 2,    /* awf_agent.skel.h, the row's slot */
	V_BOTH = V_RUN | V_AGENT,
};

/*
 * The agent's slots: 1 is `run`'s policy, 2 the same without IPv6 plus a
 * CIDR and a learned set of its own, 3 a slot being torn down (zeroed
 * config), 4 an unrestricted subtree, 5 SLOT_MAIN's policy in audit-only
 * mode.
 */
enum {
	SLOT_NONE = 0,
	SLOT_MAIN = 1,
	SLOT_NOV6,
	SLOT_TORN,
	SLOT_FREE,
	SLOT_AUDIT,
};

/* Where an agent row's child runs, and which cgroups the slots map names. */
enum where {
	CG_SANDBOX,    /* the cgroup the programs are attached to: the slot's */
	CG_CHILD,      /* a child of it with no slot of its own: inherits */
	CG_CHILD_SLOT, /* a child with the row's slot, its parent SLOT_MAIN */
};

/* Which policies hold a rule: `run`'s (both loads) and the agent's slots. */
#define P_RUN (1u << 0)
#define P_SLOT(s) (1u << (s))
#define P_ALL (P_RUN | P_SLOT(SLOT_MAIN) | P_SLOT(SLOT_NOV6))

enum op {
	OP_CONNECT,	 /* connect(), blocking */
	OP_SENDTO,	 /* sendto() on an unconnected UDP socket */
	OP_DNS_CONNECT,	 /* connect() to port 53; peer and exchange checked */
	OP_DNS_SENDTO,	 /* sendto() to port 53; exchange checked */
	OP_OWN_LISTENER, /* listen on addr:port in the sandbox, then connect */
	/*
	 * The same with SO_REUSEPORT on the sandbox's socket: its group may
	 * take in a host service's. OP_OWN_REUSEPORT_SENDTO sends instead.
	 * A v4-mapped row's own socket is an IPv4 one, on the IPv4 address.
	 */
	OP_OWN_REUSEPORT,
	OP_OWN_REUSEPORT_SENDTO,
	OP_OWN_SENDTO, /* a UDP socket of the sandbox's, no SO_REUSEPORT */
	/*
	 * bind() of an AF_INET6 socket to [::]:port, IPV6_V6ONLY off or on;
	 * the address it gets (getsockname()) is the row's ev.src.
	 */
	OP_BIND_ANY6,
	OP_BIND_ANY6_ONLY,
	OP_BIND, /* bind() */
	/*
	 * sendmsg() with the row's src as IP_PKTINFO / IPV6_PKTINFO source
	 * (IPv6: with IPV6_FREEBIND, as the kernel wants for a source not
	 * of this host); unconnected, or after a connect() (no sendmsg hook
	 * runs then: the backstop is what sees it).
	 */
	OP_SENDMSG_SRC,
	OP_CONNECTED_SRC,
};

struct want_event {
	uint8_t kind; /* 0: the row expects no event at all */
	uint8_t verdict;
	uint8_t reason;
	uint8_t family;
	const char *addr; /* as reported: v4-mapped is reported as IPv4 */
	uint32_t rule_id;
	uint32_t name_id;
	/* OP_*_SRC: the datagram's source (a spoofed_source event names it) */
	const char *src;
	uint8_t flags; /* enum awf_event_flag */
};

struct sa_case {
	const char *name;
	unsigned variants;
	uint32_t slot; /* agent: the slot of the cgroup */
	uint8_t cg;    /* agent: where the child runs (enum where) */
	enum op op;
	int family;
	int type;
	const char *addr;
	uint16_t port;
	int want_errno;
	struct want_event ev;
};

/* clang-format off */
#define EV(k, v, r, fam, a, rule, name)                                   \
	{ .kind = AWF_EV_##k, .verdict = AWF_##v, .reason = AWF_R_##r,    \
	  .family = fam, .addr = a, .rule_id = rule, .name_id = name }
#define EVS(k, v, r, fam, a, rule, name, source)                          \
	{ .kind = AWF_EV_##k, .verdict = AWF_##v, .reason = AWF_R_##r,    \
	  .family = fam, .addr = a, .rule_id = rule, .name_id = name,     \
	  .src = source }
/* A denial audit-only mode let through: the same event, flagged. */
#define EVA(k, r, fam, a, rule, name)                                     \
	{ .kind = AWF_EV_##k, .verdict = AWF_DENY, .reason = AWF_R_##r,   \
	  .family = fam, .addr = a, .rule_id = rule, .name_id = name,     \
	  .flags = AWF_EVF_AUDIT_ONLY }
#define NO_EVENT { 0 } /* kind 0 */
/* clang-format on */
#define TCP SOCK_STREAM
#define UDP SOCK_DGRAM

static const struct sa_case cases[] = {
	/* TCP, IPv4 */
	{ "tcp4 CIDR and port allowed", V_BOTH, SLOT_MAIN, CG_SANDBOX,
	  OP_CONNECT, AF_INET, TCP, ALLOWED4, SVC_PORT, 0,
	  EV(CONNECT, ALLOW, CIDR, AF_INET, ALLOWED4, 1, 0) },
	{ "tcp4 CIDR with another port", V_BOTH, SLOT_MAIN, CG_SANDBOX,
	  OP_CONNECT, AF_INET, TCP, ALLOWED4, OTHER_PORT, EPERM,
	  EV(CONNECT, DENY, PORT_NOT_ALLOWED, AF_INET, ALLOWED4, 0, 0) },
	{ "tcp4 not in policy", V_BOTH, SLOT_MAIN, CG_SANDBOX, OP_CONNECT,
	  AF_INET, TCP, DENIED4, SVC_PORT, EPERM,
	  EV(CONNECT, DENY, NOT_IN_POLICY, AF_INET, DENIED4, 0, 0) },
	{ "tcp4 reserved range", V_BOTH, SLOT_MAIN, CG_SANDBOX, OP_CONNECT,
	  AF_INET, TCP, METADATA4, 80, EPERM,
	  EV(CONNECT, DENY, RESERVED_RANGE, AF_INET, METADATA4, 3, 0) },
	{ "tcp4 learned address", V_BOTH, SLOT_MAIN, CG_SANDBOX, OP_CONNECT,
	  AF_INET, TCP, LEARNED4, SVC_PORT, 0,
	  EV(CONNECT, ALLOW, LEARNED, AF_INET, LEARNED4, RULE_LEARNED, 7) },
	{ "tcp4 learned address, another port", V_BOTH, SLOT_MAIN, CG_SANDBOX,
	  OP_CONNECT, AF_INET, TCP, LEARNED4, OTHER_PORT, EPERM,
	  EV(CONNECT, DENY, PORT_NOT_ALLOWED, AF_INET, LEARNED4, 0, 7) },
	{ "tcp4 learned address expired", V_BOTH, SLOT_MAIN, CG_SANDBOX,
	  OP_CONNECT, AF_INET, TCP, EXPIRED4, SVC_PORT, EPERM,
	  EV(CONNECT, DENY, NOT_IN_POLICY, AF_INET, EXPIRED4, 0, 0) },
	{ "tcp4 loopback, listed port", V_BOTH, SLOT_MAIN, CG_SANDBOX,
	  OP_CONNECT, AF_INET, TCP, "127.0.0.1", SVC_PORT, 0,
	  EV(CONNECT, ALLOW, LOOPBACK, AF_INET, "127.0.0.1", 0, 0) },
	{ "tcp4 loopback, a host service's port", V_BOTH, SLOT_MAIN, CG_SANDBOX,
	  OP_CONNECT, AF_INET, TCP, "127.0.0.1", OTHER_PORT, EPERM,
	  EV(CONNECT, DENY, LOOPBACK, AF_INET, "127.0.0.1", 0, 0) },
	{ "tcp4 loopback, a port the sandbox serves", V_BOTH, SLOT_MAIN,
	  CG_SANDBOX, OP_OWN_LISTENER, AF_INET, TCP, "127.0.0.1", OWN_PORT, 0,
	  EV(CONNECT, ALLOW, LOOPBACK, AF_INET, "127.0.0.1", 0, 0) },
	{ "tcp4 loopback, the sandbox's port in an SO_REUSEPORT group", V_BOTH,
	  SLOT_MAIN, CG_SANDBOX, OP_OWN_REUSEPORT, AF_INET, TCP, "127.0.0.1",
	  OWN_PORT, EPERM,
	  EV(CONNECT, DENY, LOOPBACK, AF_INET, "127.0.0.1", 0, 0) },
	{ "tcp6 loopback ::1, a port the sandbox serves", V_BOTH, SLOT_MAIN,
	  CG_SANDBOX, OP_OWN_LISTENER, AF_INET6, TCP, "::1", OWN_PORT, 0,
	  EV(CONNECT, ALLOW, LOOPBACK, AF_INET6, "::1", 0, 0) },
	{ "tcp6 loopback ::1, the sandbox's port in an SO_REUSEPORT group",
	  V_BOTH, SLOT_MAIN, CG_SANDBOX, OP_OWN_REUSEPORT, AF_INET6, TCP, "::1",
	  OWN_PORT, EPERM, EV(CONNECT, DENY, LOOPBACK, AF_INET6, "::1", 0, 0) },
	{ "tcp6 v4-mapped loopback, an IPv4 port the sandbox serves", V_BOTH,
	  SLOT_MAIN, CG_SANDBOX, OP_OWN_LISTENER, AF_INET6, TCP,
	  MAPPED("127.0.0.1"), OWN_PORT, 0,
	  EV(CONNECT, ALLOW, LOOPBACK, AF_INET, "127.0.0.1", 0, 0) },
	{ "tcp6 v4-mapped loopback, the sandbox's IPv4 port in a group", V_BOTH,
	  SLOT_MAIN, CG_SANDBOX, OP_OWN_REUSEPORT, AF_INET6, TCP,
	  MAPPED("127.0.0.1"), OWN_PORT, EPERM,
	  EV(CONNECT, DENY, LOOPBACK, AF_INET, "127.0.0.1", 0, 0) },
	{ "udp4 connect, a port the sandbox serves", V_BOTH, SLOT_MAIN,
	  CG_SANDBOX, OP_OWN_LISTENER, AF_INET, UDP, "127.0.0.1", OWN_PORT, 0,
	  EV(CONNECT, ALLOW, LOOPBACK, AF_INET, "127.0.0.1", 0, 0) },
	{ "udp4 connect, the sandbox's port in an SO_REUSEPORT group", V_BOTH,
	  SLOT_MAIN, CG_SANDBOX, OP_OWN_REUSEPORT, AF_INET, UDP, "127.0.0.1",
	  OWN_PORT, EPERM,
	  EV(CONNECT, DENY, LOOPBACK, AF_INET, "127.0.0.1", 0, 0) },
	{ "udp4 sendto, a port the sandbox serves", V_BOTH, SLOT_MAIN,
	  CG_SANDBOX, OP_OWN_SENDTO, AF_INET, UDP, "127.0.0.1", OWN_PORT, 0,
	  EV(SENDMSG, ALLOW, LOOPBACK, AF_INET, "127.0.0.1", 0, 0) },
	{ "udp4 sendto, the sandbox's port in an SO_REUSEPORT group", V_BOTH,
	  SLOT_MAIN, CG_SANDBOX, OP_OWN_REUSEPORT_SENDTO, AF_INET, UDP,
	  "127.0.0.1", OWN_PORT, EPERM,
	  EV(SENDMSG, DENY, LOOPBACK, AF_INET, "127.0.0.1", 0, 0) },
	{ "udp6 sendto ::1, a port the sandbox serves", V_BOTH, SLOT_MAIN,
	  CG_SANDBOX, OP_OWN_SENDTO, AF_INET6, UDP, "::1", OWN_PORT, 0,
	  EV(SENDMSG, ALLOW, LOOPBACK, AF_INET6, "::1", 0, 0) },
	{ "udp6 sendto ::1, the sandbox's port in an SO_REUSEPORT group",
	  V_BOTH, SLOT_MAIN, CG_SANDBOX, OP_OWN_REUSEPORT_SENDTO, AF_INET6, UDP,
	  "::1", OWN_PORT, EPERM,
	  EV(SENDMSG, DENY, LOOPBACK, AF_INET6, "::1", 0, 0) },
	{ "udp6 connect ::1, the sandbox's port in an SO_REUSEPORT group",
	  V_BOTH, SLOT_MAIN, CG_SANDBOX, OP_OWN_REUSEPORT, AF_INET6, UDP, "::1",
	  OWN_PORT, EPERM, EV(CONNECT, DENY, LOOPBACK, AF_INET6, "::1", 0, 0) },
	{ "udp6 sendto v4-mapped, an IPv4 port the sandbox serves", V_BOTH,
	  SLOT_MAIN, CG_SANDBOX, OP_OWN_SENDTO, AF_INET6, UDP,
	  MAPPED("127.0.0.1"), OWN_PORT, 0,
	  EV(SENDMSG, ALLOW, LOOPBACK, AF_INET, "127.0.0.1", 0, 0) },
	{ "udp6 sendto v4-mapped, the sandbox's IPv4 port in a group", V_BOTH,
	  SLOT_MAIN, CG_SANDBOX, OP_OWN_REUSEPORT_SENDTO, AF_INET6, UDP,
	  MAPPED("127.0.0.1"), OWN_PORT, EPERM,
	  EV(SENDMSG, DENY, LOOPBACK, AF_INET, "127.0.0.1", 0, 0) },
	{ "udp6 connect v4-mapped, the sandbox's IPv4 port in a group", V_BOTH,
	  SLOT_MAIN, CG_SANDBOX, OP_OWN_REUSEPORT, AF_INET6, UDP,
	  MAPPED("127.0.0.1"), OWN_PORT, EPERM,
	  EV(CONNECT, DENY, LOOPBACK, AF_INET, "127.0.0.1", 0, 0) },
	{ "tcp4 host address follows the loopback rules", V_BOTH, SLOT_MAIN,
	  CG_SANDBOX, OP_CONNECT, AF_INET, TCP, HOST4, OTHER_PORT, EPERM,
	  EV(CONNECT, DENY, LOOPBACK, AF_INET, HOST4, 0, 0) },

	/* TCP, IPv6 and v4-mapped */
	{ "tcp6 CIDR and port allowed", V_BOTH, SLOT_MAIN, CG_SANDBOX,
	  OP_CONNECT, AF_INET6, TCP, ALLOWED6, SVC_PORT, 0,
	  EV(CONNECT, ALLOW, CIDR, AF_INET6, ALLOWED6, 2, 0) },
	{ "tcp6 CIDR with another port", V_BOTH, SLOT_MAIN, CG_SANDBOX,
	  OP_CONNECT, AF_INET6, TCP, ALLOWED6, OTHER_PORT, EPERM,
	  EV(CONNECT, DENY, PORT_NOT_ALLOWED, AF_INET6, ALLOWED6, 0, 0) },
	{ "tcp6 not in policy", V_BOTH, SLOT_MAIN, CG_SANDBOX, OP_CONNECT,
	  AF_INET6, TCP, DENIED6, SVC_PORT, EPERM,
	  EV(CONNECT, DENY, NOT_IN_POLICY, AF_INET6, DENIED6, 0, 0) },
	{ "tcp6 learned address", V_BOTH, SLOT_MAIN, CG_SANDBOX, OP_CONNECT,
	  AF_INET6, TCP, LEARNED6, SVC_PORT, 0,
	  EV(CONNECT, ALLOW, LEARNED, AF_INET6, LEARNED6, RULE_LEARNED, 8) },
	{ "tcp6 loopback ::1, a host service's port", V_BOTH, SLOT_MAIN,
	  CG_SANDBOX, OP_CONNECT, AF_INET6, TCP, "::1", OTHER_PORT, EPERM,
	  EV(CONNECT, DENY, LOOPBACK, AF_INET6, "::1", 0, 0) },
	/* ::2 is no loopback address: is_loopback() takes :: and ::1 only */
	{ "tcp6 ::2, a listed loopback port", V_BOTH, SLOT_MAIN, CG_SANDBOX,
	  OP_CONNECT, AF_INET6, TCP, "::2", SVC_PORT, EPERM,
	  EV(CONNECT, DENY, NOT_IN_POLICY, AF_INET6, "::2", 0, 0) },
	{ "tcp6 v4-mapped CIDR allowed", V_BOTH, SLOT_MAIN, CG_SANDBOX,
	  OP_CONNECT, AF_INET6, TCP, MAPPED(ALLOWED4), SVC_PORT, 0,
	  EV(CONNECT, ALLOW, CIDR, AF_INET, ALLOWED4, 1, 0) },
	{ "tcp6 v4-mapped reserved range", V_BOTH, SLOT_MAIN, CG_SANDBOX,
	  OP_CONNECT, AF_INET6, TCP, MAPPED(METADATA4), 80, EPERM,
	  EV(CONNECT, DENY, RESERVED_RANGE, AF_INET, METADATA4, 3, 0) },
	{ "tcp6 v4-mapped not in policy", V_BOTH, SLOT_MAIN, CG_SANDBOX,
	  OP_CONNECT, AF_INET6, TCP, MAPPED(DENIED4), SVC_PORT, EPERM,
	  EV(CONNECT, DENY, NOT_IN_POLICY, AF_INET, DENIED4, 0, 0) },
	{ "tcp6 IPv6 disabled", V_RUN_NOV6 | V_AGENT, SLOT_NOV6, CG_SANDBOX,
	  OP_CONNECT, AF_INET6, TCP, ALLOWED6, SVC_PORT, EPERM,
	  EV(CONNECT, DENY, IPV6_DISABLED, AF_INET6, ALLOWED6, 0, 0) },
	{ "tcp6 v4-mapped is IPv4 with IPv6 disabled", V_RUN_NOV6 | V_AGENT,
	  SLOT_NOV6, CG_SANDBOX, OP_CONNECT, AF_INET6, TCP, MAPPED(ALLOWED4),
	  SVC_PORT, 0, EV(CONNECT, ALLOW, CIDR, AF_INET, ALLOWED4, 1, 0) },

	/* UDP sendto() */
	{ "udp4 sendto CIDR and port allowed", V_BOTH, SLOT_MAIN, CG_SANDBOX,
	  OP_SENDTO, AF_INET, UDP, ALLOWED4, SVC_PORT, 0,
	  EV(SENDMSG, ALLOW, CIDR, AF_INET, ALLOWED4, 1, 0) },
	{ "udp4 sendto CIDR with another port", V_BOTH, SLOT_MAIN, CG_SANDBOX,
	  OP_SENDTO, AF_INET, UDP, ALLOWED4, OTHER_PORT, EPERM,
	  EV(SENDMSG, DENY, PORT_NOT_ALLOWED, AF_INET, ALLOWED4, 0, 0) },
	{ "udp4 sendto not in policy", V_BOTH, SLOT_MAIN, CG_SANDBOX, OP_SENDTO,
	  AF_INET, UDP, DENIED4, SVC_PORT, EPERM,
	  EV(SENDMSG, DENY, NOT_IN_POLICY, AF_INET, DENIED4, 0, 0) },
	{ "udp4 sendto reserved range", V_BOTH, SLOT_MAIN, CG_SANDBOX,
	  OP_SENDTO, AF_INET, UDP, METADATA4, 123, EPERM,
	  EV(SENDMSG, DENY, RESERVED_RANGE, AF_INET, METADATA4, 3, 0) },
	{ "udp4 sendto learned address without udp", V_BOTH, SLOT_MAIN,
	  CG_SANDBOX, OP_SENDTO, AF_INET, UDP, LEARNED4, SVC_PORT, EPERM,
	  EV(SENDMSG, DENY, UDP_TO_NAME, AF_INET, LEARNED4, 0, 7) },
	/* glibc's RFC 6724 sorting connects UDP sockets it never sends on */
	{ "udp4 connect learned address without udp", V_BOTH, SLOT_MAIN,
	  CG_SANDBOX, OP_CONNECT, AF_INET, UDP, LEARNED4, SVC_PORT, 0,
	  NO_EVENT },
	{ "udp4 sendto learned address with udp", V_BOTH, SLOT_MAIN, CG_SANDBOX,
	  OP_SENDTO, AF_INET, UDP, LEARNED_UDP4, SVC_PORT, 0,
	  EV(SENDMSG, ALLOW, LEARNED, AF_INET, LEARNED_UDP4, RULE_LEARNED,
	     10) },
	{ "udp4 sendto learned address expired", V_BOTH, SLOT_MAIN, CG_SANDBOX,
	  OP_SENDTO, AF_INET, UDP, EXPIRED4, SVC_PORT, EPERM,
	  EV(SENDMSG, DENY, NOT_IN_POLICY, AF_INET, EXPIRED4, 0, 0) },
	{ "udp6 sendto not in policy", V_BOTH, SLOT_MAIN, CG_SANDBOX, OP_SENDTO,
	  AF_INET6, UDP, DENIED6, SVC_PORT, EPERM,
	  EV(SENDMSG, DENY, NOT_IN_POLICY, AF_INET6, DENIED6, 0, 0) },
	{ "udp6 sendto v4-mapped allowed", V_BOTH, SLOT_MAIN, CG_SANDBOX,
	  OP_SENDTO, AF_INET6, UDP, MAPPED(ALLOWED4), SVC_PORT, 0,
	  EV(SENDMSG, ALLOW, CIDR, AF_INET, ALLOWED4, 1, 0) },
	{ "udp6 sendto IPv6 disabled", V_RUN_NOV6 | V_AGENT, SLOT_NOV6,
	  CG_SANDBOX, OP_SENDTO, AF_INET6, UDP, ALLOWED6, SVC_PORT, EPERM,
	  EV(SENDMSG, DENY, IPV6_DISABLED, AF_INET6, ALLOWED6, 0, 0) },

	/* DNS: any server's port 53 goes to the endpoint, and looks as if not */
	{ "udp4 connect to DNS/53 redirected", V_BOTH, SLOT_MAIN, CG_SANDBOX,
	  OP_DNS_CONNECT, AF_INET, UDP, DNS4, AWF_DNS_PORT, 0,
	  EV(CONNECT, REDIRECT, DNS_REDIRECT, AF_INET, DNS4, 0, 0) },
	{ "udp4 sendto DNS/53 redirected", V_BOTH, SLOT_MAIN, CG_SANDBOX,
	  OP_DNS_SENDTO, AF_INET, UDP, DNS4, AWF_DNS_PORT, 0,
	  EV(SENDMSG, REDIRECT, DNS_REDIRECT, AF_INET, DNS4, 0, 0) },
	{ "udp6 connect to DNS/53 redirected", V_BOTH, SLOT_MAIN, CG_SANDBOX,
	  OP_DNS_CONNECT, AF_INET6, UDP, DNS6, AWF_DNS_PORT, 0,
	  EV(CONNECT, REDIRECT, DNS_REDIRECT, AF_INET6, DNS6, 0, 0) },
	{ "udp6 sendto v4-mapped DNS/53 redirected", V_BOTH, SLOT_MAIN,
	  CG_SANDBOX, OP_DNS_SENDTO, AF_INET6, UDP, MAPPED(DNS4), AWF_DNS_PORT,
	  0, EV(SENDMSG, REDIRECT, DNS_REDIRECT, AF_INET, DNS4, 0, 0) },
	{ "udp6 DNS/53 redirected with IPv6 disabled", V_RUN_NOV6 | V_AGENT,
	  SLOT_NOV6, CG_SANDBOX, OP_DNS_SENDTO, AF_INET6, UDP, DNS6,
	  AWF_DNS_PORT, 0,
	  EV(SENDMSG, REDIRECT, DNS_REDIRECT, AF_INET6, DNS6, 0, 0) },
	{ "tcp4 connect to DNS/53 redirected", V_BOTH, SLOT_MAIN, CG_SANDBOX,
	  OP_DNS_CONNECT, AF_INET, TCP, DNS4, AWF_DNS_PORT, 0,
	  EV(CONNECT, REDIRECT, DNS_REDIRECT, AF_INET, DNS4, 0, 0) },

	/* bind(): listening ports stay on loopback */
	{ "bind4 to a non-loopback address", V_BOTH, SLOT_MAIN, CG_SANDBOX,
	  OP_BIND, AF_INET, TCP, ALLOWED4, OWN_PORT, EPERM,
	  EV(BIND, DENY, BIND_NOT_LOOPBACK, AF_INET, ALLOWED4, 0, 0) },

	/* Sources: an address of this host, or loopback for loopback */
	{ "bind4 port 0 to an address of this host", V_BOTH, SLOT_MAIN,
	  CG_SANDBOX, OP_BIND, AF_INET, UDP, ALLOWED4, 0, 0, NO_EVENT },
	{ "bind4 port 0 to another host's address", V_BOTH, SLOT_MAIN,
	  CG_SANDBOX, OP_BIND, AF_INET, UDP, DENIED4, 0, EPERM,
	  EV(BIND, DENY, SPOOFED_SOURCE, AF_INET, DENIED4, 0, 0) },
	{ "bind4 port 0 to the wildcard", V_BOTH, SLOT_MAIN, CG_SANDBOX,
	  OP_BIND, AF_INET, UDP, "0.0.0.0", 0, 0, NO_EVENT },
	{ "bind6 port 0 to an address of this host", V_BOTH, SLOT_MAIN,
	  CG_SANDBOX, OP_BIND, AF_INET6, UDP, ALLOWED6, 0, 0, NO_EVENT },
	{ "bind6 port 0 to another host's address", V_BOTH, SLOT_MAIN,
	  CG_SANDBOX, OP_BIND, AF_INET6, TCP, DENIED6, 0, EPERM,
	  EV(BIND, DENY, SPOOFED_SOURCE, AF_INET6, DENIED6, 0, 0) },
	{ "bind6 port 0 v4-mapped, another host's address", V_BOTH, SLOT_MAIN,
	  CG_SANDBOX, OP_BIND, AF_INET6, UDP, MAPPED(DENIED4), 0, EPERM,
	  EV(BIND, DENY, SPOOFED_SOURCE, AF_INET, DENIED4, 0, 0) },
	{ "bind6 port 0 to the wildcard", V_BOTH, SLOT_MAIN, CG_SANDBOX,
	  OP_BIND, AF_INET6, UDP, "::", 0, 0, NO_EVENT },
	{ "bind6 port 0 to ::1", V_BOTH, SLOT_MAIN, CG_SANDBOX, OP_BIND,
	  AF_INET6, UDP, "::1", 0, 0, NO_EVENT },
	{ "bind6 to a non-loopback address", V_BOTH, SLOT_MAIN, CG_SANDBOX,
	  OP_BIND, AF_INET6, TCP, ALLOWED6, OWN_PORT, EPERM,
	  EV(BIND, DENY, BIND_NOT_LOOPBACK, AF_INET6, ALLOWED6, 0, 0) },
	{ "bind6 v4-mapped non-loopback address", V_BOTH, SLOT_MAIN, CG_SANDBOX,
	  OP_BIND, AF_INET6, TCP, MAPPED(ALLOWED4), OWN_PORT, EPERM,
	  EV(BIND, DENY, BIND_NOT_LOOPBACK, AF_INET, ALLOWED4, 0, 0) },
	{ "bind6 v4-mapped wildcard with a port", V_BOTH, SLOT_MAIN, CG_SANDBOX,
	  OP_BIND, AF_INET6, TCP, MAPPED("0.0.0.0"), OWN_PORT, EPERM,
	  EV(BIND, DENY, BIND_NOT_LOOPBACK, AF_INET, "0.0.0.0", 0, 0) },
	{ "bind6 v4-mapped loopback with a port", V_BOTH, SLOT_MAIN, CG_SANDBOX,
	  OP_BIND, AF_INET6, TCP, MAPPED("127.0.0.1"), OWN_PORT, 0, NO_EVENT },
	{ "bind6 ::1 with a port", V_BOTH, SLOT_MAIN, CG_SANDBOX, OP_BIND,
	  AF_INET6, TCP, "::1", OWN_PORT, 0, NO_EVENT },
	/* A wildcard with a port: loopback, by the socket's IPV6_V6ONLY */
	{ "bind6 tcp [::] dual-stack narrowed to 127.0.0.1",
	  V_BOTH,
	  SLOT_MAIN,
	  CG_SANDBOX,
	  OP_BIND_ANY6,
	  AF_INET6,
	  TCP,
	  "::",
	  OWN_PORT,
	  0,
	  { .src = MAPPED("127.0.0.1") } },
	{ "bind6 tcp [::] IPV6_V6ONLY narrowed to ::1",
	  V_BOTH,
	  SLOT_MAIN,
	  CG_SANDBOX,
	  OP_BIND_ANY6_ONLY,
	  AF_INET6,
	  TCP,
	  "::",
	  OWN_PORT,
	  0,
	  { .src = "::1" } },
	{ "bind6 udp [::] dual-stack narrowed to 127.0.0.1",
	  V_BOTH,
	  SLOT_MAIN,
	  CG_SANDBOX,
	  OP_BIND_ANY6,
	  AF_INET6,
	  UDP,
	  "::",
	  OWN_PORT,
	  0,
	  { .src = MAPPED("127.0.0.1") } },
	{ "bind6 udp [::] IPV6_V6ONLY narrowed to ::1",
	  V_BOTH,
	  SLOT_MAIN,
	  CG_SANDBOX,
	  OP_BIND_ANY6_ONLY,
	  AF_INET6,
	  UDP,
	  "::",
	  OWN_PORT,
	  0,
	  { .src = "::1" } },
	{ "no slot: bind port 0 to another host's address", V_AGENT, SLOT_NONE,
	  CG_SANDBOX, OP_BIND, AF_INET6, UDP, DENIED6, 0, EPERM,
	  EV(BIND, DENY, SPOOFED_SOURCE, AF_INET6, DENIED6, 0, 0) },
	{ "udp4 PKTINFO source of this host", V_BOTH, SLOT_MAIN, CG_SANDBOX,
	  OP_SENDMSG_SRC, AF_INET, UDP, ALLOWED4, SVC_PORT, 0,
	  EVS(SENDMSG, ALLOW, CIDR, AF_INET, ALLOWED4, 1, 0, LEARNED4) },
	{ "udp4 PKTINFO source of another host", V_BOTH, SLOT_MAIN, CG_SANDBOX,
	  OP_SENDMSG_SRC, AF_INET, UDP, ALLOWED4, SVC_PORT, EPERM,
	  EVS(SENDMSG, DENY, SPOOFED_SOURCE, AF_INET, ALLOWED4, 0, 0,
	      DENIED4) },
	{ "udp4 PKTINFO loopback source to another host", V_BOTH, SLOT_MAIN,
	  CG_SANDBOX, OP_SENDMSG_SRC, AF_INET, UDP, ALLOWED4, SVC_PORT, EPERM,
	  EVS(SENDMSG, DENY, SPOOFED_SOURCE, AF_INET, ALLOWED4, 0, 0,
	      "127.0.0.1") },
	{ "udp6 PKTINFO source of another host", V_BOTH, SLOT_MAIN, CG_SANDBOX,
	  OP_SENDMSG_SRC, AF_INET6, UDP, ALLOWED6, SVC_PORT, EPERM,
	  EVS(SENDMSG, DENY, SPOOFED_SOURCE, AF_INET6, ALLOWED6, 0, 0,
	      DENIED6) },
	{ "udp6 PKTINFO source ::1 to another host", V_BOTH, SLOT_MAIN,
	  CG_SANDBOX, OP_SENDMSG_SRC, AF_INET6, UDP, ALLOWED6, SVC_PORT, EPERM,
	  EVS(SENDMSG, DENY, SPOOFED_SOURCE, AF_INET6, ALLOWED6, 0, 0, "::1") },
	{ "udp6 PKTINFO source of this host", V_BOTH, SLOT_MAIN, CG_SANDBOX,
	  OP_SENDMSG_SRC, AF_INET6, UDP, ALLOWED6, SVC_PORT, 0,
	  EVS(SENDMSG, ALLOW, CIDR, AF_INET6, ALLOWED6, 2, 0, LEARNED6) },
	/* v4-mapped: sendmsg4 runs, with IPV6_PKTINFO's address as IPv4 */
	{ "udp6 v4-mapped PKTINFO source of another host", V_BOTH, SLOT_MAIN,
	  CG_SANDBOX, OP_SENDMSG_SRC, AF_INET6, UDP, MAPPED(ALLOWED4), SVC_PORT,
	  EPERM,
	  EVS(SENDMSG, DENY, SPOOFED_SOURCE, AF_INET, ALLOWED4, 0, 0,
	      MAPPED(DENIED4)) },
	{ "udp6 DNS/53 with a PKTINFO source of another host", V_BOTH,
	  SLOT_MAIN, CG_SANDBOX, OP_SENDMSG_SRC, AF_INET6, UDP, DNS6,
	  AWF_DNS_PORT, EPERM,
	  EVS(SENDMSG, DENY, SPOOFED_SOURCE, AF_INET6, DNS6, 0, 0, DENIED6) },
	/*
	 * Connected: sendmsg runs with no address (::, port 0) when there is
	 * ancillary data; the peer is connect()'s, the source is checked.
	 */
	{ "udp6 connected, PKTINFO source of another host", V_BOTH, SLOT_MAIN,
	  CG_SANDBOX, OP_CONNECTED_SRC, AF_INET6, UDP, ALLOWED6, SVC_PORT,
	  EPERM,
	  EVS(SENDMSG, DENY, SPOOFED_SOURCE, AF_INET6, "::", 0, 0, DENIED6) },
	{ "udp4 connected, PKTINFO source of this host", V_BOTH, SLOT_MAIN,
	  CG_SANDBOX, OP_CONNECTED_SRC, AF_INET, UDP, ALLOWED4, SVC_PORT, 0,
	  EVS(CONNECT, ALLOW, CIDR, AF_INET, ALLOWED4, 1, 0, LEARNED4) },
	{ "udp6 connected, PKTINFO source of this host", V_BOTH, SLOT_MAIN,
	  CG_SANDBOX, OP_CONNECTED_SRC, AF_INET6, UDP, ALLOWED6, SVC_PORT, 0,
	  EVS(CONNECT, ALLOW, CIDR, AF_INET6, ALLOWED6, 2, 0, LEARNED6) },

	/* The agent: a cgroup resolves to a slot, the slot to its policy */
	{ "slot's own CIDR", V_AGENT, SLOT_NOV6, CG_SANDBOX, OP_CONNECT,
	  AF_INET, TCP, SLOT2_4, SVC_PORT, 0,
	  EV(CONNECT, ALLOW, CIDR, AF_INET, SLOT2_4, 5, 0) },
	{ "another slot's CIDR", V_AGENT, SLOT_MAIN, CG_SANDBOX, OP_CONNECT,
	  AF_INET, TCP, SLOT2_4, SVC_PORT, EPERM,
	  EV(CONNECT, DENY, NOT_IN_POLICY, AF_INET, SLOT2_4, 0, 0) },
	{ "slot's own learned set", V_AGENT, SLOT_NOV6, CG_SANDBOX, OP_CONNECT,
	  AF_INET, TCP, OTHER_SET4, SVC_PORT, 0,
	  EV(CONNECT, ALLOW, LEARNED, AF_INET, OTHER_SET4, RULE_LEARNED, 9) },
	{ "another slot's learned set", V_AGENT, SLOT_MAIN, CG_SANDBOX,
	  OP_CONNECT, AF_INET, TCP, OTHER_SET4, SVC_PORT, EPERM,
	  EV(CONNECT, DENY, NOT_IN_POLICY, AF_INET, OTHER_SET4, 0, 0) },
	{ "child cgroup inherits the slot, allowed", V_AGENT, SLOT_MAIN,
	  CG_CHILD, OP_CONNECT, AF_INET, TCP, ALLOWED4, SVC_PORT, 0,
	  EV(CONNECT, ALLOW, CIDR, AF_INET, ALLOWED4, 1, 0) },
	{ "child cgroup inherits the slot, denied", V_AGENT, SLOT_MAIN,
	  CG_CHILD, OP_CONNECT, AF_INET, TCP, DENIED4, SVC_PORT, EPERM,
	  EV(CONNECT, DENY, NOT_IN_POLICY, AF_INET, DENIED4, 0, 0) },
	{ "child cgroup's own slot wins over its parent's", V_AGENT, SLOT_NOV6,
	  CG_CHILD_SLOT, OP_CONNECT, AF_INET, TCP, SLOT2_4, SVC_PORT, 0,
	  EV(CONNECT, ALLOW, CIDR, AF_INET, SLOT2_4, 5, 0) },
	/* No slot (or a slot being torn down): fail closed, silently. */
	{ "no slot: connect refused", V_AGENT, SLOT_NONE, CG_SANDBOX,
	  OP_CONNECT, AF_INET, TCP, ALLOWED4, SVC_PORT, EPERM, NO_EVENT },
	{ "no slot: tcp6 connect refused", V_AGENT, SLOT_NONE, CG_SANDBOX,
	  OP_CONNECT, AF_INET6, TCP, ALLOWED6, SVC_PORT, EPERM, NO_EVENT },
	{ "no slot: DNS not redirected but refused", V_AGENT, SLOT_NONE,
	  CG_SANDBOX, OP_SENDTO, AF_INET, UDP, DNS4, AWF_DNS_PORT, EPERM,
	  NO_EVENT },
	{ "no slot: bind to loopback allowed", V_AGENT, SLOT_NONE, CG_SANDBOX,
	  OP_BIND, AF_INET, TCP, "127.0.0.1", OWN_PORT, 0, NO_EVENT },
	{ "no slot: bind to another address refused", V_AGENT, SLOT_NONE,
	  CG_SANDBOX, OP_BIND, AF_INET, TCP, ALLOWED4, OWN_PORT, EPERM,
	  EV(BIND, DENY, BIND_NOT_LOOPBACK, AF_INET, ALLOWED4, 0, 0) },
	{ "torn-down slot: connect refused", V_AGENT, SLOT_TORN, CG_SANDBOX,
	  OP_CONNECT, AF_INET, TCP, ALLOWED4, SVC_PORT, EPERM, NO_EVENT },
	/* Unrestricted: the hooks let everything through, unaudited. */
	{ "unrestricted slot: any port", V_AGENT, SLOT_FREE, CG_SANDBOX,
	  OP_CONNECT, AF_INET, TCP, ALLOWED4, OTHER_PORT, ECONNREFUSED,
	  NO_EVENT },
	{ "unrestricted slot: any bind", V_AGENT, SLOT_FREE, CG_SANDBOX,
	  OP_BIND, AF_INET, TCP, ALLOWED4, OWN_PORT, 0, NO_EVENT },

	/*
	 * Audit-only mode: the policy's denials proceed (ECONNREFUSED: the
	 * connection reached the address, where nothing listens), flagged;
	 * the sandbox's own stay, unflagged.
	 */
	{ "audit-only: tcp4 port not allowed proceeds", V_AGENT, SLOT_AUDIT,
	  CG_SANDBOX, OP_CONNECT, AF_INET, TCP, ALLOWED4, OTHER_PORT,
	  ECONNREFUSED,
	  EVA(CONNECT, PORT_NOT_ALLOWED, AF_INET, ALLOWED4, 0, 0) },
	{ "audit-only: tcp4 loopback host service proceeds", V_AGENT,
	  SLOT_AUDIT, CG_SANDBOX, OP_CONNECT, AF_INET, TCP, "127.0.0.1",
	  OTHER_PORT, ECONNREFUSED,
	  EVA(CONNECT, LOOPBACK, AF_INET, "127.0.0.1", 0, 0) },
	{ "audit-learned address is not in policy, named", V_BOTH, SLOT_MAIN,
	  CG_SANDBOX, OP_CONNECT, AF_INET, TCP, AUDIT_LEARNED4, SVC_PORT, EPERM,
	  EV(CONNECT, DENY, NOT_IN_POLICY, AF_INET, AUDIT_LEARNED4, 0, 11) },
	{ "audit-only: audit-learned address proceeds, named", V_AGENT,
	  SLOT_AUDIT, CG_SANDBOX, OP_CONNECT, AF_INET, TCP, AUDIT_LEARNED4,
	  SVC_PORT, 0,
	  EVA(CONNECT, NOT_IN_POLICY, AF_INET, AUDIT_LEARNED4, 0, 11) },
	{ "audit-only: udp4 sendto learned without udp proceeds", V_AGENT,
	  SLOT_AUDIT, CG_SANDBOX, OP_SENDTO, AF_INET, UDP, LEARNED4, SVC_PORT,
	  0, EVA(SENDMSG, UDP_TO_NAME, AF_INET, LEARNED4, 0, 7) },
	{ "audit-only: udp4 sendto port not allowed proceeds", V_AGENT,
	  SLOT_AUDIT, CG_SANDBOX, OP_SENDTO, AF_INET, UDP, ALLOWED4, OTHER_PORT,
	  0, EVA(SENDMSG, PORT_NOT_ALLOWED, AF_INET, ALLOWED4, 0, 0) },
	{ "audit-only: reserved range stays refused", V_AGENT, SLOT_AUDIT,
	  CG_SANDBOX, OP_CONNECT, AF_INET, TCP, METADATA4, 80, EPERM,
	  EV(CONNECT, DENY, RESERVED_RANGE, AF_INET, METADATA4, 3, 0) },
	{ "audit-only: v4-mapped reserved range stays refused", V_AGENT,
	  SLOT_AUDIT, CG_SANDBOX, OP_CONNECT, AF_INET6, TCP, MAPPED(METADATA4),
	  80, EPERM,
	  EV(CONNECT, DENY, RESERVED_RANGE, AF_INET, METADATA4, 3, 0) },
	{ "audit-only: bind off loopback stays refused", V_AGENT, SLOT_AUDIT,
	  CG_SANDBOX, OP_BIND, AF_INET, TCP, ALLOWED4, OWN_PORT, EPERM,
	  EV(BIND, DENY, BIND_NOT_LOOPBACK, AF_INET, ALLOWED4, 0, 0) },
	{ "audit-only: bind to another host's address stays refused", V_AGENT,
	  SLOT_AUDIT, CG_SANDBOX, OP_BIND, AF_INET, UDP, DENIED4, 0, EPERM,
	  EV(BIND, DENY, SPOOFED_SOURCE, AF_INET, DENIED4, 0, 0) },
	{ "audit-only: PKTINFO source of another host stays refused", V_AGENT,
	  SLOT_AUDIT, CG_SANDBOX, OP_SENDMSG_SRC, AF_INET, UDP, ALLOWED4,
	  SVC_PORT, EPERM,
	  EVS(SENDMSG, DENY, SPOOFED_SOURCE, AF_INET, ALLOWED4, 0, 0,
	      DENIED4) },
};

/* The CIDR rules of the policies, by P_* mask. */
static const struct {
	const char *addr;
	uint32_t prefixlen;
	uint32_t id;
	uint32_t kind;
	uint16_t port; /* 0: no ports (reserved, local) */
	unsigned in;
} rule_defs[] = {
	{ ALLOWED4, 32, 1, AWF_RULE_ALLOW, SVC_PORT, P_ALL },
	{ ALLOWED6, 128, 2, AWF_RULE_ALLOW, SVC_PORT, P_ALL },
	{ "169.254.0.0", 16, 3, AWF_RULE_RESERVED, 0, P_ALL },
	{ SLOT2_4, 32, 5, AWF_RULE_ALLOW, SVC_PORT, P_SLOT(SLOT_NOV6) },
	{ HOST4, 32, 6, AWF_RULE_LOCAL, 0, P_ALL },
};

/* The learned addresses, by P_* mask; the agent keys them by the set. */
static const struct {
	const char *addr;
	bool live;
	uint32_t name_id;
	unsigned in;
	uint32_t flags;
} learned_defs[] = {
	{ LEARNED4, true, 7, P_RUN | P_SLOT(SLOT_MAIN), 0 },
	{ LEARNED_UDP4, true, 10, P_RUN | P_SLOT(SLOT_MAIN), AWF_LEARNED_UDP },
	{ EXPIRED4, false, 7, P_RUN | P_SLOT(SLOT_MAIN), 0 },
	{ LEARNED6, true, 8, P_RUN | P_SLOT(SLOT_MAIN), 0 },
	{ OTHER_SET4, true, 9, P_SLOT(SLOT_NOV6), 0 },
	{ AUDIT_LEARNED4, true, 11, P_RUN | P_SLOT(SLOT_MAIN),
	  AWF_LEARNED_AUDIT_ONLY },
};

static const char *const lo_addrs[] = {
	ALLOWED4, LEARNED4, LEARNED_UDP4, OTHER_SET4,
	SLOT2_4,  ALLOWED6, LEARNED6,	  AUDIT_LEARNED4,
};

struct test_cgroup {
	char path[PATH_MAX];
	uint64_t id;
	int fd;
};

#define MAX_PROGS 16

static struct {
	char base[PATH_MAX]; /* <cgroup2>/awft-sockaddr-<pid> */
	struct test_cgroup run, nov6, agent, inner;
	struct awf_bpf *run_skel, *nov6_skel;
	struct awf_agent_bpf *agent_skel;
	/* `run` attaches as loader.c does: BPF_PROG_ATTACH, detached by us. */
	struct {
		int prog_fd, type, cgroup_fd;
	} attached[2 * MAX_PROGS];
	size_t n_attached;
	struct bpf_link *links[MAX_PROGS]; /* the agent's, as agent_bpf.c */
	size_t n_links;
	struct ring_buffer *rb_run, *rb_nov6, *rb_agent;
	struct hook_warm warm; /* on nov6, before its programs */
	int listen_fd, dns_tcp_fd, dns4_fd, dns6_fd;
} g = { .listen_fd = -1, .dns_tcp_fd = -1, .dns4_fd = -1, .dns6_fd = -1 };

static struct awf_event got[MAX_EVENTS];
static int n_got;

/* --------------------------------------------------------- addresses */

static socklen_t make_addr(struct sockaddr_storage *ss, int family,
			   const char *addr, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)ss;

		s->sin_family = AF_INET;
		s->sin_port = htons(port);
		if (inet_pton(AF_INET, addr, &s->sin_addr) != 1)
			return 0;
		return sizeof(*s);
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(port);
	if (inet_pton(AF_INET6, addr, &s6->sin6_addr) != 1)
		return 0;
	return sizeof(*s6);
}

static void addr_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, ntohs(s->sin_port));
		return;
	}
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

	inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
	snprintf(buf, len, "[%s]:%u", ip, ntohs(s6->sin6_port));
}

static bool same_addr(const struct sockaddr_storage *a,
		      const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4 = (const void *)a, *b4 = (const void *)b;
	const struct sockaddr_in6 *a6 = (const void *)a, *b6 = (const void *)b;

	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return a4->sin_port == b4->sin_port &&
		       a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	return a6->sin6_port == b6->sin6_port &&
	       !memcmp(&a6->sin6_addr, &b6->sin6_addr, 16);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------- the network namespace */

static int lo_up(int fd)
{
	struct ifreq ifr = { .ifr_name = "lo" };

	if (ioctl(fd, SIOCGIFFLAGS, &ifr)) {
		fprintf(stderr, "SIOCGIFFLAGS lo: %s\n", strerror(errno));
		return -1;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr)) {
		fprintf(stderr, "SIOCSIFFLAGS lo: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* An alias lo:<n> holding addr/32: the primary 127.0.0.1 stays. */
static int lo_add4(int fd, int n, const char *addr)
{
	struct ifreq ifr = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo:%d", n);
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, addr, &sin->sin_addr);
	if (ioctl(fd, SIOCSIFADDR, &ifr)) {
		fprintf(stderr, "adding %s to lo: %s\n", addr, strerror(errno));
		return -1;
	}
	sin->sin_addr.s_addr = htonl(0xffffffff);
	if (ioctl(fd, SIOCSIFNETMASK, &ifr)) {
		fprintf(stderr, "netmask of %s: %s\n", addr, strerror(errno));
		return -1;
	}
	return 0;
}

/* struct in6_ifreq of <linux/ipv6.h>, which clashes with the libc headers */
struct lo_in6_ifreq {
	struct in6_addr addr;
	uint32_t prefixlen;
	int ifindex;
};

static int lo_add6(int fd6, const char *addr)
{
	struct lo_in6_ifreq req = { .prefixlen = 128,
				    .ifindex = (int)if_nametoindex("lo") };

	inet_pton(AF_INET6, addr, &req.addr);
	if (ioctl(fd6, SIOCSIFADDR, &req)) {
		fprintf(stderr, "adding %s to lo: %s\n", addr, strerror(errno));
		return -1;
	}
	return 0;
}

/* A namespace of our own with lo only, and the test addresses on lo. */
static int private_netns(void)
{
	int fd = -1, fd6 = -1, ret = -1;

	if (unshare(CLONE_NEWNET)) {
		fprintf(stderr, "unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return -1;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	fd6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || fd6 < 0) {
		fprintf(stderr, "socket for ioctl: %s\n", strerror(errno));
		goto out;
	}
	if (lo_up(fd))
		goto out;
	for (size_t i = 0; i < ARRAY_SIZE(lo_addrs); i++) {
		if (strchr(lo_addrs[i], ':') ?
			    lo_add6(fd6, lo_addrs[i]) :
			    lo_add4(fd, (int)i + 1, lo_addrs[i]))
			goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (fd6 >= 0)
		close(fd6);
	return ret;
}

/* A socket of the test itself, outside every test cgroup: no hook sees it. */
static int bound_socket(int family, int type, const char *addr, uint16_t port,
			bool v6only)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(&ss, family, addr, port);
	int one = 1, off = 0;
	int fd = socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0) {
		fprintf(stderr, "socket: %s\n", strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    (family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, v6only ? &one : &off,
			sizeof(one))) ||
	    bind(fd, (struct sockaddr *)&ss, len) ||
	    (type == SOCK_STREAM && listen(fd, 256))) {
		fprintf(stderr, "listening on %s port %u: %s\n", addr, port,
			strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int open_servers(void)
{
	g.listen_fd =
		bound_socket(AF_INET6, SOCK_STREAM, "::", SVC_PORT, false);
	g.dns_tcp_fd =
		bound_socket(AF_INET6, SOCK_STREAM, "::", ENDPOINT_PORT, false);
	g.dns4_fd = bound_socket(AF_INET, SOCK_DGRAM, "127.0.0.1",
				 ENDPOINT_PORT, false);
	g.dns6_fd =
		bound_socket(AF_INET6, SOCK_DGRAM, "::1", ENDPOINT_PORT, true);
	return g.listen_fd < 0 || g.dns_tcp_fd < 0 || g.dns4_fd < 0 ||
			       g.dns6_fd < 0 ?
		       -1 :
		       0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Connections the rows made: accepted and closed (bounded). */
static void drain_listener(int fd)
{
	for (int i = 0; i < 64; i++) {
		int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0)
			return;
		close(c);
	}
}

/* ------------------------------------------------------------- cgroups */

static int cgroup2_mount(char *root, size_t len)
{
	char err[256];

	if (cgroup2_root(root, len, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "%s\n", err);
	return -1;
}

static const char *const cg_children[] = { "agent/inner", "agent", "run",
					   "run-nov6" };

/* Every cgroup of a base, deepest first; each is empty (no process). */
static void remove_cgroups(const char *base)
{
	char path[PATH_MAX + 32];

	for (size_t i = 0; i < ARRAY_SIZE(cg_children); i++) {
		snprintf(path, sizeof(path), "%s/%s", base, cg_children[i]);
		for (int try = 0; try < 200; try++) {
			if (!rmdir(path) || errno != EBUSY)
				break;
			usleep(5000); /* the last task may still be leaving */
		}
		if (access(path, F_OK) == 0)
			fprintf(stderr, "rmdir %s: %s\n", path,
				strerror(errno));
	}
	if (rmdir(base) && errno != ENOENT)
		fprintf(stderr, "rmdir %s: %s\n", base, strerror(errno));
}

/* Bases of earlier runs that died without their teardown (SIGKILL). */
static void sweep_stale(const char *root)
{
	char pattern[PATH_MAX + 32];
	glob_t gl;
	int pid;

	snprintf(pattern, sizeof(pattern), "%s/awft-sockaddr-*", root);
	if (glob(pattern, GLOB_ONLYDIR, NULL, &gl))
		return; /* none */
	for (size_t i = 0; i < gl.gl_pathc && i < 64; i++) {
		const char *base = gl.gl_pathv[i];

		if (sscanf(strrchr(base, '/'), "/awft-sockaddr-%d", &pid) ==
			    1 &&
		    kill(pid, 0) && errno == ESRCH)
			remove_cgroups(base);
	}
	globfree(&gl);
}

static int make_cgroup(struct test_cgroup *cg, const char *name)
{
	struct stat st;

	if (snprintf(cg->path, sizeof(cg->path), "%s/%s", g.base, name) >=
	    (int)sizeof(cg->path)) {
		fprintf(stderr, "cgroup path too long: %s/%s\n", g.base, name);
		cg->path[0] = '\0';
		return -1;
	}
	if (mkdir(cg->path, 0755)) {
		fprintf(stderr, "mkdir %s: %s\n", cg->path, strerror(errno));
		return -1;
	}
	cg->fd = open(cg->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg->fd < 0 || fstat(cg->fd, &st)) {
		fprintf(stderr, "open %s: %s\n", cg->path, strerror(errno));
		return -1;
	}
	cg->id = st.st_ino; /* a cgroup2 directory's inode is its id */
	return 0;
}

static int make_cgroups(void)
{
	char root[PATH_MAX];

	if (cgroup2_mount(root, sizeof(root)))
		return -1;
	sweep_stale(root);
	if (snprintf(g.base, sizeof(g.base), "%s/awft-sockaddr-%d", root,
		     (int)getpid()) >= (int)sizeof(g.base)) {
		fprintf(stderr, "cgroup path too long under %s\n", root);
		return -1;
	}
	if (mkdir(g.base, 0755)) {
		fprintf(stderr, "mkdir %s: %s\n", g.base, strerror(errno));
		g.base[0] = '\0'; /* not ours to remove */
		return -1;
	}
	return make_cgroup(&g.run, "run") || make_cgroup(&g.nov6, "run-nov6") ||
	       make_cgroup(&g.agent, "agent") ||
	       make_cgroup(&g.inner, "agent/inner");
}

/* A row's child that got stuck is killed by its parent; this is the net. */
static void kill_cgroup(const struct test_cgroup *cg)
{
	char path[PATH_MAX + 16];
	int fd;

	if (!cg->path[0])
		return;
	snprintf(path, sizeof(path), "%s/cgroup.kill", cg->path);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, "1", 1) != 1)
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
	close(fd);
}

/* ----------------------------------------------------- the programs */

/*
 * port in a full set (AWF_MAX_PORT_RANGES ranges), and in its last range
 * only: the programs check each range in turn (unrolled, policy.bpf.h's
 * port_in()). OTHER_PORT falls between the last two: above one's hi,
 * below the other's lo. The other ranges hold no port a row uses.
 */
static struct awf_port_set one_port(uint16_t port)
{
	struct awf_port_set ps = { 0 };
	uint16_t i;

	if (!port)
		return ps;
	ps.count = AWF_MAX_PORT_RANGES;
	for (i = 0; i < AWF_MAX_PORT_RANGES - 2; i++) {
		ps.ranges[i].lo = 200 + 2 * i;
		ps.ranges[i].hi = 200 + 2 * i;
	}
	ps.ranges[i].lo = OTHER_PORT + 1;
	ps.ranges[i].hi = OTHER_PORT + 10;
	ps.ranges[i + 1].lo = port - 5;
	ps.ranges[i + 1].hi = port;
	return ps;
}

/* The policy both builds share, before the agent's slot differences. */
static struct awf_config base_config(void)
{
	struct awf_config cfg = {
		.dns_ip4 = htonl(INADDR_LOOPBACK),
		.dns_port = ENDPOINT_PORT,
		.localhost_mode = AWF_LO_SANDBOX,
		.ipv6_enabled = 1,
		.audit_allowed = 1, /* so that allowed rows have an event too */
		.lo_ports = one_port(SVC_PORT),
	};

	memcpy(cfg.dns_ip6, &in6addr_loopback, 16);
	return cfg;
}

static struct awf_rule rule_of(size_t i)
{
	return (struct awf_rule){ .id = rule_defs[i].id,
				  .kind = rule_defs[i].kind,
				  .ports = one_port(rule_defs[i].port) };
}

static struct awf_learned learned_of(size_t i)
{
	return (struct awf_learned){
		.expires_ns = learned_defs[i].live ? mono_ns() + LIVE_NS : 1,
		.name_id = learned_defs[i].name_id,
		.rule_id = RULE_LEARNED,
		.ports = one_port(SVC_PORT),
		.flags = learned_defs[i].flags,
	};
}

static int map_put(struct bpf_map *map, const void *key, const void *val,
		   const char *what)
{
	if (bpf_map_update_elem(bpf_map__fd(map), key, val, BPF_ANY)) {
		fprintf(stderr, "%s: %s: %s\n", bpf_map__name(map), what,
			strerror(errno));
		return -1;
	}
	return 0;
}

/* addr into its key (at off in both), then the entry into its map. */
static int put_keyed(struct bpf_map *map4, struct bpf_map *map6,
		     const char *addr, void *key4, void *key6, size_t off,
		     const void *val)
{
	bool v6 = strchr(addr, ':') != NULL;
	char *key = v6 ? key6 : key4;

	if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, key + off) != 1) {
		fprintf(stderr, "bad address in a table: %s\n", addr);
		return -1;
	}
	return map_put(v6 ? map6 : map4, key, val, addr);
}

static int fill_run(struct awf_bpf *skel)
{
	for (size_t i = 0; i < ARRAY_SIZE(rule_defs); i++) {
		struct awf_rule rule = rule_of(i);
		struct awf_cidr4_key k4 = { .prefixlen =
						    rule_defs[i].prefixlen };
		struct awf_cidr6_key k6 = { .prefixlen =
						    rule_defs[i].prefixlen };

		if ((rule_defs[i].in & P_RUN) &&
		    put_keyed(skel->maps.cidr4, skel->maps.cidr6,
			      rule_defs[i].addr, &k4, &k6,
			      offsetof(struct awf_cidr4_key, addr), &rule))
			return -1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(learned_defs); i++) {
		struct awf_learned val = learned_of(i);
		struct awf_ip6_key k6;
		uint32_t k4;

		if ((learned_defs[i].in & P_RUN) &&
		    put_keyed(skel->maps.learned4, skel->maps.learned6,
			      learned_defs[i].addr, &k4, &k6, 0, &val))
			return -1;
	}
	/* This namespace's addresses: the sources its packets carry. */
	for (size_t i = 0; i < ARRAY_SIZE(lo_addrs); i++) {
		struct awf_ip6_key k6;
		uint32_t k4;
		uint8_t one = 1;

		if (put_keyed(skel->maps.host_addrs4, skel->maps.host_addrs6,
			      lo_addrs[i], &k4, &k6, 0, &one))
			return -1;
	}
	return 0;
}

/* .rodata is frozen at load, as loader_load() sets it. */
static struct awf_bpf *load_run(bool ipv6)
{
	struct awf_config cfg = base_config();
	struct awf_bpf *skel = awf_bpf__open();
	int err;

	if (!skel) {
		fprintf(stderr, "opening awf.bpf.o: %s\n", strerror(errno));
		return NULL;
	}
	cfg.ipv6_enabled = ipv6;
	memcpy((void *)&skel->rodata->awf_cfg, &cfg, sizeof(cfg));
	skel->rodata->learns = 1;	/* its policy names domains */
	skel->rodata->allows_cidrs = 1; /* and lists CIDRs */
	err = awf_bpf__load(skel);
	if (err || fill_run(skel)) {
		if (err)
			fprintf(stderr, "loading awf.bpf.o: %s\n",
				strerror(-err));
		awf_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

static int attach_run(struct awf_bpf *skel, const struct test_cgroup *cg)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, skel->obj) {
		int fd = bpf_program__fd(prog);
		int type = bpf_program__expected_attach_type(prog);

		/* The first bytes' program belongs to a map, not a cgroup. */
		if (type == BPF_SK_MSG_VERDICT)
			continue;
		if (g.n_attached == ARRAY_SIZE(g.attached) ||
		    bpf_prog_attach(fd, cg->fd, type, BPF_F_ALLOW_MULTI)) {
			fprintf(stderr, "attaching %s to %s: %s\n",
				bpf_program__name(prog), cg->path,
				strerror(errno));
			return -1;
		}
		g.attached[g.n_attached].prog_fd = fd;
		g.attached[g.n_attached].type = type;
		g.attached[g.n_attached].cgroup_fd = cg->fd;
		g.n_attached++;
	}
	return 0;
}

static struct awf_config agent_config(uint32_t slot)
{
	struct awf_config cfg = base_config();

	switch (slot) {
	case SLOT_MAIN:
		cfg.learned_set = 11;
		break;
	case SLOT_NOV6:
		cfg.ipv6_enabled = 0;
		cfg.learned_set = 12;
		break;
	case SLOT_FREE:
		memset(&cfg, 0, sizeof(cfg)); /* as agent_sandbox.c writes it */
		cfg.unrestricted = 1;
		break;
	case SLOT_AUDIT:
		cfg.learned_set = 13;
		cfg.audit_only = 1;
		break;
	default: /* torn down: agent_sandbox.c zeroes the config first */
		memset(&cfg, 0, sizeof(cfg));
	}
	return cfg;
}

static int fill_agent_slot(struct awf_agent_bpf *skel, uint32_t slot)
{
	struct awf_config cfg = agent_config(slot);
	/* the audit-only slot has SLOT_MAIN's rules */
	uint32_t in = P_SLOT(slot == SLOT_AUDIT ? SLOT_MAIN : slot);

	for (size_t i = 0; i < ARRAY_SIZE(rule_defs); i++) {
		struct awf_rule rule = rule_of(i);
		/* prefixlen counts the 32 bits of the slot too */
		uint32_t plen = 32 + rule_defs[i].prefixlen;
		struct awf_slot_cidr4_key k4 = { .prefixlen = plen,
						 .slot = htonl(slot) };
		struct awf_slot_cidr6_key k6 = { .prefixlen = plen,
						 .slot = htonl(slot) };

		if ((rule_defs[i].in & in) &&
		    put_keyed(skel->maps.cidr4, skel->maps.cidr6,
			      rule_defs[i].addr, &k4, &k6,
			      offsetof(struct awf_slot_cidr4_key, addr), &rule))
			return -1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(learned_defs); i++) {
		struct awf_learned val = learned_of(i);
		struct awf_set_ip4_key k4 = { .set = cfg.learned_set };
		struct awf_set_ip6_key k6 = { .set = cfg.learned_set };

		if ((learned_defs[i].in & in) &&
		    put_keyed(skel->maps.learned4, skel->maps.learned6,
			      learned_defs[i].addr, &k4, &k6,
			      offsetof(struct awf_set_ip4_key, addr), &val))
			return -1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(lo_addrs); i++) {
		struct awf_slot_ip4_key k4 = { .slot = slot };
		struct awf_slot_ip6_key k6 = { .slot = slot };
		uint8_t one = 1;

		if (put_keyed(skel->maps.host_addrs4, skel->maps.host_addrs6,
			      lo_addrs[i], &k4, &k6,
			      offsetof(struct awf_slot_ip4_key, addr), &one))
			return -1;
	}
	/* Rules before config, as agent_sandbox.c orders them. */
	return map_put(skel->maps.configs, &slot, &cfg, "config");
}

/*
 * The agent's maps are pinned by name: without a pin path of our own
 * libbpf would adopt (or leave) /sys/fs/bpf/<map>. None is pinned here.
 */
static struct awf_agent_bpf *load_agent(void)
{
	struct awf_agent_bpf *skel = awf_agent_bpf__open();
	struct bpf_map *map;
	int err;

	if (!skel) {
		fprintf(stderr, "opening awf_agent.bpf.o: %s\n",
			strerror(errno));
		return NULL;
	}
	bpf_object__for_each_map(map, skel->obj) {
		err = bpf_map__set_pin_path(map, NULL);
		if (err) {
			fprintf(stderr, "unpinning %s: %s\n",
				bpf_map__name(map), strerror(-err));
			goto fail;
		}
	}
	err = awf_agent_bpf__load(skel);
	if (err) {
		fprintf(stderr, "loading awf_agent.bpf.o: %s\n",
			strerror(-err));
		goto fail;
	}
	for (uint32_t slot = SLOT_MAIN; slot <= SLOT_AUDIT; slot++)
		if (fill_agent_slot(skel, slot))
			goto fail;
	return skel;
fail:
	awf_agent_bpf__destroy(skel);
	return NULL;
}

/* Links, as agent_bpf.c attaches: they go when the test does. */
static int attach_agent(struct awf_agent_bpf *skel,
			const struct test_cgroup *cg)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, skel->obj) {
		struct bpf_link *link;

		if (bpf_program__type(prog) == BPF_PROG_TYPE_SCHED_CLS ||
		    bpf_program__type(prog) == BPF_PROG_TYPE_SK_MSG)
			continue; /* the uplinks' tc program; a map's sk_msg */
		if (g.n_links == ARRAY_SIZE(g.links)) {
			fprintf(stderr, "more than %zu agent programs\n",
				ARRAY_SIZE(g.links));
			return -1;
		}
		link = bpf_program__attach_cgroup(prog, cg->fd);
		if (!link) {
			fprintf(stderr, "attaching %s to %s: %s\n",
				bpf_program__name(prog), cg->path,
				strerror(errno));
			return -1;
		}
		g.links[g.n_links++] = link;
	}
	return 0;
}

static int collect_event(void *ctx, void *data, size_t size)
{
	(void)ctx;
	if (size < sizeof(struct awf_event)) {
		fprintf(stderr, "short event: %zu bytes\n", size);
		return 0;
	}
	if (n_got < MAX_EVENTS)
		memcpy(&got[n_got], data, sizeof(got[0]));
	n_got++;
	return 0;
}

static struct ring_buffer *events_of(struct bpf_map *map)
{
	struct ring_buffer *rb =
		ring_buffer__new(bpf_map__fd(map), collect_event, NULL, NULL);

	if (!rb)
		fprintf(stderr, "ring buffer of %s: %s\n", bpf_map__name(map),
			strerror(errno));
	return rb;
}

/* ------------------------------------------------------ setup, teardown */

static int teardown_all(void **state)
{
	(void)state;
	kill_cgroup(&g.inner);
	kill_cgroup(&g.agent);
	kill_cgroup(&g.run);
	kill_cgroup(&g.nov6);
	while (g.n_attached) {
		g.n_attached--;
		if (bpf_prog_detach2(g.attached[g.n_attached].prog_fd,
				     g.attached[g.n_attached].cgroup_fd,
				     g.attached[g.n_attached].type))
			fprintf(stderr, "detaching (type %d): %s\n",
				g.attached[g.n_attached].type, strerror(errno));
	}
	hook_warm_release(&g.warm, true);
	while (g.n_links)
		bpf_link__destroy(g.links[--g.n_links]);
	ring_buffer__free(g.rb_run);
	ring_buffer__free(g.rb_nov6);
	ring_buffer__free(g.rb_agent);
	g.rb_run = g.rb_nov6 = g.rb_agent = NULL;
	awf_bpf__destroy(g.run_skel);
	awf_bpf__destroy(g.nov6_skel);
	awf_agent_bpf__destroy(g.agent_skel);
	g.run_skel = g.nov6_skel = NULL;
	g.agent_skel = NULL;
	close_fd(&g.inner.fd);
	close_fd(&g.agent.fd);
	close_fd(&g.run.fd);
	close_fd(&g.nov6.fd);
	if (g.base[0])
		remove_cgroups(g.base);
	g.base[0] = '\0';
	close_fd(&g.listen_fd);
	close_fd(&g.dns_tcp_fd);
	close_fd(&g.dns4_fd);
	close_fd(&g.dns6_fd);
	return 0;
}

/* cmocka skips the group teardown when the setup fails: undo here. */
/* Every cgroup hook of awf.bpf.c, as run.c warms them. */
static const int warm_types[] = {
	BPF_CGROUP_INET4_CONNECT,     BPF_CGROUP_INET6_CONNECT,
	BPF_CGROUP_UDP4_SENDMSG,      BPF_CGROUP_UDP6_SENDMSG,
	BPF_CGROUP_UDP4_RECVMSG,      BPF_CGROUP_UDP6_RECVMSG,
	BPF_CGROUP_INET4_GETPEERNAME, BPF_CGROUP_INET6_GETPEERNAME,
	BPF_CGROUP_INET_SOCK_CREATE,  BPF_CGROUP_INET4_BIND,
	BPF_CGROUP_INET6_BIND,	      BPF_CGROUP_INET4_POST_BIND,
	BPF_CGROUP_INET6_POST_BIND,   BPF_CGROUP_INET_EGRESS,
	BPF_CGROUP_SOCK_OPS,
};

static int warm_nov6(void)
{
	hook_warm_attach(&g.warm, g.nov6.fd, warm_types,
			 ARRAY_SIZE(warm_types));
	if (g.warm.n == ARRAY_SIZE(warm_types))
		return 0;
	fprintf(stderr, "warming the hooks of run-nov6: %zu of %zu\n", g.warm.n,
		ARRAY_SIZE(warm_types));
	return -1;
}

static int setup_all(void **state)
{
	g.run.fd = g.nov6.fd = g.agent.fd = g.inner.fd = -1;
	if (open_servers() || make_cgroups())
		goto fail;
	g.run_skel = load_run(true);
	g.nov6_skel = load_run(false);
	g.agent_skel = load_agent();
	if (!g.run_skel || !g.nov6_skel || !g.agent_skel)
		goto fail;
	g.rb_run = events_of(g.run_skel->maps.events);
	g.rb_nov6 = events_of(g.nov6_skel->maps.events);
	g.rb_agent = events_of(g.agent_skel->maps.events);
	if (!g.rb_run || !g.rb_nov6 || !g.rb_agent ||
	    attach_run(g.run_skel, &g.run) || warm_nov6() ||
	    attach_run(g.nov6_skel, &g.nov6) ||
	    attach_agent(g.agent_skel, &g.agent))
		goto fail;
	return 0;
fail:
	teardown_all(state);
	return -1;
}

/* ------------------------------------------------------------ the child */

struct child_result {
	char step[64]; /* set when something other than the row's call failed */
	int step_errno;
	int op_errno; /* of the row's connect(), sendto() or bind() */
	struct sockaddr_storage peer; /* getpeername() after a connect() */
	bool got_query;		      /* the endpoint received the query */
	struct sockaddr_storage reply_from; /* recvfrom() of the answer */
};

static void child_failed(struct child_result *r, const char *step)
{
	r->step_errno = errno;
	snprintf(r->step, sizeof(r->step), "%s", step);
}

static int join_cgroup(const char *path)
{
	char file[PATH_MAX + 16];
	int fd, ret = 0;

	snprintf(file, sizeof(file), "%s/cgroup.procs", path);
	fd = open(file, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (write(fd, "0", 1) != 1)
		ret = -1;
	close(fd);
	return ret;
}

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, IO_TIMEOUT_MS) == 1;
}

static const char query[] = "awft-query";

/*
 * The query (sent already) reaches the endpoint, whichever family it went
 * to; the endpoint answers from there, and the socket must see the answer
 * come from the server it named.
 */
static void dns_exchange(int fd, struct child_result *r)
{
	struct pollfd eps[2] = { { .fd = g.dns4_fd, .events = POLLIN },
				 { .fd = g.dns6_fd, .events = POLLIN } };
	static const char answer[] = "awft-answer";
	struct sockaddr_storage src;
	socklen_t srclen = sizeof(src), fromlen = sizeof(r->reply_from);
	char buf[64];
	ssize_t n;
	int ep;

	if (poll(eps, 2, IO_TIMEOUT_MS) < 1)
		return child_failed(r, "waiting for the query at the endpoint");
	ep = eps[0].revents & POLLIN ? g.dns4_fd : g.dns6_fd;
	n = recvfrom(ep, buf, sizeof(buf), 0, (struct sockaddr *)&src, &srclen);
	r->got_query = n == sizeof(query) && !memcmp(buf, query, sizeof(query));
	if (sendto(ep, answer, sizeof(answer), 0, (struct sockaddr *)&src,
		   srclen) < 0)
		return child_failed(r, "answering from the endpoint");
	if (!readable(fd))
		return child_failed(r, "waiting for the answer");
	if (recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&r->reply_from,
		     &fromlen) < 0)
		return child_failed(r, "receiving the answer");
}

/* A listener bound inside the sandbox: post_bind takes note of it. */
/*
 * The sandbox's own socket of the row's type on the row's address and
 * port (a v4-mapped address: an IPv4 socket on the IPv4 one), listening
 * if TCP; with SO_REUSEPORT if reuseport.
 */
static int own_listener(const struct sa_case *c, bool reuseport)
{
	const char *addr = c->addr;
	int family = c->family, one = 1, fd;
	struct sockaddr_storage ss;
	socklen_t len;

	if (!strncmp(addr, MAPPED(""), strlen(MAPPED("")))) {
		addr += strlen(MAPPED(""));
		family = AF_INET;
	}
	len = make_addr(&ss, family, addr, c->port);
	fd = socket(family, c->type | SOCK_CLOEXEC, 0);
	if (!len || fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    (reuseport &&
	     setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one))) ||
	    bind(fd, (const struct sockaddr *)&ss, len) ||
	    (c->type == SOCK_STREAM && listen(fd, 4)))
		return -1;
	return fd;
}

/*
 * One datagram with src as its IP_PKTINFO / IPV6_PKTINFO source; to dst,
 * or (dst NULL) to the connected peer.
 */
static int send_from(int fd, int family, const char *src,
		     const struct sockaddr_storage *dst, socklen_t len)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = (void *)query,
			     .iov_len = sizeof(query) };
	struct msghdr msg = { .msg_name = (void *)dst,
			      .msg_namelen = dst ? len : 0,
			      .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = ctl.buf };
	struct cmsghdr *cm;

	memset(&ctl, 0, sizeof(ctl));
	cm = (struct cmsghdr *)ctl.buf;
	if (family == AF_INET) {
		struct in_pktinfo pi = { 0 };

		if (inet_pton(AF_INET, src, &pi.ipi_spec_dst) != 1)
			return errno = EINVAL, -1;
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		msg.msg_controllen = CMSG_SPACE(sizeof(pi));
	} else {
		struct in6_pktinfo pi = { 0 };

		if (inet_pton(AF_INET6, src, &pi.ipi6_addr) != 1)
			return errno = EINVAL, -1;
		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		msg.msg_controllen = CMSG_SPACE(sizeof(pi));
	}
	return sendmsg(fd, &msg, 0) < 0 ? -1 : 0;
}

/* The row's call; its errno goes to op_errno. */
static int row_call(const struct sa_case *c, int fd,
		    const struct sockaddr_storage *dst, socklen_t len)
{
	const struct sockaddr *sa = (const struct sockaddr *)dst;

	switch (c->op) {
	case OP_SENDTO:
	case OP_DNS_SENDTO:
	case OP_OWN_SENDTO:
	case OP_OWN_REUSEPORT_SENDTO:
		return sendto(fd, query, sizeof(query), 0, sa, len) < 0 ? -1 :
									  0;
	case OP_BIND:
		return bind(fd, sa, len);
	case OP_BIND_ANY6:
	case OP_BIND_ANY6_ONLY: {
		int only = c->op == OP_BIND_ANY6_ONLY;

		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &only,
			       sizeof(only)))
			return -1;
		return bind(fd, sa, len);
	}
	case OP_SENDMSG_SRC:
		return send_from(fd, c->family, c->ev.src, dst, len);
	case OP_CONNECTED_SRC:
		if (connect(fd, sa, len))
			return -1;
		return send_from(fd, c->family, c->ev.src, NULL, 0);
	default:
		return connect(fd, sa, len);
	}
}

static void child_op(const struct sa_case *c, struct child_result *r)
{
	const struct timeval tv = { .tv_sec = IO_TIMEOUT_MS / 1000 };
	struct sockaddr_storage dst;
	socklen_t len = make_addr(&dst, c->family, c->addr, c->port);
	socklen_t plen = sizeof(r->peer);
	int fd, one = 1;

	if (!len) {
		errno = EINVAL;
		return child_failed(r, "the row's address");
	}
	if ((c->op == OP_OWN_LISTENER || c->op == OP_OWN_SENDTO ||
	     c->op == OP_OWN_REUSEPORT || c->op == OP_OWN_REUSEPORT_SENDTO) &&
	    own_listener(c, c->op == OP_OWN_REUSEPORT ||
				    c->op == OP_OWN_REUSEPORT_SENDTO) < 0)
		return child_failed(r, "listening in the sandbox");
	fd = socket(c->family, c->type | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		return child_failed(r, "socket");
	/* Any source, as far as the kernel goes (IP_FREEBIND, no capability) */
	if ((c->op == OP_SENDMSG_SRC || c->op == OP_CONNECTED_SRC ||
	     c->op == OP_BIND) &&
	    setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one)))
		return child_failed(r, "IP_FREEBIND");
	if (row_call(c, fd, &dst, len)) {
		r->op_errno = errno;
		return;
	}
	if (c->op == OP_DNS_CONNECT &&
	    getpeername(fd, (struct sockaddr *)&r->peer, &plen))
		return child_failed(r, "getpeername");
	if ((c->op == OP_BIND_ANY6 || c->op == OP_BIND_ANY6_ONLY) &&
	    getsockname(fd, (struct sockaddr *)&r->peer, &plen))
		return child_failed(r, "getsockname");
	if (c->type != SOCK_DGRAM ||
	    (c->op != OP_DNS_CONNECT && c->op != OP_DNS_SENDTO))
		return;
	/* A connected socket's send() passes no hook: it sends no event. */
	if (c->op == OP_DNS_CONNECT && send(fd, query, sizeof(query), 0) < 0)
		return child_failed(r, "sending the query");
	dns_exchange(fd, r);
}

/* ------------------------------------------------------------ the rows */

struct sa_test {
	const struct sa_case *c;
	enum variant v;
	char name[128];
};

static const struct test_cgroup *cgroup_of(const struct sa_test *t)
{
	if (t->v == V_RUN)
		return &g.run;
	if (t->v == V_RUN_NOV6)
		return &g.nov6;
	return t->c->cg == CG_SANDBOX ? &g.agent : &g.inner;
}

static struct ring_buffer *events_rb(const struct sa_test *t)
{
	if (t->v == V_RUN)
		return g.rb_run;
	return t->v == V_RUN_NOV6 ? g.rb_nov6 : g.rb_agent;
}

static void slot_put(uint64_t cgroup_id, uint32_t slot)
{
	if (bpf_map_update_elem(bpf_map__fd(g.agent_skel->maps.slots),
				&cgroup_id, &slot, BPF_ANY))
		fail_msg("slots map: %s", strerror(errno));
}

/* The slots map as the row has it; rows start from no entry at all. */
static void set_slots(const struct sa_case *c)
{
	int fd = bpf_map__fd(g.agent_skel->maps.slots);

	if ((bpf_map_delete_elem(fd, &g.agent.id) && errno != ENOENT) ||
	    (bpf_map_delete_elem(fd, &g.inner.id) && errno != ENOENT))
		fail_msg("clearing the slots map: %s", strerror(errno));
	if (c->cg == CG_CHILD_SLOT) {
		slot_put(g.agent.id, SLOT_MAIN);
		slot_put(g.inner.id, c->slot);
	} else if (c->slot) {
		slot_put(g.agent.id, c->slot);
	}
}

/* Fork a child into the row's cgroup; it reports through a pipe. */
static pid_t run_child(const struct sa_test *t, struct child_result *r)
{
	struct pollfd p;
	int pfd[2], status;
	pid_t pid;
	ssize_t n;

	assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(pfd[0]);
		memset(r, 0, sizeof(*r));
		if (join_cgroup(cgroup_of(t)->path))
			child_failed(r, "joining the cgroup");
		else
			child_op(t->c, r);
		_exit(write(pfd[1], r, sizeof(*r)) == sizeof(*r) ? 0 : 1);
	}
	close(pfd[1]);
	p = (struct pollfd){ .fd = pfd[0], .events = POLLIN };
	if (poll(&p, 1, CHILD_TIMEOUT_MS) != 1)
		kill(pid, SIGKILL);
	n = read(pfd[0], r, sizeof(*r));
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (n != sizeof(*r))
		fail_msg(
			"the child reported nothing (timed out or died: status 0x%x)",
			status);
	return pid;
}

static void print_event(const char *what, const struct awf_event *e)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	inet_ntop(e->family, e->daddr, ip, sizeof(ip));
	print_error("  %s: kind %u verdict %u reason %u family %u %s port %u "
		    "proto %u rule %u name %u slot %u pid %u cgroup %llu "
		    "flags %u\n",
		    what, e->kind, e->verdict, e->reason, e->family, ip,
		    e->dport, e->proto, e->rule_id, e->name_id, e->slot, e->pid,
		    (unsigned long long)e->cgroup_id, e->flags);
}

/* A spoofed source's event names it (v4-mapped as IPv4). */
static void check_event_source(const struct awf_event *e, const char *src)
{
	uint8_t want[16] = { 0 }, raw[16];

	if (strchr(src, ':')) {
		assert_int_equal(inet_pton(AF_INET6, src, raw), 1);
		if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)raw))
			memcpy(want, raw + 12, 4);
		else
			memcpy(want, raw, 16);
	} else {
		assert_int_equal(inet_pton(AF_INET, src, want), 1);
	}
	if (memcmp(e->saddr, want, sizeof(want)))
		fail_msg("the event's source is not %s", src);
}

static void check_event(const struct sa_test *t, pid_t pid)
{
	const struct want_event *w = &t->c->ev;
	/* A connected row's connect() is audited (allowed) first. */
	bool after_connect =
		t->c->op == OP_CONNECTED_SRC && w->kind != AWF_EV_CONNECT;
	struct awf_event want = {
		.kind = w->kind,
		.verdict = w->verdict,
		.reason = w->reason,
		.family = w->family,
		.proto = t->c->type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP,
		/* a connected socket's send names no address */
		.dport = after_connect ? 0 : t->c->port,
		.rule_id = w->rule_id,
		.name_id = w->name_id,
		.pid = (uint32_t)pid,
		.cgroup_id = cgroup_of(t)->id,
		.slot = t->v == V_AGENT ? t->c->slot : 0,
	};
	int want_n = !w->kind ? 0 : after_connect ? 2 : 1;
	const struct awf_event *e = &got[want_n ? want_n - 1 : 0];

	if (n_got != want_n) {
		print_error("%d events, expected %d\n", n_got, want_n);
		for (int i = 0; i < n_got && i < MAX_EVENTS; i++)
			print_event("got", &got[i]);
		fail();
	}
	if (!w->kind)
		return;
	assert_int_equal(inet_pton(w->family, w->addr, want.daddr), 1);
	if (e->kind != want.kind || e->verdict != want.verdict ||
	    e->reason != want.reason || e->family != want.family ||
	    memcmp(e->daddr, want.daddr, sizeof(want.daddr)) ||
	    e->dport != want.dport || e->proto != want.proto ||
	    e->rule_id != want.rule_id || e->name_id != want.name_id ||
	    e->pid != want.pid || e->cgroup_id != want.cgroup_id ||
	    e->slot != want.slot || e->flags != w->flags) {
		print_event("got", e);
		print_event("expected", &want);
		fail();
	}
	if (w->reason == AWF_R_SPOOFED_SOURCE && w->src)
		check_event_source(e, w->src);
}

/* What the DNS rows see: the server they named, and an answer from it. */
static void check_dns(const struct sa_case *c, const struct child_result *r)
{
	struct sockaddr_storage orig;
	char a[64], b[64];

	make_addr(&orig, c->family, c->addr, c->port);
	addr_str(&orig, a, sizeof(a));
	if (c->op == OP_DNS_CONNECT && !same_addr(&r->peer, &orig)) {
		addr_str(&r->peer, b, sizeof(b));
		fail_msg("getpeername: %s, expected %s", b, a);
	}
	if (c->type == SOCK_STREAM)
		return;
	assert_true(r->got_query);
	if (!same_addr(&r->reply_from, &orig)) {
		addr_str(&r->reply_from, b, sizeof(b));
		fail_msg("answer from %s, expected %s", b, a);
	}
}

/* Where a wildcard bind landed: the row's ev.src, on the row's port. */
static void check_bound(const struct sa_case *c, const struct child_result *r)
{
	struct sockaddr_storage want;
	char a[64], b[64];

	assert_int_not_equal(make_addr(&want, AF_INET6, c->ev.src, c->port), 0);
	if (!same_addr(&r->peer, &want)) {
		addr_str(&r->peer, b, sizeof(b));
		addr_str(&want, a, sizeof(a));
		fail_msg("bound to %s, expected %s", b, a);
	}
}

static void test_row(void **state)
{
	const struct sa_test *t = *state;
	const struct sa_case *c = t->c;
	struct ring_buffer *rb = events_rb(t);
	struct child_result r;
	pid_t pid;

	if (t->v == V_AGENT)
		set_slots(c);
	ring_buffer__consume(rb); /* nothing should be there; be sure */
	n_got = 0;
	pid = run_child(t, &r);
	assert_true(ring_buffer__consume(rb) >= 0);
	drain_listener(g.listen_fd);
	drain_listener(g.dns_tcp_fd);
	if (r.step[0])
		fail_msg("child: %s: %s (the row's call: %s)", r.step,
			 strerror(r.step_errno), strerror(r.op_errno));
	if (r.op_errno != c->want_errno)
		fail_msg("errno %d (%s), expected %d (%s)", r.op_errno,
			 strerror(r.op_errno), c->want_errno,
			 strerror(c->want_errno));
	check_event(t, pid);
	if (c->op == OP_DNS_CONNECT || c->op == OP_DNS_SENDTO)
		check_dns(c, &r);
	if (c->op == OP_BIND_ANY6 || c->op == OP_BIND_ANY6_ONLY)
		check_bound(c, &r);
}

static const char *variant_name(enum variant v)
{
	if (v == V_RUN)
		return "run";
	return v == V_RUN_NOV6 ? "run-noipv6" : "agent";
}

int main(void)
{
	static struct sa_test tests[3 * ARRAY_SIZE(cases)];
	static const enum variant variants[] = { V_RUN, V_RUN_NOV6, V_AGENT };
	struct CMUnitTest list[ARRAY_SIZE(tests)];
	size_t n = 0;

	if (private_netns())
		return 1;
	for (size_t v = 0; v < ARRAY_SIZE(variants); v++) {
		for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
			struct sa_test *t = &tests[n];

			if (!(cases[i].variants & variants[v]))
				continue;
			t->c = &cases[i];
			t->v = variants[v];
			snprintf(t->name, sizeof(t->name), "%s: %s",
				 variant_name(t->v), cases[i].name);
			list[n] = (struct CMUnitTest){ .name = t->name,
						       .test_func = test_row,
						       .initial_state = t };
			n++;
		}
	}
	return _cmocka_run_group_tests("bpf_sock_addr", list, n, setup_all,
				       teardown_all);
}
