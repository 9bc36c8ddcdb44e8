// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the QMP core (protocol/qmp*.c) over real unix sockets: a qmp_server
 * with a table of test commands runs on its own thread and GMainContext, and the test
 * talks to it as a client would (tests/unit/test-qmp-client.c).  The message and
 * argument rules are in this file; fds, limits, events and disconnects in
 * test-qmp-io.c.  QEMU's own replies to the same inputs are compared in
 * tests/integration/test-qmp-qemu.c.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/test-qmp.h"

static void *fx_run(void *loop)
{
	g_main_loop_run(loop);
	return NULL;
}

void fx_setup(struct fx *f, gconstpointer data)
{
	static const struct qmp_command *const tables[] = {fx_commands, NULL};
	struct qmp_server_cfg cfg = {
		.tables = tables,
		.opaque = f,
		.version = {.major = 7, .minor = 2, .micro = 9, .package = "unit-test"},
	};
	g_autoptr(GError) err = NULL;

	f->fds_before = tq_count_fds();
	f->dir = g_dir_make_tmp("test-qmp-XXXXXX", NULL);
	g_assert_nonnull(f->dir);
	f->path = g_build_filename(f->dir, "qmp.sock", NULL);
	f->ctx = g_main_context_new();
	f->loop = g_main_loop_new(f->ctx, FALSE);
	cfg.ctx = f->ctx;
	g_assert_cmpint(qmp_server_create(&cfg, &f->srv), ==, 0);
	g_assert_cmpint(qmp_server_listen(f->srv, f->path, &err), ==, 0);
	g_assert_no_error(err);
	f->thread = g_thread_new("qmp-server", fx_run, f->loop);
}

void fx_teardown(struct fx *f, gconstpointer data)
{
	g_main_loop_quit(f->loop);
	g_thread_join(f->thread);
	qmp_server_destroy(f->srv);
	g_assert_false(g_file_test(f->path, G_FILE_TEST_EXISTS));
	g_main_loop_unref(f->loop);
	g_main_context_unref(f->ctx);
	g_assert_cmpint(rmdir(f->dir), ==, 0);
	g_free(f->path);
	g_free(f->dir);
	/* every fd the server received or made is closed again */
	g_assert_cmpuint(tq_count_fds(), ==, f->fds_before);
}

struct fx_call {
	struct fx *f;
	unsigned clients;
	GMutex lock;
	GCond cond;
	bool done;
};

static gboolean fx_count_cb(void *data)
{
	struct fx_call *c = data;

	g_mutex_lock(&c->lock);
	c->clients = qmp_server_nr_clients(c->f->srv);
	c->done = true;
	g_cond_signal(&c->cond);
	g_mutex_unlock(&c->lock);
	return G_SOURCE_REMOVE;
}

unsigned fx_clients(struct fx *f)
{
	struct fx_call c = {.f = f};

	g_mutex_init(&c.lock);
	g_cond_init(&c.cond);
	g_main_context_invoke(f->ctx, fx_count_cb, &c);
	g_mutex_lock(&c.lock);
	while (!c.done)
		g_cond_wait(&c.cond, &c.lock);
	g_mutex_unlock(&c.lock);
	g_mutex_clear(&c.lock);
	g_cond_clear(&c.cond);
	return c.clients;
}

void fx_wait_clients(struct fx *f, unsigned n)
{
	for (unsigned i = 0; i < 500 && fx_clients(f) != n; i++)
		g_usleep(10000);
	g_assert_cmpuint(fx_clients(f), ==, n);
}

struct tq *fx_client(struct fx *f)
{
	struct tq *q = tq_connect(f->path, 5);

	json_object_put(tq_negotiate(q));
	return q;
}

/* Send text, expect an error reply of class cls with exactly desc. */
void fx_expect(struct tq *q, const char *text, const char *cls, const char *desc)
{
	json_object *r = tq_cmd(q, text);

	tq_assert_error(r, cls, desc);
	json_object_put(r);
}

/* ---- the cases ---- */

static void test_greeting(struct fx *f, gconstpointer data)
{
	struct tq *q = tq_connect(f->path, 5);
	json_object *g = tq_recv(q);

	g_assert_cmpint(json_object_get_int(tq_get(g, "QMP.version.qemu.major")), ==, 7);
	g_assert_cmpint(json_object_get_int(tq_get(g, "QMP.version.qemu.minor")), ==, 2);
	g_assert_cmpint(json_object_get_int(tq_get(g, "QMP.version.qemu.micro")), ==, 9);
	g_assert_cmpstr(tq_str(g, "QMP.version.package"), ==, "unit-test");
	g_assert_cmpuint(json_object_array_length(tq_get(g, "QMP.capabilities")), ==, 0);
	g_assert_cmpint(json_object_object_length(g), ==, 1);
	json_object_put(g);
	tq_close(q);
}

static void test_before_negotiation(struct fx *f, gconstpointer data)
{
	static const char want[] = "Expecting capabilities negotiation with 'qmp_capabilities'";
	struct tq *q = tq_connect(f->path, 5);
	json_object *r;

	json_object_put(tq_recv(q));
	fx_expect(q, "{\"execute\": \"query-version\"}", "CommandNotFound", want);
	fx_expect(q, "{\"execute\": \"no-such-command\"}", "CommandNotFound", want);
	fx_expect(q, "{\"execute\": \"test-echo\", \"arguments\": {\"s\": \"x\"}}",
		  "CommandNotFound", want);
	r = tq_cmd(q, "{\"execute\": \"getfd\", \"id\": \"pre\"}");
	tq_assert_error(r, "CommandNotFound", want);
	g_assert_cmpstr(tq_str(r, "id"), ==, "pre");
	json_object_put(r);
	/* the message rules apply before negotiation too */
	fx_expect(q, "[]", "GenericError", "QMP input must be a JSON object");
	/* a refused capability leaves the session un-negotiated */
	fx_expect(q, "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [\"oob\"]}}",
		  "GenericError", "Capability 'oob' not available");
	fx_expect(q, "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": \"oob\"}}",
		  "GenericError", "Invalid parameter type for 'enable', expected: array");
	fx_expect(q, "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [1]}}",
		  "GenericError", "Invalid parameter type for 'enable[0]', expected: string");
	fx_expect(q, "{\"execute\": \"query-version\"}", "CommandNotFound", want);
	r = tq_cmd(q, "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": []}, "
		      "\"id\": 1}");
	tq_assert_return(r);
	g_assert_cmpint(json_object_get_int(tq_get(r, "id")), ==, 1);
	json_object_put(r);
	fx_expect(q, "{\"execute\": \"qmp_capabilities\"}", "CommandNotFound",
		  "Capabilities negotiation is already complete, command ignored");
	r = tq_cmd(q, "{\"execute\": \"query-version\"}");
	g_assert_cmpint(json_object_get_int(tq_get(tq_assert_return(r), "qemu.major")), ==, 7);
	g_assert_cmpstr(tq_str(tq_assert_return(r), "package"), ==, "unit-test");
	json_object_put(r);
	tq_close(q);
}

static void test_id_echo(struct fx *f, gconstpointer data)
{
	static const char *const ids[] = {
		"1",	"-7",  "\"abc\"", "[1, {\"a\": [null]}]", "{\"x\": {\"y\": true}}",
		"null", "2.5", "false"};
	struct tq *q = fx_client(f);

	for (unsigned i = 0; i < G_N_ELEMENTS(ids); i++) {
		json_object *want = json_tokener_parse(ids[i]), *r, *got;

		/* a success, a command error and an unknown command all echo it */
		for (unsigned k = 0; k < 3; k++) {
			static const char *const cmds[] = {"query-version", "test-fail", "nope"};

			tq_sendf(q, "{\"id\": %s, \"execute\": \"%s\"}", ids[i], cmds[k]);
			r = tq_reply(q);
			g_assert_true(json_object_object_get_ex(r, "id", &got));
			g_assert_true(json_object_equal(got, want));
			json_object_put(r);
		}
		json_object_put(want);
	}
	/* no id in, no id out */
	{
		json_object *r = tq_cmd(q, "{\"execute\": \"query-version\"}");

		g_assert_false(json_object_object_get_ex(r, "id", NULL));
		json_object_put(r);
	}
	tq_close(q);
}

static void test_malformed(struct fx *f, gconstpointer data)
{
	struct tq *q = fx_client(f);
	json_object *r;

	/* each bad line gets one error, and the next line is served */
	static const char *const bad[] = {
		"{bad}\n",
		"{\"execute\": }\n",
		"{\"execute\" \"x\"}\n",
		"[1,]\n",
		"\"\xff\xfe\"\n",
		"{\"a\": \"\xc3\"}\n",
		"}\n",
		"{\"execute\": \"query-version\",,}\n",
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
		r = tq_cmd(q, bad[i]);
		tq_assert_error(r, "GenericError", NULL);
		g_assert_true(g_str_has_prefix(tq_str(r, "error.desc"), "JSON parse error, "));
		json_object_put(r);
		r = tq_cmd(q, "{\"execute\": \"query-version\", \"id\": 5}");
		tq_assert_return(r);
		json_object_put(r);
	}
	/* garbage and a command on one line: the rest of the line is dropped */
	tq_send(q, "{x {\"execute\": \"query-version\", \"id\": 1}\n"
		   "{\"execute\": \"query-version\", \"id\": 2}");
	r = tq_reply(q);
	tq_assert_error(r, "GenericError", NULL);
	json_object_put(r);
	r = tq_reply(q);
	g_assert_cmpint(json_object_get_int(tq_get(r, "id")), ==, 2);
	json_object_put(r);
	/* a NUL byte is not JSON */
	tq_send_fds(q, "{\"execute\"", NULL, 0);
	g_assert_cmpint(write(q->fd, "\0\n", 2), ==, 2);
	r = tq_reply(q);
	tq_assert_error(r, "GenericError", NULL);
	json_object_put(r);
	/* nesting deeper than QMP_DEPTH_MAX */
	{
		g_autoptr(GString) s = g_string_new("{\"execute\": \"query-version\", \"id\": ");

		for (unsigned i = 0; i < QMP_DEPTH_MAX + 1; i++)
			g_string_append_c(s, '[');
		for (unsigned i = 0; i < QMP_DEPTH_MAX + 1; i++)
			g_string_append_c(s, ']');
		g_string_append(s, "}\n");
		r = tq_cmd(q, s->str);
		tq_assert_error(r, "GenericError", NULL);
		json_object_put(r);
	}
	r = tq_cmd(q, "{\"execute\": \"query-version\", \"id\": 3}");
	g_assert_cmpint(json_object_get_int(tq_get(r, "id")), ==, 3);
	json_object_put(r);
	tq_close(q);
}

static void test_message_members(struct fx *f, gconstpointer data)
{
	struct tq *q = fx_client(f);
	json_object *r;

	fx_expect(q, "[1]", "GenericError", "QMP input must be a JSON object");
	fx_expect(q, "\"str\"", "GenericError", "QMP input must be a JSON object");
	fx_expect(q, "null ", "GenericError", "QMP input must be a JSON object");
	fx_expect(q, "42 ", "GenericError", "QMP input must be a JSON object");
	fx_expect(q, "{}", "GenericError", "QMP input lacks member 'execute'");
	fx_expect(q, "{\"foo\": 1}", "GenericError", "QMP input member 'foo' is unexpected");
	fx_expect(q, "{\"execute\": 1}", "GenericError",
		  "QMP input member 'execute' must be a string");
	fx_expect(q, "{\"execute\": \"query-version\", \"arguments\": []}", "GenericError",
		  "QMP input member 'arguments' must be an object");
	fx_expect(q, "{\"execute\": \"query-version\", \"arguments\": null}", "GenericError",
		  "QMP input member 'arguments' must be an object");
	fx_expect(q, "{\"exec-oob\": \"query-version\"}", "GenericError",
		  "QMP input member 'exec-oob' is unexpected");
	r = tq_cmd(q, "{\"execute\": \"query-version\", \"control\": {}, \"id\": 9}");
	tq_assert_error(r, "GenericError", "QMP input member 'control' is unexpected");
	g_assert_cmpint(json_object_get_int(tq_get(r, "id")), ==, 9);
	json_object_put(r);
	fx_expect(q, "{\"execute\": \"nope\"}", "CommandNotFound",
		  "The command nope has not been found");
	fx_expect(q, "{\"execute\": \"\"}", "CommandNotFound", "The command  has not been found");
	tq_close(q);
}

static void test_arg_types(struct fx *f, gconstpointer data)
{
	static const struct {
		const char *args, *desc;
	} bad[] = {
		{"{}", "Parameter 's' is missing"},
		{"{\"s\": 1}", "Invalid parameter type for 's', expected: string"},
		{"{\"s\": null}", "Invalid parameter type for 's', expected: string"},
		{"{\"s\": \"x\", \"i\": \"1\"}",
		 "Invalid parameter type for 'i', expected: integer"},
		{"{\"s\": \"x\", \"i\": 1.5}", "Invalid parameter type for 'i', expected: integer"},
		{"{\"s\": \"x\", \"i\": null}",
		 "Invalid parameter type for 'i', expected: integer"},
		{"{\"s\": \"x\", \"b\": 0}", "Invalid parameter type for 'b', expected: boolean"},
		{"{\"s\": \"x\", \"n\": \"2\"}",
		 "Invalid parameter type for 'n', expected: number"},
		{"{\"s\": \"x\", \"o\": []}", "Invalid parameter type for 'o', expected: object"},
		{"{\"s\": \"x\", \"zz\": 1}", "Parameter 'zz' is unexpected"},
	};
	struct tq *q = fx_client(f);
	json_object *r, *ret;

	for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autofree char *msg = g_strdup_printf(
			"{\"execute\": \"test-echo\", \"arguments\": %s}", bad[i].args);

		fx_expect(q, msg, "GenericError", bad[i].desc);
	}
	/* every type right: the command sees exactly the arguments */
	r = tq_cmd(q, "{\"execute\": \"test-echo\", \"arguments\": {\"s\": \"x\", \"i\": -3, "
		      "\"b\": true, \"n\": 2.5, \"o\": {\"k\": [1]}, \"a\": null}}");
	ret = tq_assert_return(r);
	g_assert_cmpstr(tq_str(ret, "s"), ==, "x");
	g_assert_cmpint(json_object_get_int(tq_get(ret, "i")), ==, -3);
	g_assert_true(json_object_get_boolean(tq_get(ret, "b")));
	g_assert_cmpfloat(json_object_get_double(tq_get(ret, "n")), ==, 2.5);
	g_assert_true(json_object_object_get_ex(ret, "a", NULL));
	json_object_put(r);
	/* an integer is a number */
	r = tq_cmd(q, "{\"execute\": \"test-echo\", \"arguments\": {\"s\": \"\", \"n\": 7}}");
	tq_assert_return(r);
	json_object_put(r);
	/* extra_args: undeclared properties pass, declared ones are still checked */
	r = tq_cmd(q, "{\"execute\": \"test-extra\", \"arguments\": {\"driver\": \"d\", "
		      "\"anything\": [1], \"more\": {}}}");
	g_assert_cmpint(json_object_object_length(tq_assert_return(r)), ==, 3);
	json_object_put(r);
	fx_expect(q, "{\"execute\": \"test-extra\", \"arguments\": {\"driver\": 1}}",
		  "GenericError", "Invalid parameter type for 'driver', expected: string");
	fx_expect(q, "{\"execute\": \"test-extra\", \"arguments\": {\"x\": 1}}", "GenericError",
		  "Parameter 'driver' is missing");
	/* built-ins are checked the same way */
	fx_expect(q, "{\"execute\": \"query-version\", \"arguments\": {\"x\": 1}}", "GenericError",
		  "Parameter 'x' is unexpected");
	fx_expect(q, "{\"execute\": \"getfd\", \"arguments\": {\"fdname\": 1}}", "GenericError",
		  "Invalid parameter type for 'fdname', expected: string");
	fx_expect(q, "{\"execute\": \"getfd\"}", "GenericError", "Parameter 'fdname' is missing");
	tq_close(q);
}

static void test_command_errors(struct fx *f, gconstpointer data)
{
	struct tq *q = fx_client(f);

	fx_expect(q, "{\"execute\": \"test-fail\"}", "DeviceNotFound", "Device 'nodev' not found");
	fx_expect(q, "{\"execute\": \"test-errno\"}", "GenericError", g_strerror(EIO));
	fx_expect(q, "{\"execute\": \"test-gerror\"}", "GenericError", "a foreign error");
	tq_close(q);
}

static void test_query_commands(struct fx *f, gconstpointer data)
{
	static const char *const want[] = {
		"qmp_capabilities", "query-version", "query-commands", "getfd",
		"closefd",	    "test-echo",     "test-fail"};
	struct tq *q = fx_client(f);
	json_object *r = tq_cmd(q, "{\"execute\": \"query-commands\"}");
	json_object *list = tq_assert_return(r);
	size_t n = json_object_array_length(list), dup = 0;

	for (unsigned i = 0; i < G_N_ELEMENTS(want); i++) {
		bool found = false;

		for (size_t k = 0; k < n; k++)
			found |= !g_strcmp0(tq_str(json_object_array_get_idx(list, k), "name"),
					    want[i]);
		g_assert_true(found);
	}
	/* test-shadow's second entry ("query-version" again) is listed once */
	for (size_t k = 0; k < n; k++)
		dup += !g_strcmp0(tq_str(json_object_array_get_idx(list, k), "name"),
				  "query-version");
	g_assert_cmpuint(dup, ==, 1);
	g_assert_cmpuint(n, ==, 5 + fx_nr_commands());
	json_object_put(r);
	tq_close(q);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	/* GLib's global context keeps an eventfd for the process's life: make it first,
	 * so that the fixture's fd count sees only what the server opens and closes */
	(void)g_main_context_default();
	FX_ADD("/protocol/qmp/greeting", test_greeting);
	FX_ADD("/protocol/qmp/before-negotiation", test_before_negotiation);
	FX_ADD("/protocol/qmp/id-echo", test_id_echo);
	FX_ADD("/protocol/qmp/malformed-json", test_malformed);
	FX_ADD("/protocol/qmp/message-members", test_message_members);
	FX_ADD("/protocol/qmp/arg-types", test_arg_types);
	FX_ADD("/protocol/qmp/command-errors", test_command_errors);
	FX_ADD("/protocol/qmp/query-commands", test_query_commands);
	fx_add_io_tests();
	fx_add_fd_tests();
	return g_test_run();
}
