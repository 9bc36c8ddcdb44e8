// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * irq: a device's interrupts in a device-class process, the struct irq its model
 * signals through (devices.h).  The client hands us eventfds with
 * VFIO_USER_DEVICE_SET_IRQS; raising a vector writes its eventfd, which the VMM has
 * given to KVM as an irqfd, so the VMM is not on the interrupt path.
 *
 * INTx is level-triggered (PCI 3.0, 2.2.6): the trigger eventfd asserts the line in
 * KVM, which holds it until the guest's EOI and then signals our unmask eventfd
 * (KVM's irqfd "resample" fd).  That is VFIO's automasked INTx: after a trigger the
 * line is masked; on unmask, if the device's level is still high, we trigger again.
 * A level raised before any trigger eventfd exists is remembered and fires when one
 * is set.  MSI and MSI-X vectors are edges: a raise without an eventfd is dropped.
 *
 * It is not a device and not the protocol: vfu_server.c decodes SET_IRQS (form rules
 * in protocol/) and calls remote_irq_set(), which checks the request against this
 * device's interrupt counts.  Everything runs on the main-loop thread.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>

#include "remote/remote.h"

#define PCI_COMMAND 0x04
#define PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_CAP_PTR 0x34
#define PCI_INT_PIN 0x3d
#define PCI_CAP_ID_MSI 0x05
#define PCI_CAP_ID_MSIX 0x11
#define IRQ_MSI_MAX 32u

struct irq_vecs {
	unsigned nr;
	int *fd; /* nr eventfds, -1 = none */
};

struct remote_irq {
	struct irq irq; /* what the device gets in dev_env.irq */
	char *id;
	bool has_intx;
	int intx_fd, unmask_fd;
	guint unmask_src;
	const struct pcicfg *cfg; /* the device's, for Interrupt Disable (bound) */
	bool level;		  /* the device's INTx line */
	bool masked;		  /* triggered and not yet unmasked (EOI) */
	struct irq_vecs msi, msix;
};

static struct remote_irq *irq_of(struct irq *irq)
{
	return (struct remote_irq *)((char *)irq - offsetof(struct remote_irq, irq));
}

static void irq_signal(const struct remote_irq *ri, int fd, const char *what, unsigned v)
{
	uint64_t one = 1;

	/* An eventfd write fails only when the counter would overflow: still pending. */
	if (write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		g_debug("%s: cannot signal %s %u: %s", ri->id, what, v, g_strerror(errno));
}

/* The guest set Interrupt Disable (PCI 3.0, 6.2.2): the function must not assert INTx. */
static bool irq_intx_disabled(const struct remote_irq *ri)
{
	return ri->cfg && (ri->cfg->data[PCI_COMMAND + 1] << 8 & PCI_COMMAND_INTX_DISABLE);
}

/* Assert the line if it is high and not already asserted-and-waiting for EOI. */
static void irq_intx_update(struct remote_irq *ri)
{
	if (!ri->level || ri->masked || ri->intx_fd < 0 || irq_intx_disabled(ri))
		return;
	ri->masked = true;
	irq_signal(ri, ri->intx_fd, "INTx", 0);
}

static void irq_op_set_intx(struct irq *irq, bool level)
{
	struct remote_irq *ri = irq_of(irq);

	if (!ri->has_intx)
		return;
	ri->level = level;
	irq_intx_update(ri);
}

static void irq_op_raise(struct irq *irq, unsigned vector)
{
	struct remote_irq *ri = irq_of(irq);
	struct irq_vecs *v = ri->msix.nr ? &ri->msix : &ri->msi;

	/* The device raises MSI-X when it has it, else MSI (an MSI-X vector it lacks too). */
	if (vector < ri->msix.nr && ri->msix.fd[vector] >= 0)
		irq_signal(ri, ri->msix.fd[vector], "MSI-X vector", vector);
	else if (vector < ri->msi.nr && ri->msi.fd[vector] >= 0)
		irq_signal(ri, ri->msi.fd[vector], "MSI vector", vector);
	else
		g_debug("%s: vector %u raised with no eventfd (of %u); dropped", ri->id, vector,
			v->nr);
}

static const struct irq_ops remote_irq_ops = {
	.raise = irq_op_raise,
	.set_intx = irq_op_set_intx,
};

static void irq_unmask(struct remote_irq *ri)
{
	ri->masked = false;
	irq_intx_update(ri);
}

/* The INTx unmask (KVM resample) eventfd fired: the guest EOI'd the line. */
static gboolean irq_on_unmask(gint fd, GIOCondition cond, gpointer opaque)
{
	struct remote_irq *ri = opaque;
	uint64_t cnt;

	if (read(fd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		g_debug("%s: INTx unmask eventfd: %s", ri->id, g_strerror(errno));
	irq_unmask(ri);
	return G_SOURCE_CONTINUE;
}

static void irq_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void irq_set_unmask_fd(struct remote_irq *ri, int fd)
{
	if (ri->unmask_src)
		g_source_remove(ri->unmask_src);
	ri->unmask_src = 0;
	irq_close(&ri->unmask_fd);
	ri->unmask_fd = fd;
	if (fd >= 0)
		ri->unmask_src = g_unix_fd_add(fd, G_IO_IN, irq_on_unmask, ri);
}

int remote_irq_create(const char *id, struct remote_irq **out)
{
	struct remote_irq *ri = calloc(1, sizeof(*ri));

	if (!ri || !(ri->id = strdup(id))) {
		free(ri);
		return -ENOMEM;
	}
	ri->irq.ops = &remote_irq_ops;
	ri->intx_fd = ri->unmask_fd = -1;
	*out = ri;
	return 0;
}

struct irq *remote_irq_get(struct remote_irq *ri)
{
	return &ri->irq;
}

struct remote_irq *remote_irq_from(struct irq *irq)
{
	return irq && irq->ops == &remote_irq_ops ? irq_of(irq) : NULL;
}

static int irq_vecs_alloc(struct irq_vecs *v, unsigned nr)
{
	v->fd = malloc(sizeof(int) * (nr ? nr : 1));
	if (!v->fd)
		return -ENOMEM;
	for (unsigned i = 0; i < nr; i++)
		v->fd[i] = -1;
	v->nr = nr;
	return 0;
}

static void irq_vecs_free(struct irq_vecs *v)
{
	for (unsigned i = 0; i < v->nr; i++)
		irq_close(&v->fd[i]);
	free(v->fd);
	v->fd = NULL;
	v->nr = 0;
}

/* Vector counts from the capability list (PCI 3.0, 6.7; MSI 6.8.1.3; MSI-X 6.8.2.3). */
static void irq_scan_caps(const struct pcicfg *cfg, unsigned *msi, unsigned *msix)
{
	unsigned pos = cfg->data[PCI_CAP_PTR] & ~3u;

	*msi = *msix = 0;
	if (!(cfg->data[PCI_STATUS] & PCI_STATUS_CAP_LIST))
		return;
	/* 48 capabilities at most fit in 192 bytes: a longer chain is a loop. */
	for (unsigned n = 0; pos >= 0x40 && pos + 4 <= PCI_CFG_SIZE && n < 48; n++) {
		uint16_t ctrl = cfg->data[pos + 2] | (uint16_t)cfg->data[pos + 3] << 8;

		if (cfg->data[pos] == PCI_CAP_ID_MSI && !*msi)
			*msi = 1u << MIN((ctrl >> 1) & 7u, 5u);
		else if (cfg->data[pos] == PCI_CAP_ID_MSIX && !*msix)
			*msix = (ctrl & 0x7ffu) + 1;
		pos = cfg->data[pos + 1] & ~3u;
	}
}

int remote_irq_bind(struct remote_irq *ri, const struct pcicfg *cfg)
{
	unsigned msi, msix;

	irq_scan_caps(cfg, &msi, &msix);
	ri->cfg = cfg;
	ri->has_intx = cfg->data[PCI_INT_PIN] >= 1 && cfg->data[PCI_INT_PIN] <= 4;
	irq_vecs_free(&ri->msi);
	irq_vecs_free(&ri->msix);
	if (irq_vecs_alloc(&ri->msi, msi) < 0 || irq_vecs_alloc(&ri->msix, msix) < 0)
		return -ENOMEM;
	return 0;
}

void remote_irq_destroy(struct remote_irq *ri)
{
	if (!ri)
		return;
	irq_set_unmask_fd(ri, -1);
	irq_close(&ri->intx_fd);
	irq_vecs_free(&ri->msi);
	irq_vecs_free(&ri->msix);
	free(ri->id);
	free(ri);
}

void remote_irq_info(const struct remote_irq *ri, uint32_t index, uint32_t *flags, uint32_t *count)
{
	*flags = 0;
	*count = 0;
	if (!ri)
		return;
	if (index == VFU_PCI_INTX_IRQ && ri->has_intx) {
		*count = 1;
		*flags = VFU_IRQ_EVENTFD | VFU_IRQ_MASKABLE | VFU_IRQ_AUTOMASKED;
	} else if (index == VFU_PCI_MSI_IRQ && ri->msi.nr) {
		*count = ri->msi.nr;
		*flags = VFU_IRQ_EVENTFD | VFU_IRQ_NORESIZE;
	} else if (index == VFU_PCI_MSIX_IRQ && ri->msix.nr) {
		*count = ri->msix.nr;
		*flags = VFU_IRQ_EVENTFD;
	}
}

void remote_irq_update(struct remote_irq *ri)
{
	if (ri)
		irq_intx_update(ri);
}

void remote_irq_reset(struct remote_irq *ri)
{
	if (!ri)
		return;
	ri->level = false;
	ri->masked = false;
}

/* Sub-index i of the request selected: DATA_BOOL's byte, or always. */
static bool irq_selected(const uint8_t *bools, unsigned i)
{
	return !bools || bools[i];
}

static int irq_intx_set(struct remote_irq *ri, uint32_t flags, const uint8_t *bools, int *fds,
			unsigned nr_fds)
{
	bool efd = flags & VFU_IRQ_SET_DATA_EVENTFD;
	int fd = nr_fds ? fds[0] : -1;

	if (nr_fds)
		fds[0] = -1; /* ours now */
	if (efd && (flags & VFU_IRQ_SET_ACTION_TRIGGER)) {
		irq_close(&ri->intx_fd);
		ri->intx_fd = fd;
		ri->masked = false;
		irq_intx_update(ri); /* a level latched before the eventfd existed */
	} else if (efd && (flags & VFU_IRQ_SET_ACTION_UNMASK)) {
		irq_set_unmask_fd(ri, fd);
	} else if (efd) {
		irq_close(&fd);
		return -EINVAL; /* an eventfd signalled on mask: not supported */
	} else if (!irq_selected(bools, 0)) {
		return 0;
	} else if (flags & VFU_IRQ_SET_ACTION_TRIGGER) {
		if (ri->intx_fd >= 0)
			irq_signal(ri, ri->intx_fd, "INTx", 0); /* the client's loopback */
	} else if (flags & VFU_IRQ_SET_ACTION_MASK) {
		ri->masked = true;
	} else {
		irq_unmask(ri);
	}
	return 0;
}

static int irq_set_vecs(struct remote_irq *ri, struct irq_vecs *v, const struct vfu_irq_set *s,
			const uint8_t *bools, int *fds, unsigned nr_fds)
{
	/* Masking MSI/MSI-X is the VMM's (it virtualizes the MSI-X table): not offered. */
	if (!(s->flags & VFU_IRQ_SET_ACTION_TRIGGER))
		return -EINVAL;
	for (unsigned i = 0; i < s->count; i++) {
		unsigned vec = s->start + i;

		if (s->flags & VFU_IRQ_SET_DATA_EVENTFD) {
			irq_close(&v->fd[vec]);
			if (nr_fds) {
				v->fd[vec] = fds[i];
				fds[i] = -1;
			}
		} else if (irq_selected(bools, i) && v->fd[vec] >= 0) {
			irq_signal(ri, v->fd[vec], "vector", vec);
		}
	}
	return 0;
}

static void irq_disable_all(struct remote_irq *ri, uint32_t index)
{
	struct irq_vecs *v = index == VFU_PCI_MSI_IRQ ? &ri->msi : &ri->msix;

	if (index == VFU_PCI_INTX_IRQ) {
		irq_close(&ri->intx_fd);
		irq_set_unmask_fd(ri, -1);
		ri->masked = false;
		return;
	}
	for (unsigned i = 0; i < v->nr; i++)
		irq_close(&v->fd[i]);
}

int remote_irq_set(struct remote_irq *ri, const struct vfu_irq_set *s, const uint8_t *bools,
		   int *fds, unsigned nr_fds)
{
	uint32_t flags, count;
	struct irq_vecs *v;

	remote_irq_info(ri, s->index, &flags, &count);
	if (!ri || s->index > VFU_PCI_MSIX_IRQ || s->start + (uint64_t)s->count > count)
		return -EINVAL;
	if (s->count == 0) { /* spec: DATA_NONE, count 0 disables the whole index */
		irq_disable_all(ri, s->index);
		return 0;
	}
	if (s->index == VFU_PCI_INTX_IRQ)
		return irq_intx_set(ri, s->flags, bools, fds, nr_fds);
	v = s->index == VFU_PCI_MSI_IRQ ? &ri->msi : &ri->msix;
	return irq_set_vecs(ri, v, s, bools, fds, nr_fds);
}
