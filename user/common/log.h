/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * log.h - awf-bpf's own messages, on stderr, each prefixed "awf-bpf: ".
 * The level is set once from --log-level.
 */
#ifndef AWF_LOG_H
#define AWF_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level {
	LOG_LVL_DEBUG = 0,
	LOG_LVL_INFO = 1,
	LOG_LVL_WARN = 2,
	LOG_LVL_ERROR = 3,
};

extern enum log_level log_threshold;

/* "debug", "info", "warn" or "error"; -1 for anything else. */
int log_level_parse(const char *name);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * A run of similar lines (one per malformed DNS packet, say) must not
 * flood stderr: LOG_BURST of them per LOG_WINDOW_NS are printed, the rest
 * held back and counted, for a "N more" line.
 */
#define LOG_BURST 10
#define LOG_WINDOW_NS 1000000000ULL

struct log_limit {
	uint64_t start_ns; /* of the current window */
	unsigned int shown;
	uint64_t held;
};

/*
 * Whether to print the next line of l at now_ns (CLOCK_MONOTONIC). When a
 * window has passed, *held gets the count held back in it, to be reported
 * before this line; else 0.
 */
bool log_limit_take(struct log_limit *l, uint64_t now_ns, uint64_t *held);
/* The count held back and not reported yet (at exit); resets it. */
uint64_t log_limit_flush(struct log_limit *l);
uint64_t log_now_ns(void);

#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)

#endif /* AWF_LOG_H */
