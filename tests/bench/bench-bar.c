// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bench-bar: cost of one guest BAR read, measured in one run for
 *   (a) pci-testdev in a separate mpvmm-misc process (vfio-user over a socketpair),
 *   (b) the same device code in-VMM,
 *   (c) QEMU 7.2's own pci-testdev under -accel kvm, for reference,
 * and the ratio remote/in-VMM.  The guest (bar-bench.elf) prints "BENCH start" and
 * "BENCH end" on the debugcon port around N reads; this program timestamps those lines
 * as they arrive, so VM startup is not counted.  It prints figures; it never fails
 * on a slow machine.  Usage: bench-bar [N] [bar]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/tu.h"

/* Run a VM whose stdout is the guest's debugcon stream; return ns between markers. */
static double bench_run(char **argv, const int *fds, unsigned nr, unsigned long n)
{
	struct tu_proc p;
	gint64 t0, t1;
	int status;

	tu_spawn(argv, fds, nr, true, &p);
	tu_wait_line(p.out_fd, "BENCH start", 60);
	t0 = g_get_monotonic_time();
	tu_wait_line(p.out_fd, "BENCH end", 600);
	t1 = g_get_monotonic_time();
	status = tu_wait(&p, 60);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 1)
		g_error("%s: guest did not pass (status 0x%x)", argv[0], status);
	close(p.out_fd);
	close(p.err_fd);
	return (double)(t1 - t0) * 1000.0 / (double)n;
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 0) : 20000;
	const char *bar = argc > 2 ? argv[2] : "0";
	g_autofree char *elf = tu_guest("bar-bench");
	g_autofree char *append = g_strdup_printf("bench=%lu bar=%s", n, bar);
	char *vmm[] = { (char *)tu_bin("MPVMM"), "-m", "64M", "-kernel", elf, "-serial", "none",
			"-debugcon", "stdio", "-append", append, "-device", NULL, NULL };
	char *misc[] = { (char *)tu_bin("MPVMM_MISC"), "-device",
			 "pci-testdev,id=t0,socket=3", NULL };
	char *qemu[] = { "qemu-system-x86_64", "-accel", "kvm", "-M", "pc", "-m", "128",
			 "-kernel", elf, "-append", append, "-device", "pci-testdev",
			 "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-display", "none",
			 "-serial", "none", "-debugcon", "stdio", "-no-reboot", NULL };
	double remote, local, q = 0;
	struct tu_proc mp;
	int sv[2];

	signal(SIGPIPE, SIG_IGN);
	if (access("/dev/kvm", R_OK | W_OK) != 0) {
		printf("bench-bar: /dev/kvm is not available; nothing measured\n");
		return 0;
	}
	printf("bench-bar: %lu %s reads of pci-testdev BAR%s per configuration\n", n,
	       strcmp(bar, "1") == 0 ? "port I/O" : "MMIO", bar);
	tu_socketpair(sv);
	tu_spawn(misc, &sv[1], 1, false, &mp);
	close(sv[1]);
	vmm[12] = "pci-proxy-dev,id=t0,socket=3";
	remote = bench_run(vmm, &sv[0], 1, n);
	close(sv[0]);
	tu_wait(&mp, 10);
	vmm[12] = "pci-testdev,id=t0";
	local = bench_run(vmm, NULL, 0, n);
	qemu[0] = g_find_program_in_path("qemu-system-x86_64");
	if (qemu[0])
		q = bench_run(qemu, NULL, 0, n);
	printf("(a) remote (mpvmm-misc, vfio-user): %8.0f ns/read\n", remote);
	printf("(b) in-VMM:                         %8.0f ns/read\n", local);
	if (q > 0)
		printf("(c) QEMU 7.2 in-process, for reference: %4.0f ns/read\n", q);
	printf("ratio remote/in-VMM: %.2f (target <= 1.6)\n", remote / local);
	return 0;
}
