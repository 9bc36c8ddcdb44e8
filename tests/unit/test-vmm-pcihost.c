// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of mpvmm's port-I/O table and platform devices (vmm/ioport.c,
 * vmm/pcihost.c, vmm/serial.c, vmm/debugcon.c, vmm/debugexit.c), driven the way a
 * vCPU drives them, without KVM: type-1 config cycles on every byte lane, ECAM
 * decode, the host bridge header, a real in-process pci-testdev (vmm/localdev.c)
 * behind the bridge with BAR sizing, programming and MMIO/port dispatch, and the
 * UART registers with a pipe as its output.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "vmm/vmm.h"

#define ECAM(dev, reg) (VMM_ECAM_BASE + ((uint64_t)(dev) << 15) + (reg))
#define TYPE1(bus, dev, fn, reg)                                                                   \
	(0x80000000u | (bus) << 16 | (dev) << 11 | (fn) << 8 | ((reg)&0xfc))

static uint32_t pio_read(struct ioport_table *io, uint16_t port, unsigned size)
{
	uint32_t v = 0xdeadbeef;

	g_assert_true(ioport_read(io, port, size, &v));
	return v;
}

static void pio_write(struct ioport_table *io, uint16_t port, unsigned size, uint32_t v)
{
	g_assert_true(ioport_write(io, port, size, v));
}

static uint64_t mmio_read(struct pcihost *h, uint64_t addr, unsigned len)
{
	uint64_t v = 0;

	g_assert_true(pcihost_mmio(h, addr, len, false, &v));
	return v;
}

static void mmio_write(struct pcihost *h, uint64_t addr, unsigned len, uint64_t v)
{
	g_assert_true(pcihost_mmio(h, addr, len, true, &v));
}

static uint32_t noop_read(void *opaque, uint16_t off, unsigned size)
{
	return off;
}

static const struct ioport_ops noop_ops = {.read = noop_read};

static void test_ioport_table(void)
{
	struct ioport_table t = {0};
	uint32_t v;

	g_assert_cmpint(ioport_register(&t, 0x100, 8, &noop_ops, NULL), ==, 0);
	g_assert_cmpint(ioport_register(&t, 0x107, 1, &noop_ops, NULL), ==, -EEXIST);
	g_assert_cmpint(ioport_register(&t, 0xf0, 0x11, &noop_ops, NULL), ==, -EEXIST);
	g_assert_cmpint(ioport_register(&t, 0x108, 0, &noop_ops, NULL), ==, -EINVAL);
	g_assert_cmpint(ioport_register(&t, 0xfff0, 0x20, &noop_ops, NULL), ==, -EINVAL);
	g_assert_cmpint(ioport_register(&t, 0xfff0, 0x10, &noop_ops, NULL), ==, 0);
	g_assert_cmpuint(pio_read(&t, 0x104, 4), ==, 4);
	g_assert_false(ioport_read(&t, 0x106, 4, &v)); /* straddles the end */
	g_assert_false(ioport_read(&t, 0xff, 2, &v));
	g_assert_false(ioport_write(&t, 0x108, 1, 0));
	g_assert_true(ioport_write(&t, 0x100, 1, 0)); /* NULL write: dropped, claimed */
	for (unsigned i = 2; i < IOPORT_MAX_RANGES; i++)
		g_assert_cmpint(ioport_register(&t, (uint16_t)(0x200 + i * 8), 8, &noop_ops, NULL),
				==, 0);
	g_assert_cmpint(ioport_register(&t, 0x400, 8, &noop_ops, NULL), ==, -ENOSPC);
}

struct bus {
	struct ioport_table io;
	struct pcihost *h;
};

static void bus_init(struct bus *b, bool testdev)
{
	json_object *props = json_object_new_object();
	struct pcifn *fn;
	unsigned slot;

	memset(&b->io, 0, sizeof(b->io));
	g_assert_cmpint(pcihost_create(&b->io, VMM_ECAM_BASE, &b->h), ==, 0);
	if (testdev) {
		g_assert_cmpint(localdev_create("pci-testdev", "t0", props, NULL, &fn, NULL), ==,
				0);
		g_assert_cmpint(pcihost_attach(b->h, fn, &slot), ==, 0);
		g_assert_cmpuint(slot, ==, 1);
	}
	json_object_put(props);
}

static void test_type1(void)
{
	struct bus b;

	bus_init(&b, true);
	pio_write(&b.io, 0xcf8, 4, TYPE1(0, 0, 0, 0) | 3); /* low bits are not latched */
	g_assert_cmphex(pio_read(&b.io, 0xcf8, 4), ==, 0x80000000);
	g_assert_cmphex(pio_read(&b.io, 0xcfc, 4), ==, 0x29c08086);
	g_assert_cmphex(pio_read(&b.io, 0xcfe, 2), ==, 0x29c0);
	g_assert_cmphex(pio_read(&b.io, 0xcfd, 1), ==, 0x80);
	g_assert_cmphex(pio_read(&b.io, 0xcff, 1), ==, 0x29);
	g_assert_cmphex(pio_read(&b.io, 0xcfd, 2), ==, 0xffff); /* misaligned */
	pio_write(&b.io, 0xcf8, 4, TYPE1(0, 0, 0, 8));
	g_assert_cmphex(pio_read(&b.io, 0xcfc, 4), ==, 0x06000000); /* class 0600, rev 0 */
	pio_write(&b.io, 0xcfc, 4, 0x12345678);			    /* read-only */
	g_assert_cmphex(pio_read(&b.io, 0xcfc, 4), ==, 0x06000000);
	pio_write(&b.io, 0xcf8, 4, TYPE1(0, 1, 0, 0));
	g_assert_cmphex(pio_read(&b.io, 0xcfc, 4), ==, 0x00051b36);
	pio_write(&b.io, 0xcf8, 4, TYPE1(0, 1, 1, 0)); /* function 1: absent */
	g_assert_cmphex(pio_read(&b.io, 0xcfc, 4), ==, 0xffffffff);
	pio_write(&b.io, 0xcf8, 4, TYPE1(0, 2, 0, 0)); /* empty slot */
	g_assert_cmphex(pio_read(&b.io, 0xcfc, 2), ==, 0xffff);
	pio_write(&b.io, 0xcf8, 4, TYPE1(1, 0, 0, 0)); /* bus 1 */
	g_assert_cmphex(pio_read(&b.io, 0xcfc, 4), ==, 0xffffffff);
	pio_write(&b.io, 0xcf8, 4, TYPE1(0, 0, 0, 0) & ~0x80000000u); /* disabled */
	g_assert_cmphex(pio_read(&b.io, 0xcfc, 4), ==, 0xffffffff);
	pio_write(&b.io, 0xcf9, 1, 0x06); /* not CONFIG_ADDRESS (the PC reset register) */
	g_assert_cmphex(pio_read(&b.io, 0xcf8, 4), ==, 0);
	g_assert_cmphex(pio_read(&b.io, 0xcf8, 2), ==, 0xffff);
	pcihost_destroy(b.h);
}

static void test_ecam(void)
{
	uint64_t v = 0;
	struct bus b;

	bus_init(&b, true);
	g_assert_cmphex(mmio_read(b.h, ECAM(0, 0), 4), ==, 0x29c08086);
	g_assert_cmphex(mmio_read(b.h, ECAM(0, 0xb), 1), ==, 0x06);
	g_assert_cmphex(mmio_read(b.h, ECAM(0, 0x100), 4), ==, 0); /* no extended caps */
	g_assert_cmphex(mmio_read(b.h, ECAM(1, 0), 4), ==, 0x00051b36);
	g_assert_cmphex(mmio_read(b.h, ECAM(1, 2), 2), ==, 0x0005);
	g_assert_cmphex(mmio_read(b.h, ECAM(1, 0xff), 1), !=, 0x100); /* legal 1-byte read */
	g_assert_cmphex(mmio_read(b.h, ECAM(1, 1), 2), ==, 0xffff);   /* misaligned */
	g_assert_cmphex(mmio_read(b.h, ECAM(1, 0), 8), ==, ~0ULL);    /* no 8-byte cycles */
	g_assert_cmphex(mmio_read(b.h, ECAM(2, 0), 4), ==, 0xffffffff);
	g_assert_cmphex(mmio_read(b.h, ECAM(1, 0) + 0x1000, 4), ==, 0xffffffff); /* fn 1 */
	g_assert_cmphex(mmio_read(b.h, VMM_ECAM_BASE + (1 << 20), 4), ==, 0xffffffff);
	g_assert_cmphex(mmio_read(b.h, VMM_ECAM_BASE + VMM_ECAM_SIZE - 4, 4), ==, 0xffffffff);
	g_assert_false(pcihost_mmio(b.h, VMM_ECAM_BASE + VMM_ECAM_SIZE, 4, false, &v));
	g_assert_false(pcihost_mmio(b.h, VMM_ECAM_BASE - 4, 4, false, &v));
	pcihost_destroy(b.h);
}

/* Size and program BAR0 (4K MMIO) and BAR1 (256 ports), then reach the device. */
static void test_bar_dispatch(void)
{
	uint64_t v = 0;
	struct bus b;

	bus_init(&b, true);
	mmio_write(b.h, ECAM(1, 0x10), 4, 0xffffffff);
	g_assert_cmphex(mmio_read(b.h, ECAM(1, 0x10), 4), ==, 0xfffff000);
	pio_write(&b.io, 0xcf8, 4, TYPE1(0, 1, 0, 0x14));
	pio_write(&b.io, 0xcfc, 4, 0xffffffff);
	g_assert_cmphex(pio_read(&b.io, 0xcfc, 4), ==, 0xffffff01);
	mmio_write(b.h, ECAM(1, 0x10), 4, 0xe0000000);
	mmio_write(b.h, ECAM(1, 0x14), 4, 0xc000);
	/* Decoding is off until the command register enables it. */
	g_assert_false(pcihost_mmio(b.h, 0xe0000004, 4, false, &v));
	g_assert_false(pcihost_pio(b.h, 0xc004, 4, false, &v));
	mmio_write(b.h, ECAM(1, 4), 2, 0x3);
	/* Selecting test 0 shows its offset (2048); the I/O BAR's test 3 says 128 + 3. */
	mmio_write(b.h, 0xe0000000, 1, 0);
	g_assert_cmphex(mmio_read(b.h, 0xe0000004, 4), ==, 0x800);
	v = 0;
	g_assert_true(pcihost_pio(b.h, 0xc000, 1, true, &v));
	g_assert_true(pcihost_pio(b.h, 0xc004, 4, false, &v));
	g_assert_cmphex(v, ==, 0x83);
	g_assert_false(pcihost_mmio(b.h, 0xe0001000, 4, false, &v)); /* past BAR0 */
	g_assert_false(pcihost_mmio(b.h, 0xe0000ffe, 4, false, &v)); /* straddles its end */
	g_assert_false(pcihost_pio(b.h, 0xc100, 1, false, &v));
	g_assert_false(pcihost_mmio(b.h, 0xd0000000, 4, false, &v));
	pcihost_destroy(b.h);
}

static void test_bus_full(void)
{
	json_object *props = json_object_new_object();
	struct pcifn *fn;
	unsigned slot;
	struct bus b;

	bus_init(&b, false);
	for (unsigned i = 1; i <= PCIHOST_SLOTS; i++) {
		g_autofree char *id = g_strdup_printf("t%u", i);

		g_assert_cmpint(localdev_create("pci-testdev", id, props, NULL, &fn, NULL), ==, 0);
		g_assert_cmpint(pcihost_attach(b.h, fn, &slot), ==,
				i < PCIHOST_SLOTS ? 0 : -ENOSPC); /* the last one is freed */
	}
	g_assert_cmphex(mmio_read(b.h, ECAM(31, 0), 4), ==, 0x00051b36);
	pcihost_destroy(b.h);
	json_object_put(props);
}

/* A UART writing into a pipe. */
struct uart {
	struct ioport_table io;
	struct serial *s;
	int p[2];
};

static void uart_init(struct uart *u)
{
	memset(&u->io, 0, sizeof(u->io));
	g_assert_cmpint(pipe2(u->p, O_CLOEXEC | O_NONBLOCK), ==, 0);
	g_assert_cmpint(serial_create(&u->io, SERIAL_COM1, u->p[1], &u->s), ==, 0);
}

static void uart_fini(struct uart *u)
{
	serial_destroy(u->s);
	close(u->p[0]);
	close(u->p[1]);
}

static void test_serial(void)
{
	char buf[8] = {0};
	struct uart u;

	uart_init(&u);
	g_assert_cmphex(pio_read(&u.io, 0x3fd, 1) & 0x61, ==, 0x60); /* THRE TEMT, no DR */
	g_assert_cmphex(pio_read(&u.io, 0x3fa, 1), ==, 0x01);	     /* IIR: none pending */
	pio_write(&u.io, 0x3f8, 1, 'h');
	pio_write(&u.io, 0x3f8, 2, 'i'); /* a wider access is split: 'i' then IER = 0 */
	g_assert_cmpint(read(u.p[0], buf, sizeof(buf)), ==, 2);
	g_assert_cmpstr(buf, ==, "hi");
	pio_write(&u.io, 0x3fb, 1, 0x80); /* DLAB: divisor latch */
	pio_write(&u.io, 0x3f8, 1, 0x01);
	pio_write(&u.io, 0x3f9, 1, 0x02);
	g_assert_cmphex(pio_read(&u.io, 0x3f8, 2), ==, 0x0201);
	pio_write(&u.io, 0x3fb, 1, 0x03);
	g_assert_cmphex(pio_read(&u.io, 0x3fb, 1), ==, 0x03);
	pio_write(&u.io, 0x3f9, 1, 0xff);
	g_assert_cmphex(pio_read(&u.io, 0x3f9, 1), ==, 0x0f);
	pio_write(&u.io, 0x3ff, 1, 0x5a);
	g_assert_cmphex(pio_read(&u.io, 0x3ff, 1), ==, 0x5a);
	pio_write(&u.io, 0x3fa, 1, 0x07); /* FIFOs on */
	g_assert_cmphex(pio_read(&u.io, 0x3fa, 1), ==, 0xc1);
	pio_write(&u.io, 0x3fd, 1, 0x00); /* LSR is read-only */
	g_assert_cmphex(pio_read(&u.io, 0x3fd, 1) & 0x60, ==, 0x60);
	g_assert_cmphex(pio_read(&u.io, 0x3fe, 1), ==, 0xb0);
	uart_fini(&u);
}

static void test_serial_loopback(void)
{
	char buf[4];
	struct uart u;

	uart_init(&u);
	pio_write(&u.io, 0x3fc, 1, 0x1f); /* loopback, all modem outputs on */
	pio_write(&u.io, 0x3f8, 1, 'x');
	g_assert_cmphex(pio_read(&u.io, 0x3fd, 1) & 0x01, ==, 0x01);
	g_assert_cmphex(pio_read(&u.io, 0x3f8, 1), ==, 'x');
	g_assert_cmphex(pio_read(&u.io, 0x3fd, 1) & 0x01, ==, 0x00);
	g_assert_cmphex(pio_read(&u.io, 0x3fe, 1), ==, 0xf0);
	pio_write(&u.io, 0x3fc, 1, 0x12); /* loopback, RTS only: CTS */
	g_assert_cmphex(pio_read(&u.io, 0x3fe, 1), ==, 0x10);
	g_assert_cmpint(read(u.p[0], buf, sizeof(buf)), ==, -1); /* nothing went out */
	uart_fini(&u);
}

static void record_exit(void *ctx, int status)
{
	*(int *)ctx = status;
}

static void test_debugcon_debugexit(void)
{
	struct ioport_table io = {0};
	int p[2], status = -1;
	struct debugexit de = {.exit = record_exit, .ctx = &status};
	struct debugcon dc;
	char buf[4] = {0};

	g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
	dc.fd = p[1];
	g_assert_cmpint(debugcon_create(&io, DEBUGCON_PORT, &dc), ==, 0);
	g_assert_cmpint(debugexit_create(&io, DEBUGEXIT_PORT, &de), ==, 0);
	g_assert_cmphex(pio_read(&io, 0xe9, 1), ==, 0xe9);
	pio_write(&io, 0xe9, 1, 'o');
	pio_write(&io, 0xe9, 1, 'k');
	g_assert_false(ioport_write(&io, 0xe9, 2, 0x4b4b)); /* one port wide */
	g_assert_cmpint(read(p[0], buf, sizeof(buf)), ==, 2);
	g_assert_cmpstr(buf, ==, "ok");
	pio_write(&io, 0xf4, 1, 0);
	g_assert_cmpint(status, ==, 1);
	pio_write(&io, 0xf4, 4, 0x2a);
	g_assert_cmpint(status, ==, 0x55);
	pio_write(&io, 0xf6, 2, 0x1ff); /* 0x1ff << 1 | 1 keeps its low 8 bits */
	g_assert_cmpint(status, ==, 0xff);
	pio_write(&io, 0xf4, 1, 0x380); /* a byte write sees only the byte: 0x80 */
	g_assert_cmpint(status, ==, 0x01);
	g_assert_cmphex(pio_read(&io, 0xf4, 4), ==, 0xffffffff);
	close(p[0]);
	close(p[1]);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vmm/ioport/table", test_ioport_table);
	g_test_add_func("/vmm/pcihost/type1", test_type1);
	g_test_add_func("/vmm/pcihost/ecam", test_ecam);
	g_test_add_func("/vmm/pcihost/bar-dispatch", test_bar_dispatch);
	g_test_add_func("/vmm/pcihost/bus-full", test_bus_full);
	g_test_add_func("/vmm/serial/registers", test_serial);
	g_test_add_func("/vmm/serial/loopback", test_serial_loopback);
	g_test_add_func("/vmm/debugcon/debugexit", test_debugcon_debugexit);
	return g_test_run();
}
