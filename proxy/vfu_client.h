/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internal to proxy/: the vfio-user client backend shared by vfu_client.c (the
 * access path) and vfu_handshake.c (connection setup).  Not a public header.
 */
#ifndef MPVMM_PROXY_VFU_CLIENT_H
#define MPVMM_PROXY_VFU_CLIENT_H

#include <pthread.h>

#include "memory/memory.h"
#include "protocol/protocol.h"
#include "proxy/proxy.h"

struct vfu_client {
	int sock;
	uint16_t next_id;
	char *id;
	uint32_t cfg_size;     /* size of the remote's config region */
	uint32_t peer_max_fds; /* the remote's max_msg_fds */
	struct vfu_device_info info;
	/*
	 * Guest RAM as the remote has it (vfu_dma.c): one entry per region it accepted with
	 * DMA_MAP, kept in step with the VMM's map by a gmem listener and changed only with
	 * lock held.  An entry without an fd is served to the remote with DMA_READ/DMA_WRITE
	 * (from its hva) while we wait for replies and by the DMA thread; dma.ctx is this
	 * client.
	 */
	const struct gmem *mem; /* the VMM's, outlives the client */
	struct vfu_dma_range {
		uint64_t gpa, size;
		uint8_t *hva;
		bool nofd; /* sent without an fd: reached by DMA_READ/DMA_WRITE */
	} maps[GMEM_MAX_REGIONS];
	unsigned nr_maps, nr_nofd;
	bool listening; /* vfu_dma_changed is registered with mem */
	bool broken;	/* the listener shut the socket: it sends nothing more */
	struct vfu_dma_handler dma;
	bool by_message; /* dma=message: no region goes with its fd */
	/*
	 * With regions served by message, the remote may send DMA_READ/DMA_WRITE while no
	 * call is in flight: a thread (vfu_dma.c) serves them.  lock makes it and the
	 * vCPU threads' calls (vfu_client_call) take turns on the socket.
	 */
	pthread_mutex_t lock;
	bool dma_thread_on;
	pthread_t dma_thread;
	int stop_fd; /* eventfd that ends the thread, -1 without one */
};

/* The handler vfu_call_dma() needs for this client: NULL unless nr_nofd > 0. */
static inline const struct vfu_dma_handler *vfu_client_dma(const struct vfu_client *c)
{
	return c->nr_nofd ? &c->dma : NULL;
}

extern const struct pcifn_backend_ops vfu_client_ops;
void vfu_client_destroy(void *be);
/*
 * vfu_dma.c: after the handshake, DMA_MAP every region of mem (NULL: none) and listen
 * to mem, so that every later change goes to the remote as DMA_UNMAP/DMA_MAP
 * (gmem_listen; vfu_client_destroy stops listening); then take each BAR's doorbells
 * from GET_REGION_IO_FDS into fn.  -EPROTO for a malformed or out-of-bounds reply,
 * other -errno from the round trips.
 */
int vfu_client_dma_map(struct vfu_client *c, const struct gmem *mem);
int vfu_client_io_fds(struct vfu_client *c, struct pcifn *fn,
		      const struct pcifn_bar bars[PCIFN_NUM_BARS]);

/*
 * Start (if some region went without an fd and it is not running yet, with c->lock
 * held or before the function is in use) / stop the thread that serves DMA commands
 * between calls (vfu_dma.c).  vfu_client_dma_unlisten: no more map changes reach c.
 */
void vfu_client_dma_unlisten(struct vfu_client *c);
int vfu_client_dma_start(struct vfu_client *c);
void vfu_client_dma_stop(struct vfu_client *c);

/*
 * vfu_call_dma() for this client once it is connected, with c->lock held around it: the
 * vCPU threads' accesses, resets and SET_IRQS.
 */
int vfu_client_call(struct vfu_client *c, uint16_t cmd, const void *req, size_t len, const int *fds,
		    unsigned nr_fds, struct vfu_msg *reply);

/* vfu_client_irq.c: the backend's set_irqs op (DEVICE_SET_IRQS). */
int vfu_client_set_irqs(void *be, unsigned index, bool unmask, unsigned start, unsigned count,
			const int *fds);

/* One REGION_READ/WRITE of count <= 8 bytes; data is little-endian. */
int vfu_client_access(struct vfu_client *c, uint32_t region, uint64_t off, uint32_t count,
		      bool write, void *data);

#endif
