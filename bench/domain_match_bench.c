// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * domain_match_bench.c - lookup cost of the domain matcher against the size
 * of the policy. Not part of `make test`: timings depend on the machine.
 *
 * Build and run from the top of the tree:
 *   make bench-tools
 *   build/bench/domain_match_bench [lookups]
 */
#include "domain_match_gen.h"

#define DEFAULT_LOOKUPS 1000000
#define ROUNDS 5

static double wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 10, 1000, 10000, 100000 };
	size_t lookups = argc > 1 ? strtoul(argv[1], NULL, 10) : 0;
	double base = 0;

	if (!lookups)
		lookups = DEFAULT_LOOKUPS;
	printf("%8s %10s %12s %8s   (%zu lookups, half hits, best of %d)\n",
	       "entries", "setup ms", "ns/lookup", "ratio", lookups, ROUNDS);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct dmg_bench b;
		double t0 = wall_ms(), setup, ns;
		size_t allowed;

		if (dmg_setup(&b, sizes[i]) < 0)
			return 1;
		setup = wall_ms() - t0;
		ns = dmg_time(&b, lookups, ROUNDS, &allowed);
		if (!base)
			base = ns;
		printf("%8zu %10.1f %12.1f %7.2fx   (%zu allowed)\n", sizes[i],
		       setup, ns, ns / base, allowed);
		dmg_teardown(&b);
	}
	return 0;
}
