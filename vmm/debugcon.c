// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * debugcon: the Bochs/QEMU debug console, one port (0xe9) whose written bytes are
 * streamed to an output fd as they come.  Reading the port returns 0xe9, which is
 * how guests detect it.  No input, no state beyond the fd.
 */
#include "vmm/vmm.h"

#define DEBUGCON_READBACK 0xe9

static uint32_t debugcon_read(void *opaque, uint16_t off, unsigned size)
{
	return DEBUGCON_READBACK;
}

/* The range is one port wide, so every write is one byte. */
static void debugcon_write(void *opaque, uint16_t off, unsigned size, uint32_t val)
{
	const struct debugcon *dc = opaque;
	uint8_t byte = (uint8_t)val;

	chardev_write(dc->fd, &byte, 1);
}

static const struct ioport_ops debugcon_ops = {
	.read = debugcon_read,
	.write = debugcon_write,
};

int debugcon_create(struct ioport_table *io, uint16_t port, struct debugcon *dc)
{
	return ioport_register(io, port, 1, &debugcon_ops, dc);
}
