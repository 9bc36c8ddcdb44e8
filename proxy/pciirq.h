/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internal to proxy/: a PCI function's interrupt state, shared by pcifn.c (which calls
 * the hooks with the function's lock held), pciirq.c (setup, INTx, MSI, vectors) and
 * msix.c (the MSI-X table and PBA).  Not a public header: proxy.h is.
 */
#ifndef MPVMM_PROXY_PCIIRQ_H
#define MPVMM_PROXY_PCIIRQ_H

#include "proxy/proxy.h"

#define PCIIRQ_MSI_MAX 32u

/* One MSI or MSI-X vector: our eventfd, whose twin the device signals. */
struct pciirq_vec {
	int efd;
	int gsi;       /* KVM route, -1 until first routed */
	bool attached; /* efd is an irqfd of gsi */
	bool pending;  /* signalled while masked, not yet delivered */
	uint64_t addr; /* the message last routed */
	uint32_t data;
};

struct pciirq {
	const char *id; /* the function's, borrowed */
	const struct pcifn_backend_ops *be_ops;
	void *be;
	const struct pcifn_irq_ops *ops;
	void *ctx;
	/* INTx */
	uint8_t pin, line;
	int intx_efd, resample_efd;
	/* MSI (PCI 3.0, 6.8.1) */
	unsigned msi_cap;  /* config offset, 0 = none */
	unsigned msi_nr;   /* vectors offered (Multiple Message Capable) */
	bool msi_on;	   /* MSI Enable as last read back */
	unsigned msi_nvec; /* vectors enabled (Multiple Message Enable), as last read back */
	unsigned msi_pend; /* config offset of Pending Bits (6.8.1.8), 0 = no masking */
	struct pciirq_vec msi[PCIIRQ_MSI_MAX];
	/* MSI-X (PCI 3.0, 6.8.2) */
	unsigned msix_cap;
	uint16_t msix_ctrl; /* Message Control: enable (bit 15), function mask (bit 14) */
	unsigned msix_nr;
	unsigned table_bar, pba_bar;
	uint64_t table_off, pba_off;
	uint32_t *table; /* msix_nr entries of 4 dwords */
	struct pciirq_vec *msix;
};

#define PCIIRQ_MSIX_ENABLE 0x8000u
#define PCIIRQ_MSIX_MASKALL 0x4000u

/* pciirq.c */
int pciirq_create(const char *id, const struct pcifn_backend_ops *be_ops, void *be,
		  const struct pcifn_bar bars[PCIFN_NUM_BARS], const struct pcifn_irq_ops *ops,
		  void *ctx, const unsigned intx_gsi[4], struct pciirq **out);
void pciirq_destroy(struct pciirq *q);
void pciirq_reset(struct pciirq *q);
/*
 * Patch a forwarded config read with the registers virtualized here (a read of MSI
 * Pending Bits samples the masked vectors' eventfds).
 */
void pciirq_cfg_read(struct pciirq *q, uint32_t off, unsigned size, uint32_t *val);
/* After a forwarded config write: track the line, MSI and MSI-X control.  0 or -errno. */
int pciirq_cfg_write(struct pciirq *q, uint32_t off, unsigned size, uint32_t val);
/*
 * Bring a vector to its wanted state: attached to the message (route, irqfd) when
 * `want`, else detached.  Attaching delivers a pending signal first.
 */
void pciirq_vec_sync(struct pciirq *q, struct pciirq_vec *v, bool want, uint64_t addr,
		     uint32_t data);
/* A detached vector's eventfd signalled since last looked: now pending. */
void pciirq_vec_poll(struct pciirq_vec *v);
/* Forget anything signalled so far (MSI-X being enabled). */
void pciirq_vec_drain(struct pciirq_vec *v);

/* msix.c */
int msix_setup(struct pciirq *q, const struct pcifn_bar bars[PCIFN_NUM_BARS], uint32_t cap);
/* true when [off, off+size) of bar touches the table or PBA: then the access is ours. */
bool msix_claims(const struct pciirq *q, unsigned bar, uint64_t off, unsigned size);
void msix_read(struct pciirq *q, unsigned bar, uint64_t off, unsigned size, uint64_t *val);
void msix_write(struct pciirq *q, unsigned bar, uint64_t off, unsigned size, uint64_t val);
/* The guest wrote Message Control; ctrl is the new value of the writable bits. */
void msix_control(struct pciirq *q, uint16_t ctrl);
void msix_reset(struct pciirq *q);
void msix_free(struct pciirq *q);

#endif
