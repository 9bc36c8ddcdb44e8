// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Integration tests of the class processes' sandbox (issue 4, docs/security.md), on
 * real processes: the serving process of each class (pid 1 of its pid namespace, the
 * child of the process started) and its reaper show their uid/gid, no capabilities,
 * NO_NEW_PRIVS and seccomp filter mode in /proc/PID/status, namespaces of their own in
 * /proc/PID/ns, the rlimits remote/sandbox.c sets in /proc/PID/limits, and an empty
 * read-only tmpfs as their only mount and root (/proc/PID/mountinfo, /proc/PID/root);
 * --sandbox=log does not kill; bad options are refused with a clear message.  The
 * forbidden actions are in test-sandbox-forbidden.c.  The guest suites
 * (tests/integration/test-storage.c) prove normal device work with the sandbox on, its
 * default.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "tests/integration/test-sandbox.h"

/* remote/sandbox.c's SANDBOX_NOFILE and SANDBOX_NPROC: it only ever lowers a limit. */
#define WANT_NOFILE 1024
#define WANT_NPROC 16

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

/*
 * One limit of /proc/PID/limits, e.g. "Max open files": its soft and hard values both
 * `want` (a number: the sandbox sets soft = hard).
 */
static void assert_limit(const char *text, pid_t pid, const char *name, rlim_t want)
{
	g_autofree char *key = g_strdup_printf("\n%s ", name);
	g_autofree char *expect = g_strdup_printf("%llu", (unsigned long long)want);
	const char *p = strstr(text, key);
	char soft[32], hard[32];

	g_assert_nonnull(p);
	/* "Max open files            1024                 1024                 files" */
	g_assert_cmpint(sscanf(p + strlen(key), "%31s %31s", soft, hard), ==, 2);
	if (strcmp(soft, expect) != 0 || strcmp(hard, expect) != 0)
		g_error("pid %d: %s is %s (soft), %s (hard); expected %s", pid, name, soft, hard,
			expect);
}

/* Layer 3: NOFILE and NPROC down to the sandbox's values (or lower if ours were), CORE 0. */
static void assert_limits(pid_t pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/limits", pid);
	g_autofree char *text = NULL;
	struct rlimit nofile, nproc;

	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	g_assert_cmpint(getrlimit(RLIMIT_NOFILE, &nofile), ==, 0);
	g_assert_cmpint(getrlimit(RLIMIT_NPROC, &nproc), ==, 0);
	assert_limit(text, pid, "Max open files", MIN(nofile.rlim_max, WANT_NOFILE));
	assert_limit(text, pid, "Max processes", MIN(nproc.rlim_max, WANT_NPROC));
	assert_limit(text, pid, "Max core file size", 0);
}

/*
 * Layer 2's root: the process's mount namespace holds one mount, the empty tmpfs
 * ("mpvmm-root") read-only on /, and its root directory lists nothing.
 */
static void assert_empty_root(pid_t pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/mountinfo", pid);
	g_autofree char *root = g_strdup_printf("/proc/%d/root", pid);
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL, f = NULL;
	g_autoptr(GError) err = NULL;
	GDir *d;
	const char *sep;

	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	lines = g_strsplit(g_strchomp(text), "\n", -1);
	if (g_strv_length(lines) != 1)
		g_error("pid %d: %u mounts, expected only its empty root:\n%s", pid,
			g_strv_length(lines), text);
	/* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER" */
	sep = strstr(lines[0], " - ");
	g_assert_nonnull(sep);
	f = g_strsplit(lines[0], " ", 7);
	g_assert_cmpuint(g_strv_length(f), ==, 7);
	g_assert_cmpstr(f[4], ==, "/");
	g_assert_true(g_str_has_prefix(f[5], "ro,") || !strcmp(f[5], "ro"));
	g_assert_true(g_str_has_prefix(sep, " - tmpfs mpvmm-root ro,"));
	d = g_dir_open(root, 0, &err);
	g_assert_no_error(err);
	if (g_dir_read_name(d))
		g_error("pid %d: its root is not empty", pid);
	g_dir_close(d);
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
	assert_limits(pid);
	assert_empty_root(pid);
}

/* G_MESSAGES_DEBUG=remote is set in main(). */
void start_confined(const char *const *argv, const int *fds, unsigned nr, struct tu_proc *p)
{
	tu_spawn((char **)argv, fds, nr, true, p);
	tu_wait_line(p->out_fd, STATE_LINE, 20); /* GLib's info lines go to stdout */
}

int end_proc(struct tu_proc *p, unsigned timeout_s)
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
	sandbox_forbidden_add_tests();
	return g_test_run();
}
