// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the capability half of devices/pcicfg.c: the list chained from 0x34
 * and the status bit, dword alignment and running out of space, and the MSI-X
 * capability (PCI 3.0, 6.8.2): message control, writable enable/mask bits, table and
 * PBA offset/BIR, and every rejected layout.  No device: the helper is called directly.
 */
#include <errno.h>
#include <glib.h>

#include "devices/devices.h"

const struct dev_ops *const dev_table[] = {NULL};

static const struct pcicfg_ident ident = {.vendor = 0x1af4, .device = 0x1042};

static uint32_t rd(const struct pcicfg *cfg, uint32_t off, unsigned size)
{
	uint32_t v = 0;

	g_assert_cmpint(pcicfg_read(cfg, off, size, &v), ==, 0);
	return v;
}

static void init(struct pcicfg *cfg)
{
	static const struct pcicfg_bar bars[PCI_NUM_BARS] = {
		[1] = {.size = 4096},
		[2] = {.size = 256, .flags = PCI_BAR_IO},
		[4] = {.size = 0x4000, .flags = PCI_BAR_MEM64},
	};

	g_assert_cmpint(pcicfg_init(cfg, &ident, bars), ==, 0);
}

static void test_chain(void)
{
	struct pcicfg cfg;
	int a, b, c;

	init(&cfg);
	a = pcicfg_add_cap(&cfg, 0x09, 16);
	b = pcicfg_add_cap(&cfg, 0x09, 13); /* odd length: the next one is still aligned */
	c = pcicfg_add_cap(&cfg, 0x05, 2);
	g_assert_cmpint(a, ==, 0x40);
	g_assert_cmpint(b, ==, 0x50);
	g_assert_cmpint(c, ==, 0x60);
	g_assert_cmphex(rd(&cfg, 0x06, 2) & 0x10, ==, 0x10); /* status: capability list */
	g_assert_cmphex(rd(&cfg, 0x34, 1), ==, 0x40);
	g_assert_cmphex(rd(&cfg, 0x40, 2), ==, 0x5009);
	g_assert_cmphex(rd(&cfg, 0x50, 2), ==, 0x6009);
	g_assert_cmphex(rd(&cfg, 0x60, 2), ==, 0x0005);
	/* Capabilities are read-only unless the device opens bits itself. */
	g_assert_cmpint(pcicfg_write(&cfg, 0x40, 4, 0xffffffff), ==, 0);
	g_assert_cmphex(rd(&cfg, 0x40, 2), ==, 0x5009);
	/* Reset keeps the list. */
	pcicfg_reset(&cfg);
	g_assert_cmphex(rd(&cfg, 0x34, 1), ==, 0x40);
	g_assert_cmphex(rd(&cfg, 0x06, 2) & 0x10, ==, 0x10);
}

static void test_space(void)
{
	struct pcicfg cfg;

	init(&cfg);
	g_assert_cmpint(pcicfg_add_cap(&cfg, 1, 0), ==, -EINVAL);
	g_assert_cmpint(pcicfg_add_cap(&cfg, 1, 1), ==, -EINVAL);
	g_assert_cmpint(pcicfg_add_cap(&cfg, 1, 193), ==, -EINVAL);
	g_assert_cmphex(rd(&cfg, 0x06, 2) & 0x10, ==, 0); /* failures leave no trace */
	g_assert_cmpint(pcicfg_add_cap(&cfg, 1, 184), ==, 0x40);
	g_assert_cmpint(pcicfg_add_cap(&cfg, 2, 12), ==, -ENOSPC);
	g_assert_cmpint(pcicfg_add_cap(&cfg, 2, 8), ==, 0xf8); /* exactly fills to 256 */
	g_assert_cmpint(pcicfg_add_cap(&cfg, 3, 2), ==, -ENOSPC);
	g_assert_cmphex(rd(&cfg, 0x41, 1), ==, 0xf8);
}

static void test_msix(void)
{
	struct pcicfg cfg;
	int off;

	init(&cfg);
	off = pcicfg_add_msix(&cfg, 3, 1, 0, 1, 0x800);
	g_assert_cmpint(off, ==, 0x40);
	g_assert_cmphex(rd(&cfg, 0x40, 4), ==, 0x00020011); /* ID 0x11, table size N-1 */
	g_assert_cmphex(rd(&cfg, 0x44, 4), ==, 0x00000001); /* table at BAR1 + 0 */
	g_assert_cmphex(rd(&cfg, 0x48, 4), ==, 0x00000801); /* PBA at BAR1 + 0x800 */
	/* Enable and function mask are writable, the table size is not. */
	g_assert_cmpint(pcicfg_write(&cfg, 0x42, 2, 0xffff), ==, 0);
	g_assert_cmphex(rd(&cfg, 0x42, 2), ==, 0xc002);
	g_assert_cmpint(pcicfg_write(&cfg, 0x44, 4, 0xffffffff), ==, 0);
	g_assert_cmphex(rd(&cfg, 0x44, 4), ==, 0x00000001);
	pcicfg_reset(&cfg); /* power-on: disabled, unmasked */
	g_assert_cmphex(rd(&cfg, 0x42, 2), ==, 0x0002);
	/* A second capability chains after MSI-X. */
	g_assert_cmpint(pcicfg_add_cap(&cfg, 0x09, 4), ==, 0x4c);
	g_assert_cmphex(rd(&cfg, 0x41, 1), ==, 0x4c);
}

static void test_msix_bad(void)
{
	struct pcicfg cfg;

	init(&cfg);
	g_assert_cmpint(pcicfg_add_msix(&cfg, 0, 1, 0, 1, 0x800), ==, -EINVAL);
	g_assert_cmpint(pcicfg_add_msix(&cfg, 2049, 4, 0, 4, 0x3000), ==, -EINVAL);
	g_assert_cmpint(pcicfg_add_msix(&cfg, 2, 0, 0, 1, 0x800), ==, -EINVAL); /* no BAR */
	g_assert_cmpint(pcicfg_add_msix(&cfg, 2, 2, 0, 1, 0x800), ==, -EINVAL); /* I/O BAR */
	g_assert_cmpint(pcicfg_add_msix(&cfg, 2, 6, 0, 1, 0x800), ==, -EINVAL); /* BIR 6 */
	g_assert_cmpint(pcicfg_add_msix(&cfg, 2, 1, 4, 1, 0x800), ==, -EINVAL); /* unaligned */
	g_assert_cmpint(pcicfg_add_msix(&cfg, 2, 1, 0, 1, 0x804), ==, -EINVAL);
	/* 256 vectors need 4 KiB of table: does not fit after 0x800 in a 4 KiB BAR. */
	g_assert_cmpint(pcicfg_add_msix(&cfg, 256, 1, 0x800, 4, 0), ==, -EINVAL);
	g_assert_cmpint(pcicfg_add_msix(&cfg, 2, 1, 0xfff8, 1, 0), ==, -EINVAL);
	g_assert_cmpint(pcicfg_add_msix(&cfg, 2, 1, 0xfffffff8, 1, 0), ==, -EINVAL);
	g_assert_cmpint(pcicfg_add_msix(&cfg, 1, 1, 0, 1, 0xff8), ==, 0x40);
	init(&cfg);
	/* PBA last byte past the BAR; table and PBA overlapping in both orders. */
	g_assert_cmpint(pcicfg_add_msix(&cfg, 65, 1, 0, 1, 0xff8), ==, -EINVAL);
	g_assert_cmpint(pcicfg_add_msix(&cfg, 4, 1, 0, 1, 0x38), ==, -EINVAL);
	g_assert_cmpint(pcicfg_add_msix(&cfg, 65, 1, 0x10, 1, 0x8), ==, -EINVAL);
	g_assert_cmpint(pcicfg_add_msix(&cfg, 4, 1, 0x8, 1, 0), ==, 0x40); /* adjacent */
	g_assert_cmphex(rd(&cfg, 0x06, 2) & 0x10, ==, 0x10);
	g_assert_cmpint(pcicfg_add_msix(&cfg, 4, 4, 0, 4, 0x3000), ==, 0x4c); /* 64-bit BAR */
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/devices/pcicfg/cap-chain", test_chain);
	g_test_add_func("/devices/pcicfg/cap-space", test_space);
	g_test_add_func("/devices/pcicfg/msix", test_msix);
	g_test_add_func("/devices/pcicfg/msix-bad", test_msix_bad);
	return g_test_run();
}
