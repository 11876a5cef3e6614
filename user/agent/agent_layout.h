/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * agent_layout.h - what the agent leaves on the host for others to read
 * (`dump --agent`, `status --agent`, the next agent): where its pins are,
 * which maps it pins, and the limits of the names in its state file.
 * Readers include this, never the agent's internals.
 */
#ifndef AWF_AGENT_LAYOUT_H
#define AWF_AGENT_LAYOUT_H

#include "common/paths.h"

#define AWF_AGENT_MAPS_DIR AWF_AGENT_PIN_DIR "/maps"
#define AWF_AGENT_LINKS_DIR AWF_AGENT_PIN_DIR "/links"
#define AWF_AGENT_PROGS_DIR AWF_AGENT_PIN_DIR "/progs"

#define AGENT_CGROUP_PATH_MAX 512 /* with the NUL */
/* A policy name: [A-Za-z0-9._-]{1,64}, the file name without ".json". */
#define AGENT_POLICY_NAME_MAX 64

/* The policy maps every sandbox shares (keys carry slot or set). */
enum agent_map {
	AGENT_MAP_CIDR4,
	AGENT_MAP_CIDR6,
	AGENT_MAP_LEARNED4,
	AGENT_MAP_LEARNED6,
	AGENT_MAP_LO_PORTS,
	AGENT_MAP_NAMES, /* learned set's name_id -> name; programs never read it */
	AGENT_MAP_NAME_RULES,  /* the names trie (awf.h), slot-keyed */
	AGENT_MAP_EXACT_NAMES, /* names the DNS filter allowed, slot-keyed */
	AGENT_MAP_N,
};

#endif /* AWF_AGENT_LAYOUT_H */
