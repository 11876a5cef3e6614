// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * agent_policies.c - the policies directory of `awf-bpf agent`
 * (agent_policies.h). Each file is read by the same code as `awf-bpf run
 * --policy` once "selector" is taken out, so that a policy means the same
 * in both.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent_policies.h"
#include "agent/cgroup_tree.h"
#include "policy/policy_finalize.h"
#include "common/error.h"
#include "common/log.h"
#include "policy/policy_load.h"

#define JSON_SUFFIX ".json"

/* The policy name of a directory entry, or false to pass it over. */
static bool policy_file_name(const char *file, char *name, size_t len)
{
	size_t n = strlen(file), sfx = strlen(JSON_SUFFIX);

	if (file[0] == '.' || n <= sfx ||
	    strcmp(file + n - sfx, JSON_SUFFIX) != 0)
		return false;
	snprintf(name, len, "%.*s", (int)(n - sfx), file);
	return true;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static int add_name(char ***names, size_t *n, const char *file, const char *dir,
		    char *err, size_t errlen)
{
	char **bigger;

	if (*n >= AGENT_MAX_POLICIES)
		return set_err(err, errlen, "%s: more than %d policy files",
			       dir, AGENT_MAX_POLICIES);
	bigger = realloc(*names, (*n + 1) * sizeof(**names));
	if (!bigger || !(bigger[*n] = strdup(file))) {
		if (bigger)
			*names = bigger;
		return set_err(err, errlen, "out of memory");
	}
	*names = bigger;
	(*n)++;
	return 0;
}

/* The *.json file names of the directory, sorted. */
static int list_files(DIR *d, const char *dir, char ***names, size_t *n,
		      char *err, size_t errlen)
{
	char name[256];
	struct dirent *de;

	*names = NULL;
	*n = 0;
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de)
			break;
		if (policy_file_name(de->d_name, name, sizeof(name)) &&
		    add_name(names, n, de->d_name, dir, err, errlen) < 0)
			goto fail;
	}
	if (errno) {
		set_err(err, errlen, "readdir %s: %s", dir, strerror(errno));
		goto fail;
	}
	if (*n)
		qsort(*names, *n, sizeof(**names), cmp_str);
	return 0;
fail:
	free_names(*names, *n);
	return -1;
}

static void entry_free(struct agent_policy *e)
{
	for (size_t i = 0; i < e->n_selectors; i++)
		free(e->selectors[i]);
	free(e->selectors);
	free(e->path);
	policy_free(&e->policy);
}

void agent_policies_free(struct agent_policy_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		entry_free(&set->v[i]);
	free(set->v);
	set->v = NULL;
	set->n = 0;
}

static int add_selector(struct agent_policy *e, const char *key,
			json_object *val, char *err, size_t errlen)
{
	char why[AWF_ERR_LEN];
	const char *s;

	if (!json_object_is_type(val, json_type_string))
		return set_err(err, errlen, "%s: %s: expected a glob string",
			       e->path, key);
	s = json_object_get_string(val);
	if (strlen(s) != (size_t)json_object_get_string_len(val))
		return set_err(err, errlen, "%s: %s: contains a NUL character",
			       e->path, key);
	if (cgroup_path_check(s, PATH_MAX, why, sizeof(why)) < 0)
		return set_err(err, errlen, "%s: %s: %s", e->path, key, why);
	e->selectors[e->n_selectors] = strdup(s);
	if (!e->selectors[e->n_selectors])
		return set_err(err, errlen, "out of memory");
	e->n_selectors++;
	return 0;
}

/* "selector": one glob, or an array of 1 to AGENT_MAX_SELECTORS. */
static int read_selectors(struct agent_policy *e, json_object *val, char *err,
			  size_t errlen)
{
	bool one = json_object_is_type(val, json_type_string);
	size_t n = one ? 1 : 0;
	char key[32];

	if (!one && json_object_is_type(val, json_type_array))
		n = json_object_array_length(val);
	if (n < 1 || n > AGENT_MAX_SELECTORS)
		return set_err(
			err, errlen,
			"%s: selector: expected a glob string or an array of 1 to %d of them",
			e->path, AGENT_MAX_SELECTORS);
	e->selectors = calloc(n, sizeof(*e->selectors));
	if (!e->selectors)
		return set_err(err, errlen, "out of memory");
	e->selector_array = !one;
	if (one)
		return add_selector(e, "selector", val, err, errlen);
	for (size_t i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "selector[%zu]", i);
		if (add_selector(e, key, json_object_array_get_idx(val, i), err,
				 errlen) < 0)
			return -1;
	}
	return 0;
}

/* The policy proper: what `awf-bpf run --policy` would make of the rest. */
static int read_policy(struct agent_policy *e, json_object *root,
		       const char *resolv_conf, const char *stub_fallback,
		       char *err, size_t errlen)
{
	char why[AWF_ERR_LEN];
	json_object *sel;

	if (json_object_is_type(root, json_type_object) &&
	    json_object_object_get_ex(root, "selector", &sel)) {
		if (read_selectors(e, sel, err, errlen) < 0)
			return -1;
		json_object_object_del(root, "selector");
	}
	if (policy_load_json(&e->policy, root, e->path, err, errlen) < 0)
		return -1;
	if (policy_finalize(&e->policy, resolv_conf, stub_fallback, why,
			    sizeof(why)) < 0) {
		return set_err(err, errlen, "%s: %s", e->path, why);
	}
	return 0;
}

/* An open file of the directory, as JSON; only regular files count. */
static json_object *read_file(int dfd, const char *file, const char *path,
			      char *err, size_t errlen)
{
	json_object *root = NULL;
	struct stat st;
	/* O_NONBLOCK: a FIFO swapped in after the stat must not hang us */
	int fd = openat(dfd, file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0)
		set_err(err, errlen, "%s: %s", path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		set_err(err, errlen, "%s: not a regular file", path);
	else
		root = agent_json_read(fd, path, err, errlen);
	close(fd);
	return root;
}

static int check_name(const char *path, const char *name, char *err,
		      size_t errlen)
{
	if (!agent_policy_name_ok(name))
		return set_err(
			err, errlen,
			"%s: the policy name \"%s\" must match [A-Za-z0-9._-]{1,%d}",
			path, name, AGENT_POLICY_NAME_MAX);
	if (strcmp(name, AGENT_POLICY_DENY) == 0 ||
	    strcmp(name, AGENT_POLICY_UNRESTRICTED) == 0) {
		return set_err(err, errlen,
			       "%s: \"%s\" is the name of a built-in policy",
			       path, name);
	}
	return 0;
}

static int load_one(struct agent_policy *e, int dfd, const char *dir,
		    const char *file, const char *resolv_conf,
		    const char *stub_fallback, char *err, size_t errlen)
{
	char name[256];
	json_object *root;
	int rc;

	policy_init(&e->policy);
	policy_file_name(file, name, sizeof(name));
	if (asprintf(&e->path, "%s/%s", dir, file) < 0) {
		e->path = NULL;
		return set_err(err, errlen, "out of memory");
	}
	if (check_name(e->path, name, err, errlen) < 0)
		return -1;
	strcpy(e->name, name);
	root = read_file(dfd, file, e->path, err, errlen);
	if (!root)
		return -1;
	rc = read_policy(e, root, resolv_conf, stub_fallback, err, errlen);
	json_object_put(root);
	if (!rc && e->policy.audit_only)
		log_warn(
			"%s: audit-only mode: nothing this policy refuses is enforced; would-be denials are logged",
			e->path);
	return rc;
}

/* A file name that is not a regular file (or a link to one) is left out. */
static bool is_regular(int dfd, const char *file)
{
	struct stat st;

	return fstatat(dfd, file, &st, 0) < 0 || S_ISREG(st.st_mode);
}

static int load_all(struct agent_policy_set *out, DIR *d, const char *dir,
		    char **files, size_t n_files, const char *resolv_conf,
		    const char *stub_fallback, char *err, size_t errlen)
{
	out->v = calloc(n_files ? n_files : 1, sizeof(*out->v));
	if (!out->v)
		return set_err(err, errlen, "out of memory");
	for (size_t i = 0; i < n_files; i++) {
		/* a dangling link fails in load_one, with its name */
		if (!is_regular(dirfd(d), files[i]))
			continue;
		if (load_one(&out->v[out->n++], dirfd(d), dir, files[i],
			     resolv_conf, stub_fallback, err, errlen) < 0)
			return -1;
	}
	return 0;
}

int agent_policies_load(struct agent_policy_set *set, const char *dir,
			const char *resolv_conf, const char *stub_fallback,
			char *err, size_t errlen)
{
	struct agent_policy_set next = { 0 };
	DIR *d = opendir(dir);
	size_t n_files = 0;
	char **files;
	int rc;

	if (!d)
		return set_err(err, errlen, "%s: %s", dir, strerror(errno));
	rc = list_files(d, dir, &files, &n_files, err, errlen);
	if (rc == 0) {
		rc = load_all(&next, d, dir, files, n_files, resolv_conf,
			      stub_fallback, err, errlen);
		free_names(files, n_files);
	}
	closedir(d);
	if (rc < 0) {
		agent_policies_free(&next);
		return -1;
	}
	agent_policies_free(set);
	*set = next;
	return 0;
}

const struct agent_policy *
agent_policies_find(const struct agent_policy_set *set, const char *name)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->v[i].name, name) == 0)
			return &set->v[i];
	return NULL;
}

static bool policy_matches(const struct agent_policy *e, const char *path)
{
	for (size_t i = 0; i < e->n_selectors; i++)
		if (fnmatch(e->selectors[i], path, FNM_PATHNAME) == 0)
			return true;
	return false;
}

const struct agent_policy *
agent_policies_match(const struct agent_policy_set *set,
		     const char *cgroup_path,
		     const struct agent_policy **conflict)
{
	const struct agent_policy *found = NULL;

	if (conflict)
		*conflict = NULL;
	for (size_t i = 0; i < set->n; i++) {
		if (!policy_matches(&set->v[i], cgroup_path))
			continue;
		if (!found) {
			found = &set->v[i];
			if (!conflict)
				break;
			continue;
		}
		*conflict = &set->v[i];
		break;
	}
	return found;
}

/*
 * Whether everything sel matches lies at or below attach. Only the
 * literal prefix (up to the first '*', '?', '[' or '\\') is certain; a
 * glob whose literal part ends exactly at the attach path ("/awf-bpf*")
 * also matches its siblings ("/awf-bpf-other"), so it must go on to a '/'.
 */
static bool selector_within(const char *sel, const char *attach)
{
	size_t lit = strcspn(sel, "*?[\\"), n = strlen(attach);

	if (strcmp(attach, "/") == 0)
		return true;
	if (strncmp(sel, attach, n) != 0)
		return false;
	if (sel[lit] == '\0')
		return sel[n] == '\0' || sel[n] == '/';
	return lit > n && sel[n] == '/';
}

static void attach_list(const struct agent_config *cfg, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < cfg->n_attach && off < len; i++) {
		int n = snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
				 cfg->attach[i].cgroup);

		if (n < 0)
			break;
		off += (size_t)n;
	}
}

static int check_selector(const struct agent_policy *e, size_t i,
			  const struct agent_config *cfg, char *err,
			  size_t errlen)
{
	char list[AWF_ERR_LEN], key[32] = "selector";

	for (size_t a = 0; a < cfg->n_attach; a++)
		if (selector_within(e->selectors[i], cfg->attach[a].cgroup))
			return 0;
	attach_list(cfg, list, sizeof(list));
	if (e->selector_array)
		snprintf(key, sizeof(key), "selector[%zu]", i);
	return set_err(
		err, errlen,
		"%s: %s: \"%s\" can match outside every attach point (%s)",
		e->path, key, e->selectors[i], list);
}

int agent_policies_check_attach(const struct agent_policy_set *set,
				const struct agent_config *cfg, char *err,
				size_t errlen)
{
	for (size_t p = 0; p < set->n; p++)
		for (size_t i = 0; i < set->v[p].n_selectors; i++)
			if (check_selector(&set->v[p], i, cfg, err, errlen) < 0)
				return -1;
	return 0;
}

int agent_policies_check_defaults(const struct agent_policy_set *set,
				  const struct agent_config *cfg, char *err,
				  size_t errlen)
{
	for (size_t i = 0; i < cfg->n_attach; i++) {
		const char *name = cfg->attach[i].default_policy;

		if (strcmp(name, AGENT_POLICY_DENY) == 0 ||
		    strcmp(name, AGENT_POLICY_UNRESTRICTED) == 0 ||
		    agent_policies_find(set, name))
			continue;
		return set_err(
			err, errlen,
			"%s: attach[%zu].default_policy: no policy \"%s\" in %s",
			cfg->origin, i, name, cfg->policies_dir);
	}
	return 0;
}
