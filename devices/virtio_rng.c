// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio_rng: a virtio entropy device (virtio 1.1, 5.4).  It fills each device-writable
 * buffer of the request queue from a host entropy fd that the framework opened before
 * sandboxing (mpvmm-misc opens /dev/urandom); the device keeps its own duplicate and
 * never opens files.  A request with device-readable buffers is wrong-way round: it
 * completes with nothing written.  It is not a transport (virtio_pci.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "devices/virtio.h"

#define VIRTIO_ID_ENTROPY 4
#define VIRTIO_RNG_CLASS 0x00ff00 /* unclassified, other */
#define RNG_MAX_REQ (64u << 10)	  /* bytes served per request: bounds the time one takes */

struct virtio_rng {
	struct virtio_dev vdev;
	int fd; /* our duplicate of the entropy source */
};

static struct virtio_rng *to_rng(struct virtio_dev *vdev)
{
	return (struct virtio_rng *)((char *)vdev - offsetof(struct virtio_rng, vdev));
}

/* Fill the writable buffers; a short read (EAGAIN, EOF) returns what was read. */
static uint32_t virtio_rng_handle(struct virtio_dev *vdev, unsigned q, struct virtq_req *req)
{
	struct virtio_rng *r = to_rng(vdev);
	struct iovec *iov = req->iov + req->nr_out;
	uint32_t done = 0;

	if (req->nr_out) {
		g_debug("%s: request with device-readable buffers", vdev->dev.id);
		return 0;
	}
	for (unsigned i = 0; i < req->nr_in && done < RNG_MAX_REQ; i++) {
		size_t want = MIN(iov[i].iov_len, RNG_MAX_REQ - done);
		ssize_t n = read(r->fd, iov[i].iov_base, want);

		if (n < 0 && errno == EINTR) {
			i--;
			continue;
		}
		if (n <= 0)
			break;
		done += n;
		if ((size_t)n < want)
			break;
	}
	return done;
}

static const struct virtio_dev_ops virtio_rng_vops = {
	.handle = virtio_rng_handle,
};

static int virtio_rng_create(const struct dev_env *env, const char *id, json_object *cfg,
			     struct dev **out)
{
	const struct virtio_pci_params p = {
		.device_id = VIRTIO_ID_ENTROPY,
		.class_code = VIRTIO_RNG_CLASS,
		.nr_queues = 1,
	};
	struct virtio_rng *r;
	json_object *v;
	guint64 fd;
	int mode, ret;

	if (!cfg || !json_object_object_get_ex(cfg, "fd", &v) ||
	    !g_ascii_string_to_unsigned(json_object_get_string(v), 10, 0, INT_MAX, &fd, NULL))
		return -EINVAL;
	mode = fcntl(fd, F_GETFL);
	if (mode < 0)
		return -errno;
	if ((mode & O_ACCMODE) == O_WRONLY)
		return -EBADF;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (r->fd < 0) {
		ret = -errno;
		goto err_free;
	}
	ret = virtio_pci_init(&r->vdev, &p, &virtio_rng_vops);
	if (ret < 0)
		goto err_close;
	*out = &r->vdev.dev;
	return 0;
err_close:
	close(r->fd);
err_free:
	free(r);
	return ret;
}

static void virtio_rng_destroy(struct dev *dev)
{
	struct virtio_rng *r = to_rng(virtio_dev_of(dev));

	close(r->fd);
	free(r);
}

const struct dev_ops virtio_rng_ops = {
	.type = "virtio-rng",
	.desc = "virtio entropy device (virtio 1.x PCI) fed from the host's /dev/urandom",
	.props = "fd=<int>: the open entropy source; the process sets it (/dev/urandom)",
	.create = virtio_rng_create,
	.destroy = virtio_rng_destroy,
	.bar_read = virtio_pci_bar_read,
	.bar_write = virtio_pci_bar_write,
	.reset = virtio_pci_reset,
	.doorbell = virtio_pci_doorbell,
	.cfg_read = virtio_pci_cfg_read,
	.cfg_write = virtio_pci_cfg_write,
};
