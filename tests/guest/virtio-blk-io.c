// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio-blk-io.c: the request engine of virtio-blk.elf: request chains (header, data
 * split at size_max, status; virtio 1.1, 5.2.6), submission round-robin over the
 * queues, collection by polling or by counted MSI-X interrupts, whole-disk sweeps at a
 * queue depth, and the data pattern the host checks afterwards.
 *
 * It is not a general block driver: one data buffer per slot, no retries, no timeouts
 * other than the wait's.
 */
#include "virtio-blk.h"

struct blk blk;
struct blk_req reqs[BLK_MAX_QD];
uint8_t bufs[BLK_MAX_QD][BLK_MAX_BS * BLK_SECTOR] __attribute__((aligned(4096)));

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

void blk_set_seed(uint64_t seed)
{
	blk_body[0] = 0;
	blk_body[1] = seed ^ BLK_MARKER;
	for (unsigned i = BLK_HDR_WORDS; i < BLK_WORDS; i++)
		blk_body[i] = blk_mix(seed, i);
}

/* Whole sectors from blk_body, once per pass and slot; blk_stamp() adds the headers. */
void blk_fill(uint8_t *buf, uint32_t nsec)
{
	for (uint32_t s = 0; s < nsec; s++)
		rep_movsq(buf + s * BLK_SECTOR, blk_body, BLK_WORDS);
}

void blk_stamp(uint8_t *buf, uint64_t sector, uint32_t nsec)
{
	for (uint32_t s = 0; s < nsec; s++)
		((uint64_t *)(buf + s * BLK_SECTOR))[0] = sector + s;
}

/* Number of sectors in @buf that do not hold the current seed's pattern. */
uint32_t blk_check(const uint8_t *buf, uint64_t sector, uint32_t nsec)
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
int blk_submit(unsigned slot, uint32_t type, uint64_t sector, uint32_t len)
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

unsigned long blk_completed(void)
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
void blk_one_irq(bool on)
{
	/* Let a late interrupt of the previous phase land: each status read exits. */
	for (unsigned i = 0; i < 4; i++)
		virtio_status(&blk.vd);
	blk.one_irq = on;
	blk.irq_skew = virtio_irq_total(&blk.vd) - blk_completed();
}

void blk_kick_all(void)
{
	for (unsigned q = 0; q < blk.nq; q++)
		virtq_kick(&blk.vd, &blk.vq[q]);
}

/* Pop every used element on every queue; calls @done for each. */
unsigned blk_reap(void (*done)(unsigned slot, void *ctx), void *ctx)
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
uint8_t blk_sync(uint32_t type, uint64_t sector, uint32_t len)
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
void blk_check_irqs(const char *what, unsigned long irqs, unsigned long completed,
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

void blk_pass(unsigned qd, unsigned bs, uint64_t seed, bool write)
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

static unsigned long blk_kicks(void)
{
	unsigned long n = 0;

	for (unsigned q = 0; q < blk.nq; q++)
		n += blk.vq[q].kicks;
	return n;
}

static uint64_t blk_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

void blk_bench(unsigned qd, unsigned bs, unsigned long n, bool write, uint64_t seed)
{
	struct blk_sweep sw = {.write = true}; /* count statuses, do not check data */
	unsigned long irq0 = virtio_irq_total(&blk.vd), kick0 = blk_kicks(), sent = 0;
	uint64_t x = seed, span = blk.capacity / bs, t0;
	const char *rw = write ? "randwrite" : "randread";
	unsigned inflight = 0;

	blk_one_irq(qd == 1);
	printf("BENCH start rw=%s qd=%u bs=%u n=%lu\n", rw, qd, bs * BLK_SECTOR, n);
	t0 = blk_rdtsc();
	while (sent < n || inflight) {
		for (unsigned s = 0; s < qd && sent < n; s++) {
			if (reqs[s].busy)
				continue;
			x = x * 6364136223846793005ull + 1442695040888963407ull; /* MMIX LCG */
			reqs[s].nsec = bs;
			if (blk_submit(s, write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN,
				       (x >> 33) % span * bs, bs * BLK_SECTOR) < 0)
				break;
			inflight++;
			sent++;
		}
		blk_kick_all();
		inflight -= blk_collect(blk_sweep_done, &sw);
	}
	printf("BENCH end rw=%s qd=%u n=%lu cycles=%lu irqs=%lu kicks=%lu\n", rw, qd, n,
	       (unsigned long)(blk_rdtsc() - t0), virtio_irq_total(&blk.vd) - irq0,
	       blk_kicks() - kick0);
	report(sw.bad_status == 0 && sw.requests == n, "bench %s qd=%u: %lu requests, all OK", rw,
	       qd, sw.requests);
}
