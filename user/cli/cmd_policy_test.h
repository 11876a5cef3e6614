/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * cmd_policy_test.h - `awf-bpf policy test [POLICY FLAGS] DEST...`: the
 * verdict on each DEST (kernel/verdict.h). Exit status 0 when every DEST
 * is allowed, 1 when one is denied, 125 on a bad policy or DEST.
 */
#ifndef AWF_CMD_POLICY_TEST_H
#define AWF_CMD_POLICY_TEST_H

#define EXIT_POLICY_DENIED 1

/* argv[0] is "test". */
int policy_test(int argc, char **argv);

#endif /* AWF_CMD_POLICY_TEST_H */
