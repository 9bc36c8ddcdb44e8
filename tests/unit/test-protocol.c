// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for protocol/ (one binary, "protocol"): this file holds the shared helpers,
 * the framing tests and main(); test-protocol-{version,decode,call}.c the rest.  Every
 * validation branch gets the bad bytes sent over a real AF_UNIX stream socketpair
 * (hand-built with sendmsg, not with vfu_send, so the sender cannot help), and error
 * paths are checked for leaked fds.
 * Not tested here: the client and server built on top (test-vfu-client.c, remote/).
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <pthread.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "protocol/protocol.h"
#include "tests/unit/test-protocol.h"

/* --- helpers (assert instead of returning errors) ------------------------------- */

void tp_socketpair(int sv[2])
{
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
}

unsigned tp_open_fds(void)
{
	g_autoptr(GDir) d = g_dir_open("/proc/self/fd", 0, NULL);
	unsigned n = 0;

	g_assert_nonnull(d);
	while (g_dir_read_name(d))
		n++;
	return n;
}

/* Send raw bytes with optional fds in one sendmsg, bypassing vfu_send's checks. */
void tp_raw(int sock, const void *buf, size_t len, const int *fds, unsigned nr)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 16)];
	} ctl;
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	g_assert_cmpuint(nr, <=, 16);
	if (nr) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nr);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nr);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nr);
	}
	g_assert_cmpint(sendmsg(sock, &mh, MSG_NOSIGNAL), ==, (ssize_t)len);
}

/* One message: header (size = 16 + len unless size_override) and payload. */
void tp_msg(int sock, uint16_t id, uint16_t cmd, uint32_t flags, uint32_t error,
		   const void *p, size_t len, uint32_t size_override, const int *fds,
		   unsigned nr)
{
	g_autofree uint8_t *buf = g_malloc0(VFU_HDR_SIZE + len);
	struct vfu_hdr h = { .msg_id = id, .cmd = cmd, .flags = flags, .error = error };

	h.size = size_override ? size_override : (uint32_t)(VFU_HDR_SIZE + len);
	memcpy(buf, &h, sizeof(h));
	if (len)
		memcpy(buf + VFU_HDR_SIZE, p, len);
	tp_raw(sock, buf, VFU_HDR_SIZE + len, fds, nr);
}

/* Send a message with the given payload and receive it on the other end. */
void tp_loop(uint16_t cmd, uint32_t flags, const void *p, size_t len, const int *fds,
		    unsigned nr, struct vfu_msg *m)
{
	int sv[2];

	tp_socketpair(sv);
	tp_msg(sv[0], 7, cmd, flags, 0, p, len, 0, fds, nr);
	g_assert_cmpint(vfu_recv(sv[1], m, VFU_MAX_MSG), ==, 0);
	close(sv[0]);
	close(sv[1]);
}

/* Receive one message whose bytes are sent raw; return vfu_recv's result. */
int tp_recv_raw(const void *buf, size_t len, const int *fds, unsigned nr,
		       bool close_after, struct vfu_msg *m)
{
	int sv[2], ret;

	tp_socketpair(sv);
	tp_raw(sv[0], buf, len, fds, nr);
	if (close_after)
		close(sv[0]);
	ret = vfu_recv(sv[1], m, VFU_MAX_MSG);
	if (!close_after)
		close(sv[0]);
	close(sv[1]);
	return ret;
}

int tp_eventfd(void)
{
	int fd = eventfd(0, EFD_CLOEXEC);

	g_assert_cmpint(fd, >=, 0);
	return fd;
}

/* --- framing -------------------------------------------------------------------- */

/* The busy-poll probe: nothing there is -EAGAIN even on a blocking socket. */
static void test_msg_nowait(void)
{
	uint8_t p[20] = { 1, 2, 3 };
	struct vfu_msg m;
	int sv[2];

	tp_socketpair(sv);
	g_assert_cmpint(vfu_recv_nowait(sv[0], &m, VFU_MAX_MSG), ==, -EAGAIN);
	g_assert_cmpint(vfu_send(sv[1], 9, VFU_CMD_REGION_READ, VFU_F_TYPE_COMMAND, 0, p,
				 sizeof(p), NULL, 0), ==, 0);
	g_assert_cmpint(vfu_recv_nowait(sv[0], &m, VFU_MAX_MSG), ==, 0);
	g_assert_cmpuint(m.hdr.msg_id, ==, 9);
	g_assert_cmpuint(m.len, ==, sizeof(p));
	g_assert_cmpmem(m.payload, m.len, p, sizeof(p));
	vfu_msg_clear(&m);
	/* A message that has started arriving is read whole, as vfu_recv() would. */
	tp_msg(sv[1], 10, VFU_CMD_DEVICE_RESET, VFU_F_TYPE_COMMAND, 0, NULL, 0, 0, NULL, 0);
	g_assert_cmpint(vfu_recv_nowait(sv[0], &m, VFU_MAX_MSG), ==, 0);
	g_assert_cmpuint(m.hdr.cmd, ==, VFU_CMD_DEVICE_RESET);
	vfu_msg_clear(&m);
	close(sv[1]);
	g_assert_cmpint(vfu_recv_nowait(sv[0], &m, VFU_MAX_MSG), ==, -ECONNRESET);
	close(sv[0]);
}

static void test_msg_roundtrip(void)
{
	static const size_t lens[] = { 0, 24, VFU_MSG_INLINE, VFU_MSG_INLINE + 1,
				       VFU_MAX_MSG - VFU_HDR_SIZE };
	unsigned before = tp_open_fds();
	int sv[2];

	tp_socketpair(sv);
	for (size_t i = 0; i < G_N_ELEMENTS(lens); i++) {
		g_autofree uint8_t *p = g_malloc(lens[i] + 1);
		struct vfu_msg m;

		for (size_t j = 0; j < lens[i]; j++)
			p[j] = (uint8_t)(j * 7 + i);
		g_assert_cmpint(vfu_send(sv[0], 40 + i, VFU_CMD_REGION_WRITE,
					 VFU_F_TYPE_COMMAND, 0, p, lens[i], NULL, 0), ==, 0);
		g_assert_cmpint(vfu_recv(sv[1], &m, VFU_MAX_MSG), ==, 0);
		g_assert_cmpuint(m.hdr.msg_id, ==, 40 + i);
		g_assert_cmpuint(m.hdr.cmd, ==, VFU_CMD_REGION_WRITE);
		g_assert_cmpuint(m.hdr.size, ==, VFU_HDR_SIZE + lens[i]);
		g_assert_cmpuint(m.len, ==, lens[i]);
		g_assert_true(lens[i] == 0 || memcmp(m.payload, p, lens[i]) == 0);
		g_assert_cmpuint(m.nr_fds, ==, 0);
		vfu_msg_clear(&m);
		vfu_msg_clear(&m); /* idempotent */
	}
	close(sv[0]);
	close(sv[1]);
	g_assert_cmpuint(tp_open_fds(), ==, before);
}

/* Two messages queued back to back: each recv takes exactly one, fds stay with theirs. */
static void test_msg_back_to_back(void)
{
	uint32_t a = 0x11111111, b = 0x22222222;
	int sv[2], efd = tp_eventfd();
	struct vfu_msg m;

	tp_socketpair(sv);
	g_assert_cmpint(vfu_send(sv[0], 1, 99, VFU_F_TYPE_COMMAND, 0, &a, 4, NULL, 0), ==, 0);
	g_assert_cmpint(vfu_send(sv[0], 2, 99, VFU_F_TYPE_COMMAND | VFU_F_NO_REPLY, 0, &b, 4,
				 &efd, 1), ==, 0);
	close(efd);
	g_assert_cmpint(vfu_recv(sv[1], &m, VFU_MAX_MSG), ==, 0);
	g_assert_cmpuint(m.hdr.msg_id, ==, 1);
	g_assert_cmpuint(m.nr_fds, ==, 0);
	g_assert_cmpmem(m.payload, 4, &a, 4);
	vfu_msg_clear(&m);
	g_assert_cmpint(vfu_recv(sv[1], &m, VFU_MAX_MSG), ==, 0);
	g_assert_cmpuint(m.hdr.msg_id, ==, 2);
	g_assert_cmpuint(m.hdr.flags, ==, VFU_F_NO_REPLY);
	g_assert_cmpuint(m.nr_fds, ==, 1);
	g_assert_cmpint(fcntl(m.fds[0], F_GETFD), ==, FD_CLOEXEC); /* MSG_CMSG_CLOEXEC */
	g_assert_cmpmem(m.payload, 4, &b, 4);
	/* Unknown command numbers pass framing: the server answers them with ENOSYS. */
	g_assert_cmpstr(vfu_cmd_name(m.hdr.cmd), ==, "UNKNOWN");
	g_assert_cmpint(vfu_msg_expect_fds(&m, 1), ==, 0);
	g_assert_cmpuint(m.nr_fds, ==, 1);
	vfu_msg_clear(&m);
	close(sv[0]);
	close(sv[1]);
}

struct tp_split {
	int sock;
	uint8_t bytes[VFU_HDR_SIZE + 8];
	int fd;
};

static void *tp_split_writer(void *opaque)
{
	struct tp_split *s = opaque;
	static const size_t cuts[] = { 0, 5, 16, 20, sizeof(s->bytes) };

	for (size_t i = 0; i + 1 < G_N_ELEMENTS(cuts); i++) {
		tp_raw(s->sock, s->bytes + cuts[i], cuts[i + 1] - cuts[i], &s->fd, i == 0);
		g_usleep(2000);
	}
	return NULL;
}

/* A message trickling in pieces, on a non-blocking socket, is still read whole. */
static void test_msg_split(void)
{
	struct vfu_hdr h = { .msg_id = 3, .cmd = VFU_CMD_REGION_READ, .size = 24 };
	struct tp_split s = { .fd = tp_eventfd() };
	struct vfu_msg m;
	pthread_t th;
	int sv[2];

	tp_socketpair(sv);
	g_assert_cmpint(fcntl(sv[1], F_SETFL, O_NONBLOCK), ==, 0);
	g_assert_cmpint(vfu_recv(sv[1], &m, VFU_MAX_MSG), ==, -EAGAIN);
	memcpy(s.bytes, &h, sizeof(h));
	memset(s.bytes + VFU_HDR_SIZE, 0xab, 8);
	s.sock = sv[0];
	g_assert_cmpint(pthread_create(&th, NULL, tp_split_writer, &s), ==, 0);
	while (vfu_recv(sv[1], &m, VFU_MAX_MSG) == -EAGAIN)
		g_usleep(500);
	pthread_join(th, NULL);
	g_assert_cmpuint(m.len, ==, 8);
	g_assert_cmpuint(m.payload[7], ==, 0xab);
	g_assert_cmpuint(m.nr_fds, ==, 1);
	vfu_msg_clear(&m);
	close(s.fd);
	close(sv[0]);
	close(sv[1]);
}

static void test_msg_truncated_header(void)
{
	struct vfu_hdr h = { .msg_id = 9, .cmd = VFU_CMD_VERSION, .size = 16 };
	struct vfu_msg m;
	int sv[2];

	g_assert_cmpint(tp_recv_raw(&h, 10, NULL, 0, true, &m), ==, -EPROTO);
	g_assert_cmpuint(m.hdr.msg_id, ==, 0); /* a partial header is not reported */
	/* EOF at a message boundary is the peer leaving, not a malformed message. */
	tp_socketpair(sv);
	close(sv[0]);
	g_assert_cmpint(vfu_recv(sv[1], &m, VFU_MAX_MSG), ==, -ECONNRESET);
	close(sv[1]);
}

static void test_msg_size(void)
{
	uint8_t buf[VFU_HDR_SIZE + 32] = { 0 };
	struct vfu_hdr *h = (struct vfu_hdr *)buf;
	struct vfu_msg m;

	h->msg_id = 5;
	h->cmd = VFU_CMD_DEVICE_GET_INFO;
	h->size = 8; /* smaller than the header itself */
	g_assert_cmpint(tp_recv_raw(buf, VFU_HDR_SIZE, NULL, 0, false, &m), ==, -EPROTO);
	h->size = VFU_MAX_MSG + 1; /* above our limit: hdr kept for an error reply */
	g_assert_cmpint(tp_recv_raw(buf, VFU_HDR_SIZE, NULL, 0, false, &m), ==, -EMSGSIZE);
	g_assert_cmpuint(m.hdr.msg_id, ==, 5);
	g_assert_null(m.payload);
	h->size = 0xffffffff;
	g_assert_cmpint(tp_recv_raw(buf, VFU_HDR_SIZE, NULL, 0, false, &m), ==, -EMSGSIZE);
	h->size = sizeof(buf); /* size says 48, the peer sends 30 and hangs up */
	g_assert_cmpint(tp_recv_raw(buf, 30, NULL, 0, true, &m), ==, -EPROTO);
	g_assert_cmpuint(m.hdr.msg_id, ==, 5);
	g_assert_cmpuint(m.len, ==, 0);
	/* size says 16 but 32 more bytes follow: they are read as the next header. */
	{
		int sv[2];

		h->size = VFU_HDR_SIZE;
		tp_socketpair(sv);
		tp_raw(sv[0], buf, sizeof(buf), NULL, 0);
		g_assert_cmpint(vfu_recv(sv[1], &m, VFU_MAX_MSG), ==, 0);
		g_assert_cmpuint(m.len, ==, 0);
		g_assert_cmpint(vfu_recv(sv[1], &m, VFU_MAX_MSG), ==, -EPROTO); /* size 0 */
		close(sv[0]);
		close(sv[1]);
	}
	g_assert_cmpint(vfu_recv(0, &m, VFU_HDR_SIZE - 1), ==, -EINVAL);
}

static void expect_bad_flags(uint32_t flags, uint32_t error, size_t len)
{
	uint8_t p[8] = { 0 };
	struct vfu_msg m;
	int sv[2];

	tp_socketpair(sv);
	tp_msg(sv[0], 1, VFU_CMD_DEVICE_RESET, flags, error, p, len, 0, NULL, 0);
	g_assert_cmpint(vfu_recv(sv[1], &m, VFU_MAX_MSG), ==, -EPROTO);
	close(sv[0]);
	close(sv[1]);
	g_assert_cmpint(vfu_send(-1, 1, VFU_CMD_DEVICE_RESET, flags, error, p, len, NULL, 0),
			==, -EINVAL);
}

static void test_msg_flags(void)
{
	expect_bad_flags(2, 0, 0);                                     /* type 2 */
	expect_bad_flags(0xf, 0, 0);                                   /* type 15 */
	expect_bad_flags(VFU_F_TYPE_COMMAND | (1u << 6), 0, 0);        /* unknown bit */
	expect_bad_flags(VFU_F_TYPE_COMMAND | VFU_F_ERROR, 5, 0);      /* error command */
	expect_bad_flags(VFU_F_TYPE_COMMAND, 5, 0);                    /* reserved error */
	expect_bad_flags(VFU_F_TYPE_REPLY | VFU_F_NO_REPLY, 0, 0);     /* no_reply reply */
	expect_bad_flags(VFU_F_TYPE_REPLY, 5, 0);                      /* error w/o flag */
	expect_bad_flags(VFU_F_TYPE_REPLY | VFU_F_ERROR, 5, 8);        /* error + payload */
}

static void test_msg_fds(void)
{
	unsigned before = tp_open_fds();
	int fds[VFU_MAX_FDS + 1], sv[2];
	struct vfu_device_info di = { .argsz = sizeof(di) }, out;
	uint8_t hdr[VFU_HDR_SIZE] = { 0 };
	struct vfu_msg m;

	for (unsigned i = 0; i < G_N_ELEMENTS(fds); i++)
		fds[i] = tp_eventfd();
	/* More fds than we accept: the kernel truncates (MSG_CTRUNC); none may leak. */
	((struct vfu_hdr *)hdr)->size = VFU_HDR_SIZE;
	g_assert_cmpint(tp_recv_raw(hdr, sizeof(hdr), fds, G_N_ELEMENTS(fds), false, &m), ==,
			-EBADMSG);
	g_assert_cmpuint(m.nr_fds, ==, 0);
	/* fds on a message that takes none: the decoder refuses, clear closes them. */
	tp_loop(VFU_CMD_DEVICE_GET_INFO, VFU_F_TYPE_COMMAND, &di, sizeof(di), fds, 2, &m);
	g_assert_cmpuint(m.nr_fds, ==, 2);
	g_assert_cmpint(vfu_device_info_decode(&m, false, &out), ==, -EBADMSG);
	g_assert_cmpint(vfu_msg_expect_fds(&m, 0), ==, -EBADMSG);
	g_assert_cmpuint(m.nr_fds, ==, 0);
	vfu_msg_clear(&m);
	/* fds dropped: a message that needs one arrives without. */
	tp_loop(VFU_CMD_DMA_MAP, VFU_F_TYPE_COMMAND, &di, sizeof(di), NULL, 0, &m);
	g_assert_cmpint(vfu_msg_expect_fds(&m, 1), ==, -EBADMSG);
	vfu_msg_clear(&m);
	for (unsigned i = 0; i < G_N_ELEMENTS(fds); i++)
		close(fds[i]);
	g_assert_cmpuint(tp_open_fds(), ==, before);
	/* Sender side: too many fds, too big, peer gone (-EPIPE, no SIGPIPE). */
	g_assert_cmpint(vfu_send(-1, 1, 1, 0, 0, NULL, 0, fds, VFU_MAX_FDS + 1), ==, -EINVAL);
	g_assert_cmpint(vfu_send(-1, 1, 1, 0, 0, hdr, VFU_MAX_MSG, NULL, 0), ==, -EMSGSIZE);
	tp_socketpair(sv);
	close(sv[1]);
	g_assert_cmpint(vfu_send(sv[0], 1, 1, 0, 0, NULL, 0, NULL, 0), ==, -EPIPE);
	close(sv[0]);
}

static void test_msg_cmd_name(void)
{
	g_assert_cmpstr(vfu_cmd_name(VFU_CMD_VERSION), ==, "VERSION");
	g_assert_cmpstr(vfu_cmd_name(VFU_CMD_REGION_READ), ==, "REGION_READ");
	g_assert_cmpstr(vfu_cmd_name(VFU_CMD_DEVICE_RESET), ==, "DEVICE_RESET");
	g_assert_cmpstr(vfu_cmd_name(VFU_CMD_MIG_DATA_WRITE), ==, "MIG_DATA_WRITE");
	g_assert_cmpstr(vfu_cmd_name(0), ==, "UNKNOWN");
	g_assert_cmpstr(vfu_cmd_name(14), ==, "UNKNOWN");
	g_assert_cmpstr(vfu_cmd_name(VFU_CMD_MAX), ==, "UNKNOWN");
	g_assert_cmpstr(vfu_cmd_name(0xffff), ==, "UNKNOWN");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/protocol/msg/roundtrip", test_msg_roundtrip);
	g_test_add_func("/protocol/msg/nowait", test_msg_nowait);
	g_test_add_func("/protocol/msg/back-to-back", test_msg_back_to_back);
	g_test_add_func("/protocol/msg/split", test_msg_split);
	g_test_add_func("/protocol/msg/truncated-header", test_msg_truncated_header);
	g_test_add_func("/protocol/msg/size", test_msg_size);
	g_test_add_func("/protocol/msg/flags", test_msg_flags);
	g_test_add_func("/protocol/msg/fds", test_msg_fds);
	g_test_add_func("/protocol/msg/cmd-name", test_msg_cmd_name);
	tp_add_version_tests();
	tp_add_decode_tests();
	tp_add_call_tests();
	tp_add_dma_tests();
	tp_add_irqs_tests();
	return g_test_run();
}
