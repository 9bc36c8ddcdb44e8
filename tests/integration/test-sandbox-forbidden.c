// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The forbidden actions of the class processes' sandbox (issue 4, docs/security.md),
 * part of test-sandbox: each action of the test-only --x-test-forbidden
 * (-Dtest_hooks=true, remote/sandbox_hook.c) must kill the serving process with
 * SIGSYS at the attempt.  mpvmm-misc and mpvmm-storage attempt it while a real VM
 * (mpvmm on KVM) runs on and reports the device failed; mpvmm-net, which has no
 * device, on its control channel alone, without KVM.
 */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "tests/integration/test-sandbox.h"

/*
 * Make the serving process of class process rp attempt its armed action and check it
 * died at the attempt by SIGSYS: not before (the hook logs first) nor after (it would
 * warn "was not killed").  rp's output fds are consumed.
 */
static void expect_killed_at_attempt(struct tu_proc *rp, const char *who, const char *action)
{
	g_autofree char *rerr = NULL, *rout = NULL;
	int status;

	g_assert_cmpint(kill(tu_server_pid(rp->pid), SIGUSR1), ==, 0);
	status = tu_wait(rp, 20);
	rerr = tu_slurp(rp->err_fd);
	rout = tu_slurp(rp->out_fd);
	close(rp->out_fd);
	close(rp->err_fd);
	g_assert_nonnull(strstr(rout, "x-test-forbidden: attempting"));
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS)
		g_error("%s attempting %s: status 0x%x, not death by SIGSYS:\n%s", who, action,
			status, rerr);
	g_assert_null(strstr(rerr, "was not killed"));
}

/*
 * mpvmm running vargv with the device of class process rargv (fd 3 of each, one
 * socketpair): once the guest prints `ready`, the serving process attempts its armed
 * action and must die by SIGSYS at the attempt.  Returns mpvmm's status, its stdout
 * and stderr in *out and *err.
 */
static int run_killing_device(const char *const *rargv, const char *const *vargv, const char *ready,
			      const char *who, const char *action, char **out, char **err)
{
	struct tu_proc rp, vp;
	int sv[2];

	tu_socketpair(sv);
	start_confined(rargv, &sv[1], 1, &rp);
	close(sv[1]);
	tu_spawn((char **)vargv, &sv[0], 1, true, &vp);
	close(sv[0]);
	tu_wait_line(vp.out_fd, ready, 60);
	expect_killed_at_attempt(&rp, who, action);
	*out = tu_slurp(vp.out_fd);
	*err = tu_slurp(vp.err_fd);
	return end_proc(&vp, 120);
}

/*
 * pci-testdev.elf in mpvmm with its device in a sandboxed mpvmm-misc armed with
 * --x-test-forbidden=action: once the guest has passed its checks and polls the
 * device, the serving process attempts the action (SIGUSR1).  It must die by SIGSYS
 * (and so must the process the test started, which ends as its child did); the VM
 * must run on, see the device gone (all-ones) and exit normally, and mpvmm must say
 * the device failed.
 */
static void test_forbidden(gconstpointer data)
{
	const char *action = data;
	g_autofree char *elf = tu_guest("pci-testdev");
	g_autofree char *hook = g_strdup_printf("--x-test-forbidden=%s", action);
	g_autofree char *out = NULL, *err = NULL;
	const char *rargv[] = {tu_bin("MPVMM_MISC"), hook, "-device", "pci-testdev,id=t0,socket=3",
			       NULL};
	const char *vargv[] = {tu_bin("MPVMM"),
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
	int status;

	if (tu_skip_without_kvm())
		return;
	status = run_killing_device(rargv, vargv, "waiting for the device to go away", "mpvmm-misc",
				    action, &out, &err);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 1 || strstr(out, "not ok"))
		g_error("the VM did not survive the device's death (status 0x%x):\n%s\n%s", status,
			out, err);
	g_assert_nonnull(strstr(out, "device went away"));
	g_assert_nonnull(strstr(err, "t0: device backend failed"));
}

/*
 * The same with mpvmm-storage and virtio-blk.elf lost=1 (tests/guest/README.md): once
 * the guest's writes are flowing, the storage process attempts the action and must die
 * by SIGSYS; the guest must see its disk vanish (status 0xff) and exit with 0x7c
 * (mpvmm status 249), and mpvmm must say the device failed.
 */
static void test_forbidden_storage(gconstpointer data)
{
	const char *action = data;
	g_autofree char *elf = tu_guest("virtio-blk");
	g_autofree char *hook = g_strdup_printf("--x-test-forbidden=%s", action);
	g_autofree char *img = NULL, *bd = NULL, *out = NULL, *err = NULL;
	const char *rargv[] = {tu_bin("MPVMM_STORAGE"),
			       hook,
			       "-blockdev",
			       NULL,
			       "-device",
			       "virtio-blk,id=vd0,drive=d0,socket=3",
			       NULL};
	const char *vargv[] = {tu_bin("MPVMM"),
			       "-m",
			       "64M",
			       "-kernel",
			       elf,
			       "-serial",
			       "none",
			       "-debugcon",
			       "stdio",
			       "-device",
			       "pci-proxy-dev,id=vd0,socket=3",
			       "-append",
			       "mode=irq qd=32 lost=1 timeout=2",
			       NULL};
	int status, fd;

	if (tu_skip_without_kvm())
		return;
	fd = g_file_open_tmp("mpvmm-sandbox-XXXXXX.img", &img, NULL);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, 8 << 20), ==, 0);
	close(fd);
	bd = g_strdup_printf("driver=file,node-name=d0,filename=%s", img);
	rargv[3] = bd;
	status = run_killing_device(rargv, vargv, "# I/O running", "mpvmm-storage", action, &out,
				    &err);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 249 || strstr(out, "not ok"))
		g_error("the VM did not survive its disk's death (status 0x%x):\n%s\n%s", status,
			out, err);
	g_assert_nonnull(strstr(out, "device status reads 0xff"));
	g_assert_nonnull(strstr(err, "vd0: device backend failed"));
	g_unlink(img);
}

/*
 * mpvmm-net, whose allowlist is the common one (it adds nothing: remote/seccomp.c), on
 * its control channel alone (it has no device): no VM, so this runs without KVM.
 */
static void test_forbidden_net(gconstpointer data)
{
	const char *action = data;
	g_autofree char *hook = g_strdup_printf("--x-test-forbidden=%s", action);
	const char *argv[] = {tu_bin("MPVMM_NET"), hook, "--control=3", NULL};
	struct tu_proc p;
	int sv[2];

	tu_socketpair(sv);
	start_confined(argv, &sv[1], 1, &p);
	close(sv[1]);
	expect_killed_at_attempt(&p, "mpvmm-net", action);
	close(sv[0]);
}

/*
 * The control: a class process serving only its control channel makes the clock calls
 * glibc issues as real system calls where the host's clocksource has no vDSO support
 * (hpet, acpi_pm), and must live on (it once died by SIGSYS there, on gettimeofday).
 */
static void test_raw_clock(gconstpointer data)
{
	const char *env = data;
	g_autofree char *rout = NULL;
	const char *argv[] = {tu_bin(env), "--x-test-forbidden=raw-clock", "--control=3", NULL};
	struct tu_proc p;
	int sv[2], status;

	tu_socketpair(sv);
	start_confined(argv, &sv[1], 1, &p);
	close(sv[1]);
	g_assert_cmpint(kill(tu_server_pid(p.pid), SIGUSR1), ==, 0);
	tu_wait_line(p.err_fd, "x-test-forbidden: raw-clock was not killed: returned 0", 20);
	close(sv[0]); /* the control channel closes: the process exits by itself */
	status = tu_wait(&p, 20);
	rout = tu_slurp(p.out_fd);
	close(p.out_fd);
	close(p.err_fd);
	g_assert_nonnull(strstr(rout, "x-test-forbidden: attempting raw-clock"));
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
}

void sandbox_forbidden_add_tests(void)
{
	static const char *const actions[] = {"open",	   "socket",	    "execve", "ptrace",
					      "mmap-exec", "mprotect-exec", "fork",   "ioctl"};
	static const struct {
		const char *prefix;
		GTestDataFunc func;
	} classes[] = {
		{"/sandbox/forbidden", test_forbidden},
		{"/sandbox/forbidden-storage", test_forbidden_storage},
		{"/sandbox/forbidden-net", test_forbidden_net},
	};

	g_test_add_data_func("/sandbox/allowed/raw-clock/misc", "MPVMM_MISC", test_raw_clock);
	g_test_add_data_func("/sandbox/allowed/raw-clock/storage", "MPVMM_STORAGE", test_raw_clock);
	g_test_add_data_func("/sandbox/allowed/raw-clock/net", "MPVMM_NET", test_raw_clock);
	for (unsigned c = 0; c < G_N_ELEMENTS(classes); c++) {
		for (unsigned i = 0; i < G_N_ELEMENTS(actions); i++) {
			g_autofree char *path =
				g_strdup_printf("%s/%s", classes[c].prefix, actions[i]);

			g_test_add_data_func(path, actions[i], classes[c].func);
		}
	}
}
