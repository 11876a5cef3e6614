// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * policy_load.c - reads a v1 policy file (policy/README.md) into a policy.
 * Every key is checked against a table, so that a typo ("alow_domains")
 * is an error rather than a silently narrower or wider policy.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/cidr.h"
#include "policy/domain.h"
#include "common/array.h"
#include "common/error.h"
#include "common/json_keys.h"
#include "common/json_stream.h"
#include "policy/policy_int.h"
#include "policy/policy_load.h"
#include "policy/ports.h"

#define PATH_LEN 256

typedef int (*jread_fn)(const struct jctx *c, const char *path,
			json_object *val, void *target);

/* Parses one string value into target; the message names the value. */
typedef int (*parse_fn)(void *target, const char *text, char *why,
			size_t whylen);

/*
 * How a key's value is read: by read; as an array whose elements each
 * reads; as an object of keys; or as a string for parse, where what says
 * what the string should be.
 */
struct jkey {
	const char *name;
	jread_fn read;
	jread_fn each;
	const struct jkey *keys;
	parse_fn parse;
	const char *what;
};

struct domain_entry {
	bool block;
	bool has_name;
	uint16_t scheme_port; /* "https://NAME": 443, "http://NAME": 80 */
	char name[POLICY_MAX_DOMAIN_LEN + 1];
	struct policy_domain d;
};

struct cidr_entry {
	bool has_cidr;
	bool has_ports;
	struct policy_cidr cidr;
	struct awf_port_set ports;
};

struct localhost_entry {
	enum awf_localhost_mode mode;
	struct awf_port_set ports;
};

/*
 * Key paths of absurd depth or key length are cut at PATH_LEN: the start
 * still leads to the spot.
 */
__attribute__((format(printf, 2, 3))) static const char *
path_fmt(char *buf, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, PATH_LEN, fmt, ap);
	va_end(ap);
	return buf;
}

static const char *path_key(char *buf, const char *parent, const char *key)
{
	return path_fmt(buf, "%s%s%s", parent, *parent ? "." : "", key);
}

/* By hand: a list of a million entries would be a million snprintf()s. */
static const char *path_index(char *buf, const char *parent, size_t i)
{
	char num[24], *d = num + sizeof(num) - 1;
	size_t len = strnlen(parent, PATH_LEN), n;

	*d = '\0';
	do
		*--d = (char)('0' + i % 10);
	while ((i /= 10) != 0);
	n = (size_t)(num + sizeof(num) - 1 - d);
	if (len + n + 3 > PATH_LEN) /* cut where path_fmt() cuts */
		return path_fmt(buf, "%s[%s]", parent, d);
	memmove(buf, parent, len);
	buf[len] = '[';
	memcpy(buf + len + 1, d, n);
	buf[len + 1 + n] = ']';
	buf[len + 2 + n] = '\0';
	return buf;
}

static int get_bool(const struct jctx *c, const char *path, json_object *val,
		    bool *out)
{
	if (!json_object_is_type(val, json_type_boolean))
		return jfail(c, path, "expected a boolean");
	*out = json_object_get_boolean(val);
	return 0;
}

static int get_uint(const struct jctx *c, const char *path, json_object *val,
		    long long min, long long max, unsigned int *out)
{
	long long v;

	if (!json_object_is_type(val, json_type_int))
		return jfail(c, path, "expected an integer");
	v = json_object_get_int64(val);
	if (v < min || v > max)
		return jfail(c, path, "%lld out of range %lld-%lld", v, min,
			     max);
	*out = (unsigned int)v;
	return 0;
}

static int read_string(const struct jctx *c, const char *path, json_object *val,
		       const char *what, parse_fn parse, void *target)
{
	char why[AWF_ERR_LEN];
	const char *text = jget_string(c, path, val, what);

	if (!text)
		return -1;
	if (parse(target, text, why, sizeof(why)) < 0)
		return jfail(c, path, "%s", why);
	return 0;
}

/* Calls read for each element; path names the element in errors. */
static int read_array(const struct jctx *c, const char *path, json_object *val,
		      jread_fn read, void *target)
{
	char sub[PATH_LEN];

	if (!json_object_is_type(val, json_type_array))
		return jfail(c, path, "expected an array");
	for (size_t i = 0; i < json_object_array_length(val); i++)
		if (read(c, path_index(sub, path, i),
			 json_object_array_get_idx(val, i), target) < 0)
			return -1;
	return 0;
}

static int read_object(const struct jctx *c, const char *path, json_object *obj,
		       const struct jkey *keys, void *target);

static int read_value(const struct jctx *c, const char *path, json_object *val,
		      const struct jkey *k, void *target)
{
	if (k->each)
		return read_array(c, path, val, k->each, target);
	if (k->keys)
		return read_object(c, path, val, k->keys, target);
	if (k->parse)
		return read_string(c, path, val, k->what, k->parse, target);
	return k->read(c, path, val, target);
}

static int read_object(const struct jctx *c, const char *path, json_object *obj,
		       const struct jkey *keys, void *target)
{
	char sub[PATH_LEN];

	if (!json_object_is_type(obj, json_type_object))
		return jfail(c, path, "expected an object");
	json_object_object_foreach(obj, key, val) {
		const struct jkey *k = keys;

		while (k->name && strcmp(k->name, key) != 0)
			k++;
		path_key(sub, path, key);
		if (!k->name)
			return jfail(c, sub, "unknown key");
		if (read_value(c, sub, val, k, target) < 0)
			return -1;
	}
	return 0;
}

static int read_port(const struct jctx *c, const char *path, json_object *val,
		     struct awf_port_set *set)
{
	char why[AWF_ERR_LEN];
	const char *spec;
	int rc;

	if (json_object_is_type(val, json_type_int)) {
		rc = port_set_add_number(set, json_object_get_int64(val), why,
					 sizeof(why));
	} else {
		spec = jget_string(c, path, val,
				   "a port number or a \"LO-HI\" string");
		if (!spec)
			return -1;
		rc = port_set_parse(set, spec, why, sizeof(why));
	}
	return rc < 0 ? jfail(c, path, "%s", why) : 0;
}

/*
 * Every "ports" key: an array of ports and ranges, or "all". An empty
 * array of destination ports would allow nothing, which no one means.
 */
static int read_ports(const struct jctx *c, const char *path, json_object *val,
		      bool may_be_empty, struct awf_port_set *out)
{
	char sub[PATH_LEN];
	size_t n;

	memset(out, 0, sizeof(*out));
	if (json_object_is_type(val, json_type_string) &&
	    strcmp(json_object_get_string(val), "all") == 0) {
		port_set_all(out);
		return 0;
	}
	if (!json_object_is_type(val, json_type_array))
		return jfail(c, path, "expected an array of ports or \"all\"");
	n = json_object_array_length(val);
	if (n == 0 && !may_be_empty)
		return jfail(
			c, path,
			"an empty list would allow nothing (leave \"ports\" out for the default)");
	for (size_t i = 0; i < n; i++)
		if (read_port(c, path_index(sub, path, i),
			      json_object_array_get_idx(val, i), out) < 0)
			return -1;
	return 0;
}

static int parse_domain_name(void *target, const char *text, char *why,
			     size_t whylen)
{
	struct domain_entry *e = target;

	e->has_name = true;
	text = domain_strip_scheme(text, &e->scheme_port);
	return domain_normalize(text, e->name, sizeof(e->name), why, whylen);
}

static int read_domain_subdomains(const struct jctx *c, const char *path,
				  json_object *val, void *target)
{
	struct domain_entry *e = target;

	return get_bool(c, path, val, &e->d.subdomains);
}

/* A switch of allow entries only: a blocked name is never allowed. */
static int read_allow_switch(const struct jctx *c, const char *path,
			     json_object *val, const struct domain_entry *e,
			     bool *field)
{
	if (e->block)
		return jfail(
			c, path,
			"not supported in block_domains (a blocked name is never allowed)");
	return get_bool(c, path, val, field);
}

static int read_domain_name_check(const struct jctx *c, const char *path,
				  json_object *val, void *target)
{
	struct domain_entry *e = target;

	return read_allow_switch(c, path, val, e, &e->d.name_check);
}

static int read_domain_udp(const struct jctx *c, const char *path,
			   json_object *val, void *target)
{
	struct domain_entry *e = target;

	return read_allow_switch(c, path, val, e, &e->d.udp);
}

static int read_domain_ports(const struct jctx *c, const char *path,
			     json_object *val, void *target)
{
	struct domain_entry *e = target;

	if (e->block)
		return jfail(
			c, path,
			"not supported in block_domains (a blocked name is blocked on every port)");
	e->d.has_ports = true;
	return read_ports(c, path, val, false, &e->d.ports);
}

static const struct jkey domain_keys[] = {
	{ .name = "domain",
	  .parse = parse_domain_name,
	  .what = "a domain name" },
	{ .name = "subdomains", .read = read_domain_subdomains },
	{ .name = "ports", .read = read_domain_ports },
	{ .name = "name_check", .read = read_domain_name_check },
	{ .name = "udp", .read = read_domain_udp },
	{ .name = NULL },
};

/*
 * "https://NAME" allows port 443 only, "http://NAME" port 80 (awf's
 * entries); a blocked name stays blocked on every port.
 */
static int scheme_ports(struct domain_entry *e)
{
	if (!e->scheme_port || e->block)
		return 0;
	if (e->d.has_ports)
		return -1;
	e->d.has_ports = true;
	return port_set_add(&e->d.ports, e->scheme_port, e->scheme_port);
}

static int read_domain(const struct jctx *c, const char *path, json_object *val,
		       struct policy *p, bool block)
{
	struct domain_entry e = { .block = block,
				  .d.subdomains = true,
				  .d.name_check = true };
	char why[AWF_ERR_LEN];
	const char *text;
	int rc;

	if (!json_object_is_type(val, json_type_object)) {
		text = jget_string(
			c, path, val,
			"a domain name or an object {\"domain\": ...}");
		if (!text)
			return -1;
		rc = policy_merge_domain_name(p, block, text, why, sizeof(why));
	} else if (read_object(c, path, val, domain_keys, &e) < 0) {
		return -1;
	} else if (!e.has_name) {
		return jfail(c, path, "missing \"domain\"");
	} else if (scheme_ports(&e) < 0) {
		return jfail(
			c, path,
			"\"ports\" and a scheme in \"domain\" (https://, http://) both set the ports: give one of them");
	} else {
		e.d.name = e.name;
		rc = policy_merge_domain(p, block, &e.d, why, sizeof(why));
	}
	return rc < 0 ? jfail(c, path, "%s", why) : 0;
}

static int read_allow_domain(const struct jctx *c, const char *path,
			     json_object *val, void *target)
{
	return read_domain(c, path, val, target, false);
}

static int read_block_domain(const struct jctx *c, const char *path,
			     json_object *val, void *target)
{
	return read_domain(c, path, val, target, true);
}

static int parse_cidr_text(void *target, const char *text, char *why,
			   size_t whylen)
{
	struct cidr_entry *e = target;

	e->has_cidr = true;
	return cidr_parse(&e->cidr, text, why, whylen);
}

static int read_cidr_ports(const struct jctx *c, const char *path,
			   json_object *val, void *target)
{
	struct cidr_entry *e = target;

	e->has_ports = true;
	return read_ports(c, path, val, false, &e->ports);
}

static const struct jkey cidr_keys[] = {
	{ .name = "cidr", .parse = parse_cidr_text, .what = "a CIDR string" },
	{ .name = "ports", .read = read_cidr_ports },
	{ .name = NULL },
};

static int read_cidr(const struct jctx *c, const char *path, json_object *val,
		     void *target)
{
	struct cidr_entry e = { 0 };
	char why[AWF_ERR_LEN];

	if (json_object_is_type(val, json_type_object)) {
		if (read_object(c, path, val, cidr_keys, &e) < 0)
			return -1;
		if (!e.has_cidr)
			return jfail(c, path, "missing \"cidr\"");
	} else if (read_string(c, path, val,
			       "a CIDR string or an object {\"cidr\": ...}",
			       parse_cidr_text, &e) < 0) {
		return -1;
	}
	if (e.has_ports)
		e.cidr.ports = e.ports;
	if (policy_append_cidr(target, &e.cidr, why, sizeof(why)) < 0)
		return jfail(c, path, "%s", why);
	return 0;
}

/* After a file's allow_cidrs: their duplicates out (read_cidr). */
static int settle_cidrs(const struct jctx *c, struct policy *p)
{
	char why[AWF_ERR_LEN];

	if (policy_settle_cidrs(p, why, sizeof(why)) < 0)
		return jfail(c, "allow_cidrs", "%s", why);
	return 0;
}

static int parse_dns_server(void *target, const char *text, char *why,
			    size_t whylen)
{
	struct policy_addr a;

	if (policy_parse_dns_server(&a, text, why, whylen) < 0)
		return -1;
	return policy_merge_dns_server(target, &a, why, whylen);
}

static int read_dns_server(const struct jctx *c, const char *path,
			   json_object *val, void *target)
{
	return read_string(c, path, val, "an IP address string",
			   parse_dns_server, target);
}

static int parse_localhost_mode(void *target, const char *text, char *why,
				size_t whylen)
{
	struct localhost_entry *e = target;

	return policy_parse_localhost_mode(&e->mode, text, why, whylen);
}

/* Extra loopback ports only add to what the sandbox bound: [] is fine. */
static int read_localhost_ports(const struct jctx *c, const char *path,
				json_object *val, void *target)
{
	struct localhost_entry *e = target;

	return read_ports(c, path, val, true, &e->ports);
}

static const struct jkey localhost_keys[] = {
	{ .name = "mode",
	  .parse = parse_localhost_mode,
	  .what = "\"sandbox\", \"allow\" or \"deny\"" },
	{ .name = "ports", .read = read_localhost_ports },
	{ .name = NULL },
};

/* The whole value replaces the previous one, ports included. */
static int read_localhost(const struct jctx *c, const char *path,
			  json_object *val, void *target)
{
	struct localhost_entry e = { .mode = AWF_LO_SANDBOX };
	struct policy *p = target;
	char sub[PATH_LEN];

	if (json_object_is_type(val, json_type_object)) {
		if (read_object(c, path, val, localhost_keys, &e) < 0)
			return -1;
		if (e.mode != AWF_LO_SANDBOX && e.ports.count)
			return jfail(c, path_key(sub, path, "ports"),
				     "only valid with mode \"sandbox\"");
	} else if (read_string(c, path, val,
			       "\"sandbox\", \"allow\", \"deny\" or an object",
			       parse_localhost_mode, &e) < 0) {
		return -1;
	}
	p->localhost_mode = e.mode;
	p->localhost_ports = e.ports;
	return 0;
}

static int parse_proxy(void *target, const char *text, char *why, size_t whylen)
{
	return policy_merge_proxy(target, text, why, whylen);
}

static int read_proxy(const struct jctx *c, const char *path, json_object *val,
		      void *target)
{
	struct policy *p = target;

	/* null: no proxy, so a later file can drop an earlier one's */
	if (json_object_is_type(val, json_type_null)) {
		p->has_proxy = false;
		return 0;
	}
	return read_string(c, path, val, "\"IP:PORT\" or null", parse_proxy,
			   target);
}

static int read_top_ports(const struct jctx *c, const char *path,
			  json_object *val, void *target)
{
	struct policy *p = target;
	struct awf_port_set set;

	if (read_ports(c, path, val, false, &set) < 0)
		return -1;
	p->ports = set;
	p->ports_set = true;
	return 0;
}

static int read_ipv6(const struct jctx *c, const char *path, json_object *val,
		     void *target)
{
	return get_bool(c, path, val, &((struct policy *)target)->ipv6);
}

static int read_min_ttl(const struct jctx *c, const char *path,
			json_object *val, void *target)
{
	return get_uint(c, path, val, 0, 86400,
			&((struct policy *)target)->dns_min_ttl);
}

static int read_max_ips(const struct jctx *c, const char *path,
			json_object *val, void *target)
{
	return get_uint(c, path, val, 1, 4096,
			&((struct policy *)target)->dns_max_ips_per_name);
}

static int parse_mode(void *target, const char *text, char *why, size_t whylen)
{
	struct policy *p = target;

	if (strcmp(text, "enforce") && strcmp(text, "audit")) {
		snprintf(why, whylen, "expected \"enforce\" or \"audit\"");
		return -1;
	}
	p->audit_only = strcmp(text, "audit") == 0;
	return 0;
}

static int read_cache_entries(const struct jctx *c, const char *path,
			      json_object *val, void *target)
{
	return get_uint(c, path, val, 0, POLICY_MAX_DNS_CACHE,
			&((struct policy *)target)->dns_cache_entries);
}

static const struct jkey dns_keys[] = {
	{ .name = "min_ttl", .read = read_min_ttl },
	{ .name = "max_ips_per_name", .read = read_max_ips },
	{ .name = "cache_entries", .read = read_cache_entries },
	{ .name = NULL },
};

/* Checked before any other key: another version may mean other keys. */
static int read_version(const struct jctx *c, const char *path,
			json_object *val, void *target)
{
	(void)target;
	if (!val)
		return jfail(c, path,
			     "missing (this format needs \"version\": %d)",
			     POLICY_VERSION);
	return jcheck_version(c, path, val, POLICY_VERSION);
}

static const struct jkey top_keys[] = {
	{ .name = "version", .read = read_version },
	{ .name = "allow_domains", .each = read_allow_domain },
	{ .name = "block_domains", .each = read_block_domain },
	{ .name = "ports", .read = read_top_ports },
	{ .name = "dns_servers", .each = read_dns_server },
	{ .name = "allow_cidrs", .each = read_cidr },
	{ .name = "localhost", .read = read_localhost },
	{ .name = "proxy", .read = read_proxy },
	{ .name = "ipv6", .read = read_ipv6 },
	{ .name = "dns", .keys = dns_keys },
	{ .name = "mode",
	  .parse = parse_mode,
	  .what = "\"enforce\" or \"audit\"" },
	{ .name = NULL },
};

int policy_load_json(struct policy *p, json_object *root, const char *origin,
		     char *err, size_t errlen)
{
	const struct jctx c = { .origin = origin,
				.err = err,
				.errlen = errlen };

	if (!json_object_is_type(root, json_type_object))
		return jfail(&c, "", "expected a JSON object at the top level");
	if (read_version(&c, "version", json_object_object_get(root, "version"),
			 p) < 0)
		return -1;
	if (read_object(&c, "", root, top_keys, p) < 0)
		return -1;
	return settle_cidrs(&c, p);
}

static int too_big(const char *path, char *err, size_t errlen)
{
	return set_err(err, errlen, "%s: larger than the limit of %d MiB", path,
		       POLICY_FILE_MAX >> 20);
}

/*
 * O_NONBLOCK so that a FIFO (or a tty) cannot hang the open(); only a
 * regular file is read at all, so /dev/zero cannot grow the buffer either.
 */
static int open_regular(const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return set_err(err, errlen, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		set_err(err, errlen, "%s: %s", path, strerror(errno));
	} else if (S_ISDIR(st.st_mode)) {
		set_err(err, errlen, "%s: %s", path, strerror(EISDIR));
	} else if (!S_ISREG(st.st_mode)) {
		set_err(err, errlen, "%s: not a regular file", path);
	} else if (st.st_size > POLICY_FILE_MAX) {
		too_big(path, err, errlen);
	} else {
		return fd;
	}
	close(fd);
	return -1;
}

int policy_read_file(const char *path, char **buf, size_t *len, char *err,
		     size_t errlen)
{
	int fd = open_regular(path, err, errlen);
	size_t cap = 0;
	char *data = NULL;
	ssize_t n = 0;
	struct stat st;

	*len = 0;
	if (fd < 0)
		return -1;
	/*
	 * Room for the whole file and its NUL at once: a doubling buffer of
	 * a large file is copied by realloc() once past the heap's mmap
	 * threshold. The loop still grows it for a file that grows.
	 */
	if (fstat(fd, &st) == 0 && st.st_size > 0 &&
	    st.st_size <= POLICY_FILE_MAX) {
		cap = (size_t)st.st_size + 2;
		data = malloc(cap);
		if (!data) {
			set_err(err, errlen, "%s: out of memory", path);
			goto fail;
		}
		array_huge(data, cap);
	}
	for (;;) {
		if (*len > POLICY_FILE_MAX) {
			too_big(path, err, errlen);
			goto fail;
		}
		/* doubling: a file near the cap is not copied a thousand times */
		if (*len + 1 >= cap) {
			size_t bigger_cap = cap ? 2 * cap : 65536;
			char *bigger = realloc(data, bigger_cap);

			if (!bigger) {
				set_err(err, errlen, "%s: out of memory", path);
				goto fail;
			}
			data = bigger;
			cap = bigger_cap;
			array_huge(data, cap);
		}
		n = read(fd, data + *len, cap - *len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		*len += (size_t)n;
	}
	if (n < 0) {
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	close(fd);
	data[*len] = '\0';
	*buf = data;
	return 0;

fail:
	free(data);
	close(fd);
	return -1;
}

static unsigned int line_of(const char *buf, size_t offset)
{
	unsigned int line = 1;

	for (size_t i = 0; i < offset; i++)
		line += buf[i] == '\n';
	return line;
}

/*
 * json-c keeps the last value of a repeated key: a second "localhost" or
 * a typo'd copy of a key would silently win over the first.
 */
static int refuse_duplicate_keys(const char *path, const char *buf, size_t len,
				 char *err, size_t errlen)
{
	struct json_dup_key dup;

	switch (json_find_duplicate_key(buf, len, &dup, NULL)) {
	case 0:
		return 0;
	case 1:
		return set_err(err, errlen, "%s: line %u: duplicate key \"%s\"",
			       path, line_of(buf, dup.offset), dup.key);
	default:
		return set_err(err, errlen, "%s: out of memory", path);
	}
}

json_object *policy_json_parse(const char *path, const char *buf, size_t len,
			       char *err, size_t errlen)
{
	const char *nul = memchr(buf, '\0', len);
	struct json_tokener *tok;
	size_t end;
	enum json_tokener_error jerr;
	json_object *root;

	/* json-c would stop there and ignore the rest of the file */
	if (nul) {
		set_err(err, errlen, "%s: line %u: contains a NUL byte", path,
			line_of(buf, (size_t)(nul - buf)));
		return NULL;
	}
	tok = json_tokener_new();
	if (!tok) {
		set_err(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	/* strict: no trailing commas, nothing after the top-level value */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	/*
	 * A value without a closing delimiter ("null", "5") waits for more
	 * input: the terminating NUL says there is none.
	 */
	if (jerr == json_tokener_continue) {
		root = json_tokener_parse_ex(tok, "", 1);
		if (json_tokener_get_error(tok) == json_tokener_success)
			jerr = json_tokener_success;
	}
	/* a bare null parses fine, into NULL */
	if (!root && jerr == json_tokener_success)
		set_err(err, errlen,
			"%s: expected a JSON object at the top level, not null",
			path);
	else if (!root)
		set_err(err, errlen, "%s: line %u: %s", path, line_of(buf, end),
			jerr == json_tokener_continue ?
				"unexpected end of file" :
				json_tokener_error_desc(jerr));
	json_tokener_free(tok);
	if (root && refuse_duplicate_keys(path, buf, len, err, errlen) < 0) {
		json_object_put(root);
		return NULL;
	}
	return root;
}

/*
 * A policy file read value by value (json_stream.h): what the whole-tree
 * reader below does, in the same order, with the same messages, in the
 * memory of one entry at a time. "version" is found and checked first.
 */
struct stream_read {
	const struct jctx *c;
	struct policy *p;
	bool version_found;
};

static bool stream_version_each(void *ctx, const char *key)
{
	(void)ctx;
	return strcmp(key, "version") != 0;
}

static int stream_version(void *ctx, const char *key, size_t index,
			  json_object *val)
{
	struct stream_read *r = ctx;

	if (index != JSON_STREAM_WHOLE || strcmp(key, "version") != 0)
		return 0;
	r->version_found = true;
	return read_version(r->c, "version", val, r->p) < 0 ? -1 : 1;
}

static const struct jkey *top_key(const char *key)
{
	const struct jkey *k = top_keys;

	while (k->name && strcmp(k->name, key) != 0)
		k++;
	return k->name ? k : NULL;
}

static bool stream_each(void *ctx, const char *key)
{
	const struct jkey *k = top_key(key);

	(void)ctx;
	return k && k->each;
}

static int stream_value(void *ctx, const char *key, size_t index,
			json_object *val)
{
	struct stream_read *r = ctx;
	const struct jkey *k = top_key(key);
	char top[PATH_LEN], sub[PATH_LEN];

	/*
	 * The path as the tree's reader has it: a key too long for one cut
	 * as path_key() cuts (and no copy of the others: this runs for each
	 * entry of a list).
	 */
	if (strnlen(key, PATH_LEN) == PATH_LEN)
		key = path_key(top, "", key);
	if (!k)
		return jfail(r->c, key, "unknown key");
	if (index == JSON_STREAM_WHOLE)
		return read_value(r->c, key, val, k, r->p);
	return k->each(r->c, path_index(sub, key, index), val, r->p);
}

/* Nothing merged into p yet: a failed stream can start over. */
static bool policy_is_fresh(const struct policy *p)
{
	return !p->allow_domains && !p->block_domains && !p->dns_servers &&
	       !p->cidrs && !p->cidr_index && !p->allow_domain_index &&
	       !p->block_domain_index && !p->cidr_ports.v;
}

/*
 * 0 or -1 as policy_load_json(); 1 when the text is for json-c to judge
 * whole (a syntax error, a repeated key, ...), p as it was.
 */
static int load_streamed(struct policy *p, const char *path, const char *buf,
			 size_t len, char *err, size_t errlen)
{
	const struct jctx c = { .origin = path, .err = err, .errlen = errlen };
	static const struct json_stream_ops version_ops = {
		.each = stream_version_each,
		.value = stream_version,
	};
	static const struct json_stream_ops ops = {
		.each = stream_each,
		.value = stream_value,
	};
	struct stream_read r = { .c = &c, .p = p };
	struct policy fresh = *p;
	struct json_dup_key dup;
	int rc;

	if (!policy_is_fresh(p) ||
	    json_find_duplicate_key(buf, len, &dup, NULL) != 0 ||
	    policy_reserve_cidrs(
		    p, json_stream_count(buf, len, "allow_cidrs")) < 0)
		return 1;
	rc = json_stream_object(buf, len, &version_ops, &r);
	if (rc == 0 && !r.version_found)
		rc = read_version(&c, "version", NULL, p);
	if (rc == 0)
		rc = json_stream_object(buf, len, &ops, &r);
	if (rc == 0)
		rc = settle_cidrs(&c, p);
	if (rc > 0) {
		policy_free(p);
		*p = fresh;
	}
	return rc;
}

static int load_whole(struct policy *p, const char *path, const char *buf,
		      size_t len, char *err, size_t errlen)
{
	json_object *root = policy_json_parse(path, buf, len, err, errlen);
	int rc;

	if (!root)
		return -1;
	rc = policy_load_json(p, root, path, err, errlen);
	json_object_put(root);
	return rc;
}

int policy_load_file(struct policy *p, const char *path, char *err,
		     size_t errlen)
{
	size_t len;
	char *buf;
	int rc;

	if (policy_read_file(path, &buf, &len, err, errlen) < 0)
		return -1;
	rc = load_streamed(p, path, buf, len, err, errlen);
	if (rc > 0)
		rc = load_whole(p, path, buf, len, err, errlen);
	free(buf);
	return rc;
}
