// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of mpvmm's PVH loader (vmm/pvh.c) on images built here in memory: a good
 * image loads (segments, zeroed bss, hvm_start_info, memory map, command line), and
 * every kind of bad image (truncated at each boundary, corrupt headers, segments
 * outside RAM, over the boot page or over each other, a missing or corrupt entry note)
 * fails with a clear message and leaves guest RAM untouched.
 */
#include <elf.h>
#include <errno.h>
#include <string.h>

#include "vmm/vmm.h"

#define RAM_SIZE (4ULL << 20)
#define LOAD_GPA 0x100000ULL
#define ENTRY 0x100010u
#define NOTE_OFF 0x100
#define CODE_OFF 0x200
#define CODE_LEN 0x40
#define IMG_LEN (CODE_OFF + CODE_LEN)
#define FILL 0xa5

struct img {
	uint8_t b[IMG_LEN];
	Elf64_Ehdr *eh;
	Elf64_Phdr *load, *note;
	Elf64_Nhdr *nh;
};

/* ELF header, PT_LOAD (0x40 bytes of code, 4K in memory), PT_NOTE with the Xen note. */
static void img_init(struct img *im)
{
	memset(im->b, 0, sizeof(im->b));
	im->eh = (Elf64_Ehdr *)im->b;
	im->load = (Elf64_Phdr *)(im->b + sizeof(Elf64_Ehdr));
	im->note = im->load + 1;
	im->nh = (Elf64_Nhdr *)(im->b + NOTE_OFF);
	memcpy(im->eh->e_ident, ELFMAG, SELFMAG);
	im->eh->e_ident[EI_CLASS] = ELFCLASS64;
	im->eh->e_ident[EI_DATA] = ELFDATA2LSB;
	im->eh->e_ident[EI_VERSION] = EV_CURRENT;
	im->eh->e_type = ET_EXEC;
	im->eh->e_machine = EM_X86_64;
	im->eh->e_version = EV_CURRENT;
	im->eh->e_phoff = sizeof(Elf64_Ehdr);
	im->eh->e_phentsize = sizeof(Elf64_Phdr);
	im->eh->e_phnum = 2;
	im->eh->e_ehsize = sizeof(Elf64_Ehdr);
	*im->load = (Elf64_Phdr){.p_type = PT_LOAD,
				 .p_offset = CODE_OFF,
				 .p_paddr = LOAD_GPA,
				 .p_vaddr = LOAD_GPA,
				 .p_filesz = CODE_LEN,
				 .p_memsz = 0x1000,
				 .p_align = 0x1000};
	*im->note =
		(Elf64_Phdr){.p_type = PT_NOTE, .p_offset = NOTE_OFF, .p_filesz = 20, .p_align = 4};
	*im->nh = (Elf64_Nhdr){.n_namesz = 4, .n_descsz = 4, .n_type = 18};
	memcpy(im->b + NOTE_OFF + 12, "Xen", 4);
	memcpy(im->b + NOTE_OFF + 16, &(uint32_t){ENTRY}, 4);
	memset(im->b + CODE_OFF, 0x90, CODE_LEN);
}

static struct gmem *ram(uint64_t size, uint64_t below_4g)
{
	struct gmem *mem;

	g_assert_cmpint(gmem_create(size, below_4g, &mem), ==, 0);
	for (unsigned i = 0; i < mem->nr_regions; i++)
		memset(mem->region[i].hva, FILL, mem->region[i].size);
	return mem;
}

static bool ram_untouched(const struct gmem *mem)
{
	for (unsigned i = 0; i < mem->nr_regions; i++) {
		const uint8_t *p = mem->region[i].hva;

		for (uint64_t j = 0; j < mem->region[i].size; j += 64) /* one byte a line */
			if (p[j] != FILL)
				return false;
	}
	return true;
}

static const struct pvh_range ecam = {VMM_ECAM_BASE, VMM_ECAM_SIZE};

/* Loading im (first len bytes) must fail with `needle` and write nothing. */
static void assert_rejected(const struct img *im, size_t len, const char *needle)
{
	struct gmem *mem = ram(RAM_SIZE, VMM_RAM_BELOW_4G);
	g_autoptr(GError) err = NULL;
	struct pvh_boot boot;

	g_assert_cmpint(pvh_load(mem, im->b, len, "x", &ecam, 1, &boot, &err), ==, -ENOEXEC);
	if (!strstr(err->message, needle))
		g_error("'%s' lacks '%s'", err->message, needle);
	g_assert_true(ram_untouched(mem));
	gmem_destroy(mem);
}

struct hvm_start_info_v1 {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};

struct memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

static void test_good(void)
{
	struct gmem *mem = ram(RAM_SIZE, VMM_RAM_BELOW_4G);
	const struct memmap_entry want[] = {
		{0, 0xa0000, 1},
		{0xa0000, 0x60000, 2},
		{0x100000, RAM_SIZE - 0x100000, 1},
		{VMM_ECAM_BASE, VMM_ECAM_SIZE, 2},
	};
	struct hvm_start_info_v1 si;
	struct memmap_entry map[4];
	struct pvh_boot boot;
	struct img im;
	const uint8_t *p;

	img_init(&im);
	g_assert_cmpint(pvh_load(mem, im.b, IMG_LEN, "console=x", &ecam, 1, &boot, NULL), ==, 0);
	g_assert_cmphex(boot.entry, ==, ENTRY);
	g_assert_cmphex(boot.start_info, ==, PVH_INFO_GPA);
	p = gmem_translate(mem, LOAD_GPA, 0x1000);
	for (unsigned i = 0; i < 0x1000; i++)
		g_assert_cmphex(p[i], ==, i < CODE_LEN ? 0x90 : 0); /* bss zeroed */
	g_assert_cmphex(p[0x1000], ==, FILL);			    /* and no further */
	g_assert_cmpint(gmem_read(mem, PVH_INFO_GPA, &si, sizeof(si)), ==, 0);
	g_assert_cmphex(si.magic, ==, 0x336ec578);
	g_assert_cmpuint(si.version, ==, 1);
	g_assert_cmpuint(si.nr_modules, ==, 0);
	g_assert_cmphex(si.cmdline_paddr, ==, PVH_CMDLINE_GPA);
	g_assert_cmphex(si.rsdp_paddr, ==, 0);
	g_assert_cmpstr(gmem_translate(mem, si.cmdline_paddr, 10), ==, "console=x");
	g_assert_cmpuint(si.memmap_entries, ==, 4);
	g_assert_cmpint(gmem_read(mem, si.memmap_paddr, map, sizeof(map)), ==, 0);
	for (unsigned i = 0; i < 4; i++) {
		g_assert_cmphex(map[i].addr, ==, want[i].addr);
		g_assert_cmphex(map[i].size, ==, want[i].size);
		g_assert_cmpuint(map[i].type, ==, want[i].type);
	}
	g_assert_cmpint(pvh_set_rsdp(mem, 0xe0000), ==, 0);
	g_assert_cmpint(gmem_read(mem, PVH_INFO_GPA, &si, sizeof(si)), ==, 0);
	g_assert_cmphex(si.rsdp_paddr, ==, 0xe0000);
	g_assert_cmphex(si.magic, ==, 0x336ec578);
	gmem_destroy(mem);
}

/* No -append: cmdline_paddr 0.  RAM above the hole: its own memory map entry. */
static void test_no_cmdline_high_ram(void)
{
	struct gmem *mem = ram(8ULL << 20, 4ULL << 20);
	struct hvm_start_info_v1 si;
	struct memmap_entry map[4];
	struct pvh_boot boot;
	struct img im;

	img_init(&im);
	g_assert_cmpint(pvh_load(mem, im.b, IMG_LEN, NULL, NULL, 0, &boot, NULL), ==, 0);
	g_assert_cmpint(gmem_read(mem, PVH_INFO_GPA, &si, sizeof(si)), ==, 0);
	g_assert_cmphex(si.cmdline_paddr, ==, 0);
	g_assert_cmpuint(si.memmap_entries, ==, 4);
	g_assert_cmpint(gmem_read(mem, si.memmap_paddr, map, sizeof(map)), ==, 0);
	g_assert_cmphex(map[2].size, ==, (4ULL << 20) - 0x100000);
	g_assert_cmphex(map[3].addr, ==, 4ULL << 30);
	g_assert_cmphex(map[3].size, ==, 4ULL << 20);
	g_assert_cmpuint(map[3].type, ==, 1);
	gmem_destroy(mem);
}

static void test_truncated(void)
{
	const struct {
		size_t len;
		const char *needle;
	} cases[] = {
		{0, "not an ELF"},
		{3, "not an ELF"},
		{16, "truncated ELF header"},
		{63, "truncated ELF header"},
		{64, "program header table"},
		{64 + 56 + 55, "program header table"},
		{NOTE_OFF + 19, "note segment 1"},
		{CODE_OFF, "segment 0's data"},
		{IMG_LEN - 1, "segment 0's data"},
	};
	struct img im;

	img_init(&im);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
		assert_rejected(&im, cases[i].len, cases[i].needle);
}

static void test_bad_header(void)
{
	struct img im;

	img_init(&im);
	im.b[0] = 0;
	assert_rejected(&im, IMG_LEN, "not an ELF");
	img_init(&im);
	im.eh->e_ident[EI_CLASS] = ELFCLASS32;
	assert_rejected(&im, IMG_LEN, "not a 64-bit ELF");
	img_init(&im);
	im.eh->e_ident[EI_DATA] = ELFDATA2MSB;
	assert_rejected(&im, IMG_LEN, "little-endian x86-64");
	img_init(&im);
	im.eh->e_machine = EM_386;
	assert_rejected(&im, IMG_LEN, "little-endian x86-64");
	img_init(&im);
	im.eh->e_type = ET_DYN;
	assert_rejected(&im, IMG_LEN, "not an executable");
	img_init(&im);
	im.eh->e_phentsize = 32;
	assert_rejected(&im, IMG_LEN, "corrupt program header table");
	img_init(&im);
	im.eh->e_phnum = 0;
	assert_rejected(&im, IMG_LEN, "corrupt program header table");
	img_init(&im);
	im.eh->e_phoff = UINT64_MAX - 8; /* offset + size overflows */
	assert_rejected(&im, IMG_LEN, "program header table lies beyond");
}

static void test_bad_segment(void)
{
	struct img im;

	img_init(&im);
	im.load->p_filesz = 0x2000;
	assert_rejected(&im, IMG_LEN, "exceeds memory size");
	img_init(&im);
	im.load->p_offset = UINT64_MAX - 0x10;
	assert_rejected(&im, IMG_LEN, "beyond the end of the file");
	img_init(&im);
	im.load->p_paddr = RAM_SIZE - 0x800; /* straddles the end of RAM */
	assert_rejected(&im, IMG_LEN, "outside guest RAM");
	img_init(&im);
	im.load->p_paddr = 0xc0000000; /* in the PCI hole */
	assert_rejected(&im, IMG_LEN, "outside guest RAM");
	img_init(&im);
	im.load->p_paddr = UINT64_MAX - 0x10; /* paddr + memsz wraps */
	assert_rejected(&im, IMG_LEN, "outside guest RAM");
	img_init(&im);
	im.load->p_paddr = 0x7800; /* over the boot page */
	assert_rejected(&im, IMG_LEN, "overlaps the boot page");
	img_init(&im);
	im.load->p_paddr = 0xff800; /* into the BIOS area, where the ACPI tables go */
	assert_rejected(&im, IMG_LEN, "overlaps the BIOS area");
}

/* A third PT_LOAD (after the note's header, before NOTE_OFF) at paddr, memsz 0x1000. */
static Elf64_Phdr *img_add_load(struct img *im, uint64_t paddr)
{
	Elf64_Phdr *ph = im->note + 1;

	G_STATIC_ASSERT(sizeof(Elf64_Ehdr) + 3 * sizeof(Elf64_Phdr) <= NOTE_OFF);
	im->eh->e_phnum = 3;
	*ph = *im->load;
	ph->p_paddr = ph->p_vaddr = paddr;
	return ph;
}

/* Two PT_LOAD segments sharing bytes: the later one would overwrite the earlier one. */
static void test_overlap(void)
{
	struct gmem *mem = ram(RAM_SIZE, VMM_RAM_BELOW_4G);
	struct pvh_boot boot;
	Elf64_Phdr *ph;
	struct img im;

	img_init(&im);
	img_add_load(&im, LOAD_GPA + 0x800);
	assert_rejected(&im, IMG_LEN,
			"segment 2 at 0x100800+0x1000 overlaps segment 0 at 0x100000+0x1000");
	img_init(&im);
	im.load->p_paddr = LOAD_GPA + 0x1000;
	img_add_load(&im, LOAD_GPA + 1); /* its last byte is segment 0's first */
	assert_rejected(&im, IMG_LEN,
			"segment 2 at 0x100001+0x1000 overlaps segment 0 at 0x101000+0x1000");
	img_init(&im);
	ph = img_add_load(&im, LOAD_GPA + 0x400); /* wholly inside segment 0 */
	ph->p_filesz = ph->p_memsz = 0x10;
	assert_rejected(&im, IMG_LEN, "overlaps segment 0");
	img_init(&im);
	ph = img_add_load(&im, LOAD_GPA); /* empty: loads nothing, so no overlap */
	ph->p_filesz = ph->p_memsz = 0;
	g_assert_cmpint(pvh_load(mem, im.b, IMG_LEN, NULL, NULL, 0, &boot, NULL), ==, 0);
	img_init(&im);
	img_add_load(&im, LOAD_GPA + 0x1000); /* adjacent, not overlapping */
	g_assert_cmpint(pvh_load(mem, im.b, IMG_LEN, NULL, NULL, 0, &boot, NULL), ==, 0);
	g_assert_cmphex(*(uint8_t *)gmem_translate(mem, LOAD_GPA + 0x1000, 1), ==, 0x90);
	g_assert_cmphex(*(uint8_t *)gmem_translate(mem, LOAD_GPA + 0xfff, 1), ==, 0);
	gmem_destroy(mem);
}

static void test_bad_note(void)
{
	struct img im;

	img_init(&im);
	im.note->p_type = PT_NULL;
	assert_rejected(&im, IMG_LEN, "no PVH entry point");
	img_init(&im);
	memcpy(im.b + NOTE_OFF + 12, "Xxx", 4);
	assert_rejected(&im, IMG_LEN, "XEN_ELFNOTE_PHYS32_ENTRY");
	img_init(&im);
	im.nh->n_type = 17;
	assert_rejected(&im, IMG_LEN, "no PVH entry point");
	img_init(&im);
	im.nh->n_namesz = 0xffffffff;
	assert_rejected(&im, IMG_LEN, "overruns the segment");
	img_init(&im);
	im.nh->n_descsz = 12;
	assert_rejected(&im, IMG_LEN, "overruns the segment");
	img_init(&im);
	im.nh->n_descsz = 2;
	assert_rejected(&im, IMG_LEN, "2-byte value");
	img_init(&im);
	memcpy(im.b + NOTE_OFF + 16, &(uint32_t){0x200000}, 4);
	assert_rejected(&im, IMG_LEN, "not inside any loadable segment");
	img_init(&im);
	im.note->p_offset = UINT64_MAX - 4;
	assert_rejected(&im, IMG_LEN, "note segment 1");
}

/* An 8-byte entry value is accepted when it fits 32 bits. */
static void test_note_8byte(void)
{
	struct gmem *mem = ram(RAM_SIZE, VMM_RAM_BELOW_4G);
	struct pvh_boot boot;
	struct img im;

	img_init(&im);
	im.nh->n_descsz = 8;
	im.note->p_filesz = 24;
	memcpy(im.b + NOTE_OFF + 16, &(uint64_t){ENTRY}, 8);
	g_assert_cmpint(pvh_load(mem, im.b, IMG_LEN, NULL, NULL, 0, &boot, NULL), ==, 0);
	g_assert_cmphex(boot.entry, ==, ENTRY);
	gmem_destroy(mem);
	memcpy(im.b + NOTE_OFF + 16, &(uint64_t){1ULL << 32}, 8);
	assert_rejected(&im, IMG_LEN, "above 4G");
}

static void test_cmdline_too_long(void)
{
	struct gmem *mem = ram(RAM_SIZE, VMM_RAM_BELOW_4G);
	g_autofree char *s = g_strnfill(PVH_INFO_END - PVH_CMDLINE_GPA, 'a');
	g_autoptr(GError) err = NULL;
	struct pvh_boot boot;
	struct img im;

	img_init(&im);
	g_assert_cmpint(pvh_load(mem, im.b, IMG_LEN, s, NULL, 0, &boot, &err), ==, -ENOEXEC);
	g_assert_nonnull(strstr(err->message, "command line longer"));
	g_assert_true(ram_untouched(mem));
	s[strlen(s) - 1] = '\0'; /* 4095 bytes fit */
	g_assert_cmpint(pvh_load(mem, im.b, IMG_LEN, s, NULL, 0, &boot, NULL), ==, 0);
	gmem_destroy(mem);
}

static void test_file(void)
{
	struct gmem *mem = ram(RAM_SIZE, VMM_RAM_BELOW_4G);
	g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL;
	g_autofree char *dir = g_dir_make_tmp("vmm-pvh-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "bad.elf", NULL);
	struct pvh_boot boot;

	g_assert_cmpint(pvh_load_file(mem, "/nonexistent/k.elf", NULL, NULL, 0, &boot, &e1), <, 0);
	g_assert_nonnull(strstr(e1->message, "-kernel /nonexistent/k.elf: No such file"));
	g_assert_cmpint(pvh_load_file(mem, dir, NULL, NULL, 0, &boot, &e2), <, 0);
	g_assert_nonnull(strstr(e2->message, "not a regular file"));
	g_assert_true(g_file_set_contents(path, "#!/bin/sh\n", -1, NULL));
	g_assert_cmpint(pvh_load_file(mem, path, NULL, NULL, 0, &boot, &e3), ==, -ENOEXEC);
	g_assert_nonnull(strstr(e3->message, "bad.elf: not an ELF file"));
	g_assert_true(ram_untouched(mem));
	unlink(path);
	rmdir(dir);
	gmem_destroy(mem);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vmm/pvh/good", test_good);
	g_test_add_func("/vmm/pvh/no-cmdline-high-ram", test_no_cmdline_high_ram);
	g_test_add_func("/vmm/pvh/truncated", test_truncated);
	g_test_add_func("/vmm/pvh/bad-header", test_bad_header);
	g_test_add_func("/vmm/pvh/bad-segment", test_bad_segment);
	g_test_add_func("/vmm/pvh/overlap", test_overlap);
	g_test_add_func("/vmm/pvh/bad-note", test_bad_note);
	g_test_add_func("/vmm/pvh/note-8byte", test_note_8byte);
	g_test_add_func("/vmm/pvh/cmdline-too-long", test_cmdline_too_long);
	g_test_add_func("/vmm/pvh/file", test_file);
	return g_test_run();
}
