// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio_pci_cfg: the PCI configuration access capability of the virtio PCI transport
 * (virtio 1.2, 4.1.4.9, VIRTIO_PCI_CAP_PCI_CFG), which a device MUST present.  It is a
 * window in configuration space: the driver writes cap.bar, cap.offset and cap.length,
 * then a write to pci_cfg_data becomes a BAR write of the first cap.length bytes at
 * cap.offset, and a read of pci_cfg_data a BAR read of that length whose bytes it then
 * returns.  The access goes through dev_bar_read/dev_bar_write, so it has exactly the
 * effects of the same access through the BAR.
 *
 * Every field is the guest's: a window access is made only when cap.bar names the
 * virtio structures BAR, cap.length is 1, 2 or 4, cap.offset is a multiple of it and
 * the access lies inside the BAR (4.1.4.9.2 forbids the rest).  Otherwise nothing is
 * accessed, a read shows all-ones in pci_cfg_data, and a g_debug line is logged.  The
 * MSI-X BAR is refused on purpose: its table and PBA are the VMM's (proxy/msix.c), so
 * the device could only show stale zeros there.  Only accesses wholly inside
 * pci_cfg_data go through the window; the rest of the capability is plain config space.
 */
#include <errno.h>
#include <inttypes.h>

#include <glib.h>

#include "devices/virtio.h"

#define PCI_CAP_ID_VNDR 0x09
/* struct virtio_pci_cfg_cap (4.1.4.9): the 16-byte virtio_pci_cap, then pci_cfg_data. */
enum {
	PCFG_LEN = 2,
	PCFG_TYPE = 3,
	PCFG_BAR = 4,
	PCFG_OFFSET = 8,
	PCFG_LENGTH = 12,
	PCFG_DATA = 16,
};

static uint32_t le32_at(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

int virtio_pci_cfg_cap_add(struct virtio_dev *vdev)
{
	struct pcicfg *cfg = &vdev->dev.cfg;
	int at = pcicfg_add_cap(cfg, PCI_CAP_ID_VNDR, VIRTIO_PCI_CFG_CAP_LEN);

	if (at < 0)
		return at;
	cfg->data[at + PCFG_LEN] = VIRTIO_PCI_CFG_CAP_LEN;
	cfg->data[at + PCFG_TYPE] = VIRTIO_PCI_CAP_PCI_CFG;
	/* bar, offset, length and pci_cfg_data are the driver's to write; all start 0. */
	cfg->wmask[at + PCFG_BAR] = 0xff;
	for (unsigned i = PCFG_OFFSET; i < VIRTIO_PCI_CFG_CAP_LEN; i++)
		cfg->wmask[at + i] = 0xff;
	vdev->pcicfg_cap = at;
	return 0;
}

/* The access [off, off + size) lies inside pci_cfg_data (size and alignment checked). */
static bool in_window(const struct virtio_dev *vdev, uint32_t off, unsigned size)
{
	uint32_t data = (uint32_t)vdev->pcicfg_cap + PCFG_DATA;

	if (vdev->pcicfg_cap <= 0 || (size != 1 && size != 2 && size != 4) || off % size)
		return false;
	return off >= data && off - data <= 4 - size;
}

/* The window's target from the capability's fields; false if a driver rule is broken. */
static bool window_target(const struct virtio_dev *vdev, uint32_t *bar_off, unsigned *len)
{
	const uint8_t *cap = &vdev->dev.cfg.data[vdev->pcicfg_cap];
	uint8_t bar = cap[PCFG_BAR];
	uint32_t off = le32_at(cap + PCFG_OFFSET), n = le32_at(cap + PCFG_LENGTH);

	if (bar != VIRTIO_PCI_BAR || (n != 1 && n != 2 && n != 4) || off % n ||
	    off > VIRTIO_PCI_BAR_SIZE - n) {
		g_debug("%s: PCI_CFG window on BAR%u offset 0x%" PRIx32 " length %" PRIu32
			" refused",
			vdev->dev.id, bar, off, n);
		return false;
	}
	*bar_off = off;
	*len = n;
	return true;
}

int virtio_pci_cfg_read(struct dev *dev, uint32_t off, unsigned size, uint32_t *val)
{
	struct virtio_dev *vdev = virtio_dev_of(dev);
	uint8_t *data = &dev->cfg.data[vdev->pcicfg_cap + PCFG_DATA];
	uint64_t v = UINT64_MAX;
	uint32_t bar_off;
	unsigned len = 4;

	if (in_window(vdev, off, size)) {
		if (window_target(vdev, &bar_off, &len) &&
		    dev_bar_read(dev, VIRTIO_PCI_BAR, bar_off, len, &v) < 0)
			v = UINT64_MAX;
		/* "store the first cap.length bytes in pci_cfg_data" (4.1.4.9.1) */
		for (unsigned i = 0; i < len; i++)
			data[i] = v >> (8 * i);
	}
	return pcicfg_read(&dev->cfg, off, size, val);
}

int virtio_pci_cfg_write(struct dev *dev, uint32_t off, unsigned size, uint32_t val)
{
	struct virtio_dev *vdev = virtio_dev_of(dev);
	const uint8_t *data = &dev->cfg.data[vdev->pcicfg_cap + PCFG_DATA];
	int ret = pcicfg_write(&dev->cfg, off, size, val);
	uint32_t bar_off;
	uint64_t v = 0;
	unsigned len;

	if (ret < 0 || !in_window(vdev, off, size) || !window_target(vdev, &bar_off, &len))
		return ret;
	/* "using the first cap.length bytes from pci_cfg_data" (4.1.4.9.1) */
	for (unsigned i = 0; i < len; i++)
		v |= (uint64_t)data[i] << (8 * i);
	return dev_bar_write(dev, VIRTIO_PCI_BAR, bar_off, len, v);
}
