// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of mpvmm's firmware PCI resource assignment (vmm/firmware.c) on a host
 * bridge holding in-process pci-testdevs, a function with a scripted backend (a
 * 32-bit, an I/O, a large and a small 64-bit BAR, interrupt pin A) and a vfio-user
 * proxied pci-testdev served by the real remote/ server over a socketpair.  Checks the
 * addresses (largest first, naturally aligned, I/O from 0xc000, the 32-bit hole,
 * large 64-bit BARs above RAM), the command bits, the interrupt line, that the BARs
 * decode, that a guest can move a BAR afterwards, and that an oversized BAR fails
 * with a clear message.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "remote/remote.h"
#include "vmm/vmm.h"

struct fake {
	uint8_t cfg[256];
};

static int fake_cfg_read(void *be, uint32_t off, unsigned size, uint32_t *val)
{
	struct fake *f = be;

	*val = 0;
	if (off + size <= sizeof(f->cfg))
		memcpy(val, f->cfg + off, size);
	return 0;
}

static int fake_cfg_write(void *be, uint32_t off, unsigned size, uint32_t val)
{
	struct fake *f = be;

	if (off + size <= sizeof(f->cfg) && off != 0x3d) /* the pin is read-only */
		memcpy(f->cfg + off, &val, size);
	return 0;
}

static int fake_bar_read(void *be, unsigned bar, uint64_t off, unsigned size, uint64_t *val)
{
	*val = 0x5a;
	return 0;
}

static int fake_bar_write(void *be, unsigned bar, uint64_t off, unsigned size, uint64_t val)
{
	return 0;
}

static const struct pcifn_backend_ops fake_ops = {
	.cfg_read = fake_cfg_read,
	.cfg_write = fake_cfg_write,
	.bar_read = fake_bar_read,
	.bar_write = fake_bar_write,
	.destroy = g_free,
};

static void attach_fake(struct pcihost *h, uint64_t bar0, unsigned want_slot)
{
	const struct pcifn_bar bars[PCIFN_NUM_BARS] = {
		{bar0, 0}, {0x20, PCIFN_BAR_IO},       {512ULL << 20, PCIFN_BAR_MEM64},
		{0, 0},	   {0x10000, PCIFN_BAR_MEM64}, {0, 0},
	};
	struct fake *f = g_new0(struct fake, 1);
	struct pcifn *fn;
	unsigned slot;

	f->cfg[0] = 0x34, f->cfg[1] = 0x12; /* 1234:0001 */
	f->cfg[2] = 0x01;
	f->cfg[0x3d] = 1; /* INTA# */
	g_assert_cmpint(pcifn_create("fake", &fake_ops, f, bars, &fn), ==, 0);
	g_assert_cmpint(pcihost_attach(h, fn, &slot), ==, 0);
	g_assert_cmpuint(slot, ==, want_slot);
}

static void attach_testdev(struct pcihost *h, unsigned want_slot)
{
	json_object *props = json_object_new_object();
	struct pcifn *fn;
	unsigned slot;

	g_assert_cmpint(localdev_create("pci-testdev", "t", props, NULL, &fn, NULL), ==, 0);
	g_assert_cmpint(pcihost_attach(h, fn, &slot), ==, 0);
	g_assert_cmpuint(slot, ==, want_slot);
	json_object_put(props);
}

static uint32_t cfg(struct pcihost *h, unsigned slot, uint32_t reg, unsigned size)
{
	return pcihost_cfg_read(h, 0, slot, 0, reg, size);
}

static void test_assign(void)
{
	struct ioport_table io = {0};
	struct pcihost *h;
	uint64_t v;

	g_assert_cmpint(pcihost_create(&io, VMM_ECAM_BASE, &h), ==, 0);
	attach_testdev(h, 1);
	attach_fake(h, 0x1000, 2);
	attach_testdev(h, 3);
	g_assert_cmpint(firmware_assign_pci(h, 1ULL << 32, NULL), ==, 0);
	/* 32-bit hole, largest first: fake BAR4 (64K, 64-bit but small), then the 4K ones. */
	g_assert_cmphex(cfg(h, 2, 0x20, 4), ==, 0xc0000004);
	g_assert_cmphex(cfg(h, 2, 0x24, 4), ==, 0);
	g_assert_cmphex(cfg(h, 1, 0x10, 4), ==, 0xc0010000);
	g_assert_cmphex(cfg(h, 2, 0x10, 4), ==, 0xc0011000);
	g_assert_cmphex(cfg(h, 3, 0x10, 4), ==, 0xc0012000);
	/* I/O from 0xc000: the two 256-byte BARs, then the 32-byte one. */
	g_assert_cmphex(cfg(h, 1, 0x14, 4), ==, 0xc001);
	g_assert_cmphex(cfg(h, 3, 0x14, 4), ==, 0xc101);
	g_assert_cmphex(cfg(h, 2, 0x14, 4), ==, 0xc201);
	/* The 512M 64-bit BAR above 4G. */
	g_assert_cmphex(cfg(h, 2, 0x18, 4), ==, 0x4);
	g_assert_cmphex(cfg(h, 2, 0x1c, 4), ==, 0x1);
	/* Command: I/O, memory, bus master; interrupt line from the pin (slot 2, INTA: 11). */
	g_assert_cmphex(cfg(h, 1, 0x04, 2) & 7, ==, 7);
	g_assert_cmphex(cfg(h, 2, 0x04, 2) & 7, ==, 7);
	g_assert_cmpuint(cfg(h, 2, 0x3d, 1), ==, 1);
	g_assert_cmpuint(cfg(h, 2, 0x3c, 1), ==, 11);
	g_assert_cmpuint(cfg(h, 1, 0x3d, 1), ==, 0); /* pci-testdev has no pin */
	/* The BARs decode where they were put. */
	g_assert_true(pcihost_mmio(h, 0xc0010000, 4, false, &v));
	g_assert_true(pcihost_mmio(h, 0x100000000ULL + 8, 4, false, &v));
	g_assert_cmphex(v, ==, 0x5a);
	g_assert_true(pcihost_pio(h, 0xc201, 1, false, &v));
	g_assert_false(pcihost_pio(h, 0xc300, 1, false, &v));
	/* A guest moves slot 1's BAR0: the old address stops decoding. */
	pcihost_cfg_write(h, 0, 1, 0, 0x10, 4, 0xd0000000);
	g_assert_true(pcihost_mmio(h, 0xd0000000, 4, false, &v));
	g_assert_false(pcihost_mmio(h, 0xc0010000, 4, false, &v));
	pcihost_destroy(h);
}

/* A pci-testdev "t0" served by remote/'s vfio-user server on its own thread. */
struct rdev {
	struct dev *dev;
	struct vfu_server *vs;
	int sv[2]; /* the proxy's end (which it owns), the server's end */
	GThread *thread;
};

static gpointer rdev_serve(gpointer opaque)
{
	struct rdev *r = opaque;

	while (vfu_server_handle(r->vs, false) == 0)
		;
	return NULL; /* the proxy closed its end */
}

/* Start the remote (with INTA#, unlike QEMU's pci-testdev) and put its proxy in a slot. */
static void attach_proxy(struct pcihost *h, struct rdev *r, unsigned want_slot)
{
	static const struct dev_env env = {0};
	g_autoptr(GError) err = NULL;
	g_autofree char *msg = NULL;
	struct pcifn *fn;
	unsigned slot;

	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, r->sv), ==, 0);
	g_assert_cmpint(dev_create("pci-testdev", "t0", &env, NULL, &r->dev, &msg), ==, 0);
	r->dev->cfg.data[0x3d] = 1;
	g_assert_cmpint(vfu_server_create(r->dev, r->sv[1], &r->vs), ==, 0);
	r->thread = g_thread_new("rdev", rdev_serve, r);
	g_assert_cmpint(proxy_connect("t0", r->sv[0], NULL, &fn, &err), ==, 0);
	g_assert_cmpint(pcihost_attach(h, fn, &slot), ==, 0);
	g_assert_cmpuint(slot, ==, want_slot);
}

/*
 * firmware_assign_pci() on a proxied function (pcifn over vfio-user, BAR registers
 * virtualized in the VMM, everything else a message to the remote) next to an
 * in-VMM one: its BARs are placed, its command and interrupt line reach the remote
 * device, its BARs decode to the remote, and a guest can still move them.
 */
static void test_proxy(void)
{
	struct ioport_table io = {0};
	struct rdev r = {0};
	struct pcihost *h;
	uint64_t v;

	g_assert_cmpint(pcihost_create(&io, VMM_ECAM_BASE, &h), ==, 0);
	attach_testdev(h, 1);
	attach_proxy(h, &r, 2);
	g_assert_cmpint(firmware_assign_pci(h, 1ULL << 32, NULL), ==, 0);
	/* Two 4K memory BARs, then two 256-byte I/O BARs, in slot order. */
	g_assert_cmphex(cfg(h, 1, 0x10, 4), ==, 0xc0000000);
	g_assert_cmphex(cfg(h, 2, 0x10, 4), ==, 0xc0001000);
	g_assert_cmphex(cfg(h, 1, 0x14, 4), ==, 0xc001);
	g_assert_cmphex(cfg(h, 2, 0x14, 4), ==, 0xc101);
	g_assert_cmphex(cfg(h, 2, 0x04, 2) & 7, ==, 7); /* I/O, memory, bus master */
	g_assert_cmpuint(cfg(h, 2, 0x3d, 1), ==, 1);
	g_assert_cmpuint(cfg(h, 2, 0x3c, 1), ==, 11); /* slot 2, INTA: PIRQC -> IRQ 11 */
	/* Byte 0 of either BAR starts test (space * 3 + byte); reads show its number. */
	g_assert_true(pcihost_pio(h, 0xc100, 1, true, &(uint64_t){0}));
	g_assert_true(pcihost_pio(h, 0xc100, 1, false, &v));
	g_assert_cmphex(v, ==, 3); /* portio-no-eventfd */
	g_assert_true(pcihost_mmio(h, 0xc0001000, 1, true, &(uint64_t){2}));
	g_assert_true(pcihost_mmio(h, 0xc0001000, 1, false, &v));
	g_assert_cmphex(v, ==, 2); /* mmio-datamatch-eventfd */
	/* The guest moves BAR0: the remote answers at the new address only. */
	pcihost_cfg_write(h, 0, 2, 0, 0x10, 4, 0xd0000000);
	g_assert_cmphex(cfg(h, 2, 0x10, 4), ==, 0xd0000000);
	g_assert_true(pcihost_mmio(h, 0xd0000000, 1, false, &v));
	g_assert_cmphex(v, ==, 2);
	g_assert_false(pcihost_mmio(h, 0xc0001000, 1, false, &v));
	pcihost_destroy(h); /* closes the proxy's socket: the server loop ends */
	g_thread_join(r.thread);
	/* What firmware wrote reached the remote device's own config space. */
	g_assert_cmphex(r.dev->cfg.data[0x04] & 7, ==, 7);
	g_assert_cmpuint(r.dev->cfg.data[0x3c], ==, 11);
	vfu_server_destroy(r.vs);
	close(r.sv[1]);
	dev_destroy(r.dev);
}

/* RAM above 4G: large 64-bit BARs go above it, naturally aligned. */
static void test_high_ram(void)
{
	struct ioport_table io = {0};
	struct pcihost *h;

	g_assert_cmpint(pcihost_create(&io, VMM_ECAM_BASE, &h), ==, 0);
	attach_fake(h, 0x1000, 1);
	g_assert_cmpint(firmware_assign_pci(h, 0x150000000ULL, NULL), ==, 0);
	g_assert_cmphex(cfg(h, 1, 0x18, 4) | (uint64_t)cfg(h, 1, 0x1c, 4) << 32, ==,
			0x160000004ULL); /* 64-bit memory BAR at 0x160000000: 512M-aligned */
	pcihost_destroy(h);
}

static void test_no_room(void)
{
	struct ioport_table io = {0};
	g_autoptr(GError) err = NULL;
	struct pcihost *h;

	g_assert_cmpint(pcihost_create(&io, VMM_ECAM_BASE, &h), ==, 0);
	attach_fake(h, 1ULL << 30, 1); /* a 1G 32-bit BAR: the hole is smaller */
	g_assert_cmpint(firmware_assign_pci(h, 1ULL << 32, &err), ==, -ENOSPC);
	g_assert_nonnull(strstr(err->message, "00:01.0 BAR0: no room for 0x40000000"));
	pcihost_destroy(h);
}

static void test_empty_bus(void)
{
	struct ioport_table io = {0};
	struct pcihost *h;

	g_assert_cmpint(pcihost_create(&io, VMM_ECAM_BASE, &h), ==, 0);
	g_assert_cmpint(firmware_assign_pci(h, 1ULL << 32, NULL), ==, 0);
	g_assert_cmphex(cfg(h, 0, 0x04, 2), ==, 0); /* the bridge is left alone */
	pcihost_destroy(h);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vmm/firmware/assign", test_assign);
	g_test_add_func("/vmm/firmware/proxy", test_proxy);
	g_test_add_func("/vmm/firmware/high-ram", test_high_ram);
	g_test_add_func("/vmm/firmware/no-room", test_no_room);
	g_test_add_func("/vmm/firmware/empty-bus", test_empty_bus);
	return g_test_run();
}
