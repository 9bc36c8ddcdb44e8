// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pci-testdev.c: guest test of a pci-testdev (1b36:0005), the device QEMU defines in
 * hw/misc/pci-testdev.c and mpvmm reimplements in devices/.  It walks every entry of
 * the test table in BAR0 (MMIO) and BAR1 (port I/O), writes each entry's data at its
 * offset with its width and checks the entry's hit counter, as a driver would.  It
 * knows the table layout, not any VMM: the same ELF must pass under QEMU and mpvmm.
 *
 * Options: wait-gone=1 -- after the tests, print "waiting for the device to go away",
 * poll until BAR0 reads all-ones (its backend died), then check every entry reads
 * all-ones.  The host test kills the device process when it sees that line.
 */
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
#define NR_WRITES 16
#define GONE_POLL_LIMIT 4000000 /* about a minute at PVM's ~16 us per exit */

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

static uint32_t tdev_read(const struct tdev_bar *b, uint32_t off, unsigned width)
{
	uint64_t a = b->base + off;

	if (width == 1)
		return b->io ? inb((uint16_t)a) : readb(a);
	if (width == 2)
		return b->io ? inw((uint16_t)a) : readw(a);
	return b->io ? inl((uint16_t)a) : readl(a);
}

static void tdev_write(const struct tdev_bar *b, uint32_t off, unsigned width, uint32_t v)
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

/* Walk one BAR's table; returns the number of entries, stored in @e. */
static unsigned tdev_walk(const struct tdev_bar *b, struct tdev_entry *e)
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

static void tdev_wait_gone(const struct tdev_bar *bars, struct tdev_entry (*e)[MAX_ENTRIES],
			   const unsigned *nr)
{
	unsigned long polls;

	report_note("waiting for the device to go away");
	for (polls = 0; polls < GONE_POLL_LIMIT; polls++)
		if (tdev_read(&bars[0], HDR_TEST, 4) == 0xffffffffu)
			break;
	if (!report(polls < GONE_POLL_LIMIT,
		    "device went away: BAR0 reads all-ones after %lu polls", polls))
		return;
	for (unsigned b = 0; b < 2; b++)
		for (unsigned i = 0; i < nr[b]; i++) {
			const struct tdev_entry *t = &e[b][i];
			uint32_t width, count;

			tdev_write(&bars[b], HDR_TEST, 1, i);
			tdev_write(&bars[b], t->offset, t->width, t->data);
			width = tdev_read(&bars[b], HDR_WIDTH, 1);
			count = tdev_read(&bars[b], HDR_COUNT, 4);
			report(width == 0xff && count == 0xffffffffu,
			       "%s %s: gone, reads all-ones (width 0x%x count 0x%x)", bars[b].kind,
			       t->name, width, count);
		}
}

static bool tdev_bar_init(const struct pci_fn *fn, unsigned i, bool io, struct tdev_bar *b)
{
	const struct pci_bar *pb = &fn->bar[i];

	*b = (struct tdev_bar){io ? "pio" : "mmio", i, pb->addr, pb->size, io};
	return report(pb->size >= HDR_NAME && pb->addr && pb->io == io,
		      "BAR%u is an assigned %s BAR of at least %u bytes (%s, size 0x%lx at 0x%lx)",
		      i, io ? "I/O" : "memory", HDR_NAME, pb->io ? "io" : "mem", pb->size,
		      pb->addr);
}

int main(void)
{
	static struct tdev_entry entries[2][MAX_ENTRIES];
	struct tdev_bar bars[2];
	unsigned nr[2] = {0, 0};
	const struct pci_fn *fn;
	int r = pci_init();

	pci_print();
	if (r < 0)
		guest_abort("PCI enumeration failed (%d)", r);
	fn = pci_find(TESTDEV_VENDOR, TESTDEV_DEVICE, 0);
	if (!report(fn, "pci-testdev %04x:%04x found on bus 0", TESTDEV_VENDOR, TESTDEV_DEVICE))
		return report_summary();
	report_note("pci-testdev at 00:%02x.%x, class %06x, rev %u", fn->bdf >> 3, fn->bdf & 7,
		    fn->class_code, fn->revision);
	for (unsigned b = 0; b < 2; b++)
		if (tdev_bar_init(fn, b, b == 1, &bars[b]))
			nr[b] = tdev_walk(&bars[b], entries[b]);
	if (guest_opt_ulong("wait-gone", 0, 1) && nr[0])
		tdev_wait_gone(bars, entries, nr);
	return report_summary();
}
