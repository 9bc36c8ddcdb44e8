// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * qmp_server: QMP over unix stream sockets on a GMainContext.  It listens on socket
 * paths and adopts connected sockets, gives each client a struct qmp_session, moves
 * bytes and SCM_RIGHTS fds between the socket and the session (non-blocking, output
 * queued up to QMP_OUT_MAX), and broadcasts events handed over from any thread.  It
 * knows nothing of the messages themselves (qmp_session.c, qmp_dispatch.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <glib-unix.h>

#include "protocol/qmp_priv.h"

#define QMP_READ_CHUNK 65536

struct qmp_server;

struct qmp_client {
	struct qmp_server *srv;
	int fd;
	GSource *in_src, *out_src;
	struct qmp_session *s;
	GByteArray *out; /* queued output not yet sent */
	qmp_closed_fn closed;
	void *closed_ctx;
};

struct qmp_listener {
	int fd;
	char *path;
	GSource *src;
};

struct qmp_event {
	char *name;
	json_object *data;
	gint64 us;
};

struct qmp_server {
	const struct qmp_command *const *tables;
	void *opaque;
	struct qmp_version version; /* package owned */
	GMainContext *ctx;	    /* referenced */
	GPtrArray *clients;	    /* struct qmp_client */
	struct qmp_listener listen[QMP_LISTEN_MAX];
	unsigned nr_listen;
	GMutex lock;	 /* protects events and ev_src: emitters are on any thread */
	GQueue events;	 /* struct qmp_event */
	GSource *ev_src; /* pending delivery, or NULL */
};

int qmp_server_create(const struct qmp_server_cfg *cfg, struct qmp_server **out)
{
	struct qmp_server *srv = g_new0(struct qmp_server, 1);

	srv->tables = cfg->tables;
	srv->opaque = cfg->opaque;
	srv->version = cfg->version;
	srv->version.package = g_strdup(cfg->version.package ? cfg->version.package : "");
	srv->ctx = g_main_context_ref(cfg->ctx ? cfg->ctx : g_main_context_default());
	srv->clients = g_ptr_array_new();
	g_mutex_init(&srv->lock);
	g_queue_init(&srv->events);
	*out = srv;
	return 0;
}

unsigned qmp_server_nr_clients(const struct qmp_server *srv)
{
	return srv->clients->len;
}

static GSource *qmp_watch(struct qmp_server *srv, int fd, GIOCondition cond, GUnixFDSourceFunc fn,
			  void *data)
{
	GSource *src = g_unix_fd_source_new(fd, cond);

	g_source_set_callback(src, G_SOURCE_FUNC(fn), data, NULL);
	g_source_attach(src, srv->ctx);
	return src;
}

static void qmp_unwatch(GSource **src)
{
	if (*src) {
		g_source_destroy(*src);
		g_source_unref(*src);
		*src = NULL;
	}
}

static void qmp_client_free(struct qmp_client *c)
{
	qmp_closed_fn closed = c->closed;
	void *ctx = c->closed_ctx;

	g_ptr_array_remove(c->srv->clients, c);
	qmp_unwatch(&c->in_src);
	qmp_unwatch(&c->out_src);
	qmp_session_destroy(c->s);
	close(c->fd);
	g_byte_array_free(c->out, TRUE);
	g_free(c);
	if (closed)
		closed(ctx);
}

/* ---- output ---- */

/* Send what the socket takes now: 0 (all sent or would block) or -errno. */
static int qmp_client_flush(struct qmp_client *c)
{
	while (c->out->len > 0) {
		ssize_t n = send(c->fd, c->out->data, c->out->len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0)
			return -errno;
		g_byte_array_remove_range(c->out, 0, (guint)n);
	}
	return 0;
}

static gboolean qmp_client_writable(int fd, GIOCondition cond, void *data);

static void qmp_client_want_out(struct qmp_client *c)
{
	if (c->out->len > 0 && !c->out_src)
		c->out_src = qmp_watch(c->srv, c->fd, G_IO_OUT, qmp_client_writable, c);
	else if (c->out->len == 0)
		qmp_unwatch(&c->out_src);
}

static gboolean qmp_client_writable(int fd, GIOCondition cond, void *data)
{
	struct qmp_client *c = data;
	int ret = qmp_client_flush(c);

	if (ret < 0) {
		g_debug("qmp: client fd %d: send: %s", c->fd, g_strerror(-ret));
		qmp_client_free(c);
		return G_SOURCE_REMOVE;
	}
	if (c->out->len == 0) {
		g_source_unref(c->out_src);
		c->out_src = NULL;
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

/* The session's write callback: queue, then send what the socket takes. */
static int qmp_client_write(void *ctx, const char *buf, size_t len)
{
	struct qmp_client *c = ctx;
	int ret;

	if (len > QMP_OUT_MAX - c->out->len) {
		/* the client's doing, as every other reason to drop one: debug level */
		g_debug("qmp: client fd %d does not read its replies (%u bytes queued); "
			"dropping it",
			c->fd, c->out->len);
		return -ENOBUFS;
	}
	g_byte_array_append(c->out, (const guint8 *)buf, (guint)len);
	ret = qmp_client_flush(c);
	if (ret == 0)
		qmp_client_want_out(c);
	return ret;
}

/* ---- input ---- */

/* One recvmsg: bytes, and fds (MSG_CMSG_CLOEXEC).  >0 bytes, 0 EOF, -errno. */
static ssize_t qmp_client_recv(struct qmp_client *c, char *buf, int *fds, unsigned *nr_fds)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * QMP_FDS_MAX)];
	} cbuf;
	struct iovec iov = {.iov_base = buf, .iov_len = QMP_READ_CHUNK};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = cbuf.b,
			    .msg_controllen = sizeof(cbuf.b)};
	ssize_t n;

	*nr_fds = 0;
	do
		n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h)) {
		size_t k = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < k && *nr_fds < QMP_FDS_MAX; i++)
			memcpy(&fds[(*nr_fds)++], CMSG_DATA(h) + i * sizeof(int), sizeof(int));
	}
	if (mh.msg_flags & MSG_CTRUNC) { /* fds were lost: the peer cannot be trusted */
		for (unsigned i = 0; i < *nr_fds; i++)
			close(fds[i]);
		*nr_fds = 0;
		return -EBADMSG;
	}
	return n;
}

static gboolean qmp_client_readable(int fd, GIOCondition cond, void *data)
{
	struct qmp_client *c = data;
	g_autofree char *buf = g_malloc(QMP_READ_CHUNK);
	int fds[QMP_FDS_MAX];
	unsigned nr_fds;
	ssize_t n = qmp_client_recv(c, buf, fds, &nr_fds);
	int ret;

	if (n == -EAGAIN)
		return G_SOURCE_CONTINUE;
	if (n == -EBADMSG)
		qmp_reply_error(c->s, NULL, QMP_ERROR_GENERIC,
				"More than %u file descriptors at once; closing the connection",
				QMP_FDS_MAX);
	ret = n > 0 ? qmp_session_input(c->s, buf, (size_t)n, fds, nr_fds) : (int)n;
	if (n == 0 || ret < 0) {
		g_debug("qmp: client fd %d: %s", c->fd, n == 0 ? "EOF" : g_strerror(-ret));
		qmp_client_flush(c); /* the last error reply, if it fits */
		qmp_client_free(c);  /* destroys this very source: allowed in dispatch */
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

static int qmp_client_start(struct qmp_server *srv, int fd, qmp_closed_fn closed, void *cctx)
{
	struct qmp_client *c = g_new0(struct qmp_client, 1);
	int ret;

	c->srv = srv;
	c->fd = fd;
	c->out = g_byte_array_new();
	c->closed = closed;
	c->closed_ctx = cctx;
	ret = qmp_session_create(srv->tables, srv->opaque, &srv->version, qmp_client_write, c,
				 &c->s);
	if (ret < 0) {
		close(fd);
		g_byte_array_free(c->out, TRUE);
		g_free(c);
		return ret;
	}
	g_ptr_array_add(srv->clients, c);
	c->in_src = qmp_watch(srv, fd, G_IO_IN, qmp_client_readable, c);
	ret = qmp_session_greet(c->s);
	if (ret < 0) {
		c->closed = NULL;
		qmp_client_free(c);
	}
	return ret;
}

int qmp_server_adopt(struct qmp_server *srv, int fd, qmp_closed_fn closed, void *closed_ctx)
{
	int type = 0, fl;
	socklen_t tlen = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0 || type != SOCK_STREAM) {
		close(fd);
		return -ENOTSOCK;
	}
	if (srv->clients->len >= QMP_CLIENTS_MAX) {
		close(fd);
		return -EMFILE;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return qmp_client_start(srv, fd, closed, closed_ctx);
}

/* ---- listening sockets ---- */

static gboolean qmp_listener_accept(int fd, GIOCondition cond, void *data)
{
	struct qmp_server *srv = data;
	int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (c < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			g_warning("qmp: accept: %s", g_strerror(errno));
		return G_SOURCE_CONTINUE;
	}
	if (srv->clients->len >= QMP_CLIENTS_MAX) {
		g_debug("qmp: %u clients already connected; refusing another", QMP_CLIENTS_MAX);
		close(c);
		return G_SOURCE_CONTINUE;
	}
	qmp_client_start(srv, c, NULL, NULL);
	return G_SOURCE_CONTINUE;
}

/* QEMU replaces a stale socket file; anything else at the path is left alone. */
static int qmp_listen_unlink(const char *path, GError **err)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		g_set_error(err, QMP_ERROR, QMP_ERROR_GENERIC,
			    "QMP socket %s: the path exists and is not a socket; remove it or "
			    "choose another path",
			    path);
		return -EEXIST;
	}
	return unlink(path) < 0 ? -errno : 0;
}

static int qmp_listen_socket(const char *path, int *out)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	*out = fd;
	return 0;
}

int qmp_server_listen(struct qmp_server *srv, const char *path, GError **err)
{
	struct qmp_listener *l;
	int ret, fd = -1;

	if (srv->nr_listen >= QMP_LISTEN_MAX) {
		g_set_error(err, QMP_ERROR, QMP_ERROR_GENERIC,
			    "QMP socket %s: at most %u QMP sockets; drop one", path,
			    QMP_LISTEN_MAX);
		return -ENOSPC;
	}
	if (!*path || strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		g_set_error(err, QMP_ERROR, QMP_ERROR_GENERIC,
			    "QMP socket '%s': a unix socket path is 1 to 107 bytes; use a "
			    "shorter path",
			    path);
		return -ENAMETOOLONG;
	}
	ret = qmp_listen_unlink(path, err);
	if (ret == 0)
		ret = qmp_listen_socket(path, &fd);
	if (ret < 0) {
		if (err && !*err)
			g_set_error(err, QMP_ERROR, QMP_ERROR_GENERIC,
				    "QMP socket %s: cannot listen: %s; check the directory exists "
				    "and is writable",
				    path, g_strerror(-ret));
		return ret;
	}
	l = &srv->listen[srv->nr_listen++];
	l->fd = fd;
	l->path = g_strdup(path);
	l->src = qmp_watch(srv, fd, G_IO_IN, qmp_listener_accept, srv);
	return 0;
}

/* ---- events ---- */

static void qmp_event_free(struct qmp_event *e)
{
	json_object_put(e->data);
	g_free(e->name);
	g_free(e);
}

static void qmp_server_deliver(struct qmp_server *srv, struct qmp_event *e)
{
	for (guint i = 0; i < srv->clients->len;) {
		struct qmp_client *c = g_ptr_array_index(srv->clients, i);

		/* A client that cannot take it is shut down, and freed by its own input
		 * callback (EOF): this may run inside another client's command. */
		if (qmp_event_send_at(c->s, e->name, json_object_get(e->data), e->us) < 0)
			shutdown(c->fd, SHUT_RDWR);
		i++;
	}
}

static gboolean qmp_server_events(void *data)
{
	struct qmp_server *srv = data;
	GQueue q;
	struct qmp_event *e;

	g_mutex_lock(&srv->lock);
	q = srv->events;
	g_queue_init(&srv->events);
	g_source_unref(srv->ev_src);
	srv->ev_src = NULL;
	g_mutex_unlock(&srv->lock);
	while ((e = g_queue_pop_head(&q))) {
		qmp_server_deliver(srv, e);
		qmp_event_free(e);
	}
	return G_SOURCE_REMOVE;
}

void qmp_server_emit_event(struct qmp_server *srv, const char *name, json_object *data)
{
	struct qmp_event *e = g_new0(struct qmp_event, 1);

	e->name = g_strdup(name);
	e->data = data;
	e->us = g_get_real_time();
	g_mutex_lock(&srv->lock);
	if (g_queue_is_empty(&srv->events) && g_main_context_is_owner(srv->ctx)) {
		/* on the server's thread (a command): now, so it precedes the reply, as
		 * QEMU's STOP precedes stop's return */
		g_mutex_unlock(&srv->lock);
		qmp_server_deliver(srv, e);
		qmp_event_free(e);
		return;
	}
	g_queue_push_tail(&srv->events, e);
	if (!srv->ev_src) {
		srv->ev_src = g_idle_source_new();
		g_source_set_priority(srv->ev_src, G_PRIORITY_DEFAULT);
		g_source_set_callback(srv->ev_src, qmp_server_events, srv, NULL);
		g_source_attach(srv->ev_src, srv->ctx);
	}
	g_mutex_unlock(&srv->lock);
}

/* ---- teardown ---- */

/* Best effort: give each client's queued output up to the deadline. */
static void qmp_server_drain(struct qmp_server *srv)
{
	gint64 deadline = g_get_monotonic_time() + G_USEC_PER_SEC;

	for (guint i = 0; i < srv->clients->len; i++) {
		struct qmp_client *c = g_ptr_array_index(srv->clients, i);

		while (c->out->len > 0 && qmp_client_flush(c) == 0 && c->out->len > 0) {
			struct pollfd p = {.fd = c->fd, .events = POLLOUT};
			gint64 left = (deadline - g_get_monotonic_time()) / 1000;

			if (left <= 0 || poll(&p, 1, (int)left) <= 0)
				break;
		}
	}
}

void qmp_server_destroy(struct qmp_server *srv)
{
	struct qmp_event *e;

	if (!srv)
		return;
	g_mutex_lock(&srv->lock);
	qmp_unwatch(&srv->ev_src);
	g_mutex_unlock(&srv->lock);
	while ((e = g_queue_pop_head(&srv->events))) { /* e.g. SHUTDOWN: deliver it */
		qmp_server_deliver(srv, e);
		qmp_event_free(e);
	}
	qmp_server_drain(srv);
	while (srv->clients->len > 0) {
		struct qmp_client *c = g_ptr_array_index(srv->clients, 0);

		c->closed = NULL; /* the owner is tearing everything down itself */
		qmp_client_free(c);
	}
	for (unsigned i = 0; i < srv->nr_listen; i++) {
		qmp_unwatch(&srv->listen[i].src);
		close(srv->listen[i].fd);
		unlink(srv->listen[i].path);
		g_free(srv->listen[i].path);
	}
	g_ptr_array_free(srv->clients, TRUE);
	g_mutex_clear(&srv->lock);
	g_main_context_unref(srv->ctx);
	g_free((char *)srv->version.package);
	g_free(srv);
}
