// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio_blk: a virtio block device (virtio 1.1, 5.2) over a raw image file.  The
 * image is an fd the framework opened (the device never opens files); the device
 * keeps its own duplicate.  It serves read, write, flush and get-id, and discard and
 * write-zeroes when the file system supports punching holes and zeroing ranges, with
 * synchronous preadv/pwritev straight into guest buffers.  Every request is checked
 * for layout, direction and range before the file is touched; a bad request completes
 * with VIRTIO_BLK_S_IOERR or _UNSUPP.  It is not a transport (virtio_pci.c) and does
 * not parse command lines (devices/blockdev.c turns -blockdev nodes into fd= and
 * read-only= properties).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "devices/virtio.h"

#define VIRTIO_ID_BLOCK 2
#define VIRTIO_BLK_CLASS 0x018000 /* mass storage, other */
#define SECTOR 512ull

/* Feature bits (5.2.3). */
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_MQ 12
#define VIRTIO_BLK_F_DISCARD 13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* Request types and status (5.2.6). */
enum {
	BLK_T_IN = 0,
	BLK_T_OUT = 1,
	BLK_T_FLUSH = 4,
	BLK_T_GET_ID = 8,
	BLK_T_DISCARD = 11,
	BLK_T_WRITE_ZEROES = 13
};
enum { BLK_S_OK = 0, BLK_S_IOERR = 1, BLK_S_UNSUPP = 2 };
#define BLK_HDR 16 /* le32 type, le32 reserved, le64 sector */
#define BLK_SEG 16 /* discard/write-zeroes segment: le64 sector, le32 num, le32 flags */
#define BLK_WZ_F_UNMAP 1
#define BLK_ID_BYTES 20

/* Configuration layout (5.2.4), byte offsets. */
enum {
	CFG_CAPACITY = 0,
	CFG_SEG_MAX = 12,
	CFG_BLK_SIZE = 20,
	CFG_NUM_QUEUES = 34,
	CFG_MAX_DISCARD_SECTORS = 36,
	CFG_MAX_DISCARD_SEG = 40,
	CFG_DISCARD_ALIGN = 44,
	CFG_MAX_WZ_SECTORS = 48,
	CFG_MAX_WZ_SEG = 52,
	CFG_SIZE = 60
};
#define BLK_MAX_RANGE_SECTORS (UINT32_MAX / SECTOR) /* per discard/write-zeroes segment */

struct virtio_blk {
	struct virtio_dev vdev;
	int fd;		   /* our duplicate of the image fd */
	uint64_t capacity; /* sectors */
	bool read_only, punch, zero;
	char serial[BLK_ID_BYTES];
	uint8_t config[CFG_SIZE];
	struct iovec iov[VIRTQ_MAX_SIZE]; /* scratch for the data part of a request */
};

static struct virtio_blk *to_blk(struct virtio_dev *vdev)
{
	return (struct virtio_blk *)((char *)vdev - offsetof(struct virtio_blk, vdev));
}

static void le_put(uint8_t *p, uint64_t v, unsigned size)
{
	for (unsigned i = 0; i < size; i++)
		p[i] = v >> (8 * i);
}

static uint64_t le_get(const uint8_t *p, unsigned size)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* [sector, sector + n) inside the disk, overflow-safe. */
static bool blk_range_ok(const struct virtio_blk *b, uint64_t sector, uint64_t n)
{
	return sector <= b->capacity && n <= b->capacity - sector;
}

/* preadv/pwritev the whole iovec at `off`, resuming after short transfers. */
static int blk_rw(struct virtio_blk *b, bool write, unsigned n, uint64_t off, uint64_t len)
{
	struct iovec *iov = b->iov;

	while (len) {
		ssize_t r = write ? pwritev(b->fd, iov, n, off) : preadv(b->fd, iov, n, off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO; /* the image shrank under us */
		off += r;
		len -= r;
		while (n && (size_t)r >= iov->iov_len) {
			r -= iov->iov_len;
			iov++;
			n--;
		}
		if (n) {
			iov->iov_base = (char *)iov->iov_base + r;
			iov->iov_len -= r;
		}
	}
	return 0;
}

/* IN: header only readable; data then status writable. */
static uint8_t blk_read(struct virtio_blk *b, struct virtq_req *req, uint64_t sector)
{
	uint64_t len = req->in_len - 1;
	int n;

	if (req->out_len != BLK_HDR || len % SECTOR || !blk_range_ok(b, sector, len / SECTOR))
		return BLK_S_IOERR;
	n = virtq_req_slice(req, true, 0, len, b->iov);
	if (n < 0 || blk_rw(b, false, n, sector * SECTOR, len) < 0)
		return BLK_S_IOERR;
	return BLK_S_OK;
}

/* OUT: header and data readable; only the status writable. */
static uint8_t blk_write(struct virtio_blk *b, struct virtq_req *req, uint64_t sector)
{
	uint64_t len = req->out_len - BLK_HDR;
	int n;

	if (b->read_only || req->in_len != 1 || len % SECTOR ||
	    !blk_range_ok(b, sector, len / SECTOR))
		return BLK_S_IOERR;
	n = virtq_req_slice(req, false, BLK_HDR, len, b->iov);
	if (n < 0 || blk_rw(b, true, n, sector * SECTOR, len) < 0)
		return BLK_S_IOERR;
	return BLK_S_OK;
}

static uint8_t blk_get_id(struct virtio_blk *b, struct virtq_req *req)
{
	uint64_t len = MIN(req->in_len - 1, BLK_ID_BYTES);

	if (req->out_len != BLK_HDR)
		return BLK_S_IOERR;
	virtq_req_write(req, 0, b->serial, len);
	return BLK_S_OK;
}

/* One discard or write-zeroes segment (5.2.6.2); we advertise max_*_seg = 1. */
static uint8_t blk_zero(struct virtio_blk *b, struct virtq_req *req, bool discard)
{
	uint8_t seg[BLK_SEG];
	uint64_t sector;
	uint32_t num, flags;
	int mode;

	if (discard ? !b->punch : !b->zero)
		return BLK_S_UNSUPP;
	if (req->out_len != BLK_HDR + BLK_SEG || req->in_len != 1)
		return BLK_S_IOERR;
	virtq_req_read(req, BLK_HDR, seg, sizeof(seg));
	sector = le_get(seg, 8);
	num = le_get(seg + 8, 4);
	flags = le_get(seg + 12, 4);
	/* Discard takes no flags; write-zeroes knows only UNMAP (5.2.6.2). */
	if (discard ? flags != 0 : flags & ~BLK_WZ_F_UNMAP)
		return BLK_S_UNSUPP;
	if (num > BLK_MAX_RANGE_SECTORS || !blk_range_ok(b, sector, num))
		return BLK_S_IOERR;
	mode = discard ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE : FALLOC_FL_ZERO_RANGE;
	if (num && fallocate(b->fd, mode, sector * SECTOR, num * SECTOR) < 0)
		return BLK_S_IOERR;
	return BLK_S_OK;
}

static uint8_t blk_serve(struct virtio_blk *b, struct virtq_req *req, uint32_t type,
			 uint64_t sector)
{
	switch (type) {
	case BLK_T_IN:
		return blk_read(b, req, sector);
	case BLK_T_OUT:
		return blk_write(b, req, sector);
	case BLK_T_FLUSH:
		if (req->out_len != BLK_HDR || req->in_len != 1)
			return BLK_S_IOERR;
		return fdatasync(b->fd) < 0 ? BLK_S_IOERR : BLK_S_OK;
	case BLK_T_GET_ID:
		return blk_get_id(b, req);
	case BLK_T_DISCARD:
	case BLK_T_WRITE_ZEROES:
		if (b->read_only)
			return BLK_S_IOERR;
		return blk_zero(b, req, type == BLK_T_DISCARD);
	default:
		return BLK_S_UNSUPP;
	}
}

static uint32_t virtio_blk_handle(struct virtio_dev *vdev, unsigned q, struct virtq_req *req)
{
	struct virtio_blk *b = to_blk(vdev);
	uint8_t hdr[BLK_HDR], status;
	uint32_t type;

	/* Without a readable header and a writable status byte there is nothing to answer. */
	if (req->out_len < BLK_HDR || req->in_len < 1) {
		g_debug("%s: request without header or status byte", vdev->dev.id);
		return 0;
	}
	virtq_req_read(req, 0, hdr, sizeof(hdr));
	type = le_get(hdr, 4);
	status = blk_serve(b, req, type, le_get(hdr + 8, 8));
	if (status != BLK_S_OK)
		g_debug("%s: request type %u failed with status %u", vdev->dev.id, type, status);
	virtq_req_write(req, req->in_len - 1, &status, 1);
	/*
	 * The status is the last writable byte, and a driver may trust only the first
	 * `len` bytes of the used length (2.6.8.2), so every answered request reports its
	 * whole writable part, as QEMU's device does.
	 */
	return req->in_len;
}

static const struct virtio_dev_ops virtio_blk_vops = {
	.handle = virtio_blk_handle,
};

/* A property string, or NULL if absent. */
static const char *prop(json_object *cfg, const char *name)
{
	json_object *v;

	return cfg && json_object_object_get_ex(cfg, name, &v) ? json_object_get_string(v) : NULL;
}

static int prop_uint(json_object *cfg, const char *name, uint64_t min, uint64_t max, uint64_t def,
		     uint64_t *out)
{
	const char *s = prop(cfg, name);

	*out = def;
	if (s && !g_ascii_string_to_unsigned(s, 10, min, max, out, NULL))
		return -EINVAL;
	return 0;
}

static int prop_bool(json_object *cfg, const char *name, bool *out)
{
	const char *s = prop(cfg, name);

	*out = s && !strcmp(s, "on");
	return !s || !strcmp(s, "on") || !strcmp(s, "off") ? 0 : -EINVAL;
}

/*
 * Take our own duplicate of the image: a regular file opened for reading, and for
 * writing unless read-only.  Probe hole punching and zeroing past the end of the file,
 * where they change nothing, so we advertise only what the file system does.
 */
static int blk_open(struct virtio_blk *b, int fd)
{
	struct stat st;
	int mode = fcntl(fd, F_GETFL);

	if (mode < 0)
		return -errno;
	mode &= O_ACCMODE;
	if (mode == O_WRONLY || (mode == O_RDONLY && !b->read_only))
		return -EBADF;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	b->capacity = st.st_size / SECTOR;
	if (st.st_size % SECTOR)
		g_warning("image size %jd is not a multiple of 512; the tail is not visible",
			  (intmax_t)st.st_size);
	b->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (b->fd < 0)
		return -errno;
	if (!b->read_only) {
		b->punch = fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, st.st_size,
				     SECTOR) == 0;
		b->zero = fallocate(b->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, st.st_size,
				    SECTOR) == 0;
	}
	return 0;
}

static uint64_t blk_features(const struct virtio_blk *b, unsigned nr_queues)
{
	uint64_t f = BIT64(VIRTIO_BLK_F_SEG_MAX) | BIT64(VIRTIO_BLK_F_BLK_SIZE) |
		     BIT64(VIRTIO_BLK_F_FLUSH);

	if (nr_queues > 1)
		f |= BIT64(VIRTIO_BLK_F_MQ);
	if (b->read_only)
		f |= BIT64(VIRTIO_BLK_F_RO);
	if (b->punch)
		f |= BIT64(VIRTIO_BLK_F_DISCARD);
	if (b->zero)
		f |= BIT64(VIRTIO_BLK_F_WRITE_ZEROES);
	return f;
}

static void blk_config(struct virtio_blk *b, unsigned nr_queues)
{
	uint8_t *c = b->config;

	le_put(c + CFG_CAPACITY, b->capacity, 8);
	le_put(c + CFG_SEG_MAX, VIRTQ_MAX_SIZE - 2, 4); /* header and status take two */
	le_put(c + CFG_BLK_SIZE, SECTOR, 4);
	le_put(c + CFG_NUM_QUEUES, nr_queues, 2);
	le_put(c + CFG_MAX_DISCARD_SECTORS, BLK_MAX_RANGE_SECTORS, 4);
	le_put(c + CFG_MAX_DISCARD_SEG, 1, 4);
	le_put(c + CFG_DISCARD_ALIGN, 1, 4);
	le_put(c + CFG_MAX_WZ_SECTORS, BLK_MAX_RANGE_SECTORS, 4);
	le_put(c + CFG_MAX_WZ_SEG, 1, 4);
}

static int blk_props(struct virtio_blk *b, json_object *cfg, uint64_t *fd, uint64_t *nrq)
{
	const char *serial = prop(cfg, "serial");

	if (prop_uint(cfg, "fd", 0, INT_MAX, UINT64_MAX, fd) < 0 || *fd == UINT64_MAX ||
	    prop_uint(cfg, "num-queues", 1, VIRTIO_BLK_MAX_QUEUES, 1, nrq) < 0 ||
	    prop_bool(cfg, "read-only", &b->read_only) < 0)
		return -EINVAL;
	if (serial && strlen(serial) > BLK_ID_BYTES)
		return -EINVAL;
	if (serial)
		memcpy(b->serial, serial, strlen(serial)); /* NUL-padded, not terminated */
	return 0;
}

static int virtio_blk_create(const struct dev_env *env, const char *id, json_object *cfg,
			     struct dev **out)
{
	struct virtio_pci_params p = {.device_id = VIRTIO_ID_BLOCK, .class_code = VIRTIO_BLK_CLASS};
	struct virtio_blk *b = calloc(1, sizeof(*b));
	uint64_t fd, nrq;
	int ret;

	if (!b)
		return -ENOMEM;
	b->fd = -1;
	ret = blk_props(b, cfg, &fd, &nrq);
	if (ret >= 0 && !prop(cfg, "serial"))
		memcpy(b->serial, id, MIN(strlen(id), sizeof(b->serial))); /* default: the id */
	if (ret >= 0)
		ret = blk_open(b, fd);
	if (ret < 0)
		goto err_free;
	blk_config(b, nrq);
	p.nr_queues = nrq;
	p.features = blk_features(b, nrq);
	p.config = b->config;
	p.config_size = sizeof(b->config);
	ret = virtio_pci_init(&b->vdev, &p, &virtio_blk_vops);
	if (ret < 0)
		goto err_close;
	*out = &b->vdev.dev;
	return 0;
err_close:
	close(b->fd);
err_free:
	free(b);
	return ret;
}

static void virtio_blk_destroy(struct dev *dev)
{
	struct virtio_blk *b = to_blk(virtio_dev_of(dev));

	close(b->fd);
	free(b);
}

const struct dev_ops virtio_blk_ops = {
	.type = "virtio-blk",
	.desc = "virtio block device (virtio 1.x PCI) over a raw image",
	.props = "drive=NODE: the -blockdev node of the image (required; the process opens it)\n"
		 "fd=<int>: the open image; set from drive=NODE, never given by hand\n"
		 "read-only=on|off: refuse writes (VIRTIO_BLK_F_RO), default off\n"
		 "num-queues=<1-8>: request queues, default 1 (at most 8: a device process gets "
		 "each queue's doorbell as an eventfd, 8 per vfio-user message)\n"
		 "serial=<string>: up to 20 characters for GET_ID, default the id",
	.create = virtio_blk_create,
	.destroy = virtio_blk_destroy,
	.bar_read = virtio_pci_bar_read,
	.bar_write = virtio_pci_bar_write,
	.reset = virtio_pci_reset,
	.doorbell = virtio_pci_doorbell,
	.cfg_read = virtio_pci_cfg_read,
	.cfg_write = virtio_pci_cfg_write,
};
