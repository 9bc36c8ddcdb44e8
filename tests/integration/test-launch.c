// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tools/mpvmm-launch end to end (bad descriptions: test-launch-desc.c): SELinux
 * labels asked for on a host without SELinux are refused before anything starts; with
 * stand-in binaries (shell scripts) it gives each process its sockets and, run as root,
 * its own uid and gid, propagates mpvmm's status and stops a class process that does not
 * leave; a real mpvmm-misc started under its ids confines itself with the uid step
 * skipped; and on KVM a real VM (mpvmm, mpvmm-misc with two devices, mpvmm-storage with
 * an image) runs its guest.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/integration/test-launch.h"
#include "tests/lib/tu.h"

void launch_run_clear(struct launch_run *r)
{
	g_free(r->out);
	g_free(r->err);
}

/* Run @argv, collecting its output and exit status. */
static struct launch_run run_argv(char **argv)
{
	struct launch_run r;
	struct tu_proc p;
	int st;

	tu_spawn(argv, NULL, 0, true, &p);
	r.out = tu_slurp(p.out_fd);
	r.err = tu_slurp(p.err_fd);
	st = tu_wait(&p, 120);
	close(p.out_fd);
	close(p.err_fd);
	r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return r;
}

/* Run mpvmm-launch [@opt] on @json (written to a file in @dir). */
struct launch_run launch(const char *dir, const char *json, const char *opt)
{
	g_autofree char *path = g_build_filename(dir, "vm.json", NULL);
	char *argv[] = {(char *)tu_bin("MPVMM_LAUNCH"), (char *)(opt ? opt : path),
			opt ? path : NULL, NULL};

	g_assert_true(g_file_set_contents(path, json, -1, NULL));
	return run_argv(argv);
}

/*
 * Stand-in binaries: a shell script that logs its name, its ids and groups, which of fds
 * 3..6 are sockets, and its arguments to DIR/log; fake-vmm then exits 7, fake-hang
 * sleeps.  DIR and the log are open to all: the launcher, as root, runs class processes
 * under their own ids.
 */
static const char fake_script[] =
	"#!/bin/sh\n"
	"s=\"\"\n"
	"for fd in 3 4 5 6; do [ -S /proc/$$/fd/$fd ] && s=\"$s $fd\"; done\n"
	"echo \"$(basename \"$0\") pid $$ uid $(id -u) gid $(id -g) groups $(id -G) "
	"sockets:$s args: $*\" >>\"$(dirname \"$0\")/log\"\n"
	"case \"$(basename \"$0\")\" in\n"
	"fake-vmm) exit 7 ;;\n"
	"fake-hang) exec sleep 100 ;;\n"
	"esac\n";

static char *fake_dir(void)
{
	char *dir = g_dir_make_tmp("mpvmm-launch-XXXXXX", NULL);
	const char *names[] = {"fake-vmm", "fake-misc", "fake-storage", "fake-hang"};
	g_autofree char *log = g_build_filename(dir, "log", NULL);

	g_assert_nonnull(dir);
	g_assert_cmpint(chmod(dir, 0755), ==, 0);
	g_assert_true(g_file_set_contents(log, "", 0, NULL));
	g_assert_cmpint(chmod(log, 0666), ==, 0);
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		g_autofree char *p = g_build_filename(dir, names[i], NULL);

		g_assert_true(g_file_set_contents(p, fake_script, -1, NULL));
		g_assert_cmpint(chmod(p, 0755), ==, 0);
	}
	return dir;
}

static void fake_dir_remove(char *dir)
{
	const char *names[] = {"fake-vmm", "fake-misc", "fake-storage", "fake-hang",
			       "log",	   "vm.json",	"d.img"};

	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		g_autofree char *p = g_build_filename(dir, names[i], NULL);

		unlink(p);
	}
	rmdir(dir);
	g_free(dir);
}

/* A description with the stand-ins: misc (2 devices), storage (@storage_bin, 1 device). */
static char *fake_desc(const char *dir, const char *storage_bin, const char *selinux)
{
	return g_strdup_printf(
		"{\"name\": \"fake\", \"vmm\": {\"binary\": \"%1$s/fake-vmm\", \"kernel\": "
		"\"k.elf\", \"memory\": \"64M\", \"smp\": 2, \"no-reboot\": true},"
		" \"processes\": [{\"class\": \"misc\", \"binary\": \"%1$s/fake-misc\", "
		"\"sandbox\": \"log\", \"devices\": [{\"type\": \"pci-testdev\", \"id\": \"t0\"}, "
		"{\"type\": \"virtio-rng\", \"id\": \"r0\"}]}, {\"class\": \"storage\", "
		"\"binary\": \"%1$s/%2$s\", \"blockdevs\": [{\"node-name\": \"d0\", \"filename\": "
		"\"%1$s/d.img\", \"read-only\": true}], \"devices\": [{\"type\": \"virtio-blk\", "
		"\"id\": \"v0\", \"drive\": \"d0\", \"num-queues\": 2}]}]%3$s}",
		dir, storage_bin, selinux);
}

static char *read_log(const char *dir)
{
	g_autofree char *p = g_build_filename(dir, "log", NULL);
	char *log = NULL;

	if (!g_file_get_contents(p, &log, NULL, NULL))
		return g_strdup("");
	return log;
}

/* Each process gets its own sockets as 3, 4, ...; mpvmm's status comes back. */
static void test_fake_run(void)
{
	char *dir = fake_dir();
	g_autofree char *json = fake_desc(dir, "fake-storage", ", \"selinux\": {\"label\": false}");
	g_autofree char *log = NULL;
	struct launch_run r = launch(dir, json, NULL);

	log = read_log(dir);
	g_test_message("log:\n%s\nstderr: %s", log, r.err);
	g_assert_cmpint(r.status, ==, 7);
	g_assert_nonnull(strstr(log, "fake-misc pid "));
	g_assert_nonnull(strstr(log, " sockets: 3 4 args: --sandbox=log -device pci-testdev,id=t0,"
				     "socket=3 -device virtio-rng,id=r0,socket=4\n"));
	g_assert_nonnull(strstr(log, " sockets: 3 args: -blockdev driver=file,node-name=d0,"));
	g_assert_nonnull(strstr(log, "/d.img,read-only=on -device virtio-blk,id=v0,socket=3,"
				     "drive=d0,num-queues=2\n"));
	g_assert_nonnull(strstr(log, "fake-vmm pid "));
	g_assert_nonnull(strstr(log, " sockets: 3 4 5 args: -m 64M -kernel k.elf -smp 2 "
				     "-no-reboot -device pci-proxy-dev,id=t0,socket=3 -device "
				     "pci-proxy-dev,id=r0,socket=4 -device pci-proxy-dev,id=v0,"
				     "socket=5\n"));
	launch_run_clear(&r);
	fake_dir_remove(dir);
}

/* --dry-run prints the same command lines and starts nothing. */
static void test_dry_run(void)
{
	char *dir = fake_dir();
	g_autofree char *json = fake_desc(dir, "fake-storage", "");
	g_autofree char *log = NULL;
	struct launch_run r = launch(dir, json, "--dry-run");

	log = read_log(dir);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_cmpstr(log, ==, "");
	g_assert_nonnull(strstr(r.out, "/fake-misc --sandbox=log -device pci-testdev,id=t0,"
				       "socket=3 -device virtio-rng,id=r0,socket=4\n"));
	g_assert_nonnull(strstr(r.out, "/fake-vmm -m 64M -kernel k.elf -smp 2 -no-reboot -device "
				       "pci-proxy-dev,id=t0,socket=3"));
	launch_run_clear(&r);
	fake_dir_remove(dir);
}

/* A class process that does not leave after mpvmm is stopped by the launcher. */
static void test_teardown(void)
{
	char *dir = fake_dir();
	g_autofree char *json = fake_desc(dir, "fake-hang", "");
	g_autofree char *log = NULL;
	gint64 start = g_get_monotonic_time();
	struct launch_run r = launch(dir, json, NULL);
	const char *p;
	int pid;

	log = read_log(dir);
	g_assert_cmpint(r.status, ==, 7);
	p = strstr(log, "fake-hang pid ");
	g_assert_nonnull(p);
	pid = atoi(p + strlen("fake-hang pid "));
	g_assert_cmpint(pid, >, 0);
	/* reaped by the launcher: gone (SIGTERM after the 3 s grace period) */
	g_assert_cmpint(kill(pid, 0), ==, -1);
	g_assert_cmpint(errno, ==, ESRCH);
	g_assert_cmpint(g_get_monotonic_time() - start, <, 30 * G_USEC_PER_SEC);
	launch_run_clear(&r);
	fake_dir_remove(dir);
}

/* Labels asked for without SELinux: refused before anything starts. */
static void test_selinux_off(void)
{
	char *dir;
	g_autofree char *json = NULL, *log = NULL;
	struct launch_run r;

	if (g_file_test("/sys/fs/selinux/enforce", G_FILE_TEST_EXISTS)) {
		g_test_skip("SELinux is enabled here; this tests a host without it");
		return;
	}
	dir = fake_dir();
	json = fake_desc(dir, "fake-storage", ", \"selinux\": {\"label\": true}");
	r = launch(dir, json, NULL);
	log = read_log(dir);
	g_assert_cmpint(r.status, ==, LAUNCH_START_FAILED);
	g_assert_nonnull(strstr(r.err, "mpvmm-launch: selinux: the description asks for SELinux "
				       "labels"));
	g_assert_nonnull(strstr(r.err, "SELinux is not enabled on this host"));
	g_assert_nonnull(strstr(r.err, "nothing was started"));
	g_assert_cmpstr(log, ==, ""); /* no stand-in ran */
	launch_run_clear(&r);
	fake_dir_remove(dir);
}

/* @s with every @from replaced by @to. */
static char *replace(const char *s, const char *from, const char *to)
{
	g_auto(GStrv) parts = g_strsplit(s, from, -1);

	return g_strjoinv(to, parts);
}

/* The line of @log that starts with @name (g_free). */
static char *log_line(const char *log, const char *name)
{
	const char *p = strstr(log, name);

	g_assert_nonnull(p);
	return g_strndup(p, strcspn(p, "\n"));
}

/* Run as root, the launcher starts each class process under its own ids, never as root. */
static void test_fake_ids(void)
{
	g_autofree char *json = NULL, *log = NULL, *misc = NULL, *storage = NULL, *vmm = NULL;
	g_autofree char *want = NULL, *name = g_strdup("mpvmm-misc");
	struct passwd *pw = getpwnam(name);
	struct group *gr = getgrnam(name);
	/* misc's default ids, as docs/security.md says: user/group mpvmm-misc, else 65100 */
	unsigned uid = pw ? pw->pw_uid : 65100, gid = gr ? gr->gr_gid : uid;
	struct launch_run r;
	char *dir, *tmp;

	if (geteuid() != 0) {
		g_test_skip("the launcher switches ids only when run as root");
		return;
	}
	dir = fake_dir();
	tmp = fake_desc(dir, "fake-storage", ", \"selinux\": {\"label\": false}");
	json = replace(tmp, "{\"class\": \"storage\", ",
		       "{\"class\": \"storage\", \"uid\": 4321, \"gid\": 4322, ");
	g_free(tmp);
	r = launch(dir, json, NULL);
	log = read_log(dir);
	g_test_message("log:\n%s\nstderr: %s", log, r.err);
	g_assert_cmpint(r.status, ==, 7);
	misc = log_line(log, "fake-misc pid ");
	storage = log_line(log, "fake-storage pid ");
	vmm = log_line(log, "fake-vmm pid ");
	/* no supplementary groups: id -G is the gid alone */
	want = g_strdup_printf(" uid %u gid %u groups %u sockets: 3 4 args: --sandbox=log ", uid,
			       gid, gid);
	g_assert_nonnull(strstr(misc, want));
	g_assert_nonnull(strstr(storage, " uid 4321 gid 4322 groups 4322 sockets: 3 args: "
					 "--uid=4321 --gid=4322 -blockdev "));
	g_assert_nonnull(strstr(vmm, " uid 0 gid 0 ")); /* mpvmm keeps the launcher's */
	launch_run_clear(&r);
	fake_dir_remove(dir);
}

/* Not run as root, "uid"/"gid" other than its own are refused before anything starts. */
static void test_fake_ids_not_root(void)
{
	static const char *const cases[][2] = {
		{"\"uid\": 4321", "processes[1]: \"uid\" 4321: mpvmm-launch runs as uid "},
		{"\"gid\": 4322", "processes[1]: \"gid\" 4322: mpvmm-launch runs as uid "},
	};
	char *dir = fake_dir();
	g_autofree char *path = g_build_filename(dir, "vm.json", NULL);
	g_autofree char *desc = fake_desc(dir, "fake-storage", "");
	g_autofree char *setpriv = g_find_program_in_path("setpriv");
	/* as root, the launcher itself runs as nobody */
	char *argv[] = {setpriv,
			"--reuid=65534",
			"--regid=65534",
			"--clear-groups",
			(char *)tu_bin("MPVMM_LAUNCH"),
			path,
			NULL};

	g_assert_true(setpriv || geteuid() != 0); /* util-linux */
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *member =
			g_strdup_printf("{\"class\": \"storage\", %s, ", cases[i][0]);
		g_autofree char *json = replace(desc, "{\"class\": \"storage\", ", member);
		g_autofree char *log = NULL;
		struct launch_run r;

		g_assert_true(g_file_set_contents(path, json, -1, NULL));
		g_assert_cmpint(chmod(path, 0644), ==, 0);
		r = run_argv(geteuid() == 0 ? argv : argv + 4);
		log = read_log(dir);
		g_test_message("stderr: %s", r.err);
		g_assert_cmpint(r.status, ==, LAUNCH_START_FAILED);
		g_assert_nonnull(strstr(r.err, cases[i][1]));
		g_assert_nonnull(strstr(r.err, "not root, and cannot start a process under other "
					       "ids; run it as root or remove"));
		g_assert_cmpstr(log, ==, ""); /* nothing ran */
		launch_run_clear(&r);
	}
	fake_dir_remove(dir);
}

/*
 * A real mpvmm-misc started by the launcher (root) under uid 4321: its sandbox reports
 * those ids with the uid step skipped, as there is nothing left to do, and every other
 * layer applied (what it needs under SELinux, where it may not switch ids itself).
 */
static void test_real_ids(void)
{
	g_autofree char *json = NULL;
	struct launch_run r;
	const char *state;
	char *dir;

	if (geteuid() != 0) {
		g_test_skip("the launcher switches ids only when run as root");
		return;
	}
	dir = fake_dir();
	json = g_strdup_printf("{\"vmm\": {\"binary\": \"%s/fake-vmm\", \"kernel\": \"k.elf\"}, "
			       "\"processes\": [{\"class\": \"misc\", \"binary\": \"%s\", "
			       "\"uid\": 4321, \"gid\": 4322, \"devices\": [{\"type\": "
			       "\"pci-testdev\", \"id\": \"t0\"}]}]}",
			       dir, tu_bin("MPVMM_MISC"));
	g_setenv("G_MESSAGES_DEBUG", "remote", TRUE); /* the state line, inherited */
	r = launch(dir, json, NULL);
	g_unsetenv("G_MESSAGES_DEBUG");
	g_test_message("stdout: %s\nstderr: %s", r.out, r.err);
	g_assert_cmpint(r.status, ==, 7);
	/* GLib prints info lines on stdout */
	state = strstr(r.out, "sandbox: {\"class\":\"misc\",");
	g_assert_nonnull(state);
	g_assert_nonnull(strstr(state, "\"uid\":4321,\"gid\":4322,"));
	if (strstr(state, "\"mode\":\"off\"")) {
		/* sanitizer builds start unconfined (docs/security.md) */
		g_assert_nonnull(strstr(state, "\"uid-step\":\"off\""));
	} else {
		g_assert_nonnull(strstr(state,
					"\"uid-step\":\"skipped: not started as root\","
					"\"namespaces\":[\"user\",\"mnt\",\"net\",\"pid\","
					"\"ipc\",\"uts\"],\"root\":\"empty read-only tmpfs\""));
		g_assert_nonnull(strstr(state, "\"caps-effective\":0,\"caps-bounding\":0,"
					       "\"no-new-privs\":true,\"seccomp\":\"filter, "
					       "kill-process\""));
	}
	launch_run_clear(&r);
	fake_dir_remove(dir);
}

/* A binary that cannot be run: a clear error, and what was started is stopped. */
static void test_missing_binary(void)
{
	char *dir = fake_dir();
	g_autofree char *json = fake_desc(dir, "no-such-binary", "");
	g_autofree char *log = NULL;
	struct launch_run r = launch(dir, json, NULL);

	log = read_log(dir);
	g_assert_cmpint(r.status, ==, LAUNCH_START_FAILED);
	g_assert_nonnull(strstr(r.err, "/no-such-binary -blockdev"));
	g_assert_nonnull(strstr(r.err, "No such file or directory; check the \"binary\" member"));
	g_assert_null(strstr(log, "fake-vmm"));
	launch_run_clear(&r);
	fake_dir_remove(dir);
}

/* Real processes on KVM: a misc process with two devices and a storage process. */
static void run_real(const char *guest, const char *append, int want)
{
	g_autofree char *dir = g_dir_make_tmp("mpvmm-launch-XXXXXX", NULL);
	g_autofree char *img = g_build_filename(dir, "d.img", NULL);
	g_autofree char *elf = tu_guest(guest);
	g_autofree char *json = NULL, *path = g_build_filename(dir, "vm.json", NULL);
	g_autofree char *app =
		*append ? g_strdup_printf(", \"append\": \"%s\"", append) : g_strdup("");
	struct launch_run r;
	int fd = open(img, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, 8 << 20), ==, 0);
	close(fd);
	/* run as root, the launcher starts mpvmm-storage under its own uid (65101) */
	g_assert_cmpint(chmod(dir, 0755), ==, 0);
	g_assert_cmpint(chmod(img, 0666), ==, 0);
	json = g_strdup_printf(
		"{\"name\": \"real\", \"vmm\": {\"binary\": \"%s\", \"kernel\": \"%s\", "
		"\"memory\": "
		"\"64M\", \"serial\": \"none\", \"debugcon\": \"stdio\"%s}, "
		"\"processes\": [{\"class\": \"misc\", \"binary\": \"%s\", \"devices\": "
		"[{\"type\": "
		"\"pci-testdev\", \"id\": \"t0\"}, {\"type\": \"virtio-rng\", \"id\": \"r0\"}]}, "
		"{\"class\": \"storage\", \"binary\": \"%s\", \"blockdevs\": [{\"node-name\": "
		"\"d0\", \"filename\": \"%s\"}], \"devices\": [{\"type\": \"virtio-blk\", \"id\": "
		"\"v0\", \"drive\": \"d0\"}]}]}",
		tu_bin("MPVMM"), elf, app, tu_bin("MPVMM_MISC"), tu_bin("MPVMM_STORAGE"), img);
	r = launch(dir, json, NULL);
	if (r.status != want ||
	    (want == 1 && (strstr(r.out, "not ok") || !strstr(r.out, " 0 failed"))))
		g_error("%s: launcher status %d, expected %d\n%s\n%s", guest, r.status, want, r.out,
			r.err);
	launch_run_clear(&r);
	unlink(img);
	unlink(path);
	rmdir(dir);
}

static void test_real_vm(void)
{
	if (tu_skip_without_kvm())
		return;
	run_real("pci-testdev", "", 1);
	run_real("virtio-blk", "seed=3", 1);
}

/* A real class process that cannot start (a missing image): mpvmm cannot connect, 2. */
static void test_real_bad_image(void)
{
	g_autofree char *dir = g_dir_make_tmp("mpvmm-launch-XXXXXX", NULL);
	g_autofree char *elf = tu_guest("pci-testdev");
	g_autofree char *path = g_build_filename(dir, "vm.json", NULL);
	g_autofree char *json = g_strdup_printf(
		"{\"vmm\": {\"binary\": \"%s\", \"kernel\": \"%s\", \"memory\": \"64M\"}, "
		"\"processes\": [{\"class\": \"storage\", \"binary\": \"%s\", \"blockdevs\": "
		"[{\"node-name\": \"d0\", \"filename\": \"%s/none.img\"}], \"devices\": "
		"[{\"type\": \"virtio-blk\", \"id\": \"v0\", \"drive\": \"d0\"}]}]}",
		tu_bin("MPVMM"), elf, tu_bin("MPVMM_STORAGE"), dir);
	struct launch_run r;

	/* missing, not unreachable: mpvmm-storage runs under its own uid */
	g_assert_cmpint(chmod(dir, 0755), ==, 0);
	r = launch(dir, json, NULL);
	g_test_message("stderr: %s", r.err);
	g_assert_cmpint(r.status, ==, LAUNCH_START_FAILED);
	g_assert_nonnull(strstr(r.err, "none.img")); /* mpvmm-storage says which file */
	g_assert_nonnull(strstr(r.err, "No such file or directory"));
	launch_run_clear(&r);
	unlink(path);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	launch_desc_tests_add();
	g_test_add_func("/launch/selinux-off", test_selinux_off);
	g_test_add_func("/launch/fake/run", test_fake_run);
	g_test_add_func("/launch/fake/dry-run", test_dry_run);
	g_test_add_func("/launch/fake/teardown", test_teardown);
	g_test_add_func("/launch/fake/missing-binary", test_missing_binary);
	g_test_add_func("/launch/fake/ids", test_fake_ids);
	g_test_add_func("/launch/fake/ids-not-root", test_fake_ids_not_root);
	g_test_add_func("/launch/real/ids", test_real_ids);
	g_test_add_func("/launch/real/bad-image", test_real_bad_image);
	g_test_add_func("/launch/real/vm", test_real_vm);
	return g_test_run();
}
