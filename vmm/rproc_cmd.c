// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rproc_cmd: the QMP commands of mpvmm's monitor that start, stop and list class
 * processes: object-add and object-del of qom-type remote-process (QEMU's argument
 * shape: {"qom-type": "remote-process", "id": ..., plus the properties}) and
 * query-remote-processes.  The table is registered into the monitor's list of command
 * tables; each command's opaque is the struct machine.  The work is rproc.c's.
 */
#include <errno.h>
#include <string.h>

#include "protocol/protocol.h"
#include "vmm/vmm.h"

static int rproc_cmd_object_add(void *opaque, struct qmp_session *s, json_object *args,
				json_object **ret, GError **err)
{
	struct machine *m = opaque;
	const char *type = json_object_get_string(json_object_object_get(args, "qom-type"));
	struct rproc_opt o;
	GError *why = NULL;
	int r;

	if (strcmp(type, RPROC_TYPE) != 0)
		return qmp_error_set(err, -EINVAL, QMP_ERROR_GENERIC,
				     "Invalid parameter "
				     "'qom-type': mpvmm creates only objects of type '" RPROC_TYPE
				     "', not '%s'",
				     type);
	r = rproc_opt_from_json(args, &o, &why);
	if (r == 0)
		r = rproc_spawn(m->rprocs, &o, &why);
	if (r < 0) {
		qmp_error_set(err, r, QMP_ERROR_GENERIC, "%s", why->message);
		g_error_free(why);
	}
	rproc_opt_clear(&o);
	return r;
}

static int rproc_cmd_object_del(void *opaque, struct qmp_session *s, json_object *args,
				json_object **ret, GError **err)
{
	struct machine *m = opaque;
	const char *id = json_object_get_string(json_object_object_get(args, "id"));
	GError *why = NULL;
	int r = rproc_remove(m->rprocs, id, &why);

	if (r < 0) {
		qmp_error_set(err, r, QMP_ERROR_GENERIC, "%s", why->message);
		g_error_free(why);
	}
	return r;
}

static int rproc_cmd_query(void *opaque, struct qmp_session *s, json_object *args,
			   json_object **ret, GError **err)
{
	struct machine *m = opaque;

	*ret = rprocs_query(m->rprocs);
	return 0;
}

static const struct qmp_arg rproc_object_add_args[] = {
	{"qom-type", QMP_ARG_STR, false},
	{"id", QMP_ARG_STR, false},
	{NULL},
};

static const struct qmp_arg rproc_object_del_args[] = {
	{"id", QMP_ARG_STR, false},
	{NULL},
};

const struct qmp_command rproc_qmp_commands[] = {
	{"object-add", rproc_cmd_object_add, rproc_object_add_args, true},
	{"object-del", rproc_cmd_object_del, rproc_object_del_args, false},
	{"query-remote-processes", rproc_cmd_query, NULL, false},
	{NULL},
};
