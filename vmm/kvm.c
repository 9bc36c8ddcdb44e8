// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kvm: the KVM file descriptors (Documentation/virt/kvm/api.rst).  Opens /dev/kvm,
 * creates the VM with the in-kernel irqchip (LAPICs, IOAPIC, PICs; no PIT: nothing
 * here needs one), maps guest RAM as memory slots, and creates vCPU fds with their
 * CPUID and the PVH entry state.  Also the register dump for failure reports.  The
 * KVM_RUN loop lives in vcpu.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm/vmm.h"

/* Intel needs three pages for the real-mode TSS below 4G; the usual spot under the BIOS. */
#define KVM_TSS_GPA 0xfffbd000UL
#define CPUID_HYPERVISOR (1u << 31) /* leaf 1 ECX */

static int kvm_error(GError **err, int ret, const char *what)
{
	g_set_error(err, VMM_ERROR, -ret, "KVM: %s failed: %s", what, g_strerror(-ret));
	return ret;
}

static int kvm_ioctl(int fd, unsigned long req, unsigned long arg)
{
	int ret = ioctl(fd, req, arg);

	return ret < 0 ? -errno : ret;
}

static int kvm_get_cpuid(struct kvm *k, GError **err)
{
	for (unsigned n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = g_malloc0(sizeof(*c) + n * sizeof(c->entries[0]));
		int ret;

		c->nent = n;
		ret = kvm_ioctl(k->sys_fd, KVM_GET_SUPPORTED_CPUID, (unsigned long)c);
		if (ret == 0) {
			k->cpuid = c;
			return 0;
		}
		g_free(c);
		if (ret != -E2BIG)
			return kvm_error(err, ret, "KVM_GET_SUPPORTED_CPUID");
	}
	return kvm_error(err, -E2BIG, "KVM_GET_SUPPORTED_CPUID");
}

static int kvm_check_caps(struct kvm *k, unsigned nr_vcpus, GError **err)
{
	int max;

	if (kvm_ioctl(k->sys_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		g_set_error(err, VMM_ERROR, ENOTSUP, "KVM: /dev/kvm speaks an unknown API version");
		return -ENOTSUP;
	}
	if (kvm_ioctl(k->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_IMMEDIATE_EXIT) <= 0 ||
	    kvm_ioctl(k->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP) <= 0) {
		g_set_error(err, VMM_ERROR, ENOTSUP,
			    "KVM: this kernel lacks KVM_CAP_IRQCHIP or "
			    "KVM_CAP_IMMEDIATE_EXIT, which mpvmm needs");
		return -ENOTSUP;
	}
	max = kvm_ioctl(k->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (max <= 0)
		max = kvm_ioctl(k->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (max > 0 && nr_vcpus > (unsigned)max) {
		g_set_error(err, VMM_ERROR, EINVAL,
			    "-smp %u: this host's KVM allows at most %d "
			    "vCPUs; use -smp %d or fewer",
			    nr_vcpus, max, max);
		return -EINVAL;
	}
	return 0;
}

int kvm_open(struct kvm *k, unsigned nr_vcpus, GError **err)
{
	int ret;

	k->vm_fd = -1;
	k->cpuid = NULL;
	k->sys_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (k->sys_fd < 0) {
		ret = -errno;
		g_set_error(err, VMM_ERROR, -ret,
			    "cannot open /dev/kvm: %s; mpvmm needs KVM "
			    "(load the kvm module and let this user open /dev/kvm)",
			    g_strerror(-ret));
		return ret;
	}
	ret = kvm_check_caps(k, nr_vcpus, err);
	if (ret < 0)
		return ret;
	ret = kvm_ioctl(k->sys_fd, KVM_CREATE_VM, 0);
	if (ret < 0)
		return kvm_error(err, ret, "KVM_CREATE_VM");
	k->vm_fd = ret;
	ret = kvm_ioctl(k->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_GPA);
	if (ret < 0)
		return kvm_error(err, ret, "KVM_SET_TSS_ADDR");
	ret = kvm_ioctl(k->vm_fd, KVM_CREATE_IRQCHIP, 0);
	if (ret < 0)
		return kvm_error(err, ret, "KVM_CREATE_IRQCHIP");
	ret = kvm_ioctl(k->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (ret < (int)sizeof(struct kvm_run))
		return kvm_error(err, ret < 0 ? ret : -EINVAL, "KVM_GET_VCPU_MMAP_SIZE");
	k->run_size = ret;
	return kvm_get_cpuid(k, err);
}

int kvm_map_gmem(struct kvm *k, const struct gmem *mem, GError **err)
{
	for (unsigned i = 0; i < mem->nr_regions; i++) {
		const struct gmem_region *r = &mem->region[i];
		struct kvm_userspace_memory_region slot = {
			.slot = i,
			.guest_phys_addr = r->gpa,
			.memory_size = r->size,
			.userspace_addr = (uintptr_t)r->hva,
		};
		int ret = kvm_ioctl(k->vm_fd, KVM_SET_USER_MEMORY_REGION, (unsigned long)&slot);

		if (ret < 0)
			return kvm_error(err, ret, "KVM_SET_USER_MEMORY_REGION");
	}
	return 0;
}

void kvm_close(struct kvm *k)
{
	if (k->vm_fd >= 0)
		close(k->vm_fd);
	if (k->sys_fd >= 0)
		close(k->sys_fd);
	g_free(k->cpuid);
	k->vm_fd = k->sys_fd = -1;
	k->cpuid = NULL;
}

/* The supported CPUID with this vCPU's APIC id filled in (SDM vol. 2, CPUID leaves 1, 0xb). */
static int vcpu_set_cpuid(struct kvm *k, struct vcpu *v)
{
	size_t sz = sizeof(*k->cpuid) + k->cpuid->nent * sizeof(k->cpuid->entries[0]);
	g_autofree struct kvm_cpuid2 *c = g_memdup2(k->cpuid, sz);

	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function == 1) {
			e->ebx = (e->ebx & 0x00ffffffu) | (v->index << 24);
			e->ecx |= CPUID_HYPERVISOR;
		} else if (e->function == 0xb || e->function == 0x1f) {
			e->edx = v->index;
		}
	}
	return kvm_ioctl(v->fd, KVM_SET_CPUID2, (unsigned long)c);
}

int vcpu_create(struct kvm *k, unsigned index, struct machine *m, struct vcpu *v, GError **err)
{
	int ret;

	memset(v, 0, sizeof(*v));
	v->index = index;
	v->m = m;
	v->run_size = k->run_size;
	v->fd = kvm_ioctl(k->vm_fd, KVM_CREATE_VCPU, index);
	if (v->fd < 0)
		return kvm_error(err, v->fd, "KVM_CREATE_VCPU");
	v->run = mmap(NULL, (size_t)k->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		return kvm_error(err, -errno, "mmap of the vCPU's kvm_run");
	}
	ret = vcpu_set_cpuid(k, v);
	if (ret < 0)
		return kvm_error(err, ret, "KVM_SET_CPUID2");
	return 0;
}

void vcpu_destroy(struct vcpu *v)
{
	if (v->run)
		munmap(v->run, (size_t)v->run_size);
	if (v->fd >= 0)
		close(v->fd);
	v->run = NULL;
	v->fd = -1;
}

static struct kvm_segment flat_segment(uint16_t sel, uint8_t type)
{
	return (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffff,
		.selector = sel,
		.type = type,
		.present = 1,
		.dpl = 0,
		.db = 1,
		.s = 1,
		.l = 0,
		.g = 1,
	};
}

/*
 * PVH entry state (Xen docs/misc/pvh.pandoc), also Multiboot's (spec 0.6.96, 3.2, with
 * %eax = 0x2BADB002): flat 32-bit CS/DS, CR0.PE, no paging, IF clear.
 */
int vcpu_set_pvh_state(struct vcpu *v, const struct pvh_boot *boot, GError **err)
{
	struct kvm_regs regs = {
		.rip = boot->entry, .rax = boot->magic, .rbx = boot->start_info, .rflags = 0x2};
	struct kvm_sregs sregs;
	int ret;

	ret = kvm_ioctl(v->fd, KVM_GET_SREGS, (unsigned long)&sregs);
	if (ret < 0)
		return kvm_error(err, ret, "KVM_GET_SREGS");
	sregs.cs = flat_segment(0x08, 0xb); /* execute/read, accessed */
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = flat_segment(0x10, 0x3);
	sregs.tr = (struct kvm_segment){.limit = 0x67, .type = 0xb, .present = 1};
	sregs.cr0 = 0x11; /* PE, ET */
	sregs.cr4 = 0;
	sregs.efer = 0;
	ret = kvm_ioctl(v->fd, KVM_SET_SREGS, (unsigned long)&sregs);
	if (ret < 0)
		return kvm_error(err, ret, "KVM_SET_SREGS");
	ret = kvm_ioctl(v->fd, KVM_SET_REGS, (unsigned long)&regs);
	if (ret < 0)
		return kvm_error(err, ret, "KVM_SET_REGS");
	return 0;
}

static void dump_seg(const char *name, const struct kvm_segment *s)
{
	g_printerr("  %-3s sel %04x base %016llx limit %08x type %x %s%s%s\n", name, s->selector,
		   (unsigned long long)s->base, s->limit, s->type, s->present ? "P" : "-",
		   s->l ? " L" : "", s->db ? " D" : "");
}

void vcpu_dump(struct vcpu *v)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(v->fd, KVM_GET_REGS, &r) < 0 || ioctl(v->fd, KVM_GET_SREGS, &s) < 0) {
		g_printerr("mpvmm: vCPU%u: cannot read registers: %s\n", v->index,
			   g_strerror(errno));
		return;
	}
	g_printerr("mpvmm: vCPU%u registers:\n"
		   "  rip %016llx rflags %08llx\n"
		   "  rax %016llx rbx %016llx rcx %016llx rdx %016llx\n"
		   "  rsi %016llx rdi %016llx rbp %016llx rsp %016llx\n"
		   "  r8  %016llx r9  %016llx r10 %016llx r11 %016llx\n"
		   "  r12 %016llx r13 %016llx r14 %016llx r15 %016llx\n"
		   "  cr0 %08llx cr2 %016llx cr3 %016llx cr4 %08llx efer %llx\n",
		   v->index, r.rip, r.rflags, r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp,
		   r.rsp, r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, s.cr0, s.cr2, s.cr3,
		   s.cr4, s.efer);
	dump_seg("cs", &s.cs);
	dump_seg("ds", &s.ds);
	dump_seg("ss", &s.ss);
	dump_seg("tr", &s.tr);
	g_printerr("  gdt base %016llx limit %04x  idt base %016llx limit %04x\n", s.gdt.base,
		   s.gdt.limit, s.idt.base, s.idt.limit);
}
