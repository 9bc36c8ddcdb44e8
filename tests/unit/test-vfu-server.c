// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of remote/vfu_server.c: a pci-testdev served over a real socketpair,
 * driven with raw vfio-user messages built here (not with the client, so malformed
 * ones can be sent).  The positive path negotiates, reads the device description and
 * config space and hits every test-table entry of both BARs; each validation branch
 * gets a negative test that sends the bad message and checks the error reply and
 * whether the server keeps or drops the connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

#include "protocol/protocol.h"
#include "remote/remote.h"

const struct dev_ops *const dev_table[] = { &pci_testdev_ops, NULL };

struct fx {
	struct dev *dev;
	struct vfu_server *srv;
	int cli, srv_sock;
	uint16_t id;
};

static void fx_setup(struct fx *f, gconstpointer data)
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

static void fx_teardown(struct fx *f, gconstpointer data)
{
	vfu_server_destroy(f->srv);
	close(f->cli);
	close(f->srv_sock);
	dev_destroy(f->dev);
}

/* Send a raw message: header fields as given (size = 16 + len unless size != 0). */
static void raw_send(struct fx *f, uint16_t cmd, uint32_t flags, uint32_t error, uint32_t size,
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

/*
 * Let the server handle one message; keep = whether it must keep the connection.  A
 * dropped connection is logged exactly once, as a warning naming the device.
 */
static void serve(struct fx *f, bool keep)
{
	int ret;

	if (!keep)
		g_test_expect_message("remote", G_LOG_LEVEL_WARNING, "t0: *closing the connection");
	ret = vfu_server_handle(f->srv);
	if (keep) {
		g_assert_cmpint(ret, ==, 0);
	} else {
		g_assert_cmpint(ret, <, 0);
		g_test_assert_expected_messages();
	}
}

/* The next reply: for the last message sent, of command cmd; returns its error. */
static uint32_t get_reply(struct fx *f, uint16_t cmd, struct vfu_msg *m)
{
	g_assert_cmpint(vfu_recv(f->cli, m, VFU_MAX_MSG), ==, 0);
	g_assert_cmpuint(m->hdr.flags & VFU_F_TYPE_MASK, ==, VFU_F_TYPE_REPLY);
	g_assert_cmpuint(m->hdr.msg_id, ==, f->id);
	g_assert_cmpuint(m->hdr.cmd, ==, cmd);
	g_assert_cmpuint(m->nr_fds, ==, 0);
	return (m->hdr.flags & VFU_F_ERROR) ? m->hdr.error : 0;
}

static void expect_error(struct fx *f, uint16_t cmd, uint32_t err, bool keep)
{
	struct vfu_msg m;

	serve(f, keep);
	g_assert_cmpuint(get_reply(f, cmd, &m), ==, err);
	g_assert_cmpuint(m.len, ==, 0);
	vfu_msg_clear(&m);
}

/* A well-formed request whose reply must succeed; reply payload in m. */
static void request(struct fx *f, uint16_t cmd, const void *p, size_t len, struct vfu_msg *m)
{
	raw_send(f, cmd, VFU_F_TYPE_COMMAND, 0, 0, p, len, NULL, 0);
	serve(f, true);
	g_assert_cmpuint(get_reply(f, cmd, m), ==, 0);
}

static void send_version(struct fx *f, uint16_t major, const char *device_id)
{
	struct vfu_caps caps = { .major = major, .minor = VFU_VERSION_MINOR,
				 .max_msg_fds = VFU_MAX_FDS,
				 .max_data_xfer_size = VFU_MAX_DATA_XFER,
				 .device_id = (char *)device_id };
	g_autofree uint8_t *p = NULL;
	size_t len;

	g_assert_cmpint(vfu_version_encode(&caps, &p, &len), ==, 0);
	raw_send(f, VFU_CMD_VERSION, VFU_F_TYPE_COMMAND, 0, 0, p, len, NULL, 0);
}

static void handshake(struct fx *f)
{
	struct vfu_caps caps;
	struct vfu_msg m;

	send_version(f, VFU_VERSION_MAJOR, "t0");
	serve(f, true);
	g_assert_cmpuint(get_reply(f, VFU_CMD_VERSION, &m), ==, 0);
	g_assert_cmpint(vfu_version_decode(m.payload, m.len, &caps), ==, 0);
	g_assert_cmpuint(caps.major, ==, VFU_VERSION_MAJOR);
	g_assert_cmpuint(caps.minor, ==, VFU_VERSION_MINOR);
	g_assert_cmpstr(caps.device_id, ==, "t0");
	vfu_caps_clear(&caps);
	vfu_msg_clear(&m);
}

/* REGION_READ/WRITE of count <= 256 bytes that must succeed. */
static void access_ok(struct fx *f, uint32_t region, uint64_t off, uint32_t count, bool write,
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
	request(f, cmd, &req, sizeof(req.a) + (write ? count : 0), &m);
	g_assert_cmpint(vfu_region_access_decode(&m, true, write, &got, &rd), ==, 0);
	g_assert_cmpuint(got.offset, ==, off);
	g_assert_cmpuint(got.region, ==, region);
	g_assert_cmpuint(got.count, ==, count);
	if (!write)
		memcpy(data, rd, count);
	vfu_msg_clear(&m);
}

static uint64_t rd(struct fx *f, uint32_t region, uint64_t off, uint32_t count)
{
	uint8_t d[8] = { 0 };
	uint64_t v = 0;

	access_ok(f, region, off, count, false, d);
	for (unsigned i = 0; i < count; i++)
		v |= (uint64_t)d[i] << (8 * i);
	return v;
}

static void wr(struct fx *f, uint32_t region, uint64_t off, uint32_t count, uint64_t v)
{
	uint8_t d[8];

	for (unsigned i = 0; i < 8; i++)
		d[i] = v >> (8 * i);
	access_ok(f, region, off, count, true, d);
}

/* Send a region access that must fail with err (keep: connection stays up). */
static void access_bad(struct fx *f, bool write, uint64_t off, uint32_t region, uint32_t count,
		       uint32_t err, bool keep)
{
	struct {
		struct vfu_region_access a;
		uint8_t d[16];
	} __attribute__((packed)) req = { .a = { .offset = off, .region = region,
						 .count = count } };
	uint16_t cmd = write ? VFU_CMD_REGION_WRITE : VFU_CMD_REGION_READ;
	size_t len = sizeof(req.a) + (write ? MIN(count, sizeof(req.d)) : 0);

	raw_send(f, cmd, VFU_F_TYPE_COMMAND, 0, 0, &req, len, NULL, 0);
	expect_error(f, cmd, err, keep);
}

/* ------------------------------------------------------------------------------ */

static void test_version(struct fx *f, gconstpointer data)
{
	handshake(f);
}

static void test_version_anonymous(struct fx *f, gconstpointer data)
{
	struct vfu_caps caps;
	struct vfu_msg m;

	/* A generic client that names no device is accepted; the reply names ours. */
	send_version(f, VFU_VERSION_MAJOR, NULL);
	serve(f, true);
	g_assert_cmpuint(get_reply(f, VFU_CMD_VERSION, &m), ==, 0);
	g_assert_cmpint(vfu_version_decode(m.payload, m.len, &caps), ==, 0);
	g_assert_cmpstr(caps.device_id, ==, "t0");
	vfu_caps_clear(&caps);
	vfu_msg_clear(&m);
}

static void test_device_info(struct fx *f, gconstpointer data)
{
	struct vfu_device_info req = { .argsz = sizeof(req) }, info;
	struct vfu_msg m;

	handshake(f);
	request(f, VFU_CMD_DEVICE_GET_INFO, &req, sizeof(req), &m);
	g_assert_cmpint(vfu_device_info_decode(&m, true, &info), ==, 0);
	g_assert_cmpuint(info.flags, ==, VFU_DEV_FLAG_PCI | VFU_DEV_FLAG_RESET);
	g_assert_cmpuint(info.num_regions, ==, 9);
	g_assert_cmpuint(info.num_irqs, ==, 5);
	vfu_msg_clear(&m);
}

static void test_region_info(struct fx *f, gconstpointer data)
{
	static const uint64_t size[9] = { 4096, 256, 0, 0, 0, 0, 0, 256, 0 };

	handshake(f);
	for (uint32_t i = 0; i < 9; i++) {
		struct vfu_region_info req = { .argsz = sizeof(req), .index = i }, ri;
		struct vfu_msg m;

		request(f, VFU_CMD_DEVICE_GET_REGION_INFO, &req, sizeof(req), &m);
		g_assert_cmpint(vfu_region_info_decode(&m, true, &ri), ==, 0);
		g_assert_cmpuint(ri.index, ==, i);
		g_assert_cmpuint(ri.size, ==, size[i]);
		g_assert_cmpuint(ri.flags, ==, size[i] ? VFU_REGION_READ | VFU_REGION_WRITE : 0);
		vfu_msg_clear(&m);
	}
}

static void test_irq_info(struct fx *f, gconstpointer data)
{
	handshake(f);
	for (uint32_t i = 0; i < 5; i++) {
		struct vfu_irq_info req = { .argsz = sizeof(req), .index = i }, ii;
		struct vfu_msg m;

		request(f, VFU_CMD_DEVICE_GET_IRQ_INFO, &req, sizeof(req), &m);
		g_assert_cmpint(vfu_irq_info_decode(&m, true, &ii), ==, 0);
		g_assert_cmpuint(ii.index, ==, i);
		g_assert_cmpuint(ii.count, ==, 0);
		vfu_msg_clear(&m);
	}
}

static void test_config(struct fx *f, gconstpointer data)
{
	uint8_t cfg[256], part[8];

	handshake(f);
	access_ok(f, VFU_PCI_CONFIG_REGION, 0, sizeof(cfg), false, cfg);
	g_assert_cmphex(cfg[0] | cfg[1] << 8, ==, 0x1b36);
	g_assert_cmphex(cfg[2] | cfg[3] << 8, ==, 0x0005);
	g_assert_cmphex(cfg[0x0b], ==, 0x00);
	g_assert_cmphex(cfg[0x0a], ==, 0xff);
	g_assert_cmphex(cfg[0x14], ==, 0x01);
	g_assert_cmphex(rd(f, VFU_PCI_CONFIG_REGION, 0xff, 1), ==, 0);
	g_assert_cmphex(rd(f, VFU_PCI_CONFIG_REGION, 0x02, 2), ==, 0x0005);
	/* Unaligned, odd-sized: split into naturally aligned pieces. */
	access_ok(f, VFU_PCI_CONFIG_REGION, 1, 7, false, part);
	g_assert_cmpmem(part, 7, cfg + 1, 7);
	/* BAR sizing through region writes. */
	wr(f, VFU_PCI_CONFIG_REGION, 0x10, 4, 0xffffffff);
	wr(f, VFU_PCI_CONFIG_REGION, 0x14, 4, 0xffffffff);
	g_assert_cmphex(rd(f, VFU_PCI_CONFIG_REGION, 0x10, 4), ==, 0xfffff000);
	g_assert_cmphex(rd(f, VFU_PCI_CONFIG_REGION, 0x14, 4), ==, 0xffffff01);
	wr(f, VFU_PCI_CONFIG_REGION, 0x04, 2, 0x0003);
	g_assert_cmphex(rd(f, VFU_PCI_CONFIG_REGION, 0x04, 2), ==, 0x0003);
	wr(f, VFU_PCI_CONFIG_REGION, 0x00, 4, 0);
	g_assert_cmphex(rd(f, VFU_PCI_CONFIG_REGION, 0x00, 4), ==, 0x00051b36);
}

/* Every entry of both BARs, the way a guest driver for QEMU's pci-testdev walks it. */
static void test_testdev_entries(struct fx *f, gconstpointer data)
{
	handshake(f);
	for (uint32_t bar = 0; bar < 2; bar++) {
		for (unsigned n = 0; n < 3; n++) {
			uint64_t off, val;

			wr(f, bar, 0, 1, n);
			g_assert_cmpuint(rd(f, bar, 12, 4), ==, 0);
			g_assert_cmpuint(rd(f, bar, 1, 1), ==, 1);
			val = rd(f, bar, 8, 4);
			off = rd(f, bar, 4, 4);
			g_assert_cmpuint(off, ==, (bar ? 128 : 2048) + bar * 3 + n);
			for (unsigned i = 0; i < 16; i++)
				wr(f, bar, off, 1, val);
			g_assert_cmpuint(rd(f, bar, 12, 4), ==, 16);
		}
	}
	wr(f, 0, 0, 1, 0);
	g_assert_cmphex(rd(f, 0, 0, 8), ==, 0x0000080000000100ull); /* 8-byte access */
}

static void test_reset(struct fx *f, gconstpointer data)
{
	struct vfu_msg m;

	handshake(f);
	wr(f, VFU_PCI_CONFIG_REGION, 0x04, 2, 0x0003);
	wr(f, 0, 0, 1, 0);
	request(f, VFU_CMD_DEVICE_RESET, NULL, 0, &m);
	g_assert_cmpuint(m.len, ==, 0);
	vfu_msg_clear(&m);
	g_assert_cmphex(rd(f, VFU_PCI_CONFIG_REGION, 0x04, 2), ==, 0);
	g_assert_cmphex(rd(f, 0, 1, 1), ==, 0); /* test stopped */
}

/* --- Negative: malformed messages are answered and the connection dropped --------- */

static void test_before_version(struct fx *f, gconstpointer data)
{
	struct vfu_device_info req = { .argsz = sizeof(req) };

	raw_send(f, VFU_CMD_DEVICE_GET_INFO, VFU_F_TYPE_COMMAND, 0, 0, &req, sizeof(req), NULL, 0);
	expect_error(f, VFU_CMD_DEVICE_GET_INFO, EINVAL, false);
}

static void test_version_twice(struct fx *f, gconstpointer data)
{
	handshake(f);
	send_version(f, VFU_VERSION_MAJOR, "t0");
	expect_error(f, VFU_CMD_VERSION, EINVAL, false);
}

static void test_version_bad_json(struct fx *f, gconstpointer data)
{
	static const char p[] = "\0\0\x01\0{\"capabilities\": [}";

	raw_send(f, VFU_CMD_VERSION, VFU_F_TYPE_COMMAND, 0, 0, p, sizeof(p), NULL, 0);
	expect_error(f, VFU_CMD_VERSION, EINVAL, false);
}

static void test_version_major(struct fx *f, gconstpointer data)
{
	send_version(f, VFU_VERSION_MAJOR + 1, "t0");
	expect_error(f, VFU_CMD_VERSION, ENOTSUP, false);
}

/* A reply naming our device, so the client can say which one it reached; then closed. */
static void test_version_wrong_id(struct fx *f, gconstpointer data)
{
	struct vfu_caps caps;
	struct vfu_msg m;

	send_version(f, VFU_VERSION_MAJOR, "t1");
	g_test_expect_message("remote", G_LOG_LEVEL_WARNING,
			      "t0: client expects device 't1', but this socket serves 't0'*");
	g_assert_cmpint(vfu_server_handle(f->srv), ==, -ENODEV);
	g_test_assert_expected_messages();
	g_assert_cmpuint(get_reply(f, VFU_CMD_VERSION, &m), ==, 0);
	g_assert_cmpint(vfu_version_decode(m.payload, m.len, &caps), ==, 0);
	g_assert_cmpstr(caps.device_id, ==, "t0");
	vfu_caps_clear(&caps);
	vfu_msg_clear(&m);
}

/* Header flags: a reply, NO_REPLY, ERROR, reserved bits, unknown type, error field. */
static void test_bad_flags(struct fx *f, gconstpointer data)
{
	static const struct {
		uint32_t flags, error;
	} bad[] = {
		{ VFU_F_TYPE_REPLY, 0 },
		{ VFU_F_TYPE_COMMAND | VFU_F_NO_REPLY, 0 },
		{ VFU_F_TYPE_COMMAND | VFU_F_ERROR, EIO },
		{ VFU_F_TYPE_COMMAND | (1u << 6), 0 },
		{ 2, 0 },
		{ VFU_F_TYPE_COMMAND, EIO },
	};
	struct vfu_device_info req = { .argsz = sizeof(req) };

	for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct fx fresh;

		fx_setup(&fresh, NULL);
		handshake(&fresh);
		raw_send(&fresh, VFU_CMD_DEVICE_GET_INFO, bad[i].flags, bad[i].error, 0, &req,
			 sizeof(req), NULL, 0);
		serve(&fresh, false);
		/* Answered with an error: the whole header arrived. */
		{
			struct vfu_msg m;

			g_assert_cmpint(vfu_recv(fresh.cli, &m, VFU_MAX_MSG), ==, 0);
			g_assert_true(m.hdr.flags & VFU_F_ERROR);
			g_assert_cmpuint(m.hdr.msg_id, ==, fresh.id);
			vfu_msg_clear(&m);
		}
		fx_teardown(&fresh, NULL);
	}
}

static void test_unexpected_fds(struct fx *f, gconstpointer data)
{
	struct vfu_device_info req = { .argsz = sizeof(req) };
	int p[2];

	handshake(f);
	g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
	raw_send(f, VFU_CMD_DEVICE_GET_INFO, VFU_F_TYPE_COMMAND, 0, 0, &req, sizeof(req), p, 1);
	close(p[0]);
	expect_error(f, VFU_CMD_DEVICE_GET_INFO, EINVAL, false);
	/* The server closed the read end it received: no reader is left. */
	g_assert_cmpint(write(p[1], "x", 1), ==, -1);
	g_assert_cmpint(errno, ==, EPIPE);
	close(p[1]);
}

static void test_bad_payload(struct fx *f, gconstpointer data)
{
	struct vfu_device_info req = { .argsz = sizeof(req) };

	handshake(f);
	raw_send(f, VFU_CMD_DEVICE_GET_INFO, VFU_F_TYPE_COMMAND, 0, 0, &req, 8, NULL, 0);
	expect_error(f, VFU_CMD_DEVICE_GET_INFO, EINVAL, false);
}

static void test_bad_request_fields(struct fx *f, gconstpointer data)
{
	struct vfu_region_info req = { .argsz = sizeof(req) - 1, .index = 0 };

	handshake(f);
	raw_send(f, VFU_CMD_DEVICE_GET_REGION_INFO, VFU_F_TYPE_COMMAND, 0, 0, &req, sizeof(req),
		 NULL, 0);
	expect_error(f, VFU_CMD_DEVICE_GET_REGION_INFO, EINVAL, false);
}

static void test_reset_payload(struct fx *f, gconstpointer data)
{
	handshake(f);
	raw_send(f, VFU_CMD_DEVICE_RESET, VFU_F_TYPE_COMMAND, 0, 0, "abcd", 4, NULL, 0);
	expect_error(f, VFU_CMD_DEVICE_RESET, EINVAL, false);
}

static void test_write_size_mismatch(struct fx *f, gconstpointer data)
{
	struct {
		struct vfu_region_access a;
		uint8_t d[2];
	} __attribute__((packed)) req = { .a = { .offset = 0, .region = 0, .count = 4 } };

	handshake(f);
	raw_send(f, VFU_CMD_REGION_WRITE, VFU_F_TYPE_COMMAND, 0, 0, &req, sizeof(req), NULL, 0);
	expect_error(f, VFU_CMD_REGION_WRITE, EINVAL, false);
}

static void test_access_malformed(struct fx *f, gconstpointer data)
{
	handshake(f);
	access_bad(f, false, 0, 0, 0, EINVAL, false); /* count 0 */
}

static void test_access_wraps(struct fx *f, gconstpointer data)
{
	handshake(f);
	access_bad(f, false, UINT64_MAX, 0, 1, EINVAL, false); /* offset + count wraps */
}

/* Framing: header too short, size below 16 or above the limit, EOF mid-message. */
static void test_truncated_header(struct fx *f, gconstpointer data)
{
	static const uint8_t half[8] = { 1, 0, 4, 0, 32, 0, 0, 0 };
	uint8_t b;

	handshake(f);
	g_assert_cmpint(send(f->cli, half, sizeof(half), MSG_NOSIGNAL), ==, sizeof(half));
	shutdown(f->cli, SHUT_WR);
	serve(f, false);
	g_assert_cmpint(recv(f->cli, &b, 1, MSG_DONTWAIT), ==, -1); /* nothing to answer */
	g_assert_cmpint(errno, ==, EAGAIN);
}

static void test_size_too_small(struct fx *f, gconstpointer data)
{
	handshake(f);
	raw_send(f, VFU_CMD_DEVICE_GET_INFO, VFU_F_TYPE_COMMAND, 0, 8, NULL, 0, NULL, 0);
	expect_error(f, VFU_CMD_DEVICE_GET_INFO, EPROTO, false);
}

static void test_size_too_big(struct fx *f, gconstpointer data)
{
	handshake(f);
	raw_send(f, VFU_CMD_REGION_WRITE, VFU_F_TYPE_COMMAND, 0, 1u << 20, NULL, 0, NULL, 0);
	expect_error(f, VFU_CMD_REGION_WRITE, EMSGSIZE, false);
}

static void test_size_mismatch(struct fx *f, gconstpointer data)
{
	struct vfu_device_info req = { .argsz = sizeof(req) };

	handshake(f);
	/* The header promises 32 payload bytes; 16 come, then EOF. */
	raw_send(f, VFU_CMD_DEVICE_GET_INFO, VFU_F_TYPE_COMMAND, 0, VFU_HDR_SIZE + 32, &req,
		 sizeof(req), NULL, 0);
	shutdown(f->cli, SHUT_WR);
	expect_error(f, VFU_CMD_DEVICE_GET_INFO, EPROTO, false);
}

static void test_peer_closed(struct fx *f, gconstpointer data)
{
	handshake(f);
	shutdown(f->cli, SHUT_WR);
	g_assert_cmpint(vfu_server_handle(f->srv), ==, -ECONNRESET);
}

/* --- Negative: well-formed but unservable requests; the connection stays up ------- */

static void test_unknown_command(struct fx *f, gconstpointer data)
{
	static const uint16_t cmds[] = { 0, 14, VFU_CMD_MAX, 100, UINT16_MAX };

	handshake(f);
	for (unsigned i = 0; i < G_N_ELEMENTS(cmds); i++) {
		raw_send(f, cmds[i], VFU_F_TYPE_COMMAND, 0, 0, "xy", 2, NULL, 0);
		expect_error(f, cmds[i], ENOSYS, true);
	}
	g_assert_cmphex(rd(f, VFU_PCI_CONFIG_REGION, 0, 2), ==, 0x1b36); /* still served */
}

static void test_unimplemented_with_fd(struct fx *f, gconstpointer data)
{
	uint8_t map[32] = { 0 };
	int p[2];

	handshake(f);
	g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
	raw_send(f, VFU_CMD_DMA_MAP, VFU_F_TYPE_COMMAND, 0, 0, map, sizeof(map), p, 1);
	close(p[0]);
	expect_error(f, VFU_CMD_DMA_MAP, ENOSYS, true);
	g_assert_cmpint(write(p[1], "x", 1), ==, -1); /* its fd was not kept */
	g_assert_cmpint(errno, ==, EPIPE);
	close(p[1]);
	g_assert_cmphex(rd(f, VFU_PCI_CONFIG_REGION, 0, 2), ==, 0x1b36);
}

static void test_info_index_range(struct fx *f, gconstpointer data)
{
	static const uint32_t bad[] = { 9, 10, UINT32_MAX };

	handshake(f);
	for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct vfu_region_info req = { .argsz = sizeof(req), .index = bad[i] };

		raw_send(f, VFU_CMD_DEVICE_GET_REGION_INFO, VFU_F_TYPE_COMMAND, 0, 0, &req,
			 sizeof(req), NULL, 0);
		expect_error(f, VFU_CMD_DEVICE_GET_REGION_INFO, EINVAL, true);
	}
	for (uint32_t index = 5; index < 7; index++) {
		struct vfu_irq_info req = { .argsz = sizeof(req), .index = index };

		raw_send(f, VFU_CMD_DEVICE_GET_IRQ_INFO, VFU_F_TYPE_COMMAND, 0, 0, &req,
			 sizeof(req), NULL, 0);
		expect_error(f, VFU_CMD_DEVICE_GET_IRQ_INFO, EINVAL, true);
	}
}

static void test_access_range(struct fx *f, gconstpointer data)
{
	handshake(f);
	for (int w = 0; w < 2; w++) {
		access_bad(f, w, 0, 9, 4, EINVAL, true);        /* no such region */
		access_bad(f, w, 0, UINT32_MAX, 4, EINVAL, true);
		access_bad(f, w, 0, 2, 4, EINVAL, true);        /* BAR2 not implemented */
		access_bad(f, w, 0, VFU_PCI_ROM_REGION, 4, EINVAL, true);
		access_bad(f, w, 0, 8, 4, EINVAL, true);        /* VGA */
		access_bad(f, w, 4096, 0, 1, EINVAL, true);     /* beyond BAR0 */
		access_bad(f, w, 4093, 0, 4, EINVAL, true);
		access_bad(f, w, 256, 1, 1, EINVAL, true);      /* beyond BAR1 */
		access_bad(f, w, 256, VFU_PCI_CONFIG_REGION, 1, EINVAL, true);
		access_bad(f, w, 252, VFU_PCI_CONFIG_REGION, 8, EINVAL, true);
		access_bad(f, w, 0, 0, 3, EINVAL, true);        /* BAR access sizes */
		access_bad(f, w, 0, 0, 16, EINVAL, true);
	}
	access_bad(f, false, 0, VFU_PCI_CONFIG_REGION, 257, EINVAL, true);
	access_bad(f, false, 0, 0, 4096, EINVAL, true);
	g_assert_cmphex(rd(f, VFU_PCI_CONFIG_REGION, 0, 2), ==, 0x1b36);
}

static void add(const char *name, void (*fn)(struct fx *, gconstpointer))
{
	g_autofree char *path = g_strdup_printf("/remote/vfu-server/%s", name);

	g_test_add(path, struct fx, NULL, fx_setup, fn, fx_teardown);
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	g_test_init(&argc, &argv, NULL);
	add("version", test_version);
	add("version-anonymous", test_version_anonymous);
	add("device-info", test_device_info);
	add("region-info", test_region_info);
	add("irq-info", test_irq_info);
	add("config", test_config);
	add("testdev-entries", test_testdev_entries);
	add("reset", test_reset);
	add("bad/before-version", test_before_version);
	add("bad/version-twice", test_version_twice);
	add("bad/version-json", test_version_bad_json);
	add("bad/version-major", test_version_major);
	add("bad/version-device-id", test_version_wrong_id);
	add("bad/flags", test_bad_flags);
	add("bad/unexpected-fds", test_unexpected_fds);
	add("bad/payload-size", test_bad_payload);
	add("bad/request-fields", test_bad_request_fields);
	add("bad/reset-payload", test_reset_payload);
	add("bad/write-size-mismatch", test_write_size_mismatch);
	add("bad/access-count-0", test_access_malformed);
	add("bad/access-wraps", test_access_wraps);
	add("bad/truncated-header", test_truncated_header);
	add("bad/size-too-small", test_size_too_small);
	add("bad/size-too-big", test_size_too_big);
	add("bad/size-mismatch", test_size_mismatch);
	add("bad/peer-closed", test_peer_closed);
	add("refused/unknown-command", test_unknown_command);
	add("refused/unimplemented-with-fd", test_unimplemented_with_fd);
	add("refused/info-index", test_info_index_range);
	add("refused/access-range", test_access_range);
	return g_test_run();
}
