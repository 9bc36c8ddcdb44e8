// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio-blk.c: a guest test of a virtio-blk device (virtio 1.1, 5.2) over the modern
 * PCI transport.  It writes a pattern over the whole disk and reads it back once per
 * queue depth in qd=, flushes, asks for the ID, and sends requests a device must
 * refuse (past the end, unknown type, writes to a read-only disk).  Interrupts are
 * counted: with mode=irq every wait must end by an MSI-X, with mode=intx by an INTx
 * (IOAPIC, level; virtio-intx.c), with mode=poll none may arrive.  The last pass writes the pattern
 * of seed= into every 512-byte sector (see blk_set_seed()), so the host can check the image
 * afterwards.  reset=N and lost=1 run the fault modes of virtio-blk-fault.c instead of the checks.
 *
 * It is not a benchmark and not a filesystem: one device, sequential sweeps, one
 * data buffer per request slot.
 */
#include "virtio-blk.h"

/* Requests a device must refuse cleanly, then a normal read to show it still works. */
static void blk_negative(void)
{
	uint64_t end = blk.capacity;
	uint8_t s;

	s = blk_sync(VIRTIO_BLK_T_IN, end, BLK_SECTOR);
	report(s == VIRTIO_BLK_S_IOERR, "read of sector %lu, just past the end: IOERR (%u)",
	       (unsigned long)end, s);
	s = blk_sync(VIRTIO_BLK_T_IN, end - 1, 2 * BLK_SECTOR);
	report(s == VIRTIO_BLK_S_IOERR, "read straddling the end: IOERR (%u)", s);
	s = blk_sync(VIRTIO_BLK_T_IN, ~0ull - 1, 4 * BLK_SECTOR);
	report(s == VIRTIO_BLK_S_IOERR, "read at sector 2^64-2 (wraps): IOERR (%u)", s);
	s = blk_sync(VIRTIO_BLK_T_BOGUS, 0, 0);
	report(s == VIRTIO_BLK_S_UNSUPP, "request type 0x%x: UNSUPP (%u)", VIRTIO_BLK_T_BOGUS, s);
	s = blk_sync(VIRTIO_BLK_T_IN, 0, BLK_SECTOR);
	report(s == VIRTIO_BLK_S_OK && !(virtio_status(&blk.vd) & VIRTIO_S_NEEDS_RESET),
	       "the device still serves a read afterwards (%u, device status 0x%x)", s,
	       virtio_status(&blk.vd));
}

static void blk_flush_and_id(void)
{
	char id[VIRTIO_BLK_ID_BYTES + 1];
	uint8_t s;

	if (virtio_has(&blk.vd, VIRTIO_BLK_F_FLUSH)) {
		s = blk_sync(VIRTIO_BLK_T_FLUSH, 0, 0);
		report(s == VIRTIO_BLK_S_OK, "FLUSH: OK (%u)", s);
	} else {
		report_skip("FLUSH: VIRTIO_BLK_F_FLUSH not offered");
	}
	memset(bufs[0], 0, VIRTIO_BLK_ID_BYTES);
	s = blk_sync(VIRTIO_BLK_T_GET_ID, 0, VIRTIO_BLK_ID_BYTES);
	for (unsigned i = 0; i < VIRTIO_BLK_ID_BYTES; i++) {
		char c = (char)bufs[0][i];

		id[i] = c && (c < ' ' || c > '~') ? '?' : c;
	}
	id[VIRTIO_BLK_ID_BYTES] = '\0';
	report(s == VIRTIO_BLK_S_OK || s == VIRTIO_BLK_S_UNSUPP, "GET_ID: %s (%u) '%s'",
	       s == VIRTIO_BLK_S_OK ? "OK" : "UNSUPP", s, id);
}

/* One discard/write-zeroes segment (5.2.6): device-readable, after the header. */
static uint8_t blk_range(uint32_t type, uint64_t sector, uint32_t num)
{
	struct {
		uint64_t sector;
		uint32_t num_sectors;
		uint32_t flags;
	} *seg = (void *)bufs[0];

	seg->sector = sector;
	seg->num_sectors = num;
	seg->flags = 0;
	return blk_sync(type, 0, sizeof(*seg));
}

/* WRITE_ZEROES on sectors 8-15, DISCARD on 16-23, then the pattern of @seed put back. */
static void blk_zero_discard(uint64_t seed)
{
	uint8_t s, r;

	if (blk.capacity < 24)
		return;
	if (virtio_has(&blk.vd, VIRTIO_BLK_F_WRITE_ZEROES)) {
		s = blk_range(VIRTIO_BLK_T_WRITE_ZEROES, 8, 8);
		rep_stosq(bufs[0], BLK_POISON, 8 * BLK_WORDS);
		r = blk_sync(VIRTIO_BLK_T_IN, 8, 8 * BLK_SECTOR);
		report(s == VIRTIO_BLK_S_OK && r == VIRTIO_BLK_S_OK &&
			       repe_scasb(bufs[0], 0, 8 * BLK_SECTOR),
		       "WRITE_ZEROES of sectors 8-15: OK, they read back as zeros (%u, %u)", s, r);
	} else {
		report_skip("WRITE_ZEROES: VIRTIO_BLK_F_WRITE_ZEROES not offered");
	}
	if (virtio_has(&blk.vd, VIRTIO_BLK_F_DISCARD)) {
		s = blk_range(VIRTIO_BLK_T_DISCARD, 16, 8);
		report(s == VIRTIO_BLK_S_OK, "DISCARD of sectors 16-23: OK (%u)", s);
	} else {
		report_skip("DISCARD: VIRTIO_BLK_F_DISCARD not offered");
	}
	/* The host checks the whole image afterwards: restore what the last pass wrote. */
	blk_set_seed(seed);
	blk_fill(bufs[0], 16);
	blk_stamp(bufs[0], 8, 16);
	s = blk_sync(VIRTIO_BLK_T_OUT, 8, 16 * BLK_SECTOR);
	report(s == VIRTIO_BLK_S_OK, "sectors 8-23 rewritten with the pattern (%u)", s);
}

/* ro=1: the host filled the image with the seed's pattern and opened it read-only. */
static void blk_readonly(unsigned qd, unsigned bs, uint64_t seed)
{
	uint8_t s;

	report(virtio_has(&blk.vd, VIRTIO_BLK_F_RO), "a read-only disk offers VIRTIO_BLK_F_RO");
	blk_pass(qd, bs, seed, false);
	blk_set_seed(seed + 1);
	blk_fill(bufs[0], 1);
	blk_stamp(bufs[0], 0, 1);
	s = blk_sync(VIRTIO_BLK_T_OUT, 0, BLK_SECTOR);
	report(s == VIRTIO_BLK_S_IOERR, "write to the read-only disk: IOERR (%u)", s);
	rep_stosq(bufs[0], BLK_POISON, BLK_WORDS);
	blk_set_seed(seed);
	s = blk_sync(VIRTIO_BLK_T_IN, 0, BLK_SECTOR);
	report(s == VIRTIO_BLK_S_OK && !blk_check(bufs[0], 0, 1),
	       "sector 0 still holds the original pattern (%u)", s);
}

static void blk_config(void)
{
	const struct virtio_dev *vd = &blk.vd;
	unsigned want_nq = (unsigned)guest_opt_ulong("queues", 0, VIRTIO_MAX_QUEUES);

	blk.capacity = virtio_cfg_read(vd, BLK_CFG_CAPACITY, 8);
	if (virtio_has(vd, VIRTIO_BLK_F_SIZE_MAX))
		blk.size_max = (uint32_t)virtio_cfg_read(vd, BLK_CFG_SIZE_MAX, 4);
	if (virtio_has(vd, VIRTIO_BLK_F_SEG_MAX))
		blk.seg_max = (uint32_t)virtio_cfg_read(vd, BLK_CFG_SEG_MAX, 4);
	blk.nq = 1;
	if (virtio_has(vd, VIRTIO_BLK_F_MQ))
		blk.nq = (unsigned)virtio_cfg_read(vd, BLK_CFG_NUM_QUEUES, 2);
	if (blk.nq > VIRTIO_MAX_QUEUES)
		blk.nq = VIRTIO_MAX_QUEUES;
	if (want_nq)
		report(blk.nq == want_nq, "%u queue(s) used, as queues=%u asks", blk.nq, want_nq);
	report(blk.capacity >= 2 && blk.nq >= 1 && (!blk.size_max || blk.size_max >= BLK_SECTOR),
	       "config: %lu sectors, size_max %u, seg_max %u, blk_size %u, %u queue(s) used",
	       (unsigned long)blk.capacity, blk.size_max, blk.seg_max,
	       virtio_has(vd, VIRTIO_BLK_F_BLK_SIZE)
		       ? (unsigned)virtio_cfg_read(vd, BLK_CFG_BLK_SIZE, 4)
		       : 512u,
	       blk.nq);
	if (blk.capacity < 2 || !blk.nq)
		guest_abort("unusable disk geometry");
}

/*
 * Driver initialisation (3.1.1) on a device that was just found or just reset:
 * features, configuration (first time only), MSI-X, queues, DRIVER_OK.
 */
void blk_start(bool msix, bool first)
{
	uint64_t want = VIRTIO_BIT(VIRTIO_BLK_F_SIZE_MAX) | VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) |
			VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) | VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) |
			VIRTIO_BIT(VIRTIO_BLK_F_MQ) | VIRTIO_BIT(VIRTIO_BLK_F_RO) |
			VIRTIO_BIT(VIRTIO_BLK_F_DISCARD) | VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES);
	int r = virtio_negotiate(&blk.vd, want);

	if (!report(r == 0, "features: offered 0x%lx, accepted 0x%lx (%d)",
		    (unsigned long)blk.vd.offered, (unsigned long)blk.vd.features, r))
		guest_abort("feature negotiation failed");
	if (first)
		blk_config();
	if (msix) {
		r = first ? virtio_msix_setup(&blk.vd, BLK_VECTOR_BASE, blk.nq + 1) : 0;
		if (r < 0 || virtio_config_vector(&blk.vd, 0) < 0)
			guest_abort("MSI-X setup failed (%d)", r);
	} else if (blk.intx && first) {
		r = virtio_intx_setup(&blk.vd, BLK_VECTOR_BASE);
		if (!report(r == 0, "INTx: pin %u, IOAPIC line %u (%d)",
			    pci_cfg_readb(blk.vd.fn->bdf, 0x3d), blk.vd.intx_line, r))
			guest_abort("INTx setup failed (%d)", r);
	}
	for (unsigned q = 0; q < blk.nq; q++) {
		r = virtio_queue_setup(&blk.vd, &blk.vq[q], q, VIRTQ_MAX_SIZE,
				       msix ? (uint16_t)(q + 1) : VIRTIO_MSI_NO_VECTOR);
		if (r < 0)
			guest_abort("queue %u setup failed (%d)", q, r);
		virtq_suppress_irq(&blk.vq[q], !blk.irq);
	}
	for (unsigned i = 0; i < BLK_MAX_QD; i++)
		reqs[i].busy = false;
	blk.next_q = 0;
	r = virtio_driver_ok(&blk.vd);
	report((r & VIRTIO_S_DRIVER_OK) && !(r & (VIRTIO_S_NEEDS_RESET | VIRTIO_S_FAILED)),
	       "DRIVER_OK: device status 0x%x, queue size %u", r, blk.vq[0].size);
	__asm__ volatile("sti");
}

static void blk_setup(bool msix)
{
	int r = pci_init();

	if (r < 0)
		guest_abort("PCI enumeration failed (%d)", r);
	r = virtio_find(&blk.vd, VIRTIO_MODERN_ID_BASE + VIRTIO_ID_BLOCK, 0x1001, 0);
	if (r < 0)
		guest_abort("no usable virtio-blk (1af4:1042 or 1af4:1001): %d", r);
	report(true, "virtio-blk %04x:%04x at %02x:%02x.%x, notify multiplier %u",
	       blk.vd.fn->vendor, blk.vd.fn->device, blk.vd.fn->bdf >> 8,
	       (blk.vd.fn->bdf >> 3) & 0x1f, blk.vd.fn->bdf & 7, blk.vd.notify_mul);
	blk_start(msix, true);
	virtio_pcicfg_check(&blk.vd);
}

/* Every depth's requests must fit in one queue at once (header + data + status). */
static void blk_check_depths(const unsigned *qd, unsigned nqd, unsigned bs)
{
	uint32_t len = bs * BLK_SECTOR;
	uint32_t segs = blk.size_max ? (len + blk.size_max - 1) / blk.size_max : 1;

	for (unsigned p = 0; p < nqd; p++)
		if ((qd[p] + blk.nq - 1) / blk.nq * (segs + 2) > blk.vq[0].size)
			guest_abort("qd=%u with bs=%u needs more than %u descriptors per queue",
				    qd[p], bs, blk.vq[0].size);
}

/* qd=1,8,32: each 1..BLK_MAX_QD; returns how many. */
static unsigned blk_parse_qd(const char *s, unsigned *qd)
{
	char tok[24];
	unsigned n = 0;

	while (*s) {
		size_t l = 0;
		unsigned long v;

		while (s[l] && s[l] != ',')
			l++;
		if (l == 0 || l >= sizeof(tok) || n == BLK_MAX_PASSES)
			guest_abort("option qd=: 1 to %u comma-separated depths", BLK_MAX_PASSES);
		memcpy(tok, s, l);
		tok[l] = '\0';
		if (str_to_ulong(tok, &v) < 0 || v < 1 || v > BLK_MAX_QD)
			guest_abort("option qd=: '%s' is not a depth from 1 to %u", tok,
				    BLK_MAX_QD);
		qd[n++] = (unsigned)v;
		s += l + (s[l] == ',');
	}
	if (!n)
		guest_abort("option qd=: empty");
	return n;
}

/* The checks: whole-disk passes (or the read-only case), then single requests. */
static void blk_tests(const unsigned *qd, unsigned nqd, unsigned bs, uint64_t seed, bool ro)
{
	unsigned long misc_irq, misc_done;

	if (ro) {
		blk_readonly(qd[0], bs, seed);
	} else {
		/* The last pass writes the seed the host checks; earlier ones differ. */
		for (unsigned p = 0; p < nqd; p++) {
			blk_pass(qd[p], bs, seed + (nqd - 1 - p), true);
			blk_pass(qd[p], bs, seed + (nqd - 1 - p), false);
		}
	}
	blk_one_irq(true);
	misc_irq = virtio_irq_total(&blk.vd);
	misc_done = blk_completed();
	blk_flush_and_id();
	if (!ro)
		blk_zero_discard(seed);
	blk_negative();
	blk_check_irqs("single requests", virtio_irq_total(&blk.vd) - misc_irq,
		       blk_completed() - misc_done, 0, 1);
	report(blk.bad_len == 0, "every used length equals the bytes the device wrote (%lu bad)",
	       blk.bad_len);
}

int main(void)
{
	const char *qds = cmdline_get(guest_cmdline(), "qd");
	unsigned qd[BLK_MAX_PASSES], nqd = blk_parse_qd(qds ? qds : "1,8,32", qd);
	unsigned bs = (unsigned)guest_opt_ulong("bs", 8, BLK_MAX_BS);
	uint64_t seed = guest_opt_ulong("seed", 1, 0xffffffffu);
	enum virtio_mode mode = virtio_opt_mode();
	bool ro = guest_opt_ulong("ro", 0, 1);
	bool msix = guest_opt_ulong("msix", mode != VIRTIO_MODE_INTX, 1);
	unsigned long bench = guest_opt_ulong("bench", 0, 100000000);
	unsigned resets = (unsigned)guest_opt_ulong("reset", 0, BLK_MAX_RESETS);
	bool lost = guest_opt_ulong("lost", 0, 1);
	bool hlt = virtio_opt_choice("wait", "spin", "hlt");
	unsigned long cfg_irqs;

	blk.timeout = guest_opt_ulong("timeout", 10, 1000);
	blk.irq = mode != VIRTIO_MODE_POLL;
	blk.intx = mode == VIRTIO_MODE_INTX;
	virtio_wait_hlt(hlt);
	if (!bs || (mode == VIRTIO_MODE_IRQ && !msix) || (blk.intx && msix))
		guest_abort("bs= must be 1..%u; mode=irq needs msix=1, mode=intx msix=0",
			    BLK_MAX_BS);
	if ((resets || lost) && (bench || ro || (lost && hlt)))
		guest_abort("reset= and lost= go with neither bench= nor ro=1; lost=1 needs "
			    "wait=spin (a timeout)");
	blk_setup(msix);
	blk_check_depths(qd, nqd, bs);
	if (lost)
		return blk_lost(qd[nqd - 1], bs, seed);
	if (resets)
		blk_reset_test(qd[nqd - 1], bs, seed, resets, msix);
	for (unsigned p = 0; bench && p < nqd; p++) {
		blk_bench(qd[p], bs, bench, false, seed);
		if (!ro)
			blk_bench(qd[p], bs, bench, true, seed);
	}
	if (!bench && !resets)
		blk_tests(qd, nqd, bs, seed, ro);
	cfg_irqs = blk.intx ? virtio_intx_config() : virtio_irq_count(0);
	report(cfg_irqs == 0, "no config-change interrupt (%lu)", cfg_irqs);
	if (blk.intx)
		report(virtio_intx_foreign() == 0, "INTx: no interrupt without an ISR cause (%lu)",
		       virtio_intx_foreign());
	report_note("%lu notifications, %lu waits, %lu interrupts", blk.vq[0].kicks, blk.waits,
		    virtio_irq_total(&blk.vd));
	__asm__ volatile("cli");
	virtio_reset(&blk.vd);
	return report_summary();
}
