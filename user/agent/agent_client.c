// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <json-c/json.h>

#include "common/paths.h"
#include "agent/agent_bpf.h"
#include "agent/agent_client.h"
#include "agent/control_proto.h"
#include "common/error.h"
#include "dns/dns_filter.h"
#include "audit/event_view.h"
#include "audit/events.h"
#include "common/log.h"
#include "policy/policy_json.h"

const char *agent_client_socket(void)
{
	const char *env = getenv("AWF_BPF_AGENT_SOCKET");

	return env && *env ? env : AWF_AGENT_SOCKET;
}

static int connect_agent(struct agent_client *c, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = agent_client_socket();

	if (strlen(path) >= sizeof(sa.sun_path))
		return set_err(err, errlen, "%s: path too long", path);
	strcpy(sa.sun_path, path);
	c->src.fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->src.fd < 0)
		return set_err(err, errlen, "socket: %s", strerror(errno));
	if (connect(c->src.fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return 0;
	if (errno == ENOENT || errno == ECONNREFUSED) {
		close(c->src.fd);
		c->src.fd = -1;
		/*
		 * Installed but not running: our own sandbox would sit under
		 * its attach point, with its default policy on top. Say so.
		 */
		if (agent_bpf_installed())
			return set_err(
				err, errlen,
				"an awf-bpf agent is installed (" AWF_AGENT_PIN_DIR
				") but does not listen on %s: start it, or pass --standalone",
				path);
		return 1;
	}
	return set_err(err, errlen, "agent socket %s: %s", path,
		       strerror(errno));
}

static int send_text(struct agent_client *c, const char *text, char *err,
		     size_t errlen)
{
	if (send(c->src.fd, text, strlen(text), MSG_NOSIGNAL) < 0)
		return set_err(err, errlen, "agent: send: %s", strerror(errno));
	return 0;
}

int agent_client_open(struct agent_client *c, char *err, size_t errlen)
{
	int ret;

	memset(c, 0, sizeof(*c));
	c->src.fd = -1;
	ret = connect_agent(c, err, errlen);
	if (ret)
		return ret;
	/* An agent older than "cgroup" refuses it, and then serves as ever. */
	if (send_text(c, "{\"op\":\"cgroup\",\"version\":1}", err, errlen)) {
		agent_client_close(c);
		return -1;
	}
	c->asked_cgroup = true;
	return 0;
}

static int send_request(struct agent_client *c, const struct policy *p,
			bool audit_allowed, char *err, size_t errlen)
{
	json_object *req = json_object_new_object();
	const char *text;
	int ret = 0;

	json_object_object_add(req, "op", json_object_new_string("sandbox"));
	json_object_object_add(req, "version",
			       json_object_new_int(CONTROL_VERSION));
	json_object_object_add(req, "policy", policy_to_json(p));
	json_object_object_add(req, "audit_allowed",
			       json_object_new_boolean(audit_allowed));
	text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	if (strlen(text) > CONTROL_MSG_MAX) {
		set_err(err, errlen,
			"the policy is too large for the agent's socket (%zu bytes); use --standalone",
			strlen(text));
		ret = -1;
	} else {
		ret = send_text(c, text, err, errlen);
	}
	json_object_put(req);
	return ret;
}

static int recv_reply(struct agent_client *c, char *buf, size_t len, int *fd,
		      char *err, size_t errlen)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = buf, .iov_len = len - 1 };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	ssize_t n = recvmsg(c->src.fd, &mh, MSG_CMSG_CLOEXEC);

	if (n <= 0)
		return set_err(err, errlen, "agent: no reply (%s)",
			       n < 0 ? strerror(errno) : "it hung up");
	buf[n] = '\0';
	*fd = -1;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(cm), sizeof(int));
	return 0;
}

/*
 * An answer: 0 with its "cgroup" (and "sandbox") in c, -1 with err. With
 * has_fd, a cgroup's fd must have come with it.
 */
static int parse_reply(struct agent_client *c, const char *buf, bool has_fd,
		       char *err, size_t errlen)
{
	json_object *r = json_tokener_parse(buf), *v;
	int ret = -1;

	if (!r || !json_object_object_get_ex(r, "ok", &v)) {
		set_err(err, errlen, "agent: unreadable reply");
	} else if (!json_object_get_boolean(v)) {
		json_object_object_get_ex(r, "error", &v);
		set_err(err, errlen, "agent refused the sandbox: %s",
			v ? json_object_get_string(v) : "?");
	} else if (!has_fd || !json_object_object_get_ex(r, "cgroup", &v)) {
		set_err(err, errlen, "agent: reply without a cgroup");
	} else {
		snprintf(c->cgroup, sizeof(c->cgroup), "%s",
			 json_object_get_string(v));
		if (json_object_object_get_ex(r, "sandbox", &v))
			snprintf(c->sandbox, sizeof(c->sandbox), "%s",
				 json_object_get_string(v));
		ret = 0;
	}
	json_object_put(r);
	return ret;
}

/* The answer to "cgroup": its fd, or -1 (refused, or an older agent). */
static int early_cgroup(struct agent_client *c, int *early_fd, char *err,
			size_t errlen)
{
	char buf[CONTROL_MSG_MAX + 1], why[AWF_ERR_LEN];
	int fd = -1;

	*early_fd = -1;
	if (recv_reply(c, buf, sizeof(buf), &fd, err, errlen))
		return -1;
	if (parse_reply(c, buf, fd >= 0, why, sizeof(why))) {
		/* The sandbox's own reply says why, if it is refused too. */
		log_debug("no cgroup ahead of the policy: %s", why);
		if (fd >= 0)
			close(fd);
		return 0;
	}
	c->early = true;
	*early_fd = fd;
	return 0;
}

int agent_client_request(struct agent_client *c, const struct policy *p,
			 bool audit_allowed, int *early_fd, char *err,
			 size_t errlen)
{
	int ret;

	*early_fd = -1;
	if (c->src.fd < 0) {
		ret = agent_client_open(c, err, errlen);
		if (ret)
			return ret;
	}
	if (send_request(c, p, audit_allowed, err, errlen))
		return -1;
	return c->asked_cgroup ? early_cgroup(c, early_fd, err, errlen) : 0;
}

int agent_client_reply(struct agent_client *c, int *cgroup_fd, char *err,
		       size_t errlen)
{
	char buf[CONTROL_MSG_MAX + 1], early[sizeof(c->cgroup)];
	int ret, fd = -1;

	snprintf(early, sizeof(early), "%s", c->cgroup);
	ret = recv_reply(c, buf, sizeof(buf), &fd, err, errlen);
	if (!ret)
		ret = parse_reply(c, buf, c->early || fd >= 0, err, errlen);
	if (!ret && c->early && strcmp(early, c->cgroup))
		ret = set_err(err, errlen,
			      "agent: the sandbox is in %.200s, not in %.200s",
			      c->cgroup, early);
	if (ret || c->early) {
		if (fd >= 0)
			close(fd);
		return ret;
	}
	*cgroup_fd = fd;
	return 0;
}

static void relay_dns(struct agent_client *c, const char *text)
{
	json_object *o = json_tokener_parse(text), *v;
	struct dns_decision d = { .name = "", .qtype = "", .reason = "" };

	if (!o)
		return;
	if (json_object_object_get_ex(o, "name", &v))
		d.name = json_object_get_string(v);
	if (json_object_object_get_ex(o, "qtype", &v))
		d.qtype = json_object_get_string(v);
	if (json_object_object_get_ex(o, "reason", &v))
		d.reason = json_object_get_string(v);
	if (json_object_object_get_ex(o, "allowed", &v))
		d.allowed = json_object_get_boolean(v);
	if (json_object_object_get_ex(o, "code", &v))
		d.code = (unsigned int)json_object_get_int(v);
	if (json_object_object_get_ex(o, "rcode", &v))
		d.rcode = (unsigned int)json_object_get_int(v);
	if (json_object_object_get_ex(o, "n_learned", &v))
		d.n_learned = (size_t)json_object_get_int64(v);
	if (json_object_object_get_ex(o, "audit_only", &v))
		d.audit_only = json_object_get_boolean(v);
	if (json_object_object_get_ex(o, "cached", &v))
		d.cached = json_object_get_boolean(v);
	events_dns_decision(c->events, &d);
	json_object_put(o);
}

int control_event_decode(const char *msg, size_t n, struct event_view *v,
			 struct awf_event *e, char name_buf[AWF_NAME_LEN])
{
	const char *p = msg + sizeof(*e);

	if (n < sizeof(*e))
		return -1;
	memcpy(e, msg, sizeof(*e));
	*v = (struct event_view){ .e = e, .domain = *p ? p : NULL };
	if (!event_kind_has_name(e->kind))
		return 0;
	p += strlen(p) + 1;
	if (p >= msg + n)
		return -1; /* no name: as too short a record */
	snprintf(name_buf, AWF_NAME_LEN, "%s", p);
	v->name = name_buf;
	return 0;
}

static void relay_event(struct agent_client *c, const char *msg, size_t n)
{
	char name[AWF_NAME_LEN];
	struct event_view v;
	struct awf_event e;

	if (!control_event_decode(msg, n, &v, &e, name))
		events_feed(c->events, &v);
}

static int on_message(struct ev_source *src, uint32_t events)
{
	struct agent_client *c = container_of(src, struct agent_client, src);
	char buf[CONTROL_MSG_MAX + 1];
	ssize_t n;

	(void)events;
	n = recv(src->fd, buf, CONTROL_MSG_MAX, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		/* The programs still enforce; only the relay stops. */
		log_warn("the agent hung up: no more audit events from it");
		c->gone = true;
		close(src->fd);
		src->fd = -1;
		return 0;
	}
	buf[n] = '\0';
	if (buf[0] == CONTROL_MSG_EVENT)
		relay_event(c, buf + 1, (size_t)n - 1);
	else if (buf[0] == CONTROL_MSG_DNS)
		relay_dns(c, buf + 1);
	return 0;
}

int agent_client_watch(struct agent_client *c, int epfd, struct events *ev)
{
	c->events = ev;
	c->src.on_ready = on_message;
	return ev_add(epfd, &c->src, EPOLLIN);
}

void agent_client_close(struct agent_client *c)
{
	if (c->src.fd >= 0)
		close(c->src.fd);
	c->src.fd = -1;
}
