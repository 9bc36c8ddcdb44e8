// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * entropy: the host entropy source of virtio-rng devices.  The process opens
 * /dev/urandom once, before any sandbox exists, and gives its number to each
 * virtio-rng as the fd property (the device keeps its own duplicate).  It does not
 * read entropy itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "remote/remote.h"

#define ENTROPY_PATH "/dev/urandom"

int entropy_resolve(struct remote_devopt *o, int *fd, GError **err)
{
	g_autofree char *num = NULL;

	if (strcmp(o->type, "virtio-rng") != 0)
		return 0;
	if (json_object_object_get_ex(o->props, "fd", NULL)) {
		g_set_error(err, REMOTE_ERROR, 0,
			    "%s '%s': fd= is set by the process, which "
			    "opens %s itself",
			    o->type, o->id, ENTROPY_PATH);
		return -EINVAL;
	}
	if (*fd < 0) {
		*fd = open(ENTROPY_PATH, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (*fd < 0) {
			int e = errno;

			g_set_error(err, REMOTE_ERROR, 0, "%s '%s': cannot open %s: %s", o->type,
				    o->id, ENTROPY_PATH, g_strerror(e));
			return -e;
		}
	}
	num = g_strdup_printf("%d", *fd);
	json_object_object_add(o->props, "fd", json_object_new_string(num));
	return 0;
}
