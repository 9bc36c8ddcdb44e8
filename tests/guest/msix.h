/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * msix.h: interrupt plumbing for guest drivers (msix.c, part of the runtime library):
 * the PCI capability list, bus mastering, MSI-X tables and the local APIC.  A program
 * that wants it includes this header after guest.h; it is kept out of guest.h so the
 * names cannot clash with programs that do their own MSI-X (msix-irq.c).
 *
 * Not provided: MSI, the IOAPIC, vector allocation, more than one CPU.
 */
#ifndef GUEST_MSIX_H
#define GUEST_MSIX_H

#include "guest.h"

#define PCI_CAP_ID_MSIX 0x11
#define PCI_CAP_ID_VNDR 0x09
#define LAPIC_MMIO 0xfee00000ull
#define LAPIC_MSI_ADDR 0xfee00000u /* | destination APIC ID << 12 */

/*
 * Config offset of the first capability @id after the one at @after (0: from the
 * start).  -ENODEV: none; -EINVAL: a malformed or looping list.
 */
int pci_cap_find(uint16_t bdf, uint8_t id, unsigned after);
/* Turn on bus mastering (DMA and MSI need it); @intx_off also disables INTx. */
void pci_set_master(uint16_t bdf, bool intx_off);

struct msix {
	uint16_t bdf;
	uint8_t cap;	/* config offset of the capability */
	uint16_t nr;	/* table entries */
	uint64_t table; /* guest-physical address of entry 0 */
	uint64_t pba;
};

/*
 * Find @fn's MSI-X capability and locate its table and PBA inside the BARs pci_init()
 * assigned.  -ENODEV: no capability; -EINVAL: the table or PBA lies outside its BAR.
 */
int msix_init(struct msix *m, const struct pci_fn *fn);
/* Point table entry @entry at this CPU's LAPIC with @vector (32-255); -EINVAL otherwise. */
int msix_set(const struct msix *m, unsigned entry, uint8_t vector, bool masked);
bool msix_entry_masked(const struct msix *m, unsigned entry);
bool msix_pending(const struct msix *m, unsigned entry);
/* Write the capability's enable and function-mask bits. */
void msix_enable(const struct msix *m, bool on, bool mask_all);
uint16_t msix_ctrl(const struct msix *m);

/* Software-enable the LAPIC (SVR bit 8, spurious vector IDT_SPURIOUS_VECTOR). */
void lapic_enable(void);
uint32_t lapic_id(void);
void lapic_eoi(void);

#endif /* GUEST_MSIX_H */
