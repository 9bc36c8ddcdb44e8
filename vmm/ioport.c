// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ioport: the table that routes a vCPU's port I/O to the platform device owning the
 * port range (serial, debugcon, debug-exit, PCI config).  An access must lie wholly
 * inside one range.  Built before the vCPUs start, read-only afterwards, so lookups
 * take no lock.  Ports no range claims (and PCI I/O BARs) are the caller's business.
 */
#include <errno.h>

#include "vmm/vmm.h"

int ioport_register(struct ioport_table *t, uint16_t base, uint16_t len,
		    const struct ioport_ops *ops, void *opaque)
{
	uint32_t end = (uint32_t)base + len;

	if (len == 0 || end > 0x10000)
		return -EINVAL;
	for (unsigned i = 0; i < t->nr; i++) {
		if (base < t->r[i].base + t->r[i].len && t->r[i].base < end)
			return -EEXIST;
	}
	if (t->nr == IOPORT_MAX_RANGES)
		return -ENOSPC;
	t->r[t->nr++] = (struct ioport_range){
		.base = base,
		.len = len,
		.ops = ops,
		.opaque = opaque,
	};
	return 0;
}

static const struct ioport_range *ioport_find(const struct ioport_table *t, uint16_t port,
					      unsigned size)
{
	uint32_t end = (uint32_t)port + size;

	for (unsigned i = 0; i < t->nr; i++) {
		const struct ioport_range *r = &t->r[i];

		if (port >= r->base && end <= (uint32_t)r->base + r->len)
			return r;
	}
	return NULL;
}

bool ioport_read(const struct ioport_table *t, uint16_t port, unsigned size, uint32_t *val)
{
	const struct ioport_range *r = ioport_find(t, port, size);

	if (!r)
		return false;
	*val = r->ops->read ? r->ops->read(r->opaque, port - r->base, size) : 0xffffffffu;
	return true;
}

bool ioport_write(const struct ioport_table *t, uint16_t port, unsigned size, uint32_t val)
{
	const struct ioport_range *r = ioport_find(t, port, size);

	if (!r)
		return false;
	if (r->ops->write)
		r->ops->write(r->opaque, port - r->base, size, val);
	return true;
}
