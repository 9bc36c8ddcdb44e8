/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internal to proxy/: the vfio-user client backend shared by vfu_client.c (the
 * access path) and vfu_handshake.c (connection setup).  Not a public header.
 */
#ifndef MPVMM_PROXY_VFU_CLIENT_H
#define MPVMM_PROXY_VFU_CLIENT_H

#include "protocol/protocol.h"
#include "proxy/proxy.h"

struct vfu_client {
	int sock;
	uint16_t next_id;
	char *id;
	uint32_t cfg_size; /* size of the remote's config region */
	uint32_t peer_max_fds; /* the remote's max_msg_fds */
	struct vfu_device_info info;
	/*
	 * Guest RAM the remote took without an fd (DMA_MAP accepted), served to it with
	 * DMA_READ/DMA_WRITE while we wait for replies (vfu_dma.c); dma.ctx is this client.
	 */
	const struct gmem *mem; /* the VMM's, outlives the client */
	uint64_t nofd_gpa[8], nofd_size[8];
	unsigned nr_nofd;
	struct vfu_dma_handler dma;
};

/* The handler vfu_call_dma() needs for this client: NULL unless nr_nofd > 0. */
static inline const struct vfu_dma_handler *vfu_client_dma(const struct vfu_client *c)
{
	return c->nr_nofd ? &c->dma : NULL;
}

extern const struct pcifn_backend_ops vfu_client_ops;
void vfu_client_destroy(void *be);
/*
 * vfu_dma.c: after the handshake, DMA_MAP every region of mem (NULL: none), then take
 * each BAR's doorbells from GET_REGION_IO_FDS into fn.  -EPROTO for a malformed or
 * out-of-bounds reply, other -errno from the round trips.
 */
struct gmem;
int vfu_client_dma_map(struct vfu_client *c, const struct gmem *mem);
int vfu_client_io_fds(struct vfu_client *c, struct pcifn *fn,
		      const struct pcifn_bar bars[PCIFN_NUM_BARS]);

/* vfu_client_irq.c: the backend's set_irqs op (DEVICE_SET_IRQS). */
int vfu_client_set_irqs(void *be, unsigned index, bool unmask, unsigned start, unsigned count,
			const int *fds);

/* One REGION_READ/WRITE of count <= 8 bytes; data is little-endian. */
int vfu_client_access(struct vfu_client *c, uint32_t region, uint64_t off, uint32_t count,
		      bool write, void *data);

#endif
