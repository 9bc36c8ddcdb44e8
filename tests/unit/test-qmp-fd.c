// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the QMP core's fd handling over real sockets: getfd/closefd with fds
 * passed by SCM_RIGHTS, the per-session named-fd table (taken by a command, replaced,
 * closed), fds that arrive with messages that do not take them, too many fds at once,
 * and a getfd split over several writes.  Every fd the server got is proven closed by
 * reading EOF on the other end of its pipe.  Fixture in test-qmp.c.
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

void fx_add_fd_tests(void)
{
	FX_ADD("/protocol/qmp/getfd-closefd", test_getfd);
	FX_ADD("/protocol/qmp/getfd-bad", test_getfd_bad);
	FX_ADD("/protocol/qmp/getfd-split", test_getfd_split);
}
