// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * storage: the class of mpvmm-storage, the process for block devices.  Only this
 * class opens disk images (its -blockdev options, devices/blockdev.c), before the
 * sandbox; the list of devices it can host is here and nowhere else.
 */
#include <errno.h>
#include <string.h>

#include "remote/remote.h"

const struct dev_ops *const dev_table[] = {
	&virtio_blk_ops,
	NULL,
};

struct class_backends {
	struct blockdevs *bds;
};

static struct class_backends *storage_backends_new(void)
{
	struct class_backends *b = g_new0(struct class_backends, 1);

	b->bds = blockdevs_new();
	return b;
}

/* Closes the nodes' fds: each virtio-blk holds its own duplicate by now. */
static void storage_backends_free(struct class_backends *b)
{
	blockdevs_free(b->bds);
	g_free(b);
}

static int storage_parse(struct class_backends *b, const char *opt, const char *arg, GError **err)
{
	if (strcmp(opt, "-blockdev") != 0)
		return 0;
	if (!arg) {
		g_set_error(err, REMOTE_ERROR, 0, "-blockdev needs an argument (see --help)");
		return -EINVAL;
	}
	return blockdev_parse(b->bds, arg, err) < 0 ? -EINVAL : 1;
}

static int storage_resolve(struct class_backends *b, struct remote_devopt *opts, unsigned nr,
			   GError **err)
{
	int ret = blockdevs_open(b->bds, err);

	for (unsigned i = 0; ret >= 0 && i < nr; i++)
		ret = blockdev_resolve(b->bds, opts[i].type, opts[i].id, opts[i].props, err);
	return ret < 0 ? ret : blockdevs_check_used(b->bds, err);
}

const struct remote_class remote_class = {
	.name = "storage",
	.usage = "       -blockdev driver=file,node-name=NODE,filename=PATH[,read-only=on]\n"
		 "                    a raw image for a -device virtio-blk,...,drive=NODE\n",
	.backends_new = storage_backends_new,
	.backends_free = storage_backends_free,
	.parse = storage_parse,
	.resolve = storage_resolve,
};
