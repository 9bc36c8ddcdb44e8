// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for proxy/pciirq.c and proxy/msix.c through the pcifn API: INTx wiring
 * and the interrupt line, MSI routing and its Pending Bits (6.8.1.8) virtualized from
 * the masked vectors' eventfds, the MSI-X table and PBA virtualized per PCI 3.0, 6.8.2
 * (masking, pending bits, function mask, 4- and 8-byte table accesses, accesses that
 * are not the table's, a malformed layout), and doorbells over the table or PBA.  The backend is a
 * config array kept by the test; the interrupt controller is a recorder instead of KVM.  The
 * eventfds are real: the "device" signals the copies the backend was given.
 */
#include <errno.h>
#include <glib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "proxy/proxy.h"

#define NR 8	     /* MSI-X vectors */
#define TABLE 0x800u /* in BAR0 */
#define PBA 0xc00u
#define MSIX_CAP 0x40u
#define MSI_CAP 0x50u

struct ibe {
	uint8_t cfg[256];
	unsigned bar_accesses;		      /* forwarded BAR accesses */
	int intx, resample, msi[2], msix[NR]; /* the device's copies (dup'ed) */
	bool no_set_irqs;
};

struct ictl {
	int next_gsi;
	uint64_t addr[256];
	uint32_t data[256];
	int attached[256]; /* efd attached to gsi, or -1 */
	unsigned signals;
	uint64_t sig_addr;
	uint32_t sig_data;
	unsigned intx_gsi;
	int intx_efd;
};

static int ibe_cfg_read(void *be, uint32_t off, unsigned size, uint32_t *val)
{
	struct ibe *t = be;

	*val = 0;
	memcpy(val, t->cfg + off, size);
	return 0;
}

static int ibe_cfg_write(void *be, uint32_t off, unsigned size, uint32_t val)
{
	memcpy(((struct ibe *)be)->cfg + off, &val, size);
	return 0;
}

static int ibe_bar_read(void *be, unsigned bar, uint64_t off, unsigned size, uint64_t *val)
{
	((struct ibe *)be)->bar_accesses++;
	*val = 0;
	return 0;
}

static int ibe_bar_write(void *be, unsigned bar, uint64_t off, unsigned size, uint64_t val)
{
	((struct ibe *)be)->bar_accesses++;
	return 0;
}

static void ibe_destroy(void *be)
{
	struct ibe *t = be;

	close(t->intx);
	close(t->resample);
	for (unsigned i = 0; i < 2; i++)
		close(t->msi[i]);
	for (unsigned i = 0; i < NR; i++)
		close(t->msix[i]);
}

static int ibe_set_irqs(void *be, unsigned index, bool unmask, unsigned start, unsigned count,
			const int *fds)
{
	struct ibe *t = be;

	for (unsigned i = 0; i < count; i++) {
		int fd = dup(fds[i]);

		if (index == PCIFN_IRQ_INTX)
			*(unmask ? &t->resample : &t->intx) = fd;
		else if (index == PCIFN_IRQ_MSI && start + i < 2)
			t->msi[start + i] = fd;
		else if (index == PCIFN_IRQ_MSIX && start + i < NR)
			t->msix[start + i] = fd;
		else
			g_assert_not_reached();
	}
	return 0;
}

static const struct pcifn_backend_ops ibe_ops = {
	.cfg_read = ibe_cfg_read,
	.cfg_write = ibe_cfg_write,
	.bar_read = ibe_bar_read,
	.bar_write = ibe_bar_write,
	.destroy = ibe_destroy,
	.set_irqs = ibe_set_irqs,
};

static const struct pcifn_backend_ops ibe_ops_noirq = {
	.cfg_read = ibe_cfg_read,
	.cfg_write = ibe_cfg_write,
	.bar_read = ibe_bar_read,
	.bar_write = ibe_bar_write,
	.destroy = ibe_destroy,
};

static int ictl_route(void *ctx, int *gsi, uint64_t addr, uint32_t data)
{
	struct ictl *c = ctx;

	if (*gsi < 0)
		*gsi = c->next_gsi++;
	c->addr[*gsi] = addr;
	c->data[*gsi] = data;
	return 0;
}

static int ictl_irqfd(void *ctx, int gsi, int efd, bool attach)
{
	struct ictl *c = ctx;

	g_assert_true(attach ? c->attached[gsi] < 0 : c->attached[gsi] == efd);
	c->attached[gsi] = attach ? efd : -1;
	return 0;
}

static int ictl_signal(void *ctx, uint64_t addr, uint32_t data)
{
	struct ictl *c = ctx;

	c->signals++;
	c->sig_addr = addr;
	c->sig_data = data;
	return 0;
}

static int ictl_intx(void *ctx, unsigned gsi, int efd, int resample)
{
	struct ictl *c = ctx;

	c->intx_gsi = gsi;
	c->intx_efd = efd;
	return 0;
}

static const struct pcifn_irq_ops ictl_ops = {
	.route = ictl_route,
	.irqfd = ictl_irqfd,
	.signal = ictl_signal,
	.intx = ictl_intx,
};

static const struct pcifn_bar layout[PCIFN_NUM_BARS] = {{4096, 0}, {256, PCIFN_BAR_IO}};
static const unsigned intx_gsi[4] = {10, 10, 11, 11};

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* Pin INTA#, MSI-X (NR vectors, table and PBA in BAR0), then 64-bit MSI with masking. */
static void ibe_init(struct ibe *t)
{
	memset(t, 0, sizeof(*t));
	t->intx = t->resample = -1;
	t->msi[0] = t->msi[1] = -1;
	for (unsigned i = 0; i < NR; i++)
		t->msix[i] = -1;
	t->cfg[0x06] = 0x10;
	t->cfg[0x34] = MSIX_CAP;
	t->cfg[0x3d] = 1;
	put32(t->cfg + MSIX_CAP, 0x11 | MSI_CAP << 8 | (NR - 1) << 16);
	put32(t->cfg + MSIX_CAP + 4, TABLE | 0);
	put32(t->cfg + MSIX_CAP + 8, PBA | 0);
	put32(t->cfg + MSI_CAP, 0x05 | 0x0182u << 16); /* 2 vectors, 64-bit, maskable */
}

static struct pcifn *make(struct ibe *t, struct ictl *c, const struct pcifn_backend_ops *ops)
{
	struct pcifn *fn;

	memset(c, 0, sizeof(*c));
	c->next_gsi = 24;
	for (unsigned i = 0; i < 256; i++)
		c->attached[i] = -1;
	g_assert_cmpint(pcifn_create("t0", ops, t, layout, &fn), ==, 0);
	g_assert_cmpint(pcifn_irq_setup(fn, &ictl_ops, c, intx_gsi), ==, 0);
	return fn;
}

static uint32_t cfg_rd(struct pcifn *fn, uint32_t off, unsigned size)
{
	uint32_t v;

	g_assert_cmpint(pcifn_cfg_read(fn, off, size, &v), ==, 0);
	return v;
}

static void cfg_wr(struct pcifn *fn, uint32_t off, unsigned size, uint32_t v)
{
	g_assert_cmpint(pcifn_cfg_write(fn, off, size, v), ==, 0);
}

static uint64_t bar_rd(struct pcifn *fn, uint64_t off, unsigned size)
{
	uint64_t v;

	g_assert_cmpint(pcifn_bar_read(fn, 0, off, size, &v), ==, 0);
	return v;
}

static void bar_wr(struct pcifn *fn, uint64_t off, unsigned size, uint64_t v)
{
	g_assert_cmpint(pcifn_bar_write(fn, 0, off, size, v), ==, 0);
}

static void fire(int fd)
{
	uint64_t one = 1;

	g_assert_cmpint(write(fd, &one, 8), ==, 8);
}

/* Entry e: message (0xfee00000 + e * 0x1000, 0x40 + e), unmasked. */
static void program(struct pcifn *fn, unsigned e)
{
	bar_wr(fn, TABLE + e * 16, 4, 0xfee00000u + e * 0x1000);
	bar_wr(fn, TABLE + e * 16 + 4, 4, 0);
	bar_wr(fn, TABLE + e * 16 + 8, 4, 0x40 + e);
	bar_wr(fn, TABLE + e * 16 + 12, 4, 0);
}

static void msix_enable(struct pcifn *fn, uint16_t bits)
{
	cfg_wr(fn, MSIX_CAP + 2, 2, bits | (NR - 1));
}

/* Which gsi, if any, has efd attached (our copy: any attached efd of vector e). */
static int attached_gsi(const struct ictl *c)
{
	int n = 0, gsi = -1;

	for (int i = 0; i < 256; i++) {
		if (c->attached[i] >= 0) {
			n++;
			gsi = i;
		}
	}
	return n == 1 ? gsi : -n;
}

static void test_setup_intx(void)
{
	struct ibe t;
	struct ictl c;
	struct pcifn *fn;

	ibe_init(&t);
	fn = make(&t, &c, &ibe_ops);
	g_assert_cmpuint(c.intx_gsi, ==, 10);
	g_assert_cmpint(t.intx, >=, 0);
	g_assert_cmpint(t.resample, >=, 0);
	g_assert_cmpint(t.msi[1], >=, 0);
	g_assert_cmpint(t.msix[NR - 1], >=, 0);
	g_assert_cmphex(cfg_rd(fn, 0x3c, 1), ==, 10); /* the line names the GSI */
	g_assert_cmphex(cfg_rd(fn, 0x3c, 4) & 0xffff, ==, 0x010a);
	cfg_wr(fn, 0x3c, 1, 5); /* a scratch register for the OS */
	g_assert_cmphex(cfg_rd(fn, 0x3c, 1), ==, 5);
	g_assert_cmpint(pcifn_irq_setup(fn, &ictl_ops, &c, intx_gsi), ==, -EEXIST);
	g_assert_cmpint(attached_gsi(&c), ==, 0); /* nothing enabled yet */
	pcifn_destroy(fn);
}

static void test_msix_route(void)
{
	struct ibe t;
	struct ictl c;
	struct pcifn *fn;
	int gsi;

	ibe_init(&t);
	fn = make(&t, &c, &ibe_ops);
	program(fn, 3);
	g_assert_cmpint(attached_gsi(&c), ==, 0); /* MSI-X still disabled */
	msix_enable(fn, 0x8000);
	gsi = attached_gsi(&c);
	g_assert_cmpint(gsi, >=, 24);
	g_assert_cmphex(c.addr[gsi], ==, 0xfee03000);
	g_assert_cmphex(c.data[gsi], ==, 0x43);
	g_assert_cmphex(cfg_rd(fn, MSIX_CAP + 2, 2), ==, 0x8000 | (NR - 1));
	/* A new message for an unmasked entry re-routes the same GSI. */
	bar_wr(fn, TABLE + 3 * 16 + 8, 4, 0x99);
	g_assert_cmphex(c.data[gsi], ==, 0x99);
	g_assert_cmpint(attached_gsi(&c), ==, gsi);
	g_assert_cmpuint(t.bar_accesses, ==, 0); /* the table never reached the device */
	pcifn_destroy(fn);
}

static void test_msix_mask_pending(void)
{
	struct ibe t;
	struct ictl c;
	struct pcifn *fn;

	ibe_init(&t);
	fn = make(&t, &c, &ibe_ops);
	program(fn, 0);
	msix_enable(fn, 0x8000);
	bar_wr(fn, TABLE + 12, 4, 1); /* mask vector 0 */
	g_assert_cmpint(attached_gsi(&c), ==, 0);
	g_assert_cmphex(bar_rd(fn, PBA, 8), ==, 0);
	fire(t.msix[0]); /* the device signals while masked */
	g_assert_cmphex(bar_rd(fn, PBA, 8), ==, 1);
	g_assert_cmphex(bar_rd(fn, PBA, 4), ==, 1);
	g_assert_cmphex(bar_rd(fn, PBA + 4, 4), ==, 0);
	g_assert_cmpuint(c.signals, ==, 0);
	bar_wr(fn, TABLE + 12, 4, 0); /* unmask: one message, pending cleared */
	g_assert_cmpuint(c.signals, ==, 1);
	g_assert_cmphex(c.sig_addr, ==, 0xfee00000);
	g_assert_cmphex(c.sig_data, ==, 0x40);
	g_assert_cmphex(bar_rd(fn, PBA, 8), ==, 0);
	g_assert_cmpint(attached_gsi(&c), >=, 24);
	/* Masked and unmasked again with nothing signalled: no message. */
	bar_wr(fn, TABLE + 12, 4, 1);
	bar_wr(fn, TABLE + 12, 4, 0);
	g_assert_cmpuint(c.signals, ==, 1);
	/* Vector Control's reserved bits read 0. */
	bar_wr(fn, TABLE + 12, 4, 0xfffffffe);
	g_assert_cmphex(bar_rd(fn, TABLE + 12, 4), ==, 0);
	pcifn_destroy(fn);
}

static void test_msix_function_mask(void)
{
	struct ibe t;
	struct ictl c;
	struct pcifn *fn;

	ibe_init(&t);
	fn = make(&t, &c, &ibe_ops);
	program(fn, 1);
	program(fn, 2);
	msix_enable(fn, 0xc000); /* enabled, function masked */
	g_assert_cmpint(attached_gsi(&c), ==, 0);
	g_assert_cmphex(cfg_rd(fn, MSIX_CAP + 2, 2), ==, 0xc000 | (NR - 1));
	fire(t.msix[2]);
	g_assert_cmphex(bar_rd(fn, PBA, 8), ==, 1u << 2);
	msix_enable(fn, 0x8000); /* function unmasked: vector 2 delivered, both attached */
	g_assert_cmpuint(c.signals, ==, 1);
	g_assert_cmphex(c.sig_data, ==, 0x42);
	g_assert_cmpint(attached_gsi(&c), ==, -2);
	g_assert_cmphex(bar_rd(fn, PBA, 8), ==, 0);
	/* Disabled: detached; signals then are dropped when it is enabled again. */
	msix_enable(fn, 0);
	g_assert_cmpint(attached_gsi(&c), ==, 0);
	fire(t.msix[1]);
	msix_enable(fn, 0x8000);
	g_assert_cmpuint(c.signals, ==, 1);
	pcifn_destroy(fn);
}

static void test_msix_access(void)
{
	struct ibe t;
	struct ictl c;
	struct pcifn *fn;

	ibe_init(&t);
	fn = make(&t, &c, &ibe_ops);
	/* Power-on: entries masked. */
	g_assert_cmphex(bar_rd(fn, TABLE + 12, 4), ==, 1);
	g_assert_cmphex(bar_rd(fn, TABLE + (NR - 1) * 16 + 8, 8), ==, 1ULL << 32);
	/* Qword accesses: address, then data + vector control. */
	bar_wr(fn, TABLE + 16, 8, 0x00000001fee01000ULL);
	bar_wr(fn, TABLE + 24, 8, 0x0000000000000051ULL);
	g_assert_cmphex(bar_rd(fn, TABLE + 16, 8), ==, 0x00000001fee01000ULL);
	g_assert_cmphex(bar_rd(fn, TABLE + 20, 4), ==, 1);
	g_assert_cmphex(bar_rd(fn, TABLE + 24, 8), ==, 0x51);
	/* Not a full aligned dword or qword: reads all-ones, writes dropped. */
	g_assert_cmphex(bar_rd(fn, TABLE + 16, 2), ==, 0xffff);
	g_assert_cmphex(bar_rd(fn, TABLE + 17, 1), ==, 0xff);
	g_assert_cmphex(bar_rd(fn, TABLE + 20, 8), ==, ~0ULL);
	bar_wr(fn, TABLE + 16, 1, 0xaa);
	bar_wr(fn, TABLE + 18, 2, 0xaaaa);
	g_assert_cmphex(bar_rd(fn, TABLE + 16, 4), ==, 0xfee01000);
	/* Straddling the end of the table: claimed, refused. */
	g_assert_cmphex(bar_rd(fn, TABLE - 4, 8), ==, ~0ULL);
	/* The PBA is read-only; its padding past the last vector reads 0. */
	bar_wr(fn, PBA, 8, ~0ULL);
	g_assert_cmphex(bar_rd(fn, PBA, 8), ==, 0);
	g_assert_cmpuint(t.bar_accesses, ==, 0);
	/* Past the table and the PBA: the device's own registers. */
	bar_rd(fn, TABLE + NR * 16, 4);
	bar_wr(fn, PBA + 8, 4, 0);
	bar_rd(fn, 0, 4);
	g_assert_cmpuint(t.bar_accesses, ==, 3);
	pcifn_destroy(fn);
}

static void test_msix_reset(void)
{
	struct ibe t;
	struct ictl c;
	struct pcifn *fn;

	ibe_init(&t);
	fn = make(&t, &c, &ibe_ops);
	program(fn, 4);
	msix_enable(fn, 0x8000);
	g_assert_cmpint(attached_gsi(&c), >=, 24);
	pcifn_reset(fn);
	g_assert_cmpint(attached_gsi(&c), ==, 0);
	g_assert_cmphex(bar_rd(fn, TABLE + 4 * 16 + 12, 4), ==, 1);
	g_assert_cmphex(bar_rd(fn, TABLE + 4 * 16, 4), ==, 0);
	pcifn_destroy(fn);
}

static void test_msi(void)
{
	struct ibe t;
	struct ictl c;
	struct pcifn *fn;
	int gsi;

	ibe_init(&t);
	fn = make(&t, &c, &ibe_ops);
	cfg_wr(fn, MSI_CAP + 4, 4, 0xfee00000);
	cfg_wr(fn, MSI_CAP + 8, 4, 0);
	cfg_wr(fn, MSI_CAP + 12, 2, 0x60);
	g_assert_cmpint(attached_gsi(&c), ==, 0);
	cfg_wr(fn, MSI_CAP + 2, 2, 0x0182 | 0x10 | 1); /* enable, 2 vectors */
	g_assert_cmpint(attached_gsi(&c), ==, -2);
	cfg_wr(fn, MSI_CAP + 16, 4, 2); /* mask vector 1 */
	gsi = attached_gsi(&c);
	g_assert_cmpint(gsi, >=, 24);
	g_assert_cmphex(c.data[gsi], ==, 0x60);
	fire(t.msi[1]);
	cfg_wr(fn, MSI_CAP + 16, 4, 0); /* unmasked: the pending message goes out */
	g_assert_cmpuint(c.signals, ==, 1);
	g_assert_cmphex(c.sig_data, ==, 0x61);
	cfg_wr(fn, MSI_CAP + 2, 2, 0x0182);
	g_assert_cmpint(attached_gsi(&c), ==, 0);
	pcifn_destroy(fn);
}

/* Pending Bits (6.8.1.8) read what the VMM holds, never the device's register. */
static void test_msi_pending(void)
{
	struct ibe t;
	struct ictl c;
	struct pcifn *fn;

	ibe_init(&t);
	put32(t.cfg + MSI_CAP + 20, 0xffffffff); /* whatever the device says */
	fn = make(&t, &c, &ibe_ops);
	cfg_wr(fn, MSI_CAP + 4, 4, 0xfee00000);
	cfg_wr(fn, MSI_CAP + 12, 2, 0x60);
	fire(t.msi[1]); /* MSI still off: nothing pending, and dropped at enable */
	g_assert_cmphex(cfg_rd(fn, MSI_CAP + 20, 4), ==, 0);
	cfg_wr(fn, MSI_CAP + 2, 2, 0x0182 | 0x10 | 1);
	cfg_wr(fn, MSI_CAP + 16, 4, 2); /* mask vector 1 */
	g_assert_cmphex(cfg_rd(fn, MSI_CAP + 20, 4), ==, 0);
	fire(t.msi[1]); /* the device signals while masked */
	g_assert_cmphex(cfg_rd(fn, MSI_CAP + 20, 4), ==, 2);
	g_assert_cmphex(cfg_rd(fn, MSI_CAP + 20, 1), ==, 2);
	g_assert_cmphex(cfg_rd(fn, MSI_CAP + 22, 2), ==, 0);
	g_assert_cmphex(cfg_rd(fn, MSI_CAP + 16, 4), ==, 2); /* the mask is the device's */
	g_assert_cmpuint(c.signals, ==, 0);
	cfg_wr(fn, MSI_CAP + 16, 4, 0); /* unmask: delivered once, no longer pending */
	g_assert_cmpuint(c.signals, ==, 1);
	g_assert_cmphex(c.sig_data, ==, 0x61);
	g_assert_cmphex(cfg_rd(fn, MSI_CAP + 20, 4), ==, 0);
	g_assert_cmpint(attached_gsi(&c), ==, -2);
	pcifn_destroy(fn);
}

/* A doorbell over the MSI-X table or PBA: refused in either order (KVM would eat writes). */
static void test_doorbell_over_msix(void)
{
	static const uint64_t bad[] = {TABLE + 12, PBA, TABLE - 4}, good[] = {TABLE + NR * 16, 0};
	struct ibe t;
	struct ictl c;
	struct pcifn *fn;

	for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct pcifn_ioeventfd ev = {
			.bar = 0, .off = bad[i], .size = 8, .fd = eventfd(0, EFD_CLOEXEC)};

		ibe_init(&t);
		g_assert_cmpint(pcifn_create("t0", &ibe_ops, &t, layout, &fn), ==, 0);
		g_assert_cmpint(pcifn_add_ioeventfd(fn, &ev), ==, 0); /* layout unknown yet */
		g_test_expect_message("proxy", G_LOG_LEVEL_WARNING, "t0: *doorbell*MSI-X table*");
		g_test_expect_message("proxy", G_LOG_LEVEL_WARNING, "t0: *interrupt setup*");
		g_assert_cmpint(pcifn_irq_setup(fn, &ictl_ops, &c, intx_gsi), ==, -EPROTO);
		g_test_assert_expected_messages();
		g_assert_true(pcifn_dead(fn));
		pcifn_destroy(fn); /* closes ev.fd */
	}
	ibe_init(&t);
	fn = make(&t, &c, &ibe_ops);
	for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct pcifn_ioeventfd ev = {.bar = 0, .off = bad[i], .size = 8, .fd = 0};

		g_assert_cmpint(pcifn_add_ioeventfd(fn, &ev), ==, -EADDRINUSE);
	}
	for (unsigned i = 0; i < G_N_ELEMENTS(good); i++) {
		struct pcifn_ioeventfd ev = {
			.bar = 0, .off = good[i], .size = 8, .fd = eventfd(0, EFD_CLOEXEC)};

		g_assert_cmpint(pcifn_add_ioeventfd(fn, &ev), ==, 0);
	}
	g_assert_false(pcifn_dead(fn));
	pcifn_destroy(fn);
}

/* A layout the function cannot use is refused at setup. */
static void test_bad_layout(void)
{
	static const struct {
		uint32_t off, val;
	} bad[] = {
		{MSIX_CAP + 4, 0xff8},		/* table runs past BAR0 */
		{MSIX_CAP + 8, 0x1000},		/* PBA past BAR0 */
		{MSIX_CAP + 8, TABLE + 0x40},	/* PBA inside the table */
		{MSIX_CAP + 4, TABLE | 1},	/* table in the I/O BAR */
		{MSIX_CAP + 4, TABLE | 2},	/* table in an absent BAR */
		{MSIX_CAP + 8, PBA | 7},	/* PBA BIR 7 */
		{MSI_CAP, 0x05 | MSI_CAP << 8}, /* a capability loop */
		{0x34, 0x20},			/* a pointer into the header */
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct ibe t;
		struct ictl c = {0};
		struct pcifn *fn;
		uint32_t v;

		ibe_init(&t);
		memcpy(&v, t.cfg + bad[i].off, 4);
		v = bad[i].off == MSI_CAP ? (v & 0xffff0000u) | bad[i].val : bad[i].val;
		put32(t.cfg + bad[i].off, v);
		g_assert_cmpint(pcifn_create("t0", &ibe_ops, &t, layout, &fn), ==, 0);
		g_test_expect_message("proxy", G_LOG_LEVEL_WARNING, "t0: *interrupt setup*");
		g_assert_cmpint(pcifn_irq_setup(fn, &ictl_ops, &c, intx_gsi), ==, -EPROTO);
		g_test_assert_expected_messages();
		g_assert_true(pcifn_dead(fn)); /* a remote that lies about its layout is dropped */
		pcifn_destroy(fn);
	}
}

static void test_no_set_irqs(void)
{
	struct ibe t;
	struct ictl c;
	struct pcifn *fn;

	ibe_init(&t);
	g_test_expect_message("proxy", G_LOG_LEVEL_WARNING, "t0: *takes no interrupt eventfds");
	fn = make(&t, &c, &ibe_ops_noirq);
	g_test_assert_expected_messages();
	g_assert_cmpint(t.msix[0], ==, -1);
	pcifn_destroy(fn);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/proxy/pcifn-irq/setup-intx", test_setup_intx);
	g_test_add_func("/proxy/pcifn-irq/msix-route", test_msix_route);
	g_test_add_func("/proxy/pcifn-irq/msix-mask-pending", test_msix_mask_pending);
	g_test_add_func("/proxy/pcifn-irq/msix-function-mask", test_msix_function_mask);
	g_test_add_func("/proxy/pcifn-irq/msix-access", test_msix_access);
	g_test_add_func("/proxy/pcifn-irq/msix-reset", test_msix_reset);
	g_test_add_func("/proxy/pcifn-irq/msi", test_msi);
	g_test_add_func("/proxy/pcifn-irq/msi-pending", test_msi_pending);
	g_test_add_func("/proxy/pcifn-irq/doorbell-over-msix", test_doorbell_over_msix);
	g_test_add_func("/proxy/pcifn-irq/bad-layout", test_bad_layout);
	g_test_add_func("/proxy/pcifn-irq/no-set-irqs", test_no_set_irqs);
	return g_test_run();
}
