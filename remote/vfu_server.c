// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfu_server: the vfio-user server of one device connection (QEMU
 * docs/interop/vfio-user.rst).  It receives one request at a time, checks every
 * header and payload field against the protocol and against this device, and turns
 * it into dev_* calls.  The client is untrusted.  It does not own the
 * socket or the device and knows nothing about the main loop (channel.c does).
 *
 * Policy, per request:
 *  - malformed (not a command, NO_REPLY/ERROR/reserved flags, error field set, fds
 *    where none are expected, bad payload for the command, anything before VERSION,
 *    a second VERSION, wrong major version): one g_warning, an error reply, and the
 *    connection is closed;
 *  - VERSION naming another device id: a normal reply naming ours (so the client can
 *    report both ids), one g_warning, and the connection is closed;
 *  - well formed but not servable (unknown or unimplemented command: ENOSYS; region
 *    index, offset or count out of range: EINVAL): g_debug and an error reply; the
 *    connection stays up.
 * Known limit: vfu_recv() waits for the rest of a message once its first byte has
 * arrived, so a client that stops mid-message stalls this process's main loop.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/protocol.h"
#include "remote/remote.h"

struct vfu_server {
	struct dev *dev;
	int sock;
	bool versioned; /* VERSION negotiated (spec: it must come first) */
	struct gmem *mem;      /* guest memory the client mapped; the device's env.mem */
	struct doorbells *db;  /* the device's doorbell eventfds */
	struct dma_msg *dm;    /* guest RAM mapped without an fd: DMA_READ/WRITE (dma_msg.c) */
};

/* A region access reply: the echoed access header, then up to a config space of data. */
struct srv_access_reply {
	struct vfu_region_access hdr;
	uint8_t data[PCI_CFG_SIZE];
} __attribute__((packed));

static int srv_reply(struct vfu_server *s, const struct vfu_msg *m, const void *p, size_t len)
{
	return vfu_send(s->sock, m->hdr.msg_id, m->hdr.cmd, VFU_F_TYPE_REPLY, 0, p, len, NULL, 0);
}

/* Error reply; the connection stays up. */
static int srv_error(struct vfu_server *s, const struct vfu_msg *m, int err)
{
	int ret = vfu_send(s->sock, m->hdr.msg_id, m->hdr.cmd, VFU_F_TYPE_REPLY | VFU_F_ERROR,
			   (uint32_t)err, NULL, 0, NULL, 0);

	return ret < 0 ? ret : 0;
}

/* Malformed request: log once, answer with an error, and have the connection closed. */
static int G_GNUC_PRINTF(4, 5)
	srv_malformed(struct vfu_server *s, const struct vfu_msg *m, int err, const char *fmt, ...)
{
	g_autofree char *why = NULL;
	va_list ap;

	va_start(ap, fmt);
	why = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_warning("%s: %s (msg_id %u, command %u): %s; closing the connection", s->dev->id,
		  vfu_cmd_name(m->hdr.cmd), m->hdr.msg_id, m->hdr.cmd, why);
	srv_error(s, m, err);
	return -EPROTO;
}

/*
 * Our device-id extension (docs/protocol.md): a client that names another device gets
 * a normal reply naming ours, so it can tell its user both ids, and is then dropped.
 */
static int srv_version_reply(struct vfu_server *s, const struct vfu_msg *m,
			     const struct vfu_caps *theirs)
{
	struct vfu_caps mine = {
		.major = VFU_VERSION_MAJOR,
		.minor = MIN(theirs->minor, (uint16_t)VFU_VERSION_MINOR),
		.max_msg_fds = VFU_MAX_FDS, .max_data_xfer_size = VFU_MAX_DATA_XFER,
		.device_id = s->dev->id,
	};
	g_autofree uint8_t *payload = NULL;
	size_t len;
	int ret;

	ret = vfu_version_encode(&mine, &payload, &len);
	if (ret == 0)
		ret = srv_reply(s, m, payload, len);
	if (ret < 0)
		return ret;
	if (theirs->device_id && strcmp(theirs->device_id, s->dev->id) != 0) {
		g_warning("%s: client expects device '%s', but this socket serves '%s'; closing "
			  "the connection", s->dev->id, theirs->device_id, s->dev->id);
		return -ENODEV;
	}
	s->versioned = true;
	dma_msg_set_max_xfer(s->dm, theirs->max_data_xfer_size);
	return 0;
}

/* Spec "VFIO_USER_VERSION": major must match; the reply's minor is the lower of both. */
static int srv_version(struct vfu_server *s, const struct vfu_msg *m)
{
	struct vfu_caps theirs = { 0 };
	int ret;

	if (s->versioned)
		return srv_malformed(s, m, EINVAL, "version already negotiated");
	ret = vfu_version_decode(m->payload, m->len, &theirs);
	if (ret < 0)
		return srv_malformed(s, m, EINVAL, "bad version payload: %s", g_strerror(-ret));
	if (theirs.major != VFU_VERSION_MAJOR)
		ret = srv_malformed(s, m, ENOTSUP, "client speaks vfio-user %u.%u, we speak %u.%u",
				    theirs.major, theirs.minor, VFU_VERSION_MAJOR,
				    VFU_VERSION_MINOR);
	else
		ret = srv_version_reply(s, m, &theirs);
	vfu_caps_clear(&theirs);
	return ret;
}

static int srv_device_info(struct vfu_server *s, const struct vfu_msg *m)
{
	struct vfu_device_info req, info = {
		.argsz = sizeof(info), .flags = VFU_DEV_FLAG_PCI | VFU_DEV_FLAG_RESET,
		.num_regions = VFU_PCI_NUM_REGIONS, .num_irqs = VFU_PCI_NUM_IRQS,
	};
	int ret = vfu_device_info_decode(m, false, &req);

	if (ret < 0)
		return srv_malformed(s, m, EINVAL, "bad payload: %s", g_strerror(-ret));
	return srv_reply(s, m, &info, sizeof(info));
}

/* Size of region `index` as this device implements it; 0 for ROM, VGA and absent BARs. */
static uint64_t srv_region_size(const struct vfu_server *s, uint32_t index)
{
	if (index < PCI_NUM_BARS)
		return s->dev->cfg.bar[index].size;
	if (index == VFU_PCI_CONFIG_REGION)
		return PCI_CFG_SIZE;
	return 0;
}

static int srv_region_info(struct vfu_server *s, const struct vfu_msg *m)
{
	struct vfu_region_info req, ri = { .argsz = sizeof(ri) };
	int ret = vfu_region_info_decode(m, false, &req);

	if (ret < 0)
		return srv_malformed(s, m, EINVAL, "bad payload: %s", g_strerror(-ret));
	if (req.index >= VFU_PCI_NUM_REGIONS) {
		g_debug("%s: region info for region %u out of range", s->dev->id, req.index);
		return srv_error(s, m, EINVAL);
	}
	ri.index = req.index;
	ri.size = srv_region_size(s, req.index);
	if (ri.size)
		ri.flags = VFU_REGION_READ | VFU_REGION_WRITE; /* no mmap: accesses are messages */
	return srv_reply(s, m, &ri, sizeof(ri));
}

/* Counts and flags come from the device's interrupts (remote/irq.c). */
static int srv_irq_info(struct vfu_server *s, const struct vfu_msg *m)
{
	struct vfu_irq_info req, ii = { .argsz = sizeof(ii) };
	int ret = vfu_irq_info_decode(m, false, &req);
	uint32_t flags, count;

	if (ret < 0)
		return srv_malformed(s, m, EINVAL, "bad payload: %s", g_strerror(-ret));
	if (req.index >= VFU_PCI_NUM_IRQS) {
		g_debug("%s: IRQ info for index %u out of range", s->dev->id, req.index);
		return srv_error(s, m, EINVAL);
	}
	ii.index = req.index;
	remote_irq_info(remote_irq_from(s->dev->env.irq), req.index, &flags, &count);
	ii.flags = flags;
	ii.count = count;
	return srv_reply(s, m, &ii, sizeof(ii));
}

/*
 * Spec "VFIO_USER_DEVICE_SET_IRQS".  A request that breaks the form rules is
 * malformed; one this device cannot do (index it lacks, range beyond its count,
 * masking MSI-X) gets EINVAL.  fds not kept by remote_irq_set() are closed with m.
 */
static int srv_set_irqs(struct vfu_server *s, struct vfu_msg *m)
{
	struct vfu_irq_set req;
	const uint8_t *bools;
	int ret = vfu_irq_set_decode(m, false, &req, &bools);

	if (ret < 0) {
		vfu_msg_expect_fds(m, 0); /* close them */
		return srv_malformed(s, m, EINVAL, "bad payload: %s", g_strerror(-ret));
	}
	ret = remote_irq_set(remote_irq_from(s->dev->env.irq), &req, bools, m->fds, m->nr_fds);
	if (ret < 0) {
		g_debug("%s: SET_IRQS flags 0x%x index %u start %u count %u refused", s->dev->id,
			req.flags, req.index, req.start, req.count);
		return srv_error(s, m, -ret);
	}
	return srv_reply(s, m, NULL, 0);
}

/* Spec "VFIO_USER_DMA_MAP": the fd, if any, goes to the gmem on success. */
static int srv_dma_map(struct vfu_server *s, struct vfu_msg *m)
{
	struct vfu_dma_map d;
	int ret = vfu_dma_map_decode(m, false, &d);

	if (ret < 0) {
		vfu_msg_expect_fds(m, 0); /* close them */
		return srv_malformed(s, m, EINVAL, "bad payload: %s", g_strerror(-ret));
	}
	ret = dmamap_map(s->mem, s->dm, s->dev->id, m, &d);
	return ret < 0 ? srv_error(s, m, -ret) : srv_reply(s, m, NULL, 0);
}

/* Spec "VFIO_USER_DMA_UNMAP": "The server responds with the original DMA entry". */
static int srv_dma_unmap(struct vfu_server *s, const struct vfu_msg *m)
{
	struct vfu_dma_unmap d;
	int ret = vfu_dma_unmap_decode(m, false, &d);

	if (ret == -EOPNOTSUPP)
		return srv_error(s, m, ENOTSUP);
	if (ret < 0)
		return srv_malformed(s, m, EINVAL, "bad payload: %s", g_strerror(-ret));
	ret = dmamap_unmap(s->mem, s->dev->id, &d);
	if (ret < 0)
		return srv_error(s, m, -ret);
	d.argsz = sizeof(d);
	return srv_reply(s, m, &d, sizeof(d));
}

/*
 * Spec "VFIO_USER_DEVICE_GET_REGION_IO_FDS": the doorbells of a BAR as ioeventfd
 * sub-regions.  A client whose argsz has no room for them gets the count and the argsz
 * it needs, and no array ("full payload not included").
 */
static int srv_io_fds(struct vfu_server *s, const struct vfu_msg *m)
{
	struct {
		struct vfu_region_io_fds hdr;
		struct vfu_ioeventfd sub[VFU_IO_FDS_MAX];
	} __attribute__((packed)) rep = { 0 };
	int fds[VFU_MAX_FDS];
	unsigned n = 0;
	uint32_t argsz;
	size_t len;
	int ret = vfu_region_io_fds_decode(m, false, &rep.hdr, rep.sub);

	if (ret < 0)
		return srv_malformed(s, m, EINVAL, "bad payload: %s", g_strerror(-ret));
	if (rep.hdr.index >= VFU_PCI_NUM_REGIONS) {
		g_debug("%s: IO fds of region %u out of range", s->dev->id, rep.hdr.index);
		return srv_error(s, m, EINVAL);
	}
	if (rep.hdr.index < PCI_NUM_BARS)
		n = doorbells_io_fds(s->db, rep.hdr.index, rep.sub, fds);
	len = sizeof(rep.hdr) + n * sizeof(rep.sub[0]);
	argsz = rep.hdr.argsz;
	rep.hdr = (struct vfu_region_io_fds){ (uint32_t)len, 0, rep.hdr.index, n };
	if (argsz < len)
		return srv_reply(s, m, &rep.hdr, sizeof(rep.hdr));
	ret = vfu_send(s->sock, m->hdr.msg_id, m->hdr.cmd, VFU_F_TYPE_REPLY, 0, &rep, len, fds, n);
	return ret < 0 ? ret : 0;
}

/* Config space in naturally aligned 4/2/1-byte pieces (pcicfg's access rules). */
static int srv_cfg_access(struct dev *dev, uint32_t off, uint32_t count, bool write,
			  uint8_t *data)
{
	for (uint32_t done = 0; done < count;) {
		uint32_t pos = off + done, n = 4, v = 0;
		int ret;

		while (pos % n || done + n > count)
			n /= 2;
		if (write) {
			for (uint32_t i = 0; i < n; i++)
				v |= (uint32_t)data[done + i] << (8 * i);
			ret = dev_cfg_write(dev, pos, n, v);
		} else {
			ret = dev_cfg_read(dev, pos, n, &v);
			for (uint32_t i = 0; i < n; i++)
				data[done + i] = v >> (8 * i);
		}
		if (ret < 0)
			return ret;
		done += n;
	}
	return 0;
}

static int srv_bar_access(struct dev *dev, uint32_t bar, uint64_t off, uint32_t count,
			  bool write, uint8_t *data)
{
	uint64_t v = 0;
	int ret;

	if (count != 1 && count != 2 && count != 4 && count != 8)
		return -EINVAL;
	if (write) {
		for (uint32_t i = 0; i < count; i++)
			v |= (uint64_t)data[i] << (8 * i);
		return dev_bar_write(dev, bar, off, count, v);
	}
	ret = dev_bar_read(dev, bar, off, count, &v);
	for (uint32_t i = 0; i < count; i++)
		data[i] = v >> (8 * i);
	return ret;
}

/* Spec "VFIO_USER_REGION_READ" / "VFIO_USER_REGION_WRITE". */
static int srv_region_access(struct vfu_server *s, const struct vfu_msg *m, bool write)
{
	struct srv_access_reply rep = { 0 };
	const uint8_t *wdata = NULL;
	struct vfu_region_access *a = &rep.hdr;
	int ret = vfu_region_access_decode(m, false, write, a, &wdata);

	/* A guest that rang a doorbell before this access sees the ring's effect. */
	doorbells_poll(s->db);
	if (ret < 0)
		return srv_malformed(s, m, EINVAL, "bad payload: %s", g_strerror(-ret));
	if (a->region >= VFU_PCI_NUM_REGIONS ||
	    !vfu_range_ok(a->offset, a->count, srv_region_size(s, a->region))) {
		g_debug("%s: %s of region %u at 0x%" PRIx64 " count %u out of range", s->dev->id,
			write ? "write" : "read", a->region, a->offset, a->count);
		return srv_error(s, m, EINVAL);
	}
	/* In range of a region of at most PCI_CFG_SIZE (config) or a BAR access of <= 8. */
	if (write)
		memcpy(rep.data, wdata, MIN(a->count, sizeof(rep.data)));
	if (a->region == VFU_PCI_CONFIG_REGION)
		ret = srv_cfg_access(s->dev, (uint32_t)a->offset, a->count, write, rep.data);
	else
		ret = srv_bar_access(s->dev, a->region, a->offset, a->count, write, rep.data);
	if (a->region == VFU_PCI_CONFIG_REGION && write) /* Interrupt Disable may have changed */
		remote_irq_update(remote_irq_from(s->dev->env.irq));
	if (ret < 0) {
		g_debug("%s: %s of region %u at 0x%" PRIx64 " count %u refused", s->dev->id,
			write ? "write" : "read", a->region, a->offset, a->count);
		return srv_error(s, m, -ret);
	}
	return srv_reply(s, m, &rep, sizeof(rep.hdr) + (write ? 0 : a->count));
}

static int srv_reset(struct vfu_server *s, const struct vfu_msg *m)
{
	if (vfu_reset_decode(m, false) < 0)
		return srv_malformed(s, m, EINVAL, "%zu unexpected payload bytes", m->len);
	dev_reset(s->dev);
	remote_irq_reset(remote_irq_from(s->dev->env.irq));
	g_debug("%s: reset", s->dev->id);
	return srv_reply(s, m, NULL, 0);
}

/* Header checks common to every command (spec "Header"). */
static int srv_check_header(struct vfu_server *s, struct vfu_msg *m)
{
	uint32_t flags = m->hdr.flags;

	if ((flags & VFU_F_TYPE_MASK) != VFU_F_TYPE_COMMAND)
		return srv_malformed(s, m, EINVAL, "message type %u is not a command",
				     flags & VFU_F_TYPE_MASK);
	if (flags & ~VFU_F_TYPE_MASK)
		return srv_malformed(s, m, EINVAL, "unexpected flags 0x%x in a command",
				     flags & ~VFU_F_TYPE_MASK);
	if (m->hdr.error)
		return srv_malformed(s, m, EINVAL, "error field %u set in a command",
				     m->hdr.error);
	return 0;
}

static int srv_region_read(struct vfu_server *s, const struct vfu_msg *m)
{
	return srv_region_access(s, m, false);
}

static int srv_region_write(struct vfu_server *s, const struct vfu_msg *m)
{
	return srv_region_access(s, m, true);
}

typedef int (*srv_handler_fn)(struct vfu_server *s, const struct vfu_msg *m);

/* The commands this server implements; every other one is answered ENOSYS. */
static const srv_handler_fn srv_handlers[VFU_CMD_MAX] = {
	[VFU_CMD_VERSION] = srv_version,
	[VFU_CMD_DEVICE_GET_INFO] = srv_device_info,
	[VFU_CMD_DEVICE_GET_REGION_INFO] = srv_region_info,
	[VFU_CMD_DEVICE_GET_IRQ_INFO] = srv_irq_info,
	[VFU_CMD_REGION_READ] = srv_region_read,
	[VFU_CMD_REGION_WRITE] = srv_region_write,
	[VFU_CMD_DEVICE_RESET] = srv_reset,
	[VFU_CMD_DMA_UNMAP] = srv_dma_unmap,
	[VFU_CMD_DEVICE_GET_REGION_IO_FDS] = srv_io_fds,
};

static int srv_dispatch(struct vfu_server *s, struct vfu_msg *m)
{
	uint16_t cmd = m->hdr.cmd;
	srv_handler_fn fn = cmd < VFU_CMD_MAX ? srv_handlers[cmd] : NULL;
	int ret = srv_check_header(s, m);

	if (ret < 0)
		return ret;
	if (!s->versioned && cmd != VFU_CMD_VERSION)
		return srv_malformed(s, m, EINVAL, "command before VERSION");
	if (cmd == VFU_CMD_DMA_MAP)
		return srv_dma_map(s, m); /* takes an fd */
	if (cmd == VFU_CMD_DEVICE_SET_IRQS)
		return srv_set_irqs(s, m); /* the one command here that takes fds */
	if (!fn) {
		vfu_msg_expect_fds(m, 0); /* a DMA_MAP's fds, say: not kept */
		g_debug("%s: command %u not implemented", s->dev->id, cmd);
		return srv_error(s, m, ENOSYS);
	}
	if (vfu_msg_expect_fds(m, 0) < 0)
		return srv_malformed(s, m, EINVAL, "unexpected file descriptors");
	return fn(s, m);
}

/* A command that came in while the device waited for a DMA reply (dma_msg.c). */
static int srv_handle_pending(struct vfu_server *s, struct vfu_msg *m)
{
	int ret = srv_dispatch(s, m);

	dma_msg_pending_done(s->dm);
	return ret;
}

int vfu_server_handle(struct vfu_server *s, bool nowait)
{
	struct vfu_msg m, *pending = dma_msg_pending(s->dm);
	int ret = dma_msg_error(s->dm);

	if (ret < 0)
		return ret; /* dma_msg.c warned */
	if (pending)
		return srv_handle_pending(s, pending);
	ret = nowait ? vfu_recv_nowait(s->sock, &m, VFU_MAX_MSG) : vfu_recv(s->sock, &m, VFU_MAX_MSG);
	if (ret == -EAGAIN)
		return ret;
	if (ret == -ECONNRESET) {
		g_info("%s: client disconnected", s->dev->id);
		return ret;
	}
	if (ret < 0) {
		g_warning("%s: unreadable message from the client: %s; closing the connection",
			  s->dev->id, g_strerror(-ret));
		if (m.hdr.size) /* the whole header arrived, so the error can be addressed */
			srv_error(s, &m, -ret);
		return ret;
	}
	ret = srv_dispatch(s, &m);
	vfu_msg_clear(&m);
	return ret;
}

int vfu_server_create(struct dev *dev, int sock, struct vfu_server **out)
{
	struct vfu_server *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	s->dev = dev;
	s->sock = sock;
	ret = gmem_create_empty(&s->mem);
	if (ret == 0)
		ret = dma_msg_create(dev->id, sock, &s->dm);
	if (ret == 0)
		ret = doorbells_create(dev, &s->db);
	if (ret < 0) {
		vfu_server_destroy(s);
		return ret;
	}
	/* The device reaches the memory this client maps, and only while it is connected. */
	dev->env.mem = s->mem;
	*out = s;
	return 0;
}

void vfu_server_destroy(struct vfu_server *s)
{
	if (!s)
		return;
	if (s->dev->env.mem == s->mem)
		s->dev->env.mem = NULL;
	doorbells_destroy(s->db);
	gmem_destroy(s->mem); /* before the dma_msg its regions point at */
	dma_msg_destroy(s->dm);
	free(s);
}

bool vfu_server_poll_doorbells(struct vfu_server *s)
{
	return doorbells_poll(s->db);
}
