// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Tests of vmm/ioeventfd.c on a real KVM VM (suite kvm; skipped without /dev/kvm): a
 * function with doorbells in a memory and an I/O BAR, whose BARs the test programs,
 * enables, moves, disables and resets through config writes.  Whether KVM holds an
 * ioeventfd at an address is probed by assigning the same one again: EEXIST means it
 * is registered, success means it was not (and the probe is removed again).  No guest
 * runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "tests/lib/tu.h"
#include "vmm/vmm.h"

/* A backend with nothing behind it: config space reads 0, writes are dropped. */
static int tv_cfg_read(void *be, uint32_t off, unsigned size, uint32_t *val)
{
	*val = 0;
	return 0;
}

static int tv_cfg_write(void *be, uint32_t off, unsigned size, uint32_t val)
{
	return 0;
}

static int tv_bar_read(void *be, unsigned bar, uint64_t off, unsigned size, uint64_t *val)
{
	*val = 0;
	return 0;
}

static int tv_bar_write(void *be, unsigned bar, uint64_t off, unsigned size, uint64_t val)
{
	return 0;
}

static void tv_destroy(void *be)
{
}

static const struct pcifn_backend_ops tv_ops = {
	.cfg_read = tv_cfg_read,
	.cfg_write = tv_cfg_write,
	.bar_read = tv_bar_read,
	.bar_write = tv_bar_write,
	.destroy = tv_destroy,
};

/* Is ev registered at addr?  Probe by assigning it again. */
static bool tv_registered(int vm, const struct pcifn_ioeventfd *ev, bool io, uint64_t addr)
{
	struct kvm_ioeventfd k = {
		.datamatch = ev->data,
		.addr = addr,
		.len = ev->size,
		.fd = ev->fd,
		.flags = (ev->datamatch ? KVM_IOEVENTFD_FLAG_DATAMATCH : 0) |
			 (io ? KVM_IOEVENTFD_FLAG_PIO : 0),
	};

	if (ioctl(vm, KVM_IOEVENTFD, &k) < 0) {
		g_assert_cmpint(errno, ==, EEXIST);
		return true;
	}
	k.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
	g_assert_cmpint(ioctl(vm, KVM_IOEVENTFD, &k), ==, 0);
	return false;
}

static void test_follow_bars(void)
{
	const struct pcifn_bar bars[PCIFN_NUM_BARS] = {
		{.size = 4096},
		{.size = 256, .flags = PCIFN_BAR_IO},
	};
	const struct pcifn_ioeventfd *ev;
	struct machine m = {0};
	struct pcifn *fn;
	int sys;

	if (tu_skip_without_kvm())
		return;
	sys = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	m.kvm.vm_fd = ioctl(sys, KVM_CREATE_VM, 0);
	g_assert_cmpint(m.kvm.vm_fd, >=, 0);
	g_assert_cmpint(pcifn_create("t0", &tv_ops, NULL, bars, &fn), ==, 0);
	g_assert_cmpint(
		pcifn_add_ioeventfd(fn, &(struct pcifn_ioeventfd){.bar = 0,
								  .off = 0x801,
								  .size = 1,
								  .fd = eventfd(0, EFD_CLOEXEC)}),
		==, 0);
	g_assert_cmpint(
		pcifn_add_ioeventfd(fn, &(struct pcifn_ioeventfd){.bar = 1,
								  .off = 0x85,
								  .size = 1,
								  .datamatch = true,
								  .data = 0xfa,
								  .fd = eventfd(0, EFD_CLOEXEC)}),
		==, 0);
	g_assert_cmpuint(pcifn_ioeventfds(fn, &ev), ==, 2);
	/* Programmed before attach (as firmware does): registered when attached. */
	g_assert_cmpint(pcifn_cfg_write(fn, 0x10, 4, 0xe0000000), ==, 0);
	g_assert_cmpint(pcifn_cfg_write(fn, 0x14, 4, 0xc000), ==, 0);
	g_assert_cmpint(pcifn_cfg_write(fn, 0x04, 2, 0x3), ==, 0);
	ioeventfd_attach(&m, fn);
	g_assert_true(tv_registered(m.kvm.vm_fd, &ev[0], false, 0xe0000801));
	g_assert_true(tv_registered(m.kvm.vm_fd, &ev[1], true, 0xc085));
	/* A guest moves BAR0: the doorbell follows. */
	g_assert_cmpint(pcifn_cfg_write(fn, 0x10, 4, 0xe0010000), ==, 0);
	g_assert_false(tv_registered(m.kvm.vm_fd, &ev[0], false, 0xe0000801));
	g_assert_true(tv_registered(m.kvm.vm_fd, &ev[0], false, 0xe0010801));
	/* I/O decode off: the port doorbell goes, the MMIO one stays. */
	g_assert_cmpint(pcifn_cfg_write(fn, 0x04, 2, 0x2), ==, 0);
	g_assert_false(tv_registered(m.kvm.vm_fd, &ev[1], true, 0xc085));
	g_assert_true(tv_registered(m.kvm.vm_fd, &ev[0], false, 0xe0010801));
	/* Reset: nothing decoded, nothing registered. */
	pcifn_reset(fn);
	g_assert_false(tv_registered(m.kvm.vm_fd, &ev[0], false, 0xe0010801));
	g_assert_false(tv_registered(m.kvm.vm_fd, &ev[1], true, 0xc085));
	/* Programmed again after the reset, enabled last. */
	g_assert_cmpint(pcifn_cfg_write(fn, 0x10, 4, 0xe0020000), ==, 0);
	g_assert_false(tv_registered(m.kvm.vm_fd, &ev[0], false, 0xe0020801));
	g_assert_cmpint(pcifn_cfg_write(fn, 0x04, 2, 0x2), ==, 0);
	g_assert_true(tv_registered(m.kvm.vm_fd, &ev[0], false, 0xe0020801));
	pcifn_destroy(fn);
	close(m.kvm.vm_fd);
	close(sys);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vmm/ioeventfd/follow-bars", test_follow_bars);
	return g_test_run();
}
