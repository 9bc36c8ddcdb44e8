// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * storage: the device table of mpvmm-storage, the process class for block devices.
 * Only this class opens disk images (its -blockdev options, devices/blockdev.c); the
 * list of devices it can host is here and nowhere else.
 */
#include "devices/devices.h"

const struct dev_ops *const dev_table[] = {
	&virtio_blk_ops,
	NULL,
};
