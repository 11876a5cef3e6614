// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/log.h"

enum log_level log_threshold = LOG_LVL_INFO;

int log_level_parse(const char *name)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };

	for (unsigned int i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return (int)i;
	return -1;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (level < log_threshold)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One write per line so concurrent writers never interleave mid-line. */
	fprintf(stderr, "awf-bpf: %s\n", line);
}

bool log_limit_take(struct log_limit *l, uint64_t now_ns, uint64_t *held)
{
	*held = 0;
	if (!l->shown || now_ns - l->start_ns >= LOG_WINDOW_NS) {
		*held = l->held;
		l->start_ns = now_ns;
		l->shown = 0;
		l->held = 0;
	}
	if (l->shown < LOG_BURST) {
		l->shown++;
		return true;
	}
	l->held++;
	return false;
}

uint64_t log_limit_flush(struct log_limit *l)
{
	uint64_t held = l->held;

	l->held = 0;
	return held;
}

uint64_t log_now_ns(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail with a valid pointer */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}
