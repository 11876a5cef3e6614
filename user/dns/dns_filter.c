// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dns/dns_filter.h"
#include "dns/dns_msg.h"
#include "dns/dns_type.h"
#include "common/log.h"
#include "kernel/name_table.h"

#define RCODE_FORMERR 1
#define RCODE_SERVFAIL 2
#define RCODE_NXDOMAIN 3
#define RCODE_NOTIMP 4
/* Longer CNAME chains than this are not followed (nor learned). */
#define MAX_CHAIN 16
/* Longest name text kept (255, as before): escapes make it longer. */
#define NAME_TEXT_MAX 255

struct dns_filter {
	struct dns_filter_ops ops;
	const struct domain_matcher *matcher;
	struct learned_store *store;
	struct name_table *names; /* NULL: no names checked in the kernel */
	dns_decision_cb on_decision;
	void *cb_ctx;
	/*
	 * Audit-only mode: a name the policy refuses is forwarded, its
	 * addresses learned as AWF_LEARNED_AUDIT_ONLY, the refusal reported.
	 */
	bool audit_only;
	bool answer_cached; /* while learn() judges an answer from the cache */
};

/* A message and its one question. */
struct question {
	struct dns_msg msg;
	char name[NAME_TEXT_MAX + 1]; /* lower case, no trailing dot */
	char type_text[DNS_TYPE_TEXT_MAX];
};

enum parse_result {
	PARSE_OK,
	PARSE_MALFORMED,
	PARSE_NOT_A_QUERY,
};

static enum parse_result question_parse(const uint8_t *msg, size_t len,
					struct question *q)
{
	memset(q, 0, sizeof(*q));
	if (dns_msg_parse(msg, len, &q->msg))
		return PARSE_MALFORMED;
	if (q->msg.opcode != DNS_OPCODE_QUERY)
		return PARSE_NOT_A_QUERY;
	if (q->msg.qdcount != 1)
		return PARSE_MALFORMED;
	dns_name_to_text(&q->msg.qname, q->name, sizeof(q->name));
	dns_type_to_text(q->msg.qtype, q->type_text, sizeof(q->type_text));
	return PARSE_OK;
}

static void report(struct dns_filter *f, const struct question *q, int allowed,
		   unsigned int code, const char *reason, unsigned int rcode,
		   size_t n_learned)
{
	struct dns_decision d = {
		.name = q->name,
		.qtype = q->type_text[0] ? q->type_text : "?",
		.allowed = allowed,
		.code = code,
		.reason = reason,
		.rcode = rcode,
		.n_learned = n_learned,
		.audit_only = !allowed && f->audit_only && code < 64 &&
			      ((AWF_AUDIT_ONLY_REASONS >> code) & 1),
		.cached = f->answer_cached,
	};

	if (f->on_decision)
		f->on_decision(f->cb_ctx, &d);
}

/* Which local answer a parsed query gets; 0 when it may go upstream. */
static unsigned int local_rcode(struct dns_filter *f, const struct question *q,
				const char **reason, unsigned int *code)
{
	struct domain_match m = { 0 };

	*code = AWF_R_DNS_LOCAL_ANSWER;
	if (q->msg.qtype == DNS_TYPE_ANY) {
		*reason = "ANY queries are answered locally";
		return RCODE_NOTIMP;
	}
	if (q->msg.qtype == DNS_TYPE_PTR) {
		*reason = "reverse lookups are answered locally";
		return RCODE_NXDOMAIN;
	}
	if (domain_matcher_lookup(f->matcher, q->name, &m) < 0 || !m.allowed) {
		*reason = m.blocked ? "blocked domain" : "name not allowed";
		*code = m.blocked ? AWF_R_BLOCKED_DOMAIN :
				    AWF_R_NAME_NOT_ALLOWED;
		return RCODE_NXDOMAIN;
	}
	return 0;
}

static int filter_decide(void *ctx, const uint8_t *query, size_t len,
			 unsigned int *rcode)
{
	struct dns_filter *f = ctx;
	unsigned int code = AWF_R_DNS_MALFORMED;
	const char *reason = NULL;
	struct question q;

	switch (question_parse(query, len, &q)) {
	case PARSE_MALFORMED:
		*rcode = RCODE_FORMERR;
		reason = "malformed query";
		break;
	case PARSE_NOT_A_QUERY:
		*rcode = RCODE_NOTIMP;
		reason = "not a standard query";
		break;
	case PARSE_OK:
		*rcode = local_rcode(f, &q, &reason, &code);
		break;
	}
	if (*rcode)
		report(f, &q, 0, code, reason, *rcode, 0);
	/* Audit-only mode: the policy's refusals go upstream all the same. */
	if (*rcode == RCODE_NXDOMAIN && f->audit_only &&
	    (code == AWF_R_NAME_NOT_ALLOWED || code == AWF_R_BLOCKED_DOMAIN))
		*rcode = 0;
	return *rcode == 0;
}

static bool in_chain(const struct dns_name *chain, size_t n,
		     const struct dns_name *name)
{
	for (size_t i = 0; i < n; i++)
		if (dns_name_equal(&chain[i], name))
			return true;
	return false;
}

/* The query name and every name a CNAME of the chain points to. */
static size_t follow_cnames(const struct dns_msg *answer,
			    struct dns_name *chain)
{
	size_t n = 1;
	bool grew = true;

	chain[0] = answer->qname;
	while (grew && n < MAX_CHAIN) {
		struct dns_msg_iter it;
		struct dns_msg_rr rr;

		grew = false;
		dns_msg_answers(answer, &it);
		while (n < MAX_CHAIN && dns_msg_next_answer(answer, &it, &rr)) {
			if (rr.type != DNS_TYPE_CNAME || !rr.has_target ||
			    !in_chain(chain, n, &rr.owner) ||
			    in_chain(chain, n, &rr.target))
				continue;
			chain[n++] = rr.target;
			grew = true;
		}
	}
	return n;
}

/* Letters, digits, '-', '_' and dots: all the matcher can judge. */
static bool plain_name(const char *name)
{
	for (; *name; name++)
		if (!isalnum((unsigned char)*name) && !strchr("-_.", *name))
			return false;
	return true;
}

/*
 * A CNAME into a blocked name must not open that name's addresses; a
 * target the matcher cannot judge (escaped bytes, '*') counts as blocked.
 */
static bool chain_hits_block(struct dns_filter *f, const struct dns_name *chain,
			     size_t n)
{
	for (size_t i = 1; i < n; i++) {
		char name[NAME_TEXT_MAX + 1];
		struct domain_match m = { 0 };

		dns_name_to_text(&chain[i], name, sizeof(name));
		if (!plain_name(name))
			return true;
		if (domain_matcher_lookup(f->matcher, name, &m) >= 0 &&
		    m.blocked)
			return true;
	}
	return false;
}

/*
 * audited: a name the policy refuses, in audit-only mode: its addresses
 * open nothing, they only name it in the events of their connections.
 */
static int learn_record(struct dns_filter *f, const struct question *q,
			const struct domain_match *m,
			const struct dns_msg_rr *rr, bool audited)
{
	static const struct awf_port_set no_ports;
	int family = rr->type == DNS_TYPE_A ? AF_INET : AF_INET6;
	size_t want = family == AF_INET ? 4 : 16;
	struct learned_rule rule = {
		.rule_id = m->entry_id,
		.ports = &m->ports,
		.flags = name_table_learned_flags(f->names, m->entry_id),
	};

	if (audited)
		rule = (struct learned_rule){ .ports = &no_ports,
					      .flags = AWF_LEARNED_AUDIT_ONLY };

	if (rr->rdlen != want)
		return 0; /* empty: not an address we could connect to */
	if (learned_store_add(f->store, q->name, &rule, family, rr->rdata,
			      rr->ttl) < 0) {
		log_error("dns: learning an address of %s: %s", q->name,
			  strerror(errno));
		return -1;
	}
	return 1;
}

/* -2: a CNAME leads into a blocked name (checked unless audited). */
static int learn_addresses(struct dns_filter *f, const struct question *q,
			   const struct domain_match *m,
			   const struct dns_msg *answer, bool audited,
			   size_t *n_learned)
{
	struct dns_name chain[MAX_CHAIN];
	size_t n_chain = follow_cnames(answer, chain);
	struct dns_msg_iter it;
	struct dns_msg_rr rr;

	if (!audited && chain_hits_block(f, chain, n_chain))
		return -2;
	dns_msg_answers(answer, &it);
	while (dns_msg_next_answer(answer, &it, &rr)) {
		int ret;

		if ((rr.type != DNS_TYPE_A && rr.type != DNS_TYPE_AAAA) ||
		    !in_chain(chain, n_chain, &rr.owner))
			continue;
		ret = learn_record(f, q, m, &rr, audited);
		if (ret < 0)
			return -1;
		*n_learned += (size_t)ret;
	}
	return 0;
}

/*
 * The kernel checks names in connections' first bytes: one it can only
 * know by name (below a pattern with '*' inside a label) is written down
 * before the client has the answer.
 */
static int learn_name(struct dns_filter *f, const struct question *q,
		      const struct domain_match *m)
{
	if (name_table_learn(f->names, q->name, m) == 0)
		return 0;
	log_error("dns: names map: %s: %s", q->name, strerror(errno));
	return -1;
}

static int filter_learn(void *ctx, const uint8_t *query, size_t qlen,
			const uint8_t *answer, size_t alen, bool cached)
{
	struct dns_filter *f = ctx;
	struct question q = { 0 }, a = { 0 };
	struct domain_match m = { 0 };
	unsigned int code = AWF_R_DNS_BAD_ANSWER;
	size_t n_learned = 0;
	int ret = -1, rc;
	const char *why = "malformed answer";
	bool audited;

	if (!f->store || question_parse(query, qlen, &q) != PARSE_OK ||
	    domain_matcher_lookup(f->matcher, q.name, &m) < 0 ||
	    (!m.allowed && !f->audit_only))
		return -1; /* decide() let it through: cannot happen */
	/* decide() reported the refusal the audit-only mode passed */
	audited = !m.allowed;
	if (question_parse(answer, alen, &a) == PARSE_OK) {
		if (!dns_name_equal(&a.msg.qname, &q.msg.qname) ||
		    a.msg.qtype != q.msg.qtype)
			why = "answer to another question";
		else if (a.msg.rcode != DNS_RCODE_NOERROR)
			ret = 0; /* NXDOMAIN etc.: nothing to learn */
		else if (!(rc = learn_addresses(f, &q, &m, &a.msg, audited,
						&n_learned)))
			ret = audited ? 0 : learn_name(f, &q, &m);
		else if (rc == -2 && f->audit_only) {
			report(f, &q, 0, AWF_R_BLOCKED_DOMAIN,
			       "cname into a blocked domain", RCODE_SERVFAIL,
			       0);
			audited = true;
			ret = learn_addresses(f, &q, &m, &a.msg, true,
					      &n_learned) ?
				      -1 :
				      0;
			why = "learning an address failed";
		} else if (rc == -2) {
			why = "cname into a blocked domain";
			code = AWF_R_BLOCKED_DOMAIN;
		} else {
			why = "learning an address failed";
		}
	}
	f->answer_cached = cached;
	if (ret)
		report(f, &q, 0, code, why, RCODE_SERVFAIL, 0);
	else if (!audited) /* an audited name's refusal is reported already */
		report(f, &q, 1, AWF_R_DNS_ALLOWED, "allowed", 0, n_learned);
	f->answer_cached = false;
	return ret;
}

/* Every upstream server failed: the client gets SERVFAIL, say why. */
static void filter_failed(void *ctx, const uint8_t *query, size_t len)
{
	struct dns_filter *f = ctx;
	struct question q = { 0 };

	question_parse(query, len, &q); /* decide() parsed it already */
	report(f, &q, 0, AWF_R_DNS_UPSTREAM_FAILURE,
	       "every upstream server failed", RCODE_SERVFAIL, 0);
}

static void filter_hold(void *ctx)
{
	struct dns_filter *f = ctx;

	if (f->store)
		learned_store_hold(f->store);
}

static int filter_commit(void *ctx)
{
	struct dns_filter *f = ctx;

	if (!f->store || learned_store_commit(f->store) == 0)
		return 0;
	log_error("dns: learning addresses: %s; the answers go as SERVFAIL",
		  strerror(errno));
	return -1;
}

struct dns_filter *dns_filter_new(const struct domain_matcher *matcher,
				  dns_decision_cb on_decision, void *cb_ctx)
{
	struct dns_filter *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->matcher = matcher;
	f->on_decision = on_decision;
	f->cb_ctx = cb_ctx;
	f->ops.ctx = f;
	f->ops.decide = filter_decide;
	f->ops.learn = filter_learn;
	f->ops.failed = filter_failed;
	f->ops.hold = filter_hold;
	f->ops.commit = filter_commit;
	return f;
}

void dns_filter_use_store(struct dns_filter *f, struct learned_store *store)
{
	f->store = store;
}

void dns_filter_use_names(struct dns_filter *f, struct name_table *names)
{
	f->names = names;
}

void dns_filter_set_audit_only(struct dns_filter *f, bool audit_only)
{
	f->audit_only = audit_only;
}

void dns_filter_free(struct dns_filter *f)
{
	free(f);
}

const struct dns_filter_ops *dns_filter_ops(struct dns_filter *f)
{
	return &f->ops;
}
