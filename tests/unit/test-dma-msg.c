// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of remote/dma_msg.c over a real socketpair: the test plays the client.
 * Replies are queued on the socket before the access runs (the message IDs are the
 * server's own, counted from 0), then the commands the access sent are read back and
 * checked.  Covered: chunking at the client's max_data_xfer_size and at ours, read and
 * write payloads, an error reply (the connection stays), every malformed reply (wrong
 * ID, command, address, count, payload size, oversize, an errno out of range, an fd
 * attached, No_reply, EOF: the connection is broken for good and nothing more is sent),
 * and client commands that cross ours (one is kept, a second is a protocol error).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "remote/remote.h"

struct fx {
	int cli, srv;
	struct dma_msg *dm;
	unsigned fds_before;
};

static unsigned count_fds(void)
{
	unsigned n = 0;
	GDir *d = g_dir_open("/proc/self/fd", 0, NULL);

	while (g_dir_read_name(d))
		n++;
	g_dir_close(d);
	return n;
}

static void setup(struct fx *f, gconstpointer data)
{
	int sv[2];

	f->fds_before = count_fds();
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	f->cli = sv[0];
	f->srv = sv[1];
	g_assert_cmpint(dma_msg_create("t0", f->srv, &f->dm), ==, 0);
}

static void teardown(struct fx *f, gconstpointer data)
{
	dma_msg_destroy(f->dm);
	close(f->cli);
	close(f->srv);
	g_assert_cmpuint(count_fds(), ==, f->fds_before); /* every fd received was closed */
}

/* A reply as the client would send it: header fields, then address, count and data. */
static void queue_reply(struct fx *f, uint16_t id, uint16_t cmd, uint64_t addr, uint64_t count,
			const void *data, size_t len)
{
	uint8_t p[16 + 8192];

	g_assert_cmpuint(len, <=, 8192);
	memcpy(p, &addr, 8);
	memcpy(p + 8, &count, 8);
	if (len)
		memcpy(p + 16, data, len);
	g_assert_cmpint(
		send(f->cli,
		     &(struct vfu_hdr){id, cmd, (uint32_t)(16 + 16 + len), VFU_F_TYPE_REPLY, 0}, 16,
		     MSG_MORE),
		==, 16);
	g_assert_cmpint(send(f->cli, p, 16 + len, 0), ==, (ssize_t)(16 + len));
}

static void queue_error(struct fx *f, uint16_t id, uint16_t cmd, uint32_t err)
{
	g_assert_cmpint(
		vfu_send(f->cli, id, cmd, VFU_F_TYPE_REPLY | VFU_F_ERROR, err, NULL, 0, NULL, 0),
		==, 0);
}

/* The next command the server sent must be this one; write data is copied to out. */
static void expect_cmd(struct fx *f, uint16_t id, bool write, uint64_t addr, uint64_t count,
		       void *out)
{
	struct vfu_dma_access a;
	const uint8_t *data;
	struct vfu_msg m;

	g_assert_cmpint(vfu_recv(f->cli, &m, VFU_MAX_MSG), ==, 0);
	g_assert_cmpuint(m.hdr.flags, ==, VFU_F_TYPE_COMMAND);
	g_assert_cmpuint(m.hdr.msg_id, ==, id);
	g_assert_cmpint(vfu_dma_access_decode(&m, false, write, &a, &data), ==, 0);
	g_assert_cmphex(a.address, ==, addr);
	g_assert_cmpuint(a.count, ==, count);
	if (write)
		memcpy(out, data, count);
	vfu_msg_clear(&m);
}

static void expect_nothing_sent(struct fx *f)
{
	char c;

	g_assert_cmpint(recv(f->cli, &c, 1, MSG_DONTWAIT), ==, -1);
	g_assert_cmpint(errno, ==, EAGAIN);
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + seed);
}

/* 10000 bytes: 4096 + 4096 + 1808 (our max and the VERSION default are above that). */
static void test_read_chunks(struct fx *f, gconstpointer data)
{
	static uint8_t want[10000], got[10000];
	uint64_t reads, writes;

	fill(want, sizeof(want), 1);
	queue_reply(f, 0, VFU_CMD_DMA_READ, 0x1000, 4096, want, 4096);
	queue_reply(f, 1, VFU_CMD_DMA_READ, 0x2000, 4096, want + 4096, 4096);
	queue_reply(f, 2, VFU_CMD_DMA_READ, 0x3000, 1808, want + 8192, 1808);
	g_assert_cmpint(dma_msg_access(f->dm, 0x1000, got, sizeof(got), false), ==, 0);
	g_assert_cmpmem(got, sizeof(got), want, sizeof(want));
	expect_cmd(f, 0, false, 0x1000, 4096, NULL);
	expect_cmd(f, 1, false, 0x2000, 4096, NULL);
	expect_cmd(f, 2, false, 0x3000, 1808, NULL);
	expect_nothing_sent(f);
	dma_msg_count(f->dm, &reads, &writes);
	g_assert_cmpuint(reads, ==, 3);
	g_assert_cmpuint(writes, ==, 0);
	g_assert_cmpint(dma_msg_error(f->dm), ==, 0);
}

/* The client's max_data_xfer_size bounds each write; data travels in the command. */
static void test_write_client_max(struct fx *f, gconstpointer data)
{
	uint8_t want[2500], got[2500];

	fill(want, sizeof(want), 9);
	dma_msg_set_max_xfer(f->dm, 1000);
	queue_reply(f, 0, VFU_CMD_DMA_WRITE, 0x8000, 1000, NULL, 0);
	queue_reply(f, 1, VFU_CMD_DMA_WRITE, 0x8000 + 1000, 1000, NULL, 0);
	queue_reply(f, 2, VFU_CMD_DMA_WRITE, 0x8000 + 2000, 500, NULL, 0);
	g_assert_cmpint(dma_msg_access(f->dm, 0x8000, want, sizeof(want), true), ==, 0);
	expect_cmd(f, 0, true, 0x8000, 1000, got);
	expect_cmd(f, 1, true, 0x8000 + 1000, 1000, got + 1000);
	expect_cmd(f, 2, true, 0x8000 + 2000, 500, got + 2000);
	g_assert_cmpmem(got, sizeof(got), want, sizeof(want));
}

/* A client that accepts more than we do still gets chunks of our VFU_MAX_DATA_XFER. */
static void test_our_max(struct fx *f, gconstpointer data)
{
	uint8_t buf[5000];

	fill(buf, sizeof(buf), 5);
	dma_msg_set_max_xfer(f->dm, 1 << 20);
	queue_reply(f, 0, VFU_CMD_DMA_WRITE, 0, VFU_MAX_DATA_XFER, NULL, 0);
	queue_reply(f, 1, VFU_CMD_DMA_WRITE, VFU_MAX_DATA_XFER, 5000 - VFU_MAX_DATA_XFER, NULL, 0);
	g_assert_cmpint(dma_msg_access(f->dm, 0, buf, sizeof(buf), true), ==, 0);
	expect_cmd(f, 0, true, 0, VFU_MAX_DATA_XFER, buf);
	expect_cmd(f, 1, true, VFU_MAX_DATA_XFER, 5000 - VFU_MAX_DATA_XFER, buf);
}

/* An error reply fails that access only (EFAULT); the connection goes on. */
static void test_error_reply(struct fx *f, gconstpointer data)
{
	uint8_t b[8] = "87654321";

	queue_error(f, 0, VFU_CMD_DMA_READ, EFAULT);
	g_assert_cmpint(dma_msg_access(f->dm, 0x5000, b, 8, false), ==, -EFAULT);
	queue_error(f, 1, VFU_CMD_DMA_WRITE, 0); /* "may be zero even if the Error bit is set" */
	g_assert_cmpint(dma_msg_access(f->dm, 0x5000, b, 8, true), ==, -EFAULT);
	g_assert_cmpint(dma_msg_error(f->dm), ==, 0);
	queue_reply(f, 2, VFU_CMD_DMA_READ, 0x5000, 8, "12345678", 8);
	g_assert_cmpint(dma_msg_access(f->dm, 0x5000, b, 8, false), ==, 0);
	g_assert_cmpmem(b, 8, "12345678", 8);
	expect_cmd(f, 0, false, 0x5000, 8, NULL);
	expect_cmd(f, 1, true, 0x5000, 8, b);
	expect_cmd(f, 2, false, 0x5000, 8, NULL);
}

/* A broken connection: -EIO now and for every later access, which sends nothing. */
static void expect_broken(struct fx *f, bool write, int cause)
{
	uint8_t b[8] = "abcdefgh";

	g_test_expect_message("remote", G_LOG_LEVEL_WARNING, "*t0: DMA_*failed*closing*");
	g_assert_cmpint(dma_msg_access(f->dm, 0x5000, b, 8, write), ==, -EIO);
	g_test_assert_expected_messages();
	g_assert_cmpint(dma_msg_error(f->dm), ==, cause);
	expect_cmd(f, 0, write, 0x5000, 8, b);
	g_assert_cmpint(dma_msg_access(f->dm, 0x5000, b, 8, write), ==, -EIO);
	expect_nothing_sent(f);
}

enum bad_reply {
	BAD_ID,
	BAD_CMD,
	BAD_ADDRESS,
	BAD_COUNT,
	BAD_SHORT,
	BAD_WRITE_DATA,
	BAD_OVERSIZE,
	BAD_ERRNO,
	BAD_FD,
	BAD_NO_REPLY,
	BAD_EOF,
};

static void queue_bad(struct fx *f, enum bad_reply bad, bool write)
{
	uint16_t cmd = write ? VFU_CMD_DMA_WRITE : VFU_CMD_DMA_READ;
	static uint8_t big[8192];
	uint8_t p[24] = {0};
	size_t len = write ? 0 : 8;
	int efd;

	switch (bad) {
	case BAD_ID:
		return queue_reply(f, 1, cmd, 0x5000, 8, big, len);
	case BAD_CMD:
		return queue_reply(f, 0, VFU_CMD_DMA_WRITE + VFU_CMD_DMA_READ - cmd, 0x5000, 8, big,
				   len);
	case BAD_ADDRESS:
		return queue_reply(f, 0, cmd, 0x6000, 8, big, len);
	case BAD_COUNT: /* consistent with its own payload, not with the command */
		return queue_reply(f, 0, cmd, 0x5000, 4, big, write ? 0 : 4);
	case BAD_SHORT:
		return queue_reply(f, 0, cmd, 0x5000, 8, big, 7);
	case BAD_WRITE_DATA:
		return queue_reply(f, 0, cmd, 0x5000, 8, big, 8);
	case BAD_OVERSIZE: /* above our max_data_xfer_size; for a read, above VFU_MAX_MSG */
		return queue_reply(f, 0, cmd, 0x5000, 8192, big, write ? 0 : 8192);
	case BAD_ERRNO:
		return queue_error(f, 0, cmd, 5000);
	case BAD_FD: /* a good reply, but with an eventfd attached */
		efd = eventfd(0, EFD_CLOEXEC);
		memcpy(p, &(struct vfu_dma_access){0x5000, 8}, 16);
		g_assert_cmpint(vfu_send(f->cli, 0, cmd, VFU_F_TYPE_REPLY, 0, p, 16 + len, &efd, 1),
				==, 0);
		close(efd);
		return;
	case BAD_NO_REPLY:
		g_assert_cmpint(
			send(f->cli,
			     &(struct vfu_hdr){0, cmd, 16, VFU_F_TYPE_REPLY | VFU_F_NO_REPLY, 0},
			     16, 0),
			==, 16);
		return;
	case BAD_EOF:
		shutdown(f->cli, SHUT_WR);
		return;
	}
}

static void test_bad_reply(gconstpointer data)
{
	static const struct {
		enum bad_reply bad;
		int cause;
	} cases[] = {
		{BAD_ID, -EPROTO},	 {BAD_CMD, -EPROTO},	 {BAD_ADDRESS, -EPROTO},
		{BAD_COUNT, -EPROTO},	 {BAD_SHORT, -EPROTO},	 {BAD_WRITE_DATA, -EPROTO},
		{BAD_OVERSIZE, -EPROTO}, {BAD_ERRNO, -EPROTO},	 {BAD_FD, -EBADMSG},
		{BAD_NO_REPLY, -EPROTO}, {BAD_EOF, -ECONNRESET},
	};
	bool write = GPOINTER_TO_UINT(data);

	for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct fx g;

		if (cases[i].bad == BAD_WRITE_DATA && !write)
			continue; /* a read reply carries data */
		g_test_message("bad reply %u, %s", cases[i].bad, write ? "write" : "read");
		setup(&g, NULL);
		queue_bad(&g, cases[i].bad, write);
		expect_broken(&g, write,
			      cases[i].bad == BAD_OVERSIZE && !write ? -EMSGSIZE : cases[i].cause);
		teardown(&g, NULL);
	}
}

/* A client that never answers: after the timeout the connection is broken. */
static void test_timeout(struct fx *f, gconstpointer data)
{
	uint8_t b[8];

	dma_msg_set_timeout(f->dm, 50);
	g_test_expect_message("remote", G_LOG_LEVEL_WARNING, "*t0: no DMA reply*in 50 ms*");
	g_test_expect_message("remote", G_LOG_LEVEL_WARNING, "*t0: DMA_READ*timed out*");
	g_assert_cmpint(dma_msg_access(f->dm, 0x5000, b, 8, false), ==, -EIO);
	g_test_assert_expected_messages();
	g_assert_cmpint(dma_msg_error(f->dm), ==, -ETIMEDOUT);
	expect_cmd(f, 0, false, 0x5000, 8, NULL);
	/* A late reply changes nothing: the connection stays broken. */
	queue_reply(f, 0, VFU_CMD_DMA_READ, 0x5000, 8, "late....", 8);
	g_assert_cmpint(dma_msg_access(f->dm, 0x5000, b, 8, false), ==, -EIO);
	expect_nothing_sent(f);
}

/* A client command that crosses ours is kept whole, payload included, and served next. */
static void test_crossing_command(struct fx *f, gconstpointer data)
{
	uint8_t big[200], b[4];
	struct vfu_msg *m;

	fill(big, sizeof(big), 3);
	g_assert_null(dma_msg_pending(f->dm));
	g_assert_cmpint(vfu_send(f->cli, 77, VFU_CMD_REGION_WRITE, VFU_F_TYPE_COMMAND, 0, big,
				 sizeof(big), NULL, 0),
			==, 0);
	queue_reply(f, 0, VFU_CMD_DMA_READ, 0x9000, 4, "abcd", 4);
	g_assert_cmpint(dma_msg_access(f->dm, 0x9000, b, 4, false), ==, 0);
	g_assert_cmpmem(b, 4, "abcd", 4);
	m = dma_msg_pending(f->dm);
	g_assert_nonnull(m);
	g_assert_cmpuint(m->hdr.msg_id, ==, 77);
	g_assert_cmpuint(m->hdr.cmd, ==, VFU_CMD_REGION_WRITE);
	g_assert_cmpmem(m->payload, m->len, big, sizeof(big));
	dma_msg_pending_done(f->dm);
	g_assert_null(dma_msg_pending(f->dm));
	/* A small one lives in the message's inline buffer: it must survive the move. */
	g_assert_cmpint(
		vfu_send(f->cli, 78, VFU_CMD_DEVICE_RESET, VFU_F_TYPE_COMMAND, 0, "xy", 2, NULL, 0),
		==, 0);
	queue_reply(f, 1, VFU_CMD_DMA_WRITE, 0x9000, 4, NULL, 0);
	g_assert_cmpint(dma_msg_access(f->dm, 0x9000, b, 4, true), ==, 0);
	m = dma_msg_pending(f->dm);
	g_assert_nonnull(m);
	g_assert_cmpmem(m->payload, m->len, "xy", 2);
	/* A second command while one is kept: the client broke the one-at-a-time rule. */
	g_assert_cmpint(
		vfu_send(f->cli, 79, VFU_CMD_DEVICE_RESET, VFU_F_TYPE_COMMAND, 0, NULL, 0, NULL, 0),
		==, 0);
	g_test_expect_message("remote", G_LOG_LEVEL_WARNING, "*t0*DEVICE_RESET while*unanswered*");
	g_test_expect_message("remote", G_LOG_LEVEL_WARNING, "*t0: DMA_READ*failed*");
	g_assert_cmpint(dma_msg_access(f->dm, 0x9000, b, 4, false), ==, -EIO);
	g_test_assert_expected_messages();
	g_assert_cmpint(dma_msg_error(f->dm), ==, -EPROTO);
	g_assert_nonnull(dma_msg_pending(f->dm)); /* the first one is still there, freed later */
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add("/remote/dma-msg/read-chunks", struct fx, NULL, setup, test_read_chunks,
		   teardown);
	g_test_add("/remote/dma-msg/write-client-max", struct fx, NULL, setup,
		   test_write_client_max, teardown);
	g_test_add("/remote/dma-msg/our-max", struct fx, NULL, setup, test_our_max, teardown);
	g_test_add("/remote/dma-msg/error-reply", struct fx, NULL, setup, test_error_reply,
		   teardown);
	g_test_add_data_func("/remote/dma-msg/bad-read-reply", GUINT_TO_POINTER(0),
			     (GTestDataFunc)test_bad_reply);
	g_test_add_data_func("/remote/dma-msg/bad-write-reply", GUINT_TO_POINTER(1),
			     (GTestDataFunc)test_bad_reply);
	g_test_add("/remote/dma-msg/timeout", struct fx, NULL, setup, test_timeout, teardown);
	g_test_add("/remote/dma-msg/crossing-command", struct fx, NULL, setup,
		   test_crossing_command, teardown);
	return g_test_run();
}
