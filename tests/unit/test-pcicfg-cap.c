// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the capability half of devices/pcicfg.c: the list chained from 0x34
 * and the status bit, dword alignment and running out of space, and the MSI-X
 * capability (PCI 3.0, 6.8.2): message control, writable enable/mask bits, table and
 * PBA offset/BIR, and every rejected layout; the MSI capability (6.8.1): layout,
 * read-only and writable bits, Multiple Message Enable clamped to Capable, the vector
 * counts refused.  No device: the helper is called directly.
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

static void test_msi(void)
{
	struct pcicfg cfg;

	init(&cfg);
	g_assert_cmpint(pcicfg_add_msi(&cfg, 4), ==, 0x40);
	/* ID 0x05, 64-bit, per-vector masking, Multiple Message Capable 2 (4 vectors). */
	g_assert_cmphex(rd(&cfg, 0x40, 4), ==, 0x01840005);
	g_assert_cmphex(rd(&cfg, 0x06, 2) & 0x10, ==, 0x10);
	/* Everything writable written with ones. */
	for (uint32_t off = 0x40; off < 0x58; off += 4)
		g_assert_cmpint(pcicfg_write(&cfg, off, 4, 0xffffffff), ==, 0);
	/* Enable and MME written, 7 clamped to the capable 2; ID, next, MMC, 64-bit and
	 * masking kept; bits 15:9 reserved. */
	g_assert_cmphex(rd(&cfg, 0x40, 4), ==, 0x01a50005);
	g_assert_cmphex(rd(&cfg, 0x44, 4), ==, 0xfffffffc); /* address bits 1:0 are 0 */
	g_assert_cmphex(rd(&cfg, 0x48, 4), ==, 0xffffffff);
	g_assert_cmphex(rd(&cfg, 0x4c, 4), ==, 0x0000ffff); /* data; 16 reserved bits */
	g_assert_cmphex(rd(&cfg, 0x50, 4), ==, 0xf);	    /* mask bits of vectors 0..3 */
	g_assert_cmphex(rd(&cfg, 0x54, 4), ==, 0);	    /* pending bits: read-only */
	/* A legal MME (1: two vectors) is kept; a byte write clamps as well. */
	g_assert_cmpint(pcicfg_write(&cfg, 0x42, 2, 0x0011), ==, 0);
	g_assert_cmphex(rd(&cfg, 0x42, 2), ==, 0x0195);
	g_assert_cmpint(pcicfg_write(&cfg, 0x42, 1, 0x30), ==, 0);
	g_assert_cmphex(rd(&cfg, 0x42, 2), ==, 0x01a4);
	/* A write next to the control word leaves it alone. */
	g_assert_cmpint(pcicfg_write(&cfg, 0x44, 4, 0xfee00000), ==, 0);
	g_assert_cmphex(rd(&cfg, 0x42, 2), ==, 0x01a4);
	pcicfg_reset(&cfg); /* power-on: disabled, one vector, nothing masked */
	g_assert_cmphex(rd(&cfg, 0x40, 4), ==, 0x01840005);
	g_assert_cmphex(rd(&cfg, 0x44, 4), ==, 0);
	g_assert_cmphex(rd(&cfg, 0x50, 4), ==, 0);
	/* 32 vectors: MMC 5, every mask bit; 1 vector: MMC 0, MME stays 0. */
	init(&cfg);
	g_assert_cmpint(pcicfg_add_msi(&cfg, 1), ==, 0x40);
	g_assert_cmpint(pcicfg_add_msi(&cfg, 32), ==, 0x58);
	g_assert_cmphex(rd(&cfg, 0x41, 1), ==, 0x58);
	g_assert_cmphex(rd(&cfg, 0x5a, 2), ==, 0x018a);
	g_assert_cmpint(pcicfg_write(&cfg, 0x68, 4, 0xffffffff), ==, 0);
	g_assert_cmphex(rd(&cfg, 0x68, 4), ==, 0xffffffff);
	g_assert_cmpint(pcicfg_write(&cfg, 0x42, 2, 0x0071), ==, 0);
	g_assert_cmphex(rd(&cfg, 0x42, 2), ==, 0x0181);
	g_assert_cmpint(pcicfg_write(&cfg, 0x50, 4, 0xffffffff), ==, 0);
	g_assert_cmphex(rd(&cfg, 0x50, 4), ==, 1);
}

static void test_msi_bad(void)
{
	static const unsigned bad[] = {0, 3, 6, 33, 64, 0x80000000u};
	struct pcicfg cfg;

	init(&cfg);
	for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++)
		g_assert_cmpint(pcicfg_add_msi(&cfg, bad[i]), ==, -EINVAL);
	g_assert_cmphex(rd(&cfg, 0x06, 2) & 0x10, ==, 0); /* no trace */
	g_assert_cmpint(pcicfg_add_cap(&cfg, 1, 176), ==, 0x40);
	g_assert_cmpint(pcicfg_add_msi(&cfg, 2), ==, -ENOSPC); /* only 16 bytes left */
	/* A raw capability with the MSI ID is not pcicfg_add_msi's: never clamped. */
	init(&cfg);
	g_assert_cmpint(pcicfg_add_cap(&cfg, 0x05, 4), ==, 0x40);
	g_assert_cmpint(pcicfg_write(&cfg, 0x42, 2, 0x0070), ==, 0);
	g_assert_cmphex(rd(&cfg, 0x42, 2), ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/devices/pcicfg/cap-chain", test_chain);
	g_test_add_func("/devices/pcicfg/cap-space", test_space);
	g_test_add_func("/devices/pcicfg/msix", test_msix);
	g_test_add_func("/devices/pcicfg/msix-bad", test_msix_bad);
	g_test_add_func("/devices/pcicfg/msi", test_msi);
	g_test_add_func("/devices/pcicfg/msi-bad", test_msi_bad);
	return g_test_run();
}
