// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mbinfo: the Multiboot information structure (Multiboot Specification 0.6.96, 3.3),
 * built in a host buffer that mirrors the info area [MB_INFO_GPA, MB_INFO_END): the
 * multiboot_info itself first, then the memory map (RAM from the gmem with the PC's
 * 640K-1M BIOS area reserved, and the caller's reserved ranges), the boot loader
 * name, the module list, the command line and the module strings.  It only formats:
 * where the kernel and modules go, and checking them, is multiboot.c's job.
 */
#include <errno.h>
#include <string.h>

#include "vmm/vmm.h"

/* 3.3: flags of the information structure. */
#define MBI_MEM (1u << 0)
#define MBI_CMDLINE (1u << 2)
#define MBI_MODS (1u << 3)
#define MBI_MMAP (1u << 6)
#define MBI_LOADER_NAME (1u << 9)
#define MB_MMAP_RAM 1
#define MB_MMAP_RESERVED 2

#define PC_LOW_END 0xa0000ULL	  /* conventional memory ends at 640K */
#define PC_HIGH_START 0x100000ULL /* the BIOS area [640K, 1M) is reserved */

struct mbi { /* 3.3, up to the VBE fields */
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr, drives_length, drives_addr, config_table;
	uint32_t boot_loader_name, apm_table;
	uint32_t vbe_control_info, vbe_mode_info;
	uint16_t vbe_mode, vbe_interface_seg, vbe_interface_off, vbe_interface_len;
};

struct mb_mod_entry {
	uint32_t mod_start, mod_end, string, reserved;
};

struct mb_mmap_entry {
	uint32_t size; /* of the rest: 20 */
	uint64_t base_addr, length;
	uint32_t type;
} __attribute__((packed));

_Static_assert(sizeof(struct mbi) == 88, "multiboot_info layout");
_Static_assert(sizeof(struct mb_mmap_entry) == 24, "multiboot mmap entry layout");

/* The info area: mbi, memory map, module list, then strings. */
struct mb_info_buf {
	uint8_t b[MB_INFO_END - MB_INFO_GPA];
	size_t used;
};

/* Reserve len bytes (8-aligned); the guest address, or 0 if the area is full. */
static uint32_t mb_info_alloc(struct mb_info_buf *ib, size_t len)
{
	size_t at = (ib->used + 7) & ~(size_t)7;

	if (len > sizeof(ib->b) - at)
		return 0;
	ib->used = at + len;
	return (uint32_t)(MB_INFO_GPA + at);
}

static uint32_t mb_info_str(struct mb_info_buf *ib, const char *s)
{
	uint32_t gpa = mb_info_alloc(ib, strlen(s) + 1);

	if (gpa)
		memcpy(ib->b + (gpa - MB_INFO_GPA), s, strlen(s) + 1);
	return gpa;
}

static void mb_mmap_add(struct mb_mmap_entry *map, unsigned *n, uint64_t addr, uint64_t len,
			uint32_t type)
{
	unsigned i = (*n)++;

	for (; i > 0 && map[i - 1].base_addr > addr; i--)
		map[i] = map[i - 1];
	map[i] = (struct mb_mmap_entry){.size = 20, .base_addr = addr, .length = len, .type = type};
}

/* 3.3 mmap_*: RAM (the 640K-1M hole reserved), then the caller's reserved ranges. */
static unsigned mb_mmap(const struct gmem *mem, const struct pvh_range *res, unsigned nr_res,
			struct mb_mmap_entry *map)
{
	unsigned n = 0;

	for (unsigned i = 0; i < mem->nr_regions; i++) {
		const struct gmem_region *r = &mem->region[i];

		if (r->gpa == 0 && r->size > PC_HIGH_START) {
			mb_mmap_add(map, &n, 0, PC_LOW_END, MB_MMAP_RAM);
			mb_mmap_add(map, &n, PC_LOW_END, PC_HIGH_START - PC_LOW_END,
				    MB_MMAP_RESERVED);
			mb_mmap_add(map, &n, PC_HIGH_START, r->size - PC_HIGH_START, MB_MMAP_RAM);
		} else {
			mb_mmap_add(map, &n, r->gpa, r->size, MB_MMAP_RAM);
		}
	}
	for (unsigned i = 0; i < nr_res; i++)
		mb_mmap_add(map, &n, res[i].addr, res[i].size, MB_MMAP_RESERVED);
	return n;
}

static uint32_t mb_mem_upper_kib(const struct gmem *mem)
{
	for (unsigned i = 0; i < mem->nr_regions; i++) {
		if (mem->region[i].gpa == 0 && mem->region[i].size > PC_HIGH_START)
			return (uint32_t)MIN((mem->region[i].size - PC_HIGH_START) >> 10,
					     UINT32_MAX);
	}
	return 0;
}

/* The module list at mods_gpa: addresses from the loader, strings into the area. */
static int mb_build_mods(struct mb_info_buf *ib, uint32_t mods_gpa, const struct mbinfo_args *a)
{
	struct mb_mod_entry *me = (struct mb_mod_entry *)(ib->b + (mods_gpa - MB_INFO_GPA));

	for (unsigned i = 0; i < a->nr_mods; i++) {
		uint32_t str = mb_info_str(ib, a->mods[i].string);

		if (!str)
			return -ENOSPC;
		me[i] = (struct mb_mod_entry){a->mod_start[i],
					      a->mod_start[i] + (uint32_t)a->mods[i].len, str, 0};
	}
	return 0;
}

static int mb_build_info(struct mb_info_buf *ib, const struct gmem *mem,
			 const struct mbinfo_args *bi)
{
	struct mb_mmap_entry map[3 * GMEM_MAX_REGIONS + MBINFO_MAX_RESERVED];
	struct mbi mbi = {.flags = MBI_MEM | MBI_MMAP | MBI_LOADER_NAME | MBI_MODS};
	uint32_t mbi_gpa = mb_info_alloc(ib, sizeof(mbi)), mods_gpa;
	unsigned n = mb_mmap(mem, bi->reserved, bi->nr_reserved, map);

	mbi.mem_lower = PC_LOW_END >> 10;
	mbi.mem_upper = mb_mem_upper_kib(mem);
	mbi.mmap_length = n * sizeof(map[0]);
	mbi.mmap_addr = mb_info_alloc(ib, mbi.mmap_length);
	mbi.boot_loader_name = mb_info_str(ib, "mpvmm " MPVMM_VERSION);
	mbi.mods_count = bi->nr_mods;
	mods_gpa = mb_info_alloc(ib, bi->nr_mods * sizeof(struct mb_mod_entry) + 1);
	mbi.mods_addr = mods_gpa;
	if (!mbi.mmap_addr || !mbi.boot_loader_name || !mods_gpa)
		return -ENOSPC;
	memcpy(ib->b + (mbi.mmap_addr - MB_INFO_GPA), map, mbi.mmap_length);
	if (bi->cmdline) {
		mbi.flags |= MBI_CMDLINE;
		mbi.cmdline = mb_info_str(ib, bi->cmdline);
		if (!mbi.cmdline)
			return -ENOSPC;
	}
	if (mb_build_mods(ib, mods_gpa, bi) < 0)
		return -ENOSPC;
	memcpy(ib->b + (mbi_gpa - MB_INFO_GPA), &mbi, sizeof(mbi));
	return 0;
}

int mbinfo_build(uint8_t *area, const struct gmem *mem, const struct mbinfo_args *a)
{
	g_autofree struct mb_info_buf *ib = g_new0(struct mb_info_buf, 1);
	int ret;

	if (a->nr_reserved > MBINFO_MAX_RESERVED || a->nr_mods > MB_MAX_MODULES)
		return -EINVAL;
	ret = mb_build_info(ib, mem, a);
	if (ret == 0)
		memcpy(area, ib->b, sizeof(ib->b));
	return ret;
}
