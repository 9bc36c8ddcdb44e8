// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Integration tests of the class processes' sandbox (issue 4, docs/security.md), on
 * real processes: the serving process of each class (pid 1 of its pid namespace, the
 * child of the process started) shows its uid/gid, no capabilities, NO_NEW_PRIVS and
 * seccomp filter mode in /proc/PID/status and namespaces of its own in /proc/PID/ns;
 * each forbidden action (the test-only --x-test-forbidden, -Dtest_hooks=true) kills
 * it with SIGSYS while a real VM (mpvmm on KVM, tests/guest/pci-testdev.elf) keeps
 * running and reports the device failed (storage: virtio-blk.elf lost=1, which sees its
 * disk vanish); --sandbox=log does not kill; bad options are
 * refused with a clear message.  The guest suites (tests/integration/test-storage.c)
 * prove normal device work with the sandbox on, its default.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "tests/lib/tu.h"

#define STATE_LINE "sandbox: {"

/* One line of /proc/PID/status, e.g. "Seccomp:\t2" for field "Seccomp" (g_free). */
static char *status_field(pid_t pid, const char *field)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/status", pid);
	g_autofree char *text = NULL;
	g_autofree char *key = g_strdup_printf("\n%s:", field);
	const char *p, *eol;

	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	p = strstr(text, key);
	g_assert_nonnull(p);
	p += strlen(key);
	while (*p == '\t' || *p == ' ')
		p++;
	eol = strchrnul(p, '\n');
	return g_strndup(p, eol - p);
}

static void assert_ns_own(pid_t pid)
{
	static const char *const ns[] = {"user", "mnt", "net", "pid", "ipc", "uts"};

	for (unsigned i = 0; i < G_N_ELEMENTS(ns); i++) {
		g_autofree char *theirs_path = g_strdup_printf("/proc/%d/ns/%s", pid, ns[i]);
		g_autofree char *ours_path = g_strdup_printf("/proc/self/ns/%s", ns[i]);
		g_autofree char *theirs = g_file_read_link(theirs_path, NULL);
		g_autofree char *ours = g_file_read_link(ours_path, NULL);

		g_assert_nonnull(theirs);
		g_assert_nonnull(ours);
		if (!strcmp(theirs, ours))
			g_error("pid %d shares the test's %s namespace (%s)", pid, ns[i], ours);
	}
}

static void assert_field(pid_t pid, const char *field, const char *want)
{
	g_autofree char *got = status_field(pid, field);

	if (strcmp(got, want) != 0)
		g_error("pid %d: %s is '%s', expected '%s'", pid, field, got, want);
}

/* The confinement /proc shows for a sandboxed process with ids uid/gid. */
static void assert_confined(pid_t pid, unsigned uid, unsigned gid)
{
	static const char *const zero[] = {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"};
	g_autofree char *want_uid = g_strdup_printf("%u\t%u\t%u\t%u", uid, uid, uid, uid);
	g_autofree char *want_gid = g_strdup_printf("%u\t%u\t%u\t%u", gid, gid, gid, gid);

	assert_field(pid, "Uid", want_uid);
	assert_field(pid, "Gid", want_gid);
	for (unsigned i = 0; i < G_N_ELEMENTS(zero); i++)
		assert_field(pid, zero[i], "0000000000000000");
	assert_field(pid, "NoNewPrivs", "1");
	assert_field(pid, "Seccomp", "2");
}

/*
 * Start a class process (argv) with fds as 3, 4, ...; return once it logged its
 * sandbox state (G_MESSAGES_DEBUG=remote is set in main()), i.e. is confined.  The
 * stdout pipe is not read after that: the process logs little more than a pipe holds.
 */
static void start_confined(const char *const *argv, const int *fds, unsigned nr, struct tu_proc *p)
{
	tu_spawn((char **)argv, fds, nr, true, p);
	tu_wait_line(p->out_fd, STATE_LINE, 20); /* GLib's info lines go to stdout */
}

static int end_proc(struct tu_proc *p, unsigned timeout_s)
{
	int status = tu_wait(p, timeout_s);

	close(p->out_fd);
	close(p->err_fd);
	return status;
}

/* Check the serving process and the reaper of a started class process, then end it. */
static void check_and_stop(struct tu_proc *p, unsigned uid, unsigned gid)
{
	pid_t server = tu_server_pid(p->pid);
	g_autofree char *nspid = NULL;
	int status;

	g_assert_cmpint(server, !=, p->pid);
	assert_confined(server, uid, gid);
	assert_ns_own(server);
	nspid = status_field(server, "NSpid"); /* "<pid here>\t1": init of its namespace */
	g_assert_true(g_str_has_suffix(nspid, "\t1"));
	assert_confined(p->pid, uid, gid); /* the reaper is confined too */
	kill(p->pid, SIGTERM);		   /* forwarded to the server */
	status = end_proc(p, 10);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
}

static void test_status_misc(void)
{
	const char *argv[] = {tu_bin("MPVMM_MISC"),	    "-device",
			      "pci-testdev,id=t0,socket=3", "-device",
			      "virtio-rng,id=r0,socket=4",  NULL};
	struct tu_proc p;
	int a[2], b[2], fds[2];

	tu_socketpair(a);
	tu_socketpair(b);
	fds[0] = a[1];
	fds[1] = b[1];
	start_confined(argv, fds, 2, &p);
	close(a[1]);
	close(b[1]);
	check_and_stop(&p, 65100, 65100);
	close(a[0]);
	close(b[0]);
}

/* mpvmm-net hosts no device yet: it runs on its control channel alone. */
static void test_status_net(void)
{
	const char *argv[] = {tu_bin("MPVMM_NET"), "--control=3", NULL};
	struct tu_proc p;
	int sv[2];

	tu_socketpair(sv);
	start_confined(argv, &sv[1], 1, &p);
	close(sv[1]);
	check_and_stop(&p, 65102, 65102);
	close(sv[0]);
}

static void test_status_storage(void)
{
	g_autofree char *img = NULL;
	int fd = g_file_open_tmp("mpvmm-sandbox-XXXXXX.img", &img, NULL);
	g_autofree char *bd = g_strdup_printf("driver=file,node-name=d0,filename=%s", img);
	const char *argv[] = {tu_bin("MPVMM_STORAGE"),
			      "--uid=4242",
			      "--gid=4343",
			      "-blockdev",
			      bd,
			      "-device",
			      "virtio-blk,id=vd0,drive=d0,socket=3",
			      NULL};
	struct tu_proc p;
	int sv[2];

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, 1 << 20), ==, 0);
	close(fd);
	tu_socketpair(sv);
	start_confined(argv, &sv[1], 1, &p);
	close(sv[1]);
	check_and_stop(&p, 4242, 4343);
	close(sv[0]);
	g_unlink(img);
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
	g_autofree char *out = NULL, *err = NULL, *rerr = NULL, *rout = NULL;
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
	struct tu_proc rp, vp;
	int sv[2], status;

	if (tu_skip_without_kvm())
		return;
	tu_socketpair(sv);
	start_confined(rargv, &sv[1], 1, &rp);
	close(sv[1]);
	tu_spawn((char **)vargv, &sv[0], 1, true, &vp);
	close(sv[0]);
	tu_wait_line(vp.out_fd, "waiting for the device to go away", 60);
	g_assert_cmpint(kill(tu_server_pid(rp.pid), SIGUSR1), ==, 0);
	status = tu_wait(&rp, 20);
	rerr = tu_slurp(rp.err_fd);
	rout = tu_slurp(rp.out_fd);
	close(rp.out_fd);
	close(rp.err_fd);
	/* It died at the attempt, not before (the hook logs first) nor after (it would warn). */
	g_assert_nonnull(strstr(rout, "x-test-forbidden: attempting"));
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS)
		g_error("mpvmm-misc attempting %s: status 0x%x, not death by SIGSYS:\n%s", action,
			status, rerr);
	g_assert_null(strstr(rerr, "was not killed"));
	out = tu_slurp(vp.out_fd);
	err = tu_slurp(vp.err_fd);
	status = end_proc(&vp, 120);
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
	g_autofree char *img = NULL, *bd = NULL, *out = NULL, *err = NULL, *rerr = NULL;
	g_autofree char *rout = NULL;
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
	struct tu_proc rp, vp;
	int sv[2], status, fd;

	if (tu_skip_without_kvm())
		return;
	fd = g_file_open_tmp("mpvmm-sandbox-XXXXXX.img", &img, NULL);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, 8 << 20), ==, 0);
	close(fd);
	bd = g_strdup_printf("driver=file,node-name=d0,filename=%s", img);
	rargv[3] = bd;
	tu_socketpair(sv);
	start_confined(rargv, &sv[1], 1, &rp);
	close(sv[1]);
	tu_spawn((char **)vargv, &sv[0], 1, true, &vp);
	close(sv[0]);
	tu_wait_line(vp.out_fd, "# I/O running", 60);
	g_assert_cmpint(kill(tu_server_pid(rp.pid), SIGUSR1), ==, 0);
	status = tu_wait(&rp, 20);
	rerr = tu_slurp(rp.err_fd);
	rout = tu_slurp(rp.out_fd);
	close(rp.out_fd);
	close(rp.err_fd);
	g_assert_nonnull(strstr(rout, "x-test-forbidden: attempting"));
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS)
		g_error("mpvmm-storage attempting %s: status 0x%x, not death by SIGSYS:\n%s",
			action, status, rerr);
	out = tu_slurp(vp.out_fd);
	err = tu_slurp(vp.err_fd);
	status = end_proc(&vp, 120);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 249 || strstr(out, "not ok"))
		g_error("the VM did not survive its disk's death (status 0x%x):\n%s\n%s", status,
			out, err);
	g_assert_nonnull(strstr(out, "device status reads 0xff"));
	g_assert_nonnull(strstr(err, "vd0: device backend failed"));
	g_unlink(img);
}

/* mpvmm-net, with its own allowlist, on its control channel alone (it has no device). */
static void test_forbidden_net(gconstpointer data)
{
	const char *action = data;
	g_autofree char *hook = g_strdup_printf("--x-test-forbidden=%s", action);
	g_autofree char *rerr = NULL, *rout = NULL;
	const char *argv[] = {tu_bin("MPVMM_NET"), hook, "--control=3", NULL};
	struct tu_proc p;
	int sv[2], status;

	tu_socketpair(sv);
	start_confined(argv, &sv[1], 1, &p);
	close(sv[1]);
	g_assert_cmpint(kill(tu_server_pid(p.pid), SIGUSR1), ==, 0);
	status = tu_wait(&p, 20);
	rerr = tu_slurp(p.err_fd);
	rout = tu_slurp(p.out_fd);
	close(p.out_fd);
	close(p.err_fd);
	close(sv[0]);
	g_assert_nonnull(strstr(rout, "x-test-forbidden: attempting"));
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS)
		g_error("mpvmm-net attempting %s: status 0x%x, not death by SIGSYS:\n%s", action,
			status, rerr);
}

/* --sandbox=log: every layer but a forbidden call is logged, not killed. */
static void test_log_mode(void)
{
	const char *argv[] = {tu_bin("MPVMM_MISC"),	    "--sandbox=log",
			      "--x-test-forbidden=socket",  "-device",
			      "pci-testdev,id=t0,socket=3", NULL};
	struct tu_proc p;
	pid_t server;
	int sv[2], status;

	tu_socketpair(sv);
	start_confined(argv, &sv[1], 1, &p);
	close(sv[1]);
	server = tu_server_pid(p.pid);
	assert_confined(server, 65100, 65100);
	g_assert_cmpint(kill(server, SIGUSR1), ==, 0);
	tu_wait_line(p.err_fd, "x-test-forbidden: socket was not killed", 20);
	close(sv[0]); /* its only channel gone, it exits cleanly */
	status = end_proc(&p, 10);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
}

/* --sandbox=off: none of it, and the state says so. */
static void test_off_mode(void)
{
	const char *argv[] = {tu_bin("MPVMM_MISC"), "--sandbox=off", "-device",
			      "pci-testdev,id=t0,socket=3", NULL};
	struct tu_proc p;
	int sv[2], status;

	tu_socketpair(sv);
	tu_spawn((char **)argv, &sv[1], 1, true, &p);
	close(sv[1]);
	tu_wait_line(p.out_fd, "\"mode\":\"off\"", 20);
	assert_field(p.pid, "Seccomp", "0");
	assert_field(p.pid, "NoNewPrivs", "0");
	close(sv[0]);
	status = end_proc(&p, 10);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
}

/*
 * Not started as root (setpriv to nobody): the uid step is skipped and said so, every
 * other layer applies; --uid then is an error.
 */
static void test_not_root(void)
{
	g_autofree char *setpriv = g_find_program_in_path("setpriv");
	const char *argv[] = {setpriv,
			      "--reuid=65534",
			      "--regid=65534",
			      "--clear-groups",
			      tu_bin("MPVMM_MISC"),
			      "-device",
			      "pci-testdev,id=t0,socket=3",
			      NULL};
	const char *bad[] = {setpriv,
			     "--reuid=65534",
			     "--regid=65534",
			     "--clear-groups",
			     tu_bin("MPVMM_MISC"),
			     "--uid=4242",
			     "-device",
			     "pci-testdev,id=t0,socket=3",
			     NULL};
	g_autofree char *err = NULL;
	struct tu_proc p;
	int sv[2], status;

	g_assert_nonnull(setpriv); /* util-linux, essential in Debian */
	tu_socketpair(sv);
	tu_spawn((char **)argv, &sv[1], 1, true, &p);
	tu_wait_line(p.out_fd, "\"uid-step\":\"skipped: not started as root\"", 20);
	close(sv[1]);
	check_and_stop(&p, 65534, 65534);
	close(sv[0]);
	tu_socketpair(sv);
	tu_spawn((char **)bad, &sv[1], 1, true, &p);
	close(sv[1]);
	err = tu_slurp(p.err_fd);
	status = end_proc(&p, 10);
	close(sv[0]);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 1);
	g_assert_nonnull(strstr(err, "sandbox uid/gid: --uid/--gid need root"));
}

/*
 * A layer that cannot be applied stops the start with its name and the fix: root of a
 * user namespace that maps only root (unshare -r) cannot switch to the class's uid.
 */
static void test_layer_error(void)
{
	g_autofree char *unshare = g_find_program_in_path("unshare");
	const char *argv[] = {
		unshare, "-U", "-r", tu_bin("MPVMM_MISC"), "-device", "pci-testdev,id=t0,socket=3",
		NULL};
	g_autofree char *err = NULL;
	struct tu_proc p;
	int sv[2], status;

	g_assert_nonnull(unshare);
	tu_socketpair(sv);
	tu_spawn((char **)argv, &sv[1], 1, true, &p);
	close(sv[1]);
	err = tu_slurp(p.err_fd);
	status = end_proc(&p, 10);
	close(sv[0]);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 1);
	g_assert_nonnull(strstr(err, "sandbox uid/gid: cannot switch to uid 65100 gid 65100"));
	g_assert_nonnull(strstr(err, "--sandbox=off to run unconfined"));
}

static void test_bad_options(void)
{
	static const struct {
		const char *arg, *msg;
	} cases[] = {
		{"--uid=0", "--uid=0: not a valid id"},
		{"--uid=abc", "--uid=abc: not a valid id"},
		{"--uid=-5", "--uid=-5: not a valid id"},
		{"--uid=4294967295", "--uid=4294967295: not a valid id"},
		{"--gid=99999999999", "--gid=99999999999: not a valid id"},
		{"--gid=", "--gid=: not a valid id"},
		{"--sandbox=maybe", "--sandbox=maybe: unknown mode"},
		{"--sandbox=", "--sandbox=: unknown mode"},
		{"--x-test-forbidden=reboot", "--x-test-forbidden=reboot: unknown action"},
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
		const char *argv[] = {tu_bin("MPVMM_MISC"), cases[i].arg, "-device",
				      "pci-testdev,id=t0,socket=3", NULL};
		g_autofree char *err = NULL;
		struct tu_proc p;
		int status;

		tu_spawn((char **)argv, NULL, 0, true, &p);
		err = tu_slurp(p.err_fd);
		status = end_proc(&p, 10);
		g_assert_true(WIFEXITED(status));
		g_assert_cmpint(WEXITSTATUS(status), ==, 1);
		if (!strstr(err, cases[i].msg))
			g_error("%s: expected '%s' in:\n%s", cases[i].arg, cases[i].msg, err);
	}
}

/*
 * socket=PATH sandboxed: served from the empty root through the listening socket it
 * bound before; at exit the file cannot be removed (the host's file system is out of
 * reach) and the next start removes the stale file and serves again.
 */
static void test_listen_path(void)
{
	g_autofree char *dir = g_dir_make_tmp("mpvmm-sandbox-XXXXXX", NULL);
	g_autofree char *sock = g_build_filename(dir, "t0.sock", NULL);
	g_autofree char *opt = g_strdup_printf("pci-testdev,id=t0,socket=%s", sock);
	const char *argv[] = {tu_bin("MPVMM_MISC"), "-device", opt, NULL};

	for (unsigned round = 0; round < 2; round++) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		struct tu_proc p;
		int fd, status;

		start_confined(argv, NULL, 0, &p);
		g_strlcpy(sa.sun_path, sock, sizeof(sa.sun_path));
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		g_assert_cmpint(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
		close(fd);
		kill(p.pid, SIGTERM);
		status = end_proc(&p, 10);
		g_assert_true(WIFEXITED(status));
		g_assert_cmpint(WEXITSTATUS(status), ==, 0);
		g_assert_true(g_file_test(sock, G_FILE_TEST_EXISTS));
	}
	g_unlink(sock);
	g_rmdir(dir);
}

int main(int argc, char **argv)
{
	static const char *const actions[] = {"open",	"socket",    "execve",
					      "ptrace", "mmap-exec", "fork"};

	signal(SIGPIPE, SIG_IGN);
	g_setenv("G_MESSAGES_DEBUG", "remote", TRUE);
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sandbox/status/misc", test_status_misc);
	g_test_add_func("/sandbox/status/storage", test_status_storage);
	g_test_add_func("/sandbox/status/net", test_status_net);
	g_test_add_func("/sandbox/mode/log", test_log_mode);
	g_test_add_func("/sandbox/mode/off", test_off_mode);
	g_test_add_func("/sandbox/bad-options", test_bad_options);
	g_test_add_func("/sandbox/not-root", test_not_root);
	g_test_add_func("/sandbox/layer-error", test_layer_error);
	g_test_add_func("/sandbox/listen-path", test_listen_path);
	for (unsigned i = 0; i < G_N_ELEMENTS(actions); i++) {
		g_autofree char *path = g_strdup_printf("/sandbox/forbidden/%s", actions[i]);

		g_test_add_data_func(path, actions[i], test_forbidden);
	}
	for (unsigned i = 0; i < G_N_ELEMENTS(actions); i++) {
		g_autofree char *storage =
			g_strdup_printf("/sandbox/forbidden-storage/%s", actions[i]);
		g_autofree char *net = g_strdup_printf("/sandbox/forbidden-net/%s", actions[i]);

		g_test_add_data_func(storage, actions[i], test_forbidden_storage);
		g_test_add_data_func(net, actions[i], test_forbidden_net);
	}
	return g_test_run();
}
