// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * qmp_pci: the query-pci command, in QEMU's PciInfo shape (qapi/pci.json): bus 0's
 * functions with their IDs, class, interrupt pin and line, BARs (type, address, size,
 * prefetch, 64-bit), qdev_id, and for a PCI-to-PCI bridge its bus numbers, windows and
 * the functions behind it.  Everything is read through config cycles (pcihost), the
 * way a guest sees it, except BAR sizes: sizing a BAR means writing it, which a running
 * guest must not see.  So qmp_pci_probe() sizes bus 0's BARs once, as firmware does,
 * before the vCPUs first run; a hot-plugged function's sizes are the ones it declared
 * (pcifn_bar_sizes(), kept by hotplug.c with its root port).  The ids are the
 * -device ids of bus-0 functions and root ports, and the device_add id of the device
 * in a root port's slot.  Not a PCI model: pcihost.c and proxy/ are.
 */
#include <errno.h>
#include <string.h>

#include "vmm/vmm.h"

#define QMP_PCI_FNS 8
#define QMP_PCI_BARS PCIFN_NUM_BARS

struct qmp_pci {
	uint64_t size[PCIHOST_SLOTS][QMP_PCI_FNS][QMP_PCI_BARS]; /* 0: none */
};

static uint32_t qmp_cfg(struct machine *m, unsigned bus, unsigned dev, unsigned fn, uint32_t reg,
			unsigned size)
{
	return pcihost_cfg_read(m->pci, bus, dev, fn, reg, size);
}

static bool qmp_pci_present(struct machine *m, unsigned bus, unsigned dev, unsigned fn)
{
	return qmp_cfg(m, bus, dev, fn, 0x00, 2) != 0xffff;
}

/* Functions of a device: 8 when function 0's header type has the multi-function bit. */
static unsigned qmp_pci_nr_fns(struct machine *m, unsigned bus, unsigned dev)
{
	return (qmp_cfg(m, bus, dev, 0, 0x0e, 1) & 0x80) ? QMP_PCI_FNS : 1;
}

/* BARs of the function's header type (PCI 3.0 6.1: type 0 has 6, a PCI-to-PCI bridge 2). */
static unsigned qmp_pci_nr_bars(struct machine *m, unsigned bus, unsigned dev, unsigned fn)
{
	switch (qmp_cfg(m, bus, dev, fn, 0x0e, 1) & 0x7f) {
	case 0:
		return 6;
	case 1:
		return 2;
	default:
		return 0;
	}
}

/* PCI 3.0 6.2.5.1: write all-ones, read the mask back, restore; decode off meanwhile. */
static uint64_t qmp_pci_size_bar(struct machine *m, unsigned dev, unsigned fn, unsigned i,
				 bool *wide)
{
	uint32_t reg = 0x10 + 4 * i, orig = qmp_cfg(m, 0, dev, fn, reg, 4), lo, hi = ~0u;
	uint64_t mask;

	pcihost_cfg_write(m->pci, 0, dev, fn, reg, 4, ~0u);
	lo = qmp_cfg(m, 0, dev, fn, reg, 4);
	pcihost_cfg_write(m->pci, 0, dev, fn, reg, 4, orig);
	*wide = !(orig & 1) && (orig & 6) == 4;
	if (*wide) {
		uint32_t orig_hi = qmp_cfg(m, 0, dev, fn, reg + 4, 4);

		pcihost_cfg_write(m->pci, 0, dev, fn, reg + 4, 4, ~0u);
		hi = qmp_cfg(m, 0, dev, fn, reg + 4, 4);
		pcihost_cfg_write(m->pci, 0, dev, fn, reg + 4, 4, orig_hi);
	}
	if (lo == 0 || lo == ~0u)
		return 0;
	if (orig & 1) /* I/O: the upper 16 bits may read as 0 */
		mask = (lo & ~3u) | 0xffff0000u | 0xffffffff00000000ull;
	else
		mask = ((uint64_t)hi << 32) | (lo & ~0xfu);
	return ~mask + 1;
}

/* Every BAR of bus-0 function dev.fn into size[] (0: none), its decode off meanwhile. */
static void qmp_pci_size_all(struct machine *m, unsigned dev, unsigned fn,
			     uint64_t size[QMP_PCI_BARS])
{
	uint32_t cmd = qmp_cfg(m, 0, dev, fn, 0x04, 2);

	if (cmd & 3u)
		pcihost_cfg_write(m->pci, 0, dev, fn, 0x04, 2, cmd & ~3u);
	for (unsigned i = 0; i < qmp_pci_nr_bars(m, 0, dev, fn); i++) {
		bool wide;

		size[i] = qmp_pci_size_bar(m, dev, fn, i, &wide);
		i += wide;
	}
	if (cmd & 3u)
		pcihost_cfg_write(m->pci, 0, dev, fn, 0x04, 2, cmd);
}

int qmp_pci_probe(struct machine *m)
{
	struct qmp_pci *p = g_new0(struct qmp_pci, 1);

	for (unsigned dev = 0; dev < PCIHOST_SLOTS; dev++) {
		for (unsigned fn = 0; fn < qmp_pci_nr_fns(m, 0, dev); fn++) {
			if (qmp_pci_present(m, 0, dev, fn))
				qmp_pci_size_all(m, dev, fn, p->size[dev][fn]);
		}
	}
	g_free(m->qmp_pci);
	m->qmp_pci = p;
	return 0;
}

/* ---- the reply ---- */

static void qmp_add_int(json_object *o, const char *key, int64_t v)
{
	json_object_object_add(o, key, json_object_new_int64(v));
}

/* QEMU's names for the common classes (hw/pci/pci.c pci_class_descriptions). */
static const char *qmp_pci_class_desc(uint16_t cls)
{
	static const struct {
		uint16_t cls;
		const char *desc;
	} t[] = {
		{0x0100, "SCSI controller"},	 {0x0101, "IDE controller"},
		{0x0106, "SATA controller"},	 {0x0108, "NVMe controller"},
		{0x0200, "Ethernet controller"}, {0x0300, "VGA controller"},
		{0x0600, "Host bridge"},	 {0x0601, "ISA bridge"},
		{0x0604, "PCI bridge"},		 {0x0680, "Bridge"},
		{0x0c03, "USB controller"},
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(t); i++)
		if (t[i].cls == cls)
			return t[i].desc;
	return NULL;
}

/* One BAR's PciMemoryRegion; address -1 when its decode is off (QEMU: unmapped). */
static json_object *qmp_pci_region(struct machine *m, unsigned bus, unsigned dev, unsigned fn,
				   unsigned i, uint64_t size, bool *wide)
{
	uint32_t lo = qmp_cfg(m, bus, dev, fn, 0x10 + 4 * i, 4);
	uint16_t cmd = qmp_cfg(m, bus, dev, fn, 0x04, 2);
	bool io = lo & 1;
	uint64_t addr = io ? (lo & ~3u) : (lo & ~0xfu);
	json_object *r = json_object_new_object();

	*wide = !io && (lo & 6) == 4;
	if (*wide)
		addr |= (uint64_t)qmp_cfg(m, bus, dev, fn, 0x14 + 4 * i, 4) << 32;
	qmp_add_int(r, "bar", i);
	json_object_object_add(r, "type", json_object_new_string(io ? "io" : "memory"));
	qmp_add_int(r, "address", (cmd & (io ? 1 : 2)) ? (int64_t)addr : -1);
	qmp_add_int(r, "size", (int64_t)size);
	if (!io) {
		json_object_object_add(r, "prefetch", json_object_new_boolean(lo & 8));
		json_object_object_add(r, "mem_type_64", json_object_new_boolean(*wide));
	}
	return r;
}

/* The BARs whose size[] is known (NULL: none known). */
static json_object *qmp_pci_regions(struct machine *m, unsigned bus, unsigned dev, unsigned fn,
				    const uint64_t *size)
{
	json_object *list = json_object_new_array();

	for (unsigned i = 0; size && i < qmp_pci_nr_bars(m, bus, dev, fn); i++) {
		bool wide = false;

		if (size[i])
			json_object_array_add(list,
					      qmp_pci_region(m, bus, dev, fn, i, size[i], &wide));
		i += wide;
	}
	return list;
}

/* Where a function sits: on bus 0, or in the slot of root port rp (device 0). */
struct qmp_pci_where {
	unsigned bus, dev, fn;
	struct rootport *rp; /* the port whose secondary bus this is, or NULL */
};

/* The root port in bus-0 slot dev, or NULL. */
static struct rootport *qmp_pci_rootport(struct machine *m, unsigned dev)
{
	for (unsigned i = 0; i < m->nr_rp; i++)
		if (rootport_slot(m->rp[i]) == dev)
			return m->rp[i];
	return NULL;
}

/*
 * qdev_id and BAR sizes: a bus-0 function's -device id and probed sizes, a root port's
 * id, the device_add id and sizes of the device in a root port's slot; else "".
 */
static const char *qmp_pci_ident(struct machine *m, const struct qmp_pci_where *w,
				 uint64_t size[QMP_PCI_BARS], bool *sized)
{
	struct rootport *rp;

	*sized = false;
	if (w->rp) {
		const char *id = m->hotplug && w->dev == 0 && w->fn == 0
					 ? hotplug_child_info(m->hotplug, w->rp, size)
					 : NULL;

		*sized = id != NULL;
		return id ? id : "";
	}
	if (w->bus != 0)
		return "";
	if (m->qmp_pci) {
		memcpy(size, m->qmp_pci->size[w->dev][w->fn], QMP_PCI_BARS * sizeof(size[0]));
		*sized = true;
	}
	for (unsigned i = 0; i < m->nr_fn; i++)
		if (m->fn_slot[i] == w->dev)
			return pcifn_id(m->fn[i]);
	rp = qmp_pci_rootport(m, w->dev);
	return rp ? rootport_id(rp) : "";
}

static json_object *qmp_pci_devices(struct machine *m, unsigned bus, unsigned depth,
				    struct rootport *rp);

static json_object *qmp_pci_range(uint64_t base, uint64_t limit)
{
	json_object *r = json_object_new_object();

	qmp_add_int(r, "base", (int64_t)base);
	qmp_add_int(r, "limit", (int64_t)limit);
	return r;
}

/* PciBridgeInfo: bus numbers and windows (PCI-to-PCI Bridge 1.2, 3.2.5), children. */
static json_object *qmp_pci_bridge(struct machine *m, unsigned bus, unsigned dev, unsigned fn,
				   unsigned depth)
{
	json_object *b = json_object_new_object(), *info = json_object_new_object();
	unsigned sec = qmp_cfg(m, bus, dev, fn, 0x19, 1);
	uint64_t io_b = ((qmp_cfg(m, bus, dev, fn, 0x1c, 1) & 0xf0u) << 8) |
			((uint64_t)qmp_cfg(m, bus, dev, fn, 0x30, 2) << 16);
	uint64_t io_l = ((qmp_cfg(m, bus, dev, fn, 0x1d, 1) & 0xf0u) << 8) | 0xfff |
			((uint64_t)qmp_cfg(m, bus, dev, fn, 0x32, 2) << 16);
	uint64_t mb = (uint64_t)(qmp_cfg(m, bus, dev, fn, 0x20, 2) & 0xfff0u) << 16;
	uint64_t ml = ((uint64_t)(qmp_cfg(m, bus, dev, fn, 0x22, 2) & 0xfff0u) << 16) | 0xfffff;
	uint64_t pb = ((uint64_t)(qmp_cfg(m, bus, dev, fn, 0x24, 2) & 0xfff0u) << 16) |
		      ((uint64_t)qmp_cfg(m, bus, dev, fn, 0x28, 4) << 32);
	uint64_t pl = ((uint64_t)(qmp_cfg(m, bus, dev, fn, 0x26, 2) & 0xfff0u) << 16) | 0xfffff |
		      ((uint64_t)qmp_cfg(m, bus, dev, fn, 0x2c, 4) << 32);

	qmp_add_int(info, "number", qmp_cfg(m, bus, dev, fn, 0x18, 1));
	qmp_add_int(info, "secondary", sec);
	qmp_add_int(info, "subordinate", qmp_cfg(m, bus, dev, fn, 0x1a, 1));
	json_object_object_add(info, "io_range", qmp_pci_range(io_b, io_l));
	json_object_object_add(info, "memory_range", qmp_pci_range(mb, ml));
	json_object_object_add(info, "prefetchable_range", qmp_pci_range(pb, pl));
	json_object_object_add(b, "bus", info);
	/* a bus number not above ours would loop: the guest has not numbered it yet */
	if (sec > bus && depth < 8)
		json_object_object_add(b, "devices",
				       qmp_pci_devices(m, sec, depth + 1,
						       bus == 0 ? qmp_pci_rootport(m, dev) : NULL));
	return b;
}

/* PciDeviceInfo. */
static json_object *qmp_pci_device(struct machine *m, const struct qmp_pci_where *w, unsigned depth)
{
	unsigned bus = w->bus, dev = w->dev, fn = w->fn;
	json_object *d = json_object_new_object(), *ci = json_object_new_object();
	json_object *id = json_object_new_object();
	uint16_t cls = qmp_cfg(m, bus, dev, fn, 0x0a, 2);
	unsigned type = qmp_cfg(m, bus, dev, fn, 0x0e, 1) & 0x7f;
	unsigned pin = qmp_cfg(m, bus, dev, fn, 0x3d, 1);
	const char *desc = qmp_pci_class_desc(cls), *qdev_id;
	uint64_t size[QMP_PCI_BARS];
	bool sized;

	qmp_add_int(d, "bus", bus);
	qmp_add_int(d, "slot", dev);
	qmp_add_int(d, "function", fn);
	qmp_add_int(ci, "class", cls);
	if (desc)
		json_object_object_add(ci, "desc", json_object_new_string(desc));
	json_object_object_add(d, "class_info", ci);
	qmp_add_int(id, "vendor", qmp_cfg(m, bus, dev, fn, 0x00, 2));
	qmp_add_int(id, "device", qmp_cfg(m, bus, dev, fn, 0x02, 2));
	if (type == 0) {
		qmp_add_int(id, "subsystem-vendor", qmp_cfg(m, bus, dev, fn, 0x2c, 2));
		qmp_add_int(id, "subsystem", qmp_cfg(m, bus, dev, fn, 0x2e, 2));
	}
	json_object_object_add(d, "id", id);
	qmp_add_int(d, "irq_pin", pin);
	if (pin)
		qmp_add_int(d, "irq", qmp_cfg(m, bus, dev, fn, 0x3c, 1));
	qdev_id = qmp_pci_ident(m, w, size, &sized);
	json_object_object_add(d, "regions", qmp_pci_regions(m, bus, dev, fn, sized ? size : NULL));
	json_object_object_add(d, "qdev_id", json_object_new_string(qdev_id));
	if (type == 1)
		json_object_object_add(d, "pci_bridge", qmp_pci_bridge(m, bus, dev, fn, depth));
	return d;
}

static json_object *qmp_pci_devices(struct machine *m, unsigned bus, unsigned depth,
				    struct rootport *rp)
{
	json_object *list = json_object_new_array();

	for (unsigned dev = 0; dev < PCIHOST_SLOTS; dev++) {
		for (unsigned fn = 0; fn < qmp_pci_nr_fns(m, bus, dev); fn++) {
			struct qmp_pci_where w = {.bus = bus, .dev = dev, .fn = fn, .rp = rp};

			if (qmp_pci_present(m, bus, dev, fn))
				json_object_array_add(list, qmp_pci_device(m, &w, depth));
		}
	}
	return list;
}

int qmp_query_pci(void *opaque, struct qmp_session *s, json_object *args, json_object **ret,
		  GError **err)
{
	struct machine *m = opaque;
	json_object *bus0 = json_object_new_object();

	qmp_add_int(bus0, "bus", 0);
	json_object_object_add(bus0, "devices", qmp_pci_devices(m, 0, 0, NULL));
	*ret = json_object_new_array();
	json_object_array_add(*ret, bus0);
	return 0;
}
