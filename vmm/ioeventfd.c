// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ioeventfd: KVM ioeventfds (Documentation/virt/kvm/api.rst, KVM_IOEVENTFD) for the
 * doorbells of PCI functions, so a guest write to a doorbell signals the device's
 * eventfd inside the kernel and the vCPU never exits to this process.  The doorbells
 * come from the function (proxy/: GET_REGION_IO_FDS); this file follows each BAR
 * through the function's BAR hook: deassign at the old address, assign at the new one
 * (MMIO, or KVM_IOEVENTFD_FLAG_PIO for an I/O BAR; KVM_IOEVENTFD_FLAG_DATAMATCH for a
 * datamatch doorbell).  A registration KVM refuses (e.g. a guest placing two BARs so
 * that doorbells collide) only costs the bypass: the write then exits and reaches the
 * device through the BAR path, which handles it the same way.  Guest-triggerable, so
 * logged at debug level only.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm/vmm.h"

static int ioeventfd_set(int vm_fd, const struct pcifn_ioeventfd *ev, bool io, uint64_t addr,
			 bool assign)
{
	struct kvm_ioeventfd k = {
		.datamatch = ev->datamatch ? ev->data : 0,
		.addr = addr,
		.len = ev->size,
		.fd = ev->fd,
		.flags = (ev->datamatch ? KVM_IOEVENTFD_FLAG_DATAMATCH : 0) |
			 (io ? KVM_IOEVENTFD_FLAG_PIO : 0) |
			 (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};

	return ioctl(vm_fd, KVM_IOEVENTFD, &k) < 0 ? -errno : 0;
}

/* The pcifn BAR hook: move BAR `bar`'s doorbells from old_base to new_base. */
static void ioeventfd_bar_moved(void *ctx, struct pcifn *fn, unsigned bar, bool io,
				uint64_t old_base, uint64_t new_base)
{
	struct machine *m = ctx;
	const struct pcifn_ioeventfd *ev;
	unsigned n = pcifn_ioeventfds(fn, &ev);

	if (m->kvm.vm_fd < 0)
		return;
	for (unsigned i = 0; i < n; i++) {
		int ret;

		if (ev[i].bar != bar)
			continue;
		/* A base is size-aligned and off + size <= the BAR's size: no overflow. */
		if (old_base)
			ioeventfd_set(m->kvm.vm_fd, &ev[i], io, old_base + ev[i].off, false);
		if (!new_base)
			continue;
		ret = ioeventfd_set(m->kvm.vm_fd, &ev[i], io, new_base + ev[i].off, true);
		if (ret < 0)
			g_debug("%s: doorbell at %s 0x%" PRIx64 " not registered: %s", pcifn_id(fn),
				io ? "port" : "MMIO", new_base + ev[i].off, g_strerror(-ret));
	}
}

void ioeventfd_attach(struct machine *m, struct pcifn *fn)
{
	const struct pcifn_ioeventfd *ev;

	if (pcifn_ioeventfds(fn, &ev) > 0)
		pcifn_set_bar_hook(fn, ioeventfd_bar_moved, m);
}
