// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * connect_bench.c - the cost of one connection as a program sees it, for
 * bench/run.sh: the same loop of socket()/connect()/close() with and without
 * awf-bpf (or an iptables chain, or an nftables set) in the way.
 *
 *   connect_bench serve ADDR PORT [LIFETIME_S [CPU]]
 *       TCP listener that accepts and closes, and a UDP socket that drains,
 *       both on ADDR:PORT (IPv4); exits by itself after LIFETIME_S (600).
 *   connect_bench client [-c CPU] [-n MAX_OPS] [-t SECONDS] SPEC...
 *       For each SPEC (tcp:, udp: or hello:ADDR:PORT): up to MAX_OPS
 *       operations (20000) or SECONDS (1.0), whichever ends first, after a
 *       short warm-up; prints "SPEC OPS NS_PER_OP FAILED ERRNO".
 *   connect_bench driven [-c CPU] [-l LIFETIME_S]
 *       The same, one batch per line read from stdin:
 *         run SPEC MAX_OPS SECONDS  ->  SPEC OPS NS_PER_OP FAILED ERRNO
 *       until EOF, "quit" or LIFETIME_S (600). bench/connect_driver.py keeps
 *       one of these per filter and alternates batches between them.
 *   -c / CPU pin the process to one CPU (client and server apart: steadier).
 *
 * One operation:
 *   tcp: socket, SO_LINGER {1, 0}, connect (blocking: the whole handshake),
 *        close (a RST, so that no TIME_WAIT piles up on either side);
 *   udp: socket, connect, send 1 byte, close;
 *   hello: as tcp, with a 517-byte TLS ClientHello naming allowed.test
 *        sent before the close (what the kernel's name check reads).
 * So every hook of a connection runs once per operation: sock_create,
 * connect4, the egress backstop for each packet (and, in the agent,
 * sock_release; `run` has none since 2026-12-07). FAILED
 * counts operations that failed (a filter that denies what it should
 * allow), ERRNO is the first one's errno.
 *
 * Build: make bench-tools (build/bench/connect_bench; _GNU_SOURCE from
 * there). Not a test: `make test` never runs it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int parse_addr(struct sockaddr_in *sa, const char *addr,
		      const char *port)
{
	char *end;
	long p = strtol(port, &end, 10);

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (*end || p < 1 || p > 65535 ||
	    inet_pton(AF_INET, addr, &sa->sin_addr) != 1)
		return -1;
	sa->sin_port = htons((unsigned short)p);
	return 0;
}

static void pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		fprintf(stderr, "connect_bench: CPU %d: %s (not pinned)\n", cpu,
			strerror(errno));
}

/* ---------------------------------------------------------------- server */

static void *tcp_server(void *arg)
{
	int ls = *(int *)arg;

	for (;;) {
		int s = accept4(ls, NULL, NULL, SOCK_CLOEXEC);

		if (s >= 0)
			close(s);
		else if (errno != EINTR && errno != ECONNABORTED)
			usleep(1000);
	}
	return NULL;
}

static void *udp_server(void *arg)
{
	int us = *(int *)arg;
	char buf[2048];

	for (;;)
		if (recv(us, buf, sizeof(buf), 0) < 0 && errno != EINTR)
			usleep(1000);
	return NULL;
}

static int serve(const char *addr, const char *port, unsigned int lifetime,
		 int cpu)
{
	struct sockaddr_in sa;
	pthread_t t1, t2;
	int one = 1, ls, us;

	if (parse_addr(&sa, addr, port) < 0) {
		fprintf(stderr, "connect_bench: bad address %s:%s\n", addr,
			port);
		return 2;
	}
	pin(cpu);
	ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	us = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (ls < 0 || us < 0 ||
	    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(ls, 4096) < 0 ||
	    bind(us, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "connect_bench: serve %s:%s: %s\n", addr, port,
			strerror(errno));
		return 1;
	}
	if (pthread_create(&t1, NULL, tcp_server, &ls) ||
	    pthread_create(&t2, NULL, udp_server, &us))
		return 1;
	printf("ready\n");
	fflush(stdout);
	sleep(lifetime); /* bounded: the benchmark kills it sooner */
	return 0;
}

/* ---------------------------------------------------------------- client */

/* socket, connect, then len bytes of data if any, close (a RST) */
static int tcp_session(const struct sockaddr_in *sa, const void *data,
		       size_t len)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), rc;

	if (s < 0)
		return -1;
	setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	rc = connect(s, (const struct sockaddr *)sa, sizeof(*sa));
	if (!rc && len && send(s, data, len, MSG_NOSIGNAL) != (ssize_t)len)
		rc = -1;
	close(s);
	return rc;
}

static int op_tcp(const struct sockaddr_in *sa)
{
	return tcp_session(sa, NULL, 0);
}

static int op_udp(const struct sockaddr_in *sa)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc;

	if (s < 0)
		return -1;
	rc = connect(s, (const struct sockaddr *)sa, sizeof(*sa));
	if (!rc && send(s, "x", 1, 0) != 1)
		rc = -1;
	close(s);
	return rc;
}

/*
 * A TLS 1.3 ClientHello naming allowed.test, padded to 517 bytes as
 * browsers pad theirs: what the kernel's name check reads.
 */
#define HELLO_LEN 517
#define HELLO_SNI "allowed.test"

static unsigned char hello[HELLO_LEN];

static void put_be16(unsigned char *at, size_t v)
{
	at[0] = v >> 8;
	at[1] = v & 0xff;
}

static void build_hello(void)
{
	const size_t sni = strlen(HELLO_SNI);
	size_t n = 0, exts;

	memcpy(hello, "\x16\x03\x01", 3); /* handshake record */
	put_be16(hello + 3, HELLO_LEN - 5);
	hello[5] = 1; /* ClientHello, 3-byte length */
	hello[6] = 0;
	put_be16(hello + 7, HELLO_LEN - 9);
	put_be16(hello + 9, 0x0303);
	memset(hello + 11, 0x5a, 32); /* random */
	hello[43] = 0;		      /* no session id */
	put_be16(hello + 44, 2);
	put_be16(hello + 46, 0x1301);
	hello[48] = 1;
	hello[49] = 0; /* no compression */
	exts = 50;
	n = exts + 2;
	put_be16(hello + n, 0); /* server_name */
	put_be16(hello + n + 2, sni + 5);
	put_be16(hello + n + 4, sni + 3);
	hello[n + 6] = 0;
	put_be16(hello + n + 7, sni);
	memcpy(hello + n + 9, HELLO_SNI, sni);
	n += 9 + sni;
	put_be16(hello + n, 0x0015); /* padding up to HELLO_LEN */
	put_be16(hello + n + 2, HELLO_LEN - n - 4);
	put_be16(hello + exts, HELLO_LEN - exts - 2);
}

/* tcp, then the first bytes a TLS client sends: the ClientHello. */
static int op_hello(const struct sockaddr_in *sa)
{
	return tcp_session(sa, hello, sizeof(hello));
}

static int (*op_of(const char *proto))(const struct sockaddr_in *)
{
	if (strcmp(proto, "tcp") == 0)
		return op_tcp;
	if (strcmp(proto, "udp") == 0)
		return op_udp;
	if (strcmp(proto, "hello") == 0)
		return op_hello;
	return NULL;
}

/*
 * Up to max_ops operations or seconds; prints the result line unless it is
 * a warm-up. Returns the number of failed operations, or -1 for a bad spec.
 */
static long batch(const char *spec, long max_ops, double seconds, int warmup)
{
	char buf[128], *proto, *addr, *port;
	int (*op)(const struct sockaddr_in *);
	long n = 0, failed = 0;
	int first_errno = 0;
	struct sockaddr_in sa;
	double t0, t1, end;

	snprintf(buf, sizeof(buf), "%s", spec);
	proto = strtok(buf, ":");
	addr = strtok(NULL, ":");
	port = strtok(NULL, ":");
	op = proto ? op_of(proto) : NULL;
	if (!op || !addr || !port || parse_addr(&sa, addr, port) < 0 ||
	    max_ops < 1 || seconds <= 0 || seconds > 60) {
		fprintf(stderr, "connect_bench: bad batch %s %ld %g\n", spec,
			max_ops, seconds);
		return -1;
	}
	t0 = t1 = now_ns();
	end = t0 + seconds * 1e9;
	while (n < max_ops && (n < 1 || t1 < end)) {
		if (op(&sa) < 0 && !failed++)
			first_errno = errno;
		n++;
		t1 = now_ns();
	}
	if (warmup)
		return 0;
	printf("%s %ld %.1f %ld %d\n", spec, n, (t1 - t0) / n, failed,
	       first_errno);
	fflush(stdout);
	return failed;
}

static int client(int argc, char **argv)
{
	long max_ops = 20000;
	double seconds = 1.0;
	int c, rc = 0;

	while ((c = getopt(argc, argv, "c:n:t:")) != -1) {
		switch (c) {
		case 'c':
			pin(atoi(optarg));
			break;
		case 'n':
			max_ops = strtol(optarg, NULL, 10);
			break;
		case 't':
			seconds = strtod(optarg, NULL);
			break;
		default:
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr,
			"usage: connect_bench client [-c CPU] [-n MAX_OPS] [-t SECONDS] SPEC...\n");
		return 2;
	}
	for (int i = optind; i < argc; i++) {
		/* Warm-up: a tenth of the time. */
		batch(argv[i], max_ops / 10 + 1, seconds / 10, 1);
		if (batch(argv[i], max_ops, seconds, 0) != 0)
			rc = 1;
	}
	return rc;
}

static int driven(int argc, char **argv)
{
	char line[256], spec[128];
	unsigned int lifetime = 600;
	double seconds;
	long max_ops;
	int c;

	while ((c = getopt(argc, argv, "c:l:")) != -1) {
		switch (c) {
		case 'c':
			pin(atoi(optarg));
			break;
		case 'l':
			lifetime = (unsigned int)atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	alarm(lifetime); /* bounded even if nobody closes our stdin */
	while (fgets(line, sizeof(line), stdin)) {
		if (strncmp(line, "quit", 4) == 0)
			break;
		if (sscanf(line, "run %127s %ld %lf", spec, &max_ops,
			   &seconds) != 3 ||
		    batch(spec, max_ops, seconds, 0) < 0) {
			printf("error %s", line);
			fflush(stdout);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	build_hello();
	if (argc >= 4 && strcmp(argv[1], "serve") == 0)
		return serve(argv[2], argv[3],
			     argc > 4 ? (unsigned int)atoi(argv[4]) : 600,
			     argc > 5 ? atoi(argv[5]) : -1);
	if (argc >= 2 && strcmp(argv[1], "client") == 0) {
		optind = 2;
		return client(argc, argv);
	}
	if (argc >= 2 && strcmp(argv[1], "driven") == 0) {
		optind = 2;
		return driven(argc, argv);
	}
	fprintf(stderr,
		"usage: connect_bench serve ADDR PORT [LIFETIME_S [CPU]] | client [-c CPU] [-n N] [-t S] SPEC... | driven [-c CPU] [-l LIFETIME_S]\n");
	return 2;
}
