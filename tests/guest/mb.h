/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mb.h: the parts of multiboot.elf, a guest written the way one for QEMU's `pc` machine
 * is: it trusts firmware and the loader, not our runtime, for the platform.  Each part
 * checks one thing that firmware or the loader provides and reports through report():
 * the Multiboot information (multiboot.c), fw_cfg (mb_fwcfg.c), the ACPI tables
 * (mb_acpi.c) and the firmware-assigned PCI resources (mb_pci.c).  Nothing here
 * reprograms the platform.
 */
#ifndef GUEST_MB_H
#define GUEST_MB_H

#include "guest.h"

/* What the host test says the machine should look like (command-line options). */
struct mb_expect {
	unsigned cpus;	       /* cpus=N: -smp */
	unsigned long mem_mib; /* mem=MiB: -m, 0 = do not compare */
	unsigned mods;	       /* mods=N: modules given with -initrd */
	bool acpi;	       /* acpi=0: expect no RSDP at all */
	bool mcfg;	       /* mcfg=1: an MCFG table is required */
	bool testdev;	       /* testdev=0: no pci-testdev to drive */
};

/* Saved by mb_start.S from %eax and %ebx at entry. */
extern uint32_t mb_boot_magic, mb_boot_info;

/* The guest image itself, from guest.ld. */
extern char __bss_end[];

/* Sum of @len bytes at @addr (ACPI checksums: the sum over a table must be 0). */
uint8_t mb_sum(uint64_t addr, size_t len);

/* Whether [@addr, @addr + @len) overlaps RAM in the loader's memory map. */
bool mb_ram_overlaps(uint64_t addr, uint64_t len);

void mb_fwcfg_check(const struct mb_expect *x);
void mb_acpi_check(const struct mb_expect *x);
void mb_pci_check(const struct mb_expect *x);

#endif /* GUEST_MB_H */
