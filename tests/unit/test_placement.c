// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Unit tests of common/placement.c: a placed thread runs where it was
 * placed, a CPU it may not have leaves it unpinned (never without a
 * thread), and placement_cpu() names only a CPU we may run on, never the
 * one to avoid nor, where another is allowed, the caller's; the caller
 * works itself on two CPUs or fewer; jobs are taken from both ends, each
 * once.
 */
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>

#include "common/placement.h"
#include "test_util.h"

struct seen {
	int cpu;
	bool pinned_to_one;
};

static void *report(void *arg)
{
	struct seen *s = arg;
	cpu_set_t mine;

	s->cpu = sched_getcpu();
	s->pinned_to_one = !sched_getaffinity(0, sizeof(mine), &mine) &&
			   CPU_COUNT(&mine) == 1;
	return NULL;
}

static int first_allowed(const cpu_set_t *allowed, int skip)
{
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, allowed) && c != skip)
			return c;
	return -1;
}

static void test_thread_runs_where_placed(void **state)
{
	struct seen s = { .cpu = -1 };
	cpu_set_t allowed;
	pthread_t t;
	int cpu;

	(void)state;
	assert_int_equal(sched_getaffinity(0, sizeof(allowed), &allowed), 0);
	cpu = first_allowed(&allowed, -1);
	assert_true(cpu >= 0);
	assert_int_equal(placement_thread_create(&t, &cpu, report, &s, NULL, 0),
			 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_true(s.pinned_to_one);
	assert_int_equal(s.cpu, cpu);
}

static void test_refused_cpu_leaves_it_unpinned(void **state)
{
	struct seen s = { .cpu = -1, .pinned_to_one = true };
	cpu_set_t allowed;
	pthread_t t;
	int cpu = -1;

	(void)state;
	assert_int_equal(sched_getaffinity(0, sizeof(allowed), &allowed), 0);
	for (int c = CPU_SETSIZE - 1; c >= 0 && cpu < 0; c--)
		if (!CPU_ISSET(c, &allowed))
			cpu = c;
	if (cpu < 0)
		skip();
	assert_int_equal(placement_thread_create(&t, &cpu, report, &s, NULL, 0),
			 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(cpu, -1);
	assert_true(s.cpu >= 0);
	assert_int_equal(s.pinned_to_one, CPU_COUNT(&allowed) == 1);
}

static void test_cpu_is_allowed_and_not_avoided(void **state)
{
	cpu_set_t allowed;

	(void)state;
	assert_int_equal(sched_getaffinity(0, sizeof(allowed), &allowed), 0);
	for (int avoid = -1; avoid < CPU_SETSIZE && avoid < 64; avoid++) {
		int cpu = placement_cpu(avoid);

		if (cpu < 0)
			continue;
		assert_true(CPU_ISSET(cpu, &allowed));
		assert_int_not_equal(cpu, avoid);
	}
}

static cpu_set_t cpus(int a, int b, int c)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(a, &set);
	CPU_SET(b, &set);
	if (c >= 0)
		CPU_SET(c, &set);
	return set;
}

/*
 * Not the caller's CPU where another is allowed, and never the avoided
 * one; the caller's, else.
 */
static void test_pick_not_the_callers(void **state)
{
	cpu_set_t two = cpus(0, 1, -1), three = cpus(0, 1, 2);

	(void)state;
	assert_int_equal(placement_pick(&two, 0, -1), 1);
	assert_int_equal(placement_pick(&two, 1, 0), 1);
	assert_int_equal(placement_pick(&two, 0, 1), 0);
	assert_int_equal(placement_pick(&two, 0, 0), 1);
	assert_int_equal(placement_pick(&two, -1, -1), 0);
	assert_int_equal(placement_pick(&three, 0, -1), 1);
	assert_int_equal(placement_pick(&three, 0, 1), 2);
	assert_int_equal(placement_pick(&three, 2, -1), 0);
}

/* Pinned to one CPU ourselves: nowhere else to put a thread. */
static void test_one_cpu_means_anywhere(void **state)
{
	cpu_set_t before, one;

	(void)state;
	assert_int_equal(sched_getaffinity(0, sizeof(before), &before), 0);
	CPU_ZERO(&one);
	CPU_SET(first_allowed(&before, -1), &one);
	assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
	assert_int_equal(placement_cpu(-1), -1);
	assert_true(placement_caller_works());
	assert_int_equal(sched_setaffinity(0, sizeof(before), &before), 0);
}

/* The caller works itself on two CPUs or fewer, and only there. */
static void test_caller_works_on_two_or_fewer(void **state)
{
	cpu_set_t allowed;

	(void)state;
	assert_int_equal(sched_getaffinity(0, sizeof(allowed), &allowed), 0);
	assert_int_equal(placement_caller_works(), CPU_COUNT(&allowed) <= 2);
}

/* The largest left first, each once; none after the last. */
static void test_jobs_in_order(void **state)
{
	struct placement_jobs jobs;
	uint32_t job;

	(void)state;
	placement_jobs_init(&jobs, 5);
	for (uint32_t i = 0; i < 5; i++) {
		assert_true(placement_jobs_claim(&jobs, &job));
		assert_int_equal(job, i);
	}
	assert_false(placement_jobs_claim(&jobs, &job));
	assert_false(placement_jobs_claim(&jobs, &job));
	placement_jobs_init(&jobs, 0);
	assert_false(placement_jobs_claim(&jobs, &job));
}

#define MANY_JOBS 20000

struct taker {
	struct placement_jobs *jobs;
	unsigned char *taken; /* how often each job was claimed */
};

static void *take_all(void *arg)
{
	struct taker *t = arg;
	uint32_t job;

	while (placement_jobs_claim(t->jobs, &job))
		__atomic_fetch_add(&t->taken[job], 1, __ATOMIC_RELAXED);
	return NULL;
}

/* Two threads at once: every job is taken exactly once. */
static void test_jobs_each_taken_once(void **state)
{
	static unsigned char taken[MANY_JOBS];
	struct placement_jobs jobs;
	struct taker front = { &jobs, taken }, back = { &jobs, taken };
	pthread_t a, b;

	(void)state;
	placement_jobs_init(&jobs, MANY_JOBS);
	assert_int_equal(pthread_create(&a, NULL, take_all, &front), 0);
	assert_int_equal(pthread_create(&b, NULL, take_all, &back), 0);
	assert_int_equal(pthread_join(a, NULL), 0);
	assert_int_equal(pthread_join(b, NULL), 0);
	for (size_t i = 0; i < MANY_JOBS; i++)
		assert_int_equal(taken[i], 1);
}

int main(void)
{
	struct test_list l = { 0 };

	tl_add(&l, "a placed thread runs on its CPU only",
	       test_thread_runs_where_placed, NULL);
	tl_add(&l, "a CPU we may not use: the thread runs unpinned",
	       test_refused_cpu_leaves_it_unpinned, NULL);
	tl_add(&l, "placement_cpu() names an allowed CPU, not the avoided one",
	       test_cpu_is_allowed_and_not_avoided, NULL);
	tl_add(&l, "with one CPU, no placement", test_one_cpu_means_anywhere,
	       NULL);
	tl_add(&l, "jobs: the largest left first, each once",
	       test_jobs_in_order, NULL);
	tl_add(&l, "the caller works itself on two CPUs or fewer",
	       test_caller_works_on_two_or_fewer, NULL);
	tl_add(&l, "jobs: two threads at once take each exactly once",
	       test_jobs_each_taken_once, NULL);
	tl_add(&l, "not the caller's CPU where another is allowed",
	       test_pick_not_the_callers, NULL);
	return tl_run("placement", &l);
}
