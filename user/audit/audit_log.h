/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * audit_log.h - --audit-log FILE: one JSON object per line, appended and
 * flushed line by line, every line valid under docs/audit.schema.json
 * ("schema": AUDIT_SCHEMA_VERSION). Kinds: the kernel's connect, sendmsg,
 * socket, packet and bind events, and tls, http and payload (the first
 * bytes of a connection whose name is checked); the DNS filter's dns
 * decisions; start and end of a run; lost, when the ring buffer
 * overflowed.
 */
#ifndef AWF_AUDIT_LOG_H
#define AWF_AUDIT_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "awf.h"

#define AUDIT_SCHEMA_VERSION 1

struct dns_decision;
struct event_view;

struct audit_log {
	FILE *f;
	const char *sandbox;
};

struct audit_start {
	pid_t awf_pid;
	pid_t pid; /* the sandbox's first process */
	uid_t uid;
	const char *user;
	char *const *argv;
	uint64_t cgroup_id;
};

int audit_log_open(struct audit_log *a, const char *path, const char *sandbox,
		   char *err, size_t errlen);
void audit_log_close(struct audit_log *a);

/* A kernel event; a name event's record has its name (\DDD escaped). */
void audit_log_event(struct audit_log *a, const struct event_view *v);
void audit_log_dns(struct audit_log *a, const struct dns_decision *d);
void audit_log_lost(struct audit_log *a, uint64_t count, uint64_t total);
void audit_log_start(struct audit_log *a, const struct audit_start *st);
/* status: the exit status awf-bpf returns; -1 when the command never ran. */
void audit_log_end(struct audit_log *a, int status, const uint64_t *counters,
		   uint64_t lost);

/* ISO 8601 UTC to the millisecond, from CLOCK_MONOTONIC or CLOCK_REALTIME. */
void audit_mono_time(uint64_t mono_ns, char *buf, size_t len);
void audit_real_time(uint64_t real_ns, char *buf, size_t len);

#endif /* AWF_AUDIT_LOG_H */
