// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfu_call: the client's synchronous round trip, one command and its reply on the
 * main socket.  It checks that the reply belongs to the command (spec "Header":
 * message ID echoed, command set in the reply) and turns error replies into -errno.
 * It does not pipeline.  Server-to-client commands are served only through
 * vfu_call_dma() (DMA_READ/DMA_WRITE, for memory mapped without an fd); the payload of
 * the reply is for the per-message decoders.
 */
#include <errno.h>
#include <glib.h>
#include <poll.h>
#include <string.h>

#include "protocol/protocol.h"
#include "protocol/vfu_priv.h"

#define VFU_ERRNO_MAX 4095u /* as the kernel's MAX_ERRNO */
/*
 * How long a caller busy-polls for its reply before sleeping in poll().  The caller
 * (a vCPU thread) can do nothing else meanwhile, and a sleep/wake-up pair costs more
 * than a whole round trip with an awake server.
 */
#define VFU_CALL_SPIN_US 50

/* Spec: only region info (mmap fd) and region I/O fds replies carry fds. */
static bool vfu_reply_takes_fds(uint16_t cmd)
{
	return cmd == VFU_CMD_DEVICE_GET_REGION_INFO || cmd == VFU_CMD_DEVICE_GET_REGION_IO_FDS;
}

/*
 * Size of the successful reply when the request tells it, so that the reply is read
 * with one recvmsg (the BAR-access hot path); the header alone otherwise.
 */
static size_t vfu_reply_hint(uint16_t cmd, const void *req, size_t len)
{
	struct vfu_region_access a;

	switch (cmd) {
	case VFU_CMD_DEVICE_GET_INFO:
		return VFU_HDR_SIZE + sizeof(struct vfu_device_info);
	case VFU_CMD_DEVICE_GET_REGION_INFO:
		return VFU_HDR_SIZE + sizeof(struct vfu_region_info);
	case VFU_CMD_DEVICE_GET_IRQ_INFO:
		return VFU_HDR_SIZE + sizeof(struct vfu_irq_info);
	case VFU_CMD_REGION_WRITE:
		return VFU_HDR_SIZE + sizeof(a);
	case VFU_CMD_REGION_READ:
		if (len < sizeof(a))
			return VFU_HDR_SIZE;
		memcpy(&a, req, sizeof(a));
		return VFU_HDR_SIZE + sizeof(a) + MIN(a.count, VFU_MSG_INLINE);
	default:
		return VFU_HDR_SIZE;
	}
}

/*
 * Read the next message; with a size hint (> VFU_HDR_SIZE) only when nothing but the
 * reply to our one outstanding command can arrive.
 */
static int vfu_recv_wait(int sock, struct vfu_msg *reply, size_t hint)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };
	gint64 spin_until = g_get_monotonic_time() + VFU_CALL_SPIN_US;
	int ret;

	/* Busy-poll for the reply first (VFU_CALL_SPIN_US), then block in poll(). */
	while ((ret = vfu_recv_hint(sock, reply, VFU_MAX_MSG, hint, true)) == -EAGAIN) {
		if (g_get_monotonic_time() < spin_until)
			continue;
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			return -errno;
	}
	/* Any framing failure leaves the stream out of step: the connection is gone. */
	if (ret == -EMSGSIZE || ret == -EBADMSG)
		ret = -EPROTO;
	return ret;
}

/* Spec "Header": the reply echoes our message ID and command. */
static int vfu_reply_check(const struct vfu_msg *r, uint16_t id, uint16_t cmd)
{
	if ((r->hdr.flags & VFU_F_TYPE_MASK) != VFU_F_TYPE_REPLY) {
		g_debug("msg %u %s: command from the server where a reply was due",
			r->hdr.msg_id, vfu_cmd_name(r->hdr.cmd));
		return -EPROTO;
	}
	if (r->hdr.msg_id != id || r->hdr.cmd != cmd) {
		g_debug("reply %u %s does not match request %u %s", r->hdr.msg_id,
			vfu_cmd_name(r->hdr.cmd), id, vfu_cmd_name(cmd));
		return -EPROTO;
	}
	if (r->nr_fds && !vfu_reply_takes_fds(cmd)) {
		g_debug("reply %u %s: %u unexpected fds", id, vfu_cmd_name(cmd), r->nr_fds);
		return -EPROTO;
	}
	if (!(r->hdr.flags & VFU_F_ERROR))
		return 0;
	/* "It may be zero even if the Error bit is set." */
	if (r->hdr.error == 0)
		return -EIO;
	if (r->hdr.error > VFU_ERRNO_MAX) {
		g_debug("reply %u %s: error %u is not an errno", id, vfu_cmd_name(cmd),
			r->hdr.error);
		return -EPROTO;
	}
	return -(int)r->hdr.error;
}

static bool vfu_is_dma_command(const struct vfu_msg *m)
{
	return (m->hdr.flags & VFU_F_TYPE_MASK) == VFU_F_TYPE_COMMAND &&
	       (m->hdr.cmd == VFU_CMD_DMA_READ || m->hdr.cmd == VFU_CMD_DMA_WRITE);
}

/*
 * The next message that is not a DMA command for dma.  Without dma, the reply is read
 * with the size hint (one recvmsg for a BAR access); with it, header first, since a
 * DMA command of another size may come first.
 */
static int vfu_wait_reply(int sock, const struct vfu_dma_handler *dma, struct vfu_msg *reply,
			  size_t hint)
{
	int ret;

	while ((ret = vfu_recv_wait(sock, reply, dma ? VFU_HDR_SIZE : hint)) == 0 && dma &&
	       vfu_is_dma_command(reply)) {
		ret = vfu_dma_serve(sock, dma, reply);
		vfu_msg_clear(reply);
		if (ret < 0)
			return ret;
	}
	return ret;
}

int vfu_call(int sock, uint16_t *next_id, uint16_t cmd, const void *req, size_t len,
	     const int *fds, unsigned nr_fds, struct vfu_msg *reply)
{
	return vfu_call_dma(sock, next_id, NULL, cmd, req, len, fds, nr_fds, reply);
}

int vfu_call_dma(int sock, uint16_t *next_id, const struct vfu_dma_handler *dma, uint16_t cmd,
		 const void *req, size_t len, const int *fds, unsigned nr_fds,
		 struct vfu_msg *reply)
{
	uint16_t id = (*next_id)++;
	int ret;

	memset(reply, 0, offsetof(struct vfu_msg, inline_buf));
	for (unsigned i = 0; i < VFU_MAX_FDS; i++)
		reply->fds[i] = -1;
	ret = vfu_send(sock, id, cmd, VFU_F_TYPE_COMMAND, 0, req, len, fds, nr_fds);
	if (ret < 0)
		return ret;
	ret = vfu_wait_reply(sock, dma, reply, vfu_reply_hint(cmd, req, len));
	if (ret == 0)
		ret = vfu_reply_check(reply, id, cmd);
	if (ret < 0) {
		vfu_msg_clear(reply);
		memset(&reply->hdr, 0, sizeof(reply->hdr));
	}
	return ret;
}
