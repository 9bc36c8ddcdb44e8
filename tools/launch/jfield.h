/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * jfield: checked JSON member access for the description parser (desc.c), private to
 * tools/launch.  @what names the document (its path), @path the object holding the
 * member ("" at the top, "processes[0]" ...).  All return 0 or -EINVAL with *err set,
 * except jfield_bool (true on success).
 */
#ifndef MPVMM_TOOLS_LAUNCH_JFIELD_H
#define MPVMM_TOOLS_LAUNCH_JFIELD_H

#include "tools/launch/launch.h"

int jfield_fail(GError **err, const char *what, const char *path, const char *fmt, ...)
	G_GNUC_PRINTF(4, 5);
/* Every key of @obj must be one of @known (NULL-terminated). */
int jfield_keys(json_object *obj, const char *what, const char *path, const char *const *known,
		GError **err);
/* The member @key of type @type; *val NULL when absent and not @required. */
int jfield_get(json_object *obj, const char *key, json_type type, bool required, const char *what,
	       const char *path, json_object **val, GError **err);
/* A non-empty string (g_free; NULL when absent); @comma: may it hold a comma? */
int jfield_str(json_object *obj, const char *key, bool required, bool comma, const char *what,
	       const char *path, char **out, GError **err);
/* An id: 1 to LAUNCH_ID_MAX of A-Z a-z 0-9 _ . - */
int jfield_id(json_object *obj, const char *key, bool required, const char *what, const char *path,
	      char **out, GError **err);
bool jfield_id_valid(const char *id);
/* An integer in [min, max]; *present says whether it was given. */
int jfield_int(json_object *obj, const char *key, int64_t min, int64_t max, const char *what,
	       const char *path, int64_t *out, bool *present, GError **err);
bool jfield_bool(json_object *obj, const char *key, const char *what, const char *path, bool dflt,
		 bool *out, GError **err);

#endif
