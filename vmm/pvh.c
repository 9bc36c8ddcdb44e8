// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pvh: the PVH boot protocol's loader (Xen's docs/misc/pvh.pandoc and
 * xen/include/public/arch-x86/hvm/start_info.h).  It validates an ELF64 x86-64
 * executable completely (header, program headers, every PT_LOAD segment against
 * guest RAM and against the other segments, the XEN_ELFNOTE_PHYS32_ENTRY note), and
 * only then copies the segments to their physical addresses and writes hvm_start_info
 * (version 1, with a memory map) and the command line into the boot page at
 * PVH_INFO_GPA.  A bad image leaves guest RAM untouched.  Setting up the vCPU for the
 * entry is vcpu.c's job.
 */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "vmm/vmm.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define HVM_START_MAGIC 0x336ec578u
#define HVM_MEMMAP_RAM 1
#define HVM_MEMMAP_RESERVED 2
#define PC_VGA_START 0xa0000ULL /* legacy VGA and BIOS area, reported reserved */
#define PC_HIGH_START 0x100000ULL

struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr;
	uint64_t memmap_paddr; /* version 1 */
	uint32_t memmap_entries, reserved;
};

struct hvm_memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info layout");
_Static_assert(sizeof(struct hvm_memmap_entry) == 24, "hvm_memmap_table_entry layout");

#define PVH_MEMMAP_GPA (PVH_INFO_GPA + sizeof(struct hvm_start_info))
#define PVH_MEMMAP_MAX ((PVH_CMDLINE_GPA - PVH_MEMMAP_GPA) / sizeof(struct hvm_memmap_entry))

struct pvh_image {
	const uint8_t *data;
	size_t len;
	Elf64_Ehdr eh;
};

static int pvh_error(GError **err, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static int pvh_error(GError **err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	g_propagate_error(err, g_error_new_valist(VMM_ERROR, ENOEXEC, fmt, ap));
	va_end(ap);
	return -ENOEXEC;
}

/* [off, off+size) inside the file, without overflow. */
static bool pvh_in_file(const struct pvh_image *img, uint64_t off, uint64_t size)
{
	uint64_t end;

	return !__builtin_add_overflow(off, size, &end) && end <= img->len;
}

static int pvh_check_ehdr(struct pvh_image *img, GError **err)
{
	Elf64_Ehdr *eh = &img->eh;

	if (img->len < EI_NIDENT || memcmp(img->data, ELFMAG, SELFMAG) != 0)
		return pvh_error(err, "not an ELF file");
	if (img->data[EI_CLASS] != ELFCLASS64)
		return pvh_error(err, "not a 64-bit ELF; mpvmm loads ELF64 PVH images");
	if (img->len < sizeof(*eh))
		return pvh_error(err, "truncated ELF header (%zu bytes)", img->len);
	memcpy(eh, img->data, sizeof(*eh));
	if (eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_machine != EM_X86_64)
		return pvh_error(err, "not a little-endian x86-64 ELF");
	if (eh->e_type != ET_EXEC)
		return pvh_error(err,
				 "not an executable ELF (e_type %u); link it as a static "
				 "executable",
				 eh->e_type);
	if (eh->e_phnum == 0 || eh->e_phnum == PN_XNUM || eh->e_phentsize != sizeof(Elf64_Phdr))
		return pvh_error(err, "corrupt program header table (%u entries of %u bytes)",
				 eh->e_phnum, eh->e_phentsize);
	if (!pvh_in_file(img, eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr)))
		return pvh_error(err,
				 "truncated: the program header table lies beyond the end "
				 "of the file (%zu bytes)",
				 img->len);
	return 0;
}

static void pvh_phdr(const struct pvh_image *img, unsigned i, Elf64_Phdr *ph)
{
	memcpy(ph, img->data + img->eh.e_phoff + (uint64_t)i * sizeof(*ph), sizeof(*ph));
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1); /* v < 2^33 here: no overflow */
}

/* Search one PT_NOTE segment; 1 with *entry set, 0 when absent, or -ENOEXEC. */
static int pvh_note_entry(const struct pvh_image *img, unsigned i, const Elf64_Phdr *ph,
			  uint32_t *entry, GError **err)
{
	uint64_t a = ph->p_align == 8 ? 8 : 4, off = ph->p_offset, end;
	Elf64_Nhdr nh;

	if (!pvh_in_file(img, ph->p_offset, ph->p_filesz))
		return pvh_error(err, "truncated: note segment %u lies beyond the end of the file",
				 i);
	end = ph->p_offset + ph->p_filesz;
	while (end - off >= sizeof(nh)) {
		uint64_t name = off + sizeof(nh), desc, next;
		uint64_t val = 0;

		memcpy(&nh, img->data + off, sizeof(nh));
		desc = name + align_up(nh.n_namesz, a);
		next = desc + align_up(nh.n_descsz, a);
		if (next > end || desc + nh.n_descsz > end)
			return pvh_error(err, "corrupt note in segment %u: it overruns the segment",
					 i);
		if (nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY && nh.n_namesz == 4 &&
		    memcmp(img->data + name, "Xen", 4) == 0) {
			if (nh.n_descsz != 4 && nh.n_descsz != 8)
				return pvh_error(err,
						 "corrupt PVH entry note: %u-byte value, "
						 "expected 4",
						 nh.n_descsz);
			memcpy(&val, img->data + desc, nh.n_descsz);
			if (val > UINT32_MAX)
				return pvh_error(err, "PVH entry point 0x%" PRIx64 " is above 4G",
						 val);
			*entry = (uint32_t)val;
			return 1;
		}
		off = next;
	}
	return 0;
}

static int pvh_find_entry(const struct pvh_image *img, uint32_t *entry, GError **err)
{
	Elf64_Phdr ph;
	int ret;

	for (unsigned i = 0; i < img->eh.e_phnum; i++) {
		pvh_phdr(img, i, &ph);
		if (ph.p_type != PT_NOTE)
			continue;
		ret = pvh_note_entry(img, i, &ph, entry, err);
		if (ret != 0)
			return ret < 0 ? ret : 0;
	}
	return pvh_error(err, "no PVH entry point: the image has no XEN_ELFNOTE_PHYS32_ENTRY "
			      "note (type 18, name \"Xen\")");
}

static int pvh_check_load(const struct pvh_image *img, struct gmem *mem, unsigned i,
			  const Elf64_Phdr *ph, GError **err)
{
	uint64_t end;

	if (ph->p_filesz > ph->p_memsz)
		return pvh_error(err,
				 "corrupt segment %u: file size 0x%" PRIx64 " exceeds memory "
				 "size 0x%" PRIx64,
				 i, ph->p_filesz, ph->p_memsz);
	if (!pvh_in_file(img, ph->p_offset, ph->p_filesz))
		return pvh_error(err,
				 "truncated: segment %u's data [0x%" PRIx64 ", +0x%" PRIx64
				 ") lies beyond the end of the file (%zu bytes)",
				 i, ph->p_offset, ph->p_filesz, img->len);
	if (__builtin_add_overflow(ph->p_paddr, ph->p_memsz, &end) ||
	    !gmem_translate(mem, ph->p_paddr, ph->p_memsz))
		return pvh_error(err,
				 "segment %u at 0x%" PRIx64 "+0x%" PRIx64 " lies outside "
				 "guest RAM (%" PRIu64 " MiB); give a larger -m or link the image "
				 "lower",
				 i, ph->p_paddr, ph->p_memsz, gmem_size(mem) >> 20);
	if (ph->p_paddr < PVH_INFO_END && end > PVH_INFO_GPA)
		return pvh_error(err,
				 "segment %u at 0x%" PRIx64 "+0x%" PRIx64 " overlaps the boot "
				 "page 0x%llx-0x%llx where mpvmm writes hvm_start_info; link the "
				 "image at 1M",
				 i, ph->p_paddr, ph->p_memsz, PVH_INFO_GPA, PVH_INFO_END - 1);
	if (ph->p_paddr < PC_HIGH_START && end > PC_VGA_START)
		return pvh_error(err,
				 "segment %u at 0x%" PRIx64 "+0x%" PRIx64 " overlaps the BIOS "
				 "area 0xa0000-0xfffff (reserved; mpvmm's ACPI tables live there); "
				 "link the image at 1M",
				 i, ph->p_paddr, ph->p_memsz);
	return 0;
}

/*
 * PT_LOAD segment i (already checked) against every earlier one (checked too, so no sum
 * overflows): copied in order, an overlap would let a later segment silently overwrite
 * an earlier one's bytes.  The gABI ("Program Header") has loadable segments in
 * ascending address order, each its own range; a linker does not emit overlapping ones,
 * a corrupt or hand-made image may.
 */
static int pvh_check_overlap(const struct pvh_image *img, unsigned i, const Elf64_Phdr *ph,
			     GError **err)
{
	Elf64_Phdr prev;

	for (unsigned j = 0; j < i; j++) {
		pvh_phdr(img, j, &prev);
		if (prev.p_type != PT_LOAD || prev.p_memsz == 0)
			continue;
		if (ph->p_paddr < prev.p_paddr + prev.p_memsz &&
		    prev.p_paddr < ph->p_paddr + ph->p_memsz)
			return pvh_error(err,
					 "segment %u at 0x%" PRIx64 "+0x%" PRIx64 " overlaps "
					 "segment %u at 0x%" PRIx64 "+0x%" PRIx64 "; the image is "
					 "corrupt or mislinked",
					 i, ph->p_paddr, ph->p_memsz, j, prev.p_paddr,
					 prev.p_memsz);
	}
	return 0;
}

/* Every PT_LOAD fits, none overlaps another; the entry lies inside one of them. */
static int pvh_check_segments(const struct pvh_image *img, struct gmem *mem, uint32_t entry,
			      GError **err)
{
	bool entry_ok = false;
	Elf64_Phdr ph;

	for (unsigned i = 0; i < img->eh.e_phnum; i++) {
		pvh_phdr(img, i, &ph);
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (pvh_check_load(img, mem, i, &ph, err) < 0 ||
		    pvh_check_overlap(img, i, &ph, err) < 0)
			return -ENOEXEC;
		if (entry >= ph.p_paddr && entry - ph.p_paddr < ph.p_memsz)
			entry_ok = true;
	}
	if (!entry_ok)
		return pvh_error(err, "PVH entry point 0x%x is not inside any loadable segment",
				 entry);
	return 0;
}

static void memmap_add(struct hvm_memmap_entry *map, unsigned *n, uint64_t addr, uint64_t size,
		       uint32_t type)
{
	unsigned i = (*n)++;

	/* Insert sorted by address. */
	for (; i > 0 && map[i - 1].addr > addr; i--)
		map[i] = map[i - 1];
	map[i] = (struct hvm_memmap_entry){.addr = addr, .size = size, .type = type};
}

/* RAM from mem (the PC's 640K-1M hole reserved), then the caller's reserved ranges. */
static unsigned pvh_memmap(const struct gmem *mem, const struct pvh_range *reserved,
			   unsigned nr_reserved, struct hvm_memmap_entry *map)
{
	unsigned n = 0;

	for (unsigned i = 0; i < mem->nr_regions; i++) {
		const struct gmem_region *r = &mem->region[i];

		if (r->gpa == 0 && r->size > PC_HIGH_START) {
			memmap_add(map, &n, 0, PC_VGA_START, HVM_MEMMAP_RAM);
			memmap_add(map, &n, PC_VGA_START, PC_HIGH_START - PC_VGA_START,
				   HVM_MEMMAP_RESERVED);
			memmap_add(map, &n, PC_HIGH_START, r->size - PC_HIGH_START, HVM_MEMMAP_RAM);
		} else {
			memmap_add(map, &n, r->gpa, r->size, HVM_MEMMAP_RAM);
		}
	}
	for (unsigned i = 0; i < nr_reserved; i++)
		memmap_add(map, &n, reserved[i].addr, reserved[i].size, HVM_MEMMAP_RESERVED);
	return n;
}

static void pvh_copy_segments(const struct pvh_image *img, struct gmem *mem)
{
	Elf64_Phdr ph;

	for (unsigned i = 0; i < img->eh.e_phnum; i++) {
		uint8_t *dst;

		pvh_phdr(img, i, &ph);
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		dst = gmem_translate(mem, ph.p_paddr, ph.p_memsz); /* checked before */
		memcpy(dst, img->data + ph.p_offset, ph.p_filesz);
		memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
	}
}

static int pvh_write_info(struct gmem *mem, const char *cmdline, const struct hvm_memmap_entry *map,
			  unsigned n)
{
	struct hvm_start_info si = {
		.magic = HVM_START_MAGIC,
		.version = 1,
		.cmdline_paddr = cmdline ? PVH_CMDLINE_GPA : 0,
		.memmap_paddr = PVH_MEMMAP_GPA,
		.memmap_entries = n,
	};
	uint8_t *page = gmem_translate(mem, PVH_INFO_GPA, PVH_INFO_END - PVH_INFO_GPA);

	if (!page)
		return -EFAULT;
	memset(page, 0, PVH_INFO_END - PVH_INFO_GPA);
	memcpy(page, &si, sizeof(si));
	memcpy(page + (PVH_MEMMAP_GPA - PVH_INFO_GPA), map, n * sizeof(*map));
	if (cmdline)
		memcpy(page + (PVH_CMDLINE_GPA - PVH_INFO_GPA), cmdline, strlen(cmdline) + 1);
	return 0;
}

int pvh_load(struct gmem *mem, const void *elf, size_t len, const char *cmdline,
	     const struct pvh_range *reserved, unsigned nr_reserved, struct pvh_boot *boot,
	     GError **err)
{
	struct pvh_image img = {.data = elf, .len = len};
	struct hvm_memmap_entry map[PVH_MEMMAP_MAX];
	unsigned n;
	int ret;

	if (nr_reserved + 3 * mem->nr_regions > PVH_MEMMAP_MAX)
		return pvh_error(err, "memory map too large (%u reserved ranges)", nr_reserved);
	if (cmdline && strlen(cmdline) >= PVH_INFO_END - PVH_CMDLINE_GPA)
		return pvh_error(err, "command line longer than %llu bytes",
				 PVH_INFO_END - PVH_CMDLINE_GPA - 1);
	if (!gmem_translate(mem, PVH_INFO_GPA, PVH_INFO_END - PVH_INFO_GPA))
		return pvh_error(err, "guest RAM does not hold the boot page at 0x%llx",
				 PVH_INFO_GPA);
	ret = pvh_check_ehdr(&img, err);
	if (ret == 0)
		ret = pvh_find_entry(&img, &boot->entry, err);
	if (ret == 0)
		ret = pvh_check_segments(&img, mem, boot->entry, err);
	if (ret < 0)
		return ret;
	n = pvh_memmap(mem, reserved, nr_reserved, map);
	pvh_copy_segments(&img, mem);
	boot->start_info = (uint32_t)PVH_INFO_GPA;
	return pvh_write_info(mem, cmdline, map, n);
}

int pvh_set_rsdp(struct gmem *mem, uint64_t rsdp)
{
	return gmem_write(mem, PVH_INFO_GPA + offsetof(struct hvm_start_info, rsdp_paddr), &rsdp,
			  sizeof(rsdp));
}

int pvh_probe(const void *elf, size_t len, GError **why)
{
	struct pvh_image img = {.data = elf, .len = len};
	uint32_t entry;

	if (pvh_check_ehdr(&img, why) < 0 || pvh_find_entry(&img, &entry, why) < 0)
		return 0;
	return 1;
}

int pvh_load_file(struct gmem *mem, const char *path, const char *cmdline,
		  const struct pvh_range *reserved, unsigned nr_reserved, struct pvh_boot *boot,
		  GError **err)
{
	g_autofree char *data = NULL;
	size_t len = 0;
	int ret;

	ret = boot_read_file("-kernel", path, gmem_size(mem), &data, &len, err);
	if (ret < 0)
		return ret;
	ret = pvh_load(mem, data, len, cmdline, reserved, nr_reserved, boot, err);
	if (ret < 0)
		g_prefix_error(err, "-kernel %s: ", path);
	return ret;
}
