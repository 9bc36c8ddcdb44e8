// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pcifn: the VMM-side PCI function.  Virtualizes the BAR and expansion-ROM registers
 * (PCI Local Bus Spec 3.0, 6.2.5 "Base Addresses") and the decode enables of the
 * command register (6.2.2), and forwards every other config access and every BAR
 * access to a backend.  It does not know how the backend reaches the device.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proxy/pciirq.h"

#define PCI_COMMAND 0x04
#define PCI_COMMAND_IO 0x1
#define PCI_COMMAND_MEMORY 0x2
#define PCI_BAR0 0x10
#define PCI_BAR_END 0x28
#define PCI_ROM 0x30
#define PCI_CFG_SPACE 4096u

struct pcifn {
	char *id;
	const struct pcifn_backend_ops *ops;
	void *be;
	pthread_mutex_t lock;
	bool dead;
	uint16_t command; /* shadow of the command register, for decode */
	struct pcifn_bar bar[PCIFN_NUM_BARS];
	uint32_t bar_reg[PCIFN_NUM_BARS]; /* address bits as programmed, per dword */
	struct pciirq *irq;		  /* interrupts, once pcifn_irq_setup() ran */
	uint64_t decoded[PCIFN_NUM_BARS]; /* what bar_hook was last told, 0 = nothing */
	pcifn_bar_map_fn bar_hook;
	void *bar_hook_ctx;
	struct pcifn_ioeventfd ioev[PCIFN_MAX_IOEVENTFDS];
	unsigned nr_ioev;
};

static void pcifn_bars_changed(struct pcifn *fn);

static bool pcifn_bars_valid(const struct pcifn_bar bars[PCIFN_NUM_BARS])
{
	for (unsigned i = 0; i < PCIFN_NUM_BARS; i++) {
		const struct pcifn_bar *b = &bars[i];
		bool io = b->flags & PCIFN_BAR_IO;

		if (b->size == 0)
			continue;
		if (b->flags & ~(uint32_t)(PCIFN_BAR_IO | PCIFN_BAR_MEM64 | PCIFN_BAR_PREFETCH))
			return false;
		if (b->size & (b->size - 1))
			return false;
		if (io && (b->flags != PCIFN_BAR_IO || b->size < 4 || b->size > 65536))
			return false;
		if (!io && b->size < 16)
			return false;
		if (!(b->flags & PCIFN_BAR_MEM64) && b->size > (1ULL << 31))
			return false;
		if (b->flags & PCIFN_BAR_MEM64) {
			if (i == PCIFN_NUM_BARS - 1 || bars[i + 1].size != 0)
				return false;
			i++; /* the upper half */
		}
	}
	return true;
}

int pcifn_create(const char *id, const struct pcifn_backend_ops *ops, void *be,
		 const struct pcifn_bar bars[PCIFN_NUM_BARS], struct pcifn **out)
{
	struct pcifn *fn;

	if (!pcifn_bars_valid(bars)) {
		ops->destroy(be);
		return -EINVAL;
	}
	fn = calloc(1, sizeof(*fn));
	if (!fn) {
		ops->destroy(be);
		return -ENOMEM;
	}
	fn->id = strdup(id);
	if (!fn->id) {
		free(fn);
		ops->destroy(be);
		return -ENOMEM;
	}
	fn->ops = ops;
	fn->be = be;
	pthread_mutex_init(&fn->lock, NULL);
	memcpy(fn->bar, bars, sizeof(fn->bar));
	*out = fn;
	return 0;
}

void pcifn_destroy(struct pcifn *fn)
{
	if (!fn)
		return;
	pciirq_destroy(fn->irq);
	fn->ops->destroy(fn->be);
	for (unsigned i = 0; i < fn->nr_ioev; i++)
		close(fn->ioev[i].fd);
	pthread_mutex_destroy(&fn->lock);
	free(fn->id);
	free(fn);
}

const char *pcifn_id(const struct pcifn *fn)
{
	return fn->id;
}

void pcifn_bar_sizes(const struct pcifn *fn, uint64_t size[PCIFN_NUM_BARS])
{
	for (unsigned i = 0; i < PCIFN_NUM_BARS; i++)
		size[i] = fn->bar[i].size; /* fixed at pcifn_create: no lock */
}

bool pcifn_dead(const struct pcifn *fn)
{
	return __atomic_load_n(&fn->dead, __ATOMIC_ACQUIRE);
}

/* Called with fn->lock held.  Transport failures kill the function, once. */
static int pcifn_check(struct pcifn *fn, int ret, const char *what)
{
	if (ret == -ECONNRESET || ret == -EPIPE || ret == -EPROTO || ret == -ENOTCONN) {
		if (!fn->dead)
			g_warning("%s: device backend failed during %s (%s); the device now "
				  "reads as all-ones",
				  fn->id, what, g_strerror(-ret));
		__atomic_store_n(&fn->dead, true, __ATOMIC_RELEASE);
	}
	return ret;
}

/* Mask of the address bits of the dword at BAR register index reg. */
static uint32_t pcifn_bar_mask(const struct pcifn *fn, unsigned reg)
{
	if (reg > 0 && (fn->bar[reg - 1].flags & PCIFN_BAR_MEM64) && fn->bar[reg - 1].size)
		return (uint32_t)(~(fn->bar[reg - 1].size - 1) >> 32);
	if (fn->bar[reg].size == 0)
		return 0;
	if (fn->bar[reg].flags & PCIFN_BAR_IO)
		return (uint32_t) ~(fn->bar[reg].size - 1) & 0xfffffffcu;
	return (uint32_t) ~(fn->bar[reg].size - 1) & 0xfffffff0u;
}

/* The register value a guest reads: programmed address bits plus the type bits. */
static uint32_t pcifn_bar_dword(const struct pcifn *fn, unsigned reg)
{
	uint32_t val = fn->bar_reg[reg] & pcifn_bar_mask(fn, reg);
	const struct pcifn_bar *b = &fn->bar[reg];

	if (b->size == 0)
		return val; /* absent, or the upper half of a 64-bit BAR */
	return val | b->flags;
}

/* Dword value of a virtualized register, or false if the dword is forwarded. */
static bool pcifn_virt_dword(const struct pcifn *fn, uint32_t dw, uint32_t *val)
{
	if (dw >= PCI_BAR0 && dw < PCI_BAR_END) {
		*val = pcifn_bar_dword(fn, (dw - PCI_BAR0) / 4);
		return true;
	}
	if (dw == PCI_ROM) {
		*val = 0; /* no expansion ROM is exposed */
		return true;
	}
	return false;
}

static bool pcifn_access_ok(uint32_t off, unsigned size)
{
	return (size == 1 || size == 2 || size == 4) && off < PCI_CFG_SPACE && !(off & (size - 1));
}

int pcifn_cfg_read(struct pcifn *fn, uint32_t off, unsigned size, uint32_t *val)
{
	uint32_t dw;
	int ret = 0;

	*val = 0xffffffffu;
	if (!pcifn_access_ok(off, size))
		return -EINVAL;
	if (size < 4)
		*val = (1u << (size * 8)) - 1;
	pthread_mutex_lock(&fn->lock);
	if (fn->dead) {
		ret = -ENODEV;
	} else if (pcifn_virt_dword(fn, off & ~3u, &dw)) {
		dw >>= (off & 3) * 8;
		*val = size == 4 ? dw : dw & ((1u << (size * 8)) - 1);
	} else {
		ret = pcifn_check(fn, fn->ops->cfg_read(fn->be, off, size, val), "config read");
		if (ret < 0)
			*val = size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
		else
			pciirq_cfg_read(fn->irq, off, size, val);
	}
	pthread_mutex_unlock(&fn->lock);
	return ret;
}

static void pcifn_bar_store(struct pcifn *fn, uint32_t off, unsigned size, uint32_t val)
{
	unsigned reg = (off - PCI_BAR0) / 4, shift = (off & 3) * 8;
	uint32_t lane = size == 4 ? 0xffffffffu : ((1u << (size * 8)) - 1) << shift;

	fn->bar_reg[reg] = (fn->bar_reg[reg] & ~lane) | ((val << shift) & lane);
}

static void pcifn_command_store(struct pcifn *fn, uint32_t off, unsigned size, uint32_t val)
{
	for (unsigned i = 0; i < size; i++) {
		uint32_t byte = off + i;

		if (byte == PCI_COMMAND)
			fn->command = (fn->command & 0xff00) | ((val >> (8 * i)) & 0xff);
		else if (byte == PCI_COMMAND + 1)
			fn->command = (fn->command & 0x00ff) | (((val >> (8 * i)) & 0xff) << 8);
	}
}

int pcifn_cfg_write(struct pcifn *fn, uint32_t off, unsigned size, uint32_t val)
{
	uint32_t dw = off & ~3u, unused;
	int ret = 0;

	if (!pcifn_access_ok(off, size))
		return -EINVAL;
	pthread_mutex_lock(&fn->lock);
	if (fn->dead) {
		ret = -ENODEV;
	} else if (pcifn_virt_dword(fn, dw, &unused)) {
		if (dw != PCI_ROM)
			pcifn_bar_store(fn, off, size, val);
	} else {
		if (dw == PCI_COMMAND)
			pcifn_command_store(fn, off, size, val);
		ret = pcifn_check(fn, fn->ops->cfg_write(fn->be, off, size, val), "config write");
		if (ret == 0)
			ret = pcifn_check(fn, pciirq_cfg_write(fn->irq, off, size, val),
					  "interrupt setup");
	}
	pcifn_bars_changed(fn);
	pthread_mutex_unlock(&fn->lock);
	return ret;
}

/* Programmed base of a BAR; 0 means unassigned (never decoded). */
static uint64_t pcifn_bar_base(const struct pcifn *fn, unsigned bar)
{
	uint64_t base = fn->bar_reg[bar] & pcifn_bar_mask(fn, bar);

	if (fn->bar[bar].flags & PCIFN_BAR_MEM64)
		base |= (uint64_t)(fn->bar_reg[bar + 1] & pcifn_bar_mask(fn, bar + 1)) << 32;
	return base;
}

/*
 * Called with fn->lock held after anything that may move a BAR: tell the hook about
 * every BAR whose decoded address (0 when not decoded) changed.
 */
static void pcifn_bars_changed(struct pcifn *fn)
{
	for (unsigned i = 0; i < PCIFN_NUM_BARS && fn->bar_hook; i++) {
		const struct pcifn_bar *b = &fn->bar[i];
		uint16_t enable = (b->flags & PCIFN_BAR_IO) ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
		uint64_t now = b->size && (fn->command & enable) ? pcifn_bar_base(fn, i) : 0;

		if (now == fn->decoded[i])
			continue;
		fn->bar_hook(fn->bar_hook_ctx, fn, i, b->flags & PCIFN_BAR_IO, fn->decoded[i], now);
		fn->decoded[i] = now;
	}
}

void pcifn_set_bar_hook(struct pcifn *fn, pcifn_bar_map_fn hook, void *ctx)
{
	pthread_mutex_lock(&fn->lock);
	fn->bar_hook = hook;
	fn->bar_hook_ctx = ctx;
	/* The new hook learns where the BARs are decoded now (firmware may have set them). */
	memset(fn->decoded, 0, sizeof(fn->decoded));
	pcifn_bars_changed(fn);
	pthread_mutex_unlock(&fn->lock);
}

int pcifn_add_ioeventfd(struct pcifn *fn, const struct pcifn_ioeventfd *ev)
{
	uint64_t end;

	if (ev->bar >= PCIFN_NUM_BARS || !fn->bar[ev->bar].size || ev->fd < 0 ||
	    (ev->size != 1 && ev->size != 2 && ev->size != 4 && ev->size != 8) ||
	    __builtin_add_overflow(ev->off, (uint64_t)ev->size, &end) ||
	    end > fn->bar[ev->bar].size ||
	    (ev->size < 8 && ev->datamatch && (ev->data >> (8 * ev->size))))
		return -EINVAL;
	if (fn->irq && msix_claims(fn->irq, ev->bar, ev->off, ev->size))
		return -EADDRINUSE;
	if (fn->nr_ioev == PCIFN_MAX_IOEVENTFDS)
		return -ENOSPC;
	fn->ioev[fn->nr_ioev++] = *ev;
	return 0;
}

unsigned pcifn_ioeventfds(const struct pcifn *fn, const struct pcifn_ioeventfd **out)
{
	*out = fn->ioev;
	return fn->nr_ioev;
}

bool pcifn_decode(struct pcifn *fn, bool io, uint64_t addr, unsigned len, unsigned *bar,
		  uint64_t *off)
{
	uint16_t enable = io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
	bool found = false;
	uint64_t end;

	if (len == 0 || __builtin_add_overflow(addr, (uint64_t)len, &end))
		return false;
	pthread_mutex_lock(&fn->lock);
	for (unsigned i = 0; i < PCIFN_NUM_BARS && !found && (fn->command & enable); i++) {
		const struct pcifn_bar *b = &fn->bar[i];
		uint64_t base = b->size ? pcifn_bar_base(fn, i) : 0;

		if (!b->size || !!(b->flags & PCIFN_BAR_IO) != io || base == 0)
			continue;
		/* base + size cannot overflow: base is size-aligned and below 2^64. */
		if (addr >= base && end <= base + b->size) {
			*bar = i;
			*off = addr - base;
			found = true;
		}
	}
	pthread_mutex_unlock(&fn->lock);
	return found;
}

static bool pcifn_bar_access_ok(const struct pcifn *fn, unsigned bar, uint64_t off, unsigned size)
{
	uint64_t end;

	return bar < PCIFN_NUM_BARS && fn->bar[bar].size &&
	       (size == 1 || size == 2 || size == 4 || size == 8) &&
	       !__builtin_add_overflow(off, (uint64_t)size, &end) && end <= fn->bar[bar].size;
}

int pcifn_bar_read(struct pcifn *fn, unsigned bar, uint64_t off, unsigned size, uint64_t *val)
{
	int ret;

	*val = size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
	if (!pcifn_bar_access_ok(fn, bar, off, size))
		return -EINVAL;
	pthread_mutex_lock(&fn->lock);
	if (fn->dead) {
		ret = -ENODEV;
	} else if (fn->irq && msix_claims(fn->irq, bar, off, size)) {
		msix_read(fn->irq, bar, off, size, val); /* the MSI-X table or PBA */
		ret = 0;
	} else {
		ret = pcifn_check(fn, fn->ops->bar_read(fn->be, bar, off, size, val), "BAR read");
		if (ret < 0)
			*val = size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
	}
	pthread_mutex_unlock(&fn->lock);
	return ret;
}

int pcifn_bar_write(struct pcifn *fn, unsigned bar, uint64_t off, unsigned size, uint64_t val)
{
	int ret;

	if (!pcifn_bar_access_ok(fn, bar, off, size))
		return -EINVAL;
	pthread_mutex_lock(&fn->lock);
	if (fn->dead)
		ret = -ENODEV;
	else if (fn->irq && msix_claims(fn->irq, bar, off, size))
		msix_write(fn->irq, bar, off, size, val), ret = 0;
	else
		ret = pcifn_check(fn, fn->ops->bar_write(fn->be, bar, off, size, val), "BAR write");
	pthread_mutex_unlock(&fn->lock);
	return ret;
}

/*
 * With fn->lock held, once the MSI-X layout is known: a doorbell over the table or PBA
 * (PCI 3.0, 6.8.2) would become a KVM ioeventfd that swallows the guest's writes to
 * them.  Only a broken or hostile device offers one: -EPROTO.
 */
static int pcifn_doorbells_check(struct pcifn *fn)
{
	for (unsigned i = 0; i < fn->nr_ioev; i++) {
		const struct pcifn_ioeventfd *ev = &fn->ioev[i];

		if (!msix_claims(fn->irq, ev->bar, ev->off, ev->size))
			continue;
		g_warning("%s: the device's doorbell at BAR%u+0x%" PRIx64 " (%u bytes) overlaps "
			  "its MSI-X table or PBA, which the VMM virtualizes; refusing the device",
			  fn->id, ev->bar, ev->off, ev->size);
		return -EPROTO;
	}
	return 0;
}

int pcifn_irq_setup(struct pcifn *fn, const struct pcifn_irq_ops *ops, void *ctx,
		    const unsigned intx_gsi[4])
{
	int ret;

	pthread_mutex_lock(&fn->lock);
	if (fn->irq)
		ret = -EEXIST;
	else if (fn->dead)
		ret = -ENODEV;
	else
		ret = pcifn_check(fn,
				  pciirq_create(fn->id, fn->ops, fn->be, fn->bar, ops, ctx,
						intx_gsi, &fn->irq)
					  ?: pcifn_doorbells_check(fn),
				  "interrupt setup");
	pthread_mutex_unlock(&fn->lock);
	return ret;
}

/* Function-level reset: BARs and decode go back to their power-on state (6.2.5). */
void pcifn_reset(struct pcifn *fn)
{
	pthread_mutex_lock(&fn->lock);
	memset(fn->bar_reg, 0, sizeof(fn->bar_reg));
	fn->command = 0;
	pciirq_reset(fn->irq);
	pcifn_bars_changed(fn);
	if (!fn->dead && fn->ops->reset)
		pcifn_check(fn, fn->ops->reset(fn->be), "reset");
	pthread_mutex_unlock(&fn->lock);
}
