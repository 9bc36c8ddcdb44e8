// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-qmp-client: the tests' QMP client (see the header).  Blocking socket, poll()
 * with a timeout for every read, so a silent server fails the test instead of hanging.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tests/unit/test-qmp-client.h"

struct tq *tq_open_fd(int fd)
{
	struct tq *q = g_new0(struct tq, 1);

	q->fd = fd;
	q->in = g_string_new(NULL);
	q->timeout_s = 20;
	g_queue_init(&q->events);
	return q;
}

struct tq *tq_try_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpuint(strlen(path), <, sizeof(sa.sun_path));
	strcpy(sa.sun_path, path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return NULL;
	}
	return tq_open_fd(fd);
}

struct tq *tq_connect(const char *path, unsigned timeout_s)
{
	gint64 end = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
	struct tq *q;

	while (!(q = tq_try_connect(path))) {
		if (g_get_monotonic_time() > end)
			g_error("cannot connect to QMP socket %s within %us", path, timeout_s);
		g_usleep(20000);
	}
	return q;
}

void tq_close(struct tq *q)
{
	json_object *e;

	if (!q)
		return;
	while ((e = g_queue_pop_head(&q->events)))
		json_object_put(e);
	close(q->fd);
	g_string_free(q->in, TRUE);
	g_free(q);
}

void tq_send_fds(struct tq *q, const char *text, const int *fds, unsigned nr)
{
	size_t len = strlen(text), off = 0;

	while (off < len) {
		char cbuf[CMSG_SPACE(sizeof(int) * 16)] = {0};
		struct iovec iov = {.iov_base = (char *)text + off, .iov_len = len - off};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
		ssize_t n;

		if (off == 0 && nr > 0) {
			struct cmsghdr *h;

			g_assert_cmpuint(nr, <=, 16);
			mh.msg_control = cbuf;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * nr);
			h = CMSG_FIRSTHDR(&mh);
			h->cmsg_level = SOL_SOCKET;
			h->cmsg_type = SCM_RIGHTS;
			h->cmsg_len = CMSG_LEN(sizeof(int) * nr);
			memcpy(CMSG_DATA(h), fds, sizeof(int) * nr);
		}
		n = sendmsg(q->fd, &mh, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		g_assert_cmpint(n, >, 0);
		off += (size_t)n;
	}
}

void tq_send(struct tq *q, const char *text)
{
	tq_send_fds(q, text, NULL, 0);
}

void tq_sendf(struct tq *q, const char *fmt, ...)
{
	g_autofree char *s = NULL;
	va_list ap;

	va_start(ap, fmt);
	s = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	tq_send(q, s);
}

/* Read more bytes; false on EOF; asserts on timeout. */
static bool tq_fill(struct tq *q, unsigned timeout_s)
{
	struct pollfd p = {.fd = q->fd, .events = POLLIN};
	char buf[65536];
	ssize_t n;
	int r;

	do
		r = poll(&p, 1, (int)timeout_s * 1000);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		g_error("QMP: no message within %us (have: %.200s)", timeout_s, q->in->str);
	n = read(q->fd, buf, sizeof(buf));
	if (n < 0 && errno == ECONNRESET)
		return false;
	g_assert_cmpint(n, >=, 0);
	g_string_append_len(q->in, buf, n);
	return n > 0;
}

json_object *tq_recv(struct tq *q)
{
	char *nl;

	while (!(nl = strstr(q->in->str, "\r\n")))
		if (!tq_fill(q, q->timeout_s))
			g_error("QMP: EOF while waiting for a message");
	{
		size_t len = (size_t)(nl - q->in->str);
		g_autofree char *line = g_strndup(q->in->str, len);
		json_object *o = json_tokener_parse(line);

		g_string_erase(q->in, 0, (gssize)(len + 2));
		if (!o || !json_object_is_type(o, json_type_object))
			g_error("QMP: not a JSON object: %.200s", line);
		return o;
	}
}

json_object *tq_reply(struct tq *q)
{
	for (;;) {
		json_object *o = tq_recv(q);

		if (!json_object_object_get_ex(o, "event", NULL))
			return o;
		g_queue_push_tail(&q->events, o);
	}
}

json_object *tq_cmd(struct tq *q, const char *text)
{
	tq_send(q, text);
	return tq_reply(q);
}

json_object *tq_negotiate(struct tq *q)
{
	json_object *g = tq_recv(q), *r;

	g_assert_true(json_object_is_type(tq_get(g, "QMP.version.qemu.major"), json_type_int));
	g_assert_true(json_object_is_type(tq_get(g, "QMP.version.qemu.minor"), json_type_int));
	g_assert_true(json_object_is_type(tq_get(g, "QMP.version.qemu.micro"), json_type_int));
	g_assert_nonnull(tq_str(g, "QMP.version.package"));
	g_assert_true(json_object_is_type(tq_get(g, "QMP.capabilities"), json_type_array));
	r = tq_cmd(q, "{\"execute\": \"qmp_capabilities\"}");
	tq_assert_return(r);
	json_object_put(r);
	return g;
}

json_object *tq_event(struct tq *q, const char *name)
{
	for (GList *l = q->events.head; l; l = l->next)
		if (!g_strcmp0(tq_str(l->data, "event"), name)) {
			json_object *o = l->data;

			g_queue_delete_link(&q->events, l);
			return o;
		}
	for (;;) {
		json_object *o = tq_recv(q);
		const char *ev = tq_str(o, "event");

		if (!ev)
			g_error("QMP: reply while waiting for event %s: %.300s", name,
				json_object_to_json_string(o));
		if (!strcmp(ev, name))
			return o;
		g_queue_push_tail(&q->events, o);
	}
}

bool tq_eof(struct tq *q, unsigned timeout_s)
{
	gint64 end = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;

	for (;;) {
		struct pollfd p = {.fd = q->fd, .events = POLLIN};
		char buf[65536];
		gint64 left = (end - g_get_monotonic_time()) / 1000;
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return false;
		n = read(q->fd, buf, sizeof(buf));
		if (n <= 0)
			return true; /* EOF or reset */
		g_string_append_len(q->in, buf, n);
	}
}

json_object *tq_get(json_object *o, const char *path)
{
	g_auto(GStrv) parts = g_strsplit(path, ".", -1);

	for (unsigned i = 0; parts[i] && o; i++)
		if (!json_object_is_type(o, json_type_object) ||
		    !json_object_object_get_ex(o, parts[i], &o))
			return NULL;
	return o;
}

const char *tq_str(json_object *o, const char *path)
{
	json_object *v = tq_get(o, path);

	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

void tq_assert_error(json_object *reply, const char *cls, const char *desc)
{
	if (!tq_get(reply, "error"))
		g_error("expected an error %s, got %.300s", cls, json_object_to_json_string(reply));
	g_assert_null(tq_get(reply, "return"));
	g_assert_cmpstr(tq_str(reply, "error.class"), ==, cls);
	g_assert_nonnull(tq_str(reply, "error.desc"));
	if (desc)
		g_assert_cmpstr(tq_str(reply, "error.desc"), ==, desc);
}

json_object *tq_assert_return(json_object *reply)
{
	json_object *r;

	if (!json_object_object_get_ex(reply, "return", &r))
		g_error("expected a return, got %.300s", json_object_to_json_string(reply));
	g_assert_null(tq_get(reply, "error"));
	return r;
}

unsigned tq_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;

	g_assert_nonnull(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}
