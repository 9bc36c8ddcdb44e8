// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * qmp_reset: system_reset (docs/qmp.md), what a platform reset means here.  With the
 * vCPUs parked: every bus-0 PCI function gets a function-level reset (its BARs, decode
 * and interrupts back to power-on, the remote device reset over vfio-user), firmware's
 * BAR assignment runs again, the kernel, its boot information and the ACPI tables are
 * loaded again from the same files, and every vCPU gets back the state it had before
 * it first ran (vcpus_snapshot(): registers, FPU, LAPIC, MP state, events).  Then the
 * vCPUs run again if they were running.  Not reset (documented subset): guest RAM
 * outside what the loader writes, the in-kernel IOAPIC/PIC and PIT, the serial port,
 * and root ports with what is plugged into them (rootport.c's business).
 */
#include <errno.h>

#include "vmm/vmm.h"

static uint64_t qmp_reset_ram_end(const struct gmem *mem)
{
	uint64_t end = 0;

	for (unsigned i = 0; i < mem->nr_regions; i++)
		end = MAX(end, mem->region[i].gpa + mem->region[i].size);
	return end;
}

/* The guest's images and tables, as machine_build() wrote them. */
static int qmp_reset_reload(struct machine *m, struct pvh_boot *boot, GError **err)
{
	const struct vmm_opts *o = m->opts;
	const struct pvh_range ecam = {VMM_ECAM_BASE, VMM_ECAM_SIZE};
	int ret;

	ret = boot_load(m->mem, o->kernel, o->append, o->initrd, o->nr_initrd, &ecam, 1, boot, err);
	if (ret < 0 || o->no_acpi)
		return ret;
	ret = acpi_build(m->mem, o->smp, VMM_ECAM_BASE, VMM_ECAM_SIZE);
	if (ret == 0 && boot->magic != MB_BOOTLOADER_MAGIC)
		ret = pvh_set_rsdp(m->mem, ACPI_TABLES_GPA);
	if (ret < 0)
		g_set_error(err, VMM_ERROR, -ret, "cannot write the ACPI tables: %s",
			    g_strerror(-ret));
	return ret;
}

static int qmp_reset_parked(struct machine *m, GError **err)
{
	struct pvh_boot boot;
	int ret;

	for (unsigned i = 0; i < m->nr_fn; i++)
		pcifn_reset(m->fn[i]);
	ret = firmware_assign_pci(m->pci, qmp_reset_ram_end(m->mem), err);
	if (ret == 0)
		ret = qmp_reset_reload(m, &boot, err);
	if (ret < 0)
		return ret;
	ret = vcpus_restore(m);
	if (ret < 0) {
		g_set_error(err, VMM_ERROR, -ret, "KVM: cannot restore the vCPUs' reset state: %s",
			    g_strerror(-ret));
		return ret;
	}
	return vcpu_set_pvh_state(&m->vcpus[0], &boot, err);
}

int monitor_reset(struct machine *m, GError **err)
{
	bool running = __atomic_load_n(&m->runstate, __ATOMIC_ACQUIRE) == VMM_RS_RUNNING;
	g_autoptr(GError) e = NULL;
	int ret;

	ret = vcpus_pause(m);
	if (ret < 0) {
		if (running)
			vcpus_resume(m);
		return qmp_error_set(err, ret, QMP_ERROR_GENERIC,
				     "system_reset: a vCPU did not stop within %d ms (blocked in "
				     "a device that does not answer?); the VM was not reset",
				     VCPU_PAUSE_TIMEOUT_MS);
	}
	ret = qmp_reset_parked(m, &e);
	if (ret < 0) {
		/* half reset: the guest cannot go on; stop it rather than run garbage */
		g_printerr("mpvmm: system_reset failed: %s; stopping the VM\n", e->message);
		machine_stop(m, VMM_EXIT_SETUP);
		return qmp_error_set(err, ret, QMP_ERROR_GENERIC,
				     "system_reset failed: %s; the VM is stopping", e->message);
	}
	if (running)
		vcpus_resume(m);
	g_info("system_reset: done, vCPUs %s", running ? "running" : "still paused");
	return 0;
}
