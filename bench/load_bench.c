// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * load_bench.c - where the start-up of a sandbox goes, for bench/run.sh: the
 * awf-bpf skeleton opened, loaded (kernel BTF for CO-RE, maps, verifier)
 * and attached to a scratch cgroup, each step timed; the verifier's own time
 * for every program from its statistics log (BPF_LOG_STATS).
 *
 *   load_bench CGROUP_DIR [ITERATIONS]
 *
 * CGROUP_DIR is an empty cgroup v2 directory owned by the caller; the
 * programs are detached again before the next iteration. Prints lines
 *   ITER step NAME MS
 *   ITER verify PROG MS INSNS
 *
 * Build: make bench-tools (build/bench/load_bench, after the skeleton).
 * Not a test: `make test` never runs it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "awf.h"
#include "awf.skel.h"

#define MAX_PROGS 32
#define LOG_SIZE 65536
#define BPF_LOG_STATS 4

static char logs[MAX_PROGS][LOG_SIZE];

/* As user/kernel/loader.c attaches them: sk_msg to its sockhash. */
static int target_of(const struct awf_bpf *skel, const struct bpf_program *prog,
		     int cg)
{
	if (bpf_program__expected_attach_type(prog) == BPF_SK_MSG_VERDICT)
		return bpf_map__fd(skel->maps.name_socks);
	return cg;
}

static unsigned int flags_of(const struct bpf_program *prog)
{
	return bpf_program__expected_attach_type(prog) == BPF_SK_MSG_VERDICT ?
		       0 :
		       BPF_F_ALLOW_MULTI;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

/* The number after key in the verifier's statistics line, -1 if none. */
static long stat_of(const char *log, const char *key)
{
	const char *at = strstr(log, key);

	return at ? strtol(at + strlen(key), NULL, 10) : -1;
}

static int one_round(int iter, int cg)
{
	struct bpf_program *prog, *progs[MAX_PROGS];
	struct awf_config cfg = { 0 };
	struct awf_bpf *skel;
	int n = 0, rc = -1;
	double t;
	struct btf *vmlinux;

	/* What awf_bpf__load() does first: parse the kernel's BTF. */
	t = now_ms();
	vmlinux = btf__load_vmlinux_btf();
	printf("%d step kernel_btf_parse %.3f\n", iter, now_ms() - t);
	btf__free(vmlinux);

	t = now_ms();
	skel = awf_bpf__open();
	printf("%d step open %.3f\n", iter, now_ms() - t);
	if (!skel) {
		fprintf(stderr, "load_bench: open: %s\n", strerror(errno));
		return -1;
	}
	/* A default policy's settings: sandbox localhost, IPv6 on. */
	cfg.dns_ip4 = htobe32(0x7f000001);
	cfg.dns_ip6[3] = htobe32(1);
	cfg.dns_port = 53000;
	cfg.localhost_mode = AWF_LO_SANDBOX;
	cfg.ipv6_enabled = 1;
	memcpy((void *)&skel->rodata->awf_cfg, &cfg, sizeof(cfg));
	/* Every program, the name check's among them: a policy of domains. */
	skel->rodata->learns = 1;
	bpf_object__for_each_program(prog, skel->obj) {
		if (n == MAX_PROGS)
			break;
		logs[n][0] = '\0';
		bpf_program__set_log_buf(prog, logs[n], LOG_SIZE);
		bpf_program__set_log_level(prog, BPF_LOG_STATS);
		progs[n++] = prog;
	}

	t = now_ms();
	if (awf_bpf__load(skel)) {
		fprintf(stderr, "load_bench: load: %s\n", strerror(errno));
		goto out;
	}
	printf("%d step load %.3f\n", iter, now_ms() - t);
	for (int i = 0; i < n; i++) {
		long us = stat_of(logs[i], "verification time ");
		long insns = stat_of(logs[i], "processed ");

		printf("%d verify %s %.3f %ld\n", iter,
		       bpf_program__name(progs[i]), us / 1e3, insns);
	}

	t = now_ms();
	for (int i = 0; i < n; i++)
		if (bpf_prog_attach(bpf_program__fd(progs[i]),
				    target_of(skel, progs[i], cg),
				    bpf_program__expected_attach_type(progs[i]),
				    flags_of(progs[i]))) {
			fprintf(stderr, "load_bench: attach %s: %s\n",
				bpf_program__name(progs[i]), strerror(errno));
			n = i;
			goto detach;
		}
	printf("%d step attach %.3f\n", iter, now_ms() - t);
	rc = 0;
detach:
	t = now_ms();
	for (int i = 0; i < n; i++)
		bpf_prog_detach2(bpf_program__fd(progs[i]),
				 target_of(skel, progs[i], cg),
				 bpf_program__expected_attach_type(progs[i]));
	if (!rc)
		printf("%d step detach %.3f\n", iter, now_ms() - t);
out:
	t = now_ms();
	awf_bpf__destroy(skel);
	if (!rc)
		printf("%d step destroy %.3f\n", iter, now_ms() - t);
	fflush(stdout);
	return rc;
}

int main(int argc, char **argv)
{
	int iterations = argc > 2 ? atoi(argv[2]) : 10, cg;

	if (argc < 2 || iterations < 1 || iterations > 1000) {
		fprintf(stderr,
			"usage: load_bench CGROUP_DIR [ITERATIONS (1-1000)]\n");
		return 2;
	}
	cg = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0) {
		fprintf(stderr, "load_bench: %s: %s\n", argv[1],
			strerror(errno));
		return 1;
	}
	libbpf_set_print(quiet);
	for (int i = 0; i < iterations; i++)
		if (one_round(i, cg) < 0)
			return 1;
	return 0;
}
