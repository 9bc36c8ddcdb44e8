// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dmamap: guest memory in a device process, as the VMM offers it with vfio-user
 * DMA_MAP and withdraws it with DMA_UNMAP (spec "VFIO_USER_DMA_MAP",
 * "VFIO_USER_DMA_UNMAP").  Each mappable region is mmapped into the connection's gmem
 * (memory/), which its device reaches through dev->env.mem and gmem_translate.  The
 * message was decoded by vfu_server.c; this file judges it against what is mapped.
 * Not implemented: regions without an fd, which would need DMA_READ/DMA_WRITE from
 * this side (answered ENOTSUP), and the dirty-bitmap and unmap-all flags.
 */
#include <errno.h>
#include <inttypes.h>

#include "remote/remote.h"

static int dmamap_by_message(struct gmem *mem, struct dma_msg *dm, const char *id,
			     const struct vfu_dma_map *d)
{
	bool writable = d->flags & VFU_DMA_MAP_WRITE;
	int ret = gmem_add_access_region(mem, d->address, d->size, writable, dma_msg_access, dm);

	g_debug("%s: DMA_MAP 0x%" PRIx64 "+0x%" PRIx64 " %s without an fd: %s", id, d->address,
		d->size, writable ? "rw" : "ro",
		ret < 0 ? g_strerror(-ret) : "reached by DMA_READ/DMA_WRITE");
	return ret;
}

int dmamap_map(struct gmem *mem, struct dma_msg *dm, const char *id, struct vfu_msg *m,
	       const struct vfu_dma_map *d)
{
	int ret;

	if (m->nr_fds == 0)
		return dmamap_by_message(mem, dm, id, d);
	ret = gmem_map_fd(mem, d->address, d->size, m->fds[0], d->offset,
			  d->flags & VFU_DMA_MAP_WRITE);
	if (ret < 0) {
		/* -EEXIST: "A command to map over an existing region must be failed". */
		g_debug("%s: DMA_MAP of 0x%" PRIx64 "+0x%" PRIx64 " refused: %s", id, d->address,
			d->size, g_strerror(-ret));
		return ret;
	}
	m->fds[0] = -1; /* the gmem owns it now */
	g_debug("%s: DMA_MAP 0x%" PRIx64 "+0x%" PRIx64 " %s", id, d->address, d->size,
		d->flags & VFU_DMA_MAP_WRITE ? "rw" : "ro");
	return 0;
}

int dmamap_unmap(struct gmem *mem, const char *id, const struct vfu_dma_unmap *d)
{
	/* "The address and size of the DMA region being unmapped must match exactly." */
	int ret = gmem_remove_region(mem, d->address, d->size);

	g_debug("%s: DMA_UNMAP 0x%" PRIx64 "+0x%" PRIx64 ": %s", id, d->address, d->size,
		ret < 0 ? "no such mapping" : "done");
	return ret;
}
