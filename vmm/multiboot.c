// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * multiboot: the Multiboot v1 loader (Multiboot Specification 0.6.96).  It finds the
 * header (3.1.1: magic 0x1BADB002 in the first 8192 bytes, 32-bit aligned, magic +
 * flags + checksum = 0), makes a load plan either from the a.out-kludge address
 * fields (3.1.3, flag bit 16) or from an ELF32 i386 executable's PT_LOAD segments,
 * places the boot modules page-aligned after the kernel, has mbinfo.c build the
 * multiboot information structure (3.3), and validates all of it (file bounds, guest
 * RAM, overlaps with each other, with the BIOS area and with the info area) before
 * one byte goes to guest RAM.  Then it copies the image, the modules and the info
 * area (at MB_INFO_GPA).
 * The 32-bit entry state (3.2) is vcpu's job: struct pvh_boot carries it.  Reading
 * files and choosing between PVH and Multiboot is boot.c's.
 */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "vmm/vmm.h"

#define MB_MAGIC 0x1BADB002u
#define MB_SEARCH 8192u
#define MB_F_PAGE_ALIGN (1u << 0)
#define MB_F_MEMINFO (1u << 1)
#define MB_F_VIDEO (1u << 2)
#define MB_F_AOUT (1u << 16)
#define MB_F_KNOWN (MB_F_PAGE_ALIGN | MB_F_MEMINFO)

#define PC_LOW_END 0xa0000ULL /* the BIOS area [640K, 1M): no kernel there */
#define PC_HIGH_START 0x100000ULL
#define MB_PAGE 4096ULL
#define MB_MAX_LOADS 64

struct mb_header { /* 3.1.2 and 3.1.3 */
	uint32_t magic, flags, checksum;
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

/* One piece of guest memory to fill: filesz bytes from src, then zeroes up to memsz. */
struct mb_load {
	uint64_t gpa, memsz;
	const uint8_t *src;
	uint64_t filesz;
	const char *what; /* "segment 2", "module 0" */
};

struct mb_plan {
	struct mb_load load[MB_MAX_LOADS];
	char names[MB_MAX_LOADS][24];
	unsigned nr, nr_kernel;
	uint32_t entry;
};

static int mb_error(GError **err, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static int mb_error(GError **err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	g_propagate_error(err, g_error_new_valist(VMM_ERROR, ENOEXEC, fmt, ap));
	va_end(ap);
	return -ENOEXEC;
}

int multiboot_find(const void *img, size_t len, size_t *off)
{
	size_t end = MIN(len, (size_t)MB_SEARCH);
	int ret = 0;

	for (size_t o = 0; o + 12 <= end; o += 4) {
		uint32_t w[3];

		memcpy(w, (const uint8_t *)img + o, sizeof(w));
		if (w[0] != MB_MAGIC)
			continue;
		if ((uint32_t)(w[0] + w[1] + w[2]) == 0) {
			*off = o;
			return 1;
		}
		if (ret == 0) { /* remember the first bad one, keep looking for a good one */
			*off = o;
			ret = -EBADMSG;
		}
	}
	return ret;
}

static bool mb_in_file(size_t len, uint64_t off, uint64_t size)
{
	uint64_t end;

	return !__builtin_add_overflow(off, size, &end) && end <= len;
}

static int mb_add(struct mb_plan *p, uint64_t gpa, uint64_t memsz, const uint8_t *src,
		  uint64_t filesz, const char *what, unsigned i, GError **err)
{
	if (p->nr >= MB_MAX_LOADS)
		return mb_error(err, "more than %d segments and modules", MB_MAX_LOADS);
	p->load[p->nr] = (struct mb_load){gpa, memsz, src, filesz, p->names[p->nr]};
	g_snprintf(p->names[p->nr], sizeof(p->names[0]), "%s %u", what, i);
	p->nr++;
	return 0;
}

/* 3.1.3: the a.out kludge.  The header sits at file offset hoff, at header_addr. */
static int mb_plan_aout(struct mb_plan *p, const uint8_t *img, size_t len, size_t hoff,
			const struct mb_header *h, GError **err)
{
	uint64_t foff, fsize, msize;

	if (h->load_addr > h->header_addr || h->header_addr - h->load_addr > hoff)
		return mb_error(err,
				"corrupt Multiboot header: load_addr 0x%x and header_addr 0x%x "
				"put the load start before the beginning of the file",
				h->load_addr, h->header_addr);
	foff = hoff - (h->header_addr - h->load_addr);
	if (h->load_end_addr == 0) {
		fsize = len - foff;
	} else {
		if (h->load_end_addr <= h->load_addr)
			return mb_error(err,
					"corrupt Multiboot header: load_end_addr 0x%x is not "
					"above load_addr 0x%x",
					h->load_end_addr, h->load_addr);
		fsize = h->load_end_addr - h->load_addr;
		if (!mb_in_file(len, foff, fsize))
			return mb_error(err,
					"truncated: the Multiboot load range needs 0x%" PRIx64
					" bytes from file offset 0x%" PRIx64 ", the file has %zu",
					fsize, foff, len);
	}
	msize = fsize;
	if (h->bss_end_addr != 0) {
		if (h->bss_end_addr < h->load_addr + fsize)
			return mb_error(err,
					"corrupt Multiboot header: bss_end_addr 0x%x is below "
					"the end of the loaded data 0x%" PRIx64,
					h->bss_end_addr, h->load_addr + fsize);
		msize = h->bss_end_addr - h->load_addr;
	}
	if (msize == 0)
		return mb_error(err, "corrupt Multiboot header: nothing to load");
	p->entry = h->entry_addr;
	return mb_add(p, h->load_addr, msize, img + foff, fsize, "load range", 0, err);
}

static int mb_check_elf_header(const uint8_t *img, size_t len, Elf32_Ehdr *eh, GError **err)
{
	if (len < EI_NIDENT || memcmp(img, ELFMAG, SELFMAG) != 0)
		return mb_error(err, "the Multiboot header has no address fields (flag bit 16) "
				     "and the file is not an ELF; give one or the other");
	if (img[EI_CLASS] != ELFCLASS32)
		return mb_error(err, "Multiboot ELF kernels must be ELF32 (without the address "
				     "fields of flag bit 16)");
	if (len < sizeof(*eh))
		return mb_error(err, "truncated ELF header (%zu bytes)", len);
	memcpy(eh, img, sizeof(*eh));
	if (eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_machine != EM_386)
		return mb_error(err, "not a little-endian i386 ELF");
	if (eh->e_type != ET_EXEC)
		return mb_error(err, "not an executable ELF (e_type %u)", eh->e_type);
	if (eh->e_phnum == 0 || eh->e_phentsize != sizeof(Elf32_Phdr))
		return mb_error(err, "corrupt program header table (%u entries of %u bytes)",
				eh->e_phnum, eh->e_phentsize);
	if (!mb_in_file(len, eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf32_Phdr)))
		return mb_error(err,
				"truncated: the program header table lies beyond the end of "
				"the file (%zu bytes)",
				len);
	return 0;
}

/* e_entry is virtual; a segment with a different p_vaddr translates it (as GRUB does). */
static uint32_t mb_elf_entry(const Elf32_Phdr *ph, uint32_t entry)
{
	if (ph->p_vaddr != ph->p_paddr && entry >= ph->p_vaddr && entry - ph->p_vaddr < ph->p_memsz)
		return entry - ph->p_vaddr + ph->p_paddr;
	return entry;
}

static int mb_plan_elf(struct mb_plan *p, const uint8_t *img, size_t len, GError **err)
{
	Elf32_Ehdr eh;
	Elf32_Phdr ph;
	int ret = mb_check_elf_header(img, len, &eh, err);

	if (ret < 0)
		return ret;
	p->entry = eh.e_entry;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		memcpy(&ph, img + eh.e_phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (ph.p_filesz > ph.p_memsz)
			return mb_error(err,
					"corrupt segment %u: file size 0x%x exceeds memory size "
					"0x%x",
					i, ph.p_filesz, ph.p_memsz);
		if (!mb_in_file(len, ph.p_offset, ph.p_filesz))
			return mb_error(err,
					"truncated: segment %u's data [0x%x, +0x%x) lies beyond "
					"the end of the file (%zu bytes)",
					i, ph.p_offset, ph.p_filesz, len);
		if (mb_elf_entry(&ph, eh.e_entry) != eh.e_entry)
			p->entry = mb_elf_entry(&ph, eh.e_entry);
		ret = mb_add(p, ph.p_paddr, ph.p_memsz, img + ph.p_offset, ph.p_filesz, "segment",
			     i, err);
		if (ret < 0)
			return ret;
	}
	if (p->nr == 0)
		return mb_error(err, "the ELF has no loadable segment");
	return 0;
}

static bool mb_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* Every load inside RAM below 4G, clear of the reserved areas and of each other. */
static int mb_check_plan(const struct mb_plan *p, struct gmem *mem, GError **err)
{
	static const struct {
		uint64_t addr, len;
		const char *what;
	} fixed[] = {
		{MB_INFO_GPA, MB_INFO_END - MB_INFO_GPA, "the multiboot information area"},
		{PC_LOW_END, PC_HIGH_START - PC_LOW_END, "the BIOS area (VGA, ACPI tables)"},
	};

	for (unsigned i = 0; i < p->nr; i++) {
		const struct mb_load *l = &p->load[i];

		if (l->gpa + l->memsz > (1ULL << 32) || !gmem_translate(mem, l->gpa, l->memsz))
			return mb_error(err,
					"%s at 0x%" PRIx64 "+0x%" PRIx64 " lies outside guest "
					"RAM (%" PRIu64 " MiB, below 0x%llx); give a larger -m",
					l->what, l->gpa, l->memsz, gmem_size(mem) >> 20,
					VMM_RAM_BELOW_4G);
		for (unsigned f = 0; f < G_N_ELEMENTS(fixed); f++) {
			if (mb_overlap(l->gpa, l->memsz, fixed[f].addr, fixed[f].len))
				return mb_error(err,
						"%s at 0x%" PRIx64 "+0x%" PRIx64 " overlaps %s "
						"at 0x%" PRIx64 "-0x%" PRIx64 "; link it at 1M",
						l->what, l->gpa, l->memsz, fixed[f].what,
						fixed[f].addr, fixed[f].addr + fixed[f].len - 1);
		}
		for (unsigned j = 0; j < i; j++) {
			if (mb_overlap(l->gpa, l->memsz, p->load[j].gpa, p->load[j].memsz))
				return mb_error(err,
						"%s at 0x%" PRIx64 "+0x%" PRIx64 " overlaps %s "
						"at 0x%" PRIx64 "+0x%" PRIx64,
						l->what, l->gpa, l->memsz, p->load[j].what,
						p->load[j].gpa, p->load[j].memsz);
		}
	}
	return 0;
}

static int mb_check_entry(const struct mb_plan *p, GError **err)
{
	for (unsigned i = 0; i < p->nr_kernel; i++) {
		if (p->entry >= p->load[i].gpa && p->entry - p->load[i].gpa < p->load[i].memsz)
			return 0;
	}
	return mb_error(err, "the entry point 0x%x is not inside the loaded kernel", p->entry);
}

/* 3.3 mods: each module page-aligned after the previous one, the first after the kernel. */
static int mb_plan_modules(struct mb_plan *p, const struct mb_module *mods, unsigned nr,
			   GError **err)
{
	uint64_t next = 0;

	for (unsigned i = 0; i < p->nr; i++)
		next = MAX(next, p->load[i].gpa + p->load[i].memsz);
	for (unsigned i = 0; i < nr; i++) {
		next = (next + MB_PAGE - 1) & ~(MB_PAGE - 1);
		if (mods[i].len > (1ULL << 32) - next)
			return mb_error(err, "module %u (%zu bytes) does not fit below 4G", i,
					mods[i].len);
		if (mods[i].len) {
			int ret = mb_add(p, next, mods[i].len, mods[i].data, mods[i].len, "module",
					 i, err);

			if (ret < 0)
				return ret;
		}
		next += mods[i].len;
	}
	return 0;
}

/* Where each module went; an empty module sits where the previous one ended. */
static void mb_module_starts(const struct mb_plan *p, const struct mb_module *mods, unsigned nr,
			     uint32_t *start)
{
	uint32_t prev_end = 0;

	for (unsigned i = 0, l = p->nr_kernel; i < nr; i++) {
		start[i] = mods[i].len ? (uint32_t)p->load[l++].gpa : prev_end;
		prev_end = start[i] + (uint32_t)mods[i].len;
	}
}

static int mb_plan_kernel(struct mb_plan *p, const uint8_t *img, size_t len, GError **err)
{
	struct mb_header h = {0};
	size_t hoff;
	int ret = multiboot_find(img, len, &hoff);

	if (ret == 0)
		return mb_error(err, "no Multiboot header in the first 8 KiB");
	if (ret < 0)
		return mb_error(err, "the Multiboot header at offset 0x%zx has a bad checksum",
				hoff);
	memcpy(&h, img + hoff, 12);
	if (h.flags & MB_F_VIDEO)
		return mb_error(err, "the kernel asks for a video mode (Multiboot flag bit 2); "
				     "mpvmm has no display");
	if (h.flags & 0xffffu & ~MB_F_KNOWN)
		return mb_error(err,
				"the kernel requires Multiboot features mpvmm does not know "
				"(flags 0x%x)",
				h.flags);
	if (!(h.flags & MB_F_AOUT))
		return mb_plan_elf(p, img, len, err);
	if (hoff + sizeof(h) > MIN(len, (size_t)MB_SEARCH))
		return mb_error(err, "truncated Multiboot header: the address fields (flag bit "
				     "16) end beyond the first 8 KiB or the file");
	memcpy(&h, img + hoff, sizeof(h));
	return mb_plan_aout(p, img, len, hoff, &h, err);
}

/* Everything was checked: copy the kernel and the modules, zero the bss. */
static void mb_copy(const struct mb_plan *p, struct gmem *mem)
{
	for (unsigned i = 0; i < p->nr; i++) {
		uint8_t *dst = gmem_translate(mem, p->load[i].gpa, p->load[i].memsz);

		memcpy(dst, p->load[i].src, p->load[i].filesz);
		memset(dst + p->load[i].filesz, 0, p->load[i].memsz - p->load[i].filesz);
	}
}

int multiboot_load(struct gmem *mem, const void *img, size_t len, const char *cmdline,
		   const struct mb_module *mods, unsigned nr_mods, const struct pvh_range *reserved,
		   unsigned nr_reserved, struct pvh_boot *boot, GError **err)
{
	uint32_t starts[MB_MAX_MODULES];
	struct mbinfo_args a = {cmdline, mods, starts, nr_mods, reserved, nr_reserved};
	g_autofree struct mb_plan *p = g_new0(struct mb_plan, 1);
	g_autofree uint8_t *info = g_malloc0(MB_INFO_END - MB_INFO_GPA);
	int ret;

	if (nr_reserved > MBINFO_MAX_RESERVED)
		return mb_error(err, "too many reserved ranges (%u)", nr_reserved);
	if (nr_mods > MB_MAX_MODULES)
		return mb_error(err, "%u modules; at most %d", nr_mods, MB_MAX_MODULES);
	if (!gmem_translate(mem, MB_INFO_GPA, MB_INFO_END - MB_INFO_GPA))
		return mb_error(err, "guest RAM does not hold the info area at 0x%llx",
				MB_INFO_GPA);
	ret = mb_plan_kernel(p, img, len, err);
	if (ret == 0) {
		p->nr_kernel = p->nr;
		ret = mb_check_entry(p, err);
	}
	if (ret == 0)
		ret = mb_plan_modules(p, mods, nr_mods, err);
	if (ret == 0)
		ret = mb_check_plan(p, mem, err);
	if (ret == 0)
		mb_module_starts(p, mods, nr_mods, starts);
	if (ret == 0 && mbinfo_build(info, mem, &a) < 0)
		ret = mb_error(err,
			       "the command line, module strings and memory map do not fit in "
			       "the %llu KiB info area; use fewer or shorter ones",
			       (MB_INFO_END - MB_INFO_GPA) >> 10);
	if (ret < 0)
		return ret;
	mb_copy(p, mem);
	gmem_write(mem, MB_INFO_GPA, info, MB_INFO_END - MB_INFO_GPA);
	*boot = (struct pvh_boot){
		.entry = p->entry, .start_info = MB_INFO_GPA, .magic = MB_BOOTLOADER_MAGIC};
	return 0;
}
