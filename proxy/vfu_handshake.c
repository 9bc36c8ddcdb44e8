// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfu_handshake: connecting a pci-proxy-dev to its remote device.  Negotiates the
 * version (spec "VFIO_USER_VERSION"), checks that the remote hosts the device the
 * user named (our device-id extension, docs/protocol.md), reads and validates the
 * device, region and IRQ info, and derives the BAR layout from the region sizes and
 * the type bits of the remote's BAR registers.  Errors are for a human: they name the
 * device and say what to fix.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "proxy/vfu_client.h"

#define PROXY_ERROR g_quark_from_static_string("mpvmm-proxy-error")
#define VFU_CLIENT_MAX_REGIONS 16u
#define VFU_CLIENT_MAX_IRQS 16u
#define PCI_CFG_MIN 256u
#define PCI_CFG_MAX 4096u

static int hs_version(struct vfu_client *c, GError **err)
{
	struct vfu_caps mine = {.major = VFU_VERSION_MAJOR,
				.minor = VFU_VERSION_MINOR,
				.max_msg_fds = VFU_MAX_FDS,
				.max_data_xfer_size = VFU_MAX_DATA_XFER,
				.device_id = c->id};
	struct vfu_caps theirs = {0};
	g_autofree uint8_t *payload = NULL;
	struct vfu_msg reply;
	size_t len;
	int ret;

	ret = vfu_version_encode(&mine, &payload, &len);
	if (ret < 0)
		goto fail;
	ret = vfu_call(c->sock, &c->next_id, VFU_CMD_VERSION, payload, len, NULL, 0, &reply);
	if (ret == -ENODEV) {
		g_set_error(err, PROXY_ERROR, 0,
			    "pci-proxy-dev '%s': the remote at the other end of this socket does "
			    "not host a device with id '%s'; check the socket= option and the "
			    "remote's -device id=",
			    c->id, c->id);
		return ret;
	}
	if (ret < 0)
		goto fail;
	ret = vfu_version_decode(reply.payload, reply.len, &theirs);
	vfu_msg_clear(&reply);
	if (ret < 0)
		goto fail;
	ret = vfu_version_check(&mine, &theirs);
	c->peer_max_fds = theirs.max_msg_fds;
	if (ret == -EPROTONOSUPPORT || ret == -EPROTO)
		g_set_error(err, PROXY_ERROR, 0,
			    "pci-proxy-dev '%s': remote speaks vfio-user %u.%u, we speak %u.%u",
			    c->id, theirs.major, theirs.minor, VFU_VERSION_MAJOR,
			    VFU_VERSION_MINOR);
	else if (ret == -ENODEV)
		g_set_error(err, PROXY_ERROR, 0,
			    "pci-proxy-dev '%s': socket is connected to device '%s', not '%s'; "
			    "pass the socket of the remote device with id=%s",
			    c->id, theirs.device_id ? theirs.device_id : "(unnamed)", c->id, c->id);
	vfu_caps_clear(&theirs);
	return ret;
fail:
	g_set_error(err, PROXY_ERROR, 0,
		    "pci-proxy-dev '%s': vfio-user handshake failed: %s; is the other end of "
		    "the socket an mpvmm remote (mpvmm-misc, mpvmm-storage, ...)?",
		    c->id, g_strerror(-ret));
	return ret;
}

static int hs_device_info(struct vfu_client *c)
{
	struct vfu_device_info req = {.argsz = sizeof(req)};
	struct vfu_msg reply;
	int ret;

	ret = vfu_call(c->sock, &c->next_id, VFU_CMD_DEVICE_GET_INFO, &req, sizeof(req), NULL, 0,
		       &reply);
	if (ret < 0)
		return ret;
	ret = vfu_device_info_decode(&reply, true, &c->info);
	vfu_msg_clear(&reply);
	if (ret < 0)
		return ret;
	if (!(c->info.flags & VFU_DEV_FLAG_PCI) || c->info.num_regions <= VFU_PCI_CONFIG_REGION ||
	    c->info.num_regions > VFU_CLIENT_MAX_REGIONS || c->info.num_irqs > VFU_CLIENT_MAX_IRQS)
		return -EPROTO;
	return 0;
}

static int hs_region_info(struct vfu_client *c, uint32_t index, struct vfu_region_info *ri)
{
	struct vfu_region_info req = {.argsz = sizeof(req), .index = index};
	struct vfu_msg reply;
	int ret;

	ret = vfu_call(c->sock, &c->next_id, VFU_CMD_DEVICE_GET_REGION_INFO, &req, sizeof(req),
		       NULL, 0, &reply);
	if (ret < 0)
		return ret;
	ret = vfu_region_info_decode(&reply, true, ri);
	vfu_msg_clear(&reply);
	if (ret == 0 && ri->index != index)
		ret = -EPROTO;
	return ret;
}

/* BAR i: size from region info, type from the remote's BAR register (PCI 6.2.5.1). */
static int hs_bar(struct vfu_client *c, unsigned i, struct pcifn_bar bars[PCIFN_NUM_BARS])
{
	struct vfu_region_info ri;
	uint32_t reg = 0;
	int ret;

	ret = hs_region_info(c, i, &ri);
	if (ret < 0)
		return ret;
	if (ri.size == 0)
		return 0;
	if ((ri.size & (ri.size - 1)) || !(ri.flags & VFU_REGION_READ))
		return -EPROTO;
	ret = vfu_client_access(c, VFU_PCI_CONFIG_REGION, 0x10 + 4 * i, 4, false, &reg);
	if (ret < 0)
		return ret;
	bars[i].size = ri.size;
	if (reg & 0x1) {
		bars[i].flags = PCIFN_BAR_IO;
	} else {
		if (((reg >> 1) & 3) == 2)
			bars[i].flags |= PCIFN_BAR_MEM64;
		else if (((reg >> 1) & 3) != 0)
			return -EPROTO; /* reserved memory type */
		if (reg & 0x8)
			bars[i].flags |= PCIFN_BAR_PREFETCH;
	}
	return 0;
}

static int hs_regions(struct vfu_client *c, struct pcifn_bar bars[PCIFN_NUM_BARS])
{
	struct vfu_region_info ri;
	int ret;

	ret = hs_region_info(c, VFU_PCI_CONFIG_REGION, &ri);
	if (ret < 0)
		return ret;
	if (ri.size < PCI_CFG_MIN || ri.size > PCI_CFG_MAX ||
	    (ri.flags & (VFU_REGION_READ | VFU_REGION_WRITE)) !=
		    (VFU_REGION_READ | VFU_REGION_WRITE))
		return -EPROTO;
	c->cfg_size = (uint32_t)ri.size;
	for (unsigned i = 0; i < PCIFN_NUM_BARS; i++) {
		ret = hs_bar(c, i, bars);
		if (ret < 0)
			return ret;
		if (bars[i].flags & PCIFN_BAR_MEM64 && i + 1 < PCIFN_NUM_BARS) {
			ret = hs_region_info(c, ++i, &ri);
			if (ret == 0 && ri.size != 0)
				ret = -EPROTO;
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

static int hs_irqs(struct vfu_client *c)
{
	for (uint32_t i = 0; i < c->info.num_irqs; i++) {
		struct vfu_irq_info req = {.argsz = sizeof(req), .index = i}, got;
		struct vfu_msg reply;
		int ret;

		ret = vfu_call(c->sock, &c->next_id, VFU_CMD_DEVICE_GET_IRQ_INFO, &req, sizeof(req),
			       NULL, 0, &reply);
		if (ret < 0)
			return ret;
		ret = vfu_irq_info_decode(&reply, true, &got);
		vfu_msg_clear(&reply);
		if (ret == 0 && got.index != i)
			ret = -EPROTO;
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int hs_check_socket(const char *id, int sock, GError **err)
{
	int type = 0;
	socklen_t len = sizeof(type);

	if (getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM) {
		g_set_error(err, PROXY_ERROR, 0,
			    "pci-proxy-dev '%s': fd %d is not a connected stream socket; pass "
			    "one end of a socketpair(AF_UNIX, SOCK_STREAM) or a socket path",
			    id, sock);
		return -ENOTSOCK;
	}
	return 0;
}

/* Guest RAM and doorbells (vfu_dma.c); fn is destroyed on failure. */
static int hs_bypass(struct vfu_client *c, const struct gmem *mem, struct pcifn *fn,
		     const struct pcifn_bar bars[PCIFN_NUM_BARS], GError **err)
{
	int ret = vfu_client_dma_map(c, mem);

	if (ret < 0 && c->by_message) {
		g_set_error(err, PROXY_ERROR, 0,
			    "pci-proxy-dev '%s': the remote refused guest RAM without an fd "
			    "(DMA_MAP: %s); it cannot use DMA_READ/DMA_WRITE, so drop dma=message "
			    "(the default dma=fd shares the memfds)",
			    c->id, g_strerror(-ret));
		pcifn_destroy(fn);
		return ret;
	}
	if (ret < 0) {
		g_set_error(err, PROXY_ERROR, 0,
			    "pci-proxy-dev '%s': the remote refused guest RAM (DMA_MAP: %s); it "
			    "must be able to mmap the VMM's memfds, or try dma=message",
			    c->id, g_strerror(-ret));
		pcifn_destroy(fn);
		return ret;
	}
	ret = vfu_client_io_fds(c, fn, bars);
	if (ret == 0) {
		/* Under the lock: a memory change on another thread may start it too. */
		pthread_mutex_lock(&c->lock);
		ret = vfu_client_dma_start(c);
		pthread_mutex_unlock(&c->lock);
		if (ret < 0) {
			g_set_error(err, PROXY_ERROR, 0,
				    "pci-proxy-dev '%s': cannot start the "
				    "thread that serves DMA by message: %s",
				    c->id, g_strerror(-ret));
			pcifn_destroy(fn);
			return ret;
		}
	}
	if (ret < 0) {
		g_set_error(err, PROXY_ERROR, 0,
			    "pci-proxy-dev '%s': the remote described its doorbells badly "
			    "(GET_REGION_IO_FDS: %s); the device cannot be attached",
			    c->id, g_strerror(-ret));
		pcifn_destroy(fn);
	}
	return ret;
}

int proxy_connect(const char *id, int sock, const struct gmem *mem, struct pcifn **out,
		  GError **err)
{
	return proxy_connect_dma(id, sock, mem, PROXY_DMA_FD, out, err);
}

int proxy_connect_dma(const char *id, int sock, const struct gmem *mem, enum proxy_dma dma,
		      struct pcifn **out, GError **err)
{
	struct pcifn_bar bars[PCIFN_NUM_BARS] = {0};
	struct vfu_client *c;
	int ret;

	ret = hs_check_socket(id, sock, err);
	if (ret < 0) {
		close(sock);
		return ret;
	}
	c = calloc(1, sizeof(*c));
	if (!c || !(c->id = strdup(id))) {
		free(c);
		close(sock);
		return -ENOMEM;
	}
	c->sock = sock;
	c->stop_fd = -1;
	c->by_message = dma == PROXY_DMA_MESSAGE;
	pthread_mutex_init(&c->lock, NULL);
	ret = hs_version(c, err);
	if (ret < 0)
		goto destroy;
	ret = hs_device_info(c);
	if (ret == 0)
		ret = hs_regions(c, bars);
	if (ret == 0)
		ret = hs_irqs(c);
	if (ret < 0) {
		g_set_error(err, PROXY_ERROR, 0,
			    "pci-proxy-dev '%s': the remote described its device badly (%s); "
			    "the device cannot be attached",
			    id, g_strerror(-ret));
		goto destroy;
	}
	ret = pcifn_create(id, &vfu_client_ops, c, bars, out);
	if (ret < 0) {
		g_set_error(err, PROXY_ERROR, 0,
			    "pci-proxy-dev '%s': inconsistent BAR layout from the remote", id);
		return ret; /* pcifn_create destroyed c on failure */
	}
	ret = hs_bypass(c, mem, *out, bars, err);
	if (ret < 0)
		*out = NULL; /* hs_bypass destroyed it */
	return ret;
destroy:
	vfu_client_destroy(c);
	return ret;
}

int proxy_connect_path(const char *id, const char *path, const struct gmem *mem, struct pcifn **out,
		       GError **err)
{
	return proxy_connect_path_dma(id, path, mem, PROXY_DMA_FD, out, err);
}

int proxy_connect_path_dma(const char *id, const char *path, const struct gmem *mem,
			   enum proxy_dma dma, struct pcifn **out, GError **err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int sock;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		g_set_error(err, PROXY_ERROR, 0,
			    "pci-proxy-dev '%s': socket path '%s' is longer than %zu bytes", id,
			    path, sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return -errno;
	if (connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int ret = -errno;

		g_set_error(err, PROXY_ERROR, 0,
			    "pci-proxy-dev '%s': cannot connect to '%s': %s; is the remote "
			    "running with -device ...,id=%s,socket=%s?",
			    id, path, g_strerror(-ret), id, path);
		close(sock);
		return ret;
	}
	return proxy_connect_dma(id, sock, mem, dma, out, err);
}
