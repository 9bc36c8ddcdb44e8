// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * acpi: the minimal ACPI a PC guest looks for (ACPI Specification 6.4), written into
 * the BIOS area of guest RAM, and the fixed-hardware PM register block the FADT
 * points at.  Tables: RSDP (revision 2, 5.2.5) at ACPI_TABLES_GPA, where guests scan
 * 0xE0000-0xFFFFF on 16-byte boundaries; RSDT and XSDT; FADT (revision 3, 244 bytes,
 * 5.2.9) with the PM timer and no SMI command port (so the platform is always in
 * ACPI mode); FACS; an empty DSDT; MADT (5.2.12) with one enabled LAPIC per vCPU,
 * the IOAPIC at 0xfec00000 (GSI base 0), overrides IRQ0 -> GSI2 and IRQs 5, 9 (SCI),
 * 10 and 11 (PCI INTx) level/active-high as QEMU's pc machine has, and LINT1 NMI;
 * MCFG (PCI Firmware Spec 3.0, 4.1.2) for the ECAM window.  PM block at ACPI_PM_BASE:
 * PM1a status/enable read 0, PM1a control reads SCI_EN, and the 24-bit PM timer
 * counts at 3.579545 MHz from CLOCK_MONOTONIC.  No AML devices, no sleep states, no
 * SCI is ever raised.
 */
#include <errno.h>
#include <string.h>

#include "vmm/vmm.h"

#define ACPI_IOAPIC_GPA 0xfec00000u
#define ACPI_LAPIC_GPA 0xfee00000u
#define ACPI_HDR 36
#define ACPI_FADT_LEN 244
#define ACPI_FACS_LEN 64
#define PM1_CNT_SCI_EN 0x1

/* ---- the PM register block ---- */

uint32_t acpi_pm_timer(const struct acpi_pm *pm)
{
	struct timespec now;
	uint64_t ns, ticks;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (uint64_t)(now.tv_sec - pm->start.tv_sec) * 1000000000ULL + (uint64_t)now.tv_nsec -
	     (uint64_t)pm->start.tv_nsec;
	/* Split so ns * HZ cannot overflow: whole seconds, then the rest. */
	ticks = ns / 1000000000ULL * ACPI_PM_TIMER_HZ +
		ns % 1000000000ULL * ACPI_PM_TIMER_HZ / 1000000000ULL;
	return (uint32_t)(ticks & 0xffffff);
}

static uint32_t acpi_pm_read(void *opaque, uint16_t off, unsigned size)
{
	uint32_t val = 0;

	if (off >= 8)
		val = acpi_pm_timer(opaque) >> (8 * (off - 8));
	else if (off == 4)
		val = PM1_CNT_SCI_EN;
	return size == 4 ? val : val & ((1u << (8 * size)) - 1);
}

static void acpi_pm_write(void *opaque, uint16_t off, unsigned size, uint32_t val)
{
	g_debug("ACPI PM: ignored write 0x%x to port 0x%x", val, ACPI_PM_BASE + off);
}

static const struct ioport_ops acpi_pm_ops = {
	.read = acpi_pm_read,
	.write = acpi_pm_write,
};

int acpi_pm_create(struct ioport_table *io, struct acpi_pm *pm)
{
	clock_gettime(CLOCK_MONOTONIC, &pm->start);
	return ioport_register(io, ACPI_PM_BASE, 12, &acpi_pm_ops, pm);
}

/* ---- the tables, built in a host buffer that mirrors [ACPI_TABLES_GPA, _END) ---- */

struct acpi_buf {
	uint8_t b[ACPI_TABLES_END - ACPI_TABLES_GPA];
	size_t used;
};

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static uint8_t acpi_sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

/* len bytes at the next `align` boundary; the guest address.  Sizes here are fixed. */
static uint32_t acpi_alloc(struct acpi_buf *ab, size_t len, size_t align)
{
	size_t at = (ab->used + align - 1) & ~(align - 1);

	ab->used = at + len;
	return (uint32_t)(ACPI_TABLES_GPA + at);
}

static uint8_t *acpi_at(struct acpi_buf *ab, uint32_t gpa)
{
	return ab->b + (gpa - ACPI_TABLES_GPA);
}

/* 5.2.6: the system description table header; the checksum is set by acpi_seal(). */
static uint32_t acpi_table(struct acpi_buf *ab, const char *sig, size_t len, uint8_t rev)
{
	uint32_t gpa = acpi_alloc(ab, len, 16);
	uint8_t *t = acpi_at(ab, gpa);

	memcpy(t, sig, 4);
	put32(t + 4, (uint32_t)len);
	t[8] = rev;
	memcpy(t + 10, "MPVMM ", 6);
	memcpy(t + 16, "MPVMMPC ", 8);
	put32(t + 24, 1);
	memcpy(t + 28, "MPVM", 4);
	put32(t + 32, 1);
	return gpa;
}

static void acpi_seal(struct acpi_buf *ab, uint32_t gpa)
{
	uint8_t *t = acpi_at(ab, gpa);
	uint32_t len;

	memcpy(&len, t + 4, 4);
	t[9] = 0;
	t[9] = (uint8_t)-acpi_sum(t, len);
}

/* 5.2.3.2: a Generic Address Structure for a system-I/O register. */
static void acpi_gas_io(uint8_t *p, uint8_t bits, uint16_t port)
{
	p[0] = 1; /* system I/O */
	p[1] = bits;
	p[2] = 0;
	p[3] = bits == 32 ? 3 : bits == 16 ? 2 : 1; /* access size: dword, word, byte */
	put64(p + 4, port);
}

static uint32_t acpi_fadt(struct acpi_buf *ab, uint32_t facs, uint32_t dsdt)
{
	uint32_t gpa = acpi_table(ab, "FACP", ACPI_FADT_LEN, 3);
	uint8_t *t = acpi_at(ab, gpa);

	put32(t + 36, facs);
	put32(t + 40, dsdt);
	put16(t + 46, ACPI_SCI_IRQ);	 /* SCI_INT; SMI_CMD (48) stays 0: always ACPI mode */
	put32(t + 56, ACPI_PM_BASE);	 /* PM1a_EVT_BLK */
	put32(t + 64, ACPI_PM_BASE + 4); /* PM1a_CNT_BLK */
	put32(t + 76, ACPI_PM_BASE + 8); /* PM_TMR_BLK */
	t[88] = 4;			 /* PM1_EVT_LEN */
	t[89] = 2;			 /* PM1_CNT_LEN */
	t[91] = 4;			 /* PM_TMR_LEN */
	put16(t + 96, 101);		 /* P_LVL2_LAT > 100: no C2 */
	put16(t + 98, 1001);		 /* P_LVL3_LAT > 1000: no C3 */
	put16(t + 109, 0x0001);		 /* IAPC_BOOT_ARCH: LEGACY_DEVICES */
	/* Flags: WBINVD, PROC_C1, no fixed power button, no fixed sleep button. */
	put32(t + 112, (1u << 0) | (1u << 2) | (1u << 4) | (1u << 5));
	put64(t + 132, facs); /* X_FIRMWARE_CTRL */
	put64(t + 140, dsdt); /* X_DSDT */
	acpi_gas_io(t + 148, 32, ACPI_PM_BASE);
	acpi_gas_io(t + 172, 16, ACPI_PM_BASE + 4);
	acpi_gas_io(t + 208, 32, ACPI_PM_BASE + 8);
	t[208 + 1] = 24; /* the timer register is 24 bits wide (no TMR_VAL_EXT) */
	acpi_seal(ab, gpa);
	return gpa;
}

/* 5.2.12.5: an interrupt source override for ISA IRQ irq. */
static uint8_t *acpi_iso(uint8_t *p, uint8_t irq, uint32_t gsi, uint16_t flags)
{
	p[0] = 2, p[1] = 10, p[2] = 0, p[3] = irq;
	put32(p + 4, gsi);
	put16(p + 8, flags);
	return p + 10;
}

static uint32_t acpi_madt(struct acpi_buf *ab, unsigned nr_cpus)
{
	/* Level-triggered, active-high ISA IRQs, as on QEMU's pc: the SCI and the PIIX PIRQs. */
	static const uint8_t level_irqs[] = {5, ACPI_SCI_IRQ, 10, 11};
	size_t len = ACPI_HDR + 8 + 8 * (size_t)nr_cpus + 12 + 10 * (1 + sizeof(level_irqs)) + 6;
	uint32_t gpa = acpi_table(ab, "APIC", len, 1);
	uint8_t *t = acpi_at(ab, gpa), *p = t + ACPI_HDR + 8;

	put32(t + 36, ACPI_LAPIC_GPA);
	put32(t + 40, 1); /* PCAT_COMPAT: the 8259s are there */
	for (unsigned i = 0; i < nr_cpus; i++, p += 8) {
		p[0] = 0, p[1] = 8, p[2] = (uint8_t)i, p[3] = (uint8_t)i; /* UID, APIC id */
		put32(p + 4, 1);					  /* enabled */
	}
	p[0] = 1, p[1] = 12, p[2] = 0, p[3] = 0; /* IOAPIC id 0 */
	put32(p + 4, ACPI_IOAPIC_GPA);
	put32(p + 8, 0);	       /* GSI base */
	p = acpi_iso(p + 12, 0, 2, 0); /* the PIT's IRQ0 is the IOAPIC's pin 2; conforming */
	for (size_t i = 0; i < sizeof(level_irqs); i++)
		p = acpi_iso(p, level_irqs[i], level_irqs[i], 0x000d); /* active high, level */
	p[0] = 4, p[1] = 6, p[2] = 0xff; /* LAPIC NMI on LINT1 of every processor */
	put16(p + 3, 0);
	p[5] = 1;
	acpi_seal(ab, gpa);
	return gpa;
}

static uint32_t acpi_mcfg(struct acpi_buf *ab, uint64_t ecam_base, uint64_t ecam_size)
{
	uint32_t gpa = acpi_table(ab, "MCFG", ACPI_HDR + 8 + 16, 1);
	uint8_t *p = acpi_at(ab, gpa) + ACPI_HDR + 8;

	put64(p, ecam_base);
	put16(p + 8, 0); /* segment group */
	p[10] = 0;	 /* first bus */
	p[11] = (uint8_t)((ecam_size >> 20) - 1);
	acpi_seal(ab, gpa);
	return gpa;
}

/* RSDT and XSDT listing the same tables. */
static void acpi_roots(struct acpi_buf *ab, const uint32_t *tables, unsigned n, uint32_t *rsdt,
		       uint32_t *xsdt)
{
	*rsdt = acpi_table(ab, "RSDT", ACPI_HDR + 4 * n, 1);
	*xsdt = acpi_table(ab, "XSDT", ACPI_HDR + 8 * n, 1);
	for (unsigned i = 0; i < n; i++) {
		put32(acpi_at(ab, *rsdt) + ACPI_HDR + 4 * i, tables[i]);
		put64(acpi_at(ab, *xsdt) + ACPI_HDR + 8 * i, tables[i]);
	}
	acpi_seal(ab, *rsdt);
	acpi_seal(ab, *xsdt);
}

/* 5.2.5.3: RSDP revision 2; checksum over the first 20 bytes, extended over all 36. */
static void acpi_rsdp(uint8_t *p, uint32_t rsdt, uint32_t xsdt)
{
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, "MPVMM ", 6);
	p[15] = 2;
	put32(p + 16, rsdt);
	put32(p + 20, 36);
	put64(p + 24, xsdt);
	p[8] = (uint8_t)-acpi_sum(p, 20);
	p[32] = (uint8_t)-acpi_sum(p, 36);
}

int acpi_build(struct gmem *mem, unsigned nr_cpus, uint64_t ecam_base, uint64_t ecam_size)
{
	g_autofree struct acpi_buf *ab = g_new0(struct acpi_buf, 1);
	uint32_t rsdp, facs, dsdt, tables[3], rsdt, xsdt;

	if (nr_cpus == 0 || nr_cpus > VMM_SMP_MAX || ecam_size < (1 << 20) ||
	    ecam_size > (256ULL << 20))
		return -EINVAL;
	rsdp = acpi_alloc(ab, 36, 16);
	facs = acpi_alloc(ab, ACPI_FACS_LEN, 64); /* 5.2.10: 64-byte aligned */
	memcpy(acpi_at(ab, facs), "FACS", 4);
	put32(acpi_at(ab, facs) + 4, ACPI_FACS_LEN);
	dsdt = acpi_table(ab, "DSDT", ACPI_HDR, 2); /* no AML: an empty definition block */
	acpi_seal(ab, dsdt);
	tables[0] = acpi_fadt(ab, facs, dsdt);
	tables[1] = acpi_madt(ab, nr_cpus);
	tables[2] = acpi_mcfg(ab, ecam_base, ecam_size);
	acpi_roots(ab, tables, 3, &rsdt, &xsdt);
	acpi_rsdp(acpi_at(ab, rsdp), rsdt, xsdt);
	return gmem_write(mem, ACPI_TABLES_GPA, ab->b, ab->used);
}
