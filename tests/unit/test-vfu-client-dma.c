// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for proxy/'s connection-time bypass setup (proxy/vfu_dma.c) and the
 * pcifn doorbell hook: the proxy connects to a real vfu_server serving pci-testdev,
 * through a relay thread that can replace the server's GET_REGION_IO_FDS replies with
 * hostile ones (offsets outside the BAR, fd_index out of range, too many fds, bad
 * sizes, a wrong index) or refuse DMA_MAP.  Checked: guest RAM written by the "VMM"
 * is what the device reads through its gmem; doorbells arrive in the function and
 * ring the device; the BAR hook follows programming, decode enables and reset; every
 * bad reply fails the connection with a message naming the device.
 * With dma=message (PROXY_DMA_MESSAGE) no fd is sent; the remote's DMA_READ/DMA_WRITE
 * are served by the proxy's own thread while no call is in flight and by the calling
 * thread during a call, both at once in a race test; a hostile DMA command arriving
 * between calls (outside the exported RAM, count 0 or oversize, payload size wrong,
 * wrapping, an fd attached, a stray reply, another command) is refused or kills the
 * function.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "memory/memory.h"
#include "protocol/protocol.h"
#include "proxy/proxy.h"
#include "remote/remote.h"

const struct dev_ops *const dev_table[] = {&pci_testdev_ops, NULL};

enum fault {
	F_NONE,
	F_IO_OUTSIDE,
	F_IO_FD_INDEX,
	F_IO_EXTRA_FD,
	F_IO_SIZE,
	F_IO_INDEX,
	F_DMA_REFUSE,
	F_DMA_NOFD,
	F_DMA_BAD_REPLY,
	F_MESSAGE, /* dma=message through a faithful relay */
	F_MESSAGE_REFUSE,
};

struct relay {
	int outer, inner; /* proxy side, server side */
	struct dev *dev;
	struct vfu_server *srv;
	enum fault fault;
	/* A reply from the proxy to a DMA command the test sent (F_MESSAGE). */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool have_reply;
	struct vfu_hdr reply;
	uint8_t reply_data[64];
	size_t reply_len;
};

/* A hostile GET_REGION_IO_FDS reply for BAR0 of 4 KiB. */
static void relay_bad_io_fds(struct relay *r, const struct vfu_msg *m)
{
	struct {
		struct vfu_region_io_fds h;
		struct vfu_ioeventfd s;
	} __attribute__((packed)) rep = {
		{.argsz = 56, .index = 0, .count = 1},
		{.offset = 0x10, .size = 4, .fd_index = 0},
	};
	int fds[2] = {eventfd(0, EFD_CLOEXEC), eventfd(0, EFD_CLOEXEC)};
	unsigned nr = 1;

	if (r->fault == F_IO_OUTSIDE)
		rep.s.offset = 4096 - 2; /* 4 bytes from 4094: past the BAR */
	if (r->fault == F_IO_FD_INDEX)
		rep.s.fd_index = 1;
	if (r->fault == F_IO_EXTRA_FD)
		nr = 2;
	if (r->fault == F_IO_SIZE)
		rep.s.size = 3;
	if (r->fault == F_IO_INDEX)
		rep.h.index = 1;
	g_assert_cmpint(vfu_send(r->outer, m->hdr.msg_id, m->hdr.cmd, VFU_F_TYPE_REPLY, 0, &rep,
				 sizeof(rep), fds, nr),
			==, 0);
	close(fds[0]);
	close(fds[1]);
}

/* Send a DMA command to the proxy and check its reply; returns the reply's error. */
static uint32_t relay_dma(struct relay *r, bool write, uint64_t addr, uint64_t count,
			  const char *data, uint8_t *out)
{
	struct {
		struct vfu_dma_access a;
		char d[16];
	} __attribute__((packed)) req = {{addr, count}};
	struct vfu_msg m;
	uint32_t err;

	g_assert_cmpuint(count, <=, sizeof(req.d));
	if (write)
		memcpy(req.d, data, count);
	g_assert_cmpint(vfu_send(r->outer, 900, write ? VFU_CMD_DMA_WRITE : VFU_CMD_DMA_READ,
				 VFU_F_TYPE_COMMAND, 0, &req, sizeof(req.a) + (write ? count : 0),
				 NULL, 0),
			==, 0);
	g_assert_cmpint(vfu_recv(r->outer, &m, VFU_MAX_MSG), ==, 0);
	g_assert_cmpuint(m.hdr.msg_id, ==, 900);
	err = m.hdr.flags & VFU_F_ERROR ? m.hdr.error : 0;
	if (!err && !write)
		memcpy(out, m.payload + sizeof(req.a), count);
	vfu_msg_clear(&m);
	return err;
}

/*
 * F_DMA_NOFD: a remote that accepts RAM without an fd and reaches it with DMA_READ and
 * DMA_WRITE while the proxy waits for its first BAR read.
 */
static bool relay_nofd(struct relay *r, const struct vfu_msg *m)
{
	static bool done;
	uint8_t buf[8];

	if (m->hdr.cmd == VFU_CMD_DMA_MAP) {
		g_assert_cmpuint(m->nr_fds, ==, 0);
		g_assert_cmpint(vfu_send(r->outer, m->hdr.msg_id, m->hdr.cmd, VFU_F_TYPE_REPLY, 0,
					 NULL, 0, NULL, 0),
				==, 0);
		return true;
	}
	if (m->hdr.cmd != VFU_CMD_REGION_READ || done ||
	    ((const struct vfu_region_access *)m->payload)->region != 0)
		return false;
	done = true;
	g_assert_cmpuint(relay_dma(r, true, 0x10, 4, "ramX", NULL), ==, 0);
	g_assert_cmpuint(relay_dma(r, false, 0x0c, 8, NULL, buf), ==, 0);
	g_assert_cmpmem(buf, 8, "fromramX", 8);
	g_assert_cmpuint(relay_dma(r, false, 4096 - 4, 8, NULL, buf), ==, EFAULT); /* past it */
	g_assert_cmpuint(relay_dma(r, true, 1ULL << 32, 4, "nope", NULL), ==, EFAULT);
	return false; /* and now the read itself */
}

/* Pass m to the real server and its reply back, unless the fault replaces it. */
static void relay_one(struct relay *r, struct vfu_msg *m)
{
	struct vfu_msg rep;

	if (r->fault >= F_IO_OUTSIDE && r->fault <= F_IO_INDEX &&
	    m->hdr.cmd == VFU_CMD_DEVICE_GET_REGION_IO_FDS) {
		const struct vfu_region_io_fds *q = (const void *)m->payload;

		if (q->index == 0)
			return relay_bad_io_fds(r, m);
	}
	if (r->fault == F_DMA_NOFD && relay_nofd(r, m))
		return;
	if (r->fault == F_DMA_BAD_REPLY && m->hdr.cmd == VFU_CMD_DMA_MAP) {
		g_assert_cmpint(vfu_send(r->outer, m->hdr.msg_id, m->hdr.cmd, VFU_F_TYPE_REPLY, 0,
					 "junk", 4, NULL, 0),
				==, 0); /* "no payload" */
		return;
	}
	if ((r->fault == F_DMA_REFUSE || r->fault == F_MESSAGE_REFUSE) &&
	    m->hdr.cmd == VFU_CMD_DMA_MAP) {
		g_assert_cmpint(vfu_send(r->outer, m->hdr.msg_id, m->hdr.cmd,
					 VFU_F_TYPE_REPLY | VFU_F_ERROR, EPERM, NULL, 0, NULL, 0),
				==, 0);
		return;
	}
	g_assert_cmpint(vfu_send(r->inner, m->hdr.msg_id, m->hdr.cmd, m->hdr.flags, 0, m->payload,
				 m->len, m->fds, m->nr_fds),
			==, 0);
	g_assert_cmpint(vfu_server_handle(r->srv, false), ==, 0);
	g_assert_cmpint(vfu_recv(r->inner, &rep, VFU_MAX_MSG), ==, 0);
	g_assert_cmpint(vfu_send(r->outer, rep.hdr.msg_id, rep.hdr.cmd, rep.hdr.flags,
				 rep.hdr.error, rep.payload, rep.len, rep.fds, rep.nr_fds),
			==, 0);
	vfu_msg_clear(&rep);
}

/* A reply to a DMA command the test sent: for relay_wait_reply(), not the server. */
static void relay_keep_reply(struct relay *r, const struct vfu_msg *m)
{
	pthread_mutex_lock(&r->lock);
	r->reply = m->hdr;
	r->reply_len = MIN(m->len, sizeof(r->reply_data));
	memcpy(r->reply_data, m->payload, r->reply_len);
	r->have_reply = true;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

static void *relay_thread(void *opaque)
{
	struct relay *r = opaque;
	struct vfu_msg m;

	while (vfu_recv(r->outer, &m, VFU_MAX_MSG) == 0) {
		if ((m.hdr.flags & VFU_F_TYPE_MASK) == VFU_F_TYPE_REPLY)
			relay_keep_reply(r, &m);
		else
			relay_one(r, &m);
		vfu_msg_clear(&m);
	}
	return NULL;
}

/* The proxy's reply to the DMA command the test sent; false if none within 5 s. */
static bool relay_wait_reply(struct relay *r, struct vfu_hdr *h, uint8_t *data)
{
	gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
	bool got;

	pthread_mutex_lock(&r->lock);
	while (!r->have_reply && g_get_monotonic_time() < end) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 10 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&r->cond, &r->lock, &ts);
	}
	got = r->have_reply;
	if (got) {
		*h = r->reply;
		memcpy(data, r->reply_data, r->reply_len);
	}
	r->have_reply = false;
	pthread_mutex_unlock(&r->lock);
	return got;
}

static int relay_start(struct relay *r, enum fault fault, const struct gmem *mem, pthread_t *th,
		       struct pcifn **fn, GError **err)
{
	static const struct dev_env env = {0};
	g_autofree char *msg = NULL;
	int a[2], b[2];

	memset(r, 0, sizeof(*r));
	r->fault = fault;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, a), ==, 0);
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, b), ==, 0);
	r->outer = a[1];
	r->inner = b[0];
	g_assert_cmpint(dev_create("pci-testdev", "t0", &env, NULL, &r->dev, &msg), ==, 0);
	g_assert_cmpint(vfu_server_create(r->dev, b[1], &r->srv), ==, 0);
	g_assert_cmpint(pthread_create(th, NULL, relay_thread, r), ==, 0);
	return proxy_connect_dma("t0", a[0], mem,
				 fault >= F_MESSAGE ? PROXY_DMA_MESSAGE : PROXY_DMA_FD, fn, err);
}

static void relay_stop(struct relay *r, pthread_t th)
{
	pthread_join(th, NULL); /* the proxy's socket closed */
	vfu_server_destroy(r->srv);
	close(r->outer);
	close(r->inner);
	dev_destroy(r->dev);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
}

struct hook_log {
	unsigned calls;
	unsigned bar;
	bool io;
	uint64_t old_base, new_base;
};

static void hook(void *ctx, struct pcifn *fn, unsigned bar, bool io, uint64_t old_base,
		 uint64_t new_base)
{
	struct hook_log *h = ctx;

	h->calls++;
	h->bar = bar;
	h->io = io;
	h->old_base = old_base;
	h->new_base = new_base;
}

static void test_good(void)
{
	const struct pcifn_ioeventfd *ev;
	g_autoptr(GError) err = NULL;
	struct hook_log h = {0};
	struct pcifn *fn = NULL;
	struct gmem *mem;
	struct relay r;
	pthread_t th;
	char buf[8];

	g_assert_cmpint(gmem_create(2 << 20, 1 << 20, &mem), ==, 0); /* two regions */
	g_assert_cmpint(gmem_write(mem, 0x1000, "guest!", 6), ==, 0);
	g_assert_cmpint(relay_start(&r, F_NONE, mem, &th, &fn, &err), ==, 0);
	g_assert_no_error(err);
	/* Guest RAM is shared: the device reads what the VMM wrote, and back. */
	g_assert_cmpint(gmem_read(r.dev->env.mem, 0x1000, buf, 6), ==, 0);
	g_assert_cmpmem(buf, 6, "guest!", 6);
	g_assert_cmpint(gmem_write(r.dev->env.mem, (4ULL << 30) + 8, "dev", 3), ==, 0);
	g_assert_cmpint(gmem_read(mem, (4ULL << 30) + 8, buf, 3), ==, 0);
	g_assert_cmpmem(buf, 3, "dev", 3);
	/* pci-testdev's four doorbells, two per BAR. */
	g_assert_cmpuint(pcifn_ioeventfds(fn, &ev), ==, 4);
	g_assert_cmpuint(ev[0].bar, ==, 0);
	g_assert_cmpuint(ev[0].off, ==, 2049);
	g_assert_false(ev[0].datamatch);
	g_assert_true(ev[1].datamatch);
	g_assert_cmphex(ev[1].data, ==, 0xfa);
	g_assert_cmpuint(ev[3].bar, ==, 1);
	/* The hook follows BAR0: programmed, enabled, disabled, reset. */
	pcifn_set_bar_hook(fn, hook, &h);
	g_assert_cmpuint(h.calls, ==, 0); /* nothing decoded yet */
	g_assert_cmpint(pcifn_cfg_write(fn, 0x10, 4, 0xe0000000), ==, 0);
	g_assert_cmpuint(h.calls, ==, 0); /* decoding is off */
	g_assert_cmpint(pcifn_cfg_write(fn, 0x04, 2, 0x2), ==, 0);
	g_assert_cmpuint(h.calls, ==, 1);
	g_assert_cmpuint(h.bar, ==, 0);
	g_assert_false(h.io);
	g_assert_cmphex(h.new_base, ==, 0xe0000000);
	g_assert_cmpint(pcifn_cfg_write(fn, 0x10, 4, 0xe0001000), ==, 0);
	g_assert_cmpuint(h.calls, ==, 2);
	g_assert_cmphex(h.old_base, ==, 0xe0000000);
	g_assert_cmphex(h.new_base, ==, 0xe0001000);
	g_assert_cmpint(pcifn_cfg_write(fn, 0x14, 4, 0xc000), ==, 0); /* I/O BAR, io off */
	g_assert_cmpuint(h.calls, ==, 2);
	g_assert_cmpint(pcifn_cfg_write(fn, 0x04, 2, 0x3), ==, 0);
	g_assert_cmpuint(h.calls, ==, 3);
	g_assert_cmpuint(h.bar, ==, 1);
	g_assert_true(h.io);
	g_assert_cmphex(h.new_base, ==, 0xc000);
	g_assert_cmpint(pcifn_cfg_write(fn, 0x04, 2, 0x1), ==, 0); /* memory off */
	g_assert_cmpuint(h.calls, ==, 4);
	g_assert_cmphex(h.new_base, ==, 0);
	pcifn_reset(fn);
	g_assert_cmpuint(h.calls, ==, 5);
	g_assert_cmpuint(h.bar, ==, 1);
	g_assert_cmphex(h.new_base, ==, 0);
	/* A hook installed after programming learns the current address at once. */
	g_assert_cmpint(pcifn_cfg_write(fn, 0x10, 4, 0xe0002000), ==, 0);
	g_assert_cmpint(pcifn_cfg_write(fn, 0x04, 2, 0x2), ==, 0);
	h.calls = 0;
	pcifn_set_bar_hook(fn, hook, &h);
	g_assert_cmpuint(h.calls, ==, 1);
	g_assert_cmphex(h.old_base, ==, 0);
	g_assert_cmphex(h.new_base, ==, 0xe0002000);
	pcifn_reset(fn);
	/* Ringing the eventfd the proxy holds reaches the device. */
	g_assert_cmpint(pcifn_bar_write(fn, 0, 0, 1, 1), ==, 0); /* select mmio-wildcard */
	g_assert_cmpint(write(ev[0].fd, &(uint64_t){1}, 8), ==, 8);
	g_assert_cmpint(pcifn_bar_read(fn, 0, 12, 4, &(uint64_t){0}), ==, 0);
	g_assert_true(vfu_server_poll_doorbells(r.srv) == false); /* drained by the read */
	pcifn_destroy(fn);
	relay_stop(&r, th);
	gmem_destroy(mem);
}

/* A RAM region without an fd: offered without one, accepted, never mapped by the remote. */
static void test_no_fd_region(void)
{
	g_autoptr(GError) err = NULL;
	struct pcifn *fn = NULL;
	static uint8_t ram[4096] __attribute__((aligned(4096)));
	struct gmem *mem;
	struct relay r;
	pthread_t th;

	g_assert_cmpint(gmem_create_empty(&mem), ==, 0);
	g_assert_cmpint(gmem_add_region(mem, 0, sizeof(ram), -1, 0, ram), ==, 0);
	g_assert_cmpint(relay_start(&r, F_NONE, mem, &th, &fn, &err), ==, 0);
	g_assert_null(gmem_translate_read(r.dev->env.mem, 0, 1));
	g_assert_true(gmem_contains(r.dev->env.mem, 0, sizeof(ram), true));
	pcifn_destroy(fn);
	relay_stop(&r, th);
	/* A remote that accepts it gets DMA_READ/DMA_WRITE, inside the region only. */
	memcpy(ram + 0x0c, "from", 4);
	g_assert_cmpint(relay_start(&r, F_DMA_NOFD, mem, &th, &fn, &err), ==, 0);
	g_assert_cmpint(pcifn_bar_read(fn, 0, 0, 4, &(uint64_t){0}), ==, 0);
	g_assert_cmpmem(ram + 0x10, 4, "ramX", 4);
	g_assert_false(pcifn_dead(fn));
	pcifn_destroy(fn);
	relay_stop(&r, th);
	mem->nr_regions = 0; /* ram is static: nothing to unmap */
	gmem_destroy(mem);
}

static void expect_refused(enum fault fault, const char *words)
{
	g_autoptr(GError) err = NULL;
	struct pcifn *fn = NULL;
	struct gmem *mem;
	struct relay r;
	pthread_t th;

	g_assert_cmpint(gmem_create(1 << 20, 1 << 20, &mem), ==, 0);
	if (fault == F_IO_OUTSIDE)
		g_test_expect_message("proxy", G_LOG_LEVEL_WARNING, "*t0*outside the BAR*");
	g_assert_cmpint(relay_start(&r, fault, mem, &th, &fn, &err), <, 0);
	g_test_assert_expected_messages();
	g_assert_null(fn);
	g_assert_nonnull(err);
	g_test_message("fault %d: %s", fault, err->message);
	g_assert_nonnull(strstr(err->message, "'t0'"));
	g_assert_nonnull(strstr(err->message, words));
	relay_stop(&r, th);
	gmem_destroy(mem);
}

static void test_refused(void)
{
	expect_refused(F_IO_OUTSIDE, "doorbells badly");
	expect_refused(F_IO_FD_INDEX, "doorbells badly");
	expect_refused(F_IO_EXTRA_FD, "doorbells badly");
	expect_refused(F_IO_SIZE, "doorbells badly");
	expect_refused(F_IO_INDEX, "doorbells badly");
	expect_refused(F_DMA_REFUSE, "refused guest RAM");
	expect_refused(F_DMA_BAD_REPLY, "refused guest RAM (DMA_MAP: Protocol error)");
	expect_refused(F_MESSAGE_REFUSE, "drop dma=message");
}

static void idle_dma_id(struct relay *r, uint16_t id, uint16_t cmd, uint32_t flags,
			uint64_t addr, uint64_t count, const void *data, size_t len, int fd)
{
	uint8_t p[16 + 64];

	g_assert_cmpuint(len, <=, 64);
	memcpy(p, &(struct vfu_dma_access){ addr, count }, 16);
	if (len)
		memcpy(p + 16, data, len);
	g_assert_cmpint(vfu_send(r->outer, id, cmd, flags, 0, p, 16 + len, &fd, fd >= 0 ? 1 : 0),
			==, 0);
}

static unsigned count_fds(void)
{
	unsigned n = 0;
	GDir *d = g_dir_open("/proc/self/fd", 0, NULL);

	while (g_dir_read_name(d))
		n++;
	g_dir_close(d);
	return n;
}

/* Send a DMA command (message ID 500) from the "remote" while no call is in flight. */
static void idle_dma(struct relay *r, uint16_t cmd, uint32_t flags, uint64_t addr,
		     uint64_t count, const void *data, size_t len, int fd)
{
	idle_dma_id(r, 500, cmd, flags, addr, count, data, len, fd);
}


/*
 * dma=message: DMA_MAP went without fds, the remote's DMA commands between calls are
 * served by the proxy's thread, only inside the RAM, and the function keeps working.
 */
static void test_message_idle(void)
{
	g_autoptr(GError) err = NULL;
	struct pcifn *fn = NULL;
	struct vfu_hdr h;
	uint8_t data[64];
	struct gmem *mem;
	struct relay r;
	pthread_t th;

	g_assert_cmpint(gmem_create(1 << 20, 1 << 20, &mem), ==, 0);
	g_assert_cmpint(gmem_write(mem, 0x2000, "vmm-ram!", 8), ==, 0);
	g_assert_cmpint(relay_start(&r, F_MESSAGE, mem, &th, &fn, &err), ==, 0);
	g_assert_no_error(err);
	g_assert_null(gmem_translate_read(r.dev->env.mem, 0, 1)); /* no fd reached it */
	g_assert_true(gmem_contains(r.dev->env.mem, 0, 1 << 20, true));
	idle_dma(&r, VFU_CMD_DMA_READ, VFU_F_TYPE_COMMAND, 0x2000, 8, NULL, 0, -1);
	g_assert_true(relay_wait_reply(&r, &h, data));
	g_assert_cmpuint(h.msg_id, ==, 500);
	g_assert_cmpuint(h.flags, ==, VFU_F_TYPE_REPLY);
	g_assert_cmpuint(h.size, ==, 16 + 16 + 8);
	g_assert_cmpmem(data + 16, 8, "vmm-ram!", 8);
	idle_dma(&r, VFU_CMD_DMA_WRITE, VFU_F_TYPE_COMMAND, 0x3000, 4, "devw", 4, -1);
	g_assert_true(relay_wait_reply(&r, &h, data));
	g_assert_cmpuint(h.size, ==, 16 + 16);
	g_assert_cmpint(gmem_read(mem, 0x3000, data, 4), ==, 0);
	g_assert_cmpmem(data, 4, "devw", 4);
	/* Past the RAM it exported: EFAULT, and the connection goes on. */
	idle_dma(&r, VFU_CMD_DMA_READ, VFU_F_TYPE_COMMAND, (1 << 20) - 4, 8, NULL, 0, -1);
	g_assert_true(relay_wait_reply(&r, &h, data));
	g_assert_cmpuint(h.flags, ==, VFU_F_TYPE_REPLY | VFU_F_ERROR);
	g_assert_cmpuint(h.error, ==, EFAULT);
	/* No_reply: served, nothing sent back (the next reply is the next command's). */
	idle_dma_id(&r, 501, VFU_CMD_DMA_WRITE, VFU_F_TYPE_COMMAND | VFU_F_NO_REPLY, 0x3000, 4,
		    "quie", 4, -1);
	idle_dma_id(&r, 502, VFU_CMD_DMA_READ, VFU_F_TYPE_COMMAND, 0x3000, 4, NULL, 0, -1);
	g_assert_true(relay_wait_reply(&r, &h, data));
	g_assert_cmpuint(h.msg_id, ==, 502);
	g_assert_cmpmem(data + 16, 4, "quie", 4);
	g_assert_cmpint(pcifn_cfg_read(fn, 0, 4, &(uint32_t){0}), ==, 0);
	g_assert_false(pcifn_dead(fn));
	pcifn_destroy(fn); /* joins the proxy's thread */
	relay_stop(&r, th);
	gmem_destroy(mem);
}

enum idle_bad {
	IB_COUNT0,
	IB_OVERSIZE,
	IB_SHORT,
	IB_WRAP,
	IB_FD,
	IB_REPLY,
	IB_OTHER_COMMAND,
};

/* A malformed message between calls: a warning, the socket shut, the function dead. */
static void expect_idle_bad(enum idle_bad bad)
{
	static uint8_t zeros[64];
	g_autoptr(GError) err = NULL;
	struct pcifn *fn = NULL;
	unsigned fds_before;
	struct gmem *mem;
	struct relay r;
	pthread_t th;
	uint32_t v;
	int efd;

	g_test_message("idle bad %u", bad);
	g_assert_cmpint(gmem_create(1 << 20, 1 << 20, &mem), ==, 0);
	g_assert_cmpint(relay_start(&r, F_MESSAGE, mem, &th, &fn, &err), ==, 0);
	/* A round trip: the relay has closed its copies of the doorbell fds it passed on. */
	g_assert_cmpint(pcifn_cfg_read(fn, 0, 4, &v), ==, 0);
	fds_before = count_fds();
	g_test_expect_message("proxy", G_LOG_LEVEL_WARNING, "*t0: bad DMA request*disconnecting*");
	switch (bad) {
	case IB_COUNT0:
		idle_dma(&r, VFU_CMD_DMA_READ, VFU_F_TYPE_COMMAND, 0, 0, NULL, 0, -1);
		break;
	case IB_OVERSIZE: /* above the max_data_xfer_size we advertised */
		idle_dma(&r, VFU_CMD_DMA_READ, VFU_F_TYPE_COMMAND, 0, VFU_MAX_DATA_XFER + 1, NULL,
			 0, -1);
		break;
	case IB_SHORT: /* a DMA_WRITE of 8 bytes with 4 */
		idle_dma(&r, VFU_CMD_DMA_WRITE, VFU_F_TYPE_COMMAND, 0, 8, zeros, 4, -1);
		break;
	case IB_WRAP:
		idle_dma(&r, VFU_CMD_DMA_READ, VFU_F_TYPE_COMMAND, UINT64_MAX - 3, 8, NULL, 0, -1);
		break;
	case IB_FD:
		efd = eventfd(0, EFD_CLOEXEC);
		idle_dma(&r, VFU_CMD_DMA_READ, VFU_F_TYPE_COMMAND, 0, 8, NULL, 0, efd);
		close(efd);
		break;
	case IB_REPLY: /* a reply when no call is in flight */
		idle_dma(&r, VFU_CMD_REGION_READ, VFU_F_TYPE_REPLY, 0, 8, NULL, 0, -1);
		break;
	case IB_OTHER_COMMAND:
		idle_dma(&r, VFU_CMD_DEVICE_RESET, VFU_F_TYPE_COMMAND, 0, 8, NULL, 0, -1);
		break;
	}
	pthread_join(th, NULL); /* the proxy shut the socket down: the relay saw EOF */
	g_test_assert_expected_messages();
	g_assert_cmpuint(count_fds(), ==, fds_before); /* the fd that came along is closed */
	g_test_expect_message("proxy", G_LOG_LEVEL_WARNING, "*t0*backend failed*");
	g_assert_cmpint(pcifn_cfg_read(fn, 0, 4, &v), <, 0);
	g_test_assert_expected_messages();
	g_assert_true(pcifn_dead(fn));
	pcifn_destroy(fn);
	vfu_server_destroy(r.srv);
	close(r.outer);
	close(r.inner);
	dev_destroy(r.dev);
	gmem_destroy(mem);
}

static void test_message_idle_bad(void)
{
	for (enum idle_bad b = IB_COUNT0; b <= IB_OTHER_COMMAND; b++)
		expect_idle_bad(b);
}

/* The "device" side of the race test: its own DMA between the requests it serves. */
struct racer {
	struct vfu_server *srv;
	struct dev *dev;
	int sock;
	unsigned todo, done, bad;
};

static void *racer_thread(void *opaque)
{
	struct racer *x = opaque;

	for (;;) {
		int ret = vfu_server_handle(x->srv, true);
		struct gmem *mem = x->dev->env.mem;
		uint64_t v = 0, gpa = 0x1000 + 8 * (x->done % 4096);

		if (ret != -EAGAIN && ret < 0)
			break;
		if (ret == 0 || !gmem_contains(mem, 0, 1, true) ||
		    __atomic_load_n(&x->done, __ATOMIC_ACQUIRE) == x->todo) {
			if (ret == -EAGAIN && x->done == x->todo)
				poll(&(struct pollfd){ .fd = x->sock, .events = POLLIN }, 1, 100);
			continue;
		}
		/* A write and a read back, each a message round trip to the proxy. */
		if (gmem_write(mem, gpa, &(uint64_t){ x->done * 3 + 1 }, 8) < 0 ||
		    gmem_read(mem, gpa, &v, 8) < 0 || v != x->done * 3 + 1)
			x->bad++;
		__atomic_store_n(&x->done, x->done + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

/*
 * Both paths at once: the device does DMA between requests while the "vCPU" keeps
 * making calls, so DMA commands arrive during calls (served by the caller) and between
 * them (served by the proxy's thread), and client commands cross the device's DMA
 * commands (kept by the remote and served next).  Everything must complete, correct.
 */
static void test_message_race(void)
{
	static const struct dev_env env = { 0 };
	g_autofree char *msg = NULL;
	g_autoptr(GError) err = NULL;
	struct racer x = { .todo = 2000 };
	struct pcifn *fn = NULL;
	struct gmem *mem;
	pthread_t th;
	unsigned calls = 0;
	int sv[2];

	g_assert_cmpint(gmem_create(1 << 20, 1 << 20, &mem), ==, 0);
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	g_assert_cmpint(dev_create("pci-testdev", "t0", &env, NULL, &x.dev, &msg), ==, 0);
	g_assert_cmpint(vfu_server_create(x.dev, sv[1], &x.srv), ==, 0);
	x.sock = sv[1];
	g_assert_cmpint(pthread_create(&th, NULL, racer_thread, &x), ==, 0);
	g_assert_cmpint(proxy_connect_dma("t0", sv[0], mem, PROXY_DMA_MESSAGE, &fn, &err), ==, 0);
	while (__atomic_load_n(&x.done, __ATOMIC_ACQUIRE) < x.todo) {
		uint32_t v = 0;

		g_assert_cmpint(pcifn_cfg_read(fn, 0, 4, &v), ==, 0);
		g_assert_cmphex(v, ==, 0x00051b36);
		calls++;
	}
	g_test_message("%u calls while the device made %u DMA round trips", calls, 2 * x.todo);
	g_assert_cmpuint(x.bad, ==, 0);
	g_assert_false(pcifn_dead(fn));
	pcifn_destroy(fn);
	pthread_join(th, NULL);
	vfu_server_destroy(x.srv);
	close(sv[1]);
	dev_destroy(x.dev);
	gmem_destroy(mem);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/proxy/vfu-client-dma/good", test_good);
	g_test_add_func("/proxy/vfu-client-dma/no-fd-region", test_no_fd_region);
	g_test_add_func("/proxy/vfu-client-dma/refused", test_refused);
	g_test_add_func("/proxy/vfu-client-dma/message-idle", test_message_idle);
	g_test_add_func("/proxy/vfu-client-dma/message-idle-bad", test_message_idle_bad);
	g_test_add_func("/proxy/vfu-client-dma/message-race", test_message_race);
	return g_test_run();
}
