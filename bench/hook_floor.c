// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * hook_floor.c - attach hook_floor.bpf.c's programs to a cgroup and hold
 * them until SIGTERM, for bench/run.sh (progstats): the floor of what a
 * TCP connect's programs cost under kernel.bpf_stats_enabled.
 *
 *   hook_floor CGROUP_DIR
 *
 * Prints "ready" once the three are attached. They are attached by links
 * that this process holds: they go with it, whatever ends it.
 * Build: make bench-tools. Not a test: `make test` never runs it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "hook_floor.skel.h"

static int attach_all(struct hook_floor_bpf *skel, int cg)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, skel->obj) {
		if (!bpf_program__attach_cgroup(prog, cg)) {
			fprintf(stderr, "hook_floor: attaching %s: %s\n",
				bpf_program__name(prog), strerror(errno));
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct hook_floor_bpf *skel;
	sigset_t term;
	int cg, sig;

	if (argc != 2) {
		fprintf(stderr, "usage: hook_floor CGROUP_DIR\n");
		return 2;
	}
	cg = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0) {
		fprintf(stderr, "hook_floor: %s: %s\n", argv[1],
			strerror(errno));
		return 1;
	}
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	if (sigprocmask(SIG_BLOCK, &term, NULL)) {
		fprintf(stderr, "hook_floor: sigprocmask: %s\n",
			strerror(errno));
		return 1;
	}
	skel = hook_floor_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "hook_floor: loading: %s\n", strerror(errno));
		return 1;
	}
	if (attach_all(skel, cg)) {
		hook_floor_bpf__destroy(skel);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	sigwait(&term, &sig);
	hook_floor_bpf__destroy(skel);
	return 0;
}
