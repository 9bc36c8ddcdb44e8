/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * devices: device models as plain state machines.
 *
 * A device knows nothing about sockets, KVM or sandboxes.  It implements struct
 * dev_ops and reaches the world only through the struct dev_env it is created with.
 * Its PCI configuration space is a struct pcicfg, managed by the shared helper in
 * pcicfg.c (written once: header, BAR sizing, writable-bit masks, capability list),
 * so the same device runs in a remote process (served over vfio-user) and in the VMM
 * (the in-VMM baseline) unchanged.
 *
 * Threads: a device is used by one thread at a time; callers serialize.
 * Ownership: dev_create() returns a device the caller frees with dev_destroy().
 */
#ifndef MPVMM_DEVICES_H
#define MPVMM_DEVICES_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include <json-c/json.h>

#include "memory/memory.h"

#define PCI_NUM_BARS 6
#define PCI_CFG_SIZE 256 /* conventional config space; PCIe extended space reads 0 */

/* BAR flags as in the low bits of the BAR register (PCI Local Bus 3.0, 6.2.5.1). */
#define PCI_BAR_IO 0x1
#define PCI_BAR_MEM64 0x4
#define PCI_BAR_PREFETCH 0x8

struct pcicfg_bar {
	uint64_t size;  /* power of two, 0 = not implemented; >= 16 for memory, >= 4 for I/O */
	uint32_t flags; /* PCI_BAR_IO, or PCI_BAR_MEM64 and/or PCI_BAR_PREFETCH */
};

struct pcicfg {
	uint8_t data[PCI_CFG_SIZE];  /* current register values, little endian */
	uint8_t wmask[PCI_CFG_SIZE]; /* bits the guest may change */
	struct pcicfg_bar bar[PCI_NUM_BARS];
	unsigned cap_free; /* first byte free for the next capability (0: none added yet) */
};

/* Header fields a device fills in before pcicfg_init(). */
struct pcicfg_ident {
	uint16_t vendor, device, subsys_vendor, subsys;
	uint8_t revision;
	uint32_t class_code; /* 24-bit class/subclass/prog-if */
	uint8_t int_pin;     /* 0 none, 1..4 = INTA..INTD */
};

/*
 * Initialise a type-0 header and BARs.  BAR registers implement sizing (writing all
 * ones reads back the size mask) so a peer that forwards BAR writes, such as QEMU's
 * mpqemu proxy, works too.  A 64-bit BAR uses bars[i] and consumes slot i+1.
 * Returns 0 or -EINVAL (size not a power of two, 64-bit BAR in slot 5, I/O BAR > 256).
 */
int pcicfg_init(struct pcicfg *cfg, const struct pcicfg_ident *id,
		const struct pcicfg_bar bars[PCI_NUM_BARS]);

/*
 * Config accesses.  size is 1, 2 or 4 and off+size <= 4096; an access wholly beyond
 * PCI_CFG_SIZE reads 0 and ignores writes.  Misaligned or bad-size accesses return
 * -EINVAL and leave *val all-ones.  A 1-byte read at 0xff is legal.
 */
int pcicfg_read(const struct pcicfg *cfg, uint32_t off, unsigned size, uint32_t *val);
int pcicfg_write(struct pcicfg *cfg, uint32_t off, unsigned size, uint32_t val);

/* Power-on state: every writable bit (command, BAR addresses, line, latency) back to 0. */
void pcicfg_reset(struct pcicfg *cfg);

/* Guest address the BAR is programmed to (for devices that decode absolute addresses). */
uint64_t pcicfg_bar_addr(const struct pcicfg *cfg, unsigned bar);

/*
 * Capabilities (PCI Local Bus 3.0, 6.7; MSI 6.8; MSI-X 6.8.2).  Added after
 * pcicfg_init(), they are chained from 0x34 in the order added; each returns the
 * capability's config offset, or -ENOSPC / -EINVAL.  The MSI-X table and PBA live in
 * a BAR of the device's; the VMM side (proxy/pcifn) virtualizes them, so a device
 * never sees accesses to those ranges and only signals vectors (irq_raise).
 */
int pcicfg_add_cap(struct pcicfg *cfg, uint8_t id, unsigned len);
/*
 * MSI (6.8.1) with a 64-bit address and per-vector masking (24 bytes), nr_vectors a
 * power of two from 1 to 32 (-EINVAL otherwise).  The guest may write the enable bit,
 * Multiple Message Enable (a value above Multiple Message Capable is clamped to it),
 * the address, the data and the mask bits of the vectors offered; everything else is
 * read-only, Pending Bits included: the VMM (proxy/pciirq) answers them from the vector
 * eventfds, so a device only signals vectors (irq_raise).
 */
int pcicfg_add_msi(struct pcicfg *cfg, unsigned nr_vectors);
int pcicfg_add_msix(struct pcicfg *cfg, unsigned nr_vectors, unsigned table_bar,
		    uint32_t table_off, unsigned pba_bar, uint32_t pba_off);

/*
 * Interrupts, as the framework delivers them (remote: eventfds from SET_IRQS; in-VMM:
 * the same eventfds given to KVM as irqfds).  A device embeds nothing of this; it
 * calls the helpers on env->irq.
 */
struct irq;
struct irq_ops {
	void (*raise)(struct irq *irq, unsigned vector); /* MSI/MSI-X vector, edge */
	void (*set_intx)(struct irq *irq, bool level);    /* INTx line level */
};
struct irq {
	const struct irq_ops *ops;
};
static inline void irq_raise(struct irq *irq, unsigned vector)
{
	if (irq)
		irq->ops->raise(irq, vector);
}
static inline void irq_set_intx(struct irq *irq, bool level)
{
	if (irq)
		irq->ops->set_intx(irq, level);
}

/*
 * A doorbell: a write the framework may turn into a KVM ioeventfd (vfio-user
 * DEVICE_GET_REGION_IO_FDS), so it reaches the device without a VMM exit to userspace.
 * The device still handles the same write through bar_write when it arrives that way
 * (in-VMM baseline, peers without ioeventfds); through the eventfd it gets ops->doorbell.
 */
struct dev_doorbell {
	unsigned bar;
	uint64_t off;
	unsigned size;	/* 1, 2, 4 or 8 */
	bool datamatch; /* fire only when the written value equals data */
	uint64_t data;
};

/* All a device may touch. */
struct dev_env {
	struct gmem *mem; /* guest RAM, checked access only; may be NULL before DMA exists */
	struct irq *irq;  /* may be NULL: then interrupts are dropped */
};

struct dev;

struct dev_ops {
	const char *type;  /* "pci-testdev" */
	const char *desc;  /* one line for -device help */
	const char *props; /* "prop=type: help" lines for -device TYPE,help, '\n' separated */
	/*
	 * cfg holds the device's properties (strings), minus id/socket; unknown -> -EINVAL.
	 * create allocates the device (embedding struct dev) and fills dev->cfg;
	 * dev_create() then sets dev->ops, dev->id and dev->env.  destroy frees what
	 * create allocated; dev_destroy() frees dev->id.
	 */
	int (*create)(const struct dev_env *env, const char *id, json_object *cfg,
		      struct dev **out);
	void (*destroy)(struct dev *dev);
	/* off < bar size, size in {1,2,4,8}, checked by the caller */
	int (*bar_read)(struct dev *dev, unsigned bar, uint64_t off, unsigned size,
			uint64_t *val);
	int (*bar_write)(struct dev *dev, unsigned bar, uint64_t off, unsigned size,
			 uint64_t val);
	void (*reset)(struct dev *dev); /* optional; config space is reset by dev_reset() */
	/* optional: doorbell `index` of dev->doorbells fired through its eventfd */
	void (*doorbell)(struct dev *dev, unsigned index);
	/*
	 * optional: config space accesses, for a device with registers there that have
	 * side effects (virtio's PCI_CFG window); NULL means pcicfg_read/pcicfg_write on
	 * dev->cfg.  Same contract as those two; called through dev_cfg_read/_write.
	 */
	int (*cfg_read)(struct dev *dev, uint32_t off, unsigned size, uint32_t *val);
	int (*cfg_write)(struct dev *dev, uint32_t off, unsigned size, uint32_t val);
};

struct dev {
	const struct dev_ops *ops;
	char *id;          /* owned */
	struct pcicfg cfg; /* the device's config space */
	struct dev_env env;
	const struct dev_doorbell *doorbells; /* set by create; may be NULL */
	unsigned nr_doorbells;
};

/* Device models this library provides. */
extern const struct dev_ops pci_testdev_ops;
/* virtio 1.x over PCI; their backends are fds in the "fd" property, duplicated by create. */
extern const struct dev_ops virtio_blk_ops;
extern const struct dev_ops virtio_rng_ops;

/*
 * The registry: an explicit NULL-terminated table defined by each executable, so a
 * class binary links only its own class's devices (remote/misc.c lists the misc class).
 */
extern const struct dev_ops *const dev_table[];
const struct dev_ops *dev_find(const char *type);
/* dev_table's types, comma-separated ("" when it has none): g_free it. */
char *dev_valid_types(void);

/*
 * Create a device of `type`.  Errors (-ENOENT unknown type, -EINVAL bad property) are
 * also described in *err for a human (g_free it).
 */
int dev_create(const char *type, const char *id, const struct dev_env *env, json_object *props,
	       struct dev **out, char **err);
void dev_destroy(struct dev *dev); /* NULL is a no-op */
/* Function-level reset: config space to its power-on state (pcicfg_reset), then the op. */
void dev_reset(struct dev *dev);

/*
 * Checked entry points: bar implemented, size 1/2/4/8, [off, off+size) inside the BAR
 * without overflow, else -EINVAL, a g_debug line (guests can trigger it) and, for a
 * read, *val all-ones.  Values are little endian in the low `size` bytes.
 */
int dev_bar_read(struct dev *dev, unsigned bar, uint64_t off, unsigned size, uint64_t *val);
int dev_bar_write(struct dev *dev, unsigned bar, uint64_t off, unsigned size, uint64_t val);
/*
 * Config space as whoever serves it (remote, in-VMM) must reach it: the device's
 * cfg_read/cfg_write op if it has one, else pcicfg_read/pcicfg_write (same rules).
 */
int dev_cfg_read(struct dev *dev, uint32_t off, unsigned size, uint32_t *val);
int dev_cfg_write(struct dev *dev, uint32_t off, unsigned size, uint32_t val);

/*
 * blockdev.c: `-blockdev driver=file,node-name=NODE,filename=PATH[,read-only=on|off]`,
 * shared by every process that hosts a block device (mpvmm-storage, mpvmm in-VMM).
 * Errors are for a human, in BLOCKDEV_ERROR.
 */
struct blockdevs;

struct blockdevs *blockdevs_new(void);
void blockdevs_free(struct blockdevs *bds); /* closes the nodes' fds; NULL is a no-op */
/* One -blockdev argument, checked for form and duplicates; opens nothing. */
int blockdev_parse(struct blockdevs *bds, const char *arg, GError **err);
/* Open every node's file, before any sandbox and before the devices are created. */
int blockdevs_open(struct blockdevs *bds, GError **err);
/*
 * In a device's properties, replace drive=NODE by fd=N (and read-only=on for a
 * read-only node); virtio-blk must have a drive, and nobody may give fd= by hand.
 */
int blockdev_resolve(struct blockdevs *bds, const char *type, const char *id, json_object *props,
		     GError **err);
/* Every node must back a device. */
int blockdevs_check_used(const struct blockdevs *bds, GError **err);
GQuark blockdev_error_quark(void);
#define BLOCKDEV_ERROR blockdev_error_quark()

#endif
