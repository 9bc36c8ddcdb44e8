// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of devices/pcicfg.c, the shared PCI config-space helper: header fields,
 * read-only and writable bits, BAR sizing for 32-bit, 64-bit, prefetchable and I/O
 * BARs, the 1-byte read at 0xff, extended space, and rejected accesses and layouts.
 * No device and no VM: the helper is called directly.
 */
#include <errno.h>
#include <glib.h>

#include "devices/devices.h"

/* pcicfg does not use the registry, but devices.c (same library) refers to it. */
const struct dev_ops *const dev_table[] = { NULL };

static const struct pcicfg_ident ident = {
	.vendor = 0x1234, .device = 0x5678, .subsys_vendor = 0x9abc, .subsys = 0xdef0,
	.revision = 0x42, .class_code = 0x0c0330, .int_pin = 1,
};

static uint32_t rd(const struct pcicfg *cfg, uint32_t off, unsigned size)
{
	uint32_t v = 0;

	g_assert_cmpint(pcicfg_read(cfg, off, size, &v), ==, 0);
	return v;
}

static void wr(struct pcicfg *cfg, uint32_t off, unsigned size, uint32_t v)
{
	g_assert_cmpint(pcicfg_write(cfg, off, size, v), ==, 0);
}

static void init(struct pcicfg *cfg, const struct pcicfg_bar bars[PCI_NUM_BARS])
{
	g_assert_cmpint(pcicfg_init(cfg, &ident, bars), ==, 0);
}

static void test_header(void)
{
	static const struct pcicfg_bar bars[PCI_NUM_BARS] = { 0 };
	struct pcicfg cfg;

	init(&cfg, bars);
	g_assert_cmphex(rd(&cfg, 0x00, 4), ==, 0x56781234);
	g_assert_cmphex(rd(&cfg, 0x08, 4), ==, 0x0c033042);
	g_assert_cmphex(rd(&cfg, 0x0e, 1), ==, 0x00);
	g_assert_cmphex(rd(&cfg, 0x2c, 4), ==, 0xdef09abc);
	g_assert_cmphex(rd(&cfg, 0x34, 1), ==, 0);   /* no capabilities */
	g_assert_cmphex(rd(&cfg, 0x06, 2), ==, 0);   /* status: no cap list bit */
	g_assert_cmphex(rd(&cfg, 0x3d, 1), ==, 1);   /* INTA */
	g_assert_cmphex(rd(&cfg, 0x01, 1), ==, 0x12); /* byte inside a word */
	g_assert_cmphex(rd(&cfg, 0x02, 2), ==, 0x5678);
}

static void test_read_only(void)
{
	static const struct pcicfg_bar bars[PCI_NUM_BARS] = { 0 };
	struct pcicfg cfg;

	init(&cfg, bars);
	for (uint32_t off = 0; off < 0x40; off += 4) {
		if (off == 0x04 || off == 0x0c || off == 0x3c)
			continue;
		uint32_t before = rd(&cfg, off, 4);

		wr(&cfg, off, 4, 0xffffffff);
		g_assert_cmphex(rd(&cfg, off, 4), ==, before);
		wr(&cfg, off, 4, 0);
		g_assert_cmphex(rd(&cfg, off, 4), ==, before);
	}
	/* Status (upper half of dword 4) and interrupt pin stay put. */
	wr(&cfg, 0x04, 4, 0xffffffff);
	g_assert_cmphex(rd(&cfg, 0x06, 2), ==, 0);
	wr(&cfg, 0x3d, 1, 0x07);
	g_assert_cmphex(rd(&cfg, 0x3d, 1), ==, 1);
	/* Device-specific area: nothing implemented, nothing writable. */
	wr(&cfg, 0x40, 4, 0xffffffff);
	wr(&cfg, 0xfc, 4, 0xffffffff);
	g_assert_cmphex(rd(&cfg, 0x40, 4), ==, 0);
	g_assert_cmphex(rd(&cfg, 0xfc, 4), ==, 0);
}

static void test_writable(void)
{
	static const struct pcicfg_bar bars[PCI_NUM_BARS] = { 0 };
	struct pcicfg cfg;

	init(&cfg, bars);
	wr(&cfg, 0x04, 2, 0xffff);
	g_assert_cmphex(rd(&cfg, 0x04, 2), ==, 0x0547); /* io mem master parity serr intx */
	wr(&cfg, 0x04, 2, 0x0002);
	g_assert_cmphex(rd(&cfg, 0x04, 2), ==, 0x0002);
	wr(&cfg, 0x0c, 1, 0x10);
	wr(&cfg, 0x0d, 1, 0x40);
	g_assert_cmphex(rd(&cfg, 0x0c, 2), ==, 0x4010);
	wr(&cfg, 0x3c, 1, 0x0b);
	g_assert_cmphex(rd(&cfg, 0x3c, 2), ==, 0x010b);
	pcicfg_reset(&cfg);
	g_assert_cmphex(rd(&cfg, 0x04, 2), ==, 0);
	g_assert_cmphex(rd(&cfg, 0x0c, 2), ==, 0);
	g_assert_cmphex(rd(&cfg, 0x3c, 2), ==, 0x0100);
	g_assert_cmphex(rd(&cfg, 0x00, 4), ==, 0x56781234);
}

static void test_bar32(void)
{
	static const struct pcicfg_bar bars[PCI_NUM_BARS] = { [0] = { .size = 4096 } };
	struct pcicfg cfg;

	init(&cfg, bars);
	g_assert_cmphex(rd(&cfg, 0x10, 4), ==, 0);
	wr(&cfg, 0x10, 4, 0xffffffff);
	g_assert_cmphex(rd(&cfg, 0x10, 4), ==, 0xfffff000);
	wr(&cfg, 0x10, 4, 0xe0001234);
	g_assert_cmphex(rd(&cfg, 0x10, 4), ==, 0xe0001000);
	g_assert_cmphex(pcicfg_bar_addr(&cfg, 0), ==, 0xe0001000);
	/* Byte-wise programming applies the mask per byte. */
	wr(&cfg, 0x13, 1, 0xd0);
	g_assert_cmphex(pcicfg_bar_addr(&cfg, 0), ==, 0xd0001000);
	wr(&cfg, 0x10, 1, 0xff); /* low byte: flag and size bits only */
	g_assert_cmphex(rd(&cfg, 0x10, 4), ==, 0xd0001000);
	/* The next register is not implemented. */
	wr(&cfg, 0x14, 4, 0xffffffff);
	g_assert_cmphex(rd(&cfg, 0x14, 4), ==, 0);
	g_assert_cmphex(pcicfg_bar_addr(&cfg, 1), ==, 0);
	g_assert_cmphex(pcicfg_bar_addr(&cfg, PCI_NUM_BARS), ==, 0);
	pcicfg_reset(&cfg);
	g_assert_cmphex(rd(&cfg, 0x10, 4), ==, 0);
}

static void test_bar32_prefetch_max(void)
{
	static const struct pcicfg_bar bars[PCI_NUM_BARS] = {
		[5] = { .size = 1ull << 31, .flags = PCI_BAR_PREFETCH },
	};
	struct pcicfg cfg;

	init(&cfg, bars);
	g_assert_cmphex(rd(&cfg, 0x24, 4), ==, 0x8);
	wr(&cfg, 0x24, 4, 0xffffffff);
	g_assert_cmphex(rd(&cfg, 0x24, 4), ==, 0x80000008);
}

static void test_bar64(void)
{
	static const struct pcicfg_bar bars[PCI_NUM_BARS] = {
		[2] = { .size = 1 << 20, .flags = PCI_BAR_MEM64 | PCI_BAR_PREFETCH },
		[4] = { .size = 1ull << 33, .flags = PCI_BAR_MEM64 },
	};
	struct pcicfg cfg;

	init(&cfg, bars);
	g_assert_cmphex(rd(&cfg, 0x18, 4), ==, 0xc);
	wr(&cfg, 0x18, 4, 0xffffffff);
	wr(&cfg, 0x1c, 4, 0xffffffff);
	g_assert_cmphex(rd(&cfg, 0x18, 4), ==, 0xfff0000c);
	g_assert_cmphex(rd(&cfg, 0x1c, 4), ==, 0xffffffff);
	wr(&cfg, 0x18, 4, 0x00100000);
	wr(&cfg, 0x1c, 4, 0x00000008);
	g_assert_cmphex(pcicfg_bar_addr(&cfg, 2), ==, 0x800100000ull);
	g_assert_cmphex(pcicfg_bar_addr(&cfg, 3), ==, 0); /* upper half is not a BAR */

	/* 8 GiB: no writable address bits in the low dword. */
	g_assert_cmphex(rd(&cfg, 0x20, 4), ==, 0x4);
	wr(&cfg, 0x20, 4, 0xffffffff);
	wr(&cfg, 0x24, 4, 0xffffffff);
	g_assert_cmphex(rd(&cfg, 0x20, 4), ==, 0x4);
	g_assert_cmphex(rd(&cfg, 0x24, 4), ==, 0xfffffffe);
	wr(&cfg, 0x24, 4, 0x4);
	g_assert_cmphex(pcicfg_bar_addr(&cfg, 4), ==, 0x400000000ull);
}

static void test_bar_io(void)
{
	static const struct pcicfg_bar bars[PCI_NUM_BARS] = {
		[1] = { .size = 256, .flags = PCI_BAR_IO },
		[3] = { .size = 4, .flags = PCI_BAR_IO },
	};
	struct pcicfg cfg;

	init(&cfg, bars);
	g_assert_cmphex(rd(&cfg, 0x14, 4), ==, 0x1);
	wr(&cfg, 0x14, 4, 0xffffffff);
	g_assert_cmphex(rd(&cfg, 0x14, 4), ==, 0xffffff01);
	wr(&cfg, 0x14, 4, 0xc0ff);
	g_assert_cmphex(rd(&cfg, 0x14, 4), ==, 0xc001);
	g_assert_cmphex(pcicfg_bar_addr(&cfg, 1), ==, 0xc000);
	wr(&cfg, 0x1c, 4, 0xffffffff);
	g_assert_cmphex(rd(&cfg, 0x1c, 4), ==, 0xfffffffd);
}

static void test_byte_0xff(void)
{
	static const struct pcicfg_bar bars[PCI_NUM_BARS] = { 0 };
	struct pcicfg cfg;
	uint32_t v = 0x1234;

	init(&cfg, bars);
	g_assert_cmpint(pcicfg_read(&cfg, 0xff, 1, &v), ==, 0);
	g_assert_cmphex(v, ==, 0);
	g_assert_cmpint(pcicfg_write(&cfg, 0xff, 1, 0xff), ==, 0);
	g_assert_cmphex(rd(&cfg, 0xfe, 2), ==, 0);
}

static void test_extended(void)
{
	static const struct pcicfg_bar bars[PCI_NUM_BARS] = { 0 };
	struct pcicfg cfg;

	init(&cfg, bars);
	g_assert_cmphex(rd(&cfg, 0x100, 4), ==, 0);
	g_assert_cmphex(rd(&cfg, 0xffc, 4), ==, 0);
	g_assert_cmphex(rd(&cfg, 0xfff, 1), ==, 0);
	wr(&cfg, 0x100, 4, 0xffffffff);
	g_assert_cmphex(rd(&cfg, 0x100, 4), ==, 0);
}

static void assert_bad_read(const struct pcicfg *cfg, uint32_t off, unsigned size)
{
	uint32_t v = 0;

	g_assert_cmpint(pcicfg_read(cfg, off, size, &v), ==, -EINVAL);
	g_assert_cmphex(v, ==, 0xffffffff);
}

static void test_bad_access(void)
{
	static const struct pcicfg_bar bars[PCI_NUM_BARS] = { [0] = { .size = 4096 } };
	struct pcicfg cfg;

	init(&cfg, bars);
	assert_bad_read(&cfg, 0, 0);
	assert_bad_read(&cfg, 0, 3);
	assert_bad_read(&cfg, 0, 8);
	assert_bad_read(&cfg, 1, 2);
	assert_bad_read(&cfg, 2, 4);
	assert_bad_read(&cfg, 0xff, 2);
	assert_bad_read(&cfg, 0x1000, 1);
	assert_bad_read(&cfg, 0x1000, 4);
	assert_bad_read(&cfg, UINT32_MAX, 1);
	assert_bad_read(&cfg, UINT32_MAX - 3, 4);
	g_assert_cmpint(pcicfg_write(&cfg, 0x11, 2, 0xffff), ==, -EINVAL);
	g_assert_cmpint(pcicfg_write(&cfg, 0x10, 3, 0xffffff), ==, -EINVAL);
	g_assert_cmpint(pcicfg_write(&cfg, 0x1000, 4, 0), ==, -EINVAL);
	g_assert_cmphex(rd(&cfg, 0x10, 4), ==, 0); /* nothing was written */
}

static void assert_bad_layout(const struct pcicfg_ident *id, struct pcicfg_bar b, unsigned i)
{
	struct pcicfg_bar bars[PCI_NUM_BARS] = { 0 };
	struct pcicfg cfg;

	bars[i] = b;
	g_assert_cmpint(pcicfg_init(&cfg, id, bars), ==, -EINVAL);
}

static void test_bad_layout(void)
{
	struct pcicfg_ident bad_pin = ident, bad_class = ident;
	struct pcicfg_bar bars[PCI_NUM_BARS] = {
		[0] = { .size = 4096, .flags = PCI_BAR_MEM64 },
		[1] = { .size = 4096 },
	};
	struct pcicfg cfg;

	assert_bad_layout(&ident, (struct pcicfg_bar){ .size = 3000 }, 0);
	assert_bad_layout(&ident, (struct pcicfg_bar){ .size = 8 }, 0);
	assert_bad_layout(&ident, (struct pcicfg_bar){ .size = 1ull << 32 }, 0);
	assert_bad_layout(&ident, (struct pcicfg_bar){ .size = 4096, .flags = PCI_BAR_MEM64 }, 5);
	assert_bad_layout(&ident, (struct pcicfg_bar){ .size = 512, .flags = PCI_BAR_IO }, 1);
	assert_bad_layout(&ident, (struct pcicfg_bar){ .size = 2, .flags = PCI_BAR_IO }, 1);
	assert_bad_layout(&ident,
			  (struct pcicfg_bar){ .size = 16, .flags = PCI_BAR_IO | PCI_BAR_PREFETCH },
			  1);
	assert_bad_layout(&ident, (struct pcicfg_bar){ .size = 4096, .flags = 0x2 }, 0);
	assert_bad_layout(&ident, (struct pcicfg_bar){ .size = 0, .flags = PCI_BAR_IO }, 0);
	g_assert_cmpint(pcicfg_init(&cfg, &ident, bars), ==, -EINVAL); /* 64-bit overlaps BAR1 */
	bad_pin.int_pin = 5;
	bad_class.class_code = 0x1000000;
	bars[1].size = 0;
	g_assert_cmpint(pcicfg_init(&cfg, &bad_pin, bars), ==, -EINVAL);
	g_assert_cmpint(pcicfg_init(&cfg, &bad_class, bars), ==, -EINVAL);
	g_assert_cmpint(pcicfg_init(&cfg, &ident, bars), ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/devices/pcicfg/header", test_header);
	g_test_add_func("/devices/pcicfg/read-only", test_read_only);
	g_test_add_func("/devices/pcicfg/writable", test_writable);
	g_test_add_func("/devices/pcicfg/bar32", test_bar32);
	g_test_add_func("/devices/pcicfg/bar32-prefetch-2g", test_bar32_prefetch_max);
	g_test_add_func("/devices/pcicfg/bar64", test_bar64);
	g_test_add_func("/devices/pcicfg/bar-io", test_bar_io);
	g_test_add_func("/devices/pcicfg/byte-0xff", test_byte_0xff);
	g_test_add_func("/devices/pcicfg/extended", test_extended);
	g_test_add_func("/devices/pcicfg/bad-access", test_bad_access);
	g_test_add_func("/devices/pcicfg/bad-layout", test_bad_layout);
	return g_test_run();
}
