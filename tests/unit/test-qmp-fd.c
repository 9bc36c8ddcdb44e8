// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the QMP core's fd handling over real sockets: getfd/closefd with fds
 * passed by SCM_RIGHTS, the per-session named-fd table (taken by a command, replaced,
 * closed, full), fds that arrive with messages that do not take them, too many fds at
 * once, a getfd split over several writes, and fds sent alone on a blank byte before
 * the getfd, as QEMU's Python QMP library does (kept, replaced, closed at disconnect).  Every fd
 * the server got is proven closed by reading EOF on the other end of its pipe.  Fixture in
 * test-qmp.c.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/test-qmp.h"

static void test_getfd(struct fx *f, gconstpointer data)
{
	struct tq *q = fx_client(f);
	int p[2], p2[2];
	char buf[4];
	json_object *r;

	g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
	g_assert_cmpint(pipe2(p2, O_CLOEXEC), ==, 0);
	/* getfd stores it, a command takes it by name and uses it */
	tq_send_fds(q, "{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"w\"}}", &p[1], 1);
	r = tq_reply(q);
	tq_assert_return(r);
	json_object_put(r);
	close(p[1]);
	r = tq_cmd(q, "{\"execute\": \"test-usefd\", \"arguments\": {\"fdname\": \"w\"}}");
	tq_assert_return(r);
	json_object_put(r);
	g_assert_cmpint(read(p[0], buf, sizeof(buf)), ==, 2); /* "hi" */
	g_assert_cmpint(read(p[0], buf, sizeof(buf)), ==, 0); /* and every copy is closed */
	close(p[0]);
	fx_expect(q, "{\"execute\": \"test-usefd\", \"arguments\": {\"fdname\": \"w\"}}",
		  "GenericError", "no fd 'w'");
	/* a name given again replaces the fd and closes the old one */
	tq_send_fds(q, "{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"x\"}}", &p2[1], 1);
	json_object_put(tq_reply(q));
	close(p2[1]);
	g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
	tq_send_fds(q, "{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"x\"}}", &p[1], 1);
	json_object_put(tq_reply(q));
	close(p[1]);
	g_assert_cmpint(read(p2[0], buf, sizeof(buf)), ==, 0);
	close(p2[0]);
	/* closefd closes it; a second closefd does not find it */
	r = tq_cmd(q, "{\"execute\": \"closefd\", \"arguments\": {\"fdname\": \"x\"}}");
	tq_assert_return(r);
	json_object_put(r);
	g_assert_cmpint(read(p[0], buf, sizeof(buf)), ==, 0);
	close(p[0]);
	fx_expect(q, "{\"execute\": \"closefd\", \"arguments\": {\"fdname\": \"x\"}}",
		  "GenericError", "File descriptor named 'x' not found");
	fx_expect(q, "{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"x\"}}", "GenericError",
		  "No file descriptor supplied via SCM_RIGHTS");
	tq_close(q);
}

/* fds that no command takes, or that come with a bad name, are closed. */
static void test_getfd_bad(struct fx *f, gconstpointer data)
{
	static const struct {
		const char *msg, *desc;
	} bad[] = {
		{"{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"1x\"}}",
		 "Parameter 'fdname' expects a name not starting with a digit"},
		{"{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"\"}}", NULL},
		{"{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"a b\"}}", NULL},
		{"{\"execute\": \"getfd\", \"arguments\": {\"fdname\": 7}}",
		 "Invalid parameter type for 'fdname', expected: string"},
		{"{\"execute\": \"query-version\"}", NULL},
		{"{\"execute\": \"nope\"}", NULL},
		{"{bad}\n", NULL},
	};
	struct tq *q = fx_client(f);
	char buf[1];
	int p[2];

	for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
		json_object *r;

		g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
		tq_send_fds(q, bad[i].msg, &p[1], 1);
		close(p[1]);
		r = tq_reply(q);
		if (strstr(bad[i].msg, "getfd") || bad[i].msg[1] == 'b')
			tq_assert_error(r, "GenericError", bad[i].desc);
		json_object_put(r);
		g_assert_cmpint(read(p[0], buf, 1), ==, 0); /* the server's copy is closed */
		close(p[0]);
	}
	/* more fds than a message may bring (MSG_CTRUNC): refused, all closed, and the
	 * connection too, since bytes and fds were lost with the truncation */
	{
		int fds[QMP_FDS_MAX + 4];
		json_object *r;

		g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
		for (unsigned i = 0; i < G_N_ELEMENTS(fds); i++)
			fds[i] = p[1];
		tq_send_fds(q, "{\"execute\": \"query-version\"}", fds, G_N_ELEMENTS(fds));
		close(p[1]);
		r = tq_reply(q);
		tq_assert_error(r, "GenericError",
				"More than 8 file descriptors at once; closing the connection");
		json_object_put(r);
		g_assert_true(tq_eof(q, 5));
		g_assert_cmpint(read(p[0], buf, 1), ==, 0);
		close(p[0]);
	}
	tq_close(q);
	fx_wait_clients(f, 0);
}

/* A getfd split over several writes keeps the fd that came with its first part. */
static void test_getfd_split(struct fx *f, gconstpointer data)
{
	struct tq *q = fx_client(f);
	json_object *r;
	int p[2];

	g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
	tq_send_fds(q, "{\"execute\": \"getfd\", ", &p[1], 1);
	close(p[1]);
	g_usleep(50000);
	tq_send(q, "\"arguments\": {\"fdname\": \"late\"}}");
	r = tq_reply(q);
	tq_assert_return(r);
	json_object_put(r);
	r = tq_cmd(q, "{\"execute\": \"test-usefd\", \"arguments\": {\"fdname\": \"late\"}}");
	tq_assert_return(r);
	json_object_put(r);
	close(p[0]);
	tq_close(q);
}

/* The server's copy of the pipe's write end is closed: EOF (after ours is closed). */
static void fx_assert_closed(int rd)
{
	char buf[4];

	g_assert_cmpint(read(rd, buf, sizeof(buf)), ==, 0);
	close(rd);
}

/* test-usefd takes the fd named name and writes "hi" into it: it reaches rd. */
static void fx_assert_usable(struct tq *q, const char *name, int rd)
{
	g_autofree char *cmd = g_strdup_printf(
		"{\"execute\": \"test-usefd\", \"arguments\": {\"fdname\": \"%s\"}}", name);
	json_object *r = tq_cmd(q, cmd);
	char buf[4];

	tq_assert_return(r);
	json_object_put(r);
	g_assert_cmpint(read(rd, buf, sizeof(buf)), ==, 2);
	g_assert_cmpint(memcmp(buf, "hi", 2), ==, 0);
}

static void fx_getfd_ok(struct tq *q, const char *name)
{
	g_autofree char *cmd = g_strdup_printf(
		"{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"%s\"}, \"id\": 9}", name);
	json_object *r = tq_cmd(q, cmd);

	tq_assert_return(r);
	g_assert_cmpint(json_object_get_int(tq_get(r, "id")), ==, 9);
	json_object_put(r);
}

/* Send fd alone on one blank byte, as QEMU's python/qemu/qmp send_fd_scm() does. */
static void fx_send_loose(struct tq *q, int fd)
{
	tq_send_fds(q, " ", &fd, 1);
	close(fd);
	g_usleep(20000); /* let the server read it on its own, before what follows */
}

/*
 * QEMU's way: the fd on a blank byte, the getfd in a later write.  The fd waits for it,
 * also through commands that take no fd (QEMU's chardev keeps it until it is consumed);
 * the blank byte is not a message (no reply).
 */
static void test_getfd_loose(struct fx *f, gconstpointer data)
{
	struct tq *q = fx_client(f);
	json_object *r;
	int p[2];

	g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
	fx_send_loose(q, p[1]);
	fx_getfd_ok(q, "blank");
	fx_assert_usable(q, "blank", p[0]);
	fx_assert_closed(p[0]);
	/* fd, then commands that take none (one of them an error), then getfd */
	g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
	fx_send_loose(q, p[1]);
	r = tq_cmd(q, "{\"execute\": \"query-version\", \"id\": \"v\"}");
	tq_assert_return(r);
	g_assert_cmpstr(tq_str(r, "id"), ==, "v"); /* the first reply is this command's */
	json_object_put(r);
	fx_expect(q, "{\"execute\": \"nope\"}", "CommandNotFound",
		  "The command nope has not been found");
	fx_getfd_ok(q, "later");
	fx_assert_usable(q, "later", p[0]);
	fx_assert_closed(p[0]);
	/* taken once: a second getfd finds nothing */
	fx_expect(q, "{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"again\"}}",
		  "GenericError", "No file descriptor supplied via SCM_RIGHTS");
	tq_close(q);
}

/* Newer fds replace loose ones, whether they come loose too or with a getfd. */
static void test_getfd_replaced(struct fx *f, gconstpointer data)
{
	struct tq *q = fx_client(f);
	json_object *r;
	int a[2], b[2], c[2];

	g_assert_cmpint(pipe2(a, O_CLOEXEC), ==, 0);
	g_assert_cmpint(pipe2(b, O_CLOEXEC), ==, 0);
	g_assert_cmpint(pipe2(c, O_CLOEXEC), ==, 0);
	fx_send_loose(q, a[1]);
	fx_send_loose(q, b[1]);
	fx_assert_closed(a[0]); /* replaced by b */
	tq_send_fds(q, "{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"c\"}}", &c[1], 1);
	close(c[1]);
	r = tq_reply(q);
	tq_assert_return(r);
	json_object_put(r);
	fx_assert_closed(b[0]); /* replaced by the fd that came with the getfd */
	fx_assert_usable(q, "c", c[0]);
	fx_assert_closed(c[0]);
	tq_close(q);
}

/* A client that goes away with loose fds pending: the server closes them. */
static void test_getfd_loose_disconnect(struct fx *f, gconstpointer data)
{
	unsigned before = tq_count_fds();
	struct tq *q = fx_client(f);
	unsigned connected = tq_count_fds();
	json_object *r;
	int p[2];

	g_assert_cmpuint(connected, ==, before + 2); /* our socket, the server's */
	g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
	fx_send_loose(q, p[1]);
	r = tq_cmd(q, "{\"execute\": \"query-version\"}"); /* the fd has been received */
	json_object_put(r);
	g_assert_cmpuint(tq_count_fds(), ==, connected + 2); /* p[0], the server's copy */
	tq_close(q);
	fx_wait_clients(f, 0);
	g_assert_cmpuint(tq_count_fds(), ==, before + 1); /* p[0] */
	fx_assert_closed(p[0]);
	g_assert_cmpuint(tq_count_fds(), ==, before);
}

static json_object *fx_getfd_with(struct tq *q, const char *name, int fd)
{
	g_autofree char *cmd = g_strdup_printf(
		"{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"%s\"}}", name);

	tq_send_fds(q, cmd, &fd, 1);
	return tq_reply(q);
}

/* getfd refuses a 65th name (its fd is closed); a reused name or a closefd makes room. */
static void test_getfd_table_full(struct fx *f, gconstpointer data)
{
	struct tq *q = fx_client(f);
	json_object *r;
	int p[2], x[2];

	g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
	g_assert_cmpint(pipe2(x, O_CLOEXEC), ==, 0);
	for (unsigned i = 0; i < QMP_NAMED_FDS_MAX; i++) {
		g_autofree char *name = g_strdup_printf("n%u", i);

		r = fx_getfd_with(q, name, p[1]);
		tq_assert_return(r);
		json_object_put(r);
	}
	r = fx_getfd_with(q, "n64", x[1]);
	tq_assert_error(r, "GenericError", "Too many named fds (64): closefd some first");
	json_object_put(r);
	close(x[1]);
	fx_assert_closed(x[0]);		  /* refused: the server's copy is closed */
	r = fx_getfd_with(q, "n0", p[1]); /* replacing needs no room */
	tq_assert_return(r);
	json_object_put(r);
	r = tq_cmd(q, "{\"execute\": \"closefd\", \"arguments\": {\"fdname\": \"n1\"}}");
	tq_assert_return(r);
	json_object_put(r);
	r = fx_getfd_with(q, "n64", p[1]);
	tq_assert_return(r);
	json_object_put(r);
	close(p[1]);
	tq_close(q);
	fx_wait_clients(f, 0);
	fx_assert_closed(p[0]); /* the 64 names went with the session */
}

void fx_add_fd_tests(void)
{
	FX_ADD("/protocol/qmp/getfd-closefd", test_getfd);
	FX_ADD("/protocol/qmp/getfd-bad", test_getfd_bad);
	FX_ADD("/protocol/qmp/getfd-split", test_getfd_split);
	FX_ADD("/protocol/qmp/getfd-loose", test_getfd_loose);
	FX_ADD("/protocol/qmp/getfd-loose-replaced", test_getfd_replaced);
	FX_ADD("/protocol/qmp/getfd-loose-disconnect", test_getfd_loose_disconnect);
	FX_ADD("/protocol/qmp/getfd-table-full", test_getfd_table_full);
}
