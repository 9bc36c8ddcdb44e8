// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of devices/virtio_pci.c, the modern virtio PCI transport, on a virtio-rng
 * device driven by vdrv: the capability list a driver walks, doorbells, feature
 * negotiation (refusals included), the status state machine, queue registers and the
 * values they refuse, MSI-X vectors, INTx with the ISR, reset, and the PCI_CFG window
 * (virtio_pci_cfg.c) with every window a driver must not use.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/vdrv.h"

const struct dev_ops *const dev_table[] = {&virtio_rng_ops, NULL};

enum {
	CC_MSIX = 16,
	CC_NUMQ = 18,
	CC_STATUS = 20,
	CC_Q_SELECT = 22,
	CC_Q_SIZE = 24,
	CC_Q_MSIX = 26,
	CC_Q_ENABLE = 28,
	CC_Q_NOFF = 30,
	CC_Q_DESC = 32,
	CC_Q_DRIVER = 40
};
#define V1 BIT64(VIRTIO_F_VERSION_1)

struct fx {
	struct vdrv d;
	int fd;
};

static void setup(struct fx *f, gconstpointer data)
{
	g_autofree char *props = NULL;

	f->fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	props = g_strdup_printf("{\"fd\": \"%d\"}", f->fd);
	vdrv_create(&f->d, "virtio-rng", props);
}

static void teardown(struct fx *f, gconstpointer data)
{
	vdrv_destroy(&f->d);
	close(f->fd);
}

static void test_caps(struct fx *f, gconstpointer data)
{
	const uint8_t *c = f->d.dev->cfg.data;
	unsigned seen = 0, types[8] = {0};

	g_assert_cmphex(c[0x06] & 0x10, ==, 0x10);
	g_assert_cmphex(c[0x08], ==, 1); /* revision 1: modern only */
	for (uint8_t at = c[0x34]; at; at = c[at + 1], seen++) {
		g_assert_cmpuint(seen, <, 8);
		if (c[at] == 0x11) {
			g_assert_cmphex(c[at + 2], ==, 1); /* 2 vectors: queue + config */
			continue;
		}
		g_assert_cmphex(c[at], ==, 0x09);
		g_assert_cmpuint(c[at + 3], <, 8);
		types[c[at + 3]] = at;
		/* PCI_CFG's bar is the driver's to set and starts 0 (4.1.4.9). */
		g_assert_cmpuint(c[at + 4], ==, c[at + 3] == 5 ? 0 : VIRTIO_PCI_BAR);
	}
	g_assert_cmpuint(seen, ==, 5); /* common, notify, ISR, PCI_CFG, MSI-X: no config */
	g_assert_cmpuint(types[1] && types[2] && types[3] && types[5], ==, 1);
	g_assert_cmpuint(types[4], ==, 0);
	g_assert_cmpuint(c[types[5] + 2], ==, VIRTIO_PCI_CFG_CAP_LEN);
	g_assert_cmpuint(c[types[2] + 2], ==, 20);
	g_assert_cmpuint(c[types[2] + 16], ==, VIRTIO_PCI_NOTIFY_MULT);
	g_assert_cmphex(c[types[2] + 9] << 8 | c[types[2] + 8], ==, VIRTIO_PCI_NOTIFY);
	g_assert_cmpuint(f->d.dev->nr_doorbells, ==, 1);
	g_assert_cmpuint(f->d.dev->doorbells[0].bar, ==, VIRTIO_PCI_BAR);
	g_assert_cmphex(f->d.dev->doorbells[0].off, ==, VIRTIO_PCI_NOTIFY);
	g_assert_cmpuint(f->d.dev->doorbells[0].size, ==, 2);
}

static void test_features(struct fx *f, gconstpointer data)
{
	g_assert_cmphex(vdrv_features(&f->d), ==, V1 | BIT64(28));
	g_assert_cmphex(vdrv_negotiate(&f->d, 0) & 8, ==, 0);		   /* no VERSION_1 */
	g_assert_cmphex(vdrv_negotiate(&f->d, V1 | BIT64(40)) & 8, ==, 0); /* not offered */
	g_assert_cmphex(vdrv_negotiate(&f->d, V1) & 8, ==, 8);
	/* After FEATURES_OK the driver features are fixed. */
	vdrv_wr(&f->d, 8, 4, 1);
	vdrv_wr(&f->d, 12, 4, 0);
	g_assert_cmphex(vdrv_rd(&f->d, 12, 4), ==, 1);
	/* The device answers beyond its 64 feature bits with 0. */
	vdrv_wr(&f->d, 0, 4, 7);
	g_assert_cmphex(vdrv_rd(&f->d, 4, 4), ==, 0);
}

static void test_status(struct fx *f, gconstpointer data)
{
	vdrv_wr(&f->d, CC_STATUS, 1, 1);
	vdrv_wr(&f->d, CC_STATUS, 1, 1 | 2 | 4); /* DRIVER_OK without FEATURES_OK */
	g_assert_cmphex(vdrv_status(&f->d), ==, 3);
	vdrv_wr(&f->d, CC_STATUS, 1, 2); /* clearing ACKNOWLEDGE is ignored */
	g_assert_cmphex(vdrv_status(&f->d), ==, 3);
	g_assert_cmphex(vdrv_negotiate(&f->d, V1), ==, 0x0b);
	vdrv_driver_ok(&f->d);
	g_assert_cmphex(vdrv_status(&f->d), ==, 0x0f);
	/* Wrong-size accesses to a field are ignored. */
	vdrv_wr(&f->d, CC_STATUS, 2, 0);
	vdrv_wr(&f->d, CC_NUMQ + 1, 1, 5);
	g_assert_cmphex(vdrv_status(&f->d), ==, 0x0f);
	g_assert_cmpuint(vdrv_rd(&f->d, CC_NUMQ, 2), ==, 1);
}

static void test_queue_regs(struct fx *f, gconstpointer data)
{
	vdrv_negotiate(&f->d, V1);
	g_assert_cmpuint(vdrv_rd(&f->d, CC_Q_SIZE, 2), ==, VIRTQ_MAX_SIZE);
	g_assert_cmpuint(vdrv_rd(&f->d, CC_Q_MSIX, 2), ==, VIRTIO_MSI_NO_VECTOR);
	for (unsigned i = 0; i < 4; i++) {
		static const uint16_t bad[] = {0, 3, 512, 0xffff};

		vdrv_wr(&f->d, CC_Q_SIZE, 2, bad[i]);
		g_assert_cmpuint(vdrv_rd(&f->d, CC_Q_SIZE, 2), ==, VIRTQ_MAX_SIZE);
	}
	vdrv_wr(&f->d, CC_Q_MSIX, 2, 2); /* only vectors 0 and 1 exist */
	g_assert_cmpuint(vdrv_rd(&f->d, CC_Q_MSIX, 2), ==, VIRTIO_MSI_NO_VECTOR);
	vdrv_wr(&f->d, CC_MSIX, 2, 9);
	g_assert_cmpuint(vdrv_rd(&f->d, CC_MSIX, 2), ==, VIRTIO_MSI_NO_VECTOR);
	vdrv_wr(&f->d, CC_Q_DESC, 8, 0x123456789abcdef0ull);
	vdrv_wr(&f->d, CC_Q_DESC + 4, 4, 0);
	g_assert_cmphex(vdrv_rd(&f->d, CC_Q_DESC, 8), ==, 0x9abcdef0);
	g_assert_cmpuint(vdrv_rd(&f->d, CC_Q_NOFF, 2), ==, 0);
	/* A queue that does not exist reads size 0 and takes no writes. */
	vdrv_wr(&f->d, CC_Q_SELECT, 2, 1);
	vdrv_wr(&f->d, CC_Q_SIZE, 2, 16);
	g_assert_cmpuint(vdrv_rd(&f->d, CC_Q_SIZE, 2), ==, 0);
	vdrv_wr(&f->d, CC_Q_ENABLE, 2, 1);
	g_assert_cmpuint(vdrv_rd(&f->d, CC_Q_ENABLE, 2), ==, 0);
	/* Misaligned rings, or rings outside RAM, are refused with NEEDS_RESET. */
	vdrv_wr(&f->d, CC_Q_SELECT, 2, 0);
	vdrv_wr(&f->d, CC_Q_DESC, 8, 0x1008);
	vdrv_wr(&f->d, CC_Q_ENABLE, 2, 1);
	g_assert_cmpuint(vdrv_rd(&f->d, CC_Q_ENABLE, 2), ==, 0);
	g_assert_cmphex(vdrv_status(&f->d) & VIRTIO_STATUS_NEEDS_RESET, !=, 0);
	vdrv_negotiate(&f->d, V1);
	vdrv_wr(&f->d, CC_Q_DESC, 8, 0x1000);
	vdrv_wr(&f->d, CC_Q_DRIVER, 8, VDRV_RAM - 4);
	vdrv_wr(&f->d, CC_Q_ENABLE, 2, 1);
	g_assert_cmpuint(vdrv_rd(&f->d, CC_Q_ENABLE, 2), ==, 0);
	g_assert_cmphex(vdrv_status(&f->d) & VIRTIO_STATUS_NEEDS_RESET, !=, 0);
}

static uint32_t serve_one(struct fx *f, bool eventfd)
{
	uint32_t id, len;

	vdrv_desc(&f->d, VDRV_RING(0), 0, VDRV_DATA, 32, VIRTQ_DESC_F_WRITE, 0);
	vdrv_kick(&f->d, 0, 0, eventfd);
	g_assert_true(vdrv_used(&f->d, 0, &id, &len));
	return len;
}

static void test_interrupts(struct fx *f, gconstpointer data)
{
	uint16_t *avail_flags = vdrv_ptr(&f->d, VDRV_RING(0) + 0x1000, 2);

	vdrv_start(&f->d, 0, 1);
	g_assert_cmpuint(serve_one(f, false), ==, 32);
	g_assert_cmpuint(f->d.raised[0], ==, 1);
	g_assert_cmpuint(serve_one(f, true), ==, 32);
	g_assert_cmpuint(f->d.raised[0], ==, 2);
	*avail_flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	serve_one(f, true);
	g_assert_cmpuint(f->d.raised[0], ==, 2);
	*avail_flags = 0;
	/* MSI-X off: INTx and ISR bit 0, read-to-clear. */
	vdrv_msix(&f->d, false);
	serve_one(f, true);
	g_assert_cmpuint(f->d.raised[0], ==, 2);
	g_assert_true(f->d.intx);
	g_assert_cmphex(vdrv_rd(&f->d, VIRTIO_PCI_ISR, 1), ==, 1);
	g_assert_false(f->d.intx);
	g_assert_cmphex(vdrv_rd(&f->d, VIRTIO_PCI_ISR, 1), ==, 0);
	/* A broken queue with INTx: the configuration bit and the line. */
	vdrv_desc(&f->d, VDRV_RING(0), 0, VDRV_RAM, 32, VIRTQ_DESC_F_WRITE, 0);
	vdrv_kick(&f->d, 0, 0, false);
	g_assert_true(f->d.intx);
	g_assert_cmphex(vdrv_rd(&f->d, VIRTIO_PCI_ISR, 1), ==, 2);
	g_assert_false(f->d.intx);
	vdrv_start(&f->d, 0, 1);
	vdrv_msix(&f->d, false);
	/* A reset with INTx asserted deasserts it. */
	serve_one(f, false);
	g_assert_true(f->d.intx);
	vdrv_wr(&f->d, CC_STATUS, 1, 0);
	g_assert_false(f->d.intx);
}

static void test_reset(struct fx *f, gconstpointer data)
{
	uint32_t id, len;

	vdrv_start(&f->d, 0, 1);
	vdrv_wr(&f->d, CC_MSIX, 2, 1);
	dev_reset(f->d.dev); /* function-level reset, as the framework does it */
	g_assert_cmphex(vdrv_status(&f->d), ==, 0);
	g_assert_cmpuint(vdrv_rd(&f->d, CC_Q_ENABLE, 2), ==, 0);
	g_assert_cmpuint(vdrv_rd(&f->d, CC_Q_SIZE, 2), ==, VIRTQ_MAX_SIZE);
	g_assert_cmpuint(vdrv_rd(&f->d, CC_Q_MSIX, 2), ==, VIRTIO_MSI_NO_VECTOR);
	g_assert_cmpuint(vdrv_rd(&f->d, CC_MSIX, 2), ==, VIRTIO_MSI_NO_VECTOR);
	/* A notification on a reset device is ignored. */
	vdrv_desc(&f->d, VDRV_RING(0), 0, VDRV_DATA, 32, VIRTQ_DESC_F_WRITE, 0);
	vdrv_kick(&f->d, 0, 0, false);
	g_assert_false(vdrv_used(&f->d, 0, &id, &len));
	/* Notify addresses past the last queue and the MSI-X BAR are inert. */
	vdrv_wr(&f->d, VIRTIO_PCI_NOTIFY + 4, 2, 1);
	g_assert_cmpint(dev_bar_write(f->d.dev, VIRTIO_PCI_MSIX_BAR, 0, 4, 1), ==, 0);
}

/* Config offset of the PCI_CFG capability. */
static unsigned pcfg_cap(struct fx *f)
{
	const uint8_t *c = f->d.dev->cfg.data;

	for (uint8_t at = c[0x34]; at; at = c[at + 1])
		if (c[at] == 0x09 && c[at + 3] == VIRTIO_PCI_CAP_PCI_CFG)
			return at;
	g_assert_not_reached();
}

static void window(struct fx *f, uint8_t bar, uint32_t off, uint32_t len)
{
	unsigned cap = pcfg_cap(f);

	g_assert_cmpint(dev_cfg_write(f->d.dev, cap + 4, 1, bar), ==, 0);
	g_assert_cmpint(dev_cfg_write(f->d.dev, cap + 8, 4, off), ==, 0);
	g_assert_cmpint(dev_cfg_write(f->d.dev, cap + 12, 4, len), ==, 0);
}

static uint32_t window_rd(struct fx *f, unsigned at, unsigned size)
{
	uint32_t v = 0;

	g_assert_cmpint(dev_cfg_read(f->d.dev, pcfg_cap(f) + 16 + at, size, &v), ==, 0);
	return v;
}

/* Reads and writes through the window are the BAR's, side effects included. */
static void test_pcicfg_window(struct fx *f, gconstpointer data)
{
	unsigned cap = pcfg_cap(f);

	vdrv_negotiate(&f->d, V1);
	window(f, VIRTIO_PCI_BAR, CC_NUMQ, 2);
	g_assert_cmphex(window_rd(f, 0, 4) & 0xffff, ==, vdrv_rd(&f->d, CC_NUMQ, 2));
	g_assert_cmphex(window_rd(f, 0, 2), ==, 1);
	vdrv_wr(&f->d, 0, 4, 1); /* device_feature_select 1: VERSION_1 is bit 0 there */
	window(f, VIRTIO_PCI_BAR, 4, 4);
	g_assert_cmphex(window_rd(f, 0, 4), ==, vdrv_rd(&f->d, 4, 4));
	g_assert_cmphex(window_rd(f, 0, 4), ==, 1);
	window(f, VIRTIO_PCI_BAR, CC_Q_SIZE, 2); /* one byte of the two, at data + 1 */
	g_assert_cmphex(window_rd(f, 1, 1), ==, VIRTQ_MAX_SIZE >> 8);
	/* A write: queue_msix_vector 1, then device_status 0 (a reset) via the window. */
	window(f, VIRTIO_PCI_BAR, CC_Q_MSIX, 2);
	g_assert_cmpint(dev_cfg_write(f->d.dev, cap + 16, 2, 1), ==, 0);
	g_assert_cmpuint(vdrv_rd(&f->d, CC_Q_MSIX, 2), ==, 1);
	window(f, VIRTIO_PCI_BAR, CC_STATUS, 1);
	g_assert_cmphex(window_rd(f, 0, 1), ==, 0x0b);
	g_assert_cmpint(dev_cfg_write(f->d.dev, cap + 16, 1, 0), ==, 0);
	g_assert_cmphex(vdrv_status(&f->d), ==, 0);
	/* The rest of the capability is plain config space; reset clears the fields. */
	g_assert_cmpint(dev_cfg_write(f->d.dev, cap + 12, 4, 2), ==, 0);
	g_assert_cmphex(vdrv_status(&f->d), ==, 0);
	dev_reset(f->d.dev);
	g_assert_cmphex(window_rd(f, 0, 4) | f->d.dev->cfg.data[cap + 4], ==, 0xffffffff);
	g_assert_cmpuint(f->d.dev->cfg.data[cap + 8] | f->d.dev->cfg.data[cap + 12], ==, 0);
}

/* Windows 4.1.4.9.2 forbids: nothing is accessed, reads show all-ones. */
static void test_pcicfg_window_refused(struct fx *f, gconstpointer data)
{
	static const struct {
		uint8_t bar;
		uint32_t off, len;
	} bad[] = {
		{VIRTIO_PCI_BAR, CC_STATUS, 0},
		{VIRTIO_PCI_BAR, CC_STATUS, 3},
		{VIRTIO_PCI_BAR, CC_STATUS, 8},
		{VIRTIO_PCI_BAR, CC_NUMQ + 1, 2},
		{VIRTIO_PCI_BAR, 0x3ffe, 4},
		{VIRTIO_PCI_BAR, 0x4000, 1},
		{VIRTIO_PCI_BAR, 0xfffffffc, 4},
		{VIRTIO_PCI_MSIX_BAR, 0, 4},
		{0, 0, 4},
		{6, 0, 4},
		{0xff, CC_STATUS, 1},
	};
	unsigned cap = pcfg_cap(f);
	uint32_t v;

	vdrv_wr(&f->d, CC_STATUS, 1, 1);
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		window(f, bad[i].bar, bad[i].off, bad[i].len);
		g_assert_cmphex(window_rd(f, 0, 4), ==, 0xffffffff);
		g_assert_cmpint(dev_cfg_write(f->d.dev, cap + 16, 4, 0), ==, 0);
		g_assert_cmphex(vdrv_status(&f->d), ==, 1); /* no reset got through */
	}
	/* Misaligned config accesses to the data field are refused as anywhere else. */
	window(f, VIRTIO_PCI_BAR, CC_STATUS, 1);
	g_assert_cmpint(dev_cfg_read(f->d.dev, cap + 17, 2, &v), ==, -EINVAL);
	g_assert_cmphex(v, ==, 0xffffffff);
	g_assert_cmpint(dev_cfg_write(f->d.dev, cap + 18, 4, 0), ==, -EINVAL);
	g_assert_cmphex(vdrv_status(&f->d), ==, 1);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add("/devices/virtio-pci/caps", struct fx, NULL, setup, test_caps, teardown);
	g_test_add("/devices/virtio-pci/features", struct fx, NULL, setup, test_features, teardown);
	g_test_add("/devices/virtio-pci/status", struct fx, NULL, setup, test_status, teardown);
	g_test_add("/devices/virtio-pci/queue-regs", struct fx, NULL, setup, test_queue_regs,
		   teardown);
	g_test_add("/devices/virtio-pci/interrupts", struct fx, NULL, setup, test_interrupts,
		   teardown);
	g_test_add("/devices/virtio-pci/reset", struct fx, NULL, setup, test_reset, teardown);
	g_test_add("/devices/virtio-pci/pcicfg-window", struct fx, NULL, setup, test_pcicfg_window,
		   teardown);
	g_test_add("/devices/virtio-pci/pcicfg-window-refused", struct fx, NULL, setup,
		   test_pcicfg_window_refused, teardown);
	return g_test_run();
}
