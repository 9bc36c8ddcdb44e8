// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * class_ids: the default uid and gid of a device-class process (class_ids.h).  It only
 * looks them up; switching to them is the caller's (sandbox.c, mpvmm-launch).
 */
#include <grp.h>
#include <pwd.h>
#include <string.h>

#include <glib.h>

#include "remote/class_ids.h"

static const char *const class_names[] = {"misc", "storage", "net"};

unsigned class_default_uid(const char *class)
{
	g_autofree char *user = g_strdup_printf("mpvmm-%s", class);
	struct passwd *pw = getpwnam(user);
	unsigned i;

	if (pw)
		return pw->pw_uid;
	for (i = 0; i < G_N_ELEMENTS(class_names); i++)
		if (!strcmp(class, class_names[i]))
			break;
	return CLASS_ID_BASE + i;
}

unsigned class_default_gid(const char *class)
{
	g_autofree char *name = g_strdup_printf("mpvmm-%s", class);
	struct group *gr = getgrnam(name);

	return gr ? gr->gr_gid : class_default_uid(class);
}
