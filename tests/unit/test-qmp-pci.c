// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of query-pci (vmm/qmp_pci.c) without KVM: a host bridge holding a function
 * with a scripted backend and a pcie-root-port, the root port numbered and its slot
 * powered as a guest would, a function in that slot.  Checks the ids (the -device ids
 * of the function and the root port, the id of the device in the slot), the BARs (sizes
 * from qmp_pci_probe(), addresses read live, -1 while decode is off), and
 * pcifn_bar_sizes(), the sizes hotplug.c keeps for a device it plugs, which touches no
 * register.  The same reply with a device plugged by device_add is checked on KVM in
 * /hotplug/path-and-getfd.
 */
#include <string.h>

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

	if (off + size <= sizeof(f->cfg) && off >= 0x04 && off < 0x08) /* command, status */
		memcpy(f->cfg + off, &val, size);
	return 0;
}

static int fake_bar_read(void *be, unsigned bar, uint64_t off, unsigned size, uint64_t *val)
{
	*val = 0;
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

/* 4 KiB of 32-bit memory, 256 bytes of I/O, 1 MiB of 64-bit prefetchable memory. */
static const struct pcifn_bar fake_bars[PCIFN_NUM_BARS] = {
	{.size = 4096},
	{.size = 256, .flags = PCIFN_BAR_IO},
	{.size = 1u << 20, .flags = PCIFN_BAR_MEM64 | PCIFN_BAR_PREFETCH},
};

static struct pcifn *fake_fn(const char *id)
{
	struct fake *f = g_new0(struct fake, 1);
	struct pcifn *fn;

	f->cfg[0x00] = 0xf4; /* 1af4:10ff, class ff, header type 0 */
	f->cfg[0x01] = 0x1a;
	f->cfg[0x02] = 0xff;
	f->cfg[0x03] = 0x10;
	f->cfg[0x0b] = 0xff;
	g_assert_cmpint(pcifn_create(id, &fake_ops, f, fake_bars, &fn), ==, 0);
	return fn;
}

static uint32_t fn_rd(struct pcifn *fn, uint32_t reg, unsigned size)
{
	uint32_t v;

	g_assert_cmpint(pcifn_cfg_read(fn, reg, size, &v), ==, 0);
	return v;
}

/* A hot-plugged function's sizes, as declared: the sizes, and every register as it was. */
static void test_size_fn(void)
{
	struct pcifn *fn = fake_fn("t");
	uint64_t size[PCIFN_NUM_BARS];
	uint32_t before[PCIFN_NUM_BARS];

	pcifn_cfg_write(fn, 0x10, 4, 0xc0000000u);
	pcifn_cfg_write(fn, 0x14, 4, 0xc100);
	pcifn_cfg_write(fn, 0x18, 4, 0x00100000u);
	pcifn_cfg_write(fn, 0x1c, 4, 0x1);
	pcifn_cfg_write(fn, 0x04, 2, 0x7); /* decode on */
	for (unsigned i = 0; i < PCIFN_NUM_BARS; i++)
		before[i] = fn_rd(fn, 0x10 + 4 * i, 4);
	pcifn_bar_sizes(fn, size);
	g_assert_cmpuint(size[0], ==, 4096);
	g_assert_cmpuint(size[1], ==, 256);
	g_assert_cmpuint(size[2], ==, 1u << 20);
	for (unsigned i = 3; i < PCIFN_NUM_BARS; i++)
		g_assert_cmpuint(size[i], ==, 0); /* the upper half, and none */
	for (unsigned i = 0; i < PCIFN_NUM_BARS; i++)
		g_assert_cmphex(fn_rd(fn, 0x10 + 4 * i, 4), ==, before[i]);
	g_assert_cmphex(fn_rd(fn, 0x04, 2), ==, 0x7);
	pcifn_destroy(fn);
}

static json_object *pci_find(json_object *devs, const char *qdev_id)
{
	for (size_t i = 0; devs && i < json_object_array_length(devs); i++) {
		json_object *d = json_object_array_get_idx(devs, i);

		if (!g_strcmp0(json_object_get_string(json_object_object_get(d, "qdev_id")),
			       qdev_id))
			return d;
	}
	return NULL;
}

static int64_t jint(json_object *o, const char *key)
{
	json_object *v;

	g_assert_true(json_object_object_get_ex(o, key, &v));
	return json_object_get_int64(v);
}

static json_object *query_pci(struct machine *m)
{
	json_object *args = json_object_new_object(), *ret = NULL;
	GError *err = NULL;

	g_assert_cmpint(qmp_query_pci(m, NULL, args, &ret, &err), ==, 0);
	g_assert_no_error(err);
	json_object_put(args);
	return ret;
}

static void assert_region(json_object *regs, unsigned idx, unsigned bar, const char *type,
			  int64_t addr, int64_t size)
{
	json_object *r = json_object_array_get_idx(regs, idx);

	g_assert_nonnull(r);
	g_assert_cmpint(jint(r, "bar"), ==, bar);
	g_assert_cmpstr(json_object_get_string(json_object_object_get(r, "type")), ==, type);
	g_assert_cmpint(jint(r, "address"), ==, addr);
	g_assert_cmpint(jint(r, "size"), ==, size);
}

struct fx_machine {
	struct machine m;
	unsigned fn_slot, rp_slot;
};

static void machine_build(struct fx_machine *x)
{
	struct machine *m = &x->m;
	json_object *props = json_object_new_object();
	GError *err = NULL;

	g_assert_cmpint(pcihost_create(&m->io, VMM_ECAM_BASE, &m->pci), ==, 0);
	g_assert_cmpint(vmirq_create(&m->irq), ==, 0);
	m->fn[0] = fake_fn("t0");
	g_assert_cmpint(pcihost_attach(m->pci, m->fn[0], &m->fn_slot[0]), ==, 0);
	m->nr_fn = 1;
	x->fn_slot = m->fn_slot[0];
	g_assert_cmpint(rootport_create(m, "rp0", props, &m->rp[0], &err), ==, 0);
	g_assert_no_error(err);
	json_object_put(props);
	m->nr_rp = 1;
	x->rp_slot = rootport_slot(m->rp[0]);
	g_assert_cmpint(hotplug_create(m, &m->hotplug), ==, 0);
	g_assert_cmpint(qmp_pci_probe(m), ==, 0);
}

static void machine_free(struct fx_machine *x)
{
	hotplug_destroy(x->m.hotplug);
	pcihost_destroy(x->m.pci); /* the function, the port and the device in its slot */
	vmirq_destroy(x->m.irq);
	g_free(x->m.qmp_pci);
}

/* Bus 0: the function's id and BARs, the root port's id; then a device in its slot. */
static void test_query_pci(void)
{
	struct fx_machine x = {0};
	struct machine *m = &x.m;
	json_object *r, *devs, *d, *br;

	machine_build(&x);
	/* firmware's part: BAR0 and BAR2 placed, memory decode on, I/O decode off */
	pcihost_cfg_write(m->pci, 0, x.fn_slot, 0, 0x10, 4, 0xc0000000u);
	pcihost_cfg_write(m->pci, 0, x.fn_slot, 0, 0x14, 4, 0xc000);
	pcihost_cfg_write(m->pci, 0, x.fn_slot, 0, 0x18, 4, 0xc0100000u);
	pcihost_cfg_write(m->pci, 0, x.fn_slot, 0, 0x1c, 4, 0x1);
	pcihost_cfg_write(m->pci, 0, x.fn_slot, 0, 0x04, 2, 0x2);
	r = query_pci(m);
	devs = json_object_object_get(json_object_array_get_idx(r, 0), "devices");
	g_assert_nonnull(pci_find(devs, "")); /* the host bridge */
	d = pci_find(devs, "t0");
	g_assert_nonnull(d);
	g_assert_cmpint(jint(d, "slot"), ==, x.fn_slot);
	g_assert_cmpuint(json_object_array_length(json_object_object_get(d, "regions")), ==, 3);
	assert_region(json_object_object_get(d, "regions"), 0, 0, "memory", 0xc0000000, 4096);
	assert_region(json_object_object_get(d, "regions"), 1, 1, "io", -1, 256);
	assert_region(json_object_object_get(d, "regions"), 2, 2, "memory", 0x1c0100000ll, 1 << 20);
	d = pci_find(devs, "rp0");
	g_assert_nonnull(d);
	g_assert_cmpint(jint(d, "slot"), ==, x.rp_slot);
	g_assert_cmpuint(json_object_array_length(json_object_object_get(d, "regions")), ==, 0);
	g_assert_true(json_object_object_get_ex(d, "pci_bridge", &br));
	json_object_put(r);

	/* the guest's part: bus 1 behind the port, the slot powered; a device plugged */
	pcihost_cfg_write(m->pci, 0, x.rp_slot, 0, 0x18, 4, 0x00010100u);
	g_assert_cmpint(rootport_plug(m->rp[0], fake_fn("c0")), ==, 0);
	pcihost_cfg_write(m->pci, 0, x.rp_slot, 0, 0x58, 2, 0x0000); /* Slot Control: power */
	r = query_pci(m);
	devs = json_object_object_get(json_object_array_get_idx(r, 0), "devices");
	g_assert_true(json_object_object_get_ex(pci_find(devs, "rp0"), "pci_bridge", &br));
	g_assert_cmpint(jint(json_object_object_get(br, "bus"), "secondary"), ==, 1);
	devs = json_object_object_get(br, "devices");
	g_assert_cmpuint(json_object_array_length(devs), ==, 1);
	d = pci_find(devs, "c0");
	g_assert_nonnull(d);
	g_assert_cmpint(jint(d, "bus"), ==, 1);
	g_assert_cmpint(jint(d, "slot"), ==, 0);
	/* plugged behind hotplug.c's back, so its sizes are unknown: no regions rather
	 * than guessed ones (device_add sizes it first: /hotplug/path-and-getfd) */
	g_assert_cmpuint(json_object_array_length(json_object_object_get(d, "regions")), ==, 0);
	json_object_put(r);
	machine_free(&x);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vmm/qmp-pci/size-fn", test_size_fn);
	g_test_add_func("/vmm/qmp-pci/query", test_query_pci);
	return g_test_run();
}
