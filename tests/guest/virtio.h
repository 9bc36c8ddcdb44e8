/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio.h: a minimal virtio 1.x driver core for the guest programs, over the modern
 * PCI transport (virtio 1.1, 4.1) with split virtqueues (2.6).  It finds a device,
 * negotiates features, sets up queues in static guest RAM, adds buffer chains,
 * notifies, and collects completions by polling the used ring, by MSI-X interrupts
 * that it counts per vector, or by INTx through the IOAPIC and the ISR status
 * (virtio-intx.c).
 *
 * Not provided: the legacy transport, packed rings, indirect descriptors, event-idx,
 * more than VIRTIO_MAX_QUEUES queues or VIRTQ_MAX_SIZE entries, device hot-unplug.
 * One device per program is the expected use; every object is caller-owned.
 */
#ifndef GUEST_VIRTIO_H
#define GUEST_VIRTIO_H

#include "guest.h"
#include "msix.h"

#define ETIMEDOUT 110
#define EIO 5
#define ENOENT 2

#define VIRTIO_VENDOR 0x1af4
#define VIRTIO_MODERN_ID_BASE 0x1040 /* + device type (virtio 1.1, 4.1.2) */
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_ENTROPY 4

/* Device status (2.1) */
#define VIRTIO_S_ACKNOWLEDGE 1
#define VIRTIO_S_DRIVER 2
#define VIRTIO_S_DRIVER_OK 4
#define VIRTIO_S_FEATURES_OK 8
#define VIRTIO_S_NEEDS_RESET 64
#define VIRTIO_S_FAILED 128

/* Reserved feature bits (6) */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_F_ACCESS_PLATFORM 33
#define VIRTIO_F_RING_PACKED 34
#define VIRTIO_BIT(b) (1ull << (b))

#define VIRTIO_MSI_NO_VECTOR 0xffff
#define VIRTIO_MAX_QUEUES 8 /* as many as mpvmm's virtio-blk has (num-queues <= 8) */
#define VIRTQ_MAX_SIZE 256
#define VIRTQ_MAX_CHAIN 20 /* descriptors in one request */

/* Split virtqueue layout (2.6) */
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY 1

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[VIRTQ_MAX_SIZE];
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[VIRTQ_MAX_SIZE];
};

struct virtq {
	unsigned index;
	uint16_t size;	    /* entries, a power of two <= VIRTQ_MAX_SIZE */
	uint16_t vector;    /* MSI-X table entry, or VIRTIO_MSI_NO_VECTOR */
	uint16_t free_head; /* chain of free descriptors through .next */
	uint16_t nr_free;
	uint16_t avail_idx;  /* next avail index to publish */
	uint16_t last_used;  /* next used index to consume */
	uint64_t notify;     /* doorbell address */
	unsigned long kicks; /* notifications written */
	unsigned long completed;
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	void *token[VIRTQ_MAX_SIZE]; /* per chain head; NULL when free */
	uint16_t chain_len[VIRTQ_MAX_SIZE];
};

struct virtio_dev {
	const struct pci_fn *fn;
	uint64_t common, isr, device, notify_base; /* guest-physical addresses */
	uint32_t device_len, notify_len, notify_mul;
	uint64_t offered, features; /* device features; negotiated features */
	bool use_msix;
	bool use_intx;	     /* interrupts through INTx and ISR (virtio_intx_setup) */
	uint8_t intx_line;   /* its IOAPIC pin */
	uint8_t vector_base; /* IDT vector of MSI-X entry 0 */
	struct msix msix;
	unsigned nr_vq;
	struct virtq *vq[VIRTIO_MAX_QUEUES];
};

/* One buffer of a chain: device-readable unless @write. */
struct virtq_buf {
	uint64_t addr;
	uint32_t len;
	bool write;
};

/*
 * Find the @index-th function with @modern_id or @transitional_id (0 to skip), enable
 * bus mastering and parse its virtio capabilities (4.1.4).  -ENODEV: no such device;
 * -EINVAL: a required capability is missing or lies outside its BAR.
 */
int virtio_find(struct virtio_dev *vd, uint16_t modern_id, uint16_t transitional_id,
		unsigned index);
/*
 * The same for @fn, a function the caller found and placed itself (a hot-added device
 * pci_init() never saw).  -EINVAL as above.
 */
int virtio_attach(struct virtio_dev *vd, const struct pci_fn *fn);
/*
 * Reset, ACKNOWLEDGE, DRIVER, then accept offered & (@wanted | VERSION_1) and check
 * FEATURES_OK (3.1.1).  -ENODEV: VERSION_1 not offered; -EINVAL: FEATURES_OK refused.
 */
int virtio_negotiate(struct virtio_dev *vd, uint64_t wanted);
bool virtio_has(const struct virtio_dev *vd, unsigned bit);
/*
 * Route interrupts through MSI-X: entry i raises IDT vector @vector_base + i, counted
 * in virtio_irq_count(); enable the LAPIC and the capability.  Call before queue
 * setup.  -ENODEV: no MSI-X; -EINVAL: fewer than @nr entries or a bad vector range.
 */
int virtio_msix_setup(struct virtio_dev *vd, uint8_t vector_base, unsigned nr);
/* Interrupts seen on MSI-X entry @entry since boot. */
unsigned long virtio_irq_count(unsigned entry);
/* The config-change interrupt goes to entry @entry (or VIRTIO_MSI_NO_VECTOR). */
int virtio_config_vector(struct virtio_dev *vd, uint16_t entry);
/*
 * Set up queue @index with at most @max_size entries (the device's size if smaller)
 * and MSI-X entry @vector (VIRTIO_MSI_NO_VECTOR: none).  -ENOENT/-EINVAL on a queue
 * the device does not have, -EIO when the device refuses the vector.
 */
int virtio_queue_setup(struct virtio_dev *vd, struct virtq *vq, unsigned index, unsigned max_size,
		       uint16_t vector);
/* Set DRIVER_OK; returns the status read back. */
uint8_t virtio_driver_ok(struct virtio_dev *vd);
uint8_t virtio_status(const struct virtio_dev *vd);
void virtio_reset(struct virtio_dev *vd);
/*
 * Write 0 to device_status and read it until it is 0 (4.1.4.3.2), at most @reads
 * times; false when it never was (a device that is gone reads all-ones).
 */
bool virtio_reset_wait(struct virtio_dev *vd, unsigned long reads);
/* queue_enable of queue @index as the device presents it (selects the queue). */
bool virtio_queue_enabled(const struct virtio_dev *vd, unsigned index);
/*
 * virtio-pcicfg.c: read common configuration fields through the PCI_CFG window
 * (4.1.4.9) and through the BAR, write one through the window; TAP lines only.
 */
void virtio_pcicfg_check(const struct virtio_dev *vd);
/* Device configuration (4.1.4.6), read with the generation-count retry (2.4.1). */
uint64_t virtio_cfg_read(const struct virtio_dev *vd, unsigned off, unsigned size);

/*
 * Add one chain (device-readable buffers first, then writable ones) with @token
 * returned by virtq_get().  -ENOSPC: not enough free descriptors; -EINVAL: bad @nr.
 * Not visible to the device until virtq_kick().
 */
int virtq_add(struct virtq *vq, const struct virtq_buf *bufs, unsigned nr, void *token);
/* Publish added chains and notify the device unless it asked not to be. */
void virtq_kick(const struct virtio_dev *vd, struct virtq *vq);
/* Ask the device for no interrupts on this queue (VIRTQ_AVAIL_F_NO_INTERRUPT). */
void virtq_suppress_irq(struct virtq *vq, bool suppress);
/*
 * Pop one used element.  Returns 1 with its token and length, 0 when none, -EIO when
 * the device returned an id that is not an outstanding chain head.
 */
int virtq_get(struct virtq *vq, void **token, uint32_t *len);
bool virtq_has_used(const struct virtq *vq);

/*
 * virtio-intx.c: route the function's INTx line (its Interrupt Line register names the
 * IOAPIC pin) to IDT @vector, level-triggered; MSI-X must stay off.  Each interrupt
 * reads ISR (4.1.4.5) and is counted by cause.  -ENODEV: no interrupt pin; -EINVAL:
 * no usable line or a bad vector.
 */
int virtio_intx_setup(struct virtio_dev *vd, uint8_t vector);
unsigned long virtio_intx_used(void);	 /* interrupts with ISR bit 0 (used buffer) */
unsigned long virtio_intx_config(void);	 /* interrupts with ISR bit 1 (config change) */
unsigned long virtio_intx_foreign(void); /* interrupts with ISR 0: not this device's */

/* mode=irq (MSI-X, the default), poll or intx; anything else is guest_abort(). */
enum virtio_mode { VIRTIO_MODE_IRQ, VIRTIO_MODE_POLL, VIRTIO_MODE_INTX };
enum virtio_mode virtio_opt_mode(void);

/*
 * Interrupts seen so far on the MSI-X entries of @vd's queues, or with INTx, the
 * interrupts that reported a used buffer.
 */
unsigned long virtio_irq_total(const struct virtio_dev *vd);
/*
 * Wait for progress.  With @irq, spin (interrupts on) until virtio_irq_total() differs
 * from @seen, which the caller sampled BEFORE it last emptied the used rings: so a
 * completion is only ever noticed through its interrupt.  Otherwise spin until a used
 * ring has an element.  -ETIMEDOUT after about @timeout_gcycles * 10^9 TSC cycles.
 */
int virtio_wait(const struct virtio_dev *vd, bool irq, unsigned long seen,
		unsigned long timeout_gcycles);
/*
 * Spin (interrupts on) until virtio_irq_total() reaches @target: a driver with one
 * request in flight waits for that request's own interrupt before it reaps, so no two
 * interrupts can merge in the LAPIC and the count is exact.  -ETIMEDOUT as above.
 */
int virtio_wait_irqs(const struct virtio_dev *vd, unsigned long target,
		     unsigned long timeout_gcycles);
/*
 * Interrupt waits halt the CPU ("sti; hlt") instead of spinning: no CPU burnt while the
 * device works, but no guest-side timeout either (the host's timeout applies).
 */
void virtio_wait_hlt(bool on);
/* Option @key must be @def (or absent) or @alt; true for @alt.  Else guest_abort(). */
bool virtio_opt_choice(const char *key, const char *def, const char *alt);

/*
 * Whole-qword copy, fill and compare as single string instructions.  Under this
 * platform's KVM every guest instruction costs a microsecond or more and a rep
 * iteration much less, so bulk data is handled with these, not with C loops.
 */
static inline void rep_movsq(void *dst, const void *src, size_t n)
{
	__asm__ volatile("cld\n\trep movsq" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
}

static inline void rep_stosq(void *dst, uint64_t v, size_t n)
{
	__asm__ volatile("cld\n\trep stosq" : "+D"(dst), "+c"(n) : "a"(v) : "memory");
}

/* True when the @n qwords at @a and @b are equal (and for n == 0). */
static inline bool repe_cmpsq(const void *a, const void *b, size_t n)
{
	bool eq = true;

	if (n)
		__asm__ volatile("cld\n\trepe cmpsq"
				 : "+D"(a), "+S"(b), "+c"(n), "=@ccz"(eq)
				 :
				 : "memory");
	return eq;
}

/* True when all @n bytes at @p equal @v (and for n == 0). */
static inline bool repe_scasb(const void *p, uint8_t v, size_t n)
{
	bool eq = true;

	if (n)
		__asm__ volatile("cld\n\trepe scasb"
				 : "+D"(p), "+c"(n), "=@ccz"(eq)
				 : "a"(v)
				 : "memory");
	return eq;
}

#endif /* GUEST_VIRTIO_H */
