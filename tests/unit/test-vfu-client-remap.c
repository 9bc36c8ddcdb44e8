// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for proxy/vfu_dma.c after connect: guest memory changes follow the gmem
 * listener to the remote as DMA_UNMAP and DMA_MAP (spec "VFIO_USER_DMA_UNMAP",
 * "VFIO_USER_DMA_MAP"), and doorbells over the MSI-X table or PBA.  The proxy talks to a
 * real vfu_server serving pci-testdev through a relay thread that passes every message
 * on, counts the memory commands and can replace the server's DMA_UNMAP reply with a
 * hostile one.  Checked: a region removed from the VMM's map is gone from the remote
 * (its DMA there fails with EFAULT, fd or dma=message) and one added is reached; every
 * bad UNMAP reply (wrong ID, wrong command, error, short, fds attached, another range,
 * flags) and a refused later DMA_MAP disconnect the remote with a warning naming the
 * device; a doorbell that the real server offers over the MSI-X table or PBA fails
 * interrupt setup.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "memory/memory.h"
#include "protocol/protocol.h"
#include "proxy/proxy.h"
#include "remote/remote.h"

const struct dev_ops *const dev_table[] = {&pci_testdev_ops, NULL};

#define MB (1ULL << 20)
#define HIGH (4ULL << 30) /* gmem_create's second region */

enum fault {
	F_NONE,
	F_UNMAP_ID,
	F_UNMAP_CMD,
	F_UNMAP_ERROR,
	F_UNMAP_SHORT,
	F_UNMAP_FDS,
	F_UNMAP_RANGE,
	F_UNMAP_FLAGS,
	F_MAP_LATE, /* a DMA_MAP after connect refused */
};

struct relay {
	int outer, inner; /* proxy side, server side */
	struct dev *dev;
	struct vfu_server *srv;
	struct remote_irq *irq; /* with an MSI-X capability: takes SET_IRQS */
	enum fault fault;
	unsigned maps, unmaps, map_fds;
	GAsyncQueue *replies; /* the proxy's replies to DMA commands the test sent */
	pthread_t th;
};

/* The server's DMA_UNMAP reply m, or the fault's replacement for it. */
static void relay_unmap_reply(struct relay *r, const struct vfu_msg *m)
{
	struct vfu_dma_unmap d;
	uint16_t id = m->hdr.msg_id, cmd = m->hdr.cmd;
	uint32_t flags = m->hdr.flags, error = 0;
	size_t len = m->len;
	int efd = -1;

	g_assert_cmpuint(len, ==, sizeof(d));
	memcpy(&d, m->payload, sizeof(d));
	if (r->fault == F_UNMAP_ID)
		id++;
	if (r->fault == F_UNMAP_CMD)
		cmd = VFU_CMD_DMA_MAP;
	if (r->fault == F_UNMAP_ERROR) {
		flags |= VFU_F_ERROR;
		error = ENOENT;
		len = 0;
	}
	if (r->fault == F_UNMAP_SHORT)
		len = 16;
	if (r->fault == F_UNMAP_FDS)
		efd = eventfd(0, EFD_CLOEXEC);
	if (r->fault == F_UNMAP_RANGE)
		d.address += VFU_DMA_PAGE;
	if (r->fault == F_UNMAP_FLAGS)
		d.flags = VFU_DMA_UNMAP_ALL;
	g_assert_cmpint(vfu_send(r->outer, id, cmd, flags, error, &d, len, &efd, efd >= 0), ==, 0);
	if (efd >= 0)
		close(efd);
}

/* Pass m to the real server and its reply back (the DMA_UNMAP reply maybe replaced). */
static void relay_one(struct relay *r, const struct vfu_msg *m)
{
	struct vfu_msg rep;

	r->maps += m->hdr.cmd == VFU_CMD_DMA_MAP;
	r->map_fds += m->hdr.cmd == VFU_CMD_DMA_MAP ? m->nr_fds : 0;
	r->unmaps += m->hdr.cmd == VFU_CMD_DMA_UNMAP;
	if (r->fault == F_MAP_LATE && m->hdr.cmd == VFU_CMD_DMA_MAP && r->maps > 2) {
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
	if (rep.hdr.cmd == VFU_CMD_DMA_UNMAP && r->fault != F_NONE)
		relay_unmap_reply(r, &rep);
	else
		g_assert_cmpint(vfu_send(r->outer, rep.hdr.msg_id, rep.hdr.cmd, rep.hdr.flags,
					 rep.hdr.error, rep.payload, rep.len, rep.fds, rep.nr_fds),
				==, 0);
	vfu_msg_clear(&rep);
}

static void *relay_thread(void *opaque)
{
	struct relay *r = opaque;
	struct vfu_msg m;

	while (vfu_recv(r->outer, &m, VFU_MAX_MSG) == 0) {
		if ((m.hdr.flags & VFU_F_TYPE_MASK) == VFU_F_TYPE_REPLY)
			g_async_queue_push(r->replies, g_memdup2(&m.hdr, sizeof(m.hdr)));
		else
			relay_one(r, &m);
		vfu_msg_clear(&m);
	}
	return NULL;
}

/* Connect "t0" to a relayed pci-testdev; msix: give it an MSI-X capability first. */
static struct pcifn *relay_start(struct relay *r, enum fault fault, const struct gmem *mem,
				 enum proxy_dma dma, const uint32_t *msix)
{
	struct dev_env env = {0};
	g_autofree char *msg = NULL;
	g_autoptr(GError) err = NULL;
	struct pcifn *fn = NULL;
	int a[2], b[2];

	*r = (struct relay){.fault = fault, .replies = g_async_queue_new_full(g_free)};
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, a), ==, 0);
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, b), ==, 0);
	r->outer = a[1];
	r->inner = b[0];
	if (msix) {
		g_assert_cmpint(remote_irq_create("t0", &r->irq), ==, 0);
		env.irq = remote_irq_get(r->irq);
	}
	g_assert_cmpint(dev_create("pci-testdev", "t0", &env, NULL, &r->dev, &msg), ==, 0);
	if (msix) {
		g_assert_cmpint(pcicfg_add_msix(&r->dev->cfg, 4, 0, msix[0], 0, msix[1]), >, 0);
		g_assert_cmpint(remote_irq_bind(r->irq, &r->dev->cfg), ==, 0);
	}
	g_assert_cmpint(vfu_server_create(r->dev, b[1], &r->srv), ==, 0);
	g_assert_cmpint(pthread_create(&r->th, NULL, relay_thread, r), ==, 0);
	g_assert_cmpint(proxy_connect_dma("t0", a[0], mem, dma, &fn, &err), ==, 0);
	g_assert_no_error(err);
	return fn;
}

static void relay_stop(struct relay *r)
{
	pthread_join(r->th, NULL); /* the proxy's socket closed */
	vfu_server_destroy(r->srv);
	close(r->outer);
	close(r->inner);
	dev_destroy(r->dev);
	remote_irq_destroy(r->irq);
	g_async_queue_unref(r->replies);
}

/* A memfd sealed as gmem_map_fd wants, holding text at offset 8. */
static int ram_memfd(uint64_t size, const char *text)
{
	int fd = memfd_create("test-remap", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, (off_t)size), ==, 0);
	g_assert_cmpint(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), ==, 0);
	g_assert_cmpint(pwrite(fd, text, strlen(text), 8), ==, (ssize_t)strlen(text));
	return fd;
}

/* The remote's own view: can its device read 3 bytes at gpa, and what are they? */
static int remote_read(struct relay *r, uint64_t gpa, char *buf)
{
	return gmem_read(r->dev->env.mem, gpa, buf, 3);
}

/* With fds: a removed region is unmapped in the remote; a re-added one is mapped again. */
static void test_fd(void)
{
	struct gmem *mem;
	struct relay r;
	struct pcifn *fn;
	char buf[4] = {0};
	uint32_t v;

	g_assert_cmpint(gmem_create(2 * MB, MB, &mem), ==, 0);
	g_assert_cmpint(gmem_write(mem, HIGH + 8, "old", 3), ==, 0);
	fn = relay_start(&r, F_NONE, mem, PROXY_DMA_FD, NULL);
	g_assert_cmpuint(r.maps, ==, 2);
	g_assert_cmpint(remote_read(&r, HIGH + 8, buf), ==, 0);
	g_assert_cmpstr(buf, ==, "old");
	/* Removed: one DMA_UNMAP; the remote's DMA there fails, elsewhere still works. */
	g_assert_cmpint(gmem_remove_region(mem, HIGH, MB), ==, 0);
	g_assert_cmpuint(r.unmaps, ==, 1);
	g_assert_cmpint(remote_read(&r, HIGH + 8, buf), ==, -EFAULT);
	g_assert_false(gmem_contains(r.dev->env.mem, HIGH, 1, false));
	g_assert_cmpint(gmem_write(r.dev->env.mem, 0x100, "low", 3), ==, 0);
	/* Re-added from another memfd, and one more region: DMA_MAP with their fds. */
	g_assert_cmpint(gmem_map_fd(mem, HIGH, MB, ram_memfd(MB, "new"), 0, true), ==, 0);
	g_assert_cmpint(gmem_map_fd(mem, 2 * HIGH, 64 << 10, ram_memfd(64 << 10, "2nd"), 0, true),
			==, 0);
	g_assert_cmpuint(r.maps, ==, 4);
	g_assert_cmpuint(r.map_fds, ==, 4);
	g_assert_cmpint(remote_read(&r, HIGH + 8, buf), ==, 0);
	g_assert_cmpstr(buf, ==, "new");
	g_assert_cmpint(remote_read(&r, 2 * HIGH + 8, buf), ==, 0);
	g_assert_cmpstr(buf, ==, "2nd");
	g_assert_cmpint(gmem_write(r.dev->env.mem, HIGH + 16, "dev", 3), ==, 0); /* shared */
	g_assert_cmpint(gmem_read(mem, HIGH + 16, buf, 3), ==, 0);
	g_assert_cmpstr(buf, ==, "dev");
	g_assert_cmpint(pcifn_cfg_read(fn, 0, 4, &v), ==, 0);
	g_assert_false(pcifn_dead(fn));
	pcifn_destroy(fn); /* stops listening: the changes below reach nobody */
	relay_stop(&r);
	g_assert_cmpint(gmem_remove_region(mem, 2 * HIGH, 64 << 10), ==, 0);
	gmem_destroy(mem);
}

/* A DMA_READ of 8 bytes from the "remote" while no call is in flight: its reply's error. */
static uint32_t remote_dma_read(struct relay *r, uint16_t id, uint64_t addr)
{
	struct vfu_dma_access a = {addr, 8};
	g_autofree struct vfu_hdr *h = NULL;

	g_assert_cmpint(vfu_send(r->outer, id, VFU_CMD_DMA_READ, VFU_F_TYPE_COMMAND, 0, &a,
				 sizeof(a), NULL, 0),
			==, 0);
	h = g_async_queue_timeout_pop(r->replies, 5 * G_USEC_PER_SEC);
	g_assert_nonnull(h);
	g_assert_cmpuint(h->msg_id, ==, id);
	return h->flags & VFU_F_ERROR ? h->error : 0;
}

/* dma=message: the proxy stops serving a removed region and serves a re-added one. */
static void test_message(void)
{
	struct gmem *mem;
	struct relay r;
	struct pcifn *fn;

	g_assert_cmpint(gmem_create(2 * MB, MB, &mem), ==, 0);
	fn = relay_start(&r, F_NONE, mem, PROXY_DMA_MESSAGE, NULL);
	g_assert_cmpuint(r.map_fds, ==, 0);
	g_assert_cmpuint(remote_dma_read(&r, 900, HIGH + 8), ==, 0);
	g_assert_cmpint(gmem_remove_region(mem, HIGH, MB), ==, 0);
	g_assert_cmpuint(r.unmaps, ==, 1);
	g_assert_false(gmem_contains(r.dev->env.mem, HIGH, 1, false));
	g_assert_cmpuint(remote_dma_read(&r, 901, HIGH + 8), ==, EFAULT);
	g_assert_cmpuint(remote_dma_read(&r, 902, 8), ==, 0);
	g_assert_cmpint(gmem_map_fd(mem, HIGH, MB, ram_memfd(MB, "new"), 0, true), ==, 0);
	g_assert_cmpuint(r.maps, ==, 3);
	g_assert_cmpuint(r.map_fds, ==, 0);
	g_assert_true(gmem_contains(r.dev->env.mem, HIGH, MB, true));
	g_assert_cmpuint(remote_dma_read(&r, 903, HIGH + 8), ==, 0);
	/* The remote's device reaches it by message, through the proxy's DMA thread. */
	g_assert_false(pcifn_dead(fn));
	pcifn_destroy(fn);
	relay_stop(&r);
	gmem_destroy(mem);
}

/* A bad DMA_UNMAP reply: the change stands, the remote is disconnected, fn dies. */
static void expect_unmap_bad(enum fault fault)
{
	struct gmem *mem;
	struct relay r;
	struct pcifn *fn;
	uint32_t v;

	g_test_message("unmap fault %d", fault);
	g_assert_cmpint(gmem_create(2 * MB, MB, &mem), ==, 0);
	fn = relay_start(&r, fault, mem, PROXY_DMA_FD, NULL);
	/* The error reply's errno; every malformed reply is a protocol error. */
	g_test_expect_message("proxy", G_LOG_LEVEL_WARNING,
			      fault == F_UNMAP_ERROR
				      ? "t0: the remote failed to follow a guest memory change "
					"(DMA_UNMAP 0x100000000+0x100000: No such file or "
					"directory); disconnecting it"
				      : "t0: the remote failed to follow a guest memory change "
					"(DMA_UNMAP 0x100000000+0x100000: Protocol error); "
					"disconnecting it");
	g_assert_cmpint(gmem_remove_region(mem, HIGH, MB), ==, 0);
	g_test_assert_expected_messages();
	g_assert_cmpuint(r.unmaps, ==, 1);
	pthread_join(r.th, NULL); /* the socket was shut down: the relay saw EOF */
	/* Nothing more is sent: a region added now is not offered. */
	g_assert_cmpint(gmem_map_fd(mem, HIGH, MB, ram_memfd(MB, "new"), 0, true), ==, 0);
	g_assert_cmpuint(r.maps, ==, 2);
	g_test_expect_message("proxy", G_LOG_LEVEL_WARNING, "*t0*backend failed*");
	g_assert_cmpint(pcifn_cfg_read(fn, 0, 4, &v), <, 0);
	g_test_assert_expected_messages();
	g_assert_true(pcifn_dead(fn));
	pcifn_destroy(fn);
	vfu_server_destroy(r.srv); /* relay_stop() without the join: done above */
	close(r.outer);
	close(r.inner);
	dev_destroy(r.dev);
	g_async_queue_unref(r.replies);
	gmem_destroy(mem);
}

/* A remote that refuses RAM added after connect is disconnected too. */
static void test_map_refused(void)
{
	struct gmem *mem;
	struct relay r;
	struct pcifn *fn;

	g_assert_cmpint(gmem_create(2 * MB, MB, &mem), ==, 0);
	fn = relay_start(&r, F_MAP_LATE, mem, PROXY_DMA_FD, NULL);
	g_test_expect_message("proxy", G_LOG_LEVEL_WARNING,
			      "t0: the remote failed to follow a guest memory change (DMA_MAP "
			      "0x200000000+0x10000: Operation not permitted); disconnecting it");
	g_assert_cmpint(gmem_map_fd(mem, 2 * HIGH, 64 << 10, ram_memfd(64 << 10, "x"), 0, true), ==,
			0);
	g_test_assert_expected_messages();
	g_test_expect_message("proxy", G_LOG_LEVEL_WARNING, "*t0*backend failed*");
	g_assert_cmpint(pcifn_cfg_read(fn, 0, 4, &(uint32_t){0}), <, 0);
	g_test_assert_expected_messages();
	pcifn_destroy(fn);
	relay_stop(&r);
	gmem_destroy(mem);
}

static void test_unmap_bad(void)
{
	for (enum fault f = F_UNMAP_ID; f <= F_UNMAP_FLAGS; f++)
		expect_unmap_bad(f);
}

/* An interrupt controller that accepts everything (nothing gets that far here). */
static int ctl_route(void *ctx, int *gsi, uint64_t addr, uint32_t data)
{
	*gsi = 24;
	return 0;
}

static int ctl_irqfd(void *ctx, int gsi, int efd, bool attach)
{
	return 0;
}

static int ctl_signal(void *ctx, uint64_t addr, uint32_t data)
{
	return 0;
}

static int ctl_intx(void *ctx, unsigned gsi, int efd, int resample)
{
	return 0;
}

/*
 * pci-testdev's doorbells are at BAR0 + 0x801 and 0x802: a real server whose device puts
 * its MSI-X table, or its PBA, at 0x800 offers doorbells over it (GET_REGION_IO_FDS), and
 * interrupt setup refuses the device.
 */
static void test_doorbell_over_msix(void)
{
	static const unsigned gsi[4] = {10, 10, 11, 11};
	static const uint32_t layouts[][2] = {{0x800, 0xc00}, {0xc00, 0x800}};
	static const struct pcifn_irq_ops ops = {ctl_route, ctl_irqfd, ctl_signal, ctl_intx};

	for (unsigned i = 0; i < G_N_ELEMENTS(layouts); i++) {
		struct relay r;
		struct pcifn *fn = relay_start(&r, F_NONE, NULL, PROXY_DMA_FD, layouts[i]);
		const struct pcifn_ioeventfd *ev;

		g_assert_cmpuint(pcifn_ioeventfds(fn, &ev), ==, 4);
		g_test_expect_message("proxy", G_LOG_LEVEL_WARNING,
				      "t0: the device's doorbell at BAR0+0x801 (1 bytes) overlaps "
				      "its MSI-X table or PBA*");
		g_test_expect_message("proxy", G_LOG_LEVEL_WARNING, "t0: *interrupt setup*");
		g_assert_cmpint(pcifn_irq_setup(fn, &ops, NULL, gsi), ==, -EPROTO);
		g_test_assert_expected_messages();
		g_assert_true(pcifn_dead(fn));
		pcifn_destroy(fn);
		relay_stop(&r);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/proxy/vfu-client-remap/fd", test_fd);
	g_test_add_func("/proxy/vfu-client-remap/message", test_message);
	g_test_add_func("/proxy/vfu-client-remap/unmap-bad", test_unmap_bad);
	g_test_add_func("/proxy/vfu-client-remap/map-refused", test_map_refused);
	g_test_add_func("/proxy/vfu-client-remap/doorbell-over-msix", test_doorbell_over_msix);
	return g_test_run();
}
