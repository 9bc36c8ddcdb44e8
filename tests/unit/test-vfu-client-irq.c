// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit test of the client half of SET_IRQS (proxy/vfu_client_irq.c) against the real
 * server (remote/vfu_server.c, remote/irq.c) over a socketpair: pcifn_irq_setup() on a
 * connected pci-proxy-dev hands a 12-vector MSI-X device its eventfds in messages of
 * at most max_msg_fds (8) fds, and a vector the device raises arrives on the eventfd
 * the interrupt controller was given; a 4-vector MSI device (pcicfg_add_msi) gets its
 * 4 eventfds accepted by the real remote irq code, and the guest's programming of the
 * device's capability routes each vector, masks one (its pending bit reads 1 while
 * the device's signal waits) and unmasks it (delivered once).  The controller is a
 * recorder, not KVM.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxy/proxy.h"
#include "remote/remote.h"

#define NR 12
/* MSI-X table and PBA in BAR0, clear of pci-testdev's doorbells at 0x801 and 0x802. */
#define TABLE 0xc00
#define PBA 0xe00

const struct dev_ops *const dev_table[] = {&pci_testdev_ops, NULL};

struct ctl {
	int next_gsi;
	int attached[64];
	uint32_t data[64];
	unsigned routes, signals;
	uint32_t sig_data;
};

static int ctl_route(void *ctx, int *gsi, uint64_t addr, uint32_t data)
{
	struct ctl *c = ctx;

	if (*gsi < 0)
		*gsi = c->next_gsi++;
	c->routes++;
	c->data[*gsi] = data;
	return 0;
}

static int ctl_irqfd(void *ctx, int gsi, int efd, bool attach)
{
	((struct ctl *)ctx)->attached[gsi] = attach ? efd : -1;
	return 0;
}

static int ctl_signal(void *ctx, uint64_t addr, uint32_t data)
{
	struct ctl *c = ctx;

	c->signals++;
	c->sig_data = data;
	return 0;
}

static int ctl_intx(void *ctx, unsigned gsi, int efd, int resample)
{
	return 0;
}

static const struct pcifn_irq_ops ctl_ops = {
	.route = ctl_route,
	.irqfd = ctl_irqfd,
	.signal = ctl_signal,
	.intx = ctl_intx,
};

struct srv {
	struct remote_irq *irq;
	struct dev *dev;
	struct vfu_server *vs;
	int sock;
	unsigned served;
};

static gpointer srv_run(gpointer opaque)
{
	struct srv *s = opaque;

	while (vfu_server_handle(s->vs, false) == 0)
		s->served++;
	return NULL;
}

/*
 * pci-testdev "t0" with INTA# and an NR-vector MSI-X capability, table and PBA in BAR0,
 * or (msi) a 4-vector MSI capability instead.
 */
static void srv_start(struct srv *s, int sock, bool msi)
{
	struct dev_env env = {0};
	g_autofree char *err = NULL;

	s->sock = sock;
	g_assert_cmpint(remote_irq_create("t0", &s->irq), ==, 0);
	env.irq = remote_irq_get(s->irq);
	g_assert_cmpint(dev_create("pci-testdev", "t0", &env, NULL, &s->dev, &err), ==, 0);
	s->dev->cfg.data[0x3d] = 1;
	if (msi)
		g_assert_cmpint(pcicfg_add_msi(&s->dev->cfg, 4), >, 0);
	else
		g_assert_cmpint(pcicfg_add_msix(&s->dev->cfg, NR, 0, TABLE, 0, PBA), >, 0);
	g_assert_cmpint(remote_irq_bind(s->irq, &s->dev->cfg), ==, 0);
	g_assert_cmpint(vfu_server_create(s->dev, sock, &s->vs), ==, 0);
}

static void test_client_msix(void)
{
	static const unsigned gsi[4] = {10, 10, 11, 11};
	struct ctl c = {.next_gsi = 24};
	g_autoptr(GError) err = NULL;
	uint64_t cnt = 0;
	struct pcifn *fn;
	struct srv s = {0};
	uint32_t cap;
	GThread *t;
	int sv[2];

	memset(c.attached, 0xff, sizeof(c.attached));
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	srv_start(&s, sv[1], false);
	t = g_thread_new("srv", srv_run, &s);
	g_assert_cmpint(proxy_connect("t0", sv[0], NULL, &fn, &err), ==, 0);
	g_assert_cmpint(pcifn_irq_setup(fn, &ctl_ops, &c, gsi), ==, 0);
	/* Every entry unmasked, then MSI-X enabled: vector i gets GSI 24 + i. */
	for (unsigned i = 0; i < NR; i++)
		g_assert_cmpint(pcifn_bar_write(fn, 0, TABLE + i * 16 + 12, 4, 0), ==, 0);
	g_assert_cmpint(pcifn_cfg_read(fn, 0x34, 1, &cap), ==, 0);
	g_assert_cmpint(pcifn_cfg_write(fn, cap + 2, 2, 0x8000), ==, 0);
	/* The device raises each vector (the server thread is idle in recv): both SET_IRQS
	 * messages (8 fds, then 4) put each eventfd at its index. */
	for (unsigned i = 0; i < NR; i++) {
		int efd = c.attached[24 + i];

		g_assert_cmpint(efd, >=, 0);
		irq_raise(remote_irq_get(s.irq), i);
		g_assert_cmpint(read(efd, &cnt, sizeof(cnt)), ==, sizeof(cnt));
		g_assert_cmpuint(cnt, ==, 1);
	}
	pcifn_destroy(fn); /* closes the socket: the server loop ends */
	g_thread_join(t);
	/* VERSION, device/region/IRQ info, config reads...; SET_IRQS: INTx x2, MSI-X 8 + 4. */
	g_assert_cmpuint(s.served, >, 4);
	vfu_server_destroy(s.vs);
	dev_destroy(s.dev);
	remote_irq_destroy(s.irq);
	close(sv[1]);
}

static uint32_t cfg_rd(struct pcifn *fn, uint32_t off, unsigned size)
{
	uint32_t v = 0;

	g_assert_cmpint(pcifn_cfg_read(fn, off, size, &v), ==, 0);
	return v;
}

static void cfg_wr(struct pcifn *fn, uint32_t off, unsigned size, uint32_t v)
{
	g_assert_cmpint(pcifn_cfg_write(fn, off, size, v), ==, 0);
}

/* The vector's eventfd (ours, attached to its GSI) counted exactly n signals. */
static void expect_count(int efd, uint64_t n)
{
	uint64_t cnt = 0;

	g_assert_cmpint(efd, >=, 0);
	g_assert_cmpint(read(efd, &cnt, sizeof(cnt)), ==, sizeof(cnt));
	g_assert_cmpuint(cnt, ==, n);
}

/* MSI (PCI 3.0, 6.8.1) end to end with the real remote: SET_IRQS index 1 is accepted. */
static void test_client_msi(void)
{
	static const unsigned gsi[4] = {10, 10, 11, 11};
	struct ctl c = {.next_gsi = 24};
	g_autoptr(GError) err = NULL;
	struct irq *dirq;
	struct srv s = {0};
	struct pcifn *fn;
	uint32_t cap;
	GThread *t;
	int sv[2];

	memset(c.attached, 0xff, sizeof(c.attached));
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	srv_start(&s, sv[1], true);
	dirq = remote_irq_get(s.irq);
	t = g_thread_new("srv", srv_run, &s);
	g_assert_cmpint(proxy_connect("t0", sv[0], NULL, &fn, &err), ==, 0);
	g_assert_cmpint(pcifn_irq_setup(fn, &ctl_ops, &c, gsi), ==, 0); /* no warning */
	cap = cfg_rd(fn, 0x34, 1);
	g_assert_cmphex(cfg_rd(fn, cap, 4), ==, 0x01840005); /* the device's capability */
	cfg_wr(fn, cap + 4, 4, 0xfee00000);
	cfg_wr(fn, cap + 8, 4, 0);
	cfg_wr(fn, cap + 12, 2, 0x50);
	cfg_wr(fn, cap + 2, 2, 0x0071); /* enable, MME 7: the device clamps it to 4 vectors */
	g_assert_cmphex(cfg_rd(fn, cap + 2, 2), ==, 0x01a5);
	for (unsigned i = 0; i < 4; i++) {
		g_assert_cmphex(c.data[24 + i], ==, 0x50 | i);
		irq_raise(dirq, i);
		expect_count(c.attached[24 + i], 1);
	}
	cfg_wr(fn, cap + 16, 4, 1u << 2); /* mask vector 2: detached */
	g_assert_cmpint(c.attached[26], ==, -1);
	irq_raise(dirq, 2);
	g_assert_cmphex(cfg_rd(fn, cap + 20, 4), ==, 1u << 2); /* pending, the VMM's view */
	g_assert_cmpuint(c.signals, ==, 0);
	cfg_wr(fn, cap + 16, 4, 0); /* unmask: one message with vector 2's data */
	g_assert_cmpuint(c.signals, ==, 1);
	g_assert_cmphex(c.sig_data, ==, 0x52);
	g_assert_cmphex(cfg_rd(fn, cap + 20, 4), ==, 0);
	irq_raise(dirq, 2); /* attached again: straight to the controller's eventfd */
	expect_count(c.attached[26], 1);
	pcifn_destroy(fn);
	g_thread_join(t);
	vfu_server_destroy(s.vs);
	dev_destroy(s.dev);
	remote_irq_destroy(s.irq);
	close(sv[1]);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/proxy/vfu-client-irq/msix", test_client_msix);
	g_test_add_func("/proxy/vfu-client-irq/msi", test_client_msi);
	return g_test_run();
}
