// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>

#include "common/placement.h"

/*
 * The tasks runnable on the machine this instant, the caller one of
 * them: /proc/loadavg's "running/total". INT_MAX if unknown.
 */
static int runnable_now(void)
{
	int fd, running = INT_MAX;
	char buf[128];
	ssize_t n;

	fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return INT_MAX;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return INT_MAX;
	buf[n] = '\0';
	if (sscanf(buf, "%*s %*s %*s %d/", &running) != 1)
		return INT_MAX;
	return running;
}

int placement_pick(const cpu_set_t *allowed, int here, int avoid)
{
	int fallback = -1;

	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (!CPU_ISSET(c, allowed) || c == avoid)
			continue;
		if (c != here)
			return c;
		fallback = c;
	}
	return fallback;
}

bool placement_caller_works(void)
{
	cpu_set_t allowed;

	return !sched_getaffinity(0, sizeof(allowed), &allowed) &&
	       CPU_COUNT(&allowed) <= 2;
}

int placement_cpu(int avoid)
{
	cpu_set_t allowed;

	if (sched_getaffinity(0, sizeof(allowed), &allowed) ||
	    CPU_COUNT(&allowed) < 2 || runnable_now() > CPU_COUNT(&allowed))
		return -1;
	return placement_pick(&allowed, sched_getcpu(), avoid);
}

static int create_thread(pthread_t *thread, int cpu, void *(*fn)(void *),
			 void *arg, void *stack, size_t stack_size)
{
	pthread_attr_t attr;
	cpu_set_t one;
	int ret;

	ret = pthread_attr_init(&attr);
	if (ret)
		return ret;
	if (cpu >= 0) {
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		ret = pthread_attr_setaffinity_np(&attr, sizeof(one), &one);
	}
	if (!ret && stack)
		ret = pthread_attr_setstack(&attr, stack, stack_size);
	if (!ret)
		ret = pthread_create(thread, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return ret;
}

int placement_thread_create(pthread_t *thread, int *cpu, void *(*fn)(void *),
			    void *arg, void *stack, size_t stack_size)
{
	int ret = create_thread(thread, *cpu, fn, arg, stack, stack_size);

	/* A CPU gone offline or out of our cpuset since: anywhere, then. */
	if (ret != EINVAL || *cpu < 0)
		return ret;
	*cpu = -1;
	return create_thread(thread, -1, fn, arg, stack, stack_size);
}

void placement_jobs_init(struct placement_jobs *jobs, uint32_t n)
{
	jobs->n = n;
	__atomic_store_n(&jobs->next, 0, __ATOMIC_RELAXED);
}

bool placement_jobs_claim(struct placement_jobs *jobs, uint32_t *job)
{
	uint32_t was = __atomic_load_n(&jobs->next, __ATOMIC_RELAXED);

	/* no increment past the end: a claim after the last changes nothing */
	do {
		if (was >= jobs->n)
			return false;
	} while (!__atomic_compare_exchange_n(&jobs->next, &was, was + 1, false,
					      __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	*job = was;
	return true;
}
