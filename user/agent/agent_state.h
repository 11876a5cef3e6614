/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * agent_state.h - what a restarted agent adopts: the slots, learned sets and
 * run sandboxes of its predecessor, saved in AWF_AGENT_STATE_FILE.
 */
#ifndef AWF_AGENT_STATE_H
#define AWF_AGENT_STATE_H

#include <stddef.h>

#include "agent/agent_int.h"

int agent_state_save(struct agent *ag);
int agent_state_load(struct agent *ag, char *err, size_t errlen);
void agent_state_free(struct agent *ag);

#endif /* AWF_AGENT_STATE_H */
