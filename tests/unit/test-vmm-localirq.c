// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for vmm/localirq.c, the struct irq of in-VMM device models: the eventfds
 * pcifn hands it (duplicated, so the caller keeps its own) are what irq_raise() and
 * irq_set_intx() write; replacement and teardown close them; bad indexes and ranges
 * are refused.  Real eventfds, no KVM.
 */
#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "devices/devices.h"
#include "vmm/vmm.h"

const struct dev_ops *const dev_table[] = {NULL};

static unsigned open_fds(void)
{
	g_autoptr(GDir) d = g_dir_open("/proc/self/fd", 0, NULL);
	unsigned n = 0;

	while (g_dir_read_name(d))
		n++;
	return n;
}

static uint64_t count(int fd)
{
	uint64_t v = 0;

	if (read(fd, &v, sizeof(v)) < 0)
		g_assert_cmpint(errno, ==, EAGAIN);
	return v;
}

static void test_localirq_vectors(void)
{
	int fds[3], none[2] = {-1, -1};
	unsigned before;
	struct irq *irq;

	for (unsigned i = 0; i < 3; i++)
		fds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	before = open_fds();
	g_assert_cmpint(localirq_create(&irq), ==, 0);
	g_assert_cmpint(localirq_set_irqs(irq, PCIFN_IRQ_MSIX, false, 0, 3, fds), ==, 0);
	irq_raise(irq, 2);
	irq_raise(irq, 3); /* no such vector: dropped */
	g_assert_cmpuint(count(fds[2]), ==, 1);
	g_assert_cmpuint(count(fds[0]), ==, 0);
	/* Taking vectors 0..1 away: raises go nowhere, and the duplicates are closed. */
	g_assert_cmpint(localirq_set_irqs(irq, PCIFN_IRQ_MSIX, false, 0, 2, none), ==, 0);
	irq_raise(irq, 0);
	g_assert_cmpuint(count(fds[0]), ==, 0);
	g_assert_cmpuint(open_fds(), ==, before + 1);
	/* Refused: other indexes, the unmask action for vectors, a range past 2048. */
	g_assert_cmpint(localirq_set_irqs(irq, 3, false, 0, 1, fds), ==, -EINVAL);
	g_assert_cmpint(localirq_set_irqs(irq, PCIFN_IRQ_MSI, true, 0, 1, fds), ==, -EINVAL);
	g_assert_cmpint(localirq_set_irqs(irq, PCIFN_IRQ_MSIX, false, PCIFN_MSIX_MAX, 1, fds), ==,
			-EINVAL);
	localirq_destroy(irq);
	g_assert_cmpuint(open_fds(), ==, before);
	for (unsigned i = 0; i < 3; i++)
		close(fds[i]);
}

/* INTx: one trigger per rising edge (no resample watcher in the VMM). */
static void test_localirq_intx(void)
{
	int trig = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct irq *irq;

	g_assert_cmpint(localirq_create(&irq), ==, 0);
	irq_set_intx(irq, true); /* no eventfd yet */
	g_assert_cmpint(localirq_set_irqs(irq, PCIFN_IRQ_INTX, false, 0, 1, &trig), ==, 0);
	irq_set_intx(irq, false);
	irq_set_intx(irq, true);
	irq_set_intx(irq, true);
	g_assert_cmpuint(count(trig), ==, 1);
	irq_set_intx(irq, false);
	irq_set_intx(irq, true);
	g_assert_cmpuint(count(trig), ==, 1);
	localirq_destroy(irq);
	localirq_destroy(NULL);
	close(trig);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vmm/localirq/vectors", test_localirq_vectors);
	g_test_add_func("/vmm/localirq/intx", test_localirq_intx);
	return g_test_run();
}
