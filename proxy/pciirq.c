// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pciirq: a PCI function's interrupts on the VMM side.  At setup it reads the
 * interrupt pin and the capability list (PCI Local Bus Spec 3.0, 6.7) through the
 * backend, makes an eventfd per INTx line, MSI vector and MSI-X vector, and hands one
 * copy to the device (backend set_irqs: vfio-user SET_IRQS) and one to the interrupt
 * controller (struct pcifn_irq_ops: KVM irqfds), so that raising an interrupt is an
 * eventfd write the VMM never sees.  Afterwards it follows the guest's programming:
 * the interrupt line register, the MSI capability (6.8.1) and, through msix.c, the
 * MSI-X table.  Called by pcifn.c with the function's lock held.
 *
 * MSI is routed like MSI-X, one route and irqfd per enabled vector; a vector masked by
 * the optional per-vector mask bits is detached and its signals wait in its eventfd.
 * The device cannot know about them, so the MSI Pending Bits register (6.8.1.8) is
 * answered here from those eventfds, as msix.c answers the PBA; the rest of the
 * capability is the device's (forwarded, then read back).
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "proxy/pciirq.h"

#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_CAP_PTR 0x34
#define PCI_INT_LINE 0x3c
#define PCI_INT_PIN 0x3d
#define PCI_CAP_ID_MSI 0x05
#define PCI_CAP_ID_MSIX 0x11
#define PCI_CFG_STD 256u
#define MSI_CTRL_ENABLE 0x1u
#define MSI_CTRL_64BIT 0x80u
#define MSI_CTRL_PVM 0x100u
#define MSI_CAP_LEN 24u
#define MSI_PEND_32 0x10u /* Pending Bits offset without, and with, the upper address */
#define MSI_PEND_64 0x14u

static uint32_t pciirq_cfg(struct pciirq *q, uint32_t off, unsigned size, int *err)
{
	uint32_t v = 0;
	int ret = *err ? *err : q->be_ops->cfg_read(q->be, off, size, &v);

	*err = ret;
	return v;
}

/* Walk the capability list (6.7): MSI and MSI-X offsets.  -EPROTO for a bad list. */
static int pciirq_scan(struct pciirq *q, uint32_t *msi, uint32_t *msix)
{
	int err = 0;
	uint32_t pos;

	*msi = *msix = 0;
	if (!(pciirq_cfg(q, PCI_STATUS, 2, &err) & PCI_STATUS_CAP_LIST))
		return err;
	pos = pciirq_cfg(q, PCI_CAP_PTR, 1, &err) & ~3u;
	/* 48 capabilities fill 0x40..0xff: a longer chain is a loop. */
	for (unsigned n = 0; pos && !err; n++) {
		uint32_t hdr;

		if (pos < 0x40 || pos > PCI_CFG_STD - 4 || n == 48)
			return -EPROTO;
		hdr = pciirq_cfg(q, pos, 2, &err);
		if ((hdr & 0xff) == PCI_CAP_ID_MSI && !*msi)
			*msi = pos;
		else if ((hdr & 0xff) == PCI_CAP_ID_MSIX && !*msix)
			*msix = pos;
		pos = (hdr >> 8) & 0xfc;
	}
	if (!err && *msi && *msi + MSI_CAP_LEN > PCI_CFG_STD)
		*msi = 0; /* a 64-bit MSI capability with masking would not fit */
	return err;
}

static int pciirq_efd(void)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	return fd < 0 ? -errno : fd;
}

void pciirq_vec_drain(struct pciirq_vec *v)
{
	uint64_t cnt;

	if (read(v->efd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		g_debug("eventfd read: %s", g_strerror(errno));
	v->pending = false;
}

void pciirq_vec_poll(struct pciirq_vec *v)
{
	uint64_t cnt = 0;

	if (!v->attached && read(v->efd, &cnt, sizeof(cnt)) == sizeof(cnt) && cnt)
		v->pending = true;
}

static void pciirq_vec_detach(struct pciirq *q, struct pciirq_vec *v)
{
	if (!v->attached)
		return;
	if (q->ops && q->ops->irqfd(q->ctx, v->gsi, v->efd, false) < 0)
		g_debug("%s: cannot detach the irqfd of GSI %d", q->id, v->gsi);
	v->attached = false;
}

void pciirq_vec_sync(struct pciirq *q, struct pciirq_vec *v, bool want, uint64_t addr,
		     uint32_t data)
{
	if (!want || !q->ops) {
		pciirq_vec_detach(q, v);
		return;
	}
	if (v->gsi < 0 || v->addr != addr || v->data != data) {
		if (q->ops->route(q->ctx, &v->gsi, addr, data) < 0) {
			g_debug("%s: no route for MSI 0x%" G_GINT64_MODIFIER "x/0x%x", q->id, addr,
				data);
			pciirq_vec_detach(q, v);
			return;
		}
		v->addr = addr;
		v->data = data;
	}
	if (v->attached)
		return;
	/* Unmasked with a message pending: deliver it once (6.8.2.9), then go direct. */
	pciirq_vec_poll(v);
	if (v->pending && q->ops->signal(q->ctx, addr, data) < 0)
		g_debug("%s: cannot deliver a pending MSI", q->id);
	v->pending = false;
	if (q->ops->irqfd(q->ctx, v->gsi, v->efd, true) < 0) {
		g_debug("%s: cannot attach the irqfd of GSI %d", q->id, v->gsi);
		return;
	}
	v->attached = true;
}

/* INTx: a level irqfd with a resample eventfd on the pin's GSI. */
static int pciirq_intx(struct pciirq *q, const unsigned intx_gsi[4], int *err)
{
	unsigned gsi;

	q->pin = (uint8_t)pciirq_cfg(q, PCI_INT_PIN, 1, err);
	if (*err || q->pin < 1 || q->pin > 4) {
		q->pin = 0;
		return *err;
	}
	gsi = intx_gsi[q->pin - 1];
	q->line = gsi < 0xff ? (uint8_t)gsi : 0xff;
	q->intx_efd = pciirq_efd();
	q->resample_efd = pciirq_efd();
	if (q->intx_efd < 0 || q->resample_efd < 0)
		return -EMFILE;
	if (q->ops && q->ops->intx(q->ctx, gsi, q->intx_efd, q->resample_efd) < 0)
		g_warning("%s: cannot wire INTx to GSI %u; the device's INTx is lost", q->id, gsi);
	return 0;
}

static int pciirq_msi(struct pciirq *q, uint32_t cap, int *err)
{
	uint32_t ctrl = pciirq_cfg(q, cap + 2, 2, err);

	if (*err)
		return *err;
	q->msi_cap = cap;
	q->msi_nr = 1u << MIN((ctrl >> 1) & 7u, 5u);
	/* 64-bit and per-vector masking are read-only (6.8.1.3): the layout is fixed now. */
	if (ctrl & MSI_CTRL_PVM)
		q->msi_pend = cap + (ctrl & MSI_CTRL_64BIT ? MSI_PEND_64 : MSI_PEND_32);
	for (unsigned i = 0; i < q->msi_nr; i++) {
		q->msi[i].efd = pciirq_efd();
		if (q->msi[i].efd < 0)
			return q->msi[i].efd;
	}
	return 0;
}

/* Hand the eventfds to the device. */
static void pciirq_give(struct pciirq *q)
{
	g_autofree int *fds = g_new(int, MAX(q->msix_nr, PCIIRQ_MSI_MAX));
	int ret = 0;

	if (!q->be_ops->set_irqs) {
		g_warning("%s: the device backend takes no interrupt eventfds", q->id);
		return;
	}
	if (q->pin)
		ret = q->be_ops->set_irqs(q->be, PCIFN_IRQ_INTX, false, 0, 1, &q->intx_efd)
			      ?: q->be_ops->set_irqs(q->be, PCIFN_IRQ_INTX, true, 0, 1,
						     &q->resample_efd);
	for (unsigned i = 0; i < q->msi_nr; i++)
		fds[i] = q->msi[i].efd;
	if (ret == 0 && q->msi_nr)
		ret = q->be_ops->set_irqs(q->be, PCIFN_IRQ_MSI, false, 0, q->msi_nr, fds);
	for (unsigned i = 0; i < q->msix_nr; i++)
		fds[i] = q->msix[i].efd;
	if (ret == 0 && q->msix_nr)
		ret = q->be_ops->set_irqs(q->be, PCIFN_IRQ_MSIX, false, 0, q->msix_nr, fds);
	if (ret < 0)
		g_warning("%s: the device refused its interrupt eventfds (%s); it has no "
			  "interrupts",
			  q->id, g_strerror(-ret));
}

int pciirq_create(const char *id, const struct pcifn_backend_ops *be_ops, void *be,
		  const struct pcifn_bar bars[PCIFN_NUM_BARS], const struct pcifn_irq_ops *ops,
		  void *ctx, const unsigned intx_gsi[4], struct pciirq **out)
{
	struct pciirq *q = g_new0(struct pciirq, 1);
	uint32_t msi, msix;
	int ret, err = 0;

	*q = (struct pciirq){.id = id,
			     .be_ops = be_ops,
			     .be = be,
			     .ops = ops,
			     .ctx = ctx,
			     .intx_efd = -1,
			     .resample_efd = -1};
	for (unsigned i = 0; i < PCIIRQ_MSI_MAX; i++)
		q->msi[i] = (struct pciirq_vec){.efd = -1, .gsi = -1};
	ret = pciirq_scan(q, &msi, &msix);
	if (ret == 0)
		ret = pciirq_intx(q, intx_gsi, &err);
	if (ret == 0 && msi)
		ret = pciirq_msi(q, msi, &err);
	if (ret == 0 && msix)
		ret = msix_setup(q, bars, msix);
	if (ret < 0) {
		pciirq_destroy(q);
		return ret;
	}
	pciirq_give(q);
	*out = q;
	return 0;
}

void pciirq_destroy(struct pciirq *q)
{
	if (!q)
		return;
	msix_free(q);
	for (unsigned i = 0; i < q->msi_nr; i++) {
		pciirq_vec_sync(q, &q->msi[i], false, 0, 0);
		close(q->msi[i].efd);
	}
	/* KVM drops the INTx irqfd when its eventfd closes with the VM, or here. */
	if (q->intx_efd >= 0)
		close(q->intx_efd);
	if (q->resample_efd >= 0)
		close(q->resample_efd);
	g_free(q);
}

void pciirq_reset(struct pciirq *q)
{
	if (!q)
		return;
	msix_reset(q);
	for (unsigned i = 0; i < q->msi_nr; i++) {
		pciirq_vec_sync(q, &q->msi[i], false, 0, 0);
		pciirq_vec_drain(&q->msi[i]);
	}
	q->msi_on = false;
	q->msi_nvec = 0;
}

/*
 * MSI Pending Bits (6.8.1.8): bit i is set while enabled vector i is masked with a
 * message waiting, which is its detached eventfd's count (sampled now, as the PBA).
 */
static uint32_t pciirq_msi_pending(struct pciirq *q)
{
	uint32_t bits = 0;

	for (unsigned i = 0; q->msi_on && i < q->msi_nvec; i++) {
		pciirq_vec_poll(&q->msi[i]);
		if (q->msi[i].pending)
			bits |= 1u << i;
	}
	return bits;
}

static uint32_t pciirq_set_byte(uint32_t val, unsigned lane, uint32_t byte)
{
	return (val & ~(0xffu << (8 * lane))) | (byte & 0xffu) << (8 * lane);
}

void pciirq_cfg_read(struct pciirq *q, uint32_t off, unsigned size, uint32_t *val)
{
	uint32_t pend = 0;
	bool have_pend = false;

	for (unsigned i = 0; q && i < size; i++) {
		uint32_t byte = off + i;

		if (byte == PCI_INT_LINE && q->pin) {
			*val = pciirq_set_byte(*val, i, q->line);
		} else if (q->msix_nr && byte == q->msix_cap + 3) { /* Message Control 15:14 */
			*val = (*val & ~(0xc0u << (8 * i))) | (uint32_t)(q->msix_ctrl >> 8)
								      << (8 * i);
		} else if (q->msi_pend && byte >= q->msi_pend && byte < q->msi_pend + 4) {
			if (!have_pend)
				pend = pciirq_msi_pending(q);
			have_pend = true;
			*val = pciirq_set_byte(*val, i, pend >> (8 * (byte - q->msi_pend)));
		}
	}
}

/* The guest wrote the MSI capability (6.8.1): read it back and re-route. */
static int pciirq_msi_update(struct pciirq *q)
{
	uint32_t cap = q->msi_cap, ctrl, data, mask = 0, nvec;
	uint64_t addr;
	int err = 0;

	ctrl = pciirq_cfg(q, cap + 2, 2, &err);
	addr = pciirq_cfg(q, cap + 4, 4, &err);
	if (ctrl & MSI_CTRL_64BIT)
		addr |= (uint64_t)pciirq_cfg(q, cap + 8, 4, &err) << 32;
	cap += ctrl & MSI_CTRL_64BIT ? 4 : 0;
	data = pciirq_cfg(q, cap + 8, 2, &err);
	if (ctrl & MSI_CTRL_PVM)
		mask = pciirq_cfg(q, cap + 12, 4, &err);
	if (err)
		return err;
	nvec = MIN(1u << MIN((ctrl >> 4) & 7u, 5u), q->msi_nr);
	if (!q->msi_on && (ctrl & MSI_CTRL_ENABLE)) {
		for (unsigned i = 0; i < q->msi_nr; i++)
			pciirq_vec_drain(&q->msi[i]);
	}
	q->msi_on = ctrl & MSI_CTRL_ENABLE;
	q->msi_nvec = nvec;
	/* Multiple Message Enable: vector i replaces the low bits of the data. */
	for (unsigned i = 0; i < q->msi_nr; i++)
		pciirq_vec_sync(q, &q->msi[i], q->msi_on && i < nvec && !(mask >> i & 1), addr,
				(data & ~(nvec - 1)) | i);
	return 0;
}

int pciirq_cfg_write(struct pciirq *q, uint32_t off, unsigned size, uint32_t val)
{
	int ctrl = -1;

	for (unsigned i = 0; q && i < size; i++) {
		uint32_t byte = off + i, v = (val >> (8 * i)) & 0xff;

		if (byte == PCI_INT_LINE && q->pin)
			q->line = (uint8_t)v; /* a scratch register for the OS (6.2.4) */
		if (q->msix_nr && byte == q->msix_cap + 3)
			ctrl = (int)(v << 8);
	}
	if (ctrl >= 0)
		msix_control(q, (uint16_t)ctrl);
	if (q && q->msi_cap && off < q->msi_cap + MSI_CAP_LEN && q->msi_cap < off + size)
		return pciirq_msi_update(q);
	return 0;
}
