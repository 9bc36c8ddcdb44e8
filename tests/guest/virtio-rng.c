// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio-rng.c: a guest test of a virtio entropy device (virtio 1.1, 5.4) over the
 * modern PCI transport.  It offers device-writable buffers of several sizes, some
 * singly and some several at a time, and checks what comes back: a used length
 * between 1 and the buffer size, bytes past that length untouched, the bytes not all
 * equal, two buffers not identical.  Interrupts are counted as in virtio-blk: with
 * mode=irq every wait ends by an MSI-X, with mode=intx by an INTx (IOAPIC, level;
 * virtio-intx.c), with mode=poll none may arrive.
 *
 * It is not a randomness test: a device returning a counter would pass.
 */
#include "virtio.h"

#define RNG_VECTOR_BASE 0x50
#define RNG_MAX_QD 16u
#define RNG_BUF 16384u

static const uint32_t rng_sizes[] = {1, 7, 64, 512, 4096, RNG_BUF};

struct rng_slot {
	uint32_t size;
	uint8_t fill;
	bool busy;
	uint32_t len;
};

static struct virtio_dev vd;
static struct virtq vq;
static struct rng_slot slots[RNG_MAX_QD];
static uint8_t bufs[RNG_MAX_QD][RNG_BUF] __attribute__((aligned(4096)));
static bool rng_irq, rng_intx;
static unsigned long rng_timeout, rng_waits, rng_bad_id;

static void rng_setup(bool msix)
{
	int r = pci_init();

	if (r < 0)
		guest_abort("PCI enumeration failed (%d)", r);
	r = virtio_find(&vd, VIRTIO_MODERN_ID_BASE + VIRTIO_ID_ENTROPY, 0x1005, 0);
	if (r < 0)
		guest_abort("no usable virtio-rng (1af4:1044 or 1af4:1005): %d", r);
	report(true, "virtio-rng %04x:%04x at %02x:%02x.%x", vd.fn->vendor, vd.fn->device,
	       vd.fn->bdf >> 8, (vd.fn->bdf >> 3) & 0x1f, vd.fn->bdf & 7);
	r = virtio_negotiate(&vd, 0);
	if (!report(r == 0 && vd.features == VIRTIO_BIT(VIRTIO_F_VERSION_1),
		    "features: offered 0x%lx, accepted 0x%lx (%d)", (unsigned long)vd.offered,
		    (unsigned long)vd.features, r))
		guest_abort("feature negotiation failed");
	if (msix) {
		r = virtio_msix_setup(&vd, RNG_VECTOR_BASE, 2);
		if (r < 0 || virtio_config_vector(&vd, 0) < 0)
			guest_abort("MSI-X setup failed (%d)", r);
	} else if (rng_intx) {
		r = virtio_intx_setup(&vd, RNG_VECTOR_BASE);
		if (!report(r == 0, "INTx: pin %u, IOAPIC line %u (%d)",
			    pci_cfg_readb(vd.fn->bdf, 0x3d), vd.intx_line, r))
			guest_abort("INTx setup failed (%d)", r);
	}
	r = virtio_queue_setup(&vd, &vq, 0, VIRTQ_MAX_SIZE, msix ? 1 : VIRTIO_MSI_NO_VECTOR);
	if (r < 0)
		guest_abort("requestq setup failed (%d)", r);
	virtq_suppress_irq(&vq, !rng_irq);
	r = virtio_driver_ok(&vd);
	report((r & VIRTIO_S_DRIVER_OK) && !(r & (VIRTIO_S_NEEDS_RESET | VIRTIO_S_FAILED)),
	       "DRIVER_OK: device status 0x%x, queue size %u", r, vq.size);
	virtio_pcicfg_check(&vd);
	__asm__ volatile("sti");
}

static void rng_submit(unsigned i, uint32_t size, uint8_t fill)
{
	struct virtq_buf b = {(uintptr_t)bufs[i], size, true};

	slots[i] = (struct rng_slot){.size = size, .fill = fill, .busy = true};
	rep_stosq(bufs[i], fill * 0x0101010101010101ull, RNG_BUF / 8);
	if (virtq_add(&vq, &b, 1, &slots[i]) < 0)
		guest_abort("no free descriptor");
}

/* Wait until every slot below @n is back. */
static void rng_collect(unsigned n)
{
	unsigned busy = n;

	while (busy) {
		unsigned long seen = virtio_irq_total(&vd);
		void *tok;
		uint32_t len;
		int r;

		while ((r = virtq_get(&vq, &tok, &len)) == 1) {
			((struct rng_slot *)tok)->busy = false;
			((struct rng_slot *)tok)->len = len;
			busy--;
		}
		if (r < 0)
			rng_bad_id++;
		if (!busy || r < 0)
			break;
		rng_waits++;
		if (virtio_wait(&vd, rng_irq, seen, rng_timeout) < 0)
			guest_abort("no entropy within the timeout (%s mode, %lu interrupts)",
				    rng_irq ? "irq" : "poll", virtio_irq_total(&vd));
	}
}

/* Checks one returned buffer; returns true when it looks like entropy. */
static bool rng_check(unsigned i)
{
	const struct rng_slot *s = &slots[i];
	if (s->len == 0 || s->len > s->size)
		return false;
	/* Past len: untouched.  16 equal random bytes happen with probability 2^-120. */
	return repe_scasb(bufs[i] + s->len, s->fill, RNG_BUF - s->len) &&
	       !(s->len >= 16 && repe_scasb(bufs[i] + 1, bufs[i][0], s->len - 1));
}

static void rng_round(unsigned qd, unsigned first, uint8_t fill)
{
	unsigned long irq0, w0 = rng_waits, done0 = vq.completed, bytes = 0, irqs, done;
	unsigned n = qd, good = 0;

	for (unsigned i = 0; i < 4; i++)
		virtio_status(&vd); /* exits: a late interrupt of the last round lands now */
	irq0 = virtio_irq_total(&vd);

	for (unsigned i = 0; i < n; i++)
		rng_submit(i, rng_sizes[(first + i) % ARRAY_SIZE(rng_sizes)], fill);
	virtq_kick(&vd, &vq);
	/* One in flight: wait for its own interrupt first, so the count is exact. */
	if (rng_irq && n == 1 && virtio_wait_irqs(&vd, irq0 + 1, rng_timeout) < 0)
		guest_abort("no interrupt for the request in flight");
	rng_collect(n);
	for (unsigned i = 0; i < n; i++) {
		good += rng_check(i);
		bytes += slots[i].len;
	}
	report(good == n && !rng_bad_id,
	       "qd=%u fill 0x%02x: %u/%u buffers sane (%lu bytes, lengths <= size, tails intact)",
	       qd, fill, good, n, bytes);
	if (n >= 2 && slots[0].len >= 16 && slots[1].len >= 16)
		report(memcmp(bufs[0], bufs[1], 16), "qd=%u: two buffers differ", qd);
	irqs = virtio_irq_total(&vd) - irq0;
	done = vq.completed - done0;
	if (!rng_irq)
		report(irqs == 0, "qd=%u: no interrupt in poll mode (%lu)", qd, irqs);
	else if (n == 1)
		report(irqs == 1, "qd=1: one interrupt for one request (%lu)", irqs);
	else
		report(irqs >= rng_waits - w0 && irqs >= 1 && irqs <= done,
		       "qd=%u: %lu interrupts for %lu requests and %lu waits", qd, irqs, done,
		       rng_waits - w0);
}

int main(void)
{
	unsigned qd = (unsigned)guest_opt_ulong("qd", 4, RNG_MAX_QD);
	unsigned rounds = (unsigned)guest_opt_ulong("rounds", 2, 100);
	enum virtio_mode mode = virtio_opt_mode();
	bool msix = guest_opt_ulong("msix", mode != VIRTIO_MODE_INTX, 1);
	unsigned long cfg_irqs;

	rng_timeout = guest_opt_ulong("timeout", 10, 1000);
	rng_irq = mode != VIRTIO_MODE_POLL;
	rng_intx = mode == VIRTIO_MODE_INTX;
	virtio_wait_hlt(virtio_opt_choice("wait", "spin", "hlt"));
	if (!qd || (mode == VIRTIO_MODE_IRQ && !msix) || (rng_intx && msix))
		guest_abort("qd= must be 1..%u; mode=irq needs msix=1, mode=intx msix=0",
			    RNG_MAX_QD);
	rng_setup(msix);
	if (qd > vq.size)
		guest_abort("qd=%u exceeds the device's queue size %u", qd, vq.size);
	for (unsigned r = 0; r < rounds; r++) {
		/* One at a time through every size, then @qd in flight at once. */
		for (unsigned i = 0; i < ARRAY_SIZE(rng_sizes); i++)
			rng_round(1, i, (uint8_t)(r & 1 ? 0xff : 0x00));
		rng_round(qd, r, 0xa5);
	}
	cfg_irqs = rng_intx ? virtio_intx_config() : virtio_irq_count(0);
	report(cfg_irqs == 0, "no config-change interrupt (%lu)", cfg_irqs);
	if (rng_intx)
		report(virtio_intx_foreign() == 0, "INTx: no interrupt without an ISR cause (%lu)",
		       virtio_intx_foreign());
	report_note("%lu requests, %lu notifications, %lu waits, %lu interrupts", vq.completed,
		    vq.kicks, rng_waits, virtio_irq_total(&vd));
	__asm__ volatile("cli");
	virtio_reset(&vd);
	return report_summary();
}
