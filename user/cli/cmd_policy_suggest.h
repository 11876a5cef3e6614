/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * cmd_policy_suggest.h - `awf-bpf policy suggest [--base FILE]
 * AUDIT.jsonl...`: a policy from audit logs (audit/suggest.h) on stdout.
 */
#ifndef AWF_CMD_POLICY_SUGGEST_H
#define AWF_CMD_POLICY_SUGGEST_H

/* argv[0] is "suggest". */
int policy_suggest(int argc, char **argv);

#endif /* AWF_CMD_POLICY_SUGGEST_H */
