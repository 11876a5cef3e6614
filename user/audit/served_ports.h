/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * served_ports.h - the loopback ports a `run` sandbox serves, read from its
 * sockets rather than counted by a program at every socket's release: the
 * sockets the processes of the sandbox's cgroup hold (pidfd_getfd()),
 * each looked up in the sandbox's sk_state map. A socket whose state has
 * a bound_port (post_bind) serves that port: the very mark localhost
 * "sandbox" mode decides by (served_by_sandbox() in bpf/policy.bpf.h).
 *
 * Not sock_diag with INET_DIAG_REQ_SK_BPF_STORAGES: the kernel reports the
 * storage of TCP sockets only (inet_sk_diag_fill() returns before it for a
 * socket without inet_connection_sock: UDP).
 */
#ifndef AWF_SERVED_PORTS_H
#define AWF_SERVED_PORTS_H

#include <stddef.h>
#include <stdint.h>

struct served_port {
	uint16_t port;
	uint8_t proto; /* IPPROTO_TCP, IPPROTO_UDP */
	uint32_t refs; /* the sockets that hold it */
};

/*
 * The ports of the sockets held by the processes of cgroup_dir and the
 * cgroups below it that have state in sk_state_fd, by protocol then
 * port: *n of them in *ports (free()d by the caller; NULL when none).
 * -1 with a message in err on failure (a process that exits meanwhile is
 * none).
 */
int served_ports(int sk_state_fd, const char *cgroup_dir,
		 struct served_port **ports, size_t *n, char *err,
		 size_t errlen);

#endif /* AWF_SERVED_PORTS_H */
