// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rproc_opt: the options of a class process, from the command line
 * (`-object remote-process,id=ID,class=C[,binary=PATH][,sandbox=on|off|log][,uid=N]
 * [,gid=N]`) or from object-add's arguments, checked strictly into struct rproc_opt.
 * binary= is the operator's choice on the command line only: object-add refuses it,
 * so a QMP client cannot make mpvmm run a program of its choosing.  Starts nothing
 * (rproc.c does).
 */
#include <errno.h>
#include <string.h>

#include "vmm/vmm.h"

#define RPROC_ID_MAX 64
#define RPROC_ID_MAX_S "64"

static const char *const rproc_classes[] = {"storage", "net", "misc", NULL};
static const char *const rproc_sandboxes[] = {"on", "off", "log", NULL};
/* object-add's properties (qom-type aside): all but binary (rproc_json_key). */
static const char *const rproc_keys[] = {"id", "class", "sandbox", "uid", "gid", NULL};

static int rproc_opt_error(GError **err, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static int rproc_opt_error(GError **err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	g_propagate_error(err, g_error_new_valist(VMM_ERROR, EINVAL, fmt, ap));
	va_end(ap);
	return -EINVAL;
}

static bool rproc_id_valid(const char *id)
{
	size_t len = strlen(id);

	if (len == 0 || len > RPROC_ID_MAX || !g_ascii_isalpha(id[0]))
		return false;
	for (size_t i = 1; i < len; i++) {
		if (!g_ascii_isalnum(id[i]) && !strchr("-._", id[i]))
			return false;
	}
	return true;
}

/*
 * uid= / gid=: 1 .. 2^32-2, as the class binaries take them (remote/sandbox.c): 0 is
 * root, which a class process never switches to, and (uid_t)-1 means "unchanged".
 */
static int rproc_id_number(const char *what, const char *key, const char *val, int64_t *out,
			   GError **err)
{
	guint64 n;

	if (!g_ascii_string_to_unsigned(val, 10, 1, G_MAXUINT32 - 1, &n, NULL))
		return rproc_opt_error(err,
				       "%s: %s=%s is not a number from 1 to %u (an unprivileged "
				       "id: a class process never runs as root)",
				       what, key, val, G_MAXUINT32 - 1);
	*out = (int64_t)n;
	return 0;
}

/* One property, as a string (object-add's integers were printed already). */
static int rproc_opt_set(const char *what, struct rproc_opt *o, const char *key, const char *val,
			 GError **err)
{
	if (!strcmp(key, "id")) {
		if (!rproc_id_valid(val))
			return rproc_opt_error(err,
					       "%s: invalid id '%s'; an id starts with a letter "
					       "and has at most " RPROC_ID_MAX_S
					       " letters, digits, "
					       "'-', '.' or '_'",
					       what, val);
		o->id = g_strdup(val);
	} else if (!strcmp(key, "class")) {
		if (!g_strv_contains(rproc_classes, val))
			return rproc_opt_error(err,
					       "%s: unknown class '%s'; use class=storage, "
					       "class=net or class=misc",
					       what, val);
		o->cls = g_strdup(val);
	} else if (!strcmp(key, "binary")) {
		if (!*val)
			return rproc_opt_error(err,
					       "%s: empty binary=; give the class binary's path "
					       "or leave binary= out",
					       what);
		o->binary = g_strdup(val);
	} else if (!strcmp(key, "sandbox")) {
		if (!g_strv_contains(rproc_sandboxes, val))
			return rproc_opt_error(err, "%s: sandbox=%s; use sandbox=on, off or log",
					       what, val);
		o->sandbox = g_strdup(val);
	} else if (!strcmp(key, "uid") || !strcmp(key, "gid")) {
		return rproc_id_number(what, key, val, key[0] == 'u' ? &o->uid : &o->gid, err);
	} else {
		return rproc_opt_error(err,
				       "%s: unknown property '%s'; remote-process takes id, "
				       "class, binary, sandbox, uid and gid",
				       what, key);
	}
	return 0;
}

static int rproc_opt_finish(const char *what, struct rproc_opt *o, GError **err)
{
	if (!o->id)
		return rproc_opt_error(err,
				       "%s: missing id; add id=NAME, which -device "
				       "pci-proxy-dev,rid=NAME refers to",
				       what);
	if (!o->cls)
		return rproc_opt_error(err,
				       "%s: missing class; add class=storage, class=net or "
				       "class=misc",
				       what);
	return 0;
}

static void rproc_opt_init(struct rproc_opt *o)
{
	memset(o, 0, sizeof(*o));
	o->uid = o->gid = -1;
}

int rproc_opt_parse(const char *arg, struct rproc_opt *o, GError **err)
{
	g_auto(GStrv) items = g_strsplit(arg, ",", -1);
	g_autofree char *what = g_strdup_printf("-object %s", arg);
	int ret = 0;

	rproc_opt_init(o);
	if (!items[0] || strcmp(items[0], RPROC_TYPE) != 0)
		return rproc_opt_error(err,
				       "-object %s: unknown object type '%s'; mpvmm knows "
				       "-object " RPROC_TYPE ",id=ID,class=storage|net|misc",
				       arg, items[0] ? items[0] : "");
	for (unsigned i = 1; ret == 0 && items[i]; i++) {
		char *eq = strchr(items[i], '=');

		if (!eq || eq == items[i]) {
			ret = rproc_opt_error(err, "%s: '%s' is not of the form name=value", what,
					      items[i]);
			break;
		}
		*eq = '\0';
		for (unsigned j = 1; ret == 0 && j < i; j++) {
			if (!strncmp(items[j], items[i], (size_t)(eq - items[i]) + 1))
				ret = rproc_opt_error(err, "%s: '%s' given twice", what, items[i]);
		}
		if (ret == 0)
			ret = rproc_opt_set(what, o, items[i], eq + 1, err);
	}
	if (ret == 0)
		ret = rproc_opt_finish(what, o, err);
	if (ret < 0)
		rproc_opt_clear(o);
	return ret;
}

/* A value of object-add: a string, or an integer for uid and gid. */
static int rproc_json_value(const char *key, json_object *v, char **out, GError **err)
{
	bool num = !strcmp(key, "uid") || !strcmp(key, "gid");

	if (json_object_is_type(v, json_type_string))
		*out = g_strdup(json_object_get_string(v));
	else if (num && json_object_is_type(v, json_type_int))
		*out = g_strdup_printf("%" PRId64, json_object_get_int64(v));
	else
		return rproc_opt_error(err, "Invalid parameter type for '%s', expected: %s", key,
				       num ? "integer" : "string");
	return 0;
}

/* A key of object-add: one of rproc_keys; binary= is the command line's alone. */
static int rproc_json_key(const char *key, GError **err)
{
	if (!strcmp(key, "binary"))
		return rproc_opt_error(err,
				       "Parameter 'binary' is not allowed in object-add: a QMP "
				       "client may not choose the program mpvmm runs; leave it "
				       "out (mpvmm runs mpvmm-CLASS from next to itself or "
				       "$PATH) or give binary=PATH on mpvmm's command line "
				       "(-object remote-process)");
	if (!g_strv_contains(rproc_keys, key))
		return rproc_opt_error(err,
				       "Parameter '%s' is unexpected; remote-process takes "
				       "id, class, sandbox, uid and gid",
				       key);
	return 0;
}

int rproc_opt_from_json(json_object *args, struct rproc_opt *o, GError **err)
{
	int ret = 0;

	rproc_opt_init(o);
	json_object_object_foreach(args, key, v)
	{
		g_autofree char *val = NULL;

		if (!strcmp(key, "qom-type"))
			continue;
		ret = rproc_json_key(key, err);
		if (ret == 0)
			ret = rproc_json_value(key, v, &val, err);
		if (ret == 0)
			ret = rproc_opt_set("object-add", o, key, val, err);
		if (ret < 0)
			break;
	}
	if (ret == 0)
		ret = rproc_opt_finish("object-add", o, err);
	if (ret < 0)
		rproc_opt_clear(o);
	return ret;
}

void rproc_opt_clear(struct rproc_opt *o)
{
	g_free(o->id);
	g_free(o->cls);
	g_free(o->binary);
	g_free(o->sandbox);
	rproc_opt_init(o);
}
