// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Integration tests of issue 6: multiboot.elf (tests/guest), a Multiboot v1 kernel
 * written for QEMU's pc machine, boots unmodified under Debian's QEMU 7.2 (-accel kvm,
 * SeaBIOS assigning BARs, QEMU's fw_cfg and ACPI) and under mpvmm with its pci-testdev
 * in a separate mpvmm-misc process, and passes every check in both; so does its
 * a.out-kludge build (multiboot-aout.elf) under mpvmm.  The guest's own
 * checks are the test; this file only runs it, with two boot modules, and reads the
 * verdict.  Negative cases of the guest's checks run under TCG (tests/guest/meson.build).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/tu.h"

/* The guest passed: code 0 through isa-debug-exit, so status 1, after @min_ok checks. */
static void assert_guest_passed(int status, const char *tap, const char *err, unsigned min_ok)
{
	g_assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) != 1)
		g_error("VMM exit status %d, expected 1; guest said:\n%s\nstderr:\n%s",
			WEXITSTATUS(status), tap, err);
	g_assert_null(strstr(tap, "not ok"));
	g_assert_nonnull(strstr(tap, " passed, 0 failed"));
	g_assert_cmpuint(tu_count(tap, "\nok "), >=, min_ok);
}

/* The two modules meson builds with mkmodule.sh, as one -initrd argument. */
static char *mb_modules(void)
{
	const char *dir = tu_bin("GUEST_DIR");

	return g_strdup_printf("%s/mbmod0.bin,%s/mbmod1.bin", dir, dir);
}

static int run(char **argv, const int *fds, unsigned nr, char **out, char **err)
{
	struct tu_proc p;
	int status;

	tu_spawn(argv, fds, nr, true, &p);
	*out = tu_slurp(p.out_fd);
	*err = tu_slurp(p.err_fd);
	status = tu_wait(&p, 120);
	close(p.out_fd);
	close(p.err_fd);
	return status;
}

/* Debian's QEMU 7.2, -M pc, KVM, two vCPUs: QEMU's Multiboot loader, SeaBIOS, no MCFG. */
static void test_qemu(void)
{
	g_autofree char *elf = tu_guest("multiboot"), *mods = mb_modules();
	g_autofree char *qemu = g_find_program_in_path("qemu-system-x86_64");
	g_autofree char *out = NULL, *err = NULL;
	char *argv[] = { qemu, "-accel", "kvm", "-M", "pc", "-m", "128", "-smp", "2",
			 "-kernel", elf, "-append", "mbtest cpus=2 mem=128 mods=2", "-initrd",
			 mods, "-device", "pci-testdev", "-device",
			 "isa-debug-exit,iobase=0xf4,iosize=4", "-display", "none", "-serial",
			 "none", "-debugcon", "stdio", "-no-reboot", NULL };
	int status;

	if (tu_skip_without_kvm())
		return;
	if (!qemu)
		g_error("qemu-system-x86_64 is not installed (tools/deps.sh installs it)");
	status = run(argv, NULL, 0, &out, &err);
	assert_guest_passed(status, out, err, 80);
	g_assert_nonnull(strstr(out, "boot loader 'qemu'"));
	g_assert_nonnull(strstr(out, "MCFG absent"));
}

/* mpvmm, two vCPUs, the pci-testdev served by mpvmm-misc over vfio-user; MCFG required. */
static void test_mpvmm_remote(void)
{
	g_autofree char *elf = tu_guest("multiboot"), *mods = mb_modules();
	g_autofree char *out = NULL, *err = NULL, *rerr = NULL;
	char *margv[] = { (char *)tu_bin("MPVMM_MISC"), "-device", "pci-testdev,id=t0,socket=3",
			  NULL };
	char *argv[] = { (char *)tu_bin("MPVMM"), "-m", "128M", "-smp", "2", "-kernel", elf,
			 "-initrd", mods, "-append", "mbtest cpus=2 mem=128 mods=2 mcfg=1",
			 "-device", "pci-proxy-dev,id=t0,socket=3", "-serial", "none",
			 "-debugcon", "stdio", NULL };
	struct tu_proc misc;
	int sv[2], status;

	if (tu_skip_without_kvm())
		return;
	tu_socketpair(sv);
	tu_spawn(margv, &sv[1], 1, true, &misc);
	close(sv[1]);
	status = run(argv, &sv[0], 1, &out, &err);
	close(sv[0]);
	assert_guest_passed(status, out, err, 80);
	g_assert_nonnull(strstr(out, "pci-testdev 1b36:0005 found on bus 0"));
	g_assert_nonnull(strstr(out, "ECAM reads 00:00.0 IDs"));
	/* With its only channel closed, the remote exits cleanly on its own. */
	status = tu_wait(&misc, 10);
	rerr = tu_slurp(misc.err_fd);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
}

/* The a.out-kludge build of the same kernel (ELF64, loaded by the header's addresses),
 * with the pci-testdev inside mpvmm this time. */
static void test_mpvmm_aout(void)
{
	g_autofree char *elf = tu_guest("multiboot-aout"), *mods = mb_modules();
	g_autofree char *out = NULL, *err = NULL;
	char *argv[] = { (char *)tu_bin("MPVMM"), "-m", "128M", "-kernel", elf, "-initrd", mods,
			 "-append", "mbtest mem=128 mods=2 mcfg=1", "-device", "pci-testdev,id=t0",
			 "-serial", "none", "-debugcon", "stdio", NULL };
	int status;

	if (tu_skip_without_kvm())
		return;
	status = run(argv, NULL, 0, &out, &err);
	assert_guest_passed(status, out, err, 80);
}

/* mpvmm -machine acpi=off: no RSDP anywhere a guest looks; everything else still there. */
static void test_mpvmm_acpi_off(void)
{
	g_autofree char *elf = tu_guest("multiboot");
	g_autofree char *out = NULL, *err = NULL;
	char *argv[] = { (char *)tu_bin("MPVMM"), "-m", "64M", "-machine", "acpi=off",
			 "-kernel", elf, "-append", "mbtest mem=64 acpi=0 testdev=0", "-serial",
			 "none", "-debugcon", "stdio", NULL };
	int status;

	if (tu_skip_without_kvm())
		return;
	status = run(argv, NULL, 0, &out, &err);
	assert_guest_passed(status, out, err, 15);
	g_assert_nonnull(strstr(out, "acpi=0: no RSDP"));
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/integration/multiboot/qemu", test_qemu);
	g_test_add_func("/integration/multiboot/mpvmm-remote", test_mpvmm_remote);
	g_test_add_func("/integration/multiboot/mpvmm-aout", test_mpvmm_aout);
	g_test_add_func("/integration/multiboot/mpvmm-acpi-off", test_mpvmm_acpi_off);
	return g_test_run();
}
