// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of remote/channel.c: checking an inherited socket fd (not open, not a
 * socket, wrong type, not connected), serving an inherited connection in the GLib main
 * loop until it closes (also after a malformed message), and a listening path that
 * serves one client at a time, accepts again, replaces a stale socket file and refuses
 * a path that is in use or not a socket.  Runs the default main context in-thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "protocol/protocol.h"
#include "remote/remote.h"

const struct dev_ops *const dev_table[] = { &pci_testdev_ops, NULL };

static struct dev *new_dev(const char *id)
{
	static const struct dev_env env = { 0 };
	g_autofree char *err = NULL;
	struct dev *dev;

	g_assert_cmpint(dev_create("pci-testdev", id, &env, NULL, &dev, &err), ==, 0);
	return dev;
}

static struct remote_devopt opt(const char *socket, int fd)
{
	return (struct remote_devopt){ .type = "pci-testdev", .id = "t0",
				       .socket = (char *)socket, .fd = fd };
}

static void on_closed(void *opaque, struct channel *ch)
{
	(*(unsigned *)opaque)++;
}

/* Run the main loop until fd is readable or ms pass; true if readable. */
static bool pump_until_readable(int fd, unsigned ms)
{
	gint64 end = g_get_monotonic_time() + ms * 1000;

	while (g_get_monotonic_time() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		g_main_context_iteration(NULL, FALSE);
		if (poll(&p, 1, 1) == 1)
			return true;
	}
	return false;
}

static void pump(unsigned ms)
{
	gint64 end = g_get_monotonic_time() + ms * 1000;

	while (g_get_monotonic_time() < end) {
		g_main_context_iteration(NULL, FALSE);
		g_usleep(1000);
	}
}

static void send_version(int sock, uint16_t id)
{
	struct vfu_caps caps = { .major = VFU_VERSION_MAJOR, .minor = VFU_VERSION_MINOR,
				 .max_msg_fds = 1, .max_data_xfer_size = 4096,
				 .device_id = "t0" };
	g_autofree uint8_t *p = NULL;
	size_t len;

	g_assert_cmpint(vfu_version_encode(&caps, &p, &len), ==, 0);
	g_assert_cmpint(vfu_send(sock, id, VFU_CMD_VERSION, VFU_F_TYPE_COMMAND, 0, p, len, NULL,
				 0), ==, 0);
}

/* The server's answer to the last request: true if it succeeded. */
static bool reply_ok(int sock)
{
	struct vfu_msg m;
	bool ok;

	g_assert_true(pump_until_readable(sock, 5000));
	g_assert_cmpint(vfu_recv(sock, &m, VFU_MAX_MSG), ==, 0);
	ok = !(m.hdr.flags & VFU_F_ERROR);
	vfu_msg_clear(&m);
	return ok;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
	g_assert_cmpint(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
	return fd;
}

static void assert_check_fails(int fd, int err, const char *needle)
{
	struct remote_devopt o = opt("N", fd);
	GError *gerr = NULL;

	g_assert_cmpint(channel_check_fd(&o, &gerr), ==, err);
	g_assert_nonnull(strstr(gerr->message, needle));
	g_assert_nonnull(strstr(gerr->message, "'t0'"));
	g_error_free(gerr);
}

static void test_check_fd(void)
{
	struct remote_devopt o;
	int p[2], sv[2], dgram, listener, inet, closed;

	closed = dup(0);
	close(closed);
	assert_check_fails(closed, -EBADF, "not an open file descriptor");
	g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
	assert_check_fails(p[0], -ENOTSOCK, "not a stream socket");
	dgram = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_check_fails(dgram, -ENOTSOCK, "not a stream socket");
	listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	g_assert_cmpint(bind(listener, (struct sockaddr *)&(struct sockaddr_un){ AF_UNIX },
			     sizeof(sa_family_t)), ==, 0); /* autobind */
	g_assert_cmpint(listen(listener, 1), ==, 0);
	assert_check_fails(listener, -ENOTCONN, "not a connected AF_UNIX socket");
	inet = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_check_fails(inet, -ENOTCONN, "not a connected AF_UNIX socket");
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
	o = opt("N", sv[1]);
	g_assert_cmpint(channel_check_fd(&o, NULL), ==, 0);
	g_assert_cmpint(fcntl(sv[1], F_GETFD) & FD_CLOEXEC, ==, FD_CLOEXEC);
	close(p[0]);
	close(p[1]);
	close(dgram);
	close(listener);
	close(inet);
	close(sv[0]);
	close(sv[1]);
}

static void test_inherited(void)
{
	struct channel *ch;
	struct remote_devopt o;
	unsigned closed = 0;
	int sv[2];
	char b;

	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	o = opt("3", sv[1]);
	g_assert_cmpint(channel_create(&o, new_dev("t0"), on_closed, &closed, &ch, NULL), ==, 0);
	g_assert_cmpstr(channel_id(ch), ==, "t0");
	send_version(sv[0], 1);
	g_assert_true(reply_ok(sv[0]));
	close(sv[0]);
	pump(50);
	g_assert_cmpuint(closed, ==, 1);
	/* The channel closed its end: the fd number is free again or reused. */
	g_assert_true(fcntl(sv[1], F_GETFD) < 0 || recv(sv[1], &b, 1, MSG_DONTWAIT) < 0);
	channel_destroy(ch);
}

static void test_inherited_malformed(void)
{
	struct vfu_device_info req = { .argsz = sizeof(req) };
	struct remote_devopt o;
	struct channel *ch;
	unsigned closed = 0;
	int sv[2];
	char b;

	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	o = opt("3", sv[1]);
	g_assert_cmpint(channel_create(&o, new_dev("t0"), on_closed, &closed, &ch, NULL), ==, 0);
	g_assert_cmpint(vfu_send(sv[0], 1, VFU_CMD_DEVICE_GET_INFO, VFU_F_TYPE_COMMAND, 0, &req,
				 sizeof(req), NULL, 0), ==, 0);
	g_test_expect_message("remote", G_LOG_LEVEL_WARNING, "*before VERSION*");
	g_assert_false(reply_ok(sv[0]));
	g_test_assert_expected_messages();
	/* Then the server hangs up. */
	g_assert_true(pump_until_readable(sv[0], 5000));
	g_assert_cmpint(recv(sv[0], &b, 1, 0), ==, 0);
	g_assert_cmpuint(closed, ==, 1);
	close(sv[0]);
	channel_destroy(ch);
}

static void test_listen(void)
{
	g_autofree char *dir = g_dir_make_tmp("mpvmm-chan-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "t0.sock", NULL);
	struct remote_devopt o = opt(path, -1);
	struct channel *ch;
	unsigned closed = 0;
	int c1, c2;

	g_assert_cmpint(channel_create(&o, new_dev("t0"), on_closed, &closed, &ch, NULL), ==, 0);
	c1 = connect_to(path);
	send_version(c1, 1);
	g_assert_true(reply_ok(c1));
	/* A second client waits in the backlog until the first one leaves. */
	c2 = connect_to(path);
	send_version(c2, 1);
	g_assert_false(pump_until_readable(c2, 100));
	close(c1);
	g_assert_true(reply_ok(c2));
	close(c2);
	/* And after that, accepts again. */
	pump(20);
	c1 = connect_to(path);
	send_version(c1, 7);
	g_assert_true(reply_ok(c1));
	close(c1);
	pump(20);
	g_assert_cmpuint(closed, ==, 0); /* a listening channel never closes */
	channel_destroy(ch);
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
	g_rmdir(dir);
}

static void test_listen_paths(void)
{
	g_autofree char *dir = g_dir_make_tmp("mpvmm-chan-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "s", NULL);
	g_autofree char *file = g_build_filename(dir, "f", NULL);
	g_autofree char *longp = g_strnfill(200, 'x');
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct remote_devopt o = opt(path, -1);
	struct channel *ch, *ch2;
	GError *err = NULL;
	int stale;

	/* A socket file nobody listens on is replaced. */
	stale = socket(AF_UNIX, SOCK_STREAM, 0);
	g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
	g_assert_cmpint(bind(stale, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
	close(stale);
	g_assert_cmpint(channel_create(&o, new_dev("t0"), on_closed, NULL, &ch, &err), ==, 0);
	/* A path in use is refused. */
	g_assert_cmpint(channel_create(&o, new_dev("t0"), on_closed, NULL, &ch2, &err), ==,
			-EADDRINUSE);
	g_assert_nonnull(strstr(err->message, "in use"));
	g_clear_error(&err);
	channel_destroy(ch);
	/* So is a path that is not a socket, and one too long for sun_path. */
	g_assert_true(g_file_set_contents(file, "x", 1, NULL));
	o.socket = file;
	g_assert_cmpint(channel_create(&o, new_dev("t0"), on_closed, NULL, &ch, &err), ==,
			-EEXIST);
	g_assert_nonnull(strstr(err->message, "not a socket"));
	g_clear_error(&err);
	g_assert_true(g_file_test(file, G_FILE_TEST_EXISTS)); /* left alone */
	o.socket = longp;
	g_assert_cmpint(channel_create(&o, new_dev("t0"), on_closed, NULL, &ch, &err), ==,
			-ENAMETOOLONG);
	g_clear_error(&err);
	g_unlink(file);
	g_rmdir(dir);
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/remote/channel/check-fd", test_check_fd);
	g_test_add_func("/remote/channel/inherited", test_inherited);
	g_test_add_func("/remote/channel/inherited-malformed", test_inherited_malformed);
	g_test_add_func("/remote/channel/listen", test_listen);
	g_test_add_func("/remote/channel/listen-paths", test_listen_paths);
	return g_test_run();
}
