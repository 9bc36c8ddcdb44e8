// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for remote/irq.c and the server's SET_IRQS / GET_IRQ_INFO: a pci-testdev
 * "t0" given an interrupt pin and a 4-vector MSI-X capability by hand, served over a
 * real socketpair (the vfx fixture's helpers), with real eventfds.  INTx level and
 * resample behaviour, MSI-X vector eventfds, the -1 (no fd) de-assign, fds closed on
 * replacement and teardown, and one bad request per check the server makes.
 */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/unit/vfx.h"

const struct dev_ops *const dev_table[] = {&pci_testdev_ops, NULL};

#define NR_MSIX 4
#define EVT_TRIG (VFU_IRQ_SET_DATA_EVENTFD | VFU_IRQ_SET_ACTION_TRIGGER)
#define EVT_UNMASK (VFU_IRQ_SET_DATA_EVENTFD | VFU_IRQ_SET_ACTION_UNMASK)

struct ri {
	struct vfx f;
	struct remote_irq *irq;
	struct irq *dirq;
	unsigned fds_before;
};

static unsigned ri_open_fds(void)
{
	g_autoptr(GDir) d = g_dir_open("/proc/self/fd", 0, NULL);
	unsigned n = 0;

	while (g_dir_read_name(d))
		n++;
	return n;
}

/* An MSI-X capability at 0x40 (PCI 3.0, 6.8.2): table size N-1, BIR 0. */
static void ri_add_caps(struct pcicfg *cfg)
{
	cfg->data[0x06] |= 0x10; /* status: capability list */
	cfg->data[0x34] = 0x40;
	cfg->data[0x3d] = 1; /* INTA# */
	cfg->data[0x40] = 0x11;
	cfg->data[0x41] = 0;
	cfg->data[0x42] = NR_MSIX - 1;
}

static void ri_setup(struct ri *t, gconstpointer data)
{
	struct dev_env env = {0};
	g_autofree char *err = NULL;
	int sv[2];

	t->fds_before = ri_open_fds();
	g_assert_cmpint(remote_irq_create("t0", &t->irq), ==, 0);
	t->dirq = env.irq = remote_irq_get(t->irq);
	g_assert_cmpint(dev_create("pci-testdev", "t0", &env, NULL, &t->f.dev, &err), ==, 0);
	ri_add_caps(&t->f.dev->cfg);
	g_assert_cmpint(remote_irq_bind(t->irq, &t->f.dev->cfg), ==, 0);
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	t->f.cli = sv[0];
	t->f.srv_sock = sv[1];
	g_assert_cmpint(vfu_server_create(t->f.dev, t->f.srv_sock, &t->f.srv), ==, 0);
	t->f.id = 1;
	vfx_handshake(&t->f);
}

static void ri_teardown(struct ri *t, gconstpointer data)
{
	vfx_teardown(&t->f, data);
	remote_irq_destroy(t->irq);
	g_assert_cmpuint(ri_open_fds(), ==, t->fds_before); /* every eventfd closed */
}

static int ri_efd(void)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	g_assert_cmpint(fd, >=, 0);
	return fd;
}

/* The eventfd's counter, consumed (0 if nothing was written). */
static uint64_t ri_count(int fd)
{
	uint64_t v = 0;

	if (read(fd, &v, sizeof(v)) < 0)
		g_assert_cmpint(errno, ==, EAGAIN);
	return v;
}

static void ri_signal(int fd)
{
	uint64_t one = 1;

	g_assert_cmpint(write(fd, &one, sizeof(one)), ==, sizeof(one));
}

static void ri_send_set(struct ri *t, uint32_t flags, uint32_t index, uint32_t start,
			uint32_t count, const uint8_t *bools, const int *fds, unsigned nr)
{
	uint8_t buf[64];
	int len = vfu_irq_set_encode(flags, index, start, count, bools, nr, buf, sizeof(buf));

	g_assert_cmpint(len, >, 0);
	vfx_raw_send(&t->f, VFU_CMD_DEVICE_SET_IRQS, VFU_F_TYPE_COMMAND, 0, 0, buf, (size_t)len,
		     fds, nr);
}

/* A SET_IRQS that must succeed. */
static void ri_set(struct ri *t, uint32_t flags, uint32_t index, uint32_t start, uint32_t count,
		   const uint8_t *bools, const int *fds, unsigned nr)
{
	struct vfu_msg m;

	ri_send_set(t, flags, index, start, count, bools, fds, nr);
	vfx_serve(&t->f, true);
	g_assert_cmpuint(vfx_get_reply(&t->f, VFU_CMD_DEVICE_SET_IRQS, &m), ==, 0);
	g_assert_cmpuint(m.len, ==, 0);
	vfu_msg_clear(&m);
}

/* Let the main loop run the INTx unmask watch. */
static void ri_loop(void)
{
	while (g_main_context_iteration(NULL, FALSE))
		;
}

static void test_irq_info(struct ri *t, gconstpointer data)
{
	static const uint32_t want[VFU_PCI_NUM_IRQS][2] = {
		[VFU_PCI_INTX_IRQ] = {VFU_IRQ_EVENTFD | VFU_IRQ_MASKABLE | VFU_IRQ_AUTOMASKED, 1},
		[VFU_PCI_MSIX_IRQ] = {VFU_IRQ_EVENTFD, NR_MSIX},
	};

	for (uint32_t i = 0; i < VFU_PCI_NUM_IRQS; i++) {
		struct vfu_irq_info req = {.argsz = sizeof(req), .index = i}, got;
		struct vfu_msg m;

		vfx_request(&t->f, VFU_CMD_DEVICE_GET_IRQ_INFO, &req, sizeof(req), &m);
		g_assert_cmpint(vfu_irq_info_decode(&m, true, &got), ==, 0);
		g_assert_cmpuint(got.index, ==, i);
		g_assert_cmpuint(got.flags, ==, want[i][0]);
		g_assert_cmpuint(got.count, ==, want[i][1]);
		vfu_msg_clear(&m);
	}
}

static void test_irq_msix(struct ri *t, gconstpointer data)
{
	int fds[NR_MSIX], again = ri_efd();
	uint8_t sel[2] = {0, 1};

	for (unsigned i = 0; i < NR_MSIX; i++)
		fds[i] = ri_efd();
	ri_set(t, EVT_TRIG, VFU_PCI_MSIX_IRQ, 0, NR_MSIX, NULL, fds, NR_MSIX);
	irq_raise(t->dirq, 2);
	irq_raise(t->dirq, 2);
	irq_raise(t->dirq, NR_MSIX); /* no such vector: dropped */
	g_assert_cmpuint(ri_count(fds[2]), ==, 2);
	g_assert_cmpuint(ri_count(fds[0]), ==, 0);
	/* The client's loopback trigger, DATA_BOOL selecting vector 3 of 2..3. */
	ri_set(t, VFU_IRQ_SET_DATA_BOOL | VFU_IRQ_SET_ACTION_TRIGGER, VFU_PCI_MSIX_IRQ, 2, 2, sel,
	       NULL, 0);
	g_assert_cmpuint(ri_count(fds[3]), ==, 1);
	g_assert_cmpuint(ri_count(fds[2]), ==, 0);
	/* Replace vector 1, then de-assign 0..1 (no fds): raises are dropped. */
	ri_set(t, EVT_TRIG, VFU_PCI_MSIX_IRQ, 1, 1, NULL, &again, 1);
	irq_raise(t->dirq, 1);
	g_assert_cmpuint(ri_count(again), ==, 1);
	g_assert_cmpuint(ri_count(fds[1]), ==, 0);
	ri_set(t, EVT_TRIG, VFU_PCI_MSIX_IRQ, 0, 2, NULL, NULL, 0);
	irq_raise(t->dirq, 0);
	irq_raise(t->dirq, 1);
	g_assert_cmpuint(ri_count(fds[0]) + ri_count(again), ==, 0);
	/* Disable the whole index. */
	ri_set(t, VFU_IRQ_SET_DATA_NONE | VFU_IRQ_SET_ACTION_TRIGGER, VFU_PCI_MSIX_IRQ, 0, 0, NULL,
	       NULL, 0);
	irq_raise(t->dirq, 3);
	g_assert_cmpuint(ri_count(fds[3]), ==, 0);
	for (unsigned i = 0; i < NR_MSIX; i++)
		close(fds[i]);
	close(again);
}

/* Level semantics: one trigger per assertion, re-triggered on unmask while high. */
static void test_irq_intx_level(struct ri *t, gconstpointer data)
{
	int trig = ri_efd(), unmask = ri_efd();

	ri_set(t, EVT_TRIG, VFU_PCI_INTX_IRQ, 0, 1, NULL, &trig, 1);
	ri_set(t, EVT_UNMASK, VFU_PCI_INTX_IRQ, 0, 1, NULL, &unmask, 1);
	irq_set_intx(t->dirq, true);
	irq_set_intx(t->dirq, true);
	g_assert_cmpuint(ri_count(trig), ==, 1);
	ri_loop();
	g_assert_cmpuint(ri_count(trig), ==, 0); /* no EOI yet: no re-trigger */
	ri_signal(unmask);			 /* EOI while the level is high */
	ri_loop();
	g_assert_cmpuint(ri_count(trig), ==, 1);
	irq_set_intx(t->dirq, false);
	ri_signal(unmask); /* EOI after the device lowered the line */
	ri_loop();
	g_assert_cmpuint(ri_count(trig), ==, 0);
	irq_set_intx(t->dirq, true);
	g_assert_cmpuint(ri_count(trig), ==, 1);
	/* The client's own MASK and UNMASK (DATA_NONE) behave as EOI does. */
	ri_set(t, VFU_IRQ_SET_DATA_NONE | VFU_IRQ_SET_ACTION_UNMASK, VFU_PCI_INTX_IRQ, 0, 1, NULL,
	       NULL, 0);
	g_assert_cmpuint(ri_count(trig), ==, 1);
	ri_set(t, VFU_IRQ_SET_DATA_NONE | VFU_IRQ_SET_ACTION_MASK, VFU_PCI_INTX_IRQ, 0, 1, NULL,
	       NULL, 0);
	irq_set_intx(t->dirq, false);
	irq_set_intx(t->dirq, true);
	g_assert_cmpuint(ri_count(trig), ==, 0);
	close(trig);
	close(unmask);
}

/* Interrupt Disable (command bit 10) holds the line back until the guest clears it. */
static void test_irq_intx_disable(struct ri *t, gconstpointer data)
{
	int trig = ri_efd();

	ri_set(t, EVT_TRIG, VFU_PCI_INTX_IRQ, 0, 1, NULL, &trig, 1);
	vfx_wr(&t->f, VFU_PCI_CONFIG_REGION, 0x04, 2, 0x400);
	irq_set_intx(t->dirq, true);
	g_assert_cmpuint(ri_count(trig), ==, 0);
	vfx_wr(&t->f, VFU_PCI_CONFIG_REGION, 0x04, 2, 0);
	g_assert_cmpuint(ri_count(trig), ==, 1);
	close(trig);
}

/* A level raised before the client set a trigger eventfd fires when it does. */
static void test_irq_intx_latched(struct ri *t, gconstpointer data)
{
	int trig = ri_efd(), trig2 = ri_efd();
	struct vfu_msg m;

	irq_set_intx(t->dirq, true);
	ri_set(t, EVT_TRIG, VFU_PCI_INTX_IRQ, 0, 1, NULL, &trig, 1);
	g_assert_cmpuint(ri_count(trig), ==, 1);
	/* A replacement eventfd gets the still-high level; the old one nothing. */
	ri_set(t, EVT_TRIG, VFU_PCI_INTX_IRQ, 0, 1, NULL, &trig2, 1);
	g_assert_cmpuint(ri_count(trig2), ==, 1);
	g_assert_cmpuint(ri_count(trig), ==, 0);
	/* Reset lowers the line. */
	vfx_request(&t->f, VFU_CMD_DEVICE_RESET, NULL, 0, &m);
	vfu_msg_clear(&m);
	ri_set(t, VFU_IRQ_SET_DATA_NONE | VFU_IRQ_SET_ACTION_UNMASK, VFU_PCI_INTX_IRQ, 0, 1, NULL,
	       NULL, 0);
	g_assert_cmpuint(ri_count(trig2), ==, 0);
	close(trig);
	close(trig2);
}

/* Well-formed requests this device cannot do: EINVAL, the connection stays up. */
static void test_irq_bad_device(struct ri *t, gconstpointer data)
{
	int fds[2] = {ri_efd(), ri_efd()};
	unsigned before = ri_open_fds();

	ri_send_set(t, EVT_TRIG, VFU_PCI_MSIX_IRQ, NR_MSIX - 1, 2, NULL, fds, 2);
	vfx_expect_error(&t->f, VFU_CMD_DEVICE_SET_IRQS, EINVAL, true); /* past the table */
	ri_send_set(t, EVT_TRIG, VFU_PCI_MSI_IRQ, 0, 1, NULL, fds, 1);
	vfx_expect_error(&t->f, VFU_CMD_DEVICE_SET_IRQS, EINVAL, true); /* no MSI */
	ri_send_set(t, EVT_TRIG, 3, 0, 1, NULL, fds, 1);
	vfx_expect_error(&t->f, VFU_CMD_DEVICE_SET_IRQS, EINVAL, true); /* ERR index */
	ri_send_set(t, EVT_TRIG, VFU_PCI_INTX_IRQ, 0, 2, NULL, fds, 2);
	vfx_expect_error(&t->f, VFU_CMD_DEVICE_SET_IRQS, EINVAL, true); /* one INTx */
	ri_send_set(t, VFU_IRQ_SET_DATA_NONE | VFU_IRQ_SET_ACTION_MASK, VFU_PCI_MSIX_IRQ, 0, 1,
		    NULL, NULL, 0);
	vfx_expect_error(&t->f, VFU_CMD_DEVICE_SET_IRQS, EINVAL, true); /* MSI-X mask */
	ri_send_set(t, VFU_IRQ_SET_DATA_EVENTFD | VFU_IRQ_SET_ACTION_MASK, VFU_PCI_INTX_IRQ, 0, 1,
		    NULL, fds, 1);
	vfx_expect_error(&t->f, VFU_CMD_DEVICE_SET_IRQS, EINVAL, true); /* mask eventfd */
	g_assert_cmpuint(ri_open_fds(), ==, before);			/* nothing kept */
	close(fds[0]);
	close(fds[1]);
}

/* Malformed requests: error reply, connection closed, every fd that came closed. */
static void test_irq_bad_form(struct ri *t, gconstpointer data)
{
	struct vfu_irq_set s = {
		.argsz = sizeof(s), .flags = EVT_TRIG, .index = VFU_PCI_MSIX_IRQ, .count = 2};
	int fds[3] = {ri_efd(), ri_efd(), ri_efd()};
	unsigned before = ri_open_fds();

	vfx_raw_send(&t->f, VFU_CMD_DEVICE_SET_IRQS, VFU_F_TYPE_COMMAND, 0, 0, &s, sizeof(s), fds,
		     3); /* 3 fds for count 2 */
	vfx_expect_error(&t->f, VFU_CMD_DEVICE_SET_IRQS, EINVAL, false);
	g_assert_cmpuint(ri_open_fds(), ==, before);
	for (unsigned i = 0; i < 3; i++)
		close(fds[i]);
}

static void test_irq_bad_flags(struct ri *t, gconstpointer data)
{
	struct vfu_irq_set s = {.argsz = sizeof(s),
				.flags = VFU_IRQ_SET_DATA_NONE | VFU_IRQ_SET_DATA_BOOL |
					 VFU_IRQ_SET_ACTION_TRIGGER,
				.index = VFU_PCI_MSIX_IRQ,
				.count = 1};

	vfx_raw_send(&t->f, VFU_CMD_DEVICE_SET_IRQS, VFU_F_TYPE_COMMAND, 0, 0, &s, sizeof(s), NULL,
		     0);
	vfx_expect_error(&t->f, VFU_CMD_DEVICE_SET_IRQS, EINVAL, false);
}

static void test_irq_bad_fds_none(struct ri *t, gconstpointer data)
{
	struct vfu_irq_set s = {.argsz = sizeof(s),
				.flags = VFU_IRQ_SET_DATA_NONE | VFU_IRQ_SET_ACTION_TRIGGER,
				.index = VFU_PCI_MSIX_IRQ,
				.count = 1};
	int fd = ri_efd();
	unsigned before = ri_open_fds();

	vfx_raw_send(&t->f, VFU_CMD_DEVICE_SET_IRQS, VFU_F_TYPE_COMMAND, 0, 0, &s, sizeof(s), &fd,
		     1);
	vfx_expect_error(&t->f, VFU_CMD_DEVICE_SET_IRQS, EINVAL, false);
	g_assert_cmpuint(ri_open_fds(), ==, before);
	close(fd);
}

/* A device without interrupts (env.irq NULL): counts 0, every SET_IRQS EINVAL. */
static void test_irq_none(void)
{
	struct vfx f;
	struct vfu_irq_info req = {.argsz = sizeof(req), .index = VFU_PCI_INTX_IRQ}, got;
	struct vfu_msg m;
	uint8_t buf[32];
	int len;

	vfx_setup(&f, NULL);
	vfx_handshake(&f);
	vfx_request(&f, VFU_CMD_DEVICE_GET_IRQ_INFO, &req, sizeof(req), &m);
	g_assert_cmpint(vfu_irq_info_decode(&m, true, &got), ==, 0);
	g_assert_cmpuint(got.count, ==, 0);
	vfu_msg_clear(&m);
	len = vfu_irq_set_encode(VFU_IRQ_SET_DATA_NONE | VFU_IRQ_SET_ACTION_TRIGGER,
				 VFU_PCI_INTX_IRQ, 0, 0, NULL, 0, buf, sizeof(buf));
	vfx_raw_send(&f, VFU_CMD_DEVICE_SET_IRQS, VFU_F_TYPE_COMMAND, 0, 0, buf, (size_t)len, NULL,
		     0);
	vfx_expect_error(&f, VFU_CMD_DEVICE_SET_IRQS, EINVAL, true);
	vfx_teardown(&f, NULL);
}

static void ri_add(const char *path, void (*fn)(struct ri *, gconstpointer))
{
	g_test_add_vtable(path, sizeof(struct ri), NULL, (GTestFixtureFunc)ri_setup,
			  (GTestFixtureFunc)fn, (GTestFixtureFunc)ri_teardown);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_main_context_iteration(NULL, FALSE); /* GLib's own wake-up fd, before any fd count */
	ri_add("/remote/irq/info", test_irq_info);
	ri_add("/remote/irq/msix", test_irq_msix);
	ri_add("/remote/irq/intx-level", test_irq_intx_level);
	ri_add("/remote/irq/intx-latched", test_irq_intx_latched);
	ri_add("/remote/irq/intx-disable", test_irq_intx_disable);
	ri_add("/remote/irq/bad-device", test_irq_bad_device);
	ri_add("/remote/irq/bad-fd-count", test_irq_bad_form);
	ri_add("/remote/irq/bad-flags", test_irq_bad_flags);
	ri_add("/remote/irq/bad-fds-data-none", test_irq_bad_fds_none);
	g_test_add_func("/remote/irq/none", test_irq_none);
	return g_test_run();
}
