// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pcihost: the PCI host bridge.  It decodes configuration cycles from the type-1
 * mechanism (ports 0xcf8/0xcfc, PCI Local Bus Spec 3.0, 3.2.2.3.2) and from an
 * ECAM window (PCI Express Base Spec, 7.2.2: bus << 20 | dev << 15 | fn << 12 |
 * reg).  Bus 0 is its own; other buses are decoded by the root ports below (absent
 * devices and buses no bridge claims read all-ones).  Device 0 is
 * the bridge itself (a read-only header, 8086:29c0 class 0x0600); devices 1..31 are
 * struct pcifn (proxy/), function 0 each.  Guest MMIO and port accesses that hit an
 * enabled BAR go to that function.  It assigns no BARs: the guest does.
 * A device slot may instead hold a PCI-to-PCI bridge (struct pcihost_bridge_ops, the
 * PCIe root ports of rootport.c): it answers its own config space, and config cycles
 * to buses other than 0 and MMIO/port accesses no function on bus 0 claims are offered
 * to each bridge in turn, which decodes them by its bus numbers and windows.
 */
#include <errno.h>
#include <stdlib.h>

#include "vmm/vmm.h"

#define CFG_ENABLE 0x80000000u
#define CFG_SPACE 4096u

struct pcihost {
	uint64_t ecam_base;
	uint32_t cfg_addr;		 /* the 0xcf8 latch; atomic (shared by all vCPUs) */
	struct pcifn *fn[PCIHOST_SLOTS]; /* fn[0] stays NULL: slot 0 is the bridge */
	const struct pcihost_bridge_ops *bops[PCIHOST_SLOTS]; /* PCI-to-PCI bridges */
	void *bridge[PCIHOST_SLOTS];
};

/* The bridge's header: vendor, device, class code; everything else reads 0. */
static const uint8_t pcihost_bridge_hdr[16] = {
	[0x00] = 0x86, [0x01] = 0x80, /* vendor 8086 */
	[0x02] = 0xc0, [0x03] = 0x29, /* device 29c0 */
	[0x0b] = 0x06,		      /* class: bridge, subclass 0 host, prog-if 0 */
};

static uint32_t ones(unsigned size)
{
	return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

static bool cfg_access_ok(uint32_t reg, unsigned size)
{
	return (size == 1 || size == 2 || size == 4) && reg < CFG_SPACE && !(reg & (size - 1));
}

static uint32_t pcihost_bridge_read(uint32_t reg, unsigned size)
{
	uint32_t val = 0;

	for (unsigned i = 0; i < size; i++) {
		if (reg + i < sizeof(pcihost_bridge_hdr))
			val |= (uint32_t)pcihost_bridge_hdr[reg + i] << (8 * i);
	}
	return val;
}

/* A config cycle to a bus behind a bridge (bus > 0); false when no bridge has it. */
static bool pcihost_bridge_cfg(struct pcihost *h, unsigned bus, unsigned dev, unsigned fn,
			       uint32_t reg, unsigned size, bool write, uint32_t *val)
{
	for (unsigned i = 1; i < PCIHOST_SLOTS; i++) {
		if (h->bops[i] && h->bops[i]->bus_cfg(h->bridge[i], bus, dev, fn, reg, size, write,
						      val))
			return true;
	}
	return false;
}

uint32_t pcihost_cfg_read(struct pcihost *h, unsigned bus, unsigned dev, unsigned fn, uint32_t reg,
			  unsigned size)
{
	uint32_t val;

	if (cfg_access_ok(reg, size) && bus != 0 && dev < PCIHOST_SLOTS && fn < 8 &&
	    pcihost_bridge_cfg(h, bus, dev, fn, reg, size, false, &val))
		return val;
	if (cfg_access_ok(reg, size) && bus == 0 && dev < PCIHOST_SLOTS && fn == 0 && h->bops[dev])
		return h->bops[dev]->cfg_read(h->bridge[dev], reg, size);
	if (!cfg_access_ok(reg, size) || bus != 0 || dev >= PCIHOST_SLOTS || fn != 0)
		return ones(size);
	if (dev == 0)
		return pcihost_bridge_read(reg, size);
	if (!h->fn[dev])
		return ones(size);
	pcifn_cfg_read(h->fn[dev], reg, size, &val); /* all-ones on error */
	return val;
}

void pcihost_cfg_write(struct pcihost *h, unsigned bus, unsigned dev, unsigned fn, uint32_t reg,
		       unsigned size, uint32_t val)
{
	if (cfg_access_ok(reg, size) && bus != 0 && dev < PCIHOST_SLOTS && fn < 8) {
		pcihost_bridge_cfg(h, bus, dev, fn, reg, size, true, &val);
		return;
	}
	if (cfg_access_ok(reg, size) && bus == 0 && dev < PCIHOST_SLOTS && fn == 0 && h->bops[dev]) {
		h->bops[dev]->cfg_write(h->bridge[dev], reg, size, val);
		return;
	}
	/* The bridge header is read-only; writes to absent functions go nowhere. */
	if (!cfg_access_ok(reg, size) || bus != 0 || dev == 0 || dev >= PCIHOST_SLOTS || fn != 0 ||
	    !h->fn[dev])
		return;
	pcifn_cfg_write(h->fn[dev], reg, size, val);
}

/* Type-1 data port access at byte `lane` (0..3) of 0xcfc; false if not enabled. */
static bool pcihost_type1_decode(struct pcihost *h, unsigned lane, unsigned *bus, unsigned *dev,
				 unsigned *fn, uint32_t *reg)
{
	uint32_t addr = __atomic_load_n(&h->cfg_addr, __ATOMIC_ACQUIRE);

	if (!(addr & CFG_ENABLE))
		return false;
	*bus = (addr >> 16) & 0xff;
	*dev = (addr >> 11) & 0x1f;
	*fn = (addr >> 8) & 0x7;
	*reg = (addr & 0xfc) + lane;
	return true;
}

/* Ports 0xcf8-0xcff: off 0 is CONFIG_ADDRESS (dword only), 4..7 CONFIG_DATA. */
static uint32_t pcihost_port_read(void *opaque, uint16_t off, unsigned size)
{
	struct pcihost *h = opaque;
	unsigned bus, dev, fn;
	uint32_t reg;

	if (off == 0 && size == 4)
		return __atomic_load_n(&h->cfg_addr, __ATOMIC_ACQUIRE);
	if (off < 4 || !pcihost_type1_decode(h, off - 4u, &bus, &dev, &fn, &reg))
		return ones(size);
	return pcihost_cfg_read(h, bus, dev, fn, reg, size);
}

static void pcihost_port_write(void *opaque, uint16_t off, unsigned size, uint32_t val)
{
	struct pcihost *h = opaque;
	unsigned bus, dev, fn;
	uint32_t reg;

	if (off == 0 && size == 4) {
		__atomic_store_n(&h->cfg_addr, val & ~3u, __ATOMIC_RELEASE);
		return;
	}
	if (off >= 4 && pcihost_type1_decode(h, off - 4u, &bus, &dev, &fn, &reg))
		pcihost_cfg_write(h, bus, dev, fn, reg, size, val);
}

static const struct ioport_ops pcihost_port_ops = {
	.read = pcihost_port_read,
	.write = pcihost_port_write,
};

int pcihost_create(struct ioport_table *io, uint64_t ecam_base, struct pcihost **out)
{
	struct pcihost *h = calloc(1, sizeof(*h));
	int ret;

	if (!h)
		return -ENOMEM;
	h->ecam_base = ecam_base;
	ret = ioport_register(io, PCIHOST_CFG_ADDR, 8, &pcihost_port_ops, h);
	if (ret < 0) {
		free(h);
		return ret;
	}
	*out = h;
	return 0;
}

void pcihost_destroy(struct pcihost *h)
{
	if (!h)
		return;
	for (unsigned i = 1; i < PCIHOST_SLOTS; i++) {
		pcifn_destroy(h->fn[i]);
		if (h->bops[i])
			h->bops[i]->destroy(h->bridge[i]);
	}
	free(h);
}

int pcihost_attach(struct pcihost *h, struct pcifn *fn, unsigned *slot)
{
	for (unsigned i = 1; i < PCIHOST_SLOTS; i++) {
		if (!h->fn[i] && !h->bops[i]) {
			h->fn[i] = fn;
			*slot = i;
			return 0;
		}
	}
	pcifn_destroy(fn);
	return -ENOSPC;
}

int pcihost_attach_bridge(struct pcihost *h, const struct pcihost_bridge_ops *ops, void *bridge,
			  unsigned *slot)
{
	for (unsigned i = 1; i < PCIHOST_SLOTS; i++) {
		if (!h->fn[i] && !h->bops[i]) {
			h->bops[i] = ops;
			h->bridge[i] = bridge;
			*slot = i;
			return 0;
		}
	}
	return -ENOSPC;
}

static void pcihost_ecam(struct pcihost *h, uint64_t off, unsigned len, bool write, uint64_t *val)
{
	unsigned bus = (unsigned)(off >> 20), dev = (off >> 15) & 0x1f, fn = (off >> 12) & 0x7;
	uint32_t reg = off & 0xfff;

	if (len > 4) { /* no 8-byte config cycles */
		if (!write)
			*val = ~0ULL;
		return;
	}
	if (write)
		pcihost_cfg_write(h, bus, dev, fn, reg, len, (uint32_t)*val);
	else
		*val = pcihost_cfg_read(h, bus, dev, fn, reg, len);
}

/* A BAR access (memory or I/O space); false when no enabled BAR holds it. */
static bool pcihost_bar(struct pcihost *h, bool io, uint64_t addr, unsigned len, bool write,
			uint64_t *val)
{
	unsigned bar;
	uint64_t off;

	for (unsigned i = 1; i < PCIHOST_SLOTS; i++) {
		if (!h->fn[i] || !pcifn_decode(h->fn[i], io, addr, len, &bar, &off))
			continue;
		if (write)
			pcifn_bar_write(h->fn[i], bar, off, len, *val);
		else
			pcifn_bar_read(h->fn[i], bar, off, len, val); /* all-ones on error */
		return true;
	}
	for (unsigned i = 1; i < PCIHOST_SLOTS; i++) {
		if (h->bops[i] && h->bops[i]->access(h->bridge[i], io, addr, len, write, val))
			return true;
	}
	return false;
}

bool pcihost_mmio(struct pcihost *h, uint64_t addr, unsigned len, bool write, uint64_t *val)
{
	if (addr >= h->ecam_base && addr - h->ecam_base < VMM_ECAM_SIZE) {
		pcihost_ecam(h, addr - h->ecam_base, len, write, val);
		return true;
	}
	return pcihost_bar(h, false, addr, len, write, val);
}

bool pcihost_pio(struct pcihost *h, uint16_t port, unsigned len, bool write, uint64_t *val)
{
	return pcihost_bar(h, true, port, len, write, val);
}
