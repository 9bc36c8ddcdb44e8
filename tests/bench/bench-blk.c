// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bench-blk: virtio-blk 4 KiB random read and write IOPS at queue depth 1 and 32,
 * measured in one run for
 *   (a) the device in mpvmm-storage (vfio-user, ioeventfd doorbells, irqfd interrupts),
 *   (b) the same device model in-VMM (mpvmm -blockdev ... -device virtio-blk),
 *   (c) QEMU 7.2's own virtio-blk-pci (disable-legacy=on) under -accel kvm,
 * with the ratio remote/in-VMM (target >= 0.9); then
 *   (d) VMM userspace wake-ups per guest I/O in steady state (target 0): the
 *       MPVMM_EXIT_STATS=1 io+mmio exit counts of a bench=2N run minus a bench=N run
 *       (startup exits cancel), divided by the extra I/Os;
 *   (e) the private RSS of mpvmm-storage and mpvmm-misc while a guest drives them
 *       (target <= 4 MiB): Private_Clean + Private_Dirty of /proc/PID/smaps_rollup, and
 *       the same without the guest-RAM memfd mappings, from /proc/PID/smaps.
 * The guest is tests/guest/virtio-blk.elf in bench mode: per depth, N random reads
 * then N random writes, each between a "BENCH start" and a "BENCH end" line on the
 * debugcon port.  IOPS are N divided by the host time between those two lines as they
 * arrive here (not the guest's TSC figures), so VM startup is not counted.
 * Configurations alternate for a few rounds; figures are medians.  It prints figures;
 * it never fails on a slow machine.  The IOPS table is printed twice: with the guest
 * spinning while it waits for a completion (wait=spin: the interrupt must reach a
 * running vCPU) and halting (wait=hlt: a halted vCPU is woken, as an idle OS would be).
 * Usage: bench-blk [N] [rounds] ["guest options"] (then only those options, e.g.
 * "wait=hlt mode=poll", appended to the guest's command line, are measured).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/tu.h"

#define NR_SEG 4 /* randread qd1, randwrite qd1, randread qd32, randwrite qd32 */
#define MAX_ROUNDS 9
#define IMG_SIZE (64u << 20)

static const char *const seg_name[NR_SEG] = {"randread  qd=1 ", "randwrite qd=1 ",
					     "randread  qd=32", "randwrite qd=32"};

/* What one guest run gives back. */
struct run {
	double iops[NR_SEG];
	long exits; /* io + mmio exits of vCPU0 (MPVMM_EXIT_STATS), -1 if not printed */
};

/* Called when the guest prints a line containing `at`, while it runs (e.g. RSS). */
struct probe {
	const char *at;
	void (*fn)(void *opaque);
	void *opaque;
};

static int seg_index(const char *line)
{
	bool write = strstr(line, "rw=randwrite") != NULL;
	bool deep = strstr(line, "qd=32 ") != NULL;

	if (!write && !strstr(line, "rw=randread"))
		return -1;
	if (!deep && !strstr(line, "qd=1 "))
		return -1;
	return (deep ? 2 : 0) + (write ? 1 : 0);
}

/* One complete line of guest output, timestamped at arrival. */
static void on_line(const char *line, gint64 now, gint64 *t0, struct run *r, const struct probe *pr,
		    bool *probed)
{
	const char *n = strstr(line, " n=");
	int i = seg_index(line);

	if (pr && !*probed && strstr(line, pr->at)) {
		pr->fn(pr->opaque);
		*probed = true;
	}
	if (i < 0 || !n)
		return;
	if (strstr(line, "BENCH start"))
		t0[i] = now;
	else if (strstr(line, "BENCH end") && t0[i] && now > t0[i])
		r->iops[i] = strtod(n + 3, NULL) * 1e6 / (double)(now - t0[i]);
}

/* Read the guest's output to EOF, line by line. */
static void read_lines(int fd, struct run *r, const struct probe *pr)
{
	GString *buf = g_string_new(NULL);
	gint64 t0[NR_SEG] = {0};
	bool probed = false;
	char chunk[4096];
	ssize_t len;

	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};

		if (poll(&pfd, 1, 300000) <= 0)
			g_error("guest output stalled for 300 s");
		len = read(fd, chunk, sizeof(chunk));
		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0)
			break;
		g_string_append_len(buf, chunk, len);
		for (char *nl; (nl = memchr(buf->str, '\n', buf->len));) {
			*nl = '\0';
			on_line(buf->str, g_get_monotonic_time(), t0, r, pr, &probed);
			g_string_erase(buf, 0, nl - buf->str + 1);
		}
	}
	g_string_free(buf, TRUE);
}

static long parse_exits(const char *err)
{
	const char *s = strstr(err, "exits to userspace (io ");
	unsigned long io, mmio;

	if (!s || sscanf(s, "exits to userspace (io %lu, mmio %lu)", &io, &mmio) != 2)
		return -1;
	return (long)(io + mmio);
}

/* Run a VM whose stdout is the guest's debugcon stream; the guest must pass. */
static void bench_run(char **argv, const int *fds, unsigned nr, const struct probe *pr,
		      struct run *r)
{
	g_autofree char *err = NULL;
	struct tu_proc p;
	int status;

	memset(r, 0, sizeof(*r));
	tu_spawn(argv, fds, nr, true, &p);
	read_lines(p.out_fd, r, pr);
	err = tu_slurp(p.err_fd);
	status = tu_wait(&p, 60);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 1)
		g_error("%s: guest did not pass (status 0x%x)\n%s", argv[0], status, err);
	r->exits = parse_exits(err);
	close(p.out_fd);
	close(p.err_fd);
}

/* A remote device process on one end of a socketpair, the VMM on the other. */
static void bench_remote(char **remote, char **vmm, const struct probe *pr, struct run *r)
{
	struct tu_proc rp;
	int sv[2], status;

	tu_socketpair(sv);
	tu_spawn(remote, &sv[1], 1, false, &rp);
	close(sv[1]);
	bench_run(vmm, &sv[0], 1, pr, r);
	close(sv[0]);
	status = tu_wait(&rp, 10);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		g_error("%s exited with status 0x%x", remote[0], status);
}

/* ---- (e) private RSS ---------------------------------------------------------- */

struct rss {
	GPid pid;
	long rollup_kb;	  /* Private_Clean + Private_Dirty of smaps_rollup */
	long no_memfd_kb; /* the same over every mapping but the guest-RAM memfd */
};

static long smaps_private(const char *path, bool skip_ram)
{
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	bool skip = false;
	long kb = 0, v;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return -1;
	lines = g_strsplit(text, "\n", -1);
	for (unsigned i = 0; lines[i]; i++) {
		const char *l = lines[i];

		unsigned long lo, hi;

		if (sscanf(l, "%lx-%lx ", &lo, &hi) == 2) /* a mapping's header line */
			skip = skip_ram && strstr(l, "/memfd:mpvmm-ram") != NULL;
		if (!skip && (sscanf(l, "Private_Clean: %ld kB", &v) == 1 ||
			      sscanf(l, "Private_Dirty: %ld kB", &v) == 1))
			kb += v;
	}
	return kb;
}

static void rss_probe(void *opaque)
{
	struct rss *m = opaque;
	g_autofree char *rollup = g_strdup_printf("/proc/%d/smaps_rollup", m->pid);
	g_autofree char *smaps = g_strdup_printf("/proc/%d/smaps", m->pid);

	m->rollup_kb = smaps_private(rollup, false);
	m->no_memfd_kb = smaps_private(smaps, true);
}

/* Like bench_remote, sampling the remote's RSS when the guest prints `at`. */
static void rss_remote(char **remote, char **vmm, const char *at, struct rss *m)
{
	struct probe pr = {.at = at, .fn = rss_probe, .opaque = m};
	struct tu_proc rp;
	struct run r;
	int sv[2];

	tu_socketpair(sv);
	tu_spawn(remote, &sv[1], 1, false, &rp);
	close(sv[1]);
	m->pid = tu_server_pid(rp.pid); /* the sandboxed server, not its reaper */
	m->rollup_kb = m->no_memfd_kb = -1;
	bench_run(vmm, &sv[0], 1, &pr, &r);
	close(sv[0]);
	tu_wait(&rp, 10);
}

/* ---- reporting --------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median_seg(const struct run *runs, unsigned n, int seg)
{
	double v[MAX_ROUNDS];

	for (unsigned i = 0; i < n; i++)
		v[i] = seg < 0 ? (double)runs[i].exits : runs[i].iops[seg];
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void print_round(unsigned r, const struct run *rem, const struct run *loc,
			const struct run *q)
{
	printf("  round %u IOPS (remote / in-VMM / QEMU):", r + 1);
	for (int s = 0; s < NR_SEG; s++)
		printf("  %.0f/%.0f/%.0f", rem->iops[s], loc->iops[s], q ? q->iops[s] : 0.0);
	printf("\n");
	fflush(stdout);
}

static void print_iops(const struct run *rem, const struct run *loc, const struct run *q,
		       unsigned n)
{
	printf("%-16s %12s %12s %12s %14s %12s\n", "4 KiB, medians", "(a) remote", "(b) in-VMM",
	       "(c) QEMU 7.2", "remote/in-VMM", "remote/QEMU");
	for (int s = 0; s < NR_SEG; s++) {
		double a = median_seg(rem, n, s), b = median_seg(loc, n, s);
		double c = q ? median_seg(q, n, s) : 0;

		printf("%-16s %12.0f %12.0f %12.0f %14.2f %12.2f\n", seg_name[s], a, b, c,
		       b > 0 ? a / b : 0, c > 0 ? a / c : 0);
	}
	printf("ratio remote/in-VMM: target >= 0.9 (IOPS from host timestamps of the BENCH "
	       "lines)\n");
}

static void print_wakeups(const char *what, long exits_n, long exits_2n, unsigned long ios)
{
	if (exits_n < 0 || exits_2n < 0) {
		printf("(d) %-8s no MPVMM_EXIT_STATS line; not measured\n", what);
		return;
	}
	printf("(d) %-8s exits bench=N %ld, bench=2N %ld: %.3f VMM wake-ups per guest I/O%s\n",
	       what, exits_n, exits_2n, (double)(exits_2n - exits_n) / (double)ios,
	       strcmp(what, "remote") == 0 ? " (target 0)" : "");
}

static void print_rss(const char *what, const struct rss *m)
{
	printf("(e) %-14s private RSS %6.2f MiB (smaps_rollup), %6.2f MiB without the "
	       "guest-RAM memfd (target <= 4 MiB)\n",
	       what, m->rollup_kb / 1024.0, m->no_memfd_kb / 1024.0);
}

/* ---- main ------------------------------------------------------------------- */

struct cfg {
	char *elf, *img, *append, *append2, *blockdev, *qdrive;
	unsigned long n;
	unsigned rounds;
};

static char *image_new(void)
{
	char *path;
	int fd = g_file_open_tmp("mpvmm-bench-XXXXXX.img", &path, NULL);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, IMG_SIZE), ==, 0);
	close(fd);
	return path;
}

static void cfg_init(struct cfg *c, int argc, char **argv)
{
	c->n = argc > 1 ? strtoul(argv[1], NULL, 0) : 1000;
	c->rounds = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 0) : 3;
	if (c->n == 0 || c->n > 1000000)
		c->n = 1000;
	if (c->rounds == 0 || c->rounds > MAX_ROUNDS)
		c->rounds = 3;
	c->elf = tu_guest("virtio-blk");
	c->img = image_new();
	c->append = c->append2 = NULL;
	c->blockdev = g_strdup_printf("driver=file,node-name=d0,filename=%s", c->img);
	c->qdrive = g_strdup_printf("file=%s,if=none,format=raw,id=d0", c->img);
}

#define VMM_ARGS(elf, app)                                                                         \
	(char *)tu_bin("MPVMM"), "-m", "64M", "-kernel", (elf), "-serial", "none", "-debugcon",    \
		"stdio", "-append", (app)

static void bench_rss(const struct cfg *c)
{
	char *storage[] = {(char *)tu_bin("MPVMM_STORAGE"), "-blockdev", c->blockdev, "-device",
			   "virtio-blk,id=vd0,drive=d0,socket=3", NULL};
	char *blk_vmm[] = {VMM_ARGS(c->elf, c->append), "-device",
			   "pci-proxy-dev,id=vd0,socket=3", NULL};
	char *misc[] = {(char *)tu_bin("MPVMM_MISC"), "-device", "virtio-rng,id=r0,socket=3", NULL};
	g_autofree char *rng_elf = tu_guest("virtio-rng");
	char *rng_vmm[] = {VMM_ARGS(rng_elf, "rounds=40"), "-device",
			   "pci-proxy-dev,id=r0,socket=3", NULL};
	struct rss ms, mm;

	rss_remote(storage, blk_vmm, "BENCH start rw=randwrite qd=32", &ms);
	print_rss("mpvmm-storage", &ms);
	rss_remote(misc, rng_vmm, "ok 3 ", &mm);
	print_rss("mpvmm-misc", &mm);
}

static void cfg_set_opts(struct cfg *c, const char *opts)
{
	g_free(c->append);
	g_free(c->append2);
	c->append = g_strdup_printf("bench=%lu qd=1,32 %s", c->n, opts);
	c->append2 = g_strdup_printf("bench=%lu qd=1,32 %s", 2 * c->n, opts);
}

static void run_remote(const struct cfg *c, bool twice, struct run *r)
{
	char *storage[] = {(char *)tu_bin("MPVMM_STORAGE"), "-blockdev", c->blockdev, "-device",
			   "virtio-blk,id=vd0,drive=d0,socket=3", NULL};
	char *vmm[] = {VMM_ARGS(c->elf, twice ? c->append2 : c->append), "-device",
		       "pci-proxy-dev,id=vd0,socket=3", NULL};

	bench_remote(storage, vmm, NULL, r);
}

static void run_local(const struct cfg *c, bool twice, struct run *r)
{
	char *vmm[] = {VMM_ARGS(c->elf, twice ? c->append2 : c->append), "-blockdev", c->blockdev,
		       "-device", "virtio-blk,id=vd0,drive=d0", NULL};

	bench_run(vmm, NULL, 0, NULL, r);
}

static void run_qemu(const struct cfg *c, char *qemu_bin, struct run *r)
{
	char *qemu[] = {qemu_bin, "-accel", "kvm", "-M", "pc", "-m", "128", "-kernel", c->elf,
			"-append", c->append, "-drive", c->qdrive, "-device",
			"virtio-blk-pci,drive=d0,disable-legacy=on", "-device",
			"isa-debug-exit,iobase=0xf4,iosize=4", "-display", "none", "-serial",
			"none", "-debugcon", "stdio", "-no-reboot", NULL};

	bench_run(qemu, NULL, 0, NULL, r);
}

/* The IOPS table for the guest options `opts`; rem and loc keep each round's run. */
static void bench_iops(struct cfg *c, const char *opts, char *qemu_bin, struct run *rem,
		       struct run *loc)
{
	struct run q[MAX_ROUNDS];

	cfg_set_opts(c, opts);
	printf("\nguest command line '%s':\n", c->append);
	for (unsigned r = 0; r < c->rounds; r++) {
		run_remote(c, false, &rem[r]);
		run_local(c, false, &loc[r]);
		if (qemu_bin)
			run_qemu(c, qemu_bin, &q[r]);
		print_round(r, &rem[r], &loc[r], qemu_bin ? &q[r] : NULL);
	}
	print_iops(rem, loc, qemu_bin ? q : NULL, c->rounds);
}

int main(int argc, char **argv)
{
	struct run rem[MAX_ROUNDS], loc[MAX_ROUNDS], rem2, loc2;
	const char *opts = argc > 3 ? argv[3] : "wait=spin";
	char *qemu_bin;
	struct cfg c;

	signal(SIGPIPE, SIG_IGN);
	if (access("/dev/kvm", R_OK | W_OK) != 0) {
		printf("bench-blk: /dev/kvm is not available; nothing measured\n");
		return 0;
	}
	g_setenv("MPVMM_EXIT_STATS", "1", TRUE);
	cfg_init(&c, argc, argv);
	qemu_bin = g_find_program_in_path("qemu-system-x86_64");
	printf("bench-blk: virtio-blk.elf in bench mode (4 KiB random reads, then writes, per "
	       "depth) on a %u MiB raw image; %u rounds alternating the configurations\n",
	       IMG_SIZE >> 20, c.rounds);
	if (argc <= 3)
		bench_iops(&c, "wait=hlt", qemu_bin, rem, loc);
	bench_iops(&c, opts, qemu_bin, rem, loc);
	printf("\n");
	run_remote(&c, true, &rem2);
	run_local(&c, true, &loc2);
	print_wakeups("remote", (long)median_seg(rem, c.rounds, -1), rem2.exits, 4 * c.n);
	print_wakeups("in-VMM", (long)median_seg(loc, c.rounds, -1), loc2.exits, 4 * c.n);
	bench_rss(&c);
	unlink(c.img);
	return 0;
}
