// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mb_acpi.c: multiboot.elf's check of the ACPI tables, found the way an OS finds them
 * (ACPI 6.5, 5.2.5.1): the RSDP in the first KiB of the EBDA or in 0xe0000-0xfffff on
 * a 16-byte boundary.  It checks the RSDP's checksums, every table the RSDT (and XSDT)
 * lists plus the DSDT for length and checksum, that the FADT's PM timer counts, the
 * MADT's LAPICs and IOAPIC, and the MCFG (optional unless mcfg=1; its ECAM must
 * answer like port 0xcf8).  It does not parse AML and changes nothing.
 */
#include "mb.h"

#define BDA_EBDA_SEGMENT 0x40e
#define BIOS_AREA_START 0xe0000u
#define BIOS_AREA_END 0x100000u
#define ACPI_HDR_LEN 36
#define ACPI_TABLE_MAX (1u << 20) /* a sanity bound on one table's length */
#define ACPI_MAX_TABLES 64

/* RSDP (5.2.5.3) and the system description table header (5.2.6). */
#define RSDP_V1_LEN 20
#define RSDP_REVISION 15
#define RSDP_RSDT 16
#define RSDP_LENGTH 20
#define RSDP_XSDT 24
#define RSDP_V2_LEN 36
#define HDR_LENGTH 4

/* FADT fields (5.2.9). */
#define FADT_DSDT 40
#define FADT_PM_TMR_BLK 76
#define FADT_PM_TMR_LEN 91
#define FADT_FLAGS 112
#define FADT_TMR_VAL_EXT (1u << 8)
#define FADT_X_DSDT 140
#define FADT_FIRMWARE_CTRL 36
#define FADT_X_FIRMWARE_CTRL 132
#define FADT_X_PM_TMR_BLK 208 /* Generic Address Structure (5.2.3.2): space id, ..., u64 */
#define GAS_SYSTEM_IO 1

/* MADT (5.2.12) entry types. */
#define MADT_LAPIC_ADDR 36
#define MADT_ENTRIES 44
#define MADT_LAPIC 0
#define MADT_IOAPIC 1
#define IOAPIC_BASE 0xfec00000u

/* MCFG (PCI Firmware 3.2, 4.1.2). */
#define MCFG_ENTRIES 44
#define MCFG_ENTRY_LEN 16

static uint64_t acpi_tables[ACPI_MAX_TABLES];
static unsigned acpi_nr;

static bool acpi_sig(uint64_t addr, const char *sig)
{
	return !memcmp((const void *)(uintptr_t)addr, sig, strlen(sig));
}

static uint64_t rsdp_scan(uint64_t start, uint64_t end)
{
	for (uint64_t a = start; a + RSDP_V1_LEN <= end; a += 16)
		if (acpi_sig(a, "RSD PTR ") && !mb_sum(a, RSDP_V1_LEN))
			return a;
	return 0;
}

/* EBDA first (its segment is at 0x40e in the BIOS data area), then the BIOS area. */
static uint64_t rsdp_find(void)
{
	uint64_t bda = BDA_EBDA_SEGMENT, ebda, a = 0;

	__asm__("" : "+r"(bda)); /* a real address near 0, not a NULL dereference */
	ebda = (uint64_t)readw(bda) << 4;

	if (ebda >= 0x80000 && ebda < 0xa0000)
		a = rsdp_scan(ebda, ebda + 1024);
	return a ? a : rsdp_scan(BIOS_AREA_START, BIOS_AREA_END);
}

/* Below 4 GiB, length sane, checksum zero; remembered for lookups by signature. */
static bool acpi_table_check(uint64_t addr, const char *via)
{
	uint32_t len = 0;
	char sig[5] = {0};
	bool ok;

	ok = addr && addr < (1ull << 32) - ACPI_HDR_LEN;
	if (ok) {
		memcpy(sig, (const void *)(uintptr_t)addr, 4);
		len = readl(addr + HDR_LENGTH);
		ok = len >= ACPI_HDR_LEN && len <= ACPI_TABLE_MAX && addr + len <= 1ull << 32 &&
		     !mb_sum(addr, len);
	}
	if (!report(ok, "%s: table '%s' at 0x%lx: length %u (%u..%u), sums to 0", via, sig, addr,
		    len, ACPI_HDR_LEN, ACPI_TABLE_MAX))
		return false;
	if (acpi_nr < ACPI_MAX_TABLES)
		acpi_tables[acpi_nr++] = addr;
	return true;
}

static uint64_t acpi_find(const char *sig)
{
	for (unsigned i = 0; i < acpi_nr; i++)
		if (acpi_sig(acpi_tables[i], sig))
			return acpi_tables[i];
	return 0;
}

/* RSDT (@entry 4) or XSDT (@entry 8): check the table and every table it lists. */
static bool acpi_sdt_walk(uint64_t addr, const char *sig, unsigned entry)
{
	uint32_t len;
	unsigned n;

	if (!acpi_table_check(addr, sig) ||
	    !report(acpi_sig(addr, sig), "%s at 0x%lx has signature %s", sig, addr, sig))
		return false;
	len = readl(addr + HDR_LENGTH);
	n = (len - ACPI_HDR_LEN) / entry;
	report((len - ACPI_HDR_LEN) % entry == 0 && n > 0,
	       "%s lists %u tables in whole %u-byte entries", sig, n, entry);
	for (unsigned i = 0; i < n; i++) {
		uint64_t a = addr + ACPI_HDR_LEN + (uint64_t)i * entry;

		acpi_table_check(entry == 8 ? readq(a) : readl(a), sig);
	}
	return true;
}

/* The ACPI PM timer runs at 3.579545 MHz: some work later, it must have moved on.  No
 * upper bound: under PVM a few exits may take longer than the 24-bit wrap (4.7 s). */
static void acpi_pm_timer_check(uint16_t port, bool ext)
{
	uint32_t mask = ext ? 0xffffffffu : 0xffffffu, t0, t1;
	volatile unsigned spin = 0;

	t0 = inl(port) & mask;
	for (unsigned i = 0; i < 10000; i++)
		spin = spin + i;
	for (unsigned i = 0; i < 10; i++)
		(void)inl(port);
	t1 = inl(port) & mask;
	report(t1 != t0, "PM timer at port 0x%x (%u-bit) advances: 0x%x then 0x%x (+%u ticks)",
	       port, ext ? 32 : 24, t0, t1, (t1 - t0) & mask);
}

/* FADT's PM timer: a 4-byte port block, the same port in X_PM_TMR_BLK if given. */
static void acpi_fadt_pm_timer(uint64_t fadt, uint32_t len)
{
	uint32_t port = readl(fadt + FADT_PM_TMR_BLK);

	if (!report(port && port < 0x10000 && readb(fadt + FADT_PM_TMR_LEN) == 4,
		    "FADT PM_TMR_BLK port 0x%x, PM_TMR_LEN %u (4)", port,
		    readb(fadt + FADT_PM_TMR_LEN)))
		return;
	if (len >= FADT_X_PM_TMR_BLK + 12 && readq(fadt + FADT_X_PM_TMR_BLK + 4))
		report(readb(fadt + FADT_X_PM_TMR_BLK) == GAS_SYSTEM_IO &&
			       readq(fadt + FADT_X_PM_TMR_BLK + 4) == port,
		       "FADT X_PM_TMR_BLK: I/O space (%u), port 0x%lx like PM_TMR_BLK",
		       readb(fadt + FADT_X_PM_TMR_BLK), readq(fadt + FADT_X_PM_TMR_BLK + 4));
	acpi_pm_timer_check((uint16_t)port, readl(fadt + FADT_FLAGS) & FADT_TMR_VAL_EXT);
}

/* The FADT, the DSDT and FACS it points to (64-bit pointers win when set), its timer. */
static void acpi_fadt_check(void)
{
	uint64_t fadt = acpi_find("FACP"), dsdt, facs;
	uint32_t len;

	if (!report(fadt, "FADT (FACP) is listed"))
		return;
	len = readl(fadt + HDR_LENGTH);
	if (!report(len >= FADT_FLAGS + 4, "FADT length %u reaches the flags (>= %u)", len,
		    FADT_FLAGS + 4))
		return;
	dsdt = readl(fadt + FADT_DSDT);
	if (len >= FADT_X_DSDT + 8 && readq(fadt + FADT_X_DSDT))
		dsdt = readq(fadt + FADT_X_DSDT);
	if (acpi_table_check(dsdt, "FADT"))
		report(acpi_sig(dsdt, "DSDT"), "FADT points to a DSDT at 0x%lx", dsdt);
	facs = readl(fadt + FADT_FIRMWARE_CTRL);
	if (len >= FADT_X_FIRMWARE_CTRL + 8 && readq(fadt + FADT_X_FIRMWARE_CTRL))
		facs = readq(fadt + FADT_X_FIRMWARE_CTRL);
	if (facs)
		report(facs < (1ull << 32) - 64 && !(facs & 63) && acpi_sig(facs, "FACS") &&
			       readl(facs + HDR_LENGTH) >= 64,
		       "FADT points to a FACS at 0x%lx: 64-byte aligned, length %u (>= 64)", facs,
		       facs < (1ull << 32) - 64 ? readl(facs + HDR_LENGTH) : 0);
	acpi_fadt_pm_timer(fadt, len);
}

static void acpi_madt_check(const struct mb_expect *x)
{
	uint64_t madt = acpi_find("APIC"), p, end;
	unsigned lapics = 0, enabled = 0, ioapics = 0, bad = 0;
	uint32_t ioapic = 0, gsi = ~0u;

	if (!report(madt, "MADT (APIC) is listed"))
		return;
	end = madt + readl(madt + HDR_LENGTH);
	report_note("MADT: local APIC address 0x%x", readl(madt + MADT_LAPIC_ADDR));
	for (p = madt + MADT_ENTRIES; p + 2 <= end; p += readb(p + 1)) {
		uint8_t type = readb(p), len = readb(p + 1);

		if (len < 2 || len > end - p) {
			bad++;
			break;
		}
		if (type == MADT_LAPIC && len == 8) {
			lapics++;
			enabled += readl(p + 4) & 1;
		} else if (type == MADT_IOAPIC && len == 12) {
			ioapics++;
			ioapic = readl(p + 4);
			gsi = readl(p + 8);
		} else if (type == MADT_LAPIC || type == MADT_IOAPIC) {
			bad++;
		}
	}
	report(!bad && p == end, "MADT: entries have sane lengths and end with the table");
	report(lapics >= x->cpus && enabled == x->cpus,
	       "MADT: %u local APICs, %u enabled; cpus=%u expected", lapics, enabled, x->cpus);
	report(ioapics == 1 && ioapic == IOAPIC_BASE && gsi == 0,
	       "MADT: %u IOAPIC, at 0x%x with GSI base %u (one at 0x%x, base 0)", ioapics, ioapic,
	       gsi, IOAPIC_BASE);
}

/* Each ECAM window: aligned, segment 0; where it covers bus 0 below 4 GiB, it must
 * read 00:00.0's IDs as port 0xcf8 does. */
static void acpi_mcfg_check(const struct mb_expect *x)
{
	uint64_t mcfg = acpi_find("MCFG");
	uint32_t len;
	unsigned n;

	if (!mcfg) {
		if (x->mcfg)
			report(false, "MCFG is listed (mcfg=1)");
		else
			report_skip("MCFG absent (optional without mcfg=1; QEMU's pc has none)");
		return;
	}
	len = readl(mcfg + HDR_LENGTH);
	n = len >= MCFG_ENTRIES ? (len - MCFG_ENTRIES) / MCFG_ENTRY_LEN : 0;
	if (!report(n && len == MCFG_ENTRIES + n * MCFG_ENTRY_LEN,
		    "MCFG length %u holds %u whole 16-byte entries", len, n))
		return;
	for (unsigned i = 0; i < n; i++) {
		uint64_t e = mcfg + MCFG_ENTRIES + i * MCFG_ENTRY_LEN, base = readq(e);
		uint8_t first = readb(e + 10), last = readb(e + 11);
		uint32_t ids;

		report(base && !(base & 0xfffff) && readw(e + 8) == 0 && first <= last,
		       "MCFG entry %u: ECAM at 0x%lx (1 MiB aligned), segment %u, buses %u-%u", i,
		       base, readw(e + 8), first, last);
		if (first || base >= (1ull << 32) - (1u << 20))
			continue;
		ids = readl(base);
		report(ids == pci_cfg_readl(0, 0),
		       "MCFG entry %u: ECAM reads 00:00.0 IDs 0x%08x like port 0xcf8 (0x%08x)", i,
		       ids, pci_cfg_readl(0, 0));
	}
}

/* Where both exist, the RSDT and XSDT must list the same tables in the same order. */
static void acpi_sdt_agree(uint64_t rsdt, uint64_t xsdt)
{
	uint32_t rn = (readl(rsdt + HDR_LENGTH) - ACPI_HDR_LEN) / 4;
	uint32_t xn = (readl(xsdt + HDR_LENGTH) - ACPI_HDR_LEN) / 8, i;

	for (i = 0; i < rn && i < xn; i++)
		if (readl(rsdt + ACPI_HDR_LEN + 4 * i) != readq(xsdt + ACPI_HDR_LEN + 8 * i))
			break;
	report(rn == xn && i == rn, "RSDT and XSDT list the same %u tables (first difference %u)",
	       rn, i);
}

void mb_acpi_check(const struct mb_expect *x)
{
	uint64_t rsdp = rsdp_find(), rsdt, xsdt = 0;
	uint32_t len;
	uint8_t rev;

	if (!x->acpi) {
		report(!rsdp, "acpi=0: no RSDP in the EBDA or 0xe0000-0xfffff");
		return;
	}
	if (!report(rsdp, "RSDP found (EBDA or 0xe0000-0xfffff), checksum of its 20 bytes is 0"))
		return;
	rev = readb(rsdp + RSDP_REVISION);
	rsdt = readl(rsdp + RSDP_RSDT);
	report_note("RSDP at 0x%lx, revision %u, RSDT 0x%lx", rsdp, rev, rsdt);
	if (rev >= 2) {
		len = readl(rsdp + RSDP_LENGTH);
		if (report(len >= RSDP_V2_LEN && len <= 4096 && !mb_sum(rsdp, len),
			   "RSDP v2: length %u, extended checksum is 0", len))
			xsdt = readq(rsdp + RSDP_XSDT);
	}
	if (xsdt && !acpi_sdt_walk(xsdt, "XSDT", 8))
		xsdt = 0;
	if (rsdt && !acpi_sdt_walk(rsdt, "RSDT", 4))
		rsdt = 0;
	if (rsdt && xsdt)
		acpi_sdt_agree(rsdt, xsdt);
	report(acpi_nr > 0, "RSDT or XSDT: %u valid tables", acpi_nr);
	acpi_fadt_check();
	acpi_madt_check(x);
	acpi_mcfg_check(x);
}
