// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent/agent_control.h"
#include "audit/event_view.h"
#include "agent/control_proto.h"
#include "common/error.h"
#include "dns/dns_filter.h"
#include "common/log.h"

struct control_conn {
	struct ev_source src;
	struct agent_control *ctl;
	pid_t pid;
	bool has_cgroup; /* made ahead of the request ("cgroup") */
	bool has_sandbox;
};

static int send_msg(int fd, const void *buf, size_t len, int pass_fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (pass_fd >= 0) {
		struct cmsghdr *cm;

		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
	}
	return sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 ? -1 : 0;
}

static void send_json(struct control_conn *c, json_object *o, int pass_fd)
{
	const char *text =
		json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);

	if (send_msg(c->src.fd, text, strlen(text), pass_fd))
		log_warn("control: reply to pid %d: %s", (int)c->pid,
			 strerror(errno));
}

static void conn_free(struct control_conn *c)
{
	struct agent_control *ctl = c->ctl;

	ev_del(ctl->epfd, &c->src);
	close(c->src.fd);
	if (c->has_cgroup || c->has_sandbox)
		ctl->ops.client_gone(ctl->ops.ctx, c);
	free(c);
}

/* Root, or a member of the configured group (primary or supplementary). */
static bool peer_allowed(const struct agent_control *ctl,
			 const struct ucred *cr)
{
	char path[64], line[4096];
	bool ok = false;
	FILE *f;

	if (cr->uid == 0)
		return true;
	if (ctl->group == (gid_t)-1)
		return false;
	if (cr->gid == ctl->group)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)cr->pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!ok && fgets(line, sizeof(line), f)) {
		char *tok, *save = NULL;

		if (strncmp(line, "Groups:", 7))
			continue;
		for (tok = strtok_r(line + 7, " \t\n", &save); tok;
		     tok = strtok_r(NULL, " \t\n", &save))
			if ((gid_t)strtoul(tok, NULL, 10) == ctl->group)
				ok = true;
	}
	fclose(f);
	return ok;
}

static void reply_error(struct control_conn *c, const char *msg)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "error", json_object_new_string(msg));
	send_json(c, o, -1);
	json_object_put(o);
}

static void reply_ok(struct control_conn *c, json_object *reply, int cgroup_fd)
{
	json_object_object_add(reply, "ok", json_object_new_boolean(1));
	send_json(c, reply, cgroup_fd);
	/*
	 * The client has its own copy (SCM_RIGHTS): ours would keep the
	 * cgroup, removed later by path, a dying cgroup for as long as the
	 * agent lives, and cost it one fd per sandbox.
	 */
	if (cgroup_fd >= 0)
		close(cgroup_fd);
}

/* {"op": "cgroup"}: the sandbox's cgroup now, its policy to follow. */
static void handle_cgroup(struct control_conn *c)
{
	struct agent_control *ctl = c->ctl;
	json_object *reply = json_object_new_object();
	char err[AWF_ERR_LEN] = "";
	int cgroup_fd = -1;

	if (c->has_cgroup || c->has_sandbox) {
		reply_error(
			c,
			"control: the cgroup comes before the sandbox, once");
	} else if (ctl->ops.prepare(ctl->ops.ctx, c, c->pid, reply, &cgroup_fd,
				    err, sizeof(err))) {
		reply_error(c, err);
	} else {
		c->has_cgroup = true;
		reply_ok(c, reply, cgroup_fd);
	}
	json_object_put(reply);
}

static void handle_sandbox(struct control_conn *c, json_object *req)
{
	struct agent_control *ctl = c->ctl;
	json_object *reply = json_object_new_object();
	char err[AWF_ERR_LEN] = "";
	int cgroup_fd = -1;

	if (ctl->ops.create(ctl->ops.ctx, c, c->pid, req, reply, &cgroup_fd,
			    err, sizeof(err))) {
		reply_error(c, err);
	} else {
		c->has_sandbox = true;
		reply_ok(c, reply, cgroup_fd);
	}
	json_object_put(reply);
}

static void handle_request(struct control_conn *c, const char *buf)
{
	json_object *req = json_tokener_parse(buf), *op;
	const char *name = NULL;

	if (req && json_object_object_get_ex(req, "op", &op))
		name = json_object_get_string(op);
	if (!name)
		name = ""; /* not an object, no "op", or "op": null */
	if (!strcmp(name, "sandbox"))
		handle_sandbox(c, req);
	else if (!strcmp(name, "cgroup"))
		handle_cgroup(c);
	else
		reply_error(c, "control: expected {\"op\": \"sandbox\", ...}");
	json_object_put(req);
}

static int on_conn(struct ev_source *src, uint32_t events)
{
	struct control_conn *c = container_of(src, struct control_conn, src);
	char buf[CONTROL_MSG_MAX + 1];
	ssize_t n;

	if (events & (EPOLLHUP | EPOLLERR)) {
		conn_free(c);
		return 0;
	}
	n = recv(src->fd, buf, CONTROL_MSG_MAX, MSG_DONTWAIT);
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		conn_free(c);
		return 0;
	}
	buf[n] = '\0';
	if (c->has_sandbox) {
		reply_error(c, "control: one request per connection");
		return 0;
	}
	handle_request(c, buf);
	return 0;
}

static int on_accept(struct ev_source *src, uint32_t events)
{
	struct agent_control *ctl =
		container_of(src, struct agent_control, src);
	struct ucred cr;
	socklen_t len = sizeof(cr);
	struct control_conn *c;
	int fd;

	(void)events;
	fd = accept4(src->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) ||
	    !peer_allowed(ctl, &cr)) {
		log_warn(
			"control: refused pid %d (uid %d): not root nor in the control group",
			(int)cr.pid, (int)cr.uid);
		close(fd);
		return 0;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return 0;
	}
	c->ctl = ctl;
	c->pid = cr.pid;
	c->src.fd = fd;
	c->src.on_ready = on_conn;
	if (ev_add(ctl->epfd, &c->src, EPOLLIN)) {
		close(fd);
		free(c);
	}
	return 0;
}

static int make_parent(const char *path, char *err, size_t errlen)
{
	char dir[108];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) && errno != EEXIST)
		return set_err(err, errlen, "mkdir %s: %s", dir,
			       strerror(errno));
	return 0;
}

int agent_control_open(struct agent_control *c, const char *path, gid_t group,
		       int epfd, const struct control_ops *ops, char *err,
		       size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(c, 0, sizeof(*c));
	c->epfd = epfd;
	c->group = group;
	c->ops = *ops;
	snprintf(c->path, sizeof(c->path), "%s", path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (make_parent(path, err, errlen))
		return -1;
	c->src.fd = socket(AF_UNIX,
			   SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->src.fd < 0)
		return set_err(err, errlen, "control socket: %s",
			       strerror(errno));
	/* A socket file left by a killed agent: nobody listens on it. */
	if (unlink(path) && errno != ENOENT)
		return set_err(err, errlen, "unlink %s: %s", path,
			       strerror(errno));
	if (bind(c->src.fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    chmod(path, group == (gid_t)-1 ? 0600 : 0660) ||
	    (group != (gid_t)-1 && chown(path, 0, group)) ||
	    listen(c->src.fd, 64)) {
		return set_err(err, errlen, "control socket %s: %s", path,
			       strerror(errno));
	}
	c->src.on_ready = on_accept;
	if (ev_add(epfd, &c->src, EPOLLIN))
		return set_err(err, errlen, "control socket: epoll");
	return 0;
}

void agent_control_close(struct agent_control *c)
{
	if (c->src.fd >= 0) {
		close(c->src.fd);
		unlink(c->path);
	}
	c->src.fd = -1;
}

/* s and its NUL at p; the bytes written. */
static size_t put_str(char *p, const char *s, size_t max)
{
	size_t n = s ? strnlen(s, max) : 0;

	memcpy(p, s ? s : "", n);
	p[n] = '\0';
	return n + 1;
}

size_t control_event_encode(char buf[CONTROL_EVENT_LEN],
			    const struct event_view *v)
{
	size_t len = 1 + sizeof(*v->e);

	buf[0] = CONTROL_MSG_EVENT;
	memcpy(buf + 1, v->e, sizeof(*v->e));
	len += put_str(buf + len, v->domain, 254);
	if (v->name)
		len += put_str(buf + len, v->name, AWF_NAME_LEN - 1);
	return len;
}

void control_conn_event(struct control_conn *conn, const struct event_view *v)
{
	char buf[CONTROL_EVENT_LEN];
	size_t len = control_event_encode(buf, v);

	/* A client too slow to read loses events, never the agent's loop. */
	send_msg(conn->src.fd, buf, len, -1);
}

void control_conn_dns(struct control_conn *conn, const struct dns_decision *d)
{
	json_object *o = json_object_new_object();
	const char *text;
	char buf[1024];

	json_object_object_add(o, "name", json_object_new_string(d->name));
	json_object_object_add(o, "qtype", json_object_new_string(d->qtype));
	json_object_object_add(o, "allowed",
			       json_object_new_boolean(d->allowed));
	json_object_object_add(o, "code", json_object_new_int((int)d->code));
	json_object_object_add(o, "reason", json_object_new_string(d->reason));
	json_object_object_add(o, "rcode", json_object_new_int((int)d->rcode));
	json_object_object_add(o, "n_learned",
			       json_object_new_int64((int64_t)d->n_learned));
	json_object_object_add(o, "audit_only",
			       json_object_new_boolean(d->audit_only));
	json_object_object_add(o, "cached", json_object_new_boolean(d->cached));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	buf[0] = CONTROL_MSG_DNS;
	snprintf(buf + 1, sizeof(buf) - 1, "%s", text);
	send_msg(conn->src.fd, buf, 1 + strlen(buf + 1), -1);
	json_object_put(o);
}
