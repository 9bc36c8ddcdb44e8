// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the QMP core's transport side: the test command table, the message
 * size limit (a 1 MiB message), pipelined and split messages, several clients, events
 * from another thread, clients that disconnect mid-message and mid-command or never
 * read, listening and adopted sockets, the client limit.  fds (getfd/closefd) are in test-qmp-fd.c;
 * the fixture is in test-qmp.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tests/unit/test-qmp.h"

/* ---- the test commands ---- */

static int fx_echo(void *opaque, struct qmp_session *s, json_object *args, json_object **ret,
		   GError **err)
{
	*ret = json_object_get(args);
	return 0;
}

static int fx_fail(void *opaque, struct qmp_session *s, json_object *args, json_object **ret,
		   GError **err)
{
	*ret = json_object_new_object(); /* dropped by the core on failure */
	return qmp_error_set(err, -ENODEV, QMP_ERROR_DEVICE_NOT_FOUND, "Device '%s' not found",
			     "nodev");
}

static int fx_errno(void *opaque, struct qmp_session *s, json_object *args, json_object **ret,
		    GError **err)
{
	return -EIO;
}

static int fx_gerror(void *opaque, struct qmp_session *s, json_object *args, json_object **ret,
		     GError **err)
{
	g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_FAILED, "a foreign error");
	return -EINVAL;
}

static int fx_slow(void *opaque, struct qmp_session *s, json_object *args, json_object **ret,
		   GError **err)
{
	g_usleep((gulong)json_object_get_int(json_object_object_get(args, "ms")) * 1000);
	return 0;
}

struct fx_emit {
	struct fx *f;
	int n;
};

static void *fx_emit_thread(void *data)
{
	struct fx_emit *e = data;
	json_object *d = json_object_new_object();

	json_object_object_add(d, "n", json_object_new_int(e->n));
	qmp_server_emit_event(e->f->srv, "TEST_EVENT", d);
	qmp_server_emit_event(e->f->srv, "TEST_NODATA", NULL);
	return NULL;
}

/* Emits TEST_EVENT {"n"} and TEST_NODATA from another thread, before replying. */
static int fx_emit(void *opaque, struct qmp_session *s, json_object *args, json_object **ret,
		   GError **err)
{
	struct fx_emit e = {opaque, json_object_get_int(json_object_object_get(args, "n"))};

	g_thread_join(g_thread_new("emit", fx_emit_thread, &e));
	return 0;
}

/* Takes the named fd and writes "hi" into it (device_add socket=FDNAME would). */
static int fx_usefd(void *opaque, struct qmp_session *s, json_object *args, json_object **ret,
		    GError **err)
{
	const char *name = json_object_get_string(json_object_object_get(args, "fdname"));
	int fd = qmp_session_take_fd(s, name);
	ssize_t n;

	if (fd < 0)
		return qmp_error_set(err, fd, QMP_ERROR_GENERIC, "no fd '%s'", name);
	n = write(fd, "hi", 2);
	close(fd);
	return n == 2 ? 0 : -EIO;
}

/* A 64 KiB reply, for the output limit. */
static int fx_big(void *opaque, struct qmp_session *s, json_object *args, json_object **ret,
		  GError **err)
{
	g_autofree char *x = g_strnfill(65536, 'b');

	*ret = json_object_new_string(x);
	return 0;
}

static const struct qmp_arg fx_echo_args[] = {
	{"s", QMP_ARG_STR, false},
	{"i", QMP_ARG_INT, true},
	{"b", QMP_ARG_BOOL, true},
	{"n", QMP_ARG_NUMBER, true},
	{"o", QMP_ARG_OBJECT, true},
	{"a", QMP_ARG_ANY, true},
	{NULL},
};
static const struct qmp_arg fx_extra_args[] = {{"driver", QMP_ARG_STR, false}, {NULL}};
static const struct qmp_arg fx_slow_args[] = {{"ms", QMP_ARG_INT, false}, {NULL}};
static const struct qmp_arg fx_emit_args[] = {{"n", QMP_ARG_INT, false}, {NULL}};
static const struct qmp_arg fx_fd_args[] = {{"fdname", QMP_ARG_STR, false}, {NULL}};

const struct qmp_command fx_commands[] = {
	{"test-echo", fx_echo, fx_echo_args},
	{"test-extra", fx_echo, fx_extra_args, .extra_args = true},
	{"test-fail", fx_fail},
	{"test-errno", fx_errno},
	{"test-gerror", fx_gerror},
	{"test-slow", fx_slow, fx_slow_args},
	{"test-emit", fx_emit, fx_emit_args},
	{"test-usefd", fx_usefd, fx_fd_args},
	{"test-big", fx_big},
	{"query-version", fx_errno}, /* shadowed by the built-in */
	{NULL},
};

unsigned fx_nr_commands(void)
{
	return G_N_ELEMENTS(fx_commands) - 2;
}

/* ---- the cases ---- */

/* Exactly QMP_MSG_MAX bytes is served; one more is refused and the client dropped. */
static char *fx_sized_message(size_t total, size_t *pad_out)
{
	static const char head[] = "{\"execute\": \"test-echo\", \"arguments\": {\"s\": \"";
	static const char tail[] = "\"}}";
	size_t pad = total - (sizeof(head) - 1) - (sizeof(tail) - 1);
	g_autofree char *xs = NULL;
	char *m;

	g_assert_cmpuint(total, >, sizeof(head) + sizeof(tail));
	xs = g_strnfill(pad, 'x');
	m = g_strconcat(head, xs, tail, NULL);
	g_assert_cmpuint(strlen(m), ==, total);
	*pad_out = pad;
	return m;
}

static void test_1mib(struct fx *f, gconstpointer data)
{
	struct tq *q = fx_client(f);
	size_t pad, pad_big;
	g_autofree char *ok = fx_sized_message(QMP_MSG_MAX, &pad);
	g_autofree char *big = fx_sized_message(QMP_MSG_MAX + 1, &pad_big);
	json_object *r;

	/* blanks before and after do not count */
	tq_send(q, "\r\n  ");
	tq_send(q, ok);
	tq_send(q, "   \n");
	r = tq_reply(q);
	g_assert_cmpuint(strlen(tq_str(tq_assert_return(r), "s")), ==, pad);
	json_object_put(r);
	r = tq_cmd(q, "{\"execute\": \"query-version\"}");
	tq_assert_return(r);
	json_object_put(r);
	tq_send(q, big);
	r = tq_reply(q);
	tq_assert_error(r, "GenericError",
			"QMP message exceeds 1048576 bytes; closing the connection");
	json_object_put(r);
	g_assert_true(tq_eof(q, 5));
	tq_close(q);
	/* an unterminated message is cut at the limit too, before it ends */
	q = fx_client(f);
	tq_send(q, "{\"execute\": \"test-echo\", \"arguments\": {\"s\": \"");
	big[65536] = 0; /* 64 KiB of the x's, 17 times: past the limit, never closed */
	for (unsigned i = 0; i < 17; i++)
		tq_send(q, big + 100);
	r = tq_reply(q);
	tq_assert_error(r, "GenericError", NULL);
	json_object_put(r);
	g_assert_true(tq_eof(q, 5));
	tq_close(q);
	fx_wait_clients(f, 0);
}

static void test_pipelined(struct fx *f, gconstpointer data)
{
	struct tq *q = fx_client(f);
	g_autoptr(GString) s = g_string_new(NULL);

	/* 200 commands in one write, no separators at all, mixed outcomes */
	for (unsigned i = 0; i < 200; i++)
		g_string_append_printf(s, "{\"execute\": \"%s\", \"id\": %u}",
				       i % 3 ? "query-version" : "nope", i);
	tq_send(q, s->str);
	for (unsigned i = 0; i < 200; i++) {
		json_object *r = tq_reply(q);

		g_assert_cmpint(json_object_get_int(tq_get(r, "id")), ==, (int)i);
		if (i % 3)
			tq_assert_return(r);
		else
			tq_assert_error(r, "CommandNotFound", NULL);
		json_object_put(r);
	}
	/* one message a byte at a time, with the next one starting in the last write */
	{
		static const char m[] = "{\"execute\": \"query-version\", \"id\": \"split\"}";

		for (size_t i = 0; i < sizeof(m) - 1; i++) {
			char c[2] = {m[i], 0};

			tq_send(q, c);
		}
		tq_send(q, "{\"execute\": \"query-version\", \"id\": \"next\"}");
		for (unsigned k = 0; k < 2; k++) {
			json_object *r = tq_reply(q);

			g_assert_cmpstr(tq_str(r, "id"), ==, k ? "next" : "split");
			json_object_put(r);
		}
	}
	tq_close(q);
}

static void test_clients(struct fx *f, gconstpointer data)
{
	struct tq *q[5];
	struct tq *fresh = tq_connect(f->path, 5);
	json_object *e;

	for (unsigned i = 0; i < G_N_ELEMENTS(q); i++)
		q[i] = fx_client(f);
	json_object_put(tq_recv(fresh)); /* greeting; never negotiates */
	fx_wait_clients(f, G_N_ELEMENTS(q) + 1);
	/* interleaved commands each get their own replies */
	for (unsigned i = 0; i < G_N_ELEMENTS(q); i++)
		tq_sendf(q[i], "{\"execute\": \"test-echo\", \"arguments\": {\"s\": \"c%u\"}}", i);
	for (unsigned i = 0; i < G_N_ELEMENTS(q); i++) {
		g_autofree char *want = g_strdup_printf("c%u", i);
		json_object *r = tq_reply(q[i]);

		g_assert_cmpstr(tq_str(tq_assert_return(r), "s"), ==, want);
		json_object_put(r);
	}
	/* an event reaches every negotiated client, with a timestamp */
	{
		gint64 before = g_get_real_time();
		json_object *r =
			tq_cmd(q[0], "{\"execute\": \"test-emit\", \"arguments\": {\"n\": 4}}");

		tq_assert_return(r);
		json_object_put(r);
		for (unsigned i = 0; i < G_N_ELEMENTS(q); i++) {
			gint64 sec, usec;

			e = tq_event(q[i], "TEST_EVENT");
			g_assert_cmpint(json_object_get_int(tq_get(e, "data.n")), ==, 4);
			sec = json_object_get_int64(tq_get(e, "timestamp.seconds"));
			usec = json_object_get_int64(tq_get(e, "timestamp.microseconds"));
			g_assert_cmpint(usec, >=, 0);
			g_assert_cmpint(usec, <, 1000000);
			g_assert_cmpint(sec * 1000000 + usec, >=, before);
			g_assert_cmpint(sec * 1000000 + usec, <=, g_get_real_time());
			g_assert_cmpint(json_object_object_length(e), ==, 3);
			json_object_put(e);
			e = tq_event(q[i], "TEST_NODATA");
			g_assert_false(json_object_object_get_ex(e, "data", NULL));
			json_object_put(e);
		}
	}
	/* ... but not the one that did not negotiate: its next message is a reply */
	{
		json_object *r = tq_cmd(fresh, "{\"execute\": \"qmp_capabilities\"}");

		g_assert_null(tq_str(r, "event"));
		tq_assert_return(r);
		json_object_put(r);
	}
	for (unsigned i = 0; i < G_N_ELEMENTS(q); i++)
		tq_close(q[i]);
	tq_close(fresh);
	fx_wait_clients(f, 0);
}

/* A client that goes away mid-message or mid-command leaves nothing behind. */
static void test_disconnect(struct fx *f, gconstpointer data)
{
	struct tq *other = fx_client(f);
	unsigned fds;
	json_object *r;

	fx_wait_clients(f, 1);
	fds = tq_count_fds();
	for (unsigned i = 0; i < 20; i++) {
		struct tq *q = fx_client(f);
		int p[2];

		g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
		switch (i % 4) {
		case 0: /* half a message, with an fd riding on it */
			tq_send_fds(q, "{\"execute\": \"getfd\", \"argu", &p[1], 1);
			break;
		case 1: /* a command running when the client leaves */
			tq_send(q, "{\"execute\": \"test-slow\", \"arguments\": {\"ms\": 100}}");
			break;
		case 2: /* a stored named fd and a pipeline cut short */
			tq_send_fds(q,
				    "{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"k\"}}"
				    "{\"execute\": \"test-slow\", \"arguments\": {\"ms\": 50}}"
				    "{\"execute\": \"query-version\"}{\"exe",
				    &p[1], 1);
			break;
		default: /* half of a 1 MiB string */
			tq_send(q, "{\"execute\": \"test-echo\", \"arguments\": {\"s\": \"");
			for (unsigned k = 0; k < 8; k++) {
				char chunk[65536];

				memset(chunk, 'y', sizeof(chunk) - 1);
				chunk[sizeof(chunk) - 1] = 0;
				tq_send(q, chunk);
			}
		}
		tq_close(q);
		close(p[1]);
		g_assert_cmpint(read(p[0], (char[1]){0}, 1), ==, 0); /* waits for the close */
		close(p[0]);
	}
	fx_wait_clients(f, 1);
	g_assert_cmpuint(tq_count_fds(), ==, fds);
	/* the other client did not notice */
	r = tq_cmd(other, "{\"execute\": \"query-version\"}");
	tq_assert_return(r);
	json_object_put(r);
	tq_close(other);
}

/* A client that sends commands and never reads its replies is dropped at QMP_OUT_MAX. */
static void test_slow_reader(struct fx *f, gconstpointer data)
{
	struct tq *q = fx_client(f), *other = fx_client(f);
	g_autoptr(GString) batch = g_string_new(NULL);
	json_object *r;
	size_t sent = 0;
	int sz = 4096;

	/* a small receive buffer, so that the server's queue, not the kernel's, fills */
	g_assert_cmpint(setsockopt(q->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz)), ==, 0);
	for (unsigned i = 0; i < 16; i++)
		g_string_append(batch, "{\"execute\": \"test-big\"}");
	/* 64 KiB replies to 25-byte requests: this asks for twice the limit */
	while (sent < 2 * (QMP_OUT_MAX / 65536) * 25) {
		ssize_t n = send(q->fd, batch->str, batch->len, MSG_NOSIGNAL);

		if (n < 0)
			break; /* dropped already (EPIPE, ECONNRESET) */
		sent += (size_t)n;
	}
	fx_wait_clients(f, 1);
	tq_close(q);
	/* the other client is served all along */
	r = tq_cmd(other, "{\"execute\": \"query-version\"}");
	tq_assert_return(r);
	json_object_put(r);
	tq_close(other);
}

static void test_listen_errors(struct fx *f, gconstpointer data)
{
	g_autoptr(GError) err = NULL;
	g_autofree char *file = g_build_filename(f->dir, "plain", NULL);
	g_autofree char *sock2 = g_build_filename(f->dir, "second.sock", NULL);
	g_autofree char *longp = g_strnfill(120, 'a');
	struct tq *q;
	int p[2];

	g_assert_true(g_file_set_contents(file, "x", 1, NULL));
	g_assert_cmpint(qmp_server_listen(f->srv, file, &err), ==, -EEXIST);
	g_assert_nonnull(strstr(err->message, file));
	g_assert_true(g_file_test(file, G_FILE_TEST_IS_REGULAR)); /* left alone */
	g_clear_error(&err);
	g_assert_cmpint(qmp_server_listen(f->srv, longp, &err), ==, -ENAMETOOLONG);
	g_clear_error(&err);
	g_assert_cmpint(qmp_server_listen(f->srv, "/nonexistent-dir/q.sock", &err), <, 0);
	g_assert_nonnull(strstr(err->message, "/nonexistent-dir/q.sock"));
	g_clear_error(&err);
	g_assert_cmpint(unlink(file), ==, 0);
	/* adopting something that is not a stream socket */
	g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
	close(p[1]);
	g_assert_cmpint(qmp_server_adopt(f->srv, p[0], NULL, NULL), ==, -ENOTSOCK);
	/* a stale socket file is replaced (as QEMU does) */
	{
		int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_un sa = {.sun_family = AF_UNIX};

		strcpy(sa.sun_path, sock2);
		g_assert_cmpint(bind(s, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
		close(s);
	}
	g_assert_cmpint(qmp_server_listen(f->srv, sock2, &err), ==, 0);
	q = tq_connect(sock2, 5);
	json_object_put(tq_negotiate(q));
	tq_close(q);
	/* teardown checks that both socket paths are gone after destroy */
}

struct fx_adopt {
	struct fx *f;
	int fd;
	int ret;
	GMutex lock;
	GCond cond;
	bool done, closed;
};

static void fx_adopt_closed(void *data)
{
	struct fx_adopt *a = data;

	g_mutex_lock(&a->lock);
	a->closed = true;
	g_cond_signal(&a->cond);
	g_mutex_unlock(&a->lock);
}

static gboolean fx_adopt_cb(void *data)
{
	struct fx_adopt *a = data;

	g_mutex_lock(&a->lock);
	a->ret = qmp_server_adopt(a->f->srv, a->fd, fx_adopt_closed, a);
	a->done = true;
	g_cond_signal(&a->cond);
	g_mutex_unlock(&a->lock);
	return G_SOURCE_REMOVE;
}

/* qmp_server_adopt(a->fd) on the server's thread; a->ret gets the result. */
static void fx_adopt_run(struct fx_adopt *a)
{
	g_main_context_invoke(a->f->ctx, fx_adopt_cb, a);
	g_mutex_lock(&a->lock);
	while (!a->done)
		g_cond_wait(&a->cond, &a->lock);
	g_mutex_unlock(&a->lock);
}

/* An inherited, already-connected socket (a class process's control channel). */
static void test_adopt(struct fx *f, gconstpointer data)
{
	struct fx_adopt a = {.f = f};
	int sv[2];
	struct tq *q;
	json_object *r;

	g_mutex_init(&a.lock);
	g_cond_init(&a.cond);
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	a.fd = sv[1];
	fx_adopt_run(&a);
	g_assert_cmpint(a.ret, ==, 0);
	q = tq_open_fd(sv[0]);
	json_object_put(tq_negotiate(q));
	r = tq_cmd(q, "{\"execute\": \"query-commands\"}");
	tq_assert_return(r);
	json_object_put(r);
	tq_close(q);
	g_mutex_lock(&a.lock);
	while (!a.closed)
		g_cond_wait(&a.cond, &a.lock);
	g_mutex_unlock(&a.lock);
	g_mutex_clear(&a.lock);
	g_cond_clear(&a.cond);
}

/*
 * QMP_CLIENTS_MAX clients are served; one more is closed at once, before its greeting,
 * and a socket to adopt is refused (-EMFILE) and closed.  A client leaving makes room.
 */
static void test_clients_max(struct fx *f, gconstpointer data)
{
	struct tq *q[QMP_CLIENTS_MAX], *extra;
	struct fx_adopt a = {.f = f};
	json_object *r;
	int sv[2];

	for (unsigned i = 0; i < QMP_CLIENTS_MAX; i++)
		q[i] = fx_client(f);
	fx_wait_clients(f, QMP_CLIENTS_MAX);
	extra = tq_connect(f->path, 5);
	g_assert_true(tq_eof(extra, 5));
	g_assert_cmpuint(extra->in->len, ==, 0); /* not even a greeting */
	tq_close(extra);
	g_mutex_init(&a.lock);
	g_cond_init(&a.cond);
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	a.fd = sv[1];
	fx_adopt_run(&a);
	g_assert_cmpint(a.ret, ==, -EMFILE);
	g_assert_cmpint(read(sv[0], (char[1]){0}, 1), ==, 0); /* closed, no greeting */
	close(sv[0]);
	g_mutex_clear(&a.lock);
	g_cond_clear(&a.cond);
	fx_wait_clients(f, QMP_CLIENTS_MAX);
	r = tq_cmd(q[QMP_CLIENTS_MAX - 1], "{\"execute\": \"query-version\"}");
	tq_assert_return(r); /* the others are served on */
	json_object_put(r);
	tq_close(q[0]);
	fx_wait_clients(f, QMP_CLIENTS_MAX - 1);
	q[0] = fx_client(f);
	r = tq_cmd(q[0], "{\"execute\": \"query-version\"}");
	tq_assert_return(r);
	json_object_put(r);
	for (unsigned i = 0; i < QMP_CLIENTS_MAX; i++)
		tq_close(q[i]);
	fx_wait_clients(f, 0);
}

void fx_add_io_tests(void)
{
	FX_ADD("/protocol/qmp/1mib-message", test_1mib);
	FX_ADD("/protocol/qmp/pipelined", test_pipelined);
	FX_ADD("/protocol/qmp/several-clients-events", test_clients);
	FX_ADD("/protocol/qmp/disconnect", test_disconnect);
	FX_ADD("/protocol/qmp/slow-reader", test_slow_reader);
	FX_ADD("/protocol/qmp/listen-errors", test_listen_errors);
	FX_ADD("/protocol/qmp/adopt", test_adopt);
	FX_ADD("/protocol/qmp/clients-max", test_clients_max);
}
