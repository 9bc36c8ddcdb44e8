/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench-parse: what bench-blk reads from text, kept apart so a unit test can check it
 * without KVM: mpvmm's MPVMM_EXIT_STATS lines, the context-switch counts of
 * /proc/PID/task/TID/status, the private memory of /proc/PID/smaps, and the
 * per-thread context-switch deltas of a process between two snapshots.  Test code.
 */
#ifndef MPVMM_BENCH_PARSE_H
#define MPVMM_BENCH_PARSE_H

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

/* Exits to userspace summed over every vCPU line mpvmm printed at exit. */
struct bench_exits {
	unsigned long total, io, mmio;
	unsigned vcpus; /* lines found; 0: MPVMM_EXIT_STATS printed nothing */
};

/* Sum every "mpvmm: vCPU<i>: T exits to userspace (io I, mmio M)" line of text. */
void bench_parse_exits(const char *text, struct bench_exits *out);

/* One thread: voluntary + nonvoluntary context switches; a vCPU thread ("vcpu<i>")? */
struct bench_task {
	unsigned long switches;
	bool vcpu;
};

/* A /proc/PID/task/TID/status text.  0, or -EINVAL when a field is missing. */
int bench_parse_status(const char *text, struct bench_task *out);

/*
 * Private_Clean + Private_Dirty in kB over a /proc/PID/smaps (or smaps_rollup) text;
 * with skip_ram, without the mappings of the guest-RAM memfd ("/memfd:mpvmm-ram").
 */
long bench_parse_private_kb(const char *text, bool skip_ram);

/*
 * Every thread of pid: a table from TID (GINT_TO_POINTER) to struct bench_task
 * (g_hash_table_unref it).  A thread that exits while it is read is left out.
 */
GHashTable *bench_ctx_snapshot(pid_t pid);

/* Context switches between two snapshots of one process. */
struct bench_ctx_delta {
	unsigned long vcpu, other; /* switches of vCPU threads, of every other thread */
	unsigned threads;	   /* threads in the later snapshot */
	unsigned gone;		   /* threads of the earlier one that had exited: not counted */
};

/* Add after - before, per thread (a thread new in after counts from 0), to *d. */
void bench_ctx_diff(GHashTable *before, GHashTable *after, struct bench_ctx_delta *d);

#endif
