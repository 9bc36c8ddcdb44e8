// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of devices/pci_testdev.c and the devices.c entry points: the device's
 * config space, every test-table entry of both BARs driven the way kvm-unit-tests'
 * guest library drives QEMU's pci-testdev, non-matching writes, reset, property and
 * type errors, and rejected BAR accesses.  The ops are called directly; no VM.
 */
#include <errno.h>
#include <string.h>
#include <glib.h>

#include "devices/devices.h"

const struct dev_ops *const dev_table[] = { &pci_testdev_ops, NULL };

#define HDR_TEST 0
#define HDR_WIDTH 1
#define HDR_OFFSET 4
#define HDR_DATA 8
#define HDR_COUNT 12
#define HDR_NAME 16

static struct dev *create(const char *id)
{
	static const struct dev_env env = { 0 };
	g_autofree char *err = NULL;
	struct dev *dev = NULL;

	g_assert_cmpint(dev_create("pci-testdev", id, &env, NULL, &dev, &err), ==, 0);
	g_assert_null(err);
	g_assert_cmpstr(dev->id, ==, id);
	return dev;
}

static uint64_t rd(struct dev *dev, unsigned bar, uint64_t off, unsigned size)
{
	uint64_t v = 0;

	g_assert_cmpint(dev_bar_read(dev, bar, off, size, &v), ==, 0);
	return v;
}

static void wr(struct dev *dev, unsigned bar, uint64_t off, unsigned size, uint64_t v)
{
	g_assert_cmpint(dev_bar_write(dev, bar, off, size, v), ==, 0);
}

static uint32_t cfg_rd(struct dev *dev, uint32_t off, unsigned size)
{
	uint32_t v = 0;

	g_assert_cmpint(pcicfg_read(&dev->cfg, off, size, &v), ==, 0);
	return v;
}

static void test_config(void)
{
	struct dev *dev = create("t0");

	g_assert_cmphex(cfg_rd(dev, 0x00, 4), ==, 0x00051b36);
	g_assert_cmphex(cfg_rd(dev, 0x08, 4), ==, 0x00ff0000); /* class 0x00ff, rev 0 */
	g_assert_cmphex(cfg_rd(dev, 0x3d, 1), ==, 0);          /* no interrupt pin */
	g_assert_cmphex(cfg_rd(dev, 0x10, 4), ==, 0);          /* BAR0: 32-bit memory */
	g_assert_cmphex(cfg_rd(dev, 0x14, 4), ==, 1);          /* BAR1: I/O */
	g_assert_cmpuint(dev->cfg.bar[0].size, ==, 4096);
	g_assert_cmpuint(dev->cfg.bar[1].size, ==, 256);
	pcicfg_write(&dev->cfg, 0x10, 4, 0xffffffff);
	pcicfg_write(&dev->cfg, 0x14, 4, 0xffffffff);
	g_assert_cmphex(cfg_rd(dev, 0x10, 4), ==, 0xfffff000);
	g_assert_cmphex(cfg_rd(dev, 0x14, 4), ==, 0xffffff01);
	for (uint32_t off = 0x18; off < 0x28; off += 4) {
		pcicfg_write(&dev->cfg, off, 4, 0xffffffff);
		g_assert_cmphex(cfg_rd(dev, off, 4), ==, 0);
	}
	dev_destroy(dev);
}

static void test_idle(void)
{
	struct dev *dev = create("t0");

	for (uint64_t off = 0; off < 64; off += 4) {
		g_assert_cmphex(rd(dev, 0, off, 4), ==, 0);
		g_assert_cmphex(rd(dev, 1, off, 4), ==, 0);
	}
	wr(dev, 0, 2048, 1, 0xfa); /* no test running: nothing to count */
	dev_destroy(dev);
}

/*
 * One entry, as kvm-unit-tests' pci_testdev_one() does it: select with a byte write,
 * expect count 0, read width, data and offset, write data 16 times, expect 16.
 */
static void check_entry(struct dev *dev, unsigned bar, unsigned n)
{
	static const char *const kinds[] = { "no-eventfd", "wildcard-eventfd",
					     "datamatch-eventfd" };
	g_autofree char *want = g_strdup_printf("%s-%s", bar ? "portio" : "mmio", kinds[n]);
	unsigned i = bar * 3 + n;
	uint64_t width, data, off;
	char name[32] = { 0 };

	wr(dev, bar, HDR_TEST, 1, n);
	g_assert_cmphex(rd(dev, bar, HDR_COUNT, 4), ==, 0);
	g_assert_cmphex(rd(dev, bar, HDR_TEST, 1), ==, i);
	width = rd(dev, bar, HDR_WIDTH, 1);
	data = rd(dev, bar, HDR_DATA, 4);
	off = rd(dev, bar, HDR_OFFSET, 4);
	g_assert_cmpuint(width, ==, 1);
	g_assert_cmphex(data, ==, n == 1 ? 0xce : 0xfa);
	g_assert_cmphex(off, ==, (bar ? 128 : 2048) + i);
	for (unsigned c = 0; c < sizeof(name) - 1; c++) {
		name[c] = (char)rd(dev, bar, HDR_NAME + c, 1);
		if (!name[c])
			break;
	}
	g_assert_cmpstr(name, ==, want);
	for (unsigned w = 0; w < 16; w++)
		wr(dev, bar, off, (unsigned)width, data);
	g_assert_cmphex(rd(dev, bar, HDR_COUNT, 4), ==, 16);
	/* The other BAR shows the same running test (QEMU shares one "current"). */
	g_assert_cmphex(rd(dev, !bar, HDR_COUNT, 4), ==, 16);
}

static void test_entries(void)
{
	struct dev *dev = create("t0");

	for (unsigned bar = 0; bar < 2; bar++) {
		for (unsigned n = 0; n < 3; n++)
			check_entry(dev, bar, n);
	}
	dev_destroy(dev);
}

static void test_matching(void)
{
	struct dev *dev = create("t0");

	/* datamatch: wrong byte, wrong offset do not count; wide writes split per byte. */
	wr(dev, 0, HDR_TEST, 1, 2);
	wr(dev, 0, 2050, 1, 0xfb);
	wr(dev, 0, 2051, 1, 0xfa);
	wr(dev, 0, 2049, 1, 0xfa);
	g_assert_cmphex(rd(dev, 0, HDR_COUNT, 4), ==, 0);
	wr(dev, 0, 2050, 4, 0x123456fa);
	wr(dev, 0, 2048, 4, 0x12fa0000); /* byte 0xfa lands on 2050 */
	wr(dev, 0, 2050, 2, 0x00fb);
	g_assert_cmphex(rd(dev, 0, HDR_COUNT, 4), ==, 2);
	/* wildcard: any byte at the offset counts. */
	wr(dev, 1, HDR_TEST, 1, 1);
	wr(dev, 1, 132, 1, 0x00);
	wr(dev, 1, 132, 1, 0x77);
	wr(dev, 1, 133, 1, 0xce);
	g_assert_cmphex(rd(dev, 1, HDR_COUNT, 4), ==, 2);
	/* no-eventfd matches data as well. */
	wr(dev, 1, HDR_TEST, 1, 0);
	wr(dev, 1, 131, 1, 0xce);
	g_assert_cmphex(rd(dev, 1, HDR_COUNT, 4), ==, 0);
	/* Selecting again zeroes the count; a value >= 3 stops the test. */
	wr(dev, 1, 131, 1, 0xfa);
	g_assert_cmphex(rd(dev, 1, HDR_COUNT, 4), ==, 1);
	wr(dev, 1, HDR_TEST, 1, 0);
	g_assert_cmphex(rd(dev, 1, HDR_COUNT, 4), ==, 0);
	wr(dev, 1, HDR_TEST, 1, 3);
	g_assert_cmphex(rd(dev, 1, HDR_TEST, 8), ==, 0);
	dev_destroy(dev);
}

/* The eventfd tests' offsets are doorbells; a ring counts as the write it stands for. */
static void test_doorbells(void)
{
	struct dev *dev = create("t0");
	const struct dev_doorbell *d = dev->doorbells;

	g_assert_cmpuint(dev->nr_doorbells, ==, 4);
	g_assert_nonnull(dev->ops->doorbell);
	g_assert_cmpuint(d[0].bar, ==, 0);
	g_assert_cmpuint(d[0].off, ==, 2049); /* mmio-wildcard-eventfd */
	g_assert_false(d[0].datamatch);
	g_assert_cmpuint(d[1].off, ==, 2050); /* mmio-datamatch-eventfd */
	g_assert_true(d[1].datamatch);
	g_assert_cmphex(d[1].data, ==, 0xfa);
	g_assert_cmpuint(d[2].bar, ==, 1);
	g_assert_cmpuint(d[2].off, ==, 132); /* portio-wildcard-eventfd */
	g_assert_cmpuint(d[3].off, ==, 133);
	for (unsigned i = 0; i < 4; i++)
		g_assert_cmpuint(d[i].size, ==, 1);
	wr(dev, 0, HDR_TEST, 1, 1);
	dev->ops->doorbell(dev, 0);
	dev->ops->doorbell(dev, 0);
	dev->ops->doorbell(dev, 1); /* another test's doorbell */
	dev->ops->doorbell(dev, 4); /* no such doorbell */
	g_assert_cmphex(rd(dev, 0, HDR_COUNT, 4), ==, 2);
	wr(dev, 1, HDR_TEST, 1, 2); /* portio-datamatch-eventfd */
	dev->ops->doorbell(dev, 3);
	g_assert_cmphex(rd(dev, 1, HDR_COUNT, 4), ==, 1);
	dev_reset(dev); /* no test running: rings are ignored */
	dev->ops->doorbell(dev, 3);
	g_assert_cmphex(rd(dev, 1, HDR_COUNT, 4), ==, 0);
	dev_destroy(dev);
}

static void test_read_layout(void)
{
	struct dev *dev = create("t0");

	wr(dev, 0, HDR_TEST, 4, 0); /* a dword write selects with its low byte */
	/* test 0, width 1, pad, offset 0x800 (little endian) */
	g_assert_cmphex(rd(dev, 0, 0, 8), ==, 0x0000080000000100ull);
	/* "mmio-no-eventfd" is 15 chars: header length 32; the NUL and beyond read 0. */
	g_assert_cmphex(rd(dev, 0, HDR_NAME + 14, 1), ==, 'd');
	g_assert_cmphex(rd(dev, 0, HDR_NAME + 15, 1), ==, 0);
	g_assert_cmphex(rd(dev, 0, 4088, 8), ==, 0);
	g_assert_cmphex(rd(dev, 1, 248, 8), ==, 0);
	dev_destroy(dev);
}

static void test_reset(void)
{
	struct dev *dev = create("t0");

	wr(dev, 0, HDR_TEST, 1, 0);
	pcicfg_write(&dev->cfg, 0x04, 2, 0x3);
	pcicfg_write(&dev->cfg, 0x10, 4, 0xe0000000);
	g_assert_cmphex(rd(dev, 0, HDR_WIDTH, 1), ==, 1);
	dev_reset(dev);
	g_assert_cmphex(rd(dev, 0, HDR_WIDTH, 1), ==, 0);
	g_assert_cmphex(cfg_rd(dev, 0x04, 2), ==, 0);
	g_assert_cmphex(cfg_rd(dev, 0x10, 4), ==, 0);
	g_assert_cmphex(cfg_rd(dev, 0x00, 4), ==, 0x00051b36);
	dev_destroy(dev);
}

/* Two devices share no state. */
static void test_two(void)
{
	struct dev *a = create("a"), *b = create("b");

	wr(a, 0, HDR_TEST, 1, 0);
	g_assert_cmphex(rd(a, 0, HDR_WIDTH, 1), ==, 1);
	g_assert_cmphex(rd(b, 0, HDR_WIDTH, 1), ==, 0);
	dev_destroy(a);
	dev_destroy(b);
}

static void assert_bad(struct dev *dev, unsigned bar, uint64_t off, unsigned size)
{
	uint64_t v = 0;

	g_assert_cmpint(dev_bar_read(dev, bar, off, size, &v), ==, -EINVAL);
	g_assert_cmphex(v, ==, UINT64_MAX);
	g_assert_cmpint(dev_bar_write(dev, bar, off, size, 0xfa), ==, -EINVAL);
}

static void test_bad_access(void)
{
	struct dev *dev = create("t0");

	wr(dev, 0, HDR_TEST, 1, 0);
	assert_bad(dev, 2, 0, 4);          /* BAR not implemented */
	assert_bad(dev, 5, 0, 4);
	assert_bad(dev, PCI_NUM_BARS, 0, 4);
	assert_bad(dev, UINT32_MAX, 0, 4);
	assert_bad(dev, 0, 0, 0);          /* sizes */
	assert_bad(dev, 0, 0, 3);
	assert_bad(dev, 0, 0, 16);
	assert_bad(dev, 0, 4096, 1);       /* beyond the BAR */
	assert_bad(dev, 0, 4093, 4);
	assert_bad(dev, 0, 4089, 8);
	assert_bad(dev, 1, 256, 1);
	assert_bad(dev, 1, 255, 2);
	assert_bad(dev, 0, UINT64_MAX, 1); /* off + size overflows */
	assert_bad(dev, 0, UINT64_MAX - 3, 8);
	g_assert_cmphex(rd(dev, 0, 4095, 1), ==, 0); /* last byte is fine */
	g_assert_cmphex(rd(dev, 0, HDR_COUNT, 4), ==, 0);
	g_assert_cmphex(rd(dev, 0, HDR_WIDTH, 1), ==, 1); /* still running */
	dev_destroy(dev);
}

static void test_create_errors(void)
{
	static const struct dev_env env = { 0 };
	json_object *props = json_object_new_object();
	struct dev *dev = NULL;
	char *err = NULL;

	g_assert_cmpint(dev_create("no-such-dev", "t0", &env, NULL, &dev, &err), ==, -ENOENT);
	g_assert_nonnull(strstr(err, "'no-such-dev'"));
	g_assert_nonnull(strstr(err, "pci-testdev"));
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(dev_create(NULL, "t0", &env, NULL, &dev, &err), ==, -ENOENT);
	g_clear_pointer(&err, g_free);

	g_assert_cmpint(dev_create("pci-testdev", NULL, &env, NULL, &dev, &err), ==, -EINVAL);
	g_assert_nonnull(strstr(err, "id="));
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(dev_create("pci-testdev", "", &env, NULL, &dev, &err), ==, -EINVAL);
	g_clear_pointer(&err, g_free);

	json_object_object_add(props, "membar", json_object_new_string("4096"));
	g_assert_cmpint(dev_create("pci-testdev", "t0", &env, props, &dev, &err), ==, -EINVAL);
	g_assert_nonnull(strstr(err, "'membar'"));
	g_assert_nonnull(strstr(err, "pci-testdev 't0'"));
	g_clear_pointer(&err, g_free);
	/* The op itself refuses properties too, for callers that bypass dev_create(). */
	g_assert_cmpint(pci_testdev_ops.create(&env, "t0", props, &dev), ==, -EINVAL);
	json_object_put(props);

	g_assert_true(dev_find("pci-testdev") == &pci_testdev_ops);
	g_assert_null(dev_find("pci"));
	g_assert_null(dev_find(NULL));
	dev_destroy(NULL);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/devices/pci-testdev/config", test_config);
	g_test_add_func("/devices/pci-testdev/idle", test_idle);
	g_test_add_func("/devices/pci-testdev/entries", test_entries);
	g_test_add_func("/devices/pci-testdev/matching", test_matching);
	g_test_add_func("/devices/pci-testdev/doorbells", test_doorbells);
	g_test_add_func("/devices/pci-testdev/read-layout", test_read_layout);
	g_test_add_func("/devices/pci-testdev/reset", test_reset);
	g_test_add_func("/devices/pci-testdev/two-devices", test_two);
	g_test_add_func("/devices/pci-testdev/bad-access", test_bad_access);
	g_test_add_func("/devices/pci-testdev/create-errors", test_create_errors);
	return g_test_run();
}
