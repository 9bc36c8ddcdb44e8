// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for proxy/'s vfio-user client: the handshake and access path against a
 * scripted remote on the other end of a real socketpair.  Each hostile answer the
 * remote can give (wrong device id, bad version, bad device/region/IRQ info, replies
 * that do not match their request, a remote that vanishes) must be refused with a
 * clear error or turn the device dead, never crash.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "protocol/protocol.h"
#include "proxy/proxy.h"
#include "tests/lib/tu.h"

/* What the scripted remote gets wrong. */
enum fault {
	F_NONE, F_WRONG_ID, F_NO_ID, F_ENODEV, F_MAJOR, F_MINOR, F_NOT_PCI, F_FEW_REGIONS, F_MANY_IRQS,
	F_INDEX, F_NPOT, F_CFG_SMALL, F_MEM64_LAST, F_UPPER_HALF, F_RESERVED_TYPE,
	F_IRQ_INDEX, F_READ_COUNT, F_READ_OFFSET, F_HANGUP_ON_READ, F_NOT_SOCKET,
};

struct remote {
	int sock;
	enum fault fault;
	uint8_t cfg[256];
	uint64_t bar_size[PCIFN_NUM_BARS];
};

static void reply(struct remote *r, const struct vfu_msg *m, const void *p, size_t len)
{
	g_assert_cmpint(vfu_send(r->sock, m->hdr.msg_id, m->hdr.cmd, VFU_F_TYPE_REPLY, 0, p, len,
				 NULL, 0), ==, 0);
}

static void reply_error(struct remote *r, const struct vfu_msg *m, int err)
{
	g_assert_cmpint(vfu_send(r->sock, m->hdr.msg_id, m->hdr.cmd,
				 VFU_F_TYPE_REPLY | VFU_F_ERROR, err, NULL, 0, NULL, 0), ==, 0);
}

static void serve_version(struct remote *r, const struct vfu_msg *m)
{
	struct vfu_caps caps = { .major = r->fault == F_MAJOR ? 1 : 0,
				 .minor = r->fault == F_MINOR ? 2 : 1,
				 .max_msg_fds = 8, .max_data_xfer_size = 4096,
				 .device_id = r->fault == F_WRONG_ID ? "t1" : "t0" };
	g_autofree uint8_t *p = NULL;
	size_t len;

	if (r->fault == F_ENODEV)
		return reply_error(r, m, ENODEV);
	if (r->fault == F_NO_ID)
		caps.device_id = NULL;
	g_assert_cmpint(vfu_version_encode(&caps, &p, &len), ==, 0);
	reply(r, m, p, len);
}

static void serve_region_info(struct remote *r, const struct vfu_msg *m)
{
	struct vfu_region_info ri;

	g_assert_cmpint(vfu_region_info_decode(m, false, &ri), ==, 0);
	ri.argsz = sizeof(ri);
	ri.flags = VFU_REGION_READ | VFU_REGION_WRITE;
	ri.size = ri.index < PCIFN_NUM_BARS ? r->bar_size[ri.index] : 0;
	if (ri.index == VFU_PCI_CONFIG_REGION)
		ri.size = r->fault == F_CFG_SMALL ? 64 : 256;
	if (r->fault == F_INDEX && ri.index == 1)
		ri.index = 2;
	if (r->fault == F_NPOT && ri.index == 0)
		ri.size = 3000;
	if (r->fault == F_UPPER_HALF && ri.index == 3)
		ri.size = 4096;
	reply(r, m, &ri, sizeof(ri));
}

static void serve_access(struct remote *r, const struct vfu_msg *m, bool write)
{
	struct {
		struct vfu_region_access a;
		uint8_t data[8];
	} rep;
	const uint8_t *data;

	g_assert_cmpint(vfu_region_access_decode(m, false, write, &rep.a, &data), ==, 0);
	memset(rep.data, 0, sizeof(rep.data));
	if (rep.a.region == VFU_PCI_CONFIG_REGION && write)
		memcpy(r->cfg + rep.a.offset, data, rep.a.count);
	else if (rep.a.region == VFU_PCI_CONFIG_REGION)
		memcpy(rep.data, r->cfg + rep.a.offset, rep.a.count);
	else if (!write)
		memset(rep.data, 0x42, rep.a.count);
	if (r->fault == F_READ_COUNT && rep.a.region == 0)
		rep.a.count = 2;
	if (r->fault == F_READ_OFFSET && rep.a.region == 0)
		rep.a.offset += 4;
	reply(r, m, &rep, sizeof(rep.a) + (write ? 0 : rep.a.count));
}

static void *remote_thread(void *opaque)
{
	struct remote *r = opaque;
	struct vfu_msg m;

	while (vfu_recv(r->sock, &m, VFU_MAX_MSG) == 0) {
		if (m.hdr.cmd == VFU_CMD_VERSION) {
			serve_version(r, &m);
		} else if (m.hdr.cmd == VFU_CMD_DEVICE_GET_INFO) {
			struct vfu_device_info di = {
				.argsz = sizeof(di), .flags = VFU_DEV_FLAG_PCI | VFU_DEV_FLAG_RESET,
				.num_regions = r->fault == F_FEW_REGIONS ? 7 : 9,
				.num_irqs = r->fault == F_MANY_IRQS ? 100000 : 5 };

			if (r->fault == F_NOT_PCI)
				di.flags = VFU_DEV_FLAG_RESET;
			reply(r, &m, &di, sizeof(di));
		} else if (m.hdr.cmd == VFU_CMD_DEVICE_GET_REGION_INFO) {
			serve_region_info(r, &m);
		} else if (m.hdr.cmd == VFU_CMD_DEVICE_GET_IRQ_INFO) {
			struct vfu_irq_info ii;

			g_assert_cmpint(vfu_irq_info_decode(&m, false, &ii), ==, 0);
			ii.argsz = sizeof(ii);
			ii.flags = VFU_IRQ_EVENTFD;
			ii.count = 0;
			if (r->fault == F_IRQ_INDEX)
				ii.index++;
			reply(r, &m, &ii, sizeof(ii));
		} else if (m.hdr.cmd == VFU_CMD_REGION_READ || m.hdr.cmd == VFU_CMD_REGION_WRITE) {
			if (r->fault == F_HANGUP_ON_READ && m.hdr.cmd == VFU_CMD_REGION_READ &&
			    ((struct vfu_region_access *)m.payload)->region == 0) {
				vfu_msg_clear(&m);
				break;
			}
			serve_access(r, &m, m.hdr.cmd == VFU_CMD_REGION_WRITE);
		} else {
			reply_error(r, &m, ENOSYS);
		}
		vfu_msg_clear(&m);
	}
	close(r->sock);
	return NULL;
}

/* BAR0 4 KiB mem32, BAR1 256 B I/O, BAR2+3 64 KiB mem64 prefetchable. */
static void remote_init(struct remote *r, enum fault fault)
{
	memset(r, 0, sizeof(*r));
	r->fault = fault;
	r->cfg[0] = 0x36; r->cfg[1] = 0x1b; r->cfg[2] = 0x05;
	r->cfg[0x14] = 0x01;
	r->cfg[0x18] = 0x0c;
	r->bar_size[0] = 4096;
	r->bar_size[1] = 256;
	r->bar_size[2] = 65536;
	if (fault == F_MEM64_LAST) {
		r->cfg[0x24] = 0x04;
		r->bar_size[5] = 4096;
	}
	if (fault == F_RESERVED_TYPE)
		r->cfg[0x10] = 0x06;
}

static int connect_to(enum fault fault, struct pcifn **fn, GError **err, pthread_t *th,
		      struct remote *r)
{
	int sv[2];

	remote_init(r, fault);
	tu_socketpair(sv);
	r->sock = sv[1];
	g_assert_cmpint(pthread_create(th, NULL, remote_thread, r), ==, 0);
	return proxy_connect("t0", sv[0], NULL, fn, err);
}

static void test_good(void)
{
	g_autoptr(GError) err = NULL;
	struct pcifn *fn = NULL;
	struct remote r;
	pthread_t th;
	uint64_t val;
	uint32_t v;

	g_assert_cmpint(connect_to(F_NONE, &fn, &err, &th, &r), ==, 0);
	g_assert_no_error(err);
	g_assert_cmpint(pcifn_cfg_read(fn, 0, 4, &v), ==, 0);
	g_assert_cmphex(v, ==, 0x00051b36);
	g_assert_cmpint(pcifn_cfg_write(fn, 0x18, 4, 0xffffffff), ==, 0);
	g_assert_cmpint(pcifn_cfg_read(fn, 0x18, 4, &v), ==, 0);
	g_assert_cmphex(v, ==, 0xffff000c); /* 64-bit prefetchable, sized locally */
	g_assert_cmphex(r.cfg[0x18], ==, 0x0c); /* BAR writes are not forwarded */
	g_assert_cmpint(pcifn_cfg_read(fn, 0x200, 4, &v), ==, 0); /* beyond the region */
	g_assert_cmphex(v, ==, 0);
	g_assert_cmpint(pcifn_bar_read(fn, 0, 8, 4, &val), ==, 0);
	g_assert_cmphex(val, ==, 0x42424242);
	g_assert_cmpint(pcifn_bar_write(fn, 1, 4, 1, 7), ==, 0);
	pcifn_destroy(fn); /* closes the socket: the remote thread ends */
	pthread_join(th, NULL);
}

static void expect_refused(enum fault fault, const char *words)
{
	g_autoptr(GError) err = NULL;
	struct pcifn *fn = NULL;
	struct remote r;
	pthread_t th;

	g_assert_cmpint(connect_to(fault, &fn, &err, &th, &r), <, 0);
	g_assert_null(fn);
	g_assert_nonnull(err);
	g_test_message("fault %d: %s", fault, err->message);
	g_assert_nonnull(strstr(err->message, "'t0'"));
	g_assert_nonnull(strstr(err->message, words));
	pthread_join(th, NULL);
}

static void test_refused(void)
{
	expect_refused(F_WRONG_ID, "'t1'");
	expect_refused(F_NO_ID, "unnamed");
	expect_refused(F_ENODEV, "does not host");
	expect_refused(F_MAJOR, "vfio-user 1.");
	expect_refused(F_MINOR, "vfio-user 0.2");
	expect_refused(F_NOT_PCI, "described its device badly");
	expect_refused(F_FEW_REGIONS, "described its device badly");
	expect_refused(F_MANY_IRQS, "described its device badly");
	expect_refused(F_INDEX, "described its device badly");
	expect_refused(F_NPOT, "described its device badly");
	expect_refused(F_CFG_SMALL, "described its device badly");
	expect_refused(F_MEM64_LAST, "BAR layout");
	expect_refused(F_UPPER_HALF, "described its device badly");
	expect_refused(F_RESERVED_TYPE, "described its device badly");
	expect_refused(F_IRQ_INDEX, "described its device badly");
}

static void test_not_socket(void)
{
	g_autoptr(GError) err = NULL;
	struct pcifn *fn = NULL;
	int p[2];

	g_assert_cmpint(pipe(p), ==, 0);
	g_assert_cmpint(proxy_connect("t0", p[0], NULL, &fn, &err), ==, -ENOTSOCK);
	g_assert_nonnull(strstr(err->message, "not a connected stream socket"));
	close(p[1]);
	g_clear_error(&err);
	g_assert_cmpint(proxy_connect_path("t0", "/nonexistent/t0.sock", NULL, &fn, &err), <, 0);
	g_assert_nonnull(strstr(err->message, "cannot connect"));
}

/* A reply that does not match its request kills the device, with one warning. */
static void expect_dead_after_read(enum fault fault)
{
	g_autoptr(GError) err = NULL;
	struct pcifn *fn = NULL;
	struct remote r;
	pthread_t th;
	uint64_t val;
	uint32_t v;

	g_assert_cmpint(connect_to(fault, &fn, &err, &th, &r), ==, 0);
	if (fault != F_HANGUP_ON_READ)
		g_test_expect_message("proxy", G_LOG_LEVEL_WARNING, "*malformed*");
	g_test_expect_message("proxy", G_LOG_LEVEL_WARNING, "*t0*all-ones*");
	g_assert_cmpint(pcifn_bar_read(fn, 0, 0, 4, &val), <, 0);
	g_test_assert_expected_messages();
	g_assert_cmphex(val, ==, 0xffffffff);
	g_assert_true(pcifn_dead(fn));
	g_assert_cmpint(pcifn_cfg_read(fn, 0, 2, &v), ==, -ENODEV);
	g_assert_cmphex(v, ==, 0xffff);
	pcifn_destroy(fn);
	pthread_join(th, NULL);
}

static void test_bad_replies(void)
{
	expect_dead_after_read(F_READ_COUNT);
	expect_dead_after_read(F_READ_OFFSET);
	expect_dead_after_read(F_HANGUP_ON_READ);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/proxy/vfu-client/good", test_good);
	g_test_add_func("/proxy/vfu-client/refused", test_refused);
	g_test_add_func("/proxy/vfu-client/not-socket", test_not_socket);
	g_test_add_func("/proxy/vfu-client/bad-replies", test_bad_replies);
	return g_test_run();
}
