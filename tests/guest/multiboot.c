// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * multiboot.c: main() of multiboot.elf, a Multiboot v1 kernel that checks what a guest
 * written for QEMU's `pc` machine relies on: the Multiboot information the loader
 * passed (this file), fw_cfg, the ACPI tables, and PCI resources firmware assigned
 * (mb_*.c), then drives a pci-testdev through those firmware-assigned BARs.  It
 * boots through mb_start.S, not the PVH note, and never calls pci_init().
 *
 * Options (-append): mbtest (required), cpus=N (1), mem=MiB (0: skip the exact size),
 * mods=N (0), acpi=0|1 (1), mcfg=0|1 (0: MCFG optional), testdev=0|1 (1).
 * Modules (-initrd) must be made by mkmodule.sh: module K starts with the line
 * "mbmod K SIZE" and continues with a pattern that depends on K and the offset.
 */
#include "mb.h"

/* Multiboot Specification 0.6.96, 3.2 and 3.3. */
#define MB_BOOT_MAGIC 0x2badb002
#define MBI_MEM (1u << 0)
#define MBI_CMDLINE (1u << 2)
#define MBI_MODS (1u << 3)
#define MBI_MMAP (1u << 6)
#define MBI_LOADER_NAME (1u << 9)
#define MB_MMAP_RAM 1

struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr, config_table, boot_loader_name, apm_table;
};

struct mb_module {
	uint32_t mod_start, mod_end, string, reserved;
};

struct mb_mmap_entry {
	uint32_t size; /* of the rest of the entry, at least 20 */
	uint64_t addr, len;
	uint32_t type;
} __attribute__((packed));

#define MMAP_MAX 64
#define KERNEL_BASE 0x100000u
#define KIB 1024ul
#define MIB (1024ul * 1024)

static struct {
	unsigned nr;
	uint64_t addr[MMAP_MAX], len[MMAP_MAX];
	uint32_t type[MMAP_MAX];
} mmap;

uint8_t mb_sum(uint64_t addr, size_t len)
{
	uint8_t s = 0;

	for (size_t i = 0; i < len; i++)
		s += readb(addr + i);
	return s;
}

/* The RAM entry containing [@addr, @addr + @len), or -1. */
static int mmap_ram_at(uint64_t addr, uint64_t len)
{
	for (unsigned i = 0; i < mmap.nr; i++)
		if (mmap.type[i] == MB_MMAP_RAM && addr >= mmap.addr[i] &&
		    addr - mmap.addr[i] <= mmap.len[i] &&
		    len <= mmap.len[i] - (addr - mmap.addr[i]))
			return (int)i;
	return -1;
}

static bool mmap_ram_overlap(void)
{
	for (unsigned i = 0; i < mmap.nr; i++)
		for (unsigned j = i + 1; j < mmap.nr; j++)
			if (mmap.type[i] == MB_MMAP_RAM && mmap.type[j] == MB_MMAP_RAM &&
			    mmap.addr[i] < mmap.addr[j] + mmap.len[j] &&
			    mmap.addr[j] < mmap.addr[i] + mmap.len[i])
				return true;
	return false;
}

bool mb_ram_overlaps(uint64_t addr, uint64_t len)
{
	for (unsigned i = 0; i < mmap.nr; i++)
		if (mmap.type[i] == MB_MMAP_RAM && addr < mmap.addr[i] + mmap.len[i] &&
		    mmap.addr[i] < addr + len)
			return true;
	return false;
}

/* Copy the memory map, checking each entry's size field walks exactly mmap_length. */
static bool mb_mmap_read(const struct mb_info *mbi)
{
	uint64_t p = mbi->mmap_addr, end = p + mbi->mmap_length;

	while (p < end && mmap.nr < MMAP_MAX) {
		const struct mb_mmap_entry *e = (const void *)(uintptr_t)p;

		if (e->size < 20 || e->size > end - p - 4)
			break;
		report_note("mmap 0x%09lx-0x%09lx type %u", e->addr, e->addr + e->len - 1, e->type);
		mmap.addr[mmap.nr] = e->addr;
		mmap.len[mmap.nr] = e->len;
		mmap.type[mmap.nr++] = e->type;
		p += 4 + e->size;
	}
	return report(p == end && mmap.nr > 0,
		      "memory map: %u entries of at least 20 bytes fill mmap_length %u exactly",
		      mmap.nr, mbi->mmap_length);
}

static void mb_mmap_check(const struct mb_info *mbi, const struct mb_expect *x)
{
	uint64_t ram = 0, upper_end = KERNEL_BASE + mbi->mem_upper * KIB, region_end;
	int low, high;

	if (!mb_mmap_read(mbi))
		return;
	for (unsigned i = 0; i < mmap.nr; i++)
		if (mmap.type[i] == MB_MMAP_RAM)
			ram += mmap.len[i];
	report(!mmap_ram_overlap(), "memory map: RAM entries do not overlap");
	if (x->mem_mib)
		report(ram <= x->mem_mib * MIB && ram + 2 * MIB >= x->mem_mib * MIB,
		       "memory map: %lu KiB of RAM covers -m %lu MiB (less at most 2 MiB of holes)",
		       ram / KIB, x->mem_mib);
	low = mmap_ram_at(0, 1);
	high = mmap_ram_at(MIB, 1);
	/* Spec 3.3: lower memory starts at 0, upper at 1 MiB and ends at the first hole. */
	report(low >= 0 && mbi->mem_lower <= 640 && mbi->mem_lower * KIB <= mmap.len[low] &&
		       mbi->mem_lower * KIB + 64 * KIB > mmap.len[low],
	       "mem_lower %u KiB: at most 640, the RAM at 0 (%lu KiB) less under 64 KiB",
	       mbi->mem_lower, low >= 0 ? mmap.len[low] / KIB : 0);
	region_end = high >= 0 ? mmap.addr[high] + mmap.len[high] : 0;
	report(high >= 0 && upper_end <= region_end && upper_end + MIB > region_end,
	       "mem_upper %u KiB: 1 MiB + mem_upper is the end of the RAM at 1 MiB (0x%lx) less "
	       "under 1 MiB",
	       mbi->mem_upper, region_end);
	report(mmap_ram_at(KERNEL_BASE, (uintptr_t)__bss_end - KERNEL_BASE) >= 0,
	       "memory map: the kernel image 0x%x-0x%lx lies in RAM", KERNEL_BASE,
	       (uintptr_t)__bss_end - 1);
	report(mmap_ram_at(mb_boot_info, sizeof(*mbi)) >= 0,
	       "memory map: the multiboot information at 0x%x lies in RAM", mb_boot_info);
}

static bool mb_overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* mkmodule.sh's pattern: byte i after the header line is 'a' + (7 * i + k) % 26. */
static bool mb_module_content(unsigned k, const struct mb_module *m)
{
	uint64_t size = m->mod_end - m->mod_start, i;
	char head[32], want[32];
	int n;

	for (i = 0; i < sizeof(head) - 1 && i < size && readb(m->mod_start + i) != '\n'; i++)
		head[i] = (char)readb(m->mod_start + i);
	head[i] = '\0';
	n = snprintf(want, sizeof(want), "mbmod %u %lu", k, size);
	if (!report(i < size && !strcmp(head, want),
		    "module %u: header line '%s' is '%s' (index and size)", k, head, want))
		return false;
	for (i = (uint64_t)n + 1; i < size; i++)
		if (readb(m->mod_start + i) != (uint8_t)('a' + (7 * i + k) % 26))
			break;
	return report(i == size, "module %u: all %lu bytes are intact (first bad offset %lu)", k,
		      size, i);
}

static void mb_module_check(unsigned k, const struct mb_module *m, const struct mb_info *mbi)
{
	uint64_t size = m->mod_end - m->mod_start;
	uint64_t kernel_len = (uintptr_t)__bss_end - KERNEL_BASE;

	report_note("module %u: 0x%x-0x%x '%s'", k, m->mod_start, m->mod_end,
		    m->string ? (const char *)(uintptr_t)m->string : "");
	if (!report(m->mod_end > m->mod_start && !(m->mod_start & 0xfff) &&
			    mmap_ram_at(m->mod_start, size) >= 0,
		    "module %u: nonempty, page-aligned (header flag 0) and in RAM", k))
		return;
	report(!mb_overlaps(m->mod_start, size, KERNEL_BASE, kernel_len) &&
		       !mb_overlaps(m->mod_start, size, mb_boot_info, sizeof(*mbi)) &&
		       !mb_overlaps(m->mod_start, size, mbi->mods_addr,
				    mbi->mods_count * sizeof(*m)),
	       "module %u: overlaps neither the kernel, the information nor the module list", k);
	mb_module_content(k, m);
}

static void mb_modules_check(const struct mb_info *mbi, const struct mb_expect *x)
{
	const struct mb_module *mods = (const void *)(uintptr_t)mbi->mods_addr;
	unsigned n = mbi->flags & MBI_MODS ? mbi->mods_count : 0;

	if (!report(n == x->mods, "modules: %u given, mods=%u expected (flags bit 3 %s)", n,
		    x->mods, mbi->flags & MBI_MODS ? "set" : "clear") ||
	    !n)
		return;
	if (!report(mmap_ram_at(mbi->mods_addr, n * sizeof(*mods)) >= 0,
		    "modules: the list at 0x%x lies in RAM", mbi->mods_addr))
		return;
	for (unsigned k = 0; k < n; k++)
		mb_module_check(k, &mods[k], mbi);
	for (unsigned k = 1; k < n; k++)
		report(mods[k].mod_start >= mods[k - 1].mod_end,
		       "modules %u and %u are in order and do not overlap", k - 1, k);
}

static void mb_cmdline_check(const struct mb_info *mbi)
{
	const char *s = (const char *)(uintptr_t)mbi->cmdline;
	size_t n;

	if (!report(mbi->flags & MBI_CMDLINE && mbi->cmdline, "flags bit 2: a command line"))
		return;
	n = strnlen(s, CMDLINE_MAX_LEN);
	report_note("command line '%s'", s);
	report(n < CMDLINE_MAX_LEN && mmap_ram_at(mbi->cmdline, n + 1) >= 0,
	       "command line: %zu bytes, NUL-terminated, in RAM", n);
	report(cmdline_get(guest_cmdline(), "mbtest"),
	       "command line: the -append text reached the guest (it has 'mbtest')");
}

static void mb_info_check(const struct mb_expect *x)
{
	const struct mb_info *mbi = (const void *)(uintptr_t)mb_boot_info;

	if (!report(mb_boot_magic == MB_BOOT_MAGIC, "entered with %%eax = 0x%x, want 0x%x",
		    mb_boot_magic, MB_BOOT_MAGIC))
		guest_abort("not booted by a Multiboot loader: the information cannot be trusted");
	report_note("multiboot information at 0x%x, flags 0x%x, mem_lower %u mem_upper %u",
		    mb_boot_info, mbi->flags, mbi->mem_lower, mbi->mem_upper);
	if (mbi->flags & MBI_LOADER_NAME && mbi->boot_loader_name)
		report_note("boot loader '%s'", (const char *)(uintptr_t)mbi->boot_loader_name);
	if (!report((mbi->flags & (MBI_MEM | MBI_MMAP)) == (MBI_MEM | MBI_MMAP),
		    "flags bits 0 and 6: mem_lower/mem_upper and a memory map (header asked)"))
		return;
	mb_mmap_check(mbi, x);
	mb_cmdline_check(mbi);
	mb_modules_check(mbi, x);
}

int main(void)
{
	struct mb_expect x = {
		.cpus = (unsigned)guest_opt_ulong("cpus", 1, 255),
		.mem_mib = guest_opt_ulong("mem", 0, 1ul << 20),
		.mods = (unsigned)guest_opt_ulong("mods", 0, 16),
		.acpi = guest_opt_ulong("acpi", 1, 1),
		.mcfg = guest_opt_ulong("mcfg", 0, 1),
		.testdev = guest_opt_ulong("testdev", 1, 1),
	};

	mb_info_check(&x);
	mb_fwcfg_check(&x);
	mb_acpi_check(&x);
	mb_pci_check(&x);
	return report_summary();
}
