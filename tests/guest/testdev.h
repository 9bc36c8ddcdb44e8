/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * testdev.h: a guest-side driver for the test tables of a pci-testdev (1b36:0005),
 * shared by the guest programs that drive one (pci-testdev.c, multiboot.c).  It walks
 * a BAR whose address the caller already knows -- assigned by the runtime's pci_init()
 * or by firmware -- and reports every check through report().  It never touches PCI
 * configuration space: finding the device and its BARs is the program's business.
 */
#ifndef GUEST_TESTDEV_H
#define GUEST_TESTDEV_H

#include "guest.h"

#define TESTDEV_VENDOR 0x1b36
#define TESTDEV_DEVICE 0x0005

/* Header at offset 0 of each BAR (QEMU's struct PCITestDevHdr, little-endian). */
#define HDR_TEST 0   /* write N: select entry N and zero its count; past the end: none */
#define HDR_WIDTH 1  /* access width of the entry: 1, 2 or 4; anything else ends the table */
#define HDR_OFFSET 4 /* where in this BAR to write */
#define HDR_DATA 8   /* what to write */
#define HDR_COUNT 12 /* writes seen (matching writes for a datamatch entry) */
#define HDR_NAME 16  /* NUL-terminated name */

#define MAX_NAME 47
#define MAX_ENTRIES 16

struct tdev_bar {
	const char *kind; /* "mmio" or "pio" */
	unsigned index;
	uint64_t base, size;
	bool io;
};

struct tdev_entry {
	char name[MAX_NAME + 1];
	uint32_t offset, data;
	uint8_t width;
};

/* One access of @width (1, 2 or 4) bytes at @off in the BAR. */
uint32_t tdev_read(const struct tdev_bar *b, uint32_t off, unsigned width);
void tdev_write(const struct tdev_bar *b, uint32_t off, unsigned width, uint32_t v);
/*
 * Describe BAR @index (@pb, as found by the caller) in @b and report whether it is an
 * assigned @io (port) or memory BAR large enough for the header.  Returns that check.
 */
bool tdev_bar_init(const struct pci_bar *pb, unsigned index, bool io, struct tdev_bar *b);
/* Check every entry of @b's table; returns the number of entries, stored in @e. */
unsigned tdev_walk(const struct tdev_bar *b, struct tdev_entry *e);

#endif /* GUEST_TESTDEV_H */
