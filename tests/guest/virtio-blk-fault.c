// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio-blk-fault.c: the fault modes of virtio-blk.elf.
 *
 * reset=N: N rounds of a device reset with qd requests in flight (virtio 1.2, 2.4 and
 * 4.1.4.3.2: the driver writes 0 to device_status and reads it until it is 0; from
 * then on the device must not touch the old rings or buffers).  Each round sends
 * writes (even slots) and reads (odd slots) to the first qd * bs sectors, notifies
 * the first half and only makes the second half available (so some requests are
 * usually still waiting in the ring), resets after a delay that grows with the round,
 * then checks: status reads back 0,
 * queue_enable reads 0, every request either completed (in a used ring, status OK,
 * a read holding the old data) or was left alone (status byte unwritten), and the used
 * rings, status bytes and read buffers stay the same for a while even after another
 * notification.  Then it reinitialises the driver and reads the region back: every
 * sector holds the old pattern or the new one, and the new one wherever the write had
 * completed.  The disk is written with seed= first and read back whole at the end.
 *
 * lost=1: write the disk at qd until no completion comes within timeout= (the host
 * kills the process serving the device once "# I/O running" is printed), then check
 * that the driver can tell: device status all-ones (NEEDS_RESET and FAILED set, an
 * impossible value), configuration space all-ones, a reset that never reads back 0.
 * It exits with BLK_EXIT_LOST when those checks pass.
 *
 * Not a recovery driver: a lost device is only reported.
 */
#include "virtio-blk.h"

#define FAULT_RESET_READS 1000000ul	 /* status reads before a reset counts as stuck */
#define FAULT_QUIET_CYCLES 100000000ull	 /* how long the old rings must stay still */
#define FAULT_DELAY_CYCLES 20000ull	 /* per round, between the notify and the reset */
#define FAULT_LOST_CYCLES 30000000000ull /* lost=1: give up if I/O runs on this long */
#define FAULT_STATUS_GONE 0xff

static struct virtq_used snap_used[VIRTIO_MAX_QUEUES];
static uint8_t snap_status[BLK_MAX_QD];
static uint8_t snap_bufs[BLK_MAX_QD][BLK_MAX_BS * BLK_SECTOR] __attribute__((aligned(8)));
static bool completed[BLK_MAX_QD];

static uint64_t fault_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static void fault_spin(uint64_t cycles)
{
	uint64_t t0 = fault_rdtsc();

	while (fault_rdtsc() - t0 < cycles)
		__asm__ volatile("pause" ::: "memory");
}

static bool is_write_slot(unsigned slot)
{
	return !(slot & 1);
}

/*
 * Make the chains added so far available without a notification (2.6.13): the device
 * finds them only if it looks at the ring again.
 */
static void reset_publish(void)
{
	for (unsigned q = 0; q < blk.nq; q++) {
		__asm__ volatile("" ::: "memory");
		*(volatile uint16_t *)&blk.vq[q].avail->idx = blk.vq[q].avail_idx;
	}
}

/*
 * Writes of @seed's pattern in even slots, reads in odd ones, slot s at sector s * bs.
 * The first half is notified, the second half only made available.
 */
static void reset_submit(unsigned qd, unsigned bs, uint64_t seed)
{
	blk_set_seed(seed);
	for (unsigned s = 0; s < qd; s++) {
		if (s == qd / 2)
			blk_kick_all();
		reqs[s].nsec = bs;
		if (is_write_slot(s)) {
			blk_fill(bufs[s], bs);
			blk_stamp(bufs[s], (uint64_t)s * bs, bs);
		} else {
			rep_stosq(bufs[s], BLK_POISON, bs * BLK_WORDS);
		}
		if (blk_submit(s, is_write_slot(s) ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN,
			       (uint64_t)s * bs, bs * BLK_SECTOR) < 0)
			guest_abort("no room for %u requests in flight", qd);
		completed[s] = false;
	}
	reset_publish();
}

/* What the device may write: used rings, status bytes, read buffers. */
static void reset_snapshot(unsigned qd, unsigned bs)
{
	for (unsigned q = 0; q < blk.nq; q++)
		memcpy(&snap_used[q], (const void *)blk.vq[q].used, sizeof(snap_used[q]));
	for (unsigned s = 0; s < qd; s++) {
		snap_status[s] = *(volatile uint8_t *)&reqs[s].status;
		rep_movsq(snap_bufs[s], bufs[s], bs * BLK_WORDS);
	}
}

static bool reset_unchanged(unsigned qd, unsigned bs)
{
	bool same = true;

	for (unsigned q = 0; q < blk.nq; q++)
		same &= !memcmp(&snap_used[q], (const void *)blk.vq[q].used, sizeof(snap_used[q]));
	for (unsigned s = 0; s < qd; s++)
		same &= snap_status[s] == *(volatile uint8_t *)&reqs[s].status &&
			repe_cmpsq(snap_bufs[s], bufs[s], bs * BLK_WORDS);
	return same;
}

static void reset_mark(unsigned slot, void *ctx)
{
	(void)ctx;
	completed[slot] = true;
}

/*
 * Completed requests must be whole (status OK, reads hold @old's pattern); the others
 * untouched (status byte as the driver left it).  Returns the completed count.
 */
static unsigned reset_classify(unsigned qd, unsigned bs, uint64_t old, unsigned *bad)
{
	unsigned n = blk_reap(reset_mark, NULL), done = 0;

	(void)n;
	blk_set_seed(old);
	for (unsigned s = 0; s < qd; s++) {
		uint8_t st = reqs[s].status;

		if (!completed[s]) {
			*bad += st != BLK_STATUS_NONE;
			continue;
		}
		done++;
		*bad += st != VIRTIO_BLK_S_OK;
		if (!is_write_slot(s) && st == VIRTIO_BLK_S_OK)
			*bad += blk_check(bufs[s], (uint64_t)s * bs, bs) != 0;
	}
	return done;
}

/* Sectors of write slot @s that hold neither pattern, or the old one after completion. */
static unsigned reset_verify_slot(unsigned s, unsigned bs, uint64_t old, uint64_t new)
{
	uint64_t sector = (uint64_t)s * bs;
	uint8_t st = blk_sync(VIRTIO_BLK_T_IN, sector, bs * BLK_SECTOR);
	unsigned bad = 0;

	if (st != VIRTIO_BLK_S_OK)
		return bs;
	for (unsigned i = 0; i < bs; i++) {
		const uint8_t *b = bufs[0] + i * BLK_SECTOR;

		blk_set_seed(new);
		if (!blk_check(b, sector + i, 1))
			continue;
		blk_set_seed(old);
		bad += completed[s] || blk_check(b, sector + i, 1);
	}
	return bad;
}

/* Read the region back, then put @old's pattern back where the writes went. */
static void reset_verify(unsigned round, unsigned qd, unsigned bs, uint64_t old, uint64_t new)
{
	unsigned bad = 0, rewritten = 0;

	for (unsigned s = 0; s < qd; s++) {
		if (is_write_slot(s)) {
			bad += reset_verify_slot(s, bs, old, new);
		} else {
			blk_set_seed(old);
			bad += blk_sync(VIRTIO_BLK_T_IN, (uint64_t)s * bs, bs * BLK_SECTOR) !=
				       VIRTIO_BLK_S_OK ||
			       blk_check(bufs[0], (uint64_t)s * bs, bs);
		}
	}
	report(bad == 0,
	       "round %u: after reinitialising, every written sector holds the old "
	       "or the new pattern, the new one where the write completed (%u bad)",
	       round, bad);
	blk_set_seed(old);
	for (unsigned s = 0; s < qd; s += 2) {
		blk_fill(bufs[0], bs);
		blk_stamp(bufs[0], (uint64_t)s * bs, bs);
		rewritten += blk_sync(VIRTIO_BLK_T_OUT, (uint64_t)s * bs, bs * BLK_SECTOR) ==
			     VIRTIO_BLK_S_OK;
	}
	report(rewritten == (qd + 1) / 2, "round %u: the old pattern written back (%u requests)",
	       round, rewritten);
}

static void reset_round(unsigned round, unsigned qd, unsigned bs, uint64_t seed, bool msix)
{
	unsigned bad = 0, done, enabled = 0;
	bool zero;

	reset_submit(qd, bs, seed + 1 + round);
	fault_spin(round * FAULT_DELAY_CYCLES);
	zero = virtio_reset_wait(&blk.vd, FAULT_RESET_READS);
	reset_snapshot(qd, bs);
	for (unsigned q = 0; q < blk.nq; q++)
		enabled += virtio_queue_enabled(&blk.vd, q);
	done = reset_classify(qd, bs, seed, &bad);
	report(zero && enabled == 0,
	       "round %u: device status reads back 0 after the reset, no queue enabled (%u); "
	       "%u of %u requests had completed",
	       round, enabled, done, qd);
	report(bad == 0, "round %u: completed requests whole, the others untouched (%u bad)", round,
	       bad);
	/* A notification to the reset device, then time for a stray completion to land. */
	for (unsigned q = 0; q < blk.nq; q++)
		writew((uint16_t)q, blk.vq[q].notify);
	fault_spin(FAULT_QUIET_CYCLES);
	report(reset_unchanged(qd, bs),
	       "round %u: used rings, status bytes and buffers unchanged after the reset", round);
	blk_start(msix, false);
	reset_verify(round, qd, bs, seed, seed + 1 + round);
}

void blk_reset_test(unsigned qd, unsigned bs, uint64_t seed, unsigned rounds, bool msix)
{
	if ((uint64_t)qd * bs > blk.capacity)
		guest_abort("reset=: qd=%u requests of %u sectors exceed the disk", qd, bs);
	blk_pass(qd, bs, seed, true);
	blk_one_irq(false); /* interrupt counts are not checked across resets */
	for (unsigned r = 0; r < rounds; r++)
		reset_round(r, qd, bs, seed, msix);
	blk_pass(qd, bs, seed, false);
}

struct lost_count {
	unsigned long done, bad_status;
};

static void lost_done(unsigned slot, void *ctx)
{
	struct lost_count *c = ctx;

	c->done++;
	c->bad_status += reqs[slot].status != VIRTIO_BLK_S_OK;
}

/* Sequential writes at @qd until a wait times out; false if I/O ran on too long. */
static bool lost_run(unsigned qd, unsigned bs, struct lost_count *c)
{
	uint64_t span = blk.capacity / bs, next = 0, t0 = 0;

	for (;;) {
		unsigned long seen;

		for (unsigned s = 0; s < qd; s++) {
			uint64_t sector = next % span * bs;

			if (reqs[s].busy)
				continue;
			reqs[s].nsec = bs;
			blk_stamp(bufs[s], sector, bs);
			if (blk_submit(s, VIRTIO_BLK_T_OUT, sector, bs * BLK_SECTOR) < 0)
				break;
			next++;
		}
		blk_kick_all();
		if (!t0 && c->done >= 4ul * qd) {
			report_note("I/O running: %lu requests done", c->done);
			t0 = fault_rdtsc();
		}
		if (t0 && fault_rdtsc() - t0 > FAULT_LOST_CYCLES)
			return false;
		seen = virtio_irq_total(&blk.vd);
		if (blk_reap(lost_done, c))
			continue;
		if (virtio_wait(&blk.vd, blk.irq, seen, blk.timeout) < 0)
			return true;
	}
}

int blk_lost(unsigned qd, unsigned bs, uint64_t seed)
{
	struct lost_count c = {0};
	bool stopped, reset_ok;
	uint8_t st;
	uint16_t vendor;

	blk_set_seed(seed);
	for (unsigned s = 0; s < qd; s++)
		blk_fill(bufs[s], bs);
	stopped = lost_run(qd, bs, &c);
	report(stopped,
	       "I/O stopped: no completion within the timeout (%lu requests done, %lu "
	       "not OK)",
	       c.done, c.bad_status);
	st = virtio_status(&blk.vd);
	report(st == FAULT_STATUS_GONE,
	       "device status reads 0x%x: all-ones, NEEDS_RESET and FAILED both set", st);
	vendor = pci_cfg_readw(blk.vd.fn->bdf, 0);
	report(vendor == 0xffff, "configuration space reads all-ones too (vendor 0x%x)", vendor);
	__asm__ volatile("cli");
	reset_ok = virtio_reset_wait(&blk.vd, 1000);
	report(!reset_ok, "a reset never reads back 0: the driver gives up on the device");
	if (report_failures())
		return report_summary();
	report_summary();
	return BLK_EXIT_LOST;
}
