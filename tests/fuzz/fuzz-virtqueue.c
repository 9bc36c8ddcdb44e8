// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A seeded random driver for the virtqueue code: it programs virtio-rng and virtio-blk
 * devices with random queue sizes, ring addresses, descriptor tables (direct and
 * indirect, looping, wrapping, out of RAM), avail rings and request headers, kicks them
 * and rewrites the rings between kicks, and drives the PCI_CFG window (virtio_pci_cfg.c)
 * with random fields and accesses.  It checks that every kick returns (no hang),
 * that nothing crashes, and that the canary pages on both sides of guest RAM are never
 * written.  It runs twice: once with guest RAM mapped in the device's gmem
 * (gmem_add_region), once with the device reaching the same RAM only by copies
 * (gmem_add_access_region, as over vfio-user DMA_READ/DMA_WRITE: virtqueue.c's bounce
 * buffers, write-back and used-ring copies), its first quarter read-only and one copy
 * in COPY_FAIL_ONE_IN failing; there a write must never reach the read-only part.
 * Not a coverage-guided fuzzer; FUZZ_SEED and FUZZ_SECONDS (default 1 and 2, per run)
 * pick the run, and the seed is printed so a failure can be replayed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <glib.h>

#include "devices/devices.h"
#include "devices/virtio.h"

const struct dev_ops *const dev_table[] = {&virtio_rng_ops, &virtio_blk_ops, NULL};

#define RAM (1u << 20)
#define GUARD (64u << 10)
#define CANARY 0xcb
#define NR_HDRS 8	 /* blk request headers at 0x1000 * i, with plausible types */
#define RO_END (RAM / 4) /* copied run: [0, RO_END) read-only to the device */
#define COPY_FAIL_ONE_IN 512

enum {
	CC_GF = 12,
	CC_GFSELECT = 8,
	CC_STATUS = 20,
	CC_Q_SELECT = 22,
	CC_Q_SIZE = 24,
	CC_Q_ENABLE = 28,
	CC_Q_DESC = 32,
	CC_Q_DRIVER = 40,
	CC_Q_DEVICE = 48
};

struct fz {
	GRand *rand;
	uint8_t *base;	   /* GUARD + RAM + GUARD, RAM at gpa 0 */
	struct gmem *mem;  /* the driver's view: RAM mapped */
	struct gmem *dmem; /* the device's view: mem itself, or copies into it */
	unsigned long copies, copy_fails;
	uint64_t desc, avail, used;
	unsigned size;
	int memfd, rngfd, imgfd;
	char *img;
	struct dev *dev[2];
};

static void wr(struct dev *dev, uint64_t off, unsigned size, uint64_t v)
{
	g_assert_cmpint(dev_bar_write(dev, VIRTIO_PCI_BAR, off, size, v), ==, 0);
}

static uint32_t rnd(struct fz *z, uint32_t n)
{
	return g_rand_int_range(z->rand, 0, n);
}

/* An address: mostly inside RAM, sometimes at its edges or anywhere at all. */
static uint64_t rnd_addr(struct fz *z)
{
	switch (rnd(z, 64)) {
	case 0:
		return ((uint64_t)g_rand_int(z->rand) << 32) | g_rand_int(z->rand);
	case 1:
		return RAM - rnd(z, 64);
	case 2:
		return UINT64_MAX - rnd(z, 64);
	default:
		return rnd(z, 2) ? 0x1000ull * rnd(z, NR_HDRS) : rnd(z, RAM);
	}
}

static uint32_t rnd_len(struct fz *z)
{
	switch (rnd(z, 64)) {
	case 0:
		return g_rand_int(z->rand);
	case 1:
		return 0;
	default:
		return rnd(z, 2) ? 16 * (1 + rnd(z, 8)) : 512 * rnd(z, 9) + rnd(z, 2);
	}
}

/*
 * Flags: usually readable at even indexes and writable at odd ones, where the chain
 * mostly ends, so chains look like requests; sometimes anything at all.
 */
static uint16_t rnd_flags(struct fz *z, unsigned i)
{
	if (rnd(z, 64) == 0)
		return rnd(z, 0x10000);
	if (rnd(z, 32) == 0)
		return VIRTQ_DESC_F_INDIRECT;
	if (i % 2)
		return VIRTQ_DESC_F_WRITE | (rnd(z, 8) ? 0 : VIRTQ_DESC_F_NEXT);
	return rnd(z, 4) ? VIRTQ_DESC_F_NEXT : 0;
}

static void put_desc(struct fz *z, uint64_t table, unsigned i, unsigned tsize)
{
	uint8_t *p = gmem_translate(z->mem, table + 16ull * i, 16);
	uint64_t addr = rnd_addr(z);
	uint32_t len = rnd_len(z);
	uint16_t flags = rnd_flags(z, i), next = rnd(z, 32) ? (i + 1) % tsize : rnd(z, 0x10000);

	if (!p)
		return;
	memcpy(p, &addr, 8);
	memcpy(p + 8, &len, 4);
	memcpy(p + 12, &flags, 2);
	memcpy(p + 14, &next, 2);
}

/* Random rings: descriptor table, a few indirect tables, avail ring and index. */
static void scribble(struct fz *z)
{
	uint16_t *avail = gmem_translate(z->mem, z->avail, 4 + 2 * z->size);

	for (unsigned i = 0; i < z->size; i++)
		put_desc(z, z->desc, i, z->size);
	for (unsigned t = 0; t < 4; t++) {
		uint64_t table = rnd(z, RAM / 16) * 16ull;

		for (unsigned i = 0; i < 8; i++)
			put_desc(z, table, i, 8);
	}
	for (unsigned h = 0; h < NR_HDRS; h++) {
		static const uint32_t types[] = {0, 1, 4, 8, 11, 13, 99};
		uint32_t *hdr = gmem_translate(z->mem, 0x1000ull * h, 16);

		hdr[0] = types[rnd(z, G_N_ELEMENTS(types))];
		hdr[2] = rnd(z, 4) ? rnd(z, 256) : g_rand_int(z->rand);
		hdr[3] = rnd(z, 4) ? 0 : g_rand_int(z->rand);
	}
	if (!avail || (uintptr_t)avail % 2)
		return; /* a misaligned ring: the device refused to enable the queue */
	for (unsigned i = 0; i < z->size; i++)
		avail[2 + i] = rnd(z, 64) ? rnd(z, z->size) : rnd(z, 0x10000);
	avail[0] = rnd(z, 2);
	avail[1] += rnd(z, 64) ? rnd(z, MIN(z->size, 4u) + 1) : rnd(z, 0x10000);
}

/* Reset, negotiate, and set up queue 0 with random (usually valid) rings. */
static void setup_queue(struct fz *z, struct dev *dev)
{
	uint32_t features = rnd(z, 2) << VIRTIO_F_INDIRECT_DESC;

	wr(dev, CC_STATUS, 1, 0);
	wr(dev, CC_STATUS, 1, 3);
	wr(dev, CC_GFSELECT, 4, 0);
	wr(dev, CC_GF, 4, features);
	wr(dev, CC_GFSELECT, 4, 1);
	wr(dev, CC_GF, 4, 1); /* VERSION_1 */
	wr(dev, CC_STATUS, 1, 0x0b);
	z->size = 1u << rnd(z, 9);
	z->desc = rnd(z, 32) ? rnd(z, RAM / 16) * 16ull : rnd_addr(z);
	z->avail = rnd(z, 32) ? rnd(z, RAM / 2) * 2ull : rnd_addr(z);
	z->used = rnd(z, 32) ? rnd(z, RAM / 4) * 4ull : rnd_addr(z);
	wr(dev, CC_Q_SELECT, 2, 0);
	wr(dev, CC_Q_SIZE, 2, z->size);
	wr(dev, CC_Q_DESC, 8, z->desc);
	wr(dev, CC_Q_DRIVER, 8, z->avail);
	wr(dev, CC_Q_DEVICE, 8, z->used);
	wr(dev, CC_Q_ENABLE, 2, 1);
	wr(dev, CC_STATUS, 1, 0x0f);
}

/*
 * A PCI_CFG window access: fields mostly valid (the virtio BAR, length 1/2/4, inside
 * it), sometimes anything; then a read or write of pci_cfg_data, which may notify or
 * reset the device like the same BAR access would.
 */
static void window_op(struct fz *z, struct dev *dev)
{
	static const uint32_t lens[] = {1, 2, 4, 4, 0, 3, 8};
	unsigned cap = virtio_dev_of(dev)->pcicfg_cap, size = 1u << rnd(z, 3);
	uint32_t len = lens[rnd(z, G_N_ELEMENTS(lens))], v;
	uint32_t off = rnd(z, 16) ? rnd(z, 0x4400) : g_rand_int(z->rand);
	uint8_t bar = rnd(z, 8) ? VIRTIO_PCI_BAR : rnd(z, 256);

	if (rnd(z, 4) && len && len < 8)
		off &= ~(len - 1);
	g_assert_cmpint(dev_cfg_write(dev, cap + 4, 1, bar), ==, 0);
	g_assert_cmpint(dev_cfg_write(dev, cap + 8, 4, off), ==, 0);
	g_assert_cmpint(dev_cfg_write(dev, cap + 12, 4, len), ==, 0);
	if (rnd(z, 2))
		g_assert_cmpint(dev_cfg_read(dev, cap + 16 + rnd(z, 4) / size * size, size, &v), ==,
				0);
	else
		g_assert_cmpint(dev_cfg_write(dev, cap + 16 + rnd(z, 4) / size * size, size,
					      g_rand_int(z->rand)),
				==, 0);
}

/* Chains the device completed since the queue was set up (its own count). */
static unsigned used_count(struct dev *dev)
{
	return virtio_dev_of(dev)->vq[0].used_idx;
}

static uint8_t status(struct dev *dev)
{
	uint64_t v;

	g_assert_cmpint(dev_bar_read(dev, VIRTIO_PCI_BAR, CC_STATUS, 1, &v), ==, 0);
	return v;
}

static void check_canaries(const struct fz *z)
{
	for (unsigned i = 0; i < GUARD; i++) {
		if (z->base[i] != CANARY || z->base[GUARD + RAM + i] != CANARY)
			g_error("canary overwritten at guard offset %u", i);
	}
}

/*
 * The copied run's DMA_READ/DMA_WRITE: gmem already checked the range against the
 * region; check it again, refuse nothing but a random copy, and never take a write
 * into the read-only part.
 */
static int fz_access(void *ctx, uint64_t gpa, void *buf, uint64_t len, bool write)
{
	struct fz *z = ctx;
	uint64_t end;

	if (len == 0 || __builtin_add_overflow(gpa, len, &end) || end > RAM)
		g_error("copy of 0x%" G_GINT64_MODIFIER "x+0x%" G_GINT64_MODIFIER "x outside RAM",
			gpa, len);
	if (write && gpa < RO_END)
		g_error("write to read-only RAM at 0x%" G_GINT64_MODIFIER "x", gpa);
	if ((gpa < RO_END) != (end <= RO_END))
		g_error("copy straddles two regions at 0x%" G_GINT64_MODIFIER "x", gpa);
	z->copies++;
	if (rnd(z, COPY_FAIL_ONE_IN) == 0) {
		z->copy_fails++;
		return -EIO;
	}
	return write ? gmem_write(z->mem, gpa, buf, len) : gmem_read(z->mem, gpa, buf, len);
}

static struct dev *create(const char *type, const char *props_json, struct fz *z)
{
	json_object *props = json_tokener_parse(props_json);
	struct dev_env env = {.mem = z->dmem};
	g_autofree char *err = NULL;
	struct dev *dev;

	if (dev_create(type, "fz0", &env, props, &dev, &err) < 0)
		g_error("%s", err);
	json_object_put(props);
	return dev;
}

/* Guest RAM at gpa 0 with canary pages on both sides, and the two devices. */
static void fz_setup(struct fz *z, guint32 seed, bool copied)
{
	g_autofree char *rprops = NULL, *bprops = NULL;

	z->rand = g_rand_new_with_seed(seed);
	z->memfd = memfd_create("fuzz-ram", MFD_CLOEXEC);
	g_assert_cmpint(z->memfd, >=, 0);
	g_assert_cmpint(ftruncate(z->memfd, RAM + 2 * GUARD), ==, 0);
	z->base = mmap(NULL, RAM + 2 * GUARD, PROT_READ | PROT_WRITE, MAP_SHARED, z->memfd, 0);
	g_assert_true(z->base != MAP_FAILED);
	memset(z->base, CANARY, RAM + 2 * GUARD);
	g_assert_cmpint(gmem_create_empty(&z->mem), ==, 0);
	g_assert_cmpint(gmem_add_region(z->mem, 0, RAM, -1, 0, z->base + GUARD), ==, 0);
	z->dmem = z->mem;
	if (copied) {
		g_assert_cmpint(gmem_create_empty(&z->dmem), ==, 0);
		g_assert_cmpint(gmem_add_access_region(z->dmem, 0, RO_END, false, fz_access, z), ==,
				0);
		g_assert_cmpint(
			gmem_add_access_region(z->dmem, RO_END, RAM - RO_END, true, fz_access, z),
			==, 0);
	}
	z->rngfd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	z->imgfd = g_file_open_tmp("mpvmm-fuzz-XXXXXX", &z->img, NULL);
	g_assert_cmpint(ftruncate(z->imgfd, 256 * 512), ==, 0);
	rprops = g_strdup_printf("{\"fd\": \"%d\"}", z->rngfd);
	bprops = g_strdup_printf("{\"fd\": \"%d\"}", z->imgfd);
	z->dev[0] = create("virtio-rng", rprops, z);
	z->dev[1] = create("virtio-blk", bprops, z);
}

static void fz_teardown(struct fz *z)
{
	dev_destroy(z->dev[0]);
	dev_destroy(z->dev[1]);
	if (z->dmem != z->mem)
		gmem_destroy(z->dmem);
	gmem_destroy(z->mem);
	munmap(z->base, RAM + 2 * GUARD);
	g_rand_free(z->rand);
	close(z->memfd);
	close(z->rngfd);
	close(z->imgfd);
	unlink(z->img);
	g_free(z->img);
}

/* An unsigned environment variable, or def when unset; a bad value fails the test. */
static guint32 env_u32(const char *name, guint32 def)
{
	const char *s = g_getenv(name);
	guint64 v;

	if (!s)
		return def;
	if (!g_ascii_string_to_unsigned(s, 10, 0, G_MAXUINT32, &v, NULL))
		g_error("%s=%s: expected an integer from 0 to %u", name, s, G_MAXUINT32);
	return (guint32)v;
}

static void test_fuzz(gconstpointer data)
{
	bool copied = GPOINTER_TO_INT(data);
	guint32 seed = env_u32("FUZZ_SEED", 1);
	gint64 end = g_get_monotonic_time() + env_u32("FUZZ_SECONDS", 2) * G_USEC_PER_SEC;
	unsigned long iters = 0, served = 0, broken = 0;
	struct fz z = {0};

	g_test_message("seed %u (replay: FUZZ_SEED=%u)", seed, seed);
	fz_setup(&z, seed, copied);
	while (g_get_monotonic_time() < end) {
		struct dev *d = z.dev[rnd(&z, 2)];

		setup_queue(&z, d);
		for (unsigned k = 0; k < 4; k++) {
			scribble(&z);
			wr(d, VIRTIO_PCI_NOTIFY, 2, 0);
			if (rnd(&z, 2))
				window_op(&z, d);
		}
		check_canaries(&z);
		served += used_count(d);
		broken += status(d) & VIRTIO_STATUS_NEEDS_RESET ? 1 : 0;
		iters++;
	}
	/* Both outcomes must occur, or the driver is not exercising the device. */
	g_test_message("%lu iterations, %lu requests served, %lu queues broken", iters, served,
		       broken);
	g_assert_cmpuint(served, >, 0);
	g_assert_cmpuint(broken, >, 0);
	if (copied) {
		g_test_message("%lu copies, %lu failed on purpose", z.copies, z.copy_fails);
		g_assert_cmpuint(z.copies, >, 0);
	}
	fz_teardown(&z);
}

static void quiet(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer data)
{
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	/* Every refused chain logs a debug line; millions of them are not worth printing. */
	if (!g_getenv("G_MESSAGES_DEBUG"))
		g_log_set_handler("devices", G_LOG_LEVEL_DEBUG, quiet, NULL);
	g_test_add_data_func("/fuzz/virtqueue/random-chains", GINT_TO_POINTER(false), test_fuzz);
	g_test_add_data_func("/fuzz/virtqueue/random-chains-copied", GINT_TO_POINTER(true),
			     test_fuzz);
	return g_test_run();
}
