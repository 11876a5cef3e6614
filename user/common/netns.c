// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/netns.h"

int in_netns(int netns_fd, netns_step step, void *ctx, char *err, size_t errlen)
{
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int ret;

	if (self < 0)
		return set_err(err, errlen, "/proc/self/ns/net: %s",
			       strerror(errno));
	if (setns(netns_fd, CLONE_NEWNET)) {
		set_err(err, errlen, "setns: %s", strerror(errno));
		close(self);
		return -1;
	}
	ret = step(ctx, err, errlen);
	if (setns(self, CLONE_NEWNET)) {
		log_error("setns back to our own network namespace: %s",
			  strerror(errno));
		abort();
	}
	close(self);
	return ret;
}
