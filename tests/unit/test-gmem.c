// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for memory/gmem.c: the bounds of gmem_translate (past RAM, wrapping,
 * straddling two regions), regions mapped from fds the way a device process maps the
 * VMM's DMA_MAP (read-only and writable, shared with the creator), their removal, and
 * the listeners that hear of map changes (replay at registration, every kind of add,
 * removal announced while the region is still mapped, a refused replay, unlisten).
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "memory/memory.h"

#define PG 4096ULL

static int tg_memfd(uint64_t size)
{
	int fd = memfd_create("test-gmem", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, (off_t)size), ==, 0);
	g_assert_cmpint(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), ==, 0);
	return fd;
}

static void test_translate_bounds(void)
{
	struct gmem *mem;

	/* [0, 64K) and, past a "hole" at 64K, [4G, 4G + 64K). */
	g_assert_cmpint(gmem_create(128 << 10, 64 << 10, &mem), ==, 0);
	g_assert_cmpuint(mem->nr_regions, ==, 2);
	g_assert_nonnull(gmem_translate(mem, 0, 64 << 10));
	g_assert_nonnull(gmem_translate(mem, (64 << 10) - 1, 1));
	g_assert_null(gmem_translate(mem, (64 << 10) - 1, 2)); /* runs into the hole */
	g_assert_null(gmem_translate(mem, 64 << 10, 1));       /* in the hole */
	g_assert_null(gmem_translate(mem, 0, 0));	       /* empty */
	g_assert_nonnull(gmem_translate(mem, 4ULL << 30, 64 << 10));
	g_assert_null(gmem_translate(mem, (4ULL << 30) + (64 << 10), 1)); /* past RAM */
	g_assert_null(gmem_translate(mem, (4ULL << 30) + (64 << 10) - 4, 8));
	g_assert_null(gmem_translate(mem, UINT64_MAX, 2)); /* wraps */
	g_assert_null(gmem_translate(mem, 8, UINT64_MAX)); /* wraps */
	g_assert_null(gmem_translate(mem, 4ULL << 30, UINT64_MAX - (4ULL << 30) + 2));
	g_assert_cmpint(gmem_write(mem, (64 << 10) - 2, "abcd", 4), ==, -EFAULT);
	g_assert_cmpint(gmem_read(mem, UINT64_MAX - 1, (char[4]){0}, 4), ==, -EFAULT);
	gmem_destroy(mem);
}

static void test_translate_straddle(void)
{
	struct gmem *mem;
	char buf[8];

	/* Two regions back to back at [1M, 1M + 8K) and [1M + 8K, 1M + 16K). */
	g_assert_cmpint(gmem_create_empty(&mem), ==, 0);
	g_assert_cmpint(gmem_map_fd(mem, 1 << 20, 2 * PG, tg_memfd(2 * PG), 0, true), ==, 0);
	g_assert_cmpint(gmem_map_fd(mem, (1 << 20) + 2 * PG, 2 * PG, tg_memfd(2 * PG), 0, true), ==,
			0);
	g_assert_nonnull(gmem_translate(mem, (1 << 20) + 2 * PG - 4, 4));
	g_assert_nonnull(gmem_translate(mem, (1 << 20) + 2 * PG, 4));
	/* Adjacent is not contiguous on the host: a straddling access is refused. */
	g_assert_null(gmem_translate(mem, (1 << 20) + 2 * PG - 4, 8));
	g_assert_null(gmem_translate_read(mem, (1 << 20) + 2 * PG - 4, 8));
	g_assert_cmpint(gmem_read(mem, (1 << 20) + 2 * PG - 4, buf, 8), ==, -EFAULT);
	g_assert_cmpint(gmem_write(mem, (1 << 20) + 2 * PG - 1, buf, 2), ==, -EFAULT);
	g_assert_null(gmem_translate(mem, (1 << 20) - 1, 2)); /* below the first */
	gmem_destroy(mem);
}

static void test_map_fd(void)
{
	int fd = tg_memfd(4 * PG), ro_fd = dup(fd);
	int unsealed = memfd_create("unsealed", MFD_CLOEXEC);
	uint8_t *vmm;
	struct gmem *mem;
	char buf[4];

	/* The "VMM" writes through its own mapping; the "remote" sees it, and back. */
	g_assert_cmpint(ftruncate(unsealed, 4 * PG), ==, 0);
	vmm = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	g_assert_true(vmm != MAP_FAILED);
	memcpy(vmm + PG, "ping", 4);
	g_assert_cmpint(gmem_create_empty(&mem), ==, 0);
	g_assert_cmpint(gmem_map_fd(mem, 0x10000, 2 * PG, dup(fd), PG, true), ==, 0);
	g_assert_cmpint(gmem_read(mem, 0x10000, buf, 4), ==, 0);
	g_assert_cmpmem(buf, 4, "ping", 4);
	g_assert_cmpint(gmem_write(mem, 0x10000 + PG, "pong", 4), ==, 0);
	g_assert_cmpmem(vmm + 2 * PG, 4, "pong", 4);
	/* Read-only: readable, never writable nor translatable for writing. */
	g_assert_cmpint(gmem_map_fd(mem, 0x20000, PG, ro_fd, PG, false), ==, 0);
	g_assert_nonnull(gmem_translate_read(mem, 0x20000, 4));
	g_assert_null(gmem_translate(mem, 0x20000, 4));
	g_assert_cmpint(gmem_write(mem, 0x20000, "x", 1), ==, -EFAULT);
	g_assert_cmpint(gmem_read(mem, 0x20000, buf, 4), ==, 0);
	g_assert_cmpmem(buf, 4, "ping", 4);
	/* Overlaps, bad alignment, wrap: refused, the fd stays the caller's. */
	g_assert_cmpint(gmem_map_fd(mem, 0x11000, PG, fd, 0, true), ==, -EEXIST);
	g_assert_cmpint(gmem_map_fd(mem, 0x0f000, 2 * PG, fd, 0, true), ==, -EEXIST);
	g_assert_cmpint(gmem_map_fd(mem, 0x30800, PG, fd, 0, true), ==, -EINVAL);
	g_assert_cmpint(gmem_map_fd(mem, 0x30000, PG + 1, fd, 0, true), ==, -EINVAL);
	g_assert_cmpint(gmem_map_fd(mem, 0x30000, PG, fd, 1, true), ==, -EINVAL);
	g_assert_cmpint(gmem_map_fd(mem, 0x30000, 0, fd, 0, true), ==, -EINVAL);
	g_assert_cmpint(gmem_map_fd(mem, UINT64_MAX - PG + 1, 2 * PG, fd, 0, true), ==, -EINVAL);
	g_assert_cmpint(gmem_map_fd(mem, 0x30000, PG, fd, UINT64_MAX - PG + 1, true), ==, -EINVAL);
	g_assert_cmpint(gmem_map_fd(mem, 0x30000, PG, -1, 0, true), ==, -EINVAL);
	g_assert_cmpint(gmem_map_fd(mem, 0x30000, 4 * PG, fd, PG, true), ==, -EINVAL); /* > file */
	g_assert_cmpint(gmem_map_fd(mem, 0x30000, PG, unsealed, 0, true), ==, -EPERM);
	g_assert_cmpint(gmem_map_fd(mem, 0x30000, PG, STDIN_FILENO, 0, true), <, 0);
	close(unsealed);
	g_assert_cmpint(fcntl(fd, F_GETFD), >=, 0);
	g_assert_cmpuint(mem->nr_regions, ==, 2);
	gmem_destroy(mem);
	munmap(vmm, 4 * PG);
	close(fd);
}

static void test_remove(void)
{
	struct gmem *mem;

	g_assert_cmpint(gmem_create_empty(&mem), ==, 0);
	g_assert_cmpint(gmem_map_fd(mem, 0, 4 * PG, tg_memfd(4 * PG), 0, true), ==, 0);
	g_assert_cmpint(gmem_map_fd(mem, 8 * PG, PG, tg_memfd(PG), 0, true), ==, 0);
	/* Only an exact match is removed (spec "VFIO_USER_DMA_UNMAP"). */
	g_assert_cmpint(gmem_remove_region(mem, 0, 2 * PG), ==, -ENOENT);
	g_assert_cmpint(gmem_remove_region(mem, PG, 3 * PG), ==, -ENOENT);
	g_assert_cmpint(gmem_remove_region(mem, 16 * PG, PG), ==, -ENOENT);
	g_assert_cmpint(gmem_remove_region(mem, 0, 4 * PG), ==, 0);
	g_assert_null(gmem_translate(mem, 0, 1));
	g_assert_nonnull(gmem_translate(mem, 8 * PG, PG));
	g_assert_cmpint(gmem_remove_region(mem, 0, 4 * PG), ==, -ENOENT); /* twice */
	/* The space can be mapped again. */
	g_assert_cmpint(gmem_map_fd(mem, 0, PG, tg_memfd(PG), 0, true), ==, 0);
	g_assert_nonnull(gmem_translate(mem, 0, PG));
	gmem_destroy(mem);
}

static void test_full(void)
{
	struct gmem *mem;
	int fd = tg_memfd(PG);

	g_assert_cmpint(gmem_create_empty(&mem), ==, 0);
	for (unsigned i = 0; i < GMEM_MAX_REGIONS; i++)
		g_assert_cmpint(gmem_map_fd(mem, i * 2 * PG, PG, dup(fd), 0, true), ==, 0);
	g_assert_cmpint(gmem_map_fd(mem, 100 * PG, PG, fd, 0, true), ==, -ENOSPC);
	g_assert_cmpuint(gmem_size(mem), ==, GMEM_MAX_REGIONS * PG);
	gmem_destroy(mem);
	close(fd);
}

struct heard {
	unsigned n;
	enum gmem_change what[16];
	uint64_t gpa[16];
	char first[16]; /* the region's first byte when the listener ran */
	int fail_at;	/* return -EPERM from this call (1-based), 0 = never */
};

static int listener(void *ctx, const struct gmem_region *r, enum gmem_change what)
{
	struct heard *h = ctx;

	g_assert_cmpuint(h->n, <, G_N_ELEMENTS(h->what));
	h->what[h->n] = what;
	h->gpa[h->n] = r->gpa;
	h->first[h->n] = r->hva ? *(const char *)r->hva : 0;
	return ++h->n == (unsigned)h->fail_at ? -EPERM : 0;
}

static int access_none(void *ctx, uint64_t gpa, void *buf, uint64_t len, bool write)
{
	return -EIO;
}

static void test_listen(void)
{
	void *ram = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct heard a = {0}, b = {0}, bad = {.fail_at = 2};
	struct gmem *mem;

	g_assert_true(ram != MAP_FAILED);
	g_assert_cmpint(gmem_create(2 * PG, PG, &mem), ==, 0); /* [0, 4K) and [4G, 4G + 4K) */
	g_assert_cmpint(gmem_write(mem, 4ULL << 30, "R", 1), ==, 0);
	/* The replay lists what is there; a listener refusing it is not registered. */
	g_assert_cmpint(gmem_listen(mem, listener, &bad), ==, -EPERM);
	g_assert_cmpint(gmem_listen(mem, listener, &a), ==, 0);
	g_assert_cmpuint(a.n, ==, 2);
	g_assert_cmpint(a.what[0], ==, GMEM_LISTED);
	g_assert_cmpint(a.what[1], ==, GMEM_LISTED);
	g_assert_cmphex(a.gpa[0] + a.gpa[1], ==, 4ULL << 30);
	g_assert_cmpint(gmem_listen(mem, listener, &b), ==, 0);
	/* Removal: announced first, while the region is still mapped. */
	g_assert_cmpint(gmem_remove_region(mem, 4ULL << 30, PG), ==, 0);
	g_assert_cmpuint(a.n, ==, 3);
	g_assert_cmpint(a.what[2], ==, GMEM_REMOVED);
	g_assert_cmphex(a.gpa[2], ==, 4ULL << 30);
	g_assert_cmpint(a.first[2], ==, 'R');
	g_assert_cmpint(gmem_remove_region(mem, 4ULL << 30, PG), ==, -ENOENT); /* silent */
	/* Each way of adding is heard, by every listener; failures are not. */
	g_assert_cmpint(gmem_map_fd(mem, 8 * PG, PG, tg_memfd(PG), 0, false), ==, 0);
	g_assert_cmpint(gmem_add_access_region(mem, 16 * PG, PG, true, access_none, NULL), ==, 0);
	g_assert_cmpint(gmem_add_region(mem, 32 * PG, PG, -1, 0, ram), ==, 0);
	g_assert_cmpint(gmem_add_region(mem, 32 * PG, PG, -1, 0, ram), ==, -EEXIST);
	g_assert_cmpuint(a.n, ==, 6);
	g_assert_cmpuint(b.n, ==, 6);
	for (unsigned i = 3; i < 6; i++)
		g_assert_cmpint(b.what[i], ==, GMEM_ADDED);
	g_assert_cmphex(b.gpa[3], ==, 8 * PG);
	g_assert_cmphex(b.gpa[4], ==, 16 * PG);
	g_assert_cmphex(b.gpa[5], ==, 32 * PG);
	/* Unlistened: no more calls; the other listener still hears. */
	gmem_unlisten(mem, listener, &a);
	gmem_unlisten(mem, listener, &a); /* twice: nothing */
	g_assert_cmpint(gmem_remove_region(mem, 16 * PG, PG), ==, 0);
	g_assert_cmpuint(a.n, ==, 6);
	g_assert_cmpuint(b.n, ==, 7);
	g_assert_cmpint(b.what[6], ==, GMEM_REMOVED);
	gmem_unlisten(mem, listener, &b);
	gmem_destroy(mem); /* unmaps ram */
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/memory/gmem/translate-bounds", test_translate_bounds);
	g_test_add_func("/memory/gmem/translate-straddle", test_translate_straddle);
	g_test_add_func("/memory/gmem/map-fd", test_map_fd);
	g_test_add_func("/memory/gmem/remove", test_remove);
	g_test_add_func("/memory/gmem/full", test_full);
	g_test_add_func("/memory/gmem/listen", test_listen);
	return g_test_run();
}
