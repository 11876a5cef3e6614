// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * policy_cli.c - merges command-line flags (and the domain list files they
 * name) into a policy, with the same merge rules as a policy file.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/cidr.h"
#include "policy/domain.h"
#include "policy/policy_cli.h"
#include "common/error.h"
#include "policy/policy_int.h"
#include "policy/ports.h"

typedef int (*item_fn)(struct policy *p, bool block, const char *item,
		       char *why, size_t whylen);

struct item_list {
	struct policy *p;
	bool block;
	item_fn add;
	const char *origin; /* flag name, or "file:line" */
	char *err;
	size_t errlen;
};

static char *trim(char *s)
{
	char *end = s + strlen(s);

	while (isspace((unsigned char)*s))
		s++;
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/*
 * Adds each comma separated item of text (modified in place). Blank items
 * are skipped so that "a, b," reads as people mean it. Returns the number
 * of items added, or -1.
 */
static int add_items(const struct item_list *l, char *text)
{
	char why[AWF_ERR_LEN], *item, *next;
	int count = 0;

	for (item = text; item; item = next) {
		next = strchr(item, ',');
		if (next)
			*next++ = '\0';
		item = trim(item);
		if (!*item)
			continue;
		if (l->add(l->p, l->block, item, why, sizeof(why)) < 0)
			return set_err(l->err, l->errlen, "%s: %s", l->origin,
				       why);
		count++;
	}
	return count;
}

static int add_list(const struct item_list *l, const char *list,
		    const char *what)
{
	char *copy = strdup(list);
	int count;

	if (!copy)
		return set_err(l->err, l->errlen, "%s: out of memory",
			       l->origin);
	count = add_items(l, copy);
	free(copy);
	if (count == 0)
		set_err(l->err, l->errlen, "%s: no %s given", l->origin, what);
	return count > 0 ? 0 : -1;
}

int policy_add_domains(struct policy *p, bool block, const char *list,
		       const char *origin, char *err, size_t errlen)
{
	const struct item_list l = { p,	     block, policy_merge_domain_name,
				     origin, err,   errlen };

	return add_list(&l, list, "domains");
}

/* One item list per line; '#' starts a comment. */
static int add_lines(struct item_list *l, const char *path, char *text,
		     size_t len, char *origin, size_t originlen)
{
	const char *end = text + len; /* *end is a NUL */
	unsigned int lineno = 0;
	char *line, *eol;

	for (line = text; line < end; line = eol + 1) {
		eol = memchr(line, '\n', (size_t)(end - line));
		if (!eol)
			eol = text + len;
		snprintf(origin, originlen, "%s:%u", path, ++lineno);
		/* C would stop reading the line there and miss the rest */
		if (memchr(line, '\0', (size_t)(eol - line)))
			return set_err(l->err, l->errlen,
				       "%s: contains a NUL byte", origin);
		*eol = '\0';
		line[strcspn(line, "#")] = '\0';
		if (add_items(l, line) < 0)
			return -1;
	}
	return 0;
}

int policy_add_domains_file(struct policy *p, bool block, const char *path,
			    char *err, size_t errlen)
{
	char origin[PATH_MAX + 16], *text;
	struct item_list l = { p,      block, policy_merge_domain_name,
			       origin, err,   errlen };
	size_t len;
	int rc;

	if (policy_read_file(path, &text, &len, err, errlen) < 0)
		return -1;
	rc = add_lines(&l, path, text, len, origin, sizeof(origin));
	free(text);
	return rc;
}

static int add_dns_server(struct policy *p, bool block, const char *item,
			  char *why, size_t whylen)
{
	struct policy_addr a;

	(void)block;
	if (policy_parse_dns_server(&a, item, why, whylen) < 0)
		return -1;
	return policy_merge_dns_server(p, &a, why, whylen);
}

int policy_add_dns_servers(struct policy *p, const char *list,
			   const char *origin, char *err, size_t errlen)
{
	const struct item_list l = { p,	     false, add_dns_server,
				     origin, err,   errlen };

	return add_list(&l, list, "DNS servers");
}

/*
 * Splits "CIDR:PORTS" and "[CIDR]:PORTS". A bare IPv6 CIDR has colons of
 * its own, so without brackets it cannot carry ports.
 */
static int split_cidr_arg(char *arg, char **cidr, char **ports, char *why,
			  size_t whylen)
{
	char *colon;

	*cidr = arg;
	*ports = NULL;
	if (*arg == '[') {
		char *close = strchr(arg, ']');

		if (!close || (close[1] && close[1] != ':'))
			return set_err(why, whylen,
				       "%s: expected [CIDR] or [CIDR]:PORTS",
				       arg);
		*close = '\0';
		*cidr = arg + 1;
		*ports = close[1] ? close + 2 : NULL;
		return 0;
	}
	colon = strchr(arg, ':');
	if (colon && !strchr(colon + 1, ':')) {
		*colon = '\0';
		*ports = colon + 1;
	}
	return 0;
}

static int add_cidr_arg(struct policy *p, char *arg, char *why, size_t whylen)
{
	struct policy_cidr c;
	char *text, *ports;

	if (split_cidr_arg(arg, &text, &ports, why, whylen) < 0 ||
	    cidr_parse(&c, text, why, whylen) < 0)
		return -1;
	if (ports) {
		memset(&c.ports, 0, sizeof(c.ports));
		if (port_set_parse_list(&c.ports, ports, why, whylen) < 0)
			return -1;
	}
	return policy_merge_cidr(p, &c, why, whylen);
}

int policy_add_cidr_arg(struct policy *p, const char *arg, const char *origin,
			char *err, size_t errlen)
{
	char why[AWF_ERR_LEN], *copy = strdup(arg);
	int rc;

	if (!copy)
		return set_err(err, errlen, "%s: out of memory", origin);
	rc = add_cidr_arg(p, copy, why, sizeof(why));
	free(copy);
	if (rc < 0)
		set_err(err, errlen, "%s: %s", origin, why);
	return rc;
}

int policy_set_proxy(struct policy *p, const char *arg, const char *origin,
		     char *err, size_t errlen)
{
	char why[AWF_ERR_LEN];

	if (policy_merge_proxy(p, arg, why, sizeof(why)) < 0)
		return set_err(err, errlen, "%s: %s", origin, why);
	return 0;
}

/* Replaces the whole localhost value, as a policy file's string would. */
int policy_set_localhost(struct policy *p, const char *mode, const char *origin,
			 char *err, size_t errlen)
{
	char why[AWF_ERR_LEN];

	if (policy_parse_localhost_mode(&p->localhost_mode, mode, why,
					sizeof(why)) < 0) {
		return set_err(err, errlen, "%s: %s", origin, why);
	}
	memset(&p->localhost_ports, 0, sizeof(p->localhost_ports));
	return 0;
}

int policy_add_allow_entry(struct policy *p, const struct policy_domain *d,
			   char *err, size_t errlen)
{
	return policy_merge_domain(p, false, d, err, errlen);
}

int policy_add_cidr(struct policy *p, const struct policy_cidr *c, char *err,
		    size_t errlen)
{
	return policy_merge_cidr(p, c, err, errlen);
}

/*
 * awf's --allow-host-ports: these loopback ports of the host (and ports of
 * its own addresses) on top of what the sandbox serves itself. Under
 * "allow" (--enable-host-access) it narrows host access to them, as awf
 * does since host access opened every port (awf #207).
 */
int policy_add_host_ports(struct policy *p, const char *list,
			  const char *origin, char *err, size_t errlen)
{
	char why[AWF_ERR_LEN];

	if (p->localhost_mode == AWF_LO_DENY)
		return set_err(
			err, errlen,
			"%s: contradicts localhost \"deny\" (no loopback port may be reached)",
			origin);
	if (port_set_parse_list(&p->localhost_ports, list, why, sizeof(why)) <
	    0)
		return set_err(err, errlen, "%s: %s", origin, why);
	p->localhost_mode = AWF_LO_SANDBOX;
	return 0;
}

/*
 * Tried on a scratch policy, so that a suggestion can never be one the
 * next run refuses: a single label passes domain_normalize() but not the
 * flag, which would cover a whole top-level domain.
 */
enum policy_allow_form policy_allow_form(const char *name, char *err,
					 size_t errlen)
{
	char norm[POLICY_MAX_DOMAIN_LEN + 1], why[AWF_ERR_LEN];
	struct policy_domain d = { .name = norm, .name_check = true };
	enum policy_allow_form form = POLICY_ALLOW_NONE;
	struct policy p;

	policy_init(&p);
	/* a bare string, as the flag gives it; its refusal stays in err */
	if (policy_merge_domain_name(&p, false, name, err, errlen) == 0)
		form = POLICY_ALLOW_FLAG;
	else if (domain_normalize(name, norm, sizeof(norm), why, sizeof(why)) ==
			 0 &&
		 policy_merge_domain(&p, false, &d, why, sizeof(why)) == 0)
		form = POLICY_ALLOW_ENTRY;
	policy_free(&p);
	return form;
}
