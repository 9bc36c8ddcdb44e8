// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The virtio guest drivers (tests/guest/virtio-blk.elf, virtio-rng.elf) against
 * Debian's QEMU 7.2 and its own virtio-blk-pci and virtio-rng-pci, under KVM: this
 * proves the drivers follow the virtio 1.x spec rather than our devices.  After a
 * virtio-blk run, a host-side checker reads the raw image and confirms that every
 * sector holds exactly the pattern the guest wrote last.  The same ELFs against our
 * own devices (mpvmm-storage, mpvmm-misc) are tested in test-storage.c, except for the
 * fault modes, which are here for all three devices: reset=N (a device reset with
 * requests in flight, then the image check) under QEMU, in mpvmm with the device in
 * mpvmm-storage and with it in-VMM; and lost=1, where this test SIGKILLs mpvmm-storage
 * in the middle of the guest's I/O: mpvmm must survive, warn once, and exit with the
 * guest's "device lost" code.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/tu.h"

#define IMG_SIZE (8u << 20)
#define SECTOR 512u
#define WORDS (SECTOR / 8)
#define MARKER 0x76697274696f0000ull /* tests/guest/virtio-blk.c, blk_set_seed() */
#define STATUS_PASS 1		     /* isa-debug-exit code 0 */
#define STATUS_ABORT ((0x7e << 1) | 1)
#define STATUS_LOST ((0x7c << 1) | 1) /* virtio-blk.h, BLK_EXIT_LOST */

/* The guest's pattern, word @i of sector @sector for @seed (virtio-blk.c). */
static uint64_t pattern_word(uint64_t seed, uint64_t sector, unsigned i)
{
	uint64_t z;

	if (i == 0)
		return sector;
	if (i == 1)
		return seed ^ MARKER;
	z = i + seed * 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void pattern_sector(uint64_t seed, uint64_t sector, uint8_t *buf)
{
	for (unsigned i = 0; i < WORDS; i++) {
		uint64_t w = pattern_word(seed, sector, i);

		for (unsigned b = 0; b < 8; b++)
			buf[i * 8 + b] = (uint8_t)(w >> (8 * b)); /* little-endian guest */
	}
}

/*
 * The image checker: the number of sectors of @path that differ from the pattern of
 * @seed (the first bad one in *first), or -errno if the file cannot be read whole.
 */
static long image_check(const char *path, uint64_t seed, uint64_t *first)
{
	uint8_t want[SECTOR], got[SECTOR];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	long bad = 0;

	if (fd < 0)
		return -errno;
	for (uint64_t s = 0; s < IMG_SIZE / SECTOR; s++) {
		ssize_t n = pread(fd, got, SECTOR, (off_t)(s * SECTOR));

		if (n != SECTOR) {
			close(fd);
			return n < 0 ? -errno : -EIO;
		}
		pattern_sector(seed, s, want);
		if (memcmp(want, got, SECTOR) && !bad++)
			*first = s;
	}
	close(fd);
	return bad;
}

static void image_fill(const char *path, uint64_t seed)
{
	uint8_t buf[SECTOR];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	g_assert_cmpint(fd, >=, 0);
	for (uint64_t s = 0; s < IMG_SIZE / SECTOR; s++) {
		pattern_sector(seed, s, buf);
		g_assert_cmpint(pwrite(fd, buf, SECTOR, (off_t)(s * SECTOR)), ==, SECTOR);
	}
	close(fd);
}

static char *image_new(char **dir)
{
	char *path;
	int fd;

	*dir = g_dir_make_tmp("mpvmm-vblk-XXXXXX", NULL);
	g_assert_nonnull(*dir);
	path = g_build_filename(*dir, "disk.img", NULL);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, IMG_SIZE), ==, 0);
	close(fd);
	return path;
}

static void image_remove(char *dir, char *path)
{
	unlink(path);
	rmdir(dir);
	g_free(path);
	g_free(dir);
}

/* Boot @guest under QEMU -accel kvm with @append and @dev_args; returns the status. */
static int run_qemu(const char *guest, const char *append, const char *const *dev_args, char **out)
{
	g_autofree char *elf = tu_guest(guest);
	g_autofree char *qemu = g_find_program_in_path("qemu-system-x86_64");
	g_autofree char *err = NULL;
	GPtrArray *argv = g_ptr_array_new();
	const char *base[] = {
		"-accel",    "kvm",   "-M",	   "pc",
		"-m",	     "128",   "-kernel",   elf,
		"-append",   append,  "-device",   "isa-debug-exit,iobase=0xf4,iosize=4",
		"-display",  "none",  "-serial",   "none",
		"-debugcon", "stdio", "-no-reboot"};
	struct tu_proc p;
	int status;

	if (!qemu)
		g_error("qemu-system-x86_64 is not installed (tools/deps.sh installs it)");
	g_ptr_array_add(argv, qemu);
	for (size_t i = 0; i < G_N_ELEMENTS(base); i++)
		g_ptr_array_add(argv, (char *)base[i]);
	for (size_t i = 0; dev_args[i]; i++)
		g_ptr_array_add(argv, (char *)dev_args[i]);
	g_ptr_array_add(argv, NULL);
	tu_spawn((char **)argv->pdata, NULL, 0, true, &p);
	*out = tu_slurp(p.out_fd);
	err = tu_slurp(p.err_fd);
	status = tu_wait(&p, 240);
	close(p.out_fd);
	close(p.err_fd);
	g_ptr_array_free(argv, TRUE);
	return status;
}

static void assert_status(int status, int want, const char *tap)
{
	g_assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) != want)
		g_error("QEMU exit status %d, expected %d; guest said:\n%s", WEXITSTATUS(status),
			want, tap);
	if (want == STATUS_PASS) {
		g_assert_null(strstr(tap, "not ok"));
		g_assert_nonnull(strstr(tap, " 0 failed"));
	}
}

static int run_blk(const char *img, const char *append, bool ro, char **out)
{
	g_autofree char *drive = g_strdup_printf("file=%s,if=none,format=raw,id=d0%s", img,
						 ro ? ",readonly=on" : "");
	const char *dev[] = {"-drive", drive, "-device",
			     "virtio-blk-pci,drive=d0,disable-legacy=on", NULL};

	return run_qemu("virtio-blk", append, dev, out);
}

/* Write/read the whole disk at three depths, then check every sector on the host. */
static void blk_roundtrip(const char *mode, uint64_t seed)
{
	g_autofree char *append = g_strdup_printf("mode=%s qd=1,8,32 seed=%" PRIu64, mode, seed);
	g_autofree char *out = NULL;
	char *dir, *img = image_new(&dir);
	uint64_t first = 0;
	long bad;
	int status = run_blk(img, append, false, &out);

	assert_status(status, STATUS_PASS, out);
	g_assert_nonnull(strstr(out, "read qd=32 bs=8: every sector holds the pattern"));
	g_assert_nonnull(strstr(out, "FLUSH: OK"));
	bad = image_check(img, seed, &first);
	if (bad)
		g_error("image check: %ld sectors differ from seed %" PRIu64 ", first %" PRIu64,
			bad, seed, first);
	image_remove(dir, img);
}

static void test_blk_irq(void)
{
	if (!tu_skip_without_kvm())
		blk_roundtrip("irq", 0x5eed);
}

static void test_blk_poll(void)
{
	if (!tu_skip_without_kvm())
		blk_roundtrip("poll", 77);
}

/* readonly=on: reads see the host's pattern, a write gets IOERR, the image is intact. */
static void test_blk_readonly(void)
{
	g_autofree char *out = NULL;
	char *dir, *img;
	uint64_t first = 0;
	int status;

	if (tu_skip_without_kvm())
		return;
	img = image_new(&dir);
	image_fill(img, 4242);
	status = run_blk(img, "mode=irq ro=1 qd=8 seed=4242", true, &out);
	assert_status(status, STATUS_PASS, out);
	g_assert_nonnull(strstr(out, "write to the read-only disk: IOERR"));
	g_assert_cmpint(image_check(img, 4242, &first), ==, 0);
	image_remove(dir, img);
}

/* bench=N: the BENCH lines the benchmarks time, with every request answered OK. */
static void test_blk_bench(void)
{
	g_autofree char *out = NULL;
	char *dir, *img;
	int status;

	if (tu_skip_without_kvm())
		return;
	img = image_new(&dir);
	status = run_blk(img, "bench=200 qd=1,32 mode=irq", false, &out);
	assert_status(status, STATUS_PASS, out);
	g_assert_cmpuint(tu_count(out, "BENCH start"), ==, 4);
	g_assert_nonnull(strstr(out, "BENCH end rw=randread qd=1 n=200 cycles="));
	g_assert_nonnull(strstr(out, "BENCH end rw=randwrite qd=32 n=200 cycles="));
	g_assert_nonnull(strstr(out, "irqs=200 kicks=200")); /* qd=1: one of each per I/O */
	image_remove(dir, img);
}

/* The checker itself must see a single flipped byte, and a short image. */
static void test_image_check_detects(void)
{
	char *dir, *img = image_new(&dir);
	uint64_t first = 0;
	uint8_t b;
	int fd;

	image_fill(img, 9);
	g_assert_cmpint(image_check(img, 9, &first), ==, 0);
	g_assert_cmpint(image_check(img, 10, &first), ==, IMG_SIZE / SECTOR);
	fd = open(img, O_RDWR | O_CLOEXEC);
	g_assert_cmpint(pread(fd, &b, 1, 1234567), ==, 1);
	b ^= 0x40;
	g_assert_cmpint(pwrite(fd, &b, 1, 1234567), ==, 1);
	g_assert_cmpint(image_check(img, 9, &first), ==, 1);
	g_assert_cmpuint(first, ==, 1234567 / SECTOR);
	g_assert_cmpint(ftruncate(fd, IMG_SIZE - SECTOR), ==, 0);
	g_assert_cmpint(image_check(img, 9, &first), ==, -EIO);
	close(fd);
	image_remove(dir, img);
}

/* A bad option is a Bail out!, never a silent default. */
static void test_blk_bad_options(void)
{
	static const char *const bad[] = {"mode=fast", "qd=1,,8", "mode=irq msix=0"};
	char *dir, *img;

	if (tu_skip_without_kvm())
		return;
	img = image_new(&dir);
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autofree char *out = NULL;
		int status = run_blk(img, bad[i], false, &out);

		assert_status(status, STATUS_ABORT, out);
		g_assert_nonnull(strstr(out, "Bail out!"));
	}
	image_remove(dir, img);
}

/* reset=4: four resets with 16 of 32 requests still in the ring; the image is intact. */
static void test_blk_reset(void)
{
	g_autofree char *out = NULL;
	char *dir, *img;
	uint64_t first = 0;
	int status;

	if (tu_skip_without_kvm())
		return;
	img = image_new(&dir);
	status = run_blk(img, "mode=irq qd=32 reset=4 seed=21", false, &out);
	assert_status(status, STATUS_PASS, out);
	g_assert_cmpuint(tu_count(out, "untouched (0 bad)"), ==, 4);
	g_assert_cmpuint(tu_count(out, "unchanged after the reset"), ==, 4);
	g_assert_cmpint(image_check(img, 21, &first), ==, 0);
	image_remove(dir, img);
}

struct vmm_run {
	struct tu_proc vmm, remote;
	bool has_remote;
	int remote_status;
};

#define PROXY "pci-proxy-dev,id=vd0,socket=3"

/*
 * virtio-blk.elf in mpvmm on @img, its device in mpvmm-storage behind @proxy (a
 * pci-proxy-dev option string) or, with @proxy NULL, in-VMM.
 */
static void vmm_start(const char *img, const char *append, const char *proxy, struct vmm_run *r)
{
	g_autofree char *elf = tu_guest("virtio-blk");
	g_autofree char *bd = g_strdup_printf("driver=file,node-name=d0,filename=%s", img);
	const char *vargv[] = {tu_bin("MPVMM"),
			       "-m",
			       "64M",
			       "-kernel",
			       elf,
			       "-serial",
			       "none",
			       "-debugcon",
			       "stdio",
			       "-append",
			       append,
			       "-device",
			       proxy ? proxy : "virtio-blk,id=vd0,drive=d0",
			       proxy ? NULL : "-blockdev",
			       bd,
			       NULL};
	const char *rargv[] = {tu_bin("MPVMM_STORAGE"),
			       "-blockdev",
			       bd,
			       "-device",
			       "virtio-blk,id=vd0,drive=d0,socket=3",
			       NULL};
	int sv[2];

	r->has_remote = proxy != NULL;
	if (!proxy) {
		tu_spawn((char **)vargv, NULL, 0, true, &r->vmm);
		return;
	}
	tu_socketpair(sv);
	tu_spawn((char **)rargv, &sv[1], 1, true, &r->remote);
	close(sv[1]);
	tu_spawn((char **)vargv, &sv[0], 1, true, &r->vmm);
	close(sv[0]);
}

/* Collect mpvmm's output and status; reap the remote, if any, into remote_status. */
static int vmm_finish(struct vmm_run *r, char **out, char **err)
{
	int status;

	*out = tu_slurp(r->vmm.out_fd);
	*err = tu_slurp(r->vmm.err_fd);
	status = tu_wait(&r->vmm, 120);
	close(r->vmm.out_fd);
	close(r->vmm.err_fd);
	if (r->has_remote) {
		r->remote_status = tu_wait(&r->remote, 10);
		close(r->remote.out_fd);
		close(r->remote.err_fd);
	}
	return status;
}

static void vmm_reset(const char *proxy)
{
	g_autofree char *out = NULL, *err = NULL;
	char *dir, *img;
	struct vmm_run r;
	uint64_t first = 0;
	int status;

	if (tu_skip_without_kvm())
		return;
	img = image_new(&dir);
	vmm_start(img, "mode=irq qd=32 reset=4 seed=33", proxy, &r);
	status = vmm_finish(&r, &out, &err);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != STATUS_PASS)
		g_error("mpvmm status 0x%x; guest said:\n%s\n%s", status, out, err);
	g_assert_null(strstr(out, "not ok"));
	g_assert_cmpuint(tu_count(out, "untouched (0 bad)"), ==, 4);
	/*
	 * In-VMM, a notification is served within the guest's write and nothing else
	 * looks at the ring, so the 16 requests never notified are in flight at every
	 * reset.  A remote may take any number before it sees the reset (its doorbell and
	 * socket race), all legal.
	 */
	if (!proxy)
		g_assert_cmpuint(tu_count(out, "16 of 32 requests had completed"), ==, 4);
	g_assert_cmpint(image_check(img, 33, &first), ==, 0);
	/* No crash, and (under ASan) no leak: the remote exits 0 once mpvmm is gone. */
	if (proxy && (!WIFEXITED(r.remote_status) || WEXITSTATUS(r.remote_status)))
		g_error("mpvmm-storage exited with status 0x%x", r.remote_status);
	image_remove(dir, img);
}

static void test_blk_reset_remote(void)
{
	vmm_reset(PROXY);
}

/* The device's DMA by messages: a reset may arrive while it waits for a DMA reply. */
static void test_blk_reset_dma_message(void)
{
	vmm_reset(PROXY ",dma=message");
}

static void test_blk_reset_in_vmm(void)
{
	vmm_reset(NULL);
}

/*
 * lost=1: once the guest prints "I/O running", SIGKILL mpvmm-storage.  The guest must
 * notice (timeout, status 0xff, no reset) and mpvmm must survive to return its code,
 * with one warning that names the device.
 */
static void blk_lost(const char *mode)
{
	g_autofree char *append = g_strdup_printf("mode=%s qd=32 lost=1 timeout=2", mode);
	g_autofree char *out = NULL, *err = NULL;
	char *dir, *img;
	struct vmm_run r;
	int status;

	if (tu_skip_without_kvm())
		return;
	img = image_new(&dir);
	vmm_start(img, append, PROXY, &r);
	tu_wait_line(r.vmm.out_fd, "# I/O running", 60);
	g_assert_cmpint(kill(r.remote.pid, SIGKILL), ==, 0);
	status = vmm_finish(&r, &out, &err);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != STATUS_LOST)
		g_error("mpvmm status 0x%x, expected %d; guest said:\n%s\n%s", status, STATUS_LOST,
			out, err);
	g_assert_null(strstr(out, "not ok"));
	g_assert_nonnull(strstr(out, "device status reads 0xff"));
	g_assert_nonnull(strstr(out, " passed, 0 failed"));
	g_assert_cmpuint(tu_count(err, "WARNING"), ==, 1);
	g_assert_nonnull(strstr(err, "vd0: device backend failed"));
	image_remove(dir, img);
}

static void test_blk_lost_irq(void)
{
	blk_lost("irq");
}

static void test_blk_lost_poll(void)
{
	blk_lost("poll");
}

static void rng_run(const char *append, const char *dev)
{
	const char *args[] = {"-device", dev, NULL};
	g_autofree char *out = NULL;
	int status = run_qemu("virtio-rng", append, args, &out);

	assert_status(status, STATUS_PASS, out);
	g_assert_nonnull(strstr(out, "buffers sane"));
}

static void test_rng_irq(void)
{
	if (!tu_skip_without_kvm())
		rng_run("mode=irq qd=8", "virtio-rng-pci,disable-legacy=on");
}

static void test_rng_poll(void)
{
	if (!tu_skip_without_kvm())
		rng_run("mode=poll qd=8", "virtio-rng-pci,disable-legacy=on");
}

/* Interrupt waits that halt the vCPU instead of spinning. */
static void test_rng_hlt(void)
{
	if (!tu_skip_without_kvm())
		rng_run("mode=irq wait=hlt qd=8", "virtio-rng-pci,disable-legacy=on");
}

/* More requests in flight than QEMU's 8-entry queue holds: refused up front. */
static void test_rng_qd_too_deep(void)
{
	const char *args[] = {"-device", "virtio-rng-pci,disable-legacy=on", NULL};
	g_autofree char *out = NULL;
	int status;

	if (tu_skip_without_kvm())
		return;
	status = run_qemu("virtio-rng", "qd=16", args, &out);
	assert_status(status, STATUS_ABORT, out);
	g_assert_nonnull(strstr(out, "exceeds the device's queue size"));
}

/* A transitional device (1af4:1005) driven through its modern interface, no MSI-X. */
static void test_rng_transitional(void)
{
	if (!tu_skip_without_kvm())
		rng_run("mode=poll msix=0 rounds=1", "virtio-rng-pci");
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/integration/virtio-guest/image-check", test_image_check_detects);
	g_test_add_func("/integration/virtio-guest/blk-irq", test_blk_irq);
	g_test_add_func("/integration/virtio-guest/blk-poll", test_blk_poll);
	g_test_add_func("/integration/virtio-guest/blk-readonly", test_blk_readonly);
	g_test_add_func("/integration/virtio-guest/blk-bad-options", test_blk_bad_options);
	g_test_add_func("/integration/virtio-guest/blk-bench", test_blk_bench);
	g_test_add_func("/integration/virtio-guest/blk-reset", test_blk_reset);
	g_test_add_func("/integration/virtio-guest/blk-reset-remote", test_blk_reset_remote);
	g_test_add_func("/integration/virtio-guest/blk-reset-dma-message",
			test_blk_reset_dma_message);
	g_test_add_func("/integration/virtio-guest/blk-reset-in-vmm", test_blk_reset_in_vmm);
	g_test_add_func("/integration/virtio-guest/blk-lost-irq", test_blk_lost_irq);
	g_test_add_func("/integration/virtio-guest/blk-lost-poll", test_blk_lost_poll);
	g_test_add_func("/integration/virtio-guest/rng-irq", test_rng_irq);
	g_test_add_func("/integration/virtio-guest/rng-poll", test_rng_poll);
	g_test_add_func("/integration/virtio-guest/rng-hlt", test_rng_hlt);
	g_test_add_func("/integration/virtio-guest/rng-qd-too-deep", test_rng_qd_too_deep);
	g_test_add_func("/integration/virtio-guest/rng-transitional", test_rng_transitional);
	return g_test_run();
}
