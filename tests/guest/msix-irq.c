// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * msix-irq.c: guest test of MSI-X and INTx delivery as a driver sees it, with the
 * test-only interrupt device of tests/integration/test-msix-irq.c (1234:11e9: a write
 * of v to BAR0+0 raises MSI-X vector v, a write of v to BAR0+4 sets its INTx line to
 * v != 0).  It enables its local APIC (Intel SDM vol. 3, 10.4.3), programs two MSI-X
 * table entries to two IDT vectors, enables MSI-X (PCI 3.0, 6.8.2), and counts the
 * interrupts that arrive: plain delivery, a burst, a vector masked (no interrupt, its
 * PBA bit set, delivered on unmask), the function mask, and a second vector.  Then
 * INTx: the IOAPIC pin named by the interrupt line, level-triggered (82093AA
 * datasheet, 3.2.4); a line held high must come back after every EOI, exactly as many
 * times as it stays high, and Interrupt Disable must hold it back.  Results go out as
 * TAP; the exit code is the number of failures.
 *
 * Not a driver library: no MSI, one CPU, fixed vectors.
 */
#include "guest.h"

#define IRQDEV_VENDOR 0x1234
#define IRQDEV_DEVICE 0x11e9
#define IRQDEV_RAISE 0x0
#define IRQDEV_INTX 0x4
#define IOAPIC_BASE 0xfec00000u
#define IOAPIC_WIN 0x10
#define IOAPIC_REDIR 0x10
#define IOAPIC_LEVEL 0x8000
#define PCI_INT_LINE 0x3c
#define INTX_EVERY 3 /* interrupts the device's line stays high for */

#define LAPIC_BASE 0xfee00000u
#define LAPIC_EOI 0xb0
#define LAPIC_ISR 0x100 /* eight 32-bit registers, 16 bytes apart (SDM vol. 3, 11.8.4) */
#define LAPIC_IRR 0x200
#define LAPIC_SVR 0xf0
#define LAPIC_SVR_ENABLE 0x100

#define PCI_COMMAND 0x04
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define PCI_COMMAND_INTX_OFF 0x400
#define PCI_STATUS 0x06
#define PCI_CAP_PTR 0x34
#define PCI_CAP_ID_MSIX 0x11
#define MSIX_CTRL_ENABLE 0x8000
#define MSIX_CTRL_MASKALL 0x4000

#define VEC0 0x40
#define VEC1 0x41
#define VEC_INTX 0x50
#define SPIN 200000 /* polls for an interrupt that must (or must not) come */
/*
 * INTx re-assertion takes a trip through KVM's resample eventfd, the device process
 * and a kernel worker that injects the irqfd: allow far longer on a loaded host.
 */
#define SPIN_INTX 50000000

static volatile unsigned hits[2], intx_hits, intx_early_eoi;

static void on_vec(struct idt_frame *f)
{
	hits[f->vector == VEC1]++;
	writel(0, LAPIC_BASE + LAPIC_EOI);
}

static bool lapic_bit(unsigned reg, unsigned vector)
{
	return readl(LAPIC_BASE + reg + 0x10 * (vector / 32)) >> (vector % 32) & 1;
}

/*
 * A level-triggered INTx: count it, then EOI.  The line is lowered by test_intx()
 * before the last interrupt is let in, never here: on this PVM host KVM EOIs an
 * interrupt when it delivers it (docs/interrupts.md), so by the time a handler runs
 * the resample eventfd has already asked the device whether its line is still high.
 * An in-service bit already clear on entry counts such an early EOI.
 */
static void on_intx(struct idt_frame *f)
{
	intx_hits++;
	if (!lapic_bit(LAPIC_ISR, VEC_INTX))
		intx_early_eoi++;
	writel(0, LAPIC_BASE + LAPIC_EOI);
}

struct msix {
	uint16_t bdf;
	unsigned cap;
	uint64_t table, pba, bar0;
};

/* Wait until hits[i] reaches want, or give up after SPIN polls. */
static bool wait_hits(unsigned i, unsigned want)
{
	for (unsigned n = 0; n < SPIN && hits[i] < want; n++)
		__asm__ volatile("pause");
	return hits[i] == want;
}

static unsigned find_msix(uint16_t bdf)
{
	unsigned pos = pci_cfg_readb(bdf, PCI_CAP_PTR) & ~3u;

	if (!(pci_cfg_readw(bdf, PCI_STATUS) & 0x10))
		return 0;
	for (unsigned n = 0; pos >= 0x40 && n < 48; n++) {
		if (pci_cfg_readb(bdf, pos) == PCI_CAP_ID_MSIX)
			return pos;
		pos = pci_cfg_readb(bdf, pos + 1) & ~3u;
	}
	return 0;
}

static void entry(const struct msix *m, unsigned e, uint8_t vector, bool masked)
{
	uint64_t a = m->table + 16 * e;

	writel(LAPIC_BASE, a); /* destination APIC 0, physical */
	writel(0, a + 4);
	writel(vector, a + 8); /* fixed delivery, edge */
	writel(masked ? 1 : 0, a + 12);
}

static void ctrl(const struct msix *m, uint16_t bits)
{
	uint16_t v = pci_cfg_readw(m->bdf, m->cap + 2);

	pci_cfg_writew(m->bdf, m->cap + 2, (v & 0x7ff) | bits);
}

static void fire(const struct msix *m, unsigned vector)
{
	writel(vector, m->bar0 + IRQDEV_RAISE);
}

/* With interrupts on: wait until intx_hits stops moving for SPIN polls; returns it. */
static unsigned wait_intx_quiet(void)
{
	unsigned n, last;

	do {
		last = intx_hits;
		for (n = 0; n < SPIN && intx_hits == last; n++)
			__asm__ volatile("pause");
	} while (intx_hits != last);
	return last;
}

/*
 * With interrupts off, let a line held high in `count` times: wait until the LAPIC
 * requests VEC_INTX (IRR), lower the line before the last one if `lower`, then open
 * the interrupt window until the handler ran.  Lowering an interrupt that is requested
 * but not yet delivered makes the count exact whenever the EOI happens.  Returns the
 * interrupts taken; stops early when one does not come.
 */
static unsigned intx_take(const struct msix *m, unsigned count, bool lower)
{
	unsigned got = 0;

	for (; got < count; got++) {
		unsigned before = intx_hits, n;

		for (n = 0; n < SPIN_INTX && !lapic_bit(LAPIC_IRR, VEC_INTX); n++)
			__asm__ volatile("pause");
		if (n == SPIN_INTX)
			break;
		if (lower && got + 1 == count)
			writel(0, m->bar0 + IRQDEV_INTX);
		__asm__ volatile("sti");
		for (n = 0; n < SPIN_INTX && intx_hits == before; n++)
			__asm__ volatile("pause");
		__asm__ volatile("cli");
		if (intx_hits == before)
			break;
	}
	return got;
}

static void ioapic_write(unsigned reg, uint32_t v)
{
	writel(reg, IOAPIC_BASE);
	writel(v, IOAPIC_BASE + IOAPIC_WIN);
}

static void intx_disable(const struct msix *m, bool off)
{
	uint16_t cmd = pci_cfg_readw(m->bdf, PCI_COMMAND) & ~PCI_COMMAND_INTX_OFF;

	pci_cfg_writew(m->bdf, PCI_COMMAND, cmd | (off ? PCI_COMMAND_INTX_OFF : 0));
}

static void test_intx(const struct msix *m)
{
	uint8_t line = pci_cfg_readb(m->bdf, PCI_INT_LINE);
	unsigned n;

	if (!report(line == 10 || line == 11, "interrupt line names IOAPIC pin 10 or 11 (%u)",
		    line))
		return;
	ctrl(m, 0); /* MSI-X off: the function signals INTx again */
	idt_set_handler(VEC_INTX, on_intx);
	ioapic_write(IOAPIC_REDIR + 2 * line + 1, 0);			/* destination APIC 0 */
	ioapic_write(IOAPIC_REDIR + 2 * line, VEC_INTX | IOAPIC_LEVEL); /* active high */
	intx_disable(m, false);
	report(wait_intx_quiet() == 0, "no INTx before the device raises its line");
	/* Held high, the line must come back after each EOI, and stop once lowered. */
	__asm__ volatile("cli");
	writel(1, m->bar0 + IRQDEV_INTX);
	intx_take(m, INTX_EVERY, true);
	__asm__ volatile("sti");
	n = wait_intx_quiet();
	report(n == INTX_EVERY,
	       "a line held high comes back after each EOI, stops when lowered: "
	       "%u of %u",
	       n, INTX_EVERY);
	__asm__ volatile("cli");
	writel(1, m->bar0 + IRQDEV_INTX);
	intx_take(m, INTX_EVERY, true);
	__asm__ volatile("sti");
	report(wait_intx_quiet() - n == INTX_EVERY, "raised again: %u more", intx_hits - n);
	n = intx_hits;
	intx_disable(m, true);
	writel(1, m->bar0 + IRQDEV_INTX);
	report(wait_intx_quiet() == n && !lapic_bit(LAPIC_IRR, VEC_INTX),
	       "Interrupt Disable holds a high line back");
	__asm__ volatile("cli");
	intx_disable(m, false);
	intx_take(m, 1, true);
	__asm__ volatile("sti");
	report(wait_intx_quiet() - n == 1, "clearing Interrupt Disable lets it through: %u",
	       intx_hits - n);
	report_note("%u of %u INTx interrupts were already EOI'd when the handler ran",
		    intx_early_eoi, intx_hits);
}

static void test_mask(const struct msix *m)
{
	entry(m, 0, VEC0, true);
	fire(m, 0);
	report(!wait_hits(0, 12), "masked vector: no interrupt");
	report((readq(m->pba) & 1) == 1, "masked vector: PBA bit 0 set");
	writel(0, m->table + 12);
	report(wait_hits(0, 12), "unmask delivers the pending message");
	report((readq(m->pba) & 1) == 0, "PBA bit 0 clear after delivery");
	ctrl(m, MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);
	fire(m, 0);
	report(!wait_hits(0, 13), "function mask: no interrupt");
	report((readl(m->pba) & 1) == 1, "function mask: PBA bit 0 set");
	ctrl(m, MSIX_CTRL_ENABLE);
	report(wait_hits(0, 13), "clearing the function mask delivers it");
}

static int setup(struct msix *m)
{
	const struct pci_fn *fn;
	uint32_t t, p;

	if (pci_init() < 0 || !(fn = pci_find(IRQDEV_VENDOR, IRQDEV_DEVICE, 0)))
		return -ENODEV;
	m->bdf = fn->bdf;
	m->bar0 = fn->bar[0].addr;
	m->cap = find_msix(fn->bdf);
	if (!m->cap || !m->bar0)
		return -ENODEV;
	t = pci_cfg_readl(fn->bdf, m->cap + 4);
	p = pci_cfg_readl(fn->bdf, m->cap + 8);
	if ((t & 7) || (p & 7)) /* this device keeps both in BAR0 */
		return -EINVAL;
	m->table = m->bar0 + (t & ~7u);
	m->pba = m->bar0 + (p & ~7u);
	pci_cfg_writew(fn->bdf, PCI_COMMAND,
		       pci_cfg_readw(fn->bdf, PCI_COMMAND) | PCI_COMMAND_MEMORY |
			       PCI_COMMAND_MASTER | PCI_COMMAND_INTX_OFF);
	return 0;
}

int main(void)
{
	struct msix m;

	if (setup(&m) < 0) {
		report(false, "interrupt test device 1234:11e9 with MSI-X in BAR0");
		return report_summary();
	}
	idt_set_handler(VEC0, on_vec);
	idt_set_handler(VEC1, on_vec);
	writel(readl(LAPIC_BASE + LAPIC_SVR) | LAPIC_SVR_ENABLE | IDT_SPURIOUS_VECTOR,
	       LAPIC_BASE + LAPIC_SVR);
	__asm__ volatile("sti");
	report((readl(m.table + 12) & 1) == 1, "table entries start masked");
	entry(&m, 0, VEC0, false);
	entry(&m, 1, VEC1, false);
	fire(&m, 0);
	report(!wait_hits(0, 1), "MSI-X disabled: no interrupt");
	ctrl(&m, MSIX_CTRL_ENABLE);
	fire(&m, 0);
	report(wait_hits(0, 1), "vector 0 delivered once");
	for (unsigned i = 0; i < 10; i++)
		fire(&m, 0);
	report(wait_hits(0, 11), "a burst of 10: %u interrupts", hits[0] - 1);
	fire(&m, 1);
	report(wait_hits(1, 1) && hits[0] == 11, "vector 1 reaches its own IDT vector");
	test_mask(&m);
	test_intx(&m);
	__asm__ volatile("cli");
	return report_summary();
}
