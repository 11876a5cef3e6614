/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * cmd_policy.h - `awf-bpf policy check|test|suggest`. check: 0 when FILE
 * is a valid policy (printed normalized), 125 with a one-line error when
 * not; test and suggest: cmd_policy_test.h, cmd_policy_suggest.h.
 */
#ifndef AWF_CMD_POLICY_H
#define AWF_CMD_POLICY_H

int cmd_policy(int argc, char **argv);
extern const char usage_policy[];

#endif /* AWF_CMD_POLICY_H */
