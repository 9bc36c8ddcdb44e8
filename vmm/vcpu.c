// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vcpu: one thread per vCPU running KVM_RUN, and the dispatch of its exits.  Port
 * I/O goes to the ioport table, then to PCI I/O BARs; MMIO to the host bridge (ECAM,
 * memory BARs).  Unclaimed reads return all-ones and unclaimed writes are dropped,
 * logged at debug level only, so a guest cannot flood the log.  Guest failures
 * (triple fault, KVM internal error, failed entry) print a message and the
 * registers and stop the machine.  Creating the vCPU fds is kvm.c's job.
 *
 * Stopping: another thread sets kvm_run.immediate_exit and sends VCPU_KICK_SIGNAL,
 * so KVM_RUN returns -EINTR whether the thread was in the guest, about to enter it,
 * or blocked in the kernel (a halted CPU, or an AP waiting for its SIPI).
 *
 * Pausing (QMP stop/cont, -S): the same kick, then the thread parks on m->pause's
 * condvar before its next KVM_RUN until vcpus_resume().  A kick can race with the
 * thread clearing immediate_exit on resume, so vcpus_pause() kicks again every few
 * milliseconds until every live thread is parked.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm/vmm.h"

#define VCPU_KICK_SIGNAL SIGUSR1

static uint64_t ones(unsigned size)
{
	return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

static void vcpu_pio_one(struct machine *m, uint16_t port, unsigned size, bool write, uint8_t *data)
{
	uint64_t val = 0;
	uint32_t v32 = 0;

	if (write) {
		memcpy(&v32, data, size);
		val = v32;
		if (!ioport_write(&m->io, port, size, v32) &&
		    !pcihost_pio(m->pci, port, size, true, &val))
			g_debug("unclaimed port write 0x%x size %u value 0x%x", port, size, v32);
		return;
	}
	if (ioport_read(&m->io, port, size, &v32)) {
		val = v32;
	} else if (!pcihost_pio(m->pci, port, size, false, &val)) {
		g_debug("unclaimed port read 0x%x size %u", port, size);
		val = ones(size);
	}
	memcpy(data, &val, size);
}

/* KVM_EXIT_IO: count elements of size bytes at data_offset (string I/O has count > 1). */
static void vcpu_pio(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	unsigned size = run->io.size;
	uint64_t end = run->io.data_offset + (uint64_t)run->io.count * size;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;

	if ((size != 1 && size != 2 && size != 4) || end > (uint64_t)v->run_size)
		return; /* the kernel never does this; do not trust it blindly either */
	for (uint32_t i = 0; i < run->io.count && !machine_stopping(v->m); i++)
		vcpu_pio_one(v->m, run->io.port, size, run->io.direction == KVM_EXIT_IO_OUT,
			     data + i * size);
}

static void vcpu_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	unsigned len = run->mmio.len;
	uint64_t addr = run->mmio.phys_addr, val = 0;

	if (len == 0 || len > sizeof(run->mmio.data))
		return;
	if (run->mmio.is_write) {
		memcpy(&val, run->mmio.data, len);
		if (!pcihost_mmio(v->m->pci, addr, len, true, &val))
			g_debug("unclaimed MMIO write 0x%" PRIx64 " size %u", addr, len);
		return;
	}
	if (!pcihost_mmio(v->m->pci, addr, len, false, &val)) {
		g_debug("unclaimed MMIO read 0x%" PRIx64 " size %u", addr, len);
		val = ones(len);
	}
	memcpy(run->mmio.data, &val, len);
}

static void vcpu_fail(struct vcpu *v, const char *what)
{
	g_printerr("mpvmm: vCPU%u: %s; stopping the VM\n", v->index, what);
	vcpu_dump(v);
	machine_stop(v->m, VMM_EXIT_GUEST_FAILED);
}

static void vcpu_internal_error(struct vcpu *v)
{
	static const char *const names[] = {
		[KVM_INTERNAL_ERROR_EMULATION] = "instruction emulation failed",
		[KVM_INTERNAL_ERROR_SIMUL_EX] = "exception while delivering an exception",
		[KVM_INTERNAL_ERROR_DELIVERY_EV] = "event delivery failed",
		[KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON] = "unexpected hardware exit",
	};
	uint32_t sub = v->run->internal.suberror;
	const char *name = sub < G_N_ELEMENTS(names) && names[sub] ? names[sub] : "unknown";
	g_autofree char *what = g_strdup_printf("KVM internal error %u (%s)", sub, name);
	uint32_t nd = MIN(v->run->internal.ndata, G_N_ELEMENTS(v->run->internal.data));

	for (uint32_t i = 0; i < nd; i++)
		g_printerr("mpvmm: vCPU%u: internal error data[%u] = 0x%llx\n", v->index, i,
			   (unsigned long long)v->run->internal.data[i]);
	vcpu_fail(v, what);
}

/* Every vCPU halted for good (only without an in-kernel irqchip): nothing can wake it. */
static void vcpu_halted(struct vcpu *v)
{
	g_info("vCPU%u: halted", v->index);
	if (__atomic_sub_fetch(&v->m->running, 1, __ATOMIC_ACQ_REL) == 0) {
		g_printerr("mpvmm: every vCPU has halted; stopping the VM\n");
		machine_stop(v->m, VMM_EXIT_STOPPED);
	}
}

static void vcpu_system_event(struct vcpu *v)
{
	switch (v->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		g_printerr("mpvmm: the guest powered off\n");
		machine_stop(v->m, VMM_EXIT_STOPPED);
		break;
	case KVM_SYSTEM_EVENT_RESET:
		g_printerr("mpvmm: the guest asked for a reset; mpvmm does not reboot\n");
		machine_stop(v->m, VMM_EXIT_STOPPED);
		break;
	default:
		vcpu_fail(v, "the guest reported a crash (KVM_EXIT_SYSTEM_EVENT)");
		break;
	}
}

/* Handle one exit; false when this vCPU must not run again. */
static bool vcpu_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	g_autofree char *what = NULL;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		vcpu_pio(v);
		return true;
	case KVM_EXIT_MMIO:
		vcpu_mmio(v);
		return true;
	case KVM_EXIT_HLT:
		vcpu_halted(v);
		return false;
	case KVM_EXIT_SHUTDOWN:
		vcpu_fail(v, "guest triple fault (KVM_EXIT_SHUTDOWN)");
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		vcpu_system_event(v);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		vcpu_internal_error(v);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		what = g_strdup_printf("KVM could not enter the guest (hardware reason 0x%llx)",
				       run->fail_entry.hardware_entry_failure_reason);
		vcpu_fail(v, what);
		return false;
	default:
		what = g_strdup_printf("unhandled KVM exit reason %u", run->exit_reason);
		vcpu_fail(v, what);
		return false;
	}
}

/* Park while a pause is requested (vcpus_pause); the kick's immediate_exit is undone. */
static void vcpu_park(struct vcpu *v)
{
	struct vcpu_pause *p = &v->m->pause;

	/*
	 * Complete an I/O exit KVM still holds (KVM API, KVM_CAP_IMMEDIATE_EXIT: KVM_RUN
	 * with immediate_exit set finishes pending MMIO/PIO and returns -EINTR), so the
	 * parked vCPU's state is whole: system_reset may replace it.
	 */
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_RELEASE);
	if (ioctl(v->fd, KVM_RUN, 0) == 0)
		g_debug("vCPU%u: exit %u while completing I/O to park", v->index,
			v->run->exit_reason);
	pthread_mutex_lock(&p->lock);
	if (p->requested && !machine_stopping(v->m)) {
		p->parked++;
		pthread_cond_broadcast(&p->cond);
		while (p->requested && !machine_stopping(v->m))
			pthread_cond_wait(&p->cond, &p->lock);
		p->parked--;
	}
	pthread_mutex_unlock(&p->lock);
	if (!machine_stopping(v->m))
		__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_RELEASE);
}

static void vcpu_set_live(struct vcpu *v, bool live)
{
	struct vcpu_pause *p = &v->m->pause;

	pthread_mutex_lock(&p->lock);
	v->live = live;
	v->self = pthread_self();
	if (live)
		p->live++;
	else
		p->live--;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	g_autofree char *name = g_strdup_printf("vcpu%u", v->index);
	sigset_t kick;

	pthread_setname_np(pthread_self(), name);
	sigemptyset(&kick);
	sigaddset(&kick, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
	vcpu_set_live(v, true);
	while (!machine_stopping(v->m)) {
		if (__atomic_load_n(&v->m->pause.requested, __ATOMIC_ACQUIRE)) {
			vcpu_park(v);
			continue; /* re-check stopping */
		}
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			g_autofree char *what =
				g_strdup_printf("KVM_RUN failed: %s", g_strerror(errno));
			vcpu_fail(v, what);
			break;
		}
		v->exits++;
		v->exits_io += v->run->exit_reason == KVM_EXIT_IO;
		v->exits_mmio += v->run->exit_reason == KVM_EXIT_MMIO;
		if (!vcpu_exit(v))
			break;
	}
	vcpu_set_live(v, false);
	return NULL;
}

static void vcpu_kick_handler(int sig)
{
	(void)sig; /* only there to interrupt KVM_RUN */
}

int vcpu_start(struct vcpu *v)
{
	struct sigaction sa = {.sa_handler = vcpu_kick_handler};
	int ret;

	sigemptyset(&sa.sa_mask);
	if (sigaction(VCPU_KICK_SIGNAL, &sa, NULL) < 0)
		return -errno;
	ret = pthread_create(&v->thread, NULL, vcpu_thread, v);
	if (ret)
		return -ret;
	v->started = true;
	return 0;
}

void vcpu_kick(struct vcpu *v)
{
	if (!v->started)
		return;
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_RELEASE);
	pthread_kill(v->thread, VCPU_KICK_SIGNAL);
}

int vcpu_join(struct vcpu *v, const struct timespec *deadline)
{
	int ret;

	if (!v->started)
		return 0;
	ret = pthread_timedjoin_np(v->thread, NULL, deadline);
	if (ret)
		return -ret;
	v->started = false;
	return 0;
}

/* ---- pausing (QMP stop/cont/system_reset, -S) ---- */

void vcpus_pause_init(struct vcpu_pause *p, bool paused)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &ca);
	pthread_condattr_destroy(&ca);
	p->requested = paused;
	p->live = p->parked = 0;
}

void vcpus_pause_fini(struct vcpu_pause *p)
{
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
}

/* Under p->lock: kick every live thread (a thread clears its `live` under the lock
 * before it ends, so it is not joined yet). */
static void vcpus_kick_live(struct machine *m)
{
	for (unsigned i = 0; i < m->nr_vcpus; i++) {
		struct vcpu *v = &m->vcpus[i];

		if (!v->live)
			continue;
		__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_RELEASE);
		pthread_kill(v->self, VCPU_KICK_SIGNAL);
	}
}

int vcpus_pause(struct machine *m)
{
	struct vcpu_pause *p = &m->pause;
	struct timespec now, until;
	int64_t end_ns;
	int ret = 0;

	clock_gettime(CLOCK_MONOTONIC, &now);
	end_ns = now.tv_sec * 1000000000LL + now.tv_nsec + VCPU_PAUSE_TIMEOUT_MS * 1000000LL;
	pthread_mutex_lock(&p->lock);
	__atomic_store_n(&p->requested, true, __ATOMIC_RELEASE);
	while (p->parked < p->live && ret == 0) {
		int64_t t;

		vcpus_kick_live(m);
		clock_gettime(CLOCK_MONOTONIC, &now);
		t = MIN(now.tv_sec * 1000000000LL + now.tv_nsec + 10000000LL, end_ns);
		until = (struct timespec){.tv_sec = t / 1000000000LL, .tv_nsec = t % 1000000000LL};
		if (pthread_cond_timedwait(&p->cond, &p->lock, &until) == ETIMEDOUT && t == end_ns)
			ret = p->parked < p->live ? -ETIMEDOUT : 0;
	}
	pthread_mutex_unlock(&p->lock);
	return ret;
}

void vcpus_resume(struct machine *m)
{
	struct vcpu_pause *p = &m->pause;

	pthread_mutex_lock(&p->lock);
	__atomic_store_n(&p->requested, false, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

/* ---- reset state (QMP system_reset) ---- */

struct vcpu_snapshot {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;
	struct kvm_lapic_state lapic;
	struct kvm_mp_state mp;
	struct kvm_vcpu_events events;
};

static int vcpu_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) < 0 ? -errno : 0;
}

int vcpus_snapshot(struct machine *m)
{
	struct vcpu_snapshot *s = g_new0(struct vcpu_snapshot, m->nr_vcpus);
	int ret = 0;

	for (unsigned i = 0; i < m->nr_vcpus && ret == 0; i++) {
		int fd = m->vcpus[i].fd;

		ret = vcpu_ioctl(fd, KVM_GET_REGS, &s[i].regs);
		if (ret == 0)
			ret = vcpu_ioctl(fd, KVM_GET_SREGS, &s[i].sregs);
		if (ret == 0)
			ret = vcpu_ioctl(fd, KVM_GET_FPU, &s[i].fpu);
		if (ret == 0)
			ret = vcpu_ioctl(fd, KVM_GET_LAPIC, &s[i].lapic);
		if (ret == 0)
			ret = vcpu_ioctl(fd, KVM_GET_MP_STATE, &s[i].mp);
		if (ret == 0)
			ret = vcpu_ioctl(fd, KVM_GET_VCPU_EVENTS, &s[i].events);
	}
	if (ret < 0) {
		g_free(s);
		return ret;
	}
	g_free(m->snapshot);
	m->snapshot = s;
	return 0;
}

int vcpus_restore(struct machine *m)
{
	int ret = m->snapshot ? 0 : -ENOENT;

	for (unsigned i = 0; i < m->nr_vcpus && ret == 0; i++) {
		struct vcpu_snapshot *s = &m->snapshot[i];
		int fd = m->vcpus[i].fd;

		/* sregs first: they hold the APIC base the LAPIC state is read against */
		ret = vcpu_ioctl(fd, KVM_SET_SREGS, &s->sregs);
		if (ret == 0)
			ret = vcpu_ioctl(fd, KVM_SET_REGS, &s->regs);
		if (ret == 0)
			ret = vcpu_ioctl(fd, KVM_SET_FPU, &s->fpu);
		if (ret == 0)
			ret = vcpu_ioctl(fd, KVM_SET_LAPIC, &s->lapic);
		if (ret == 0)
			ret = vcpu_ioctl(fd, KVM_SET_VCPU_EVENTS, &s->events);
		if (ret == 0)
			ret = vcpu_ioctl(fd, KVM_SET_MP_STATE, &s->mp);
	}
	return ret;
}
