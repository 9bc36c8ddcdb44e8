// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * qmp_cmds: mpvmm's own QMP commands (docs/qmp.md): query-status, stop, cont,
 * system_reset, quit and query-pci (qmp_pci.c).  They run on the monitor thread with
 * the struct machine as opaque; run control goes through vcpus_pause()/vcpus_resume()
 * and the run state kept in m->runstate, and every transition emits QEMU's event
 * (STOP, RESUME, RESET, SHUTDOWN) before the reply, as QEMU does.  The protocol
 * (negotiation, argument checks, replies) is protocol/qmp_*.c's.
 */
#include <errno.h>

#include "vmm/vmm.h"

static enum vmm_runstate qmp_runstate(const struct machine *m)
{
	return __atomic_load_n(&m->runstate, __ATOMIC_ACQUIRE);
}

static void qmp_set_runstate(struct machine *m, enum vmm_runstate rs)
{
	__atomic_store_n(&m->runstate, rs, __ATOMIC_RELEASE);
}

/* qapi/run-state.json StatusInfo. */
static int qmp_query_status(void *opaque, struct qmp_session *s, json_object *args,
			    json_object **ret, GError **err)
{
	enum vmm_runstate rs = qmp_runstate(opaque);

	*ret = json_object_new_object();
	json_object_object_add(*ret, "status", json_object_new_string(monitor_runstate_name(rs)));
	json_object_object_add(*ret, "singlestep", json_object_new_boolean(false));
	json_object_object_add(*ret, "running", json_object_new_boolean(rs == VMM_RS_RUNNING));
	return 0;
}

static int qmp_ended(GError **err)
{
	return qmp_error_set(err, -ESHUTDOWN, QMP_ERROR_GENERIC,
			     "The VM is shutting down; it can no longer be run or reset");
}

/*
 * QEMU: stop on a running VM parks the vCPUs and emits STOP; on a VM that is not
 * running (prelaunch with -S, paused) it does nothing and emits nothing.
 */
static int qmp_stop(void *opaque, struct qmp_session *s, json_object *args, json_object **ret,
		    GError **err)
{
	struct machine *m = opaque;
	int r;

	if (qmp_runstate(m) == VMM_RS_SHUTDOWN)
		return qmp_ended(err);
	if (qmp_runstate(m) != VMM_RS_RUNNING)
		return 0;
	r = vcpus_pause(m);
	qmp_set_runstate(m, VMM_RS_PAUSED);
	monitor_emit(m, "STOP", NULL);
	if (r < 0) /* paused as far as the guest can tell: a stuck vCPU parks on return */
		g_warning("stop: a vCPU did not park within %d ms (blocked in a device)",
			  VCPU_PAUSE_TIMEOUT_MS);
	return 0;
}

/* QEMU: cont from prelaunch or paused resumes and emits RESUME; when running, nothing. */
static int qmp_cont(void *opaque, struct qmp_session *s, json_object *args, json_object **ret,
		    GError **err)
{
	struct machine *m = opaque;

	if (qmp_runstate(m) == VMM_RS_SHUTDOWN)
		return qmp_ended(err);
	if (qmp_runstate(m) == VMM_RS_RUNNING)
		return 0;
	qmp_set_runstate(m, VMM_RS_RUNNING);
	monitor_emit(m, "RESUME", NULL);
	vcpus_resume(m);
	return 0;
}

static int qmp_system_reset(void *opaque, struct qmp_session *s, json_object *args,
			    json_object **ret, GError **err)
{
	struct machine *m = opaque;
	json_object *d;
	int r;

	if (qmp_runstate(m) == VMM_RS_SHUTDOWN)
		return qmp_ended(err);
	r = monitor_reset(m, err);
	if (r < 0)
		return r;
	d = json_object_new_object();
	json_object_object_add(d, "guest", json_object_new_boolean(false));
	json_object_object_add(d, "reason", json_object_new_string("host-qmp-system-reset"));
	monitor_emit(m, "RESET", d);
	return 0;
}

/* SHUTDOWN, then the reply; the process exits with status 0 once the vCPUs stopped. */
static int qmp_quit(void *opaque, struct qmp_session *s, json_object *args, json_object **ret,
		    GError **err)
{
	monitor_quit(opaque);
	return 0;
}

const struct qmp_command vmm_qmp_commands[] = {
	{"query-status", qmp_query_status},
	{"stop", qmp_stop},
	{"cont", qmp_cont},
	{"system_reset", qmp_system_reset},
	{"quit", qmp_quit},
	{"query-pci", qmp_query_pci},
	{NULL},
};
