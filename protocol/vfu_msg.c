// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfu_msg: vfio-user message framing on a SOCK_STREAM socket (spec "Header"): one
 * sendmsg per message with its fds as SCM_RIGHTS, and a receive path that reads the
 * header, validates it, then reads exactly the payload, so it never consumes a byte of
 * the next message.  It does not look inside payloads; vfu_decode.c does.
 */
#include <errno.h>
#include <glib.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "protocol/protocol.h"
#include "protocol/vfu_priv.h"

#define VFU_F_KNOWN (VFU_F_TYPE_MASK | VFU_F_NO_REPLY | VFU_F_ERROR)

union vfu_cmsg {
	struct cmsghdr align;
	char buf[CMSG_SPACE(sizeof(int) * VFU_MAX_FDS)];
};

static const char *const vfu_cmd_names[VFU_CMD_MAX] = {
	[VFU_CMD_VERSION] = "VERSION",
	[VFU_CMD_DMA_MAP] = "DMA_MAP",
	[VFU_CMD_DMA_UNMAP] = "DMA_UNMAP",
	[VFU_CMD_DEVICE_GET_INFO] = "DEVICE_GET_INFO",
	[VFU_CMD_DEVICE_GET_REGION_INFO] = "DEVICE_GET_REGION_INFO",
	[VFU_CMD_DEVICE_GET_REGION_IO_FDS] = "DEVICE_GET_REGION_IO_FDS",
	[VFU_CMD_DEVICE_GET_IRQ_INFO] = "DEVICE_GET_IRQ_INFO",
	[VFU_CMD_DEVICE_SET_IRQS] = "DEVICE_SET_IRQS",
	[VFU_CMD_REGION_READ] = "REGION_READ",
	[VFU_CMD_REGION_WRITE] = "REGION_WRITE",
	[VFU_CMD_DMA_READ] = "DMA_READ",
	[VFU_CMD_DMA_WRITE] = "DMA_WRITE",
	[VFU_CMD_DEVICE_RESET] = "DEVICE_RESET",
	[VFU_CMD_REGION_WRITE_MULTI] = "REGION_WRITE_MULTI",
	[VFU_CMD_DEVICE_FEATURE] = "DEVICE_FEATURE",
	[VFU_CMD_MIG_DATA_READ] = "MIG_DATA_READ",
	[VFU_CMD_MIG_DATA_WRITE] = "MIG_DATA_WRITE",
};

const char *vfu_cmd_name(uint16_t cmd)
{
	if (cmd < VFU_CMD_MAX && vfu_cmd_names[cmd])
		return vfu_cmd_names[cmd];
	return "UNKNOWN";
}

/* Wait until sock is readable (POLLIN) or writable (POLLOUT); for non-blocking sockets. */
static int vfu_wait(int sock, short events)
{
	struct pollfd p = { .fd = sock, .events = events };

	while (poll(&p, 1, -1) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

/* Spec "Header": type is command or reply, only bits 0-5 defined, error only in replies. */
static bool vfu_flags_ok(uint32_t flags, size_t len)
{
	uint32_t type = flags & VFU_F_TYPE_MASK;

	if (flags & ~VFU_F_KNOWN)
		return false;
	if (type == VFU_F_TYPE_COMMAND)
		return !(flags & VFU_F_ERROR);
	if (type == VFU_F_TYPE_REPLY)
		return !(flags & VFU_F_NO_REPLY) && (!(flags & VFU_F_ERROR) || len == 0);
	return false;
}

static void vfu_iov_advance(struct msghdr *mh, size_t n)
{
	while (n > 0 && mh->msg_iovlen > 0) {
		size_t step = MIN(n, mh->msg_iov->iov_len);

		mh->msg_iov->iov_base = (uint8_t *)mh->msg_iov->iov_base + step;
		mh->msg_iov->iov_len -= step;
		n -= step;
		if (mh->msg_iov->iov_len == 0) {
			mh->msg_iov++;
			mh->msg_iovlen--;
		}
	}
}

/* sendmsg until every byte is out; the fds go with the first byte only. */
static int vfu_sendmsg_all(int sock, struct msghdr *mh, size_t total)
{
	while (total > 0) {
		ssize_t n = sendmsg(sock, mh, MSG_NOSIGNAL);

		if (n < 0) {
			int ret = -errno;

			if (ret == -EAGAIN || ret == -EWOULDBLOCK)
				ret = vfu_wait(sock, POLLOUT);
			if (ret < 0 && ret != -EINTR)
				return ret;
			continue;
		}
		mh->msg_control = NULL;
		mh->msg_controllen = 0;
		total -= (size_t)n;
		vfu_iov_advance(mh, (size_t)n);
	}
	return 0;
}

int vfu_send(int sock, uint16_t msg_id, uint16_t cmd, uint32_t flags, uint32_t error,
	     const void *payload, size_t len, const int *fds, unsigned nr_fds)
{
	struct vfu_hdr hdr = { .msg_id = msg_id, .cmd = cmd, .flags = flags, .error = error };
	struct iovec iov[2] = { { &hdr, sizeof(hdr) }, { (void *)payload, len } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	union vfu_cmsg ctl;

	if (nr_fds > VFU_MAX_FDS || (nr_fds && !fds) || (len && !payload) ||
	    !vfu_flags_ok(flags, len) || (!(flags & VFU_F_ERROR) && error))
		return -EINVAL;
	if (len > VFU_MAX_MSG - VFU_HDR_SIZE)
		return -EMSGSIZE;
	hdr.size = (uint32_t)(VFU_HDR_SIZE + len);
	if (nr_fds) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nr_fds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nr_fds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nr_fds);
	}
	return vfu_sendmsg_all(sock, &mh, hdr.size);
}

void vfu_msg_clear(struct vfu_msg *msg)
{
	for (unsigned i = 0; i < msg->nr_fds && i < VFU_MAX_FDS; i++) {
		if (msg->fds[i] >= 0)
			close(msg->fds[i]);
		msg->fds[i] = -1;
	}
	msg->nr_fds = 0;
	if (msg->payload != msg->inline_buf)
		g_free(msg->payload);
	msg->payload = NULL;
	msg->len = 0;
}

int vfu_msg_expect_fds(struct vfu_msg *msg, unsigned nr)
{
	if (msg->nr_fds == nr)
		return 0;
	g_debug("msg %u %s: %u fds, expected %u", msg->hdr.msg_id, vfu_cmd_name(msg->hdr.cmd),
		msg->nr_fds, nr);
	for (unsigned i = 0; i < msg->nr_fds && i < VFU_MAX_FDS; i++) {
		if (msg->fds[i] >= 0)
			close(msg->fds[i]);
		msg->fds[i] = -1;
	}
	msg->nr_fds = 0;
	return -EBADMSG;
}

/*
 * Move the fds of one recvmsg into msg.  Every fd that arrived is either stored in msg
 * (closed later by vfu_msg_clear) or closed here.  Anything but SCM_RIGHTS, a
 * truncated control buffer or more than VFU_MAX_FDS in total is -EBADMSG.
 */
static int vfu_take_fds(struct msghdr *mh, struct vfu_msg *msg)
{
	int ret = (mh->msg_flags & MSG_CTRUNC) ? -EBADMSG : 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t n;
		int fd;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0)) {
			ret = -EBADMSG;
			continue;
		}
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (msg->nr_fds < VFU_MAX_FDS)
				msg->fds[msg->nr_fds++] = fd;
			else {
				close(fd);
				ret = -EBADMSG;
			}
		}
	}
	if (ret < 0)
		g_debug("recv: fds truncated, too many or not SCM_RIGHTS");
	return ret;
}

/*
 * Read at least min and at most max bytes; returns how many.  EOF before the first byte
 * of a message (start) is -ECONNRESET, EOF anywhere else -EPROTO.  EAGAIN before the
 * first byte of a message is returned; after it we wait, since the peer is mid-message.
 */
static ssize_t vfu_read(int sock, void *buf, size_t min, size_t max, struct vfu_msg *msg,
			bool start, bool nowait)
{
	size_t got = 0;

	while (got < min) {
		struct iovec iov = { (uint8_t *)buf + got, max - got };
		union vfu_cmsg ctl;
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
				     .msg_controllen = sizeof(ctl.buf) };
		int flags = MSG_CMSG_CLOEXEC | (start && nowait && !got ? MSG_DONTWAIT : 0);
		ssize_t n = recvmsg(sock, &mh, flags);
		int ret;

		if (n < 0) {
			ret = -errno;
			if ((ret == -EAGAIN || ret == -EWOULDBLOCK) && (!start || got))
				ret = vfu_wait(sock, POLLIN);
			if (ret < 0 && ret != -EINTR)
				return ret;
			continue;
		}
		ret = vfu_take_fds(&mh, msg);
		if (ret < 0)
			return ret;
		if (n == 0 && start && !got)
			return -ECONNRESET; /* the peer closed between messages */
		if (n == 0) {
			g_debug("recv: EOF inside a message, after %zu of %zu bytes", got, min);
			return -EPROTO;
		}
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static int vfu_hdr_check(const struct vfu_hdr *h, size_t max_size)
{
	if (h->size < VFU_HDR_SIZE || h->size > max_size) {
		g_debug("msg %u %s: size %u outside [%u, %zu]", h->msg_id, vfu_cmd_name(h->cmd),
			h->size, VFU_HDR_SIZE, max_size);
		return h->size < VFU_HDR_SIZE ? -EPROTO : -EMSGSIZE;
	}
	if (!vfu_flags_ok(h->flags, h->size - VFU_HDR_SIZE) ||
	    (!(h->flags & VFU_F_ERROR) && h->error)) {
		g_debug("msg %u %s: bad flags 0x%x / error %u", h->msg_id, vfu_cmd_name(h->cmd),
			h->flags, h->error);
		return -EPROTO;
	}
	return 0;
}

/*
 * The first recvmsg asks for up to hint bytes (at least the header, at most what fits
 * in first[]), so a message of the expected size arrives in one call.  Bytes beyond the
 * message's size can only come from a peer that sent two messages where one was due.
 */
int vfu_recv_hint(int sock, struct vfu_msg *msg, size_t max_size, size_t hint, bool nowait)
{
	uint8_t first[VFU_HDR_SIZE + VFU_MSG_INLINE];
	size_t early;
	ssize_t got;
	int ret;

	memset(msg, 0, offsetof(struct vfu_msg, inline_buf));
	for (unsigned i = 0; i < VFU_MAX_FDS; i++)
		msg->fds[i] = -1;
	if (max_size < VFU_HDR_SIZE)
		return -EINVAL;
	got = vfu_read(sock, first, VFU_HDR_SIZE, CLAMP(hint, VFU_HDR_SIZE, sizeof(first)), msg,
		       true, nowait);
	if (got < 0) {
		ret = (int)got;
		goto clear;
	}
	memcpy(&msg->hdr, first, sizeof(msg->hdr));
	ret = vfu_hdr_check(&msg->hdr, max_size);
	if (ret == 0 && (size_t)got > msg->hdr.size) {
		g_debug("msg %u %s: more bytes than its size, a second message where one was due",
			msg->hdr.msg_id, vfu_cmd_name(msg->hdr.cmd));
		ret = -EPROTO;
	}
	if (ret < 0)
		goto clear;
	msg->len = msg->hdr.size - VFU_HDR_SIZE;
	msg->payload = msg->len <= VFU_MSG_INLINE ? msg->inline_buf : g_try_malloc(msg->len);
	if (!msg->payload) {
		ret = -ENOMEM;
		goto clear;
	}
	early = (size_t)got - VFU_HDR_SIZE;
	memcpy(msg->payload, first + VFU_HDR_SIZE, early);
	if (msg->len > early) {
		got = vfu_read(sock, msg->payload + early, msg->len - early, msg->len - early, msg,
			       false, false);
		ret = got < 0 ? (int)got : 0;
	}
	if (ret == 0)
		return 0;
clear:
	vfu_msg_clear(msg);
	return ret;
}

int vfu_recv(int sock, struct vfu_msg *msg, size_t max_size)
{
	return vfu_recv_hint(sock, msg, max_size, VFU_HDR_SIZE, false);
}

int vfu_recv_nowait(int sock, struct vfu_msg *msg, size_t max_size)
{
	return vfu_recv_hint(sock, msg, max_size, VFU_HDR_SIZE, true);
}
