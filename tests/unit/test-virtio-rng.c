// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of devices/virtio_rng.c driven by vdrv: buffers filled from the entropy
 * fd (a memfd with a known pattern, so the bytes can be checked), an empty source, a
 * request with device-readable buffers, and bad properties.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/unit/vdrv.h"

const struct dev_ops *const dev_table[] = {&virtio_rng_ops, NULL};

static int source(size_t n)
{
	int fd = memfd_create("entropy", MFD_CLOEXEC);

	for (size_t i = 0; i < n; i++)
		g_assert_cmpint(write(fd, &(uint8_t){i + 1}, 1), ==, 1);
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static void create(struct vdrv *d, int fd)
{
	g_autofree char *props = g_strdup_printf("{\"fd\": \"%d\"}", fd);

	vdrv_create(d, "virtio-rng", props);
	vdrv_start(d, 0, 1);
}

static void test_fill(void)
{
	int fd = source(100);
	struct vdrv d;
	const struct vdrv_buf b[] = {{VDRV_DATA, 40, true}, {VDRV_DATA + 0x100, 40, true}};
	uint8_t *p;
	uint32_t id, len;

	create(&d, fd);
	vdrv_chain(&d, 0, 0, b, 2);
	vdrv_kick(&d, 0, 0, true);
	g_assert_true(vdrv_used(&d, 0, &id, &len));
	g_assert_cmpuint(len, ==, 80);
	p = vdrv_ptr(&d, VDRV_DATA, 0x200);
	g_assert_cmpuint(p[0], ==, 1);
	g_assert_cmpuint(p[0x100 + 39], ==, 80);
	/* 20 bytes are left: a short read fills what it can. */
	vdrv_chain(&d, 0, 0, b, 2);
	vdrv_kick(&d, 0, 0, false);
	g_assert_true(vdrv_used(&d, 0, &id, &len));
	g_assert_cmpuint(len, ==, 20);
	/* The source is dry: completed with nothing written. */
	vdrv_kick(&d, 0, 0, false);
	g_assert_true(vdrv_used(&d, 0, &id, &len));
	g_assert_cmpuint(len, ==, 0);
	g_assert_cmpuint(d.raised[0], ==, 3);
	vdrv_destroy(&d);
	close(fd);
}

static void test_readable(void)
{
	int fd = source(100);
	struct vdrv d;
	const struct vdrv_buf b[] = {{VDRV_DATA, 8, false}, {VDRV_DATA + 8, 8, true}};
	uint32_t id, len;

	create(&d, fd);
	vdrv_chain(&d, 0, 0, b, 2);
	vdrv_kick(&d, 0, 0, false);
	g_assert_true(vdrv_used(&d, 0, &id, &len));
	g_assert_cmpuint(len, ==, 0);
	g_assert_cmphex(vdrv_status(&d), ==, 0x0f);
	vdrv_destroy(&d);
	close(fd);
}

static void test_bad_props(void)
{
	g_autofree char *wo = NULL;
	int fd = memfd_create("wo", MFD_CLOEXEC);
	g_autofree char *path = g_strdup_printf("/proc/self/fd/%d", fd);
	int wofd = open(path, O_WRONLY | O_CLOEXEC);

	wo = g_strdup_printf("{\"fd\": \"%d\"}", wofd);
	vdrv_create_fail("virtio-rng", "{}", -EINVAL);
	vdrv_create_fail("virtio-rng", "{\"fd\": \"abc\"}", -EINVAL);
	vdrv_create_fail("virtio-rng", "{\"fd\": \"99999\"}", -EBADF);
	vdrv_create_fail("virtio-rng", wo, -EBADF);
	vdrv_create_fail("virtio-rng", "{\"filename\": \"/dev/urandom\"}", -EINVAL);
	close(wofd);
	close(fd);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/devices/virtio-rng/fill", test_fill);
	g_test_add_func("/devices/virtio-rng/readable", test_readable);
	g_test_add_func("/devices/virtio-rng/bad-props", test_bad_props);
	return g_test_run();
}
