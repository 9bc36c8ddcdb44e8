// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of tests/bench/bench-parse.c, the parsing behind bench-blk's figures
 * (which needs KVM to run): MPVMM_EXIT_STATS lines summed over vCPUs, status files
 * (the "nonvoluntary" prefix trap, missing fields, vCPU thread names), smaps private
 * memory with and without the guest-RAM memfd, and context-switch snapshots of this
 * very process with a thread named like a vCPU that sleeps and wakes.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "tests/bench/bench-parse.h"

static void test_exits(void)
{
	struct bench_exits e;

	bench_parse_exits("mpvmm: guest exited\n"
			  "mpvmm: vCPU0: 120 exits to userspace (io 100, mmio 15)\n"
			  "mpvmm: vCPU1: 7 exits to userspace (io 3, mmio 4)\n"
			  "other: vCPU2: 9 exits to userspace (io 9, mmio 0)\n",
			  &e);
	g_assert_cmpuint(e.vcpus, ==, 2);
	g_assert_cmpuint(e.total, ==, 127); /* the total, not io + mmio (hlt, shutdown, ...) */
	g_assert_cmpuint(e.io, ==, 103);
	g_assert_cmpuint(e.mmio, ==, 19);
	bench_parse_exits("mpvmm: vCPU0: 12 exits to userspace\n", &e); /* wrong form */
	g_assert_cmpuint(e.vcpus, ==, 0);
	bench_parse_exits(NULL, &e);
	g_assert_cmpuint(e.vcpus, ==, 0);
	g_assert_cmpuint(e.total, ==, 0);
}

static void test_status(void)
{
	struct bench_task t;

	g_assert_cmpint(bench_parse_status("Name:\tvcpu3\nState:\tS (sleeping)\n"
					   "nonvoluntary_ctxt_switches:\t5\n"
					   "voluntary_ctxt_switches:\t40\n",
					   &t),
			==, 0);
	g_assert_cmpuint(t.switches, ==, 45);
	g_assert_true(t.vcpu);
	g_assert_cmpint(bench_parse_status("Name:\tgmain\nvoluntary_ctxt_switches:\t1\n"
					   "nonvoluntary_ctxt_switches:\t0\n",
					   &t),
			==, 0);
	g_assert_cmpuint(t.switches, ==, 1);
	g_assert_false(t.vcpu);
	g_assert_cmpint(bench_parse_status("Name:\tvcpu1x\nvoluntary_ctxt_switches:\t1\n"
					   "nonvoluntary_ctxt_switches:\t2\n",
					   &t),
			==, 0);
	g_assert_false(t.vcpu);
	/* Only the nonvoluntary line: "voluntary_..." must not match inside it. */
	g_assert_cmpint(bench_parse_status("nonvoluntary_ctxt_switches:\t5\n", &t), ==, -EINVAL);
	g_assert_cmpint(bench_parse_status("voluntary_ctxt_switches:\t5\n", &t), ==, -EINVAL);
	g_assert_cmpint(bench_parse_status("voluntary_ctxt_switches:\tx\n"
					   "nonvoluntary_ctxt_switches:\t5\n",
					   &t),
			==, -EINVAL);
	g_assert_cmpint(bench_parse_status("", &t), ==, -EINVAL);
}

static void test_smaps(void)
{
	const char *smaps =
		"55d0c0000000-55d0c0010000 r-xp 00000000 08:01 42 /usr/bin/mpvmm-storage\n"
		"Rss:                  64 kB\n"
		"Private_Clean:        16 kB\n"
		"Private_Dirty:         8 kB\n"
		"7f0000000000-7f0004000000 rw-s 00000000 00:01 7 /memfd:mpvmm-ram (deleted)\n"
		"Private_Clean:         0 kB\n"
		"Private_Dirty:      2048 kB\n"
		"7f1000000000-7f1000021000 rw-p 00000000 00:00 0 [heap]\n"
		"Private_Clean:         0 kB\n"
		"Private_Dirty:       132 kB\n";

	g_assert_cmpint(bench_parse_private_kb(smaps, false), ==, 16 + 8 + 2048 + 132);
	g_assert_cmpint(bench_parse_private_kb(smaps, true), ==, 16 + 8 + 132);
	g_assert_cmpint(bench_parse_private_kb("Private_Dirty: 12 kB\n", true), ==,
			12); /* rollup */
	g_assert_cmpint(bench_parse_private_kb(NULL, false), ==, 0);
}

static gint wakeups;

static void *sleeper(void *arg)
{
	pthread_setname_np(pthread_self(), "vcpu7");
	for (int i = 0; i < 20; i++)
		g_usleep(1000); /* each sleep is a voluntary switch */
	g_atomic_int_set(&wakeups, 1);
	for (int i = 0; i < 2000 && g_atomic_int_get(&wakeups) != 2; i++)
		g_usleep(1000);
	return NULL;
}

static void test_snapshot(void)
{
	GHashTable *before = bench_ctx_snapshot(getpid()), *after, *joined;
	struct bench_ctx_delta d = {0};
	pthread_t th;
	unsigned n;

	g_assert_nonnull(before);
	n = g_hash_table_size(before);
	g_assert_cmpuint(n, >=, 1);
	g_assert_cmpint(pthread_create(&th, NULL, sleeper, NULL), ==, 0);
	while (g_atomic_int_get(&wakeups) != 1)
		g_usleep(1000);
	after = bench_ctx_snapshot(getpid());
	bench_ctx_diff(before, after, &d);
	g_assert_cmpuint(d.threads, ==, n + 1);
	g_assert_cmpuint(d.gone, ==, 0);
	g_assert_cmpuint(d.vcpu, >=, 20); /* the new thread, counted from 0 */
	g_assert_cmpuint(d.other, >=, 1); /* this one slept waiting for it */
	g_atomic_int_set(&wakeups, 2);
	pthread_join(th, NULL);
	/* The thread is gone: it is counted as such, and nothing of it is added. */
	joined = bench_ctx_snapshot(getpid());
	memset(&d, 0, sizeof(d));
	bench_ctx_diff(after, joined, &d);
	g_assert_cmpuint(d.gone, ==, 1);
	g_assert_cmpuint(d.threads, ==, n);
	g_assert_cmpuint(d.vcpu, ==, 0);
	g_assert_null(bench_ctx_snapshot(0x7fffffff));
	g_hash_table_unref(before);
	g_hash_table_unref(after);
	g_hash_table_unref(joined);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/bench/parse/exits", test_exits);
	g_test_add_func("/bench/parse/status", test_status);
	g_test_add_func("/bench/parse/smaps", test_smaps);
	g_test_add_func("/bench/parse/ctx-snapshot", test_snapshot);
	return g_test_run();
}
