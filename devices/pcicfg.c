// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pcicfg: the PCI configuration space of a device model, written once for every
 * device.  It builds a type-0 header (PCI Local Bus Spec 3.0, 6.1), implements the
 * BAR registers with their sizing protocol (6.2.5.1), and applies a per-byte mask of
 * the bits a guest may change, so IDs, class, status and header type are read-only.
 * It chains capabilities from 0x34 (6.7) and lays out the MSI (6.8.1) and MSI-X (6.8.2)
 * capabilities; the MSI-X table and PBA themselves, and the MSI pending bits, are
 * virtualized by the VMM, not here.
 * It does not decode BAR accesses or know where the config space is reached from.
 */
#include <errno.h>
#include <string.h>

#include "devices/devices.h"

/* Type-0 header offsets (PCI 3.0, figure 6-1). */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_REVISION_ID 0x08
#define PCI_CLASS_PROG 0x09
#define PCI_CACHE_LINE_SIZE 0x0c
#define PCI_LATENCY_TIMER 0x0d
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID 0x2e
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d

/*
 * Command bits a guest may set (6.2.2): I/O space, memory space, bus master, parity
 * error response, SERR# enable, interrupt disable.  The rest are hardwired to 0.
 */
#define PCI_COMMAND_WMASK 0x0547

#define PCIE_CFG_SIZE 4096u

static void put8(uint8_t *p, unsigned off, uint8_t v)
{
	p[off] = v;
}

static void put16(uint8_t *p, unsigned off, uint16_t v)
{
	p[off] = v & 0xff;
	p[off + 1] = v >> 8;
}

static void put32(uint8_t *p, unsigned off, uint32_t v)
{
	put16(p, off, v & 0xffff);
	put16(p, off + 2, v >> 16);
}

static uint32_t get32(const uint8_t *p, unsigned off)
{
	return p[off] | p[off + 1] << 8 | p[off + 2] << 16 | (uint32_t)p[off + 3] << 24;
}

static bool pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* Check one BAR description against what PCI 6.2.5.1 allows. */
static int pcicfg_bar_check(const struct pcicfg_bar bars[PCI_NUM_BARS], unsigned i)
{
	const struct pcicfg_bar *b = &bars[i];

	if (b->size == 0)
		return b->flags ? -EINVAL : 0;
	if (!pow2(b->size) || b->flags & ~(uint32_t)(PCI_BAR_IO | PCI_BAR_MEM64 | PCI_BAR_PREFETCH))
		return -EINVAL;
	if (b->flags & PCI_BAR_IO)
		return b->flags == PCI_BAR_IO && b->size >= 4 && b->size <= 256 ? 0 : -EINVAL;
	if (b->size < 16)
		return -EINVAL;
	if (!(b->flags & PCI_BAR_MEM64))
		return b->size <= (1ULL << 31) ? 0 : -EINVAL;
	/* A 64-bit BAR takes this register and the next, which must be unused. */
	if (i + 1 >= PCI_NUM_BARS || bars[i + 1].size || bars[i + 1].flags)
		return -EINVAL;
	return 0;
}

/* Register value and writable mask of BAR i; flag bits are read-only (6.2.5.1). */
static void pcicfg_bar_init(struct pcicfg *cfg, unsigned i)
{
	const struct pcicfg_bar *b = &cfg->bar[i];
	unsigned off = PCI_BAR0 + 4 * i;
	uint64_t mask = ~(b->size - 1);

	if (b->size == 0)
		return;
	if (b->flags & PCI_BAR_IO) {
		put32(cfg->data, off, PCI_BAR_IO);
		put32(cfg->wmask, off, (uint32_t)mask & ~0x3u);
		return;
	}
	/* Memory type: bits 2:1 are 00 (32-bit) or 10 (64-bit); bit 3 is prefetchable. */
	put32(cfg->data, off, b->flags & (PCI_BAR_MEM64 | PCI_BAR_PREFETCH));
	put32(cfg->wmask, off, (uint32_t)mask & ~0xfu);
	if (b->flags & PCI_BAR_MEM64)
		put32(cfg->wmask, off + 4, (uint32_t)(mask >> 32));
}

int pcicfg_init(struct pcicfg *cfg, const struct pcicfg_ident *id,
		const struct pcicfg_bar bars[PCI_NUM_BARS])
{
	if (id->int_pin > 4 || id->class_code > 0xffffff)
		return -EINVAL;
	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		if (pcicfg_bar_check(bars, i) < 0)
			return -EINVAL;
		if (bars[i].flags & PCI_BAR_MEM64)
			i++;
	}
	memset(cfg, 0, sizeof(*cfg));
	memcpy(cfg->bar, bars, sizeof(cfg->bar));
	put16(cfg->data, PCI_VENDOR_ID, id->vendor);
	put16(cfg->data, PCI_DEVICE_ID, id->device);
	put8(cfg->data, PCI_REVISION_ID, id->revision);
	put8(cfg->data, PCI_CLASS_PROG, id->class_code & 0xff);
	put16(cfg->data, PCI_CLASS_PROG + 1, id->class_code >> 8);
	put8(cfg->data, PCI_HEADER_TYPE, 0x00); /* type 0, single function */
	put16(cfg->data, PCI_SUBSYSTEM_VENDOR_ID, id->subsys_vendor);
	put16(cfg->data, PCI_SUBSYSTEM_ID, id->subsys);
	put8(cfg->data, PCI_CAPABILITY_LIST, 0); /* no capabilities yet; status bit 4 clear */
	put8(cfg->data, PCI_INTERRUPT_PIN, id->int_pin);

	put16(cfg->wmask, PCI_COMMAND, PCI_COMMAND_WMASK);
	put8(cfg->wmask, PCI_CACHE_LINE_SIZE, 0xff);
	put8(cfg->wmask, PCI_LATENCY_TIMER, 0xff);
	put8(cfg->wmask, PCI_INTERRUPT_LINE, 0xff);
	for (unsigned i = 0; i < PCI_NUM_BARS; i++)
		pcicfg_bar_init(cfg, i);
	return 0;
}

void pcicfg_reset(struct pcicfg *cfg)
{
	/* Every writable bit powers up as 0: command, BAR addresses, line, latency. */
	for (unsigned i = 0; i < PCI_CFG_SIZE; i++)
		cfg->data[i] &= ~cfg->wmask[i];
}

/* size 1, 2 or 4, naturally aligned, inside the 4 KiB PCIe config space. */
static bool pcicfg_access_ok(uint32_t off, unsigned size)
{
	if (size != 1 && size != 2 && size != 4)
		return false;
	return off % size == 0 && off < PCIE_CFG_SIZE; /* aligned, so off+size <= 4096 */
}

int pcicfg_read(const struct pcicfg *cfg, uint32_t off, unsigned size, uint32_t *val)
{
	uint32_t v = 0;

	if (!pcicfg_access_ok(off, size)) {
		*val = UINT32_MAX;
		return -EINVAL;
	}
	/* Aligned accesses never straddle PCI_CFG_SIZE; extended space reads 0. */
	if (off < PCI_CFG_SIZE) {
		for (unsigned i = 0; i < size; i++)
			v |= (uint32_t)cfg->data[off + i] << (8 * i);
	}
	*val = v;
	return 0;
}

static void pcicfg_msi_clamp(struct pcicfg *cfg, uint32_t off, unsigned size);

int pcicfg_write(struct pcicfg *cfg, uint32_t off, unsigned size, uint32_t val)
{
	if (!pcicfg_access_ok(off, size))
		return -EINVAL;
	if (off >= PCI_CFG_SIZE)
		return 0;
	for (unsigned i = 0; i < size; i++) {
		uint8_t b = val >> (8 * i), m = cfg->wmask[off + i];

		cfg->data[off + i] = (cfg->data[off + i] & ~m) | (b & m);
	}
	pcicfg_msi_clamp(cfg, off, size);
	return 0;
}

uint64_t pcicfg_bar_addr(const struct pcicfg *cfg, unsigned bar)
{
	unsigned off = PCI_BAR0 + 4 * bar;
	uint64_t addr;

	if (bar >= PCI_NUM_BARS || cfg->bar[bar].size == 0)
		return 0;
	addr = get32(cfg->data, off);
	if (cfg->bar[bar].flags & PCI_BAR_IO)
		return addr & ~0x3ull;
	addr &= ~0xfull;
	if (cfg->bar[bar].flags & PCI_BAR_MEM64)
		addr |= (uint64_t)get32(cfg->data, off + 4) << 32;
	return addr;
}

/* Capabilities (PCI 3.0, 6.7): status bit 4 says the list at 0x34 exists. */
#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_CAP_FIRST 0x40 /* the device-specific area starts after the header */
#define PCI_CAP_MAX 48	   /* (256 - 64) / 4 slots: bounds the list walk */

/* MSI-X capability (6.8.2): ID, message control, table and PBA offset/BIR. */
#define PCI_CAP_ID_MSIX 0x11
#define MSIX_CAP_LEN 12
#define MSIX_CTRL 2
#define MSIX_TABLE 4
#define MSIX_PBA 8
#define MSIX_MAX_VECTORS 2048
#define MSIX_CTRL_WMASK_HI 0xc0 /* bit 15 MSI-X enable, bit 14 function mask */
#define MSIX_ENTRY_SIZE 16

int pcicfg_add_cap(struct pcicfg *cfg, uint8_t id, unsigned len)
{
	unsigned off = cfg->cap_free ? cfg->cap_free : PCI_CAP_FIRST;
	unsigned link = PCI_CAPABILITY_LIST;

	if (len < 2 || len > PCI_CFG_SIZE - PCI_CAP_FIRST)
		return -EINVAL;
	if (off + len > PCI_CFG_SIZE)
		return -ENOSPC;
	/* Append: follow the chain to its last next-pointer (bounded, we built it). */
	for (unsigned n = 0; cfg->data[link] && n < PCI_CAP_MAX; n++)
		link = cfg->data[link] + 1;
	if (cfg->data[link])
		return -EINVAL;
	memset(&cfg->data[off], 0, len);
	memset(&cfg->wmask[off], 0, len);
	put8(cfg->data, off, id);
	put8(cfg->data, link, off);
	cfg->data[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	cfg->cap_free = (off + len + 3) & ~3u; /* next capability dword aligned */
	return off;
}

/* [off, off + len) lies inside implemented memory BAR `bar`, without overflow. */
static bool pcicfg_bar_range_ok(const struct pcicfg *cfg, unsigned bar, uint32_t off, uint64_t len)
{
	uint64_t end;

	if (bar >= PCI_NUM_BARS || cfg->bar[bar].size == 0 || cfg->bar[bar].flags & PCI_BAR_IO)
		return false;
	if (off & 7) /* the low 3 bits of the offset register hold the BIR */
		return false;
	return !__builtin_add_overflow((uint64_t)off, len, &end) && end <= cfg->bar[bar].size;
}

int pcicfg_add_msix(struct pcicfg *cfg, unsigned nr_vectors, unsigned table_bar, uint32_t table_off,
		    unsigned pba_bar, uint32_t pba_off)
{
	uint64_t table_len = (uint64_t)nr_vectors * MSIX_ENTRY_SIZE;
	uint64_t pba_len = (nr_vectors + 63) / 64 * 8; /* one bit per vector, QWORDs */
	int off;

	if (nr_vectors == 0 || nr_vectors > MSIX_MAX_VECTORS)
		return -EINVAL;
	if (!pcicfg_bar_range_ok(cfg, table_bar, table_off, table_len) ||
	    !pcicfg_bar_range_ok(cfg, pba_bar, pba_off, pba_len))
		return -EINVAL;
	if (table_bar == pba_bar && table_off < pba_off + pba_len &&
	    pba_off < table_off + table_len)
		return -EINVAL;
	off = pcicfg_add_cap(cfg, PCI_CAP_ID_MSIX, MSIX_CAP_LEN);
	if (off < 0)
		return off;
	put16(cfg->data, off + MSIX_CTRL, nr_vectors - 1); /* table size is N - 1 */
	cfg->wmask[off + MSIX_CTRL + 1] = MSIX_CTRL_WMASK_HI;
	put32(cfg->data, off + MSIX_TABLE, table_off | table_bar);
	put32(cfg->data, off + MSIX_PBA, pba_off | pba_bar);
	return off;
}

/*
 * MSI capability (6.8.1), always the 64-bit layout with per-vector masking: ID, message
 * control, address low, address high, data (16 bits, then 16 reserved), mask bits,
 * pending bits.
 */
#define PCI_CAP_ID_MSI 0x05
#define MSI_CAP_LEN 24
#define MSI_CTRL 2
#define MSI_ADDR_LO 4
#define MSI_ADDR_HI 8
#define MSI_DATA 12
#define MSI_MASK 16
#define MSI_CTRL_ENABLE 0x01u
#define MSI_CTRL_MMC_SHIFT 1 /* Multiple Message Capable, bits 3:1 */
#define MSI_CTRL_MME_SHIFT 4 /* Multiple Message Enable, bits 6:4 */
#define MSI_CTRL_MME (7u << MSI_CTRL_MME_SHIFT)
#define MSI_CTRL_64BIT 0x80u
#define MSI_CTRL_PVM 0x100u
#define MSI_MAX_VECTORS 32

int pcicfg_add_msi(struct pcicfg *cfg, unsigned nr_vectors)
{
	unsigned order = (unsigned)__builtin_ctz(nr_vectors | 64);
	int off;

	/* Multiple Message Capable encodes a power of two up to 32 (6.8.1.3). */
	if (!pow2(nr_vectors) || nr_vectors > MSI_MAX_VECTORS)
		return -EINVAL;
	off = pcicfg_add_cap(cfg, PCI_CAP_ID_MSI, MSI_CAP_LEN);
	if (off < 0)
		return off;
	put16(cfg->data, off + MSI_CTRL,
	      order << MSI_CTRL_MMC_SHIFT | MSI_CTRL_64BIT | MSI_CTRL_PVM);
	/* Writable: enable, Multiple Message Enable, the message, the mask bits in use. */
	put8(cfg->wmask, off + MSI_CTRL, MSI_CTRL_ENABLE | MSI_CTRL_MME);
	put32(cfg->wmask, off + MSI_ADDR_LO, 0xfffffffcu); /* DWORD aligned: bits 1:0 are 0 */
	put32(cfg->wmask, off + MSI_ADDR_HI, 0xffffffffu);
	put16(cfg->wmask, off + MSI_DATA, 0xffff);
	put32(cfg->wmask, off + MSI_MASK, (uint32_t)((1ULL << nr_vectors) - 1));
	return off;
}

/* The capability with this ID, or 0 (the list is ours: bounded walk). */
static unsigned pcicfg_find_cap(const struct pcicfg *cfg, uint8_t id)
{
	unsigned pos = cfg->data[PCI_CAPABILITY_LIST];

	for (unsigned n = 0; pos && n < PCI_CAP_MAX; n++) {
		if (cfg->data[pos] == id)
			return pos;
		pos = cfg->data[pos + 1];
	}
	return 0;
}

/*
 * "Software must not write a value greater than" Multiple Message Capable into Multiple
 * Message Enable (6.8.1.3); a guest that does gets the capable value, as QEMU clamps.
 * Only for a capability from pcicfg_add_msi (its MME bits are writable).
 */
static void pcicfg_msi_clamp(struct pcicfg *cfg, uint32_t off, unsigned size)
{
	unsigned pos, mmc, mme;

	if (off + size <= PCI_CAP_FIRST)
		return;
	pos = pcicfg_find_cap(cfg, PCI_CAP_ID_MSI);
	if (!pos || off > pos + MSI_CTRL || off + size <= pos + MSI_CTRL ||
	    !(cfg->wmask[pos + MSI_CTRL] & MSI_CTRL_MME))
		return;
	mmc = (cfg->data[pos + MSI_CTRL] >> MSI_CTRL_MMC_SHIFT) & 7u;
	mme = (cfg->data[pos + MSI_CTRL] & MSI_CTRL_MME) >> MSI_CTRL_MME_SHIFT;
	if (mme > mmc)
		cfg->data[pos + MSI_CTRL] =
			(cfg->data[pos + MSI_CTRL] & ~MSI_CTRL_MME) | mmc << MSI_CTRL_MME_SHIFT;
}
