// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * msix.c: the interrupt plumbing a driver needs before a device can raise an MSI-X:
 * a walk of the PCI capability list (PCI 3.0, 6.7), the MSI-X capability and table
 * (PCI 3.0, 6.8.2), bus mastering, and the local APIC's enable bit, EOI and ID (Intel
 * SDM vol. 3, 11.4).  Messages are fixed delivery, edge, physical destination to the
 * one CPU this runtime runs on (SDM vol. 3, 11.11).
 *
 * It is not an interrupt subsystem: no IOAPIC, no MSI (only MSI-X), no vector
 * allocator, no remapping; the caller picks vectors and installs IDT handlers itself.
 */
#include "msix.h"

#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_CAP_PTR 0x34
#define PCI_COMMAND 0x04
#define PCI_COMMAND_MASTER 0x4
#define PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_CAP_MAX_WALK 48 /* (256 - 64) / 4: more entries than that is a loop */

#define MSIX_CTRL 2
#define MSIX_CTRL_SIZE_MASK 0x7ff
#define MSIX_CTRL_MASKALL 0x4000
#define MSIX_CTRL_ENABLE 0x8000
#define MSIX_TABLE 4
#define MSIX_PBA 8
#define MSIX_BIR_MASK 0x7
#define MSIX_ENTRY_SIZE 16
#define MSIX_ENTRY_ADDR_LO 0
#define MSIX_ENTRY_ADDR_HI 4
#define MSIX_ENTRY_DATA 8
#define MSIX_ENTRY_CTRL 12
#define MSIX_ENTRY_MASKED 0x1

#define LAPIC_ID 0x020
#define LAPIC_EOI 0x0b0
#define LAPIC_SVR 0x0f0
#define LAPIC_SVR_ENABLE 0x100

int pci_cap_find(uint16_t bdf, uint8_t id, unsigned after)
{
	unsigned pos, n = 0;

	if (!(pci_cfg_readw(bdf, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return -ENODEV;
	pos = after ? pci_cfg_readb(bdf, after + 1) : pci_cfg_readb(bdf, PCI_CAP_PTR);
	for (; pos; pos = pci_cfg_readb(bdf, pos + 1)) {
		pos &= 0xfc; /* the low two bits are reserved (PCI 3.0, 6.7) */
		if (pos < 0x40 || n++ == PCI_CAP_MAX_WALK)
			return -EINVAL;
		if (pci_cfg_readb(bdf, pos) == id)
			return (int)pos;
	}
	return -ENODEV;
}

void pci_set_master(uint16_t bdf, bool intx_off)
{
	uint16_t cmd = pci_cfg_readw(bdf, PCI_COMMAND) | PCI_COMMAND_MASTER;

	if (intx_off)
		cmd |= PCI_COMMAND_INTX_DISABLE;
	pci_cfg_writew(bdf, PCI_COMMAND, cmd);
}

/* A BIR names a BAR the enumeration placed; the region must lie inside it. */
static int msix_locate(const struct pci_fn *fn, uint32_t reg, uint64_t len, uint64_t *addr)
{
	const struct pci_bar *bar;
	uint64_t off = reg & ~(uint32_t)MSIX_BIR_MASK;

	if ((reg & MSIX_BIR_MASK) > 5)
		return -EINVAL;
	bar = &fn->bar[reg & MSIX_BIR_MASK];
	if (!bar->size || !bar->addr || bar->io || off > bar->size || len > bar->size - off)
		return -EINVAL;
	*addr = bar->addr + off;
	return 0;
}

int msix_init(struct msix *m, const struct pci_fn *fn)
{
	int pos = pci_cap_find(fn->bdf, PCI_CAP_ID_MSIX, 0), r;
	uint16_t ctrl;

	if (pos < 0)
		return pos;
	ctrl = pci_cfg_readw(fn->bdf, (unsigned)pos + MSIX_CTRL);
	*m = (struct msix){.bdf = fn->bdf,
			   .cap = (uint8_t)pos,
			   .nr = (uint16_t)((ctrl & MSIX_CTRL_SIZE_MASK) + 1)};
	r = msix_locate(fn, pci_cfg_readl(fn->bdf, (unsigned)pos + MSIX_TABLE),
			(uint64_t)m->nr * MSIX_ENTRY_SIZE, &m->table);
	if (r < 0)
		return r;
	return msix_locate(fn, pci_cfg_readl(fn->bdf, (unsigned)pos + MSIX_PBA),
			   ((m->nr + 63u) / 64u) * 8u, &m->pba);
}

int msix_set(const struct msix *m, unsigned entry, uint8_t vector, bool masked)
{
	uint64_t e = m->table + (uint64_t)entry * MSIX_ENTRY_SIZE;

	if (entry >= m->nr || vector < 32)
		return -EINVAL;
	/* Mask while the address and data change (PCI 3.0, 6.8.3.5). */
	writel(MSIX_ENTRY_MASKED, e + MSIX_ENTRY_CTRL);
	writel(LAPIC_MSI_ADDR | lapic_id() << 12, e + MSIX_ENTRY_ADDR_LO);
	writel(0, e + MSIX_ENTRY_ADDR_HI);
	writel(vector, e + MSIX_ENTRY_DATA); /* fixed delivery, edge: only the vector */
	if (!masked)
		writel(0, e + MSIX_ENTRY_CTRL);
	return 0;
}

bool msix_entry_masked(const struct msix *m, unsigned entry)
{
	return readl(m->table + (uint64_t)entry * MSIX_ENTRY_SIZE + MSIX_ENTRY_CTRL) &
	       MSIX_ENTRY_MASKED;
}

bool msix_pending(const struct msix *m, unsigned entry)
{
	return readq(m->pba + entry / 64 * 8) >> (entry % 64) & 1;
}

void msix_enable(const struct msix *m, bool on, bool mask_all)
{
	uint16_t ctrl = pci_cfg_readw(m->bdf, m->cap + MSIX_CTRL);

	ctrl &= (uint16_t) ~(MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);
	if (on)
		ctrl |= MSIX_CTRL_ENABLE;
	if (mask_all)
		ctrl |= MSIX_CTRL_MASKALL;
	pci_cfg_writew(m->bdf, m->cap + MSIX_CTRL, ctrl);
}

uint16_t msix_ctrl(const struct msix *m)
{
	return pci_cfg_readw(m->bdf, m->cap + MSIX_CTRL);
}

void lapic_enable(void)
{
	writel(readl(LAPIC_MMIO + LAPIC_SVR) | LAPIC_SVR_ENABLE | IDT_SPURIOUS_VECTOR,
	       LAPIC_MMIO + LAPIC_SVR);
}

uint32_t lapic_id(void)
{
	return readl(LAPIC_MMIO + LAPIC_ID) >> 24;
}

void lapic_eoi(void)
{
	writel(0, LAPIC_MMIO + LAPIC_EOI);
}
