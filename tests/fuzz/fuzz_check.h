/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * fuzz_check.h - a harness's invariant: abort (libFuzzer keeps the input)
 * with the file, line and condition that failed.
 */
#ifndef AWF_FUZZ_CHECK_H
#define AWF_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                      \
	do {                                                             \
		if (!(cond)) {                                           \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", \
				__FILE__, __LINE__, #cond);              \
			abort();                                         \
		}                                                        \
	} while (0)

#endif /* AWF_FUZZ_CHECK_H */
