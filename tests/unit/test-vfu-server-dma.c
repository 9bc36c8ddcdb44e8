// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for the remote's guest-memory and doorbell commands (remote/dmamap.c,
 * remote/doorbells.c through vfu_server.c): DMA_MAP of a sealed memfd that the device
 * then reaches through dev->env.mem, DMA_UNMAP, every refusal (bad fields, missing or
 * extra fds, overlap, unmapping what is not mapped, unsupported flags), and
 * GET_REGION_IO_FDS handing out pci-testdev's doorbell eventfds, which count as the
 * device's writes when rung.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/unit/vfx.h"

/* The registry this test binary links (remote/misc.c's is in the executable). */
const struct dev_ops *const dev_table[] = {&pci_testdev_ops, NULL};

#define PG 4096ULL

static int td_memfd(uint64_t size, bool seal)
{
	int fd = memfd_create("test-dma", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, (off_t)size), ==, 0);
	if (seal)
		g_assert_cmpint(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), ==, 0);
	return fd;
}

/* DMA_MAP of [addr, addr + size) at file offset off; returns the reply's error. */
static uint32_t td_map(struct vfx *f, uint64_t addr, uint64_t size, uint64_t off, uint32_t flags,
		       int fd)
{
	struct vfu_dma_map d = {
		.argsz = sizeof(d), .flags = flags, .offset = off, .address = addr, .size = size};
	struct vfu_msg m;
	uint32_t err;

	vfx_raw_send(f, VFU_CMD_DMA_MAP, VFU_F_TYPE_COMMAND, 0, 0, &d, sizeof(d), &fd,
		     fd >= 0 ? 1 : 0);
	vfx_serve(f, true);
	err = vfx_get_reply(f, VFU_CMD_DMA_MAP, &m);
	g_assert_cmpuint(m.len, ==, 0);
	vfu_msg_clear(&m);
	return err;
}

static uint32_t td_unmap(struct vfx *f, uint64_t addr, uint64_t size, uint32_t flags)
{
	struct vfu_dma_unmap d = {.argsz = sizeof(d),
				  .flags = flags,
				  .address = addr,
				  .size = size},
			     got;
	struct vfu_msg m;
	uint32_t err;

	vfx_raw_send(f, VFU_CMD_DMA_UNMAP, VFU_F_TYPE_COMMAND, 0, 0, &d, sizeof(d), NULL, 0);
	vfx_serve(f, true);
	err = vfx_get_reply(f, VFU_CMD_DMA_UNMAP, &m);
	if (!err) {
		g_assert_cmpint(vfu_dma_unmap_decode(&m, true, &got), ==, 0);
		g_assert_true(memcmp(&got, &d, sizeof(d)) == 0); /* the original entry */
	}
	vfu_msg_clear(&m);
	return err;
}

static void test_map_unmap(struct vfx *f, gconstpointer data)
{
	int fd = td_memfd(8 * PG, true);
	uint8_t *vmm = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char buf[4];

	g_assert_true(vmm != MAP_FAILED);
	vfx_handshake(f);
	g_assert_nonnull(f->dev->env.mem); /* the device sees this connection's memory */
	memcpy(vmm + 2 * PG, "ping", 4);
	g_assert_cmpuint(
		td_map(f, 0x100000, 4 * PG, 2 * PG, VFU_DMA_MAP_READ | VFU_DMA_MAP_WRITE, fd), ==,
		0);
	g_assert_cmpint(gmem_read(f->dev->env.mem, 0x100000, buf, 4), ==, 0);
	g_assert_cmpmem(buf, 4, "ping", 4);
	g_assert_cmpint(gmem_write(f->dev->env.mem, 0x100000 + PG, "pong", 4), ==, 0);
	g_assert_cmpmem(vmm + 3 * PG, 4, "pong", 4);
	g_assert_cmpint(gmem_read(f->dev->env.mem, 0x100000 + 4 * PG, buf, 1), ==, -EFAULT);
	/* Read-only mapping: readable, not writable. */
	g_assert_cmpuint(td_map(f, 0x200000, PG, 0, VFU_DMA_MAP_READ, fd), ==, 0);
	g_assert_cmpint(gmem_write(f->dev->env.mem, 0x200000, "x", 1), ==, -EFAULT);
	g_assert_cmpint(gmem_read(f->dev->env.mem, 0x200000, buf, 1), ==, 0);
	/* Refusals that keep the connection. */
	g_assert_cmpuint(td_map(f, 0x100000 + PG, PG, 0, VFU_DMA_MAP_READ, fd), ==, EEXIST);
	g_assert_cmpuint(td_map(f, 0x300000, 16 * PG, 0, VFU_DMA_MAP_READ, fd), ==, EINVAL);
	/* Without an fd: accepted, never mapped, overlaps refused all the same. */
	g_assert_cmpuint(td_map(f, 0x300000, PG, 0, VFU_DMA_MAP_READ, -1), ==, 0);
	g_assert_null(gmem_translate_read(f->dev->env.mem, 0x300000, 1));
	g_assert_true(gmem_contains(f->dev->env.mem, 0x300000, PG, false));
	g_assert_false(gmem_contains(f->dev->env.mem, 0x300000, 1, true)); /* read-only */
	g_assert_cmpuint(td_map(f, 0x300000, PG, 0, VFU_DMA_MAP_READ, -1), ==, EEXIST);
	g_assert_cmpuint(td_map(f, 0x300000, PG, 0, VFU_DMA_MAP_READ, fd), ==, EEXIST);
	g_assert_cmpuint(td_unmap(f, 0x300000, PG, 0), ==, 0);
	g_assert_false(gmem_contains(f->dev->env.mem, 0x300000, 1, false));
	g_assert_cmpuint(td_unmap(f, 0x100000, PG, 0), ==, ENOENT); /* not exact */
	g_assert_cmpuint(td_unmap(f, 0x400000, PG, 0), ==, ENOENT); /* not mapped */
	g_assert_cmpuint(td_unmap(f, 0x100000, 4 * PG, VFU_DMA_UNMAP_ALL), ==, ENOTSUP);
	g_assert_cmpuint(td_unmap(f, 0x100000, 4 * PG, VFU_DMA_UNMAP_GET_DIRTY_BITMAP), ==,
			 ENOTSUP);
	g_assert_cmpuint(td_unmap(f, 0x100000, 4 * PG, 0), ==, 0);
	g_assert_cmpint(gmem_read(f->dev->env.mem, 0x100000, buf, 1), ==, -EFAULT);
	g_assert_cmpuint(td_unmap(f, 0x100000, 4 * PG, 0), ==, ENOENT); /* twice */
	munmap(vmm, 8 * PG);
	close(fd);
}

static void test_map_unsealed(struct vfx *f, gconstpointer data)
{
	int fd = td_memfd(PG, false);

	vfx_handshake(f);
	g_assert_cmpuint(td_map(f, 0, PG, 0, VFU_DMA_MAP_READ, fd), ==, EPERM);
	close(fd);
}

/* Malformed DMA_MAP/DMA_UNMAP: a warning, an error reply, the connection closed. */
static void td_map_bad(struct vfx *f, const struct vfu_dma_map *d, size_t len, unsigned nr_fds)
{
	int fds[2] = {td_memfd(PG, true), td_memfd(PG, true)};

	vfx_handshake(f);
	vfx_raw_send(f, VFU_CMD_DMA_MAP, VFU_F_TYPE_COMMAND, 0, 0, d, len, fds, nr_fds);
	vfx_expect_error(f, VFU_CMD_DMA_MAP, EINVAL, false);
	close(fds[0]);
	close(fds[1]);
}

static void test_map_bad(gconstpointer data)
{
	const struct vfu_dma_map good = {
		.argsz = 32, .flags = VFU_DMA_MAP_READ, .address = 0, .size = PG};
	struct vfu_dma_map bad[] = {good, good, good, good, good, good};
	struct vfx f;

	bad[0].size = 0;
	bad[1].size = PG + 1;
	bad[2].address = UINT64_MAX - PG + 1;
	bad[3].offset = 8; /* unaligned */
	bad[4].argsz = 40;
	bad[5].flags = 0x10;
	for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
		vfx_setup(&f, NULL);
		td_map_bad(&f, &bad[i], sizeof(bad[i]), 1);
		vfx_teardown(&f, NULL);
	}
	/* The same without an fd (a region for DMA_READ/DMA_WRITE) is just as malformed. */
	for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
		vfx_setup(&f, NULL);
		td_map_bad(&f, &bad[i], sizeof(bad[i]), 0);
		vfx_teardown(&f, NULL);
	}
	bad[0] = good;
	bad[0].offset = PG; /* a file offset without a file */
	vfx_setup(&f, NULL);
	td_map_bad(&f, &bad[0], sizeof(bad[0]), 0);
	vfx_teardown(&f, NULL);
	vfx_setup(&f, NULL); /* two fds */
	td_map_bad(&f, &good, sizeof(good), 2);
	vfx_teardown(&f, NULL);
	vfx_setup(&f, NULL); /* short */
	td_map_bad(&f, &good, sizeof(good) - 8, 1);
	vfx_teardown(&f, NULL);
}

static void test_unmap_bad(struct vfx *f, gconstpointer data)
{
	struct vfu_dma_unmap d = {.argsz = 24, .address = 0, .size = 3};

	vfx_handshake(f);
	vfx_raw_send(f, VFU_CMD_DMA_UNMAP, VFU_F_TYPE_COMMAND, 0, 0, &d, sizeof(d), NULL, 0);
	vfx_expect_error(f, VFU_CMD_DMA_UNMAP, EINVAL, false);
}

/* GET_REGION_IO_FDS of region index with room for `room` sub-regions. */
static uint32_t td_io_fds(struct vfx *f, uint32_t index, unsigned room, struct vfu_msg *m)
{
	struct vfu_region_io_fds q = {.argsz = 16 + 40 * room, .index = index};

	vfx_raw_send(f, VFU_CMD_DEVICE_GET_REGION_IO_FDS, VFU_F_TYPE_COMMAND, 0, 0, &q, sizeof(q),
		     NULL, 0);
	vfx_serve(f, true);
	return vfx_get_reply(f, VFU_CMD_DEVICE_GET_REGION_IO_FDS, m);
}

static void test_io_fds(struct vfx *f, gconstpointer data)
{
	struct vfu_ioeventfd subs[VFU_IO_FDS_MAX];
	struct vfu_region_io_fds r;
	struct vfu_msg m;
	uint64_t one = 1;

	vfx_handshake(f);
	g_assert_cmpuint(td_io_fds(f, 0, VFU_IO_FDS_MAX, &m), ==, 0);
	g_assert_cmpint(vfu_region_io_fds_decode(&m, true, &r, subs), ==, 0);
	g_assert_cmpuint(r.count, ==, 2); /* mmio wildcard and datamatch */
	g_assert_cmpuint(m.nr_fds, ==, 2);
	g_assert_cmpuint(subs[0].offset, ==, 2048 + 1);
	g_assert_cmpuint(subs[0].flags, ==, 0);
	g_assert_cmpuint(subs[1].offset, ==, 2048 + 2);
	g_assert_cmpuint(subs[1].flags, ==, VFU_IO_FD_DATAMATCH);
	g_assert_cmphex(subs[1].datamatch, ==, 0xfa);
	/* Ring the wildcard doorbell of the running "mmio-wildcard-eventfd" test twice. */
	vfx_wr(f, 0, 0, 1, 1);
	g_assert_cmpint(write(m.fds[subs[0].fd_index], &one, 8), ==, 8);
	g_assert_cmpint(write(m.fds[subs[0].fd_index], &one, 8), ==, 8);
	g_assert_cmpuint(vfx_rd(f, 0, 12, 4), ==, 2); /* drained before the read */
	g_assert_cmpint(write(m.fds[subs[1].fd_index], &one, 8), ==, 8); /* another test's */
	g_assert_true(vfu_server_poll_doorbells(f->srv));
	g_assert_false(vfu_server_poll_doorbells(f->srv));
	g_assert_cmpuint(vfx_rd(f, 0, 12, 4), ==, 2);
	vfu_msg_clear(&m);
	g_assert_cmpuint(td_io_fds(f, 1, VFU_IO_FDS_MAX, &m), ==, 0); /* the I/O BAR */
	g_assert_cmpint(vfu_region_io_fds_decode(&m, true, &r, subs), ==, 0);
	g_assert_cmpuint(r.count, ==, 2);
	g_assert_cmpuint(subs[0].offset, ==, 128 + 4);
	vfu_msg_clear(&m);
	g_assert_cmpuint(td_io_fds(f, 7, VFU_IO_FDS_MAX, &m), ==, 0); /* config: none */
	g_assert_cmpint(vfu_region_io_fds_decode(&m, true, &r, subs), ==, 0);
	g_assert_cmpuint(r.count, ==, 0);
	vfu_msg_clear(&m);
	g_assert_cmpuint(td_io_fds(f, 0, 1, &m), ==, 0); /* no room: count and argsz only */
	g_assert_cmpuint(m.len, ==, 16);
	g_assert_cmpuint(m.nr_fds, ==, 0);
	memcpy(&r, m.payload, sizeof(r));
	g_assert_cmpuint(r.argsz, ==, 16 + 2 * 40);
	g_assert_cmpuint(r.count, ==, 2);
	vfu_msg_clear(&m);
	g_assert_cmpuint(td_io_fds(f, 9, VFU_IO_FDS_MAX, &m), ==, EINVAL);
	vfu_msg_clear(&m);
}

static void test_io_fds_bad(struct vfx *f, gconstpointer data)
{
	struct vfu_region_io_fds q = {.argsz = 16, .index = 0, .count = 3};

	vfx_handshake(f);
	vfx_raw_send(f, VFU_CMD_DEVICE_GET_REGION_IO_FDS, VFU_F_TYPE_COMMAND, 0, 0, &q, sizeof(q),
		     NULL, 0);
	vfx_expect_error(f, VFU_CMD_DEVICE_GET_REGION_IO_FDS, EINVAL, false);
}

/*
 * A device that declares doorbells badly (absent BAR, past the end, bad size, data
 * wider than the size) or too many for one region: the bad ones are skipped with a
 * warning, and at most VFU_MAX_FDS per region are offered (the rest stay writes).
 */
static void test_doorbells_declared(void)
{
	static struct dev_doorbell table[4 + 10];
	struct vfu_ioeventfd subs[VFU_IO_FDS_MAX];
	struct vfu_region_io_fds r;
	const struct dev_doorbell *saved;
	unsigned saved_nr;
	struct vfu_msg m;
	struct vfx f;

	table[0] = (struct dev_doorbell){.bar = 5, .off = 0, .size = 1};
	table[1] = (struct dev_doorbell){.bar = 0, .off = 4095, .size = 2};
	table[2] = (struct dev_doorbell){.bar = 0, .off = 8, .size = 3};
	table[3] = (struct dev_doorbell){
		.bar = 0, .off = 8, .size = 1, .datamatch = true, .data = 0x100};
	for (unsigned i = 0; i < 10; i++)
		table[4 + i] = (struct dev_doorbell){.bar = 0, .off = 16 + i, .size = 1};
	vfx_setup(&f, NULL);
	vfu_server_destroy(f.srv);
	saved = f.dev->doorbells;
	saved_nr = f.dev->nr_doorbells;
	f.dev->doorbells = table;
	f.dev->nr_doorbells = G_N_ELEMENTS(table);
	for (unsigned i = 0; i < 4; i++)
		g_test_expect_message("remote", G_LOG_LEVEL_WARNING,
				      "*t0: doorbell*inside its BAR*");
	g_assert_cmpint(vfu_server_create(f.dev, f.srv_sock, &f.srv), ==, 0);
	g_test_assert_expected_messages();
	vfx_handshake(&f);
	g_assert_cmpuint(td_io_fds(&f, 0, VFU_IO_FDS_MAX, &m), ==, 0);
	g_assert_cmpint(vfu_region_io_fds_decode(&m, true, &r, subs), ==, 0);
	g_assert_cmpuint(r.count, ==, VFU_MAX_FDS);
	g_assert_cmpuint(subs[0].offset, ==, 16);
	vfu_msg_clear(&m);
	vfu_server_destroy(f.srv);
	f.dev->doorbells = saved;
	f.dev->nr_doorbells = saved_nr;
	g_assert_cmpint(vfu_server_create(f.dev, f.srv_sock, &f.srv), ==, 0);
	vfx_teardown(&f, NULL);
}

/* A flood of rings between two drains is delivered up to a bound, not forever. */
static void test_doorbell_flood(struct vfx *f, gconstpointer data)
{
	struct vfu_ioeventfd subs[VFU_IO_FDS_MAX];
	struct vfu_region_io_fds r;
	uint64_t many = 100000;
	struct vfu_msg m;

	vfx_handshake(f);
	g_assert_cmpuint(td_io_fds(f, 0, VFU_IO_FDS_MAX, &m), ==, 0);
	g_assert_cmpint(vfu_region_io_fds_decode(&m, true, &r, subs), ==, 0);
	vfx_wr(f, 0, 0, 1, 1);
	g_assert_cmpint(write(m.fds[subs[0].fd_index], &many, 8), ==, 8);
	g_assert_cmpuint(vfx_rd(f, 0, 12, 4), ==, 65536);
	vfu_msg_clear(&m);
}

/* A DMA reply from the client end, queued before the device's access sends the command. */
static void td_dma_reply(struct vfx *f, uint16_t id, bool write, uint64_t addr, uint64_t count,
			 const void *data)
{
	uint8_t p[16 + 64];

	g_assert_cmpuint(count, <=, 64);
	memcpy(p, &(struct vfu_dma_access){ addr, count }, 16);
	if (!write)
		memcpy(p + 16, data, count);
	g_assert_cmpint(vfu_send(f->cli, id, write ? VFU_CMD_DMA_WRITE : VFU_CMD_DMA_READ,
				 VFU_F_TYPE_REPLY, 0, p, 16 + (write ? 0 : count), NULL, 0), ==, 0);
}

/* The DMA command the device sent on the server's socket. */
static void td_dma_cmd(struct vfx *f, uint16_t id, bool write, uint64_t addr, uint64_t count)
{
	struct vfu_dma_access a;
	const uint8_t *data;
	struct vfu_msg m;

	g_assert_cmpint(vfu_recv(f->cli, &m, VFU_MAX_MSG), ==, 0);
	g_assert_cmpuint(m.hdr.msg_id, ==, id);
	g_assert_cmpint(vfu_dma_access_decode(&m, false, write, &a, &data), ==, 0);
	g_assert_cmphex(a.address, ==, addr);
	g_assert_cmpuint(a.count, ==, count);
	vfu_msg_clear(&m);
}

/*
 * DMA_MAP without an fd: the device's gmem_read/gmem_write there are DMA_READ/DMA_WRITE
 * on the connection's socket, chunked at the max_data_xfer_size of the client's VERSION;
 * a client command that crosses a DMA command is served at the server's next turn.
 */
static void test_map_by_message(struct vfx *f, gconstpointer data)
{
	struct vfu_caps caps = { .major = VFU_VERSION_MAJOR, .minor = VFU_VERSION_MINOR,
				 .max_msg_fds = 1, .max_data_xfer_size = 16, .device_id = "t0" };
	g_autofree uint8_t *p = NULL;
	struct vfu_msg m;
	uint8_t buf[40];
	size_t len;

	g_assert_cmpint(vfu_version_encode(&caps, &p, &len), ==, 0);
	vfx_raw_send(f, VFU_CMD_VERSION, VFU_F_TYPE_COMMAND, 0, 0, p, len, NULL, 0);
	vfx_serve(f, true);
	g_assert_cmpuint(vfx_get_reply(f, VFU_CMD_VERSION, &m), ==, 0);
	vfu_msg_clear(&m);
	g_assert_cmpuint(td_map(f, 0x10000, PG, 0, VFU_DMA_MAP_READ | VFU_DMA_MAP_WRITE, -1), ==,
			 0);
	g_assert_null(gmem_translate(f->dev->env.mem, 0x10000, 1));
	/* 40 bytes read: 16 + 16 + 8. */
	td_dma_reply(f, 0, false, 0x10010, 16, "0123456789abcdef");
	td_dma_reply(f, 1, false, 0x10020, 16, "ghijklmnopqrstuv");
	td_dma_reply(f, 2, false, 0x10030, 8, "wxyz!?#$");
	g_assert_cmpint(gmem_read(f->dev->env.mem, 0x10010, buf, 40), ==, 0);
	g_assert_cmpmem(buf, 40, "0123456789abcdefghijklmnopqrstuvwxyz!?#$", 40);
	td_dma_cmd(f, 0, false, 0x10010, 16);
	td_dma_cmd(f, 1, false, 0x10020, 16);
	td_dma_cmd(f, 2, false, 0x10030, 8);
	/* Outside the region: refused locally, nothing sent. */
	g_assert_cmpint(gmem_read(f->dev->env.mem, 0x10000 + PG - 4, buf, 8), ==, -EFAULT);
	/* A config read crossing a DMA_WRITE: kept, then answered by the next handle. */
	vfx_raw_send(f, VFU_CMD_REGION_READ, VFU_F_TYPE_COMMAND, 0, 0,
		     &(struct vfu_region_access){ 0, VFU_PCI_CONFIG_REGION, 4 }, 16, NULL, 0);
	td_dma_reply(f, 3, true, 0x10000, 4, NULL);
	g_assert_cmpint(gmem_write(f->dev->env.mem, 0x10000, "dev!", 4), ==, 0);
	td_dma_cmd(f, 3, true, 0x10000, 4);
	g_assert_cmpint(vfu_server_handle(f->srv, true), ==, 0);
	g_assert_cmpuint(vfx_get_reply(f, VFU_CMD_REGION_READ, &m), ==, 0);
	g_assert_cmpuint(m.len, ==, 16 + 4);
	g_assert_cmpmem(m.payload + 16, 4, "\x36\x1b\x05\x00", 4); /* pci-testdev's IDs */
	vfu_msg_clear(&m);
	g_assert_cmpint(vfu_server_handle(f->srv, true), ==, -EAGAIN);
	g_assert_cmpuint(td_unmap(f, 0x10000, PG, 0), ==, 0);
}

/* A broken DMA reply fails the access and closes the connection at the next handle. */
static void test_map_by_message_broken(struct vfx *f, gconstpointer data)
{
	uint8_t buf[4];

	vfx_handshake(f);
	g_assert_cmpuint(td_map(f, 0x10000, PG, 0, VFU_DMA_MAP_READ, -1), ==, 0);
	td_dma_reply(f, 5, false, 0x10000, 4, "nope"); /* not our message ID */
	g_test_expect_message("remote", G_LOG_LEVEL_WARNING, "t0: DMA_READ*failed*");
	g_assert_cmpint(gmem_read(f->dev->env.mem, 0x10000, buf, 4), ==, -EIO);
	g_test_assert_expected_messages();
	td_dma_cmd(f, 0, false, 0x10000, 4);
	g_assert_cmpint(vfu_server_handle(f->srv, true), ==, -EPROTO);
}

static void td_add(const char *path, void (*fn)(struct vfx *, gconstpointer))
{
	g_test_add(path, struct vfx, NULL, vfx_setup, fn, vfx_teardown);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	td_add("/remote/vfu-server/dma/map-unmap", test_map_unmap);
	td_add("/remote/vfu-server/dma/map-unsealed", test_map_unsealed);
	td_add("/remote/vfu-server/dma/map-by-message", test_map_by_message);
	td_add("/remote/vfu-server/dma/map-by-message-broken", test_map_by_message_broken);
	g_test_add_data_func("/remote/vfu-server/dma/map-malformed", NULL, test_map_bad);
	td_add("/remote/vfu-server/dma/unmap-malformed", test_unmap_bad);
	td_add("/remote/vfu-server/io-fds/doorbells", test_io_fds);
	td_add("/remote/vfu-server/io-fds/malformed", test_io_fds_bad);
	td_add("/remote/vfu-server/io-fds/flood", test_doorbell_flood);
	g_test_add_func("/remote/vfu-server/io-fds/declared", test_doorbells_declared);
	return g_test_run();
}
