// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of mpvmm's ACPI tables and PM block (vmm/acpi.c).  The tables are found
 * and parsed back from guest RAM the way a guest does it: scan 0xE0000-0xFFFFF for
 * the RSDP on 16-byte boundaries, check its checksums, follow RSDT and XSDT, check
 * every table's signature, length and checksum, then the FADT's PM block, the
 * MADT's entries and the MCFG window.  The PM timer is read through its port.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "vmm/vmm.h"

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

static uint32_t le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* A table at gpa with signature sig: length and checksum valid, inside RAM. */
static const uint8_t *table(struct gmem *mem, uint64_t gpa, const char *sig)
{
	const uint8_t *t = gmem_translate(mem, gpa, 36);

	if (!t)
		g_error("%.4s at 0x%" G_GINT64_MODIFIER "x is outside RAM", sig, gpa);
	g_assert_cmpmem(t, 4, sig, 4);
	g_assert_cmpuint(le32(t + 4), >=, 36);
	g_assert_nonnull(gmem_translate(mem, gpa, le32(t + 4)));
	g_assert_cmpuint(sum(t, le32(t + 4)), ==, 0);
	return t;
}

static const uint8_t *find_rsdp(struct gmem *mem)
{
	for (uint64_t a = 0xe0000; a < 0x100000; a += 16) {
		const uint8_t *p = gmem_translate(mem, a, 36);

		if (memcmp(p, "RSD PTR ", 8) == 0)
			return p;
	}
	return NULL;
}

static void check_madt(const uint8_t *t, unsigned cpus)
{
	unsigned lapics = 0, ioapics = 0, isos = 0, levels = 0;

	g_assert_cmphex(le32(t + 36), ==, 0xfee00000);
	for (uint32_t off = 44; off < le32(t + 4); off += t[off + 1]) {
		const uint8_t *e = t + off;

		g_assert_cmpuint(e[1], >=, 2);
		g_assert_cmpuint(off + e[1], <=, le32(t + 4));
		if (e[0] == 0) {
			g_assert_cmpuint(e[3], ==, lapics); /* APIC id */
			g_assert_cmpuint(le32(e + 4) & 1, ==, 1);
			lapics++;
		} else if (e[0] == 1) {
			g_assert_cmphex(le32(e + 4), ==, 0xfec00000);
			g_assert_cmpuint(le32(e + 8), ==, 0);
			ioapics++;
		} else if (e[0] == 2 && e[3] == 0) {
			g_assert_cmpuint(le32(e + 4), ==, 2); /* IRQ0 -> GSI2 */
			isos++;
		} else if (e[0] == 2) {
			g_assert_cmpuint(le32(e + 4), ==, e[3]); /* identity, level, high */
			g_assert_cmphex(e[8] | e[9] << 8, ==, 0x000d);
			levels |= 1u << e[3];
		}
	}
	g_assert_cmpuint(lapics, ==, cpus);
	g_assert_cmpuint(ioapics, ==, 1);
	g_assert_cmpuint(isos, ==, 1);
	g_assert_cmphex(levels, ==, (1u << 5) | (1u << 9) | (1u << 10) | (1u << 11));
}

static void check_fadt(struct gmem *mem, const uint8_t *t)
{
	const uint8_t *facs;

	g_assert_cmpuint(le32(t + 4), ==, 244);
	g_assert_cmpuint(t[8], ==, 3);
	table(mem, le32(t + 40), "DSDT");
	g_assert_cmphex(le64(t + 140), ==, le32(t + 40)); /* X_DSDT */
	facs = gmem_translate(mem, le32(t + 36), 64);
	g_assert_cmpmem(facs, 4, "FACS", 4);
	g_assert_cmpuint(le32(t + 36) % 64, ==, 0);
	g_assert_cmphex(le32(t + 76), ==, ACPI_PM_BASE + 8); /* PM_TMR_BLK */
	g_assert_cmpuint(t[91], ==, 4);			     /* PM_TMR_LEN */
	g_assert_cmphex(le32(t + 56), ==, ACPI_PM_BASE);     /* PM1a_EVT_BLK */
	g_assert_cmphex(le32(t + 64), ==, ACPI_PM_BASE + 4);
	g_assert_cmpuint(le32(t + 48), ==, 0); /* SMI_CMD: always in ACPI mode */
	g_assert_cmpuint(t[208], ==, 1);       /* X_PM_TMR_BLK: system I/O */
	g_assert_cmphex(le64(t + 212), ==, ACPI_PM_BASE + 8);
}

static void test_tables(void)
{
	struct gmem *mem;
	const uint8_t *rsdp, *rsdt, *xsdt;
	unsigned seen = 0;

	g_assert_cmpint(gmem_create(64ULL << 20, VMM_RAM_BELOW_4G, &mem), ==, 0);
	g_assert_cmpint(acpi_build(mem, 4, VMM_ECAM_BASE, VMM_ECAM_SIZE), ==, 0);
	rsdp = find_rsdp(mem);
	if (!rsdp)
		g_error("no RSDP");
	g_assert_cmpuint(sum(rsdp, 20), ==, 0);
	g_assert_cmpuint(rsdp[15], ==, 2);
	g_assert_cmpuint(le32(rsdp + 20), ==, 36);
	g_assert_cmpuint(sum(rsdp, 36), ==, 0);
	rsdt = table(mem, le32(rsdp + 16), "RSDT");
	xsdt = table(mem, le64(rsdp + 24), "XSDT");
	g_assert_cmpuint((le32(rsdt + 4) - 36) / 4, ==, (le32(xsdt + 4) - 36) / 8);
	for (uint32_t i = 0; i < (le32(rsdt + 4) - 36) / 4; i++) {
		uint32_t gpa = le32(rsdt + 36 + 4 * i);
		const uint8_t *t = gmem_translate(mem, gpa, 4);

		g_assert_cmphex(le64(xsdt + 36 + 8 * i), ==, gpa);
		if (memcmp(t, "FACP", 4) == 0) {
			check_fadt(mem, table(mem, gpa, "FACP"));
			seen |= 1;
		} else if (memcmp(t, "APIC", 4) == 0) {
			check_madt(table(mem, gpa, "APIC"), 4);
			seen |= 2;
		} else if (memcmp(t, "MCFG", 4) == 0) {
			t = table(mem, gpa, "MCFG");
			g_assert_cmpuint(le32(t + 4), ==, 60);
			g_assert_cmphex(le64(t + 44), ==, VMM_ECAM_BASE);
			g_assert_cmpuint(t[54], ==, 0);
			g_assert_cmpuint(t[55], ==, 255);
			seen |= 4;
		}
	}
	g_assert_cmphex(seen, ==, 7);
	gmem_destroy(mem);
}

/* The table with signature sig, through the RSDT. */
static const uint8_t *find_table(struct gmem *mem, const char *sig)
{
	const uint8_t *rsdp = find_rsdp(mem), *rsdt;

	if (!rsdp)
		g_error("no RSDP");
	rsdt = table(mem, le32(rsdp + 16), "RSDT");

	for (uint32_t i = 0; i < (le32(rsdt + 4) - 36) / 4; i++) {
		uint32_t gpa = le32(rsdt + 36 + 4 * i);

		if (memcmp(gmem_translate(mem, gpa, 4), sig, 4) == 0)
			return table(mem, gpa, sig);
	}
	g_error("no %s table", sig);
}

static void test_bad_args(void)
{
	struct gmem *mem;

	g_assert_cmpint(gmem_create(4ULL << 20, VMM_RAM_BELOW_4G, &mem), ==, 0);
	g_assert_cmpint(acpi_build(mem, 0, VMM_ECAM_BASE, VMM_ECAM_SIZE), ==, -EINVAL);
	g_assert_cmpint(acpi_build(mem, VMM_SMP_MAX + 1, VMM_ECAM_BASE, VMM_ECAM_SIZE), ==,
			-EINVAL);
	g_assert_cmpint(acpi_build(mem, 1, VMM_ECAM_BASE, 512ULL << 20), ==, -EINVAL);
	g_assert_null(find_rsdp(mem)); /* nothing written */
	g_assert_cmpint(acpi_build(mem, VMM_SMP_MAX, VMM_ECAM_BASE, VMM_ECAM_SIZE), ==, 0);
	check_madt(find_table(mem, "APIC"), VMM_SMP_MAX); /* 255 LAPICs still fit */
	gmem_destroy(mem);
}

static void test_pm_timer(void)
{
	struct ioport_table io = {0};
	struct acpi_pm pm;
	uint32_t a, b, v;

	g_assert_cmpint(acpi_pm_create(&io, &pm), ==, 0);
	g_assert_true(ioport_read(&io, ACPI_PM_BASE + 8, 4, &a));
	g_assert_cmphex(a, <, 1u << 24);
	usleep(20000);
	g_assert_true(ioport_read(&io, ACPI_PM_BASE + 8, 4, &b));
	/* 20 ms is 71591 ticks; allow a slow, loaded machine. */
	g_assert_cmpuint((b - a) & 0xffffff, >=, 71000);
	g_assert_cmpuint((b - a) & 0xffffff, <, 3579545);
	g_assert_true(ioport_read(&io, ACPI_PM_BASE + 4, 2, &v));
	g_assert_cmphex(v, ==, 1); /* SCI_EN */
	g_assert_true(ioport_read(&io, ACPI_PM_BASE, 4, &v));
	g_assert_cmphex(v, ==, 0);
	g_assert_true(ioport_write(&io, ACPI_PM_BASE + 4, 2, 0x2000)); /* ignored */
	g_assert_true(ioport_read(&io, ACPI_PM_BASE + 4, 2, &v));
	g_assert_cmphex(v, ==, 1);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vmm/acpi/tables", test_tables);
	g_test_add_func("/vmm/acpi/bad-args", test_bad_args);
	g_test_add_func("/vmm/acpi/pm-timer", test_pm_timer);
	return g_test_run();
}
