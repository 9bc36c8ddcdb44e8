// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * msix: the MSI-X table and Pending Bit Array of a function, virtualized in the VMM
 * (PCI Local Bus Spec 3.0, 6.8.2).  The device only ever signals vector eventfds; the
 * table entries it would hold live here, and each entry's state goes to the interrupt
 * controller as a route plus an irqfd (pciirq_vec_sync).  Accesses to the table and PBA
 * are answered here and never reach the backend.
 *
 * Pending bits are not kept by a watcher thread: a masked vector is detached from its
 * irqfd, so its eventfd counts the device's signals, and that count is the pending bit.
 * It is sampled when the guest can observe it (a PBA read) and when it matters (the
 * vector being unmasked, which then delivers one message, 6.8.2.9).  The guest sees
 * exactly what a watched eventfd would show, without a thread or a wake-up per signal.
 *
 * Not here: the capability's config-space registers (forwarded, pciirq.c shadows the
 * control word's enable and function-mask bits).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "proxy/pciirq.h"

#define MSIX_ENTRY_SIZE 16u
#define MSIX_CTRL_MASKED 0x1u /* Vector Control bit 0, 6.8.2.9 */
#define MSIX_BIR_MASK 0x7u

static uint64_t msix_pba_size(unsigned nr)
{
	return ((uint64_t)nr + 63) / 64 * 8;
}

/* [off, off + len) inside BAR `bar` of the layout; no overflow (len is small). */
static bool msix_fits(const struct pcifn_bar bars[PCIFN_NUM_BARS], unsigned bar, uint64_t off,
		      uint64_t len)
{
	return bar < PCIFN_NUM_BARS && bars[bar].size && !(bars[bar].flags & PCIFN_BAR_IO) &&
	       off <= bars[bar].size && len <= bars[bar].size - off;
}

static int msix_cfg(struct pciirq *q, uint32_t off, unsigned size, uint32_t *val)
{
	return q->be_ops->cfg_read(q->be, off, size, val);
}

/* Table and PBA location (6.8.2.4, 6.8.2.5), checked against the BARs. */
static int msix_layout(struct pciirq *q, const struct pcifn_bar bars[PCIFN_NUM_BARS], uint32_t cap)
{
	uint32_t ctrl, table, pba;
	uint64_t tlen, plen;
	int ret;

	ret = msix_cfg(q, cap, 4, &ctrl);
	if (ret == 0)
		ret = msix_cfg(q, cap + 4, 4, &table);
	if (ret == 0)
		ret = msix_cfg(q, cap + 8, 4, &pba);
	if (ret < 0)
		return ret;
	q->msix_nr = ((ctrl >> 16) & 0x7ffu) + 1;
	q->table_bar = table & MSIX_BIR_MASK;
	q->table_off = table & ~MSIX_BIR_MASK;
	q->pba_bar = pba & MSIX_BIR_MASK;
	q->pba_off = pba & ~MSIX_BIR_MASK;
	tlen = (uint64_t)q->msix_nr * MSIX_ENTRY_SIZE;
	plen = msix_pba_size(q->msix_nr);
	if (!msix_fits(bars, q->table_bar, q->table_off, tlen) ||
	    !msix_fits(bars, q->pba_bar, q->pba_off, plen))
		return -EPROTO;
	/* "they must not overlap with each other" (6.8.2) */
	if (q->table_bar == q->pba_bar && q->table_off < q->pba_off + plen &&
	    q->pba_off < q->table_off + tlen)
		return -EPROTO;
	return 0;
}

int msix_setup(struct pciirq *q, const struct pcifn_bar bars[PCIFN_NUM_BARS], uint32_t cap)
{
	int ret = msix_layout(q, bars, cap);

	if (ret < 0) {
		q->msix_nr = 0;
		return ret;
	}
	q->msix_cap = cap;
	q->table = calloc(q->msix_nr, MSIX_ENTRY_SIZE);
	q->msix = calloc(q->msix_nr, sizeof(*q->msix));
	if (!q->table || !q->msix)
		return -ENOMEM;
	for (unsigned i = 0; i < q->msix_nr; i++) {
		q->msix[i].gsi = -1;
		q->msix[i].efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (q->msix[i].efd < 0)
			return -errno;			/* msix_free() closes what was made */
		q->table[i * 4 + 3] = MSIX_CTRL_MASKED; /* every vector masked at reset */
	}
	return 0;
}

void msix_free(struct pciirq *q)
{
	for (unsigned i = 0; q->msix && i < q->msix_nr; i++) {
		pciirq_vec_sync(q, &q->msix[i], false, 0, 0);
		if (q->msix[i].efd >= 0)
			close(q->msix[i].efd);
	}
	free(q->msix);
	free(q->table);
	q->msix = NULL;
	q->table = NULL;
	q->msix_nr = 0;
}

static bool msix_overlaps(uint64_t off, unsigned size, uint64_t base, uint64_t len)
{
	return off < base + len && base < off + size;
}

bool msix_claims(const struct pciirq *q, unsigned bar, uint64_t off, unsigned size)
{
	if (!q->msix_nr)
		return false;
	return (bar == q->table_bar &&
		msix_overlaps(off, size, q->table_off, (uint64_t)q->msix_nr * MSIX_ENTRY_SIZE)) ||
	       (bar == q->pba_bar &&
		msix_overlaps(off, size, q->pba_off, msix_pba_size(q->msix_nr)));
}

/* Aligned full dword or qword wholly inside [base, base + len) (6.8.2: else undefined). */
static bool msix_access_ok(uint64_t off, unsigned size, uint64_t base, uint64_t len)
{
	return (size == 4 || size == 8) && !(off & (size - 1)) && off >= base &&
	       off - base + size <= len;
}

/* Entry e to the state its table entry and the control word ask for. */
static void msix_sync(struct pciirq *q, unsigned e)
{
	const uint32_t *t = &q->table[e * 4];
	bool want = (q->msix_ctrl & PCIIRQ_MSIX_ENABLE) && !(q->msix_ctrl & PCIIRQ_MSIX_MASKALL) &&
		    !(t[3] & MSIX_CTRL_MASKED);

	pciirq_vec_sync(q, &q->msix[e], want, t[0] | (uint64_t)t[1] << 32, t[2]);
}

/* Pending bits of vectors [64 * qw, 64 * qw + 64). */
static uint64_t msix_pba_qword(struct pciirq *q, uint64_t qw)
{
	uint64_t bits = 0;

	for (unsigned i = 0; i < 64 && qw * 64 + i < q->msix_nr; i++) {
		struct pciirq_vec *v = &q->msix[qw * 64 + i];

		if (q->msix_ctrl & PCIIRQ_MSIX_ENABLE)
			pciirq_vec_poll(v);
		if (v->pending)
			bits |= 1ULL << i;
	}
	return bits;
}

void msix_read(struct pciirq *q, unsigned bar, uint64_t off, unsigned size, uint64_t *val)
{
	uint64_t tlen = (uint64_t)q->msix_nr * MSIX_ENTRY_SIZE;

	*val = size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
	if (bar == q->table_bar && msix_access_ok(off, size, q->table_off, tlen)) {
		uint64_t dw = (off - q->table_off) / 4;

		*val = q->table[dw];
		if (size == 8)
			*val |= (uint64_t)q->table[dw + 1] << 32;
	} else if (bar == q->pba_bar &&
		   msix_access_ok(off, size, q->pba_off, msix_pba_size(q->msix_nr))) {
		uint64_t rel = off - q->pba_off, bits = msix_pba_qword(q, rel / 8);

		*val = size == 8 ? bits : (bits >> (rel & 4 ? 32 : 0)) & 0xffffffffu;
	} else {
		g_debug("%s: MSI-X %u-byte read at BAR%u+0x%" PRIx64 " not a full aligned "
			"dword or qword of the table or PBA",
			q->id, size, bar, off);
	}
}

void msix_write(struct pciirq *q, unsigned bar, uint64_t off, unsigned size, uint64_t val)
{
	uint64_t tlen = (uint64_t)q->msix_nr * MSIX_ENTRY_SIZE, dw;

	if (!(bar == q->table_bar && msix_access_ok(off, size, q->table_off, tlen))) {
		/* The PBA is read-only (6.8.2.10); anything else is malformed. */
		g_debug("%s: MSI-X %u-byte write at BAR%u+0x%" PRIx64 " dropped", q->id, size, bar,
			off);
		return;
	}
	dw = (off - q->table_off) / 4;
	q->table[dw] = (uint32_t)val;
	if (size == 8)
		q->table[dw + 1] = (uint32_t)(val >> 32);
	/* Vector Control: only the mask bit is defined, the rest reads 0 (6.8.2.9). */
	if (dw % 4 == 3 || (size == 8 && dw % 4 == 2))
		q->table[(dw / 4) * 4 + 3] &= MSIX_CTRL_MASKED;
	msix_sync(q, (unsigned)(dw / 4));
}

void msix_control(struct pciirq *q, uint16_t ctrl)
{
	bool was = q->msix_ctrl & PCIIRQ_MSIX_ENABLE;

	q->msix_ctrl = ctrl & (PCIIRQ_MSIX_ENABLE | PCIIRQ_MSIX_MASKALL);
	if (!was && (q->msix_ctrl & PCIIRQ_MSIX_ENABLE)) {
		/* Signals from before MSI-X was on went nowhere (the device used INTx). */
		for (unsigned i = 0; i < q->msix_nr; i++)
			pciirq_vec_drain(&q->msix[i]);
	}
	for (unsigned i = 0; i < q->msix_nr; i++)
		msix_sync(q, i);
}

void msix_reset(struct pciirq *q)
{
	q->msix_ctrl = 0;
	for (unsigned i = 0; i < q->msix_nr; i++) {
		q->table[i * 4] = q->table[i * 4 + 1] = q->table[i * 4 + 2] = 0;
		q->table[i * 4 + 3] = MSIX_CTRL_MASKED;
		msix_sync(q, i);
		pciirq_vec_drain(&q->msix[i]);
	}
}
