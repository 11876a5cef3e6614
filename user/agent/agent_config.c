// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * agent_config.c - reads /etc/awf-bpf/agent.json (agent_config.h). As with
 * policies, every key is checked against a table: a typo must be an
 * error, not a setting silently left at its default.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/paths.h"
#include "agent/agent_config.h"
#include "agent/cgroup_tree.h"
#include "common/error.h"
#include "common/json_read.h"
#include "policy/policy_load.h"

#define DEFAULT_ATTACH "/awf-bpf"
#define DEFAULT_CONTROL_GROUP "awf-bpf"
#define KEY_PATH_LEN 64
/* A config or a policy is small; this only stops a wrong path eating memory. */
#define JSON_FILE_MAX (16 << 20)
#define GROUP_BUF_MAX (1 << 20)

void agent_config_defaults(struct agent_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->origin, sizeof(cfg->origin), "%s", AWF_AGENT_CONFIG);
	snprintf(cfg->attach[0].cgroup, sizeof(cfg->attach[0].cgroup), "%s",
		 DEFAULT_ATTACH);
	snprintf(cfg->attach[0].default_policy,
		 sizeof(cfg->attach[0].default_policy), "%s",
		 AGENT_POLICY_DENY);
	cfg->n_attach = 1;
	snprintf(cfg->policies_dir, sizeof(cfg->policies_dir), "%s",
		 AWF_AGENT_POLICIES_DIR);
	cfg->all_interfaces = true;
	snprintf(cfg->control_socket, sizeof(cfg->control_socket), "%s",
		 AWF_AGENT_SOCKET);
	snprintf(cfg->control_group, sizeof(cfg->control_group), "%s",
		 DEFAULT_CONTROL_GROUP);
	cfg->control_gid = (gid_t)-1;
}

void agent_config_free(struct agent_config *cfg)
{
	(void)cfg;
}

bool agent_policy_name_ok(const char *name)
{
	size_t n = strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				"abcdefghijklmnopqrstuvwxyz"
				"0123456789._-");

	return n >= 1 && n <= AGENT_POLICY_NAME_MAX && name[n] == '\0';
}

/* The string, or NULL after an error: here an empty one is an error too. */
static const char *get_string(const struct jctx *c, const char *path,
			      json_object *val, const char *what)
{
	const char *s = jget_string(c, path, val, what);

	if (s && !*s) {
		jfail(c, path, "must not be empty");
		return NULL;
	}
	return s;
}

static int copy_string(const struct jctx *c, const char *path, json_object *val,
		       const char *what, char *dst, size_t dstlen)
{
	const char *s = get_string(c, path, val, what);

	if (!s)
		return -1;
	if (strlen(s) >= dstlen)
		return jfail(c, path, "longer than %zu bytes", dstlen - 1);
	strcpy(dst, s);
	return 0;
}

static int copy_abs_path(const struct jctx *c, const char *path,
			 json_object *val, char *dst, size_t dstlen)
{
	if (copy_string(c, path, val, "an absolute path", dst, dstlen) < 0)
		return -1;
	if (dst[0] != '/')
		return jfail(c, path, "must be an absolute path");
	return 0;
}

static int read_version(const struct jctx *c, const char *path,
			json_object *val, struct agent_config *cfg)
{
	(void)cfg;
	return jcheck_version(c, path, val, AGENT_CONFIG_VERSION);
}

static int read_cgroup(const struct jctx *c, const char *path, json_object *val,
		       struct agent_attach *a)
{
	char why[AWF_ERR_LEN];
	const char *s = get_string(c, path, val, "a cgroup path string");

	if (!s)
		return -1;
	if (cgroup_path_check(s, sizeof(a->cgroup), why, sizeof(why)) < 0)
		return jfail(c, path, "%s", why);
	strcpy(a->cgroup, s);
	return 0;
}

static int read_default_policy(const struct jctx *c, const char *path,
			       json_object *val, struct agent_attach *a)
{
	const char *s = get_string(c, path, val, "a policy name string");

	if (!s)
		return -1;
	if (!agent_policy_name_ok(s))
		return jfail(
			c, path,
			"\"%s\" is not a policy name (\"deny\", \"unrestricted\" or [A-Za-z0-9._-]{1,%d})",
			s, AGENT_POLICY_NAME_MAX);
	strcpy(a->default_policy, s);
	return 0;
}

static int read_attach_entry(const struct jctx *c, const char *path,
			     json_object *val, struct agent_attach *a)
{
	char sub[KEY_PATH_LEN + 32];
	bool has_cgroup = false;
	int rc;

	if (!json_object_is_type(val, json_type_object))
		return jfail(c, path, "expected an object {\"cgroup\": ...}");
	snprintf(a->default_policy, sizeof(a->default_policy), "%s",
		 AGENT_POLICY_DENY);
	json_object_object_foreach(val, key, v) {
		snprintf(sub, sizeof(sub), "%s.%s", path, key);
		if (strcmp(key, "cgroup") == 0) {
			rc = read_cgroup(c, sub, v, a);
			has_cgroup = true;
		} else if (strcmp(key, "default_policy") == 0) {
			rc = read_default_policy(c, sub, v, a);
		} else {
			rc = jfail(c, sub, "unknown key");
		}
		if (rc < 0)
			return -1;
	}
	return has_cgroup ? 0 : jfail(c, path, "missing \"cgroup\"");
}

/* Whether the cgroup at inner is outer or lies below it. */
static bool cgroup_within(const char *inner, const char *outer)
{
	size_t n = strlen(outer);

	if (strcmp(outer, "/") == 0)
		return true;
	return strncmp(inner, outer, n) == 0 &&
	       (inner[n] == '\0' || inner[n] == '/');
}

/*
 * A cgroup under two attach points would get two sets of programs and
 * two default policies: which one decides would be an accident.
 */
static int check_attach_overlap(const struct jctx *c,
				const struct agent_config *cfg)
{
	char path[KEY_PATH_LEN];

	for (size_t i = 0; i < cfg->n_attach; i++) {
		const char *a = cfg->attach[i].cgroup;

		snprintf(path, sizeof(path), "attach[%zu].cgroup", i);
		for (size_t j = 0; j < cfg->n_attach; j++) {
			const char *b = cfg->attach[j].cgroup;

			if (j < i && strcmp(a, b) == 0)
				return jfail(c, path,
					     "%s repeats attach[%zu].cgroup", a,
					     j);
			if (j != i && strcmp(a, b) != 0 && cgroup_within(a, b))
				return jfail(
					c, path,
					"%s lies under attach[%zu].cgroup %s",
					a, j, b);
		}
	}
	return 0;
}

/*
 * The length of the array val, from 1 to max; -1 after an error. The
 * messages: "expected EXPECTED", "an empty list would IF_EMPTY", "more
 * than MAX ITEMS".
 */
static int list_len(const struct jctx *c, const char *path, json_object *val,
		    const char *expected, const char *if_empty, size_t max,
		    const char *items, size_t *n)
{
	if (!json_object_is_type(val, json_type_array))
		return jfail(c, path, "expected %s", expected);
	*n = json_object_array_length(val);
	if (*n == 0)
		return jfail(c, path, "an empty list would %s", if_empty);
	if (*n > max)
		return jfail(c, path, "more than %zu %s", max, items);
	return 0;
}

static int read_attach(const struct jctx *c, const char *path, json_object *val,
		       struct agent_config *cfg)
{
	char sub[KEY_PATH_LEN];
	size_t n = 0;

	if (list_len(c, path, val, "an array",
		     "confine nothing (leave \"attach\" out for the default)",
		     AGENT_MAX_ATTACH, "attach points", &n) < 0)
		return -1;
	memset(cfg->attach, 0, sizeof(cfg->attach));
	for (size_t i = 0; i < n; i++) {
		snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
		if (read_attach_entry(c, sub, json_object_array_get_idx(val, i),
				      &cfg->attach[i]) < 0)
			return -1;
	}
	cfg->n_attach = n;
	return check_attach_overlap(c, cfg);
}

static int read_policies_dir(const struct jctx *c, const char *path,
			     json_object *val, struct agent_config *cfg)
{
	return copy_abs_path(c, path, val, cfg->policies_dir,
			     sizeof(cfg->policies_dir));
}

/* What the kernel's dev_valid_name() accepts. */
static int check_ifname(const struct jctx *c, const char *path,
			const char *name)
{
	if (strlen(name) >= IFNAMSIZ)
		return jfail(c, path,
			     "interface name \"%s\" longer than %d characters",
			     name, IFNAMSIZ - 1);
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
	    strpbrk(name, "/: \t\n\v\f\r"))
		return jfail(c, path, "\"%s\" is not a valid interface name",
			     name);
	return 0;
}

static int read_interface(const struct jctx *c, const char *path,
			  json_object *val, struct agent_config *cfg)
{
	const char *name = get_string(c, path, val, "an interface name");

	if (!name || check_ifname(c, path, name) < 0)
		return -1;
	for (size_t i = 0; i < cfg->n_interfaces; i++)
		if (strcmp(cfg->interfaces[i], name) == 0)
			return jfail(c, path, "\"%s\" repeats interfaces[%zu]",
				     name, i);
	strcpy(cfg->interfaces[cfg->n_interfaces++], name);
	return 0;
}

static int read_interfaces(const struct jctx *c, const char *path,
			   json_object *val, struct agent_config *cfg)
{
	char sub[KEY_PATH_LEN];
	size_t n = 0;

	if (json_object_is_type(val, json_type_string) &&
	    strcmp(json_object_get_string(val), "all") == 0) {
		cfg->all_interfaces = true;
		cfg->n_interfaces = 0;
		return 0;
	}
	if (list_len(c, path, val, "\"all\" or an array of interface names",
		     "leave every interface out (use \"all\")",
		     AGENT_MAX_INTERFACES, "interfaces", &n) < 0)
		return -1;
	cfg->all_interfaces = false;
	cfg->n_interfaces = 0;
	for (size_t i = 0; i < n; i++) {
		snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
		if (read_interface(c, sub, json_object_array_get_idx(val, i),
				   cfg) < 0)
			return -1;
	}
	return 0;
}

static int read_control_socket(const struct jctx *c, const char *path,
			       json_object *val, struct agent_config *cfg)
{
	return copy_abs_path(c, path, val, cfg->control_socket,
			     sizeof(cfg->control_socket));
}

static int read_control_group(const struct jctx *c, const char *path,
			      json_object *val, struct agent_config *cfg)
{
	cfg->control_group_set = true;
	return copy_string(c, path, val, "a group name", cfg->control_group,
			   sizeof(cfg->control_group));
}

static int read_tc_mode(const struct jctx *c, const char *path,
			json_object *val, struct agent_config *cfg)
{
	static const char *const modes[] = { [AGENT_TC_AUTO] = "auto",
					     [AGENT_TC_TCX] = "tcx",
					     [AGENT_TC_CLSACT] = "clsact" };
	const char *s = json_object_is_type(val, json_type_string) ?
				json_object_get_string(val) :
				"";

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (!strcmp(s, modes[i])) {
			cfg->tc_mode = (enum agent_tc_mode)i;
			return 0;
		}
	}
	return jfail(c, path, "expected \"auto\", \"tcx\" or \"clsact\"");
}

static const struct {
	const char *name;
	int (*read)(const struct jctx *c, const char *path, json_object *val,
		    struct agent_config *cfg);
} top_keys[] = {
	{ "tc", read_tc_mode },
	{ "version", read_version },
	{ "attach", read_attach },
	{ "policies_dir", read_policies_dir },
	{ "interfaces", read_interfaces },
	{ "control_socket", read_control_socket },
	{ "control_group", read_control_group },
};

static int read_top(const struct jctx *c, json_object *root,
		    struct agent_config *cfg)
{
	json_object *version;
	size_t k;

	if (!json_object_is_type(root, json_type_object))
		return jfail(c, "", "expected a JSON object at the top level");
	/* first: another version may mean other keys */
	if (json_object_object_get_ex(root, "version", &version) &&
	    read_version(c, "version", version, cfg) < 0)
		return -1;
	json_object_object_foreach(root, key, val) {
		for (k = 0; k < sizeof(top_keys) / sizeof(top_keys[0]); k++)
			if (strcmp(top_keys[k].name, key) == 0)
				break;
		if (k == sizeof(top_keys) / sizeof(top_keys[0]))
			return jfail(c, key, "unknown key");
		if (top_keys[k].read(c, key, val, cfg) < 0)
			return -1;
	}
	return 0;
}

/* 0 and *buf (NUL-terminated), or -1; the caller frees. */
static int read_all(int fd, const char *origin, char **buf, size_t *len,
		    char *err, size_t errlen)
{
	size_t cap = 0;
	char *data = NULL, *bigger;
	ssize_t n = 0;

	for (*len = 0;; *len += (size_t)n) {
		if (*len + 1 >= cap) {
			bigger = cap < JSON_FILE_MAX ?
					 realloc(data, cap + 65536) :
					 NULL;
			if (!bigger) {
				set_err(err, errlen, "%s: %s", origin,
					cap < JSON_FILE_MAX ?
						"out of memory" :
						"larger than 16 MiB");
				free(data);
				return -1;
			}
			data = bigger;
			cap += 65536;
		}
		n = read(fd, data + *len, cap - *len - 1);
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0)
			break;
	}
	if (n < 0) {
		set_err(err, errlen, "%s: %s", origin, strerror(errno));
		free(data);
		return -1;
	}
	data[*len] = '\0';
	*buf = data;
	return 0;
}

json_object *agent_json_read(int fd, const char *origin, char *err,
			     size_t errlen)
{
	json_object *root;
	size_t len;
	char *buf;

	if (read_all(fd, origin, &buf, &len, err, errlen) < 0)
		return NULL;
	root = policy_json_parse(origin, buf, len, err, errlen);
	free(buf);
	return root;
}

/* The gid of cfg->control_group, who may use the control socket. */
static int resolve_group(const struct jctx *c, struct agent_config *cfg)
{
	struct group gr, *found = NULL;
	size_t size = 1024;
	char *buf = NULL, *bigger;
	int rc;

	do {
		bigger = realloc(buf, size);
		if (!bigger) {
			free(buf);
			return jfail(c, "control_group", "out of memory");
		}
		buf = bigger;
		rc = getgrnam_r(cfg->control_group, &gr, buf, size, &found);
		size *= 2;
	} while (rc == ERANGE && size <= GROUP_BUF_MAX);
	if (found)
		cfg->control_gid = gr.gr_gid;
	free(buf);
	if (found)
		return 0;
	if (rc && rc != ENOENT && rc != ESRCH)
		return jfail(c, "control_group", "looking up group \"%s\": %s",
			     cfg->control_group, strerror(rc));
	/* The default group need not exist: then root alone may connect. */
	if (!cfg->control_group_set) {
		cfg->control_group[0] = '\0';
		return 0;
	}
	return jfail(
		c, "control_group",
		"no group \"%s\" (create it: groupadd --system %s; or set \"control_group\")",
		cfg->control_group, cfg->control_group);
}

static int load_file(const struct jctx *c, int fd, struct agent_config *cfg)
{
	json_object *root;
	struct stat st;
	int rc;

	if (fstat(fd, &st) < 0)
		return jfail(c, "", "%s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return jfail(c, "", "not a regular file");
	root = agent_json_read(fd, c->origin, c->err, c->errlen);
	if (!root)
		return -1;
	rc = read_top(c, root, cfg);
	json_object_put(root);
	return rc;
}

int agent_config_load(struct agent_config *cfg, const char *path, bool explicit,
		      char *err, size_t errlen)
{
	const struct jctx c = { .origin = path, .err = err, .errlen = errlen };
	struct agent_config next;
	int fd, rc = 0;

	agent_config_defaults(&next);
	if (strlen(path) >= sizeof(next.origin))
		return jfail(&c, "", "path too long");
	strcpy(next.origin, path);
	/* O_NONBLOCK: a FIFO put in the file's place must not hang the agent */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 && (errno != ENOENT || explicit))
		return jfail(&c, "", "%s", strerror(errno));
	if (fd >= 0) {
		rc = load_file(&c, fd, &next);
		close(fd);
	}
	if (rc < 0 || resolve_group(&c, &next) < 0)
		return -1;
	*cfg = next;
	return 0;
}
