// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A seeded random driver for the virtqueue code: it programs virtio-rng and virtio-blk
 * devices with random queue sizes, ring addresses, descriptor tables (direct and
 * indirect, looping, wrapping, out of RAM), avail rings and request headers, kicks them
 * and rewrites the rings between kicks, and drives the PCI_CFG window (virtio_pci_cfg.c)
 * with random fields and accesses.  It checks that every kick returns (no hang),
 * that nothing crashes, and that the canary pages on both sides of guest RAM are never
 * written.  Not a coverage-guided fuzzer; FUZZ_SEED and FUZZ_SECONDS (default 1 and 2)
 * pick the run, and the seed is printed so a failure can be replayed.
 */
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
#define NR_HDRS 8 /* blk request headers at 0x1000 * i, with plausible types */

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
	uint8_t *base; /* GUARD + RAM + GUARD, RAM at gpa 0 */
	struct gmem *mem;
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

static struct dev *create(const char *type, const char *props_json, struct fz *z)
{
	json_object *props = json_tokener_parse(props_json);
	struct dev_env env = {.mem = z->mem};
	g_autofree char *err = NULL;
	struct dev *dev;

	if (dev_create(type, "fz0", &env, props, &dev, &err) < 0)
		g_error("%s", err);
	json_object_put(props);
	return dev;
}

/* Guest RAM at gpa 0 with canary pages on both sides, and the two devices. */
static void fz_setup(struct fz *z, guint32 seed)
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
	gmem_destroy(z->mem);
	munmap(z->base, RAM + 2 * GUARD);
	g_rand_free(z->rand);
	close(z->memfd);
	close(z->rngfd);
	close(z->imgfd);
	unlink(z->img);
	g_free(z->img);
}

static void test_fuzz(void)
{
	const char *seed_env = g_getenv("FUZZ_SEED"), *sec_env = g_getenv("FUZZ_SECONDS");
	guint32 seed = seed_env ? atoi(seed_env) : 1;
	gint64 end = g_get_monotonic_time() + (sec_env ? atoi(sec_env) : 2) * G_USEC_PER_SEC;
	unsigned long iters = 0, served = 0, broken = 0;
	struct fz z = {0};

	g_test_message("seed %u", seed);
	fz_setup(&z, seed);
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
	g_test_add_func("/fuzz/virtqueue/random-chains", test_fuzz);
	return g_test_run();
}
