// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio.c: the driver side of the virtio 1.x modern PCI transport (virtio 1.1, 4.1)
 * and of split virtqueues (2.6), for guest test programs.  Rings live in static,
 * page-aligned guest RAM, one set per queue index; guest-physical equals virtual in
 * this runtime.  Completion is found by polling the used ring or by counting MSI-X
 * interrupts (one IDT vector per table entry).
 *
 * Not here: legacy (0.9.5) I/O-port transport, packed rings, indirect descriptors,
 * event-idx; INTx/ISR-driven completion is in virtio-intx.c; the PCI configuration
 * access capability is only checked (virtio-pcicfg.c).
 */
#include "virtio.h"

/* struct virtio_pci_cap (4.1.4) */
#define VIRTIO_CAP_CFG_TYPE 3
#define VIRTIO_CAP_BAR 4
#define VIRTIO_CAP_OFFSET 8
#define VIRTIO_CAP_LENGTH 12
#define VIRTIO_CAP_NOTIFY_MUL 16
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG 3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4

/* struct virtio_pci_common_cfg (4.1.4.3) */
#define VCC_DFSELECT 0
#define VCC_DF 4
#define VCC_GFSELECT 8
#define VCC_GF 12
#define VCC_MSIX_CONFIG 16
#define VCC_NUM_QUEUES 18
#define VCC_STATUS 20
#define VCC_GENERATION 21
#define VCC_Q_SELECT 22
#define VCC_Q_SIZE 24
#define VCC_Q_MSIX 26
#define VCC_Q_ENABLE 28
#define VCC_Q_NOTIFY_OFF 30
#define VCC_Q_DESC 32
#define VCC_Q_DRIVER 40
#define VCC_Q_DEVICE 48
#define VCC_LEN 56

#define VIRTIO_RESET_SPINS 10000000ul
#define VIRTIO_MAX_VECTORS 16

struct virtq_mem {
	struct virtq_desc desc[VIRTQ_MAX_SIZE] __attribute__((aligned(4096)));
	struct virtq_avail avail __attribute__((aligned(4096)));
	uint16_t avail_pad[2]; /* used_event follows the ring */
	struct virtq_used used __attribute__((aligned(4096)));
	uint16_t used_pad[2];
};

static struct virtq_mem virtq_mem[VIRTIO_MAX_QUEUES];
static volatile unsigned long virtio_irqs[VIRTIO_MAX_VECTORS];
static uint8_t virtio_vector_base;
static bool virtio_hlt;

static inline void virtio_barrier(void)
{
	__asm__ volatile("" ::: "memory");
}

static inline uint64_t virtio_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* Accept a capability only if its region lies inside an assigned memory BAR. */
static int virtio_cap_region(const struct virtio_dev *vd, unsigned pos, uint64_t *addr,
			     uint32_t *len)
{
	uint16_t bdf = vd->fn->bdf;
	uint8_t bar = pci_cfg_readb(bdf, pos + VIRTIO_CAP_BAR);
	uint32_t off = pci_cfg_readl(bdf, pos + VIRTIO_CAP_OFFSET);
	const struct pci_bar *b;

	*len = pci_cfg_readl(bdf, pos + VIRTIO_CAP_LENGTH);
	if (bar > 5)
		return -EINVAL;
	b = &vd->fn->bar[bar];
	if (!b->size || !b->addr || b->io || off > b->size || *len > b->size - off)
		return -EINVAL;
	*addr = b->addr + off;
	return 0;
}

/* The first usable capability of each type wins (4.1.4: "SHOULD use the first"). */
static void virtio_cap_one(struct virtio_dev *vd, unsigned pos)
{
	uint8_t type = pci_cfg_readb(vd->fn->bdf, pos + VIRTIO_CAP_CFG_TYPE);
	uint64_t addr;
	uint32_t len;

	if (virtio_cap_region(vd, pos, &addr, &len) < 0)
		return;
	if (type == VIRTIO_PCI_CAP_COMMON_CFG && !vd->common && len >= VCC_LEN) {
		vd->common = addr;
	} else if (type == VIRTIO_PCI_CAP_NOTIFY_CFG && !vd->notify_base && len >= 2) {
		vd->notify_base = addr;
		vd->notify_len = len;
		vd->notify_mul = pci_cfg_readl(vd->fn->bdf, pos + VIRTIO_CAP_NOTIFY_MUL);
	} else if (type == VIRTIO_PCI_CAP_ISR_CFG && !vd->isr && len >= 1) {
		vd->isr = addr;
	} else if (type == VIRTIO_PCI_CAP_DEVICE_CFG && !vd->device) {
		vd->device = addr;
		vd->device_len = len;
	}
}

int virtio_attach(struct virtio_dev *vd, const struct pci_fn *fn)
{
	int pos = 0;

	*vd = (struct virtio_dev){.fn = fn};
	pci_set_master(fn->bdf, false);
	while ((pos = pci_cap_find(fn->bdf, PCI_CAP_ID_VNDR, (unsigned)pos)) > 0)
		virtio_cap_one(vd, (unsigned)pos);
	if (pos == -EINVAL || !vd->common || !vd->notify_base || !vd->isr)
		return -EINVAL;
	return 0;
}

int virtio_find(struct virtio_dev *vd, uint16_t modern_id, uint16_t transitional_id, unsigned index)
{
	const struct pci_fn *fn = pci_find(VIRTIO_VENDOR, modern_id, index);

	if (!fn && transitional_id)
		fn = pci_find(VIRTIO_VENDOR, transitional_id, index);
	if (!fn) {
		*vd = (struct virtio_dev){0};
		return -ENODEV;
	}
	return virtio_attach(vd, fn);
}

static void virtio_set_status(struct virtio_dev *vd, uint8_t s)
{
	writeb(s, vd->common + VCC_STATUS);
}

uint8_t virtio_status(const struct virtio_dev *vd)
{
	return readb(vd->common + VCC_STATUS);
}

bool virtio_reset_wait(struct virtio_dev *vd, unsigned long reads)
{
	unsigned long i = 0;

	virtio_set_status(vd, 0);
	/* 4.1.4.3.2: wait until the device reads back 0 before reinitializing. */
	while (virtio_status(vd) && ++i < reads)
		__asm__ volatile("pause");
	vd->nr_vq = 0;
	return i < reads;
}

void virtio_reset(struct virtio_dev *vd)
{
	virtio_reset_wait(vd, VIRTIO_RESET_SPINS);
}

bool virtio_queue_enabled(const struct virtio_dev *vd, unsigned index)
{
	writew((uint16_t)index, vd->common + VCC_Q_SELECT);
	return readw(vd->common + VCC_Q_ENABLE) != 0;
}

static uint64_t virtio_read_features(struct virtio_dev *vd)
{
	uint64_t f;

	writel(0, vd->common + VCC_DFSELECT);
	f = readl(vd->common + VCC_DF);
	writel(1, vd->common + VCC_DFSELECT);
	return f | (uint64_t)readl(vd->common + VCC_DF) << 32;
}

int virtio_negotiate(struct virtio_dev *vd, uint64_t wanted)
{
	virtio_reset(vd);
	if (virtio_status(vd))
		return -EIO;
	virtio_set_status(vd, VIRTIO_S_ACKNOWLEDGE);
	virtio_set_status(vd, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER);
	vd->offered = virtio_read_features(vd);
	if (!(vd->offered & VIRTIO_BIT(VIRTIO_F_VERSION_1))) {
		virtio_set_status(vd, VIRTIO_S_FAILED);
		return -ENODEV;
	}
	vd->features = vd->offered & (wanted | VIRTIO_BIT(VIRTIO_F_VERSION_1));
	writel(0, vd->common + VCC_GFSELECT);
	writel((uint32_t)vd->features, vd->common + VCC_GF);
	writel(1, vd->common + VCC_GFSELECT);
	writel((uint32_t)(vd->features >> 32), vd->common + VCC_GF);
	virtio_set_status(vd, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK);
	if (!(virtio_status(vd) & VIRTIO_S_FEATURES_OK)) {
		virtio_set_status(vd, VIRTIO_S_FAILED);
		return -EINVAL;
	}
	return 0;
}

bool virtio_has(const struct virtio_dev *vd, unsigned bit)
{
	return vd->features & VIRTIO_BIT(bit);
}

static void virtio_irq_handler(struct idt_frame *f)
{
	virtio_irqs[f->vector - virtio_vector_base]++;
	lapic_eoi();
}

int virtio_msix_setup(struct virtio_dev *vd, uint8_t vector_base, unsigned nr)
{
	int r = msix_init(&vd->msix, vd->fn);

	if (r < 0)
		return r;
	if (nr > vd->msix.nr || nr > VIRTIO_MAX_VECTORS || vector_base < 32 ||
	    vector_base + nr > IDT_SPURIOUS_VECTOR)
		return -EINVAL;
	virtio_vector_base = vector_base;
	lapic_enable();
	for (unsigned i = 0; i < nr; i++) {
		idt_set_handler(vector_base + i, virtio_irq_handler);
		r = msix_set(&vd->msix, i, (uint8_t)(vector_base + i), false);
		if (r < 0)
			return r;
	}
	msix_enable(&vd->msix, true, false);
	vd->use_msix = true;
	vd->vector_base = vector_base;
	return 0;
}

unsigned long virtio_irq_count(unsigned entry)
{
	return entry < VIRTIO_MAX_VECTORS ? virtio_irqs[entry] : 0;
}

int virtio_config_vector(struct virtio_dev *vd, uint16_t entry)
{
	writew(entry, vd->common + VCC_MSIX_CONFIG);
	return readw(vd->common + VCC_MSIX_CONFIG) == entry ? 0 : -EIO;
}

static void virtq_init_ring(struct virtq *vq, unsigned index, uint16_t size, uint16_t vector)
{
	struct virtq_mem *m = &virtq_mem[index];

	memset(m, 0, sizeof(*m));
	*vq = (struct virtq){.index = index,
			     .size = size,
			     .vector = vector,
			     .nr_free = size,
			     .desc = m->desc,
			     .avail = &m->avail,
			     .used = &m->used};
	for (uint16_t i = 0; i < size; i++)
		vq->desc[i].next = (uint16_t)(i + 1);
}

/* 4.1.5.1.3: select, size, vector, addresses, notify offset, enable. */
int virtio_queue_setup(struct virtio_dev *vd, struct virtq *vq, unsigned index, unsigned max_size,
		       uint16_t vector)
{
	uint64_t c = vd->common, noff;
	uint16_t dev_size, size = 1;

	if (index >= VIRTIO_MAX_QUEUES || index >= readw(c + VCC_NUM_QUEUES))
		return -EINVAL;
	writew((uint16_t)index, c + VCC_Q_SELECT);
	dev_size = readw(c + VCC_Q_SIZE);
	if (!dev_size || readw(c + VCC_Q_ENABLE))
		return -ENOENT;
	while (size * 2u <= dev_size && size * 2u <= max_size && size * 2u <= VIRTQ_MAX_SIZE)
		size *= 2;
	virtq_init_ring(vq, index, size, vector);
	writew(size, c + VCC_Q_SIZE);
	writeq((uintptr_t)vq->desc, c + VCC_Q_DESC);
	writeq((uintptr_t)vq->avail, c + VCC_Q_DRIVER);
	writeq((uintptr_t)vq->used, c + VCC_Q_DEVICE);
	writew(vector, c + VCC_Q_MSIX);
	if (readw(c + VCC_Q_MSIX) != vector)
		return -EIO;
	noff = (uint64_t)readw(c + VCC_Q_NOTIFY_OFF) * vd->notify_mul;
	if (noff > vd->notify_len - 2)
		return -EINVAL;
	vq->notify = vd->notify_base + noff;
	writew(1, c + VCC_Q_ENABLE);
	vd->vq[vd->nr_vq++] = vq;
	return 0;
}

uint8_t virtio_driver_ok(struct virtio_dev *vd)
{
	virtio_set_status(vd, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK |
				      VIRTIO_S_DRIVER_OK);
	return virtio_status(vd);
}

static uint64_t virtio_cfg_read_once(const struct virtio_dev *vd, unsigned off, unsigned size)
{
	uint64_t a = vd->device + off;

	switch (size) {
	case 1:
		return readb(a);
	case 2:
		return readw(a);
	case 4:
		return readl(a);
	default: /* 8 bytes as two 4-byte reads, as a driver must (4.1.3.1) */
		return readl(a) | (uint64_t)readl(a + 4) << 32;
	}
}

uint64_t virtio_cfg_read(const struct virtio_dev *vd, unsigned off, unsigned size)
{
	uint8_t gen;
	uint64_t v;

	if (!vd->device || off > vd->device_len || size > vd->device_len - off)
		return 0;
	do {
		gen = readb(vd->common + VCC_GENERATION);
		v = virtio_cfg_read_once(vd, off, size);
	} while (gen != readb(vd->common + VCC_GENERATION));
	return v;
}

int virtq_add(struct virtq *vq, const struct virtq_buf *bufs, unsigned nr, void *token)
{
	uint16_t head = vq->free_head, i = head, last = head;

	if (!nr || nr > VIRTQ_MAX_CHAIN || !token)
		return -EINVAL;
	if (nr > vq->nr_free)
		return -ENOSPC;
	for (unsigned k = 0; k < nr; k++) {
		struct virtq_desc *d = &vq->desc[i];

		d->addr = bufs[k].addr;
		d->len = bufs[k].len;
		d->flags = (uint16_t)((bufs[k].write ? VIRTQ_DESC_F_WRITE : 0) |
				      (k + 1 < nr ? VIRTQ_DESC_F_NEXT : 0));
		last = i;
		i = d->next;
	}
	vq->free_head = vq->desc[last].next;
	vq->nr_free = (uint16_t)(vq->nr_free - nr);
	vq->token[head] = token;
	vq->chain_len[head] = (uint16_t)nr;
	vq->avail->ring[vq->avail_idx % vq->size] = head;
	vq->avail_idx++;
	return 0;
}

void virtq_kick(const struct virtio_dev *vd, struct virtq *vq)
{
	(void)vd;
	virtio_barrier(); /* ring entries before idx (2.6.13); x86 keeps stores in order */
	vq->avail->idx = vq->avail_idx;
	/* The used flags read must not pass the idx store (2.6.13.6). */
	__asm__ volatile("mfence" ::: "memory");
	if (*(volatile uint16_t *)&vq->used->flags & VIRTQ_USED_F_NO_NOTIFY)
		return;
	writew((uint16_t)vq->index, vq->notify);
	vq->kicks++;
}

void virtq_suppress_irq(struct virtq *vq, bool suppress)
{
	*(volatile uint16_t *)&vq->avail->flags = suppress ? VIRTQ_AVAIL_F_NO_INTERRUPT : 0;
}

bool virtq_has_used(const struct virtq *vq)
{
	return *(volatile uint16_t *)&vq->used->idx != vq->last_used;
}

/* Give a finished chain's descriptors back to the free list. */
static void virtq_free_chain(struct virtq *vq, uint16_t head)
{
	uint16_t last = head;

	for (unsigned k = 1; k < vq->chain_len[head]; k++)
		last = vq->desc[last].next;
	vq->desc[last].next = vq->free_head;
	vq->free_head = head;
	vq->nr_free = (uint16_t)(vq->nr_free + vq->chain_len[head]);
	vq->token[head] = NULL;
	vq->chain_len[head] = 0;
}

int virtq_get(struct virtq *vq, void **token, uint32_t *len)
{
	struct virtq_used_elem e;

	if (!virtq_has_used(vq))
		return 0;
	virtio_barrier(); /* idx before the element it covers */
	e = *(volatile struct virtq_used_elem *)&vq->used->ring[vq->last_used % vq->size];
	vq->last_used++;
	if (e.id >= vq->size || !vq->token[e.id])
		return -EIO;
	*token = vq->token[e.id];
	*len = e.len;
	virtq_free_chain(vq, (uint16_t)e.id);
	vq->completed++;
	return 1;
}

static bool virtio_any_used(const struct virtio_dev *vd)
{
	for (unsigned i = 0; i < vd->nr_vq; i++)
		if (virtq_has_used(vd->vq[i]))
			return true;
	return false;
}

unsigned long virtio_irq_total(const struct virtio_dev *vd)
{
	unsigned long n = 0;

	if (vd->use_intx)
		return virtio_intx_used();
	for (unsigned i = 0; i < vd->nr_vq; i++)
		n += virtio_irq_count(vd->vq[i]->vector);
	return n;
}

static bool virtio_irq_changed(const struct virtio_dev *vd, unsigned long seen)
{
	return virtio_irq_total(vd) != seen;
}

static bool virtio_irq_reached(const struct virtio_dev *vd, unsigned long target)
{
	return virtio_irq_total(vd) >= target;
}

static bool virtio_used_ready(const struct virtio_dev *vd, unsigned long unused)
{
	(void)unused;
	return virtio_any_used(vd);
}

/*
 * Spin until @cond holds, reading the TSC (which exits under PVM) only every 16
 * rounds.  With @may_hlt and virtio_wait_hlt(true), halt instead: "sti; hlt" cannot
 * lose a wake-up (the sti shadow covers hlt), but there is no timeout then.
 */
static int virtio_until(const struct virtio_dev *vd,
			bool (*cond)(const struct virtio_dev *, unsigned long), unsigned long arg,
			unsigned long timeout_gcycles, bool may_hlt)
{
	uint64_t start = virtio_rdtsc(), limit = timeout_gcycles * 1000000000ull;

	for (unsigned long n = 1;; n++) {
		if (may_hlt && virtio_hlt) {
			__asm__ volatile("cli" ::: "memory");
			if (cond(vd, arg))
				break;
			__asm__ volatile("sti\n\thlt" ::: "memory");
			continue;
		}
		if (cond(vd, arg))
			return 0;
		if (!(n % 16) && virtio_rdtsc() - start > limit)
			return -ETIMEDOUT;
		__asm__ volatile("pause" ::: "memory");
	}
	__asm__ volatile("sti" ::: "memory");
	return 0;
}

void virtio_wait_hlt(bool on)
{
	virtio_hlt = on;
}

int virtio_wait(const struct virtio_dev *vd, bool irq, unsigned long seen,
		unsigned long timeout_gcycles)
{
	if (irq)
		return virtio_until(vd, virtio_irq_changed, seen, timeout_gcycles, true);
	return virtio_until(vd, virtio_used_ready, 0, timeout_gcycles, false);
}

int virtio_wait_irqs(const struct virtio_dev *vd, unsigned long target,
		     unsigned long timeout_gcycles)
{
	return virtio_until(vd, virtio_irq_reached, target, timeout_gcycles, true);
}

bool virtio_opt_choice(const char *key, const char *def, const char *alt)
{
	const char *v = cmdline_get(guest_cmdline(), key);

	if (v && strcmp(v, def) && strcmp(v, alt))
		guest_abort("option %s=%s: %s or %s", key, v, def, alt);
	return v && !strcmp(v, alt);
}
