/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * harden.h - capabilities and no_new_privs of the sandbox's processes.
 */
#ifndef AWF_HARDEN_H
#define AWF_HARDEN_H

#include <stddef.h>

/*
 * Drop the capabilities that could lift the filter or reach around the
 * sandbox from every set (bounding, effective, permitted, inheritable,
 * ambient); set no_new_privs. Even a uid-0 workload never has them.
 */
int harden_drop_privileges(char *err, size_t errlen);

/*
 * The two below are the workload's, which runs in its init's memory until
 * exec (init.h): system calls only, nothing allocated.
 *
 * Empty the whole bounding set (needs CAP_SETPCAP: before a uid change).
 */
int harden_drop_bounding_all(char *err, size_t errlen);

/*
 * After the change to a uid other than 0: clear what the kernel leaves
 * (the inheritable set), then -1 unless every set, ambient and bounding
 * included, is empty.
 */
int harden_require_no_capabilities(char *err, size_t errlen);

#endif /* AWF_HARDEN_H */
