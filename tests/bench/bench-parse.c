// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bench-parse: the text parsing behind bench-blk (see bench-parse.h).  Formats: mpvmm's
 * MPVMM_EXIT_STATS line (vmm/machine.c, machine_print_exits), and proc(5)'s
 * /proc/PID/task/TID/status ("Name:", "voluntary_ctxt_switches:",
 * "nonvoluntary_ctxt_switches:") and /proc/PID/smaps (a header line per mapping, then
 * "Key: value kB" lines).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/bench/bench-parse.h"

void bench_parse_exits(const char *text, struct bench_exits *out)
{
	g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);

	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; lines[i]; i++) {
		unsigned long total, io, mmio;
		unsigned cpu;

		if (sscanf(lines[i], "mpvmm: vCPU%u: %lu exits to userspace (io %lu, mmio %lu)",
			   &cpu, &total, &io, &mmio) != 4)
			continue;
		out->total += total;
		out->io += io;
		out->mmio += mmio;
		out->vcpus++;
	}
}

/* The unsigned value of the line starting with key (which ends with ':'), if any. */
static bool status_field(const char *line, const char *key, unsigned long *v)
{
	char *end;

	if (!g_str_has_prefix(line, key))
		return false;
	line += strlen(key);
	*v = strtoul(line, &end, 10);
	return end != line;
}

int bench_parse_status(const char *text, struct bench_task *out)
{
	g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);
	unsigned long vol = 0, nonvol = 0;
	bool have_vol = false, have_nonvol = false;

	out->vcpu = false;
	for (unsigned i = 0; lines[i]; i++) {
		const char *l = lines[i];
		unsigned cpu;
		char tail;

		/* "nonvoluntary_..." does not start with "voluntary_...": prefixes are exact. */
		have_vol |= status_field(l, "voluntary_ctxt_switches:", &vol);
		have_nonvol |= status_field(l, "nonvoluntary_ctxt_switches:", &nonvol);
		if (sscanf(l, "Name:\tvcpu%u%c", &cpu, &tail) == 1)
			out->vcpu = true; /* vmm/vcpu.c names its threads "vcpu<i>" */
	}
	if (!have_vol || !have_nonvol)
		return -EINVAL;
	out->switches = vol + nonvol;
	return 0;
}

long bench_parse_private_kb(const char *text, bool skip_ram)
{
	g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);
	bool skip = false;
	long kb = 0, v;

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

GHashTable *bench_ctx_snapshot(pid_t pid)
{
	g_autofree char *dir = g_strdup_printf("/proc/%d/task", (int)pid);
	GDir *d = g_dir_open(dir, 0, NULL);
	GHashTable *t;
	const char *name;

	if (!d)
		return NULL;
	t = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	while ((name = g_dir_read_name(d))) {
		g_autofree char *path = g_strdup_printf("%s/%s/status", dir, name);
		g_autofree char *text = NULL;
		struct bench_task *task = g_new(struct bench_task, 1);

		if (!g_file_get_contents(path, &text, NULL, NULL) ||
		    bench_parse_status(text, task) < 0) {
			g_free(task); /* exited meanwhile */
			continue;
		}
		g_hash_table_insert(t, GINT_TO_POINTER(atoi(name)), task);
	}
	g_dir_close(d);
	return t;
}

void bench_ctx_diff(GHashTable *before, GHashTable *after, struct bench_ctx_delta *d)
{
	GHashTableIter it;
	gpointer tid, val;

	g_hash_table_iter_init(&it, after);
	while (g_hash_table_iter_next(&it, &tid, &val)) {
		const struct bench_task *a = val, *b = g_hash_table_lookup(before, tid);
		unsigned long n = a->switches - (b && b->switches <= a->switches ? b->switches : 0);

		if (a->vcpu)
			d->vcpu += n;
		else
			d->other += n;
		d->threads++;
	}
	g_hash_table_iter_init(&it, before);
	while (g_hash_table_iter_next(&it, &tid, &val))
		d->gone += !g_hash_table_contains(after, tid);
}
