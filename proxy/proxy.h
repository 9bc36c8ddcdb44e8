/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * proxy: the VMM-side PCI function of a device emulated elsewhere.
 *
 * struct pcifn is what the VMM's PCI host bridge sees: a config space whose BAR
 * registers (0x10-0x27) and expansion-ROM register (0x30) are virtualized here
 * (sizing, programming, 32/64-bit, prefetchable, I/O), and whose other registers are
 * forwarded to a backend.  The command register is forwarded and also shadowed, so
 * BAR decoding follows its memory/io enable bits.  Guest accesses inside a BAR go to
 * the backend too.
 *
 * Backends: proxy_connect() makes one that speaks vfio-user over a socket (the
 * pci-proxy-dev device); the VMM's in-process baseline supplies its own ops.
 *
 * A backend that fails (remote died, protocol error) is marked dead: one g_warning,
 * after which config and BAR reads return all-ones and writes are dropped.  The VMM
 * keeps running.
 *
 * Threads: any vCPU thread may call pcifn_* concurrently; a pcifn serializes its
 * backend with a mutex.  Ownership: pcifn_destroy() destroys the backend.
 */
#ifndef MPVMM_PROXY_H
#define MPVMM_PROXY_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#define PCIFN_NUM_BARS 6
#define PCIFN_BAR_IO 0x1
#define PCIFN_BAR_MEM64 0x4
#define PCIFN_BAR_PREFETCH 0x8

struct pcifn_bar {
	uint64_t size;	/* power of two; 0 = absent (or upper half of a 64-bit BAR) */
	uint32_t flags; /* PCIFN_BAR_* */
};

struct pcifn_backend_ops {
	/* Each returns 0 or -errno; -ECONNRESET/-EPIPE/-EPROTO mark the function dead. */
	int (*cfg_read)(void *be, uint32_t off, unsigned size, uint32_t *val);
	int (*cfg_write)(void *be, uint32_t off, unsigned size, uint32_t val);
	int (*bar_read)(void *be, unsigned bar, uint64_t off, unsigned size, uint64_t *val);
	int (*bar_write)(void *be, unsigned bar, uint64_t off, unsigned size, uint64_t val);
	int (*reset)(void *be); /* optional */
	void (*destroy)(void *be);
	/*
	 * Optional: hand the device eventfds for interrupt `index` (PCIFN_IRQ_*),
	 * sub-indexes start..start+count-1; fds[i] -1 takes one away.  unmask: the INTx
	 * unmask (KVM resample) eventfd instead of the trigger.  fds stay the caller's.
	 */
	int (*set_irqs)(void *be, unsigned index, bool unmask, unsigned start, unsigned count,
			const int *fds);
};

struct pcifn;

/*
 * Build a function from its BAR layout.  Takes ownership of be (destroyed through
 * ops->destroy also on failure).  -EINVAL for an inconsistent BAR layout.
 */
int pcifn_create(const char *id, const struct pcifn_backend_ops *ops, void *be,
		 const struct pcifn_bar bars[PCIFN_NUM_BARS], struct pcifn **out);
void pcifn_destroy(struct pcifn *fn);
const char *pcifn_id(const struct pcifn *fn);
bool pcifn_dead(const struct pcifn *fn);
/* Each BAR's size as the device declared it (0: none, or a 64-bit BAR's upper half). */
void pcifn_bar_sizes(const struct pcifn *fn, uint64_t size[PCIFN_NUM_BARS]);

/* Config access, off < 4096, size 1/2/4 naturally aligned, else -EINVAL + all-ones. */
int pcifn_cfg_read(struct pcifn *fn, uint32_t off, unsigned size, uint32_t *val);
int pcifn_cfg_write(struct pcifn *fn, uint32_t off, unsigned size, uint32_t val);

/*
 * Decode a guest access: true when [addr, addr+len) lies wholly inside one enabled BAR
 * of the given space (io = port I/O); *bar and *off tell which and where.
 */
bool pcifn_decode(struct pcifn *fn, bool io, uint64_t addr, unsigned len, unsigned *bar,
		  uint64_t *off);
int pcifn_bar_read(struct pcifn *fn, unsigned bar, uint64_t off, unsigned size, uint64_t *val);
int pcifn_bar_write(struct pcifn *fn, unsigned bar, uint64_t off, unsigned size, uint64_t val);
void pcifn_reset(struct pcifn *fn);

/*
 * Interrupts (docs/interrupts.md).  pcifn_irq_setup() reads the function's interrupt
 * pin and capability list through the backend, makes one eventfd per INTx line, MSI
 * and MSI-X vector, and gives them to the device (ops->set_irqs) and to the
 * interrupt controller (struct pcifn_irq_ops, KVM in the VMM), so a device raises an
 * interrupt without the VMM.  From then on the function virtualizes:
 *  - the interrupt line register (0x3c), initially the GSI of its pin;
 *  - the MSI capability: guest writes re-route its vectors; its Pending Bits register
 *    reads the eventfd state of masked vectors, as for MSI-X;
 *  - the MSI-X table and PBA (PCI 3.0, 6.8.2): accesses to them are answered here
 *    and never reach the backend; a vector is attached to its route while MSI-X is
 *    enabled and neither it nor the function is masked; a masked vector's eventfd
 *    accumulates, which reads as its pending bit, and is delivered on unmask.
 * The ops are called with the function's lock held, from vCPU threads.
 */
#define PCIFN_IRQ_INTX 0u
#define PCIFN_IRQ_MSI 1u
#define PCIFN_IRQ_MSIX 2u
#define PCIFN_MSIX_MAX 2048u

struct pcifn_irq_ops {
	/* Point route *gsi (allocated first when -1) at the MSI message.  0 or -errno. */
	int (*route)(void *ctx, int *gsi, uint64_t addr, uint32_t data);
	/* Attach efd to gsi as an edge irqfd, or detach it. */
	int (*irqfd)(void *ctx, int gsi, int efd, bool attach);
	/* Deliver one MSI now (a pending vector was unmasked). */
	int (*signal)(void *ctx, uint64_t addr, uint32_t data);
	/* Attach efd as the level-triggered irqfd of gsi with its resample eventfd. */
	int (*intx)(void *ctx, unsigned gsi, int efd, int resample_efd);
};

/*
 * intx_gsi[pin - 1]: the GSI INTA#..INTD# of this slot are wired to.  -EPROTO for a
 * malformed capability list or MSI-X layout, or a doorbell (pcifn_add_ioeventfd) over
 * the MSI-X table or PBA (the function cannot be used: dead, with a warning naming
 * it), -EEXIST when already set up; a backend without set_irqs gets no interrupts (a
 * warning).
 */
int pcifn_irq_setup(struct pcifn *fn, const struct pcifn_irq_ops *ops, void *ctx,
		    const unsigned intx_gsi[4]);

/*
 * Doorbells: ranges of a BAR where a guest write only needs to wake the device, so the
 * VMM may turn them into KVM ioeventfds (docs/protocol.md, GET_REGION_IO_FDS).  A
 * function holds the eventfds (owned; closed by pcifn_destroy) and tells a hook where
 * each BAR is decoded, so whoever registers the ioeventfds can follow the guest's BAR
 * programming, decode enables and resets.
 */
#define PCIFN_MAX_IOEVENTFDS 32

struct pcifn_ioeventfd {
	unsigned bar;
	uint64_t off;	/* within the BAR; off + size <= its size */
	unsigned size;	/* 1, 2, 4 or 8 */
	bool datamatch; /* fire only on a write of exactly `data` */
	uint64_t data;
	int fd; /* eventfd, owned by the function */
};

/*
 * Add a doorbell; the function owns ev->fd on success.  -EINVAL when the BAR is absent,
 * the size is not 1/2/4/8, [off, off + size) leaves the BAR or data is wider than size;
 * -EADDRINUSE when it touches the MSI-X table or PBA (known once pcifn_irq_setup ran,
 * which checks the doorbells added before it); -ENOSPC past PCIFN_MAX_IOEVENTFDS.
 * Before the function is in use (not locked).
 */
int pcifn_add_ioeventfd(struct pcifn *fn, const struct pcifn_ioeventfd *ev);
/* The doorbells added so far; the array lives as long as fn. */
unsigned pcifn_ioeventfds(const struct pcifn *fn, const struct pcifn_ioeventfd **out);

/*
 * Called whenever the address BAR `bar` (an I/O BAR if io) decodes at changes:
 * programming, the command register's memory/io enable, reset.  0 means "not decoded"
 * (disabled, unassigned).  Called with the function's lock held, on the thread that
 * made the change (a vCPU thread): the hook must not call pcifn_* on fn other than
 * pcifn_ioeventfds() and pcifn_id().
 */
typedef void (*pcifn_bar_map_fn)(void *ctx, struct pcifn *fn, unsigned bar, bool io,
				 uint64_t old_base, uint64_t new_base);
/*
 * Install the hook (NULL removes it); it is called at once for every BAR decoded now
 * (old_base 0), so it may be installed after the BARs were programmed.
 */
void pcifn_set_bar_hook(struct pcifn *fn, pcifn_bar_map_fn hook, void *ctx);

struct gmem;

/*
 * vfio-user client backend.  Handshakes on the connected socket `sock` (VERSION with
 * the device-id extension; the remote must host a device named `id`), reads device,
 * region and IRQ info, validates it, and builds the function.  Then it offers guest RAM:
 * one DMA_MAP per region of `mem` (may be NULL: no DMA), with the region's memfd and
 * offset, or without an fd for a region that has none (the remote may refuse that: a
 * warning, the device then cannot reach that region), and listens to mem (gmem_listen)
 * until pcifn_destroy: every later change goes to the remote as DMA_UNMAP/DMA_MAP on
 * the thread that makes it, and a remote that fails one is disconnected (a warning;
 * the function dies at its next access); and asks each BAR's doorbells with
 * GET_REGION_IO_FDS, checks them against the BAR and adds them to the function
 * (pcifn_add_ioeventfd).  A region the remote accepts without an fd is served to it
 * with DMA_READ/DMA_WRITE while the function waits for replies.  mem must outlive the
 * function.  Takes ownership of sock.
 * Errors name the device and say what to fix.
 */
int proxy_connect(const char *id, int sock, const struct gmem *mem, struct pcifn **out,
		  GError **err);

/* Connect to a listening remote's socket path (then as proxy_connect). */
int proxy_connect_path(const char *id, const char *path, const struct gmem *mem, struct pcifn **out,
		       GError **err);

/* How guest RAM reaches the remote (pci-proxy-dev dma=, docs/vmm.md). */
enum proxy_dma {
	PROXY_DMA_FD,	   /* DMA_MAP with each region's memfd: the remote maps guest RAM */
	PROXY_DMA_MESSAGE, /* DMA_MAP without fds: the remote copies by DMA_READ/DMA_WRITE */
};

/*
 * proxy_connect() / proxy_connect_path() with a choice of dma (theirs is PROXY_DMA_FD).
 * With PROXY_DMA_MESSAGE no region's fd is sent, a remote that refuses a region fails
 * the connection, and the function starts a thread that serves the remote's
 * DMA_READ/DMA_WRITE commands between calls (joined by pcifn_destroy); during a call
 * the calling vCPU thread serves them.  mem must outlive the function.
 */
int proxy_connect_dma(const char *id, int sock, const struct gmem *mem, enum proxy_dma dma,
		      struct pcifn **out, GError **err);
int proxy_connect_path_dma(const char *id, const char *path, const struct gmem *mem,
			   enum proxy_dma dma, struct pcifn **out, GError **err);

#endif
