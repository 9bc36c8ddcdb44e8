// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of devices/virtio_blk.c over a real temporary image file, driven by vdrv
 * (ops called directly, guest RAM a memfd gmem): configuration and features, read,
 * write, flush and get-id round trips checked against the file, several queues (at
 * most VIRTIO_BLK_MAX_QUEUES),
 * discard and write-zeroes when the file system has them, and the refusals: past the
 * end, sector overflow, partial sectors, wrong direction for the type, unknown type,
 * missing status byte, read-only, and every bad property.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/vdrv.h"

const struct dev_ops *const dev_table[] = {&virtio_blk_ops, NULL};

#define SECTORS 2048u
#define HDR VDRV_DATA
#define STATUS (VDRV_DATA + 0x800)
#define DATA (VDRV_DATA + 0x1000)
#define F_RO BIT64(5)
#define F_FLUSH BIT64(9)
#define F_MQ BIT64(12)
#define F_DISCARD BIT64(13)
#define F_WZ BIT64(14)
enum { T_IN = 0, T_OUT = 1, T_FLUSH = 4, T_GET_ID = 8, T_DISCARD = 11, T_WZ = 13 };

struct fx {
	struct vdrv d;
	int fd;
	char *path;
};

static void image(struct fx *f, int flags)
{
	uint8_t buf[512];

	f->fd = g_file_open_tmp("mpvmm-blk-XXXXXX", &f->path, NULL);
	g_assert_cmpint(f->fd, >=, 0);
	for (unsigned s = 0; s < SECTORS; s++) {
		memset(buf, s & 0xff, sizeof(buf));
		g_assert_cmpint(pwrite(f->fd, buf, sizeof(buf), s * 512ull), ==, 512);
	}
	if (flags != O_RDWR) {
		close(f->fd);
		f->fd = open(f->path, flags | O_CLOEXEC);
		g_assert_cmpint(f->fd, >=, 0);
	}
}

static void create(struct fx *f, const char *extra, unsigned nrq)
{
	g_autofree char *props = g_strdup_printf("{\"fd\": \"%d\"%s}", f->fd, extra);

	vdrv_create(&f->d, "virtio-blk", props);
	vdrv_start(&f->d, vdrv_features(&f->d) & ~(BIT64(28) | BIT64(32)), nrq);
}

static void setup(struct fx *f, gconstpointer data)
{
	image(f, O_RDWR);
	create(f, "", 1);
}

static void teardown(struct fx *f, gconstpointer data)
{
	vdrv_destroy(&f->d);
	close(f->fd);
	unlink(f->path);
	g_free(f->path);
}

/* One request on queue q: header, data (device-writable or not), status; returns status. */
static uint8_t req(struct fx *f, unsigned q, uint32_t type, uint64_t sector, uint32_t len,
		   bool data_write, uint32_t *used)
{
	uint8_t *hdr = vdrv_ptr(&f->d, HDR, 16), *status = vdrv_ptr(&f->d, STATUS, 1);
	struct vdrv_buf b[3] = {{HDR, 16, false}, {DATA, len, data_write}, {STATUS, 1, true}};
	uint32_t id;

	memset(hdr, 0, 16);
	memcpy(hdr, &type, 4);
	memcpy(hdr + 8, &sector, 8);
	*status = 0xee;
	if (len)
		vdrv_chain(&f->d, q, 0, b, 3);
	else
		vdrv_chain(&f->d, q, 0, (struct vdrv_buf[]){b[0], b[2]}, 2);
	vdrv_kick(&f->d, q, 0, q % 2);
	g_assert_true(vdrv_used(&f->d, q, &id, used));
	g_assert_cmpuint(id, ==, 0);
	return *status;
}

static void file_sector(struct fx *f, uint64_t s, uint8_t *buf)
{
	g_assert_cmpint(pread(f->fd, buf, 512, s * 512), ==, 512);
}

static void test_config(struct fx *f, gconstpointer data)
{
	uint64_t feat = vdrv_features(&f->d);

	g_assert_cmphex(vdrv_rd(&f->d, VIRTIO_PCI_DEVICE, 8), ==, SECTORS);
	g_assert_cmpuint(vdrv_rd(&f->d, VIRTIO_PCI_DEVICE + 12, 4), ==, 254); /* seg_max */
	g_assert_cmpuint(vdrv_rd(&f->d, VIRTIO_PCI_DEVICE + 20, 4), ==, 512); /* blk_size */
	g_assert_cmphex(feat & (F_FLUSH | BIT64(32) | BIT64(28)), ==,
			F_FLUSH | BIT64(32) | BIT64(28));
	g_assert_cmphex(feat & (F_RO | F_MQ), ==, 0);
	g_assert_cmpuint(vdrv_rd(&f->d, 18, 2), ==, 1); /* num_queues */
	g_assert_cmpuint(f->d.dev->nr_doorbells, ==, 1);
	g_assert_cmphex(f->d.dev->cfg.data[0x02], ==, 0x42); /* PCI device 0x1042 */
}

static void test_read_write(struct fx *f, gconstpointer data)
{
	uint8_t *p = vdrv_ptr(&f->d, DATA, 4096), buf[512];
	uint32_t used;

	g_assert_cmpuint(req(f, 0, T_IN, 7, 1024, true, &used), ==, 0);
	g_assert_cmpuint(used, ==, 1025);
	g_assert_cmpuint(p[0], ==, 7);
	g_assert_cmpuint(p[1023], ==, 8);
	g_assert_cmpuint(f->d.raised[0], ==, 1);
	memset(p, 0xa5, 4096);
	g_assert_cmpuint(req(f, 0, T_OUT, SECTORS - 8, 4096, false, &used), ==, 0);
	g_assert_cmpuint(used, ==, 1);
	file_sector(f, SECTORS - 1, buf);
	g_assert_cmpuint(buf[0], ==, 0xa5);
	file_sector(f, SECTORS - 9, buf);
	g_assert_cmpuint(buf[0], ==, (SECTORS - 9) & 0xff);
	g_assert_cmpuint(req(f, 0, T_FLUSH, 0, 0, false, &used), ==, 0);
	memset(p, 0, 4096);
	g_assert_cmpuint(req(f, 0, T_IN, SECTORS - 8, 4096, true, &used), ==, 0);
	g_assert_cmpuint(p[4095], ==, 0xa5);
}

static void test_get_id(struct fx *f, gconstpointer data)
{
	uint8_t *p = vdrv_ptr(&f->d, DATA, 20);
	uint32_t used;

	memset(p, 0xff, 20);
	g_assert_cmpuint(req(f, 0, T_GET_ID, 0, 20, true, &used), ==, 0);
	g_assert_cmpuint(used, ==, 21);
	g_assert_cmpmem(p, 4, "vd0\0", 4); /* default serial: the device id, NUL padded */
}

static void test_refused(struct fx *f, gconstpointer data)
{
	uint8_t buf[512];
	uint32_t used, id;

	g_assert_cmpuint(req(f, 0, T_IN, SECTORS, 512, true, &used), ==, 1); /* past end */
	g_assert_cmpuint(req(f, 0, T_IN, SECTORS - 1, 1024, true, &used), ==, 1);
	g_assert_cmpuint(req(f, 0, T_OUT, SECTORS, 512, false, &used), ==, 1);
	g_assert_cmpuint(req(f, 0, T_OUT, UINT64_MAX / 512 + 1, 512, false, &used), ==, 1);
	g_assert_cmpuint(req(f, 0, T_IN, UINT64_MAX, 512, true, &used), ==, 1); /* overflow */
	g_assert_cmpuint(req(f, 0, T_IN, 0, 100, true, &used), ==, 1);		/* partial sector */
	g_assert_cmpuint(used, ==, 101); /* the whole writable part */
	g_assert_cmpuint(req(f, 0, T_OUT, 0, 100, false, &used), ==, 1);
	g_assert_cmpuint(req(f, 0, T_IN, 0, 512, false, &used), ==, 1); /* wrong direction */
	g_assert_cmpuint(req(f, 0, T_OUT, 0, 512, true, &used), ==, 1);
	g_assert_cmpuint(req(f, 0, T_FLUSH, 0, 512, true, &used), ==, 1);
	g_assert_cmpuint(req(f, 0, T_GET_ID, 0, 20, false, &used), ==, 1);
	g_assert_cmpuint(req(f, 0, 99, 0, 0, false, &used), ==, 2); /* unsupported */
	file_sector(f, 0, buf);
	g_assert_cmpuint(buf[0], ==, 0); /* no refused write reached the file */
	/* No status byte: completed with nothing written, the device keeps going. */
	vdrv_chain(&f->d, 0, 0, (struct vdrv_buf[]){{HDR, 16, false}}, 1);
	vdrv_kick(&f->d, 0, 0, false);
	g_assert_true(vdrv_used(&f->d, 0, &id, &used));
	g_assert_cmpuint(used, ==, 0);
	g_assert_cmphex(vdrv_status(&f->d), ==, 0x0f);
}

/* The image shrinks under the device: reads past the new end fail, nothing hangs. */
static void test_shrunk(struct fx *f, gconstpointer data)
{
	uint32_t used;

	g_assert_cmpint(ftruncate(f->fd, 512 * (SECTORS / 2)), ==, 0);
	g_assert_cmpuint(req(f, 0, T_IN, SECTORS / 2 - 1, 1024, true, &used), ==, 1);
	g_assert_cmpuint(req(f, 0, T_IN, SECTORS - 1, 512, true, &used), ==, 1);
	g_assert_cmpuint(req(f, 0, T_IN, 0, 512, true, &used), ==, 0);
}

static void test_read_only(void)
{
	struct fx f;
	uint8_t buf[512];
	uint32_t used;

	image(&f, O_RDONLY);
	create(&f, ", \"read-only\": \"on\"", 1);
	g_assert_cmphex(vdrv_features(&f.d) & (F_RO | F_DISCARD | F_WZ), ==, F_RO);
	g_assert_cmpuint(req(&f, 0, T_IN, 3, 512, true, &used), ==, 0);
	g_assert_cmpuint(req(&f, 0, T_OUT, 3, 512, false, &used), ==, 1);
	g_assert_cmpuint(req(&f, 0, T_DISCARD, 0, 16, false, &used), ==, 1);
	g_assert_cmpuint(req(&f, 0, T_FLUSH, 0, 0, false, &used), ==, 0);
	file_sector(&f, 3, buf);
	g_assert_cmpuint(buf[0], ==, 3);
	teardown(&f, NULL);
}

static void test_multiqueue(void)
{
	struct fx f;
	uint32_t used;

	image(&f, O_RDWR);
	create(&f, ", \"num-queues\": \"4\"", 4);
	g_assert_cmphex(vdrv_features(&f.d) & F_MQ, ==, F_MQ);
	g_assert_cmpuint(vdrv_rd(&f.d, VIRTIO_PCI_DEVICE + 34, 2), ==, 4);
	g_assert_cmpuint(vdrv_rd(&f.d, 18, 2), ==, 4);
	g_assert_cmpuint(f.d.dev->nr_doorbells, ==, 4);
	g_assert_cmphex(f.d.dev->doorbells[3].off, ==, VIRTIO_PCI_NOTIFY + 12);
	for (unsigned q = 0; q < 4; q++)
		g_assert_cmpuint(req(&f, q, T_IN, q, 512, true, &used), ==, 0);
	for (unsigned q = 0; q < 4; q++)
		g_assert_cmpuint(f.d.raised[q], ==, 1);
	teardown(&f, NULL);
}

/*
 * VIRTIO_BLK_MAX_QUEUES (8) queues, each with its own doorbell in the notify area of
 * one BAR (all of which a device process can hand out as eventfds); a ninth refused.
 */
static void test_max_queues(void)
{
	g_autofree char *nine = NULL;
	struct fx f;
	uint32_t used;

	g_assert_cmpuint(VIRTIO_BLK_MAX_QUEUES, ==, 8);
	image(&f, O_RDWR);
	create(&f, ", \"num-queues\": \"8\"", 8);
	g_assert_cmpuint(vdrv_rd(&f.d, VIRTIO_PCI_DEVICE + 34, 2), ==, 8);
	g_assert_cmpuint(f.d.dev->nr_doorbells, ==, 8);
	for (unsigned q = 0; q < 8; q++) {
		g_assert_cmpuint(f.d.dev->doorbells[q].bar, ==, VIRTIO_PCI_BAR);
		g_assert_cmphex(f.d.dev->doorbells[q].off, ==,
				VIRTIO_PCI_NOTIFY + VIRTIO_PCI_NOTIFY_MULT * q);
		g_assert_cmpuint(req(&f, q, T_IN, q, 512, true, &used), ==, 0);
	}
	nine = g_strdup_printf("{\"fd\": \"%d\", \"num-queues\": \"9\"}", f.fd);
	vdrv_create_fail("virtio-blk", nine, -EINVAL);
	teardown(&f, NULL);
}

/* One discard/write-zeroes segment at DATA. */
static uint8_t zero_req(struct fx *f, uint32_t type, uint64_t sector, uint32_t n, uint32_t fl)
{
	uint8_t *seg = vdrv_ptr(&f->d, DATA, 16);
	uint32_t used;

	memcpy(seg, &sector, 8);
	memcpy(seg + 8, &n, 4);
	memcpy(seg + 12, &fl, 4);
	return req(f, 0, type, 0, 16, false, &used);
}

static void test_zeroes(struct fx *f, gconstpointer data)
{
	uint64_t feat = vdrv_features(&f->d);
	uint8_t buf[512];

	if (!(feat & F_WZ))
		g_assert_cmpuint(zero_req(f, T_WZ, 10, 2, 0), ==, 2);
	if (!(feat & F_DISCARD))
		g_assert_cmpuint(zero_req(f, T_DISCARD, 10, 2, 0), ==, 2);
	if (!(feat & (F_WZ | F_DISCARD))) {
		g_test_skip("the temporary directory's file system punches no holes");
		return;
	}
	if (feat & F_WZ) {
		g_assert_cmpuint(zero_req(f, T_WZ, 10, 2, 0), ==, 0);
		file_sector(f, 11, buf);
		g_assert_cmpuint(buf[511], ==, 0);
		file_sector(f, 12, buf);
		g_assert_cmpuint(buf[0], ==, 12);
		g_assert_cmpuint(zero_req(f, T_WZ, 10, 2, 2), ==, 2);	   /* unknown flag */
		g_assert_cmpuint(zero_req(f, T_WZ, SECTORS, 1, 0), ==, 1); /* past end */
	}
	if (feat & F_DISCARD) {
		g_assert_cmpuint(zero_req(f, T_DISCARD, 20, 8, 0), ==, 0);
		g_assert_cmpuint(zero_req(f, T_DISCARD, 20, 8, 1), ==, 2); /* unmap flag */
		g_assert_cmpuint(zero_req(f, T_DISCARD, UINT64_MAX, 8, 0), ==, 1);
		g_assert_cmpuint(zero_req(f, T_DISCARD, 0, UINT32_MAX, 0), ==, 1);
	}
}

static void test_bad_props(void)
{
	g_autofree char *ro = NULL, *wo = NULL, *dir = NULL, *ok = NULL;
	g_autofree char *path = NULL;
	int fd = g_file_open_tmp("mpvmm-blk-XXXXXX", &path, NULL);
	int rofd = open(path, O_RDONLY | O_CLOEXEC), wofd = open(path, O_WRONLY | O_CLOEXEC);
	int dirfd = open("/", O_RDONLY | O_CLOEXEC);

	ro = g_strdup_printf("{\"fd\": \"%d\"}", rofd);
	wo = g_strdup_printf("{\"fd\": \"%d\", \"read-only\": \"on\"}", wofd);
	dir = g_strdup_printf("{\"fd\": \"%d\", \"read-only\": \"on\"}", dirfd);
	vdrv_create_fail("virtio-blk", "{}", -EINVAL); /* no fd */
	vdrv_create_fail("virtio-blk", "{\"fd\": \"x\"}", -EINVAL);
	vdrv_create_fail("virtio-blk", "{\"fd\": \"-1\"}", -EINVAL);
	vdrv_create_fail("virtio-blk", "{\"fd\": \"100000\"}", -EBADF); /* not open */
	vdrv_create_fail("virtio-blk", ro, -EBADF);   /* read-only file, writable device */
	vdrv_create_fail("virtio-blk", wo, -EBADF);   /* write-only file */
	vdrv_create_fail("virtio-blk", dir, -EINVAL); /* not a regular file */
	vdrv_create_fail("virtio-blk", "{\"drive\": \"x\"}", -EINVAL); /* unknown */
	ok = g_strdup_printf("{\"fd\": \"%d\", \"num-queues\": \"0\"}", fd);
	vdrv_create_fail("virtio-blk", ok, -EINVAL);
	g_free(ok);
	ok = g_strdup_printf("{\"fd\": \"%d\", \"num-queues\": \"65\"}", fd);
	vdrv_create_fail("virtio-blk", ok, -EINVAL);
	g_free(ok);
	ok = g_strdup_printf("{\"fd\": \"%d\", \"read-only\": \"yes\"}", fd);
	vdrv_create_fail("virtio-blk", ok, -EINVAL);
	g_free(ok);
	ok = g_strdup_printf("{\"fd\": \"%d\", \"serial\": \"123456789012345678901\"}", fd);
	vdrv_create_fail("virtio-blk", ok, -EINVAL);
	close(fd);
	close(rofd);
	close(wofd);
	close(dirfd);
	unlink(path);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add("/devices/virtio-blk/config", struct fx, NULL, setup, test_config, teardown);
	g_test_add("/devices/virtio-blk/read-write", struct fx, NULL, setup, test_read_write,
		   teardown);
	g_test_add("/devices/virtio-blk/get-id", struct fx, NULL, setup, test_get_id, teardown);
	g_test_add("/devices/virtio-blk/refused", struct fx, NULL, setup, test_refused, teardown);
	g_test_add("/devices/virtio-blk/zeroes", struct fx, NULL, setup, test_zeroes, teardown);
	g_test_add("/devices/virtio-blk/shrunk", struct fx, NULL, setup, test_shrunk, teardown);
	g_test_add_func("/devices/virtio-blk/read-only", test_read_only);
	g_test_add_func("/devices/virtio-blk/multiqueue", test_multiqueue);
	g_test_add_func("/devices/virtio-blk/max-queues", test_max_queues);
	g_test_add_func("/devices/virtio-blk/bad-props", test_bad_props);
	return g_test_run();
}
