// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mb_pci.c: multiboot.elf's check of the PCI resources firmware assigned on bus 0, as
 * SeaBIOS does on QEMU's pc machine: every implemented BAR of every type-0 function
 * has an address aligned to its size, the command register decodes what the BARs
 * need, a function with an interrupt pin has an interrupt line, and no BAR overlaps
 * RAM, the legacy ports below 0x1000 or another BAR.  Then it drives the pci-testdev
 * through its firmware-assigned BARs (testdev.c).  BARs are sized the way an OS sizes
 * them (decode off, all-ones, restore) and must read back unchanged; nothing is
 * reassigned.  It does not use the runtime's pci_init(), which would.
 */
#include "mb.h"
#include "testdev.h"

#define PCI_COMMAND 0x04
#define PCI_COMMAND_IO 0x1
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define PCI_HEADER_TYPE 0x0e
#define PCI_HEADER_MULTIFN 0x80
#define PCI_BAR0 0x10
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d
#define PCI_BAR_IO 0x1
#define PCI_BAR_MEM_TYPE_64 0x4

/* Size BAR @i of @bdf (decoding is off); restore it.  Returns the slots it uses. */
static unsigned mb_pci_bar_probe(uint16_t bdf, unsigned i, struct pci_bar *b, bool *same)
{
	unsigned off = PCI_BAR0 + 4 * i;
	uint32_t lo = pci_cfg_readl(bdf, off), hi = 0, mlo, mhi = 0xffffffffu;

	pci_cfg_writel(bdf, off, 0xffffffffu);
	mlo = pci_cfg_readl(bdf, off);
	pci_cfg_writel(bdf, off, lo);
	*same = pci_cfg_readl(bdf, off) == lo;
	*b = (struct pci_bar){.io = lo & PCI_BAR_IO};
	if (b->io) {
		mlo &= ~3u;
		b->addr = lo & ~3u;
		b->size = mlo ? (uint32_t)(~(mlo | 0xffff0000u) + 1) : 0;
		return 1;
	}
	b->is64 = (lo & 0x6) == PCI_BAR_MEM_TYPE_64 && i < 5;
	if (b->is64) {
		hi = pci_cfg_readl(bdf, off + 4);
		pci_cfg_writel(bdf, off + 4, 0xffffffffu);
		mhi = pci_cfg_readl(bdf, off + 4);
		pci_cfg_writel(bdf, off + 4, hi);
		*same = *same && pci_cfg_readl(bdf, off + 4) == hi;
	}
	b->addr = (uint64_t)hi << 32 | (lo & ~0xfu);
	b->size = (mlo & ~0xfu) ? ~((uint64_t)mhi << 32 | (mlo & ~0xfu)) + 1 : 0;
	return b->is64 ? 2 : 1;
}

#define MAX_BARS 64
#define IO_LEGACY_END 0x1000 /* ISA and motherboard ports below */

/* Every assigned BAR seen, for the overlap check across functions. */
static struct pci_bar all_bars[MAX_BARS];
static unsigned all_nr;

static void mb_pci_bar_add(const struct pci_bar *b)
{
	if (all_nr < MAX_BARS)
		all_bars[all_nr++] = *b;
}

/* Memory BARs in no RAM, I/O BARs above the legacy ports, no two BARs overlapping. */
static void mb_pci_layout_check(void)
{
	unsigned in_ram = 0, legacy = 0, overlap = 0;

	for (unsigned i = 0; i < all_nr; i++) {
		const struct pci_bar *a = &all_bars[i];

		if (a->io)
			legacy += a->addr < IO_LEGACY_END;
		else
			in_ram += mb_ram_overlaps(a->addr, a->size);
		for (unsigned j = i + 1; j < all_nr; j++) {
			const struct pci_bar *b = &all_bars[j];

			overlap += a->io == b->io && a->addr < b->addr + b->size &&
				   b->addr < a->addr + a->size;
		}
	}
	report(!in_ram && !legacy && !overlap,
	       "%u BARs: %u memory BARs in RAM, %u I/O BARs below 0x%x, %u overlapping pairs",
	       all_nr, in_ram, legacy, IO_LEGACY_END, overlap);
}

static const char *mb_pci_bar_kind(const struct pci_bar *b)
{
	if (b->io)
		return "io";
	return b->is64 ? "mem64" : "mem32";
}

/* Probe and check every BAR of a type-0 function; @bars receives them. */
static void mb_pci_fn_check(uint16_t bdf, struct pci_bar *bars)
{
	uint16_t cmd = pci_cfg_readw(bdf, PCI_COMMAND), need = 0;
	uint8_t pin = pci_cfg_readb(bdf, PCI_INTERRUPT_PIN), line;
	unsigned dev = bdf >> 3, fn = bdf & 7, changed = 0;
	bool same;

	/* Nothing may print while decoding is off: it could be the console's device. */
	pci_cfg_writew(bdf, PCI_COMMAND, cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
	for (unsigned i = 0, n; i < 6; i += n) {
		n = mb_pci_bar_probe(bdf, i, &bars[i], &same);
		changed += !same;
	}
	pci_cfg_writew(bdf, PCI_COMMAND, cmd);
	report(!changed, "00:%02x.%x BARs read back unchanged after sizing", dev, fn);
	for (unsigned i = 0; i < 6; i++) {
		const struct pci_bar *b = &bars[i];

		if (!b->size)
			continue;
		need |= b->io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
		if (b->addr)
			mb_pci_bar_add(b);
		report(b->addr && !(b->size & (b->size - 1)) && !(b->addr & (b->size - 1)),
		       "00:%02x.%x BAR%u: %s size 0x%lx assigned at 0x%lx, aligned", dev, fn, i,
		       mb_pci_bar_kind(b), b->size, b->addr);
	}
	report((cmd & need) == need,
	       "00:%02x.%x command 0x%04x decodes what its BARs need (0x%x)%s", dev, fn, cmd, need,
	       cmd & PCI_COMMAND_MASTER ? ", bus master on" : "");
	line = pci_cfg_readb(bdf, PCI_INTERRUPT_LINE);
	if (pin)
		report(pin <= 4 && line && line != 0xff,
		       "00:%02x.%x interrupt pin INT%c has line %u", dev, fn, 'A' + pin - 1, line);
}

static bool mb_pci_present(uint16_t bdf)
{
	uint16_t vendor = pci_cfg_readw(bdf, 0);

	return vendor != 0xffff && vendor != 0;
}

/* Check one function; returns true if it is the first pci-testdev (BARs in @bars). */
static bool mb_pci_visit(uint16_t bdf, struct pci_bar *bars, bool found)
{
	uint32_t ids = pci_cfg_readl(bdf, 0), class = pci_cfg_readl(bdf, 8) >> 8;
	struct pci_bar tmp[6];

	report_note("pci 00:%02x.%x %04x:%04x class %06x", bdf >> 3, bdf & 7, ids & 0xffff,
		    ids >> 16, class);
	/* Bridges (host, ISA, PIIX4 PM) keep their resources in their own registers. */
	if ((pci_cfg_readb(bdf, PCI_HEADER_TYPE) & 0x7f) || class >> 16 == 0x06)
		return false;
	if (!found && ids == ((uint32_t)TESTDEV_DEVICE << 16 | TESTDEV_VENDOR)) {
		mb_pci_fn_check(bdf, bars);
		return true;
	}
	mb_pci_fn_check(bdf, tmp);
	return false;
}

static void mb_testdev_drive(const struct pci_bar *pb)
{
	static struct tdev_entry entries[MAX_ENTRIES];
	struct tdev_bar bar;

	for (unsigned b = 0; b < 2; b++)
		if (tdev_bar_init(&pb[b], b, b == 1, &bar))
			tdev_walk(&bar, entries);
}

void mb_pci_check(const struct mb_expect *x)
{
	struct pci_bar testdev[6];
	bool found = false;

	for (unsigned dev = 0; dev < 32; dev++) {
		uint16_t bdf = (uint16_t)(dev << 3);
		unsigned nfn;

		if (!mb_pci_present(bdf))
			continue;
		nfn = pci_cfg_readb(bdf, PCI_HEADER_TYPE) & PCI_HEADER_MULTIFN ? 8 : 1;
		for (unsigned f = 0; f < nfn; f++)
			if (mb_pci_present(bdf | f))
				found |= mb_pci_visit(bdf | f, testdev, found);
	}
	mb_pci_layout_check();
	if (!x->testdev) {
		report(!found, "testdev=0: no pci-testdev on bus 0");
		return;
	}
	if (report(found, "pci-testdev %04x:%04x found on bus 0", TESTDEV_VENDOR, TESTDEV_DEVICE))
		mb_testdev_drive(testdev);
}
