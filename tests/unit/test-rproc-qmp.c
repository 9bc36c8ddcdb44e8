// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of vmm/rproc_qmp.c, mpvmm's QMP client of a class process's control
 * channel, against a hostile peer on a real socketpair (a thread writes what the
 * "process" says): events are skipped, a refusal is an answer and not a failure, and
 * every malformed or foreign message, EOF, deep nesting, a reply over 1 MiB, a missing
 * greeting, a refused qmp_capabilities and silence (5 s) break the channel, which then
 * refuses every later call.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/lib/tu.h"
#include "vmm/vmm.h"

#define GREETING "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n"

struct feeder {
	int fd;
	char *text; /* written whole */
	bool eof;   /* then shut down for writing (the client sees EOF), else left open */
};

static gpointer feeder_main(gpointer opaque)
{
	struct feeder *f = opaque;
	size_t len = strlen(f->text), done = 0;

	while (done < len) {
		ssize_t n = send(f->fd, f->text + done, len - done, MSG_NOSIGNAL);

		if (n <= 0)
			break; /* the client gave up and closed */
		done += (size_t)n;
	}
	if (f->eof)
		shutdown(f->fd, SHUT_WR);
	return NULL;
}

/* A client connected to a peer that sends `text` (from a thread: it may be large). */
static int rqmp_against(const char *text, bool eof, struct rqmp **c, GError **err, int *peer,
			GThread **t, struct feeder *f)
{
	int sv[2];

	tu_socketpair(sv);
	*peer = sv[0];
	*f = (struct feeder){.fd = sv[0], .text = g_strdup(text), .eof = eof};
	*t = g_thread_new("feeder", feeder_main, f);
	return rqmp_connect(sv[1], c, err);
}

static void feeder_end(int peer, GThread *t, struct feeder *f)
{
	shutdown(peer, SHUT_RDWR);
	g_thread_join(t);
	close(peer);
	g_free(f->text);
}

/* Connect (greeting + negotiation answered), then one call answered by `reply`. */
static int call_with(const char *reply, bool eof, json_object **ret, char **msg, bool *broken)
{
	g_autofree char *text = g_strconcat(GREETING, "{\"return\": {}}\r\n", reply, NULL);
	GError *err = NULL;
	struct feeder f;
	struct rqmp *c;
	GThread *t;
	int peer, r;

	g_assert_cmpint(rqmp_against(text, eof, &c, NULL, &peer, &t, &f), ==, 0);
	r = rqmp_call(c, "query-x", json_object_new_object(), -1, ret, &err);
	*msg = err ? g_strdup(err->message) : NULL;
	g_clear_error(&err);
	*broken = rqmp_broken(c);
	if (*broken) { /* a broken channel refuses every later call at once */
		g_assert_cmpint(rqmp_call(c, "query-y", NULL, -1, NULL, &err), ==, -EPIPE);
		g_assert_nonnull(strstr(err->message, "failed earlier"));
		g_clear_error(&err);
	}
	rqmp_close(c);
	feeder_end(peer, t, &f);
	return r;
}

static void expect_call(const char *reply, int want, const char *needle, bool broken)
{
	g_autofree char *msg = NULL;
	json_object *ret = NULL;
	bool b;
	int r = call_with(reply, true, &ret, &msg, &b);

	if (r != want || (needle && (!msg || !strstr(msg, needle))) || b != broken)
		g_error("reply %.60s: %d '%s' broken %d; want %d '%s' broken %d", reply, r, msg, b,
			want, needle, broken);
	json_object_put(ret);
}

static void test_client_replies(void)
{
	g_autofree char *msg = NULL;
	json_object *ret = NULL;
	g_autofree char *deep = NULL;
	GString *big;
	bool b;

	/* an event before the reply is skipped; the return value is the caller's */
	g_assert_cmpint(call_with("{\"event\": \"X\", \"timestamp\": {}}\r\n{\"return\": 5}\r\n",
				  true, &ret, &msg, &b),
			==, 0);
	g_assert_cmpint(json_object_get_int(ret), ==, 5);
	g_assert_false(b);
	json_object_put(ret);
	/* a refusal is an answer, not a failure of the channel */
	expect_call("{\"error\": {\"class\": \"GenericError\", \"desc\": \"nope\"}}", -EREMOTEIO,
		    "nope", false);
	expect_call("{\"error\": 5}", -EPROTO, "malformed error reply", true);
	expect_call("{\"error\": {\"class\": 1, \"desc\": \"d\"}}", -EPROTO, "malformed", true);
	expect_call("[1, 2]", -EPROTO, "not a JSON object", true);
	expect_call("\"text\"", -EPROTO, "not a JSON object", true);
	expect_call("{\"x\": 1}", -EPROTO, "neither a reply nor an event", true);
	expect_call("{\"return\": tru}", -EPROTO, "not a JSON object", true);
	expect_call("", -ECONNRESET, "the channel closed", true); /* the peer closes */
	deep = g_strnfill(40, '[');
	expect_call(deep, -EPROTO, "not a JSON object", true); /* nesting beyond 32 */
	big = g_string_new("{\"return\": \"");
	for (unsigned i = 0; i < (1u << 20) + 4096; i += 64)
		g_string_append(big,
				"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	expect_call(big->str, -EMSGSIZE, "over 1 MiB", true);
	g_string_free(big, TRUE);
}

static void test_client_greeting(void)
{
	const char *const bad[] = {"{\"return\": {}}\r\n", "[]\r\n", ""};
	GError *err = NULL;
	struct feeder f;
	struct rqmp *c;
	GThread *t;
	int peer;

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_assert_cmpint(rqmp_against(bad[i], true, &c, &err, &peer, &t, &f), <, 0);
		g_assert_nonnull(err);
		g_clear_error(&err);
		feeder_end(peer, t, &f);
	}
	/* a refused qmp_capabilities fails the connection too */
	g_assert_cmpint(rqmp_against(GREETING "{\"error\": {\"class\": \"CommandNotFound\", "
					      "\"desc\": \"no\"}}\r\n",
				     true, &c, &err, &peer, &t, &f),
			==, -EREMOTEIO);
	g_clear_error(&err);
	feeder_end(peer, t, &f);
}

/* A process that stops answering: the call gives up after RQMP_TIMEOUT_MS. */
static void test_client_timeout(void)
{
	g_autofree char *msg = NULL;
	gint64 t0 = g_get_monotonic_time();
	json_object *ret = NULL;
	bool b;

	g_assert_cmpint(call_with("{\"retu", false, &ret, &msg, &b), ==, -ETIMEDOUT);
	g_assert_nonnull(strstr(msg, "no answer in time"));
	g_assert_true(b);
	g_assert_cmpint(g_get_monotonic_time() - t0, >=, (gint64)RQMP_TIMEOUT_MS * 1000);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vmm/rproc-qmp/replies", test_client_replies);
	g_test_add_func("/vmm/rproc-qmp/greeting", test_client_greeting);
	g_test_add_func("/vmm/rproc-qmp/timeout", test_client_timeout);
	return g_test_run();
}
