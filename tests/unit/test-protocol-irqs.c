// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for protocol/vfu_irqs.c (spec "VFIO_USER_DEVICE_SET_IRQS"): a good request
 * of every DATA kind, one bad request per validation branch received over a real
 * socketpair, the reply in both forms, and the encoder refusing what the decoder
 * would refuse.
 */
#include <errno.h>
#include <glib.h>
#include <string.h>
#include <unistd.h>

#include "protocol/protocol.h"
#include "tests/unit/test-protocol.h"

#define EVT (VFU_IRQ_SET_DATA_EVENTFD | VFU_IRQ_SET_ACTION_TRIGGER)
#define NONE_TRIG (VFU_IRQ_SET_DATA_NONE | VFU_IRQ_SET_ACTION_TRIGGER)
#define BOOL_TRIG (VFU_IRQ_SET_DATA_BOOL | VFU_IRQ_SET_ACTION_TRIGGER)

struct ti_req {
	struct vfu_irq_set s;
	uint8_t data[16];
} __attribute__((packed));

/* Send s (+ data_len bytes of data) with nr eventfds as a request; decode it. */
static int ti_decode(const struct ti_req *r, size_t data_len, unsigned nr, bool reply)
{
	int fds[VFU_MAX_FDS] = {0};
	struct vfu_irq_set out;
	const uint8_t *data;
	struct vfu_msg m;
	int ret;

	for (unsigned i = 0; i < nr; i++)
		fds[i] = tp_eventfd();
	tp_loop(VFU_CMD_DEVICE_SET_IRQS, reply ? VFU_F_TYPE_REPLY : VFU_F_TYPE_COMMAND, r,
		reply && !data_len ? 0 : sizeof(r->s) + data_len, fds, nr, &m);
	for (unsigned i = 0; i < nr; i++)
		close(fds[i]);
	ret = vfu_irq_set_decode(&m, reply, &out, &data);
	if (ret == 0 && !reply) {
		g_assert_cmpmem(&out, sizeof(out), &r->s, sizeof(r->s));
		g_assert_true((data != NULL) == !!(out.flags & VFU_IRQ_SET_DATA_BOOL));
		g_assert_cmpuint(m.nr_fds, ==, nr);
	}
	vfu_msg_clear(&m);
	return ret;
}

static struct ti_req ti_make(uint32_t flags, uint32_t index, uint32_t start, uint32_t count)
{
	struct ti_req r = {.s = {.argsz = sizeof(r.s),
				 .flags = flags,
				 .index = index,
				 .start = start,
				 .count = count}};

	if (flags & VFU_IRQ_SET_DATA_BOOL)
		r.s.argsz += count;
	return r;
}

static void test_irqs_good(void)
{
	struct ti_req r = ti_make(EVT, VFU_PCI_MSIX_IRQ, 0, 3);
	unsigned before = tp_open_fds();

	g_assert_cmpint(ti_decode(&r, 0, 3, false), ==, 0);
	g_assert_cmpint(ti_decode(&r, 0, 0, false), ==, 0); /* no fds: de-assign */
	r.s.argsz = sizeof(r.s) + 4 * 3;		    /* QEMU's kernel-struct argsz */
	g_assert_cmpint(ti_decode(&r, 0, 3, false), ==, 0);
	r = ti_make(VFU_IRQ_SET_DATA_EVENTFD | VFU_IRQ_SET_ACTION_UNMASK, VFU_PCI_INTX_IRQ, 0, 1);
	g_assert_cmpint(ti_decode(&r, 0, 1, false), ==, 0);
	r = ti_make(NONE_TRIG, VFU_PCI_MSI_IRQ, 0, 0); /* disable all */
	g_assert_cmpint(ti_decode(&r, 0, 0, false), ==, 0);
	r = ti_make(BOOL_TRIG, VFU_PCI_MSIX_IRQ, 4, 3);
	r.data[0] = 1, r.data[2] = 1;
	g_assert_cmpint(ti_decode(&r, 3, 0, false), ==, 0);
	r = ti_make(VFU_IRQ_SET_DATA_NONE | VFU_IRQ_SET_ACTION_MASK, VFU_PCI_INTX_IRQ, 0, 1);
	g_assert_cmpint(ti_decode(&r, 0, 0, false), ==, 0);
	r.s.start = 2048 - 1; /* the largest range end */
	r.s.count = 1;
	g_assert_cmpint(ti_decode(&r, 0, 0, false), ==, 0);
	g_assert_cmpuint(tp_open_fds(), ==, before);
}

static void test_irqs_bad_flags(void)
{
	static const uint32_t bad[] = {
		0,
		VFU_IRQ_SET_DATA_NONE,
		VFU_IRQ_SET_ACTION_TRIGGER,
		VFU_IRQ_SET_DATA_NONE | VFU_IRQ_SET_DATA_BOOL | VFU_IRQ_SET_ACTION_TRIGGER,
		VFU_IRQ_SET_DATA_NONE | VFU_IRQ_SET_ACTION_MASK | VFU_IRQ_SET_ACTION_UNMASK,
		NONE_TRIG | (1u << 6),
		NONE_TRIG | 0x80000000u,
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct ti_req r = ti_make(bad[i], VFU_PCI_MSIX_IRQ, 0, 1);

		g_assert_cmpint(ti_decode(&r, 0, 0, false), ==, -EPROTO);
	}
}

static void test_irqs_bad_range(void)
{
	struct ti_req r = ti_make(NONE_TRIG, VFU_PCI_NUM_IRQS, 0, 1);

	g_assert_cmpint(ti_decode(&r, 0, 0, false), ==, -EPROTO); /* index */
	r = ti_make(NONE_TRIG, VFU_PCI_MSIX_IRQ, 0, VFU_IRQ_SET_MAX_COUNT + 1);
	g_assert_cmpint(ti_decode(&r, 0, 0, false), ==, -EPROTO); /* count */
	r = ti_make(NONE_TRIG, VFU_PCI_MSIX_IRQ, 0xffffffffu, 2);
	g_assert_cmpint(ti_decode(&r, 0, 0, false), ==, -EPROTO); /* start + count wraps */
	r = ti_make(NONE_TRIG, VFU_PCI_MSIX_IRQ, 1, 0);
	g_assert_cmpint(ti_decode(&r, 0, 0, false), ==, -EPROTO); /* count 0, start 1 */
	r = ti_make(EVT, VFU_PCI_MSIX_IRQ, 0, 0);
	g_assert_cmpint(ti_decode(&r, 0, 0, false), ==, -EPROTO); /* count 0 with eventfds */
	r = ti_make(VFU_IRQ_SET_DATA_NONE | VFU_IRQ_SET_ACTION_MASK, VFU_PCI_MSIX_IRQ, 0, 0);
	g_assert_cmpint(ti_decode(&r, 0, 0, false), ==, -EPROTO); /* count 0, mask */
}

static void test_irqs_bad_data(void)
{
	unsigned before = tp_open_fds();
	struct ti_req r = ti_make(EVT, VFU_PCI_MSIX_IRQ, 0, 3);

	g_assert_cmpint(ti_decode(&r, 0, 2, false), ==, -EPROTO); /* fds != count */
	g_assert_cmpint(ti_decode(&r, 0, 4, false), ==, -EPROTO);
	r.s.argsz = sizeof(r.s) + 1; /* neither form of argsz */
	g_assert_cmpint(ti_decode(&r, 0, 3, false), ==, -EPROTO);
	r = ti_make(EVT, VFU_PCI_MSIX_IRQ, 0, 1);
	r.s.argsz += 1;
	g_assert_cmpint(ti_decode(&r, 1, 1, false), ==, -EPROTO); /* data bytes with eventfds */
	r = ti_make(NONE_TRIG, VFU_PCI_MSIX_IRQ, 0, 1);
	g_assert_cmpint(ti_decode(&r, 0, 1, false), ==, -EBADMSG); /* fds with DATA_NONE */
	r = ti_make(BOOL_TRIG, VFU_PCI_MSIX_IRQ, 0, 3);
	g_assert_cmpint(ti_decode(&r, 2, 0, false), ==, -EPROTO); /* too few bools */
	r.data[1] = 2;
	g_assert_cmpint(ti_decode(&r, 3, 0, false), ==, -EPROTO); /* bool not 0/1 */
	r = ti_make(BOOL_TRIG, VFU_PCI_MSIX_IRQ, 0, 3);
	r.s.argsz = sizeof(r.s);
	g_assert_cmpint(ti_decode(&r, 3, 0, false), ==, -EPROTO); /* argsz without data */
	r = ti_make(NONE_TRIG, VFU_PCI_MSIX_IRQ, 0, 1);
	g_assert_cmpint(ti_decode(&r, 0, 0, false), ==, 0);
	r.s.argsz = 4096;
	g_assert_cmpint(ti_decode(&r, 0, 0, false), ==, -EPROTO); /* argsz too big */
	g_assert_cmpuint(tp_open_fds(), ==, before);
}

static void test_irqs_reply(void)
{
	struct ti_req r = ti_make(NONE_TRIG, VFU_PCI_MSIX_IRQ, 0, 1);
	unsigned before = tp_open_fds();
	struct vfu_irq_set out;
	const uint8_t *data;
	struct vfu_msg m;

	g_assert_cmpint(ti_decode(&r, 0, 0, true), ==, 0);
	g_assert_cmpint(ti_decode(&r, 0, 1, true), ==, -EBADMSG); /* fds on the reply */
	g_assert_cmpint(ti_decode(&r, 4, 0, true), ==, -EPROTO);  /* a payload */
	/* Another command, or a request decoded as a reply. */
	tp_loop(VFU_CMD_DEVICE_RESET, VFU_F_TYPE_REPLY, NULL, 0, NULL, 0, &m);
	g_assert_cmpint(vfu_irq_set_decode(&m, true, &out, &data), ==, -EPROTO);
	vfu_msg_clear(&m);
	tp_loop(VFU_CMD_DEVICE_SET_IRQS, VFU_F_TYPE_COMMAND, &r, sizeof(r.s), NULL, 0, &m);
	g_assert_cmpint(vfu_irq_set_decode(&m, true, &out, &data), ==, -EPROTO);
	vfu_msg_clear(&m);
	g_assert_cmpuint(tp_open_fds(), ==, before);
}

static void test_irqs_encode(void)
{
	uint8_t buf[64], bools[3] = {1, 0, 1}, bad[2] = {1, 7};
	struct vfu_irq_set s;

	g_assert_cmpint(vfu_irq_set_encode(EVT, VFU_PCI_MSIX_IRQ, 2, 3, NULL, 3, buf, sizeof(buf)),
			==, 20);
	memcpy(&s, buf, sizeof(s));
	g_assert_cmpuint(s.argsz, ==, 20);
	g_assert_cmpuint(s.start, ==, 2);
	g_assert_cmpint(
		vfu_irq_set_encode(BOOL_TRIG, VFU_PCI_MSIX_IRQ, 0, 3, bools, 0, buf, sizeof(buf)),
		==, 23);
	g_assert_cmpmem(buf + 20, 3, bools, 3);
	/* Refused: what the decoder refuses, and a small buffer. */
	g_assert_cmpint(vfu_irq_set_encode(EVT, VFU_PCI_MSIX_IRQ, 0, 3, NULL, 2, buf, sizeof(buf)),
			==, -EINVAL);
	g_assert_cmpint(
		vfu_irq_set_encode(EVT | VFU_IRQ_SET_DATA_NONE, 2, 0, 1, NULL, 1, buf, sizeof(buf)),
		==, -EINVAL);
	g_assert_cmpint(vfu_irq_set_encode(BOOL_TRIG, 2, 0, 2, bad, 0, buf, sizeof(buf)), ==,
			-EINVAL);
	g_assert_cmpint(vfu_irq_set_encode(BOOL_TRIG, 2, 0, 2, NULL, 0, buf, sizeof(buf)), ==,
			-EINVAL);
	g_assert_cmpint(vfu_irq_set_encode(NONE_TRIG, 9, 0, 1, NULL, 0, buf, sizeof(buf)), ==,
			-EINVAL);
	g_assert_cmpint(vfu_irq_set_encode(BOOL_TRIG, 2, 0, 3, bools, 0, buf, 22), ==, -EINVAL);
}

void tp_add_irqs_tests(void)
{
	g_test_add_func("/protocol/irqs/good", test_irqs_good);
	g_test_add_func("/protocol/irqs/bad-flags", test_irqs_bad_flags);
	g_test_add_func("/protocol/irqs/bad-range", test_irqs_bad_range);
	g_test_add_func("/protocol/irqs/bad-data", test_irqs_bad_data);
	g_test_add_func("/protocol/irqs/reply", test_irqs_reply);
	g_test_add_func("/protocol/irqs/encode", test_irqs_encode);
}
