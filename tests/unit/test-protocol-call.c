// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for protocol/vfu_call.c: the client round trip against scripted replies
 * queued on the server end of a socketpair before the call (so no thread is needed).
 */
#include <errno.h>
#include <glib.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "protocol/protocol.h"
#include "tests/unit/test-protocol.h"

/* --- vfu_call ------------------------------------------------------------------- */

#define TP_ID 100

/*
 * Queue a scripted reply on the server end, then call cmd (request id TP_ID) from the
 * client end; the request must arrive intact whatever the reply did.
 */
static int tp_call(uint16_t cmd, uint16_t rid, uint16_t rcmd, uint32_t rflags, uint32_t rerr,
		   const void *p, size_t len, const int *fds, unsigned nr, struct vfu_msg *reply)
{
	struct vfu_device_info req = { .argsz = sizeof(req) };
	uint16_t next = TP_ID;
	struct vfu_msg got;
	int sv[2], ret;

	tp_socketpair(sv);
	tp_msg(sv[1], rid, rcmd, rflags, rerr, p, len, 0, fds, nr);
	ret = vfu_call(sv[0], &next, cmd, &req, sizeof(req), NULL, 0, reply);
	g_assert_cmpuint(next, ==, TP_ID + 1);
	g_assert_cmpint(vfu_recv(sv[1], &got, VFU_MAX_MSG), ==, 0);
	g_assert_cmpuint(got.hdr.msg_id, ==, TP_ID);
	g_assert_cmpuint(got.hdr.cmd, ==, cmd);
	g_assert_cmpuint(got.hdr.flags, ==, VFU_F_TYPE_COMMAND);
	g_assert_cmpmem(got.payload, got.len, &req, sizeof(req));
	vfu_msg_clear(&got);
	close(sv[0]);
	close(sv[1]);
	if (ret < 0) { /* nothing left behind in the reply */
		g_assert_null(reply->payload);
		g_assert_cmpuint(reply->nr_fds, ==, 0);
		g_assert_cmpuint(reply->hdr.size, ==, 0);
	}
	return ret;
}

static void test_call_good(void)
{
	const uint16_t c = VFU_CMD_DEVICE_GET_INFO;
	struct vfu_device_info di = { .argsz = 16, .flags = VFU_DEV_FLAG_PCI, .num_regions = 9 };
	struct vfu_device_info out;
	struct vfu_msg r;
	int fd = tp_eventfd();

	g_assert_cmpint(tp_call(c, TP_ID, c, VFU_F_TYPE_REPLY, 0, &di, 16, NULL, 0, &r), ==, 0);
	g_assert_cmpint(vfu_device_info_decode(&r, true, &out), ==, 0);
	g_assert_cmpuint(out.num_regions, ==, 9);
	vfu_msg_clear(&r);
	/* Region info replies may carry an mmap fd: it is handed to the decoder. */
	g_assert_cmpint(tp_call(VFU_CMD_DEVICE_GET_REGION_INFO, TP_ID,
				VFU_CMD_DEVICE_GET_REGION_INFO, VFU_F_TYPE_REPLY, 0, NULL, 0, &fd, 1,
				&r), ==, 0);
	g_assert_cmpuint(r.nr_fds, ==, 1);
	vfu_msg_clear(&r);
	close(fd);
}

/* The hot path: a REGION_READ reply of the expected size, read in one go. */
static void test_call_region_read(void)
{
	const uint16_t c = VFU_CMD_REGION_READ;
	struct {
		struct vfu_region_access a;
		uint8_t data[VFU_MSG_INLINE + 8];
	} rep = { .a = { .offset = 0, .region = 0, .count = 4 } };
	static const uint32_t counts[] = { 4, 1, 8, VFU_MSG_INLINE, VFU_MSG_INLINE + 8 };
	struct vfu_region_access got;
	const uint8_t *data;
	struct vfu_msg r;
	uint16_t next = TP_ID;
	int sv[2];

	memset(rep.data, 0x42, sizeof(rep.data));
	/* tp_call's 16-byte request reads as count 0: the hint is the fixed part only, and
	 * the longer reply still arrives whole. */
	g_assert_cmpint(tp_call(c, TP_ID, c, VFU_F_TYPE_REPLY, 0, &rep, 20, NULL, 0, &r), ==, 0);
	g_assert_cmpuint(r.len, ==, 20);
	vfu_msg_clear(&r);
	/* Exact size, shorter and longer than the hint (the caller judges the count). */
	for (size_t i = 0; i < G_N_ELEMENTS(counts); i++) {
		uint32_t count = counts[i];

		tp_socketpair(sv);
		rep.a.count = count;
		tp_msg(sv[1], TP_ID, c, VFU_F_TYPE_REPLY, 0, &rep, sizeof(rep.a) + count, 0, NULL,
		       0);
		next = TP_ID;
		rep.a.count = 4; /* the request asks for 4 bytes */
		g_assert_cmpint(vfu_call(sv[0], &next, c, &rep.a, sizeof(rep.a), NULL, 0, &r), ==,
				0);
		g_assert_cmpuint(r.len, ==, sizeof(rep.a) + count);
		g_assert_cmpint(vfu_region_access_decode(&r, true, false, &got, &data), ==, 0);
		g_assert_cmpuint(got.count, ==, count);
		g_assert_cmpuint(data[count - 1], ==, 0x42);
		vfu_msg_clear(&r);
		close(sv[0]);
		close(sv[1]);
	}
	g_assert_cmpint(tp_call(c, TP_ID, c, VFU_F_TYPE_REPLY | VFU_F_ERROR, EFAULT, NULL, 0,
				NULL, 0, &r), ==, -EFAULT);
}

/* A short reply with a second message queued behind it, where only one was due. */
static void test_call_extra_message(void)
{
	struct vfu_region_access req = { .offset = 0, .region = 0, .count = 4 };
	const uint16_t c = VFU_CMD_REGION_READ;
	uint16_t next = TP_ID;
	struct vfu_msg r;
	int sv[2];

	tp_socketpair(sv);
	tp_msg(sv[1], TP_ID, c, VFU_F_TYPE_REPLY | VFU_F_ERROR, EIO, NULL, 0, 0, NULL, 0);
	tp_msg(sv[1], TP_ID, c, VFU_F_TYPE_REPLY, 0, &req, sizeof(req), 0, NULL, 0);
	g_assert_cmpint(vfu_call(sv[0], &next, c, &req, sizeof(req), NULL, 0, &r), ==, -EPROTO);
	close(sv[0]);
	close(sv[1]);
}

struct tp_trickle {
	int sock;
	uint8_t bytes[VFU_HDR_SIZE + sizeof(struct vfu_region_access) + 4];
};

static void *tp_trickle_writer(void *opaque)
{
	struct tp_trickle *t = opaque;
	static const size_t cuts[] = { 0, 3, 16, 30, sizeof(t->bytes) };

	for (size_t i = 0; i + 1 < G_N_ELEMENTS(cuts); i++) {
		g_usleep(2000);
		tp_raw(t->sock, t->bytes + cuts[i], cuts[i + 1] - cuts[i], NULL, 0);
	}
	return NULL;
}

/* The reply arrives in pieces, inside the header and inside the payload. */
static void test_call_trickle(void)
{
	struct vfu_region_access req = { .offset = 8, .region = 1, .count = 4 };
	struct vfu_hdr h = { .msg_id = TP_ID, .cmd = VFU_CMD_REGION_READ,
			     .size = sizeof(((struct tp_trickle *)0)->bytes),
			     .flags = VFU_F_TYPE_REPLY };
	struct tp_trickle t;
	uint16_t next = TP_ID;
	struct vfu_msg r;
	pthread_t th;
	int sv[2];

	tp_socketpair(sv);
	memcpy(t.bytes, &h, sizeof(h));
	memcpy(t.bytes + sizeof(h), &req, sizeof(req));
	memset(t.bytes + sizeof(h) + sizeof(req), 0x77, 4);
	t.sock = sv[1];
	g_assert_cmpint(pthread_create(&th, NULL, tp_trickle_writer, &t), ==, 0);
	g_assert_cmpint(vfu_call(sv[0], &next, VFU_CMD_REGION_READ, &req, sizeof(req), NULL, 0,
				 &r), ==, 0);
	pthread_join(th, NULL);
	g_assert_cmpuint(r.len, ==, sizeof(req) + 4);
	g_assert_cmpuint(r.payload[sizeof(req) + 3], ==, 0x77);
	vfu_msg_clear(&r);
	close(sv[0]);
	close(sv[1]);
}

static void test_call_error_reply(void)
{
	const uint16_t c = VFU_CMD_VERSION;
	const uint32_t rf = VFU_F_TYPE_REPLY | VFU_F_ERROR;
	struct vfu_msg r;

	g_assert_cmpint(tp_call(c, TP_ID, c, rf, ENODEV, NULL, 0, NULL, 0, &r), ==, -ENODEV);
	g_assert_cmpint(tp_call(c, TP_ID, c, rf, ENOSYS, NULL, 0, NULL, 0, &r), ==, -ENOSYS);
	/* "It may be zero even if the Error bit is set": still a failure. */
	g_assert_cmpint(tp_call(c, TP_ID, c, rf, 0, NULL, 0, NULL, 0, &r), ==, -EIO);
	/* Not an errno value. */
	g_assert_cmpint(tp_call(c, TP_ID, c, rf, 4096, NULL, 0, NULL, 0, &r), ==, -EPROTO);
	g_assert_cmpint(tp_call(c, TP_ID, c, rf, 0x80000000u, NULL, 0, NULL, 0, &r), ==, -EPROTO);
	/* "the reply message must only include the reply header" */
	g_assert_cmpint(tp_call(c, TP_ID, c, rf, EIO, &r, 4, NULL, 0, &r), ==, -EPROTO);
}

static void test_call_mismatch(void)
{
	const uint16_t c = VFU_CMD_DEVICE_GET_INFO;
	unsigned before = tp_open_fds();
	int fds[2] = { tp_eventfd(), tp_eventfd() };
	uint8_t big[VFU_MAX_MSG - VFU_HDR_SIZE + 1] = { 0 };
	struct vfu_msg r;

	/* Another message ID (a stale or forged reply), another or unknown command. */
	g_assert_cmpint(tp_call(c, TP_ID + 1, c, VFU_F_TYPE_REPLY, 0, NULL, 0, NULL, 0, &r), ==,
			-EPROTO);
	g_assert_cmpint(tp_call(c, TP_ID - 1, c, VFU_F_TYPE_REPLY, 0, NULL, 0, NULL, 0, &r), ==,
			-EPROTO);
	g_assert_cmpint(tp_call(c, TP_ID, VFU_CMD_DEVICE_GET_IRQ_INFO, VFU_F_TYPE_REPLY, 0, NULL,
				0, NULL, 0, &r), ==, -EPROTO);
	g_assert_cmpint(tp_call(c, TP_ID, 99, VFU_F_TYPE_REPLY, 0, NULL, 0, NULL, 0, &r), ==,
			-EPROTO);
	/* A command from the server where the reply was due. */
	g_assert_cmpint(tp_call(c, TP_ID, c, VFU_F_TYPE_COMMAND, 0, NULL, 0, NULL, 0, &r), ==,
			-EPROTO);
	/* fds on a reply that takes none: refused and closed. */
	g_assert_cmpint(tp_call(c, TP_ID, c, VFU_F_TYPE_REPLY, 0, NULL, 0, fds, 2, &r), ==,
			-EPROTO);
	/* Oversized reply: the stream is out of step, reported as -EPROTO. */
	g_assert_cmpint(tp_call(c, TP_ID, c, VFU_F_TYPE_REPLY, 0, big, sizeof(big), NULL, 0, &r),
			==, -EPROTO);
	close(fds[0]);
	close(fds[1]);
	g_assert_cmpuint(tp_open_fds(), ==, before);
}

static void test_call_peer_gone(void)
{
	struct vfu_device_info req = { .argsz = sizeof(req) };
	uint16_t next = 0;
	struct vfu_msg r;
	int sv[2];

	/* The server reads the request and hangs up without a reply. */
	tp_socketpair(sv);
	shutdown(sv[1], SHUT_WR);
	g_assert_cmpint(vfu_call(sv[0], &next, VFU_CMD_DEVICE_GET_INFO, &req, sizeof(req), NULL,
				 0, &r), ==, -ECONNRESET);
	close(sv[1]);
	/* The server is gone before the request: -EPIPE, without SIGPIPE. */
	g_assert_cmpint(vfu_call(sv[0], &next, VFU_CMD_DEVICE_GET_INFO, &req, sizeof(req), NULL,
				 0, &r), ==, -EPIPE);
	g_assert_cmpuint(next, ==, 2);
	close(sv[0]);
}

void tp_add_call_tests(void)
{
	g_test_add_func("/protocol/call/good", test_call_good);
	g_test_add_func("/protocol/call/region-read", test_call_region_read);
	g_test_add_func("/protocol/call/extra-message", test_call_extra_message);
	g_test_add_func("/protocol/call/trickle", test_call_trickle);
	g_test_add_func("/protocol/call/error-reply", test_call_error_reply);
	g_test_add_func("/protocol/call/mismatch", test_call_mismatch);
	g_test_add_func("/protocol/call/peer-gone", test_call_peer_gone);
}
