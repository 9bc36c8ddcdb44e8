// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * jfield: checked access to the members of a JSON object for desc.c.  Each helper
 * checks presence, type and (for strings) NULs, commas and emptiness, and on failure
 * sets a GError naming the member's path, the reason and the fix.  It knows nothing
 * of the description's schema.
 */
#include <errno.h>
#include <string.h>

#include "tools/launch/jfield.h"

int jfield_fail(GError **err, const char *what, const char *path, const char *fmt, ...)
{
	g_autofree char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (*path)
		g_set_error(err, LAUNCH_ERROR, 0, "%s: %s: %s", what, path, msg);
	else
		g_set_error(err, LAUNCH_ERROR, 0, "%s: %s", what, msg);
	return -EINVAL;
}

/* Every key of @obj must be in @known. */
int jfield_keys(json_object *obj, const char *what, const char *path, const char *const *known,
		GError **err)
{
	json_object_object_foreach(obj, key, val)
	{
		bool ok = false;

		(void)val;
		for (unsigned i = 0; known[i] && !ok; i++)
			ok = !strcmp(key, known[i]);
		if (!ok) {
			g_autofree char *list = g_strjoinv(", ", (char **)known);

			return jfield_fail(err, what, path,
					   "unknown member \"%s\"; known members: %s", key, list);
		}
	}
	return 0;
}

/* The member @key of @obj, of type @type; *val NULL when absent and not @required. */
int jfield_get(json_object *obj, const char *key, json_type type, bool required, const char *what,
	       const char *path, json_object **val, GError **err)
{
	g_autofree char *p = *path ? g_strdup_printf("%s.%s", path, key) : g_strdup(key);

	*val = NULL;
	if (json_object_object_get_ex(obj, key, val) && !*val)
		return jfield_fail(err, what, p, "is null, expected %s", json_type_to_name(type));
	if (!*val) {
		if (required)
			return jfield_fail(err, what, p,
					   "missing; it is required (docs/launch.md)");
		return 0;
	}
	if (!json_object_is_type(*val, type))
		return jfield_fail(err, what, p, "is %s, expected %s",
				   json_type_to_name(json_object_get_type(*val)),
				   json_type_to_name(type));
	if (type == json_type_string &&
	    strlen(json_object_get_string(*val)) != (size_t)json_object_get_string_len(*val))
		return jfield_fail(err, what, p, "contains a NUL character");
	return 0;
}

/* A string member; *out NULL when absent.  @comma: may it hold a comma? */
int jfield_str(json_object *obj, const char *key, bool required, bool comma, const char *what,
	       const char *path, char **out, GError **err)
{
	json_object *v;
	int ret = jfield_get(obj, key, json_type_string, required, what, path, &v, err);
	const char *s = v ? json_object_get_string(v) : NULL;

	*out = NULL;
	if (ret < 0 || !v)
		return ret;
	if (!*s)
		return jfield_fail(err, what, path, "\"%s\" is empty", key);
	if (!comma && strchr(s, ','))
		return jfield_fail(err, what, path,
				   "\"%s\" (\"%s\") contains a comma, which the "
				   "command lines use as a separator; rename it",
				   key, s);
	*out = g_strdup(s);
	return 0;
}

bool jfield_id_valid(const char *id)
{
	size_t len = strlen(id);

	return len > 0 && len <= LAUNCH_ID_MAX &&
	       strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") ==
		       len;
}

int jfield_id(json_object *obj, const char *key, bool required, const char *what, const char *path,
	      char **out, GError **err)
{
	int ret = jfield_str(obj, key, required, false, what, path, out, err);

	if (ret < 0 || !*out || jfield_id_valid(*out))
		return ret;
	return jfield_fail(err, what, path,
			   "\"%s\" (\"%s\") is not a valid id: use 1 to %d of "
			   "A-Z a-z 0-9 _ . -",
			   key, *out, LAUNCH_ID_MAX);
}

int jfield_int(json_object *obj, const char *key, int64_t min, int64_t max, const char *what,
	       const char *path, int64_t *out, bool *present, GError **err)
{
	json_object *v;
	int ret = jfield_get(obj, key, json_type_int, false, what, path, &v, err);

	*present = v != NULL;
	if (ret < 0 || !v)
		return ret;
	errno = 0;
	*out = json_object_get_int64(v);
	if (errno || *out < min || *out > max)
		return jfield_fail(err, what, path,
				   "\"%s\" is %s, expected %" G_GINT64_FORMAT " to "
				   "%" G_GINT64_FORMAT,
				   key, json_object_to_json_string(v), min, max);
	return 0;
}

bool jfield_bool(json_object *obj, const char *key, const char *what, const char *path, bool dflt,
		 bool *out, GError **err)
{
	json_object *v;

	*out = dflt;
	if (jfield_get(obj, key, json_type_boolean, false, what, path, &v, err) < 0)
		return false;
	if (v)
		*out = json_object_get_boolean(v);
	return true;
}
