// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The virtio guest drivers (tests/guest/virtio-blk.elf, virtio-rng.elf) against
 * Debian's QEMU 7.2 and its own virtio-blk-pci and virtio-rng-pci, under KVM: this
 * proves the drivers follow the virtio 1.x spec rather than our devices.  After a
 * virtio-blk run, a host-side checker reads the raw image and confirms that every
 * sector holds exactly the pattern the guest wrote last.  The same ELFs against our
 * own devices (mpvmm-storage, mpvmm-misc) are tested elsewhere.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/tu.h"

#define IMG_SIZE (8u << 20)
#define SECTOR 512u
#define WORDS (SECTOR / 8)
#define MARKER 0x76697274696f0000ull /* tests/guest/virtio-blk.c, blk_set_seed() */
#define STATUS_PASS 1		     /* isa-debug-exit code 0 */
#define STATUS_ABORT ((0x7e << 1) | 1)

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
	g_test_add_func("/integration/virtio-guest/rng-irq", test_rng_irq);
	g_test_add_func("/integration/virtio-guest/rng-poll", test_rng_poll);
	g_test_add_func("/integration/virtio-guest/rng-hlt", test_rng_hlt);
	g_test_add_func("/integration/virtio-guest/rng-qd-too-deep", test_rng_qd_too_deep);
	g_test_add_func("/integration/virtio-guest/rng-transitional", test_rng_transitional);
	return g_test_run();
}
