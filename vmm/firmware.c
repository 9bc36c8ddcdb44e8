// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * firmware: what SeaBIOS does to PCI before a guest kernel runs, done by the VMM at
 * machine start through ordinary config cycles on the host bridge (so the functions'
 * BAR virtualization sees exactly what a guest would do).  It sizes every BAR (PCI
 * Local Bus Spec 3.0, 6.2.5.1: write all-ones, read back the mask), assigns them
 * largest first with natural alignment -- I/O from 0xc000, memory in the 32-bit
 * hole 0xc0000000-0xfebfffff, 64-bit BARs of 256 MiB and more above guest RAM
 * above 4G -- enables I/O, memory and bus mastering in the command register, and
 * writes the interrupt line for the pin the device reports, with the PIIX routing
 * QEMU's pc machine and SeaBIOS use.  A guest may reprogram all of it later.  It
 * assigns no expansion ROMs.  PCI-to-PCI bridges on bus 0 (the PCIe root ports, whose
 * slots start empty) get the next bus number as secondary and subordinate bus, and a
 * reservation for a hot-added device, as SeaBIOS gives hot-plug capable ports: a 2 MiB
 * memory window and a 4 KiB I/O window (left closed, with a warning, when the I/O
 * space is used up), the prefetchable window closed.  Buses behind bridges are not
 * scanned: nothing sits there at start.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "vmm/vmm.h"

#define PCI_COMMAND 0x04
#define PCI_COMMAND_IO 0x1
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define PCI_BAR0 0x10
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d

enum fw_space { FW_IO, FW_MEM32, FW_MEM64, FW_NR_SPACES };

struct fw_bar {
	unsigned slot, bar;
	uint64_t size;
	bool mem64; /* a 64-bit memory BAR (two registers), wherever it is placed */
	enum fw_space space;
};

struct fw_state {
	struct pcihost *h;
	struct fw_bar bar[PCIHOST_SLOTS * PCIFN_NUM_BARS];
	unsigned nr;
	uint64_t next[FW_NR_SPACES], end[FW_NR_SPACES];
};

static const char *const fw_space_name[] = {"I/O", "32-bit memory", "64-bit memory"};

static uint32_t fw_read(struct pcihost *h, unsigned slot, uint32_t reg, unsigned size)
{
	return pcihost_cfg_read(h, 0, slot, 0, reg, size);
}

static void fw_write(struct pcihost *h, unsigned slot, uint32_t reg, unsigned size, uint32_t val)
{
	pcihost_cfg_write(h, 0, slot, 0, reg, size, val);
}

/* Size one BAR register pair; 0 = absent.  *regs is how many registers it uses. */
static uint64_t fw_size_bar(struct pcihost *h, unsigned slot, unsigned i, bool *io, bool *mem64,
			    unsigned *regs)
{
	uint32_t reg = PCI_BAR0 + 4 * i, orig = fw_read(h, slot, reg, 4), mask, hi = 0xffffffffu;

	fw_write(h, slot, reg, 4, 0xffffffffu);
	mask = fw_read(h, slot, reg, 4);
	fw_write(h, slot, reg, 4, orig);
	*io = mask & 1;
	*mem64 = !*io && ((mask >> 1) & 3) == 2 && i + 1 < PCIFN_NUM_BARS;
	*regs = *mem64 ? 2 : 1;
	if (mask == 0 || mask == 0xffffffffu)
		return 0;
	if (*io)
		return (uint64_t)(~(mask & ~3u) & 0xffff) + 1;
	if (*mem64) {
		uint32_t orig_hi = fw_read(h, slot, reg + 4, 4);

		fw_write(h, slot, reg + 4, 4, 0xffffffffu);
		hi = fw_read(h, slot, reg + 4, 4);
		fw_write(h, slot, reg + 4, 4, orig_hi);
	}
	return ~(((uint64_t)hi << 32) | (mask & ~0xfu)) + 1;
}

static void fw_collect(struct fw_state *s, unsigned slot)
{
	for (unsigned i = 0; i < PCIFN_NUM_BARS;) {
		bool io, mem64;
		unsigned regs;
		uint64_t size = fw_size_bar(s->h, slot, i, &io, &mem64, &regs);

		if (size) {
			struct fw_bar *b = &s->bar[s->nr++];

			*b = (struct fw_bar){.slot = slot, .bar = i, .size = size, .mem64 = mem64};
			b->space = io					     ? FW_IO
				   : mem64 && size >= FIRMWARE_PCI_MEM64_MIN ? FW_MEM64
									     : FW_MEM32;
		}
		i += regs;
	}
}

static int fw_cmp_size(const void *a, const void *b)
{
	const struct fw_bar *x = a, *y = b;

	if (x->size != y->size)
		return x->size > y->size ? -1 : 1; /* largest first */
	return x->slot != y->slot ? (int)x->slot - (int)y->slot : (int)x->bar - (int)y->bar;
}

static int fw_place(struct fw_state *s, struct fw_bar *b, GError **err)
{
	uint64_t base = (s->next[b->space] + b->size - 1) & ~(b->size - 1);
	uint32_t reg = PCI_BAR0 + 4 * b->bar;

	if (base < s->next[b->space] || base > s->end[b->space] ||
	    b->size > s->end[b->space] - base) {
		g_set_error(err, VMM_ERROR, ENOSPC,
			    "PCI 00:%02x.0 BAR%u: no room for 0x%" PRIx64 " bytes in the %s "
			    "window [0x%" PRIx64 ", 0x%" PRIx64 "); use fewer or smaller devices",
			    b->slot, b->bar, b->size, fw_space_name[b->space], s->next[b->space],
			    s->end[b->space]);
		return -ENOSPC;
	}
	s->next[b->space] = base + b->size;
	fw_write(s->h, b->slot, reg, 4, (uint32_t)base);
	if (b->mem64)
		fw_write(s->h, b->slot, reg + 4, 4, (uint32_t)(base >> 32));
	g_debug("PCI 00:%02x.0 BAR%u: 0x%" PRIx64 "+0x%" PRIx64, b->slot, b->bar, base, b->size);
	return 0;
}

/* Command bits for what the function has, and the interrupt line for its pin. */
static void fw_enable(struct pcihost *h, unsigned slot, const struct fw_state *s)
{
	static const uint8_t pirq_irq[4] = {10, 10, 11, 11}; /* PIRQA-D, as SeaBIOS on PIIX */
	uint16_t cmd = fw_read(h, slot, PCI_COMMAND, 2) | PCI_COMMAND_MASTER;
	uint8_t pin = fw_read(h, slot, PCI_INTERRUPT_PIN, 1);

	for (unsigned i = 0; i < s->nr; i++) {
		if (s->bar[i].slot == slot)
			cmd |= s->bar[i].space == FW_IO ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
	}
	fw_write(h, slot, PCI_COMMAND, 2, cmd);
	if (pin >= 1 && pin <= 4)
		fw_write(h, slot, PCI_INTERRUPT_LINE, 1, pirq_irq[(slot + pin - 1) & 3]);
}

#define PCI_HEADER_TYPE 0x0e
#define PCI_PRIMARY_BUS 0x18
#define PCI_IO_BASE 0x1c
#define PCI_MEMORY_BASE 0x20
#define PCI_PREF_BASE 0x24
#define FW_BRIDGE_MEM (2ULL << 20) /* per empty hot-plug port, as SeaBIOS reserves */
#define FW_BRIDGE_MEM_ALIGN (1ULL << 20) /* memory window granularity */
#define FW_BRIDGE_IO 0x1000u		 /* I/O window granularity, 4 KiB */

static bool fw_is_bridge(struct pcihost *h, unsigned slot)
{
	return (fw_read(h, slot, PCI_HEADER_TYPE, 1) & 0x7f) == 1;
}

/* Reserve [*base, *base + size) aligned to align in space sp; false when it is full. */
static bool fw_reserve(struct fw_state *s, enum fw_space sp, uint64_t size, uint64_t align,
		       uint64_t *base)
{
	uint64_t b = (s->next[sp] + align - 1) & ~(align - 1);

	if (b < s->next[sp] || b > s->end[sp] || size > s->end[sp] - b)
		return false;
	*base = b;
	s->next[sp] = b + size;
	return true;
}

/* One bridge: bus numbers, windows, decoding (PCI-to-PCI Bridge 1.2, 3.2.5). */
static int fw_bridge(struct fw_state *s, unsigned slot, unsigned bus, GError **err)
{
	uint16_t cmd = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	uint64_t mem, io;

	fw_write(s->h, slot, PCI_PRIMARY_BUS, 4, bus << 16 | bus << 8);
	if (!fw_reserve(s, FW_MEM32, FW_BRIDGE_MEM, FW_BRIDGE_MEM_ALIGN, &mem)) {
		g_set_error(err, VMM_ERROR, ENOSPC,
			    "PCI 00:%02x.0: no room for the bridge's 2 MiB memory window in the "
			    "32-bit hole; use fewer root ports or devices", slot);
		return -ENOSPC;
	}
	fw_write(s->h, slot, PCI_MEMORY_BASE, 4,
		 (uint32_t)(mem >> 16) | (uint32_t)((mem + FW_BRIDGE_MEM - 1) >> 16) << 16);
	fw_write(s->h, slot, PCI_PREF_BASE, 4, 0x0000fff0u); /* base above limit: closed */
	if (fw_reserve(s, FW_IO, FW_BRIDGE_IO, FW_BRIDGE_IO, &io)) {
		/* Base and limit bits 15:12 in each byte's upper nibble. */
		fw_write(s->h, slot, PCI_IO_BASE, 2,
			 (uint16_t)(((io >> 8) & 0xf0) | ((io + 0xfff) & 0xf000)));
		cmd |= PCI_COMMAND_IO;
	} else {
		g_warning("PCI 00:%02x.0: I/O space used up; this bridge gets no I/O window, so "
			  "a device with I/O BARs hot-added behind it cannot use them", slot);
		fw_write(s->h, slot, PCI_IO_BASE, 2, 0x00f0); /* closed */
	}
	fw_write(s->h, slot, PCI_COMMAND, 2, fw_read(s->h, slot, PCI_COMMAND, 2) | cmd);
	g_debug("PCI 00:%02x.0: bus %u, memory 0x%" PRIx64 "+2M", slot, bus, mem);
	return 0;
}

static int fw_bridges(struct fw_state *s, GError **err)
{
	static const uint8_t pirq_irq[4] = {10, 10, 11, 11};
	unsigned bus = 1;
	int ret;

	for (unsigned slot = 1; slot < PCIHOST_SLOTS; slot++) {
		uint8_t pin;

		if ((fw_read(s->h, slot, 0, 4) & 0xffff) == 0xffff || !fw_is_bridge(s->h, slot))
			continue;
		ret = fw_bridge(s, slot, bus++, err);
		if (ret < 0)
			return ret;
		pin = fw_read(s->h, slot, PCI_INTERRUPT_PIN, 1);
		if (pin >= 1 && pin <= 4)
			fw_write(s->h, slot, PCI_INTERRUPT_LINE, 1, pirq_irq[(slot + pin - 1) & 3]);
	}
	return 0;
}

int firmware_assign_pci(struct pcihost *h, uint64_t high_base, GError **err)
{
	g_autofree struct fw_state *s = g_new0(struct fw_state, 1);
	int ret;

	s->h = h;
	s->next[FW_IO] = FIRMWARE_PCI_IO_BASE;
	s->end[FW_IO] = FIRMWARE_PCI_IO_END;
	s->next[FW_MEM32] = FIRMWARE_PCI_MEM32_BASE;
	s->end[FW_MEM32] = FIRMWARE_PCI_MEM32_END;
	s->next[FW_MEM64] = MAX(high_base, 1ULL << 32);
	s->end[FW_MEM64] = 1ULL << 46; /* below any x86-64 CPU's physical-address limit */
	for (unsigned slot = 1; slot < PCIHOST_SLOTS; slot++) {
		if ((fw_read(h, slot, 0, 4) & 0xffff) != 0xffff && !fw_is_bridge(h, slot))
			fw_collect(s, slot);
	}
	qsort(s->bar, s->nr, sizeof(s->bar[0]), fw_cmp_size);
	for (unsigned i = 0; i < s->nr; i++) {
		ret = fw_place(s, &s->bar[i], err);
		if (ret < 0)
			return ret;
	}
	for (unsigned slot = 1; slot < PCIHOST_SLOTS; slot++) {
		if ((fw_read(h, slot, 0, 4) & 0xffff) != 0xffff && !fw_is_bridge(h, slot))
			fw_enable(h, slot, s);
	}
	return fw_bridges(s, err);
}
