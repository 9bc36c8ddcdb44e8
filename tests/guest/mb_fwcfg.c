// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mb_fwcfg.c: multiboot.elf's check of fw_cfg, QEMU's firmware configuration device,
 * through its traditional I/O interface (QEMU docs/specs/fw_cfg.txt): write a key to
 * the 16-bit selector at 0x510, read the item byte by byte from 0x511.  It reads the
 * signature, ID, NB_CPUS, RAM_SIZE and the file directory, and checks them against
 * the command line's expectations.  No DMA interface, no writes to items.
 */
#include "mb.h"

#define FW_CFG_PORT_SEL 0x510
#define FW_CFG_PORT_DATA 0x511

/* Selector keys (fw_cfg.txt, "Selector Register"; QEMU include/standard-headers). */
#define FW_CFG_SIGNATURE 0x0000
#define FW_CFG_ID 0x0001
#define FW_CFG_RAM_SIZE 0x0003
#define FW_CFG_NB_CPUS 0x0005
#define FW_CFG_MAX_CPUS 0x000f
#define FW_CFG_FILE_DIR 0x0019
#define FW_CFG_FILE_FIRST 0x0020
#define FW_CFG_ENTRY_MAX 0x3fff /* selector bits 0-13 are the key */
#define FW_CFG_ID_TRADITIONAL (1u << 0)
#define FW_CFG_ID_DMA (1u << 1)

#define FW_CFG_FILE_NAME 56
#define FW_CFG_DIR_MAX 256 /* a sanity bound: QEMU has a few dozen files */

/* Directory entry (fw_cfg.txt, "FW_CFG_FILE_DIR"): big-endian size and select. */
struct fw_cfg_file {
	uint32_t size;
	uint16_t select;
	uint16_t reserved;
	char name[FW_CFG_FILE_NAME];
};

static void fw_cfg_select(uint16_t key)
{
	outw(key, FW_CFG_PORT_SEL);
}

static void fw_cfg_read(void *buf, size_t len)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++)
		p[i] = inb(FW_CFG_PORT_DATA);
}

/* Little-endian integer item of @len bytes (up to 8). */
static uint64_t fw_cfg_read_le(uint16_t key, size_t len)
{
	uint8_t b[8];
	uint64_t v = 0;

	fw_cfg_select(key);
	fw_cfg_read(b, len);
	while (len--)
		v = v << 8 | b[len];
	return v;
}

static uint32_t be32(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static bool fw_cfg_name_ok(const char *name)
{
	size_t n = strnlen(name, FW_CFG_FILE_NAME);

	if (!n || n == FW_CFG_FILE_NAME)
		return false;
	for (size_t i = 0; i < n; i++)
		if (name[i] <= ' ' || name[i] > '~')
			return false;
	return true;
}

/* Each entry: a printable NUL-terminated name, a file key, unique keys. */
static void fw_cfg_dir_check(void)
{
	static uint16_t keys[FW_CFG_DIR_MAX];
	uint32_t count, bad = 0, dup = 0;
	uint8_t raw[4];

	fw_cfg_select(FW_CFG_FILE_DIR);
	fw_cfg_read(raw, sizeof(raw));
	count = be32(raw);
	if (!report(count > 0 && count <= FW_CFG_DIR_MAX,
		    "fw_cfg file directory: %u files (big-endian count, 1..%u)", count,
		    FW_CFG_DIR_MAX))
		return;
	for (uint32_t i = 0; i < count; i++) {
		struct fw_cfg_file f;

		fw_cfg_read(&f, sizeof(f));
		f.select = (uint16_t)(f.select << 8 | f.select >> 8);
		keys[i] = f.select;
		if (!fw_cfg_name_ok(f.name) || f.select < FW_CFG_FILE_FIRST ||
		    f.select > FW_CFG_ENTRY_MAX) {
			bad++;
			continue;
		}
		report_note("fw_cfg file 0x%04x %6u bytes %s", f.select, be32(&f.size), f.name);
		for (uint32_t j = 0; j < i; j++)
			dup += keys[j] == f.select;
	}
	report(!bad && !dup,
	       "fw_cfg file directory: every name printable and terminated, every key a file "
	       "key (>= 0x%x), no key twice (%u bad, %u duplicate)",
	       FW_CFG_FILE_FIRST, bad, dup);
}

void mb_fwcfg_check(const struct mb_expect *x)
{
	char sig[5] = {0};
	uint32_t id;
	uint64_t cpus, max_cpus, ram;

	fw_cfg_select(FW_CFG_SIGNATURE);
	fw_cfg_read(sig, 4);
	if (!report(!memcmp(sig, "QEMU", 4), "fw_cfg at 0x510: signature '%s' is 'QEMU'", sig))
		return;
	id = (uint32_t)fw_cfg_read_le(FW_CFG_ID, 4);
	report(id & FW_CFG_ID_TRADITIONAL, "fw_cfg ID 0x%x: traditional interface (bit 0)%s", id,
	       id & FW_CFG_ID_DMA ? ", DMA too" : "");
	cpus = fw_cfg_read_le(FW_CFG_NB_CPUS, 2);
	report(cpus == x->cpus, "fw_cfg NB_CPUS %lu, cpus=%u expected", cpus, x->cpus);
	max_cpus = fw_cfg_read_le(FW_CFG_MAX_CPUS, 2);
	report_note("fw_cfg MAX_CPUS %lu", max_cpus);
	ram = fw_cfg_read_le(FW_CFG_RAM_SIZE, 8);
	if (!ram)
		report_skip("fw_cfg RAM_SIZE (0x0003) absent");
	else if (x->mem_mib)
		report(ram == x->mem_mib << 20, "fw_cfg RAM_SIZE 0x%lx, mem=%lu MiB expected", ram,
		       x->mem_mib);
	else
		report_note("fw_cfg RAM_SIZE 0x%lx", ram);
	fw_cfg_dir_check();
}
