// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Guest RAM by message, end to end on real KVM: tests/guest/virtio-blk.elf and
 * virtio-rng.elf in mpvmm with -device pci-proxy-dev,...,dma=message, their devices in
 * mpvmm-storage and mpvmm-misc, which then hold no mapping of guest RAM and reach it
 * only with vfio-user DMA_READ/DMA_WRITE.  Proved three ways: the guests pass and the
 * host-side check finds exactly the guest's pattern in every sector of the image; the
 * maps of the remote and of every process it forked (a sandboxed remote serves from a
 * child), read while the guest runs, have no guest-RAM memfd (and have one in the same
 * run with dma=fd, so the check can fail); and the remote reports how
 * many DMA_READ/DMA_WRITE messages it sent (G_MESSAGES_DEBUG=remote).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/tu.h"

#define IMG_SIZE (8u << 20)
#define SECTOR 512u
#define WORDS (SECTOR / 8)
#define MARKER 0x76697274696f0000ull /* tests/guest/virtio-blk.c */
#define RAM_MEMFD "memfd:mpvmm-ram"  /* memory/gmem.c names guest RAM so */

/* The guest's pattern (tests/guest/virtio-blk.c): sector, seed ^ marker, splitmix64. */
static uint64_t pattern_word(uint64_t seed, uint64_t sector, unsigned i)
{
	uint64_t z = i + seed * 0x9e3779b97f4a7c15ull;

	if (i < 2)
		return i == 0 ? sector : seed ^ MARKER;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
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
		for (unsigned i = 0; i < WORDS; i++)
			want[i] = GUINT64_TO_LE(pattern_word(seed, s, i));
		bad += memcmp(want, got, SECTOR) != 0;
	}
	close(fd);
	return bad;
}

static char *image_new(void)
{
	char *path;
	int fd = g_file_open_tmp("mpvmm-dma-msg-XXXXXX.img", &path, NULL);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, IMG_SIZE), ==, 0);
	close(fd);
	return path;
}

/* The parent pid of pid from /proc/PID/stat, or -1 if it is gone. */
static int ppid_of(int pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/stat", pid), *stat = NULL;
	const char *p;
	int ppid;

	if (!g_file_get_contents(path, &stat, NULL, NULL))
		return -1;
	p = strrchr(stat, ')'); /* the command name may hold spaces and parentheses */
	if (!p || sscanf(p, ") %*c %d", &ppid) != 1)
		return -1;
	return ppid;
}

/*
 * Does process pid, or any of its descendants, map guest RAM (the VMM's memfd)?  The
 * remote may serve from a child (a sandbox's pid namespace), so the whole tree counts.
 */
static bool maps_guest_ram(GPid pid)
{
	g_autoptr(GArray) tree = g_array_new(FALSE, FALSE, sizeof(int));
	bool mapped = false;

	g_array_append_val(tree, pid);
	for (unsigned i = 0; i < tree->len; i++) {
		int p = g_array_index(tree, int, i);
		g_autofree char *path = g_strdup_printf("/proc/%d/maps", p), *maps = NULL;
		GDir *d = g_dir_open("/proc", 0, NULL);
		const char *name;

		g_assert_true(g_file_get_contents(path, &maps, NULL, NULL));
		mapped |= strstr(maps, RAM_MEMFD) != NULL;
		while ((name = g_dir_read_name(d))) {
			int c = atoi(name);

			if (c > 0 && ppid_of(c) == p)
				g_array_append_val(tree, c);
		}
		g_dir_close(d);
	}
	g_test_message("%u process(es) in the remote's tree, guest RAM %s", tree->len,
		       mapped ? "mapped" : "not mapped");
	return mapped;
}

struct run {
	bool mapped; /* the remote mapped guest RAM, seen while the guest ran */
	char *out;   /* guest output after `ready` */
	char *rerr;  /* the remote's stdout (where GLib puts info lines) and stderr */
};

/*
 * The guest in mpvmm with `dma`, its device in `remote` on a socketpair.  Once the
 * guest printed `ready` the remote's maps are read; both processes must succeed.
 */
static void run_pair(const char *remote, const char *const *rargs, const char *guest,
		     const char *append, const char *dma, const char *ready, struct run *r)
{
	g_autofree char *elf = tu_guest(guest), *err = NULL, *rout = NULL, *rerr = NULL;
	g_autofree char *dev = g_strdup_printf("pci-proxy-dev,id=vd0,socket=3,dma=%s", dma);
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
			 dev,
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
	g_setenv("G_MESSAGES_DEBUG", "remote", TRUE); /* the message counts at disconnection */
	tu_spawn((char **)rargv->pdata, &sv[1], 1, true, &rp);
	g_unsetenv("G_MESSAGES_DEBUG");
	close(sv[1]);
	tu_spawn(vargv, &sv[0], 1, true, &vp);
	close(sv[0]);
	tu_wait_line(vp.out_fd, ready, 120);
	r->mapped = maps_guest_ram(rp.pid); /* and the sandbox's serving child */
	r->out = tu_slurp(vp.out_fd);
	err = tu_slurp(vp.err_fd);
	status = tu_wait(&vp, 120);
	close(vp.out_fd);
	close(vp.err_fd);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 1 || strstr(r->out, "not ok"))
		g_error("guest %s (dma=%s) failed (status 0x%x):\n%s\n%s", guest, dma, status,
			r->out, err);
	g_assert_nonnull(strstr(r->out, " 0 failed"));
	status = tu_wait(&rp, 10);
	rout = tu_slurp(rp.out_fd);
	rerr = tu_slurp(rp.err_fd);
	r->rerr = g_strconcat(rout, rerr, NULL);
	close(rp.out_fd);
	close(rp.err_fd);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		g_error("%s exited with status 0x%x:\n%s", remote, status, r->rerr);
}

/* The remote's count of DMA_READ (write false) or DMA_WRITE messages; 0 if no line. */
static uint64_t messages(const char *rerr, bool write)
{
	const char *p = strstr(rerr, "guest RAM reached by messages: ");
	uint64_t reads = 0, bytes = 0, writes = 0;

	if (p && sscanf(p,
			"guest RAM reached by messages: %" SCNu64 " DMA_READ (%" SCNu64
			" bytes), %" SCNu64 " DMA_WRITE",
			&reads, &bytes, &writes) != 3)
		g_error("unparsable message count: %s", p);
	return write ? writes : reads;
}

static void run_blk(const char *dma, const char *dev_extra, const char *append, uint64_t seed,
		    struct run *r)
{
	g_autofree char *img = image_new();
	g_autofree char *bd = g_strdup_printf("driver=file,node-name=d0,filename=%s", img);
	g_autofree char *dev = g_strdup_printf("virtio-blk,id=vd0,drive=d0,socket=3%s", dev_extra);
	g_autofree char *full = g_strdup_printf("seed=%" G_GUINT64_FORMAT " %s", seed, append);
	const char *const args[] = {"-blockdev", bd, "-device", dev, NULL};

	run_pair("MPVMM_STORAGE", args, "virtio-blk", full, dma, "ok 1 ", r);
	g_assert_cmpuint(image_bad(img, seed), ==, 0);
	unlink(img);
}

static void run_clear(struct run *r)
{
	g_free(r->out);
	g_free(r->rerr);
}

/* The whole blk test, two queues, every queue depth, by message only. */
static void test_blk(void)
{
	struct run r;

	if (tu_skip_without_kvm())
		return;
	run_blk("message", ",num-queues=2", "qd=1,8,32", 21, &r);
	g_assert_false(r.mapped);
	/* 8 MiB written and read back in 4 KiB messages at least, plus the rings. */
	g_assert_cmpuint(messages(r.rerr, false), >, 2 * IMG_SIZE / 4096);
	g_assert_cmpuint(messages(r.rerr, true), >, 2 * IMG_SIZE / 4096);
	g_test_message("DMA_READ %" PRIu64 ", DMA_WRITE %" PRIu64, messages(r.rerr, false),
		       messages(r.rerr, true));
	run_clear(&r);
}

/* The same check with dma=fd sees the mapping and no message: it can fail. */
static void test_blk_fd_control(void)
{
	struct run r;

	if (tu_skip_without_kvm())
		return;
	run_blk("fd", "", "qd=32", 22, &r);
	g_assert_true(r.mapped);
	g_assert_cmpuint(messages(r.rerr, false), ==, 0);
	g_assert_cmpuint(messages(r.rerr, true), ==, 0);
	run_clear(&r);
}

/*
 * Polling mode without MSI-X (the guest asks for no interrupt at all), the rings read
 * back by message as the guest spins.
 */
static void test_blk_poll(void)
{
	struct run r;

	if (tu_skip_without_kvm())
		return;
	run_blk("message", "", "msix=0 mode=poll qd=1,32", 23, &r);
	g_assert_false(r.mapped);
	run_clear(&r);
}

static void test_rng(void)
{
	const char *const args[] = {"-device", "virtio-rng,id=vd0,socket=3", NULL};
	struct run r;

	if (tu_skip_without_kvm())
		return;
	run_pair("MPVMM_MISC", args, "virtio-rng", "", "message", "ok 1 ", &r);
	g_assert_false(r.mapped);
	g_assert_cmpuint(messages(r.rerr, true), >, 0); /* the random bytes went back */
	g_assert_cmpuint(messages(r.rerr, false), >, 0);
	run_clear(&r);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/dma-msg/virtio-blk/message", test_blk);
	g_test_add_func("/dma-msg/virtio-blk/fd-control", test_blk_fd_control);
	g_test_add_func("/dma-msg/virtio-blk/poll-no-msix", test_blk_poll);
	g_test_add_func("/dma-msg/virtio-rng/message", test_rng);
	return g_test_run();
}
