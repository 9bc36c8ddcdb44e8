// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Integration tests of issue 2's whole path: the pci-testdev guest on real KVM,
 * driving a device served by a separate mpvmm-misc process over vfio-user (fd and
 * path sockets), the same device in-VMM, the same ELF under Debian's QEMU 7.2, a
 * device-id mismatch, a remote killed while the guest runs, and the demo (`mpvmm`
 * alone) with the confinement it reports for its remote.
 */
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/tu.h"

/* Guest passed: it wrote 0 to isa-debug-exit, so the VMM exited with status 1. */
static void assert_guest_passed(int status, const char *tap)
{
	g_assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) != 1)
		g_error("VMM exit status %d, expected 1; guest said:\n%s", WEXITSTATUS(status),
			tap);
	g_assert_null(strstr(tap, "not ok"));
	g_assert_cmpuint(tu_count(tap, "ok "), >=, 6); /* 3 entries x (MMIO + PIO) */
}

static void spawn_misc(const char *dev, int fd, struct tu_proc *p)
{
	g_autofree char *opt = g_strdup_printf("pci-testdev,id=%s,socket=3", dev);
	char *argv[] = { (char *)tu_bin("MPVMM_MISC"), "-device", opt, NULL };

	tu_spawn(argv, &fd, 1, true, p);
}

static int run_vmm(const char *guest, const char *devopt, const char *append, int fd,
		   char **out, char **err)
{
	g_autofree char *elf = tu_guest(guest);
	char *argv[] = { (char *)tu_bin("MPVMM"), "-m", "64M", "-kernel", elf,
			 "-serial", "none", "-debugcon", "stdio", "-device", (char *)devopt,
			 "-append", (char *)(append ? append : ""), NULL };
	struct tu_proc p;
	int status;

	tu_spawn(argv, &fd, fd >= 0 ? 1 : 0, true, &p);
	*out = tu_slurp(p.out_fd);
	*err = tu_slurp(p.err_fd);
	status = tu_wait(&p, 60);
	close(p.out_fd);
	close(p.err_fd);
	return status;
}

static void test_remote_fd(void)
{
	g_autofree char *out = NULL, *err = NULL, *rerr = NULL, *comm = NULL, *path = NULL;
	struct tu_proc misc;
	int sv[2], status;

	if (tu_skip_without_kvm())
		return;
	tu_socketpair(sv);
	spawn_misc("t0", sv[1], &misc);
	close(sv[1]);
	/* The device really lives in another process, running the remote binary. */
	path = g_strdup_printf("/proc/%d/comm", misc.pid);
	g_assert_true(g_file_get_contents(path, &comm, NULL, NULL));
	g_assert_cmpstr(g_strstrip(comm), ==, "mpvmm-misc");
	status = run_vmm("pci-testdev", "pci-proxy-dev,id=t0,socket=3", NULL, sv[0], &out, &err);
	close(sv[0]);
	assert_guest_passed(status, out);
	/* With its only channel closed, the remote exits cleanly on its own. */
	status = tu_wait(&misc, 10);
	rerr = tu_slurp(misc.err_fd);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
}

static void test_remote_path(void)
{
	g_autofree char *dir = g_dir_make_tmp("mpvmm-XXXXXX", NULL);
	g_autofree char *sock = g_build_filename(dir, "t0.sock", NULL);
	g_autofree char *opt = g_strdup_printf("pci-testdev,id=t0,socket=%s", sock);
	g_autofree char *popt = g_strdup_printf("pci-proxy-dev,id=t0,socket=%s", sock);
	g_autofree char *out = NULL, *err = NULL;
	char *argv[] = { (char *)tu_bin("MPVMM_MISC"), "-device", opt, NULL };
	struct tu_proc misc;
	struct stat st;
	int status;

	if (tu_skip_without_kvm())
		return;
	tu_spawn(argv, NULL, 0, false, &misc);
	for (int i = 0; i < 500 && stat(sock, &st) != 0; i++)
		g_usleep(10000);
	g_assert_true(S_ISSOCK(st.st_mode));
	status = run_vmm("pci-testdev", popt, NULL, -1, &out, &err);
	assert_guest_passed(status, out);
	kill(misc.pid, SIGTERM);
	status = tu_wait(&misc, 10);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
	unlink(sock);
	rmdir(dir);
}

static void test_in_vmm(void)
{
	g_autofree char *out = NULL, *err = NULL;
	int status;

	if (tu_skip_without_kvm())
		return;
	status = run_vmm("pci-testdev", "pci-testdev,id=t0", NULL, -1, &out, &err);
	assert_guest_passed(status, out);
}

/* "mpvmm: vCPU0: N exits to userspace (io I, mmio M)" from MPVMM_EXIT_STATS=1. */
static void parse_exits(const char *err, unsigned *io, unsigned *mmio)
{
	const char *line = strstr(err, "mpvmm: vCPU0: ");
	unsigned total;

	g_assert_nonnull(line);
	g_assert_cmpint(sscanf(line, "mpvmm: vCPU0: %u exits to userspace (io %u, mmio %u)",
			       &total, io, mmio), ==, 3);
	g_assert_cmpuint(total, >=, *io + *mmio);
}

/*
 * Doorbells bypass the VMM: the same guest run with the device in-VMM (every write
 * exits) and in mpvmm-misc (doorbell writes go to KVM ioeventfds) prints the same
 * report, and the remote run has at least one fewer exit per doorbell write.  The
 * guest writes each eventfd entry 16 times with its data and once with other data,
 * which a wildcard doorbell also takes: 2 x (16 + 1) + 2 x 16 = 66 writes, 33 MMIO
 * and 33 port I/O.
 */
static void test_doorbell_bypass(void)
{
	g_autofree char *out = NULL, *err = NULL, *lout = NULL, *lerr = NULL;
	unsigned io, mmio, lio, lmmio;
	struct tu_proc misc;
	int sv[2], status;

	if (tu_skip_without_kvm())
		return;
	g_setenv("MPVMM_EXIT_STATS", "1", TRUE);
	status = run_vmm("pci-testdev", "pci-testdev,id=t0", NULL, -1, &lout, &lerr);
	assert_guest_passed(status, lout);
	tu_socketpair(sv);
	spawn_misc("t0", sv[1], &misc);
	close(sv[1]);
	status = run_vmm("pci-testdev", "pci-proxy-dev,id=t0,socket=3", NULL, sv[0], &out, &err);
	close(sv[0]);
	g_unsetenv("MPVMM_EXIT_STATS");
	assert_guest_passed(status, out);
	g_assert_cmpstr(out, ==, lout); /* the same report: every doorbell write counted */
	g_assert_nonnull(strstr(out, "wildcard-eventfd: 16 writes of 0xce at +0x801 counted 16"));
	parse_exits(lerr, &lio, &lmmio);
	parse_exits(err, &io, &mmio);
	g_test_message("exits: in-VMM io %u mmio %u, remote io %u mmio %u", lio, lmmio, io, mmio);
	g_assert_cmpuint(lmmio, >=, mmio + 33);
	g_assert_cmpuint(lio, >=, io + 33);
	status = tu_wait(&misc, 10);
	g_assert_true(WIFEXITED(status));
}

/* The same ELF under Debian's QEMU 7.2 with QEMU's own pci-testdev. */
static void test_qemu(void)
{
	g_autofree char *elf = tu_guest("pci-testdev");
	g_autofree char *out = NULL, *err = NULL;
	char *argv[] = { "qemu-system-x86_64", "-accel", "kvm", "-M", "pc", "-m", "128",
			 "-kernel", elf, "-device", "pci-testdev", "-device",
			 "isa-debug-exit,iobase=0xf4,iosize=4", "-display", "none",
			 "-serial", "none", "-debugcon", "stdio", "-no-reboot", NULL };
	g_autofree char *qemu = g_find_program_in_path("qemu-system-x86_64");
	struct tu_proc p;
	int status;

	if (tu_skip_without_kvm())
		return;
	if (!qemu)
		g_error("qemu-system-x86_64 is not installed (tools/deps.sh installs it)");
	argv[0] = qemu;
	tu_spawn(argv, NULL, 0, true, &p);
	out = tu_slurp(p.out_fd);
	err = tu_slurp(p.err_fd);
	status = tu_wait(&p, 120);
	assert_guest_passed(status, out);
}

static void test_wrong_id(void)
{
	g_autofree char *out = NULL, *err = NULL;
	struct tu_proc misc;
	int sv[2], status;

	if (tu_skip_without_kvm())
		return;
	tu_socketpair(sv);
	spawn_misc("t1", sv[1], &misc);
	close(sv[1]);
	status = run_vmm("pci-testdev", "pci-proxy-dev,id=t0,socket=3", NULL, sv[0], &out, &err);
	close(sv[0]);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), !=, 1); /* the guest never ran */
	g_assert_nonnull(strstr(err, "'t0'"));
	g_assert_nonnull(strstr(err, "t1"));
	kill(misc.pid, SIGTERM);
	tu_wait(&misc, 10);
}

/* The remote dies mid-run: the VMM survives, warns once, the device reads all-ones. */
static void test_remote_killed(void)
{
	g_autofree char *elf = tu_guest("pci-testdev");
	g_autofree char *out = NULL, *err = NULL;
	char *argv[] = { (char *)tu_bin("MPVMM"), "-m", "64M", "-kernel", elf, "-serial",
			 "none", "-debugcon", "stdio", "-device",
			 "pci-proxy-dev,id=t0,socket=3", "-append", "wait-gone=1", NULL };
	struct tu_proc misc, vmm;
	int sv[2], status;

	if (tu_skip_without_kvm())
		return;
	tu_socketpair(sv);
	spawn_misc("t0", sv[1], &misc);
	close(sv[1]);
	tu_spawn(argv, &sv[0], 1, true, &vmm);
	close(sv[0]);
	tu_wait_line(vmm.out_fd, "waiting for the device to go away", 30);
	kill(misc.pid, SIGKILL);
	tu_wait(&misc, 10);
	out = tu_slurp(vmm.out_fd);
	err = tu_slurp(vmm.err_fd);
	status = tu_wait(&vmm, 60);
	assert_guest_passed(status, out);
	g_assert_cmpuint(tu_count(err, "t0: device backend failed"), ==, 1);
}

/* The uid mpvmm-misc runs as (remote/class_ids.h): its system user's, else 65100; as is. */
static unsigned misc_uid(void)
{
	struct passwd *pw = getpwnam("mpvmm-misc");

	if (geteuid() != 0)
		return geteuid();
	return pw ? pw->pw_uid : 65100;
}

/*
 * vmm/demo.c's report of the mpvmm-misc process it started: its serving child's uid,
 * CapEff, NoNewPrivs and Seccomp (from /proc/PID/status) and a namespace of its own
 * for each of user, mnt, net, pid, ipc, uts; or, where class processes start
 * unconfined (sanitizer builds: DEMO_SANDBOX=off), that it runs unconfined.
 */
static void assert_demo_sandbox(const char *out)
{
	static const char *const ns[] = {"user", "mnt", "net", "pid", "ipc", "uts"};
	g_autoptr(GRegex) re = NULL;
	g_autoptr(GMatchInfo) m = NULL;
	g_autofree char *uid = NULL;

	if (!strcmp(tu_bin("DEMO_SANDBOX"), "off")) {
		g_assert_nonnull(strstr(out, "the remote runs unconfined (no sandboxed child)"));
		return;
	}
	re = g_regex_new("^mpvmm demo: it serves from its child pid [0-9]+: uid ([0-9]+), CapEff "
			 "0000000000000000, NoNewPrivs 1, Seccomp 2 \\(2: filter\\)$",
			 G_REGEX_MULTILINE, 0, NULL);
	if (!g_regex_match(re, out, 0, &m))
		g_error("no confined-process line in the demo's output:\n%s", out);
	uid = g_match_info_fetch(m, 1);
	g_assert_cmpuint(g_ascii_strtoull(uid, NULL, 10), ==, misc_uid());
	for (unsigned i = 0; i < G_N_ELEMENTS(ns); i++) {
		/* "mpvmm demo:   mnt  namespace mnt:[4026532461] (mpvmm's: mnt:[4026531841])" */
		g_autofree char *pat =
			g_strdup_printf("^mpvmm demo:   %-4s namespace (%s:\\[[0-9]+\\]) "
					"\\(mpvmm's: (%s:\\[[0-9]+\\])\\)$",
					ns[i], ns[i], ns[i]);
		g_autoptr(GRegex) nre = g_regex_new(pat, G_REGEX_MULTILINE, 0, NULL);
		g_autoptr(GMatchInfo) nm = NULL;
		g_autofree char *theirs = NULL, *ours = NULL;

		if (!g_regex_match(nre, out, 0, &nm))
			g_error("no %s namespace line in the demo's output:\n%s", ns[i], out);
		theirs = g_match_info_fetch(nm, 1);
		ours = g_match_info_fetch(nm, 2);
		if (!strcmp(theirs, ours))
			g_error("the demo's mpvmm-misc shares mpvmm's %s namespace %s", ns[i],
				ours);
	}
}

/* `mpvmm` alone: the built-in guest against a remote it starts itself, confined. */
static void test_demo(void)
{
	char *argv[] = { (char *)tu_bin("MPVMM"), NULL };
	g_autofree char *out = NULL, *err = NULL;
	struct tu_proc p;
	int status;

	if (tu_skip_without_kvm())
		return;
	tu_spawn(argv, NULL, 0, true, &p);
	out = tu_slurp(p.out_fd);
	err = tu_slurp(p.err_fd);
	status = tu_wait(&p, 60);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
	g_assert_null(strstr(out, "not ok"));
	g_assert_nonnull(strstr(out, " passed, 0 failed"));
	g_assert_nonnull(strstr(out, "served by a separate process"));
	g_assert_nonnull(strstr(out, "mpvmm-misc (pid"));
	g_assert_nonnull(strstr(out, "which exited with status 0"));
	assert_demo_sandbox(out);
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/integration/pci-testdev/remote-fd", test_remote_fd);
	g_test_add_func("/integration/pci-testdev/remote-path", test_remote_path);
	g_test_add_func("/integration/pci-testdev/in-vmm", test_in_vmm);
	g_test_add_func("/integration/pci-testdev/doorbell-bypass", test_doorbell_bypass);
	g_test_add_func("/integration/pci-testdev/qemu", test_qemu);
	g_test_add_func("/integration/pci-testdev/wrong-id", test_wrong_id);
	g_test_add_func("/integration/pci-testdev/remote-killed", test_remote_killed);
	g_test_add_func("/integration/pci-testdev/demo", test_demo);
	return g_test_run();
}
