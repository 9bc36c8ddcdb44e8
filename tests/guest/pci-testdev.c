// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pci-testdev.c: guest test of a pci-testdev (1b36:0005), the device QEMU defines in
 * hw/misc/pci-testdev.c and mpvmm reimplements in devices/.  The runtime's pci_init()
 * assigns its BARs; testdev.c then walks every entry of the test table in BAR0 (MMIO)
 * and BAR1 (port I/O) as a driver would.  It knows the table layout, not any VMM: the
 * same ELF must pass under QEMU and mpvmm.
 *
 * Options: wait-gone=1 -- after the tests, print "waiting for the device to go away",
 * poll until BAR0 reads all-ones (its backend died), then check every entry reads
 * all-ones.  The host test kills the device process when it sees that line.
 */
#include "testdev.h"

#define GONE_POLL_LIMIT 4000000 /* about a minute at PVM's ~16 us per exit */

static void tdev_wait_gone(const struct tdev_bar *bars, struct tdev_entry (*e)[MAX_ENTRIES],
			   const unsigned *nr)
{
	unsigned long polls;

	report_note("waiting for the device to go away");
	for (polls = 0; polls < GONE_POLL_LIMIT; polls++)
		if (tdev_read(&bars[0], HDR_TEST, 4) == 0xffffffffu)
			break;
	if (!report(polls < GONE_POLL_LIMIT,
		    "device went away: BAR0 reads all-ones after %lu polls", polls))
		return;
	for (unsigned b = 0; b < 2; b++)
		for (unsigned i = 0; i < nr[b]; i++) {
			const struct tdev_entry *t = &e[b][i];
			uint32_t width, count;

			tdev_write(&bars[b], HDR_TEST, 1, i);
			tdev_write(&bars[b], t->offset, t->width, t->data);
			width = tdev_read(&bars[b], HDR_WIDTH, 1);
			count = tdev_read(&bars[b], HDR_COUNT, 4);
			report(width == 0xff && count == 0xffffffffu,
			       "%s %s: gone, reads all-ones (width 0x%x count 0x%x)", bars[b].kind,
			       t->name, width, count);
		}
}

int main(void)
{
	static struct tdev_entry entries[2][MAX_ENTRIES];
	struct tdev_bar bars[2];
	unsigned nr[2] = {0, 0};
	const struct pci_fn *fn;
	int r = pci_init();

	pci_print();
	if (r < 0)
		guest_abort("PCI enumeration failed (%d)", r);
	fn = pci_find(TESTDEV_VENDOR, TESTDEV_DEVICE, 0);
	if (!report(fn, "pci-testdev %04x:%04x found on bus 0", TESTDEV_VENDOR, TESTDEV_DEVICE))
		return report_summary();
	report_note("pci-testdev at 00:%02x.%x, class %06x, rev %u", fn->bdf >> 3, fn->bdf & 7,
		    fn->class_code, fn->revision);
	for (unsigned b = 0; b < 2; b++)
		if (tdev_bar_init(&fn->bar[b], b, b == 1, &bars[b]))
			nr[b] = tdev_walk(&bars[b], entries[b]);
	if (guest_opt_ulong("wait-gone", 0, 1) && nr[0])
		tdev_wait_gone(bars, entries, nr);
	return report_summary();
}
