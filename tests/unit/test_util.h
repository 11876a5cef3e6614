/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * test_util.h - helpers of the cmocka unit tests: one test per table row,
 * named after the row so that a failure says which case broke.
 */
#ifndef AWF_TEST_UTIL_H
#define AWF_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct test_list {
	struct CMUnitTest *t;
	size_t n;
};

static inline void tl_add(struct test_list *l, const char *name,
			  CMUnitTestFunction fn, const void *state)
{
	l->t = realloc(l->t, (l->n + 1) * sizeof(*l->t));
	if (!l->t)
		abort();
	l->t[l->n++] = (struct CMUnitTest){
		.name = name,
		.test_func = fn,
		.initial_state = (void *)state,
	};
}

/* Rows are structs whose first member is the "const char *" naming them. */
static inline void tl_add_rows(struct test_list *l, CMUnitTestFunction fn,
			       const void *rows, size_t row_size, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *row = (const char *)rows + i * row_size;

		tl_add(l, *(const char *const *)row, fn, row);
	}
}

#define TL_ROWS(l, fn, table) \
	tl_add_rows(l, fn, table, sizeof((table)[0]), ARRAY_SIZE(table))

/* fn() in a child process of its own: its exit code, -1 if it did not exit. */
static inline int exit_code_in_child(int (*fn)(void))
{
	pid_t pid = fork();
	int status;

	if (pid == 0)
		_exit(fn());
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static inline int tl_run(const char *group, struct test_list *l)
{
	int failed = _cmocka_run_group_tests(group, l->t, l->n, NULL, NULL);

	free(l->t);
	return failed;
}

/* Errors are one line and name what went wrong. */
static inline void assert_err_has(const char *err, const char *want)
{
	if (!strstr(err, want)) {
		print_error("error \"%s\"\n  lacks \"%s\"\n", err, want);
		fail();
	}
	assert_null(strchr(err, '\n'));
}

/* path receives the name of a new temporary file holding text. */
static inline void write_temp(char path[64], const char *text)
{
	int fd;

	snprintf(path, 64, "/tmp/awf-test-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

#endif /* AWF_TEST_UTIL_H */
