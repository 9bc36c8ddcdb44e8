// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * misc: the class of mpvmm-misc, the process for small devices that need no storage
 * or network access.  The list of devices this binary can host is here and nowhere
 * else; it links no other class's devices.  Its only backend is /dev/urandom for
 * virtio-rng (entropy.c), opened before the sandbox.
 */
#include <unistd.h>

#include "remote/remote.h"

const struct dev_ops *const dev_table[] = {
	&pci_testdev_ops,
	&virtio_rng_ops,
	NULL,
};

struct class_backends {
	int entropy_fd; /* /dev/urandom once a virtio-rng needs it, else -1 */
};

static struct class_backends *misc_backends_new(void)
{
	struct class_backends *b = g_new0(struct class_backends, 1);

	b->entropy_fd = -1;
	return b;
}

/* Each virtio-rng holds its own duplicate by now. */
static void misc_backends_free(struct class_backends *b)
{
	if (b->entropy_fd >= 0)
		close(b->entropy_fd);
	g_free(b);
}

static int misc_resolve(struct class_backends *b, struct remote_devopt *opts, unsigned nr,
			GError **err)
{
	int ret = 0;

	for (unsigned i = 0; ret >= 0 && i < nr; i++)
		ret = entropy_resolve(&opts[i], &b->entropy_fd, err);
	return ret;
}

const struct remote_class remote_class = {
	.name = "misc",
	.usage = "",
	.backends_new = misc_backends_new,
	.backends_free = misc_backends_free,
	.resolve = misc_resolve,
};
