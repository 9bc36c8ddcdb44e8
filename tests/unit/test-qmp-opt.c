// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of mpvmm's -qmp and -S options (vmm/monitor.c monitor_parse_opt through
 * options_parse): the accepted forms and every refused one, each with a message that
 * names -qmp and says what to write instead.
 */
#include <string.h>

#include "vmm/vmm.h"

static int parse(const char *const *args, struct vmm_opts *o, GError **err)
{
	g_autoptr(GPtrArray) a = g_ptr_array_new();

	g_ptr_array_add(a, "mpvmm");
	g_ptr_array_add(a, "-kernel");
	g_ptr_array_add(a, "guest.elf");
	for (; *args; args++)
		g_ptr_array_add(a, (char *)*args);
	g_ptr_array_add(a, NULL);
	return options_parse((int)a->len - 1, (char **)a->pdata, o, err);
}

static void test_accepted(void)
{
	const char *args[] = {"-qmp", "unix:/run/a.sock,server=on,wait=off", "-S",
			      "-qmp", "unix:/run/b.sock,server,nowait",	     NULL};
	g_autoptr(GError) err = NULL;
	struct vmm_opts o;

	g_assert_cmpint(parse(args, &o, &err), ==, 0);
	g_assert_no_error(err);
	g_assert_true(o.start_paused);
	g_assert_cmpuint(o.nr_qmp, ==, 2);
	g_assert_cmpstr(o.qmp[0], ==, "/run/a.sock");
	g_assert_cmpstr(o.qmp[1], ==, "/run/b.sock");
	g_assert_null(o.qmp[2]);
	options_free(&o);
	{
		const char *none[] = {NULL};

		g_assert_cmpint(parse(none, &o, &err), ==, 0);
		g_assert_false(o.start_paused);
		g_assert_cmpuint(o.nr_qmp, ==, 0);
		options_free(&o);
	}
}

static void test_refused(void)
{
	static const struct {
		const char *val, *hint;
	} bad[] = {
		{"tcp:localhost:4444,server=on,wait=off", "only unix sockets"},
		{"stdio", "only unix sockets"},
		{"unix:/run/a.sock", "server=on is required"},
		{"unix:/run/a.sock,server=on", "wait=off is required"},
		{"unix:/run/a.sock,server=on,wait=on", "use wait=off"},
		{"unix:/run/a.sock,server=off,wait=off", "use server=on"},
		{"unix:/run/a.sock,server=on,wait=off,telnet=on", "unknown option 'telnet=on'"},
		{"unix:/run/a.sock,server=on,wait=off,", "unknown option ''"},
		{"unix:,server=on,wait=off", "1 to 107 bytes"},
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
		const char *args[] = {"-qmp", bad[i].val, NULL};
		g_autoptr(GError) err = NULL;
		struct vmm_opts o;

		g_assert_cmpint(parse(args, &o, &err), ==, -EINVAL);
		g_assert_nonnull(err);
		g_assert_true(g_str_has_prefix(err->message, "-qmp "));
		if (!strstr(err->message, bad[i].hint))
			g_error("'%s': message '%s' lacks '%s'", bad[i].val, err->message,
				bad[i].hint);
		options_free(&o);
	}
}

static void test_path_limits(void)
{
	g_autofree char *name = g_strnfill(107, 'p');
	g_autofree char *longp = g_strdup_printf("unix:/%s,server=on,wait=off", name);
	const char *dup[] = {"-qmp", "unix:/a,server=on,wait=off", "-qmp",
			     "unix:/a,server=on,wait=off", NULL};
	const char *longa[] = {"-qmp", longp, NULL};
	g_autoptr(GPtrArray) many = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) err = NULL;
	struct vmm_opts o;

	g_assert_cmpint(parse(dup, &o, &err), ==, -EINVAL);
	g_assert_nonnull(strstr(err->message, "already used"));
	g_clear_error(&err);
	options_free(&o);
	g_assert_cmpint(parse(longa, &o, &err), ==, -EINVAL);
	g_clear_error(&err);
	options_free(&o);
	for (unsigned i = 0; i <= QMP_LISTEN_MAX; i++) {
		g_ptr_array_add(many, g_strdup("-qmp"));
		g_ptr_array_add(many, g_strdup_printf("unix:/q%u,server=on,wait=off", i));
	}
	g_ptr_array_add(many, NULL);
	g_assert_cmpint(parse((const char *const *)many->pdata, &o, &err), ==, -EINVAL);
	g_assert_nonnull(strstr(err->message, "at most 16"));
	options_free(&o);
	g_clear_error(&err);
	{
		const char *twice[] = {"-S", "-S", NULL};

		g_assert_cmpint(parse(twice, &o, &err), ==, -EINVAL);
		options_free(&o);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vmm/qmp-opt/accepted", test_accepted);
	g_test_add_func("/vmm/qmp-opt/refused", test_refused);
	g_test_add_func("/vmm/qmp-opt/path-limits", test_path_limits);
	return g_test_run();
}
