// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of mpvmm's fw_cfg device (vmm/fwcfg.c) through its port handlers, the
 * way a guest reads it: a 16-bit selector write to 0x510, byte reads from 0x511.
 * Checks every key against -m/-smp style inputs (MAX_RAM from the real guest RAM
 * layout, below and above the PCI hole), the file directory and a file read
 * through it, reads past the end, and the accesses it must ignore (data writes,
 * selector bytes, the write bit, unknown keys, bad file names).
 */
#include <errno.h>
#include <string.h>

#include "vmm/vmm.h"

struct fx {
	struct ioport_table io;
	struct gmem *mem;
	struct fwcfg *f;
};

/* Guest RAM of ram_size laid out as machine_build() makes it, and fw_cfg over it. */
static void fx_init_ram(struct fx *x, uint64_t ram_size, unsigned smp)
{
	memset(x, 0, sizeof(*x));
	g_assert_cmpint(gmem_create(ram_size, VMM_RAM_BELOW_4G, &x->mem), ==, 0);
	g_assert_cmpint(fwcfg_create(&x->io, x->mem, smp, &x->f), ==, 0);
}

static void fx_init(struct fx *x)
{
	fx_init_ram(x, 256ULL << 20, 3);
}

static void fx_fini(struct fx *x)
{
	fwcfg_destroy(x->f);
	gmem_destroy(x->mem);
}

static void sel(struct fx *x, uint16_t key)
{
	g_assert_true(ioport_write(&x->io, FWCFG_PORT, 2, key));
}

static void rd(struct fx *x, void *buf, size_t len)
{
	uint8_t *b = buf;

	for (size_t i = 0; i < len; i++) {
		uint32_t v;

		g_assert_true(ioport_read(&x->io, FWCFG_PORT + 1, 1, &v));
		g_assert_cmphex(v, <=, 0xff);
		b[i] = (uint8_t)v;
	}
}

static uint64_t rd_le(struct fx *x, uint16_t key, size_t len)
{
	uint8_t b[8] = {0};
	uint64_t v = 0;

	sel(x, key);
	rd(x, b, len);
	for (size_t i = 0; i < len; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static void test_keys(void)
{
	struct fx x;
	char sig[5] = {0};

	fx_init(&x);
	sel(&x, FWCFG_SIGNATURE);
	rd(&x, sig, 4);
	g_assert_cmpstr(sig, ==, "QEMU");
	g_assert_cmphex(rd_le(&x, FWCFG_ID, 4), ==, 1);
	g_assert_cmphex(rd_le(&x, FWCFG_RAM_SIZE, 8), ==, 256ULL << 20);
	g_assert_cmpuint(rd_le(&x, FWCFG_NB_CPUS, 2), ==, 3);
	g_assert_cmpuint(rd_le(&x, FWCFG_MAX_CPUS, 2), ==, 3);
	g_assert_cmphex(rd_le(&x, FWCFG_MAX_RAM, 8), ==, 256ULL << 20);
	/* Past the end: zeroes; a new selection restarts at offset 0. */
	g_assert_cmphex(rd_le(&x, FWCFG_ID, 8), ==, 1);
	g_assert_cmphex(rd_le(&x, 0x1234, 4), ==, 0);
	g_assert_cmphex(rd_le(&x, FWCFG_ID | 0x4000, 4), ==, 1); /* write bit: still readable */
	g_assert_cmphex(rd_le(&x, FWCFG_ID | 0x8000, 4), ==, 0); /* no arch-specific items */
	fx_fini(&x);
}

/*
 * MAX_RAM is the first address above the RAM the machine made for -m: RAM up to
 * 0xb0000000 from 0, the rest from 4 GiB (vmm/machine.c hands fw_cfg its gmem).
 */
static void test_max_ram(void)
{
	const struct {
		uint64_t m, end;
	} cases[] = {
		{2ULL << 20, 0x200000},
		{VMM_RAM_BELOW_4G - 0x1000, VMM_RAM_BELOW_4G - 0x1000},
		{VMM_RAM_BELOW_4G, VMM_RAM_BELOW_4G},
		{VMM_RAM_BELOW_4G + 0x1000, 0x100001000ULL}, /* one page above 4 GiB */
		{4ULL << 30, 0x150000000ULL},
	};
	struct fx x;

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		fx_init_ram(&x, cases[i].m, 1);
		g_assert_cmphex(rd_le(&x, FWCFG_RAM_SIZE, 8), ==, cases[i].m);
		g_assert_cmphex(rd_le(&x, FWCFG_MAX_RAM, 8), ==, cases[i].end);
		g_assert_cmpuint(rd_le(&x, FWCFG_NB_CPUS, 2), ==, 1);
		fx_fini(&x);
	}
}

/* Find `name` in FILE_DIR: its selector and size. */
static bool find_file(struct fx *x, const char *name, uint16_t *key, uint32_t *size)
{
	uint8_t cnt[4], e[64];
	uint32_t n;

	sel(x, FWCFG_FILE_DIR);
	rd(x, cnt, 4);
	n = (uint32_t)cnt[0] << 24 | cnt[1] << 16 | cnt[2] << 8 | cnt[3];
	for (uint32_t i = 0; i < n; i++) {
		rd(x, e, sizeof(e));
		g_assert_cmpuint(e[6] | e[7], ==, 0);
		if (strncmp((char *)e + 8, name, 56) == 0) {
			*size = (uint32_t)e[0] << 24 | e[1] << 16 | e[2] << 8 | e[3];
			*key = (uint16_t)(e[4] << 8 | e[5]);
			return true;
		}
	}
	return false;
}

static void test_files(void)
{
	g_autofree char *longname = g_strnfill(56, 'n');
	char buf[64] = {0};
	uint16_t key;
	uint32_t size;
	struct fx x;

	fx_init(&x);
	g_assert_true(find_file(&x, "etc/mpvmm/version", &key, &size));
	g_assert_cmpuint(key, >=, FWCFG_FILE_FIRST);
	g_assert_cmpuint(size, >, 0);
	g_assert_cmpuint(size, <, sizeof(buf));
	sel(&x, key);
	rd(&x, buf, size);
	g_assert_cmpuint(strlen(buf), ==, size);
	g_assert_true(g_ascii_isdigit(buf[0])); /* a version number */
	g_assert_cmpint(fwcfg_add_file(x.f, "opt/test/blob", "hello", 5), ==, 0);
	g_assert_true(find_file(&x, "opt/test/blob", &key, &size));
	g_assert_cmpuint(size, ==, 5);
	g_assert_true(find_file(&x, "etc/mpvmm/version", &key, &size)); /* still listed */
	g_assert_cmpint(fwcfg_add_file(x.f, "opt/test/blob", "x", 1), ==, -EEXIST);
	g_assert_cmpint(fwcfg_add_file(x.f, "", "x", 1), ==, -EINVAL);
	g_assert_cmpint(fwcfg_add_file(x.f, longname, "x", 1), ==, -EINVAL);
	for (int i = 0;; i++) {
		g_autofree char *name = g_strdup_printf("opt/test/%d", i);
		int ret = fwcfg_add_file(x.f, name, "x", 1);

		if (ret == -ENOSPC)
			break;
		g_assert_cmpint(ret, ==, 0);
		g_assert_cmpint(i, <, FWCFG_MAX_ITEMS);
	}
	fx_fini(&x);
}

/* Accesses the device ignores: they change neither the selection nor the data. */
static void test_ignored(void)
{
	char sig[5] = {0};
	struct fx x;
	uint32_t v;

	fx_init(&x);
	sel(&x, FWCFG_SIGNATURE);
	g_assert_true(ioport_write(&x.io, FWCFG_PORT + 1, 1, 'X'));  /* data write */
	g_assert_true(ioport_write(&x.io, FWCFG_PORT, 1, FWCFG_ID)); /* byte selector */
	g_assert_true(ioport_read(&x.io, FWCFG_PORT, 2, &v));	     /* selector read */
	g_assert_cmphex(v, ==, 0xffff);
	g_assert_true(ioport_read(&x.io, FWCFG_PORT + 1, 1, &v));
	g_assert_cmphex(v, ==, 'Q');
	rd(&x, sig, 3);
	g_assert_cmpstr(sig, ==, "EMU");
	g_assert_false(ioport_read(&x.io, FWCFG_PORT + 1, 2, &v)); /* beyond the range */
	fx_fini(&x);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vmm/fwcfg/keys", test_keys);
	g_test_add_func("/vmm/fwcfg/max-ram", test_max_ram);
	g_test_add_func("/vmm/fwcfg/files", test_files);
	g_test_add_func("/vmm/fwcfg/ignored", test_ignored);
	return g_test_run();
}
