// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfx: fixture and raw-message helpers for the vfu_server unit tests (see vfx.h).
 * Test code only: every helper asserts on failure.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/unit/vfx.h"


void vfx_setup(struct vfx *f, gconstpointer data)
{
	static const struct dev_env env = { 0 };
	g_autofree char *err = NULL;
	int sv[2];

	g_assert_cmpint(dev_create("pci-testdev", "t0", &env, NULL, &f->dev, &err), ==, 0);
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	f->cli = sv[0];
	f->srv_sock = sv[1];
	g_assert_cmpint(vfu_server_create(f->dev, f->srv_sock, &f->srv), ==, 0);
	f->id = 1;
}

void vfx_teardown(struct vfx *f, gconstpointer data)
{
	vfu_server_destroy(f->srv);
	close(f->cli);
	close(f->srv_sock);
	dev_destroy(f->dev);
}

void vfx_raw_send(struct vfx *f, uint16_t cmd, uint32_t flags, uint32_t error, uint32_t size,
		  const void *p, size_t len, const int *fds, unsigned nr_fds)
{
	struct vfu_hdr h = { .msg_id = ++f->id, .cmd = cmd, .flags = flags, .error = error,
			     .size = size ? size : (uint32_t)(VFU_HDR_SIZE + len) };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)p, len } };
	char ctl[CMSG_SPACE(sizeof(int) * 4)] = { 0 };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };

	if (nr_fds) {
		struct cmsghdr *c;

		mh.msg_control = ctl;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nr_fds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nr_fds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nr_fds);
	}
	g_assert_cmpint(sendmsg(f->cli, &mh, MSG_NOSIGNAL), ==, sizeof(h) + len);
}

void vfx_serve(struct vfx *f, bool keep)
{
	int ret;

	if (!keep)
		g_test_expect_message("remote", G_LOG_LEVEL_WARNING, "t0: *closing the connection");
	ret = vfu_server_handle(f->srv, false);
	if (keep) {
		g_assert_cmpint(ret, ==, 0);
	} else {
		g_assert_cmpint(ret, <, 0);
		g_test_assert_expected_messages();
	}
}

uint32_t vfx_get_reply(struct vfx *f, uint16_t cmd, struct vfu_msg *m)
{
	g_assert_cmpint(vfu_recv(f->cli, m, VFU_MAX_MSG), ==, 0);
	g_assert_cmpuint(m->hdr.flags & VFU_F_TYPE_MASK, ==, VFU_F_TYPE_REPLY);
	g_assert_cmpuint(m->hdr.msg_id, ==, f->id);
	g_assert_cmpuint(m->hdr.cmd, ==, cmd);
	if (cmd != VFU_CMD_DEVICE_GET_REGION_IO_FDS) /* the one reply with fds */
		g_assert_cmpuint(m->nr_fds, ==, 0);
	return (m->hdr.flags & VFU_F_ERROR) ? m->hdr.error : 0;
}

void vfx_expect_error(struct vfx *f, uint16_t cmd, uint32_t err, bool keep)
{
	struct vfu_msg m;

	vfx_serve(f, keep);
	g_assert_cmpuint(vfx_get_reply(f, cmd, &m), ==, err);
	g_assert_cmpuint(m.len, ==, 0);
	vfu_msg_clear(&m);
}

void vfx_request(struct vfx *f, uint16_t cmd, const void *p, size_t len, struct vfu_msg *m)
{
	vfx_raw_send(f, cmd, VFU_F_TYPE_COMMAND, 0, 0, p, len, NULL, 0);
	vfx_serve(f, true);
	g_assert_cmpuint(vfx_get_reply(f, cmd, m), ==, 0);
}

void vfx_send_version(struct vfx *f, uint16_t major, const char *device_id)
{
	struct vfu_caps caps = { .major = major, .minor = VFU_VERSION_MINOR,
				 .max_msg_fds = VFU_MAX_FDS,
				 .max_data_xfer_size = VFU_MAX_DATA_XFER,
				 .device_id = (char *)device_id };
	g_autofree uint8_t *p = NULL;
	size_t len;

	g_assert_cmpint(vfu_version_encode(&caps, &p, &len), ==, 0);
	vfx_raw_send(f, VFU_CMD_VERSION, VFU_F_TYPE_COMMAND, 0, 0, p, len, NULL, 0);
}

void vfx_handshake(struct vfx *f)
{
	struct vfu_caps caps;
	struct vfu_msg m;

	vfx_send_version(f, VFU_VERSION_MAJOR, "t0");
	vfx_serve(f, true);
	g_assert_cmpuint(vfx_get_reply(f, VFU_CMD_VERSION, &m), ==, 0);
	g_assert_cmpint(vfu_version_decode(m.payload, m.len, &caps), ==, 0);
	g_assert_cmpuint(caps.major, ==, VFU_VERSION_MAJOR);
	g_assert_cmpuint(caps.minor, ==, VFU_VERSION_MINOR);
	g_assert_cmpstr(caps.device_id, ==, "t0");
	vfu_caps_clear(&caps);
	vfu_msg_clear(&m);
}

void vfx_access_ok(struct vfx *f, uint32_t region, uint64_t off, uint32_t count, bool write,
		   uint8_t *data)
{
	struct {
		struct vfu_region_access a;
		uint8_t d[256];
	} __attribute__((packed)) req = { .a = { .offset = off, .region = region,
						 .count = count } };
	uint16_t cmd = write ? VFU_CMD_REGION_WRITE : VFU_CMD_REGION_READ;
	struct vfu_region_access got;
	const uint8_t *rd;
	struct vfu_msg m;

	g_assert_cmpuint(count, <=, sizeof(req.d));
	if (write)
		memcpy(req.d, data, count);
	vfx_request(f, cmd, &req, sizeof(req.a) + (write ? count : 0), &m);
	g_assert_cmpint(vfu_region_access_decode(&m, true, write, &got, &rd), ==, 0);
	g_assert_cmpuint(got.offset, ==, off);
	g_assert_cmpuint(got.region, ==, region);
	g_assert_cmpuint(got.count, ==, count);
	if (!write)
		memcpy(data, rd, count);
	vfu_msg_clear(&m);
}

uint64_t vfx_rd(struct vfx *f, uint32_t region, uint64_t off, uint32_t count)
{
	uint8_t d[8] = { 0 };
	uint64_t v = 0;

	vfx_access_ok(f, region, off, count, false, d);
	for (unsigned i = 0; i < count; i++)
		v |= (uint64_t)d[i] << (8 * i);
	return v;
}

void vfx_wr(struct vfx *f, uint32_t region, uint64_t off, uint32_t count, uint64_t v)
{
	uint8_t d[8];

	for (unsigned i = 0; i < 8; i++)
		d[i] = v >> (8 * i);
	vfx_access_ok(f, region, off, count, true, d);
}

void vfx_access_bad(struct vfx *f, bool write, uint64_t off, uint32_t region, uint32_t count,
		    uint32_t err, bool keep)
{
	struct {
		struct vfu_region_access a;
		uint8_t d[16];
	} __attribute__((packed)) req = { .a = { .offset = off, .region = region,
						 .count = count } };
	uint16_t cmd = write ? VFU_CMD_REGION_WRITE : VFU_CMD_REGION_READ;
	size_t len = sizeof(req.a) + (write ? MIN(count, sizeof(req.d)) : 0);

	vfx_raw_send(f, cmd, VFU_F_TYPE_COMMAND, 0, 0, &req, len, NULL, 0);
	vfx_expect_error(f, cmd, err, keep);
}
