// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * machine: builds the VM from the parsed options and runs it to the end.  Order:
 * guest RAM, the kernel (so a bad image fails before anything connects), the
 * platform devices and host bridge, the PCI devices (in-process models and remote
 * connections, slots 1.. in command-line order), the firmware's work (BAR
 * assignment, ACPI tables), then KVM, memory slots and vCPUs.
 * The main thread then waits for a stop (debug-exit, SIGINT/SIGTERM, a guest
 * failure), kicks and joins every vCPU thread, and machine_destroy() frees the rest.
 * What happens inside a vCPU is vcpu.c's business.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "vmm/vmm.h"

static int machine_fail(GError **err, int ret, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static int machine_fail(GError **err, int ret, const char *fmt, ...)
{
	g_autofree char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error(err, VMM_ERROR, -ret, "%s: %s", msg, g_strerror(-ret));
	return ret;
}

static void machine_debugexit(void *ctx, int status)
{
	machine_stop(ctx, status);
}

/* The first guest-physical address above RAM. */
static uint64_t machine_ram_end(const struct gmem *mem)
{
	uint64_t end = 0;

	for (unsigned i = 0; i < mem->nr_regions; i++)
		end = MAX(end, mem->region[i].gpa + mem->region[i].size);
	return end;
}

/* Serial, debug console, debug-exit, fw_cfg, the ACPI PM block and the host bridge. */
static int machine_platform(struct machine *m, GError **err)
{
	const struct vmm_opts *o = m->opts;
	int ret;

	ret = chardev_open("-serial", &o->serial, &m->serial_fd, err);
	if (ret == 0)
		ret = chardev_open("-debugcon", &o->debugcon, &m->dcon.fd, err);
	if (ret < 0)
		return ret;
	m->dexit = (struct debugexit){.exit = machine_debugexit, .ctx = m};
	ret = serial_create(&m->io, SERIAL_COM1, m->serial_fd, &m->serial);
	if (ret == 0)
		ret = debugcon_create(&m->io, DEBUGCON_PORT, &m->dcon);
	if (ret == 0)
		ret = debugexit_create(&m->io, DEBUGEXIT_PORT, &m->dexit);
	if (ret == 0)
		ret = fwcfg_create(&m->io, m->mem, o->smp, &m->fwcfg);
	if (ret == 0)
		ret = acpi_pm_create(&m->io, &m->pm);
	if (ret == 0)
		ret = pcihost_create(&m->io, VMM_ECAM_BASE, &m->pci);
	if (ret < 0)
		return machine_fail(err, ret, "cannot set up the platform devices");
	return 0;
}

/* -device pci-proxy-dev,rid=...: the class process creates it, we connect to it. */
static int machine_rproc_device(struct machine *m, const struct devopt *d, struct pcifn **fn,
				GError **err)
{
	int sock, ret = rproc_device_add(m, d->rid, d->id, d->props, NULL, &sock, err);

	if (ret < 0)
		return ret;
	return proxy_connect_dma(d->id, sock, m->mem, /* takes sock */
				 d->dma_message ? PROXY_DMA_MESSAGE : PROXY_DMA_FD, fn, err);
}

/* The -object remote-process class processes, before any device needs one. */
static int machine_rprocs(struct machine *m, GError **err)
{
	int ret = rprocs_create(&m->rprocs);

	if (ret < 0)
		return machine_fail(err, ret, "cannot watch class processes");
	for (unsigned i = 0; ret == 0 && i < m->opts->nr_rprocs; i++)
		ret = rproc_spawn(m->rprocs, &m->opts->rprocs[i], err);
	return ret;
}

static int machine_device(struct machine *m, const struct devopt *d, GError **err)
{
	unsigned gsi[4];
	struct pcifn *fn;
	unsigned slot;
	int ret;

	if (strcmp(d->type, ROOTPORT_TYPE) == 0) {
		struct rootport *rp;

		ret = rootport_create(m, d->id, d->props, &rp, err);
		if (ret == 0) {
			m->rp[m->nr_rp++] = rp;
			g_info("%s: %s at 00:%02x.0", d->id, d->type, rootport_slot(rp));
		}
		return ret;
	}
	if (strcmp(d->type, DEVOPT_PROXY_TYPE) != 0)
		ret = localdev_create(d->type, d->id, d->props, m->mem, &fn, err);
	else if (d->rid)
		ret = machine_rproc_device(m, d, &fn, err);
	else if (d->socket_fd >= 0) /* owns the fd now */
		ret = proxy_connect_dma(d->id, d->socket_fd, m->mem,
					d->dma_message ? PROXY_DMA_MESSAGE : PROXY_DMA_FD, &fn, err);
	else
		ret = proxy_connect_path_dma(d->id, d->socket_path, m->mem,
					     d->dma_message ? PROXY_DMA_MESSAGE : PROXY_DMA_FD, &fn,
					     err);
	if (ret < 0)
		return ret;
	ret = pcihost_attach(m->pci, fn, &slot);
	if (ret < 0) {
		g_set_error(err, VMM_ERROR, -ret,
			    "-device %s,id=%s: bus 0 is full (%u devices at "
			    "most)",
			    d->type, d->id, PCIHOST_SLOTS - 1);
		return ret;
	}
	m->fn_slot[m->nr_fn] = slot; /* for query-pci's qdev_id */
	m->fn[m->nr_fn++] = fn;
	vmirq_intx_gsi(slot, gsi);
	ret = pcifn_irq_setup(fn, &vmirq_ops, m->irq, gsi);
	if (ret < 0) {
		g_set_error(err, VMM_ERROR, -ret,
			    "-device %s,id=%s: the device's interrupt capabilities are "
			    "malformed (%s); it cannot be attached", d->type, d->id,
			    g_strerror(-ret));
		return ret;
	}
	g_info("%s: %s at 00:%02x.0", d->id, d->type, slot);
	return 0;
}

static int machine_vcpus(struct machine *m, const struct pvh_boot *boot, GError **err)
{
	int ret;

	m->vcpus = g_new0(struct vcpu, m->opts->smp);
	for (unsigned i = 0; i < m->opts->smp; i++) {
		m->vcpus[i].fd = -1;
		ret = vcpu_create(&m->kvm, i, m, &m->vcpus[i], err);
		m->nr_vcpus = i + 1;
		if (ret < 0)
			return ret;
	}
	/* The APs stay in wait-for-SIPI (the in-kernel LAPIC's reset state). */
	return vcpu_set_pvh_state(&m->vcpus[0], boot, err);
}

static int machine_build(struct machine *m, GError **err)
{
	const struct vmm_opts *o = m->opts;
	const struct pvh_range ecam = {VMM_ECAM_BASE, VMM_ECAM_SIZE};
	struct pvh_boot boot;
	int ret;

	ret = gmem_create(o->ram_size, VMM_RAM_BELOW_4G, &m->mem);
	if (ret < 0)
		return machine_fail(err, ret, "-m %" G_GUINT64_FORMAT "M: cannot create guest RAM",
				    o->ram_size >> 20);
	ret = boot_load(m->mem, o->kernel, o->append, o->initrd, o->nr_initrd, &ecam, 1, &boot,
			err);
	if (ret == 0)
		ret = machine_platform(m, err);
	if (ret == 0 && (ret = vmirq_create(&m->irq)) < 0)
		ret = machine_fail(err, ret, "cannot set up interrupt routing");
	if (ret == 0)
		ret = machine_rprocs(m, err);
	if (ret == 0)
		ret = localdev_backends(o, err);
	for (unsigned i = 0; ret == 0 && i < o->nr_devices; i++)
		ret = machine_device(m, &o->devices[i], err);
	if (ret == 0) /* what SeaBIOS would have done before the kernel runs */
		ret = firmware_assign_pci(m->pci, machine_ram_end(m->mem), err);
	if (ret == 0 && !o->no_acpi) {
		ret = acpi_build(m->mem, o->smp, VMM_ECAM_BASE, VMM_ECAM_SIZE);
		if (ret == 0 && boot.magic != MB_BOOTLOADER_MAGIC) /* a PVH kernel */
			ret = pvh_set_rsdp(m->mem, ACPI_TABLES_GPA);
		if (ret < 0)
			ret = machine_fail(err, ret, "cannot write the ACPI tables");
	}
	if (ret == 0)
		ret = kvm_open(&m->kvm, o->smp, err);
	if (ret == 0)
		ret = kvm_map_gmem(&m->kvm, m->mem, err);
	if (ret == 0 && (ret = vmirq_start(m->irq, m->kvm.vm_fd)) < 0)
		ret = machine_fail(err, ret, "KVM: cannot wire the PCI INTx lines (KVM_IRQFD)");
	for (unsigned i = 0; ret == 0 && i < m->nr_fn; i++)
		ioeventfd_attach(m, m->fn[i]);
	if (ret == 0)
		ret = machine_vcpus(m, &boot, err);
	return ret;
}

/*
 * SIGINT/SIGTERM from the start of machine_create() on wait for machine_run()'s signalfd
 * instead of killing the process: every thread made while building the machine (remote
 * process watchers, the QMP monitor) inherits the mask, so none of them takes the signal
 * with its default action, and a QMP client that acts before machine_run() still gets
 * its SHUTDOWN event.  A signal during setup is handled once the VM starts.
 */
static int machine_block_signals(struct machine *m, GError **err)
{
	sigset_t stop;
	int ret;

	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	ret = pthread_sigmask(SIG_BLOCK, &stop, NULL);
	return ret ? machine_fail(err, -ret, "cannot block SIGINT and SIGTERM") : 0;
}

int machine_create(const struct vmm_opts *o, struct machine **out, GError **err)
{
	struct machine *m = g_new0(struct machine, 1);
	int ret;

	m->opts = o;
	m->serial_fd = m->dcon.fd = -1;
	m->kvm.sys_fd = m->kvm.vm_fd = -1;
	m->status = -1;
	vcpus_pause_init(&m->pause, o->start_paused); /* -S: park before the first KVM_RUN */
	m->runstate = o->start_paused ? VMM_RS_PRELAUNCH : VMM_RS_RUNNING;
	m->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (m->stop_efd < 0)
		ret = machine_fail(err, -errno, "eventfd");
	else
		ret = machine_block_signals(m, err);
	if (ret == 0)
		ret = machine_build(m, err);
	if (ret == 0)
		ret = hotplug_create(m, &m->hotplug);
	if (ret == 0) /* last: clients may connect and act from now on */
		ret = monitor_create(m, err);
	if (ret < 0) {
		machine_destroy(m); /* undoes whatever part was built */
		return ret;
	}
	*out = m;
	return 0;
}

void machine_stop(struct machine *m, int status)
{
	int none = -1;
	uint64_t one = 1;

	if (!__atomic_compare_exchange_n(&m->status, &none, status, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		return; /* an earlier stop decided the status */
	__atomic_store_n(&m->stopping, true, __ATOMIC_RELEASE);
	if (write(m->stop_efd, &one, sizeof(one)) < 0)
		g_warning("cannot wake the main thread: %s", g_strerror(errno));
}

bool machine_stopping(const struct machine *m)
{
	return __atomic_load_n(&m->stopping, __ATOMIC_ACQUIRE);
}

/* Wait for a stop request or SIGINT/SIGTERM (blocked, read from sfd). */
static void machine_wait(struct machine *m, int sfd)
{
	struct pollfd pfd[2] = {{.fd = sfd, .events = POLLIN},
				{.fd = m->stop_efd, .events = POLLIN}};
	struct signalfd_siginfo si;

	while (!machine_stopping(m)) {
		if (poll(pfd, 2, -1) < 0 && errno != EINTR) {
			g_printerr("mpvmm: poll failed: %s; stopping the VM\n", g_strerror(errno));
			machine_stop(m, VMM_EXIT_SETUP);
		}
		if ((pfd[0].revents & POLLIN) && read(sfd, &si, sizeof(si)) == sizeof(si)) {
			g_printerr("mpvmm: terminating on signal %u\n", si.ssi_signo);
			m->stop_signal = (int)si.ssi_signo;
			machine_stop(m, VMM_EXIT_STOPPED);
		}
	}
}

/*
 * Kick and join every vCPU.  A thread blocked in a device backend that never answers
 * (a stopped or hostile remote) cannot be interrupted: give up on it after a while,
 * so a remote cannot keep mpvmm from exiting.
 */
static void machine_join(struct machine *m)
{
	struct timespec deadline;

	vcpus_resume(m); /* a parked (paused) vCPU wakes and sees the stop */
	for (unsigned i = 0; i < m->nr_vcpus; i++)
		vcpu_kick(&m->vcpus[i]);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += VMM_STOP_TIMEOUT_S;
	for (unsigned i = 0; i < m->nr_vcpus; i++) {
		if (vcpu_join(&m->vcpus[i], &deadline) == -ETIMEDOUT) {
			g_printerr("mpvmm: vCPU%u did not stop within %d s (blocked in a device "
				   "that does not answer?); exiting without cleanup\n",
				   i, VMM_STOP_TIMEOUT_S);
			m->stuck = true;
		}
	}
}

/*
 * MPVMM_EXIT_STATS=1 (a debugging aid, not an option): how often each vCPU exited to
 * this process, which shows whether doorbells and interrupts bypassed the VMM.
 */
static void machine_print_exits(const struct machine *m)
{
	const char *want = g_getenv("MPVMM_EXIT_STATS");

	if (!want || strcmp(want, "1") != 0)
		return;
	for (unsigned i = 0; i < m->nr_vcpus; i++)
		g_printerr("mpvmm: vCPU%u: %" G_GUINT64_FORMAT " exits to userspace (io %"
			   G_GUINT64_FORMAT ", mmio %" G_GUINT64_FORMAT ")\n", i,
			   m->vcpus[i].exits, m->vcpus[i].exits_io, m->vcpus[i].exits_mmio);
}

int machine_run(struct machine *m)
{
	sigset_t stop;
	int sfd;

	/* Blocked before the vCPU threads exist, so they inherit the mask. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	sfd = signalfd(-1, &stop, SFD_CLOEXEC);
	if (sfd < 0) {
		g_printerr("mpvmm: signalfd: %s\n", g_strerror(errno));
		return VMM_EXIT_SETUP;
	}
	m->running = m->nr_vcpus;
	for (unsigned i = 0; i < m->nr_vcpus; i++) {
		int ret = vcpu_start(&m->vcpus[i]);

		if (ret < 0) {
			g_printerr("mpvmm: cannot start vCPU%u: %s\n", i, g_strerror(-ret));
			machine_stop(m, VMM_EXIT_SETUP);
			break;
		}
	}
	machine_wait(m, sfd);
	machine_join(m);
	monitor_vm_ended(m, __atomic_load_n(&m->status, __ATOMIC_ACQUIRE));
	machine_print_exits(m);
	close(sfd);
	return __atomic_load_n(&m->status, __ATOMIC_ACQUIRE);
}

void machine_destroy(struct machine *m)
{
	if (!m || m->stuck)
		return; /* a vCPU thread may still use all of it; the process is exiting */
	monitor_destroy(m); /* first: its commands use everything below */
	for (unsigned i = 0; i < m->nr_vcpus; i++)
		vcpu_destroy(&m->vcpus[i]);
	g_free(m->vcpus);
	hotplug_destroy(m->hotplug); /* the monitor and the vCPUs are gone */
	if (m->irq)
		vmirq_stop(m->irq);
	kvm_close(&m->kvm);
	pcihost_destroy(m->pci); /* detaches irqfds through m->irq: destroyed after */
	rprocs_destroy(m->rprocs); /* after the proxies: their sockets are closed */
	vmirq_destroy(m->irq);
	fwcfg_destroy(m->fwcfg);
	serial_destroy(m->serial);
	chardev_close(m->serial_fd);
	chardev_close(m->dcon.fd);
	gmem_destroy(m->mem);
	if (m->stop_efd >= 0)
		close(m->stop_efd);
	vcpus_pause_fini(&m->pause);
	g_free(m->snapshot);
	g_free(m);
}
