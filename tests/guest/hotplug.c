// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hotplug.c: a PCIe native hot-plug driver (PCIe Base Spec 3.0, 6.7 and 7.8.9-7.8.11),
 * in the shape of Linux's pciehp, for a host that hot-adds and removes pci-testdevs
 * (1b36:0005) behind PCIe root ports while it runs.  It finds the root ports on bus 0
 * (bridges with a PCI Express capability of type root port, a slot, hot-plug capable),
 * enables their hot-plug interrupts (MSI, or polling with irq=poll), and then, for
 * each of `cycles` cycles: waits for Presence Detect Changed with a device present,
 * powers the slot on, waits for the link (Data Link Layer State Changed), checks the
 * device is a pci-testdev, assigns its BARs inside the port's windows, drives it, and
 * prints "# HOTPLUG ready cycle=K"; then waits for the attention button, disables the
 * device, powers the slot off and waits for the presence to go (release=0: ignores
 * the button and waits to see the device taken away regardless), and prints
 * "# HOTPLUG removed cycle=K".  Every step is a TAP check.  traffic=1 drives a bus-0
 * pci-testdev while it waits, so another device does I/O during the hot-plugs.
 * blk=SECTORS: the hot-added devices are virtio-blk disks (1af4:1042) of that capacity
 * instead; each cycle K writes sector K with the pattern hp_blk_byte(K, i), reads it
 * back by polling (virtio 1.1, 5.2.6), and resets the device before giving it back.
 *
 * It is not a hot-plug controller model and has no timer: the host drives the pace.
 */
#include "guest.h"
#include "msix.h"
#include "testdev.h"
#include "virtio.h"

#define PCI_COMMAND 0x04
#define PCI_CAP_ID_EXP 0x10
#define PCI_CAP_ID_MSI 0x05
#define EXP_FLAGS 0x02
#define EXP_LNKSTA 0x12
#define EXP_LNKSTA_DLLLA 0x2000
#define EXP_SLTCAP 0x14
#define EXP_SLTCTL 0x18
#define EXP_SLTSTA 0x1a
#define SLT_ABP 0x01 /* Slot Status: Attention Button Pressed / Slot Control: enable */
#define SLT_PDC 0x08
#define SLT_CC 0x10
#define SLT_PDS 0x40
#define SLT_DLLSC 0x100
#define SLTCTL_HPIE 0x20
#define SLTCTL_DLLSCE 0x1000
#define SLTCTL_PCC 0x400 /* 1 = power off */
#define SLTCTL_PIC_MASK 0x300
#define SLTCTL_PIC_ON 0x100
#define SLTCTL_PIC_OFF 0x300
#define SLTCAP_HPC 0x40
#define MAX_PORTS 8
#define HP_VECTOR 0x50 /* + port index */
#define CC_SPINS 100000
#define INTX_VECTOR 0x60
#define IOAPIC_BASE 0xfec00000u /* 82093AA: IOREGSEL, then IOWIN at +0x10 */
#define IOAPIC_REDIR 0x10
#define IOAPIC_LEVEL 0x8000
#define BLK_DEVICE (VIRTIO_MODERN_ID_BASE + VIRTIO_ID_BLOCK)
#define BLK_SECTOR 512u
#define BLK_T_IN 0 /* virtio 1.1, 5.2.6 */
#define BLK_T_OUT 1
#define BLK_TIMEOUT_GCYCLES 100

struct port {
	struct pci_bridge br;
	unsigned exp; /* PCI Express capability offset */
	unsigned psn; /* physical slot number */
	volatile unsigned irqs;
};

static struct port ports[MAX_PORTS];
static unsigned nr_ports;
static bool use_msi, use_intx; /* else poll Slot Status */
static volatile unsigned intx_irqs;
static const struct pci_fn *traffic_dev;
static unsigned long traffic_rounds, traffic_bad;
static unsigned long blk_sectors; /* blk=: hot-added devices are virtio-blk, 0: pci-testdev */

static uint16_t sltsta(const struct port *p)
{
	return pci_cfg_readw(p->br.bdf, p->exp + EXP_SLTSTA);
}

/* Write Slot Control and wait for Command Completed (7.8.10), then acknowledge it. */
static bool slot_command(const struct port *p, uint16_t set, uint16_t clear)
{
	uint16_t ctl = pci_cfg_readw(p->br.bdf, p->exp + EXP_SLTCTL);

	pci_cfg_writew(p->br.bdf, p->exp + EXP_SLTCTL, (uint16_t)((ctl & ~clear) | set));
	for (unsigned i = 0; i < CC_SPINS; i++) {
		if (sltsta(p) & SLT_CC) {
			pci_cfg_writew(p->br.bdf, p->exp + EXP_SLTSTA, SLT_CC);
			return true;
		}
	}
	return false;
}

static void hp_irq(struct idt_frame *f)
{
	unsigned i = (unsigned)f->vector - HP_VECTOR;

	if (i < nr_ports)
		ports[i].irqs++;
	lapic_eoi();
}

static void hp_intx(struct idt_frame *f)
{
	(void)f;
	intx_irqs++;
	lapic_eoi(); /* the IOAPIC's EOI: the line is sampled again */
}

/* INTx: the IOAPIC pin the interrupt line names, level, active high, to this CPU. */
static bool port_intx(struct port *p)
{
	uint8_t line = pci_cfg_readb(p->br.bdf, 0x3c);

	if (line == 0 || line >= 24)
		return false;
	idt_set_handler(INTX_VECTOR, hp_intx);
	writel(IOAPIC_REDIR + 2u * line + 1, IOAPIC_BASE);
	writel(lapic_id() << 24, IOAPIC_BASE + 0x10);
	writel(IOAPIC_REDIR + 2u * line, IOAPIC_BASE);
	writel(INTX_VECTOR | IOAPIC_LEVEL, IOAPIC_BASE + 0x10);
	return true;
}

/* MSI with one vector to this CPU (PCI 3.0, 6.8.1); false when there is none. */
static bool port_msi(struct port *p, unsigned index)
{
	int msi = pci_cap_find(p->br.bdf, PCI_CAP_ID_MSI, 0);
	uint16_t ctrl;

	if (msi < 0)
		return false;
	ctrl = pci_cfg_readw(p->br.bdf, (unsigned)msi + 2);
	pci_cfg_writel(p->br.bdf, (unsigned)msi + 4, LAPIC_MSI_ADDR | lapic_id() << 12);
	if (ctrl & 0x80) { /* 64-bit address */
		pci_cfg_writel(p->br.bdf, (unsigned)msi + 8, 0);
		pci_cfg_writew(p->br.bdf, (unsigned)msi + 12, (uint16_t)(HP_VECTOR + index));
	} else {
		pci_cfg_writew(p->br.bdf, (unsigned)msi + 8, (uint16_t)(HP_VECTOR + index));
	}
	idt_set_handler(HP_VECTOR + index, hp_irq);
	pci_set_master(p->br.bdf, true);
	pci_cfg_writew(p->br.bdf, (unsigned)msi + 2, (uint16_t)((ctrl & ~0x70) | 1));
	return true;
}

/* Is this bridge a hot-plug capable root port?  Fill p->exp and p->psn. */
static bool port_probe(struct port *p)
{
	int exp = pci_cap_find(p->br.bdf, PCI_CAP_ID_EXP, 0);
	uint16_t flags;
	uint32_t cap;

	if (exp < 0)
		return false;
	flags = pci_cfg_readw(p->br.bdf, (unsigned)exp + EXP_FLAGS);
	cap = pci_cfg_readl(p->br.bdf, (unsigned)exp + EXP_SLTCAP);
	if (((flags >> 4) & 0xf) != 4 || !(flags & 0x100) || !(cap & SLTCAP_HPC))
		return false;
	p->exp = (unsigned)exp;
	p->psn = cap >> 19;
	return true;
}

/*
 * pci_init() placed bus 0's BARs without regard to the bridges' windows, as firmware
 * had left them; move a window that now overlaps them above them, as an OS rebalancing
 * resources would (4 KiB I/O, 2 MiB memory), or close it when there is no room.
 */
static void port_fix_windows(struct port *p, uint64_t *mem_next, uint64_t *io_next)
{
	uint16_t bdf = p->br.bdf;

	if (p->br.io_base <= p->br.io_limit && p->br.io_base < *io_next &&
	    p->br.io_limit >= PCI_IO_WINDOW_BASE) {
		uint64_t base = (*io_next + 0xfff) & ~0xfffull;

		if (base + 0x1000 > PCI_IO_WINDOW_END)
			base = 0xf000, p->br.io_limit = 0; /* closed below */
		else
			p->br.io_limit = base + 0xfff, *io_next = base + 0x1000;
		p->br.io_base = base;
		/* I/O Base and Limit: address bits 15:12 in the upper nibble of each byte. */
		pci_cfg_writew(bdf, 0x1c,
			       (uint16_t)(((base >> 8) & 0xf0) | (p->br.io_limit & 0xf000)));
		pci_cfg_writel(bdf, 0x30, 0);
		report_note("slot %u: I/O window moved to 0x%lx-0x%lx", p->psn, p->br.io_base,
			    p->br.io_limit);
	}
	if (p->br.mem_base <= p->br.mem_limit && p->br.mem_base < *mem_next &&
	    p->br.mem_limit >= PCI_MEM_WINDOW_BASE) {
		uint64_t base = (*mem_next + 0xfffff) & ~0xfffffull;

		p->br.mem_base = base;
		p->br.mem_limit = base + (2u << 20) - 1;
		*mem_next = base + (2u << 20);
		/* Memory Base and Limit: address bits 31:20 in bits 15:4 of each word. */
		pci_cfg_writel(bdf, 0x20,
			       (uint32_t)((base >> 16) & 0xfff0) |
				       (uint32_t)((p->br.mem_limit >> 16) & 0xfff0) << 16);
		report_note("slot %u: memory window moved to 0x%lx-0x%lx", p->psn, p->br.mem_base,
			    p->br.mem_limit);
	}
}

/*
 * What a guest may write that it must not change: the IDs, Slot Capabilities, the
 * read-only Slot Status bits (only write-1-to-clear ones may go), the window registers'
 * fixed bits; and a bus nobody decodes reads all-ones.  Registers are restored after.
 */
static void port_checks(const struct port *p)
{
	uint16_t bdf = p->br.bdf;
	uint32_t ids = pci_cfg_readl(bdf, 0), cap = pci_cfg_readl(bdf, p->exp + EXP_SLTCAP);
	uint32_t mem = pci_cfg_readl(bdf, 0x20), got;
	uint16_t sta = sltsta(p), io = pci_cfg_readw(bdf, 0x1c);

	pci_cfg_writel(bdf, 0, 0xffffffffu);
	pci_cfg_writel(bdf, p->exp + EXP_SLTCAP, 0);
	report(pci_cfg_readl(bdf, 0) == ids && pci_cfg_readl(bdf, p->exp + EXP_SLTCAP) == cap,
	       "slot %u: IDs and Slot Capabilities ignore writes", p->psn);
	pci_cfg_writew(bdf, p->exp + EXP_SLTSTA, 0xffff);
	got = sltsta(p);
	report(got == (sta & ~0x11fu), "slot %u: Slot Status 0x%x after writing ones: 0x%x",
	       p->psn, sta, got);
	pci_cfg_writel(bdf, 0x20, 0xffffffffu);
	got = pci_cfg_readl(bdf, 0x20);
	pci_cfg_writel(bdf, 0x20, mem);
	report(got == 0xfff0fff0u && pci_cfg_readl(bdf, 0x20) == mem,
	       "slot %u: memory base/limit keep their low bits 0 (0x%x), restored", p->psn, got);
	pci_cfg_writew(bdf, 0x1c, 0);
	got = pci_cfg_readw(bdf, 0x1c);
	pci_cfg_writew(bdf, 0x1c, io);
	report((got & 0x0f0f) == (io & 0x0f0f), "slot %u: the I/O decode type is read-only",
	       p->psn);
	report(pci_cfg_readw(0xfe00, 0) == 0xffff, "bus 254, behind no bridge, reads all-ones");
}

/* Find the ports, enable their hot-plug events and interrupts. */
static void ports_init(void)
{
	struct pci_bridge br[MAX_PORTS];
	unsigned n = pci_bridges(br, MAX_PORTS);
	uint64_t mem_next, io_next;

	pci_alloc_next(&mem_next, &io_next);

	for (unsigned i = 0; i < n; i++) {
		struct port *p = &ports[nr_ports];
		uint16_t en = SLT_ABP | SLT_PDC | SLTCTL_DLLSCE | SLTCTL_HPIE;

		p->br = br[i];
		if (!port_probe(p))
			continue;
		report(p->br.secondary != 0 && p->br.mem_base < p->br.mem_limit,
		       "root port %02x:%02x.0 slot %u: secondary bus %u, memory window "
		       "0x%lx-0x%lx, I/O window 0x%lx-0x%lx",
		       p->br.bdf >> 8, (p->br.bdf >> 3) & 31, p->psn, p->br.secondary,
		       p->br.mem_base, p->br.mem_limit, p->br.io_base, p->br.io_limit);
		if (!nr_ports)
			port_checks(p);
		port_fix_windows(p, &mem_next, &io_next);
		if (use_msi && !report(port_msi(p, nr_ports), "root port slot %u has MSI", p->psn))
			continue;
		if (use_intx && !report(port_intx(p), "root port slot %u has an IOAPIC line (%u)",
					p->psn, pci_cfg_readb(p->br.bdf, 0x3c)))
			continue;
		pci_cfg_writew(p->br.bdf, p->exp + EXP_SLTSTA, 0x1ff); /* stale events */
		report(slot_command(p, use_msi || use_intx ? en : en & ~SLTCTL_HPIE, 0),
		       "slot %u: events enabled, command completed", p->psn);
		nr_ports++;
	}
	if (!nr_ports)
		guest_abort("no hot-plug capable PCIe root port on bus 0");
}

/* One round of I/O to the bus-0 pci-testdev: entry 0 of BAR0, 4 writes counted. */
static void traffic_round(void)
{
	struct tdev_bar b = {"mmio", 0, traffic_dev->bar[0].addr, traffic_dev->bar[0].size, false};
	struct tdev_entry e;

	tdev_write(&b, HDR_TEST, 1, 0);
	e.width = (uint8_t)tdev_read(&b, HDR_WIDTH, 1);
	e.offset = tdev_read(&b, HDR_OFFSET, 4);
	e.data = tdev_read(&b, HDR_DATA, 4);
	if ((e.width != 1 && e.width != 2 && e.width != 4) || e.offset + 4 > b.size) {
		traffic_bad++;
		return;
	}
	for (unsigned i = 0; i < 4; i++)
		tdev_write(&b, e.offset, e.width, e.data);
	traffic_bad += tdev_read(&b, HDR_COUNT, 4) != 4;
	traffic_rounds++;
}

/*
 * Wait until a port shows one of `want` in its Slot Status; acknowledge (write 1 to
 * clear) every event it shows, so the interrupt condition falls and the next event
 * raises a new MSI (6.7.3.4).  Returns the port; *seen gets the status.
 */
static struct port *wait_event(uint16_t want, uint16_t *seen)
{
	for (;;) {
		__asm__ volatile("cli");
		for (unsigned i = 0; i < nr_ports; i++) {
			uint16_t sta = sltsta(&ports[i]), events = 0, ev;

			/*
			 * PCIe 3.0, 6.7.3.4: with MSI the port sends a new message only when
			 * its event bits go from all clear to one set, so an event that
			 * arrives between this read and the write-1-to-clear would never
			 * interrupt us.  Read again until none is left, as Linux's pciehp
			 * does; every event seen on the way counts.
			 */
			while ((ev = sta & (SLT_ABP | SLT_PDC | SLT_DLLSC))) {
				pci_cfg_writew(ports[i].br.bdf, ports[i].exp + EXP_SLTSTA, ev);
				events |= ev;
				sta = sltsta(&ports[i]);
			}
			sta |= events;
			if (sta & want) {
				__asm__ volatile("sti");
				*seen = sta;
				return &ports[i];
			}
		}
		if (traffic_dev) {
			__asm__ volatile("sti");
			traffic_round();
		} else if (use_msi || use_intx) {
			__asm__ volatile("sti; hlt"); /* an MSI ends the halt */
		}
	}
}

static void drive(const struct pci_fn *fn, unsigned cycle, bool walk)
{
	struct tdev_entry e[MAX_ENTRIES];
	struct tdev_bar b;

	if (walk) {
		if (tdev_bar_init(&fn->bar[0], 0, false, &b))
			tdev_walk(&b, e);
		if (tdev_bar_init(&fn->bar[1], 1, true, &b))
			tdev_walk(&b, e);
		return;
	}
	b = (struct tdev_bar){"mmio", 0, fn->bar[0].addr, fn->bar[0].size, false};
	tdev_write(&b, HDR_TEST, 1, 0);
	tdev_write(&b, tdev_read(&b, HDR_OFFSET, 4), (unsigned)tdev_read(&b, HDR_WIDTH, 1),
		   tdev_read(&b, HDR_DATA, 4));
	report(tdev_read(&b, HDR_COUNT, 4) == 1, "cycle %u: the device counts a write", cycle);
}

/* Byte i of the sector hot-plug cycle K writes (test-hotplug.c checks the image). */
static uint8_t hp_blk_byte(unsigned cycle, unsigned i)
{
	return (uint8_t)(cycle * 31u + i * 7u + (i >> 8));
}

/* One request on queue 0, by polling (interrupts suppressed); its status, or -errno. */
static int blk_request(struct virtio_dev *vd, struct virtq *vq, uint32_t type, uint64_t sector,
		       uint8_t *buf)
{
	static struct {
		uint32_t type, reserved;
		uint64_t sector;
	} hdr;
	static volatile uint8_t status;
	const struct virtq_buf b[3] = {
		{(uintptr_t)&hdr, sizeof(hdr), false},
		{(uintptr_t)buf, BLK_SECTOR, type == BLK_T_IN},
		{(uintptr_t)&status, 1, true},
	};
	void *token;
	uint32_t len;

	hdr.type = type;
	hdr.reserved = 0;
	hdr.sector = sector;
	status = 0xff;
	if (virtq_add(vq, b, 3, (void *)b) < 0)
		return -EIO;
	virtq_kick(vd, vq);
	if (virtio_wait(vd, false, 0, BLK_TIMEOUT_GCYCLES) < 0)
		return -ETIMEDOUT;
	if (virtq_get(vq, &token, &len) != 1 || token != b)
		return -EIO;
	return status;
}

/* blk=: the hot-added virtio-blk: capacity, a sector written and read back, reset. */
static void drive_blk(const struct pci_fn *fn, unsigned cycle)
{
	static struct virtio_dev vd;
	static struct virtq vq;
	static uint8_t buf[BLK_SECTOR];
	uint64_t sector = cycle % blk_sectors, cap;
	unsigned bad = 0;
	int r;

	r = virtio_attach(&vd, fn);
	if (!report(r == 0, "cycle %u: virtio capabilities found in the placed BARs", cycle) ||
	    !report(virtio_negotiate(&vd, 0) == 0, "cycle %u: features negotiated", cycle))
		return;
	cap = virtio_cfg_read(&vd, 0, 8);
	report(cap == blk_sectors, "cycle %u: capacity %lu sectors (want %lu)", cycle, cap,
	       blk_sectors);
	r = virtio_queue_setup(&vd, &vq, 0, 8, VIRTIO_MSI_NO_VECTOR);
	virtq_suppress_irq(&vq, true);
	if (!report(r == 0 && (virtio_driver_ok(&vd) & VIRTIO_S_DRIVER_OK),
		    "cycle %u: queue 0 set up, DRIVER_OK", cycle))
		return;
	for (unsigned i = 0; i < BLK_SECTOR; i++)
		buf[i] = hp_blk_byte(cycle, i);
	r = blk_request(&vd, &vq, BLK_T_OUT, sector, buf);
	report(r == 0, "cycle %u: sector %lu written (status %d)", cycle, sector, r);
	memset(buf, 0, sizeof(buf));
	r = blk_request(&vd, &vq, BLK_T_IN, sector, buf);
	for (unsigned i = 0; i < BLK_SECTOR; i++)
		bad += buf[i] != hp_blk_byte(cycle, i);
	report(r == 0 && bad == 0, "cycle %u: sector %lu read back (status %d, %u bytes differ)",
	       cycle, sector, r, bad);
	report(virtio_reset_wait(&vd, 1000000), "cycle %u: device reset before its removal", cycle);
}

/* Presence came: power on, link up, identify, place the BARs in the windows, drive. */
static struct port *cycle_add(unsigned cycle, bool walk)
{
	uint16_t sta;
	struct port *p;
	struct pci_fn fn;
	uint16_t bdf;
	uint64_t mem, io;
	bool alone, placed;
	int r;

	do
		p = wait_event(SLT_PDC, &sta);
	while (!(sta & SLT_PDS));
	report(true, "cycle %u: presence detected in slot %u", cycle, p->psn);
	report(slot_command(p, SLTCTL_PIC_ON, SLTCTL_PCC | SLTCTL_PIC_MASK),
	       "cycle %u: slot %u powered on", cycle, p->psn);
	if (!(pci_cfg_readw(p->br.bdf, p->exp + EXP_LNKSTA) & EXP_LNKSTA_DLLLA))
		wait_event(SLT_DLLSC, &sta);
	report(pci_cfg_readw(p->br.bdf, p->exp + EXP_LNKSTA) & EXP_LNKSTA_DLLLA,
	       "cycle %u: slot %u link is up", cycle, p->psn);
	bdf = (uint16_t)(p->br.secondary << 8);
	alone = pci_probe(bdf | 1, &fn) == -ENODEV &&
		pci_probe((uint16_t)(bdf | 8), &fn) == -ENODEV;
	r = pci_probe(bdf, &fn);
	if (!report(r == 0 && fn.vendor == (blk_sectors ? VIRTIO_VENDOR : TESTDEV_VENDOR) &&
			    fn.device == (blk_sectors ? BLK_DEVICE : TESTDEV_DEVICE),
		    "cycle %u: %02x:00.0 is a %s (%04x:%04x)", cycle, p->br.secondary,
		    blk_sectors ? "virtio-blk" : "pci-testdev", r ? 0xffff : fn.vendor,
		    r ? 0xffff : fn.device))
		return p;
	report(alone, "cycle %u: nothing else answers on bus %u", cycle, p->br.secondary);
	mem = p->br.mem_base;
	io = p->br.io_base;
	r = pci_place(&fn, &mem, p->br.mem_limit + 1, &io, p->br.io_limit + 1);
	placed = report(r == 0,
			"cycle %u: BARs placed in the port's windows (BAR0 0x%lx, "
			"BAR1 0x%lx)",
			cycle, fn.bar[0].addr, fn.bar[1].addr);
	if (placed && blk_sectors)
		drive_blk(&fn, cycle);
	else if (placed)
		drive(&fn, cycle, walk);
	printf("# HOTPLUG ready cycle=%u slot=%u\n", cycle, p->psn);
	return p;
}

/* The button (or, with release=0, the removal itself): give the device back. */
static void cycle_remove(struct port *p, unsigned cycle, bool release)
{
	uint16_t bdf = (uint16_t)(p->br.secondary << 8), sta;
	struct port *q;

	if (release) {
		do
			q = wait_event(SLT_ABP, &sta);
		while (q != p);
		report(true, "cycle %u: attention button of slot %u pressed", cycle, p->psn);
		pci_cfg_writew(bdf, PCI_COMMAND, 0);
		report(slot_command(p, SLTCTL_PCC | SLTCTL_PIC_OFF, SLTCTL_PIC_MASK),
		       "cycle %u: slot %u powered off", cycle, p->psn);
	}
	while (sltsta(p) & SLT_PDS)
		wait_event(SLT_PDC, &sta);
	report(pci_cfg_readw(bdf, 0) == 0xffff,
	       "cycle %u: slot %u is empty, %02x:00.0 reads "
	       "all-ones",
	       cycle, p->psn, p->br.secondary);
	if (!release) /* a surprise removal: turn the empty slot off as pciehp does */
		report(slot_command(p, SLTCTL_PCC | SLTCTL_PIC_OFF, SLTCTL_PIC_MASK),
		       "cycle %u: slot %u powered off after the removal", cycle, p->psn);
	printf("# HOTPLUG removed cycle=%u slot=%u\n", cycle, p->psn);
}

int main(void)
{
	unsigned long cycles = guest_opt_ulong("cycles", 1, 1000);
	bool release = guest_opt_ulong("release", 1, 1);
	bool walk = guest_opt_ulong("walk", 0, 1);
	bool traffic = guest_opt_ulong("traffic", 0, 1);

	blk_sectors = guest_opt_ulong("blk", 0, 1ul << 40);

	use_intx = guest_opt_ulong("intx", 0, 1);
	use_msi = !guest_opt_ulong("poll", 0, 1) && !use_intx;
	if (pci_init() < 0)
		guest_abort("PCI enumeration failed");
	pci_print();
	if (traffic && !(traffic_dev = pci_find(TESTDEV_VENDOR, TESTDEV_DEVICE, 0)))
		guest_abort("traffic=1 needs a pci-testdev on bus 0");
	if (use_msi || use_intx)
		lapic_enable();
	ports_init();
	printf("# HOTPLUG waiting\n");
	for (unsigned c = 1; c <= cycles; c++) {
		struct port *p = cycle_add(c, walk || c == 1);

		cycle_remove(p, c, release);
	}
	if (traffic)
		report(traffic_bad == 0 && traffic_rounds > 0,
		       "traffic: %lu rounds to the bus-0 pci-testdev, %lu miscounted",
		       traffic_rounds, traffic_bad);
	for (unsigned i = 0; use_msi && i < nr_ports; i++)
		report_note("slot %u: %u hot-plug interrupts", ports[i].psn, ports[i].irqs);
	if (use_msi && !traffic) { /* each presence was waited for by halting: an MSI ended it */
		unsigned total = 0;

		for (unsigned i = 0; i < nr_ports; i++)
			total += ports[i].irqs;
		report(total >= cycles, "%u hot-plug MSIs for %lu cycles", total, cycles);
	}
	if (use_intx && !traffic) /* likewise through the IOAPIC */
		report(intx_irqs >= cycles, "%u hot-plug INTx interrupts for %lu cycles", intx_irqs,
		       cycles);
	return report_summary();
}
