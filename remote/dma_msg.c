// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dma_msg: guest memory the client shared without an fd, reached by messages.  Spec
 * "VFIO_USER_DMA_MAP": when no file descriptor is sent, "the DMA region can be
 * accessed by the server using VFIO_USER_DMA_READ and VFIO_USER_DMA_WRITE messages".
 * dmamap.c records such a region in the connection's gmem with dma_msg_access() as its
 * access function, so a device's gmem_read/gmem_write there becomes DMA_READ/DMA_WRITE
 * commands on the device's socket, in chunks of at most the client's max_data_xfer_size
 * (spec "Read and Write Operations"), each waiting for its reply, which is checked
 * field by field (vfu_dma_reply_check).
 *
 * The socket is shared with the client's own commands.  The client sends one command
 * at a time and serves our DMA commands while it waits for its reply, so while we wait
 * for a DMA reply at most one client command can arrive (it was on its way when we
 * sent ours): it is kept here and served by vfu_server_handle() next.  A second one, a
 * reply that is not ours, a malformed reply or a silent client breaks the connection:
 * every later access fails with -EIO and vfu_server_handle() closes it.
 * It is not a server (vfu_server.c) and does not map anything.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "remote/remote.h"

/* How long a DMA reply may take before the client is considered gone (default). */
#define DMA_MSG_TIMEOUT_MS 10000

struct dma_msg {
	const char *id;	   /* the device's id, for logs (borrowed) */
	int sock;	   /* borrowed from the vfu_server */
	uint16_t next_id;  /* our own commands' message IDs */
	uint64_t max_xfer; /* bytes per message */
	int err;	   /* first transport failure, 0 while usable */
	int timeout_ms;	   /* for each reply */
	bool stashed;
	struct vfu_msg stash;	       /* a client command that arrived while we waited */
	uint64_t nr_msgs[2], bytes[2]; /* [write]: DMA_READ, DMA_WRITE sent */
};

int dma_msg_create(const char *id, int sock, struct dma_msg **out)
{
	struct dma_msg *dm = calloc(1, sizeof(*dm));

	if (!dm)
		return -ENOMEM;
	dm->id = id;
	dm->sock = sock;
	dm->max_xfer = MIN(VFU_DEFAULT_MAX_DATA_XFER, VFU_MAX_DATA_XFER);
	dm->timeout_ms = DMA_MSG_TIMEOUT_MS;
	*out = dm;
	return 0;
}

void dma_msg_destroy(struct dma_msg *dm)
{
	if (!dm)
		return;
	if (dm->nr_msgs[0] || dm->nr_msgs[1])
		g_info("%s: guest RAM reached by messages: %" PRIu64 " DMA_READ (%" PRIu64
		       " bytes), %" PRIu64 " DMA_WRITE (%" PRIu64 " bytes)",
		       dm->id, dm->nr_msgs[0], dm->bytes[0], dm->nr_msgs[1], dm->bytes[1]);
	vfu_msg_clear(&dm->stash);
	free(dm);
}

void dma_msg_set_max_xfer(struct dma_msg *dm, uint64_t client_max)
{
	/* The client receives our commands, we receive its read replies. */
	dm->max_xfer = MIN(client_max, (uint64_t)VFU_MAX_DATA_XFER);
}

void dma_msg_set_timeout(struct dma_msg *dm, int ms)
{
	dm->timeout_ms = ms;
}

int dma_msg_error(const struct dma_msg *dm)
{
	return dm->err;
}

void dma_msg_count(const struct dma_msg *dm, uint64_t *reads, uint64_t *writes)
{
	*reads = dm->nr_msgs[0];
	*writes = dm->nr_msgs[1];
}

struct vfu_msg *dma_msg_pending(struct dma_msg *dm)
{
	return dm->stashed ? &dm->stash : NULL;
}

void dma_msg_pending_done(struct dma_msg *dm)
{
	vfu_msg_clear(&dm->stash);
	dm->stashed = false;
}

/* The next message, waiting at most DMA_MSG_TIMEOUT_MS for its first byte. */
static int dma_msg_recv(struct dma_msg *dm, struct vfu_msg *m)
{
	struct pollfd p = {.fd = dm->sock, .events = POLLIN};
	int n;

	do
		n = poll(&p, 1, dm->timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0) {
		g_warning("%s: no DMA reply from the client in %d ms", dm->id, dm->timeout_ms);
		return -ETIMEDOUT;
	}
	return vfu_recv(dm->sock, m, VFU_MAX_MSG);
}

/* Keep a client command for vfu_server_handle(); only one can be on its way. */
static int dma_msg_keep(struct dma_msg *dm, struct vfu_msg *m)
{
	if (dm->stashed) {
		g_warning("%s: client sent command %s while its command %s is unanswered", dm->id,
			  vfu_cmd_name(m->hdr.cmd), vfu_cmd_name(dm->stash.hdr.cmd));
		vfu_msg_clear(m);
		return -EPROTO;
	}
	/* A vfu_msg must not be copied by value: it may point into its inline buffer. */
	dm->stash = *m;
	if (m->payload == m->inline_buf)
		dm->stash.payload = dm->stash.inline_buf;
	dm->stashed = true;
	return 0;
}

/* Wait for the reply to command id; out: the read data (count bytes). */
static int dma_msg_wait(struct dma_msg *dm, uint16_t id, bool write, uint64_t gpa, uint64_t count,
			void *out)
{
	struct vfu_msg m;
	const uint8_t *data;
	int ret;

	for (;;) {
		ret = dma_msg_recv(dm, &m);
		if (ret < 0)
			return ret;
		if ((m.hdr.flags & VFU_F_TYPE_MASK) != VFU_F_TYPE_COMMAND)
			break;
		ret = dma_msg_keep(dm, &m);
		if (ret < 0)
			return ret;
	}
	ret = vfu_dma_reply_check(&m, id, write, gpa, count, &data);
	if (ret == 0 && !write)
		memcpy(out, data, count);
	vfu_msg_clear(&m);
	return ret;
}

/* One command of at most max_xfer bytes and its reply. */
static int dma_msg_one(struct dma_msg *dm, uint64_t gpa, uint8_t *buf, uint64_t count, bool write)
{
	struct {
		struct vfu_dma_access a;
		uint8_t data[VFU_MAX_DATA_XFER];
	} __attribute__((packed)) req = {.a = {.address = gpa, .count = count}};
	uint16_t id = dm->next_id++;
	int ret;

	if (write)
		memcpy(req.data, buf, count); /* count <= max_xfer <= VFU_MAX_DATA_XFER */
	ret = vfu_send(dm->sock, id, write ? VFU_CMD_DMA_WRITE : VFU_CMD_DMA_READ,
		       VFU_F_TYPE_COMMAND, 0, &req, sizeof(req.a) + (write ? count : 0), NULL, 0);
	if (ret == 0)
		ret = dma_msg_wait(dm, id, write, gpa, count, buf);
	dm->nr_msgs[write]++;
	dm->bytes[write] += count;
	return ret;
}

/* A failure the client reported for this access, versus one that ends the connection. */
static bool dma_msg_fatal(int ret)
{
	return ret == -EPROTO || ret == -EBADMSG || ret == -EMSGSIZE || ret == -ECONNRESET ||
	       ret == -EPIPE || ret == -ETIMEDOUT || ret == -ENOMEM;
}

int dma_msg_access(void *ctx, uint64_t gpa, void *buf, uint64_t len, bool write)
{
	struct dma_msg *dm = ctx;
	uint8_t *p = buf;

	if (dm->err)
		return -EIO;
	for (uint64_t done = 0; done < len;) {
		uint64_t n = MIN(len - done, dm->max_xfer);
		int ret = dma_msg_one(dm, gpa + done, p + done, n, write);

		if (ret < 0 && dma_msg_fatal(ret)) {
			g_warning("%s: DMA_%s of 0x%" PRIx64 "+0x%" PRIx64 " failed: %s; closing "
				  "the connection",
				  dm->id, write ? "WRITE" : "READ", gpa + done, n,
				  g_strerror(-ret));
			dm->err = ret;
			return -EIO;
		}
		if (ret < 0) {
			g_debug("%s: client refused DMA_%s of 0x%" PRIx64 "+0x%" PRIx64 ": %s",
				dm->id, write ? "WRITE" : "READ", gpa + done, n, g_strerror(-ret));
			return -EFAULT;
		}
		done += n;
	}
	return 0;
}
