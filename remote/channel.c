// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * channel: one device's socket in a device-class process.  Either an inherited,
 * connected AF_UNIX stream socket (socket=N), served until it closes, or a listening
 * socket at a path (socket=PATH) that accepts one client at a time and accepts again
 * after that client leaves.  Each connection gets a fresh vfu_server.  The channel
 * owns its device, its fds and its path.  It does not parse messages (vfu_server.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib-unix.h>

#include "remote/remote.h"

#define CHANNEL_BACKLOG 4

struct channel {
	struct dev *dev;
	char *path;    /* listening path we created (unlinked on destroy), or NULL */
	int listen_fd; /* -1 for an inherited connection */
	int conn_fd;   /* current connection, -1 when none */
	guint listen_src, conn_src;
	struct vfu_server *srv;
	channel_closed_fn closed;
	void *opaque;
};

static gboolean channel_on_listen(gint fd, GIOCondition cond, gpointer opaque);

const char *channel_id(const struct channel *ch)
{
	return ch->dev->id;
}

static void channel_disconnect(struct channel *ch)
{
	if (ch->conn_src)
		g_source_remove(ch->conn_src);
	ch->conn_src = 0;
	vfu_server_destroy(ch->srv);
	ch->srv = NULL;
	if (ch->conn_fd >= 0)
		close(ch->conn_fd);
	ch->conn_fd = -1;
}

/* After serving (or failing to serve) a request: keep the connection or end it. */
static gboolean channel_served(struct channel *ch, int ret)
{
	if (ret == 0 || ret == -EAGAIN)
		return G_SOURCE_CONTINUE;
	ch->conn_src = 0; /* returning G_SOURCE_REMOVE drops it */
	channel_disconnect(ch);
	if (ch->listen_fd >= 0)
		ch->listen_src = g_unix_fd_add(ch->listen_fd, G_IO_IN, channel_on_listen, ch);
	else
		ch->closed(ch->opaque, ch);
	return G_SOURCE_REMOVE;
}

static gboolean channel_on_request(gint fd, GIOCondition cond, gpointer opaque)
{
	struct channel *ch = opaque;

	return channel_served(ch, vfu_server_handle(ch->srv, false));
}

/*
 * g_unix_fd_add() with can-recurse set: GLib otherwise blocks and unblocks a source
 * around each dispatch, which costs a self-wakeup (two syscalls) per request on the
 * hot path.  Our callbacks never re-enter the main loop, so recursion cannot happen.
 */
static guint channel_watch(int fd, GUnixFDSourceFunc fn, struct channel *ch)
{
	GSource *src = g_unix_fd_source_new(fd, G_IO_IN | G_IO_HUP | G_IO_ERR);
	guint id;

	g_source_set_callback(src, G_SOURCE_FUNC(fn), ch, NULL);
	g_source_set_can_recurse(src, TRUE);
	id = g_source_attach(src, NULL);
	g_source_unref(src);
	return id;
}

/* Serve the connected socket fd (owned by the channel from now on). */
static int channel_serve(struct channel *ch, int fd)
{
	int ret;

	ch->conn_fd = fd;
	ret = vfu_server_create(ch->dev, fd, &ch->srv);
	if (ret < 0) {
		close(fd);
		ch->conn_fd = -1;
		return ret;
	}
	ch->conn_src = channel_watch(fd, channel_on_request, ch);
	return 0;
}

bool channel_poll(struct channel *ch)
{
	guint src = ch->conn_src;
	int ret;

	if (!ch->srv)
		return false;
	/* Reading the header is the probe: no separate poll() or peek per spin. */
	ret = vfu_server_handle(ch->srv, true);
	if (ret == -EAGAIN)
		return vfu_server_poll_doorbells(ch->srv);
	if (channel_served(ch, ret) == G_SOURCE_REMOVE)
		g_source_remove(src); /* the watch GLib would have dropped */
	return true;
}

/* One client at a time: stop listening while one is connected (others wait in backlog). */
static gboolean channel_on_listen(gint fd, GIOCondition cond, gpointer opaque)
{
	struct channel *ch = opaque;
	int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

	if (conn < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			g_warning("%s: accept on %s failed: %s", ch->dev->id, ch->path,
				  g_strerror(errno));
		return G_SOURCE_CONTINUE;
	}
	if (channel_serve(ch, conn) < 0) {
		g_warning("%s: cannot serve a new client on %s", ch->dev->id, ch->path);
		return G_SOURCE_CONTINUE;
	}
	g_info("%s: client connected on %s", ch->dev->id, ch->path);
	ch->listen_src = 0;
	return G_SOURCE_REMOVE;
}

int channel_check_fd(const struct remote_devopt *o, GError **err)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(int);
	int type = 0;

	if (fcntl(o->fd, F_GETFD) < 0) {
		g_set_error(err, REMOTE_ERROR, 0, "%s '%s': socket=%d is not an open file "
			    "descriptor; pass one end of a socketpair as fd %d, or socket=PATH",
			    o->type, o->id, o->fd, o->fd);
		return -EBADF;
	}
	if (getsockopt(o->fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM) {
		g_set_error(err, REMOTE_ERROR, 0, "%s '%s': fd %d is not a stream socket; pass "
			    "one end of socketpair(AF_UNIX, SOCK_STREAM)", o->type, o->id, o->fd);
		return -ENOTSOCK;
	}
	len = sizeof(sa);
	if (getsockname(o->fd, (struct sockaddr *)&sa, &len) < 0 || sa.ss_family != AF_UNIX ||
	    getpeername(o->fd, (struct sockaddr *)&sa, &(socklen_t){ sizeof(sa) }) < 0) {
		g_set_error(err, REMOTE_ERROR, 0, "%s '%s': fd %d is not a connected AF_UNIX "
			    "socket; pass one end of socketpair(AF_UNIX, SOCK_STREAM)",
			    o->type, o->id, o->fd);
		return -ENOTCONN;
	}
	return fcntl(o->fd, F_SETFD, FD_CLOEXEC) < 0 ? -errno : 0;
}

/* A socket file left by a process that is gone refuses connections: remove it. */
static int channel_unlink_stale(const struct remote_devopt *o, const struct sockaddr_un *sa,
				GError **err)
{
	struct stat st;
	int fd, ret;

	if (lstat(sa->sun_path, &st) < 0)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		g_set_error(err, REMOTE_ERROR, 0, "%s '%s': socket=%s exists and is not a "
			    "socket; choose another path", o->type, o->id, o->socket);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ret = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0 ? 0 : -errno;
	close(fd);
	if (ret == 0 || ret != -ECONNREFUSED) {
		g_set_error(err, REMOTE_ERROR, 0, "%s '%s': socket=%s is in use by another "
			    "process; stop it or choose another path", o->type, o->id, o->socket);
		return -EADDRINUSE;
	}
	return unlink(sa->sun_path) < 0 ? -errno : 0;
}

static int channel_listen(struct channel *ch, const struct remote_devopt *o, GError **err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int ret;

	if (strlen(o->socket) >= sizeof(sa.sun_path)) {
		g_set_error(err, REMOTE_ERROR, 0, "%s '%s': socket path '%s' is longer than %zu "
			    "bytes", o->type, o->id, o->socket, sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, o->socket);
	ret = channel_unlink_stale(o, &sa, err);
	if (ret < 0)
		return ret;
	ch->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (ch->listen_fd < 0)
		return -errno;
	ret = bind(ch->listen_fd, (struct sockaddr *)&sa, sizeof(sa));
	if (ret == 0) {
		ch->path = g_strdup(o->socket); /* ours now: unlinked by channel_destroy() */
		ret = listen(ch->listen_fd, CHANNEL_BACKLOG);
	}
	if (ret < 0) {
		ret = -errno;
		g_set_error(err, REMOTE_ERROR, 0, "%s '%s': cannot listen on %s: %s", o->type,
			    o->id, o->socket, g_strerror(-ret));
		return ret;
	}
	ch->listen_src = g_unix_fd_add(ch->listen_fd, G_IO_IN, channel_on_listen, ch);
	return 0;
}

int channel_create(const struct remote_devopt *o, struct dev *dev, channel_closed_fn closed,
		   void *opaque, struct channel **out, GError **err)
{
	struct channel *ch = g_new0(struct channel, 1);
	int ret;

	ch->dev = dev;
	ch->listen_fd = ch->conn_fd = -1;
	ch->closed = closed;
	ch->opaque = opaque;
	if (o->fd >= 0) {
		ret = channel_serve(ch, o->fd);
	} else {
		ret = channel_listen(ch, o, err);
	}
	if (ret < 0) {
		if (err && !*err)
			g_set_error(err, REMOTE_ERROR, 0, "%s '%s': cannot serve socket=%s: %s",
				    o->type, o->id, o->socket, g_strerror(-ret));
		channel_destroy(ch);
		return ret;
	}
	*out = ch;
	return 0;
}

void channel_destroy(struct channel *ch)
{
	if (!ch)
		return;
	channel_disconnect(ch);
	if (ch->listen_src)
		g_source_remove(ch->listen_src);
	if (ch->listen_fd >= 0)
		close(ch->listen_fd);
	if (ch->path)
		unlink(ch->path);
	g_free(ch->path);
	dev_destroy(ch->dev);
	g_free(ch);
}
