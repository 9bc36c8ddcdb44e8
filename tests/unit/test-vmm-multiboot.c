// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of mpvmm's Multiboot v1 loader (vmm/multiboot.c) and the format choice
 * of -kernel (vmm/boot.c), on images built here in memory: an a.out-kludge kernel and
 * an ELF32 kernel load, with a multiboot info structure (memory map, command line,
 * modules with their strings, loader name) the tests parse back from guest RAM; every
 * bad image (truncated or corrupt headers, bad checksum, segments outside RAM or
 * overlapping each other, the info area or the BIOS area, a kernel larger than RAM,
 * no header at all) fails with a clear message and leaves guest RAM untouched.
 */
#include <elf.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "vmm/vmm.h"

#define RAM_SIZE (4ULL << 20)
#define FILL 0xa5
#define KLUDGE 0x00010003u /* page-align modules, memory info, address fields */
#define LOAD 0x100000u

static const struct pvh_range ecam = {VMM_ECAM_BASE, VMM_ECAM_SIZE};

struct mbi {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr, drives_length, drives_addr, config_table;
	uint32_t boot_loader_name;
};

struct mmap_entry {
	uint32_t size;
	uint64_t addr, len;
	uint32_t type;
} __attribute__((packed));

struct mod_entry {
	uint32_t start, end, string, reserved;
};

static struct gmem *ram(uint64_t size)
{
	struct gmem *mem;

	g_assert_cmpint(gmem_create(size, VMM_RAM_BELOW_4G, &mem), ==, 0);
	memset(mem->region[0].hva, FILL, mem->region[0].size);
	return mem;
}

static bool ram_untouched(const struct gmem *mem)
{
	const uint8_t *p = mem->region[0].hva;

	for (uint64_t j = 0; j < mem->region[0].size; j += 64)
		if (p[j] != FILL)
			return false;
	return true;
}

/* An a.out-kludge kernel: header at offset hoff, loaded at LOAD, 0x200 bytes, bss to 8K. */
static void kludge_init(uint8_t *b, size_t len, size_t hoff, uint32_t flags)
{
	uint32_t h[8] = {0x1BADB002,
			 flags,
			 -(0x1BADB002u + flags),
			 LOAD + (uint32_t)hoff,
			 LOAD,
			 LOAD + (uint32_t)len,
			 LOAD + 0x2000,
			 LOAD + 0x40};

	memset(b, 0x90, len);
	memcpy(b + hoff, h, sizeof(h));
}

static void fix_checksum(uint8_t *hdr)
{
	uint32_t h[3];

	memcpy(h, hdr, sizeof(h));
	h[2] = -(h[0] + h[1]);
	memcpy(hdr, h, sizeof(h));
}

static void assert_rejected(const void *img, size_t len, const struct mb_module *mods,
			    unsigned nr_mods, const char *cmdline, const char *needle)
{
	struct gmem *mem = ram(RAM_SIZE);
	g_autoptr(GError) err = NULL;
	struct pvh_boot boot;

	g_assert_cmpint(
		multiboot_load(mem, img, len, cmdline, mods, nr_mods, &ecam, 1, &boot, &err), ==,
		-ENOEXEC);
	if (!strstr(err->message, needle))
		g_error("'%s' lacks '%s'", err->message, needle);
	g_assert_true(ram_untouched(mem));
	gmem_destroy(mem);
}

static void check_mmap(struct gmem *mem, const struct mbi *mbi)
{
	const struct mmap_entry want[] = {
		{20, 0, 0xa0000, 1},
		{20, 0xa0000, 0x60000, 2},
		{20, 0x100000, RAM_SIZE - 0x100000, 1},
		{20, VMM_ECAM_BASE, VMM_ECAM_SIZE, 2},
	};
	struct mmap_entry map[4];

	g_assert_cmpuint(mbi->mmap_length, ==, sizeof(map));
	g_assert_cmpint(gmem_read(mem, mbi->mmap_addr, map, sizeof(map)), ==, 0);
	for (unsigned i = 0; i < 4; i++) {
		g_assert_cmpuint(map[i].size, ==, 20);
		g_assert_cmphex(map[i].addr, ==, want[i].addr);
		g_assert_cmphex(map[i].len, ==, want[i].len);
		g_assert_cmpuint(map[i].type, ==, want[i].type);
	}
}

static void test_kludge(void)
{
	static const char m0[] = "module zero", m1[] = "one";
	const struct mb_module mods[] = {
		{m0, sizeof(m0), "m0.bin a=1"}, {NULL, 0, "empty"}, {m1, sizeof(m1), "m1.bin"}};
	struct gmem *mem = ram(RAM_SIZE);
	struct mod_entry me[3];
	struct pvh_boot boot;
	uint8_t img[0x200];
	const uint8_t *p;
	struct mbi mbi;

	kludge_init(img, sizeof(img), 0x10, KLUDGE);
	g_assert_cmpint(multiboot_load(mem, img, sizeof(img), "console=ttyS0", mods, 3, &ecam, 1,
				       &boot, NULL),
			==, 0);
	g_assert_cmphex(boot.entry, ==, LOAD + 0x40);
	g_assert_cmphex(boot.magic, ==, 0x2BADB002);
	g_assert_cmphex(boot.start_info, ==, MB_INFO_GPA);
	p = gmem_translate(mem, LOAD, 0x2000);
	g_assert_cmpmem(p, sizeof(img), img, sizeof(img));
	for (unsigned i = sizeof(img); i < 0x2000; i++)
		g_assert_cmphex(p[i], ==, 0); /* bss */
	g_assert_cmpint(gmem_read(mem, MB_INFO_GPA, &mbi, sizeof(mbi)), ==, 0);
	g_assert_cmphex(mbi.flags, ==, (1 << 0) | (1 << 2) | (1 << 3) | (1 << 6) | (1 << 9));
	g_assert_cmpuint(mbi.mem_lower, ==, 640);
	g_assert_cmpuint(mbi.mem_upper, ==, (RAM_SIZE >> 10) - 1024);
	g_assert_cmpstr(gmem_translate(mem, mbi.cmdline, 14), ==, "console=ttyS0");
	g_assert_true(g_str_has_prefix(gmem_translate(mem, mbi.boot_loader_name, 6), "mpvmm"));
	check_mmap(mem, &mbi);
	g_assert_cmpuint(mbi.mods_count, ==, 3);
	g_assert_cmpint(gmem_read(mem, mbi.mods_addr, me, sizeof(me)), ==, 0);
	g_assert_cmphex(me[0].start, ==, LOAD + 0x2000); /* page after the bss */
	g_assert_cmphex(me[0].end, ==, me[0].start + sizeof(m0));
	g_assert_cmpstr(gmem_translate(mem, me[0].start, sizeof(m0)), ==, m0);
	g_assert_cmpstr(gmem_translate(mem, me[0].string, 11), ==, "m0.bin a=1");
	g_assert_cmphex(me[1].start, ==, me[0].end);
	g_assert_cmphex(me[1].end, ==, me[1].start);
	g_assert_cmpstr(gmem_translate(mem, me[1].string, 6), ==, "empty");
	g_assert_cmphex(me[2].start, ==, LOAD + 0x3000);
	g_assert_cmpstr(gmem_translate(mem, me[2].start, sizeof(m1)), ==, m1);
	g_assert_cmpstr(gmem_translate(mem, me[2].string, 7), ==, "m1.bin");
	gmem_destroy(mem);
}

/* An ELF32 kernel: two segments (code at 1M, data at 1M+64K linked higher), header in code. */
struct elf_img {
	uint8_t b[0x400];
	Elf32_Ehdr *eh;
	Elf32_Phdr *ph;
};

static void elf_init(struct elf_img *im)
{
	const uint32_t hdr[3] = {0x1BADB002, 3, -(0x1BADB002u + 3)};

	memset(im->b, 0xcc, sizeof(im->b));
	im->eh = (Elf32_Ehdr *)im->b;
	im->ph = (Elf32_Phdr *)(im->b + sizeof(Elf32_Ehdr));
	memset(im->eh, 0, sizeof(*im->eh) + 2 * sizeof(Elf32_Phdr));
	memcpy(im->eh->e_ident, ELFMAG, SELFMAG);
	im->eh->e_ident[EI_CLASS] = ELFCLASS32;
	im->eh->e_ident[EI_DATA] = ELFDATA2LSB;
	im->eh->e_type = ET_EXEC;
	im->eh->e_machine = EM_386;
	im->eh->e_entry = 0xc0100010; /* virtual: translated through segment 0 */
	im->eh->e_phoff = sizeof(Elf32_Ehdr);
	im->eh->e_phentsize = sizeof(Elf32_Phdr);
	im->eh->e_phnum = 2;
	im->ph[0] = (Elf32_Phdr){.p_type = PT_LOAD,
				 .p_offset = 0x100,
				 .p_vaddr = 0xc0100000,
				 .p_paddr = LOAD,
				 .p_filesz = 0x100,
				 .p_memsz = 0x1000};
	im->ph[1] = (Elf32_Phdr){.p_type = PT_LOAD,
				 .p_offset = 0x200,
				 .p_vaddr = LOAD + 0x10000,
				 .p_paddr = LOAD + 0x10000,
				 .p_filesz = 0x200,
				 .p_memsz = 0x200};
	memcpy(im->b + 0x100, hdr, sizeof(hdr));
}

static void test_elf(void)
{
	struct gmem *mem = ram(RAM_SIZE);
	struct pvh_boot boot;
	struct elf_img im;
	struct mbi mbi;

	elf_init(&im);
	g_assert_cmpint(
		multiboot_load(mem, im.b, sizeof(im.b), NULL, NULL, 0, &ecam, 1, &boot, NULL), ==,
		0);
	g_assert_cmphex(boot.entry, ==, LOAD + 0x10);
	g_assert_cmpmem(gmem_translate(mem, LOAD, 0x100), 0x100, im.b + 0x100, 0x100);
	g_assert_cmphex(*(uint8_t *)gmem_translate(mem, LOAD + 0x100, 1), ==, 0);
	g_assert_cmpmem(gmem_translate(mem, LOAD + 0x10000, 0x200), 0x200, im.b + 0x200, 0x200);
	g_assert_cmpint(gmem_read(mem, MB_INFO_GPA, &mbi, sizeof(mbi)), ==, 0);
	g_assert_cmphex(mbi.flags & (1 << 2), ==, 0); /* no -append, no cmdline */
	g_assert_cmpuint(mbi.mods_count, ==, 0);
	gmem_destroy(mem);
}

static void test_find(void)
{
	uint8_t img[0x2100] = {0};
	size_t off;

	g_assert_cmpint(multiboot_find(img, sizeof(img), &off), ==, 0);
	kludge_init(img, 0x40, 0x20, KLUDGE);
	g_assert_cmpint(multiboot_find(img, sizeof(img), &off), ==, 1);
	g_assert_cmpuint(off, ==, 0x20);
	img[0x28]++; /* checksum */
	g_assert_cmpint(multiboot_find(img, sizeof(img), &off), ==, -EBADMSG);
	memset(img, 0, sizeof(img));
	kludge_init(img + 0x1ff8, 0x40, 0, KLUDGE); /* header does not end within 8K */
	g_assert_cmpint(multiboot_find(img, sizeof(img), &off), ==, 0);
	memset(img, 0, sizeof(img));
	kludge_init(img + 0x12, 0x40, 0, KLUDGE); /* not 4-byte aligned */
	g_assert_cmpint(multiboot_find(img, sizeof(img), &off), ==, 0);
}

static void test_kludge_bad(void)
{
	uint8_t img[0x200];
	uint32_t *h = (uint32_t *)(img + 0x10);

	kludge_init(img, sizeof(img), 0x10, KLUDGE);
	h[2]++;
	assert_rejected(img, sizeof(img), NULL, 0, NULL, "bad checksum");
	assert_rejected(img, 0x10 + 12, NULL, 0, NULL, "bad checksum");
	kludge_init(img, sizeof(img), 0x10, KLUDGE);
	assert_rejected(img, 0x10 + 20, NULL, 0, NULL, "truncated Multiboot header");
	h[5] = LOAD + 0x400; /* load_end beyond the file */
	assert_rejected(img, sizeof(img), NULL, 0, NULL, "truncated: the Multiboot load range");
	h[5] = LOAD - 1;
	assert_rejected(img, sizeof(img), NULL, 0, NULL, "not above load_addr");
	kludge_init(img, sizeof(img), 0x10, KLUDGE);
	h[4] = LOAD - 0x20; /* would start before the file */
	assert_rejected(img, sizeof(img), NULL, 0, NULL, "before the beginning of the file");
	kludge_init(img, sizeof(img), 0x10, KLUDGE);
	h[6] = LOAD + 0x100; /* bss_end below load_end */
	assert_rejected(img, sizeof(img), NULL, 0, NULL, "bss_end_addr");
	kludge_init(img, sizeof(img), 0x10, KLUDGE);
	h[7] = LOAD + 0x3000;
	assert_rejected(img, sizeof(img), NULL, 0, NULL, "entry point 0x103000");
	kludge_init(img, sizeof(img), 0x10, KLUDGE | 4);
	assert_rejected(img, sizeof(img), NULL, 0, NULL, "video mode");
	kludge_init(img, sizeof(img), 0x10, KLUDGE | 8);
	assert_rejected(img, sizeof(img), NULL, 0, NULL, "features");
}

/* Load ranges against RAM, the BIOS area and the info area. */
static void test_kludge_placement(void)
{
	const struct {
		uint32_t load;
		const char *needle;
	} cases[] = {
		{(uint32_t)RAM_SIZE - 0x1000, "outside guest RAM"},
		{0xffff0000, "outside guest RAM"},
		{MB_INFO_GPA - 0x1000, "information area"},
		{0xe0000, "BIOS area"},
	};
	uint8_t img[0x200];
	uint32_t *h = (uint32_t *)(img + 0x10);

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		kludge_init(img, sizeof(img), 0x10, KLUDGE);
		h[3] = cases[i].load + 0x10;
		h[4] = cases[i].load;
		h[5] = cases[i].load + sizeof(img);
		h[6] = cases[i].load + 0x2000;
		h[7] = cases[i].load;
		assert_rejected(img, sizeof(img), NULL, 0, NULL, cases[i].needle);
	}
}

static void test_modules_bad(void)
{
	static uint8_t big[3 << 20];
	const struct mb_module mods[] = {{big, sizeof(big), "big"}};
	g_autofree char *longstr = g_strnfill(4000, 'x');
	struct mb_module many[MB_MAX_MODULES];
	uint8_t img[0x200];

	kludge_init(img, sizeof(img), 0x10, KLUDGE);
	assert_rejected(img, sizeof(img), mods, 1, NULL, "module 0 at 0x");
	for (unsigned i = 0; i < MB_MAX_MODULES; i++)
		many[i] = (struct mb_module){"x", 1, longstr};
	assert_rejected(img, sizeof(img), many, MB_MAX_MODULES, longstr, "do not fit");
}

static void test_elf_bad(void)
{
	struct elf_img im;

	elf_init(&im);
	assert_rejected(im.b, 0x20, NULL, 0, NULL, "no Multiboot header"); /* cut before it */
	assert_rejected(im.b, 0x110, NULL, 0, NULL, "segment 0's data");
	im.ph[1].p_paddr = LOAD + 0x800; /* inside segment 0's bss */
	assert_rejected(im.b, sizeof(im.b), NULL, 0, NULL, "overlaps segment 0");
	elf_init(&im);
	im.ph[1].p_filesz = 0x300;
	assert_rejected(im.b, sizeof(im.b), NULL, 0, NULL, "exceeds memory size");
	elf_init(&im);
	im.ph[1].p_offset = 0x3f0;
	assert_rejected(im.b, sizeof(im.b), NULL, 0, NULL, "segment 1's data");
	elf_init(&im);
	im.eh->e_phoff = 0x3f0;
	assert_rejected(im.b, sizeof(im.b), NULL, 0, NULL, "program header table");
	elf_init(&im);
	im.eh->e_phentsize = 56;
	assert_rejected(im.b, sizeof(im.b), NULL, 0, NULL, "corrupt program header table");
	elf_init(&im);
	im.ph[0].p_type = im.ph[1].p_type = PT_NOTE;
	assert_rejected(im.b, sizeof(im.b), NULL, 0, NULL, "no loadable segment");
	elf_init(&im);
	im.ph[1].p_memsz = 8u << 20;
	assert_rejected(im.b, sizeof(im.b), NULL, 0, NULL, "outside guest RAM");
	elf_init(&im);
	im.eh->e_machine = EM_X86_64;
	assert_rejected(im.b, sizeof(im.b), NULL, 0, NULL, "i386");
	elf_init(&im);
	im.b[EI_CLASS] = ELFCLASS64;
	assert_rejected(im.b, sizeof(im.b), NULL, 0, NULL, "ELF32");
	elf_init(&im);
	im.b[0] = 0;
	assert_rejected(im.b, sizeof(im.b), NULL, 0, NULL, "not an ELF");
	elf_init(&im);
	im.eh->e_entry = 0x500000;
	assert_rejected(im.b, sizeof(im.b), NULL, 0, NULL, "entry point");
	elf_init(&im);
	memcpy(im.b + 8, im.b + 0x100, 12); /* a header inside e_ident, the file cut after it */
	assert_rejected(im.b, 20, NULL, 0, NULL, "truncated ELF header");
	memcpy(im.b + 8, "\x02\xb0\xad\x1b\x03\0\0\0\0\0\0\0", 12);
	fix_checksum(im.b + 8);
	assert_rejected(im.b, 20, NULL, 0, NULL, "truncated ELF header");
}

/* boot_load: the file is read, and neither format gives the combined message. */
static void assert_boot_rejected(const void *img, size_t len, uint64_t ram_size, char **initrd,
				 const char *needle)
{
	g_autofree char *path = g_strdup("/tmp/test-vmm-multiboot-XXXXXX");
	int fd = g_mkstemp(path);
	struct gmem *mem = ram(ram_size);
	g_autoptr(GError) err = NULL;
	struct pvh_boot boot;

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(write(fd, img, len), ==, (ssize_t)len);
	close(fd);
	g_assert_cmpint(boot_load(mem, path, NULL, initrd, initrd ? 1 : 0, &ecam, 1, &boot, &err),
			<, 0);
	if (!strstr(err->message, needle))
		g_error("'%s' lacks '%s'", err->message, needle);
	g_assert_true(ram_untouched(mem));
	gmem_destroy(mem);
	unlink(path);
}

/* A minimal PVH ELF64: one PT_LOAD at 1M, the Xen entry note. */
static size_t pvh_image(uint8_t *b)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)b;
	Elf64_Phdr *ph = (Elf64_Phdr *)(b + sizeof(*eh));
	const uint32_t note[5] = {4, 4, 18, 0x006e6558 /* "Xen" */, LOAD};

	memset(b, 0, 0x300);
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_phoff = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 2;
	ph[0] = (Elf64_Phdr){.p_type = PT_LOAD,
			     .p_offset = 0x200,
			     .p_paddr = LOAD,
			     .p_filesz = 0x100,
			     .p_memsz = 0x100};
	ph[1] = (Elf64_Phdr){.p_type = PT_NOTE, .p_offset = 0x180, .p_filesz = 20, .p_align = 4};
	memcpy(b + 0x180, note, sizeof(note));
	return 0x300;
}

/* Two modules of 2.5 MiB each: each fits in 4 MiB of RAM, together they do not. */
static void test_boot_modules_too_big(void)
{
	static uint8_t img[0x200], mod[(5 << 20) / 2];
	g_autofree char *path = g_strdup("/tmp/test-vmm-multiboot-mod-XXXXXX");
	int fd = g_mkstemp(path);
	char *initrd[2] = {path, path};
	struct gmem *mem = ram(RAM_SIZE);
	g_autoptr(GError) err = NULL;
	g_autofree char *kpath = g_strdup("/tmp/test-vmm-multiboot-XXXXXX");
	int kfd = g_mkstemp(kpath);
	struct pvh_boot boot;

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(kfd, >=, 0);
	g_assert_cmpint(write(fd, mod, sizeof(mod)), ==, (ssize_t)sizeof(mod));
	kludge_init(img, sizeof(img), 0x10, KLUDGE);
	g_assert_cmpint(write(kfd, img, sizeof(img)), ==, (ssize_t)sizeof(img));
	close(fd);
	close(kfd);
	g_assert_cmpint(boot_load(mem, kpath, NULL, initrd, 2, &ecam, 1, &boot, &err), ==, -EFBIG);
	g_assert_nonnull(strstr(err->message, "at most the guest RAM the earlier modules left"));
	g_assert_true(ram_untouched(mem));
	gmem_destroy(mem);
	unlink(path);
	unlink(kpath);
}

static void test_boot_format(void)
{
	static uint8_t img[(2 << 20) + 4096];
	char *initrd[] = {"/nonexistent/module arg=1"};
	struct gmem *mem = ram(RAM_SIZE);
	g_autoptr(GError) err = NULL;
	struct pvh_boot boot;

	assert_boot_rejected(img, 0x3000, RAM_SIZE, NULL,
			     "not a PVH ELF (no XEN_ELFNOTE_PHYS32_ENTRY note) nor a Multiboot v1 "
			     "kernel (no header in the first 8 KiB)");
	kludge_init(img, 0x200, 0x10, KLUDGE);
	assert_boot_rejected(img, 0x200, RAM_SIZE, initrd, "-initrd /nonexistent/module: No such");
	assert_boot_rejected(img, sizeof(img), 2 << 20, NULL, "at most the guest RAM size");
	img[0x18]++;
	assert_boot_rejected(img, 0x200, RAM_SIZE, NULL, "bad checksum");
	g_assert_cmpint(boot_load(mem, "/nonexistent/kernel", NULL, NULL, 0, &ecam, 1, &boot, &err),
			==, -ENOENT);
	assert_boot_rejected(img, pvh_image(img), RAM_SIZE, initrd,
			     "is a PVH kernel; mpvmm passes modules to Multiboot kernels only");
	g_assert_true(ram_untouched(mem));
	gmem_destroy(mem);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vmm/multiboot/kludge", test_kludge);
	g_test_add_func("/vmm/multiboot/elf", test_elf);
	g_test_add_func("/vmm/multiboot/find", test_find);
	g_test_add_func("/vmm/multiboot/kludge-bad", test_kludge_bad);
	g_test_add_func("/vmm/multiboot/kludge-placement", test_kludge_placement);
	g_test_add_func("/vmm/multiboot/modules-bad", test_modules_bad);
	g_test_add_func("/vmm/multiboot/elf-bad", test_elf_bad);
	g_test_add_func("/vmm/boot/format", test_boot_format);
	g_test_add_func("/vmm/boot/modules-too-big", test_boot_modules_too_big);
	return g_test_run();
}
