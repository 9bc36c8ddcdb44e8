// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Guest RAM without a host mapping, as a remote sees RAM the VMM shared without an fd:
 * memory/'s access regions (gmem_add_access_region: argument checks, bounds, read-only,
 * no pointer ever handed out) and the virtio devices working through them.  The device
 * gets a gmem whose only region copies through a callback into vdrv's RAM (the
 * "client"), so every ring and buffer access is a counted copy: virtio-rng fills
 * buffers, virtio-blk writes and reads an image, a chain beyond VIRTQ_BOUNCE_MAX and a
 * copy failing mid-chain leave the queue broken (DEVICE_NEEDS_RESET), never half used.
 * A read-only DMA mapping (DMA_MAP without write access), mapped or copied, may hold
 * the descriptor table, the available ring and what the device reads, never the used
 * ring or a buffer the device writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/vdrv.h"

const struct dev_ops *const dev_table[] = {&virtio_rng_ops, &virtio_blk_ops, NULL};

#define PG 4096u
#define CFG_VECTOR 1

struct fx {
	struct vdrv d;
	struct gmem *devmem; /* the device's view: one region, no host mapping */
	unsigned calls, writes;
	unsigned fail_at; /* 1-based copy number that fails with -EIO, 0: none */
	int fd;
	char *path;
};

/* The "client": serves the device's copies from vdrv's RAM, as the VMM would. */
static int fx_access(void *ctx, uint64_t gpa, void *buf, uint64_t len, bool write)
{
	struct fx *f = ctx;

	f->calls++;
	f->writes += write;
	if (f->fail_at && f->calls == f->fail_at)
		return -EIO;
	return write ? gmem_write(f->d.mem, gpa, buf, len) : gmem_read(f->d.mem, gpa, buf, len);
}

static void fx_attach(struct fx *f)
{
	g_assert_cmpint(gmem_create_empty(&f->devmem), ==, 0);
	g_assert_cmpint(gmem_add_access_region(f->devmem, 0, VDRV_RAM, true, fx_access, f), ==, 0);
	f->d.dev->env.mem = f->devmem;
}

static void setup_rng(struct fx *f, gconstpointer data)
{
	g_autofree char *props = NULL;

	memset(f, 0, sizeof(*f));
	f->fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	g_assert_cmpint(f->fd, >=, 0);
	props = g_strdup_printf("{\"fd\": \"%d\"}", f->fd);
	vdrv_create(&f->d, "virtio-rng", props);
	fx_attach(f);
	vdrv_start(&f->d, 0, 1);
	vdrv_wr(&f->d, 16, 2, CFG_VECTOR); /* config_msix_vector */
}

static void setup_blk(struct fx *f, gconstpointer data)
{
	g_autofree char *props = NULL;

	memset(f, 0, sizeof(*f));
	f->fd = g_file_open_tmp("mpvmm-vdma-XXXXXX", &f->path, NULL);
	g_assert_cmpint(f->fd, >=, 0);
	g_assert_cmpint(ftruncate(f->fd, 64 * 512), ==, 0);
	props = g_strdup_printf("{\"fd\": \"%d\"}", f->fd);
	vdrv_create(&f->d, "virtio-blk", props);
	fx_attach(f);
	vdrv_start(&f->d, 0, 1);
}

static void teardown(struct fx *f, gconstpointer data)
{
	vdrv_destroy(&f->d);
	gmem_destroy(f->devmem);
	close(f->fd);
	if (f->path)
		unlink(f->path);
	g_free(f->path);
}

static void test_gmem_access_region(void)
{
	uint8_t ram[2 * PG] = {0}, buf[8];
	struct fx f = {0};
	struct gmem *mem;

	g_assert_cmpint(gmem_create(2 * PG, 2 * PG, &f.d.mem), ==, 0);
	g_assert_cmpint(gmem_create_empty(&mem), ==, 0);
	g_assert_cmpint(gmem_add_access_region(mem, 1, PG, true, fx_access, &f), ==, -EINVAL);
	g_assert_cmpint(gmem_add_access_region(mem, 0, PG + 1, true, fx_access, &f), ==, -EINVAL);
	g_assert_cmpint(gmem_add_access_region(mem, 0, 0, true, fx_access, &f), ==, -EINVAL);
	g_assert_cmpint(gmem_add_access_region(mem, 0, PG, true, NULL, &f), ==, -EINVAL);
	g_assert_cmpint(
		gmem_add_access_region(mem, UINT64_MAX - PG + 1, 2 * PG, true, fx_access, &f), ==,
		-EINVAL);
	g_assert_cmpint(gmem_add_access_region(mem, 0, PG, true, fx_access, &f), ==, 0);
	g_assert_cmpint(gmem_add_access_region(mem, PG, PG, false, fx_access, &f), ==, 0);
	g_assert_cmpint(gmem_add_access_region(mem, PG, PG, true, fx_access, &f), ==, -EEXIST);
	g_assert_cmpint(gmem_add_region(mem, 4 * PG, PG, -1, 0, NULL), ==, -EINVAL); /* no hva */
	g_assert_cmpint(gmem_add_region(mem, 0, PG, -1, 0, ram), ==, -EEXIST);
	/* No pointer into it, ever; copies go through the callback, bounds checked first. */
	g_assert_null(gmem_translate(mem, 0, 1));
	g_assert_null(gmem_translate_read(mem, PG, 1));
	g_assert_true(gmem_contains(mem, 0, PG, true));
	g_assert_false(gmem_contains(mem, PG - 1, 2, false)); /* straddles two regions */
	g_assert_false(gmem_contains(mem, PG, 1, true));      /* read-only */
	g_assert_cmpint(gmem_write(mem, 8, "copied!", 8), ==, 0);
	g_assert_cmpint(gmem_read(f.d.mem, 8, buf, 8), ==, 0);
	g_assert_cmpmem(buf, 8, "copied!", 8);
	g_assert_cmpint(gmem_read(mem, 8, buf, 8), ==, 0);
	g_assert_cmpuint(f.calls, ==, 2);
	g_assert_cmpint(gmem_write(mem, PG, buf, 1), ==, -EFAULT);	  /* read-only */
	g_assert_cmpint(gmem_read(mem, 2 * PG - 4, buf, 8), ==, -EFAULT); /* past the end */
	g_assert_cmpint(gmem_read(mem, PG - 4, buf, 8), ==, -EFAULT);	  /* straddling */
	g_assert_cmpuint(f.calls, ==, 2);				  /* none reached it */
	f.fail_at = 3;
	g_assert_cmpint(gmem_read(mem, 0, buf, 8), ==, -EIO); /* the callback's error */
	g_assert_cmpuint(gmem_size(mem), ==, 2 * PG);
	g_assert_cmpint(gmem_remove_region(mem, PG, PG), ==, 0);
	g_assert_false(gmem_contains(mem, PG, 1, false));
	gmem_destroy(mem);
	gmem_destroy(f.d.mem);
}

/* virtio-rng: rings and buffers by copy; the guest sees random bytes and the used entry. */
static void test_rng(struct fx *f, gconstpointer data)
{
	const struct vdrv_buf b[] = {{VDRV_DATA, 100, true}, {VDRV_DATA + 0x1000, 28, true}};
	uint8_t *p = vdrv_ptr(&f->d, VDRV_DATA, 100), *q = vdrv_ptr(&f->d, VDRV_DATA + 0x1000, 28);
	static const uint8_t zero[100];
	uint32_t id, len;

	memset(p, 0, 100);
	memset(q, 0, 28);
	vdrv_chain(&f->d, 0, 3, b, 2);
	f->calls = f->writes = 0;
	vdrv_kick(&f->d, 0, 3, false);
	g_assert_true(vdrv_used(&f->d, 0, &id, &len));
	g_assert_cmpuint(id, ==, 3);
	g_assert_cmpuint(len, ==, 128);
	g_assert_true(memcmp(p, zero, 100) != 0);
	g_assert_true(memcmp(q, zero, 28) != 0);
	/* Ring reads, two descriptors, both buffers back, the used element and index. */
	g_assert_cmpuint(f->writes, ==, 4);
	g_assert_cmpuint(f->calls, >=, 8);
	g_assert_cmphex(vdrv_status(&f->d) & VIRTIO_STATUS_NEEDS_RESET, ==, 0);
}

/* A chain of 5 x 1 MiB writable buffers needs more copies than VIRTQ_BOUNCE_MAX. */
static void test_rng_bounce_limit(struct fx *f, gconstpointer data)
{
	struct vdrv_buf b[5];
	uint32_t id, len;

	for (unsigned i = 0; i < G_N_ELEMENTS(b); i++)
		b[i] = (struct vdrv_buf){VDRV_DATA, 1u << 20, true};
	vdrv_chain(&f->d, 0, 0, b, G_N_ELEMENTS(b));
	vdrv_kick(&f->d, 0, 0, false);
	g_assert_cmphex(vdrv_status(&f->d) & VIRTIO_STATUS_NEEDS_RESET, !=, 0);
	g_assert_false(vdrv_used(&f->d, 0, &id, &len));
	/* Four of them fit. */
	vdrv_start(&f->d, 0, 1);
	vdrv_chain(&f->d, 0, 0, b, 4);
	vdrv_kick(&f->d, 0, 0, false);
	g_assert_true(vdrv_used(&f->d, 0, &id, &len));
	g_assert_cmpuint(len, >, 0); /* as much as the device gives per request */
	g_assert_cmphex(vdrv_status(&f->d) & VIRTIO_STATUS_NEEDS_RESET, ==, 0);
}

/* Each copy failing in turn: the queue is broken, nothing is used, nothing leaks. */
static void test_rng_copy_fails(struct fx *f, gconstpointer data)
{
	const struct vdrv_buf b[] = {{VDRV_DATA, 64, true}, {VDRV_DATA + 0x1000, 64, true}};
	unsigned total;
	uint32_t id, len;

	vdrv_chain(&f->d, 0, 0, b, 2);
	f->calls = 0;
	vdrv_kick(&f->d, 0, 0, false);
	g_assert_true(vdrv_used(&f->d, 0, &id, &len));
	total = f->calls;
	for (unsigned n = 1; n <= total; n++) {
		g_test_message("copy %u of %u fails", n, total);
		vdrv_start(&f->d, 0, 1);
		vdrv_chain(&f->d, 0, 0, b, 2);
		f->calls = 0;
		f->fail_at = n;
		vdrv_kick(&f->d, 0, 0, false);
		f->fail_at = 0;
		/* Only the last copy (the interrupt-suppression flags) may fail harmlessly. */
		if (n < total)
			g_assert_cmphex(vdrv_status(&f->d) & VIRTIO_STATUS_NEEDS_RESET, !=, 0);
	}
}

/* virtio-blk: data out of and into guest RAM by copy, checked against the image. */
static void test_blk(struct fx *f, gconstpointer data)
{
	const uint64_t hdr = VDRV_DATA, status = VDRV_DATA + 0x800, buf = VDRV_DATA + 0x1000;
	const struct vdrv_buf b[] = {{hdr, 16, false}, {buf, 2 * PG, false}, {status, 1, true}};
	struct vdrv_buf r[3] = {b[0], {buf, 2 * PG, true}, b[2]};
	uint8_t *h = vdrv_ptr(&f->d, hdr, 16), *st = vdrv_ptr(&f->d, status, 1);
	uint8_t *d = vdrv_ptr(&f->d, buf, 2 * PG), want[2 * PG], file[2 * PG];
	uint32_t id, len, type = 1; /* OUT */
	uint64_t sector = 8;

	for (unsigned i = 0; i < sizeof(want); i++)
		want[i] = (uint8_t)(i * 13 + 5);
	memcpy(d, want, sizeof(want));
	memset(h, 0, 16);
	memcpy(h, &type, 4);
	memcpy(h + 8, &sector, 8);
	*st = 0xee;
	vdrv_chain(&f->d, 0, 0, b, 3);
	vdrv_kick(&f->d, 0, 0, false);
	g_assert_true(vdrv_used(&f->d, 0, &id, &len));
	g_assert_cmpuint(*st, ==, 0);
	g_assert_cmpint(pread(f->fd, file, sizeof(file), 8 * 512), ==, sizeof(file));
	g_assert_cmpmem(file, sizeof(file), want, sizeof(want));
	/* IN: the device writes into the copies, which go back to guest RAM. */
	memset(d, 0, sizeof(want));
	type = 0;
	memcpy(h, &type, 4);
	*st = 0xee;
	vdrv_chain(&f->d, 0, 1, r, 3);
	vdrv_kick(&f->d, 0, 1, false);
	g_assert_true(vdrv_used(&f->d, 0, &id, &len));
	g_assert_cmpuint(id, ==, 1);
	g_assert_cmpuint(len, ==, 2 * PG + 1);
	g_assert_cmpuint(*st, ==, 0);
	g_assert_cmpmem(d, sizeof(want), want, sizeof(want));
}

/*
 * Queue 0's descriptor table and available ring (VDRV_RING(0) and +0x1000) and the
 * buffers the device reads lie in a read-only region [0, RO_END); its used ring
 * (+0x2000), the status byte and the buffers the device writes in a writable one.
 */
#define RO_END (VDRV_RING(0) + 0x2000)
#define RO_HDR 0x4000ull  /* a request header: device-readable */
#define RO_DATA 0x6000ull /* two pages the device reads */

static void setup_blk_ro(struct fx *f, gconstpointer data)
{
	g_autofree char *props = NULL;
	bool mapped = GPOINTER_TO_INT(data);
	int fd;

	memset(f, 0, sizeof(*f));
	f->fd = g_file_open_tmp("mpvmm-vdma-XXXXXX", &f->path, NULL);
	g_assert_cmpint(f->fd, >=, 0);
	g_assert_cmpint(ftruncate(f->fd, 64 * 512), ==, 0);
	props = g_strdup_printf("{\"fd\": \"%d\"}", f->fd);
	vdrv_create(&f->d, "virtio-blk", props);
	g_assert_cmpint(gmem_create_empty(&f->devmem), ==, 0);
	fd = f->d.mem->region[0].fd; /* the memfd behind vdrv's RAM, as DMA_MAP sends it */
	if (mapped) {
		g_assert_cmpint(gmem_map_fd(f->devmem, 0, RO_END, dup(fd), 0, false), ==, 0);
		g_assert_cmpint(
			gmem_map_fd(f->devmem, RO_END, VDRV_RAM - RO_END, dup(fd), RO_END, true),
			==, 0);
	} else {
		g_assert_cmpint(gmem_add_access_region(f->devmem, 0, RO_END, false, fx_access, f),
				==, 0);
		g_assert_cmpint(gmem_add_access_region(f->devmem, RO_END, VDRV_RAM - RO_END, true,
						       fx_access, f),
				==, 0);
	}
	f->d.dev->env.mem = f->devmem;
	vdrv_start(&f->d, 0, 1); /* asserts the queue was enabled: its rings passed */
}

/* Request header: type and sector. */
static void blk_hdr(struct fx *f, uint32_t type, uint64_t sector)
{
	uint8_t *h = vdrv_ptr(&f->d, RO_HDR, 16);

	memset(h, 0, 16);
	memcpy(h, &type, 4);
	memcpy(h + 8, &sector, 8);
}

static void test_blk_ro(struct fx *f, gconstpointer data)
{
	const uint64_t status = VDRV_DATA + 0x800, in = VDRV_DATA + 0x1000;
	const struct vdrv_buf w[] = {
		{RO_HDR, 16, false}, {RO_DATA, 2 * PG, false}, {status, 1, true}};
	const struct vdrv_buf r[] = {{RO_HDR, 16, false}, {in, 2 * PG, true}, {status, 1, true}};
	uint8_t *st = vdrv_ptr(&f->d, status, 1), *src = vdrv_ptr(&f->d, RO_DATA, 2 * PG);
	uint8_t file[2 * PG];
	uint32_t id, len;

	for (unsigned i = 0; i < 2 * PG; i++)
		src[i] = (uint8_t)(i * 7 + 3);
	blk_hdr(f, 1, 4); /* OUT at sector 4, its data read from the read-only region */
	*st = 0xee;
	vdrv_chain(&f->d, 0, 0, w, 3);
	vdrv_kick(&f->d, 0, 0, false);
	g_assert_true(vdrv_used(&f->d, 0, &id, &len));
	g_assert_cmpuint(*st, ==, 0);
	g_assert_cmpint(pread(f->fd, file, sizeof(file), 4 * 512), ==, sizeof(file));
	g_assert_cmpmem(file, sizeof(file), src, 2 * PG);
	blk_hdr(f, 0, 4); /* IN into the writable region */
	memset(vdrv_ptr(&f->d, in, 2 * PG), 0, 2 * PG);
	*st = 0xee;
	vdrv_chain(&f->d, 0, 3, r, 3);
	vdrv_kick(&f->d, 0, 3, false);
	g_assert_true(vdrv_used(&f->d, 0, &id, &len));
	g_assert_cmpuint(len, ==, 2 * PG + 1);
	g_assert_cmpuint(*st, ==, 0);
	g_assert_cmpmem(vdrv_ptr(&f->d, in, 2 * PG), 2 * PG, src, 2 * PG);
	g_assert_cmphex(vdrv_status(&f->d) & VIRTIO_STATUS_NEEDS_RESET, ==, 0);
}

/* A device-writable buffer in the read-only region: refused, nothing used. */
static void test_blk_ro_write_refused(struct fx *f, gconstpointer data)
{
	const struct vdrv_buf r[] = {
		{RO_HDR, 16, false}, {RO_DATA, PG, true}, {VDRV_DATA, 1, true}};
	uint32_t id, len;

	blk_hdr(f, 0, 0);
	vdrv_chain(&f->d, 0, 0, r, 3);
	vdrv_kick(&f->d, 0, 0, false);
	g_assert_cmphex(vdrv_status(&f->d) & VIRTIO_STATUS_NEEDS_RESET, !=, 0);
	g_assert_false(vdrv_used(&f->d, 0, &id, &len));
}

/*
 * The same queue with its used ring moved into the read-only region (table and avail
 * ring stay there, as in setup): not enabled, the device signals an error.  Common
 * configuration offsets from virtio 1.1, 4.1.4.3.
 */
static void test_blk_ro_used_refused(struct fx *f, gconstpointer data)
{
	enum {
		Q_SELECT = 22,
		Q_SIZE = 24,
		Q_ENABLE = 28,
		Q_DESC = 32,
		Q_DRIVER = 40,
		Q_DEVICE = 48
	};

	g_assert_cmpuint(vdrv_negotiate(&f->d, BIT64(VIRTIO_F_VERSION_1)) &
				 VIRTIO_STATUS_FEATURES_OK,
			 !=, 0);
	vdrv_wr(&f->d, Q_SELECT, 2, 0);
	vdrv_wr(&f->d, Q_SIZE, 2, 16);
	vdrv_wr(&f->d, Q_DESC, 8, VDRV_RING(0));
	vdrv_wr(&f->d, Q_DRIVER, 8, VDRV_RING(0) + 0x1000);
	vdrv_wr(&f->d, Q_DEVICE, 8, VDRV_RING(0) + 0x1800); /* 134 bytes, inside [0, RO_END) */
	vdrv_wr(&f->d, Q_ENABLE, 2, 1);
	g_assert_cmpuint(vdrv_rd(&f->d, Q_ENABLE, 2), ==, 0);
	g_assert_cmphex(vdrv_status(&f->d) & VIRTIO_STATUS_NEEDS_RESET, !=, 0);
	/* Back in the writable region, the same rings are accepted. */
	vdrv_negotiate(&f->d, BIT64(VIRTIO_F_VERSION_1));
	vdrv_wr(&f->d, Q_SELECT, 2, 0);
	vdrv_wr(&f->d, Q_SIZE, 2, 16);
	vdrv_wr(&f->d, Q_DESC, 8, VDRV_RING(0));
	vdrv_wr(&f->d, Q_DRIVER, 8, VDRV_RING(0) + 0x1000);
	vdrv_wr(&f->d, Q_DEVICE, 8, RO_END);
	vdrv_wr(&f->d, Q_ENABLE, 2, 1);
	g_assert_cmpuint(vdrv_rd(&f->d, Q_ENABLE, 2), ==, 1);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/devices/virtio-dma/gmem-access-region", test_gmem_access_region);
	g_test_add("/devices/virtio-dma/rng", struct fx, NULL, setup_rng, test_rng, teardown);
	g_test_add("/devices/virtio-dma/rng-bounce-limit", struct fx, NULL, setup_rng,
		   test_rng_bounce_limit, teardown);
	g_test_add("/devices/virtio-dma/rng-copy-fails", struct fx, NULL, setup_rng,
		   test_rng_copy_fails, teardown);
	g_test_add("/devices/virtio-dma/blk", struct fx, NULL, setup_blk, test_blk, teardown);
	for (int mapped = 0; mapped < 2; mapped++) {
		const char *kind = mapped ? "mapped" : "copied";
		g_autofree char *ok = g_strdup_printf("/devices/virtio-dma/blk-ro-%s", kind);
		g_autofree char *wr = g_strdup_printf("/devices/virtio-dma/blk-ro-%s-write", kind);
		g_autofree char *used = g_strdup_printf("/devices/virtio-dma/blk-ro-%s-used", kind);

		g_test_add(ok, struct fx, GINT_TO_POINTER(mapped), setup_blk_ro, test_blk_ro,
			   teardown);
		g_test_add(wr, struct fx, GINT_TO_POINTER(mapped), setup_blk_ro,
			   test_blk_ro_write_refused, teardown);
		g_test_add(used, struct fx, GINT_TO_POINTER(mapped), setup_blk_ro,
			   test_blk_ro_used_refused, teardown);
	}
	return g_test_run();
}
