// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * misc: the device table of mpvmm-misc, the process class for small devices that need
 * no storage or network access.  The list of devices this binary can host is here and
 * nowhere else; it links no other class's devices.
 */
#include "devices/devices.h"

const struct dev_ops *const dev_table[] = {
	&pci_testdev_ops,
	&virtio_rng_ops,
	NULL,
};
