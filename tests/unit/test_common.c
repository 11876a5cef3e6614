// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Unit tests of common/: the error writer and the growable array. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/array.h"
#include "common/error.h"
#include "test_util.h"

static void test_set_err_one_line(void **state)
{
	char err[AWF_ERR_LEN];

	(void)state;
	assert_int_equal(
		set_err(err, sizeof(err), "bad name %s", "a\nb\tc\x7f"), -1);
	assert_string_equal(err, "bad name a?b?c?");
}

static void test_set_err_truncates(void **state)
{
	char err[8];

	(void)state;
	assert_int_equal(set_err(err, sizeof(err), "%s", "0123456789"), -1);
	assert_string_equal(err, "0123456");
	/* No room: nothing written, still a failure to return. */
	err[0] = 'x';
	assert_int_equal(set_err(err, 0, "%s", "y"), -1);
	assert_int_equal(err[0], 'x');
}

static void test_grow_doubles(void **state)
{
	int *v = NULL;
	size_t cap = 0;

	(void)state;
	assert_int_equal(array_grow((void **)&v, &cap, 1, sizeof(*v)), 0);
	assert_int_equal(cap, 1);
	v[0] = 7;
	assert_int_equal(array_grow((void **)&v, &cap, 1, sizeof(*v)), 0);
	assert_int_equal(cap, 1);
	assert_int_equal(array_grow((void **)&v, &cap, 2, sizeof(*v)), 0);
	assert_int_equal(cap, 2);
	assert_int_equal(array_grow((void **)&v, &cap, 100, sizeof(*v)), 0);
	assert_int_equal(cap, 128);
	v[99] = 9;
	assert_int_equal(v[0], 7);
	free(v);
}

static void test_grow_overflow(void **state)
{
	int *v = NULL, *before;
	size_t cap = 0;

	(void)state;
	assert_int_equal(array_grow((void **)&v, &cap, 3, sizeof(*v)), 0);
	before = v;
	errno = 0;
	assert_int_equal(
		array_grow((void **)&v, &cap, SIZE_MAX / 2 + 2, sizeof(*v)),
		-1);
	assert_int_equal(errno, ENOMEM);
	/* Elements times size overflows: reallocarray refuses. */
	assert_int_equal(
		array_grow((void **)&v, &cap, SIZE_MAX / 4, sizeof(*v)), -1);
	assert_int_equal(errno, ENOMEM);
	assert_ptr_equal(v, before);
	assert_int_equal(cap, 4);
	free(v);
}

int main(void)
{
	struct test_list l = { 0 };

	tl_add(&l, "set_err keeps one line", test_set_err_one_line, NULL);
	tl_add(&l, "set_err truncates", test_set_err_truncates, NULL);
	tl_add(&l, "array_grow doubles", test_grow_doubles, NULL);
	tl_add(&l, "array_grow overflow", test_grow_overflow, NULL);
	return tl_run("common", &l);
}
