// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * debugexit: QEMU's isa-debug-exit device (iobase 0xf4, iosize 4).  A guest that
 * writes v ends the VM with exit status (v << 1) | 1, so a test guest can report its
 * result through the VMM's exit status; the status is odd, so it never looks like
 * a VMM error.  Reads return all-ones.  The stop itself is the caller's callback.
 */
#include "vmm/vmm.h"

#define DEBUGEXIT_SIZE 4

static void debugexit_write(void *opaque, uint16_t off, unsigned size, uint32_t val)
{
	const struct debugexit *de = opaque;
	uint32_t v = size == 4 ? val : val & ((1u << (8 * size)) - 1);

	/* A process exit status keeps 8 bits, as with QEMU's exit((v << 1) | 1). */
	de->exit(de->ctx, (int)(((v << 1) | 1) & 0xff));
}

static const struct ioport_ops debugexit_ops = {
	.write = debugexit_write,
};

int debugexit_create(struct ioport_table *io, uint16_t port, struct debugexit *de)
{
	return ioport_register(io, port, DEBUGEXIT_SIZE, &debugexit_ops, de);
}
