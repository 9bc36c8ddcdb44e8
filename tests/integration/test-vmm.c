// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * KVM tests of the mpvmm process itself, with the tiny guest vmm-guest.elf: the PVH
 * boot ABI (start_info, memory map, command line), serial and debugcon backends,
 * isa-debug-exit statuses, the PCI host bridge and an in-process pci-testdev seen
 * from the guest, -smp, a triple fault, SIGTERM/SIGINT (also with a hung remote
 * device process), and setup errors.  The device paths themselves are exercised in
 * test-pci-testdev.c.  Skipped without /dev/kvm.
 */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/tu.h"

#define STATUS(v) ((((v) << 1) | 1) & 0xff) /* isa-debug-exit */
#define EXIT_STOPPED 0
#define EXIT_SETUP 2
#define EXIT_GUEST_FAILED 4

struct run {
	int status;
	char *out, *err;
};

static void run_free(struct run *r)
{
	g_free(r->out);
	g_free(r->err);
}

/* mpvmm -kernel vmm-guest.elf ARGS...; waits for its exit. */
static void run_vmm(struct run *r, const char *first, ...)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	struct tu_proc p;
	va_list ap;

	g_ptr_array_add(argv, (char *)tu_bin("MPVMM"));
	g_ptr_array_add(argv, "-kernel");
	g_ptr_array_add(argv, (char *)tu_bin("VMM_TEST_GUEST"));
	va_start(ap, first);
	for (const char *a = first; a; a = va_arg(ap, const char *))
		g_ptr_array_add(argv, (char *)a);
	va_end(ap);
	g_ptr_array_add(argv, NULL);
	tu_spawn((char **)argv->pdata, NULL, 0, true, &p);
	r->out = tu_slurp(p.out_fd);
	r->err = tu_slurp(p.err_fd);
	r->status = tu_wait(&p, 60);
	close(p.out_fd);
	close(p.err_fd);
	if (!WIFEXITED(r->status))
		g_error("mpvmm died (status 0x%x); stderr:\n%s", r->status, r->err);
	r->status = WEXITSTATUS(r->status);
}

static void assert_status(const struct run *r, int want)
{
	if (r->status != want)
		g_error("mpvmm exit status %d, expected %d; stdout:\n%s\nstderr:\n%s", r->status,
			want, r->out, r->err);
}

/* start_info and memory map checked by the guest; output on the serial port (stdout). */
static void test_boot_info(void)
{
	struct run r;

	if (tu_skip_without_kvm())
		return;
	run_vmm(&r, "-m", "64M", "-append", "x and more", NULL);
	assert_status(&r, STATUS(0x2a));
	g_assert_cmpuint(tu_count(r.out, "hello from the vmm test guest\n"), ==, 1);
	g_assert_cmpstr(r.err, ==, "");
	run_free(&r);
}

/* Without -append, cmdline_paddr is 0 and the guest takes its default mode. */
static void test_boot_no_append(void)
{
	struct run r;

	if (tu_skip_without_kvm())
		return;
	run_vmm(&r, NULL);
	assert_status(&r, STATUS(0x2a));
	run_free(&r);
}

/* RAM above the PCI hole adds a fifth memory map entry, which the guest notices. */
static void test_boot_high_ram(void)
{
	struct run r;

	if (tu_skip_without_kvm())
		return;
	run_vmm(&r, "-m", "3G", NULL);
	assert_status(&r, STATUS(0x12));
	run_free(&r);
}

static void test_chardev_files(void)
{
	g_autofree char *dir = g_dir_make_tmp("vmm-XXXXXX", NULL);
	g_autofree char *ser = g_build_filename(dir, "serial.txt", NULL);
	g_autofree char *dcon = g_build_filename(dir, "debugcon.txt", NULL);
	g_autofree char *sopt = g_strconcat("file:", ser, NULL);
	g_autofree char *dopt = g_strconcat("file:", dcon, NULL);
	g_autofree char *s = NULL, *d = NULL;
	struct run r;

	if (tu_skip_without_kvm())
		return;
	g_assert_true(g_file_set_contents(dcon, "stale contents to be truncated\n", -1, NULL));
	run_vmm(&r, "-serial", sopt, "-debugcon", dopt, NULL);
	assert_status(&r, STATUS(0x2a));
	g_assert_cmpstr(r.out, ==, "");
	g_assert_true(g_file_get_contents(ser, &s, NULL, NULL));
	g_assert_true(g_file_get_contents(dcon, &d, NULL, NULL));
	g_assert_cmpstr(s, ==, "hello from the vmm test guest\n");
	g_assert_cmpstr(d, ==, "hello from the vmm test guest\n");
	run_free(&r);
	run_vmm(&r, "-serial", "none", "-debugcon", "stdio", NULL);
	g_assert_cmpstr(r.out, ==, "hello from the vmm test guest\n");
	run_free(&r);
	unlink(ser);
	unlink(dcon);
	rmdir(dir);
}

/* Host bridge (type-1 and ECAM), pci-testdev at 00:01.0, unclaimed accesses, UART. */
static void test_platform(void)
{
	struct run r;

	if (tu_skip_without_kvm())
		return;
	run_vmm(&r, "-append", "p", "-device", "pci-testdev,id=t0", NULL);
	assert_status(&r, STATUS(0));
	run_free(&r);
	/* Without the device, the guest finds 00:01.0 empty (its check 0x26). */
	run_vmm(&r, "-append", "p", NULL);
	assert_status(&r, STATUS(0x26));
	run_free(&r);
}

/* Two vCPUs: the AP waits for a SIPI that never comes; both threads are joined. */
static void test_smp(void)
{
	struct run r;

	if (tu_skip_without_kvm())
		return;
	run_vmm(&r, "-smp", "2", "-append", "p", "-device", "pci-testdev", NULL);
	assert_status(&r, STATUS(0));
	run_free(&r);
}

static void test_triple_fault(void)
{
	struct run r;

	if (tu_skip_without_kvm())
		return;
	run_vmm(&r, "-append", "t", "-no-reboot", NULL);
	assert_status(&r, EXIT_GUEST_FAILED);
	g_assert_nonnull(strstr(r.err, "vCPU0: guest triple fault"));
	g_assert_nonnull(strstr(r.err, "rip "));
	g_assert_nonnull(strstr(r.err, "cr0 "));
	run_free(&r);
}

static void stop_by_signal(int sig)
{
	g_autofree char *want = g_strdup_printf("terminating on signal %d", sig);
	char *argv[] = {(char *)tu_bin("MPVMM"),	  "-smp",    "2", "-kernel",
			(char *)tu_bin("VMM_TEST_GUEST"), "-append", "h", NULL};
	g_autofree char *out = NULL, *err = NULL;
	struct tu_proc p;
	int status;

	if (tu_skip_without_kvm())
		return;
	tu_spawn(argv, NULL, 0, true, &p);
	tu_wait_line(p.out_fd, "halting", 30);
	kill(p.pid, sig);
	out = tu_slurp(p.out_fd);
	err = tu_slurp(p.err_fd);
	status = tu_wait(&p, 30);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, EXIT_STOPPED);
	g_assert_nonnull(strstr(err, want));
	close(p.out_fd);
	close(p.err_fd);
}

static void test_sigterm(void)
{
	stop_by_signal(SIGTERM);
}

static void test_sigint(void)
{
	stop_by_signal(SIGINT);
}

/*
 * A remote that stops answering (SIGSTOP) while a vCPU waits for it must not keep
 * mpvmm from exiting on SIGTERM: the stuck vCPU is abandoned after a few seconds.
 */
static void test_stop_hung_remote(void)
{
	g_autofree char *elf = tu_guest("pci-testdev");
	char *misc_argv[] = {(char *)tu_bin("MPVMM_MISC"), "-device", "pci-testdev,id=t0,socket=3",
			     NULL};
	char *argv[] = {(char *)tu_bin("MPVMM"),
			"-m",
			"64M",
			"-kernel",
			elf,
			"-serial",
			"none",
			"-debugcon",
			"stdio",
			"-device",
			"pci-proxy-dev,id=t0,socket=3",
			"-append",
			"wait-gone=1",
			NULL};
	g_autofree char *err = NULL;
	struct tu_proc misc, vmm;
	int sv[2], status;
	gint64 t0;

	if (tu_skip_without_kvm())
		return;
	if (!g_file_test(elf, G_FILE_TEST_EXISTS)) {
		g_test_skip("the guest programs are not built (-Dguest=false)");
		return;
	}
	tu_socketpair(sv);
	tu_spawn(misc_argv, &sv[1], 1, false, &misc);
	close(sv[1]);
	tu_spawn(argv, &sv[0], 1, true, &vmm);
	close(sv[0]);
	tu_wait_line(vmm.out_fd, "waiting for the device to go away", 30);
	kill(tu_server_pid(misc.pid), SIGSTOP); /* the sandboxed process that serves */
	g_usleep(200000); /* the guest's next BAR read now blocks its vCPU */
	t0 = g_get_monotonic_time();
	kill(vmm.pid, SIGTERM);
	status = tu_wait(&vmm, 30);
	err = tu_slurp(vmm.err_fd);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, EXIT_STOPPED);
	g_assert_nonnull(strstr(err, "vCPU0 did not stop"));
	g_assert_cmpint(g_get_monotonic_time() - t0, <, 20 * G_USEC_PER_SEC);
	kill(misc.pid, SIGKILL);
	tu_wait(&misc, 10);
	close(vmm.out_fd);
	close(vmm.err_fd);
}

/* Setup errors exit with 2 before the guest runs, naming the culprit. */
static void test_setup_errors(void)
{
	struct run r;

	if (tu_skip_without_kvm())
		return;
	run_vmm(&r, "-m", "12Q", NULL);
	assert_status(&r, EXIT_SETUP);
	g_assert_nonnull(strstr(r.err, "mpvmm: -m 12Q: invalid size"));
	run_free(&r);
	run_vmm(&r, "-device", "pci-proxy-dev,id=t0,socket=/nonexistent/t0.sock", NULL);
	assert_status(&r, EXIT_SETUP);
	g_assert_nonnull(strstr(r.err, "/nonexistent/t0.sock"));
	g_assert_cmpstr(r.out, ==, "");
	run_free(&r);
	run_vmm(&r, "-device", "pci-testdev,id=t0,color=red", NULL);
	assert_status(&r, EXIT_SETUP);
	g_assert_nonnull(strstr(r.err, "unknown property 'color'"));
	run_free(&r);
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vmm/boot/info", test_boot_info);
	g_test_add_func("/vmm/boot/no-append", test_boot_no_append);
	g_test_add_func("/vmm/boot/high-ram", test_boot_high_ram);
	g_test_add_func("/vmm/chardev/files", test_chardev_files);
	g_test_add_func("/vmm/platform/pci-uart", test_platform);
	g_test_add_func("/vmm/platform/smp", test_smp);
	g_test_add_func("/vmm/fail/triple-fault", test_triple_fault);
	g_test_add_func("/vmm/stop/sigterm", test_sigterm);
	g_test_add_func("/vmm/stop/sigint", test_sigint);
	g_test_add_func("/vmm/stop/hung-remote", test_stop_hung_remote);
	g_test_add_func("/vmm/setup/errors", test_setup_errors);
	return g_test_run();
}
