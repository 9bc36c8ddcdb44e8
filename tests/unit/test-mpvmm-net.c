// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Tests of the mpvmm-net executable as a process (no VM): help and version output,
 * `-device help` saying it hosts no device type, a clear error and exit status 1 for
 * each kind of bad option (any -device, another class's options), and its control
 * channel (QMP greeting, query-sandbox of class net, exit when the channel closes).
 * Also that each class binary links only its own class's device code (issue 4): the
 * exact `-device help` list of mpvmm-misc, mpvmm-storage and mpvmm-net, and which
 * devices' ops tables each binary's symbol table holds (read from the file, no nm).
 */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/tu.h"
#include "tests/unit/test-qmp-client.h"

/* Run the binary of env `bin` with args (NULL-terminated); return its exit status. */
static int run(const char *bin, const char *const *args, char **out, char **err)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	struct tu_proc p;
	int status;

	g_ptr_array_add(argv, (char *)tu_bin(bin));
	for (unsigned i = 0; args[i]; i++)
		g_ptr_array_add(argv, (char *)args[i]);
	g_ptr_array_add(argv, NULL);
	tu_spawn((char **)argv->pdata, NULL, 0, true, &p);
	*out = tu_slurp(p.out_fd);
	*err = tu_slurp(p.err_fd);
	status = tu_wait(&p, 10);
	close(p.out_fd);
	close(p.err_fd);
	g_assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void expect_output(const char *const *args, const char *needle)
{
	g_autofree char *out = NULL, *err = NULL;

	g_assert_cmpint(run("MPVMM_NET", args, &out, &err), ==, 0);
	if (!strstr(out, needle))
		g_error("expected '%s' in: %s", needle, out);
}

static void test_help(void)
{
	expect_output((const char *const[]){"--help", NULL}, "Usage: mpvmm-net -device");
	expect_output((const char *const[]){"-version", NULL}, "mpvmm-net 0.");
	expect_output((const char *const[]){"-device", "help", NULL},
		      "Device types: none (mpvmm-net hosts no device yet)\n");
}

static void test_bad_options(void)
{
	static const struct {
		const char *args[4];
		const char *needle;
	} bad[] = {
		{{NULL}, "no devices"},
		{{"-x"}, "unknown option '-x'"},
		{{"-device"}, "-device needs an argument"},
		{{"-device", "virtio-blk,id=vd0,drive=d0,socket=3"},
		 "unknown device type 'virtio-blk'; mpvmm-net hosts no device types yet"},
		{{"-device", "pci-testdev,id=t0,socket=3"}, "unknown device type 'pci-testdev'"},
		{{"-device", "virtio-rng,help"}, "unknown device type 'virtio-rng'"},
		{{"-device", ""}, "unknown device type ''"},
		{{"-blockdev", "driver=file,node-name=d0,filename=/x"},
		 "unknown option '-blockdev'"},
		{{"--sandbox=maybe"}, "--sandbox=maybe: unknown mode"},
		{{"--uid=0"}, "--uid=0: not a valid id"},
		{{"--control=2"}, "--control=2: not an fd number"},
		{{"--control=77"}, "fd 77 is not an open file descriptor"},
		{{"-qmp", "tcp:localhost:4444,server=on,wait=off"}, "only unix:PATH"},
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autofree char *out = NULL, *err = NULL;
		g_autofree char *line = g_strjoinv(" ", (char **)bad[i].args);

		g_test_message("args: %s", line);
		g_assert_cmpint(run("MPVMM_NET", bad[i].args, &out, &err), ==, 1);
		g_assert_nonnull(strstr(err, "mpvmm-net: "));
		if (!strstr(err, bad[i].needle))
			g_error("expected '%s' in: %s", bad[i].needle, err);
	}
}

/*
 * With no device it serves its control channel: QMP, its state (class net), a refused
 * device_add (no type is hosted), and exit with status 0 when the channel closes.
 */
static void test_control(void)
{
	const char *argv[] = {tu_bin("MPVMM_NET"), "--control=3", NULL};
	json_object *reply;
	struct tu_proc p;
	struct tq *q;
	int sv[2], status;

	tu_socketpair(sv);
	tu_spawn((char **)argv, &sv[1], 1, true, &p);
	close(sv[1]);
	q = tq_open_fd(sv[0]);
	json_object_put(tq_negotiate(q));
	reply = tq_cmd(q, "{\"execute\": \"query-sandbox\"}");
	tq_assert_return(reply);
	g_assert_cmpstr(tq_str(reply, "return.class"), ==, "net");
	json_object_put(reply);
	reply = tq_cmd(q, "{\"execute\": \"device_add\", \"arguments\": {\"driver\": "
			  "\"virtio-blk\", \"id\": \"b0\", \"socket\": \"x\"}}");
	tq_assert_error(reply, "GenericError", NULL);
	g_assert_nonnull(strstr(tq_str(reply, "error.desc"), "'virtio-blk' is not a valid device"));
	g_assert_nonnull(strstr(tq_str(reply, "error.desc"), "this process hosts: no device type"));
	json_object_put(reply);
	tq_close(q);
	status = tu_wait(&p, 10);
	close(p.out_fd);
	close(p.err_fd);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
}

/* The device types `-device help` of binary env lists, comma-separated ("" for none). */
static char *device_types(const char *env)
{
	g_autofree char *out = NULL, *err = NULL;
	g_auto(GStrv) lines = NULL;
	g_autoptr(GPtrArray) types = g_ptr_array_new_with_free_func(g_free);

	g_assert_cmpint(run(env, (const char *const[]){"-device", "help", NULL}, &out, &err), ==,
			0);
	lines = g_strsplit(out, "\n", -1);
	g_assert_true(g_str_has_prefix(lines[0], "Device types:"));
	/* "  TYPE                 description" */
	for (unsigned i = 1; lines[i]; i++) {
		if (!*lines[i])
			continue;
		g_assert_true(g_str_has_prefix(lines[i], "  "));
		g_ptr_array_add(types, g_strndup(lines[i] + 2, strcspn(lines[i] + 2, " ")));
	}
	g_ptr_array_add(types, NULL);
	return g_strjoinv(",", (char **)types->pdata);
}

/* Whether the file at path holds the bytes of s (a symbol name in its symbol table). */
static bool file_has(const char *path, const char *s)
{
	g_autofree char *data = NULL;
	gsize len;

	g_assert_true(g_file_get_contents(path, &data, &len, NULL));
	return memmem(data, len, s, strlen(s)) != NULL;
}

/*
 * Each class binary lists exactly its own class's devices, and links only their ops
 * tables: a binary with a symbol table (not stripped: it has dev_table) names its own
 * devices' <type>_ops and no other class's.
 */
static void test_device_types(void)
{
	static const struct {
		const char *env, *types;
		const char *own[3], *other[3];
	} classes[] = {
		{"MPVMM_MISC",
		 "pci-testdev,virtio-rng",
		 {"pci_testdev_ops", "virtio_rng_ops"},
		 {"virtio_blk_ops"}},
		{"MPVMM_STORAGE",
		 "virtio-blk",
		 {"virtio_blk_ops"},
		 {"pci_testdev_ops", "virtio_rng_ops"}},
		{"MPVMM_NET", "", {NULL}, {"virtio_blk_ops", "pci_testdev_ops", "virtio_rng_ops"}},
	};

	for (unsigned c = 0; c < G_N_ELEMENTS(classes); c++) {
		g_autofree char *types = device_types(classes[c].env);
		const char *path = tu_bin(classes[c].env);

		g_test_message("%s: -device help lists '%s'", path, types);
		g_assert_cmpstr(types, ==, classes[c].types);
		if (!file_has(path, "dev_table")) {
			g_test_message("%s has no symbol table (stripped): symbols not checked",
				       path);
			continue;
		}
		for (unsigned i = 0; i < 3 && classes[c].own[i]; i++)
			if (!file_has(path, classes[c].own[i]))
				g_error("%s lacks its own %s", path, classes[c].own[i]);
		for (unsigned i = 0; i < 3 && classes[c].other[i]; i++)
			if (file_has(path, classes[c].other[i]))
				g_error("%s links another class's %s", path, classes[c].other[i]);
	}
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/remote/mpvmm-net/help", test_help);
	g_test_add_func("/remote/mpvmm-net/bad-options", test_bad_options);
	g_test_add_func("/remote/mpvmm-net/control", test_control);
	g_test_add_func("/remote/classes/device-types", test_device_types);
	return g_test_run();
}
