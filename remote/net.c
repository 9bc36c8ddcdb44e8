// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * net: the class of mpvmm-net, the process for network devices.  It hosts no device
 * yet; it builds, confines itself with every sandbox layer and serves a control
 * channel like the other classes.  Its seccomp allowlist is the common one every
 * class gets (seccomp.c), with nothing added: no list of its own until it has
 * devices.  Its devices and backends (tap fds, opened before the sandbox) will be
 * listed here and nowhere else.
 */
#include "remote/remote.h"

const struct dev_ops *const dev_table[] = {
	NULL,
};

const struct remote_class remote_class = {
	.name = "net",
	.usage = "",
};
