// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pci_testdev: a device that behaves like QEMU's pci-testdev (hw/misc/pci-testdev.c),
 * so a guest test written for QEMU's device (kvm-unit-tests' lib/pci-testdev.c does
 * this) passes unmodified against ours.  It is a plain state machine: it counts the
 * writes it sees and knows nothing of how they reached it.  The offsets of the
 * "wildcard-eventfd" and "datamatch-eventfd" tests are declared as doorbells
 * (dev->doorbells), so a remote hands them to the VMM as ioeventfds and a write there
 * arrives through ops->doorbell instead of bar_write; it counts the same either way.
 *
 * Facts taken from QEMU's device (behaviour, not code):
 *  - IDs 1b36:0005, revision 0, class 0x00ff ("unclassified/other"), subsystem
 *    1af4:1100 (QEMU's default), no interrupt pin.
 *  - BAR0: 32-bit memory, 4096 bytes; BAR1: I/O, 256 bytes.
 *  - Six tests: for each space (mmio = 0, portio = 1) "no-eventfd", "wildcard-eventfd"
 *    and "datamatch-eventfd", global index i = space * 3 + n.  Each has a header:
 *        u8 test (= i)  u8 width (= 1)  u8 pad[2]  le32 offset  u8 data  u8 pad[3]
 *        le32 count     char name[] ("mmio-no-eventfd", ...), NUL terminated.
 *    offset = 2048 + i for mmio tests and 128 + i for portio tests; data = 0xce for
 *    wildcard, 0xfa otherwise.
 *  - The device handles accesses one byte at a time (QEMU splits wider ones, low byte
 *    first).  A byte written at offset 0 of either BAR stops the current test and, if
 *    it is < 3, starts test (BAR space * 3 + value) with its count zeroed.  Any other
 *    byte write counts (count += 1) when a test is running, its offset equals the
 *    test's offset, and, unless the test is "wildcard", the byte equals data.
 *  - Reading byte `a` of either BAR returns byte `a` of the running test's header if
 *    a + 1 < the header's length, else 0; with no test running every byte reads 0.
 *  - Reset stops the running test.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "devices/devices.h"

#define TESTDEV_VENDOR 0x1b36 /* Red Hat */
#define TESTDEV_DEVICE 0x0005
#define TESTDEV_CLASS 0x00ff00 /* base class 0x00, subclass 0xff, prog-if 0 */
#define TESTDEV_SUBSYS_VENDOR 0x1af4
#define TESTDEV_SUBSYS 0x1100

#define TESTDEV_BAR_MMIO 0
#define TESTDEV_BAR_PIO 1
#define TESTDEV_MMIO_SIZE 4096
#define TESTDEV_PIO_SIZE 256
#define TESTDEV_SPACES 2
#define TESTDEV_KINDS 3
#define TESTDEV_NR_TESTS (TESTDEV_SPACES * TESTDEV_KINDS)
#define TESTDEV_DATAMATCH 0xfa
#define TESTDEV_NOMATCH 0xce
#define TESTDEV_WIDTH 1

/* Header layout (byte offsets). */
#define HDR_TEST 0
#define HDR_WIDTH 1
#define HDR_OFFSET 4
#define HDR_DATA 8
#define HDR_COUNT 12
#define HDR_NAME 16
#define HDR_NAME_MAX 24 /* "portio-datamatch-eventfd" is the longest: 24 chars */

struct testdev_test {
	uint8_t buf[HDR_NAME + HDR_NAME_MAX + 1]; /* the header exactly as a guest reads it */
	unsigned len;                             /* header length, name's NUL included */
	bool match_data;
};

struct pci_testdev {
	struct dev dev;
	struct testdev_test test[TESTDEV_NR_TESTS];
	int current; /* running test, -1 for none */
};

static const char *const testdev_space[TESTDEV_SPACES] = { "mmio", "portio" };
static const char *const testdev_kind[TESTDEV_KINDS] = { "no-eventfd", "wildcard-eventfd",
							 "datamatch-eventfd" };

static struct pci_testdev *to_testdev(struct dev *dev)
{
	return (struct pci_testdev *)((char *)dev - offsetof(struct pci_testdev, dev));
}

static void le32_put(uint8_t *p, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

static uint32_t le32_get(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void testdev_test_init(struct testdev_test *t, unsigned i)
{
	unsigned space = i / TESTDEV_KINDS, kind = i % TESTDEV_KINDS;
	unsigned base = space == 0 ? TESTDEV_MMIO_SIZE / 2 : TESTDEV_PIO_SIZE / 2;
	int n;

	memset(t, 0, sizeof(*t));
	t->match_data = kind != 1; /* only "wildcard-eventfd" ignores the data */
	t->buf[HDR_TEST] = i;
	t->buf[HDR_WIDTH] = TESTDEV_WIDTH;
	le32_put(&t->buf[HDR_OFFSET], base + i * TESTDEV_WIDTH);
	t->buf[HDR_DATA] = t->match_data ? TESTDEV_DATAMATCH : TESTDEV_NOMATCH;
	n = snprintf((char *)&t->buf[HDR_NAME], HDR_NAME_MAX + 1, "%s-%s", testdev_space[space],
		     testdev_kind[kind]);
	t->len = HDR_NAME + n + 1;
}

static uint8_t testdev_read_byte(const struct pci_testdev *d, uint64_t addr)
{
	const struct testdev_test *t;

	if (d->current < 0)
		return 0;
	t = &d->test[d->current];
	return addr + 1 < t->len ? t->buf[addr] : 0;
}

static void testdev_write_byte(struct pci_testdev *d, unsigned space, uint64_t addr, uint8_t v)
{
	struct testdev_test *t;

	if (addr == HDR_TEST) {
		d->current = -1;
		if (v >= TESTDEV_KINDS)
			return;
		d->current = space * TESTDEV_KINDS + v;
		le32_put(&d->test[d->current].buf[HDR_COUNT], 0);
		g_debug("%s: test %s started", d->dev.id,
			(const char *)&d->test[d->current].buf[HDR_NAME]);
		return;
	}
	if (d->current < 0)
		return;
	t = &d->test[d->current];
	if (addr != le32_get(&t->buf[HDR_OFFSET]))
		return;
	if (t->match_data && v != t->buf[HDR_DATA])
		return;
	le32_put(&t->buf[HDR_COUNT], le32_get(&t->buf[HDR_COUNT]) + 1);
}

static int pci_testdev_bar_read(struct dev *dev, unsigned bar, uint64_t off, unsigned size,
				uint64_t *val)
{
	struct pci_testdev *d = to_testdev(dev);
	uint64_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)testdev_read_byte(d, off + i) << (8 * i);
	*val = v;
	return 0;
}

static int pci_testdev_bar_write(struct dev *dev, unsigned bar, uint64_t off, unsigned size,
				 uint64_t val)
{
	struct pci_testdev *d = to_testdev(dev);
	unsigned space = bar == TESTDEV_BAR_MMIO ? 0 : 1;

	for (unsigned i = 0; i < size; i++)
		testdev_write_byte(d, space, off + i, val >> (8 * i));
	return 0;
}

/*
 * The eventfd tests' offsets (test i at base + i): index n here is test
 * testdev_doorbell_test[n].  Datamatch ones fire on their data byte only.
 */
static const struct dev_doorbell testdev_doorbells[] = {
	{ .bar = TESTDEV_BAR_MMIO, .off = TESTDEV_MMIO_SIZE / 2 + 1, .size = TESTDEV_WIDTH },
	{ .bar = TESTDEV_BAR_MMIO, .off = TESTDEV_MMIO_SIZE / 2 + 2, .size = TESTDEV_WIDTH,
	  .datamatch = true, .data = TESTDEV_DATAMATCH },
	{ .bar = TESTDEV_BAR_PIO, .off = TESTDEV_PIO_SIZE / 2 + 4, .size = TESTDEV_WIDTH },
	{ .bar = TESTDEV_BAR_PIO, .off = TESTDEV_PIO_SIZE / 2 + 5, .size = TESTDEV_WIDTH,
	  .datamatch = true, .data = TESTDEV_DATAMATCH },
};
static const unsigned testdev_doorbell_test[] = { 1, 2, 4, 5 };

/* A ring of doorbell `index` is the write that would have counted in bar_write. */
static void pci_testdev_doorbell(struct dev *dev, unsigned index)
{
	struct pci_testdev *d = to_testdev(dev);
	const struct dev_doorbell *db;

	if (index >= G_N_ELEMENTS(testdev_doorbells))
		return;
	db = &testdev_doorbells[index];
	if (d->current == (int)testdev_doorbell_test[index])
		testdev_write_byte(d, db->bar == TESTDEV_BAR_MMIO ? 0 : 1, db->off,
				   db->datamatch ? db->data : TESTDEV_NOMATCH);
}

static void pci_testdev_reset(struct dev *dev)
{
	to_testdev(dev)->current = -1;
}

static int pci_testdev_create(const struct dev_env *env, const char *id, json_object *cfg,
			      struct dev **out)
{
	static const struct pcicfg_ident ident = {
		.vendor = TESTDEV_VENDOR, .device = TESTDEV_DEVICE,
		.subsys_vendor = TESTDEV_SUBSYS_VENDOR, .subsys = TESTDEV_SUBSYS,
		.class_code = TESTDEV_CLASS,
	};
	static const struct pcicfg_bar bars[PCI_NUM_BARS] = {
		[TESTDEV_BAR_MMIO] = { .size = TESTDEV_MMIO_SIZE },
		[TESTDEV_BAR_PIO] = { .size = TESTDEV_PIO_SIZE, .flags = PCI_BAR_IO },
	};
	struct pci_testdev *d;
	int ret;

	if (cfg && json_object_object_length(cfg) != 0)
		return -EINVAL; /* pci-testdev has no properties */
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	ret = pcicfg_init(&d->dev.cfg, &ident, bars);
	if (ret < 0) {
		free(d);
		return ret;
	}
	for (unsigned i = 0; i < TESTDEV_NR_TESTS; i++)
		testdev_test_init(&d->test[i], i);
	d->current = -1;
	d->dev.doorbells = testdev_doorbells;
	d->dev.nr_doorbells = G_N_ELEMENTS(testdev_doorbells);
	*out = &d->dev;
	return 0;
}

static void pci_testdev_destroy(struct dev *dev)
{
	free(to_testdev(dev));
}

const struct dev_ops pci_testdev_ops = {
	.type = "pci-testdev",
	.desc = "PCI test device (QEMU-compatible, 1b36:0005): test tables in BAR0 and BAR1",
	.props = "",
	.create = pci_testdev_create,
	.destroy = pci_testdev_destroy,
	.bar_read = pci_testdev_bar_read,
	.bar_write = pci_testdev_bar_write,
	.reset = pci_testdev_reset,
	.doorbell = pci_testdev_doorbell,
};
