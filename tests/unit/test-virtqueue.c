// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of devices/virtqueue.c through a virtio-rng device driven by vdrv (ops
 * called directly, guest RAM a real memfd gmem): a good chain, a zero-length buffer,
 * the longest legal chain, and every validation branch: loops, buffers outside RAM or
 * wrapping, next/head indexes beyond the queue, avail index jumps, readable after
 * writable, chains over the byte limit, and each indirect-table error.  A bad chain
 * must set DEVICE_NEEDS_RESET, signal the config vector, write nothing to the used
 * ring and leave the queue dead until reset.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/vdrv.h"

const struct dev_ops *const dev_table[] = {&virtio_rng_ops, NULL};

#define BUF VDRV_DATA
#define TABLE (VDRV_DATA + 0x10000) /* an indirect table */
#define CFG_VECTOR 1

struct fx {
	struct vdrv d;
	int fd;
};

static void setup(struct fx *f, gconstpointer data)
{
	g_autofree char *props = NULL;

	f->fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	g_assert_cmpint(f->fd, >=, 0);
	props = g_strdup_printf("{\"fd\": \"%d\"}", f->fd);
	vdrv_create(&f->d, "virtio-rng", props);
	vdrv_start(&f->d, 0, 1);
	vdrv_wr(&f->d, 16, 2, CFG_VECTOR); /* config_msix_vector */
}

static void teardown(struct fx *f, gconstpointer data)
{
	vdrv_destroy(&f->d);
	close(f->fd);
}

/* The chain at head 0 must be refused: NEEDS_RESET, config vector, nothing used. */
static void expect_broken(struct fx *f, bool kick)
{
	uint32_t id, len;

	if (kick)
		vdrv_kick(&f->d, 0, 0, false);
	g_assert_cmphex(vdrv_status(&f->d) & VIRTIO_STATUS_NEEDS_RESET, !=, 0);
	g_assert_cmpuint(f->d.raised[CFG_VECTOR], ==, 1);
	g_assert_cmphex(vdrv_rd(&f->d, VIRTIO_PCI_ISR, 1), ==, 2); /* config bit, MSI-X too */
	g_assert_false(vdrv_used(&f->d, 0, &id, &len));
	/* Dead until reset: a good chain now is not served either. */
	vdrv_desc(&f->d, VDRV_RING(0), 1, BUF, 8, VIRTQ_DESC_F_WRITE, 0);
	vdrv_kick(&f->d, 0, 1, true);
	g_assert_false(vdrv_used(&f->d, 0, &id, &len));
	/* A reset brings the device back. */
	vdrv_start(&f->d, 0, 1);
	g_assert_cmphex(vdrv_status(&f->d), ==, 0x0f);
	vdrv_desc(&f->d, VDRV_RING(0), 0, BUF, 8, VIRTQ_DESC_F_WRITE, 0);
	vdrv_kick(&f->d, 0, 0, false);
	g_assert_true(vdrv_used(&f->d, 0, &id, &len));
	g_assert_cmpuint(len, ==, 8);
}

static void test_good(struct fx *f, gconstpointer data)
{
	const struct vdrv_buf b[] = {{BUF, 100, true}, {0x4000, 0, true}, {BUF + 0x1000, 28, true}};
	uint8_t *p = vdrv_ptr(&f->d, BUF, 128);
	uint32_t id, len;

	memset(p, 0, 128);
	vdrv_chain(&f->d, 0, 3, b, 3);
	vdrv_kick(&f->d, 0, 3, false);
	g_assert_true(vdrv_used(&f->d, 0, &id, &len));
	g_assert_cmpuint(id, ==, 3);
	g_assert_cmpuint(len, ==, 128);
	g_assert_cmpuint(f->d.raised[0], ==, 1);
	g_assert_false(vdrv_used(&f->d, 0, &id, &len));
	g_assert_cmphex(vdrv_status(&f->d), ==, 0x0f);
}

static void test_longest(struct fx *f, gconstpointer data)
{
	struct vdrv_buf b[16];
	uint32_t id, len;

	for (unsigned i = 0; i < 16; i++)
		b[i] = (struct vdrv_buf){BUF + 64 * i, 64, true};
	vdrv_chain(&f->d, 0, 5, b, 16); /* wraps around the table: 5..15, 0..4 */
	vdrv_kick(&f->d, 0, 5, true);
	g_assert_true(vdrv_used(&f->d, 0, &id, &len));
	g_assert_cmpuint(len, ==, 16 * 64);
}

static void test_loop(struct fx *f, gconstpointer data)
{
	vdrv_desc(&f->d, VDRV_RING(0), 0, BUF, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	vdrv_desc(&f->d, VDRV_RING(0), 1, BUF, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
	expect_broken(f, true);
}

static void test_self_loop(struct fx *f, gconstpointer data)
{
	vdrv_desc(&f->d, VDRV_RING(0), 0, BUF, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
	expect_broken(f, true);
}

static void test_outside(struct fx *f, gconstpointer data)
{
	vdrv_desc(&f->d, VDRV_RING(0), 0, VDRV_RAM, 8, VIRTQ_DESC_F_WRITE, 0);
	expect_broken(f, true);
}

static void test_straddle(struct fx *f, gconstpointer data)
{
	vdrv_desc(&f->d, VDRV_RING(0), 0, VDRV_RAM - 8, 16, VIRTQ_DESC_F_WRITE, 0);
	expect_broken(f, true);
}

static void test_wrap(struct fx *f, gconstpointer data)
{
	vdrv_desc(&f->d, VDRV_RING(0), 0, UINT64_MAX - 7, 16, VIRTQ_DESC_F_WRITE, 0);
	expect_broken(f, true);
}

static void test_next_range(struct fx *f, gconstpointer data)
{
	vdrv_desc(&f->d, VDRV_RING(0), 0, BUF, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 16);
	expect_broken(f, true);
}

static void test_head_range(struct fx *f, gconstpointer data)
{
	uint16_t *avail = vdrv_ptr(&f->d, VDRV_RING(0) + 0x1000, 6);

	avail[2] = 16; /* one entry naming descriptor 16 of 16 */
	avail[1] = 1;
	vdrv_wr(&f->d, VIRTIO_PCI_NOTIFY, 2, 0);
	expect_broken(f, false);
}

static void test_avail_jump(struct fx *f, gconstpointer data)
{
	vdrv_desc(&f->d, VDRV_RING(0), 0, BUF, 8, VIRTQ_DESC_F_WRITE, 0);
	f->d.avail_idx[0] = 16; /* the kick publishes 17 entries in a 16-entry ring */
	expect_broken(f, true);
}

static void test_direction(struct fx *f, gconstpointer data)
{
	vdrv_desc(&f->d, VDRV_RING(0), 0, BUF, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	vdrv_desc(&f->d, VDRV_RING(0), 1, BUF, 8, 0, 0); /* readable after writable */
	expect_broken(f, true);
}

static void test_oversized(struct fx *f, gconstpointer data)
{
	/* 256 descriptors of 1.5 MiB each describe 384 MiB: over VIRTQ_MAX_BYTES. */
	g_assert_cmpuint(vdrv_negotiate(&f->d, BIT64(VIRTIO_F_VERSION_1)) & 8, ==, 8);
	vdrv_queue(&f->d, 0, 256);
	vdrv_driver_ok(&f->d);
	vdrv_wr(&f->d, 16, 2, CFG_VECTOR);
	for (unsigned i = 0; i < 256; i++)
		vdrv_desc(&f->d, VDRV_RING(0), i, 0, 3u << 19,
			  VIRTQ_DESC_F_WRITE | (i < 255 ? VIRTQ_DESC_F_NEXT : 0), i + 1);
	expect_broken(f, true);
}

/* An indirect descriptor at 0 pointing at TABLE of `n` bytes with `flags`. */
static void indirect(struct fx *f, uint64_t table, uint32_t n, uint16_t flags)
{
	vdrv_desc(&f->d, VDRV_RING(0), 0, table, n, VIRTQ_DESC_F_INDIRECT | flags, 1);
}

static void test_indirect_good(struct fx *f, gconstpointer data)
{
	uint32_t id, len;

	indirect(f, TABLE, 32, 0);
	vdrv_desc(&f->d, TABLE, 0, BUF, 10, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	vdrv_desc(&f->d, TABLE, 1, BUF + 10, 22, VIRTQ_DESC_F_WRITE, 0);
	vdrv_kick(&f->d, 0, 0, false);
	g_assert_true(vdrv_used(&f->d, 0, &id, &len));
	g_assert_cmpuint(len, ==, 32);
}

static void test_indirect_nested(struct fx *f, gconstpointer data)
{
	indirect(f, TABLE, 16, 0);
	vdrv_desc(&f->d, TABLE, 0, TABLE + 0x100, 16, VIRTQ_DESC_F_INDIRECT, 0);
	vdrv_desc(&f->d, TABLE + 0x100, 0, BUF, 8, VIRTQ_DESC_F_WRITE, 0);
	expect_broken(f, true);
}

static void test_indirect_next(struct fx *f, gconstpointer data)
{
	indirect(f, TABLE, 16, VIRTQ_DESC_F_NEXT);
	vdrv_desc(&f->d, TABLE, 0, BUF, 8, VIRTQ_DESC_F_WRITE, 0);
	vdrv_desc(&f->d, VDRV_RING(0), 1, BUF, 8, VIRTQ_DESC_F_WRITE, 0);
	expect_broken(f, true);
}

static void test_indirect_len(struct fx *f, gconstpointer data)
{
	indirect(f, TABLE, 24, 0); /* not a multiple of 16 */
	vdrv_desc(&f->d, TABLE, 0, BUF, 8, VIRTQ_DESC_F_WRITE, 0);
	expect_broken(f, true);
}

static void test_indirect_empty(struct fx *f, gconstpointer data)
{
	indirect(f, TABLE, 0, 0);
	expect_broken(f, true);
}

static void test_indirect_outside(struct fx *f, gconstpointer data)
{
	indirect(f, VDRV_RAM - 16, 32, 0);
	expect_broken(f, true);
}

static void test_indirect_loop(struct fx *f, gconstpointer data)
{
	indirect(f, TABLE, 32, 0);
	vdrv_desc(&f->d, TABLE, 0, BUF, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	vdrv_desc(&f->d, TABLE, 1, BUF, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
	expect_broken(f, true);
}

static void test_indirect_next_range(struct fx *f, gconstpointer data)
{
	indirect(f, TABLE, 32, 0);
	vdrv_desc(&f->d, TABLE, 0, BUF, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
	expect_broken(f, true);
}

static void test_indirect_not_negotiated(struct fx *f, gconstpointer data)
{
	g_assert_cmpuint(vdrv_negotiate(&f->d, BIT64(VIRTIO_F_VERSION_1)) & 8, ==, 8);
	vdrv_queue(&f->d, 0, 16);
	vdrv_driver_ok(&f->d);
	vdrv_msix(&f->d, true);
	vdrv_wr(&f->d, 16, 2, CFG_VECTOR);
	indirect(f, TABLE, 16, 0);
	vdrv_desc(&f->d, TABLE, 0, BUF, 8, VIRTQ_DESC_F_WRITE, 0);
	expect_broken(f, true);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*fn)(struct fx *, gconstpointer);
	} t[] = {
		{"good", test_good},
		{"longest", test_longest},
		{"loop", test_loop},
		{"self-loop", test_self_loop},
		{"outside-ram", test_outside},
		{"straddle-end", test_straddle},
		{"wrap", test_wrap},
		{"next-range", test_next_range},
		{"head-range", test_head_range},
		{"avail-jump", test_avail_jump},
		{"direction", test_direction},
		{"oversized", test_oversized},
		{"indirect-good", test_indirect_good},
		{"indirect-nested", test_indirect_nested},
		{"indirect-next", test_indirect_next},
		{"indirect-len", test_indirect_len},
		{"indirect-empty", test_indirect_empty},
		{"indirect-outside", test_indirect_outside},
		{"indirect-loop", test_indirect_loop},
		{"indirect-next-range", test_indirect_next_range},
		{"indirect-not-negotiated", test_indirect_not_negotiated},
	};

	g_test_init(&argc, &argv, NULL);
	for (unsigned i = 0; i < G_N_ELEMENTS(t); i++) {
		g_autofree char *path = g_strdup_printf("/devices/virtqueue/%s", t[i].name);

		g_test_add(path, struct fx, NULL, setup, t[i].fn, teardown);
	}
	return g_test_run();
}
