// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Class processes mpvmm spawns itself (-object remote-process) and the devices it puts
 * in them (-device pci-proxy-dev,rid=...), with the real binaries, sandboxed as by
 * default: the existing guests with two devices in one process (pci-testdev.elf and
 * virtio-rng.elf with mpvmm-misc; virtio-blk.elf with two disks in one mpvmm-storage
 * and a host-side check of both images); query-remote-processes, object-add and
 * object-del on the VMM's monitor; a class process killed while the VM runs (the VM
 * survives and reports it); and every bad option with its message.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "tests/lib/tu.h"
#include "tests/unit/test-qmp-client.h"

#define STATUS_PASS 1 /* isa-debug-exit 0 */
#define VMM_EXIT_SETUP 2
#define IMG_SIZE (8u << 20)
#define SECTOR 512u
#define MARKER 0x76697274696f0000ull /* tests/guest/virtio-blk.c, blk_set_seed() */

/* "remote-process,id=ID,class=CLASS,binary=..." for the built class binary. */
static char *object(const char *id, const char *cls)
{
	const char *env = !strcmp(cls, "misc") ? "MPVMM_MISC" : "MPVMM_STORAGE";

	return g_strdup_printf("remote-process,id=%s,class=%s,binary=%s", id, cls, tu_bin(env));
}

/* mpvmm with `guest`, `append` and extra args (NULL-terminated); returns the status. */
static int run_vmm(const char *guest, const char *append, const char *const *extra, char **out,
		   char **err)
{
	g_autofree char *elf = tu_guest(guest);
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	const char *const base[] = { tu_bin("MPVMM"), "-m", "64M", "-kernel", elf, "-serial",
				     "none", "-debugcon", "stdio", "-append", append };
	struct tu_proc p;
	int status;

	for (size_t i = 0; i < G_N_ELEMENTS(base); i++)
		g_ptr_array_add(argv, (char *)base[i]);
	for (size_t i = 0; extra[i]; i++)
		g_ptr_array_add(argv, (char *)extra[i]);
	g_ptr_array_add(argv, NULL);
	tu_spawn((char **)argv->pdata, NULL, 0, true, &p);
	*out = tu_slurp(p.out_fd);
	*err = tu_slurp(p.err_fd);
	status = tu_wait(&p, 120);
	close(p.out_fd);
	close(p.err_fd);
	return status;
}

static void assert_passed(int status, const char *out, const char *err)
{
	g_assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) != STATUS_PASS)
		g_error("mpvmm exit status %d, expected %d; guest said:\n%s\nstderr:\n%s",
			WEXITSTATUS(status), STATUS_PASS, out, err);
	g_assert_null(strstr(out, "not ok"));
	g_assert_nonnull(strstr(out, " 0 failed"));
}

/* pci-testdev and virtio-rng in one mpvmm-misc: each guest finds its device there. */
static void test_misc_two_devices(void)
{
	g_autofree char *obj = object("misc0", "misc");
	const char *const extra[] = {
		"-object", obj,
		"-device", "pci-proxy-dev,id=t0,rid=misc0,remote-driver=pci-testdev",
		"-device", "pci-proxy-dev,id=rng0,rid=misc0,remote-driver=virtio-rng",
		NULL };
	char *out, *err;
	int status;

	if (tu_skip_without_kvm())
		return;
	status = run_vmm("pci-testdev", "", extra, &out, &err);
	assert_passed(status, out, err);
	g_assert_cmpuint(tu_count(out, "ok "), >=, 6);
	g_free(out);
	g_free(err);
	status = run_vmm("virtio-rng", "mode=irq", extra, &out, &err);
	assert_passed(status, out, err);
	g_free(out);
	g_free(err);
}

/* The guest's pattern (tests/guest/virtio-blk.c): word i of sector s for seed. */
static uint64_t pattern_word(uint64_t seed, uint64_t s, unsigned i)
{
	uint64_t z;

	if (i == 0)
		return s;
	if (i == 1)
		return seed ^ MARKER;
	z = i + seed * 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void pattern_sector(uint64_t seed, uint64_t s, uint8_t *buf)
{
	for (unsigned i = 0; i < SECTOR / 8; i++) {
		uint64_t w = pattern_word(seed, s, i);

		for (unsigned b = 0; b < 8; b++)
			buf[i * 8 + b] = (uint8_t)(w >> (8 * b));
	}
}

/* Sectors of the image at path that differ from seed's pattern. */
static unsigned image_bad_sectors(const char *path, uint64_t seed)
{
	uint8_t want[SECTOR], got[SECTOR];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned bad = 0;

	g_assert_cmpint(fd, >=, 0);
	for (uint64_t s = 0; s < IMG_SIZE / SECTOR; s++) {
		g_assert_cmpint(pread(fd, got, SECTOR, (off_t)(s * SECTOR)), ==, SECTOR);
		pattern_sector(seed, s, want);
		bad += memcmp(want, got, SECTOR) != 0;
	}
	close(fd);
	return bad;
}

static char *image_new(const char *dir, const char *name, bool fill, uint64_t seed)
{
	char *path = g_build_filename(dir, name, NULL);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	uint8_t buf[SECTOR];

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, IMG_SIZE), ==, 0);
	for (uint64_t s = 0; fill && s < IMG_SIZE / SECTOR; s++) {
		pattern_sector(seed, s, buf);
		g_assert_cmpint(pwrite(fd, buf, SECTOR, (off_t)(s * SECTOR)), ==, SECTOR);
	}
	close(fd);
	return path;
}

/*
 * Two disks in one mpvmm-storage: the guest writes and reads the first whole; the
 * second, read-only, keeps its content.  Both checked on the host.
 */
static void test_storage_two_disks(void)
{
	g_autofree char *dir = g_dir_make_tmp("mpvmm-rproc-XXXXXX", NULL);
	g_autofree char *d0 = image_new(dir, "d0.img", false, 0);
	g_autofree char *d1 = image_new(dir, "d1.img", true, 4242);
	g_autofree char *obj = object("st0", "storage");
	g_autofree char *bd0 = g_strdup_printf("driver=file,node-name=n0,filename=%s", d0);
	g_autofree char *bd1 = g_strdup_printf("driver=file,node-name=n1,filename=%s,"
					       "read-only=on", d1);
	const char *const extra[] = {
		"-object", obj, "-blockdev", bd0, "-blockdev", bd1,
		"-device", "pci-proxy-dev,id=vd0,rid=st0,remote-driver=virtio-blk,drive=n0,"
			   "num-queues=2",
		"-device", "pci-proxy-dev,id=vd1,rid=st0,remote-driver=virtio-blk,drive=n1",
		NULL };
	char *out, *err;
	int status;

	if (tu_skip_without_kvm())
		return;
	status = run_vmm("virtio-blk", "mode=irq qd=1,8 seed=77", extra, &out, &err);
	assert_passed(status, out, err);
	g_assert_nonnull(strstr(out, "every sector holds the pattern"));
	g_assert_cmpuint(image_bad_sectors(d0, 77), ==, 0);
	g_assert_cmpuint(image_bad_sectors(d1, 4242), ==, 0);
	g_free(out);
	g_free(err);
	g_unlink(d0);
	g_unlink(d1);
	g_rmdir(dir);
}

/* The entry of query-remote-processes for id (a new reference), or NULL. */
static json_object *rproc_entry(struct tq *q, const char *id)
{
	json_object *reply = tq_cmd(q, "{\"execute\": \"query-remote-processes\"}");
	json_object *list = tq_assert_return(reply), *found = NULL;

	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *p = json_object_array_get_idx(list, i);

		if (!strcmp(tq_str(p, "id"), id))
			found = json_object_get(p);
	}
	json_object_put(reply);
	return found;
}

static unsigned rproc_count(struct tq *q)
{
	json_object *reply = tq_cmd(q, "{\"execute\": \"query-remote-processes\"}");
	unsigned n = (unsigned)json_object_array_length(tq_assert_return(reply));

	json_object_put(reply);
	return n;
}

/* Wait until process id's health is `status` (10 s at most); returns its entry. */
static json_object *rproc_wait_health(struct tq *q, const char *id, const char *status)
{
	for (unsigned i = 0; i < 1000; i++) {
		json_object *p = rproc_entry(q, id);

		g_assert_nonnull(p);
		if (!strcmp(tq_str(p, "health.status"), status))
			return p;
		json_object_put(p);
		g_usleep(10000);
	}
	g_error("remote-process %s never became %s", id, status);
}

static void expect_qmp_ok(struct tq *q, const char *cmd)
{
	json_object *reply = tq_cmd(q, cmd);

	tq_assert_return(reply);
	json_object_put(reply);
}

static void expect_qmp_error(struct tq *q, const char *cmd, const char *needle)
{
	json_object *reply = tq_cmd(q, cmd);

	tq_assert_error(reply, "GenericError", NULL);
	if (!strstr(tq_str(reply, "error.desc"), needle))
		g_error("%s: '%s' lacks '%s'", cmd, tq_str(reply, "error.desc"), needle);
	json_object_put(reply);
}

/* The state of misc1 while it runs: one device, confined. */
static pid_t check_running(struct tq *q)
{
	json_object *p = rproc_entry(q, "misc1");
	pid_t pid;

	g_assert_nonnull(p);
	g_assert_cmpstr(tq_str(p, "class"), ==, "misc");
	g_assert_cmpstr(tq_str(p, "health.status"), ==, "running");
	g_assert_cmpuint(json_object_array_length(tq_get(p, "devices")), ==, 1);
	g_assert_cmpstr(json_object_get_string(json_object_array_get_idx(tq_get(p, "devices"), 0)),
			==, "rng1");
	/* the class binaries' default: on, off in sanitizer builds (remote/meson.build) */
	g_assert_cmpstr(tq_str(p, "sandbox.mode"), ==, tu_bin("RPROC_SANDBOX"));
	if (!strcmp(tu_bin("RPROC_SANDBOX"), "on")) {
		g_assert_cmpint(json_object_get_int(tq_get(p, "sandbox.caps-effective")), ==, 0);
		g_assert_true(json_object_get_boolean(tq_get(p, "sandbox.no-new-privs")));
	}
	pid = json_object_get_int(tq_get(p, "pid"));
	g_assert_cmpint(pid, >, 1);
	json_object_put(p);
	return pid;
}

/*
 * object-add and object-del of a process of our own while the VM runs.  object-add
 * takes no binary (main() puts the built mpvmm-misc first in $PATH for mpvmm to find).
 */
static void add_del_process(struct tq *q)
{
	const char *add = "{\"execute\": \"object-add\", \"arguments\": {\"qom-type\": "
			  "\"remote-process\", \"id\": \"misc2\", \"class\": \"misc\"}}";
	g_autofree char *bin = g_strdup_printf(
		"{\"execute\": \"object-add\", \"arguments\": {\"qom-type\": \"remote-process\", "
		"\"id\": \"m3\", \"class\": \"misc\", \"binary\": \"%s\"}}",
		tu_bin("MPVMM_MISC"));
	json_object *p;

	/* Refused by name before anything is spawned, even for the real class binary. */
	expect_qmp_error(q, bin, "Parameter 'binary' is not allowed in object-add");
	g_assert_null(rproc_entry(q, "m3"));
	expect_qmp_error(q,
			 "{\"execute\": \"object-add\", \"arguments\": {\"qom-type\": "
			 "\"remote-process\", \"id\": \"m3\", \"class\": \"misc\", \"uid\": 0}}",
			 "uid=0 is not a number from 1");
	expect_qmp_ok(q, add);
	p = rproc_entry(q, "misc2");
	g_assert_cmpstr(tq_str(p, "health.status"), ==, "running");
	g_assert_cmpuint(json_object_array_length(tq_get(p, "devices")), ==, 0);
	json_object_put(p);
	expect_qmp_error(q, add, "already exists");
	expect_qmp_error(q, "{\"execute\": \"object-add\", \"arguments\": {\"qom-type\": "
			    "\"remote-process\", \"id\": \"m3\", \"class\": \"gpu\"}}",
			 "unknown class 'gpu'");
	expect_qmp_error(q, "{\"execute\": \"object-add\", \"arguments\": {\"qom-type\": "
			    "\"remote-process\", \"id\": \"m3\", \"class\": \"misc\", \"uid\": []}}",
			 "Invalid parameter type for 'uid', expected: integer");
	expect_qmp_error(q, "{\"execute\": \"object-add\", \"arguments\": {\"qom-type\": "
			    "\"iothread\", \"id\": \"m3\"}}", "only objects of type");
	expect_qmp_error(q, "{\"execute\": \"object-del\", \"arguments\": {\"id\": \"misc0\"}}",
			 "still hosts 1 device(s), first 't0'");
	expect_qmp_ok(q, "{\"execute\": \"object-del\", \"arguments\": {\"id\": \"misc2\"}}");
	expect_qmp_error(q, "{\"execute\": \"object-del\", \"arguments\": {\"id\": \"misc2\"}}",
			 "object 'misc2' not found");
}

/*
 * Kill misc1 (hosting rng1) with SIGSYS while the guest waits on t0 in misc0: the VM
 * runs on, reports the death, lets object-del clear it; then misc0 dies too and the
 * guest sees its device gone.  The SIGSYS is sent with kill(), not a real seccomp
 * kill: this tests mpvmm's side of a process death.  That a forbidden call really
 * kills a class process by SIGSYS is test-sandbox-forbidden.c's job.
 */
static void test_killed(void)
{
	g_autofree char *dir = g_dir_make_tmp("mpvmm-rproc-XXXXXX", NULL);
	g_autofree char *sock = g_build_filename(dir, "qmp.sock", NULL);
	g_autofree char *qmp = g_strdup_printf("unix:%s,server=on,wait=off", sock);
	g_autofree char *elf = tu_guest("pci-testdev");
	g_autofree char *o0 = object("misc0", "misc"), *o1 = object("misc1", "misc");
	g_autofree char *out = NULL, *err = NULL, *want = NULL;
	char *argv[] = { (char *)tu_bin("MPVMM"), "-m", "64M", "-kernel", elf, "-serial", "none",
			 "-debugcon", "stdio", "-append", "wait-gone=1", "-qmp", qmp, "-object", o0,
			 "-object", o1, "-device",
			 "pci-proxy-dev,id=t0,rid=misc0,remote-driver=pci-testdev", "-device",
			 "pci-proxy-dev,id=rng1,rid=misc1,remote-driver=virtio-rng", NULL };
	struct tu_proc vmm;
	json_object *p, *reply;
	struct tq *q;
	pid_t pid0, pid1;
	int status;

	if (tu_skip_without_kvm())
		return;
	tu_spawn(argv, NULL, 0, true, &vmm);
	tu_wait_line(vmm.out_fd, "waiting for the device to go away", 60);
	q = tq_connect(sock, 20);
	json_object_put(tq_negotiate(q));
	g_assert_cmpuint(rproc_count(q), ==, 2);
	pid1 = check_running(q);
	p = rproc_entry(q, "misc0");
	pid0 = json_object_get_int(tq_get(p, "pid"));
	json_object_put(p);
	g_assert_cmpint(kill(pid1, SIGSYS), ==, 0);
	p = rproc_wait_health(q, "misc1", "killed");
	g_assert_cmpstr(tq_str(p, "health.signal"), ==, "SIGSYS");
	json_object_put(p);
	reply = tq_cmd(q, "{\"execute\": \"query-status\"}");
	g_assert_cmpstr(tq_str(reply, "return.status"), ==, "running");
	json_object_put(reply);
	expect_qmp_ok(q, "{\"execute\": \"object-del\", \"arguments\": {\"id\": \"misc1\"}}");
	g_assert_cmpuint(rproc_count(q), ==, 1);
	add_del_process(q);
	g_assert_cmpint(kill(pid0, SIGKILL), ==, 0);
	out = tu_slurp(vmm.out_fd);
	err = tu_slurp(vmm.err_fd);
	status = tu_wait(&vmm, 60);
	tq_close(q);
	assert_passed(status, out, err);
	want = g_strdup_printf("remote-process misc1 (pid %d) killed by SIGSYS; devices rng1 "
			       "failed", pid1);
	g_assert_cmpuint(tu_count(err, want), ==, 1);
	g_free(want);
	want = g_strdup_printf("remote-process misc0 (pid %d) killed by SIGKILL; devices t0 "
			       "failed", pid0);
	g_assert_cmpuint(tu_count(err, want), ==, 1);
	g_rmdir(dir);
}

/* Open fds of process pid. */
static unsigned count_fds(pid_t pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/fd", pid);
	GDir *d = g_dir_open(path, 0, NULL);
	unsigned n = 0;

	g_assert_nonnull(d);
	while (g_dir_read_name(d))
		n++;
	g_dir_close(d);
	return n;
}

/*
 * object-add and object-del 20 times on a paused VM: every spawn, control channel,
 * pidfd and reap is undone (mpvmm's fd count is back where it started; no child is
 * left: query-remote-processes is empty and the children were reaped).
 */
static void test_add_del_loop(void)
{
	g_autofree char *dir = g_dir_make_tmp("mpvmm-rproc-XXXXXX", NULL);
	g_autofree char *sock = g_build_filename(dir, "qmp.sock", NULL);
	g_autofree char *qmp = g_strdup_printf("unix:%s,server=on,wait=off", sock);
	g_autofree char *elf = tu_guest("pci-testdev");
	const char *add = "{\"execute\": \"object-add\", \"arguments\": {\"qom-type\": "
			  "\"remote-process\", \"id\": \"m\", \"class\": \"misc\"}}";
	char *argv[] = { (char *)tu_bin("MPVMM"), "-S", "-m", "64M", "-kernel", elf, "-serial",
			 "none", "-debugcon", "none", "-qmp", qmp, NULL };
	struct tu_proc vmm;
	unsigned before;
	struct tq *q;

	if (tu_skip_without_kvm())
		return;
	tu_spawn(argv, NULL, 0, false, &vmm);
	q = tq_connect(sock, 20);
	json_object_put(tq_negotiate(q));
	expect_qmp_ok(q, add); /* the first one warms up what stays (the watcher's buffers) */
	expect_qmp_ok(q, "{\"execute\": \"object-del\", \"arguments\": {\"id\": \"m\"}}");
	before = count_fds(vmm.pid);
	for (unsigned i = 0; i < 20; i++) {
		expect_qmp_ok(q, add);
		g_assert_cmpuint(rproc_count(q), ==, 1);
		expect_qmp_ok(q, "{\"execute\": \"object-del\", \"arguments\": {\"id\": \"m\"}}");
	}
	g_assert_cmpuint(rproc_count(q), ==, 0);
	g_assert_cmpuint(count_fds(vmm.pid), ==, before);
	expect_qmp_ok(q, "{\"execute\": \"quit\"}");
	tq_close(q);
	g_assert_cmpint(tu_wait(&vmm, 20), ==, 0);
	g_rmdir(dir);
}

/* mpvmm refuses the command line with status 2 and a message holding `needle`. */
static void expect_refused(const char *const *extra, const char *needle)
{
	g_autofree char *out = NULL, *err = NULL;
	int status = run_vmm("pci-testdev", "", extra, &out, &err);

	g_assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) != VMM_EXIT_SETUP || !strstr(err, needle))
		g_error("status %d, stderr '%s'; expected 2 and '%s'", WEXITSTATUS(status), err,
			needle);
	g_assert_null(strstr(out, "ok "));
}

#define REFUSED(needle, ...) expect_refused((const char *const[]){ __VA_ARGS__, NULL }, needle)

static void test_bad_options(void)
{
	g_autofree char *m = object("a", "misc"), *s = object("s", "storage");
	g_autofree char *tru = g_strdup("remote-process,id=a,class=misc,binary=/bin/true");

	REFUSED("unknown object type 'iothread'", "-object", "iothread,id=a");
	REFUSED("unknown class 'gpu'", "-object", "remote-process,id=a,class=gpu");
	REFUSED("missing id", "-object", "remote-process,class=misc");
	REFUSED("invalid id '9a'", "-object", "remote-process,id=9a,class=misc");
	REFUSED("missing class", "-object", "remote-process,id=a");
	REFUSED("'class' given twice", "-object", "remote-process,id=a,class=misc,class=net");
	REFUSED("unknown property 'colour'", "-object", "remote-process,id=a,class=misc,colour=1");
	REFUSED("uid=-1 is not a number", "-object", "remote-process,id=a,class=misc,uid=-1");
	REFUSED("gid=4294967295 is not a number", "-object",
		"remote-process,id=a,class=misc,gid=4294967295");
	/* 0 is root: refused here, not later by the class binary ("did not answer") */
	REFUSED("uid=0 is not a number from 1 to 4294967294", "-object",
		"remote-process,id=a,class=misc,uid=0");
	REFUSED("gid=0 is not a number from 1", "-object", "remote-process,id=a,class=misc,gid=0");
	REFUSED("sandbox=maybe", "-object", "remote-process,id=a,class=misc,sandbox=maybe");
	REFUSED("id 'a' is already used by another -object", "-object", m, "-object", m);
	REFUSED("rid=nope names no -object remote-process", "-object", m, "-device",
		"pci-proxy-dev,id=t0,rid=nope,remote-driver=pci-testdev");
	REFUSED("missing remote-driver", "-object", m, "-device", "pci-proxy-dev,id=t0,rid=a");
	REFUSED("socket= and rid= exclude each other", "-object", m, "-device",
		"pci-proxy-dev,id=t0,socket=/tmp/x,rid=a,remote-driver=pci-testdev");
	REFUSED("binary=/nonexistent is not an executable file", "-object",
		"remote-process,id=a,class=misc,binary=/nonexistent");
	REFUSED("did not answer on its control channel", "-object", tru);
	REFUSED("'nic' is not a valid device model name; this process hosts: pci-testdev, "
		"virtio-rng", "-object", m, "-device", "pci-proxy-dev,id=t0,rid=a,remote-driver=nic");
	REFUSED("missing drive", "-object", s, "-device",
		"pci-proxy-dev,id=b0,rid=s,remote-driver=virtio-blk");
	REFUSED("unknown property 'colour'", "-object", m, "-device",
		"pci-proxy-dev,id=t0,rid=a,remote-driver=pci-testdev,colour=red");
}

static void assert_eof(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	g_assert_cmpint(poll(&p, 1, 5000), ==, 1);
	g_assert_cmpint(recv(fd, &c, 1, MSG_DONTWAIT), ==, 0);
}

/*
 * mpvmm-misc --control=3 with a -device of its command line as well: the control
 * channel lists it, adds and removes another at run time, and its closing ends the
 * process with status 0.  No KVM needed.
 */
static void test_control_binary(void)
{
	char *argv[] = { (char *)tu_bin("MPVMM_MISC"), "--control=3", "-device",
			 "pci-testdev,id=t0,socket=4", NULL };
	int ctl[2], dev[2], dev2[2], fds[2];
	json_object *reply;
	struct tu_proc p;
	struct tq *q;

	tu_socketpair(ctl);
	tu_socketpair(dev);
	fds[0] = ctl[1];
	fds[1] = dev[1];
	tu_spawn(argv, fds, 2, false, &p);
	close(ctl[1]);
	close(dev[1]);
	q = tq_open_fd(ctl[0]);
	json_object_put(tq_negotiate(q));
	reply = tq_cmd(q, "{\"execute\": \"query-devices\"}");
	g_assert_cmpstr(json_object_to_json_string_ext(tq_assert_return(reply),
						       JSON_C_TO_STRING_PLAIN),
			==, "[{\"id\":\"t0\",\"type\":\"pci-testdev\",\"channel\":\"connected\"}]");
	json_object_put(reply);
	reply = tq_cmd(q, "{\"execute\": \"query-sandbox\"}");
	g_assert_cmpstr(tq_str(reply, "return.mode"), ==, tu_bin("RPROC_SANDBOX"));
	json_object_put(reply);
	tu_socketpair(dev2);
	tq_send_fds(q, "{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"t1\"}}",
		    &dev2[1], 1);
	close(dev2[1]);
	json_object_put(tq_reply(q));
	expect_qmp_ok(q, "{\"execute\": \"device_add\", \"arguments\": {\"driver\": "
			 "\"pci-testdev\", \"id\": \"t1\", \"socket\": \"t1\"}}");
	expect_qmp_error(q, "{\"execute\": \"device_add\", \"arguments\": {\"driver\": "
			    "\"virtio-blk\", \"id\": \"b0\", \"socket\": \"x\"}}",
			 "'virtio-blk' is not a valid device model name; this process hosts: "
			 "pci-testdev, virtio-rng");
	expect_qmp_ok(q, "{\"execute\": \"device_del\", \"arguments\": {\"id\": \"t1\"}}");
	assert_eof(dev2[0]); /* device_del closed its channel */
	expect_qmp_ok(q, "{\"execute\": \"device_del\", \"arguments\": {\"id\": \"t0\"}}");
	tq_close(q); /* the control channel closes: the process ends */
	g_assert_cmpint(tu_wait(&p, 10), ==, 0);
	close(dev[0]);
	close(dev2[0]);
}

/* The class binaries' own refusals of --control and -qmp. */
static void test_control_bad(void)
{
	const char *const cases[][3] = {
		{ "--control=2", NULL, "--control=2: not an fd number" },
		{ "--control=77", NULL, "--control=77: fd 77 is not an open file descriptor" },
		{ "--control=3", "-device", "pci-testdev,id=t0,socket=3" },
		{ "-qmp", "tcp:localhost:4444,server=on,wait=off", "only unix:PATH" },
		{ "-qmp", "unix:/tmp/x.sock", "add server=on,wait=off" },
	};
	const char *const want3 = "socket=3 is the control channel (--control=3)";

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *argv[6] = { (char *)tu_bin("MPVMM_MISC"), (char *)cases[i][0] };
		g_autofree char *out = NULL, *err = NULL;
		const char *want = i == 2 ? want3 : cases[i][2];
		struct tu_proc p;
		int sv[2], n = 2;

		if (cases[i][1])
			argv[n++] = (char *)cases[i][1];
		if (i == 2)
			argv[n++] = (char *)cases[i][2];
		tu_socketpair(sv);
		tu_spawn(argv, &sv[1], 1, true, &p);
		close(sv[1]);
		out = tu_slurp(p.out_fd);
		err = tu_slurp(p.err_fd);
		g_assert_cmpint(tu_wait(&p, 10), ==, 1 << 8);
		if (!strstr(err, want))
			g_error("%s %s: '%s' lacks '%s'", argv[1], argv[2], err, want);
		close(sv[0]);
		close(p.out_fd);
		close(p.err_fd);
	}
}

int main(int argc, char **argv)
{
	g_autofree char *dir = g_path_get_dirname(tu_bin("MPVMM_MISC"));
	g_autofree char *path = g_strdup_printf("%s:%s", dir, g_getenv("PATH") ?: "/usr/bin:/bin");

	/* object-add takes no binary=: mpvmm finds mpvmm-CLASS in $PATH (not beside it here). */
	g_setenv("PATH", path, TRUE);
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rproc/misc-two-devices", test_misc_two_devices);
	g_test_add_func("/rproc/storage-two-disks", test_storage_two_disks);
	g_test_add_func("/rproc/killed", test_killed);
	g_test_add_func("/rproc/add-del-loop", test_add_del_loop);
	g_test_add_func("/rproc/bad-options", test_bad_options);
	g_test_add_func("/rproc/control-binary", test_control_binary);
	g_test_add_func("/rproc/control-bad", test_control_bad);
	return g_test_run();
}
