// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfu_dma: what lets a remote device bypass the VMM.  Guest RAM goes to the remote with
 * one DMA_MAP per gmem region at connect (spec "VFIO_USER_DMA_MAP": the region's memfd
 * and offset, or no fd for a region without one or when the user chose dma=message),
 * and every later change of the map follows through a gmem listener: DMA_UNMAP
 * ("VFIO_USER_DMA_UNMAP") for a region leaving, DMA_MAP for one entering.  Each BAR's
 * doorbells come back at connect with DEVICE_GET_REGION_IO_FDS (spec
 * "VFIO_USER_DEVICE_GET_REGION_IO_FDS"): eventfds the VMM registers as KVM ioeventfds
 * (vmm/ioeventfd.c).  A region the remote accepted
 * without an fd is served to it afterwards with DMA_READ/DMA_WRITE, only inside such a
 * region: by vfu_call_dma() while a vCPU waits for a reply, and by a thread of its own
 * between calls (the remote's device runs on doorbells the VMM never sees).  The
 * remote is untrusted: every sub-region is checked against its BAR before the
 * function takes it, and a malformed or unexpected message ends the connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "memory/memory.h"
#include "proxy/vfu_client.h"

/*
 * Spec "VFIO_USER_DMA_READ": only inside a region exported without an fd, never wrapping.
 * With c->lock held.
 */
static const struct vfu_dma_range *vfu_dma_exported(const struct vfu_client *c, uint64_t addr,
						    uint64_t count)
{
	for (unsigned i = 0; i < c->nr_maps; i++) {
		const struct vfu_dma_range *e = &c->maps[i];

		if (e->nofd && e->hva && addr >= e->gpa && count <= e->size &&
		    addr - e->gpa <= e->size - count)
			return e;
	}
	return NULL;
}

/*
 * The copies go through our own record of the region, not the gmem's array: the map
 * may change on another thread, and a region leaves our record (under c->lock) before
 * the gmem unmaps it.
 */
static int vfu_dma_read(void *ctx, uint64_t addr, void *buf, uint64_t count)
{
	const struct vfu_dma_range *e = vfu_dma_exported(ctx, addr, count);

	if (!e)
		return -EFAULT;
	memcpy(buf, e->hva + (addr - e->gpa), count);
	return 0;
}

static int vfu_dma_write(void *ctx, uint64_t addr, const void *buf, uint64_t count)
{
	const struct vfu_dma_range *e = vfu_dma_exported(ctx, addr, count);

	if (!e)
		return -EFAULT;
	memcpy(e->hva + (addr - e->gpa), buf, count);
	return 0;
}

static int vfu_dma_map_one(struct vfu_client *c, const struct gmem_region *r)
{
	struct vfu_dma_map req = {
		.argsz = sizeof(req),
		.flags = VFU_DMA_MAP_READ | VFU_DMA_MAP_WRITE,
		.offset = r->fd >= 0 && !c->by_message ? r->fd_offset : 0,
		.address = r->gpa,
		.size = r->size,
	};
	struct vfu_dma_map none;
	struct vfu_msg reply;
	int ret;

	/* A region accepted without an fd may be read by the remote from now on. */
	ret = vfu_call_dma(c->sock, &c->next_id, vfu_client_dma(c), VFU_CMD_DMA_MAP, &req,
			   sizeof(req), &r->fd, r->fd >= 0 && !c->by_message ? 1 : 0, &reply);
	if (ret < 0)
		return ret;
	ret = vfu_dma_map_decode(&reply, true, &none);
	vfu_msg_clear(&reply);
	return ret;
}

/*
 * Spec "VFIO_USER_DMA_UNMAP": the reply is "the original DMA entry in the request", so
 * anything but our address and size echoed with flags 0 is a protocol error.
 */
static int vfu_dma_unmap_one(struct vfu_client *c, const struct vfu_dma_range *e)
{
	struct vfu_dma_unmap req = {
		.argsz = sizeof(req),
		.flags = 0,
		.address = e->gpa,
		.size = e->size,
	};
	struct vfu_dma_unmap got;
	struct vfu_msg reply;
	int ret;

	ret = vfu_call_dma(c->sock, &c->next_id, vfu_client_dma(c), VFU_CMD_DMA_UNMAP, &req,
			   sizeof(req), NULL, 0, &reply);
	if (ret < 0)
		return ret;
	ret = vfu_dma_unmap_decode(&reply, true, &got);
	vfu_msg_clear(&reply);
	if (ret == -EBADMSG || ret == -EOPNOTSUPP ||
	    (ret == 0 && (got.address != e->gpa || got.size != e->size)))
		ret = -EPROTO;
	return ret;
}

/* Region r entered the map: offer it to the remote.  < 0: the connection is unusable. */
static int vfu_dma_add(struct vfu_client *c, const struct gmem_region *r)
{
	bool nofd = r->fd < 0 || c->by_message;
	int ret;

	if (c->nr_maps == G_N_ELEMENTS(c->maps))
		return -ENOSPC; /* cannot happen: the gmem holds as many */
	ret = vfu_dma_map_one(c, r);
	if (ret == -EPROTO || ret == -ECONNRESET || ret == -EPIPE)
		return ret;
	/* dma=message asked for exactly this: a remote that refuses it fails. */
	if (ret < 0 && (!nofd || c->by_message))
		return ret;
	/* Without an fd the remote needs DMA_READ/WRITE, which it may refuse. */
	if (ret < 0) {
		g_warning("%s: the remote cannot reach guest RAM at 0x%" PRIx64 "+0x%" PRIx64
			  " (%s); DMA there will fail",
			  c->id, r->gpa, r->size, g_strerror(-ret));
		return 0;
	}
	c->maps[c->nr_maps++] = (struct vfu_dma_range){r->gpa, r->size, r->hva, nofd};
	c->nr_nofd += nofd;
	return 0;
}

/*
 * Region r is leaving the map: withdraw it from the remote if it has it.  It leaves our
 * record whatever the answer, so nothing serves it once the gmem unmaps it.
 */
static int vfu_dma_remove(struct vfu_client *c, const struct gmem_region *r)
{
	int ret = 0;

	for (unsigned i = 0; i < c->nr_maps; i++) {
		struct vfu_dma_range *e = &c->maps[i];

		if (e->gpa != r->gpa || e->size != r->size)
			continue;
		ret = vfu_dma_unmap_one(c, e);
		c->nr_nofd -= e->nofd;
		*e = c->maps[--c->nr_maps];
		break;
	}
	return ret;
}

/*
 * The gmem listener (memory.h): called on the thread that changes the map, first for
 * every region at connect (GMEM_LISTED, gmem_listen's replay: an error fails the
 * connection), then for every change, which a failure cannot undo: the remote no
 * longer matches the guest's memory, so it is disconnected and the function dies at
 * its next access.
 */
static int vfu_dma_changed(void *ctx, const struct gmem_region *r, enum gmem_change what)
{
	struct vfu_client *c = ctx;
	int ret = 0;

	pthread_mutex_lock(&c->lock);
	if (!c->broken)
		ret = what == GMEM_REMOVED ? vfu_dma_remove(c, r) : vfu_dma_add(c, r);
	if (ret < 0 && what != GMEM_LISTED) {
		g_warning("%s: the remote failed to follow a guest memory change (%s 0x%" PRIx64
			  "+0x%" PRIx64 ": %s); disconnecting it",
			  c->id, what == GMEM_ADDED ? "DMA_MAP" : "DMA_UNMAP", r->gpa, r->size,
			  g_strerror(-ret));
		shutdown(c->sock, SHUT_RDWR);
		c->broken = true;
	}
	if (ret == 0 && what == GMEM_ADDED && vfu_client_dma_start(c) < 0)
		g_warning("%s: cannot start the thread that serves DMA by message; the remote's "
			  "DMA between calls waits for the next call",
			  c->id);
	pthread_mutex_unlock(&c->lock);
	return ret;
}

int vfu_client_dma_map(struct vfu_client *c, const struct gmem *mem)
{
	int ret;

	c->mem = mem;
	c->dma = (struct vfu_dma_handler){vfu_dma_read, vfu_dma_write, c};
	if (!mem)
		return 0;
	ret = gmem_listen(mem, vfu_dma_changed, c);
	c->listening = ret == 0;
	return ret;
}

void vfu_client_dma_unlisten(struct vfu_client *c)
{
	if (c->listening)
		gmem_unlisten(c->mem, vfu_dma_changed, c);
	c->listening = false;
}

static bool vfu_dma_is_command(const struct vfu_msg *m)
{
	return (m->hdr.flags & VFU_F_TYPE_MASK) == VFU_F_TYPE_COMMAND &&
	       (m->hdr.cmd == VFU_CMD_DMA_READ || m->hdr.cmd == VFU_CMD_DMA_WRITE);
}

/*
 * With c->lock held: serve the DMA command waiting on the socket, if a vCPU's call has
 * not taken it already.  Anything else from the remote while no call is in flight is a
 * protocol violation.  0 to go on, -errno when the connection is over.
 */
static int vfu_dma_serve_idle(struct vfu_client *c)
{
	struct vfu_msg m;
	int ret = vfu_recv_nowait(c->sock, &m, VFU_MAX_MSG);

	if (ret == -EAGAIN)
		return 0;
	if (ret == -ECONNRESET)
		return ret; /* the vCPU threads' next call sees it too */
	if (ret == 0 && !vfu_dma_is_command(&m)) {
		g_debug("%s: %s from the remote while no call is in flight", c->id,
			vfu_cmd_name(m.hdr.cmd));
		ret = -EPROTO;
	}
	if (ret == 0)
		ret = vfu_dma_serve(c->sock, &c->dma, &m);
	vfu_msg_clear(&m);
	if (ret < 0) {
		g_warning("%s: bad DMA request from the remote (%s); disconnecting it", c->id,
			  g_strerror(-ret));
		shutdown(c->sock, SHUT_RDWR); /* the function dies at its next access */
	}
	return ret;
}

static void *vfu_dma_thread(void *opaque)
{
	struct vfu_client *c = opaque;
	struct pollfd p[2] = {{.fd = c->sock, .events = POLLIN},
			      {.fd = c->stop_fd, .events = POLLIN}};
	int ret = 0;

	while (ret == 0) {
		if (poll(p, 2, -1) < 0) {
			ret = errno == EINTR ? 0 : -errno;
			continue;
		}
		if (p[1].revents)
			break;
		pthread_mutex_lock(&c->lock);
		ret = vfu_dma_serve_idle(c);
		pthread_mutex_unlock(&c->lock);
	}
	return NULL;
}

int vfu_client_dma_start(struct vfu_client *c)
{
	sigset_t all, old;
	int ret;

	if (!c->nr_nofd || c->dma_thread_on)
		return 0;
	c->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (c->stop_fd < 0)
		return -errno;
	/* Signals (vCPU kicks) stay with the threads that expect them. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = -pthread_create(&c->dma_thread, NULL, vfu_dma_thread, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret < 0) {
		close(c->stop_fd);
		c->stop_fd = -1;
		return ret;
	}
	c->dma_thread_on = true;
	return 0;
}

void vfu_client_dma_stop(struct vfu_client *c)
{
	if (c->dma_thread_on) {
		eventfd_write(c->stop_fd, 1);
		pthread_join(c->dma_thread, NULL);
		c->dma_thread_on = false;
	}
	if (c->stop_fd >= 0)
		close(c->stop_fd);
	c->stop_fd = -1;
}

/* Take sub-region s (checked by the decoder) as a doorbell of BAR `bar`. */
static int vfu_io_fd_add(struct vfu_client *c, struct pcifn *fn, unsigned bar,
			 const struct vfu_ioeventfd *s, const struct vfu_msg *m)
{
	struct pcifn_ioeventfd ev = {
		.bar = bar,
		.off = s->offset,
		.size = (unsigned)s->size,
		.datamatch = s->flags & VFU_IO_FD_DATAMATCH,
		.data = s->datamatch,
	};
	int ret;

	/* Sub-regions may share an fd: the function owns one copy per doorbell. */
	ev.fd = fcntl(m->fds[s->fd_index], F_DUPFD_CLOEXEC, 3);
	if (ev.fd < 0)
		return -errno;
	ret = pcifn_add_ioeventfd(fn, &ev);
	if (ret == 0)
		return 0;
	close(ev.fd);
	if (ret == -ENOSPC) { /* the write still reaches the device, through the VMM */
		g_warning("%s: more than %u doorbells; BAR%u+0x%" PRIx64 " stays a plain write",
			  c->id, PCIFN_MAX_IOEVENTFDS, bar, ev.off);
		return 0;
	}
	if (ret == -EADDRINUSE) /* KVM would swallow the guest's MSI-X table writes */
		g_warning("%s: remote offered a doorbell at BAR%u+0x%" PRIx64 " size %u over the "
			  "MSI-X table or PBA, which the VMM virtualizes",
			  c->id, bar, ev.off, ev.size);
	else
		g_warning("%s: remote offered a doorbell at BAR%u+0x%" PRIx64 " size %u outside "
			  "the BAR",
			  c->id, bar, ev.off, ev.size);
	return -EPROTO;
}

static int vfu_io_fds_bar(struct vfu_client *c, struct pcifn *fn, unsigned bar)
{
	struct vfu_region_io_fds req =
					 {
						 .argsz = sizeof(req) +
							  VFU_IO_FDS_MAX *
								  sizeof(struct vfu_ioeventfd),
						 .index = bar,
					 },
				 got;
	struct vfu_ioeventfd subs[VFU_IO_FDS_MAX];
	struct vfu_msg reply;
	int ret;

	/* Under c->lock: a memory change on another thread may be talking to the remote. */
	ret = vfu_client_call(c, VFU_CMD_DEVICE_GET_REGION_IO_FDS, &req, sizeof(req), NULL, 0,
			      &reply);
	if (ret < 0)
		return ret;
	ret = vfu_region_io_fds_decode(&reply, true, &got, subs);
	if (ret == 0 && got.index != bar)
		ret = -EPROTO;
	for (unsigned i = 0; ret == 0 && i < got.count; i++)
		ret = vfu_io_fd_add(c, fn, bar, &subs[i], &reply);
	vfu_msg_clear(&reply);
	return ret == -EBADMSG ? -EPROTO : ret;
}

int vfu_client_io_fds(struct vfu_client *c, struct pcifn *fn,
		      const struct pcifn_bar bars[PCIFN_NUM_BARS])
{
	for (unsigned i = 0; i < PCIFN_NUM_BARS; i++) {
		int ret;

		if (!bars[i].size)
			continue;
		ret = vfu_io_fds_bar(c, fn, i);
		/* A server without the command (ENOSYS, EINVAL): no doorbells, all still works. */
		if (ret == -ENOSYS || ret == -EINVAL || ret == -ENOTSUP) {
			g_info("%s: remote offers no doorbells for BAR%u (%s)", c->id, i,
			       g_strerror(-ret));
			continue;
		}
		if (ret < 0)
			return ret;
	}
	return 0;
}
