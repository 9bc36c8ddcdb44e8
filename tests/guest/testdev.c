// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * testdev.c: the test-table walk of a pci-testdev (1b36:0005), the device QEMU defines
 * in hw/misc/pci-testdev.c and mpvmm reimplements in devices/.  For every entry of a
 * BAR's table it writes the entry's data at its offset with its width and checks the
 * entry's hit counter, as a driver would.  It knows the table layout, not any VMM, and
 * not how the BAR got its address (see testdev.h).
 */
#include "testdev.h"

#define NR_WRITES 16

uint32_t tdev_read(const struct tdev_bar *b, uint32_t off, unsigned width)
{
	uint64_t a = b->base + off;

	if (width == 1)
		return b->io ? inb((uint16_t)a) : readb(a);
	if (width == 2)
		return b->io ? inw((uint16_t)a) : readw(a);
	return b->io ? inl((uint16_t)a) : readl(a);
}

void tdev_write(const struct tdev_bar *b, uint32_t off, unsigned width, uint32_t v)
{
	uint64_t a = b->base + off;

	if (width == 1)
		b->io ? outb((uint8_t)v, (uint16_t)a) : writeb((uint8_t)v, a);
	else if (width == 2)
		b->io ? outw((uint16_t)v, (uint16_t)a) : writew((uint16_t)v, a);
	else
		b->io ? outl(v, (uint16_t)a) : writel(v, a);
}

/* Select entry @i and read its header; false at the end of the table. */
static bool tdev_select(const struct tdev_bar *b, unsigned i, struct tdev_entry *e)
{
	unsigned k;
	char c;

	tdev_write(b, HDR_TEST, 1, i);
	e->width = (uint8_t)tdev_read(b, HDR_WIDTH, 1);
	if (e->width != 1 && e->width != 2 && e->width != 4)
		return false;
	e->offset = tdev_read(b, HDR_OFFSET, 4);
	e->data = tdev_read(b, HDR_DATA, 4);
	for (k = 0; k < MAX_NAME; k++) {
		c = (char)tdev_read(b, HDR_NAME + k, 1);
		if (!c)
			break;
		e->name[k] = c >= ' ' && c <= '~' ? c : '?';
	}
	e->name[k] = '\0';
	return true;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* Writes to an ioeventfd-backed entry are absorbed before they reach the device. */
static bool tdev_is_eventfd(const struct tdev_entry *e)
{
	return has_suffix(e->name, "-eventfd") && !has_suffix(e->name, "no-eventfd");
}

static uint32_t tdev_width_mask(unsigned width)
{
	return width == 4 ? 0xffffffffu : (1u << (8 * width)) - 1;
}

/* A write of other data: counted by a wildcard entry, ignored by a matching one. */
static void tdev_check_other_data(const struct tdev_bar *b, const struct tdev_entry *e,
				  uint32_t count)
{
	bool counting = count == NR_WRITES, wildcard = has_suffix(e->name, "wildcard-eventfd");
	uint32_t other = (e->data ^ 0xa5u) & tdev_width_mask(e->width), want, got;

	const char *what = "is ignored";

	if (wildcard)
		what = counting ? "is counted too" : "also goes to the ioeventfd";
	want = count + (counting && wildcard ? 1 : 0);
	tdev_write(b, e->offset, e->width, other);
	got = tdev_read(b, HDR_COUNT, 4);
	report(got == want, "%s %s: a write of 0x%x instead of 0x%x %s (count %u, want %u)",
	       b->kind, e->name, other, e->data, what, got, want);
}

static void tdev_check_entry(const struct tdev_bar *b, const struct tdev_entry *e)
{
	uint32_t count;

	if (!report(e->offset != HDR_TEST && e->offset <= b->size - e->width,
		    "%s %s: offset 0x%x width %u lies in BAR%u (size 0x%lx)", b->kind, e->name,
		    e->offset, e->width, b->index, b->size))
		return;
	count = tdev_read(b, HDR_COUNT, 4);
	report(count == 0, "%s %s: count is 0 after select (got %u)", b->kind, e->name, count);
	for (unsigned i = 0; i < NR_WRITES; i++)
		tdev_write(b, e->offset, e->width, e->data);
	count = tdev_read(b, HDR_COUNT, 4);
	if (count == 0 && tdev_is_eventfd(e))
		report(true, "%s %s: %u writes of 0x%x at +0x%x went to an ioeventfd (count 0)",
		       b->kind, e->name, NR_WRITES, e->data, e->offset);
	else
		report(count == NR_WRITES, "%s %s: %u writes of 0x%x at +0x%x counted %u", b->kind,
		       e->name, NR_WRITES, e->data, e->offset, count);
	tdev_check_other_data(b, e, count);
}

/* Walk one BAR's table: see testdev.h. */
unsigned tdev_walk(const struct tdev_bar *b, struct tdev_entry *e)
{
	static const char *const expect[] = {"no-eventfd", "wildcard-eventfd", "datamatch-eventfd"};
	unsigned n, found = 0;

	for (n = 0; n < MAX_ENTRIES && tdev_select(b, n, &e[n]); n++) {
		report_note("%s entry %u '%s': width %u offset 0x%x data 0x%x", b->kind, n,
			    e[n].name, e[n].width, e[n].offset, e[n].data);
		tdev_check_entry(b, &e[n]);
	}
	tdev_write(b, HDR_TEST, 1, 0xff); /* deselect: the header now reads as zeros */
	for (unsigned k = 0; k < ARRAY_SIZE(expect); k++)
		for (unsigned i = 0; i < n; i++)
			if (has_suffix(e[i].name, expect[k])) {
				found++;
				break;
			}
	report(found == ARRAY_SIZE(expect) && n < MAX_ENTRIES,
	       "%s table: %u entries, no-eventfd, wildcard-eventfd and datamatch-eventfd present",
	       b->kind, n);
	return n;
}

bool tdev_bar_init(const struct pci_bar *pb, unsigned index, bool io, struct tdev_bar *b)
{
	*b = (struct tdev_bar){io ? "pio" : "mmio", index, pb->addr, pb->size, io};
	return report(pb->size >= HDR_NAME && pb->addr && pb->io == io,
		      "BAR%u is an assigned %s BAR of at least %u bytes (%s, size 0x%lx at 0x%lx)",
		      index, io ? "I/O" : "memory", HDR_NAME, pb->io ? "io" : "mem", pb->size,
		      pb->addr);
}
