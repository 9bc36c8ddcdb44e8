// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio-pcicfg.c: a guest check of the virtio PCI configuration access capability
 * (virtio 1.2, 4.1.4.9, VIRTIO_PCI_CAP_PCI_CFG), which every modern device must
 * present: through its window (cap.bar, cap.offset, cap.length, then pci_cfg_data),
 * read fields of the common configuration and compare them with the same fields read
 * through the BAR, and write one through the window and read it back through the BAR.
 * A driver uses this window when it cannot map BARs; here it only proves the window
 * and the BAR show the same registers.
 *
 * Not a driver path: virtio.c reaches the device through its BARs only.
 */
#include "virtio.h"

#define VIRTIO_CAP_CFG_TYPE 3
#define VIRTIO_CAP_BAR 4
#define VIRTIO_CAP_OFFSET 8
#define VIRTIO_CAP_LENGTH 12
#define VIRTIO_CAP_DATA 16
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_PCI_CFG 5
#define VCC_DFSELECT 0
#define VCC_DF 4
#define VCC_NUM_QUEUES 18
#define VCC_STATUS 20
#define VCC_Q_SELECT 22
#define VCC_Q_SIZE 24

struct pcicfg_win {
	uint16_t bdf;
	unsigned cap;	 /* config offset of the PCI_CFG capability */
	uint8_t bar;	 /* where the common configuration lives */
	uint32_t common; /* its offset in that BAR */
};

static void win_set(const struct pcicfg_win *w, uint32_t field, uint32_t len)
{
	pci_cfg_writeb(w->bdf, w->cap + VIRTIO_CAP_BAR, w->bar);
	pci_cfg_writel(w->bdf, w->cap + VIRTIO_CAP_OFFSET, w->common + field);
	pci_cfg_writel(w->bdf, w->cap + VIRTIO_CAP_LENGTH, len);
}

/* A common configuration field of @len bytes (1, 2 or 4) read through the window. */
static uint32_t win_read(const struct pcicfg_win *w, uint32_t field, uint32_t len)
{
	uint32_t v;

	win_set(w, field, len);
	v = pci_cfg_readl(w->bdf, w->cap + VIRTIO_CAP_DATA);
	return len == 4 ? v : v & ((1u << (8 * len)) - 1);
}

static void win_write(const struct pcicfg_win *w, uint32_t field, uint32_t len, uint32_t v)
{
	win_set(w, field, len);
	pci_cfg_writel(w->bdf, w->cap + VIRTIO_CAP_DATA, v);
}

/* The first PCI_CFG and common-configuration capabilities; false if one is missing. */
static bool win_find(const struct virtio_dev *vd, struct pcicfg_win *w)
{
	int pos = 0;

	*w = (struct pcicfg_win){.bdf = vd->fn->bdf};
	while ((pos = pci_cap_find(w->bdf, PCI_CAP_ID_VNDR, (unsigned)pos)) > 0) {
		uint8_t type = pci_cfg_readb(w->bdf, (unsigned)pos + VIRTIO_CAP_CFG_TYPE);

		if (type == VIRTIO_PCI_CAP_PCI_CFG && !w->cap)
			w->cap = (unsigned)pos;
		if (type == VIRTIO_PCI_CAP_COMMON_CFG && !w->common && !w->bar) {
			w->bar = pci_cfg_readb(w->bdf, (unsigned)pos + VIRTIO_CAP_BAR);
			w->common = pci_cfg_readl(w->bdf, (unsigned)pos + VIRTIO_CAP_OFFSET);
		}
	}
	return w->cap != 0;
}

void virtio_pcicfg_check(const struct virtio_dev *vd)
{
	struct pcicfg_win w;
	bool found = win_find(vd, &w);
	uint32_t a, b;

	if (!report(found, "the device presents a PCI_CFG capability (at 0x%x)", w.cap))
		return;
	a = win_read(&w, VCC_NUM_QUEUES, 2);
	b = readw(vd->common + VCC_NUM_QUEUES);
	report(a == b, "PCI_CFG window: num_queues %u, through the BAR %u", a, b);
	a = win_read(&w, VCC_STATUS, 1);
	b = readb(vd->common + VCC_STATUS);
	report(a == b, "PCI_CFG window: device_status 0x%x (1 byte), through the BAR 0x%x", a, b);
	writew(0, vd->common + VCC_Q_SELECT);
	a = win_read(&w, VCC_Q_SIZE, 2);
	b = readw(vd->common + VCC_Q_SIZE);
	report(a == b && a, "PCI_CFG window: queue 0 size %u, through the BAR %u", a, b);
	/* A write through the window: device_feature_select 1 selects bits 32-63. */
	win_write(&w, VCC_DFSELECT, 4, 1);
	b = readl(vd->common + VCC_DFSELECT);
	a = win_read(&w, VCC_DF, 4);
	report(b == 1 && a == readl(vd->common + VCC_DF) && (a & 1),
	       "PCI_CFG window: a write selects feature word %u, which reads 0x%x (VERSION_1 "
	       "set)",
	       b, a);
	writel(0, vd->common + VCC_DFSELECT);
}
