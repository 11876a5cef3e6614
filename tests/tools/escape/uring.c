// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * uring.c - io_uring escape attempts for the awf-bpf escape battery.
 *
 *   uring connect ADDR PORT      IORING_OP_CONNECT of a TCP socket, inline
 *                                and forced to an io-wq worker (IOSQE_ASYNC)
 *   uring sendmsg ADDR PORT      IORING_OP_SENDMSG of an unconnected UDP socket
 *   uring socket FAMILY TYPE PROTO   IORING_OP_SOCKET (numbers)
 *
 * Raw syscalls, no liburing. One line per step, as sock.py prints them:
 *   <step> ok [detail] | <step> err <ERRNO> <ms>
 * io_uring_setup refused (seccomp, io_uring_disabled) is "setup err EPERM".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct ring {
	int fd;
	unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
};

static long t0_ms;

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void step_err(const char *step, int err)
{
	const char *name = strerrorname_np(err);

	printf("%s err %s %ld\n", step, name ? name : "E?", now_ms() - t0_ms);
	fflush(stdout);
}

static void step_ok(const char *step, const char *detail)
{
	printf("%s ok%s%s\n", step, detail ? " " : "", detail ? detail : "");
	fflush(stdout);
}

static int ring_setup(struct ring *r)
{
	struct io_uring_params p;
	size_t sq_len, cq_len;
	uint8_t *sq, *cq;

	memset(&p, 0, sizeof(p));
	t0_ms = now_ms();
	r->fd = (int)syscall(__NR_io_uring_setup, 4, &p);
	if (r->fd < 0) {
		step_err("setup", errno);
		return -1;
	}
	step_ok("setup", NULL);
	sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (p.features & IORING_FEAT_SINGLE_MMAP) {
		if (cq_len > sq_len)
			sq_len = cq_len;
		cq_len = sq_len;
	}
	sq = mmap(NULL, sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		  r->fd, IORING_OFF_SQ_RING);
	if (sq == MAP_FAILED)
		return step_err("mmap", errno), -1;
	cq = (p.features & IORING_FEAT_SINGLE_MMAP) ?
		     sq :
		     mmap(NULL, cq_len, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_CQ_RING);
	if (cq == MAP_FAILED)
		return step_err("mmap", errno), -1;
	r->sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe),
		       PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd,
		       IORING_OFF_SQES);
	if (r->sqes == MAP_FAILED)
		return step_err("mmap", errno), -1;
	r->sq_tail = (unsigned *)(sq + p.sq_off.tail);
	r->sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
	r->sq_array = (unsigned *)(sq + p.sq_off.array);
	r->cq_head = (unsigned *)(cq + p.cq_off.head);
	r->cq_tail = (unsigned *)(cq + p.cq_off.tail);
	r->cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
	r->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	return 0;
}

/* Submit one prepared SQE, wait for its completion: the CQE's res. */
static int ring_run(struct ring *r, const struct io_uring_sqe *sqe, int *res)
{
	unsigned tail = *r->sq_tail, idx = tail & *r->sq_mask, head;

	r->sqes[idx] = *sqe;
	r->sq_array[idx] = idx;
	__atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
	if (syscall(__NR_io_uring_enter, r->fd, 1, 1, IORING_ENTER_GETEVENTS,
		    NULL, 0) < 0)
		return -errno;
	head = *r->cq_head;
	if (head == __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE))
		return -EAGAIN;
	*res = r->cqes[head & *r->cq_mask].res;
	__atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
	return 0;
}

static void report(const char *step, int rc, int res, const char *okdetail)
{
	if (rc < 0)
		step_err(step, -rc);
	else if (res < 0)
		step_err(step, -res);
	else
		step_ok(step, okdetail);
}

static int parse_addr(const char *addr, const char *port,
		      struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)atoi(port));
		*len = sizeof(*in4);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)atoi(port));
		*len = sizeof(*in6);
		return AF_INET6;
	}
	return -1;
}

static int do_connect(struct ring *r, const char *addr, const char *port)
{
	static const struct {
		const char *step;
		uint8_t flags;
	} ways[] = { { "connect", 0 }, { "connect-async", IOSQE_ASYNC } };
	struct sockaddr_storage ss;
	socklen_t len;
	int family = parse_addr(addr, port, &ss, &len);

	if (family < 0)
		return 2;
	for (size_t i = 0; i < sizeof(ways) / sizeof(ways[0]); i++) {
		struct io_uring_sqe sqe;
		int s = socket(family, SOCK_STREAM, 0), res = 0, rc;

		if (s < 0)
			return step_err("socket", errno), 0;
		memset(&sqe, 0, sizeof(sqe));
		sqe.opcode = IORING_OP_CONNECT;
		sqe.flags = ways[i].flags;
		sqe.fd = s;
		sqe.addr = (uint64_t)(uintptr_t)&ss;
		sqe.off = len;
		t0_ms = now_ms();
		rc = ring_run(r, &sqe, &res);
		report(ways[i].step, rc, res, "CONNECTED");
		close(s);
	}
	return 0;
}

static int do_sendmsg(struct ring *r, const char *addr, const char *port)
{
	static const struct {
		const char *step;
		uint8_t flags;
	} ways[] = { { "sendmsg", 0 }, { "sendmsg-async", IOSQE_ASYNC } };
	struct sockaddr_storage ss;
	socklen_t len;
	int family = parse_addr(addr, port, &ss, &len);
	char data[] = "escape via io_uring";

	if (family < 0)
		return 2;
	for (size_t i = 0; i < sizeof(ways) / sizeof(ways[0]); i++) {
		struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) - 1 };
		struct msghdr msg = { .msg_name = &ss, .msg_namelen = len,
				      .msg_iov = &iov, .msg_iovlen = 1 };
		struct io_uring_sqe sqe;
		int s = socket(family, SOCK_DGRAM, 0), res = 0, rc;

		if (s < 0)
			return step_err("socket", errno), 0;
		memset(&sqe, 0, sizeof(sqe));
		sqe.opcode = IORING_OP_SENDMSG;
		sqe.flags = ways[i].flags;
		sqe.fd = s;
		sqe.addr = (uint64_t)(uintptr_t)&msg;
		sqe.len = 1;
		t0_ms = now_ms();
		rc = ring_run(r, &sqe, &res);
		report(ways[i].step, rc, res, "SENT");
		close(s);
	}
	return 0;
}

static int do_socket(struct ring *r, int family, int type, int proto)
{
	struct io_uring_sqe sqe;
	int res = 0, rc;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = IORING_OP_SOCKET;
	sqe.fd = family;
	sqe.off = (uint64_t)type;
	sqe.len = (uint32_t)proto;
	t0_ms = now_ms();
	rc = ring_run(r, &sqe, &res);
	report("socket-op", rc, res, "CREATED");
	if (rc == 0 && res >= 0)
		close(res);
	return 0;
}

int main(int argc, char **argv)
{
	struct ring r;

	if (argc < 2) {
		fprintf(stderr, "usage: uring connect|sendmsg ADDR PORT | socket FAMILY TYPE PROTO\n");
		return 2;
	}
	if (ring_setup(&r) < 0)
		return 0;
	if (!strcmp(argv[1], "connect") && argc == 4)
		return do_connect(&r, argv[2], argv[3]);
	if (!strcmp(argv[1], "sendmsg") && argc == 4)
		return do_sendmsg(&r, argv[2], argv[3]);
	if (!strcmp(argv[1], "socket") && argc == 5)
		return do_socket(&r, atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
	fprintf(stderr, "uring: bad arguments\n");
	return 2;
}
