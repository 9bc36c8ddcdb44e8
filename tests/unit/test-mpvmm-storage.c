// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Tests of the mpvmm-storage executable as a process, and of virtio-rng in mpvmm-misc
 * (no VM, no privileges): a clear error and exit status 1 for each kind of bad
 * -blockdev, drive= or num-queues= option, and a virtio-blk (and a virtio-rng) that
 * answers a vfio-user handshake with its virtio IDs and queue count, then exits when
 * its socket closes; with the most queues allowed, every queue's doorbell is offered
 * as an eventfd (GET_REGION_IO_FDS), none left to the VMM.
 */
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "protocol/protocol.h"
#include "tests/lib/tu.h"

static char *img; /* a 64 KiB raw image */

static int run(const char *bin, const char *const *args, char **err)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autofree char *out = NULL;
	struct tu_proc p;
	int status;

	g_ptr_array_add(argv, (char *)tu_bin(bin));
	for (unsigned i = 0; args[i]; i++)
		g_ptr_array_add(argv, (char *)args[i]);
	g_ptr_array_add(argv, NULL);
	tu_spawn((char **)argv->pdata, NULL, 0, true, &p);
	out = tu_slurp(p.out_fd);
	*err = tu_slurp(p.err_fd);
	status = tu_wait(&p, 10);
	close(p.out_fd);
	close(p.err_fd);
	g_assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void test_bad_options(void)
{
	g_autofree char *bd = g_strdup_printf("driver=file,node-name=d0,filename=%s", img);
	g_autofree char *bd_ro = g_strdup_printf("%s,read-only=on", bd);
	g_autofree char *bd1 = g_strdup_printf("driver=file,node-name=d1,filename=%s", img);
	const char *dev = "virtio-blk,id=vd0,drive=d0,socket=/nonexistent/s";
	const struct {
		const char *args[7];
		const char *needle;
	} bad[] = {
		{{"-blockdev"}, "-blockdev needs an argument"},
		{{"-blockdev", "driver=qcow2,node-name=d0,filename=x"}, "driver 'qcow2' is not"},
		{{"-blockdev", "node-name=d0,filename=x"}, "missing driver=file"},
		{{"-blockdev", "driver=file,filename=x"}, "missing node-name"},
		{{"-blockdev", "driver=file,node-name=d0"}, "missing filename"},
		{{"-blockdev", "driver=file,node-name=d0,filename="}, "missing filename"},
		{{"-blockdev", "driver=file,node-name=0d,filename=x"}, "invalid node-name '0d'"},
		{{"-blockdev", "driver=file,node-name=d0,filename=x,size=1"}, "unknown property"},
		{{"-blockdev", "driver=file,node-name=d0,node-name=d1,filename=x"}, "given twice"},
		{{"-blockdev", "driver=file,node-name=d0,filename=x,read-only=1"}, "on or off"},
		{{"-blockdev", "driver=file,node-name=d0,filename"}, "not of the form"},
		{{"-blockdev", bd, "-blockdev", bd}, "node-name 'd0' is used twice"},
		{{"-blockdev", "driver=file,node-name=d0,filename=/nonexistent", "-device", dev},
		 "cannot open '/nonexistent' for reading and writing: No such file"},
		{{"-blockdev", "driver=file,node-name=d0,filename=/", "-device", dev},
		 "cannot open '/'"},
		{{"-blockdev", "driver=file,node-name=d0,filename=/dev/null,read-only=on",
		  "-device", dev},
		 "is not a regular file"},
		{{"-blockdev", bd, "-device", "virtio-blk,id=vd0,drive=d9,socket=/x"},
		 "drive 'd9' is not a -blockdev node-name"},
		{{"-blockdev", bd, "-device", "virtio-blk,id=vd0,socket=/x"}, "missing drive"},
		{{"-blockdev", bd, "-device", "virtio-blk,id=vd0,drive=d0,fd=1,socket=/x"},
		 "fd= is set by the process"},
		{{"-blockdev", bd_ro, "-device",
		  "virtio-blk,id=vd0,drive=d0,read-only=off,"
		  "socket=/x"},
		 "but drive 'd0' is read-only"},
		{{"-blockdev", bd, "-device", "virtio-blk,id=a,drive=d0,socket=/x", "-device",
		  "virtio-blk,id=b,drive=d0,socket=/y"},
		 "drive 'd0' is already used by 'a'"},
		{{"-blockdev", bd, "-blockdev", bd1, "-device", dev},
		 "node 'd1' is not used by any -device"},
		{{"-blockdev", bd, "-device",
		  "virtio-blk,id=vd0,drive=d0,num-queues=65,"
		  "socket=/x"},
		 "num-queues=65 is not from 1 to 8: a device process gets each queue's doorbell "
		 "as an eventfd, and one vfio-user GET_REGION_IO_FDS reply carries at most 8"},
		{{"-blockdev", bd, "-device", "virtio-blk,id=vd0,drive=d0,num-queues=9,socket=/x"},
		 "virtio-blk 'vd0': num-queues=9 is not from 1 to 8"},
		{{"-blockdev", bd, "-device", "virtio-blk,id=vd0,drive=d0,num-queues=0,socket=/x"},
		 "num-queues=0 is not from 1 to 8"},
		{{"-device", "pci-testdev,id=t0,socket=/x"}, "unknown device type 'pci-testdev'"},
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autofree char *err = NULL;
		g_autofree char *line = g_strjoinv(" ", (char **)bad[i].args);

		g_test_message("args: %s", line);
		g_assert_cmpint(run("MPVMM_STORAGE", bad[i].args, &err), ==, 1);
		g_assert_nonnull(strstr(err, "mpvmm-storage: "));
		if (!strstr(err, bad[i].needle))
			g_error("expected '%s' in: %s", bad[i].needle, err);
	}
}

static int handshake(int sock, const char *id, uint16_t *next_id)
{
	struct vfu_caps caps = {.major = VFU_VERSION_MAJOR,
				.minor = VFU_VERSION_MINOR,
				.max_msg_fds = 1,
				.max_data_xfer_size = 4096,
				.device_id = (char *)id};
	g_autofree uint8_t *p = NULL;
	struct vfu_caps theirs;
	struct vfu_msg reply;
	size_t len;
	int ret;

	g_assert_cmpint(vfu_version_encode(&caps, &p, &len), ==, 0);
	ret = vfu_call(sock, next_id, VFU_CMD_VERSION, p, len, NULL, 0, &reply);
	if (ret < 0)
		return ret;
	ret = vfu_version_decode(reply.payload, reply.len, &theirs);
	vfu_msg_clear(&reply);
	vfu_caps_clear(&theirs);
	return ret;
}

static uint32_t region_read(int sock, uint16_t *next_id, uint32_t region, uint64_t off,
			    uint32_t count)
{
	struct vfu_region_access req = {.offset = off, .region = region, .count = count}, got;
	const uint8_t *data;
	struct vfu_msg reply;
	uint32_t v = 0;

	g_assert_cmpint(
		vfu_call(sock, next_id, VFU_CMD_REGION_READ, &req, sizeof(req), NULL, 0, &reply),
		==, 0);
	g_assert_cmpint(vfu_region_access_decode(&reply, true, false, &got, &data), ==, 0);
	memcpy(&v, data, count);
	vfu_msg_clear(&reply);
	return v;
}

/* GET_REGION_IO_FDS of `region`: the number of sub-regions; each has its own eventfd. */
static unsigned io_fds(int sock, uint16_t *next_id, uint32_t region)
{
	struct vfu_region_io_fds q = {.argsz = 16 + 40 * VFU_IO_FDS_MAX, .index = region}, r;
	struct vfu_ioeventfd subs[VFU_IO_FDS_MAX];
	struct vfu_msg reply;

	g_assert_cmpint(vfu_call(sock, next_id, VFU_CMD_DEVICE_GET_REGION_IO_FDS, &q, sizeof(q),
				 NULL, 0, &reply),
			==, 0);
	g_assert_cmpint(vfu_region_io_fds_decode(&reply, true, &r, subs), ==, 0);
	g_assert_cmpuint(reply.nr_fds, ==, r.count);
	for (unsigned i = 0; i < r.count; i++) {
		g_assert_cmpuint(subs[i].fd_index, ==, i);
		g_assert_cmpuint(subs[i].flags & VFU_IO_FD_DATAMATCH, ==, 0); /* any value */
		for (unsigned j = 0; j < i; j++)
			g_assert_cmpuint(subs[i].offset, !=, subs[j].offset);
	}
	vfu_msg_clear(&reply);
	return r.count;
}

/*
 * Serve one device of `bin` on an inherited socket; check its IDs, queue count and,
 * unless doorbells is 0, that many doorbell eventfds in its virtio BAR (BAR4).
 */
static void serve(const char *bin, const char *const *args, uint32_t ids, uint16_t nrq,
		  unsigned doorbells)
{
	const char *argv[8] = {tu_bin(bin)};
	g_autofree char *err = NULL;
	uint16_t id = 0;
	int sv[2], status;
	struct tu_proc p;

	for (unsigned i = 0; args[i]; i++)
		argv[i + 1] = args[i];
	tu_socketpair(sv);
	tu_spawn((char **)argv, &sv[1], 1, true, &p);
	close(sv[1]);
	g_assert_cmpint(handshake(sv[0], "vd0", &id), ==, 0);
	g_assert_cmphex(region_read(sv[0], &id, VFU_PCI_CONFIG_REGION, 0, 4), ==, ids);
	g_assert_cmpuint(region_read(sv[0], &id, VFU_PCI_BAR0_REGION + 4, 18, 2), ==, nrq);
	if (doorbells)
		g_assert_cmpuint(io_fds(sv[0], &id, VFU_PCI_BAR0_REGION + 4), ==, doorbells);
	close(sv[0]);
	status = tu_wait(&p, 10);
	err = tu_slurp(p.err_fd);
	close(p.out_fd);
	close(p.err_fd);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
}

static void test_virtio_blk(void)
{
	g_autofree char *bd = g_strdup_printf("driver=file,node-name=d0,filename=%s,"
					      "read-only=on",
					      img);
	const char *const args[] = {"-blockdev", bd, "-device",
				    "virtio-blk,id=vd0,drive=d0,num-queues=3,socket=3", NULL};

	serve("MPVMM_STORAGE", args, 0x10421af4, 3, 3);
}

/* num-queues=8, the most allowed: eight doorbells, all eventfds. */
static void test_virtio_blk_doorbells(void)
{
	g_autofree char *bd = g_strdup_printf("driver=file,node-name=d0,filename=%s", img);
	const char *const args[] = {"-blockdev", bd, "-device",
				    "virtio-blk,id=vd0,drive=d0,num-queues=8,socket=3", NULL};

	serve("MPVMM_STORAGE", args, 0x10421af4, 8, 8);
}

static void test_virtio_rng(void)
{
	const char *const args[] = {"-device", "virtio-rng,id=vd0,socket=3", NULL};
	const char *const bad[] = {"-device", "virtio-rng,id=vd0,fd=0,socket=/x", NULL};
	g_autofree char *err = NULL;

	serve("MPVMM_MISC", args, 0x10441af4, 1, 1);
	g_assert_cmpint(run("MPVMM_MISC", bad, &err), ==, 1);
	g_assert_nonnull(strstr(err, "fd= is set by the process"));
}

int main(int argc, char **argv)
{
	int fd, ret;

	g_test_init(&argc, &argv, NULL);
	fd = g_file_open_tmp("mpvmm-storage-XXXXXX", &img, NULL);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, 64 << 10), ==, 0);
	close(fd);
	g_test_add_func("/remote/mpvmm-storage/bad-options", test_bad_options);
	g_test_add_func("/remote/mpvmm-storage/virtio-blk", test_virtio_blk);
	g_test_add_func("/remote/mpvmm-storage/virtio-blk-doorbells", test_virtio_blk_doorbells);
	g_test_add_func("/remote/mpvmm-misc/virtio-rng", test_virtio_rng);
	ret = g_test_run();
	unlink(img);
	g_free(img);
	return ret;
}
