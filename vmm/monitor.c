// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * monitor: mpvmm's QMP monitors (docs/qmp.md).  It parses -qmp, listens on each path
 * with one qmp_server (protocol/qmp_server.c) on its own thread and GMainContext, so
 * clients are served while the main thread waits in machine_run() and the vCPUs run,
 * and it keeps the run state that query-status reports and the events that go with
 * it (STOP, RESUME, RESET, SHUTDOWN).  The commands themselves are in qmp_cmds.c
 * (run control, query-pci) and qmp_reset.c (system_reset); the command list served is
 * monitor_tables below.  This file does no QMP parsing.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "vmm/vmm.h"

/*
 * Every command table mpvmm serves, after the core's built-ins.  A subsystem with
 * commands adds its table here, one line (see docs/qmp.md, "adding commands").
 */
static const struct qmp_command *const monitor_tables[] = {
	vmm_qmp_commands, /* qmp_cmds.c: run control, query-status, query-pci */
	rproc_qmp_commands, /* rproc_cmd.c: object-add, object-del, query-remote-processes */
	hotplug_qmp_commands, /* hotplug_qmp.c: device_add, device_del */
	NULL,
};

struct monitor {
	struct machine *m;
	GMainContext *ctx;
	GMainLoop *loop;
	GThread *thread;
	bool quit_sent; /* atomic: quit emitted SHUTDOWN itself */
};

const char *monitor_runstate_name(enum vmm_runstate rs)
{
	static const char *const names[] = {
		[VMM_RS_PRELAUNCH] = "prelaunch",
		[VMM_RS_RUNNING] = "running",
		[VMM_RS_PAUSED] = "paused",
		[VMM_RS_SHUTDOWN] = "shutdown",
	};

	return (unsigned)rs < G_N_ELEMENTS(names) ? names[rs] : "shutdown";
}

/* ---- -qmp unix:PATH,server=on,wait=off ---- */

static int monitor_opt_error(GError **err, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static int monitor_opt_error(GError **err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	g_propagate_error(err, g_error_new_valist(VMM_ERROR, EINVAL, fmt, ap));
	va_end(ap);
	return -EINVAL;
}

/* One ",key=value" (or QEMU's short forms "server", "nowait") of -qmp. */
static int monitor_opt_flag(const char *val, const char *kv, bool *server, bool *wait, GError **err)
{
	if (!strcmp(kv, "server=on") || !strcmp(kv, "server"))
		*server = true;
	else if (!strcmp(kv, "wait=off") || !strcmp(kv, "nowait"))
		*wait = false;
	else if (!strcmp(kv, "server=off"))
		return monitor_opt_error(err,
					 "-qmp %s: mpvmm only listens for QMP clients; "
					 "use server=on",
					 val);
	else if (!strcmp(kv, "wait=on"))
		return monitor_opt_error(err,
					 "-qmp %s: mpvmm does not wait for a QMP client "
					 "before it starts; use wait=off, and -S to keep the "
					 "vCPUs paused until a client sends cont",
					 val);
	else
		return monitor_opt_error(err,
					 "-qmp %s: unknown option '%s'; use -qmp "
					 "unix:PATH,server=on,wait=off",
					 val, kv);
	return 0;
}

int monitor_parse_opt(const char *val, char **path, GError **err)
{
	g_auto(GStrv) parts = NULL;
	bool server = false, wait = true; /* QEMU's defaults: client, and wait when server */
	size_t len;

	if (!g_str_has_prefix(val, "unix:"))
		return monitor_opt_error(err,
					 "-qmp %s: only unix sockets are supported; use "
					 "-qmp unix:PATH,server=on,wait=off",
					 val);
	parts = g_strsplit(val + 5, ",", -1);
	len = strlen(parts[0]);
	if (len == 0 || len >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return monitor_opt_error(err,
					 "-qmp %s: the socket path must be 1 to %zu bytes; "
					 "use a shorter path",
					 val, sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
	for (unsigned i = 1; parts[i]; i++)
		if (monitor_opt_flag(val, parts[i], &server, &wait, err) < 0)
			return -EINVAL;
	if (!server)
		return monitor_opt_error(err,
					 "-qmp %s: server=on is required (mpvmm listens); "
					 "use -qmp unix:%s,server=on,wait=off",
					 val, parts[0]);
	if (wait)
		return monitor_opt_error(err,
					 "-qmp %s: wait=off is required (mpvmm does not "
					 "wait for a client; use -S to start paused)",
					 val);
	*path = g_strdup(parts[0]);
	return 0;
}

/* ---- the monitor thread ---- */

static void *monitor_thread(void *data)
{
	struct monitor *mon = data;

	g_main_context_push_thread_default(mon->ctx);
	g_main_loop_run(mon->loop);
	g_main_context_pop_thread_default(mon->ctx);
	return NULL;
}

/* "0.1.0" -> 0, 1, 0 (the greeting's version; missing parts are 0). */
static void monitor_version(struct qmp_version *v)
{
	g_auto(GStrv) parts = g_strsplit(MPVMM_VERSION, ".", 3);
	int *f[] = {&v->major, &v->minor, &v->micro};

	for (unsigned i = 0; i < 3; i++)
		*f[i] = parts[0] && i < g_strv_length(parts) ? atoi(parts[i]) : 0;
	v->package = "mpvmm-" MPVMM_VERSION;
}

static int monitor_listen(struct machine *m, struct monitor *mon, GError **err)
{
	struct qmp_server_cfg cfg = {.tables = monitor_tables, .opaque = m, .ctx = mon->ctx};
	int ret;

	monitor_version(&cfg.version);
	ret = qmp_server_create(&cfg, &m->qmp);
	for (unsigned i = 0; ret == 0 && i < m->opts->nr_qmp; i++) {
		g_autoptr(GError) e = NULL;

		ret = qmp_server_listen(m->qmp, m->opts->qmp[i], &e);
		if (ret < 0)
			g_set_error(err, VMM_ERROR, -ret, "-qmp unix:%s: %s", m->opts->qmp[i],
				    e->message);
	}
	return ret;
}

int monitor_create(struct machine *m, GError **err)
{
	struct monitor *mon;
	sigset_t all, old;
	int ret;

	if (m->opts->nr_qmp == 0)
		return 0;
	mon = g_new0(struct monitor, 1);
	mon->m = m;
	mon->ctx = g_main_context_new();
	mon->loop = g_main_loop_new(mon->ctx, FALSE);
	m->mon = mon;
	ret = vcpus_snapshot(m); /* system_reset's state: the vCPUs have not run yet */
	if (ret < 0) {
		g_set_error(err, VMM_ERROR, -ret, "KVM: cannot save the vCPUs' reset state: %s",
			    g_strerror(-ret));
		return ret;
	}
	qmp_pci_probe(m); /* BAR sizes for query-pci, before the guest can see it */
	ret = monitor_listen(m, mon, err);
	if (ret < 0)
		return ret;
	/* The thread takes no signal: SIGINT/SIGTERM go to machine_run()'s signalfd. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	mon->thread = g_thread_new("qmp-monitor", monitor_thread, mon);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	g_info("QMP: %u monitor socket(s), %s", m->opts->nr_qmp,
	       m->opts->start_paused ? "vCPUs paused (-S)" : "vCPUs running");
	return 0;
}

void monitor_destroy(struct machine *m)
{
	struct monitor *mon = m->mon;

	if (!mon)
		return;
	if (mon->thread) {
		g_main_loop_quit(mon->loop);
		g_thread_join(mon->thread);
	}
	qmp_server_destroy(m->qmp); /* delivers queued events (SHUTDOWN) first */
	m->qmp = NULL;
	g_free(m->qmp_pci);
	m->qmp_pci = NULL;
	g_main_loop_unref(mon->loop);
	g_main_context_unref(mon->ctx);
	g_free(mon);
	m->mon = NULL;
}

void monitor_emit(struct machine *m, const char *event, json_object *data)
{
	if (!m->qmp) {
		json_object_put(data);
		return;
	}
	qmp_server_emit_event(m->qmp, event, data);
}

/* QEMU's SHUTDOWN data (qapi/run-state.json ShutdownCause). */
void monitor_emit_shutdown(struct machine *m, bool guest, const char *reason)
{
	json_object *d = json_object_new_object();

	__atomic_store_n(&m->runstate, VMM_RS_SHUTDOWN, __ATOMIC_RELEASE);
	json_object_object_add(d, "guest", json_object_new_boolean(guest));
	json_object_object_add(d, "reason", json_object_new_string(reason));
	monitor_emit(m, "SHUTDOWN", d);
}

void monitor_quit(struct machine *m)
{
	__atomic_store_n(&m->mon->quit_sent, true, __ATOMIC_RELEASE);
	monitor_emit_shutdown(m, false, "host-qmp-quit");
	machine_stop(m, VMM_EXIT_STOPPED);
}

void monitor_vm_ended(struct machine *m, int status)
{
	if (!m->mon || __atomic_load_n(&m->mon->quit_sent, __ATOMIC_ACQUIRE))
		return;
	if (m->stop_signal)
		monitor_emit_shutdown(m, false, "host-signal");
	else if (status == VMM_EXIT_GUEST_FAILED)
		monitor_emit_shutdown(m, true, "guest-panic");
	else if (status == VMM_EXIT_SETUP)
		monitor_emit_shutdown(m, false, "host-error");
	else
		monitor_emit_shutdown(m, true, "guest-shutdown");
}
