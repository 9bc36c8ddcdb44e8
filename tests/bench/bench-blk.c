// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bench-blk: the figures of issue 3's benchmarks, from one run:
 *   (a) remote vs in-VMM: virtio-blk 4 KiB random read and write IOPS at queue depth 1
 *       and 32, the device in mpvmm-storage (vfio-user, ioeventfd doorbells, irqfd
 *       interrupts) against the same model in-VMM (mpvmm -blockdev ... -device
 *       virtio-blk); target ratio >= 0.9;
 *   (b) side by side with QEMU: the same guest ELF under QEMU 7.2 with its own
 *       virtio-blk-pci (disable-legacy=on), -accel kvm;
 *   (c) VMM userspace wake-ups per guest I/O in steady state (target 0): the context
 *       switches (voluntary + nonvoluntary, /proc/PID/task/TID/status) of every mpvmm
 *       thread (vCPUs, main loop, DMA, QMP ...) summed over the BENCH windows, divided
 *       by the guest I/Os in them; beside it the exits to userspace per guest I/O of
 *       all vCPUs (MPVMM_EXIT_STATS=1 totals of a bench=2N run minus a bench=N run, so
 *       startup cancels, divided by the extra I/Os);
 *   (d) private RSS of each remote process, excluding guest RAM (target <= 4 MiB):
 *       mpvmm-storage's and mpvmm-misc's sandboxed serving child and its reaper parent,
 *       sampled while a guest drives them: Private_Clean + Private_Dirty of
 *       /proc/PID/smaps_rollup, and the same without the guest-RAM memfd mappings.
 * The guest is tests/guest/virtio-blk.elf in bench mode: per depth, N random reads
 * then N random writes, each between a "BENCH start" and a "BENCH end" line on the
 * debugcon port.  IOPS are N divided by the host time between those two lines as they
 * arrive here (not the guest's TSC figures), so VM startup is not counted; the
 * context switches are sampled at the same two lines.  Configurations alternate for a
 * few rounds; figures are medians.  It prints figures; it never fails on a slow
 * machine.  The table is printed twice: with the guest halting while it waits for a
 * completion (wait=hlt: a halted vCPU is woken, as an idle OS would be; each halt is a
 * vCPU context switch inside KVM, counted in (c)) and spinning (wait=spin: the
 * interrupt must reach a running vCPU).
 * Usage: bench-blk [N] [rounds] ["guest options"] (then only those options, e.g.
 * "wait=hlt mode=poll", appended to the guest's command line, are measured).
 * Its parsing is tests/bench/bench-parse.c, unit-tested by test-bench-parse.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/bench/bench-parse.h"
#include "tests/lib/tu.h"

#define NR_SEG 4 /* randread qd1, randwrite qd1, randread qd32, randwrite qd32 */
#define MAX_ROUNDS 9
#define IMG_SIZE (64u << 20)

static const char *const seg_name[NR_SEG] = {"randread  qd=1 ", "randwrite qd=1 ",
					     "randread  qd=32", "randwrite qd=32"};

/* What one guest run gives back. */
struct run {
	double iops[NR_SEG];
	struct bench_exits exits;   /* summed over vCPUs; exits.vcpus 0 if not printed */
	struct bench_ctx_delta ctx; /* the VMM's threads over the BENCH windows */
	unsigned long ctx_ios;	    /* guest I/Os in those windows */
};

/* Called when the guest prints a line containing `at`, while it runs (e.g. RSS). */
struct probe {
	const char *at;
	void (*fn)(void *opaque);
	void *opaque;
};

/* Reading one run's output: BENCH window starts, the context-switch snapshot. */
struct reader {
	struct run *r;
	const struct probe *pr;
	bool probed;
	GPid pid; /* the VMM, whose threads' context switches are counted */
	gint64 t0[NR_SEG];
	GHashTable *ctx0;
	bool passed; /* the guest's TAP summary said "0 failed" */
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

/* A BENCH end: the window's IOPS and the VMM's context switches during it. */
static void window_end(struct reader *rd, int i, gint64 now, unsigned long n)
{
	GHashTable *ctx1;

	if (rd->t0[i] && now > rd->t0[i])
		rd->r->iops[i] = (double)n * 1e6 / (double)(now - rd->t0[i]);
	ctx1 = rd->ctx0 ? bench_ctx_snapshot(rd->pid) : NULL;
	if (ctx1) {
		bench_ctx_diff(rd->ctx0, ctx1, &rd->r->ctx);
		rd->r->ctx_ios += n;
		g_hash_table_unref(ctx1);
	}
	g_clear_pointer(&rd->ctx0, g_hash_table_unref);
}

/* One complete line of guest output, timestamped at arrival. */
static void on_line(struct reader *rd, const char *line, gint64 now)
{
	const char *n = strstr(line, " n=");
	int i = seg_index(line);

	if (g_str_has_prefix(line, "# ") && strstr(line, " passed, 0 failed"))
		rd->passed = true;
	if (rd->pr && !rd->probed && strstr(line, rd->pr->at)) {
		rd->pr->fn(rd->pr->opaque);
		rd->probed = true;
	}
	if (i < 0 || !n)
		return;
	if (strstr(line, "BENCH start")) {
		rd->t0[i] = now;
		g_clear_pointer(&rd->ctx0, g_hash_table_unref);
		rd->ctx0 = bench_ctx_snapshot(rd->pid);
	} else if (strstr(line, "BENCH end")) {
		window_end(rd, i, now, strtoul(n + 3, NULL, 10));
	}
}

/* Read the guest's output to EOF, line by line. */
static void read_lines(int fd, struct reader *rd)
{
	GString *buf = g_string_new(NULL);
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
			on_line(rd, buf->str, g_get_monotonic_time());
			g_string_erase(buf, 0, nl - buf->str + 1);
		}
	}
	g_clear_pointer(&rd->ctx0, g_hash_table_unref);
	g_string_free(buf, TRUE);
}

/* Run a VM whose stdout is the guest's debugcon stream; the guest must pass. */
static void bench_run(char **argv, const int *fds, unsigned nr, const struct probe *pr,
		      struct run *r)
{
	struct reader rd = {.r = r, .pr = pr};
	g_autofree char *err = NULL;
	struct tu_proc p;
	int status;

	memset(r, 0, sizeof(*r));
	tu_spawn(argv, fds, nr, true, &p);
	rd.pid = p.pid;
	read_lines(p.out_fd, &rd);
	err = tu_slurp(p.err_fd);
	status = tu_wait(&p, 60);
	/* Exit status 1 alone is no proof: QEMU also exits 1 when it cannot start. */
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 1 || !rd.passed)
		g_error("%s: guest did not pass (status 0x%x%s)\n%s", argv[0], status,
			rd.passed ? "" : ", no \"0 failed\" summary", err);
	bench_parse_exits(err, &r->exits);
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

/* ---- (d) private RSS ---------------------------------------------------------- */

struct rss {
	GPid pid;
	long rollup_kb; /* Private_Clean + Private_Dirty of smaps_rollup, -1: not read */
	long no_ram_kb; /* the same over every mapping but the guest-RAM memfd */
};

/* The serving child and its reaper parent (the same process when unconfined). */
struct rss_pair {
	struct rss server, reaper;
};

static long smaps_private(GPid pid, const char *file, bool skip_ram)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/%s", pid, file);
	g_autofree char *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return -1;
	return bench_parse_private_kb(text, skip_ram);
}

static void rss_sample(struct rss *m)
{
	m->rollup_kb = smaps_private(m->pid, "smaps_rollup", false);
	m->no_ram_kb = smaps_private(m->pid, "smaps", true);
}

static void rss_probe(void *opaque)
{
	struct rss_pair *m = opaque;

	rss_sample(&m->server);
	if (m->reaper.pid != m->server.pid)
		rss_sample(&m->reaper);
}

/* Like bench_remote, sampling the remote's RSS when the guest prints `at`. */
static void rss_remote(char **remote, char **vmm, const char *at, struct rss_pair *m)
{
	struct probe pr = {.at = at, .fn = rss_probe, .opaque = m};
	struct tu_proc rp;
	struct run r;
	int sv[2];

	tu_socketpair(sv);
	tu_spawn(remote, &sv[1], 1, false, &rp);
	close(sv[1]);
	m->reaper.pid = rp.pid;
	m->server.pid = tu_server_pid(rp.pid);
	m->server.rollup_kb = m->server.no_ram_kb = -1;
	m->reaper.rollup_kb = m->reaper.no_ram_kb = -1;
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

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double median_iops(const struct run *runs, unsigned n, int seg)
{
	double v[MAX_ROUNDS];

	for (unsigned i = 0; i < n; i++)
		v[i] = runs[i].iops[seg];
	return median(v, n);
}

/* Context switches per guest I/O in the BENCH windows: all threads, vCPU, other. */
enum { CTX_ALL, CTX_VCPU, CTX_OTHER };

static double median_ctx(const struct run *runs, unsigned n, int which)
{
	double v[MAX_ROUNDS];

	for (unsigned i = 0; i < n; i++) {
		const struct bench_ctx_delta *d = &runs[i].ctx;
		unsigned long c = which == CTX_VCPU    ? d->vcpu
				  : which == CTX_OTHER ? d->other
						       : d->vcpu + d->other;

		v[i] = runs[i].ctx_ios ? (double)c / (double)runs[i].ctx_ios : -1;
	}
	return median(v, n);
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
	printf("%-16s %10s %10s %16s %12s %14s\n", "4 KiB, medians", "remote", "in-VMM",
	       "(a) remote/in-VMM", "QEMU 7.2", "(b) remote/QEMU");
	for (int s = 0; s < NR_SEG; s++) {
		double a = median_iops(rem, n, s), b = median_iops(loc, n, s);
		double c = q ? median_iops(q, n, s) : 0;

		printf("%-16s %10.0f %10.0f %16.2f %12.0f %14.2f\n", seg_name[s], a, b,
		       b > 0 ? a / b : 0, c, c > 0 ? a / c : 0);
	}
	printf("(a) remote vs in-VMM IOPS ratio: target >= 0.9; (b) QEMU 7.2's virtio-blk-pci, "
	       "same guest ELF%s (IOPS from host timestamps of the BENCH lines)\n",
	       q ? "" : ": qemu-system-x86_64 not found, not measured");
}

/* split: the VMM names its vCPU threads "vcpu<i>" (mpvmm does; QEMU does not). */
static void print_ctx_one(const char *what, const struct run *runs, unsigned n, bool split)
{
	double all = median_ctx(runs, n, CTX_ALL);
	unsigned gone = 0;

	for (unsigned i = 0; i < n; i++)
		gone += runs[i].ctx.gone;

	if (all < 0) {
		printf("(c) %-8s no BENCH window sampled; not measured\n", what);
		return;
	}
	printf("(c) %-8s %.3f wake-ups per guest I/O", what, all);
	if (split)
		printf(" (vCPU threads %.3f, other threads %.3f)", median_ctx(runs, n, CTX_VCPU),
		       median_ctx(runs, n, CTX_OTHER));
	printf("%s\n", gone ? " [threads that exited inside a window are not counted]" : "");
}

/* (c) for one table: the VMM's context switches in the BENCH windows. */
static void print_ctx(const struct run *rem, const struct run *loc, const struct run *q, unsigned n)
{
	printf("(c) VMM userspace wake-ups per guest I/O in steady state (target 0): context "
	       "switches of every thread of the VMM process over the BENCH windows / I/Os\n");
	print_ctx_one("remote", rem, n, true);
	print_ctx_one("in-VMM", loc, n, true);
	if (q)
		print_ctx_one("QEMU", q, n, false); /* for comparison: all of QEMU's threads */
}

/* (c), second column: exits to userspace per guest I/O, all vCPUs, 2N minus N. */
static void print_exits(const char *what, const struct run *n1, const struct run *n2,
			unsigned long ios)
{
	if (!n1->exits.vcpus || !n2->exits.vcpus) {
		printf("(c) %-8s no MPVMM_EXIT_STATS line; exits not measured\n", what);
		return;
	}
	printf("(c) %-8s exits to userspace (all %u vCPUs) bench=N %lu, bench=2N %lu: %.3f "
	       "exits per guest I/O (io %.3f, mmio %.3f)\n",
	       what, n2->exits.vcpus, n1->exits.total, n2->exits.total,
	       ((double)n2->exits.total - (double)n1->exits.total) / (double)ios,
	       ((double)n2->exits.io - (double)n1->exits.io) / (double)ios,
	       ((double)n2->exits.mmio - (double)n1->exits.mmio) / (double)ios);
}

static void print_rss_one(const char *what, const char *role, const struct rss *m)
{
	if (m->rollup_kb < 0 || m->no_ram_kb < 0) {
		printf("(d) %-14s %-8s pid %d: smaps not readable; not measured\n", what, role,
		       m->pid);
		return;
	}
	printf("(d) %-14s %-8s pid %d: private RSS %6.2f MiB without the guest-RAM memfd "
	       "(target <= 4 MiB), %6.2f MiB with it\n",
	       what, role, m->pid, m->no_ram_kb / 1024.0, m->rollup_kb / 1024.0);
}

static void print_rss(const char *what, const struct rss_pair *m)
{
	if (m->server.pid == m->reaper.pid) {
		print_rss_one(what, "(unconfined: one process)", &m->server);
		return;
	}
	print_rss_one(what, "server", &m->server);
	print_rss_one(what, "reaper", &m->reaper);
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
	char *storage[] = {
		(char *)tu_bin("MPVMM_STORAGE"),       "-blockdev", c->blockdev, "-device",
		"virtio-blk,id=vd0,drive=d0,socket=3", NULL};
	char *blk_vmm[] = {VMM_ARGS(c->elf, c->append), "-device", "pci-proxy-dev,id=vd0,socket=3",
			   NULL};
	char *misc[] = {(char *)tu_bin("MPVMM_MISC"), "-device", "virtio-rng,id=r0,socket=3", NULL};
	g_autofree char *rng_elf = tu_guest("virtio-rng");
	char *rng_vmm[] = {VMM_ARGS(rng_elf, "rounds=40"), "-device",
			   "pci-proxy-dev,id=r0,socket=3", NULL};
	struct rss_pair ms, mm;

	printf("(d) private RSS of each remote process (Private_Clean + Private_Dirty), sampled "
	       "while a guest drives it\n");
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
	char *storage[] = {
		(char *)tu_bin("MPVMM_STORAGE"),       "-blockdev", c->blockdev, "-device",
		"virtio-blk,id=vd0,drive=d0,socket=3", NULL};
	char *vmm[] = {VMM_ARGS(c->elf, twice ? c->append2 : c->append), "-device",
		       "pci-proxy-dev,id=vd0,socket=3", NULL};

	bench_remote(storage, vmm, NULL, r);
}

static void run_local(const struct cfg *c, bool twice, struct run *r)
{
	char *vmm[] = {VMM_ARGS(c->elf, twice ? c->append2 : c->append),
		       "-blockdev",
		       c->blockdev,
		       "-device",
		       "virtio-blk,id=vd0,drive=d0",
		       NULL};

	bench_run(vmm, NULL, 0, NULL, r);
}

static void run_qemu(const struct cfg *c, char *qemu_bin, struct run *r)
{
	char *qemu[] = {qemu_bin,
			"-accel",
			"kvm",
			"-M",
			"pc",
			"-m",
			"128",
			"-kernel",
			c->elf,
			"-append",
			c->append,
			"-drive",
			c->qdrive,
			"-device",
			"virtio-blk-pci,drive=d0,disable-legacy=on",
			"-device",
			"isa-debug-exit,iobase=0xf4,iosize=4",
			"-display",
			"none",
			"-serial",
			"none",
			"-debugcon",
			"stdio",
			"-no-reboot",
			NULL};

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
	print_ctx(rem, loc, qemu_bin ? q : NULL, c->rounds);
}

/* The median exit counts of the rounds' bench=N runs. */
static struct run median_exits(const struct run *runs, unsigned n)
{
	double t[MAX_ROUNDS], io[MAX_ROUNDS], mmio[MAX_ROUNDS];
	struct run m = {.exits.vcpus = runs[0].exits.vcpus};

	for (unsigned i = 0; i < n; i++) {
		t[i] = (double)runs[i].exits.total;
		io[i] = (double)runs[i].exits.io;
		mmio[i] = (double)runs[i].exits.mmio;
		if (!runs[i].exits.vcpus)
			m.exits.vcpus = 0;
	}
	m.exits.total = (unsigned long)median(t, n);
	m.exits.io = (unsigned long)median(io, n);
	m.exits.mmio = (unsigned long)median(mmio, n);
	return m;
}

int main(int argc, char **argv)
{
	struct run rem[MAX_ROUNDS], loc[MAX_ROUNDS], rem2, loc2, rem1, loc1;
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
	rem1 = median_exits(rem, c.rounds);
	loc1 = median_exits(loc, c.rounds);
	print_exits("remote", &rem1, &rem2, 4 * c.n);
	print_exits("in-VMM", &loc1, &loc2, 4 * c.n);
	printf("\n");
	bench_rss(&c);
	unlink(c.img);
	return 0;
}
