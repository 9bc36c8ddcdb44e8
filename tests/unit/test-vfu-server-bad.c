// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of remote/vfu_server.c, the malformed side: every validation branch gets
 * a message that breaks it, sent raw over a real socketpair (tests/unit/vfx.c), and
 * the test checks the error reply (when the header arrived whole), the single warning
 * and that the server asks for the connection to be closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/unit/vfx.h"

const struct dev_ops *const dev_table[] = { &pci_testdev_ops, NULL };

static void test_before_version(struct vfx *f, gconstpointer data)
{
	struct vfu_device_info req = { .argsz = sizeof(req) };

	vfx_raw_send(f, VFU_CMD_DEVICE_GET_INFO, VFU_F_TYPE_COMMAND, 0, 0, &req, sizeof(req), NULL,
		     0);
	vfx_expect_error(f, VFU_CMD_DEVICE_GET_INFO, EINVAL, false);
}

static void test_version_twice(struct vfx *f, gconstpointer data)
{
	vfx_handshake(f);
	vfx_send_version(f, VFU_VERSION_MAJOR, "t0");
	vfx_expect_error(f, VFU_CMD_VERSION, EINVAL, false);
}

static void test_version_bad_json(struct vfx *f, gconstpointer data)
{
	static const char p[] = "\0\0\x01\0{\"capabilities\": [}";

	vfx_raw_send(f, VFU_CMD_VERSION, VFU_F_TYPE_COMMAND, 0, 0, p, sizeof(p), NULL, 0);
	vfx_expect_error(f, VFU_CMD_VERSION, EINVAL, false);
}

static void test_version_major(struct vfx *f, gconstpointer data)
{
	vfx_send_version(f, VFU_VERSION_MAJOR + 1, "t0");
	vfx_expect_error(f, VFU_CMD_VERSION, ENOTSUP, false);
}

/* A reply naming our device, so the client can say which one it reached; then closed. */
static void test_version_wrong_id(struct vfx *f, gconstpointer data)
{
	struct vfu_caps caps;
	struct vfu_msg m;

	vfx_send_version(f, VFU_VERSION_MAJOR, "t1");
	g_test_expect_message("remote", G_LOG_LEVEL_WARNING,
			      "t0: client expects device 't1', but this socket serves 't0'*");
	g_assert_cmpint(vfu_server_handle(f->srv, false), ==, -ENODEV);
	g_test_assert_expected_messages();
	g_assert_cmpuint(vfx_get_reply(f, VFU_CMD_VERSION, &m), ==, 0);
	g_assert_cmpint(vfu_version_decode(m.payload, m.len, &caps), ==, 0);
	g_assert_cmpstr(caps.device_id, ==, "t0");
	vfu_caps_clear(&caps);
	vfu_msg_clear(&m);
}

/* Header flags: a reply, NO_REPLY, ERROR, reserved bits, unknown type, error field. */
static void test_bad_flags(struct vfx *f, gconstpointer data)
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
		struct vfx fresh;

		vfx_setup(&fresh, NULL);
		vfx_handshake(&fresh);
		vfx_raw_send(&fresh, VFU_CMD_DEVICE_GET_INFO, bad[i].flags, bad[i].error, 0, &req,
			     sizeof(req), NULL, 0);
		vfx_serve(&fresh, false);
		/* Answered with an error: the whole header arrived. */
		{
			struct vfu_msg m;

			g_assert_cmpint(vfu_recv(fresh.cli, &m, VFU_MAX_MSG), ==, 0);
			g_assert_true(m.hdr.flags & VFU_F_ERROR);
			g_assert_cmpuint(m.hdr.msg_id, ==, fresh.id);
			vfu_msg_clear(&m);
		}
		vfx_teardown(&fresh, NULL);
	}
}

static void test_unexpected_fds(struct vfx *f, gconstpointer data)
{
	struct vfu_device_info req = { .argsz = sizeof(req) };
	int p[2];

	vfx_handshake(f);
	g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
	vfx_raw_send(f, VFU_CMD_DEVICE_GET_INFO, VFU_F_TYPE_COMMAND, 0, 0, &req, sizeof(req), p, 1);
	close(p[0]);
	vfx_expect_error(f, VFU_CMD_DEVICE_GET_INFO, EINVAL, false);
	/* The server closed the read end it received: no reader is left. */
	g_assert_cmpint(write(p[1], "x", 1), ==, -1);
	g_assert_cmpint(errno, ==, EPIPE);
	close(p[1]);
}

static void test_bad_payload(struct vfx *f, gconstpointer data)
{
	struct vfu_device_info req = { .argsz = sizeof(req) };

	vfx_handshake(f);
	vfx_raw_send(f, VFU_CMD_DEVICE_GET_INFO, VFU_F_TYPE_COMMAND, 0, 0, &req, 8, NULL, 0);
	vfx_expect_error(f, VFU_CMD_DEVICE_GET_INFO, EINVAL, false);
}

static void test_bad_request_fields(struct vfx *f, gconstpointer data)
{
	struct vfu_region_info req = { .argsz = sizeof(req) - 1, .index = 0 };

	vfx_handshake(f);
	vfx_raw_send(f, VFU_CMD_DEVICE_GET_REGION_INFO, VFU_F_TYPE_COMMAND, 0, 0, &req, sizeof(req),
		     NULL, 0);
	vfx_expect_error(f, VFU_CMD_DEVICE_GET_REGION_INFO, EINVAL, false);
}

static void test_reset_payload(struct vfx *f, gconstpointer data)
{
	vfx_handshake(f);
	vfx_raw_send(f, VFU_CMD_DEVICE_RESET, VFU_F_TYPE_COMMAND, 0, 0, "abcd", 4, NULL, 0);
	vfx_expect_error(f, VFU_CMD_DEVICE_RESET, EINVAL, false);
}

static void test_write_size_mismatch(struct vfx *f, gconstpointer data)
{
	struct {
		struct vfu_region_access a;
		uint8_t d[2];
	} __attribute__((packed)) req = { .a = { .offset = 0, .region = 0, .count = 4 } };

	vfx_handshake(f);
	vfx_raw_send(f, VFU_CMD_REGION_WRITE, VFU_F_TYPE_COMMAND, 0, 0, &req, sizeof(req), NULL, 0);
	vfx_expect_error(f, VFU_CMD_REGION_WRITE, EINVAL, false);
}

static void test_access_malformed(struct vfx *f, gconstpointer data)
{
	vfx_handshake(f);
	vfx_access_bad(f, false, 0, 0, 0, EINVAL, false); /* count 0 */
}

static void test_access_wraps(struct vfx *f, gconstpointer data)
{
	vfx_handshake(f);
	vfx_access_bad(f, false, UINT64_MAX, 0, 1, EINVAL, false); /* offset + count wraps */
}

/* Framing: header too short, size below 16 or above the limit, EOF mid-message. */
static void test_truncated_header(struct vfx *f, gconstpointer data)
{
	static const uint8_t half[8] = { 1, 0, 4, 0, 32, 0, 0, 0 };
	uint8_t b;

	vfx_handshake(f);
	g_assert_cmpint(send(f->cli, half, sizeof(half), MSG_NOSIGNAL), ==, sizeof(half));
	shutdown(f->cli, SHUT_WR);
	vfx_serve(f, false);
	g_assert_cmpint(recv(f->cli, &b, 1, MSG_DONTWAIT), ==, -1); /* nothing to answer */
	g_assert_cmpint(errno, ==, EAGAIN);
}

static void test_size_too_small(struct vfx *f, gconstpointer data)
{
	vfx_handshake(f);
	vfx_raw_send(f, VFU_CMD_DEVICE_GET_INFO, VFU_F_TYPE_COMMAND, 0, 8, NULL, 0, NULL, 0);
	vfx_expect_error(f, VFU_CMD_DEVICE_GET_INFO, EPROTO, false);
}

static void test_size_too_big(struct vfx *f, gconstpointer data)
{
	vfx_handshake(f);
	vfx_raw_send(f, VFU_CMD_REGION_WRITE, VFU_F_TYPE_COMMAND, 0, 1u << 20, NULL, 0, NULL, 0);
	vfx_expect_error(f, VFU_CMD_REGION_WRITE, EMSGSIZE, false);
}

static void test_size_mismatch(struct vfx *f, gconstpointer data)
{
	struct vfu_device_info req = { .argsz = sizeof(req) };

	vfx_handshake(f);
	/* The header promises 32 payload bytes; 16 come, then EOF. */
	vfx_raw_send(f, VFU_CMD_DEVICE_GET_INFO, VFU_F_TYPE_COMMAND, 0, VFU_HDR_SIZE + 32, &req,
		     sizeof(req), NULL, 0);
	shutdown(f->cli, SHUT_WR);
	vfx_expect_error(f, VFU_CMD_DEVICE_GET_INFO, EPROTO, false);
}

static void test_peer_closed(struct vfx *f, gconstpointer data)
{
	vfx_handshake(f);
	shutdown(f->cli, SHUT_WR);
	g_assert_cmpint(vfu_server_handle(f->srv, false), ==, -ECONNRESET);
}

static void add(const char *name, void (*fn)(struct vfx *, gconstpointer))
{
	g_autofree char *path = g_strdup_printf("/remote/vfu-server/%s", name);

	g_test_add(path, struct vfx, NULL, vfx_setup, fn, vfx_teardown);
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	g_test_init(&argc, &argv, NULL);
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
	return g_test_run();
}
