/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * event_view.h - one kernel event as user space hands it around: the ring
 * buffer's record (struct awf_event; struct awf_name_event for the kinds
 * that carry a name), the name the connection's first bytes carried, and
 * the allowed name its destination was learned from. `run` and the agent
 * read the ring buffer through event_view_parse() alike.
 *
 * A name event's name comes from an untrusted client: event_name_clean()
 * is what a terminal may see of it, event_name_escape() what the audit log
 * holds (printable ASCII, odd bytes as \DDD), event_name_unescape() the
 * bytes again.
 */
#ifndef AWF_EVENT_VIEW_H
#define AWF_EVENT_VIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "awf.h"

struct event_view {
	const struct awf_event *e;
	const char *name; /* name kinds: NUL-terminated, maybe ""; else NULL */
	const char *domain; /* the allowed name behind e->name_id, or NULL */
};

/* AWF_EV_TLS, AWF_EV_HTTP, AWF_EV_PAYLOAD: a struct awf_name_event. */
bool event_kind_has_name(unsigned int kind);

/*
 * A ring buffer record of size bytes as v (v->domain NULL): -1, v
 * untouched, when it is too short for its kind. The name is copied into
 * name_buf, NUL-terminated whatever the record holds.
 */
int event_view_parse(struct event_view *v, const void *data, size_t size,
		     char name_buf[AWF_NAME_LEN]);

/* Room for any line of an event (event_format_line() in events.h too). */
#define EVENT_LINE_LEN 768

/* The buffer sizes of the text forms of a name, comm. */
#define EVENT_NAME_TEXT_LEN AWF_NAME_LEN
#define EVENT_NAME_ESC_LEN (4 * AWF_NAME_LEN)
#define EVENT_COMM_TEXT_LEN (AWF_COMM_LEN + 1)

/* [a-z0-9._-] as is, any other byte '?'; "(none)" for "". */
void event_name_clean(const char *name, char out[EVENT_NAME_TEXT_LEN]);
/* Printable ASCII but '\' as is, any other byte as \DDD (decimal). */
void event_name_escape(const char *name, char out[EVENT_NAME_ESC_LEN]);
/* The bytes of an escaped name, truncated to AWF_NAME_LEN - 1. */
void event_name_unescape(const char *text, char out[AWF_NAME_LEN]);
/* The first AWF_COMM_LEN bytes of comm, printable ASCII, else '?'. */
void event_comm_clean(const char *comm, char out[EVENT_COMM_TEXT_LEN]);

/* A name event's line, from the ring buffer or an audit log record. */
struct name_line {
	unsigned int kind;    /* enum awf_event_kind */
	unsigned int verdict; /* enum awf_verdict */
	const char *name;     /* the raw bytes, "" none */
	const char *dst;      /* the destination's address as text */
	bool v6;
	unsigned int port;
	unsigned int pid;
	const char *comm;   /* raw: cleaned here */
	const char *reason; /* reason_text() */
};

/* "tls sni NAME to ADDR:PORT" ("[ADDR]:PORT" for IPv6). */
void name_line_what(const struct name_line *l, char *buf, size_t len);
/* "denied " what " from pid N (COMM): REASON" */
void name_line_format(const struct name_line *l, char *buf, size_t len);

#endif /* AWF_EVENT_VIEW_H */
