// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rootport: a PCI Express root port with a native hot-plug slot, emulated inside
 * mpvmm as a PCI-to-PCI bridge function on bus 0 (-device pcie-root-port, QEMU's name
 * and IDs 1b36:000c).  It has a type-1 header (PCI-to-PCI Bridge Architecture Spec
 * 1.2, chapter 3: bus numbers, I/O, memory and prefetchable windows), a PCI Express
 * capability (PCIe Base Spec 3.0, 7.8) of a root port with an implemented slot whose
 * Slot Capabilities offer an attention button, a power controller and hot-plug
 * (7.8.9), Slot Control and Slot Status with their events (7.8.10, 7.8.11), and an
 * MSI capability (PCI 3.0, 6.8.1) for the hot-plug interrupt, INTx otherwise (PCIe
 * 3.0, 6.7.3.4).  Config cycles to its secondary bus reach the function plugged into
 * its slot (device 0 only, and only while the slot is powered and the link is up);
 * memory and port accesses inside its windows reach that function's BARs.
 *
 * It is not the hot-plug policy: hotplug.c decides when a device is plugged or
 * removed; this file only models the slot the guest sees.  No AER, no ARI, no
 * extended capabilities (offset 0x100 reads 0), no MRL sensor, no electromechanical
 * interlock, no secondary-bus reset of the child.
 *
 * Locking: one mutex per port guards the config image and the child pointer.  A vCPU
 * takes a reference to the child under the lock and calls it unlocked, so a device
 * that blocks never holds the port; the last reference resets and destroys it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vmm/vmm.h"

#define CFG_SIZE 256u
#define PCI_COMMAND 0x04
#define PCI_COMMAND_IO 0x1
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS 0x06
#define PCI_STATUS_INTERRUPT 0x08
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_SECONDARY_BUS 0x19
#define PCI_SUBORDINATE_BUS 0x1a
#define PCI_IO_BASE 0x1c
#define PCI_MEMORY_BASE 0x20
#define PCI_PREF_BASE 0x24
#define PCI_PREF_BASE_UPPER 0x28
#define PCI_CAP_PTR 0x34
#define PCI_INTERRUPT_PIN 0x3d

/* The PCI Express capability at 0x40 (7.8) and MSI at 0x80 (PCI 3.0, 6.8.1). */
#define RP_EXP 0x40
#define RP_EXP_SIZE 0x3c
#define EXP_FLAGS (RP_EXP + 0x02)
#define EXP_DEVCAP (RP_EXP + 0x04)
#define EXP_LNKCAP (RP_EXP + 0x0c)
#define EXP_LNKCTL (RP_EXP + 0x10)
#define EXP_LNKSTA (RP_EXP + 0x12)
#define EXP_LNKSTA_DLLLA 0x2000 /* Data Link Layer Link Active */
#define EXP_SLTCAP (RP_EXP + 0x14)
#define EXP_SLTCTL (RP_EXP + 0x18)
#define EXP_SLTSTA (RP_EXP + 0x1a)
#define EXP_LNKCAP2 (RP_EXP + 0x2c)
#define EXP_LNKCTL2 (RP_EXP + 0x30)
#define RP_MSI 0x80
#define MSI_ENABLE 0x1
#define MSI_64BIT 0x80

#define RP_VENDOR 0x1b36 /* QEMU's pcie-root-port: Red Hat, 000c */
#define RP_DEVICE 0x000c
#define RP_CHASSIS_MAX 255
#define RP_PSN_MAX 8191 /* Physical Slot Number: 13 bits */
#define RP_TIMEOUT_MAX 600000

struct rp_child {
	struct pcifn *fn;
	unsigned refs; /* atomic: the port's (while plugged) + one per vCPU access */
};

struct rootport {
	char *id;
	struct machine *m;
	unsigned slot; /* bus-0 device number */
	unsigned chassis, psn, timeout_ms;
	pthread_mutex_t lock;
	uint8_t cfg[CFG_SIZE], wmask[CFG_SIZE], w1c[CFG_SIZE];
	struct rp_child *child; /* plugged device, NULL when empty */
	bool irq_level;		/* the hot-plug interrupt condition, as last evaluated */
	bool intx_asserted;	/* INTx sent and not yet resampled (EOI) */
	int intx_efd, intx_resample;
	rootport_power_off_fn power_off;
	void *hook_ctx;
};

static uint16_t rp_w(const struct rootport *rp, unsigned off)
{
	return (uint16_t)(rp->cfg[off] | rp->cfg[off + 1] << 8);
}

static void rp_setw(uint8_t *a, unsigned off, uint16_t v)
{
	a[off] = (uint8_t)v;
	a[off + 1] = (uint8_t)(v >> 8);
}

static void rp_setl(uint8_t *a, unsigned off, uint32_t v)
{
	rp_setw(a, off, (uint16_t)v);
	rp_setw(a, off + 2, (uint16_t)(v >> 16));
}

static uint32_t rp_l(const struct rootport *rp, unsigned off)
{
	return rp_w(rp, off) | (uint32_t)rp_w(rp, off + 2) << 16;
}

/* The type-1 header's read-only values and writable bits (PCI-PCI Bridge 1.2, 3.2). */
static void rp_init_header(struct rootport *rp)
{
	rp_setw(rp->cfg, 0x00, RP_VENDOR);
	rp_setw(rp->cfg, 0x02, RP_DEVICE);
	rp_setw(rp->cfg, PCI_STATUS, PCI_STATUS_CAP_LIST);
	rp_setl(rp->cfg, 0x08, 0x06040000u); /* class bridge, PCI-to-PCI, prog-if 0, rev 0 */
	rp->cfg[0x0e] = 0x01;		     /* header type 1, single function */
	rp->cfg[PCI_IO_BASE] = rp->cfg[PCI_IO_BASE + 1] = 0x01; /* 32-bit I/O decode */
	rp_setw(rp->cfg, PCI_PREF_BASE, 0x0001);		/* 64-bit prefetchable */
	rp_setw(rp->cfg, PCI_PREF_BASE + 2, 0x0001);
	rp->cfg[PCI_CAP_PTR] = RP_EXP;
	rp->cfg[PCI_INTERRUPT_PIN] = 1;		 /* INTA# */
	rp_setw(rp->wmask, PCI_COMMAND, 0x0547); /* I/O, mem, master, parity, SERR, INTx off */
	rp->wmask[0x0c] = 0xff;			 /* cache line size */
	memset(rp->wmask + 0x18, 0xff, 3);	 /* primary, secondary, subordinate bus */
	rp->wmask[PCI_IO_BASE] = rp->wmask[PCI_IO_BASE + 1] = 0xf0;
	rp_setl(rp->wmask, PCI_MEMORY_BASE, 0xfff0fff0u);
	rp_setl(rp->wmask, PCI_PREF_BASE, 0xfff0fff0u);
	memset(rp->wmask + PCI_PREF_BASE_UPPER, 0xff, 8);
	rp_setl(rp->wmask, 0x30, 0xffffffffu); /* I/O base and limit, upper 16 bits */
	rp->wmask[0x3c] = 0xff;		       /* interrupt line */
	rp_setw(rp->wmask, 0x3e, 0x007f);      /* bridge control */
}

/* PCI Express capability, version 2, of a root port with a hot-plug slot (7.8). */
static void rp_init_exp(struct rootport *rp)
{
	uint32_t sltcap = 0x1 | 0x2 | 0x8 | 0x10 | 0x40; /* ABP, PCP, AIP, PIP, HPC */

	rp->cfg[RP_EXP] = 0x10; /* PCI Express capability ID */
	rp->cfg[RP_EXP + 1] = RP_MSI;
	rp_setw(rp->cfg, EXP_FLAGS, 0x2 | 0x4 << 4 | 0x100); /* v2, root port, slot */
	rp_setl(rp->cfg, EXP_DEVCAP, 0x8000);		     /* role-based error reporting */
	/* 2.5 GT/s, x1, Data Link Layer Link Active Reporting Capable, port number. */
	rp_setl(rp->cfg, EXP_LNKCAP, 0x1 | 0x1 << 4 | 0x100000 | (uint32_t)rp->slot << 24);
	rp_setw(rp->cfg, EXP_LNKSTA, 0x1 | 0x1 << 4);
	sltcap |= (uint32_t)rp->psn << 19;
	rp_setl(rp->cfg, EXP_SLTCAP, sltcap);
	/* Empty slot: power off, both indicators off (7.8.10). */
	rp_setw(rp->cfg, EXP_SLTCTL, 0x0400 | 0x3 << 8 | 0x3 << 6);
	rp_setl(rp->cfg, EXP_LNKCAP2, 0x2); /* supported speeds: 2.5 GT/s */
	rp_setw(rp->cfg, EXP_LNKCTL2, 0x1);
	rp_setw(rp->wmask, RP_EXP + 0x08, 0xffff); /* Device Control */
	rp_setw(rp->wmask, EXP_LNKCTL, 0x00c3);	   /* ASPM, common clock, extended sync */
	rp_setw(rp->wmask, EXP_SLTCTL, 0x1fff);
	rp_setw(rp->w1c, EXP_SLTSTA, 0x011f);	   /* ABP PFD MRLSC PDC CC, DLLSC */
	rp_setw(rp->wmask, RP_EXP + 0x1c, 0x001f); /* Root Control */
	rp_setw(rp->wmask, EXP_LNKCTL2, 0x000f);
}

/* MSI, one vector, 64-bit addresses, no per-vector masking (PCI 3.0, 6.8.1). */
static void rp_init_msi(struct rootport *rp)
{
	rp->cfg[RP_MSI] = 0x05;
	rp_setw(rp->cfg, RP_MSI + 2, MSI_64BIT);
	rp_setw(rp->wmask, RP_MSI + 2, MSI_ENABLE);
	rp_setl(rp->wmask, RP_MSI + 4, 0xfffffffcu);
	rp_setl(rp->wmask, RP_MSI + 8, 0xffffffffu);
	rp_setw(rp->wmask, RP_MSI + 12, 0xffff);
}

/* Lock held.  Slot Control event enables mapped onto their Slot Status bits. */
static bool rp_irq_condition(const struct rootport *rp)
{
	uint16_t ctl = rp_w(rp, EXP_SLTCTL), sta = rp_w(rp, EXP_SLTSTA);
	uint16_t en = (ctl & 0x1f) | ((ctl & 0x1000) ? 0x100 : 0);

	return (ctl & 0x20) && (sta & en); /* Hot-Plug Interrupt Enable */
}

/* Lock held.  INTx through a resampling irqfd: re-sent after each EOI while pending. */
static void rp_intx(struct rootport *rp, bool level)
{
	uint64_t cnt;

	if (rp->intx_asserted && read(rp->intx_resample, &cnt, sizeof(cnt)) == sizeof(cnt))
		rp->intx_asserted = false; /* the guest's EOI */
	if (level && !rp->intx_asserted) {
		cnt = 1;
		if (write(rp->intx_efd, &cnt, sizeof(cnt)) == sizeof(cnt))
			rp->intx_asserted = true;
	}
}

/*
 * Lock held.  PCIe 3.0, 6.7.3.4: with MSI enabled, a message each time the interrupt
 * condition goes from false to true (and bus mastering is on); otherwise INTx while it
 * holds and INTx is not disabled.
 */
static void rp_update_irq(struct rootport *rp)
{
	bool level = rp_irq_condition(rp), rising = level && !rp->irq_level;
	uint16_t cmd = rp_w(rp, PCI_COMMAND), status = rp_w(rp, PCI_STATUS);

	rp->irq_level = level;
	if (rp_w(rp, RP_MSI + 2) & MSI_ENABLE) {
		uint64_t addr = rp_l(rp, RP_MSI + 4) | (uint64_t)rp_l(rp, RP_MSI + 8) << 32;

		rp_setw(rp->cfg, PCI_STATUS, status & ~PCI_STATUS_INTERRUPT);
		if (rising && (cmd & PCI_COMMAND_MASTER) &&
		    vmirq_ops.signal(rp->m->irq, addr, rp_w(rp, RP_MSI + 12)) < 0)
			g_debug("%s: hot-plug MSI not delivered", rp->id);
		return;
	}
	rp_setw(rp->cfg, PCI_STATUS,
		level ? status | PCI_STATUS_INTERRUPT : status & ~PCI_STATUS_INTERRUPT);
	rp_intx(rp, level && !(cmd & PCI_COMMAND_INTX_DISABLE));
}

/* Lock held.  Link is up while a device is present and powered (7.8.8, 7.8.11). */
static void rp_update_link(struct rootport *rp)
{
	bool powered = !(rp_w(rp, EXP_SLTCTL) & 0x0400);
	bool up = rp->child && powered;
	uint16_t lnksta = rp_w(rp, EXP_LNKSTA);

	if (!!(lnksta & EXP_LNKSTA_DLLLA) == up)
		return;
	rp_setw(rp->cfg, EXP_LNKSTA, up ? lnksta | EXP_LNKSTA_DLLLA : lnksta & ~EXP_LNKSTA_DLLLA);
	rp_setw(rp->cfg, EXP_SLTSTA, rp_w(rp, EXP_SLTSTA) | 0x100); /* DLLSC */
}

static void rp_child_put(struct rp_child *c)
{
	if (__atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL))
		return;
	/* Back to power-on state first: that takes its doorbells out of KVM. */
	pcifn_reset(c->fn);
	pcifn_destroy(c->fn);
	g_free(c);
}

/* A reference to the child when the link is up, else NULL. */
static struct rp_child *rp_child_get(struct rootport *rp)
{
	struct rp_child *c = NULL;

	pthread_mutex_lock(&rp->lock);
	if (rp->child && (rp_w(rp, EXP_LNKSTA) & EXP_LNKSTA_DLLLA)) {
		c = rp->child;
		__atomic_add_fetch(&c->refs, 1, __ATOMIC_ACQ_REL);
	}
	pthread_mutex_unlock(&rp->lock);
	return c;
}

static uint32_t rp_cfg_read(void *opaque, uint32_t reg, unsigned size)
{
	struct rootport *rp = opaque;
	uint32_t val = 0;

	if (reg >= CFG_SIZE)
		return 0; /* no extended capabilities: 0x100 reads 0, ending the list */
	pthread_mutex_lock(&rp->lock);
	rp_update_irq(rp); /* notices an EOI of a pending INTx */
	for (unsigned i = 0; i < size; i++)
		val |= (uint32_t)rp->cfg[reg + i] << (8 * i);
	pthread_mutex_unlock(&rp->lock);
	return val;
}

/* Lock held.  One byte of a config write: writable bits, write-1-to-clear bits. */
static void rp_store_byte(struct rootport *rp, uint32_t reg, uint8_t v)
{
	rp->cfg[reg] = (uint8_t)((rp->cfg[reg] & ~rp->wmask[reg]) | (v & rp->wmask[reg]));
	rp->cfg[reg] &= (uint8_t) ~(v & rp->w1c[reg]);
}

static bool rp_touches(uint32_t reg, unsigned size, uint32_t off, unsigned len)
{
	return reg < off + len && off < reg + size;
}

static void rp_cfg_write(void *opaque, uint32_t reg, unsigned size, uint32_t val)
{
	struct rootport *rp = opaque;
	bool was_on, now_on, off_occupied = false;

	if (reg >= CFG_SIZE)
		return;
	pthread_mutex_lock(&rp->lock);
	was_on = !(rp_w(rp, EXP_SLTCTL) & 0x0400);
	for (unsigned i = 0; i < size; i++)
		rp_store_byte(rp, reg + i, (uint8_t)(val >> (8 * i)));
	if (rp_touches(reg, size, EXP_SLTCTL, 2)) {
		/* Each Slot Control write is one command, completed at once (7.8.10). */
		rp_setw(rp->cfg, EXP_SLTSTA, rp_w(rp, EXP_SLTSTA) | 0x10);
		now_on = !(rp_w(rp, EXP_SLTCTL) & 0x0400);
		off_occupied = was_on && !now_on && rp->child;
		if (was_on != now_on)
			g_debug("%s: slot power %s", rp->id, now_on ? "on" : "off");
		rp_update_link(rp);
	}
	rp_update_irq(rp);
	pthread_mutex_unlock(&rp->lock);
	if (off_occupied && rp->power_off)
		rp->power_off(rp->hook_ctx, rp);
}

/* Bus numbers as programmed: is `bus` the secondary bus or behind it? */
static bool rp_bus_cfg(void *opaque, unsigned bus, unsigned dev, unsigned fn, uint32_t reg,
		       unsigned size, bool write, uint32_t *val)
{
	struct rootport *rp = opaque;
	struct rp_child *c;
	unsigned sec, sub;

	pthread_mutex_lock(&rp->lock);
	sec = rp->cfg[PCI_SECONDARY_BUS];
	sub = rp->cfg[PCI_SUBORDINATE_BUS];
	pthread_mutex_unlock(&rp->lock);
	if (sec == 0 || bus < sec || bus > sub)
		return false;
	if (!write)
		*val = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
	/* A root port's link leads to one device: device 0 of the secondary bus (7.3.1). */
	if (bus != sec || dev != 0 || fn != 0)
		return true;
	c = rp_child_get(rp);
	if (!c)
		return true;
	if (write)
		pcifn_cfg_write(c->fn, reg, size, *val);
	else
		pcifn_cfg_read(c->fn, reg, size, val); /* all-ones on error */
	rp_child_put(c);
	return true;
}

/* Lock held.  [addr, addr+len) inside the I/O, memory or prefetchable window? */
static bool rp_window(const struct rootport *rp, bool io, uint64_t addr, unsigned len)
{
	uint64_t base, limit, end = addr + len - 1;
	uint16_t cmd = rp_w(rp, PCI_COMMAND);

	if (io) {
		base = (rp->cfg[PCI_IO_BASE] & 0xf0u) << 8 | (uint32_t)rp_w(rp, 0x30) << 16;
		limit = ((rp->cfg[PCI_IO_BASE + 1] & 0xf0u) << 8 | 0xfff) | (uint32_t)rp_w(rp, 0x32)
										    << 16;
		return (cmd & PCI_COMMAND_IO) && addr >= base && end <= limit;
	}
	if (!(cmd & PCI_COMMAND_MEMORY))
		return false;
	base = (uint64_t)(rp_w(rp, PCI_MEMORY_BASE) & 0xfff0) << 16;
	limit = (uint64_t)(rp_w(rp, PCI_MEMORY_BASE + 2) & 0xfff0) << 16 | 0xfffff;
	if (addr >= base && end <= limit)
		return true;
	base = (uint64_t)(rp_w(rp, PCI_PREF_BASE) & 0xfff0) << 16 |
	       (uint64_t)rp_l(rp, PCI_PREF_BASE_UPPER) << 32;
	limit = ((uint64_t)(rp_w(rp, PCI_PREF_BASE + 2) & 0xfff0) << 16 | 0xfffff) |
		(uint64_t)rp_l(rp, PCI_PREF_BASE_UPPER + 4) << 32;
	return addr >= base && end <= limit;
}

static bool rp_access(void *opaque, bool io, uint64_t addr, unsigned len, bool write, uint64_t *val)
{
	struct rootport *rp = opaque;
	struct rp_child *c;
	bool inside, claimed = false;
	unsigned bar;
	uint64_t off;

	if (len == 0 || addr + len < addr)
		return false;
	pthread_mutex_lock(&rp->lock);
	inside = rp_window(rp, io, addr, len);
	pthread_mutex_unlock(&rp->lock);
	if (!inside || !(c = rp_child_get(rp)))
		return false;
	if (pcifn_decode(c->fn, io, addr, len, &bar, &off)) {
		if (write)
			pcifn_bar_write(c->fn, bar, off, len, *val);
		else
			pcifn_bar_read(c->fn, bar, off, len, val); /* all-ones on error */
		claimed = true;
	}
	rp_child_put(c);
	return claimed;
}

static void rp_destroy(void *opaque)
{
	struct rootport *rp = opaque;

	if (rp->child) { /* the vCPUs are gone: no reset needed, nobody else holds it */
		pcifn_destroy(rp->child->fn);
		g_free(rp->child);
	}
	if (rp->intx_efd >= 0)
		close(rp->intx_efd);
	if (rp->intx_resample >= 0)
		close(rp->intx_resample);
	pthread_mutex_destroy(&rp->lock);
	g_free(rp->id);
	g_free(rp);
}

static const struct pcihost_bridge_ops rp_bridge_ops = {
	.cfg_read = rp_cfg_read,
	.cfg_write = rp_cfg_write,
	.bus_cfg = rp_bus_cfg,
	.access = rp_access,
	.destroy = rp_destroy,
};

static int rp_error(GError **err, const char *id, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static int rp_error(GError **err, const char *id, const char *fmt, ...)
{
	g_autofree char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error(err, VMM_ERROR, EINVAL, "-device %s,id=%s: %s", ROOTPORT_TYPE, id, msg);
	return -EINVAL;
}

/* chassis=N, slot=N, x-unplug-timeout=MS: strings from devopt.c, checked here. */
static int rp_props(struct rootport *rp, json_object *props, GError **err)
{
	struct {
		const char *key;
		uint64_t max;
		unsigned *out;
	} known[] = {
		{"chassis", RP_CHASSIS_MAX, &rp->chassis},
		{"slot", RP_PSN_MAX, &rp->psn},
		{"x-unplug-timeout", RP_TIMEOUT_MAX, &rp->timeout_ms},
	};

	json_object_object_foreach(props, key, jv)
	{
		unsigned i;
		uint64_t v;

		for (i = 0; i < G_N_ELEMENTS(known) && strcmp(key, known[i].key) != 0; i++)
			;
		if (i == G_N_ELEMENTS(known))
			return rp_error(err, rp->id,
					"unknown property '%s'; %s takes id, chassis, slot and "
					"x-unplug-timeout (see -device %s,help)",
					key, ROOTPORT_TYPE, ROOTPORT_TYPE);
		if (options_parse_uint(json_object_get_string(jv), known[i].max, &v) < 0)
			return rp_error(err, rp->id, "%s=%s is not a number from 0 to %" PRIu64,
					key, json_object_get_string(jv), known[i].max);
		*known[i].out = (unsigned)v;
	}
	return 0;
}

/* INTx: a level irqfd on the GSI of INTA# of our slot, made when KVM starts. */
static int rp_intx_setup(struct rootport *rp)
{
	unsigned gsi[4];

	rp->intx_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	rp->intx_resample = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (rp->intx_efd < 0 || rp->intx_resample < 0)
		return -errno;
	vmirq_intx_gsi(rp->slot, gsi);
	return vmirq_ops.intx(rp->m->irq, gsi[0], rp->intx_efd, rp->intx_resample);
}

int rootport_create(struct machine *m, const char *id, json_object *props, struct rootport **out,
		    GError **err)
{
	struct rootport *rp = g_new0(struct rootport, 1);
	int ret;

	rp->id = g_strdup(id);
	rp->m = m;
	rp->timeout_ms = ROOTPORT_UNPLUG_TIMEOUT_MS;
	rp->intx_efd = rp->intx_resample = -1;
	pthread_mutex_init(&rp->lock, NULL);
	ret = rp_props(rp, props, err);
	if (ret < 0)
		goto fail;
	ret = pcihost_attach_bridge(m->pci, &rp_bridge_ops, rp, &rp->slot);
	if (ret < 0) {
		g_set_error(err, VMM_ERROR, -ret,
			    "-device %s,id=%s: bus 0 is full (%u devices at "
			    "most)",
			    ROOTPORT_TYPE, id, PCIHOST_SLOTS - 1);
		goto fail;
	}
	if (!rp->psn) /* QEMU derives nothing either; a unique default helps guests name it */
		rp->psn = rp->slot;
	rp_init_header(rp);
	rp_init_exp(rp);
	rp_init_msi(rp);
	ret = rp_intx_setup(rp);
	if (ret < 0) /* the bridge is attached: pcihost_destroy() frees it */
		return g_set_error(err, VMM_ERROR, -ret, "-device %s,id=%s: cannot wire INTx: %s",
				   ROOTPORT_TYPE, id, g_strerror(-ret)),
		       ret;
	*out = rp;
	return 0;
fail:
	rp_destroy(rp);
	return ret;
}

const char *rootport_id(const struct rootport *rp)
{
	return rp->id;
}

unsigned rootport_slot(const struct rootport *rp)
{
	return rp->slot;
}

unsigned rootport_unplug_timeout_ms(const struct rootport *rp)
{
	return rp->timeout_ms;
}

void rootport_set_hook(struct rootport *rp, rootport_power_off_fn fn, void *ctx)
{
	pthread_mutex_lock(&rp->lock);
	rp->power_off = fn;
	rp->hook_ctx = ctx;
	pthread_mutex_unlock(&rp->lock);
}

/* Lock held: a Slot Status event, then the link and the interrupt follow. */
static void rp_event(struct rootport *rp, uint16_t sta_set, uint16_t sta_clear)
{
	rp_setw(rp->cfg, EXP_SLTSTA, (rp_w(rp, EXP_SLTSTA) & ~sta_clear) | sta_set);
	rp_update_link(rp);
	rp_update_irq(rp);
}

int rootport_plug(struct rootport *rp, struct pcifn *fn)
{
	struct rp_child *c;

	pthread_mutex_lock(&rp->lock);
	if (rp->child) {
		pthread_mutex_unlock(&rp->lock);
		pcifn_destroy(fn);
		return -EBUSY;
	}
	c = g_new0(struct rp_child, 1);
	c->fn = fn;
	c->refs = 1;
	rp->child = c;
	/* Presence Detect State and Changed; Attention Button Pressed is stale now. */
	rp_event(rp, 0x40 | 0x08, 0x01);
	pthread_mutex_unlock(&rp->lock);
	g_info("%s: %s plugged", rp->id, pcifn_id(fn));
	return 0;
}

const char *rootport_child(struct rootport *rp, bool *powered)
{
	const char *id;

	pthread_mutex_lock(&rp->lock);
	id = rp->child ? pcifn_id(rp->child->fn) : NULL;
	if (powered)
		*powered = !(rp_w(rp, EXP_SLTCTL) & 0x0400);
	pthread_mutex_unlock(&rp->lock);
	return id;
}

void rootport_press_button(struct rootport *rp)
{
	pthread_mutex_lock(&rp->lock);
	rp_event(rp, 0x01, 0);
	pthread_mutex_unlock(&rp->lock);
}

void rootport_unplug(struct rootport *rp)
{
	struct rp_child *c;

	pthread_mutex_lock(&rp->lock);
	c = rp->child;
	rp->child = NULL;
	if (c) /* Presence Detect Changed, the link goes down (DLLSC) */
		rp_event(rp, 0x08, 0x40);
	pthread_mutex_unlock(&rp->lock);
	if (!c)
		return;
	g_info("%s: %s unplugged", rp->id, pcifn_id(c->fn));
	rp_child_put(c); /* a vCPU still inside the device destroys it on its way out */
}
