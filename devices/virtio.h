/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internal to devices/: the virtio 1.x pieces shared by the virtio device models.
 * Not a public header (other folders use devices/devices.h only).
 *
 *   virtqueue.c   split virtqueues (virtio 1.1, 2.6): strict chain validation, every
 *                 guest access through gmem_translate, or through gmem_read/gmem_write
 *                 copies where guest RAM has no host mapping
 *   virtio_pci.c  the modern PCI transport (4.1): capabilities, common configuration,
 *                 notifications/doorbells, ISR, interrupts, status and reset
 *   virtio_pci_cfg.c  the PCI configuration access capability (4.1.4.9)
 *
 * A virtio device embeds struct virtio_dev (which embeds struct dev), fills a
 * struct virtio_pci_params and uses the virtio_pci_* functions as its dev_ops.  It
 * sees one validated request at a time through its handle op.
 *
 * Threads: as struct dev, one thread at a time.
 */
#ifndef MPVMM_DEVICES_VIRTIO_H
#define MPVMM_DEVICES_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "devices/devices.h"

/* Feature bits (6). */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_VERSION_1 32

/* Device status (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED 128

#define VIRTIO_MSI_NO_VECTOR 0xffff

/* Descriptor flags (2.6.5). */
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

#define VIRTQ_MAX_SIZE 256	     /* queue size we offer; also the chain length limit */
#define VIRTQ_MAX_BYTES (256u << 20) /* total bytes one chain may describe */

#define BIT64(n) (1ull << (n))

struct virtq {
	uint16_t size; /* power of two, <= VIRTQ_MAX_SIZE */
	bool enabled;
	bool indirect; /* VIRTIO_F_INDIRECT_DESC negotiated */
	uint16_t msix_vector;
	uint64_t desc, avail, used; /* guest-physical ring addresses */
	uint16_t last_avail;	    /* next avail entry the device consumes */
	uint16_t used_idx;	    /* next used entry the device fills */
};

/*
 * One validated chain: iov[0, nr_out) device-readable, then iov[nr_out, nr_out + nr_in)
 * device-writable, host addresses inside guest RAM.  out_len/in_len are their totals.
 */
struct virtq_req {
	uint16_t head;
	unsigned nr_out, nr_in;
	uint64_t out_len, in_len;
	struct iovec iov[VIRTQ_MAX_SIZE];
	/*
	 * Buffers in guest RAM without a host mapping (memory a remote reaches by
	 * DMA_READ/DMA_WRITE messages): their iov entries point at heap copies, readable
	 * ones filled by virtq_pop, writable ones copied back by virtq_push, which frees
	 * them all (so does a failing virtq_pop).  Empty on the mapped path.
	 */
	unsigned nr_bounce;
	uint64_t bounce_bytes;
	struct virtq_bounce {
		unsigned iov; /* index into iov[] */
		uint64_t gpa;
	} bounce[VIRTQ_MAX_SIZE];
};

/* Most bytes of one chain held in copies (buffers without a host mapping). */
#define VIRTQ_BOUNCE_MAX (4u << 20)

/* --- virtqueue.c ---------------------------------------------------------------- */
void virtq_reset(struct virtq *vq);
/* Rings aligned (2.6) and inside guest RAM; -EINVAL otherwise. */
int virtq_check(const struct virtq *vq, const struct gmem *mem);
/*
 * Take the next available chain.  1: *req holds it; 0: the ring is empty; -EIO: the
 * ring or the chain is malformed (index jump, bad head, loop, address outside RAM,
 * bad indirect table, readable after writable, oversized): the device cannot trust
 * this queue any more and must signal DEVICE_NEEDS_RESET.
 */
int virtq_pop(struct virtq *vq, const struct gmem *mem, struct virtq_req *req);
/*
 * Before virtq_push: write the first len writable bytes held in copies (the request's
 * bounce list) back to guest RAM, and free every copy, also on failure.  0, or -EIO
 * when guest RAM could not be written.  Nothing to do on the mapped path.
 */
int virtq_req_complete(struct virtq_req *req, const struct gmem *mem, uint32_t len);
/* Return a chain with `len` bytes written; -EIO if the used ring left guest RAM. */
int virtq_push(struct virtq *vq, const struct gmem *mem, uint16_t head, uint32_t len);
/* The driver has not suppressed interrupts (VIRTQ_AVAIL_F_NO_INTERRUPT clear). */
bool virtq_want_irq(const struct virtq *vq, const struct gmem *mem);

/* Copy to/from a request's writable/readable bytes at `off`; returns bytes copied. */
size_t virtq_req_read(const struct virtq_req *req, uint64_t off, void *buf, size_t len);
size_t virtq_req_write(struct virtq_req *req, uint64_t off, const void *buf, size_t len);
/*
 * The part [skip, skip + len) of a request's readable (writable = false) or writable
 * bytes as an iovec array in dst (VIRTQ_MAX_SIZE entries); returns the entry count,
 * or -EINVAL when the range is not wholly inside.
 */
int virtq_req_slice(const struct virtq_req *req, bool writable, uint64_t skip, uint64_t len,
		    struct iovec *dst);

/* --- virtio_pci.c --------------------------------------------------------------- */
struct virtio_dev;

struct virtio_dev_ops {
	/* Serve one request of queue q; returns the bytes written into its buffers. */
	uint32_t (*handle)(struct virtio_dev *vdev, unsigned q, struct virtq_req *req);
	void (*reset)(struct virtio_dev *vdev); /* optional: device state back to power-on */
};

struct virtio_pci_params {
	uint16_t device_id;   /* virtio device ID (5): 2 block, 4 entropy */
	uint32_t class_code;  /* PCI class */
	unsigned nr_queues;   /* 1 .. VIRTIO_PCI_MAX_QUEUES */
	uint64_t features;    /* device-specific bits; VERSION_1 and INDIRECT_DESC added */
	const void *config;   /* device-specific configuration (read-only to the guest) */
	unsigned config_size; /* <= VIRTIO_PCI_CFG_MAX */
};

#define VIRTIO_PCI_MAX_QUEUES 64
/*
 * virtio-blk's num-queues is at most 8, in a device process and in the VMM alike, so
 * that every queue's doorbell reaches a device process as a KVM ioeventfd: all queues
 * notify in one BAR, and one vfio-user GET_REGION_IO_FDS reply carries at most
 * VFU_MAX_FDS (8) fds (remote/doorbells.c checks that the two agree).  A ninth queue
 * would be rung through the VMM: a VM exit and a REGION_WRITE round trip per kick.
 */
#define VIRTIO_BLK_MAX_QUEUES 8
#define VIRTIO_PCI_CFG_MAX 0x1000

/*
 * BAR layout (also described by the capabilities, which drivers must use): BAR1 holds
 * the MSI-X table (0) and PBA (0x800); BAR4, 64-bit, holds the virtio structures.
 */
#define VIRTIO_PCI_MSIX_BAR 1
#define VIRTIO_PCI_BAR 4
#define VIRTIO_PCI_COMMON 0x0000
#define VIRTIO_PCI_ISR 0x1000
#define VIRTIO_PCI_DEVICE 0x2000
#define VIRTIO_PCI_NOTIFY 0x3000
#define VIRTIO_PCI_NOTIFY_MULT 4 /* queue q's doorbell is NOTIFY + 4 * q */
#define VIRTIO_PCI_BAR_SIZE 0x4000

struct virtio_dev {
	struct dev dev;
	const struct virtio_dev_ops *ops;
	uint64_t host_features, guest_features;
	uint32_t dfselect, gfselect;
	uint8_t status, isr;
	uint16_t config_vector, queue_sel;
	unsigned nr_queues;
	int msix_cap;	/* config offset of the MSI-X capability */
	int pcicfg_cap; /* config offset of the VIRTIO_PCI_CAP_PCI_CFG capability */
	const void *config;
	unsigned config_size;
	struct virtq vq[VIRTIO_PCI_MAX_QUEUES];
	struct dev_doorbell doorbell[VIRTIO_PCI_MAX_QUEUES];
	struct virtq_req req; /* scratch: the request being served */
};

/* Config space, capabilities, BARs and doorbells; 0 or -EINVAL. */
int virtio_pci_init(struct virtio_dev *vdev, const struct virtio_pci_params *p,
		    const struct virtio_dev_ops *ops);
struct virtio_dev *virtio_dev_of(struct dev *dev);

/* dev_ops members shared by every virtio device. */
int virtio_pci_bar_read(struct dev *dev, unsigned bar, uint64_t off, unsigned size, uint64_t *val);
int virtio_pci_bar_write(struct dev *dev, unsigned bar, uint64_t off, unsigned size, uint64_t val);
void virtio_pci_reset(struct dev *dev);
void virtio_pci_doorbell(struct dev *dev, unsigned index);

/* Something went wrong the driver must hear about: DEVICE_NEEDS_RESET (2.1.2). */
void virtio_pci_error(struct virtio_dev *vdev);

/* --- virtio_pci_cfg.c ----------------------------------------------------------- */
/*
 * The PCI configuration access capability (4.1.4.9): a window in config space onto
 * the virtio structures BAR.  cap_add lays it out (0 or pcicfg_add_cap's error); the
 * two dev_ops members serve config space, turning an access to pci_cfg_data into a
 * BAR access of cap.length bytes at cap.offset.
 */
#define VIRTIO_PCI_CAP_PCI_CFG 5
#define VIRTIO_PCI_CFG_CAP_LEN 20
int virtio_pci_cfg_cap_add(struct virtio_dev *vdev);
int virtio_pci_cfg_read(struct dev *dev, uint32_t off, unsigned size, uint32_t *val);
int virtio_pci_cfg_write(struct dev *dev, uint32_t off, unsigned size, uint32_t val);

#endif
