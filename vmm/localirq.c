// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * localirq: the struct irq of a device model running inside mpvmm (localdev.c), the
 * in-VMM twin of remote/irq.c.  pcifn hands it the same eventfds it would send a
 * remote with SET_IRQS, and raising a vector writes its eventfd, which KVM injects as
 * an irqfd: the in-VMM baseline takes the same interrupt path as a remote device.
 *
 * Limit: INTx asserts on each rising edge of the device's level; with no main loop in
 * the VMM nobody watches the resample eventfd, so a line still high after the guest's
 * EOI is not asserted again (remote/irq.c does that).  Called under the pcifn's lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "devices/devices.h"
#include "vmm/vmm.h"

struct localirq {
	struct irq irq;
	bool level;
	int intx;
	int *fd[PCIFN_IRQ_MSIX + 1]; /* MSI, MSI-X: nr[] eventfds, -1 = none */
	unsigned nr[PCIFN_IRQ_MSIX + 1];
};

static struct localirq *localirq_of(struct irq *irq)
{
	return (struct localirq *)((char *)irq - offsetof(struct localirq, irq));
}

static void localirq_signal(int fd)
{
	uint64_t one = 1;

	if (fd >= 0 && write(fd, &one, sizeof(one)) < 0)
		g_debug("localdev: eventfd write: %s", g_strerror(errno));
}

static void localirq_raise(struct irq *irq, unsigned vector)
{
	struct localirq *li = localirq_of(irq);
	unsigned idx = li->nr[PCIFN_IRQ_MSIX] ? PCIFN_IRQ_MSIX : PCIFN_IRQ_MSI;

	if (vector < li->nr[idx])
		localirq_signal(li->fd[idx][vector]);
}

static void localirq_set_intx(struct irq *irq, bool level)
{
	struct localirq *li = localirq_of(irq);

	if (level && !li->level)
		localirq_signal(li->intx);
	li->level = level;
}

static const struct irq_ops localirq_ops = {
	.raise = localirq_raise,
	.set_intx = localirq_set_intx,
};

int localirq_create(struct irq **out)
{
	struct localirq *li = calloc(1, sizeof(*li));

	if (!li)
		return -ENOMEM;
	li->irq.ops = &localirq_ops;
	li->intx = -1;
	*out = &li->irq;
	return 0;
}

void localirq_destroy(struct irq *irq)
{
	struct localirq *li;

	if (!irq)
		return;
	li = localirq_of(irq);
	if (li->intx >= 0)
		close(li->intx);
	for (unsigned i = PCIFN_IRQ_MSI; i <= PCIFN_IRQ_MSIX; i++) {
		for (unsigned v = 0; v < li->nr[i]; v++) {
			if (li->fd[i][v] >= 0)
				close(li->fd[i][v]);
		}
		free(li->fd[i]);
	}
	free(li);
}

/* Make room for vectors below `end` of index i. */
static int localirq_grow(struct localirq *li, unsigned i, unsigned end)
{
	int *fd;

	if (end <= li->nr[i])
		return 0;
	fd = realloc(li->fd[i], sizeof(int) * end);
	if (!fd)
		return -ENOMEM;
	for (unsigned v = li->nr[i]; v < end; v++)
		fd[v] = -1;
	li->fd[i] = fd;
	li->nr[i] = end;
	return 0;
}

static int localirq_take(int *slot, int fd)
{
	int mine = fd >= 0 ? dup(fd) : -1; /* the caller keeps fds */

	if (fd >= 0 && mine < 0)
		return -errno;
	if (*slot >= 0)
		close(*slot);
	*slot = mine;
	return 0;
}

int localirq_set_irqs(struct irq *irq, unsigned index, bool unmask, unsigned start, unsigned count,
		      const int *fds)
{
	struct localirq *li = localirq_of(irq);
	int ret;

	if (index == PCIFN_IRQ_INTX)
		return unmask || start || count != 1 ? 0 : localirq_take(&li->intx, fds[0]);
	if ((index != PCIFN_IRQ_MSI && index != PCIFN_IRQ_MSIX) || unmask ||
	    start + (uint64_t)count > PCIFN_MSIX_MAX)
		return -EINVAL;
	ret = localirq_grow(li, index, start + count);
	for (unsigned i = 0; ret == 0 && i < count; i++)
		ret = localirq_take(&li->fd[index][start + i], fds[i]);
	return ret;
}
