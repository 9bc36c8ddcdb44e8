// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bar-bench.c: the guest half of the BAR-read benchmark (tests/bench/bench-bar.c).
 * It finds the pci-testdev, prints "BENCH start", does N 32-bit reads of offset 0 of
 * BAR0 (MMIO) or BAR1 (port I/O), prints "BENCH end n=N" and exits with a pass.  The
 * host timestamps the two lines as they arrive; this guest measures nothing itself.
 *
 * Options: bench=N (default 20000, at most 1000000000), bar=0|1 (default 0).
 */
#include "guest.h"

#define TESTDEV_VENDOR 0x1b36
#define TESTDEV_DEVICE 0x0005
#define BENCH_MAX 1000000000ul

int main(void)
{
	unsigned long n = guest_opt_ulong("bench", 20000, BENCH_MAX);
	unsigned long bar = guest_opt_ulong("bar", 0, 1);
	const struct pci_fn *fn;
	const struct pci_bar *b;
	uint32_t sum = 0;
	int r = pci_init();

	if (r < 0)
		guest_abort("PCI enumeration failed (%d)", r);
	fn = pci_find(TESTDEV_VENDOR, TESTDEV_DEVICE, 0);
	if (!fn)
		guest_abort("no pci-testdev %04x:%04x on bus 0", TESTDEV_VENDOR, TESTDEV_DEVICE);
	b = &fn->bar[bar];
	if (!b->addr || b->io != (bar == 1))
		guest_abort("pci-testdev BAR%lu is not an assigned %s BAR", bar,
			    bar ? "I/O" : "memory");
	report_note("bar-bench: %lu 32-bit reads of BAR%lu (%s at 0x%lx)", n, bar,
		    b->io ? "io" : "mem", b->addr);
	printf("BENCH start\n");
	if (b->io)
		for (unsigned long i = 0; i < n; i++)
			sum += inl((uint16_t)b->addr);
	else
		for (unsigned long i = 0; i < n; i++)
			sum += readl(b->addr);
	printf("BENCH end n=%lu\n", n);
	report_note("sum of values read 0x%x", sum);
	report(true, "%lu reads of pci-testdev BAR%lu", n, bar);
	return report_summary();
}
