// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for proxy/pcifn.c: BAR sizing and programming (32/64-bit memory,
 * prefetchable, I/O), decode, forwarding of the other registers, and the dead-backend
 * behaviour.  The backend is a plain 256-byte config array kept by the test.
 */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "proxy/proxy.h"

struct tbe {
	uint8_t cfg[256];
	int fail;        /* return this from every op when nonzero */
	unsigned reads;  /* forwarded config reads */
	uint64_t last_bar_off;
	unsigned last_bar;
	bool destroyed;
};

static int tbe_cfg_read(void *be, uint32_t off, unsigned size, uint32_t *val)
{
	struct tbe *t = be;

	if (t->fail)
		return t->fail;
	g_assert_cmpuint(off + size, <=, 256);
	*val = 0;
	memcpy(val, t->cfg + off, size);
	t->reads++;
	return 0;
}

static int tbe_cfg_write(void *be, uint32_t off, unsigned size, uint32_t val)
{
	struct tbe *t = be;

	if (t->fail)
		return t->fail;
	memcpy(t->cfg + off, &val, size);
	return 0;
}

static int tbe_bar_read(void *be, unsigned bar, uint64_t off, unsigned size, uint64_t *val)
{
	struct tbe *t = be;

	if (t->fail)
		return t->fail;
	t->last_bar = bar;
	t->last_bar_off = off;
	*val = 0x1122334455667788ULL & (size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1);
	return 0;
}

static int tbe_bar_write(void *be, unsigned bar, uint64_t off, unsigned size, uint64_t val)
{
	struct tbe *t = be;

	t->last_bar = bar;
	t->last_bar_off = off;
	return t->fail;
}

static void tbe_destroy(void *be)
{
	((struct tbe *)be)->destroyed = true;
}

static const struct pcifn_backend_ops tbe_ops = {
	.cfg_read = tbe_cfg_read, .cfg_write = tbe_cfg_write, .bar_read = tbe_bar_read,
	.bar_write = tbe_bar_write, .destroy = tbe_destroy,
};

/* BAR0 4 KiB mem32, BAR1 256 B I/O, BAR2+3 1 MiB mem64 prefetchable, BAR4 64 KiB mem32 pf. */
static const struct pcifn_bar layout[PCIFN_NUM_BARS] = {
	{ 4096, 0 }, { 256, PCIFN_BAR_IO }, { 1 << 20, PCIFN_BAR_MEM64 | PCIFN_BAR_PREFETCH },
	{ 0, 0 }, { 65536, PCIFN_BAR_PREFETCH }, { 0, 0 },
};

static struct pcifn *make(struct tbe *t)
{
	struct pcifn *fn;

	memset(t, 0, sizeof(*t));
	t->cfg[0] = 0x36; t->cfg[1] = 0x1b; t->cfg[2] = 0x05; t->cfg[3] = 0x00;
	t->cfg[0xff] = 0x5a;
	g_assert_cmpint(pcifn_create("t0", &tbe_ops, t, layout, &fn), ==, 0);
	return fn;
}

static uint32_t rd(struct pcifn *fn, uint32_t off, unsigned size)
{
	uint32_t v;

	g_assert_cmpint(pcifn_cfg_read(fn, off, size, &v), ==, 0);
	return v;
}

static void wr(struct pcifn *fn, uint32_t off, unsigned size, uint32_t v)
{
	g_assert_cmpint(pcifn_cfg_write(fn, off, size, v), ==, 0);
}

static void test_sizing(void)
{
	struct tbe t;
	struct pcifn *fn = make(&t);

	/* Power-on: address bits 0, type bits visible. */
	g_assert_cmphex(rd(fn, 0x10, 4), ==, 0);
	g_assert_cmphex(rd(fn, 0x14, 4), ==, 1);
	g_assert_cmphex(rd(fn, 0x18, 4), ==, 0xc);
	g_assert_cmphex(rd(fn, 0x1c, 4), ==, 0);
	g_assert_cmphex(rd(fn, 0x20, 4), ==, 0x8);
	for (uint32_t off = 0x10; off < 0x28; off += 4)
		wr(fn, off, 4, 0xffffffff);
	g_assert_cmphex(rd(fn, 0x10, 4), ==, 0xfffff000);
	g_assert_cmphex(rd(fn, 0x14, 4), ==, 0xffffff01);
	g_assert_cmphex(rd(fn, 0x18, 4), ==, 0xfff0000c);
	g_assert_cmphex(rd(fn, 0x1c, 4), ==, 0xffffffff); /* upper half: all address bits */
	g_assert_cmphex(rd(fn, 0x20, 4), ==, 0xffff0008);
	g_assert_cmphex(rd(fn, 0x24, 4), ==, 0);           /* absent BAR reads 0 */
	g_assert_cmphex(rd(fn, 0x30, 4), ==, 0);           /* no ROM */
	g_assert_cmpuint(t.reads, ==, 0);                  /* none of this was forwarded */
	pcifn_destroy(fn);
	g_assert_true(t.destroyed);
}

static void test_program_decode(void)
{
	struct tbe t;
	struct pcifn *fn = make(&t);
	unsigned bar;
	uint64_t off, val;

	wr(fn, 0x10, 4, 0xe0001000);
	wr(fn, 0x14, 4, 0xc100);
	wr(fn, 0x18, 4, 0x00100000);
	wr(fn, 0x1c, 4, 0x1);            /* 64-bit BAR at 0x1_0010_0000 */
	wr(fn, 0x22, 2, 0xe001);         /* 16-bit write to the upper word of BAR4 */
	g_assert_cmphex(rd(fn, 0x20, 4), ==, 0xe0010008);
	g_assert_cmphex(rd(fn, 0x1c, 4), ==, 1);
	g_assert_cmphex(rd(fn, 0x19, 1), ==, 0x00); /* byte lanes of a virtual register */
	g_assert_cmphex(rd(fn, 0x12, 2), ==, 0xe000);
	g_assert_cmphex(rd(fn, 0x1a, 2), ==, 0x0010);
	/* Decoding is off until the command register enables it. */
	g_assert_false(pcifn_decode(fn, false, 0xe0001000, 4, &bar, &off));
	wr(fn, 0x04, 2, 0x3);
	g_assert_cmphex(t.cfg[4], ==, 3); /* command register is forwarded too */
	g_assert_true(pcifn_decode(fn, false, 0xe0001ffc, 4, &bar, &off));
	g_assert_cmpuint(bar, ==, 0);
	g_assert_cmphex(off, ==, 0xffc);
	g_assert_false(pcifn_decode(fn, false, 0xe0001ffe, 4, &bar, &off)); /* straddles */
	g_assert_false(pcifn_decode(fn, true, 0xe0001000, 4, &bar, &off));  /* wrong space */
	g_assert_true(pcifn_decode(fn, true, 0xc1ff, 1, &bar, &off));
	g_assert_cmpuint(bar, ==, 1);
	g_assert_true(pcifn_decode(fn, false, 0x1001fff08ULL, 8, &bar, &off));
	g_assert_cmpuint(bar, ==, 2);
	g_assert_cmphex(off, ==, 0xfff08);
	g_assert_false(pcifn_decode(fn, false, ~0ULL - 1, 4, &bar, &off)); /* wraps */
	g_assert_cmpint(pcifn_bar_read(fn, 2, off, 8, &val), ==, 0);
	g_assert_cmphex(val, ==, 0x1122334455667788ULL);
	g_assert_cmpint(pcifn_bar_read(fn, 0, 4095, 2, &val), ==, -EINVAL);
	g_assert_cmphex(val, ==, 0xffff);
	g_assert_cmpint(pcifn_bar_read(fn, 3, 0, 4, &val), ==, -EINVAL); /* upper half */
	g_assert_cmpint(pcifn_bar_read(fn, 6, 0, 4, &val), ==, -EINVAL);
	g_assert_cmpint(pcifn_bar_write(fn, 0, ~0ULL - 2, 4, 0), ==, -EINVAL);
	wr(fn, 0x04, 2, 0x1); /* memory decode off again */
	g_assert_false(pcifn_decode(fn, false, 0xe0001000, 4, &bar, &off));
	pcifn_reset(fn);
	g_assert_cmphex(rd(fn, 0x10, 4), ==, 0);
	pcifn_destroy(fn);
}

static void test_forward(void)
{
	struct tbe t;
	struct pcifn *fn = make(&t);
	uint32_t v;

	g_assert_cmphex(rd(fn, 0, 4), ==, 0x00051b36);
	g_assert_cmphex(rd(fn, 0xff, 1), ==, 0x5a); /* the 1-byte read QEMU 7.2 dies on */
	g_assert_cmphex(rd(fn, 0x2, 2), ==, 0x0005);
	wr(fn, 0x3c, 1, 0x0b);
	g_assert_cmphex(t.cfg[0x3c], ==, 0x0b);
	g_assert_cmpint(pcifn_cfg_read(fn, 0x11, 2, &v), ==, -EINVAL); /* misaligned */
	g_assert_cmphex(v, ==, 0xffffffff);
	g_assert_cmpint(pcifn_cfg_read(fn, 0x10, 3, &v), ==, -EINVAL);
	g_assert_cmpint(pcifn_cfg_read(fn, 4096, 1, &v), ==, -EINVAL);
	g_assert_cmpint(pcifn_cfg_write(fn, 0x3e, 4, 0), ==, -EINVAL);
	pcifn_destroy(fn);
}

static void test_dead(void)
{
	struct tbe t;
	struct pcifn *fn = make(&t);
	uint64_t val;
	uint32_t v;

	t.fail = -ECONNRESET;
	g_test_expect_message("proxy", G_LOG_LEVEL_WARNING, "*t0*all-ones*");
	g_assert_cmpint(pcifn_cfg_read(fn, 0, 4, &v), ==, -ECONNRESET);
	g_test_assert_expected_messages();
	g_assert_cmphex(v, ==, 0xffffffff);
	g_assert_true(pcifn_dead(fn));
	/* No second warning, and everything reads all-ones. */
	g_assert_cmpint(pcifn_cfg_read(fn, 0, 2, &v), ==, -ENODEV);
	g_assert_cmphex(v, ==, 0xffff);
	g_assert_cmpint(pcifn_cfg_read(fn, 0x10, 4, &v), ==, -ENODEV);
	g_assert_cmphex(v, ==, 0xffffffff);
	g_assert_cmpint(pcifn_bar_read(fn, 0, 0, 4, &val), ==, -ENODEV);
	g_assert_cmphex(val, ==, 0xffffffff);
	g_assert_cmpint(pcifn_bar_write(fn, 0, 0, 4, 1), ==, -ENODEV);
	pcifn_destroy(fn);
}

static void test_bad_layout(void)
{
	static const struct pcifn_bar bad[][PCIFN_NUM_BARS] = {
		{ { 3000, 0 } },                           /* not a power of two */
		{ { 8, 0 } },                              /* memory BAR below 16 bytes */
		{ { 4096, PCIFN_BAR_IO } },                /* I/O BAR too large? no: allowed */
		{ [5] = { 4096, PCIFN_BAR_MEM64 } },       /* 64-bit BAR in the last slot */
		{ { 4096, PCIFN_BAR_MEM64 }, { 16, 0 } },  /* upper half in use */
		{ { 4096, PCIFN_BAR_IO | PCIFN_BAR_PREFETCH } },
		{ { 4096, 0x40 } },                        /* unknown flag */
		{ { 1ULL << 32, 0 } },                     /* 4 GiB in a 32-bit BAR */
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct tbe t = { 0 };
		struct pcifn *fn = NULL;
		int ret = pcifn_create("bad", &tbe_ops, &t, bad[i], &fn);

		if (i == 2) { /* 4 KiB of I/O space is legal up to 64 KiB */
			g_assert_cmpint(ret, ==, 0);
			pcifn_destroy(fn);
			continue;
		}
		g_assert_cmpint(ret, ==, -EINVAL);
		g_assert_true(t.destroyed); /* ownership of the backend was taken */
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/proxy/pcifn/sizing", test_sizing);
	g_test_add_func("/proxy/pcifn/program-decode", test_program_decode);
	g_test_add_func("/proxy/pcifn/forward", test_forward);
	g_test_add_func("/proxy/pcifn/dead", test_dead);
	g_test_add_func("/proxy/pcifn/bad-layout", test_bad_layout);
	return g_test_run();
}
