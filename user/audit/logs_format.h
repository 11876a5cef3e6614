/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * logs_format.h - one audit log record (a parsed line, see
 * docs/audit.schema.json) as `awf-bpf logs` shows it: a line for a
 * person, a markdown table row, or a contribution to a summary.
 */
#ifndef AWF_LOGS_FORMAT_H
#define AWF_LOGS_FORMAT_H

#include <stdio.h>
#include <json-c/json.h>

struct summary;

enum logs_format {
	LOGS_PRETTY,
	LOGS_JSON,
	LOGS_MARKDOWN,
};

/* "pretty", "json", "markdown" (and "text" for pretty); -1 otherwise. */
int logs_format_parse(const char *name);

/* The header a format needs before its first record (markdown: yes). */
void logs_print_header(enum logs_format f, FILE *out);
void logs_print_record(enum logs_format f, json_object *rec, FILE *out);

void logs_summarize(struct summary *s, json_object *rec);

/* The sandbox and event kind of a record; "" when absent. */
const char *logs_record_str(json_object *rec, const char *key);
/* A command's argv (JSON array), space-separated, printable ASCII only:
 * the workload's text never reaches a tty raw. */
void logs_put_command(FILE *out, json_object *cmd);

#endif /* AWF_LOGS_FORMAT_H */
