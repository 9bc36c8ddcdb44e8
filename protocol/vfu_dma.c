// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfu_dma: validation of the messages that share guest memory and doorbells: DMA_MAP,
 * DMA_UNMAP, the server-to-client DMA_READ/DMA_WRITE (and the client's serving of one),
 * and DEVICE_GET_REGION_IO_FDS, in both directions.  Like vfu_decode.c it checks header, payload length, fds and every
 * field the spec constrains, then copies the message out; whether an address is mapped
 * or an offset lies inside a region is the caller's business.  It maps nothing.
 */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "protocol/protocol.h"
#include "protocol/vfu_priv.h"

#define VFU_DMA_MAP_FLAGS (VFU_DMA_MAP_READ | VFU_DMA_MAP_WRITE)
#define VFU_DMA_UNMAP_FLAGS (VFU_DMA_UNMAP_GET_DIRTY_BITMAP | VFU_DMA_UNMAP_ALL)
#define VFU_DMA_ERRNO_MAX 4095u /* as the kernel's MAX_ERRNO */

static bool vfu_page_aligned(uint64_t v)
{
	return v % VFU_DMA_PAGE == 0;
}

/* size > 0, page multiples, base + size does not wrap. */
static bool vfu_dma_range_ok(uint64_t base, uint64_t size)
{
	uint64_t end;

	return size && vfu_page_aligned(base) && vfu_page_aligned(size) &&
	       !__builtin_add_overflow(base, size, &end);
}

/* Spec "VFIO_USER_DMA_MAP": fd + offset when mappable, neither when not. */
static int vfu_dma_map_check(const struct vfu_msg *m, const struct vfu_dma_map *d)
{
	uint64_t end;

	if (d->argsz != sizeof(*d))
		return vfu_bad(m, "argsz is not the size of the structure");
	if (d->flags & ~VFU_DMA_MAP_FLAGS)
		return vfu_bad(m, "unknown DMA_MAP flags");
	if (!(d->flags & VFU_DMA_MAP_READ))
		return vfu_bad(m, "region not readable");
	if (!vfu_dma_range_ok(d->address, d->size))
		return vfu_bad(m, "address or size 0, unaligned, or wrapping");
	if (!vfu_page_aligned(d->offset) || __builtin_add_overflow(d->offset, d->size, &end))
		return vfu_bad(m, "file offset unaligned or offset + size wraps");
	if (m->nr_fds == 0 && d->offset)
		return vfu_bad(m, "file offset without a file descriptor");
	return 0;
}

int vfu_dma_map_decode(const struct vfu_msg *m, bool reply, struct vfu_dma_map *out)
{
	struct vfu_dma_map d;
	int ret;

	/* "There is no payload in the reply message." */
	if (reply)
		return vfu_expect(m, VFU_CMD_DMA_MAP, true, 0, 0);
	ret = vfu_expect(m, VFU_CMD_DMA_MAP, false, sizeof(d), m->nr_fds > 1 ? 1 : m->nr_fds);
	if (ret < 0)
		return ret;
	memcpy(&d, m->payload, sizeof(d));
	ret = vfu_dma_map_check(m, &d);
	if (ret < 0)
		return ret;
	*out = d;
	return 0;
}

int vfu_dma_unmap_decode(const struct vfu_msg *m, bool reply, struct vfu_dma_unmap *out)
{
	struct vfu_dma_unmap d;
	int ret;

	ret = vfu_expect(m, VFU_CMD_DMA_UNMAP, reply, sizeof(d), 0);
	if (ret < 0)
		return ret;
	memcpy(&d, m->payload, sizeof(d));
	if (d.argsz < sizeof(d))
		return vfu_bad(m, "argsz smaller than the reply");
	if (d.flags & ~VFU_DMA_UNMAP_FLAGS)
		return vfu_bad(m, "unknown DMA_UNMAP flags");
	if (d.flags) {
		g_debug("msg %u DMA_UNMAP: dirty bitmap / unmap-all not supported", m->hdr.msg_id);
		return -EOPNOTSUPP;
	}
	if (!vfu_dma_range_ok(d.address, d.size))
		return vfu_bad(m, "address or size 0, unaligned, or wrapping");
	*out = d;
	return 0;
}

int vfu_dma_access_decode(const struct vfu_msg *m, bool reply, bool write,
			  struct vfu_dma_access *out, const uint8_t **data)
{
	uint16_t cmd = write ? VFU_CMD_DMA_WRITE : VFU_CMD_DMA_READ;
	bool has_data = write != reply;
	struct vfu_dma_access a;
	uint64_t end;
	int ret;

	ret = vfu_expect_hdr(m, cmd, reply);
	if (ret < 0)
		return ret;
	if (m->len < sizeof(a))
		return vfu_bad(m, "payload shorter than address, count");
	memcpy(&a, m->payload, sizeof(a));
	/* Spec "Read and Write Operations": count <= the receiver's max_data_xfer_size. */
	if (a.count == 0 || a.count > VFU_MAX_DATA_XFER)
		return vfu_bad(m, "count is 0 or above max_data_xfer_size");
	ret = vfu_expect_size(m, sizeof(a) + (has_data ? a.count : 0), 0);
	if (ret < 0)
		return ret;
	if (__builtin_add_overflow(a.address, a.count, &end))
		return vfu_bad(m, "address + count wraps");
	*out = a;
	*data = has_data ? m->payload + sizeof(a) : NULL;
	return 0;
}

/* Spec "VFIO_USER_DMA_READ" / "VFIO_USER_DMA_WRITE": one command from the server. */
int vfu_dma_serve(int sock, const struct vfu_dma_handler *dma, struct vfu_msg *m)
{
	bool write = m->hdr.cmd == VFU_CMD_DMA_WRITE;
	struct {
		struct vfu_dma_access a;
		uint8_t data[VFU_MAX_DATA_XFER];
	} __attribute__((packed)) rep;
	const uint8_t *data;
	int ret;

	if (vfu_msg_expect_fds(m, 0) < 0 || vfu_dma_access_decode(m, false, write, &rep.a, &data))
		return -EPROTO;
	/* count <= VFU_MAX_DATA_XFER: the decoder checked it. */
	if (write)
		ret = dma->write(dma->ctx, rep.a.address, data, rep.a.count);
	else
		ret = dma->read(dma->ctx, rep.a.address, rep.data, rep.a.count);
	if (m->hdr.flags & VFU_F_NO_REPLY)
		return 0;
	if (ret < 0)
		return vfu_send(sock, m->hdr.msg_id, m->hdr.cmd, VFU_F_TYPE_REPLY | VFU_F_ERROR,
				(uint32_t)-ret, NULL, 0, NULL, 0);
	return vfu_send(sock, m->hdr.msg_id, m->hdr.cmd, VFU_F_TYPE_REPLY, 0, &rep,
			sizeof(rep.a) + (write ? 0 : rep.a.count), NULL, 0);
}

/*
 * The server's side of the same exchange: the reply must be ours (message ID and
 * command echoed, spec "Header"), carry no fds, and echo address and count; an error
 * reply becomes -errno.
 */
int vfu_dma_reply_check(const struct vfu_msg *m, uint16_t id, bool write, uint64_t address,
			uint64_t count, const uint8_t **data)
{
	uint16_t cmd = write ? VFU_CMD_DMA_WRITE : VFU_CMD_DMA_READ;
	struct vfu_dma_access a;
	int ret;

	if ((m->hdr.flags & VFU_F_TYPE_MASK) != VFU_F_TYPE_REPLY || m->hdr.msg_id != id ||
	    m->hdr.cmd != cmd)
		return vfu_bad(m, "not the reply to our DMA command");
	if (m->nr_fds) {
		vfu_bad(m, "file descriptors on a DMA reply");
		return -EBADMSG;
	}
	if (m->hdr.flags & VFU_F_ERROR) {
		/* "It may be zero even if the Error bit is set." */
		if (m->hdr.error > VFU_DMA_ERRNO_MAX)
			return vfu_bad(m, "error is not an errno value");
		return m->hdr.error ? -(int)m->hdr.error : -EIO;
	}
	ret = vfu_dma_access_decode(m, true, write, &a, data);
	if (ret < 0)
		return ret;
	if (a.address != address || a.count != count)
		return vfu_bad(m, "address or count differs from the command");
	return 0;
}

/* One ioeventfd sub-region (spec "Sub-Region IO FD info format (ioeventfd)"). */
static int vfu_ioeventfd_check(const struct vfu_msg *m, const struct vfu_ioeventfd *s)
{
	uint64_t end;

	if (s->type != VFU_IO_FD_TYPE_IOEVENTFD)
		return vfu_bad(m, "sub-region type is not ioeventfd");
	if ((s->flags & ~VFU_IO_FD_DATAMATCH) || s->padding)
		return vfu_bad(m, "unknown sub-region flags or non-zero padding");
	if (s->size != 1 && s->size != 2 && s->size != 4 && s->size != 8)
		return vfu_bad(m, "sub-region size is not 1, 2, 4 or 8");
	if (__builtin_add_overflow(s->offset, s->size, &end))
		return vfu_bad(m, "sub-region offset + size wraps");
	if (!(s->flags & VFU_IO_FD_DATAMATCH) && s->datamatch)
		return vfu_bad(m, "datamatch value without the DATAMATCH flag");
	if (s->size < 8 && (s->datamatch >> (8 * s->size)))
		return vfu_bad(m, "datamatch value wider than the sub-region");
	if (s->fd_index >= m->nr_fds) {
		vfu_bad(m, "fd_index beyond the fds received");
		return -EBADMSG;
	}
	return 0;
}

static int vfu_io_fds_reply_ok(const struct vfu_msg *m, const struct vfu_region_io_fds *r,
			       struct vfu_ioeventfd *subs)
{
	unsigned used = 0;
	int ret;

	if (r->flags)
		return vfu_bad(m, "non-zero flags");
	if (r->count > VFU_IO_FDS_MAX)
		return vfu_bad(m, "more sub-regions than we asked room for");
	if (r->argsz != sizeof(*r) + r->count * sizeof(*subs))
		return vfu_bad(m, "argsz does not match the sub-region array");
	ret = vfu_expect_size(m, r->argsz, m->nr_fds);
	if (ret < 0)
		return ret;
	for (unsigned i = 0; i < r->count; i++) {
		memcpy(&subs[i], m->payload + sizeof(*r) + i * sizeof(*subs), sizeof(*subs));
		ret = vfu_ioeventfd_check(m, &subs[i]);
		if (ret < 0)
			return ret;
		used |= 1u << subs[i].fd_index; /* fd_index < nr_fds <= VFU_MAX_FDS */
	}
	if (used != (1u << m->nr_fds) - 1) {
		vfu_bad(m, "a file descriptor no sub-region uses");
		return -EBADMSG;
	}
	return 0;
}

int vfu_region_io_fds_decode(const struct vfu_msg *m, bool reply, struct vfu_region_io_fds *out,
			     struct vfu_ioeventfd *subs)
{
	struct vfu_region_io_fds r;
	int ret;

	ret = vfu_expect_hdr(m, VFU_CMD_DEVICE_GET_REGION_IO_FDS, reply);
	if (ret < 0)
		return ret;
	if (m->len < sizeof(r))
		return vfu_bad(m, "payload shorter than the structure");
	memcpy(&r, m->payload, sizeof(r));
	if (reply) {
		ret = vfu_io_fds_reply_ok(m, &r, subs);
	} else {
		ret = vfu_expect_size(m, sizeof(r), 0);
		if (ret == 0 && r.argsz < sizeof(r))
			ret = vfu_bad(m, "argsz smaller than the fixed reply");
		/* "The client must set flags to zero"; count is the server's to fill in. */
		if (ret == 0 && (r.flags || r.count))
			ret = vfu_bad(m, "non-zero request field");
	}
	if (ret < 0)
		return ret;
	*out = r;
	return 0;
}
