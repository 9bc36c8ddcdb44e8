/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vdrv: a tiny virtio 1.x PCI driver for device unit tests.  It calls a device's ops
 * directly (no VM, no socket) with guest RAM from a real memfd gmem, programs the
 * common configuration through bar_write, builds split-ring chains in that RAM and
 * reads the used ring back.  Interrupts land in counters.  Helpers assert instead of
 * returning errors.  Test code only.
 */
#ifndef MPVMM_TESTS_VDRV_H
#define MPVMM_TESTS_VDRV_H

#include <glib.h>

#include "devices/devices.h"
#include "devices/virtio.h"

#define VDRV_RAM (2u << 20)			  /* guest RAM at gpa 0 */
#define VDRV_RING(q) (0x10000ull + (q)*0x4000ull) /* desc; avail +0x1000; used +0x2000 */
#define VDRV_DATA 0x100000ull			  /* free for buffers up to VDRV_RAM */

struct vdrv {
	struct dev *dev;
	struct gmem *mem;
	struct irq irq;
	unsigned raised[VIRTIO_PCI_MAX_QUEUES + 1]; /* MSI-X vectors signalled */
	bool intx;
	uint16_t avail_idx[VIRTIO_PCI_MAX_QUEUES], used_seen[VIRTIO_PCI_MAX_QUEUES];
	uint16_t qsize[VIRTIO_PCI_MAX_QUEUES];
};

/* A buffer of a chain: gpa, length, device-writable? */
struct vdrv_buf {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

/* Create device `type` with props (a JSON object string), RAM and irq counters. */
void vdrv_create(struct vdrv *d, const char *type, const char *props_json);
/* Same, expecting create to fail with `err`. */
void vdrv_create_fail(const char *type, const char *props_json, int err);
void vdrv_destroy(struct vdrv *d);

uint64_t vdrv_rd(struct vdrv *d, uint64_t off, unsigned size); /* virtio BAR */
void vdrv_wr(struct vdrv *d, uint64_t off, unsigned size, uint64_t val);
uint64_t vdrv_features(struct vdrv *d);

/* Reset, ACKNOWLEDGE|DRIVER, write features; returns the status read back after FEATURES_OK. */
uint8_t vdrv_negotiate(struct vdrv *d, uint64_t features);
/* Program and enable queue q of `size` entries at VDRV_RING(q), MSI-X vector q. */
void vdrv_queue(struct vdrv *d, unsigned q, uint16_t size);
void vdrv_driver_ok(struct vdrv *d);
/* negotiate VERSION_1|INDIRECT_DESC|extra, set up nr queues, DRIVER_OK, MSI-X on. */
void vdrv_start(struct vdrv *d, uint64_t extra, unsigned nr_queues);
void vdrv_msix(struct vdrv *d, bool on);

/* Write descriptor i of queue q's table (or of the table at gpa `table`). */
void vdrv_desc(struct vdrv *d, uint64_t table, unsigned i, uint64_t addr, uint32_t len,
	       uint16_t flags, uint16_t next);
/* Chain bufs into descriptors head.. of queue q (direct), returns head. */
uint16_t vdrv_chain(struct vdrv *d, unsigned q, uint16_t head, const struct vdrv_buf *b,
		    unsigned n);
/* Put head in the avail ring and ring the doorbell (via bar_write, or via doorbell op). */
void vdrv_kick(struct vdrv *d, unsigned q, uint16_t head, bool eventfd);
/* Next used element of q: true and id/len if there is one. */
bool vdrv_used(struct vdrv *d, unsigned q, uint32_t *id, uint32_t *len);

uint8_t vdrv_status(struct vdrv *d);
void *vdrv_ptr(struct vdrv *d, uint64_t gpa, uint64_t len);

#endif
