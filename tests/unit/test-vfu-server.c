// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of remote/vfu_server.c, the well-formed side: a pci-testdev served over
 * a real socketpair (tests/unit/vfx.c) negotiates, describes itself, serves config
 * space and hits every test-table entry of both BARs; well-formed requests it cannot
 * serve (unknown command, index, offset or count out of range) get an error reply and
 * the connection stays up.  Malformed messages are test-vfu-server-bad.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/vfx.h"

const struct dev_ops *const dev_table[] = { &pci_testdev_ops, NULL };

static void test_version(struct vfx *f, gconstpointer data)
{
	vfx_handshake(f);
}

static void test_version_anonymous(struct vfx *f, gconstpointer data)
{
	struct vfu_caps caps;
	struct vfu_msg m;

	/* A generic client that names no device is accepted; the reply names ours. */
	vfx_send_version(f, VFU_VERSION_MAJOR, NULL);
	vfx_serve(f, true);
	g_assert_cmpuint(vfx_get_reply(f, VFU_CMD_VERSION, &m), ==, 0);
	g_assert_cmpint(vfu_version_decode(m.payload, m.len, &caps), ==, 0);
	g_assert_cmpstr(caps.device_id, ==, "t0");
	vfu_caps_clear(&caps);
	vfu_msg_clear(&m);
}

static void test_device_info(struct vfx *f, gconstpointer data)
{
	struct vfu_device_info req = { .argsz = sizeof(req) }, info;
	struct vfu_msg m;

	vfx_handshake(f);
	vfx_request(f, VFU_CMD_DEVICE_GET_INFO, &req, sizeof(req), &m);
	g_assert_cmpint(vfu_device_info_decode(&m, true, &info), ==, 0);
	g_assert_cmpuint(info.flags, ==, VFU_DEV_FLAG_PCI | VFU_DEV_FLAG_RESET);
	g_assert_cmpuint(info.num_regions, ==, 9);
	g_assert_cmpuint(info.num_irqs, ==, 5);
	vfu_msg_clear(&m);
}

static void test_region_info(struct vfx *f, gconstpointer data)
{
	static const uint64_t size[9] = { 4096, 256, 0, 0, 0, 0, 0, 256, 0 };

	vfx_handshake(f);
	for (uint32_t i = 0; i < 9; i++) {
		struct vfu_region_info req = { .argsz = sizeof(req), .index = i }, ri;
		struct vfu_msg m;

		vfx_request(f, VFU_CMD_DEVICE_GET_REGION_INFO, &req, sizeof(req), &m);
		g_assert_cmpint(vfu_region_info_decode(&m, true, &ri), ==, 0);
		g_assert_cmpuint(ri.index, ==, i);
		g_assert_cmpuint(ri.size, ==, size[i]);
		g_assert_cmpuint(ri.flags, ==, size[i] ? VFU_REGION_READ | VFU_REGION_WRITE : 0);
		vfu_msg_clear(&m);
	}
}

static void test_irq_info(struct vfx *f, gconstpointer data)
{
	vfx_handshake(f);
	for (uint32_t i = 0; i < 5; i++) {
		struct vfu_irq_info req = { .argsz = sizeof(req), .index = i }, ii;
		struct vfu_msg m;

		vfx_request(f, VFU_CMD_DEVICE_GET_IRQ_INFO, &req, sizeof(req), &m);
		g_assert_cmpint(vfu_irq_info_decode(&m, true, &ii), ==, 0);
		g_assert_cmpuint(ii.index, ==, i);
		g_assert_cmpuint(ii.count, ==, 0);
		vfu_msg_clear(&m);
	}
}

static void test_config(struct vfx *f, gconstpointer data)
{
	uint8_t cfg[256], part[8];

	vfx_handshake(f);
	vfx_access_ok(f, VFU_PCI_CONFIG_REGION, 0, sizeof(cfg), false, cfg);
	g_assert_cmphex(cfg[0] | cfg[1] << 8, ==, 0x1b36);
	g_assert_cmphex(cfg[2] | cfg[3] << 8, ==, 0x0005);
	g_assert_cmphex(cfg[0x0b], ==, 0x00);
	g_assert_cmphex(cfg[0x0a], ==, 0xff);
	g_assert_cmphex(cfg[0x14], ==, 0x01);
	g_assert_cmphex(vfx_rd(f, VFU_PCI_CONFIG_REGION, 0xff, 1), ==, 0);
	g_assert_cmphex(vfx_rd(f, VFU_PCI_CONFIG_REGION, 0x02, 2), ==, 0x0005);
	/* Unaligned, odd-sized: split into naturally aligned pieces. */
	vfx_access_ok(f, VFU_PCI_CONFIG_REGION, 1, 7, false, part);
	g_assert_cmpmem(part, 7, cfg + 1, 7);
	/* BAR sizing through region writes. */
	vfx_wr(f, VFU_PCI_CONFIG_REGION, 0x10, 4, 0xffffffff);
	vfx_wr(f, VFU_PCI_CONFIG_REGION, 0x14, 4, 0xffffffff);
	g_assert_cmphex(vfx_rd(f, VFU_PCI_CONFIG_REGION, 0x10, 4), ==, 0xfffff000);
	g_assert_cmphex(vfx_rd(f, VFU_PCI_CONFIG_REGION, 0x14, 4), ==, 0xffffff01);
	vfx_wr(f, VFU_PCI_CONFIG_REGION, 0x04, 2, 0x0003);
	g_assert_cmphex(vfx_rd(f, VFU_PCI_CONFIG_REGION, 0x04, 2), ==, 0x0003);
	vfx_wr(f, VFU_PCI_CONFIG_REGION, 0x00, 4, 0);
	g_assert_cmphex(vfx_rd(f, VFU_PCI_CONFIG_REGION, 0x00, 4), ==, 0x00051b36);
}

/* Every entry of both BARs, the way a guest driver for QEMU's pci-testdev walks it. */
static void test_testdev_entries(struct vfx *f, gconstpointer data)
{
	vfx_handshake(f);
	for (uint32_t bar = 0; bar < 2; bar++) {
		for (unsigned n = 0; n < 3; n++) {
			uint64_t off, val;

			vfx_wr(f, bar, 0, 1, n);
			g_assert_cmpuint(vfx_rd(f, bar, 12, 4), ==, 0);
			g_assert_cmpuint(vfx_rd(f, bar, 1, 1), ==, 1);
			val = vfx_rd(f, bar, 8, 4);
			off = vfx_rd(f, bar, 4, 4);
			g_assert_cmpuint(off, ==, (bar ? 128 : 2048) + bar * 3 + n);
			for (unsigned i = 0; i < 16; i++)
				vfx_wr(f, bar, off, 1, val);
			g_assert_cmpuint(vfx_rd(f, bar, 12, 4), ==, 16);
		}
	}
	vfx_wr(f, 0, 0, 1, 0);
	g_assert_cmphex(vfx_rd(f, 0, 0, 8), ==, 0x0000080000000100ull); /* 8-byte access */
}

static void test_reset(struct vfx *f, gconstpointer data)
{
	struct vfu_msg m;

	vfx_handshake(f);
	vfx_wr(f, VFU_PCI_CONFIG_REGION, 0x04, 2, 0x0003);
	vfx_wr(f, 0, 0, 1, 0);
	vfx_request(f, VFU_CMD_DEVICE_RESET, NULL, 0, &m);
	g_assert_cmpuint(m.len, ==, 0);
	vfu_msg_clear(&m);
	g_assert_cmphex(vfx_rd(f, VFU_PCI_CONFIG_REGION, 0x04, 2), ==, 0);
	g_assert_cmphex(vfx_rd(f, 0, 1, 1), ==, 0); /* test stopped */
}

static void test_unknown_command(struct vfx *f, gconstpointer data)
{
	static const uint16_t cmds[] = { 0, 14, VFU_CMD_MAX, 100, UINT16_MAX };

	vfx_handshake(f);
	for (unsigned i = 0; i < G_N_ELEMENTS(cmds); i++) {
		vfx_raw_send(f, cmds[i], VFU_F_TYPE_COMMAND, 0, 0, "xy", 2, NULL, 0);
		vfx_expect_error(f, cmds[i], ENOSYS, true);
	}
	g_assert_cmphex(vfx_rd(f, VFU_PCI_CONFIG_REGION, 0, 2), ==, 0x1b36); /* still served */
}

static void test_unimplemented_with_fd(struct vfx *f, gconstpointer data)
{
	uint8_t map[32] = { 0 };
	int p[2];

	vfx_handshake(f);
	g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
	vfx_raw_send(f, VFU_CMD_DEVICE_FEATURE, VFU_F_TYPE_COMMAND, 0, 0, map, sizeof(map), p, 1);
	close(p[0]);
	vfx_expect_error(f, VFU_CMD_DEVICE_FEATURE, ENOSYS, true);
	g_assert_cmpint(write(p[1], "x", 1), ==, -1); /* its fd was not kept */
	g_assert_cmpint(errno, ==, EPIPE);
	close(p[1]);
	g_assert_cmphex(vfx_rd(f, VFU_PCI_CONFIG_REGION, 0, 2), ==, 0x1b36);
}

static void test_info_index_range(struct vfx *f, gconstpointer data)
{
	static const uint32_t bad[] = { 9, 10, UINT32_MAX };

	vfx_handshake(f);
	for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct vfu_region_info req = { .argsz = sizeof(req), .index = bad[i] };

		vfx_raw_send(f, VFU_CMD_DEVICE_GET_REGION_INFO, VFU_F_TYPE_COMMAND, 0, 0, &req,
			     sizeof(req), NULL, 0);
		vfx_expect_error(f, VFU_CMD_DEVICE_GET_REGION_INFO, EINVAL, true);
	}
	for (uint32_t index = 5; index < 7; index++) {
		struct vfu_irq_info req = { .argsz = sizeof(req), .index = index };

		vfx_raw_send(f, VFU_CMD_DEVICE_GET_IRQ_INFO, VFU_F_TYPE_COMMAND, 0, 0, &req,
			     sizeof(req), NULL, 0);
		vfx_expect_error(f, VFU_CMD_DEVICE_GET_IRQ_INFO, EINVAL, true);
	}
}

static void test_access_range(struct vfx *f, gconstpointer data)
{
	vfx_handshake(f);
	for (int w = 0; w < 2; w++) {
		vfx_access_bad(f, w, 0, 9, 4, EINVAL, true);        /* no such region */
		vfx_access_bad(f, w, 0, UINT32_MAX, 4, EINVAL, true);
		vfx_access_bad(f, w, 0, 2, 4, EINVAL, true);        /* BAR2 not implemented */
		vfx_access_bad(f, w, 0, VFU_PCI_ROM_REGION, 4, EINVAL, true);
		vfx_access_bad(f, w, 0, 8, 4, EINVAL, true);        /* VGA */
		vfx_access_bad(f, w, 4096, 0, 1, EINVAL, true);     /* beyond BAR0 */
		vfx_access_bad(f, w, 4093, 0, 4, EINVAL, true);
		vfx_access_bad(f, w, 256, 1, 1, EINVAL, true);      /* beyond BAR1 */
		vfx_access_bad(f, w, 256, VFU_PCI_CONFIG_REGION, 1, EINVAL, true);
		vfx_access_bad(f, w, 252, VFU_PCI_CONFIG_REGION, 8, EINVAL, true);
		vfx_access_bad(f, w, 0, 0, 3, EINVAL, true);        /* BAR access sizes */
		vfx_access_bad(f, w, 0, 0, 16, EINVAL, true);
	}
	vfx_access_bad(f, false, 0, VFU_PCI_CONFIG_REGION, 257, EINVAL, true);
	vfx_access_bad(f, false, 0, 0, 4096, EINVAL, true);
	g_assert_cmphex(vfx_rd(f, VFU_PCI_CONFIG_REGION, 0, 2), ==, 0x1b36);
}

static void add(const char *name, void (*fn)(struct vfx *, gconstpointer))
{
	g_autofree char *path = g_strdup_printf("/remote/vfu-server/%s", name);

	g_test_add(path, struct vfx, NULL, vfx_setup, fn, vfx_teardown);
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	g_test_init(&argc, &argv, NULL);
	add("version", test_version);
	add("version-anonymous", test_version_anonymous);
	add("device-info", test_device_info);
	add("region-info", test_region_info);
	add("irq-info", test_irq_info);
	add("config", test_config);
	add("testdev-entries", test_testdev_entries);
	add("reset", test_reset);
	add("refused/unknown-command", test_unknown_command);
	add("refused/unimplemented-with-fd", test_unimplemented_with_fd);
	add("refused/info-index", test_info_index_range);
	add("refused/access-range", test_access_range);
	return g_test_run();
}
