// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rproc_qmp: mpvmm as a QMP client of a class process's control channel (QEMU
 * docs/interop/qmp-spec.rst): read the greeting, negotiate with qmp_capabilities, then
 * one synchronous command at a time, an fd riding along with SCM_RIGHTS when getfd
 * needs one.  The class process is untrusted: every reply is bounded in size, depth
 * and time, must be a JSON object with "return" or "error", and anything else breaks
 * the channel for good.  Events are skipped.  It does not spawn or watch processes
 * (rproc.c) and knows no command's meaning.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vmm/vmm.h"

#define RQMP_REPLY_MAX (1u << 20) /* bytes in one message from the class process */
#define RQMP_DEPTH_MAX 32

struct rqmp {
	int fd; /* owned */
	json_tokener *tok;
	char buf[4096];
	size_t len, off;  /* bytes in buf, bytes already parsed */
	size_t msg_bytes; /* bytes fed into the message being parsed */
	bool broken;
};

static int rqmp_fail(struct rqmp *c, GError **err, int ret, const char *what)
{
	c->broken = true;
	g_set_error(err, VMM_ERROR, -ret, "%s", what);
	return ret;
}

/* More bytes into buf within the deadline (monotonic us).  -ETIMEDOUT, -ECONNRESET. */
static int rqmp_fill(struct rqmp *c, gint64 deadline)
{
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	gint64 left = deadline - g_get_monotonic_time();
	ssize_t n;

	if (left <= 0)
		return -ETIMEDOUT;
	n = poll(&p, 1, (int)MIN(left / 1000 + 1, G_MAXINT));
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	if (n == 0)
		return -ETIMEDOUT;
	n = recv(c->fd, c->buf, sizeof(c->buf), MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	if (n == 0)
		return -ECONNRESET;
	c->len = (size_t)n;
	c->off = 0;
	return 0;
}

/* The next whole JSON message (an object), new reference in *msg. */
static int rqmp_read(struct rqmp *c, gint64 deadline, json_object **msg, GError **err)
{
	for (;;) {
		size_t avail = c->len - c->off;
		json_object *o;
		int ret;

		if (avail == 0) {
			ret = rqmp_fill(c, deadline);
			if (ret < 0)
				return rqmp_fail(c, err, ret,
						 ret == -ETIMEDOUT ? "no answer in time"
								   : "the channel closed");
			continue;
		}
		o = json_tokener_parse_ex(c->tok, c->buf + c->off, (int)avail);
		if (json_tokener_get_error(c->tok) == json_tokener_continue) {
			c->msg_bytes += avail;
			c->off = c->len;
			if (c->msg_bytes > RQMP_REPLY_MAX)
				return rqmp_fail(c, err, -EMSGSIZE, "a message over 1 MiB");
			continue;
		}
		if (!o || !json_object_is_type(o, json_type_object)) {
			json_object_put(o);
			return rqmp_fail(c, err, -EPROTO, "a message that is not a JSON object");
		}
		c->off += json_tokener_get_parse_end(c->tok);
		c->msg_bytes = 0;
		json_tokener_reset(c->tok);
		*msg = o;
		return 0;
	}
}

/* Send text with fd (if >= 0) attached to its first byte. */
static int rqmp_send(struct rqmp *c, const char *text, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	size_t len = strlen(text), done = 0;

	while (done < len) {
		struct iovec iov = {.iov_base = (char *)text + done, .iov_len = len - done};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
		ssize_t n;

		if (fd >= 0 && done == 0) {
			memset(&u, 0, sizeof(u));
			mh.msg_control = u.buf;
			mh.msg_controllen = sizeof(u.buf);
			CMSG_FIRSTHDR(&mh)->cmsg_level = SOL_SOCKET;
			CMSG_FIRSTHDR(&mh)->cmsg_type = SCM_RIGHTS;
			CMSG_FIRSTHDR(&mh)->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(CMSG_FIRSTHDR(&mh)), &fd, sizeof(int));
		}
		n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return 0;
}

/* An error reply: its class and desc, both strings, in *err. */
static int rqmp_error(struct rqmp *c, json_object *e, GError **err)
{
	json_object *cls, *desc;

	if (!json_object_is_type(e, json_type_object) ||
	    !json_object_object_get_ex(e, "class", &cls) ||
	    !json_object_object_get_ex(e, "desc", &desc) ||
	    !json_object_is_type(cls, json_type_string) ||
	    !json_object_is_type(desc, json_type_string))
		return rqmp_fail(c, err, -EPROTO, "a malformed error reply");
	g_set_error(err, VMM_ERROR, EINVAL, "%s", json_object_get_string(desc));
	return -EREMOTEIO;
}

/* The reply to the command just sent: skip events, take "return" or "error". */
static int rqmp_reply(struct rqmp *c, gint64 deadline, json_object **ret, GError **err)
{
	for (;;) {
		json_object *msg = NULL, *v;
		int r = rqmp_read(c, deadline, &msg, err);

		if (r < 0)
			return r;
		if (json_object_object_get_ex(msg, "event", NULL)) {
			json_object_put(msg);
			continue;
		}
		if (json_object_object_get_ex(msg, "return", &v)) {
			if (ret)
				*ret = json_object_get(v);
			r = 0;
		} else if (json_object_object_get_ex(msg, "error", &v)) {
			r = rqmp_error(c, v, err);
		} else {
			r = rqmp_fail(c, err, -EPROTO,
				      "a message that is neither a reply nor an event");
		}
		json_object_put(msg);
		return r;
	}
}

int rqmp_call(struct rqmp *c, const char *cmd, json_object *args, int fd, json_object **ret,
	      GError **err)
{
	json_object *req = json_object_new_object();
	gint64 deadline = g_get_monotonic_time() + (gint64)RQMP_TIMEOUT_MS * 1000;
	int r;

	json_object_object_add(req, "execute", json_object_new_string(cmd));
	if (args)
		json_object_object_add(req, "arguments", args); /* taken */
	if (c->broken) {
		json_object_put(req);
		g_set_error(err, VMM_ERROR, EPIPE, "the control channel failed earlier");
		return -EPIPE;
	}
	r = rqmp_send(c, json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN), fd);
	json_object_put(req);
	if (r < 0)
		return rqmp_fail(c, err, r, "cannot send on the control channel");
	return rqmp_reply(c, deadline, ret, err);
}

int rqmp_connect(int fd, struct rqmp **out, GError **err)
{
	struct rqmp *c = g_new0(struct rqmp, 1);
	gint64 deadline = g_get_monotonic_time() + (gint64)RQMP_TIMEOUT_MS * 1000;
	json_object *greeting = NULL;
	int r;

	c->fd = fd;
	c->tok = json_tokener_new_ex(RQMP_DEPTH_MAX);
	r = rqmp_read(c, deadline, &greeting, err);
	if (r == 0 && !json_object_object_get_ex(greeting, "QMP", NULL))
		r = rqmp_fail(c, err, -EPROTO, "no QMP greeting");
	json_object_put(greeting);
	if (r == 0)
		r = rqmp_call(c, "qmp_capabilities", NULL, -1, NULL, err);
	if (r < 0) {
		rqmp_close(c);
		return r;
	}
	*out = c;
	return 0;
}

bool rqmp_broken(const struct rqmp *c)
{
	return c->broken;
}

void rqmp_close(struct rqmp *c)
{
	if (!c)
		return;
	json_tokener_free(c->tok);
	close(c->fd);
	g_free(c);
}
