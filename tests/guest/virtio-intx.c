// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio-intx.c: virtio interrupts through the PCI INTx line instead of MSI-X.  With
 * MSI-X off, a virtio device signals through its INTx pin and the ISR status byte
 * (virtio 1.1, 4.1.4.5): bit 0 a used buffer, bit 1 a configuration change; reading
 * ISR returns the causes, resets them and deasserts the line.  The line is routed
 * through the IOAPIC pin the Interrupt Line register names (as hotplug.c does),
 * level-triggered and active high, as the MADT of QEMU's pc machine and of mpvmm
 * describe PCI interrupts, to this CPU.  The handler reads ISR and EOIs the LAPIC,
 * which EOIs the IOAPIC (82093AA datasheet, 3.2.4): a line still high is delivered
 * again, so every cause is counted once.  An interrupt with ISR 0 (another function
 * on a shared line) is counted apart, as foreign.
 *
 * Also here: the mode=irq|poll|intx option the virtio guests share.  One device per
 * program, as in virtio.c.
 */
#include "virtio.h"

#define IOAPIC_BASE 0xfec00000u /* IOREGSEL; IOWIN at +0x10 */
#define IOAPIC_WIN 0x10
#define IOAPIC_REDIR 0x10   /* redirection entry n: registers 0x10 + 2n (low), +1 (high) */
#define IOAPIC_LEVEL 0x8000 /* trigger mode: level; polarity bit 13 clear: active high */
#define IOAPIC_PINS 24
#define PCI_INT_LINE 0x3c
#define PCI_INT_PIN 0x3d

static const struct virtio_dev *intx_dev;
static volatile unsigned long intx_used, intx_config, intx_foreign;

static void virtio_intx_handler(struct idt_frame *f)
{
	uint8_t isr = readb(intx_dev->isr); /* deasserts the line */

	(void)f;
	if (isr & 1)
		intx_used++;
	if (isr & 2)
		intx_config++;
	if (!isr)
		intx_foreign++;
	lapic_eoi();
}

int virtio_intx_setup(struct virtio_dev *vd, uint8_t vector)
{
	uint16_t bdf = vd->fn->bdf;
	uint8_t pin = pci_cfg_readb(bdf, PCI_INT_PIN), line = pci_cfg_readb(bdf, PCI_INT_LINE);

	if (pin < 1 || pin > 4)
		return -ENODEV;
	if (line == 0 || line >= IOAPIC_PINS || vector < 32 || vector >= IDT_SPURIOUS_VECTOR)
		return -EINVAL;
	intx_dev = vd;
	lapic_enable();
	idt_set_handler(vector, virtio_intx_handler);
	(void)readb(vd->isr); /* a cause left from before: not ours to count */
	writel(IOAPIC_REDIR + 2u * line + 1, IOAPIC_BASE);
	writel(lapic_id() << 24, IOAPIC_BASE + IOAPIC_WIN);
	writel(IOAPIC_REDIR + 2u * line, IOAPIC_BASE);
	writel(vector | IOAPIC_LEVEL, IOAPIC_BASE + IOAPIC_WIN);
	vd->use_intx = true;
	vd->intx_line = line;
	return 0;
}

unsigned long virtio_intx_used(void)
{
	return intx_used;
}

unsigned long virtio_intx_config(void)
{
	return intx_config;
}

unsigned long virtio_intx_foreign(void)
{
	return intx_foreign;
}

enum virtio_mode virtio_opt_mode(void)
{
	const char *v = cmdline_get(guest_cmdline(), "mode");

	if (!v || !strcmp(v, "irq"))
		return VIRTIO_MODE_IRQ;
	if (!strcmp(v, "poll"))
		return VIRTIO_MODE_POLL;
	if (!strcmp(v, "intx"))
		return VIRTIO_MODE_INTX;
	guest_abort("option mode=%s: irq, poll or intx", v);
}
