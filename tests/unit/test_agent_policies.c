// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>

#include "common/error.h"
#include "test_util.h"
#include "agent/agent_policies.h"

#define V1 "{\"version\": 1, "

/* resolv.conf for policies without dns_servers; no stub fallback. */
static char resolv[64];
#define NO_STUB "/nonexistent/stub-resolv.conf"

struct file {
	const char *name;
	const char *text; /* NULL: a directory */
};

static void make_dir(char dir[64], const struct file *files, size_t n)
{
	char path[PATH_MAX];
	int fd;

	snprintf(dir, 64, "/tmp/awf-test-XXXXXX");
	assert_non_null(mkdtemp(dir));
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i].name);
		if (!files[i].text) {
			assert_int_equal(mkdir(path, 0755), 0);
			continue;
		}
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		assert_true(fd >= 0);
		assert_int_equal(
			write(fd, files[i].text, strlen(files[i].text)),
			(ssize_t)strlen(files[i].text));
		close(fd);
	}
}

static int remove_one(const char *path, const struct stat *st, int type,
		      struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

/* Removes the directory and what make_dir() or a test put in it. */
static void remove_dir(const char *dir)
{
	assert_int_equal(nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

static int load(struct agent_policy_set *set, const char *dir, char *err)
{
	return agent_policies_load(set, dir, resolv, NO_STUB, err, AWF_ERR_LEN);
}

/* Rows: one policy file that must be refused; err follows "DIR/". */
struct bad_row {
	const char *err;
	const char *file;
	const char *text;
};

static const struct bad_row bad_rows[] = {
	{ "x.json: selector: expected a glob string or an array of 1 to 64 of them",
	  "x.json", V1 "\"selector\": 5}" },
	{ "x.json: selector: expected a glob string or an array of 1 to 64",
	  "x.json", V1 "\"selector\": []}" },
	{ "x.json: selector[1]: expected a glob string", "x.json",
	  V1 "\"selector\": [\"/a\", 3]}" },
	{ "x.json: selector: must be an absolute cgroup path", "x.json",
	  V1 "\"selector\": \"a/*\"}" },
	{ "x.json: selector[0]: must not contain \".\" or \"..\" components",
	  "x.json", V1 "\"selector\": [\"/a/../b\"]}" },
	{ "x.json: selector[0]: has an empty component", "x.json",
	  V1 "\"selector\": [\"/a//b\"]}" },
	{ "x.json: selector: contains a NUL character", "x.json",
	  V1 "\"selector\": \"/a\\u0000\"}" },
	{ "x.json: alow_domains: unknown key", "x.json",
	  V1 "\"selector\": \"/a\", \"alow_domains\": []}" },
	{ "x.json: version: missing", "x.json", "{\"selector\": \"/a\"}" },
	{ "x.json: allow_cidrs[0]: 10.1.2.3/16: host bits set", "x.json",
	  V1 "\"allow_cidrs\": [\"10.1.2.3/16\"], \"selector\": \"/a\"}" },
	{ "x.json: policy: proxy: an IPv6 proxy needs \"ipv6\": true", "x.json",
	  V1 "\"ipv6\": false, \"proxy\": \"[2001:db8::3]:3128\"}" },
	{ "x.json: line 1: unexpected end of file", "x.json", V1 },
	{ "x.json: expected a JSON object at the top level", "x.json",
	  "[\"selector\"]" },
	{ "deny.json: \"deny\" is the name of a built-in policy", "deny.json",
	  V1 "\"selector\": \"/a\"}" },
	{ "unrestricted.json: \"unrestricted\" is the name of a built-in policy",
	  "unrestricted.json", V1 "}" },
	{ "a b.json: the policy name \"a b\" must match [A-Za-z0-9._-]{1,64}",
	  "a b.json", V1 "}" },
	{ "the policy name \"01234567890123456789012345678901234567890123456789012345678901234\" must match",
	  "01234567890123456789012345678901234567890123456789012345678901234.json",
	  V1 "}" },
};

static void test_bad(void **state)
{
	const struct bad_row *row = *state;
	const struct file f = { row->file, row->text };
	struct agent_policy_set set = { 0 };
	char dir[64], err[AWF_ERR_LEN] = "", want[AWF_ERR_LEN];

	make_dir(dir, &f, 1);
	assert_int_equal(load(&set, dir, err), -1);
	if (strncmp(row->err, row->file, strlen(row->file)) == 0)
		snprintf(want, sizeof(want), "%s/%s", dir, row->err);
	else
		snprintf(want, sizeof(want), "%s", row->err);
	assert_err_has(err, want);
	assert_int_equal(set.n, 0);
	remove_dir(dir);
}

static void test_too_many_selectors(void **state)
{
	char text[4096] = V1 "\"selector\": [", *p = text + strlen(text);
	struct agent_policy_set set = { 0 };
	char dir[64], err[AWF_ERR_LEN] = "";
	struct file f = { "x.json", text };

	(void)state;
	for (int i = 0; i < 65; i++)
		p += sprintf(p, "%s\"/a/%d\"", i ? ", " : "", i);
	strcpy(p, "]}");
	make_dir(dir, &f, 1);
	assert_int_equal(load(&set, dir, err), -1);
	assert_err_has(err, "x.json: selector: expected a glob string or an "
			    "array of 1 to 64 of them");
	remove_dir(dir);
	/* 64 is fine */
	strcpy(strrchr(text, ','), "]}");
	make_dir(dir, &f, 1);
	assert_int_equal(load(&set, dir, err), 0);
	assert_int_equal(set.v[0].n_selectors, 64);
	agent_policies_free(&set);
	remove_dir(dir);
}

static const struct file good_files[] = {
	{ "b-all.json", V1 "\"selector\": [\"/awf-bpf/*\", \"/awf-bpf/x/*\"],"
			   " \"allow_domains\": [\"example.com\"]}" },
	{ "a-ci.json", V1
	  "\"selector\": \"/awf-bpf/ci-*\", \"dns_servers\": [\"192.0.2.1\"],"
	  " \"allow_domains\": [\"github.com\"]}" },
	{ "default.json", V1 "\"allow_cidrs\": [\"10.0.0.0/8\"]}" },
	/* passed over: hidden, not *.json, not a regular file */
	{ ".a-ci.json", "{broken" },
	{ "README", "{broken" },
	{ "sub.json", NULL },
	{ ".json", "{broken" },
};

static void test_good_dir(void **state)
{
	struct agent_policy_set set = { 0 };
	const struct agent_policy *p, *conflict;
	char dir[64], err[AWF_ERR_LEN] = "", fifo[128];

	(void)state;
	make_dir(dir, good_files, ARRAY_SIZE(good_files));
	snprintf(fifo, sizeof(fifo), "%s/fifo.json", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	if (load(&set, dir, err) < 0)
		print_error("unexpected error: %s\n", err);
	assert_int_equal(set.n, 3);
	assert_string_equal(set.v[0].name, "a-ci");
	assert_string_equal(set.v[1].name, "b-all");
	assert_string_equal(set.v[2].name, "default");
	assert_int_equal(set.v[0].n_selectors, 1);
	assert_string_equal(set.v[0].selectors[0], "/awf-bpf/ci-*");
	assert_int_equal(set.v[1].n_selectors, 2);
	assert_int_equal(set.v[2].n_selectors, 0);
	/* the policies proper, finalized: DNS servers from resolv_conf */
	assert_int_equal(set.v[0].policy.n_allow_domains, 1);
	assert_string_equal(set.v[0].policy.allow_domains[0].name,
			    "github.com");
	assert_int_equal(set.v[1].policy.n_dns_servers, 1);
	assert_int_equal(set.v[2].policy.n_cidrs, 1);

	p = agent_policies_match(&set, "/awf-bpf/ci-1", &conflict);
	assert_ptr_equal(p, &set.v[0]);
	assert_ptr_equal(conflict, &set.v[1]);
	p = agent_policies_match(&set, "/awf-bpf/ci-1", NULL);
	assert_ptr_equal(p, &set.v[0]);
	p = agent_policies_match(&set, "/awf-bpf/other", &conflict);
	assert_ptr_equal(p, &set.v[1]);
	assert_null(conflict);
	p = agent_policies_match(&set, "/awf-bpf/x/y", &conflict);
	assert_ptr_equal(p, &set.v[1]);
	assert_null(conflict);
	assert_null(
		agent_policies_match(&set, "/awf-bpf/ci-1/child", &conflict));
	assert_null(conflict);
	assert_null(agent_policies_match(&set, "/other", NULL));
	assert_ptr_equal(agent_policies_find(&set, "default"), &set.v[2]);
	assert_null(agent_policies_find(&set, "nope"));
	agent_policies_free(&set);
	remove_dir(dir);
}

/* Three files, the middle one broken: nothing changes. */
static void test_broken_dir(void **state)
{
	static const struct file files[] = {
		{ "a.json", V1 "\"selector\": \"/awf-bpf/a\"}" },
		{ "b.json", V1 "\"selector\": \"/awf-bpf/b\", \"ports\": []}" },
		{ "c.json", V1 "\"selector\": \"/awf-bpf/c\"}" },
	};
	struct agent_policy_set set = { 0 };
	char dir[64], good[64], err[AWF_ERR_LEN] = "", want[AWF_ERR_LEN];

	(void)state;
	make_dir(good, good_files, 3);
	assert_int_equal(load(&set, good, err), 0);
	make_dir(dir, files, ARRAY_SIZE(files));
	assert_int_equal(load(&set, dir, err), -1);
	snprintf(want, sizeof(want),
		 "%s/b.json: ports: an empty list would allow nothing", dir);
	assert_err_has(err, want);
	/* the previous set is still in force */
	assert_int_equal(set.n, 3);
	assert_string_equal(set.v[0].name, "a-ci");
	agent_policies_free(&set);
	assert_int_equal(load(&set, "/nonexistent/policies", err), -1);
	assert_err_has(err, "/nonexistent/policies: No such file or directory");
	remove_dir(dir);
	remove_dir(good);
}

static void test_dangling_link(void **state)
{
	struct agent_policy_set set = { 0 };
	char dir[64], link[128], err[AWF_ERR_LEN] = "", want[AWF_ERR_LEN];

	(void)state;
	make_dir(dir, NULL, 0);
	snprintf(link, sizeof(link), "%s/gone.json", dir);
	assert_int_equal(symlink("/nonexistent/gone.json", link), 0);
	assert_int_equal(load(&set, dir, err), -1);
	snprintf(want, sizeof(want), "%s: No such file or directory", link);
	assert_err_has(err, want);
	remove_dir(dir);
	/* an empty directory: no policies, no error */
	make_dir(dir, NULL, 0);
	assert_int_equal(load(&set, dir, err), 0);
	assert_int_equal(set.n, 0);
	agent_policies_free(&set);
	remove_dir(dir);
}

/* fnmatch(FNM_PATHNAME): '*' and '?' stay within one component. */
struct match_row {
	const char *name;
	const char *selector;
	const char *path;
	bool match;
};

static const struct match_row match_rows[] = {
	{ "/a/* matches /a/b", "/a/*", "/a/b", true },
	{ "/a/* not /a/b/c", "/a/*", "/a/b/c", false },
	{ "/a/* not /a", "/a/*", "/a", false },
	{ "/a/* matches /a/.b", "/a/*", "/a/.b", true },
	{ "/a/*/c matches /a/b/c", "/a/*/c", "/a/b/c", true },
	{ "/a/b exact", "/a/b", "/a/b", true },
	{ "/a/b not /a/bc", "/a/b", "/a/bc", false },
	{ "/a/ci-[0-9]* matches /a/ci-1x", "/a/ci-[0-9]*", "/a/ci-1x", true },
	{ "/a/ci-[0-9]* not /a/ci-x", "/a/ci-[0-9]*", "/a/ci-x", false },
	{ "/a/? not /a/bc", "/a/?", "/a/bc", false },
	{ "/* matches /a", "/*", "/a", true },
	{ "/* not /a/b", "/*", "/a/b", false },
	{ "/a* not /a/b", "/a*", "/a/b", false },
	{ "escaped star is literal", "/a/\\*", "/a/*", true },
	{ "escaped star not /a/b", "/a/\\*", "/a/b", false },
};

static void test_match(void **state)
{
	const struct match_row *row = *state;
	char *sel = (char *)row->selector;
	struct agent_policy p = { .name = "p",
				  .selectors = &sel,
				  .n_selectors = 1 };
	struct agent_policy_set set = { .v = &p, .n = 1 };

	assert_int_equal(agent_policies_match(&set, row->path, NULL) != NULL,
			 row->match);
}

/* Selectors against attach points; err is NULL when they fit. */
struct attach_row {
	const char *name;
	const char *selector;
	const char *attach[2];
	const char *err;
};

static const struct attach_row attach_rows[] = {
	{ "glob below", "/awf-bpf/ci-*", { "/awf-bpf" }, NULL },
	{ "the attach point itself", "/awf-bpf", { "/awf-bpf" }, NULL },
	{ "literal below", "/awf-bpf/a/b", { "/awf-bpf" }, NULL },
	{ "escaped star below", "/awf-bpf/\\*", { "/awf-bpf" }, NULL },
	{ "second attach point", "/x/*", { "/awf-bpf", "/x" }, NULL },
	{ "attach at the root", "/*", { "/" }, NULL },
	{ "sibling by glob",
	  "/awf-bpf*",
	  { "/awf-bpf" },
	  "p.json: selector[0]: \"/awf-bpf*\" can match outside every attach point (/awf-bpf)" },
	{ "sibling by ?", "/awf-bp?/x", { "/awf-bpf" }, "can match outside" },
	{ "sibling literal",
	  "/awf-bpf-x/a",
	  { "/awf-bpf" },
	  "can match outside" },
	{ "parent", "/", { "/awf-bpf" }, "can match outside" },
	{ "elsewhere",
	  "/other/*",
	  { "/awf-bpf", "/x" },
	  "\"/other/*\" can match outside every attach point (/awf-bpf, /x)" },
	{ "bracket in the attach part",
	  "/aw[f]-bpf/x",
	  { "/awf-bpf" },
	  "can match outside" },
	{ "star at the top", "/*/x", { "/awf-bpf" }, "can match outside" },
};

static void test_attach(void **state)
{
	const struct attach_row *row = *state;
	char *sel[2] = { "/awf-bpf/fine", (char *)row->selector };
	struct agent_policy p = { .name = "p",
				  .path = "p.json",
				  .selectors = sel + 1,
				  .n_selectors = 1,
				  .selector_array = true };
	struct agent_policy_set set = { .v = &p, .n = 1 };
	struct agent_config cfg;
	char err[AWF_ERR_LEN] = "";

	agent_config_defaults(&cfg);
	cfg.n_attach = 0;
	for (size_t i = 0; i < 2 && row->attach[i]; i++)
		strcpy(cfg.attach[cfg.n_attach++].cgroup, row->attach[i]);
	if (!row->err) {
		assert_int_equal(agent_policies_check_attach(&set, &cfg, err,
							     AWF_ERR_LEN),
				 0);
		return;
	}
	assert_int_equal(
		agent_policies_check_attach(&set, &cfg, err, AWF_ERR_LEN), -1);
	assert_err_has(err, row->err);
	/* the key path follows how the file wrote it */
	p.selectors = sel;
	p.n_selectors = 2;
	p.selector_array = true;
	assert_int_equal(
		agent_policies_check_attach(&set, &cfg, err, AWF_ERR_LEN), -1);
	assert_err_has(err, "p.json: selector[1]: ");
	p.selectors = sel + 1;
	p.n_selectors = 1;
	p.selector_array = false;
	assert_int_equal(
		agent_policies_check_attach(&set, &cfg, err, AWF_ERR_LEN), -1);
	assert_err_has(err, "p.json: selector: ");
}

static void test_defaults(void **state)
{
	struct agent_policy p = { .name = "ci" };
	struct agent_policy_set set = { .v = &p, .n = 1 };
	struct agent_config cfg;
	char err[AWF_ERR_LEN] = "";

	(void)state;
	agent_config_defaults(&cfg);
	cfg.n_attach = 3;
	strcpy(cfg.attach[1].cgroup, "/b");
	strcpy(cfg.attach[1].default_policy, "unrestricted");
	strcpy(cfg.attach[2].cgroup, "/c");
	strcpy(cfg.attach[2].default_policy, "ci");
	assert_int_equal(
		agent_policies_check_defaults(&set, &cfg, err, AWF_ERR_LEN), 0);
	strcpy(cfg.attach[2].default_policy, "cd");
	assert_int_equal(
		agent_policies_check_defaults(&set, &cfg, err, AWF_ERR_LEN),
		-1);
	assert_err_has(err,
		       "/etc/awf-bpf/agent.json: attach[2].default_policy: "
		       "no policy \"cd\" in /etc/awf-bpf/policies");
}

static int setup(void)
{
	static const char text[] = "nameserver 192.0.2.53\n";
	int fd;

	snprintf(resolv, sizeof(resolv), "/tmp/awf-test-XXXXXX");
	fd = mkstemp(resolv);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return -1;
	close(fd);
	return 0;
}

int main(void)
{
	struct test_list l = { 0 };
	int failed;

	if (setup() < 0) {
		perror("resolv.conf for the tests");
		return 1;
	}
	TL_ROWS(&l, test_bad, bad_rows);
	TL_ROWS(&l, test_match, match_rows);
	TL_ROWS(&l, test_attach, attach_rows);
	tl_add(&l, "65 selectors", test_too_many_selectors, NULL);
	tl_add(&l, "a directory of policies", test_good_dir, NULL);
	tl_add(&l, "a broken file keeps the old set", test_broken_dir, NULL);
	tl_add(&l, "dangling link and empty directory", test_dangling_link,
	       NULL);
	tl_add(&l, "default policies exist", test_defaults, NULL);
	failed = tl_run("agent_policies", &l);
	unlink(resolv);
	return failed;
}
