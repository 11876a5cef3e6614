// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * agent_state.c - AWF_AGENT_STATE_FILE: which slot serves which cgroup, so
 * that the next agent (restart, crash, upgrade) takes over the learned
 * maps of each and releases the slots nobody wants any more. Rewritten
 * (write, rename) after every change that alters it. /run, like bpffs, is
 * empty after a reboot, and so is the state with it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>

#include "agent/agent_state.h"
#include "common/paths.h"
#include "agent/agent_int.h"
#include "common/error.h"
#include "common/log.h"
#include "policy/policy_json.h"

static const char *const kind_names[] = {
	[ENTRY_DEFAULT] = "default",
	[ENTRY_SELECTED] = "selected",
	[ENTRY_RUN] = "run",
};

static json_object *entry_json(const struct agent_entry *e)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "kind",
			       json_object_new_string(kind_names[e->kind]));
	json_object_object_add(o, "cgroup", json_object_new_string(e->cgroup));
	json_object_object_add(o, "cgroup_id",
			       json_object_new_uint64(e->cgroup_id));
	json_object_object_add(o, "policy",
			       json_object_new_string(e->policy_name));
	json_object_object_add(o, "slot", json_object_new_int((int)e->sb.slot));
	json_object_object_add(o, "learned_set",
			       json_object_new_int64(e->sb.learned_set));
	json_object_object_add(o, "dns_port",
			       json_object_new_int(e->sb.dns_port));
	if (e->run_policy)
		json_object_object_add(o, "run_policy",
				       policy_to_json(e->run_policy));
	return o;
}

/*
 * No fsync: the file describes pins that live in bpffs, in memory, and
 * that a crash of the machine takes with them; what it has to survive is
 * the agent's own crash, and the page cache does. The rename keeps it
 * whole. On a disk-backed /run an fsync costs 4-10 ms, on the start-up
 * of every `awf-bpf run` the agent serves.
 *
 * The new text goes into a new file, swapped in with RENAME_EXCHANGE: a
 * plain rename over the old file, or an O_TRUNC of a file with data, has
 * ext4 (auto_da_alloc) start the new file's writeback there and then,
 * 0.3-0.4 ms of every run's start-up, for the machine's crash the pins
 * do not survive either. The old text, swapped out, is unlinked.
 */
static int write_file(const char *path, const char *text)
{
	char tmp[PATH_MAX];
	size_t len = strlen(text);
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (unlink(tmp) && errno != ENOENT)
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (write(fd, text, len) != (ssize_t)len) {
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_EXCHANGE) == 0) {
		/* The state is whole: a failure leaves only the old text. */
		if (unlink(tmp) && errno != ENOENT)
			log_warn("unlink %s: %s", tmp, strerror(errno));
		return 0;
	}
	/* No state yet (ENOENT), or a file system without the exchange. */
	return rename(tmp, path);
}

/* Unchanged (a cgroup event that changed no entry): nothing to write. */
static int save_text(struct agent *ag, const char *text)
{
	char *copy;

	if (ag->state_text && !strcmp(ag->state_text, text))
		return 0;
	if (mkdir(AWF_RUN_DIR, 0755) && errno != EEXIST)
		log_warn("mkdir /run/awf-bpf: %s", strerror(errno));
	if (write_file(AWF_AGENT_STATE_FILE, text)) {
		log_error("writing %s: %s", AWF_AGENT_STATE_FILE,
			  strerror(errno));
		return -1;
	}
	copy = strdup(text);
	free(ag->state_text);
	ag->state_text = copy; /* NULL: the next save writes again */
	return 0;
}

int agent_state_save(struct agent *ag)
{
	json_object *root = json_object_new_object();
	json_object *list = json_object_new_array();
	int ret;

	for (uint32_t s = 1; s < AWF_MAX_SLOTS; s++)
		if (ag->by_slot[s])
			json_object_array_add(list, entry_json(ag->by_slot[s]));
	/* Adopted slots not yet taken over are still in use. */
	for (size_t i = 0; i < ag->n_adopted; i++) {
		const struct adopted *a = &ag->adopted[i];
		json_object *o;

		if (a->taken)
			continue;
		o = json_object_new_object();
		json_object_object_add(
			o, "kind", json_object_new_string(kind_names[a->kind]));
		json_object_object_add(o, "cgroup",
				       json_object_new_string(a->cgroup));
		json_object_object_add(o, "cgroup_id",
				       json_object_new_uint64(a->cgroup_id));
		json_object_object_add(o, "slot",
				       json_object_new_int((int)a->slot));
		json_object_object_add(o, "learned_set",
				       json_object_new_int64(a->learned_set));
		json_object_object_add(o, "dns_port",
				       json_object_new_int(a->dns_port));
		if (a->run_policy_json)
			json_object_object_add(
				o, "run_policy",
				json_tokener_parse(a->run_policy_json));
		json_object_array_add(list, o);
	}
	json_object_object_add(root, "version", json_object_new_int(1));
	json_object_object_add(root, "agent_pid",
			       json_object_new_int(getpid()));
	json_object_object_add(root, "sandboxes", list);
	ret = save_text(ag,
			json_object_to_json_string_ext(
				root, JSON_C_TO_STRING_PRETTY |
					      JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	return ret;
}

static int kind_of(const char *name)
{
	for (int k = 0; k < 3; k++)
		if (!strcmp(name, kind_names[k]))
			return k;
	return -1;
}

static const char *str_member(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ?
		       json_object_get_string(v) :
		       "";
}

static int64_t int_member(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ?
		       json_object_get_int64(v) :
		       -1;
}

static int adopt_one(struct agent *ag, json_object *o, char *err, size_t errlen)
{
	struct adopted *a = &ag->adopted[ag->n_adopted];
	int64_t slot = int_member(o, "slot");
	int kind = kind_of(str_member(o, "kind"));
	json_object *rp;

	if (kind < 0 || slot < 1 || slot >= AWF_MAX_SLOTS)
		return set_err(err, errlen, "%s: bad entry %zu",
			       AWF_AGENT_STATE_FILE, ag->n_adopted);
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	a->slot = (uint32_t)slot;
	a->cgroup_id =
		json_object_get_uint64(json_object_object_get(o, "cgroup_id"));
	a->dns_port = (uint16_t)int_member(o, "dns_port");
	a->learned_set = (uint32_t)int_member(o, "learned_set");
	if (a->learned_set > ag->next_set)
		ag->next_set = a->learned_set;
	snprintf(a->cgroup, sizeof(a->cgroup), "%s", str_member(o, "cgroup"));
	if (json_object_object_get_ex(o, "run_policy", &rp))
		a->run_policy_json = strdup(json_object_to_json_string(rp));
	ag->slot_reserved[a->slot] = true;
	ag->n_adopted++;
	return 0;
}

int agent_state_load(struct agent *ag, char *err, size_t errlen)
{
	json_object *root = json_object_from_file(AWF_AGENT_STATE_FILE), *list;
	size_t n;

	if (!root)
		return 0; /* first start, or after a reboot */
	if (!json_object_object_get_ex(root, "sandboxes", &list) ||
	    !json_object_is_type(list, json_type_array)) {
		set_err(err, errlen, "%s: no sandboxes array",
			AWF_AGENT_STATE_FILE);
		json_object_put(root);
		return -1;
	}
	n = json_object_array_length(list);
	ag->adopted = calloc(n ? n : 1, sizeof(*ag->adopted));
	if (!ag->adopted) {
		json_object_put(root);
		return set_err(err, errlen, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		if (adopt_one(ag, json_object_array_get_idx(list, i), err,
			      errlen)) {
			json_object_put(root);
			return -1;
		}
	}
	json_object_put(root);
	log_info("adopting %zu sandboxes of the previous agent", n);
	return 0;
}

void agent_state_free(struct agent *ag)
{
	for (size_t i = 0; i < ag->n_adopted; i++)
		free(ag->adopted[i].run_policy_json);
	free(ag->adopted);
	ag->adopted = NULL;
	ag->n_adopted = 0;
}
