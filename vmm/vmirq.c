// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vmirq: the VM's interrupt routing, the KVM side of struct pcifn_irq_ops
 * (Documentation/virt/kvm/api.rst: KVM_SET_GSI_ROUTING, KVM_IRQFD, KVM_SIGNAL_MSI).
 * It keeps the whole GSI routing table, because KVM_SET_GSI_ROUTING replaces it: the
 * in-kernel irqchip's default routes (GSI 0-15 to the PICs and the IOAPIC, 16-23 to
 * the IOAPIC), then one MSI route per MSI or MSI-X vector, allocated from GSI 24 up.
 * A vector's eventfd becomes an irqfd of its route, so a device's eventfd write is
 * injected by KVM without this process.
 *
 * INTx: INTA#-INTD# of slot s go to GSI 10 or 11 by the PIIX swizzle SeaBIOS and
 * QEMU's pc machine use (PIRQA-D -> 10, 10, 11, 11, PIRQ = (s + pin - 1) mod 4), the
 * same that firmware.c writes in the interrupt line registers.  Each line is a KVM
 * irqfd with KVM_IRQFD_FLAG_RESAMPLE: KVM holds the GSI asserted until the guest's EOI
 * and then signals the resample eventfd, which the device uses to re-assert a line
 * that is still high (remote/irq.c).  The guest must program those IOAPIC pins
 * level-triggered, as for any PCI INTx.
 *
 * Functions connect before KVM exists (machine.c's order), so INTx irqfds asked for
 * before vmirq_start() are kept and made then.  Any thread; one mutex.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#include "vmm/vmm.h"

#define VMIRQ_IOAPIC_PINS 24
#define VMIRQ_PIC_PINS 16
#define VMIRQ_FIRST_MSI 24
#define VMIRQ_MAX_ROUTES 1024 /* below KVM_MAX_IRQ_ROUTES (4096 on x86) */
#define VMIRQ_MAX_INTX PCIHOST_SLOTS

struct vmirq_intx {
	unsigned gsi;
	int efd, resample;
};

struct vmirq {
	int vm_fd; /* -1 until vmirq_start */
	pthread_mutex_t lock;
	struct kvm_irq_routing *table; /* room for VMIRQ_MAX_ROUTES entries */
	int next_gsi;
	struct vmirq_intx intx[VMIRQ_MAX_INTX]; /* asked for before vmirq_start */
	unsigned nr_intx;
};

static void vmirq_chip(struct kvm_irq_routing *t, unsigned gsi, unsigned chip, unsigned pin)
{
	struct kvm_irq_routing_entry *e = &t->entries[t->nr++];

	*e = (struct kvm_irq_routing_entry){.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP};
	e->u.irqchip.irqchip = chip;
	e->u.irqchip.pin = pin;
}

int vmirq_create(struct vmirq **out)
{
	struct vmirq *q = calloc(1, sizeof(*q));

	if (!q)
		return -ENOMEM;
	q->table = calloc(1, sizeof(*q->table) +
				     VMIRQ_MAX_ROUTES * sizeof(struct kvm_irq_routing_entry));
	if (!q->table) {
		free(q);
		return -ENOMEM;
	}
	/* KVM's default routing for a VM with KVM_CREATE_IRQCHIP (irq_comm.c). */
	for (unsigned gsi = 0; gsi < VMIRQ_IOAPIC_PINS; gsi++) {
		if (gsi < VMIRQ_PIC_PINS)
			vmirq_chip(q->table, gsi,
				   gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE,
				   gsi % 8);
		vmirq_chip(q->table, gsi, KVM_IRQCHIP_IOAPIC, gsi);
	}
	q->vm_fd = -1;
	q->next_gsi = VMIRQ_FIRST_MSI;
	pthread_mutex_init(&q->lock, NULL);
	*out = q;
	return 0;
}

void vmirq_destroy(struct vmirq *q)
{
	if (!q)
		return;
	pthread_mutex_destroy(&q->lock);
	free(q->table);
	free(q);
}

static int vmirq_ioctl(int fd, unsigned long req, void *arg)
{
	int ret = ioctl(fd, req, arg);

	return ret < 0 ? -errno : ret;
}

static int vmirq_intx_irqfd(int vm_fd, const struct vmirq_intx *x)
{
	struct kvm_irqfd f = {.fd = (uint32_t)x->efd,
			      .gsi = x->gsi,
			      .flags = KVM_IRQFD_FLAG_RESAMPLE,
			      .resamplefd = (uint32_t)x->resample};

	return vmirq_ioctl(vm_fd, KVM_IRQFD, &f);
}

int vmirq_start(struct vmirq *q, int vm_fd)
{
	int ret = 0;

	pthread_mutex_lock(&q->lock);
	q->vm_fd = vm_fd;
	for (unsigned i = 0; i < q->nr_intx && ret == 0; i++)
		ret = vmirq_intx_irqfd(vm_fd, &q->intx[i]);
	q->nr_intx = 0;
	pthread_mutex_unlock(&q->lock);
	return ret;
}

void vmirq_intx_gsi(unsigned slot, unsigned gsi[4])
{
	static const unsigned pirq[4] = {10, 10, 11, 11};

	for (unsigned pin = 1; pin <= 4; pin++)
		gsi[pin - 1] = pirq[(slot + pin - 1) % 4];
}

static int vmirq_route(void *ctx, int *gsi, uint64_t addr, uint32_t data)
{
	struct vmirq *q = ctx;
	struct kvm_irq_routing_entry *e = NULL;
	int ret;

	pthread_mutex_lock(&q->lock);
	for (unsigned i = 0; *gsi >= 0 && i < q->table->nr && !e; i++) {
		if (q->table->entries[i].gsi == (uint32_t)*gsi)
			e = &q->table->entries[i];
	}
	if (!e && q->table->nr == VMIRQ_MAX_ROUTES) {
		pthread_mutex_unlock(&q->lock);
		return -ENOSPC;
	}
	if (!e) {
		e = &q->table->entries[q->table->nr++];
		*gsi = q->next_gsi++;
	}
	*e = (struct kvm_irq_routing_entry){.gsi = (uint32_t)*gsi, .type = KVM_IRQ_ROUTING_MSI};
	e->u.msi.address_lo = (uint32_t)addr;
	e->u.msi.address_hi = (uint32_t)(addr >> 32);
	e->u.msi.data = data;
	ret = q->vm_fd < 0 ? -ENODEV : vmirq_ioctl(q->vm_fd, KVM_SET_GSI_ROUTING, q->table);
	pthread_mutex_unlock(&q->lock);
	return ret;
}

/* One VM ioctl under the lock, so that it never meets a closed VM fd. */
static int vmirq_vm_ioctl(struct vmirq *q, unsigned long req, void *arg)
{
	int ret;

	pthread_mutex_lock(&q->lock);
	ret = q->vm_fd < 0 ? -ENODEV : vmirq_ioctl(q->vm_fd, req, arg);
	pthread_mutex_unlock(&q->lock);
	return ret;
}

static int vmirq_irqfd(void *ctx, int gsi, int efd, bool attach)
{
	struct kvm_irqfd f = {.fd = (uint32_t)efd,
			      .gsi = (uint32_t)gsi,
			      .flags = attach ? 0 : KVM_IRQFD_FLAG_DEASSIGN};

	return vmirq_vm_ioctl(ctx, KVM_IRQFD, &f);
}

static int vmirq_signal(void *ctx, uint64_t addr, uint32_t data)
{
	struct kvm_msi msi = {
		.address_lo = (uint32_t)addr, .address_hi = (uint32_t)(addr >> 32), .data = data};

	/* > 0 delivered, 0 blocked by the guest (a masked LAPIC, say): both are fine. */
	return vmirq_vm_ioctl(ctx, KVM_SIGNAL_MSI, &msi);
}

static int vmirq_intx(void *ctx, unsigned gsi, int efd, int resample)
{
	struct vmirq *q = ctx;
	struct vmirq_intx x = {.gsi = gsi, .efd = efd, .resample = resample};
	int ret = 0;

	if (gsi >= VMIRQ_IOAPIC_PINS)
		return -EINVAL;
	pthread_mutex_lock(&q->lock);
	if (q->vm_fd >= 0)
		ret = vmirq_intx_irqfd(q->vm_fd, &x);
	else if (q->nr_intx == VMIRQ_MAX_INTX)
		ret = -ENOSPC;
	else
		q->intx[q->nr_intx++] = x;
	pthread_mutex_unlock(&q->lock);
	return ret;
}

const struct pcifn_irq_ops vmirq_ops = {
	.route = vmirq_route,
	.irqfd = vmirq_irqfd,
	.signal = vmirq_signal,
	.intx = vmirq_intx,
};

void vmirq_stop(struct vmirq *q)
{
	pthread_mutex_lock(&q->lock);
	q->vm_fd = -1;
	pthread_mutex_unlock(&q->lock);
}
