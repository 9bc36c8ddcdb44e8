// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * qmp_dispatch: what one parsed QMP message means (qmp-spec.rst, "Issuing Commands"
 * and "Commands Responses"): the "execute"/"arguments"/"id" rules, capabilities
 * negotiation gating, command lookup, argument checking against the command's
 * declaration, and the reply ({"return"} or {"error": {"class", "desc"}}, "id" echoed).
 * The messages match QEMU 7.2's word for word where QEMU has one (checked by
 * tests/integration/test-qmp-qemu.c against the real QEMU).  It does not parse bytes
 * (qmp_session.c) and implements no command (qmp_builtin.c and the callers' tables).
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "protocol/qmp_priv.h"

G_DEFINE_QUARK(qmp - error - quark, qmp_error)

const char *qmp_error_class_name(int cls)
{
	switch (cls) {
	case QMP_ERROR_COMMAND_NOT_FOUND:
		return "CommandNotFound";
	case QMP_ERROR_DEVICE_NOT_FOUND:
		return "DeviceNotFound";
	default:
		return "GenericError";
	}
}

int qmp_error_set(GError **err, int ret, enum qmp_error_class cls, const char *fmt, ...)
{
	va_list ap;

	if (err && !*err) {
		va_start(ap, fmt);
		*err = g_error_new_valist(QMP_ERROR, (gint)cls, fmt, ap);
		va_end(ap);
	}
	return ret;
}

/* A reply echoing msg's "id" (any JSON value, null included), if it has one. */
static json_object *qmp_reply_new(json_object *msg)
{
	json_object *r = json_object_new_object(), *id;

	if (json_object_is_type(msg, json_type_object) && json_object_object_get_ex(msg, "id", &id))
		json_object_object_add(r, "id", json_object_get(id));
	return r;
}

int qmp_reply_error(struct qmp_session *s, json_object *msg, enum qmp_error_class cls,
		    const char *fmt, ...)
{
	json_object *r = qmp_reply_new(msg), *e = json_object_new_object();
	g_autofree char *desc = NULL;
	va_list ap;

	va_start(ap, fmt);
	desc = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	json_object_object_add(e, "class", json_object_new_string(qmp_error_class_name(cls)));
	json_object_object_add(e, "desc", json_object_new_string(desc));
	json_object_object_add(r, "error", e);
	return qmp_session_write_obj(s, r);
}

const struct qmp_command *qmp_session_find(const struct qmp_session *s, const char *name)
{
	for (const struct qmp_command *c = qmp_builtin_commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	for (unsigned t = 0; s->tables && s->tables[t]; t++)
		for (const struct qmp_command *c = s->tables[t]; c->name; c++)
			if (!strcmp(c->name, name))
				return c;
	return NULL;
}

/* ---- arguments (QEMU's qobject input visitor messages) ---- */

static const char *const qmp_arg_type_names[] = {
	[QMP_ARG_STR] = "string",    [QMP_ARG_INT] = "integer",	  [QMP_ARG_BOOL] = "boolean",
	[QMP_ARG_NUMBER] = "number", [QMP_ARG_OBJECT] = "object", [QMP_ARG_ANY] = "any",
};

static bool qmp_arg_type_ok(enum qmp_arg_type t, json_object *v)
{
	switch (t) {
	case QMP_ARG_STR:
		return json_object_is_type(v, json_type_string);
	case QMP_ARG_INT:
		return json_object_is_type(v, json_type_int);
	case QMP_ARG_BOOL:
		return json_object_is_type(v, json_type_boolean);
	case QMP_ARG_NUMBER:
		return json_object_is_type(v, json_type_int) ||
		       json_object_is_type(v, json_type_double);
	case QMP_ARG_OBJECT:
		return json_object_is_type(v, json_type_object);
	case QMP_ARG_ANY:
		return true;
	}
	return false;
}

static const struct qmp_arg *qmp_arg_find(const struct qmp_command *cmd, const char *name)
{
	for (const struct qmp_arg *a = cmd->args; a && a->name; a++)
		if (!strcmp(a->name, name))
			return a;
	return NULL;
}

int qmp_args_check(const struct qmp_command *cmd, json_object *args, GError **err)
{
	for (const struct qmp_arg *a = cmd->args; a && a->name; a++) {
		json_object *v;

		if (!json_object_object_get_ex(args, a->name, &v)) {
			if (!a->optional)
				return qmp_error_set(err, -EINVAL, QMP_ERROR_GENERIC,
						     "Parameter '%s' is missing", a->name);
			continue;
		}
		if (!qmp_arg_type_ok(a->type, v))
			return qmp_error_set(err, -EINVAL, QMP_ERROR_GENERIC,
					     "Invalid parameter type for '%s', expected: %s",
					     a->name, qmp_arg_type_names[a->type]);
	}
	if (cmd->extra_args)
		return 0;
	json_object_object_foreach(args, key, val)
	{
		(void)val;
		if (!qmp_arg_find(cmd, key))
			return qmp_error_set(err, -EINVAL, QMP_ERROR_GENERIC,
					     "Parameter '%s' is unexpected", key);
	}
	return 0;
}

/* ---- the message ---- */

/*
 * Spec "Issuing Commands": members "execute", "arguments", "id"; anything else
 * (including "exec-oob", which needs the oob capability we do not offer) is refused.
 * *exec and *args are borrowed from msg.
 */
static int qmp_check_message(json_object *msg, const char **exec, json_object **args, GError **err)
{
	json_object *e = NULL;

	json_object_object_foreach(msg, key, val)
	{
		if (!strcmp(key, "execute")) {
			if (!json_object_is_type(val, json_type_string))
				return qmp_error_set(err, -EINVAL, QMP_ERROR_GENERIC,
						     "QMP input member 'execute' must be a string");
			e = val;
		} else if (!strcmp(key, "arguments")) {
			if (!json_object_is_type(val, json_type_object))
				return qmp_error_set(
					err, -EINVAL, QMP_ERROR_GENERIC,
					"QMP input member 'arguments' must be an object");
			*args = val;
		} else if (strcmp(key, "id")) {
			return qmp_error_set(err, -EINVAL, QMP_ERROR_GENERIC,
					     "QMP input member '%s' is unexpected", key);
		}
	}
	if (!e)
		return qmp_error_set(err, -EINVAL, QMP_ERROR_GENERIC,
				     "QMP input lacks member 'execute'");
	*exec = json_object_get_string(e);
	return 0;
}

static const struct qmp_command *qmp_lookup(struct qmp_session *s, const char *name, GError **err)
{
	const struct qmp_command *cmd;

	/* QEMU's monitor offers only qmp_capabilities until negotiation */
	if (!s->negotiated && strcmp(name, "qmp_capabilities")) {
		qmp_error_set(err, -ENOENT, QMP_ERROR_COMMAND_NOT_FOUND,
			      "Expecting capabilities negotiation with 'qmp_capabilities'");
		return NULL;
	}
	cmd = qmp_session_find(s, name);
	if (!cmd)
		qmp_error_set(err, -ENOENT, QMP_ERROR_COMMAND_NOT_FOUND,
			      "The command %s has not been found", name);
	return cmd;
}

static int qmp_run(struct qmp_session *s, const struct qmp_command *cmd, json_object *args,
		   json_object **ret, GError **err)
{
	json_object *empty = NULL;
	int r;

	if (!args)
		args = empty = json_object_new_object();
	r = qmp_args_check(cmd, args, err);
	if (r >= 0)
		r = cmd->fn(s->opaque, s, args, ret, err);
	json_object_put(empty);
	if (r < 0 && (!*err || (*err)->domain != QMP_ERROR)) {
		g_autofree char *desc = g_strdup(*err ? (*err)->message : g_strerror(-r));

		g_clear_error(err);
		qmp_error_set(err, r, QMP_ERROR_GENERIC, "%s", desc);
	}
	if (r < 0 && *ret) {
		json_object_put(*ret);
		*ret = NULL;
	}
	return r;
}

int qmp_dispatch(struct qmp_session *s, json_object *msg)
{
	g_autoptr(GError) err = NULL;
	const struct qmp_command *cmd = NULL;
	json_object *args = NULL, *ret = NULL, *reply;
	const char *exec = NULL;

	if (!json_object_is_type(msg, json_type_object))
		return qmp_reply_error(s, NULL, QMP_ERROR_GENERIC,
				       "QMP input must be a JSON object");
	if (qmp_check_message(msg, &exec, &args, &err) >= 0)
		cmd = qmp_lookup(s, exec, &err);
	if (cmd && qmp_run(s, cmd, args, &ret, &err) >= 0) {
		reply = qmp_reply_new(msg);
		json_object_object_add(reply, "return", ret ? ret : json_object_new_object());
		return qmp_session_write_obj(s, reply);
	}
	g_debug("qmp: %s: %s", exec ? exec : "(no command)", err->message);
	return qmp_reply_error(s, msg, err->code, "%s", err->message);
}
