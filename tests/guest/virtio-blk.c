// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio-blk.c: a guest test of a virtio-blk device (virtio 1.1, 5.2) over the modern
 * PCI transport.  It writes a pattern over the whole disk and reads it back once per
 * queue depth in qd=, flushes, asks for the ID, and sends requests a device must
 * refuse (past the end, unknown type, writes to a read-only disk).  Interrupts are
 * counted: with mode=irq every wait must end by an MSI-X, with mode=poll none may
 * arrive.  The last pass writes the pattern of seed= into every 512-byte sector (see
 * blk_set_seed()), so the host can check the image afterwards.
 *
 * It is not a benchmark and not a filesystem: one device, sequential sweeps, one
 * data buffer per request slot.
 */
#include "virtio.h"

#define BLK_SECTOR 512u
#define BLK_WORDS (BLK_SECTOR / 8)
#define BLK_MAX_QD 64u
#define BLK_MAX_BS 64u /* sectors per request */
#define BLK_MAX_PASSES 8u
#define BLK_VECTOR_BASE 0x40
#define BLK_POISON 0xdbdbdbdbdbdbdbdbull

/* Feature bits and config layout (5.2.3, 5.2.4) */
#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_MQ 12
#define BLK_CFG_CAPACITY 0
#define BLK_CFG_SIZE_MAX 8
#define BLK_CFG_SEG_MAX 12
#define BLK_CFG_BLK_SIZE 20
#define BLK_CFG_NUM_QUEUES 34

/* Requests (5.2.6) */
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_BOGUS 0xbad
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2
#define VIRTIO_BLK_ID_BYTES 20
#define BLK_STATUS_NONE 0xff /* what a status byte holds until the device writes it */

struct blk_req {
	struct {
		uint32_t type;
		uint32_t reserved;
		uint64_t sector;
	} hdr;
	uint8_t status;
	bool busy;
	uint32_t nsec;
	uint32_t want_len; /* bytes the device must write: data (for IN) + status */
};

struct blk {
	struct virtio_dev vd;
	struct virtq vq[VIRTIO_MAX_QUEUES];
	unsigned nq, next_q;
	uint64_t capacity; /* 512-byte sectors */
	uint32_t size_max, seg_max;
	bool irq;
	unsigned long timeout;
	unsigned long waits;
	unsigned long bad_len;
	bool one_irq;		/* qd=1 phase: one interrupt per request, exactly */
	unsigned long irq_skew; /* interrupts minus completions when the phase began */
};

static struct blk blk;
static struct blk_req reqs[BLK_MAX_QD];
static uint8_t bufs[BLK_MAX_QD][BLK_MAX_BS * BLK_SECTOR] __attribute__((aligned(4096)));

/*
 * The pattern of sector S written with seed K, as 64 little-endian words: word 0 is S,
 * word 1 is K ^ BLK_MARKER, word i >= 2 is blk_mix(K, i).  The body depends only on
 * the seed, so it is computed once per pass and copied with string instructions
 * (see rep_movsq() in virtio.h).
 */
#define BLK_MARKER 0x76697274696f0000ull
#define BLK_HDR_WORDS 2

static uint64_t blk_body[BLK_WORDS];

/* splitmix64's finalizer over (seed, word): the host computes the same. */
static uint64_t blk_mix(uint64_t seed, unsigned word)
{
	uint64_t z = word + seed * 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void blk_set_seed(uint64_t seed)
{
	blk_body[0] = 0;
	blk_body[1] = seed ^ BLK_MARKER;
	for (unsigned i = BLK_HDR_WORDS; i < BLK_WORDS; i++)
		blk_body[i] = blk_mix(seed, i);
}

/* Whole sectors from blk_body, once per pass and slot; blk_stamp() adds the headers. */
static void blk_fill(uint8_t *buf, uint32_t nsec)
{
	for (uint32_t s = 0; s < nsec; s++)
		rep_movsq(buf + s * BLK_SECTOR, blk_body, BLK_WORDS);
}

static void blk_stamp(uint8_t *buf, uint64_t sector, uint32_t nsec)
{
	for (uint32_t s = 0; s < nsec; s++)
		((uint64_t *)(buf + s * BLK_SECTOR))[0] = sector + s;
}

/* Number of sectors in @buf that do not hold the current seed's pattern. */
static uint32_t blk_check(const uint8_t *buf, uint64_t sector, uint32_t nsec)
{
	uint32_t bad = 0;

	for (uint32_t s = 0; s < nsec; s++) {
		const uint64_t *w = (const uint64_t *)(buf + s * BLK_SECTOR);

		bad += w[0] != sector + s || !repe_cmpsq(w + 1, blk_body + 1, BLK_WORDS - 1);
	}
	return bad;
}

/*
 * Queue request @slot: header, data split at size_max (5.2.6.1), status.  @len 0 means
 * no data (flush).  Returns virtq_add()'s result.
 */
static int blk_submit(unsigned slot, uint32_t type, uint64_t sector, uint32_t len)
{
	struct blk_req *r = &reqs[slot];
	struct virtq_buf b[VIRTQ_MAX_CHAIN];
	uint32_t seg = blk.size_max ? blk.size_max : len, done = 0;
	bool in = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
	struct virtq *vq = &blk.vq[blk.next_q];
	unsigned n = 0;
	int ret;

	r->hdr.type = type;
	r->hdr.reserved = 0;
	r->hdr.sector = sector;
	r->status = BLK_STATUS_NONE;
	r->want_len = (in ? len : 0) + 1;
	b[n++] = (struct virtq_buf){(uintptr_t)&r->hdr, sizeof(r->hdr), false};
	while (done < len && n < VIRTQ_MAX_CHAIN - 1) {
		uint32_t l = len - done < seg ? len - done : seg;

		b[n++] = (struct virtq_buf){(uintptr_t)bufs[slot] + done, l, in};
		done += l;
	}
	if (done < len || (blk.seg_max && n - 1 > blk.seg_max))
		guest_abort("request of %u bytes needs more segments than seg_max %u", len,
			    blk.seg_max);
	b[n++] = (struct virtq_buf){(uintptr_t)&r->status, 1, true};
	ret = virtq_add(vq, b, n, r);
	if (ret == 0) {
		r->busy = true;
		blk.next_q = (blk.next_q + 1) % blk.nq;
	}
	return ret;
}

static unsigned long blk_completed(void)
{
	unsigned long n = 0;

	for (unsigned q = 0; q < blk.nq; q++)
		n += blk.vq[q].completed;
	return n;
}

static unsigned long blk_irq_base(void)
{
	return blk.irq_skew;
}

/* Start exact accounting: from now on the n-th completion brings the n-th interrupt. */
static void blk_one_irq(bool on)
{
	/* Let a late interrupt of the previous phase land: each status read exits. */
	for (unsigned i = 0; i < 4; i++)
		virtio_status(&blk.vd);
	blk.one_irq = on;
	blk.irq_skew = virtio_irq_total(&blk.vd) - blk_completed();
}

static void blk_kick_all(void)
{
	for (unsigned q = 0; q < blk.nq; q++)
		virtq_kick(&blk.vd, &blk.vq[q]);
}

/* Pop every used element on every queue; calls @done for each. */
static unsigned blk_reap(void (*done)(unsigned slot, void *ctx), void *ctx)
{
	unsigned n = 0;

	for (unsigned q = 0; q < blk.nq; q++) {
		void *tok;
		uint32_t len;
		int r;

		while ((r = virtq_get(&blk.vq[q], &tok, &len)) == 1) {
			struct blk_req *req = tok;

			if (len != req->want_len)
				blk.bad_len++;
			req->busy = false;
			if (done)
				done((unsigned)(req - reqs), ctx);
			n++;
		}
		if (r < 0)
			guest_abort("queue %u: the device returned a bad used id", q);
	}
	return n;
}

/*
 * Wait for at least one completion and reap; aborts on a timeout.  With one request in
 * flight in irq mode (blk.one_irq), first wait for its own interrupt.
 */
static unsigned blk_collect(void (*done)(unsigned slot, void *ctx), void *ctx)
{
	if (blk.irq && blk.one_irq &&
	    virtio_wait_irqs(&blk.vd, blk_irq_base() + blk_completed() + 1, blk.timeout) < 0)
		guest_abort("no interrupt for the request in flight (%lu interrupts, %lu done)",
			    virtio_irq_total(&blk.vd), blk_completed());
	for (;;) {
		unsigned long seen = virtio_irq_total(&blk.vd);
		unsigned n = blk_reap(done, ctx);

		if (n)
			return n;
		blk.waits++;
		if (virtio_wait(&blk.vd, blk.irq, seen, blk.timeout) < 0)
			guest_abort("no completion within the timeout (%s mode, %lu interrupts)",
				    blk.irq ? "irq" : "poll", virtio_irq_total(&blk.vd));
	}
}

/* One request, synchronously; returns its status byte. */
static uint8_t blk_sync(uint32_t type, uint64_t sector, uint32_t len)
{
	if (blk_submit(0, type, sector, len) < 0)
		guest_abort("no free descriptor for a single request");
	blk_kick_all();
	while (reqs[0].busy)
		blk_collect(NULL, NULL);
	return reqs[0].status;
}

struct blk_sweep {
	uint64_t seed;
	bool write;
	unsigned long requests, bad_status, bad_sectors;
	uint64_t first_bad;
};

static void blk_sweep_done(unsigned slot, void *ctx)
{
	struct blk_sweep *sw = ctx;
	struct blk_req *r = &reqs[slot];
	uint32_t bad;

	sw->requests++;
	if (r->status != VIRTIO_BLK_S_OK) {
		sw->bad_status++;
		return;
	}
	if (sw->write)
		return;
	bad = blk_check(bufs[slot], r->hdr.sector, r->nsec);
	if (bad && !sw->bad_sectors)
		sw->first_bad = r->hdr.sector;
	sw->bad_sectors += bad;
}

/* Write or read every sector, @qd requests of @bs sectors in flight. */
static void blk_sweep(struct blk_sweep *sw, unsigned qd, unsigned bs)
{
	uint64_t next = 0;
	unsigned inflight = 0;

	while (next < blk.capacity || inflight) {
		for (unsigned s = 0; s < qd && next < blk.capacity; s++) {
			uint32_t n =
				blk.capacity - next < bs ? (uint32_t)(blk.capacity - next) : bs;

			if (reqs[s].busy)
				continue;
			reqs[s].nsec = n;
			if (sw->write)
				blk_stamp(bufs[s], next, n);
			else
				rep_stosq(bufs[s], BLK_POISON, n * BLK_WORDS);
			if (blk_submit(s, sw->write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN, next,
				       n * BLK_SECTOR) < 0)
				break;
			inflight++;
			next += n;
		}
		blk_kick_all();
		inflight -= blk_collect(blk_sweep_done, sw);
	}
}

/* Interrupt accounting for one phase of @completed requests. */
static void blk_check_irqs(const char *what, unsigned long irqs, unsigned long completed,
			   unsigned long waits, unsigned qd)
{
	if (!blk.irq) {
		report(irqs == 0, "%s: no interrupt in poll mode (%lu)", what, irqs);
		return;
	}
	if (qd == 1)
		report(irqs == completed, "%s: one interrupt per request at qd=1 (%lu for %lu)",
		       what, irqs, completed);
	else
		report(irqs >= waits && irqs <= completed && irqs > 0,
		       "%s: %lu interrupts for %lu requests and %lu waits", what, irqs, completed,
		       waits);
}

static void blk_pass(unsigned qd, unsigned bs, uint64_t seed, bool write)
{
	struct blk_sweep sw = {.seed = seed, .write = write};
	unsigned long irq0 = virtio_irq_total(&blk.vd), w0 = blk.waits;
	char what[48];

	snprintf(what, sizeof(what), "%s qd=%u bs=%u", write ? "write" : "read", qd, bs);
	blk_set_seed(seed);
	for (unsigned s = 0; write && s < qd; s++)
		blk_fill(bufs[s], bs);
	blk_one_irq(qd == 1);
	blk_sweep(&sw, qd, bs);
	report(sw.bad_status == 0, "%s: %lu requests over %lu sectors, every status OK (%lu bad)",
	       what, sw.requests, (unsigned long)blk.capacity, sw.bad_status);
	if (!write)
		report(sw.bad_sectors == 0,
		       "%s: every sector holds the pattern of seed %lu (%lu bad, first %lu)", what,
		       (unsigned long)seed, sw.bad_sectors, (unsigned long)sw.first_bad);
	blk_check_irqs(what, virtio_irq_total(&blk.vd) - irq0, sw.requests, blk.waits - w0, qd);
}

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

	blk.capacity = virtio_cfg_read(vd, BLK_CFG_CAPACITY, 8);
	if (virtio_has(vd, VIRTIO_BLK_F_SIZE_MAX))
		blk.size_max = (uint32_t)virtio_cfg_read(vd, BLK_CFG_SIZE_MAX, 4);
	if (virtio_has(vd, VIRTIO_BLK_F_SEG_MAX))
		blk.seg_max = (uint32_t)virtio_cfg_read(vd, BLK_CFG_SEG_MAX, 4);
	blk.nq = 1;
	if (virtio_has(vd, VIRTIO_BLK_F_MQ))
		blk.nq = (unsigned)virtio_cfg_read(vd, BLK_CFG_NUM_QUEUES, 2);
	if (blk.nq > VIRTIO_MAX_QUEUES - 1)
		blk.nq = VIRTIO_MAX_QUEUES - 1;
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

static void blk_setup(bool msix)
{
	uint64_t want = VIRTIO_BIT(VIRTIO_BLK_F_SIZE_MAX) | VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) |
			VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) | VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) |
			VIRTIO_BIT(VIRTIO_BLK_F_MQ) | VIRTIO_BIT(VIRTIO_BLK_F_RO);
	int r = pci_init();

	if (r < 0)
		guest_abort("PCI enumeration failed (%d)", r);
	r = virtio_find(&blk.vd, VIRTIO_MODERN_ID_BASE + VIRTIO_ID_BLOCK, 0x1001, 0);
	if (r < 0)
		guest_abort("no usable virtio-blk (1af4:1042 or 1af4:1001): %d", r);
	report(true, "virtio-blk %04x:%04x at %02x:%02x.%x, notify multiplier %u",
	       blk.vd.fn->vendor, blk.vd.fn->device, blk.vd.fn->bdf >> 8,
	       (blk.vd.fn->bdf >> 3) & 0x1f, blk.vd.fn->bdf & 7, blk.vd.notify_mul);
	r = virtio_negotiate(&blk.vd, want);
	if (!report(r == 0, "features: offered 0x%lx, accepted 0x%lx (%d)",
		    (unsigned long)blk.vd.offered, (unsigned long)blk.vd.features, r))
		guest_abort("feature negotiation failed");
	blk_config();
	if (msix) {
		r = virtio_msix_setup(&blk.vd, BLK_VECTOR_BASE, blk.nq + 1);
		if (r < 0 || virtio_config_vector(&blk.vd, 0) < 0)
			guest_abort("MSI-X setup failed (%d)", r);
	}
	for (unsigned q = 0; q < blk.nq; q++) {
		r = virtio_queue_setup(&blk.vd, &blk.vq[q], q, VIRTQ_MAX_SIZE,
				       msix ? (uint16_t)(q + 1) : VIRTIO_MSI_NO_VECTOR);
		if (r < 0)
			guest_abort("queue %u setup failed (%d)", q, r);
		virtq_suppress_irq(&blk.vq[q], !blk.irq);
	}
	r = virtio_driver_ok(&blk.vd);
	report((r & VIRTIO_S_DRIVER_OK) && !(r & (VIRTIO_S_NEEDS_RESET | VIRTIO_S_FAILED)),
	       "DRIVER_OK: device status 0x%x, queue size %u", r, blk.vq[0].size);
	__asm__ volatile("sti");
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

int main(void)
{
	const char *mode = cmdline_get(guest_cmdline(), "mode");
	const char *qds = cmdline_get(guest_cmdline(), "qd");
	unsigned qd[BLK_MAX_PASSES], nqd = blk_parse_qd(qds ? qds : "1,8,32", qd);
	unsigned bs = (unsigned)guest_opt_ulong("bs", 8, BLK_MAX_BS);
	uint64_t seed = guest_opt_ulong("seed", 1, 0xffffffffu);
	bool ro = guest_opt_ulong("ro", 0, 1), msix = guest_opt_ulong("msix", 1, 1);
	unsigned long misc_irq, misc_done;

	blk.timeout = guest_opt_ulong("timeout", 10, 1000);
	if (mode && strcmp(mode, "irq") && strcmp(mode, "poll"))
		guest_abort("option mode=%s: irq or poll", mode);
	blk.irq = !mode || !strcmp(mode, "irq");
	if (!bs || (blk.irq && !msix))
		guest_abort("bs= must be 1..%u; mode=irq needs msix=1", BLK_MAX_BS);
	blk_setup(msix);
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
	blk_negative();
	blk_check_irqs("single requests", virtio_irq_total(&blk.vd) - misc_irq,
		       blk_completed() - misc_done, 0, 1);
	report(blk.bad_len == 0, "every used length equals the bytes the device wrote (%lu bad)",
	       blk.bad_len);
	report(virtio_irq_count(0) == 0, "no config-change interrupt (%lu)", virtio_irq_count(0));
	report_note("%lu notifications, %lu waits, %lu interrupts", blk.vq[0].kicks, blk.waits,
		    virtio_irq_total(&blk.vd));
	__asm__ volatile("cli");
	virtio_reset(&blk.vd);
	return report_summary();
}
