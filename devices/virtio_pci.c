// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio_pci: the virtio 1.x modern PCI transport (virtio 1.1, 4.1), written once for
 * every virtio device model.  It lays out the vendor-specific capabilities (common
 * configuration, notifications, ISR, device configuration) in one memory BAR and the
 * MSI-X table/PBA in another, runs the device status state machine and feature
 * negotiation, keeps the per-queue registers, turns a notification (a bar_write or a
 * doorbell eventfd) into calls of the device's handle op, and signals the driver by
 * MSI-X vector or, with MSI-X disabled, INTx plus the ISR.  The PCI configuration
 * access capability is virtio_pci_cfg.c.  It is not a device: what a request means is
 * the device's business.  Legacy (0.9.5) and transitional devices and EVENT_IDX are not
 * implemented.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <glib.h>

#include "devices/virtio.h"

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040 /* modern device IDs: 0x1040 + virtio ID (4.1.2) */
#define VIRTIO_PCI_SUBSYS 0x1100
#define VIRTIO_PCI_MSIX_BAR_SIZE 0x1000
#define VIRTIO_PCI_PBA 0x800

/* Capability (4.1.4): cap_vndr 0x09, next, len, cfg_type, bar, id, pad[2], offset, length. */
#define PCI_CAP_ID_VNDR 0x09
#define VCAP_LEN 16
#define VCAP_NOTIFY_LEN 20
enum { VCAP_COMMON = 1, VCAP_NOTIFY = 2, VCAP_ISR = 3, VCAP_DEVICE = 4 };

/* Common configuration structure (4.1.4.3), byte offsets. */
enum {
	CC_DFSELECT = 0,
	CC_DF = 4,
	CC_GFSELECT = 8,
	CC_GF = 12,
	CC_MSIX = 16,
	CC_NUMQ = 18,
	CC_STATUS = 20,
	CC_CFGGEN = 21,
	CC_Q_SELECT = 22,
	CC_Q_SIZE = 24,
	CC_Q_MSIX = 26,
	CC_Q_ENABLE = 28,
	CC_Q_NOFF = 30,
	CC_Q_DESC = 32,
	CC_Q_DRIVER = 40,
	CC_Q_DEVICE = 48,
	CC_SIZE = 56,
};

/* ISR status bits (4.1.4.5). */
#define VIRTIO_ISR_QUEUE 1
#define VIRTIO_ISR_CONFIG 2

#define MSIX_CTRL_ENABLE 0x80 /* bit 15 of message control, in its high byte */

struct virtio_dev *virtio_dev_of(struct dev *dev)
{
	return (struct virtio_dev *)((char *)dev - offsetof(struct virtio_dev, dev));
}

static void put_le(uint8_t *p, uint64_t v, unsigned size)
{
	for (unsigned i = 0; i < size; i++)
		p[i] = v >> (8 * i);
}

static uint64_t get_le(const uint8_t *p, unsigned size)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static int add_vcap(struct pcicfg *cfg, uint8_t type, uint32_t off, uint32_t len)
{
	int at = pcicfg_add_cap(cfg, PCI_CAP_ID_VNDR,
				type == VCAP_NOTIFY ? VCAP_NOTIFY_LEN : VCAP_LEN);

	if (at < 0)
		return at;
	cfg->data[at + 2] = type == VCAP_NOTIFY ? VCAP_NOTIFY_LEN : VCAP_LEN;
	cfg->data[at + 3] = type;
	cfg->data[at + 4] = VIRTIO_PCI_BAR;
	put_le(&cfg->data[at + 8], off, 4);
	put_le(&cfg->data[at + 12], len, 4);
	if (type == VCAP_NOTIFY)
		put_le(&cfg->data[at + 16], VIRTIO_PCI_NOTIFY_MULT, 4);
	return 0;
}

static int virtio_pci_caps(struct virtio_dev *vdev)
{
	struct pcicfg *cfg = &vdev->dev.cfg;
	int ret;

	ret = add_vcap(cfg, VCAP_COMMON, VIRTIO_PCI_COMMON, CC_SIZE);
	if (ret >= 0)
		ret = add_vcap(cfg, VCAP_NOTIFY, VIRTIO_PCI_NOTIFY,
			       vdev->nr_queues * VIRTIO_PCI_NOTIFY_MULT);
	if (ret >= 0)
		ret = add_vcap(cfg, VCAP_ISR, VIRTIO_PCI_ISR, 1);
	if (ret >= 0 && vdev->config_size)
		ret = add_vcap(cfg, VCAP_DEVICE, VIRTIO_PCI_DEVICE, vdev->config_size);
	if (ret >= 0)
		ret = virtio_pci_cfg_cap_add(vdev);
	if (ret < 0)
		return ret;
	/* One vector per queue plus one for configuration changes. */
	vdev->msix_cap = pcicfg_add_msix(cfg, vdev->nr_queues + 1, VIRTIO_PCI_MSIX_BAR, 0,
					 VIRTIO_PCI_MSIX_BAR, VIRTIO_PCI_PBA);
	return vdev->msix_cap < 0 ? vdev->msix_cap : 0;
}

static void virtio_pci_doorbells(struct virtio_dev *vdev)
{
	for (unsigned q = 0; q < vdev->nr_queues; q++) {
		vdev->doorbell[q] = (struct dev_doorbell){
			.bar = VIRTIO_PCI_BAR,
			.off = VIRTIO_PCI_NOTIFY + q * VIRTIO_PCI_NOTIFY_MULT,
			.size = 2, /* the driver writes the le16 queue index (4.1.5.2) */
		};
	}
	vdev->dev.doorbells = vdev->doorbell;
	vdev->dev.nr_doorbells = vdev->nr_queues;
}

static void virtio_pci_state_reset(struct virtio_dev *vdev)
{
	bool intx = vdev->isr != 0;

	vdev->guest_features = 0;
	vdev->dfselect = vdev->gfselect = 0;
	vdev->status = 0;
	vdev->isr = 0;
	vdev->config_vector = VIRTIO_MSI_NO_VECTOR;
	vdev->queue_sel = 0;
	for (unsigned q = 0; q < VIRTIO_PCI_MAX_QUEUES; q++)
		virtq_reset(&vdev->vq[q]);
	if (intx)
		irq_set_intx(vdev->dev.env.irq, false);
	if (vdev->ops->reset)
		vdev->ops->reset(vdev);
}

int virtio_pci_init(struct virtio_dev *vdev, const struct virtio_pci_params *p,
		    const struct virtio_dev_ops *ops)
{
	const struct pcicfg_ident ident = {
		.vendor = VIRTIO_PCI_VENDOR,
		.device = VIRTIO_PCI_DEVICE_BASE + p->device_id,
		.subsys_vendor = VIRTIO_PCI_VENDOR,
		.subsys = VIRTIO_PCI_SUBSYS,
		.revision = 1, /* modern-only devices have revision >= 1 (4.1.2.1) */
		.class_code = p->class_code,
		.int_pin = 1,
	};
	const struct pcicfg_bar bars[PCI_NUM_BARS] = {
		[VIRTIO_PCI_MSIX_BAR] = {.size = VIRTIO_PCI_MSIX_BAR_SIZE},
		[VIRTIO_PCI_BAR] = {.size = VIRTIO_PCI_BAR_SIZE, .flags = PCI_BAR_MEM64},
	};
	int ret;

	if (p->nr_queues == 0 || p->nr_queues > VIRTIO_PCI_MAX_QUEUES ||
	    p->config_size > VIRTIO_PCI_CFG_MAX)
		return -EINVAL;
	ret = pcicfg_init(&vdev->dev.cfg, &ident, bars);
	if (ret < 0)
		return ret;
	vdev->ops = ops;
	vdev->nr_queues = p->nr_queues;
	vdev->host_features =
		p->features | BIT64(VIRTIO_F_VERSION_1) | BIT64(VIRTIO_F_INDIRECT_DESC);
	vdev->config = p->config;
	vdev->config_size = p->config_size;
	ret = virtio_pci_caps(vdev);
	if (ret < 0)
		return ret;
	virtio_pci_doorbells(vdev);
	virtio_pci_state_reset(vdev);
	return 0;
}

static bool msix_enabled(const struct virtio_dev *vdev)
{
	/* The VMM forwards config writes, so message control here is the guest's. */
	return vdev->dev.cfg.data[vdev->msix_cap + 3] & MSIX_CTRL_ENABLE;
}

/* Signal the driver: MSI-X vector, or INTx with ISR bit (4.1.4.5). */
static void virtio_pci_signal(struct virtio_dev *vdev, uint16_t vector, uint8_t isr_bit)
{
	/* The configuration bit is set with MSI-X too; the queue bit only for INTx. */
	if (msix_enabled(vdev)) {
		vdev->isr |= isr_bit & VIRTIO_ISR_CONFIG;
		if (vector != VIRTIO_MSI_NO_VECTOR)
			irq_raise(vdev->dev.env.irq, vector);
		return;
	}
	vdev->isr |= isr_bit;
	irq_set_intx(vdev->dev.env.irq, true);
}

void virtio_pci_error(struct virtio_dev *vdev)
{
	if (vdev->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	g_debug("%s: device needs reset", vdev->dev.id);
	vdev->status |= VIRTIO_STATUS_NEEDS_RESET;
	/* A configuration change notification tells the driver (2.1.2). */
	if (vdev->status & VIRTIO_STATUS_DRIVER_OK)
		virtio_pci_signal(vdev, vdev->config_vector, VIRTIO_ISR_CONFIG);
}

/* Serve everything available on queue q, then signal once. */
static void virtio_pci_notify(struct virtio_dev *vdev, unsigned q)
{
	struct virtq *vq = &vdev->vq[q];
	const struct gmem *mem = vdev->dev.env.mem;
	bool pushed = false;
	int ret;

	if (!(vdev->status & VIRTIO_STATUS_DRIVER_OK) || !vq->enabled ||
	    vdev->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	while ((ret = virtq_pop(vq, mem, &vdev->req)) > 0) {
		uint32_t len = vdev->ops->handle(vdev, q, &vdev->req);

		/* Copies of buffers without a host mapping go back first (virtqueue.c). */
		ret = virtq_req_complete(&vdev->req, mem, MIN(len, vdev->req.in_len));
		if (ret == 0)
			ret = virtq_push(vq, mem, vdev->req.head, MIN(len, vdev->req.in_len));
		if (ret < 0)
			break;
		pushed = true;
	}
	if (ret < 0)
		virtio_pci_error(vdev);
	if (pushed && virtq_want_irq(vq, mem))
		virtio_pci_signal(vdev, vq->msix_vector, VIRTIO_ISR_QUEUE);
}

void virtio_pci_doorbell(struct dev *dev, unsigned index)
{
	struct virtio_dev *vdev = virtio_dev_of(dev);

	if (index < vdev->nr_queues)
		virtio_pci_notify(vdev, index);
}

void virtio_pci_reset(struct dev *dev)
{
	virtio_pci_state_reset(virtio_dev_of(dev));
}

/* The common configuration structure as the driver sees it now (4.1.4.3). */
static void common_snapshot(const struct virtio_dev *vdev, uint8_t *cc)
{
	const struct virtq *vq =
		vdev->queue_sel < vdev->nr_queues ? &vdev->vq[vdev->queue_sel] : NULL;
	uint64_t df = vdev->dfselect < 2 ? vdev->host_features >> (32 * vdev->dfselect) : 0;
	uint64_t gf = vdev->gfselect < 2 ? vdev->guest_features >> (32 * vdev->gfselect) : 0;

	memset(cc, 0, CC_SIZE);
	put_le(cc + CC_DFSELECT, vdev->dfselect, 4);
	put_le(cc + CC_DF, (uint32_t)df, 4);
	put_le(cc + CC_GFSELECT, vdev->gfselect, 4);
	put_le(cc + CC_GF, (uint32_t)gf, 4);
	put_le(cc + CC_MSIX, vdev->config_vector, 2);
	put_le(cc + CC_NUMQ, vdev->nr_queues, 2);
	cc[CC_STATUS] = vdev->status;
	cc[CC_CFGGEN] = 0; /* the device configuration never changes under the driver */
	put_le(cc + CC_Q_SELECT, vdev->queue_sel, 2);
	if (!vq)
		return; /* queue_size 0: no such queue (4.1.4.3.2) */
	put_le(cc + CC_Q_SIZE, vq->size, 2);
	put_le(cc + CC_Q_MSIX, vq->msix_vector, 2);
	put_le(cc + CC_Q_ENABLE, vq->enabled, 2);
	put_le(cc + CC_Q_NOFF, vdev->queue_sel, 2);
	put_le(cc + CC_Q_DESC, vq->desc, 8);
	put_le(cc + CC_Q_DRIVER, vq->avail, 8);
	put_le(cc + CC_Q_DEVICE, vq->used, 8);
}

/* A vector the MSI-X table has, or NO_VECTOR, which the driver reads back (4.1.5.1.2). */
static uint16_t check_vector(const struct virtio_dev *vdev, uint64_t v)
{
	return v < vdev->nr_queues + 1u ? v : VIRTIO_MSI_NO_VECTOR;
}

/*
 * Device status (2.1, 3.1.1): 0 resets; otherwise the driver only adds bits.
 * FEATURES_OK sticks only if we accept the features; DRIVER_OK needs FEATURES_OK.
 */
static void write_status(struct virtio_dev *vdev, uint8_t val)
{
	uint8_t old = vdev->status & ~VIRTIO_STATUS_NEEDS_RESET;

	if (val == 0) {
		virtio_pci_state_reset(vdev);
		return;
	}
	if (old & ~val) {
		g_debug("%s: status 0x%x clears bits of 0x%x; ignored", vdev->dev.id, val, old);
		return;
	}
	if (val & VIRTIO_STATUS_FEATURES_OK && !(old & VIRTIO_STATUS_FEATURES_OK) &&
	    (vdev->guest_features & ~vdev->host_features ||
	     !(vdev->guest_features & BIT64(VIRTIO_F_VERSION_1)))) {
		g_debug("%s: features 0x%" G_GINT64_MODIFIER "x refused", vdev->dev.id,
			vdev->guest_features);
		val &= ~VIRTIO_STATUS_FEATURES_OK;
	}
	if (!(val & VIRTIO_STATUS_FEATURES_OK))
		val &= ~VIRTIO_STATUS_DRIVER_OK;
	vdev->status = val | (vdev->status & VIRTIO_STATUS_NEEDS_RESET);
	for (unsigned q = 0; q < vdev->nr_queues; q++)
		vdev->vq[q].indirect = vdev->guest_features & BIT64(VIRTIO_F_INDIRECT_DESC);
}

static void write_features(struct virtio_dev *vdev, uint32_t val)
{
	unsigned shift = 32 * vdev->gfselect;

	if (vdev->gfselect > 1 || vdev->status & VIRTIO_STATUS_FEATURES_OK)
		return; /* no such bits, or negotiation is over */
	vdev->guest_features &= ~((uint64_t)UINT32_MAX << shift);
	vdev->guest_features |= (uint64_t)val << shift;
}

static void write_queue_size(struct virtio_dev *vdev, struct virtq *vq, uint64_t val)
{
	/* Split queues: a power of two no larger than what we offer (2.6). */
	if (val == 0 || val > VIRTQ_MAX_SIZE || val & (val - 1)) {
		g_debug("%s: queue size %" G_GINT64_MODIFIER "u refused", vdev->dev.id, val);
		return;
	}
	vq->size = val;
}

static void enable_queue(struct virtio_dev *vdev, struct virtq *vq, uint64_t val)
{
	if (val != 1)
		return; /* the driver MUST NOT write 0 (4.1.4.3.2) */
	if (virtq_check(vq, vdev->dev.env.mem) < 0) {
		g_debug("%s: queue %u rings misaligned or outside RAM", vdev->dev.id,
			vdev->queue_sel);
		virtio_pci_error(vdev);
		return;
	}
	vq->enabled = true;
}

/* A 64-bit ring address written whole or as two 32-bit halves. */
static void write_addr(uint64_t *addr, unsigned half_off, unsigned size, uint64_t val)
{
	if (size == 8)
		*addr = val;
	else if (half_off == 0)
		*addr = (*addr & ~(uint64_t)UINT32_MAX) | (uint32_t)val;
	else
		*addr = (*addr & UINT32_MAX) | val << 32;
}

static void write_queue(struct virtio_dev *vdev, unsigned off, unsigned size, uint64_t val)
{
	struct virtq *vq;

	if (vdev->queue_sel >= vdev->nr_queues)
		return;
	vq = &vdev->vq[vdev->queue_sel];
	if (off == CC_Q_MSIX) {
		vq->msix_vector = check_vector(vdev, val);
		return;
	}
	if (vq->enabled)
		return; /* the rest is fixed once the queue is enabled */
	if (off == CC_Q_SIZE)
		write_queue_size(vdev, vq, val);
	else if (off == CC_Q_ENABLE)
		enable_queue(vdev, vq, val);
	else if (off >= CC_Q_DEVICE)
		write_addr(&vq->used, off - CC_Q_DEVICE, size, val);
	else if (off >= CC_Q_DRIVER)
		write_addr(&vq->avail, off - CC_Q_DRIVER, size, val);
	else if (off >= CC_Q_DESC)
		write_addr(&vq->desc, off - CC_Q_DESC, size, val);
}

/* Field width at `off`, or 0 if no field starts there; 64-bit fields also take halves. */
static unsigned field_size(unsigned off, unsigned size)
{
	if (off >= CC_Q_DESC && off < CC_SIZE)
		return (off % 8 == 0 && size == 8) || (off % 4 == 0 && size == 4) ? size : 0;
	if (off <= CC_GF)
		return off % 4 == 0 ? 4 : 0;
	if (off == CC_STATUS || off == CC_CFGGEN)
		return 1;
	return off % 2 == 0 && off < CC_Q_DESC ? 2 : 0;
}

static void common_write(struct virtio_dev *vdev, unsigned off, unsigned size, uint64_t val)
{
	if (field_size(off, size) != size) {
		g_debug("%s: common config write at 0x%x size %u ignored", vdev->dev.id, off, size);
		return;
	}
	switch (off) {
	case CC_DFSELECT:
		vdev->dfselect = val;
		break;
	case CC_GFSELECT:
		vdev->gfselect = val;
		break;
	case CC_GF:
		write_features(vdev, val);
		break;
	case CC_MSIX:
		vdev->config_vector = check_vector(vdev, val);
		break;
	case CC_STATUS:
		write_status(vdev, val);
		break;
	case CC_Q_SELECT:
		vdev->queue_sel = val;
		break;
	case CC_DF:
	case CC_NUMQ:
	case CC_CFGGEN:
	case CC_Q_NOFF:
		break; /* read-only */
	default:
		write_queue(vdev, off, size, val);
		break;
	}
}

int virtio_pci_bar_read(struct dev *dev, unsigned bar, uint64_t off, unsigned size, uint64_t *val)
{
	struct virtio_dev *vdev = virtio_dev_of(dev);
	uint8_t cc[CC_SIZE];

	*val = 0;
	if (bar != VIRTIO_PCI_BAR)
		return 0; /* the MSI-X BAR is the VMM's; nothing else is decoded */
	if (off < VIRTIO_PCI_COMMON + CC_SIZE && off + size <= CC_SIZE) {
		common_snapshot(vdev, cc);
		*val = get_le(cc + off, size);
	} else if (off == VIRTIO_PCI_ISR) {
		/* Reading the ISR clears it and deasserts INTx (4.1.4.5). */
		*val = vdev->isr;
		if (vdev->isr)
			irq_set_intx(dev->env.irq, false);
		vdev->isr = 0;
	} else if (off >= VIRTIO_PCI_DEVICE &&
		   off + size <= VIRTIO_PCI_DEVICE + vdev->config_size) {
		*val = get_le((const uint8_t *)vdev->config + (off - VIRTIO_PCI_DEVICE), size);
	}
	return 0;
}

int virtio_pci_bar_write(struct dev *dev, unsigned bar, uint64_t off, unsigned size, uint64_t val)
{
	struct virtio_dev *vdev = virtio_dev_of(dev);
	uint64_t q;

	if (bar != VIRTIO_PCI_BAR)
		return 0;
	if (off < VIRTIO_PCI_COMMON + CC_SIZE) {
		common_write(vdev, off, size, val);
	} else if (off >= VIRTIO_PCI_NOTIFY && off % VIRTIO_PCI_NOTIFY_MULT == 0) {
		/* The address names the queue; the value is not needed (4.1.5.2). */
		q = (off - VIRTIO_PCI_NOTIFY) / VIRTIO_PCI_NOTIFY_MULT;
		if (q < vdev->nr_queues)
			virtio_pci_notify(vdev, q);
	}
	return 0;
}
