// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pci.c: what firmware would do for bus 0, in the simplest form that works on QEMU's
 * i440FX and on mpvmm: configuration mechanism #1 (PCI Local Bus 3.0, 3.2.2.3.2),
 * enumeration, BAR sizing (PCI 3.0, 6.2.5.1) and a bump allocator for BAR addresses.
 * Bridges (class 0x06) are listed but neither sized nor reprogrammed, and buses behind
 * them are not scanned.  No ECAM, no capabilities, no interrupts.
 */
#include "guest.h"

#define PCI_CFG_ADDR 0xcf8
#define PCI_CFG_DATA 0xcfc
#define PCI_CFG_ENABLE 0x80000000u

#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_COMMAND_IO 0x1
#define PCI_COMMAND_MEMORY 0x2
#define PCI_CLASS_REVISION 0x08
#define PCI_HEADER_TYPE 0x0e
#define PCI_HEADER_MULTIFN 0x80
#define PCI_BAR0 0x10
#define PCI_ROM_ADDRESS 0x30
#define PCI_ROM_ENABLE 0x1

#define PCI_BAR_IO 0x1
#define PCI_BAR_MEM_TYPE_64 0x4
#define PCI_BAR_MEM_PREFETCH 0x8
#define PCI_CLASS_BRIDGE 0x06

#define PCI_MEM_MIN_ALIGN 4096 /* one BAR per page, so a VMM can trap each page alone */

static struct pci_fn pci_fns[PCI_MAX_FNS];
static unsigned pci_nr;
static uint64_t pci_mem_next = PCI_MEM_WINDOW_BASE;
static uint64_t pci_io_next = PCI_IO_WINDOW_BASE;

/* @off must be below 256: mechanism #1 reaches only the legacy configuration space. */
static void pci_cfg_select(uint16_t bdf, unsigned off)
{
	outl(PCI_CFG_ENABLE | (uint32_t)bdf << 8 | (off & 0xfc), PCI_CFG_ADDR);
}

uint8_t pci_cfg_readb(uint16_t bdf, unsigned off)
{
	pci_cfg_select(bdf, off);
	return inb(PCI_CFG_DATA + (off & 3));
}

uint16_t pci_cfg_readw(uint16_t bdf, unsigned off)
{
	pci_cfg_select(bdf, off);
	return inw(PCI_CFG_DATA + (off & 2));
}

uint32_t pci_cfg_readl(uint16_t bdf, unsigned off)
{
	pci_cfg_select(bdf, off);
	return inl(PCI_CFG_DATA);
}

void pci_cfg_writeb(uint16_t bdf, unsigned off, uint8_t v)
{
	pci_cfg_select(bdf, off);
	outb(v, PCI_CFG_DATA + (off & 3));
}

void pci_cfg_writew(uint16_t bdf, unsigned off, uint16_t v)
{
	pci_cfg_select(bdf, off);
	outw(v, PCI_CFG_DATA + (off & 2));
}

void pci_cfg_writel(uint16_t bdf, unsigned off, uint32_t v)
{
	pci_cfg_select(bdf, off);
	outl(v, PCI_CFG_DATA);
}

/* Write all-ones, read back the size mask, restore the original value. */
static uint32_t pci_bar_mask(uint16_t bdf, unsigned off)
{
	uint32_t orig = pci_cfg_readl(bdf, off), mask;

	pci_cfg_writel(bdf, off, 0xffffffffu);
	mask = pci_cfg_readl(bdf, off);
	pci_cfg_writel(bdf, off, orig);
	return mask;
}

/* Size BAR @i of @fn, decoding off.  Returns the slots it occupies (2 for 64-bit). */
static unsigned pci_bar_probe(struct pci_fn *fn, unsigned i)
{
	struct pci_bar *b = &fn->bar[i];
	uint32_t lo = pci_bar_mask(fn->bdf, PCI_BAR0 + 4 * i), hi = 0;
	uint64_t m;

	if (lo & PCI_BAR_IO) {
		/* I/O BARs may implement only 16 address bits; the rest read as 0. */
		b->io = true;
		m = lo & ~3u;
		if (!(m & 0xffff0000u))
			m |= 0xffff0000u;
		b->size = (lo & ~3u) ? (uint32_t)(~m + 1) : 0;
		return 1;
	}
	b->prefetch = lo & PCI_BAR_MEM_PREFETCH;
	b->is64 = (lo & 0x6) == PCI_BAR_MEM_TYPE_64 && i < 5;
	if (b->is64)
		hi = pci_bar_mask(fn->bdf, PCI_BAR0 + 4 * (i + 1));
	m = (uint64_t)hi << 32 | (lo & ~0xfu);
	if (!b->is64)
		m |= 0xffffffff00000000ull;
	b->size = ((lo & ~0xfu) || hi) ? ~m + 1 : 0;
	return b->is64 ? 2 : 1;
}

/* Place BAR @i in its window, aligned to its size; -ENOSPC when it does not fit. */
static int pci_bar_assign(struct pci_fn *fn, unsigned i)
{
	struct pci_bar *b = &fn->bar[i];
	uint64_t *next = b->io ? &pci_io_next : &pci_mem_next;
	uint64_t end = b->io ? PCI_IO_WINDOW_END : PCI_MEM_WINDOW_END;
	uint64_t align = b->size, base;

	if (!b->size)
		return 0;
	if (b->size & (b->size - 1) || b->size > end - *next)
		return -ENOSPC; /* not a power of two (a broken device) or too large */
	if (!b->io && align < PCI_MEM_MIN_ALIGN)
		align = PCI_MEM_MIN_ALIGN;
	base = (*next + align - 1) & ~(align - 1);
	if (base > end - b->size)
		return -ENOSPC;
	pci_cfg_writel(fn->bdf, PCI_BAR0 + 4 * i, (uint32_t)base);
	if (b->is64)
		pci_cfg_writel(fn->bdf, PCI_BAR0 + 4 * (i + 1), 0);
	b->addr = base;
	*next = base + b->size;
	return 0;
}

/* Size and place every BAR of a type-0 function, then turn on the decoding it needs. */
static int pci_configure(struct pci_fn *fn)
{
	uint16_t cmd = pci_cfg_readw(fn->bdf, PCI_COMMAND), on = 0;
	uint32_t rom = pci_cfg_readl(fn->bdf, PCI_ROM_ADDRESS);
	int err = 0, r;

	pci_cfg_writew(fn->bdf, PCI_COMMAND, cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
	pci_cfg_writel(fn->bdf, PCI_ROM_ADDRESS, rom & ~PCI_ROM_ENABLE);
	for (unsigned i = 0; i < 6; i += pci_bar_probe(fn, i))
		;
	for (unsigned i = 0; i < 6; i++) {
		r = pci_bar_assign(fn, i);
		if (r < 0 && !err)
			err = r;
		if (fn->bar[i].size && !r)
			on |= fn->bar[i].io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
	}
	/* A function with a BAR we could not place stays off: it would decode garbage. */
	if (!err)
		pci_cfg_writew(fn->bdf, PCI_COMMAND, cmd | on);
	return err;
}

static int pci_add(uint16_t bdf)
{
	struct pci_fn *fn;
	uint32_t cr;

	if (pci_nr == PCI_MAX_FNS)
		return -ENOSPC;
	fn = &pci_fns[pci_nr++];
	cr = pci_cfg_readl(bdf, PCI_CLASS_REVISION);
	*fn = (struct pci_fn){
		.bdf = bdf,
		.vendor = pci_cfg_readw(bdf, PCI_VENDOR_ID),
		.device = pci_cfg_readw(bdf, PCI_DEVICE_ID),
		.revision = (uint8_t)cr,
		.class_code = cr >> 8,
		.header_type = pci_cfg_readb(bdf, PCI_HEADER_TYPE),
	};
	if ((fn->header_type & 0x7f) != 0 || fn->class_code >> 16 == PCI_CLASS_BRIDGE)
		return 0;
	return pci_configure(fn);
}

static bool pci_present(uint16_t bdf)
{
	uint16_t vendor = pci_cfg_readw(bdf, PCI_VENDOR_ID);

	return vendor != 0xffff && vendor != 0;
}

int pci_init(void)
{
	int err = 0, r;

	for (unsigned dev = 0; dev < 32; dev++) {
		uint16_t bdf = (uint16_t)(dev << 3);
		unsigned nfn;

		if (!pci_present(bdf))
			continue;
		nfn = pci_cfg_readb(bdf, PCI_HEADER_TYPE) & PCI_HEADER_MULTIFN ? 8 : 1;
		for (unsigned f = 0; f < nfn; f++) {
			if (!pci_present(bdf | f))
				continue;
			r = pci_add(bdf | f);
			if (r < 0 && !err)
				err = r;
		}
	}
	return err ? err : (int)pci_nr;
}

const struct pci_fn *pci_find(uint16_t vendor, uint16_t device, unsigned index)
{
	for (unsigned i = 0; i < pci_nr; i++)
		if (pci_fns[i].vendor == vendor && pci_fns[i].device == device && !index--)
			return &pci_fns[i];
	return NULL;
}

static const char *pci_bar_kind(const struct pci_bar *b)
{
	if (b->io)
		return "io";
	return b->is64 ? "mem64" : "mem32";
}

void pci_print(void)
{
	for (unsigned i = 0; i < pci_nr; i++) {
		const struct pci_fn *fn = &pci_fns[i];

		printf("# pci %02x:%02x.%x %04x:%04x rev %02x class %06x%s\n", fn->bdf >> 8,
		       (fn->bdf >> 3) & 0x1f, fn->bdf & 7, fn->vendor, fn->device, fn->revision,
		       fn->class_code, fn->class_code >> 16 == PCI_CLASS_BRIDGE ? " (bridge)" : "");
		for (unsigned b = 0; b < 6; b++) {
			const struct pci_bar *bar = &fn->bar[b];

			if (!bar->size)
				continue;
			printf("#   BAR%u %s%s size 0x%lx at 0x%lx%s\n", b, pci_bar_kind(bar),
			       bar->prefetch ? " prefetchable" : "", bar->size, bar->addr,
			       bar->addr ? "" : " (unassigned)");
		}
	}
}

/* ---- buses behind bridges (PCI-to-PCI Bridge Architecture Spec 1.2, 3.2) ---- */

#define PCI_PRIMARY_BUS 0x18
#define PCI_IO_BASE 0x1c
#define PCI_MEMORY_BASE 0x20
#define PCI_PREF_BASE 0x24
#define PCI_PREF_BASE_UPPER 0x28
#define PCI_IO_BASE_UPPER 0x30

static void pci_bridge_read(uint16_t bdf, struct pci_bridge *br)
{
	uint32_t buses = pci_cfg_readl(bdf, PCI_PRIMARY_BUS);
	uint16_t io = pci_cfg_readw(bdf, PCI_IO_BASE);
	uint32_t io_up = pci_cfg_readl(bdf, PCI_IO_BASE_UPPER);
	uint32_t mem = pci_cfg_readl(bdf, PCI_MEMORY_BASE);
	uint32_t pref = pci_cfg_readl(bdf, PCI_PREF_BASE);

	*br = (struct pci_bridge){.bdf = bdf,
				  .secondary = (uint8_t)(buses >> 8),
				  .subordinate = (uint8_t)(buses >> 16)};
	br->io_base = (uint64_t)(io & 0xf0) << 8;
	br->io_limit = ((uint64_t)(io & 0xf000) | 0xfff);
	if ((io & 0xf) == 1) { /* 32-bit I/O decode */
		br->io_base |= (uint64_t)(io_up & 0xffff) << 16;
		br->io_limit |= (uint64_t)(io_up >> 16) << 16;
	}
	br->mem_base = (uint64_t)(mem & 0xfff0) << 16;
	br->mem_limit = (uint64_t)(mem & 0xfff00000u) | 0xfffff;
	br->pref_base = (uint64_t)(pref & 0xfff0) << 16;
	br->pref_limit = (uint64_t)(pref & 0xfff00000u) | 0xfffff;
	if ((pref & 0xf) == 1) { /* 64-bit prefetchable */
		br->pref_base |= (uint64_t)pci_cfg_readl(bdf, PCI_PREF_BASE_UPPER) << 32;
		br->pref_limit |= (uint64_t)pci_cfg_readl(bdf, PCI_PREF_BASE_UPPER + 4) << 32;
	}
}

unsigned pci_bridges(struct pci_bridge *br, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < pci_nr && n < max; i++) {
		if ((pci_fns[i].header_type & 0x7f) == 1)
			pci_bridge_read(pci_fns[i].bdf, &br[n++]);
	}
	return n;
}

int pci_probe(uint16_t bdf, struct pci_fn *fn)
{
	uint32_t cr;
	uint16_t cmd;

	if (!pci_present(bdf))
		return -ENODEV;
	cr = pci_cfg_readl(bdf, PCI_CLASS_REVISION);
	*fn = (struct pci_fn){
		.bdf = bdf,
		.vendor = pci_cfg_readw(bdf, PCI_VENDOR_ID),
		.device = pci_cfg_readw(bdf, PCI_DEVICE_ID),
		.revision = (uint8_t)cr,
		.class_code = cr >> 8,
		.header_type = pci_cfg_readb(bdf, PCI_HEADER_TYPE),
	};
	if ((fn->header_type & 0x7f) != 0)
		return 0;
	cmd = pci_cfg_readw(bdf, PCI_COMMAND);
	pci_cfg_writew(bdf, PCI_COMMAND, cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
	for (unsigned i = 0; i < 6; i += pci_bar_probe(fn, i))
		;
	return 0;
}

/* Place one BAR at the next size-aligned address in [*next, end). */
static int pci_place_bar(struct pci_fn *fn, unsigned i, uint64_t *next, uint64_t end)
{
	struct pci_bar *b = &fn->bar[i];
	uint64_t base;

	if (b->size & (b->size - 1) || b->size > end - *next)
		return -ENOSPC;
	base = (*next + b->size - 1) & ~(b->size - 1);
	if (base < *next || base > end - b->size)
		return -ENOSPC;
	pci_cfg_writel(fn->bdf, PCI_BAR0 + 4 * i, (uint32_t)base);
	if (b->is64)
		pci_cfg_writel(fn->bdf, PCI_BAR0 + 4 * (i + 1), (uint32_t)(base >> 32));
	b->addr = base;
	*next = base + b->size;
	return 0;
}

int pci_place(struct pci_fn *fn, uint64_t *mem, uint64_t mem_end, uint64_t *io, uint64_t io_end)
{
	uint16_t on = 0;
	int r;

	for (unsigned i = 0; i < 6; i++) {
		if (!fn->bar[i].size)
			continue;
		r = fn->bar[i].io ? pci_place_bar(fn, i, io, io_end)
				  : pci_place_bar(fn, i, mem, mem_end);
		if (r < 0)
			return r;
		on |= fn->bar[i].io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
	}
	pci_cfg_writew(fn->bdf, PCI_COMMAND, pci_cfg_readw(fn->bdf, PCI_COMMAND) | on);
	return 0;
}

void pci_alloc_next(uint64_t *mem, uint64_t *io)
{
	*mem = pci_mem_next;
	*io = pci_io_next;
}
