// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-hotplug-vm: the harness of test-hotplug.c (see test-hotplug.h): a VMM process
 * whose debugcon (the guest's TAP) and log are collected while the test waits, and a
 * small QMP client, one line per message as QEMU and mpvmm send them.  Not a QMP
 * library: it asserts.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/integration/test-hotplug.h"

/* Read whatever mpvmm wrote within ms milliseconds. */
void hp_pump(struct hp_vm *vm, int ms)
{
	struct pollfd pfd[2] = {{.fd = vm->p.out_fd, .events = POLLIN},
				{.fd = vm->p.err_fd, .events = POLLIN}};
	GString *dst[2] = {vm->out, vm->err};
	char buf[4096];

	if (poll(pfd, 2, ms) <= 0)
		return;
	for (unsigned i = 0; i < 2; i++) {
		ssize_t n;

		if (!(pfd[i].revents & (POLLIN | POLLHUP)))
			continue;
		n = read(pfd[i].fd, buf, sizeof(buf));
		if (n > 0)
			g_string_append_len(dst[i], buf, n);
	}
}

void hp_wait_out(struct hp_vm *vm, const char *needle)
{
	gint64 end = g_get_monotonic_time() + HP_TIMEOUT_S * G_USEC_PER_SEC;

	while (!strstr(vm->out->str, needle)) {
		if (g_get_monotonic_time() > end)
			g_error("no '%s' from the guest within %d s; got:\n%s\nmpvmm:\n%s", needle,
				HP_TIMEOUT_S, vm->out->str, vm->err->str);
		hp_pump(vm, 50);
	}
}

/* One QMP message (a line), pumping mpvmm's output meanwhile. */
json_object *hp_qmp_read(struct hp_vm *vm)
{
	gint64 end = g_get_monotonic_time() + HP_TIMEOUT_S * G_USEC_PER_SEC;
	char *nl;

	while (!(nl = strchr(vm->qbuf->str, '\n'))) {
		struct pollfd pfd = {.fd = vm->qmp, .events = POLLIN};
		char buf[4096];
		ssize_t n;

		g_assert_cmpint(g_get_monotonic_time(), <, end);
		hp_pump(vm, 0);
		if (poll(&pfd, 1, 20) <= 0)
			continue;
		n = read(vm->qmp, buf, sizeof(buf));
		if (n <= 0) {
			hp_pump(vm, 100);
			g_error("the QMP connection ended; guest:\n%s\nVMM:\n%s", vm->out->str,
				vm->err->str);
		}
		g_string_append_len(vm->qbuf, buf, n);
	}
	*nl = '\0';
	json_object *msg = json_tokener_parse(vm->qbuf->str);

	g_assert_nonnull(msg);
	g_string_erase(vm->qbuf, 0, nl - vm->qbuf->str + 1);
	return msg;
}

/* Send a command (JSON text, and an fd by SCM_RIGHTS if fd >= 0); return the reply. */
json_object *hp_qmp_fd(struct hp_vm *vm, const char *cmd, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {.iov_base = (void *)cmd, .iov_len = strlen(cmd)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	if (fd >= 0) {
		struct cmsghdr *c;

		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	g_assert_cmpint(sendmsg(vm->qmp, &mh, MSG_NOSIGNAL), ==, (ssize_t)strlen(cmd));
	for (;;) {
		json_object *msg = hp_qmp_read(vm), *v;

		if (!json_object_object_get_ex(msg, "event", &v))
			return msg;
		g_ptr_array_add(vm->events, msg);
	}
}

json_object *hp_qmp(struct hp_vm *vm, const char *cmd)
{
	return hp_qmp_fd(vm, cmd, -1);
}

/* The command must succeed. */
void hp_ok(struct hp_vm *vm, const char *cmd)
{
	json_object *r = hp_qmp(vm, cmd), *v;

	if (!json_object_object_get_ex(r, "return", &v))
		g_error("%s failed: %s", cmd, json_object_to_json_string(r));
	json_object_put(r);
}

/* The command must fail with class cls and a description containing what. */
void hp_fails_fd(struct hp_vm *vm, const char *cmd, int fd, const char *cls, const char *what)
{
	json_object *r = hp_qmp_fd(vm, cmd, fd), *e, *c, *d;

	if (!json_object_object_get_ex(r, "error", &e))
		g_error("%s did not fail: %s", cmd, json_object_to_json_string(r));
	g_assert_true(json_object_object_get_ex(e, "class", &c));
	g_assert_true(json_object_object_get_ex(e, "desc", &d));
	g_assert_cmpstr(json_object_get_string(c), ==, cls);
	if (!strstr(json_object_get_string(d), what))
		g_error("%s: '%s' does not say '%s'", cmd, json_object_get_string(d), what);
	json_object_put(r);
}

void hp_fails(struct hp_vm *vm, const char *cmd, const char *cls, const char *what)
{
	hp_fails_fd(vm, cmd, -1, cls, what);
}

/* Wait for DEVICE_DELETED of id (seen already, or arriving). */
void hp_wait_deleted(struct hp_vm *vm, const char *id)
{
	for (;;) {
		for (unsigned i = 0; i < vm->events->len; i++) {
			json_object *e = vm->events->pdata[i], *name, *data, *dev, *path;
			g_autofree char *want = g_strdup_printf("/machine/peripheral/%s", id);

			json_object_object_get_ex(e, "event", &name);
			if (strcmp(json_object_get_string(name), "DEVICE_DELETED") != 0 ||
			    !json_object_object_get_ex(e, "data", &data) ||
			    !json_object_object_get_ex(data, "device", &dev) ||
			    strcmp(json_object_get_string(dev), id) != 0)
				continue;
			g_assert_true(json_object_object_get_ex(data, "path", &path));
			g_assert_cmpstr(json_object_get_string(path), ==, want);
			g_ptr_array_remove_index(vm->events, i);
			return;
		}
		g_ptr_array_add(vm->events, hp_qmp_read(vm));
	}
}

/*
 * Connect to the VMM's QMP socket once it listens: within HP_TIMEOUT_S (QEMU can take
 * seconds to start under emulation), failing with the VMM's log if it exits first.
 */
static int hp_connect(struct hp_vm *vm)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	gint64 end = g_get_monotonic_time() + HP_TIMEOUT_S * G_USEC_PER_SEC;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), status;

	g_assert_cmpint(fd, >=, 0);
	g_strlcpy(sun.sun_path, vm->qmp_path, sizeof(sun.sun_path));
	while (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		if (waitpid(vm->p.pid, &status, WNOHANG) == vm->p.pid) {
			hp_pump(vm, 100);
			g_error("%s exited (status 0x%x) before its QMP socket listened:\n%s",
				vm->qemu ? "QEMU" : "mpvmm", status, vm->err->str);
		}
		if (g_get_monotonic_time() > end)
			g_error("cannot connect to %s within %d s: %s", vm->qmp_path, HP_TIMEOUT_S,
				g_strerror(errno));
		hp_pump(vm, 10);
	}
	return fd;
}

static void hp_json_free(gpointer p)
{
	json_object_put(p);
}

/* mpvmm with the guest options `append` and the extra arguments; QMP negotiated. */
void hp_vm_start(struct hp_vm *vm, const char *append, const char *const *extra)
{
	g_autofree char *elf = tu_guest("hotplug");
	g_autofree char *qemu = g_find_program_in_path("qemu-system-x86_64");
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *qmp_opt = NULL;
	json_object *greeting;
	const char *base[13];

	vm->dir = g_dir_make_tmp("hotplug-XXXXXX", NULL);
	vm->qmp_path = g_build_filename(vm->dir, "qmp.sock", NULL);
	qmp_opt = g_strdup_printf("unix:%s,server=on,wait=off", vm->qmp_path);
	memcpy(base,
	       (const char *[]){vm->qemu ? qemu : tu_bin("MPVMM"), "-m", vm->qemu ? "128" : "64M",
				"-kernel", elf, "-append", append, "-serial", "none", "-debugcon",
				"stdio", "-qmp", qmp_opt},
	       sizeof(base));
	for (unsigned i = 0; i < G_N_ELEMENTS(base); i++)
		g_ptr_array_add(argv, g_strdup(base[i]));
	for (unsigned i = 0; extra[i]; i++)
		g_ptr_array_add(argv, g_strdup(extra[i]));
	g_ptr_array_add(argv, NULL);
	tu_spawn((char **)argv->pdata, NULL, 0, true, &vm->p);
	vm->out = g_string_new(NULL);
	vm->err = g_string_new(NULL);
	vm->qbuf = g_string_new(NULL);
	vm->events = g_ptr_array_new_with_free_func(hp_json_free);
	vm->qmp = hp_connect(vm);
	greeting = hp_qmp_read(vm);
	json_object_put(greeting);
	hp_ok(vm, "{\"execute\": \"qmp_capabilities\"}");
	hp_wait_out(vm, "# HOTPLUG waiting");
}

/* The guest exits by itself: every check passed (isa-debug-exit code 0: status 1). */
void hp_vm_end(struct hp_vm *vm)
{
	gint64 end = g_get_monotonic_time() + HP_TIMEOUT_S * G_USEC_PER_SEC;
	int status = 0;

	while (waitpid(vm->p.pid, &status, WNOHANG) == 0) {
		if (g_get_monotonic_time() > end) {
			kill(vm->p.pid, SIGKILL);
			g_error("mpvmm did not end; guest:\n%s\nmpvmm:\n%s", vm->out->str,
				vm->err->str);
		}
		hp_pump(vm, 20);
	}
	for (int i = 0; i < 10; i++)
		hp_pump(vm, 10);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 1 || strstr(vm->out->str, "not ok"))
		g_error("guest failed (status 0x%x):\n%s\nmpvmm:\n%s", status, vm->out->str,
			vm->err->str);
	close(vm->qmp);
	close(vm->p.out_fd);
	close(vm->p.err_fd);
}

void hp_vm_free(struct hp_vm *vm)
{
	g_string_free(vm->out, TRUE);
	g_string_free(vm->err, TRUE);
	g_string_free(vm->qbuf, TRUE);
	g_ptr_array_unref(vm->events);
	rmdir(vm->dir); /* mpvmm removed its socket */
	g_free(vm->qmp_path);
	g_free(vm->dir);
}

/* mpvmm-misc serving pci-testdev `id` on socket path `path` (waits for the file). */
void hp_remote(const char *id, const char *path, struct tu_proc *p)
{
	g_autofree char *dev = g_strdup_printf("pci-testdev,id=%s,socket=%s", id, path);
	char *argv[] = {(char *)tu_bin("MPVMM_MISC"), "-device", dev, NULL};

	tu_spawn(argv, NULL, 0, false, p);
	for (int i = 0; i < 500 && !g_file_test(path, G_FILE_TEST_EXISTS); i++)
		g_usleep(10000);
	g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
}

void hp_stop(struct tu_proc *p)
{
	kill(p->pid, SIGTERM);
	g_assert_true(WIFEXITED(tu_wait(p, 10)));
}

/* One add-release-delete cycle of the guest: device_add `args`, then device_del. */
void hp_cycle(struct hp_vm *vm, unsigned cycle, const char *id, const char *args)
{
	g_autofree char *add =
		g_strdup_printf("{\"execute\": \"device_add\", \"arguments\": {\"driver\": \"%s\", "
				"\"id\": \"%s\"%s}}",
				vm->driver ? vm->driver : "pci-proxy-dev", id, args);
	g_autofree char *del = g_strdup_printf(
		"{\"execute\": \"device_del\", \"arguments\": {\"id\": \"%s\"}}", id);
	g_autofree char *ready = g_strdup_printf("# HOTPLUG ready cycle=%u ", cycle);
	g_autofree char *removed = g_strdup_printf("# HOTPLUG removed cycle=%u ", cycle);

	hp_ok(vm, add);
	hp_wait_out(vm, ready);
	hp_ok(vm, del);
	hp_wait_deleted(vm, id);
	hp_wait_out(vm, removed);
}

static json_object *hp_pci_find(json_object *devs, const char *qdev_id)
{
	for (size_t i = 0; i < json_object_array_length(devs); i++) {
		json_object *d = json_object_array_get_idx(devs, i);

		if (!g_strcmp0(json_object_get_string(json_object_object_get(d, "qdev_id")),
			       qdev_id))
			return d;
	}
	return NULL;
}

int64_t hp_int(json_object *o, const char *key)
{
	json_object *v;

	g_assert_true(json_object_object_get_ex(o, key, &v));
	return json_object_get_int64(v);
}

json_object *hp_query_pci_slot(struct hp_vm *vm, const char *port, const char *id,
			       json_object **dev, json_object **bridge)
{
	json_object *r = hp_qmp(vm, "{\"execute\": \"query-pci\"}"), *ret, *rp;

	g_assert_true(json_object_object_get_ex(r, "return", &ret));
	rp = hp_pci_find(json_object_object_get(json_object_array_get_idx(ret, 0), "devices"),
			 port);
	g_assert_nonnull(rp);
	g_assert_true(json_object_object_get_ex(rp, "pci_bridge", bridge));
	*dev = hp_pci_find(json_object_object_get(*bridge, "devices"), id);
	g_assert_nonnull(*dev);
	g_assert_cmpint(hp_int(*dev, "bus"), ==,
			hp_int(json_object_object_get(*bridge, "bus"), "secondary"));
	g_assert_cmpint(hp_int(*dev, "slot"), ==, 0);
	return r;
}

size_t hp_rproc_devices(struct hp_vm *vm)
{
	json_object *r = hp_qmp(vm, "{\"execute\": \"query-remote-processes\"}"), *list, *devs;
	size_t n;

	g_assert_true(json_object_object_get_ex(r, "return", &list));
	g_assert_cmpuint(json_object_array_length(list), ==, 1);
	g_assert_true(
		json_object_object_get_ex(json_object_array_get_idx(list, 0), "devices", &devs));
	n = json_object_array_length(devs);
	json_object_put(r);
	return n;
}

bool hp_have_qemu(void)
{
	g_autofree char *qemu = g_find_program_in_path("qemu-system-x86_64");

	if (!qemu)
		g_test_skip("qemu-system-x86_64 is not installed");
	return qemu != NULL;
}
