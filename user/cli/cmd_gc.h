/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef AWF_CMD_GC_H
#define AWF_CMD_GC_H

extern const char usage_gc[];
int cmd_gc(int argc, char **argv);

#endif /* AWF_CMD_GC_H */
