/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-blk.h: what virtio-blk.c (the test program) and virtio-blk-io.c (its request
 * engine) share: the virtio-blk constants (virtio 1.1, 5.2), the request slots and
 * the functions that submit, collect and check requests.  Private to virtio-blk.elf.
 */
#ifndef GUEST_VIRTIO_BLK_H
#define GUEST_VIRTIO_BLK_H

#include "virtio.h"

#define BLK_SECTOR 512u
#define BLK_WORDS (BLK_SECTOR / 8)
#define BLK_MAX_QD 64u
#define BLK_MAX_BS 64u /* sectors per request */
#define BLK_MAX_PASSES 8u
#define BLK_VECTOR_BASE 0x40
#define BLK_POISON 0xdbdbdbdbdbdbdbdbull
#define BLK_MAX_RESETS 64u
/*
 * lost=1: the exit code when the driver saw its device go away and every check of
 * that passed.  It is not a failure count: that mode makes far fewer checks.
 */
#define BLK_EXIT_LOST 0x7c

/* Feature bits and config layout (5.2.3, 5.2.4) */
#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_MQ 12
#define VIRTIO_BLK_F_DISCARD 13
#define VIRTIO_BLK_F_WRITE_ZEROES 14
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
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
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
	bool irq;  /* completions by interrupt (mode=irq or intx), else by polling */
	bool intx; /* mode=intx: INTx and ISR instead of MSI-X */
	unsigned long timeout;
	unsigned long waits;
	unsigned long bad_len;
	bool one_irq;		/* qd=1 phase: one interrupt per request, exactly */
	unsigned long irq_skew; /* interrupts minus completions when the phase began */
};

extern struct blk blk;
extern struct blk_req reqs[BLK_MAX_QD];
extern uint8_t bufs[BLK_MAX_QD][BLK_MAX_BS * BLK_SECTOR];

/* The pattern of @seed (see virtio-blk-io.c); blk_check() counts mismatching sectors. */
void blk_set_seed(uint64_t seed);
void blk_fill(uint8_t *buf, uint32_t nsec);
void blk_stamp(uint8_t *buf, uint64_t sector, uint32_t nsec);
uint32_t blk_check(const uint8_t *buf, uint64_t sector, uint32_t nsec);
unsigned long blk_completed(void);
/*
 * Add request @slot (header, @len data bytes split at size_max, status) to the next
 * queue round-robin; virtq_add()'s result.  Not visible until blk_kick_all().
 */
int blk_submit(unsigned slot, uint32_t type, uint64_t sector, uint32_t len);
void blk_kick_all(void);
/* Pop every used element of every queue, calling @done for each; how many. */
unsigned blk_reap(void (*done)(unsigned slot, void *ctx), void *ctx);
/* Initialise the driver (3.1.1) on a found or just-reset device (virtio-blk.c). */
void blk_start(bool msix, bool first);
/* Exact interrupt accounting (one per request) from now on, or not. */
void blk_one_irq(bool on);
/* One request in slot 0, synchronously; returns its status byte. */
uint8_t blk_sync(uint32_t type, uint64_t sector, uint32_t len);
void blk_check_irqs(const char *what, unsigned long irqs, unsigned long completed,
		    unsigned long waits, unsigned qd);
/* Write, or read back and check, the whole disk with @qd requests of @bs sectors. */
void blk_pass(unsigned qd, unsigned bs, uint64_t seed, bool write);
/*
 * @n random @bs-sector requests (aligned to @bs) with @qd in flight, between the lines
 * "BENCH start rw=randread|randwrite qd=Q bs=BYTES n=N" and "BENCH end ... cycles=TSC
 * irqs=I kicks=K" for the host to time.  Data is neither set nor checked.
 */
void blk_bench(unsigned qd, unsigned bs, unsigned long n, bool write, uint64_t seed);

/* virtio-blk-fault.c: reset=N and lost=1 (see there). */
void blk_reset_test(unsigned qd, unsigned bs, uint64_t seed, unsigned rounds, bool msix);
int blk_lost(unsigned qd, unsigned bs, uint64_t seed);

#endif /* GUEST_VIRTIO_BLK_H */
