// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * QEMU compatibility of mpvmm's QMP: the same exchanges are run against Debian's QEMU
 * 7.2 (-M pc -S -device pci-testdev, TCG: no guest code runs) and against mpvmm (-S,
 * the same device), and the answers are compared: the same message sequence (events
 * before the reply), the same keys and JSON types at every level, the same error class,
 * and the same error text where we claim QEMU's wording (docs/qmp.md).  Values that
 * differ by nature (versions, addresses, capabilities offered) are compared by type.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/integration/test-qmp.h"

static gint key_cmp(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Keys (sorted) and types, recursively; arrays of objects by their first element. */
static void shape(json_object *o, GString *out)
{
	switch (json_object_get_type(o)) {
	case json_type_object: {
		g_autoptr(GPtrArray) keys = g_ptr_array_new();

		json_object_object_foreach(o, k, v)
		{
			(void)v;
			g_ptr_array_add(keys, k);
		}
		g_ptr_array_sort(keys, key_cmp);
		g_string_append_c(out, '{');
		for (guint i = 0; i < keys->len; i++) {
			g_string_append_printf(out, "%s:", (char *)keys->pdata[i]);
			shape(json_object_object_get(o, keys->pdata[i]), out);
			g_string_append_c(out, ',');
		}
		g_string_append_c(out, '}');
		break;
	}
	case json_type_array:
		/* an object element's shape counts; scalar lists (capabilities: QEMU offers
		 * "oob", we offer none) compare as lists */
		g_string_append(out, "[");
		if (json_object_array_length(o) > 0 &&
		    json_object_is_type(json_object_array_get_idx(o, 0), json_type_object))
			shape(json_object_array_get_idx(o, 0), out);
		g_string_append(out, "]");
		break;
	case json_type_int:
		g_string_append(out, "int");
		break;
	case json_type_double:
		g_string_append(out, "number");
		break;
	default:
		g_string_append(out, json_type_to_name(json_object_get_type(o)));
	}
}

static char *shape_of(json_object *o)
{
	GString *s = g_string_new(NULL);

	shape(o, s);
	return g_string_free(s, FALSE);
}

enum cmp {
	CMP_EXACT_ERROR, /* same class and desc */
	CMP_PREFIX,	 /* same class, desc starts the same up to the first comma */
	CMP_SHAPE,	 /* same keys and types */
	CMP_SHAPE_TOP,	 /* same top-level keys and types of their values */
};

struct peer {
	struct tq *q;
	json_object *msgs[8]; /* events then the reply */
	unsigned n;
};

static void peer_exchange(struct peer *p, const char *text, int fd)
{
	p->n = 0;
	tq_send_fds(p->q, text, &fd, fd >= 0 ? 1 : 0);
	do {
		g_assert_cmpuint(p->n, <, G_N_ELEMENTS(p->msgs));
		p->msgs[p->n] = tq_recv(p->q);
	} while (json_object_object_get_ex(p->msgs[p->n++], "event", NULL));
}

static void peer_clear(struct peer *p)
{
	for (unsigned i = 0; i < p->n; i++)
		json_object_put(p->msgs[i]);
	p->n = 0;
}

static void compare_msg(json_object *a, json_object *b, enum cmp how, const char *text)
{
	g_autofree char *sa = shape_of(a), *sb = shape_of(b);
	const char *da = tq_str(a, "error.desc"), *db = tq_str(b, "error.desc");

	g_test_message("%s\n  QEMU:  %s\n  mpvmm: %s", text, json_object_to_json_string(a),
		       json_object_to_json_string(b));
	if (tq_str(a, "event"))
		g_assert_cmpstr(tq_str(a, "event"), ==, tq_str(b, "event"));
	g_assert_cmpstr(tq_str(a, "error.class"), ==, tq_str(b, "error.class"));
	switch (how) {
	case CMP_EXACT_ERROR:
		g_assert_nonnull(da);
		g_assert_cmpstr(da, ==, db);
		g_assert_cmpstr(sa, ==, sb);
		break;
	case CMP_PREFIX:
		g_assert_nonnull(da);
		g_assert_nonnull(db);
		g_assert_cmpint(strncmp(da, db, strcspn(da, ",")), ==, 0);
		break;
	case CMP_SHAPE:
		g_assert_cmpstr(sa, ==, sb);
		break;
	case CMP_SHAPE_TOP:
		json_object_object_foreach(a, k, v)
		{
			json_object *w = json_object_object_get(b, k);

			g_assert_true(json_object_object_get_ex(b, k, NULL));
			g_assert_cmpint(json_object_get_type(v), ==, json_object_get_type(w));
		}
		g_assert_cmpint(json_object_object_length(a), ==, json_object_object_length(b));
		break;
	}
}

static void exchange(struct peer *qemu, struct peer *ours, const char *text, enum cmp how,
		     bool with_fd)
{
	int p[2] = {-1, -1};

	if (with_fd)
		g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
	peer_exchange(qemu, text, p[1]);
	peer_exchange(ours, text, p[1]);
	if (with_fd) {
		close(p[0]);
		close(p[1]);
	}
	g_assert_cmpuint(qemu->n, ==, ours->n); /* same events, in the same place */
	for (unsigned i = 0; i < qemu->n; i++)
		compare_msg(qemu->msgs[i], ours->msgs[i], i + 1 < qemu->n ? CMP_SHAPE : how, text);
	peer_clear(qemu);
	peer_clear(ours);
}

static const struct {
	const char *text;
	enum cmp how;
	bool fd;
} script[] = {
	{"{\"execute\": \"query-status\"}", CMP_EXACT_ERROR},
	{"{\"execute\": \"stop\", \"id\": 5}", CMP_EXACT_ERROR},
	{"[1]", CMP_EXACT_ERROR},
	{"{\"execute\": \"qmp_capabilities\", \"id\": \"neg\"}", CMP_SHAPE},
	{"{\"execute\": \"qmp_capabilities\"}", CMP_EXACT_ERROR},
	{"{bad}\n", CMP_PREFIX},
	{"[1]", CMP_EXACT_ERROR},
	{"\"str\"", CMP_EXACT_ERROR},
	{"{\"foo\": 1}", CMP_EXACT_ERROR},
	{"{\"execute\": 1}", CMP_EXACT_ERROR},
	{"{\"execute\": \"query-status\", \"arguments\": []}", CMP_EXACT_ERROR},
	{"{\"execute\": \"query-status\", \"arguments\": null}", CMP_EXACT_ERROR},
	{"{\"exec-oob\": \"query-status\"}", CMP_EXACT_ERROR},
	{"{\"execute\": \"query-status\", \"control\": {}, \"id\": 2}", CMP_EXACT_ERROR},
	{"{\"execute\": \"nope\", \"id\": [1, {\"a\": 2}]}", CMP_EXACT_ERROR},
	{"{\"execute\": \"getfd\", \"arguments\": {\"fdname\": 1}}", CMP_EXACT_ERROR},
	{"{\"execute\": \"getfd\"}", CMP_EXACT_ERROR},
	{"{\"execute\": \"query-status\", \"arguments\": {\"x\": 1}}", CMP_EXACT_ERROR},
	{"{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"x\"}}", CMP_EXACT_ERROR},
	{"{\"execute\": \"closefd\", \"arguments\": {\"fdname\": \"zz\"}}", CMP_EXACT_ERROR},
	{"{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"f\"}, \"id\": 7}", CMP_SHAPE,
	 true},
	{"{\"execute\": \"closefd\", \"arguments\": {\"fdname\": \"f\"}}", CMP_SHAPE},
	{"{\"execute\": \"closefd\", \"arguments\": {\"fdname\": \"f\"}}", CMP_EXACT_ERROR},
	{"{\"execute\": \"query-version\"}", CMP_SHAPE},
	{"{\"execute\": \"query-commands\"}", CMP_SHAPE},
	{"{\"execute\": \"query-status\"}", CMP_SHAPE},
	{"{\"execute\": \"stop\"}", CMP_SHAPE},
	{"{\"execute\": \"cont\", \"id\": 3}", CMP_SHAPE},
	{"{\"execute\": \"cont\"}", CMP_SHAPE},
	{"{\"execute\": \"stop\"}", CMP_SHAPE},
	{"{\"execute\": \"query-status\"}", CMP_SHAPE},
	{"{\"execute\": \"system_reset\"}", CMP_SHAPE},
	{"{\"execute\": \"query-pci\"}", CMP_SHAPE_TOP},
	{"{\"execute\": \"quit\"}", CMP_SHAPE},
};

/* The pci-testdev entry of query-pci (QEMU's -M pc has other devices around it). */
static json_object *find_testdev(json_object *reply)
{
	json_object *devs =
		tq_get(json_object_array_get_idx(tq_get(reply, "return"), 0), "devices");

	for (size_t i = 0; i < json_object_array_length(devs); i++) {
		json_object *d = json_object_array_get_idx(devs, i);

		if (!g_strcmp0(tq_str(d, "qdev_id"), "t0"))
			return d;
	}
	g_error("no t0 in query-pci");
}

static void compare_query_pci(struct peer *qemu, struct peer *ours)
{
	g_autofree char *sa = NULL, *sb = NULL;

	peer_exchange(qemu, "{\"execute\": \"query-pci\"}", -1);
	peer_exchange(ours, "{\"execute\": \"query-pci\"}", -1);
	/* QEMU's pc machine leaves BARs unassigned (-1) under -S; the firmware did not run */
	sa = shape_of(find_testdev(qemu->msgs[0]));
	sb = shape_of(find_testdev(ours->msgs[0]));
	g_test_message("query-pci t0\n  QEMU:  %s\n  mpvmm: %s", sa, sb);
	g_assert_cmpstr(sa, ==, sb);
	{
		json_object *a = tq_get(find_testdev(qemu->msgs[0]), "regions");
		json_object *b = tq_get(find_testdev(ours->msgs[0]), "regions");

		g_assert_cmpuint(json_object_array_length(a), ==, json_object_array_length(b));
		for (size_t i = 0; i < json_object_array_length(a); i++) {
			g_autofree char *ra = shape_of(json_object_array_get_idx(a, i));
			g_autofree char *rb = shape_of(json_object_array_get_idx(b, i));

			g_assert_cmpstr(ra, ==, rb);
			g_assert_cmpint(json_object_get_int64(
						tq_get(json_object_array_get_idx(a, i), "size")),
					==,
					json_object_get_int64(
						tq_get(json_object_array_get_idx(b, i), "size")));
		}
	}
	peer_clear(qemu);
	peer_clear(ours);
}

static void test_same_as_qemu(void)
{
	static const struct vm_cfg cfg = {.guest = "bar-bench", .paused = true};
	g_autofree char *dir = g_dir_make_tmp("test-qmp-qemu-XXXXXX", NULL);
	g_autofree char *qsock = g_build_filename(dir, "qemu.sock", NULL);
	g_autofree char *qopt = g_strdup_printf("unix:%s,server=on,wait=off", qsock);
	char *qargv[] = {"qemu-system-x86_64", "-M",   "pc",	      "-S",
			 "-display",	       "none", "-nodefaults", "-device",
			 "pci-testdev,id=t0",  "-qmp", qopt,	      NULL};
	g_autofree char *qemu_path = g_find_program_in_path("qemu-system-x86_64");
	struct peer qemu = {0}, ours = {0};
	struct tu_proc qp;
	struct vm vm;
	json_object *ga, *gb;

	if (!qemu_path) {
		g_test_skip("qemu-system-x86_64 is not installed");
		return;
	}
	if (tu_skip_without_kvm())
		return;
	qargv[0] = qemu_path; /* tu_spawn does not search PATH */
	tu_spawn(qargv, NULL, 0, false, &qp);
	vm_start(&vm, &cfg);
	qemu.q = tq_connect(qsock, 30);
	ours.q = tq_connect(vm.sock[0], 30);
	ga = tq_recv(qemu.q);
	gb = tq_recv(ours.q);
	compare_msg(ga, gb, CMP_SHAPE, "greeting");
	json_object_put(ga);
	json_object_put(gb);
	for (unsigned i = 0; i < G_N_ELEMENTS(script); i++) {
		if (!strcmp(script[i].text, "{\"execute\": \"query-pci\"}")) {
			compare_query_pci(&qemu, &ours);
			continue;
		}
		exchange(&qemu, &ours, script[i].text, script[i].how, script[i].fd);
	}
	/* after quit both close the connection and exit 0 */
	g_assert_true(tq_eof(qemu.q, 30));
	g_assert_true(tq_eof(ours.q, 30));
	tq_close(qemu.q);
	tq_close(ours.q);
	g_assert_cmpint(tu_wait(&qp, 30), ==, 0);
	g_assert_cmpint(vm_wait(&vm, 30), ==, 0);
	unlink(qsock);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vmm/qmp/same-as-qemu", test_same_as_qemu);
	return g_test_run();
}
