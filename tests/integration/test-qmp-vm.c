// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-qmp-vm: the QMP integration tests' VM launcher (see test-qmp.h).  mpvmm runs a
 * guest from tests/guest with an in-process pci-testdev t0 (and optionally a remote one,
 * t1, in mpvmm-misc), its QMP sockets in a fresh temporary directory and the guest's
 * debug console in a file there, so a test sees what the guest did and when.
 */
#include <dirent.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/integration/test-qmp.h"

static void vm_argv_add(GPtrArray *a, const char *s)
{
	g_ptr_array_add(a, g_strdup(s));
}

void vm_start(struct vm *vm, const struct vm_cfg *cfg)
{
	g_autoptr(GPtrArray) a = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *elf = tu_guest(cfg->guest);
	int sv[2], fd = -1;

	memset(vm, 0, sizeof(*vm));
	vm->misc_fd = -1;
	vm->dir = g_dir_make_tmp("test-qmp-vm-XXXXXX", NULL);
	vm->dc = g_build_filename(vm->dir, "debugcon.txt", NULL);
	vm->sock[0] = g_build_filename(vm->dir, "qmp0.sock", NULL);
	if (cfg->two_monitors)
		vm->sock[1] = g_build_filename(vm->dir, "qmp1.sock", NULL);
	vm_argv_add(a, tu_bin("MPVMM"));
	for (const char *const *s = (const char *const[]){"-m", "64M", "-serial", "none", "-device",
							  "pci-testdev,id=t0", NULL};
	     *s; s++)
		vm_argv_add(a, *s);
	vm_argv_add(a, "-kernel");
	vm_argv_add(a, elf);
	vm_argv_add(a, "-debugcon");
	g_ptr_array_add(a, g_strdup_printf("file:%s", vm->dc));
	if (cfg->append) {
		vm_argv_add(a, "-append");
		vm_argv_add(a, cfg->append);
	}
	for (unsigned i = 0; i < 2 && vm->sock[i]; i++) {
		vm_argv_add(a, "-qmp");
		g_ptr_array_add(a, g_strdup_printf("unix:%s,server=on,wait=off", vm->sock[i]));
	}
	if (cfg->paused)
		vm_argv_add(a, "-S");
	if (cfg->remote) {
		char *margv[] = {(char *)tu_bin("MPVMM_MISC"), "-device",
				 "pci-testdev,id=t1,socket=3", NULL};

		tu_socketpair(sv);
		tu_spawn(margv, &sv[1], 1, false, &vm->misc);
		close(sv[1]);
		fd = vm->misc_fd = sv[0];
		vm_argv_add(a, "-device");
		vm_argv_add(a, "pci-proxy-dev,id=t1,socket=3");
	}
	g_ptr_array_add(a, NULL);
	tu_spawn((char **)a->pdata, &fd, fd >= 0 ? 1 : 0, false, &vm->p);
}

int vm_wait(struct vm *vm, unsigned timeout_s)
{
	int status = tu_wait(&vm->p, timeout_s);

	/* the monitor removed its sockets at exit */
	for (unsigned i = 0; i < 2 && vm->sock[i]; i++)
		g_assert_false(g_file_test(vm->sock[i], G_FILE_TEST_EXISTS));
	if (vm->misc_fd >= 0) {
		close(vm->misc_fd);
		tu_wait(&vm->misc, 10);
	}
	unlink(vm->dc);
	g_assert_cmpint(rmdir(vm->dir), ==, 0);
	g_free(vm->dir);
	g_free(vm->dc);
	g_free(vm->sock[0]);
	g_free(vm->sock[1]);
	return status;
}

char *vm_console(const struct vm *vm)
{
	char *s = NULL;

	if (!g_file_get_contents(vm->dc, &s, NULL, NULL))
		return g_strdup("");
	return s;
}

void vm_wait_console(const struct vm *vm, const char *needle, unsigned n, unsigned timeout_s)
{
	gint64 end = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;

	for (;;) {
		g_autofree char *s = vm_console(vm);

		if (tu_count(s, needle) >= n)
			return;
		if (g_get_monotonic_time() > end)
			g_error("guest did not print '%s' %u times within %us; console:\n%s",
				needle, n, timeout_s, s);
		g_usleep(20000);
	}
}

struct tq *vm_client(const struct vm *vm, unsigned i)
{
	struct tq *q = tq_connect(vm->sock[i], 20);

	json_object_put(tq_negotiate(q));
	return q;
}

unsigned vm_nr_fds(const struct vm *vm)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/fd", vm->p.pid);
	DIR *d = opendir(path);
	unsigned n = 0;

	g_assert_nonnull(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}
