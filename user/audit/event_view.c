// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "audit/audit_codes.h"
#include "audit/event_view.h"

bool event_kind_has_name(unsigned int kind)
{
	return kind == AWF_EV_TLS || kind == AWF_EV_HTTP ||
	       kind == AWF_EV_PAYLOAD;
}

int event_view_parse(struct event_view *v, const void *data, size_t size,
		     char name_buf[AWF_NAME_LEN])
{
	const struct awf_event *e = data;
	const struct awf_name_event *ne = data;

	if (size < sizeof(*e))
		return -1;
	if (!event_kind_has_name(e->kind)) {
		*v = (struct event_view){ .e = e };
		return 0;
	}
	if (size < sizeof(*ne))
		return -1;
	memcpy(name_buf, ne->name, AWF_NAME_LEN);
	name_buf[AWF_NAME_LEN - 1] = '\0';
	*v = (struct event_view){ .e = e, .name = name_buf };
	return 0;
}

static bool name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
	       c == '_' || c == '-';
}

void event_name_clean(const char *name, char out[EVENT_NAME_TEXT_LEN])
{
	size_t i;

	if (!name[0]) {
		snprintf(out, EVENT_NAME_TEXT_LEN, "(none)");
		return;
	}
	for (i = 0; name[i] && i < EVENT_NAME_TEXT_LEN - 1; i++)
		out[i] = name_char((unsigned char)name[i]) ? name[i] : '?';
	out[i] = '\0';
}

void event_name_escape(const char *name, char out[EVENT_NAME_ESC_LEN])
{
	size_t o = 0;

	for (size_t i = 0; name[i] && i < AWF_NAME_LEN - 1; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c > ' ' && c < 0x7f && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, EVENT_NAME_ESC_LEN - o,
					      "\\%03u", c);
	}
	out[o] = '\0';
}

/* "\DDD" at text, DDD at most 255: its value; -1 otherwise. */
static int escaped_byte(const char *text)
{
	int val = 0;

	if (text[0] != '\\')
		return -1;
	for (int i = 1; i <= 3; i++) {
		if (!isdigit((unsigned char)text[i]))
			return -1;
		val = val * 10 + (text[i] - '0');
	}
	return val <= 255 ? val : -1;
}

void event_name_unescape(const char *text, char out[AWF_NAME_LEN])
{
	size_t o = 0;

	while (*text && o < AWF_NAME_LEN - 1) {
		int c = escaped_byte(text);

		if (c > 0) {
			out[o++] = (char)c;
			text += 4;
		} else {
			/* "\000" would end the name: kept as text. */
			out[o++] = *text++;
		}
	}
	out[o] = '\0';
}

void event_comm_clean(const char *comm, char out[EVENT_COMM_TEXT_LEN])
{
	size_t i;

	for (i = 0; comm && comm[i] && i < AWF_COMM_LEN; i++)
		out[i] = isprint((unsigned char)comm[i]) ? comm[i] : '?';
	out[i] = '\0';
}

static const char *name_what(unsigned int kind)
{
	switch (kind) {
	case AWF_EV_TLS:
		return "tls sni";
	case AWF_EV_HTTP:
		return "http host";
	default:
		return NULL;
	}
}

void name_line_what(const struct name_line *l, char *buf, size_t len)
{
	const char *what = name_what(l->kind);
	char name[EVENT_NAME_TEXT_LEN];

	if (what) {
		event_name_clean(l->name, name);
		snprintf(buf, len, "%s %s to %s%s%s:%u", what, name,
			 l->v6 ? "[" : "", l->dst, l->v6 ? "]" : "", l->port);
	} else {
		snprintf(buf, len, "tcp payload to %s%s%s:%u", l->v6 ? "[" : "",
			 l->dst, l->v6 ? "]" : "", l->port);
	}
}

void name_line_format(const struct name_line *l, char *buf, size_t len)
{
	char what[EVENT_NAME_TEXT_LEN + 96], comm[EVENT_COMM_TEXT_LEN];

	name_line_what(l, what, sizeof(what));
	event_comm_clean(l->comm, comm);
	snprintf(buf, len, "%s %s from pid %u (%s): %s",
		 verdict_word(l->verdict), what, l->pid, comm, l->reason);
}
