// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of a class process's options (vmm/rproc_opt.c), no KVM needed: the
 * command line's -object remote-process and object-add's arguments.  object-add
 * refuses binary= (a QMP client may not choose the program mpvmm runs; only the
 * operator's command line may), and both refuse uid/gid 0, as the class binaries do
 * (remote/sandbox.c), instead of a late "did not answer" from the spawned process.
 */
#include <errno.h>
#include <string.h>

#include "vmm/vmm.h"

static int from_json(const char *text, struct rproc_opt *o, GError **err)
{
	json_object *args = json_tokener_parse(text);
	int ret;

	g_assert_nonnull(args);
	ret = rproc_opt_from_json(args, o, err);
	json_object_put(args);
	return ret;
}

static void expect_error(int ret, GError *err, const char *needle)
{
	g_assert_cmpint(ret, ==, -EINVAL);
	g_assert_nonnull(err);
	if (!strstr(err->message, needle))
		g_error("'%s' lacks '%s'", err->message, needle);
}

/* The operator's command line may name the binary and any unprivileged id. */
static void test_command_line(void)
{
	g_autoptr(GError) err = NULL;
	struct rproc_opt o;

	g_assert_cmpint(rproc_opt_parse("remote-process,id=m0,class=misc,binary=/opt/mpvmm-misc,"
					"uid=1,gid=4294967294",
					&o, &err),
			==, 0);
	g_assert_no_error(err);
	g_assert_cmpstr(o.binary, ==, "/opt/mpvmm-misc");
	g_assert_cmpint(o.uid, ==, 1);
	g_assert_cmpint(o.gid, ==, 4294967294);
	rproc_opt_clear(&o);
}

/* binary in object-add is refused by name, whatever its value, with the fix. */
static void test_object_add_binary(void)
{
	static const char *const cases[] = {
		"{\"qom-type\": \"remote-process\", \"id\": \"m\", \"class\": \"misc\", "
		"\"binary\": \"/bin/true\"}",
		"{\"qom-type\": \"remote-process\", \"binary\": \"/usr/bin/mpvmm-misc\", "
		"\"id\": \"m\", \"class\": \"misc\"}",
		"{\"qom-type\": \"remote-process\", \"id\": \"m\", \"class\": \"misc\", "
		"\"binary\": 1}",
		"{\"qom-type\": \"remote-process\", \"id\": \"m\", \"class\": \"misc\", "
		"\"binary\": \"\"}",
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) err = NULL;
		struct rproc_opt o;
		int ret = from_json(cases[i], &o, &err);

		g_test_message("%s", cases[i]);
		expect_error(ret, err, "Parameter 'binary' is not allowed in object-add");
		expect_error(ret, err, "give binary=PATH on mpvmm's command line");
		g_assert_null(o.binary);
		g_assert_null(o.id);
	}
}

/* What object-add does take; an unknown property's message no longer offers binary. */
static void test_object_add_accepted(void)
{
	g_autoptr(GError) err = NULL, err2 = NULL;
	struct rproc_opt o;
	int ret;

	g_assert_cmpint(from_json("{\"qom-type\": \"remote-process\", \"id\": \"st1\", "
				  "\"class\": \"storage\", \"sandbox\": \"log\", \"uid\": 1, "
				  "\"gid\": \"4242\"}",
				  &o, &err),
			==, 0);
	g_assert_no_error(err);
	g_assert_cmpstr(o.id, ==, "st1");
	g_assert_cmpstr(o.cls, ==, "storage");
	g_assert_cmpstr(o.sandbox, ==, "log");
	g_assert_null(o.binary);
	g_assert_cmpint(o.uid, ==, 1);
	g_assert_cmpint(o.gid, ==, 4242);
	rproc_opt_clear(&o);
	ret = from_json("{\"qom-type\": \"remote-process\", \"id\": \"m\", \"class\": \"misc\", "
			"\"colour\": \"red\"}",
			&o, &err2);
	expect_error(ret, err2,
		     "Parameter 'colour' is unexpected; remote-process takes id, class, sandbox, "
		     "uid and gid");
}

/* uid/gid 0 (root) and out-of-range ids, on the command line and in object-add. */
static void test_ids(void)
{
	static const char *const line[] = {
		"remote-process,id=a,class=misc,uid=0",
		"remote-process,id=a,class=misc,gid=0",
		"remote-process,id=a,class=net,uid=00",
		"remote-process,id=a,class=misc,uid=-1",
		"remote-process,id=a,class=misc,gid=4294967295",
	};
	static const char *const json[] = {
		"{\"qom-type\": \"remote-process\", \"id\": \"a\", \"class\": \"misc\", "
		"\"uid\": 0}",
		"{\"qom-type\": \"remote-process\", \"id\": \"a\", \"class\": \"misc\", "
		"\"gid\": \"0\"}",
		"{\"qom-type\": \"remote-process\", \"id\": \"a\", \"class\": \"misc\", "
		"\"uid\": -1}",
		"{\"qom-type\": \"remote-process\", \"id\": \"a\", \"class\": \"misc\", "
		"\"gid\": 4294967295}",
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(line); i++) {
		g_autoptr(GError) err = NULL;
		struct rproc_opt o;
		int ret;

		g_test_message("%s", line[i]);
		ret = rproc_opt_parse(line[i], &o, &err);
		expect_error(ret, err,
			     "is not a number from 1 to 4294967294 (an unprivileged id: a class "
			     "process never runs as root)");
		g_assert_cmpint(o.uid, ==, -1);
		g_assert_cmpint(o.gid, ==, -1);
	}
	for (unsigned i = 0; i < G_N_ELEMENTS(json); i++) {
		g_autoptr(GError) err = NULL;
		struct rproc_opt o;
		int ret;

		g_test_message("%s", json[i]);
		ret = from_json(json[i], &o, &err);
		expect_error(ret, err, "is not a number from 1 to 4294967294");
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vmm/rproc-opt/command-line", test_command_line);
	g_test_add_func("/vmm/rproc-opt/object-add-binary", test_object_add_binary);
	g_test_add_func("/vmm/rproc-opt/object-add-accepted", test_object_add_accepted);
	g_test_add_func("/vmm/rproc-opt/ids", test_ids);
	return g_test_run();
}
