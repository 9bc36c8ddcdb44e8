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

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One remote run: a fresh mpvmm-misc joined to mpvmm by a socketpair. */
static double bench_remote(char **vmm, unsigned long n)
{
	char *misc[] = { (char *)tu_bin("MPVMM_MISC"), "-device",
			 "pci-testdev,id=t0,socket=3", NULL };
	struct tu_proc mp;
	double ns;
	int sv[2];

	tu_socketpair(sv);
	tu_spawn(misc, &sv[1], 1, false, &mp);
	close(sv[1]);
	ns = bench_run(vmm, &sv[0], 1, n);
	close(sv[0]);
	tu_wait(&mp, 10);
	return ns;
}

#define ROUNDS 5

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 0) : 20000;
	const char *bar = argc > 2 ? argv[2] : "0";
	g_autofree char *elf = tu_guest("bar-bench");
	g_autofree char *append = g_strdup_printf("bench=%lu bar=%s", n, bar);
	char *remote_vmm[] = { (char *)tu_bin("MPVMM"), "-m", "64M", "-kernel", elf,
			       "-serial", "none", "-debugcon", "stdio", "-append", append,
			       "-device", "pci-proxy-dev,id=t0,socket=3", NULL };
	char *local_vmm[] = { (char *)tu_bin("MPVMM"), "-m", "64M", "-kernel", elf,
			      "-serial", "none", "-debugcon", "stdio", "-append", append,
			      "-device", "pci-testdev,id=t0", NULL };
	char *qemu[] = { "qemu-system-x86_64", "-accel", "kvm", "-M", "pc", "-m", "128",
			 "-kernel", elf, "-append", append, "-device", "pci-testdev",
			 "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-display", "none",
			 "-serial", "none", "-debugcon", "stdio", "-no-reboot", NULL };
	double remote[ROUNDS], local[ROUNDS], q[ROUNDS], rm, lm;

	signal(SIGPIPE, SIG_IGN);
	if (access("/dev/kvm", R_OK | W_OK) != 0) {
		printf("bench-bar: /dev/kvm is not available; nothing measured\n");
		return 0;
	}
	qemu[0] = g_find_program_in_path("qemu-system-x86_64");
	printf("bench-bar: %lu %s reads of pci-testdev BAR%s per run, %d rounds alternating "
	       "the configurations; medians\n", n, strcmp(bar, "1") == 0 ? "port I/O" : "MMIO",
	       bar, ROUNDS);
	for (unsigned r = 0; r < ROUNDS; r++) {
		remote[r] = bench_remote(remote_vmm, n);
		local[r] = bench_run(local_vmm, NULL, 0, n);
		q[r] = qemu[0] ? bench_run(qemu, NULL, 0, n) : 0;
		printf("  round %u: remote %.0f, in-VMM %.0f, QEMU %.0f ns/read\n", r + 1,
		       remote[r], local[r], q[r]);
		fflush(stdout);
	}
	rm = median(remote, ROUNDS);
	lm = median(local, ROUNDS);
	printf("(a) remote (mpvmm-misc, vfio-user):     %8.0f ns/read\n", rm);
	printf("(b) in-VMM:                             %8.0f ns/read\n", lm);
	if (qemu[0])
		printf("(c) QEMU 7.2 in-process, for reference: %8.0f ns/read\n",
		       median(q, ROUNDS));
	printf("ratio remote/in-VMM: %.2f (target <= 1.6)\n", rm / lm);
	return 0;
}
