// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for protocol/vfu_decode.c: each decoder in both directions, a good message
 * and one bad message per validation branch, all received over a real socketpair.
 */
#include <errno.h>
#include <glib.h>
#include <string.h>
#include <unistd.h>

#include "protocol/protocol.h"
#include "tests/unit/test-protocol.h"

/* --- decoders ------------------------------------------------------------------- */

/* Receive payload p as a request (reply=false) or reply of cmd, with nr fds. */
static void tp_in(uint16_t cmd, bool reply, const void *p, size_t len, unsigned nr,
		  struct vfu_msg *m)
{
	int fds[2] = { tp_eventfd(), tp_eventfd() };

	g_assert_cmpuint(nr, <=, 2);
	tp_loop(cmd, reply ? VFU_F_TYPE_REPLY : VFU_F_TYPE_COMMAND, p, len, fds, nr, m);
	close(fds[0]);
	close(fds[1]);
}

static int tp_dev(bool reply, const struct vfu_device_info *d, size_t len)
{
	struct vfu_device_info out;
	struct vfu_msg m;
	int ret;

	tp_in(VFU_CMD_DEVICE_GET_INFO, reply, d, len, 0, &m);
	ret = vfu_device_info_decode(&m, reply, &out);
	g_assert_true(ret < 0 || memcmp(&out, d, sizeof(out)) == 0);
	vfu_msg_clear(&m);
	return ret;
}

static void test_decode_device_info(void)
{
	struct vfu_device_info q = { .argsz = 16 };
	struct vfu_device_info r = { .argsz = 16, .flags = VFU_DEV_FLAG_PCI | VFU_DEV_FLAG_RESET,
				     .num_regions = 9, .num_irqs = 5 };
	struct {
		struct vfu_device_info d;
		uint32_t extra;
	} big = { .d = q };
	struct vfu_device_info out;
	struct vfu_msg m;

	g_assert_cmpint(tp_dev(false, &q, sizeof(q)), ==, 0);
	g_assert_cmpint(tp_dev(true, &r, sizeof(r)), ==, 0);
	g_assert_cmpint(tp_dev(false, &q, sizeof(q) - 1), ==, -EPROTO); /* size mismatch */
	g_assert_cmpint(tp_dev(false, &big.d, sizeof(big)), ==, -EPROTO);
	g_assert_cmpint(tp_dev(false, &q, 0), ==, -EPROTO);
	q.argsz = 15; /* argsz below the fixed reply */
	g_assert_cmpint(tp_dev(false, &q, sizeof(q)), ==, -EPROTO);
	q.argsz = 4096; /* a larger reply buffer is fine */
	g_assert_cmpint(tp_dev(false, &q, sizeof(q)), ==, 0);
	q.num_irqs = 1; /* request fields other than argsz are zero */
	g_assert_cmpint(tp_dev(false, &q, sizeof(q)), ==, -EPROTO);
	r.argsz = 8;
	g_assert_cmpint(tp_dev(true, &r, sizeof(r)), ==, -EPROTO);
	r.argsz = 16;
	r.flags |= 1u << 2; /* unknown device flag */
	g_assert_cmpint(tp_dev(true, &r, sizeof(r)), ==, -EPROTO);
	r.flags = VFU_DEV_FLAG_PCI;
	r.num_regions = 8; /* PCI needs regions 0-8 */
	g_assert_cmpint(tp_dev(true, &r, sizeof(r)), ==, -EPROTO);
	/* Wrong command, wrong direction, unknown command. */
	r.num_regions = 9;
	tp_in(VFU_CMD_DEVICE_GET_IRQ_INFO, true, &r, sizeof(r), 0, &m);
	g_assert_cmpint(vfu_device_info_decode(&m, true, &out), ==, -EPROTO);
	g_assert_cmpint(vfu_device_info_decode(&m, false, &out), ==, -EPROTO);
	m.hdr.cmd = 99;
	g_assert_cmpint(vfu_device_info_decode(&m, true, &out), ==, -EPROTO);
	vfu_msg_clear(&m);
	tp_in(VFU_CMD_DEVICE_GET_INFO, true, &r, sizeof(r), 0, &m);
	g_assert_cmpint(vfu_device_info_decode(&m, false, &out), ==, -EPROTO);
	vfu_msg_clear(&m);
}

static int tp_region(bool reply, const struct vfu_region_info *ri, unsigned nr_fds)
{
	struct vfu_region_info out;
	struct vfu_msg m;
	int ret;

	tp_in(VFU_CMD_DEVICE_GET_REGION_INFO, reply, ri, sizeof(*ri), nr_fds, &m);
	ret = vfu_region_info_decode(&m, reply, &out);
	g_assert_true(ret < 0 || memcmp(&out, ri, sizeof(out)) == 0);
	vfu_msg_clear(&m);
	return ret;
}

static void test_decode_region_info(void)
{
	struct vfu_region_info q = { .argsz = 32, .index = 7 };
	struct vfu_region_info r = { .argsz = 32, .flags = VFU_REGION_READ | VFU_REGION_WRITE,
				     .index = 7, .size = 256, .offset = 7ull << 40 };

	g_assert_cmpint(tp_region(false, &q, 0), ==, 0);
	g_assert_cmpint(tp_region(true, &r, 0), ==, 0);
	g_assert_cmpint(tp_region(false, &q, 1), ==, -EBADMSG); /* fd on a request */
	q.size = 1; /* only index may be set */
	g_assert_cmpint(tp_region(false, &q, 0), ==, -EPROTO);
	q.size = 0;
	q.argsz = 31;
	g_assert_cmpint(tp_region(false, &q, 0), ==, -EPROTO);
	/* Reply: an mmap fd comes with VFIO_REGION_INFO_FLAG_MMAP and only with it. */
	g_assert_cmpint(tp_region(true, &r, 1), ==, -EBADMSG);
	r.flags |= VFU_REGION_MMAP;
	g_assert_cmpint(tp_region(true, &r, 0), ==, -EBADMSG);
	g_assert_cmpint(tp_region(true, &r, 2), ==, -EBADMSG);
	g_assert_cmpint(tp_region(true, &r, 1), ==, 0);
	r.flags = VFU_REGION_READ | (1u << 4); /* unknown flag */
	g_assert_cmpint(tp_region(true, &r, 0), ==, -EPROTO);
	/* Capabilities: argsz above 32 and cap_offset only with the CAPS flag. */
	r.flags = VFU_REGION_READ;
	r.argsz = 64;
	g_assert_cmpint(tp_region(true, &r, 0), ==, -EPROTO);
	r.argsz = 32;
	r.cap_offset = 32;
	g_assert_cmpint(tp_region(true, &r, 0), ==, -EPROTO);
	r.flags |= VFU_REGION_CAPS;
	r.argsz = 64;
	g_assert_cmpint(tp_region(true, &r, 0), ==, 0);
	r.cap_offset = 16; /* inside the fixed struct */
	g_assert_cmpint(tp_region(true, &r, 0), ==, -EPROTO);
	r.cap_offset = 60; /* no room for a cap header */
	g_assert_cmpint(tp_region(true, &r, 0), ==, -EPROTO);
	r.cap_offset = 0xfffffff0;
	g_assert_cmpint(tp_region(true, &r, 0), ==, -EPROTO);
	r.argsz = 24; /* reply argsz below the struct */
	r.flags = VFU_REGION_READ;
	r.cap_offset = 0;
	g_assert_cmpint(tp_region(true, &r, 0), ==, -EPROTO);
}

static int tp_irq(bool reply, const struct vfu_irq_info *ii, size_t len)
{
	struct vfu_irq_info out;
	struct vfu_msg m;
	int ret;

	tp_in(VFU_CMD_DEVICE_GET_IRQ_INFO, reply, ii, len, 0, &m);
	ret = vfu_irq_info_decode(&m, reply, &out);
	g_assert_true(ret < 0 || memcmp(&out, ii, sizeof(out)) == 0);
	vfu_msg_clear(&m);
	return ret;
}

static void test_decode_irq_info(void)
{
	struct vfu_irq_info q = { .argsz = 16, .index = VFU_PCI_MSIX_IRQ };
	struct vfu_irq_info r = { .argsz = 16, .flags = VFU_IRQ_EVENTFD | VFU_IRQ_NORESIZE,
				  .index = VFU_PCI_MSIX_IRQ, .count = 64 };

	g_assert_cmpint(tp_irq(false, &q, sizeof(q)), ==, 0);
	g_assert_cmpint(tp_irq(true, &r, sizeof(r)), ==, 0);
	g_assert_cmpint(tp_irq(true, &r, sizeof(r) - 4), ==, -EPROTO);
	q.count = 1;
	g_assert_cmpint(tp_irq(false, &q, sizeof(q)), ==, -EPROTO);
	q.count = 0;
	q.flags = VFU_IRQ_EVENTFD;
	g_assert_cmpint(tp_irq(false, &q, sizeof(q)), ==, -EPROTO);
	q.flags = 0;
	q.argsz = 0;
	g_assert_cmpint(tp_irq(false, &q, sizeof(q)), ==, -EPROTO);
	r.flags = 1u << 4;
	g_assert_cmpint(tp_irq(true, &r, sizeof(r)), ==, -EPROTO);
}

/* A region access message: header fields, then data_len bytes of 0x5a. */
static int tp_access(bool reply, bool write, uint64_t off, uint32_t region, uint32_t count,
		     size_t data_len, struct vfu_region_access *out, uint8_t *first)
{
	g_autofree uint8_t *p = g_malloc(sizeof(*out) + data_len);
	struct vfu_region_access a = { .offset = off, .region = region, .count = count };
	const uint8_t *data = (const uint8_t *)"x";
	struct vfu_msg m;
	int ret;

	memcpy(p, &a, sizeof(a));
	memset(p + sizeof(a), 0x5a, data_len);
	tp_in(write ? VFU_CMD_REGION_WRITE : VFU_CMD_REGION_READ, reply, p,
	      sizeof(a) + data_len, 0, &m);
	ret = vfu_region_access_decode(&m, reply, write, out, &data);
	*first = ret == 0 && data ? data[0] : 0;
	g_assert_true(ret < 0 || !data == !(write != reply));
	vfu_msg_clear(&m);
	return ret;
}

static void test_decode_region_access(void)
{
	const uint32_t max = VFU_MAX_DATA_XFER;
	struct vfu_region_access a;
	uint8_t b;

	g_assert_cmpint(tp_access(false, false, 0x10, 7, 4, 0, &a, &b), ==, 0); /* read req */
	g_assert_cmpuint(a.offset, ==, 0x10);
	g_assert_cmpuint(a.region, ==, 7);
	g_assert_cmpuint(a.count, ==, 4);
	g_assert_cmpint(tp_access(true, false, 0x10, 7, 4, 4, &a, &b), ==, 0); /* read reply */
	g_assert_cmpuint(b, ==, 0x5a);
	g_assert_cmpint(tp_access(false, true, 0, 0, 8, 8, &a, &b), ==, 0); /* write req */
	g_assert_cmpuint(b, ==, 0x5a);
	g_assert_cmpint(tp_access(true, true, 0, 0, 8, 0, &a, &b), ==, 0); /* write reply */
	g_assert_cmpint(tp_access(false, true, 0, 0, max, max, &a, &b), ==, 0);
	/* count 0, count above max_data_xfer_size */
	g_assert_cmpint(tp_access(false, false, 0, 0, 0, 0, &a, &b), ==, -EPROTO);
	g_assert_cmpint(tp_access(false, false, 0, 0, max + 1, 0, &a, &b), ==, -EPROTO);
	g_assert_cmpint(tp_access(false, false, 0, 0, 0xffffffff, 0, &a, &b), ==, -EPROTO);
	/* count and payload length disagree */
	g_assert_cmpint(tp_access(false, true, 0, 0, 4, 2, &a, &b), ==, -EPROTO);
	g_assert_cmpint(tp_access(false, true, 0, 0, 4, 5, &a, &b), ==, -EPROTO);
	g_assert_cmpint(tp_access(false, false, 0, 0, 4, 4, &a, &b), ==, -EPROTO);
	g_assert_cmpint(tp_access(true, false, 0, 0, 4, 3, &a, &b), ==, -EPROTO);
	g_assert_cmpint(tp_access(true, true, 0, 0, 4, 4, &a, &b), ==, -EPROTO);
	/* offset + count wraps */
	g_assert_cmpint(tp_access(false, false, UINT64_MAX - 1, 0, 4, 0, &a, &b), ==, -EPROTO);
	g_assert_cmpint(tp_access(false, false, UINT64_MAX - 4, 0, 4, 0, &a, &b), ==, 0);
	/* payload shorter than the fixed part; wrong command for the decoder */
	{
		struct vfu_msg m;

		tp_in(VFU_CMD_REGION_READ, false, &a, 8, 0, &m);
		const uint8_t *d;

		g_assert_cmpint(vfu_region_access_decode(&m, false, false, &a, &d), ==, -EPROTO);
		g_assert_cmpint(vfu_region_access_decode(&m, false, true, &a, &d), ==, -EPROTO);
		vfu_msg_clear(&m);
	}
}

static void test_decode_reset(void)
{
	uint32_t junk = 0;
	struct vfu_msg m;

	tp_in(VFU_CMD_DEVICE_RESET, false, NULL, 0, 0, &m);
	g_assert_cmpint(vfu_reset_decode(&m, false), ==, 0);
	g_assert_cmpint(vfu_reset_decode(&m, true), ==, -EPROTO);
	vfu_msg_clear(&m);
	tp_in(VFU_CMD_DEVICE_RESET, true, &junk, sizeof(junk), 0, &m);
	g_assert_cmpint(vfu_reset_decode(&m, true), ==, -EPROTO);
	vfu_msg_clear(&m);
	tp_in(VFU_CMD_DEVICE_RESET, false, NULL, 0, 1, &m);
	g_assert_cmpint(vfu_reset_decode(&m, false), ==, -EBADMSG);
	vfu_msg_clear(&m);
}

static void test_decode_range(void)
{
	g_assert_true(vfu_range_ok(0, 4, 4));
	g_assert_true(vfu_range_ok(0xfc, 4, 0x100));
	g_assert_true(vfu_range_ok(UINT64_MAX - 4, 4, UINT64_MAX));
	g_assert_false(vfu_range_ok(0xfd, 4, 0x100));   /* past the end */
	g_assert_false(vfu_range_ok(0x100, 1, 0x100));
	g_assert_false(vfu_range_ok(0, 0, 0x100));      /* count 0 */
	g_assert_false(vfu_range_ok(UINT64_MAX, 1, UINT64_MAX));
	g_assert_false(vfu_range_ok(UINT64_MAX - 1, 4, UINT64_MAX)); /* wraps */
	g_assert_false(vfu_range_ok(4, UINT64_MAX, UINT64_MAX));
	g_assert_false(vfu_range_ok(0, 1, 0));          /* empty region */
}

void tp_add_decode_tests(void)
{
	g_test_add_func("/protocol/decode/device-info", test_decode_device_info);
	g_test_add_func("/protocol/decode/region-info", test_decode_region_info);
	g_test_add_func("/protocol/decode/irq-info", test_decode_irq_info);
	g_test_add_func("/protocol/decode/region-access", test_decode_region_access);
	g_test_add_func("/protocol/decode/reset", test_decode_reset);
	g_test_add_func("/protocol/decode/range", test_decode_range);
}
