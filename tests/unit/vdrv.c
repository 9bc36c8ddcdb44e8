// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vdrv: the test-side virtio driver (see vdrv.h).  Common configuration offsets are
 * the spec's (virtio 1.1, 4.1.4.3), written out here independently of the device.
 */
#include <string.h>

#include "tests/unit/vdrv.h"

enum {
	CC_DFSELECT = 0,
	CC_DF = 4,
	CC_GFSELECT = 8,
	CC_GF = 12,
	CC_STATUS = 20,
	CC_Q_SELECT = 22,
	CC_Q_SIZE = 24,
	CC_Q_MSIX = 26,
	CC_Q_ENABLE = 28,
	CC_Q_DESC = 32,
	CC_Q_DRIVER = 40,
	CC_Q_DEVICE = 48
};

static struct vdrv *to_vdrv(struct irq *irq)
{
	return (struct vdrv *)((char *)irq - offsetof(struct vdrv, irq));
}

static void vdrv_raise(struct irq *irq, unsigned vector)
{
	g_assert_cmpuint(vector, <=, VIRTIO_PCI_MAX_QUEUES);
	to_vdrv(irq)->raised[vector]++;
}

static void vdrv_set_intx(struct irq *irq, bool level)
{
	to_vdrv(irq)->intx = level;
}

static const struct irq_ops vdrv_irq_ops = {.raise = vdrv_raise, .set_intx = vdrv_set_intx};

void vdrv_create(struct vdrv *d, const char *type, const char *props_json)
{
	json_object *props = json_tokener_parse(props_json);
	struct dev_env env;
	g_autofree char *err = NULL;

	memset(d, 0, sizeof(*d));
	g_assert_nonnull(props);
	g_assert_cmpint(gmem_create(VDRV_RAM, 0xc0000000, &d->mem), ==, 0);
	d->irq.ops = &vdrv_irq_ops;
	env = (struct dev_env){.mem = d->mem, .irq = &d->irq};
	if (dev_create(type, "vd0", &env, props, &d->dev, &err) < 0)
		g_error("%s", err);
	json_object_put(props);
}

void vdrv_create_fail(const char *type, const char *props_json, int want)
{
	json_object *props = json_tokener_parse(props_json);
	struct dev_env env = {0};
	g_autofree char *err = NULL;
	struct dev *dev = NULL;

	g_assert_cmpint(dev_create(type, "vd0", &env, props, &dev, &err), ==, want);
	g_assert_nonnull(err);
	json_object_put(props);
}

void vdrv_destroy(struct vdrv *d)
{
	dev_destroy(d->dev);
	gmem_destroy(d->mem);
}

uint64_t vdrv_rd(struct vdrv *d, uint64_t off, unsigned size)
{
	uint64_t v;

	g_assert_cmpint(dev_bar_read(d->dev, VIRTIO_PCI_BAR, off, size, &v), ==, 0);
	return v;
}

void vdrv_wr(struct vdrv *d, uint64_t off, unsigned size, uint64_t val)
{
	g_assert_cmpint(dev_bar_write(d->dev, VIRTIO_PCI_BAR, off, size, val), ==, 0);
}

uint64_t vdrv_features(struct vdrv *d)
{
	vdrv_wr(d, CC_DFSELECT, 4, 0);
	uint64_t lo = vdrv_rd(d, CC_DF, 4);

	vdrv_wr(d, CC_DFSELECT, 4, 1);
	return lo | vdrv_rd(d, CC_DF, 4) << 32;
}

uint8_t vdrv_status(struct vdrv *d)
{
	return vdrv_rd(d, CC_STATUS, 1);
}

uint8_t vdrv_negotiate(struct vdrv *d, uint64_t features)
{
	vdrv_wr(d, CC_STATUS, 1, 0);
	g_assert_cmpuint(vdrv_status(d), ==, 0);
	vdrv_wr(d, CC_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE);
	vdrv_wr(d, CC_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	vdrv_wr(d, CC_GFSELECT, 4, 0);
	vdrv_wr(d, CC_GF, 4, (uint32_t)features);
	vdrv_wr(d, CC_GFSELECT, 4, 1);
	vdrv_wr(d, CC_GF, 4, features >> 32);
	vdrv_wr(d, CC_STATUS, 1,
		VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	return vdrv_status(d);
}

void vdrv_queue(struct vdrv *d, unsigned q, uint16_t size)
{
	uint64_t ring = VDRV_RING(q);

	memset(vdrv_ptr(d, ring, 0x4000), 0, 0x4000);
	vdrv_wr(d, CC_Q_SELECT, 2, q);
	vdrv_wr(d, CC_Q_SIZE, 2, size);
	vdrv_wr(d, CC_Q_MSIX, 2, q);
	vdrv_wr(d, CC_Q_DESC, 4, ring);
	vdrv_wr(d, CC_Q_DESC + 4, 4, 0);
	vdrv_wr(d, CC_Q_DRIVER, 8, ring + 0x1000);
	vdrv_wr(d, CC_Q_DEVICE, 8, ring + 0x2000);
	vdrv_wr(d, CC_Q_ENABLE, 2, 1);
	g_assert_cmpuint(vdrv_rd(d, CC_Q_ENABLE, 2), ==, 1);
	d->qsize[q] = size;
	d->avail_idx[q] = d->used_seen[q] = 0;
}

void vdrv_driver_ok(struct vdrv *d)
{
	vdrv_wr(d, CC_STATUS, 1, vdrv_status(d) | VIRTIO_STATUS_DRIVER_OK);
}

void vdrv_msix(struct vdrv *d, bool on)
{
	uint8_t cap = d->dev->cfg.data[0x34];

	/* Find the MSI-X capability and flip enable, as the VMM forwards config writes. */
	while (cap && d->dev->cfg.data[cap] != 0x11)
		cap = d->dev->cfg.data[cap + 1];
	g_assert_cmpuint(cap, !=, 0);
	g_assert_cmpint(pcicfg_write(&d->dev->cfg, cap + 2, 2, on ? 0x8000 : 0), ==, 0);
}

void vdrv_start(struct vdrv *d, uint64_t extra, unsigned nr_queues)
{
	uint64_t f = BIT64(VIRTIO_F_VERSION_1) | BIT64(VIRTIO_F_INDIRECT_DESC) | extra;

	g_assert_cmpuint(vdrv_negotiate(d, f) & VIRTIO_STATUS_FEATURES_OK, !=, 0);
	for (unsigned q = 0; q < nr_queues; q++)
		vdrv_queue(d, q, 16);
	vdrv_driver_ok(d);
	vdrv_msix(d, true);
	g_assert_cmpuint(vdrv_status(d), ==, 0x0f);
}

void *vdrv_ptr(struct vdrv *d, uint64_t gpa, uint64_t len)
{
	void *p = gmem_translate(d->mem, gpa, len);

	g_assert_nonnull(p);
	return p;
}

void vdrv_desc(struct vdrv *d, uint64_t table, unsigned i, uint64_t addr, uint32_t len,
	       uint16_t flags, uint16_t next)
{
	uint8_t *p = vdrv_ptr(d, table + 16ull * i, 16);

	memcpy(p, &addr, 8);
	memcpy(p + 8, &len, 4);
	memcpy(p + 12, &flags, 2);
	memcpy(p + 14, &next, 2);
}

uint16_t vdrv_chain(struct vdrv *d, unsigned q, uint16_t head, const struct vdrv_buf *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint16_t flags =
			(b[i].write ? VIRTQ_DESC_F_WRITE : 0) | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0);

		vdrv_desc(d, VDRV_RING(q), (head + i) % d->qsize[q], b[i].gpa, b[i].len, flags,
			  (head + i + 1) % d->qsize[q]);
	}
	return head;
}

void vdrv_kick(struct vdrv *d, unsigned q, uint16_t head, bool eventfd)
{
	uint64_t avail = VDRV_RING(q) + 0x1000;
	uint16_t *slot = vdrv_ptr(d, avail + 4 + 2 * (d->avail_idx[q] % d->qsize[q]), 2);
	uint16_t *idx = vdrv_ptr(d, avail + 2, 2);

	*slot = head;
	__atomic_store_n(idx, ++d->avail_idx[q], __ATOMIC_RELEASE);
	if (eventfd)
		d->dev->ops->doorbell(d->dev, q);
	else
		vdrv_wr(d, VIRTIO_PCI_NOTIFY + VIRTIO_PCI_NOTIFY_MULT * q, 2, q);
}

bool vdrv_used(struct vdrv *d, unsigned q, uint32_t *id, uint32_t *len)
{
	uint64_t used = VDRV_RING(q) + 0x2000;
	uint16_t idx = *(uint16_t *)vdrv_ptr(d, used + 2, 2);
	uint8_t *e;

	if (idx == d->used_seen[q])
		return false;
	e = vdrv_ptr(d, used + 4 + 8 * (d->used_seen[q]++ % d->qsize[q]), 8);
	memcpy(id, e, 4);
	memcpy(len, e + 4, 4);
	return true;
}
