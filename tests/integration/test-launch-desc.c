// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Bad VM descriptions for mpvmm-launch: wrong types (every member), unknown members,
 * missing members, unknown classes and device types, duplicate ids, a device in the
 * wrong class's process, bad blockdevs, uids, gids and selinux members.  Each must be
 * refused with
 * exit status 2 and one line naming the member, with nothing started.
 */
#include <string.h>
#include <unistd.h>

#include "tests/integration/test-launch.h"
#include "tests/lib/tu.h"

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
		{"processes[0].uid", "\"4321\""},
		{"processes[0].gid", "true"},
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
		"@processes[0].binary@, \"sandbox\": @processes[0].sandbox@, \"uid\": "
		"@processes[0].uid@, \"gid\": @processes[0].gid@, \"devices\": "
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
		{"@processes[0].uid@", "4321"},
		{"@processes[0].gid@", "4322"},
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
		    "\"num-queues\": 9}",
		    "processes[0].devices[0]: \"num-queues\" is 9, "
		    "expected 1 to 8");
}

/* A misc process with the members @ids (", "uid": ...) must be refused with @want. */
static void bad_ids(const char *ids, const char *want)
{
	g_autofree char *j = g_strdup_printf("{" VMM ", \"processes\": [{\"class\": \"misc\"%s, "
					     "\"devices\": [{\"type\": \"pci-testdev\", \"id\": "
					     "\"t0\"}]}]}",
					     ids);

	assert_refused(j, want);
}

/* 0 is root, (uid_t)-1 means "unchanged" to setresuid(): neither is an id of its own. */
static void test_bad_ids(void)
{
	bad_ids(", \"uid\": 0", "processes[0]: \"uid\" is 0, expected 1 to 4294967294");
	bad_ids(", \"gid\": 0", "processes[0]: \"gid\" is 0, expected 1 to 4294967294");
	bad_ids(", \"uid\": -1", "processes[0]: \"uid\" is -1, expected 1 to 4294967294");
	bad_ids(", \"gid\": -65101", "processes[0]: \"gid\" is -65101, expected 1 to");
	bad_ids(", \"uid\": 4294967295",
		"processes[0]: \"uid\" is 4294967295, expected 1 to 4294967294");
	bad_ids(", \"gid\": 9223372036854775807", "processes[0]: \"gid\" is 9223372036854775807");
	/* beyond 64 bits: json-c saturates it, still refused */
	bad_ids(", \"uid\": 99999999999999999999", "processes[0]: \"uid\" is ");
	bad_ids(", \"uid\": 1.5", "processes[0].uid: is double, expected int");
	bad_ids(", \"gid\": \"65101\"", "processes[0].gid: is string, expected int");
	bad_ids(", \"uid\": null", "processes[0].uid: is null, expected int");
	bad_ids(", \"uid\": 65100, \"gid\": [65100]", "processes[0].gid: is array, expected int");
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

void launch_desc_tests_add(void)
{
	g_test_add_func("/launch/bad/json", test_bad_json);
	g_test_add_func("/launch/bad/wrong-types", test_wrong_types);
	g_test_add_func("/launch/bad/vmm", test_bad_vmm);
	g_test_add_func("/launch/bad/process", test_bad_process);
	g_test_add_func("/launch/bad/device", test_bad_device);
	g_test_add_func("/launch/bad/storage", test_bad_storage);
	g_test_add_func("/launch/bad/ids", test_bad_ids);
	g_test_add_func("/launch/bad/selinux", test_bad_selinux);
}
