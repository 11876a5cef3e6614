// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cmd_logs.c - `awf-bpf logs`: read an audit log written by --audit-log.
 *
 *   logs FILE [--format pretty|json|markdown]    every record
 *   logs summary FILE [--format markdown|pretty|json]
 *   logs --follow FILE|SANDBOX [--format pretty|json]
 *
 * There is no default file: awf-bpf writes a log only where --audit-log
 * says. FILE "-" is standard input. --follow prints what the file holds,
 * then what is appended, until the run it is following ends: its "end"
 * record, or its pin directory gone (the run was killed), or SIGINT.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "common/paths.h"
#include "cli/cmd_logs.h"
#include "cli/cli_opts.h"
#include "cli/commands.h"
#include "audit/logs_format.h"
#include "common/error.h"
#include "kernel/pinned.h"
#include "audit/summary.h"

#define FOLLOW_TICK_MS 250
#define MAX_LINE (1 << 20)

const char usage_logs[] =
	"Usage: awf-bpf logs FILE [--format pretty|json|markdown]\n"
	"       awf-bpf logs summary FILE [--format markdown|pretty|json]\n"
	"       awf-bpf logs --follow FILE|SANDBOX [--format pretty|json]\n"
	"\n"
	"Read an audit log written by `run --audit-log FILE` (\"-\": stdin).\n"
	"summary: denials by domain and destination, counters, and the flags\n"
	"that would allow them; markdown (default) is a <details> block for\n"
	"$GITHUB_STEP_SUMMARY. --follow: keep printing what a running sandbox\n"
	"appends until it ends (its \"end\" record, or its pins gone) or\n"
	"SIGINT; SANDBOX (run-<pid>) follows the log that sandbox writes.\n"
	"\n"
	"Exit status: 0; 1 when FILE cannot be read or holds lines that are\n"
	"not JSON objects (reported, skipped); 2 on a usage error.\n";

struct logs_cli {
	bool summary;
	bool follow;
	int format; /* enum logs_format; -1 until given */
	const char *target;
};

struct reader {
	const char *path;
	unsigned long line_no;
	unsigned long bad;
	struct logs_cli *cli;
	struct summary *summary;
	/* --follow: the run being followed and whether it ended */
	char sandbox[AWF_ID_LEN];
	bool ended;
};

static int usage_error(const char *msg)
{
	fprintf(stderr, "awf-bpf: logs: %s (see 'awf-bpf logs --help')\n", msg);
	return EXIT_CMD_USAGE;
}

/* The run a followed log belongs to is the one of its latest record. */
static void track_run(struct reader *r, json_object *rec)
{
	const char *sb = logs_record_str(rec, "sandbox");
	const char *kind = logs_record_str(rec, "event");

	if (!sb[0] || strlen(sb) >= sizeof(r->sandbox))
		return;
	if (strcmp(sb, r->sandbox)) {
		snprintf(r->sandbox, sizeof(r->sandbox), "%s", sb);
		r->ended = false;
	}
	if (!strcmp(kind, "end"))
		r->ended = true;
	else if (!strcmp(kind, "start"))
		r->ended = false;
}

static void handle_line(struct reader *r, const char *line, size_t len)
{
	json_object *rec;

	r->line_no++;
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (!len)
		return;
	rec = json_tokener_parse(line);
	if (!rec || !json_object_is_type(rec, json_type_object)) {
		fprintf(stderr, "awf-bpf: logs: %s:%lu: not a JSON object\n",
			r->path, r->line_no);
		r->bad++;
		json_object_put(rec);
		return;
	}
	if (r->summary)
		logs_summarize(r->summary, rec);
	else
		logs_print_record(r->cli->format, rec, stdout);
	track_run(r, rec);
	json_object_put(rec);
}

static int read_all(struct reader *r, FILE *f)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	while ((n = getline(&line, &cap, f)) >= 0)
		handle_line(r, line, (size_t)n);
	free(line);
	if (ferror(f)) {
		fprintf(stderr, "awf-bpf: logs: %s: %s\n", r->path,
			strerror(errno));
		return -1;
	}
	return 0;
}

static int print_file(struct logs_cli *cli)
{
	struct reader r = { .path = cli->target, .cli = cli };
	FILE *f = strcmp(cli->target, "-") ? fopen(cli->target, "re") : stdin;
	int ret;

	if (!f) {
		fprintf(stderr, "awf-bpf: logs: %s: %s\n", cli->target,
			strerror(errno));
		return EXIT_CMD_NOT_FOUND;
	}
	if (cli->summary) {
		r.summary = summary_new();
		if (!r.summary) {
			fprintf(stderr, "awf-bpf: logs: out of memory\n");
			return EXIT_CMD_NOT_FOUND;
		}
	} else {
		logs_print_header(cli->format, stdout);
	}
	ret = read_all(&r, f);
	if (f != stdin)
		fclose(f);
	if (r.summary) {
		if (cli->format == LOGS_MARKDOWN) {
			summary_print_markdown(r.summary, stdout);
		} else if (cli->format == LOGS_PRETTY) {
			summary_print_text(r.summary, stdout, "");
		} else {
			json_object *o = summary_to_json(r.summary);

			cli_print_json(o);
			json_object_put(o);
		}
		summary_free(r.summary);
	}
	return ret || r.bad ? EXIT_CMD_NOT_FOUND : 0;
}

/* ------------------------------------------------------------- follow */

/* Whole lines of buf are handled; a partial last line waits for more. */
static size_t consume(struct reader *r, char *buf, size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		buf[i] = '\0';
		handle_line(r, buf + start, i - start);
		start = i + 1;
	}
	fflush(stdout);
	memmove(buf, buf + start, len - start);
	return len - start;
}

/*
 * Over when its pins are gone, or left by an awf-bpf that was killed (the
 * next run removes those). Unreadable pins (not root) prove nothing.
 */
static bool run_gone(const struct reader *r)
{
	char dir[PATH_MAX], err[AWF_ERR_LEN];
	struct pinned p;
	bool alive;

	if (!r->sandbox[0])
		return false;
	snprintf(dir, sizeof(dir), AWF_PIN_ROOT "/%s", r->sandbox);
	if (access(dir, F_OK))
		return errno == ENOENT;
	if (pinned_open(&p, r->sandbox, err, sizeof(err)))
		return false;
	alive = !p.has_meta || pinned_alive(&p);
	pinned_close(&p);
	return !alive;
}

static int wait_for_file(const char *path)
{
	int fd;

	while ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno != ENOENT) {
			fprintf(stderr, "awf-bpf: logs: %s: %s\n", path,
				strerror(errno));
			return -1;
		}
		poll(NULL, 0, FOLLOW_TICK_MS);
	}
	return fd;
}

static int watch_file(const char *path)
{
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

	/* Without inotify the tick alone paces the reads. */
	if (fd >= 0 &&
	    inotify_add_watch(fd, path, IN_MODIFY | IN_CLOSE_WRITE) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static void wait_change(int ino)
{
	struct pollfd p = { .fd = ino, .events = POLLIN };
	char evs[4096];

	if (ino < 0) {
		poll(NULL, 0, FOLLOW_TICK_MS);
		return;
	}
	if (poll(&p, 1, FOLLOW_TICK_MS) > 0)
		while (read(ino, evs, sizeof(evs)) > 0)
			;
}

static int follow_fd(struct reader *r, int fd, int ino)
{
	char *buf = malloc(MAX_LINE);
	size_t len = 0;
	bool last_pass = false;

	if (!buf)
		return -1;
	for (;;) {
		ssize_t n = read(fd, buf + len, MAX_LINE - len);

		if (n > 0) {
			len = consume(r, buf, len + (size_t)n);
			if (len == MAX_LINE)
				len = 0; /* a "line" that long is not ours */
			continue;
		}
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "awf-bpf: logs: %s: %s\n", r->path,
				strerror(errno));
			break;
		}
		/* At the end of what is written: is there more to come? */
		if (r->ended || last_pass)
			break;
		if (run_gone(r)) {
			last_pass = true; /* one more read for its last lines */
			continue;
		}
		wait_change(ino);
	}
	free(buf);
	return 0;
}

/* A sandbox id: the audit log its meta names. */
static int resolve_target(struct logs_cli *cli, char *path, size_t len,
			  char *sandbox)
{
	char err[AWF_ERR_LEN] = "";
	struct pinned p;

	if (!pins_valid_id(cli->target) || access(cli->target, F_OK) == 0) {
		snprintf(path, len, "%s", cli->target);
		return 0;
	}
	if (pinned_open(&p, cli->target, err, sizeof(err)) || !p.has_meta) {
		fprintf(stderr, "awf-bpf: logs: %s\n",
			err[0] ? err : "no such sandbox");
		pinned_close(&p);
		return -1;
	}
	pinned_close(&p);
	if (!p.meta.audit_log[0]) {
		fprintf(stderr, "awf-bpf: logs: %s runs without --audit-log\n",
			cli->target);
		return -1;
	}
	snprintf(path, len, "%.*s", (int)sizeof(p.meta.audit_log),
		 p.meta.audit_log);
	snprintf(sandbox, AWF_ID_LEN, "%s", cli->target);
	return 0;
}

static int follow(struct logs_cli *cli)
{
	struct reader r = { .cli = cli };
	char path[PATH_MAX];
	int fd, ino, ret;

	if (resolve_target(cli, path, sizeof(path), r.sandbox))
		return EXIT_CMD_NOT_FOUND;
	r.path = path;
	fd = wait_for_file(path);
	if (fd < 0)
		return EXIT_CMD_NOT_FOUND;
	ino = watch_file(path);
	logs_print_header(cli->format, stdout);
	ret = follow_fd(&r, fd, ino);
	if (ino >= 0)
		close(ino);
	close(fd);
	return ret || r.bad ? EXIT_CMD_NOT_FOUND : 0;
}

/* ---------------------------------------------------------- arguments */

static int parse_args(struct logs_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "follow", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "f:Fh", opts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			cli->format = logs_format_parse(optarg);
			if (cli->format < 0)
				return usage_error(
					"--format: expected pretty, json or markdown");
			break;
		case 'F':
			cli->follow = true;
			break;
		case 'h':
			fputs(usage_logs, stdout);
			exit(0);
		default:
			return usage_error("bad option");
		}
	}
	if (optind < argc && !strcmp(argv[optind], "summary")) {
		cli->summary = true;
		optind++;
	}
	if (argc - optind != 1)
		return usage_error("expected one FILE");
	cli->target = argv[optind];
	if (cli->summary && cli->follow)
		return usage_error("summary reads a whole file: no --follow");
	if (cli->follow && cli->format == LOGS_MARKDOWN)
		return usage_error("--follow prints pretty or json");
	if (cli->follow && !strcmp(cli->target, "-"))
		return usage_error("--follow needs a file");
	if (cli->format < 0)
		cli->format = cli->summary ? LOGS_MARKDOWN : LOGS_PRETTY;
	return 0;
}

int cmd_logs(int argc, char **argv)
{
	struct logs_cli cli = { .format = -1 };
	int ret;

	/* getopt permutes: "logs summary FILE --format x" works too. */
	ret = parse_args(&cli, argc, argv);
	if (ret)
		return ret;
	return cli.follow ? follow(&cli) : print_file(&cli);
}
