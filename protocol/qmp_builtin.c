// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * qmp_builtin: the commands every QMP server here has, whatever it serves:
 * qmp_capabilities, query-version, query-commands, getfd and closefd (QEMU's
 * qapi/control.json and qapi/misc.json define them; the error texts are QEMU 7.2's).
 * They act only on the session.  The VMM's and the class processes' own commands live
 * with them, in their tables.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "protocol/qmp_priv.h"

/* qmp-spec.rst "Capabilities Negotiation"; we offer no capability, so any is refused. */
static int qmp_cmd_capabilities(void *opaque, struct qmp_session *s, json_object *args,
				json_object **ret, GError **err)
{
	json_object *enable;

	if (s->negotiated)
		return qmp_error_set(
			err, -EALREADY, QMP_ERROR_COMMAND_NOT_FOUND,
			"Capabilities negotiation is already complete, command ignored");
	if (json_object_object_get_ex(args, "enable", &enable)) {
		if (!json_object_is_type(enable, json_type_array))
			return qmp_error_set(
				err, -EINVAL, QMP_ERROR_GENERIC,
				"Invalid parameter type for 'enable', expected: array");
		if (json_object_array_length(enable) > 0) {
			json_object *c = json_object_array_get_idx(enable, 0);

			if (!json_object_is_type(c, json_type_string))
				return qmp_error_set(err, -EINVAL, QMP_ERROR_GENERIC,
						     "Invalid parameter type for 'enable[0]', "
						     "expected: string");
			return qmp_error_set(err, -EOPNOTSUPP, QMP_ERROR_GENERIC,
					     "Capability '%s' not available",
					     json_object_get_string(c));
		}
	}
	s->negotiated = true;
	return 0;
}

static int qmp_cmd_query_version(void *opaque, struct qmp_session *s, json_object *args,
				 json_object **ret, GError **err)
{
	*ret = qmp_version_object(s);
	return 0;
}

static void qmp_list_add(json_object *list, GHashTable *seen, const char *name)
{
	json_object *e;

	if (!g_hash_table_add(seen, (gpointer)name))
		return; /* a later table's duplicate is shadowed, as qmp_session_find() does */
	e = json_object_new_object();
	json_object_object_add(e, "name", json_object_new_string(name));
	json_object_array_add(list, e);
}

static int qmp_cmd_query_commands(void *opaque, struct qmp_session *s, json_object *args,
				  json_object **ret, GError **err)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	json_object *list = json_object_new_array();

	for (const struct qmp_command *c = qmp_builtin_commands; c->name; c++)
		qmp_list_add(list, seen, c->name);
	for (unsigned t = 0; s->tables && s->tables[t]; t++)
		for (const struct qmp_command *c = s->tables[t]; c->name; c++)
			qmp_list_add(list, seen, c->name);
	*ret = list;
	return 0;
}

static bool qmp_fdname_ok(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > QMP_FDNAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (name[i] <= ' ' || name[i] > '~')
			return false;
	return true;
}

/* qapi/misc.json "getfd": the fd that came with this message, stored under fdname. */
static int qmp_cmd_getfd(void *opaque, struct qmp_session *s, json_object *args, json_object **ret,
			 GError **err)
{
	const char *name = json_object_get_string(json_object_object_get(args, "fdname"));
	int fd, r;

	fd = qmp_session_take_msg_fd(s);
	if (fd < 0)
		return qmp_error_set(err, -EBADF, QMP_ERROR_GENERIC,
				     "No file descriptor supplied via SCM_RIGHTS");
	if (g_ascii_isdigit(name[0])) {
		close(fd);
		return qmp_error_set(err, -EINVAL, QMP_ERROR_GENERIC,
				     "Parameter 'fdname' expects a name not starting with a digit");
	}
	if (!qmp_fdname_ok(name)) {
		close(fd);
		return qmp_error_set(err, -EINVAL, QMP_ERROR_GENERIC,
				     "Parameter 'fdname' must be 1 to %u printable characters "
				     "without spaces",
				     QMP_FDNAME_MAX);
	}
	r = qmp_session_put_fd(s, name, fd);
	if (r == -ENOSPC)
		return qmp_error_set(err, r, QMP_ERROR_GENERIC,
				     "Too many named fds (%u): closefd some first",
				     QMP_NAMED_FDS_MAX);
	return r;
}

static int qmp_cmd_closefd(void *opaque, struct qmp_session *s, json_object *args,
			   json_object **ret, GError **err)
{
	const char *name = json_object_get_string(json_object_object_get(args, "fdname"));
	int fd = qmp_session_take_fd(s, name);

	if (fd < 0)
		return qmp_error_set(err, -ENOENT, QMP_ERROR_GENERIC,
				     "File descriptor named '%s' not found", name);
	close(fd);
	return 0;
}

static const struct qmp_arg qmp_capabilities_args[] = {
	{"enable", QMP_ARG_ANY, true}, /* a list of capability names */
	{NULL},
};

static const struct qmp_arg qmp_fdname_args[] = {
	{"fdname", QMP_ARG_STR, false},
	{NULL},
};

const struct qmp_command qmp_builtin_commands[] = {
	{"qmp_capabilities", qmp_cmd_capabilities, qmp_capabilities_args},
	{"query-version", qmp_cmd_query_version},
	{"query-commands", qmp_cmd_query_commands},
	{"getfd", qmp_cmd_getfd, qmp_fdname_args},
	{"closefd", qmp_cmd_closefd, qmp_fdname_args},
	{NULL},
};
