// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfu_client: the pci-proxy-dev backend that reaches a device over vfio-user
 * (QEMU docs/interop/vfio-user.rst).  It performs the handshake, validates what the
 * remote says about its device, and turns config and BAR accesses into
 * VFIO_USER_REGION_READ/WRITE.  BAR virtualization is pcifn.c's job, not this file's.
 * The remote is untrusted: every reply field is checked before use.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "protocol/protocol.h"
#include "proxy/proxy.h"
#include "proxy/vfu_client.h"

void vfu_client_destroy(void *be)
{
	struct vfu_client *c = be;

	vfu_client_dma_unlisten(c);
	vfu_client_dma_stop(c);
	if (c->sock >= 0)
		close(c->sock);
	pthread_mutex_destroy(&c->lock);
	free(c->id);
	free(c);
}

int vfu_client_call(struct vfu_client *c, uint16_t cmd, const void *req, size_t len, const int *fds,
		    unsigned nr_fds, struct vfu_msg *reply)
{
	int ret;

	pthread_mutex_lock(&c->lock);
	ret = vfu_call_dma(c->sock, &c->next_id, vfu_client_dma(c), cmd, req, len, fds, nr_fds,
			   reply);
	pthread_mutex_unlock(&c->lock);
	return ret;
}

/* One REGION_READ/REGION_WRITE round trip (spec "VFIO_USER_REGION_READ/WRITE"). */
int vfu_client_access(struct vfu_client *c, uint32_t region, uint64_t off, uint32_t count,
		      bool write, void *data)
{
	struct {
		struct vfu_region_access hdr;
		uint8_t data[8];
	} req = {.hdr = {.offset = off, .region = region, .count = count}};
	struct vfu_region_access got;
	const uint8_t *rdata = NULL;
	struct vfu_msg reply;
	int ret;

	if (count > sizeof(req.data))
		return -EINVAL;
	if (write)
		memcpy(req.data, data, count);
	ret = vfu_client_call(c, write ? VFU_CMD_REGION_WRITE : VFU_CMD_REGION_READ, &req,
			      sizeof(req.hdr) + (write ? count : 0), NULL, 0, &reply);
	if (ret < 0)
		return ret;
	ret = vfu_region_access_decode(&reply, true, write, &got, &rdata);
	if (ret == 0 && (got.offset != off || got.region != region || got.count != count))
		ret = -EPROTO;
	if (ret == 0 && !write)
		memcpy(data, rdata, count);
	if (ret == -EPROTO)
		g_warning("%s: remote sent a malformed %s reply", c->id,
			  write ? "REGION_WRITE" : "REGION_READ");
	vfu_msg_clear(&reply);
	return ret;
}

static int vfu_client_cfg_read(void *be, uint32_t off, unsigned size, uint32_t *val)
{
	struct vfu_client *c = be;
	uint32_t v = 0;
	int ret;

	if (off + size > c->cfg_size) { /* beyond what the device implements reads 0 */
		*val = 0;
		return 0;
	}
	ret = vfu_client_access(c, VFU_PCI_CONFIG_REGION, off, size, false, &v);
	if (ret == 0)
		*val = v;
	return ret;
}

static int vfu_client_cfg_write(void *be, uint32_t off, unsigned size, uint32_t val)
{
	struct vfu_client *c = be;

	if (off + size > c->cfg_size)
		return 0;
	return vfu_client_access(c, VFU_PCI_CONFIG_REGION, off, size, true, &val);
}

static int vfu_client_bar_read(void *be, unsigned bar, uint64_t off, unsigned size, uint64_t *val)
{
	uint64_t v = 0;
	int ret = vfu_client_access(be, bar, off, size, false, &v);

	if (ret == 0)
		*val = v;
	return ret;
}

static int vfu_client_bar_write(void *be, unsigned bar, uint64_t off, unsigned size, uint64_t val)
{
	return vfu_client_access(be, bar, off, size, true, &val);
}

static int vfu_client_reset(void *be)
{
	struct vfu_client *c = be;
	struct vfu_msg reply;
	int ret;

	ret = vfu_client_call(c, VFU_CMD_DEVICE_RESET, NULL, 0, NULL, 0, &reply);
	if (ret == 0) {
		if (reply.len != 0)
			ret = -EPROTO;
		vfu_msg_clear(&reply);
	}
	return ret;
}

const struct pcifn_backend_ops vfu_client_ops = {
	.cfg_read = vfu_client_cfg_read,
	.cfg_write = vfu_client_cfg_write,
	.bar_read = vfu_client_bar_read,
	.bar_write = vfu_client_bar_write,
	.reset = vfu_client_reset,
	.destroy = vfu_client_destroy,
	.set_irqs = vfu_client_set_irqs,
};
