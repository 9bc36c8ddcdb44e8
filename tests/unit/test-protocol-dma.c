// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for protocol/vfu_dma.c: DMA_MAP, DMA_UNMAP, DMA_READ/DMA_WRITE and
 * DEVICE_GET_REGION_IO_FDS in both directions, a good message and one bad message per
 * validation branch, each received over a real socketpair with real fds.
 */
#include <errno.h>
#include <glib.h>
#include <string.h>
#include <unistd.h>

#include "protocol/protocol.h"
#include "tests/unit/test-protocol.h"

#define PG VFU_DMA_PAGE

/* Receive payload p as a request or reply of cmd carrying nr fresh eventfds. */
static void td_in(uint16_t cmd, bool reply, const void *p, size_t len, unsigned nr,
		  struct vfu_msg *m)
{
	int fds[4] = {-1, -1, -1, -1};

	g_assert_cmpuint(nr, <=, G_N_ELEMENTS(fds));
	for (unsigned i = 0; i < nr; i++)
		fds[i] = tp_eventfd();
	tp_loop(cmd, reply ? VFU_F_TYPE_REPLY : VFU_F_TYPE_COMMAND, p, len, fds, nr, m);
	for (unsigned i = 0; i < nr; i++)
		close(fds[i]);
}

static int td_map(const struct vfu_dma_map *d, size_t len, unsigned nr_fds)
{
	struct vfu_dma_map out;
	struct vfu_msg m;
	int ret;

	td_in(VFU_CMD_DMA_MAP, false, d, len, nr_fds, &m);
	ret = vfu_dma_map_decode(&m, false, &out);
	g_assert_true(ret < 0 || memcmp(&out, d, sizeof(out)) == 0);
	vfu_msg_clear(&m);
	return ret;
}

static void test_dma_map_request(void)
{
	const struct vfu_dma_map good = {.argsz = 32,
					 .flags = VFU_DMA_MAP_READ | VFU_DMA_MAP_WRITE,
					 .offset = PG,
					 .address = 0x100000,
					 .size = 16 * PG};
	struct vfu_dma_map d = good;
	unsigned before = tp_open_fds();

	g_assert_cmpint(td_map(&d, sizeof(d), 1), ==, 0);
	d.offset = 0; /* not mappable: no fd, offset 0 */
	g_assert_cmpint(td_map(&d, sizeof(d), 0), ==, 0);
	d.flags = VFU_DMA_MAP_READ; /* read-only mapping */
	g_assert_cmpint(td_map(&d, sizeof(d), 1), ==, 0);
	d = good;
	g_assert_cmpint(td_map(&d, sizeof(d), 0), ==, -EPROTO);	 /* offset without fd */
	g_assert_cmpint(td_map(&d, sizeof(d), 2), ==, -EBADMSG); /* an extra fd */
	g_assert_cmpint(td_map(&d, sizeof(d) - 1, 1), ==, -EPROTO);
	d.argsz = 64; /* argsz is the structure's size, there is no reply payload */
	g_assert_cmpint(td_map(&d, sizeof(d), 1), ==, -EPROTO);
	d = good;
	d.flags |= 1u << 2; /* unknown flag */
	g_assert_cmpint(td_map(&d, sizeof(d), 1), ==, -EPROTO);
	d.flags = VFU_DMA_MAP_WRITE; /* write-only */
	g_assert_cmpint(td_map(&d, sizeof(d), 1), ==, -EPROTO);
	d = good;
	d.size = 0;
	g_assert_cmpint(td_map(&d, sizeof(d), 1), ==, -EPROTO);
	d.size = PG + 1; /* unaligned size */
	g_assert_cmpint(td_map(&d, sizeof(d), 1), ==, -EPROTO);
	d = good;
	d.address = 0x100800; /* unaligned address */
	g_assert_cmpint(td_map(&d, sizeof(d), 1), ==, -EPROTO);
	d = good;
	d.offset = 0x10; /* unaligned offset */
	g_assert_cmpint(td_map(&d, sizeof(d), 1), ==, -EPROTO);
	d = good;
	d.address = UINT64_MAX - PG + 1; /* address + size wraps */
	g_assert_cmpint(td_map(&d, sizeof(d), 1), ==, -EPROTO);
	d = good;
	d.offset = UINT64_MAX - PG + 1; /* offset + size wraps */
	g_assert_cmpint(td_map(&d, sizeof(d), 1), ==, -EPROTO);
	g_assert_cmpuint(tp_open_fds(), ==, before);
}

static void test_dma_map_reply(void)
{
	struct vfu_dma_map out;
	struct vfu_msg m;
	uint32_t junk = 0;

	td_in(VFU_CMD_DMA_MAP, true, NULL, 0, 0, &m);
	g_assert_cmpint(vfu_dma_map_decode(&m, true, &out), ==, 0);
	vfu_msg_clear(&m);
	td_in(VFU_CMD_DMA_MAP, true, &junk, sizeof(junk), 0, &m); /* payload */
	g_assert_cmpint(vfu_dma_map_decode(&m, true, &out), ==, -EPROTO);
	vfu_msg_clear(&m);
	td_in(VFU_CMD_DMA_MAP, true, NULL, 0, 1, &m); /* an fd */
	g_assert_cmpint(vfu_dma_map_decode(&m, true, &out), ==, -EBADMSG);
	vfu_msg_clear(&m);
	td_in(VFU_CMD_DMA_UNMAP, true, NULL, 0, 0, &m); /* wrong command */
	g_assert_cmpint(vfu_dma_map_decode(&m, true, &out), ==, -EPROTO);
	vfu_msg_clear(&m);
}

static int td_unmap(bool reply, const struct vfu_dma_unmap *d, size_t len, unsigned nr_fds)
{
	struct vfu_dma_unmap out;
	struct vfu_msg m;
	int ret;

	td_in(VFU_CMD_DMA_UNMAP, reply, d, len, nr_fds, &m);
	ret = vfu_dma_unmap_decode(&m, reply, &out);
	g_assert_true(ret < 0 || memcmp(&out, d, sizeof(out)) == 0);
	vfu_msg_clear(&m);
	return ret;
}

static void test_dma_unmap(void)
{
	const struct vfu_dma_unmap good = {.argsz = 24, .address = 0x100000, .size = 16 * PG};
	struct vfu_dma_unmap d = good;
	struct {
		struct vfu_dma_unmap d;
		uint64_t extra; /* 8 bytes too many */
	} __attribute__((packed)) big = {.extra = 0};

	for (int reply = 0; reply < 2; reply++) {
		d = good;
		g_assert_cmpint(td_unmap(reply, &d, sizeof(d), 0), ==, 0);
		g_assert_cmpint(td_unmap(reply, &d, sizeof(d), 1), ==, -EBADMSG);
		big.d = d;
		g_assert_cmpint(td_unmap(reply, &big.d, sizeof(big), 0), ==, -EPROTO);
		d.argsz = 23;
		g_assert_cmpint(td_unmap(reply, &d, sizeof(d), 0), ==, -EPROTO);
		d = good;
		d.flags = VFU_DMA_UNMAP_GET_DIRTY_BITMAP; /* known, unsupported */
		g_assert_cmpint(td_unmap(reply, &d, sizeof(d), 0), ==, -EOPNOTSUPP);
		d.flags = VFU_DMA_UNMAP_ALL;
		g_assert_cmpint(td_unmap(reply, &d, sizeof(d), 0), ==, -EOPNOTSUPP);
		d.flags = 1u << 2; /* unknown */
		g_assert_cmpint(td_unmap(reply, &d, sizeof(d), 0), ==, -EPROTO);
		d = good;
		d.size = 0;
		g_assert_cmpint(td_unmap(reply, &d, sizeof(d), 0), ==, -EPROTO);
		d.size = 3;
		g_assert_cmpint(td_unmap(reply, &d, sizeof(d), 0), ==, -EPROTO);
		d = good;
		d.address = UINT64_MAX - PG + 1;
		g_assert_cmpint(td_unmap(reply, &d, sizeof(d), 0), ==, -EPROTO);
	}
	d.argsz = 4096; /* a larger reply buffer is fine in a request */
	d.address = 0;
	g_assert_cmpint(td_unmap(false, &d, sizeof(d), 0), ==, 0);
}

static int td_access(bool reply, bool write, uint64_t addr, uint64_t count, size_t data_len)
{
	g_autofree uint8_t *buf = g_malloc0(sizeof(struct vfu_dma_access) + data_len);
	struct vfu_dma_access a = {.address = addr, .count = count}, out;
	const uint8_t *data = NULL;
	struct vfu_msg m;
	int ret;

	memcpy(buf, &a, sizeof(a));
	memset(buf + sizeof(a), 0x5a, data_len);
	td_in(write ? VFU_CMD_DMA_WRITE : VFU_CMD_DMA_READ, reply, buf, sizeof(a) + data_len, 0,
	      &m);
	ret = vfu_dma_access_decode(&m, reply, write, &out, &data);
	if (ret == 0) {
		g_assert_cmpuint(out.address, ==, addr);
		g_assert_cmpuint(out.count, ==, count);
		g_assert_true((data != NULL) == (write != reply));
		g_assert_true(!data || data[0] == 0x5a);
	}
	vfu_msg_clear(&m);
	return ret;
}

static void test_dma_access(void)
{
	struct vfu_dma_access out;
	const uint8_t *data;
	struct vfu_msg m;

	for (int w = 0; w < 2; w++) {
		for (int reply = 0; reply < 2; reply++) {
			size_t with = w != reply ? 8 : 0; /* data in a write request, read reply */

			g_assert_cmpint(td_access(reply, w, 0x1000, 8, with), ==, 0);
			g_assert_cmpint(td_access(reply, w, 0x1000, 8, with + 1), ==, -EPROTO);
			g_assert_cmpint(td_access(reply, w, 0x1000, 0, 0), ==, -EPROTO);
			g_assert_cmpint(td_access(reply, w, 0x1000, VFU_MAX_DATA_XFER + 1, 0), ==,
					-EPROTO);
			g_assert_cmpint(td_access(reply, w, UINT64_MAX - 3, 8, with), ==, -EPROTO);
		}
		g_assert_cmpint(
			td_access(false, w, 0, VFU_MAX_DATA_XFER, w ? VFU_MAX_DATA_XFER : 0), ==,
			0);
	}
	/* Shorter than the access header; an fd; the other command. */
	td_in(VFU_CMD_DMA_READ, false, "12345678", 8, 0, &m);
	g_assert_cmpint(vfu_dma_access_decode(&m, false, false, &out, &data), ==, -EPROTO);
	vfu_msg_clear(&m);
	td_in(VFU_CMD_DMA_READ, false, &(struct vfu_dma_access){0, 4}, 16, 1, &m);
	g_assert_cmpint(vfu_dma_access_decode(&m, false, false, &out, &data), ==, -EBADMSG);
	g_assert_cmpint(vfu_dma_access_decode(&m, false, true, &out, &data), ==, -EPROTO);
	vfu_msg_clear(&m);
}

static void test_io_fds_request(void)
{
	struct vfu_region_io_fds q = {.argsz = 16 + 40 * VFU_IO_FDS_MAX, .index = 0}, out;
	struct vfu_ioeventfd subs[VFU_IO_FDS_MAX];
	struct vfu_msg m;

	td_in(VFU_CMD_DEVICE_GET_REGION_IO_FDS, false, &q, sizeof(q), 0, &m);
	g_assert_cmpint(vfu_region_io_fds_decode(&m, false, &out, subs), ==, 0);
	g_assert_cmpuint(out.argsz, ==, q.argsz);
	vfu_msg_clear(&m);
	td_in(VFU_CMD_DEVICE_GET_REGION_IO_FDS, false, &q, sizeof(q), 1, &m);
	g_assert_cmpint(vfu_region_io_fds_decode(&m, false, &out, subs), ==, -EBADMSG);
	vfu_msg_clear(&m);
	td_in(VFU_CMD_DEVICE_GET_REGION_IO_FDS, false, &q, 8, 0, &m);
	g_assert_cmpint(vfu_region_io_fds_decode(&m, false, &out, subs), ==, -EPROTO);
	vfu_msg_clear(&m);
	q.count = 1;
	td_in(VFU_CMD_DEVICE_GET_REGION_IO_FDS, false, &q, sizeof(q), 0, &m);
	g_assert_cmpint(vfu_region_io_fds_decode(&m, false, &out, subs), ==, -EPROTO);
	vfu_msg_clear(&m);
	q.count = 0;
	q.flags = 1;
	td_in(VFU_CMD_DEVICE_GET_REGION_IO_FDS, false, &q, sizeof(q), 0, &m);
	g_assert_cmpint(vfu_region_io_fds_decode(&m, false, &out, subs), ==, -EPROTO);
	vfu_msg_clear(&m);
	q.flags = 0;
	q.argsz = 15;
	td_in(VFU_CMD_DEVICE_GET_REGION_IO_FDS, false, &q, sizeof(q), 0, &m);
	g_assert_cmpint(vfu_region_io_fds_decode(&m, false, &out, subs), ==, -EPROTO);
	vfu_msg_clear(&m);
}

struct td_io_reply {
	struct vfu_region_io_fds hdr;
	struct vfu_ioeventfd sub[VFU_IO_FDS_MAX + 1];
} __attribute__((packed));

/* A reply with n sub-regions: wildcard at 0x100 on fd 0, datamatch 0xfa at 0x101 on fd 1. */
static void td_io_reply(struct td_io_reply *r, unsigned n)
{
	memset(r, 0, sizeof(*r));
	r->hdr = (struct vfu_region_io_fds){.argsz = 16 + 40 * n, .index = 1, .count = n};
	for (unsigned i = 0; i < n; i++)
		r->sub[i] = (struct vfu_ioeventfd){.offset = 0x100 + i,
						   .size = 1,
						   .fd_index = i % 2,
						   .flags = i % 2 ? VFU_IO_FD_DATAMATCH : 0,
						   .datamatch = i % 2 ? 0xfa : 0};
}

static int td_io(const struct td_io_reply *r, size_t len, unsigned nr_fds)
{
	struct vfu_ioeventfd subs[VFU_IO_FDS_MAX];
	struct vfu_region_io_fds out;
	struct vfu_msg m;
	int ret;

	td_in(VFU_CMD_DEVICE_GET_REGION_IO_FDS, true, r, len, nr_fds, &m);
	ret = vfu_region_io_fds_decode(&m, true, &out, subs);
	if (ret == 0) {
		g_assert_cmpuint(out.count, ==, r->hdr.count);
		g_assert_true(memcmp(subs, r->sub, out.count * sizeof(subs[0])) == 0);
	}
	vfu_msg_clear(&m);
	return ret;
}

#define TD_IO(r, n, fds) td_io(&(r), 16 + 40 * (n), (fds))

static void test_io_fds_reply(void)
{
	unsigned before = tp_open_fds();
	struct td_io_reply r;

	td_io_reply(&r, 2);
	g_assert_cmpint(TD_IO(r, 2, 2), ==, 0);
	td_io_reply(&r, 0); /* no doorbells in this region: no fds */
	g_assert_cmpint(TD_IO(r, 0, 0), ==, 0);
	g_assert_cmpint(TD_IO(r, 0, 1), ==, -EBADMSG); /* an fd nobody uses */
	td_io_reply(&r, 2);
	g_assert_cmpint(TD_IO(r, 2, 3), ==, -EBADMSG);	     /* too many fds */
	g_assert_cmpint(TD_IO(r, 2, 1), ==, -EBADMSG);	     /* fd_index 1 out of range */
	g_assert_cmpint(td_io(&r, 16 + 40, 2), ==, -EPROTO); /* argsz says 2, 1 sent */
	g_assert_cmpint(td_io(&r, 8, 0), ==, -EPROTO);
	r.hdr.argsz = 16; /* "full payload not included": we always ask for room */
	g_assert_cmpint(TD_IO(r, 2, 2), ==, -EPROTO);
	td_io_reply(&r, VFU_IO_FDS_MAX + 1);
	g_assert_cmpint(TD_IO(r, VFU_IO_FDS_MAX + 1, 2), ==, -EPROTO); /* too many subs */
	td_io_reply(&r, 2);
	r.hdr.flags = 1;
	g_assert_cmpint(TD_IO(r, 2, 2), ==, -EPROTO);
	td_io_reply(&r, 2);
	r.sub[1].type = 1; /* ioregionfd: not supported */
	g_assert_cmpint(TD_IO(r, 2, 2), ==, -EPROTO);
	td_io_reply(&r, 2);
	r.sub[1].flags |= 1u << 1; /* KVM_IOEVENTFD_FLAG_PIO is the client's to choose */
	g_assert_cmpint(TD_IO(r, 2, 2), ==, -EPROTO);
	td_io_reply(&r, 2);
	r.sub[0].padding = 1;
	g_assert_cmpint(TD_IO(r, 2, 2), ==, -EPROTO);
	for (uint64_t sz = 0; sz < 10; sz++) {
		if (sz == 1 || sz == 2 || sz == 4 || sz == 8)
			continue;
		td_io_reply(&r, 2);
		r.sub[0].size = sz; /* bad sizes, including 0 */
		g_assert_cmpint(TD_IO(r, 2, 2), ==, -EPROTO);
	}
	td_io_reply(&r, 2);
	r.sub[0].offset = UINT64_MAX; /* offset + size wraps */
	g_assert_cmpint(TD_IO(r, 2, 2), ==, -EPROTO);
	td_io_reply(&r, 2);
	r.sub[0].datamatch = 1; /* a value without the flag */
	g_assert_cmpint(TD_IO(r, 2, 2), ==, -EPROTO);
	td_io_reply(&r, 2);
	r.sub[1].datamatch = 0x1fa; /* wider than size 1 */
	g_assert_cmpint(TD_IO(r, 2, 2), ==, -EPROTO);
	r.sub[1].size = 8;
	r.sub[1].datamatch = UINT64_MAX; /* fine at size 8 */
	g_assert_cmpint(TD_IO(r, 2, 2), ==, 0);
	td_io_reply(&r, 2);
	r.sub[1].fd_index = 0; /* two share fd 0; fd 1 unused */
	g_assert_cmpint(TD_IO(r, 2, 2), ==, -EBADMSG);
	g_assert_cmpint(TD_IO(r, 2, 1), ==, 0); /* sharing one fd is fine */
	g_assert_cmpuint(tp_open_fds(), ==, before);
}

/* --- vfu_call_dma: DMA_READ/DMA_WRITE served while waiting for a reply --------- */

#define TD_BASE 0x1000u

struct td_ram {
	uint8_t b[64];
	unsigned calls;
};

static int td_ram_check(uint64_t addr, uint64_t count)
{
	return addr >= TD_BASE && count <= 64 && addr - TD_BASE <= 64 - count ? 0 : -EFAULT;
}

static int td_ram_read(void *ctx, uint64_t addr, void *buf, uint64_t count)
{
	struct td_ram *r = ctx;
	int ret = td_ram_check(addr, count);

	r->calls++;
	if (ret == 0)
		memcpy(buf, r->b + (addr - TD_BASE), count);
	return ret;
}

static int td_ram_write(void *ctx, uint64_t addr, const void *buf, uint64_t count)
{
	struct td_ram *r = ctx;
	int ret = td_ram_check(addr, count);

	r->calls++;
	if (ret == 0)
		memcpy(r->b + (addr - TD_BASE), buf, count);
	return ret;
}

/* Queue a DMA command from the "server": address, count, then len data bytes. */
static void td_dma_cmd(int sock, uint16_t id, bool write, uint32_t flags, uint64_t addr,
		       uint64_t count, const void *data, size_t len, int fd)
{
	uint8_t buf[16 + 64];
	struct vfu_dma_access a = {addr, count};

	g_assert_cmpuint(len, <=, 64);
	memcpy(buf, &a, sizeof(a));
	if (len)
		memcpy(buf + sizeof(a), data, len);
	tp_msg(sock, id, write ? VFU_CMD_DMA_WRITE : VFU_CMD_DMA_READ, VFU_F_TYPE_COMMAND | flags,
	       0, buf, sizeof(a) + len, 0, &fd, fd >= 0 ? 1 : 0);
}

/* The reply the client sent to DMA command id: its error, payload in m. */
static uint32_t td_dma_reply(int sock, uint16_t id, uint16_t cmd, struct vfu_msg *m)
{
	g_assert_cmpint(vfu_recv(sock, m, VFU_MAX_MSG), ==, 0);
	g_assert_cmpuint(m->hdr.msg_id, ==, id);
	g_assert_cmpuint(m->hdr.cmd, ==, cmd);
	g_assert_cmpuint(m->hdr.flags & VFU_F_TYPE_MASK, ==, VFU_F_TYPE_REPLY);
	return m->hdr.flags & VFU_F_ERROR ? m->hdr.error : 0;
}

/* Call GET_INFO (id 50) with the given DMA commands queued before its reply. */
static int td_call(int sv[2], const struct vfu_dma_handler *dma, struct vfu_msg *reply)
{
	struct vfu_device_info req = {.argsz = 16},
			       di = {.argsz = 16, .flags = VFU_DEV_FLAG_PCI, .num_regions = 9};
	uint16_t next = 50;
	struct vfu_msg got;
	int ret;

	tp_msg(sv[1], 50, VFU_CMD_DEVICE_GET_INFO, VFU_F_TYPE_REPLY, 0, &di, sizeof(di), 0, NULL,
	       0);
	ret = vfu_call_dma(sv[0], &next, dma, VFU_CMD_DEVICE_GET_INFO, &req, sizeof(req), NULL, 0,
			   reply);
	g_assert_cmpint(vfu_recv(sv[1], &got, VFU_MAX_MSG), ==, 0); /* our request */
	g_assert_cmpuint(got.hdr.cmd, ==, VFU_CMD_DEVICE_GET_INFO);
	vfu_msg_clear(&got);
	return ret;
}

static void test_call_dma(void)
{
	struct td_ram ram = {.calls = 0};
	struct vfu_dma_handler dma = {td_ram_read, td_ram_write, &ram};
	struct vfu_dma_access a;
	struct vfu_msg r, m;
	int sv[2];

	memcpy(ram.b, "0123456789", 10);
	tp_socketpair(sv);
	td_dma_cmd(sv[1], 1, true, 0, TD_BASE + 8, 4, "abcd", 4, -1);
	td_dma_cmd(sv[1], 2, false, 0, TD_BASE, 12, NULL, 0, -1);
	td_dma_cmd(sv[1], 3, false, 0, TD_BASE + 62, 4, NULL, 0, -1);	 /* past the region */
	td_dma_cmd(sv[1], 4, true, 0, UINT64_MAX - 8, 4, "wxyz", 4, -1); /* not exported */
	td_dma_cmd(sv[1], 5, true, VFU_F_NO_REPLY, TD_BASE + 20, 2, "!!", 2, -1);
	g_assert_cmpint(td_call(sv, &dma, &r), ==, 0);
	g_assert_cmpuint(r.hdr.cmd, ==, VFU_CMD_DEVICE_GET_INFO);
	vfu_msg_clear(&r);
	g_assert_cmpuint(ram.calls, ==, 5);
	g_assert_cmpmem(ram.b, 12, "01234567abcd", 12);
	g_assert_cmpmem(ram.b + 20, 2, "!!", 2);
	g_assert_cmpuint(td_dma_reply(sv[1], 1, VFU_CMD_DMA_WRITE, &m), ==, 0);
	g_assert_cmpint(vfu_dma_access_decode(&m, true, true, &a, &(const uint8_t *){NULL}), ==, 0);
	g_assert_cmpuint(a.address, ==, TD_BASE + 8);
	vfu_msg_clear(&m);
	g_assert_cmpuint(td_dma_reply(sv[1], 2, VFU_CMD_DMA_READ, &m), ==, 0);
	g_assert_cmpuint(m.len, ==, 16 + 12);
	g_assert_cmpmem(m.payload + 16, 12, "01234567abcd", 12);
	vfu_msg_clear(&m);
	g_assert_cmpuint(td_dma_reply(sv[1], 3, VFU_CMD_DMA_READ, &m), ==, EFAULT);
	vfu_msg_clear(&m);
	g_assert_cmpuint(td_dma_reply(sv[1], 4, VFU_CMD_DMA_WRITE, &m), ==, EFAULT);
	vfu_msg_clear(&m);
	g_assert_cmpint(vfu_recv_nowait(sv[1], &m, VFU_MAX_MSG), ==, -EAGAIN); /* none for 5 */
	close(sv[0]);
	close(sv[1]);
}

static void test_call_dma_bad(void)
{
	struct td_ram ram = {.calls = 0};
	struct vfu_dma_handler dma = {td_ram_read, td_ram_write, &ram};
	unsigned before = tp_open_fds();
	struct vfu_msg r;
	int sv[2], fd;

	for (unsigned i = 0; i < 5; i++) {
		tp_socketpair(sv);
		fd = tp_eventfd();
		if (i == 0) /* count 0 */
			td_dma_cmd(sv[1], 1, false, 0, TD_BASE, 0, NULL, 0, -1);
		if (i == 1) /* data missing */
			td_dma_cmd(sv[1], 1, true, 0, TD_BASE, 8, "abcd", 4, -1);
		if (i == 2) /* an fd */
			td_dma_cmd(sv[1], 1, false, 0, TD_BASE, 4, NULL, 0, fd);
		if (i == 3) /* another command from the server */
			tp_msg(sv[1], 1, VFU_CMD_REGION_READ, VFU_F_TYPE_COMMAND, 0,
			       &(struct vfu_region_access){0, 0, 4}, 16, 0, NULL, 0);
		if (i == 4) /* wraps */
			td_dma_cmd(sv[1], 1, false, 0, UINT64_MAX - 1, 4, NULL, 0, -1);
		g_assert_cmpint(td_call(sv, &dma, &r), ==, -EPROTO);
		g_assert_null(r.payload);
		close(fd);
		close(sv[0]);
		close(sv[1]);
	}
	g_assert_cmpuint(ram.calls, ==, 0);
	/* Without a handler (plain vfu_call), a DMA command is a protocol error. */
	tp_socketpair(sv);
	td_dma_cmd(sv[1], 1, true, 0, TD_BASE, 4, "abcd", 4, -1);
	g_assert_cmpint(td_call(sv, NULL, &r), ==, -EPROTO);
	close(sv[0]);
	close(sv[1]);
	g_assert_cmpuint(tp_open_fds(), ==, before);
}

/*
 * vfu_dma_reply_check() on a message with id 7 as received from a real socket.  The data
 * it points at lives in the message, so a read reply's first 8 bytes are copied to
 * td_data before the message is freed and *data points there.
 */
static uint8_t td_data[8];

static int td_reply_check(uint16_t cmd, uint32_t flags, uint32_t error, const void *p,
			  size_t len, unsigned nr_fds, bool write, uint64_t addr, uint64_t count,
			  const uint8_t **data)
{
	int sv[2], fd = tp_eventfd(), ret;
	struct vfu_msg m;

	tp_socketpair(sv);
	tp_msg(sv[0], 7, cmd, flags, error, p, len, 0, &fd, nr_fds);
	g_assert_cmpint(vfu_recv(sv[1], &m, VFU_MAX_MSG), ==, 0);
	*data = NULL;
	ret = vfu_dma_reply_check(&m, 7, write, addr, count, data);
	if (ret == 0 && !write) {
		memcpy(td_data, *data, MIN(count, sizeof(td_data)));
		*data = td_data;
	}
	vfu_msg_clear(&m);
	close(fd);
	close(sv[0]);
	close(sv[1]);
	return ret;
}

/* The server's check of the client's reply to its DMA_READ/DMA_WRITE, every branch. */
static void test_dma_reply_check(void)
{
	struct {
		struct vfu_dma_access a;
		char d[8];
	} __attribute__((packed)) r = {{0x4000, 8}, "readback"};
	const uint16_t rd = VFU_CMD_DMA_READ, wr = VFU_CMD_DMA_WRITE;
	const uint32_t rep = VFU_F_TYPE_REPLY, err = VFU_F_TYPE_REPLY | VFU_F_ERROR;
	unsigned before = tp_open_fds();
	const uint8_t *data = NULL;

	g_assert_cmpint(td_reply_check(rd, rep, 0, &r, 24, 0, false, 0x4000, 8, &data), ==, 0);
	g_assert_cmpmem(data, 8, "readback", 8);
	g_assert_cmpint(td_reply_check(wr, rep, 0, &r, 16, 0, true, 0x4000, 8, &data), ==, 0);
	g_assert_cmpint(td_reply_check(rd, err, EFAULT, NULL, 0, 0, false, 0x4000, 8, &data), ==,
			-EFAULT);
	g_assert_cmpint(td_reply_check(rd, err, 0, NULL, 0, 0, false, 0x4000, 8, &data), ==, -EIO);
	g_assert_cmpint(td_reply_check(rd, err, 4096, NULL, 0, 0, false, 0x4000, 8, &data), ==,
			-EPROTO);
	/* A command where the reply was due; another command, address or count. */
	g_assert_cmpint(td_reply_check(rd, VFU_F_TYPE_COMMAND, 0, &r, 16, 0, false, 0x4000, 8,
				       &data),
			==, -EPROTO);
	g_assert_cmpint(td_reply_check(wr, rep, 0, &r, 16, 0, false, 0x4000, 8, &data), ==,
			-EPROTO);
	g_assert_cmpint(td_reply_check(rd, rep, 0, &r, 24, 0, false, 0x5000, 8, &data), ==,
			-EPROTO);
	g_assert_cmpint(td_reply_check(rd, rep, 0, &r, 24, 0, false, 0x4000, 4, &data), ==,
			-EPROTO);
	/* Payload: read data missing, write data present; an fd (closed with the message). */
	g_assert_cmpint(td_reply_check(rd, rep, 0, &r, 16, 0, false, 0x4000, 8, &data), ==,
			-EPROTO);
	g_assert_cmpint(td_reply_check(wr, rep, 0, &r, 24, 0, true, 0x4000, 8, &data), ==,
			-EPROTO);
	g_assert_cmpint(td_reply_check(rd, rep, 0, &r, 24, 1, false, 0x4000, 8, &data), ==,
			-EBADMSG);
	g_assert_cmpuint(tp_open_fds(), ==, before);
}

void tp_add_dma_tests(void)
{
	g_test_add_func("/protocol/dma/call-dma", test_call_dma);
	g_test_add_func("/protocol/dma/call-dma-malformed", test_call_dma_bad);
	g_test_add_func("/protocol/dma/map-request", test_dma_map_request);
	g_test_add_func("/protocol/dma/map-reply", test_dma_map_reply);
	g_test_add_func("/protocol/dma/unmap", test_dma_unmap);
	g_test_add_func("/protocol/dma/access", test_dma_access);
	g_test_add_func("/protocol/dma/reply-check", test_dma_reply_check);
	g_test_add_func("/protocol/io-fds/request", test_io_fds_request);
	g_test_add_func("/protocol/io-fds/reply", test_io_fds_reply);
}
