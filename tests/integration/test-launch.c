// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tools/mpvmm-launch end to end: every kind of bad description is refused with an
 * error naming the member (wrong type, unknown member, missing member, unknown class,
 * duplicate id, a device in the wrong class's process, ...) and starts nothing; SELinux
 * labels asked for on a host without SELinux are refused before anything starts; with
 * stand-in binaries (shell scripts) it gives each process its sockets, propagates
 * mpvmm's status and stops a class process that does not leave; and on KVM a real VM
 * (mpvmm, mpvmm-misc with two devices, mpvmm-storage with an image) runs its guest.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/tu.h"

#define LAUNCH_START_FAILED 2

struct launch_run {
	int status; /* exit code, or 128 + signal */
	char *out;
	char *err;
};

static void launch_run_clear(struct launch_run *r)
{
	g_free(r->out);
	g_free(r->err);
}

/* Run mpvmm-launch [@opt] on @json (written to a file in @dir). */
static struct launch_run launch(const char *dir, const char *json, const char *opt)
{
	g_autofree char *path = g_build_filename(dir, "vm.json", NULL);
	char *argv[] = {(char *)tu_bin("MPVMM_LAUNCH"), (char *)(opt ? opt : path),
			opt ? path : NULL, NULL};
	struct launch_run r;
	struct tu_proc p;
	int st;

	g_assert_true(g_file_set_contents(path, json, -1, NULL));
	tu_spawn(argv, NULL, 0, true, &p);
	r.out = tu_slurp(p.out_fd);
	r.err = tu_slurp(p.err_fd);
	st = tu_wait(&p, 120);
	close(p.out_fd);
	close(p.err_fd);
	r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return r;
}

/* A bad description: exit 2, nothing on stdout, and stderr names @want. */
static void assert_refused(const char *json, const char *want)
{
	g_autofree char *dir = g_dir_make_tmp("mpvmm-launch-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "vm.json", NULL);
	struct launch_run r = launch(dir, json, NULL);

	g_test_message("%s -> %s", json, r.err);
	if (r.status != LAUNCH_START_FAILED || !strstr(r.err, want))
		g_error("description %s: status %d, stderr '%s'; expected 2 and '%s'", json,
			r.status, r.err, want);
	g_assert_cmpstr(r.out, ==, "");
	g_assert_true(g_str_has_prefix(r.err, "mpvmm-launch: "));
	launch_run_clear(&r);
	unlink(path);
	rmdir(dir);
}

#define VMM "\"vmm\": {\"kernel\": \"k.elf\"}"
#define MISC "{\"class\": \"misc\", \"devices\": [{\"type\": \"pci-testdev\", \"id\": \"t0\"}]}"
#define STORAGE_BD "\"blockdevs\": [{\"node-name\": \"d0\", \"filename\": \"d.img\"}]"

static void test_bad_json(void)
{
	assert_refused("{\"vmm\": ", "not valid JSON at byte");
	assert_refused("[]", "the description is array, expected an object");
	assert_refused("{" VMM ", \"processes\": [" MISC "]} x", "text after the description");
	assert_refused("{" VMM ", \"processes\": [" MISC "], \"foo\": 1}",
		       "unknown member \"foo\"; known members: name, vmm, processes, selinux");
	assert_refused("{\"name\": \"a b\", " VMM ", \"processes\": [" MISC "]}",
		       "\"name\" (\"a b\") is not a valid id");
}

static void test_bad_vmm(void)
{
	assert_refused("{\"processes\": [" MISC "]}", "vm.json: vmm: missing; it is required");
	assert_refused("{\"vmm\": [], \"processes\": [" MISC "]}",
		       "vmm: is array, expected object");
	assert_refused("{\"vmm\": {}, \"processes\": [" MISC "]}", "vmm.kernel: missing");
	assert_refused("{\"vmm\": {\"kernel\": 5}, \"processes\": [" MISC "]}",
		       "vmm.kernel: is int, expected string");
	assert_refused("{\"vmm\": {\"kernel\": \"\"}, \"processes\": [" MISC "]}",
		       "vmm: \"kernel\" is empty");
	assert_refused("{\"vmm\": {\"kernel\": \"k\", \"kernl\": \"k\"}, \"processes\": [" MISC
		       "]}",
		       "vmm: unknown member \"kernl\"");
	assert_refused("{\"vmm\": {\"kernel\": \"k\", \"smp\": 0}, \"processes\": [" MISC "]}",
		       "vmm: \"smp\" is 0, expected 1 to 255");
	assert_refused("{\"vmm\": {\"kernel\": \"k\", \"smp\": \"2\"}, \"processes\": [" MISC "]}",
		       "vmm.smp: is string, expected int");
	assert_refused("{\"vmm\": {\"kernel\": \"k\", \"no-reboot\": 1}, \"processes\": [" MISC
		       "]}",
		       "vmm.no-reboot: is int, expected boolean");
	assert_refused("{\"vmm\": {\"kernel\": \"k\", \"append\": null}, \"processes\": [" MISC
		       "]}",
		       "vmm.append: is null, expected string");
}

static void test_bad_process(void)
{
	assert_refused("{" VMM "}", "processes: missing; it is required");
	assert_refused("{" VMM ", \"processes\": {}}", "processes: is object, expected array");
	assert_refused("{" VMM ", \"processes\": []}", "processes: is empty");
	assert_refused("{" VMM ", \"processes\": [1]}", "processes[0]: is int, expected object");
	assert_refused("{" VMM ", \"processes\": [{\"devices\": []}]}",
		       "processes[0].class: missing");
	assert_refused("{" VMM ", \"processes\": [{\"class\": \"gpu\", \"devices\": []}]}",
		       "processes[0]: unknown class \"gpu\"; classes: misc, storage, net");
	assert_refused("{" VMM ", \"processes\": [{\"class\": 1, \"devices\": []}]}",
		       "processes[0].class: is int, expected string");
	assert_refused("{" VMM ", \"processes\": [" MISC ", {\"class\": \"misc\", \"devices\": "
		       "[{\"type\": \"virtio-rng\", \"id\": \"r0\"}]}]}",
		       "processes[1]: a second process of class \"misc\"");
	assert_refused("{" VMM ", \"processes\": [{\"class\": \"misc\", \"foo\": 1, "
		       "\"devices\": []}]}",
		       "processes[0]: unknown member \"foo\"");
	assert_refused("{" VMM ", \"processes\": [{\"class\": \"misc\", \"sandbox\": \"maybe\", "
		       "\"devices\": [{\"type\": \"pci-testdev\", \"id\": \"t0\"}]}]}",
		       "processes[0]: sandbox \"maybe\": use on, log or off");
	assert_refused("{" VMM ", \"processes\": [{\"class\": \"misc\"}]}",
		       "processes[0].devices: missing");
	assert_refused("{" VMM ", \"processes\": [{\"class\": \"misc\", \"devices\": []}]}",
		       "processes[0].devices: is empty");
	assert_refused("{" VMM ", \"processes\": [{\"class\": \"misc\", " STORAGE_BD ", "
		       "\"devices\": [{\"type\": \"pci-testdev\", \"id\": \"t0\"}]}]}",
		       "processes[0]: blockdevs: only a storage process has images");
}

static void test_bad_device(void)
{
	assert_refused("{" VMM ", \"processes\": [{\"class\": \"misc\", \"devices\": "
		       "[{\"type\": \"virtio-blk\", \"id\": \"v0\", \"drive\": \"d0\"}]}]}",
		       "processes[0].devices[0]: a virtio-blk device belongs to a storage process,"
		       " not to this misc one");
	assert_refused("{" VMM ", \"processes\": [{\"class\": \"storage\", \"devices\": "
		       "[{\"type\": \"virtio-rng\", \"id\": \"r0\"}]}]}",
		       "processes[0].devices[0]: a virtio-rng device belongs to a misc process");
	assert_refused("{" VMM ", \"processes\": [{\"class\": \"misc\", \"devices\": "
		       "[{\"type\": \"e1000\", \"id\": \"n0\"}]}]}",
		       "processes[0].devices[0]: unknown device type \"e1000\"");
	assert_refused("{" VMM ", \"processes\": [{\"class\": \"misc\", \"devices\": "
		       "[{\"type\": \"pci-testdev\"}]}]}",
		       "processes[0].devices[0].id: missing");
	assert_refused("{" VMM ", \"processes\": [{\"class\": \"misc\", \"devices\": "
		       "[{\"type\": \"pci-testdev\", \"id\": [\"t0\"]}]}]}",
		       "processes[0].devices[0].id: is array, expected string");
	assert_refused("{" VMM ", \"processes\": [{\"class\": \"misc\", \"devices\": "
		       "[{\"type\": \"pci-testdev\", \"id\": \"t/0\"}]}]}",
		       "\"id\" (\"t/0\") is not a valid id");
	assert_refused("{" VMM ", \"processes\": [{\"class\": \"misc\", \"devices\": "
		       "[{\"type\": \"pci-testdev\", \"id\": \"t0\", \"drive\": \"d0\"}]}]}",
		       "processes[0].devices[0]: unknown member \"drive\"");
	assert_refused("{" VMM ", \"processes\": [{\"class\": \"misc\", \"devices\": "
		       "[{\"type\": \"pci-testdev\", \"id\": \"t0\"}, "
		       "{\"type\": \"virtio-rng\", \"id\": \"t0\"}]}]}",
		       "processes[0].devices[1]: id \"t0\" is used by another device of this VM");
	/* ids are unique across the VM's processes, not only within one */
	assert_refused("{" VMM ", \"processes\": [" MISC ", {\"class\": \"storage\", " STORAGE_BD
		       ", \"devices\": [{\"type\": \"virtio-blk\", \"id\": \"t0\", "
		       "\"drive\": \"d0\"}]}]}",
		       "processes[1].devices[0]: id \"t0\" is used by another device of this VM");
}

/* Every member of a full description, given a value of the wrong type, names itself. */
static void test_wrong_types(void)
{
	/* a member's path (as errors name it, @PATH@ in the template), a wrong-typed value */
	static const char *const members[][2] = {
		{"name", "true"},
		{"vmm.binary", "5"},
		{"vmm.kernel", "5"},
		{"vmm.memory", "64"},
		{"vmm.append", "[]"},
		{"vmm.initrd", "{}"},
		{"vmm.machine", "false"},
		{"vmm.serial", "1.5"},
		{"vmm.debugcon", "0"},
		{"vmm.smp", "\"1\""},
		{"vmm.no-reboot", "\"true\""},
		{"processes[0].class", "2"},
		{"processes[0].binary", "2"},
		{"processes[0].sandbox", "true"},
		{"processes[0].devices", "{}"},
		{"processes[0].devices[0].type", "1"},
		{"processes[0].devices[0].id", "1"},
		{"processes[1].blockdevs", "\"d0\""},
		{"processes[1].blockdevs[0].node-name", "0"},
		{"processes[1].blockdevs[0].filename", "0"},
		{"processes[1].blockdevs[0].read-only", "0"},
		{"processes[1].devices[0].drive", "0"},
		{"processes[1].devices[0].num-queues", "\"2\""},
		{"selinux.label", "1"},
		{"selinux.categories", "5"},
		{"selinux.user", "5"},
		{"selinux.role", "5"},
	};
	/* the full description, each member written as @MEMBER@ */
	static const char tmpl[] =
		"{\"name\": @name@, \"vmm\": {\"binary\": @vmm.binary@, \"kernel\": "
		"@vmm.kernel@, \"memory\": @vmm.memory@, \"append\": @vmm.append@, \"initrd\": "
		"@vmm.initrd@, \"machine\": @vmm.machine@, \"serial\": @vmm.serial@, "
		"\"debugcon\": @vmm.debugcon@, \"smp\": @vmm.smp@, \"no-reboot\": "
		"@vmm.no-reboot@}, \"processes\": [{\"class\": @processes[0].class@, \"binary\": "
		"@processes[0].binary@, \"sandbox\": @processes[0].sandbox@, \"devices\": "
		"@processes[0].devices@}, {\"class\": \"storage\", \"blockdevs\": "
		"@processes[1].blockdevs@, \"devices\": [{\"type\": \"virtio-blk\", \"id\": "
		"\"v0\", \"drive\": @processes[1].devices[0].drive@, \"num-queues\": "
		"@processes[1].devices[0].num-queues@}]}], \"selinux\": {\"label\": "
		"@selinux.label@, \"categories\": @selinux.categories@, \"user\": "
		"@selinux.user@, \"role\": @selinux.role@}}";
	static const char *const good[][2] = {
		{"@name@", "\"vm\""},
		{"@vmm.binary@", "\"mpvmm\""},
		{"@vmm.kernel@", "\"k.elf\""},
		{"@vmm.memory@", "\"64M\""},
		{"@vmm.append@", "\"a\""},
		{"@vmm.initrd@", "\"m\""},
		{"@vmm.machine@", "\"pc\""},
		{"@vmm.serial@", "\"none\""},
		{"@vmm.debugcon@", "\"none\""},
		{"@vmm.smp@", "1"},
		{"@vmm.no-reboot@", "true"},
		{"@processes[0].class@", "\"misc\""},
		{"@processes[0].binary@", "\"mpvmm-misc\""},
		{"@processes[0].sandbox@", "\"on\""},
		{"@processes[0].devices@", "[{\"type\": @processes[0].devices[0].type@, \"id\": "
					   "@processes[0].devices[0].id@}]"},
		{"@processes[0].devices[0].type@", "\"pci-testdev\""},
		{"@processes[0].devices[0].id@", "\"t0\""},
		{"@processes[1].blockdevs@",
		 "[{\"node-name\": @processes[1].blockdevs[0].node-name@,"
		 " \"filename\": @processes[1].blockdevs[0].filename@, "
		 "\"read-only\": @processes[1].blockdevs[0].read-only@}]"},
		{"@processes[1].blockdevs[0].node-name@", "\"d0\""},
		{"@processes[1].blockdevs[0].filename@", "\"d.img\""},
		{"@processes[1].blockdevs[0].read-only@", "true"},
		{"@processes[1].devices[0].drive@", "\"d0\""},
		{"@processes[1].devices[0].num-queues@", "2"},
		{"@selinux.label@", "false"},
		{"@selinux.categories@", "\"auto\""},
		{"@selinux.user@", "\"system_u\""},
		{"@selinux.role@", "\"system_r\""},
	};
	g_autofree char *dir = g_dir_make_tmp("mpvmm-launch-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "vm.json", NULL);

	/* m == the number of members: every member good, which --dry-run accepts */
	for (size_t m = 0; m <= G_N_ELEMENTS(members); m++) {
		g_autofree char *json = g_strdup(tmpl), *want = NULL;
		g_autofree char *bad =
			m < G_N_ELEMENTS(members) ? g_strdup_printf("@%s@", members[m][0]) : NULL;
		struct launch_run r;

		/* containers come before their members, so each placeholder is there in turn */
		for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
			bool wrong = bad && !strcmp(good[i][0], bad);
			g_auto(GStrv) parts = g_strsplit(json, good[i][0], -1);

			g_free(json);
			json = g_strjoinv(wrong ? members[m][1] : good[i][1], parts);
		}
		g_assert_null(strchr(json, '@'));
		r = launch(dir, json, "--dry-run");
		if (!bad) {
			g_assert_cmpint(r.status, ==, 0);
		} else {
			want = g_strdup_printf(": %s: is ", members[m][0]);
			if (r.status != LAUNCH_START_FAILED || !strstr(r.err, want))
				g_error("%s: status %d, stderr '%s'; expected '%s'", json, r.status,
					r.err, want);
		}
		launch_run_clear(&r);
	}
	unlink(path);
	rmdir(dir);
}

/* A storage process with blockdevs @bd and devices @dev must be refused with @want. */
static void bad_storage(const char *bd, const char *dev, const char *want)
{
	g_autofree char *j = g_strdup_printf("{" VMM ", \"processes\": [{\"class\": \"storage\", "
					     "\"blockdevs\": [%s], \"devices\": [%s]}]}",
					     bd, dev);

	assert_refused(j, want);
}

#define BD0 "{\"node-name\": \"d0\", \"filename\": \"d.img\"}"
#define BLK0 "{\"type\": \"virtio-blk\", \"id\": \"v0\", \"drive\": \"d0\"}"

static void test_bad_storage(void)
{
	bad_storage(BD0, "{\"type\": \"virtio-blk\", \"id\": \"v0\", \"drive\": \"d9\"}",
		    "processes[0].devices[0]: drive \"d9\" is not a blockdev of this process");
	bad_storage(BD0, "{\"type\": \"virtio-blk\", \"id\": \"v0\"}",
		    "processes[0].devices[0].drive: missing");
	bad_storage(BD0 ", {\"node-name\": \"d1\", \"filename\": \"e.img\"}", BLK0,
		    "processes[0]: blockdev \"d1\" is not used by any device");
	bad_storage(BD0, BLK0 ", {\"type\": \"virtio-blk\", \"id\": \"v1\", \"drive\": \"d0\"}",
		    "processes[0].devices[1]: drive \"d0\" is used by another device");
	bad_storage("{\"node-name\": \"d0\", \"filename\": \"a,b.img\"}", BLK0,
		    "processes[0].blockdevs[0]: \"filename\" (\"a,b.img\") contains a comma");
	bad_storage("{\"node-name\": \"d0\", \"filename\": \"d.img\", \"read-only\": \"on\"}", BLK0,
		    "processes[0].blockdevs[0].read-only: is string, expected boolean");
	bad_storage("{\"node-name\": \"d0\", \"file\": \"d.img\"}", BLK0,
		    "processes[0].blockdevs[0]: unknown member \"file\"");
	bad_storage("{\"node-name\": \"d0\"}", BLK0, "processes[0].blockdevs[0].filename: missing");
	bad_storage(BD0 ", {\"node-name\": \"d0\", \"filename\": \"e.img\"}", BLK0,
		    "processes[0].blockdevs[1]: node-name \"d0\" is used twice");
	bad_storage(BD0,
		    "{\"type\": \"virtio-blk\", \"id\": \"v0\", \"drive\": \"d0\", "
		    "\"num-queues\": 65}",
		    "processes[0].devices[0]: \"num-queues\" is 65, "
		    "expected 1 to 64");
}

/* A misc VM with selinux member @sel must be refused with @want. */
static void bad_selinux(const char *sel, const char *want)
{
	g_autofree char *j = g_strdup_printf("{" VMM ", \"processes\": [" MISC "], "
					     "\"selinux\": %s}",
					     sel);

	assert_refused(j, want);
}

static void test_bad_selinux(void)
{
	bad_selinux("true", "selinux: is boolean, expected object");
	bad_selinux("{\"lable\": true}", "selinux: unknown member \"lable\"");
	bad_selinux("{\"label\": \"yes\"}", "selinux.label: is string, expected boolean");
	bad_selinux("{\"categories\": \"c5,c3\"}", "selinux: categories \"c5,c3\": use \"auto\"");
	bad_selinux("{\"categories\": \"c1,c1024\"}", "selinux: categories \"c1,c1024\"");
	bad_selinux("{\"categories\": \"c01,c2\"}", "selinux: categories \"c01,c2\"");
	bad_selinux("{\"user\": \"system_u:x\"}", "selinux: user \"system_u:x\" is not");
}

/*
 * Stand-in binaries: a shell script that logs its name, which of fds 3..6 are
 * sockets, and its arguments to DIR/log; fake-vmm then exits 7, fake-hang sleeps.
 */
static const char fake_script[] =
	"#!/bin/sh\n"
	"s=\"\"\n"
	"for fd in 3 4 5 6; do [ -S /proc/$$/fd/$fd ] && s=\"$s $fd\"; done\n"
	"echo \"$(basename \"$0\") pid $$ sockets:$s args: $*\" >>\"$(dirname \"$0\")/log\"\n"
	"case \"$(basename \"$0\")\" in\n"
	"fake-vmm) exit 7 ;;\n"
	"fake-hang) exec sleep 100 ;;\n"
	"esac\n";

static char *fake_dir(void)
{
	char *dir = g_dir_make_tmp("mpvmm-launch-XXXXXX", NULL);
	const char *names[] = {"fake-vmm", "fake-misc", "fake-storage", "fake-hang"};

	g_assert_nonnull(dir);
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
	struct launch_run r = launch(dir, json, NULL);

	g_test_message("stderr: %s", r.err);
	g_assert_cmpint(r.status, ==, LAUNCH_START_FAILED);
	g_assert_nonnull(strstr(r.err, "none.img")); /* mpvmm-storage says which file */
	launch_run_clear(&r);
	unlink(path);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/launch/bad/json", test_bad_json);
	g_test_add_func("/launch/bad/wrong-types", test_wrong_types);
	g_test_add_func("/launch/bad/vmm", test_bad_vmm);
	g_test_add_func("/launch/bad/process", test_bad_process);
	g_test_add_func("/launch/bad/device", test_bad_device);
	g_test_add_func("/launch/bad/storage", test_bad_storage);
	g_test_add_func("/launch/bad/selinux", test_bad_selinux);
	g_test_add_func("/launch/selinux-off", test_selinux_off);
	g_test_add_func("/launch/fake/run", test_fake_run);
	g_test_add_func("/launch/fake/dry-run", test_dry_run);
	g_test_add_func("/launch/fake/teardown", test_teardown);
	g_test_add_func("/launch/fake/missing-binary", test_missing_binary);
	g_test_add_func("/launch/real/bad-image", test_real_bad_image);
	g_test_add_func("/launch/real/vm", test_real_vm);
	return g_test_run();
}
