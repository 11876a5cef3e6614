// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>

#include "common/error.h"
#include "test_util.h"
#include "agent/agent_config.h"

/* A group every test host has, for configs that must load. */
#define GROUP_OK "\"control_group\": \"root\""

#define A(n) "{\"cgroup\": \"/a" #n "\"}"
#define A4(n) A(n##0) "," A(n##1) "," A(n##2) "," A(n##3)
#define A16 A4(1) "," A4(2) "," A4(3) "," A4(4)
#define I(n) "\"if" #n "\""
#define I4(n) I(n##0) "," I(n##1) "," I(n##2) "," I(n##3)
#define I16 I4(1) "," I4(2) "," I4(3) "," I4(4)

/* Rows whose config must be refused; err follows "FILE: ". */
struct bad_row {
	const char *err;
	const char *json;
};

static const struct bad_row bad_rows[] = {
	{ "version: unsupported version 2 (this awf-bpf reads version 1)",
	  "{\"version\": 2, \"whatever\": 1}" },
	{ "version: expected an integer", "{\"version\": \"1\"}" },
	{ "frob: unknown key", "{\"frob\": 1}" },
	{ "expected a JSON object at the top level", "[1]" },
	{ "line 2: unexpected end of file", "{\"attach\": [\n" },
	{ "line 1: unexpected character", "{} {}" },
	{ "line 2: duplicate key \"tc\"",
	  "{\"tc\": \"tcx\",\n\"tc\": \"auto\"}" },
	{ "line 1: ", "{\"attach\": [},}" },
	{ "attach: expected an array", "{\"attach\": {}}" },
	{ "tc: expected \"auto\", \"tcx\" or \"clsact\"",
	  "{\"tc\": \"ebpf\"}" },
	{ "tc: expected \"auto\", \"tcx\" or \"clsact\"", "{\"tc\": 1}" },
	{ "attach: an empty list would confine nothing", "{\"attach\": []}" },
	{ "attach: more than 16 attach points",
	  "{\"attach\": [" A16 "," A(99) "]}" },
	{ "attach[0]: expected an object {\"cgroup\": ...}",
	  "{\"attach\": [\"/awf-bpf\"]}" },
	{ "attach[0]: missing \"cgroup\"",
	  "{\"attach\": [{\"default_policy\": \"deny\"}]}" },
	{ "attach[1].cgroup: must be an absolute cgroup path",
	  "{\"attach\": [{\"cgroup\": \"/a\"}, {\"cgroup\": \"awf-bpf\"}]}" },
	{ "attach[0].cgroup: must not contain \".\" or \"..\" components",
	  "{\"attach\": [{\"cgroup\": \"/awf-bpf/../x\"}]}" },
	{ "attach[0].cgroup: must not contain \".\"",
	  "{\"attach\": [{\"cgroup\": \"/./x\"}]}" },
	{ "attach[0].cgroup: has an empty component",
	  "{\"attach\": [{\"cgroup\": \"/awf-bpf//x\"}]}" },
	{ "attach[0].cgroup: has an empty component (",
	  "{\"attach\": [{\"cgroup\": \"/awf-bpf/\"}]}" },
	{ "attach[0].cgroup: expected a cgroup path string",
	  "{\"attach\": [{\"cgroup\": 5}]}" },
	{ "attach[0].cgroup: must not be empty",
	  "{\"attach\": [{\"cgroup\": \"\"}]}" },
	{ "attach[0].cgroup: contains a NUL character",
	  "{\"attach\": [{\"cgroup\": \"/a\\u0000b\"}]}" },
	{ "attach[1].cgroup: /a repeats attach[0].cgroup",
	  "{\"attach\": [{\"cgroup\": \"/a\"}, {\"cgroup\": \"/a\"}]}" },
	{ "attach[1].cgroup: /a/b lies under attach[0].cgroup /a",
	  "{\"attach\": [{\"cgroup\": \"/a\"}, {\"cgroup\": \"/a/b\"}]}" },
	{ "attach[0].cgroup: /a/b lies under attach[1].cgroup /a",
	  "{\"attach\": [{\"cgroup\": \"/a/b\"}, {\"cgroup\": \"/a\"}]}" },
	{ "attach[1].cgroup: /a lies under attach[0].cgroup /",
	  "{\"attach\": [{\"cgroup\": \"/\"}, {\"cgroup\": \"/a\"}]}" },
	{ "attach[0].default_policy: \"x y\" is not a policy name",
	  "{\"attach\": [{\"cgroup\": \"/a\", \"default_policy\": \"x y\"}]}" },
	{ "attach[0].default_policy: expected a policy name string",
	  "{\"attach\": [{\"cgroup\": \"/a\", \"default_policy\": null}]}" },
	{ "attach[0].when: unknown key",
	  "{\"attach\": [{\"cgroup\": \"/a\", \"when\": 1}]}" },
	{ "policies_dir: must be an absolute path",
	  "{\"policies_dir\": \"policies\"}" },
	{ "policies_dir: expected an absolute path", "{\"policies_dir\": 1}" },
	{ "interfaces: expected \"all\" or an array of interface names",
	  "{\"interfaces\": \"any\"}" },
	{ "interfaces: an empty list would leave every interface out",
	  "{\"interfaces\": []}" },
	{ "interfaces: more than 16 interfaces",
	  "{\"interfaces\": [" I16 "," I(99) "]}" },
	{ "interfaces[0]: interface name \"abcdefghijklmnop\" longer than 15 characters",
	  "{\"interfaces\": [\"abcdefghijklmnop\"]}" },
	{ "interfaces[1]: \"eth0\" repeats interfaces[0]",
	  "{\"interfaces\": [\"eth0\", \"eth0\"]}" },
	{ "interfaces[0]: \"a/b\" is not a valid interface name",
	  "{\"interfaces\": [\"a/b\"]}" },
	{ "interfaces[0]: \"..\" is not a valid interface name",
	  "{\"interfaces\": [\"..\"]}" },
	{ "interfaces[1]: \"a b\" is not a valid interface name",
	  "{\"interfaces\": [\"eth0\", \"a b\"]}" },
	{ "interfaces[0]: expected an interface name",
	  "{\"interfaces\": [1]}" },
	{ "interfaces[0]: must not be empty", "{\"interfaces\": [\"\"]}" },
	{ "control_socket: must be an absolute path",
	  "{\"control_socket\": \"agent.sock\"}" },
	{ "control_socket: longer than 107 bytes",
	  "{\"control_socket\": \"/run/awf-bpf/"
	  "0123456789012345678901234567890123456789"
	  "0123456789012345678901234567890123456789"
	  "0123456789012345678901234567890123456789.sock\"}" },
	{ "control_group: no group \"awf-bpf-no-such-group\" (create it",
	  "{\"control_group\": \"awf-bpf-no-such-group\"}" },
	{ "control_group: must not be empty", "{\"control_group\": \"\"}" },
	{ "control_group: expected a group name", "{\"control_group\": 0}" },
};

static int load_text(struct agent_config *cfg, const char *text, char *err,
		     char path[64])
{
	int rc;

	write_temp(path, text);
	rc = agent_config_load(cfg, path, true, err, AWF_ERR_LEN);
	unlink(path);
	return rc;
}

static void test_bad(void **state)
{
	const struct bad_row *row = *state;
	char err[AWF_ERR_LEN] = "", path[64], want[AWF_ERR_LEN];
	struct agent_config cfg;

	agent_config_defaults(&cfg);
	assert_int_equal(load_text(&cfg, row->json, err, path), -1);
	snprintf(want, sizeof(want), "%s: %s", path, row->err);
	assert_err_has(err, want);
	/* a failed load leaves the previous config alone */
	assert_string_equal(cfg.attach[0].cgroup, "/awf-bpf");
	assert_int_equal(cfg.n_attach, 1);
}

static void test_long_cgroup(void **state)
{
	char text[1024], err[AWF_ERR_LEN] = "", path[64];
	struct agent_config cfg;

	(void)state;
	snprintf(text, sizeof(text),
		 "{\"attach\": [{\"cgroup\": \"/%0511d\"}]}", 0);
	assert_int_equal(load_text(&cfg, text, err, path), -1);
	assert_err_has(err, "attach[0].cgroup: longer than 511 bytes");
	snprintf(text, sizeof(text),
		 "{\"attach\": [{\"cgroup\": \"/%0510d\"}], " GROUP_OK "}", 0);
	assert_int_equal(load_text(&cfg, text, err, path), 0);
	assert_int_equal(strlen(cfg.attach[0].cgroup), 511);
}

static void test_defaults_in_file(void **state)
{
	char err[AWF_ERR_LEN] = "", path[64];
	struct agent_config cfg;

	(void)state;
	assert_int_equal(load_text(&cfg, "{" GROUP_OK "}", err, path), 0);
	assert_string_equal(cfg.origin, path);
	assert_int_equal(cfg.n_attach, 1);
	assert_string_equal(cfg.attach[0].cgroup, "/awf-bpf");
	assert_string_equal(cfg.attach[0].default_policy, "deny");
	assert_string_equal(cfg.policies_dir, "/etc/awf-bpf/policies");
	assert_true(cfg.all_interfaces);
	assert_int_equal(cfg.n_interfaces, 0);
	assert_string_equal(cfg.control_socket, "/run/awf-bpf/agent.sock");
	assert_string_equal(cfg.control_group, "root");
	assert_int_equal(cfg.control_gid, 0);
	agent_config_free(&cfg);
}

static void test_full(void **state)
{
	static const char text[] =
		"{\"version\": 1,\n"
		" \"attach\": [{\"cgroup\": \"/awf-bpf\", \"default_policy\": \"ci.v2\"},\n"
		"            {\"cgroup\": \"/system.slice/runner.service/jobs\"},\n"
		"            {\"cgroup\": \"/a..b/.c\", \"default_policy\": \"unrestricted\"}],\n"
		" \"policies_dir\": \"/srv/policies\",\n"
		" \"interfaces\": [\"eth0\", \"wlp2s0\", \"br-0123456789ab\"],\n"
		" \"control_socket\": \"/run/x.sock\",\n"
		" " GROUP_OK "}\n";
	char err[AWF_ERR_LEN] = "", path[64];
	struct agent_config cfg;

	(void)state;
	if (load_text(&cfg, text, err, path) < 0)
		print_error("unexpected error: %s\n", err);
	assert_string_equal(err, "");
	assert_int_equal(cfg.n_attach, 3);
	assert_string_equal(cfg.attach[0].default_policy, "ci.v2");
	assert_string_equal(cfg.attach[1].cgroup,
			    "/system.slice/runner.service/jobs");
	assert_string_equal(cfg.attach[1].default_policy, "deny");
	assert_string_equal(cfg.attach[2].cgroup, "/a..b/.c");
	assert_string_equal(cfg.attach[2].default_policy, "unrestricted");
	assert_string_equal(cfg.policies_dir, "/srv/policies");
	assert_false(cfg.all_interfaces);
	assert_int_equal(cfg.n_interfaces, 3);
	assert_string_equal(cfg.interfaces[2], "br-0123456789ab");
	assert_string_equal(cfg.control_socket, "/run/x.sock");
}

/* Exactly the bounds: 16 attach points, 16 interfaces, "/" alone. */
static void test_bounds(void **state)
{
	static const char text[] = "{\"attach\": [" A16 "], "
				   "\"interfaces\": [" I16 "], " GROUP_OK "}";
	char err[AWF_ERR_LEN] = "", path[64];
	struct agent_config cfg;

	(void)state;
	assert_int_equal(load_text(&cfg, text, err, path), 0);
	assert_int_equal(cfg.n_attach, 16);
	assert_int_equal(cfg.n_interfaces, 16);
	assert_int_equal(load_text(&cfg,
				   "{\"attach\": [{\"cgroup\": \"/\"}], "
				   "\"interfaces\": \"all\", " GROUP_OK "}",
				   err, path),
			 0);
	assert_string_equal(cfg.attach[0].cgroup, "/");
	assert_true(cfg.all_interfaces);
}

/* Missing at the default path: the defaults (and the default group). */
static void test_missing_implicit(void **state)
{
	char err[AWF_ERR_LEN] = "";
	struct agent_config cfg;
	int rc;

	(void)state;
	rc = agent_config_load(&cfg, "/nonexistent/agent.json", false, err,
			       AWF_ERR_LEN);
	assert_int_equal(rc, 0);
	assert_string_equal(cfg.attach[0].cgroup, "/awf-bpf");
	assert_string_equal(cfg.origin, "/nonexistent/agent.json");
	/* The default group need not exist: then root alone may connect. */
	if (!getgrnam("awf-bpf"))
		assert_string_equal(cfg.control_group, "");
}

/* A group the file names must exist. */
static void test_named_group_missing(void **state)
{
	char err[AWF_ERR_LEN] = "";
	struct agent_config cfg;
	char path[] = "/tmp/awft-agent-config-XXXXXX";
	const char *text = "{\"control_group\": \"no-such-group-awft\"}";
	int fd, rc;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (int)strlen(text));
	close(fd);
	rc = agent_config_load(&cfg, path, true, err, AWF_ERR_LEN);
	unlink(path);
	assert_int_equal(rc, -1);
	assert_err_has(err, "control_group: no group \"no-such-group-awft\"");
}

static void test_missing_explicit(void **state)
{
	char err[AWF_ERR_LEN] = "";
	struct agent_config cfg;

	(void)state;
	assert_int_equal(agent_config_load(&cfg, "/nonexistent/agent.json",
					   true, err, AWF_ERR_LEN),
			 -1);
	assert_err_has(err,
		       "/nonexistent/agent.json: No such file or directory");
}

static void test_not_regular(void **state)
{
	char err[AWF_ERR_LEN] = "", dir[] = "/tmp/awf-test-XXXXXX";
	struct agent_config cfg;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(agent_config_load(&cfg, dir, true, err, AWF_ERR_LEN),
			 -1);
	rmdir(dir);
	assert_err_has(err, "not a regular file");
}

/* Reading is shared with the policies: one check of its edges. */
static void test_json_read(void **state)
{
	char err[AWF_ERR_LEN] = "", path[64];
	json_object *o;
	int fd;

	(void)state;
	write_temp(path, "{\"a\": [1, 2]}\n\n");
	fd = open(path, O_RDONLY);
	o = agent_json_read(fd, path, err, AWF_ERR_LEN);
	close(fd);
	unlink(path);
	assert_non_null(o);
	json_object_put(o);
	write_temp(path, "");
	fd = open(path, O_RDONLY);
	assert_null(agent_json_read(fd, "e.json", err, AWF_ERR_LEN));
	close(fd);
	unlink(path);
	assert_err_has(err, "e.json: line 1: unexpected end of file");
	assert_null(agent_json_read(-1, "bad-fd", err, AWF_ERR_LEN));
	assert_err_has(err, "bad-fd: Bad file descriptor");
	write_temp(path, "");
	fd = open(path, O_RDWR);
	assert_int_equal(write(fd, "{}\0", 3), 3);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_null(agent_json_read(fd, "nul.json", err, AWF_ERR_LEN));
	close(fd);
	unlink(path);
	assert_err_has(err, "nul.json: line 1: contains a NUL byte");
}

struct name_row {
	const char *name;
	bool ok;
};

static const struct name_row name_rows[] = {
	{ "ci", true },
	{ "A.b_c-9", true },
	{ "deny", true }, /* a valid name; reserved only for files */
	{ "0123456789012345678901234567890123456789012345678901234567890123",
	  true },
	{ "01234567890123456789012345678901234567890123456789012345678901234",
	  false },
	{ "", false },
	{ "a b", false },
	{ "a/b", false },
	{ "é", false },
};

static void test_name(void **state)
{
	const struct name_row *row = *state;

	assert_int_equal(agent_policy_name_ok(row->name), row->ok);
}

int main(void)
{
	struct test_list l = { 0 };

	TL_ROWS(&l, test_bad, bad_rows);
	TL_ROWS(&l, test_name, name_rows);
	tl_add(&l, "cgroup path length", test_long_cgroup, NULL);
	tl_add(&l, "defaults from an empty file", test_defaults_in_file, NULL);
	tl_add(&l, "every member", test_full, NULL);
	tl_add(&l, "bounds", test_bounds, NULL);
	tl_add(&l, "missing at the default path", test_missing_implicit, NULL);
	tl_add(&l, "a group the file names must exist",
	       test_named_group_missing, NULL);
	tl_add(&l, "missing when given", test_missing_explicit, NULL);
	tl_add(&l, "a directory", test_not_regular, NULL);
	tl_add(&l, "json reader", test_json_read, NULL);
	return tl_run("agent_config", &l);
}
