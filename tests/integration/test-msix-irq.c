// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * KVM test of MSI-X and INTx delivery end to end: the guest msix-irq.elf under a
 * real mpvmm drives a test-only interrupt device served over vfio-user by this
 * process (a vfu_server and the remote's irq object in a GLib main loop on their own
 * thread).  A guest write to BAR0+0 makes the device call irq_raise(), one to BAR0+4
 * irq_set_intx(); the eventfds they write are the ones mpvmm attached to KVM as
 * irqfds, so the interrupt reaches the guest without mpvmm.  Masking, pending bits
 * and the function mask are the VMM's (proxy/msix.c) and are checked by the guest
 * through the table and PBA; INTx level semantics go through KVM's resample eventfd
 * and remote/irq.c.
 *
 * The device lives here, not in devices/: no production binary can create it.
 */
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib-unix.h>

#include "remote/remote.h"
#include "tests/lib/tu.h"

#define IRQDEV_VECTORS 4

struct irqdev {
	struct dev dev;
	unsigned raised;
};

static int irqdev_create(const struct dev_env *env, const char *id, json_object *cfg,
			 struct dev **out)
{
	static const struct pcicfg_ident ident = {
		.vendor = 0x1234, .device = 0x11e9, .class_code = 0xff0000, .int_pin = 1};
	static const struct pcicfg_bar bars[PCI_NUM_BARS] = {[0] = {.size = 4096}};
	struct irqdev *d = g_new0(struct irqdev, 1);

	g_assert_cmpint(pcicfg_init(&d->dev.cfg, &ident, bars), ==, 0);
	g_assert_cmpint(pcicfg_add_msix(&d->dev.cfg, IRQDEV_VECTORS, 0, 0x800, 0, 0xc00), >, 0);
	*out = &d->dev;
	return 0;
}

static void irqdev_destroy(struct dev *dev)
{
	g_free(dev);
}

static int irqdev_read(struct dev *dev, unsigned bar, uint64_t off, unsigned size, uint64_t *val)
{
	*val = ((struct irqdev *)dev)->raised;
	return 0;
}

/* BAR0+0: raise MSI-X vector `val`; BAR0+4: INTx level `val != 0`. */
static int irqdev_write(struct dev *dev, unsigned bar, uint64_t off, unsigned size, uint64_t val)
{
	if (off == 0) {
		((struct irqdev *)dev)->raised++;
		irq_raise(dev->env.irq, (unsigned)val);
	} else if (off == 4) {
		irq_set_intx(dev->env.irq, val != 0);
	}
	return 0;
}

static const struct dev_ops irqdev_ops = {
	.type = "test-irqdev",
	.desc = "test only: BAR0+0 raises MSI-X vector v, BAR0+4 sets the INTx level",
	.props = "",
	.create = irqdev_create,
	.destroy = irqdev_destroy,
	.bar_read = irqdev_read,
	.bar_write = irqdev_write,
};

const struct dev_ops *const dev_table[] = {&irqdev_ops, NULL};

struct server {
	struct remote_irq *irq;
	struct dev *dev;
	struct vfu_server *srv;
	int sock;
	bool done;
};

static gboolean server_on_sock(gint fd, GIOCondition cond, gpointer opaque)
{
	struct server *s = opaque;

	if (vfu_server_handle(s->srv, false) == 0)
		return G_SOURCE_CONTINUE;
	s->done = true;
	return G_SOURCE_REMOVE;
}

/* The remote's main loop: requests, and the INTx unmask eventfd remote/irq.c watches. */
static gpointer server_run(gpointer opaque)
{
	struct server *s = opaque;

	g_assert_true(g_main_context_acquire(NULL));
	g_unix_fd_add(s->sock, G_IO_IN | G_IO_HUP | G_IO_ERR, server_on_sock, s);
	while (!s->done)
		g_main_context_iteration(NULL, TRUE);
	g_main_context_release(NULL);
	return NULL;
}

static void server_start(struct server *s, int sock)
{
	struct dev_env env = {0};
	g_autofree char *err = NULL;

	s->sock = sock;
	g_assert_cmpint(remote_irq_create("t0", &s->irq), ==, 0);
	env.irq = remote_irq_get(s->irq);
	g_assert_cmpint(dev_create("test-irqdev", "t0", &env, NULL, &s->dev, &err), ==, 0);
	g_assert_cmpint(remote_irq_bind(s->irq, &s->dev->cfg), ==, 0);
	g_assert_cmpint(vfu_server_create(s->dev, sock, &s->srv), ==, 0);
}

static void server_stop(struct server *s)
{
	vfu_server_destroy(s->srv);
	dev_destroy(s->dev);
	remote_irq_destroy(s->irq);
	close(s->sock);
}

static void test_msix_remote(void)
{
	g_autofree char *elf = NULL, *out = NULL, *err = NULL;
	struct server s = {0};
	struct tu_proc p;
	GThread *t;
	int sv[2], status;

	if (tu_skip_without_kvm())
		return;
	elf = tu_guest("msix-irq");
	tu_socketpair(sv);
	server_start(&s, sv[1]);
	t = g_thread_new("irqdev", server_run, &s);
	{
		char *argv[] = {(char *)tu_bin("MPVMM"),
				"-m",
				"64M",
				"-kernel",
				elf,
				"-serial",
				"none",
				"-debugcon",
				"stdio",
				"-device",
				"pci-proxy-dev,id=t0,socket=3",
				NULL};

		tu_spawn(argv, &sv[0], 1, true, &p);
	}
	close(sv[0]);
	out = tu_slurp(p.out_fd);
	err = tu_slurp(p.err_fd);
	status = tu_wait(&p, 60);
	close(p.out_fd);
	close(p.err_fd);
	g_thread_join(t); /* the VMM closed its end: the server loop ends */
	server_stop(&s);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 1)
		g_error("mpvmm exit status 0x%x, expected 1; guest said:\n%s\nstderr:\n%s", status,
			out, err);
	g_test_message("guest said:\n%s", out);
	g_assert_null(strstr(out, "not ok"));
	g_assert_cmpuint(tu_count(out, "ok "), ==, 18);
	/* INTx counts are exact (docs/interrupts.md, "INTx and the early EOI"). */
	g_assert_nonnull(strstr(out, "stops when lowered: 3 of 3"));
	g_assert_nonnull(strstr(out, "raised again: 3 more"));
	g_assert_nonnull(strstr(out, "clearing Interrupt Disable lets it through: 1"));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/integration/msix-irq/remote", test_msix_remote);
	return g_test_run();
}
