// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Integration tests of issue 3's own devices on real KVM: tests/guest/virtio-blk.elf
 * in mpvmm with its disk served by mpvmm-storage (-blockdev), then a host-side check
 * that the raw image holds exactly the guest's pattern in every sector; the same with
 * several queues, in polling mode with INTx, and read-only; and virtio-rng.elf with
 * its device in mpvmm-misc.  The pattern is the one tests/guest/virtio-blk.c documents
 * (word 0 the sector number, word 1 seed ^ marker, then splitmix64 of seed and index).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/tu.h"

#define IMG_SIZE (8u << 20)
#define SECTOR 512u
#define WORDS (SECTOR / 8)
#define MARKER 0x76697274696f0000ull

static uint64_t pattern_word(uint64_t seed, uint64_t sector, unsigned i)
{
	uint64_t z = i + seed * 0x9e3779b97f4a7c15ull;

	if (i < 2)
		return i == 0 ? sector : seed ^ MARKER;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void pattern_sector(uint64_t seed, uint64_t sector, uint64_t *buf)
{
	for (unsigned i = 0; i < WORDS; i++)
		buf[i] = GUINT64_TO_LE(pattern_word(seed, sector, i));
}

/* Sectors of the image that differ from the pattern of seed. */
static unsigned image_bad(const char *path, uint64_t seed)
{
	uint64_t want[WORDS], got[WORDS];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned bad = 0;

	g_assert_cmpint(fd, >=, 0);
	for (uint64_t s = 0; s < IMG_SIZE / SECTOR; s++) {
		g_assert_cmpint(pread(fd, got, SECTOR, s * SECTOR), ==, SECTOR);
		pattern_sector(seed, s, want);
		bad += memcmp(want, got, SECTOR) != 0;
	}
	close(fd);
	return bad;
}

/* A fresh image: zeros, or the pattern of fill_seed when it is not 0. */
static char *image_new(uint64_t fill_seed)
{
	uint64_t buf[WORDS];
	char *path;
	int fd = g_file_open_tmp("mpvmm-storage-XXXXXX.img", &path, NULL);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, IMG_SIZE), ==, 0);
	for (uint64_t s = 0; fill_seed && s < IMG_SIZE / SECTOR; s++) {
		pattern_sector(fill_seed, s, buf);
		g_assert_cmpint(pwrite(fd, buf, SECTOR, s * SECTOR), ==, SECTOR);
	}
	close(fd);
	return path;
}

/*
 * The guest in mpvmm, its device in `remote` (args after the binary) on a socketpair;
 * both must succeed: the guest reports no failure and exits with 0 (VMM status 1), and
 * the remote exits 0 once the VMM is gone.
 */
static void run_pair(const char *remote, const char *const *rargs, const char *guest,
		     const char *append)
{
	g_autofree char *elf = tu_guest(guest), *out = NULL, *err = NULL, *rerr = NULL;
	char *vargv[] = {(char *)tu_bin("MPVMM"),
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
			 (char *)append,
			 NULL};
	g_autoptr(GPtrArray) rargv = g_ptr_array_new();
	struct tu_proc rp, vp;
	int sv[2], status;

	g_ptr_array_add(rargv, (char *)tu_bin(remote));
	for (unsigned i = 0; rargs[i]; i++)
		g_ptr_array_add(rargv, (char *)rargs[i]);
	g_ptr_array_add(rargv, NULL);
	tu_socketpair(sv);
	tu_spawn((char **)rargv->pdata, &sv[1], 1, true, &rp);
	close(sv[1]);
	tu_spawn(vargv, &sv[0], 1, true, &vp);
	close(sv[0]);
	out = tu_slurp(vp.out_fd);
	err = tu_slurp(vp.err_fd);
	status = tu_wait(&vp, 120);
	close(vp.out_fd);
	close(vp.err_fd);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 1 || strstr(out, "not ok"))
		g_error("guest %s failed (status 0x%x):\n%s\n%s", guest, status, out, err);
	g_assert_nonnull(strstr(out, " 0 failed"));
	status = tu_wait(&rp, 10);
	rerr = tu_slurp(rp.err_fd);
	close(rp.out_fd);
	close(rp.err_fd);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		g_error("%s exited with status 0x%x:\n%s", remote, status, rerr);
}

/* virtio-blk.elf against mpvmm-storage; the image must hold the pattern of seed. */
static void run_blk(const char *node_extra, const char *dev_extra, const char *append,
		    uint64_t seed, uint64_t fill_seed)
{
	g_autofree char *img = image_new(fill_seed);
	g_autofree char *bd =
		g_strdup_printf("driver=file,node-name=d0,filename=%s%s", img, node_extra);
	g_autofree char *dev = g_strdup_printf("virtio-blk,id=vd0,drive=d0,socket=3%s", dev_extra);
	g_autofree char *full = g_strdup_printf("seed=%" G_GUINT64_FORMAT " %s", seed, append);
	const char *const args[] = {"-blockdev", bd, "-device", dev, NULL};

	if (tu_skip_without_kvm())
		return;
	run_pair("MPVMM_STORAGE", args, "virtio-blk", full);
	g_assert_cmpuint(image_bad(img, seed), ==, 0);
	unlink(img);
}

static void test_blk(void)
{
	run_blk("", "", "", 7, 0);
}

static void test_blk_multiqueue(void)
{
	run_blk("", ",num-queues=4", "qd=1,32", 11, 0);
}

static void test_blk_poll_intx(void)
{
	run_blk("", "", "msix=0 mode=poll", 5, 0);
}

static void test_blk_read_only(void)
{
	/* The guest reads the pattern of seed 9 back and sees its writes refused. */
	run_blk(",read-only=on", "", "ro=1", 9, 9);
}

static void test_rng(void)
{
	const char *const args[] = {"-device", "virtio-rng,id=vd0,socket=3", NULL};

	if (tu_skip_without_kvm())
		return;
	run_pair("MPVMM_MISC", args, "virtio-rng", "");
}

/*
 * The same guests with their devices in-VMM (the benchmarks' baseline): mpvmm opens the
 * image from -blockdev and /dev/urandom itself.  extra: further mpvmm arguments.
 */
static void run_local(const char *guest, const char *append, const char *const *extra)
{
	g_autofree char *elf = tu_guest(guest), *out = NULL, *err = NULL;
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	const char *const base[] = {tu_bin("MPVMM"), "-m", "64M", "-kernel", elf, "-serial",
				    "none", "-debugcon", "stdio", "-append", append, NULL};
	struct tu_proc p;
	int status;

	for (unsigned i = 0; base[i]; i++)
		g_ptr_array_add(argv, (char *)base[i]);
	for (unsigned i = 0; extra[i]; i++)
		g_ptr_array_add(argv, (char *)extra[i]);
	g_ptr_array_add(argv, NULL);
	tu_spawn((char **)argv->pdata, NULL, 0, true, &p);
	out = tu_slurp(p.out_fd);
	err = tu_slurp(p.err_fd);
	status = tu_wait(&p, 120);
	close(p.out_fd);
	close(p.err_fd);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 1 || strstr(out, "not ok"))
		g_error("in-VMM guest %s failed (status 0x%x):\n%s\n%s", guest, status, out, err);
	g_assert_nonnull(strstr(out, " 0 failed"));
}

static void run_blk_local(const char *node_extra, const char *dev_extra, const char *append,
			  uint64_t seed, uint64_t fill_seed)
{
	g_autofree char *img = image_new(fill_seed);
	g_autofree char *bd =
		g_strdup_printf("driver=file,node-name=d0,filename=%s%s", img, node_extra);
	g_autofree char *dev = g_strdup_printf("virtio-blk,id=vd0,drive=d0%s", dev_extra);
	g_autofree char *full = g_strdup_printf("seed=%" G_GUINT64_FORMAT " %s", seed, append);
	const char *const extra[] = {"-blockdev", bd, "-device", dev, NULL};

	if (tu_skip_without_kvm())
		return;
	run_local("virtio-blk", full, extra);
	g_assert_cmpuint(image_bad(img, seed), ==, 0);
	unlink(img);
}

static void test_blk_local(void)
{
	run_blk_local("", ",num-queues=2", "qd=1,32", 13, 0);
}

static void test_blk_local_read_only(void)
{
	run_blk_local(",read-only=on", "", "ro=1 mode=poll", 3, 3);
}

static void test_rng_local(void)
{
	const char *const extra[] = {"-device", "virtio-rng,id=r0", NULL};

	if (tu_skip_without_kvm())
		return;
	run_local("virtio-rng", "", extra);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/storage/virtio-blk/remote", test_blk);
	g_test_add_func("/storage/virtio-blk/multiqueue", test_blk_multiqueue);
	g_test_add_func("/storage/virtio-blk/poll-intx", test_blk_poll_intx);
	g_test_add_func("/storage/virtio-blk/read-only", test_blk_read_only);
	g_test_add_func("/storage/virtio-rng/remote", test_rng);
	g_test_add_func("/storage/virtio-blk/in-vmm", test_blk_local);
	g_test_add_func("/storage/virtio-blk/in-vmm-read-only", test_blk_local_read_only);
	g_test_add_func("/storage/virtio-rng/in-vmm", test_rng_local);
	return g_test_run();
}
