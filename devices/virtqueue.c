// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtqueue: the device side of split virtqueues (virtio 1.1, 2.6).  Every ring and
 * buffer access goes through gmem_translate, and every descriptor is copied out of
 * guest RAM once before it is used, so a guest changing its rings under us sees only
 * one consistent view.  Where guest RAM has no host mapping (a remote that reaches it
 * by DMA_READ/DMA_WRITE messages) gmem_translate gives no pointer: ring fields are
 * then copied with gmem_read/gmem_write, and buffers go through heap copies that
 * virtq_pop fills and virtq_push writes back (struct virtq_req's bounce list), so a
 * device sees plain iovecs either way; the mapped path takes none of these branches.
 * Each access asks guest RAM for the direction it needs: the descriptor table, the
 * available ring, indirect tables and device-readable buffers only for reading (so
 * they may sit in a read-only DMA mapping), the used ring and device-writable buffers
 * for writing.  A malformed ring or chain is reported as -EIO and nothing of
 * it is used: the caller turns that into DEVICE_NEEDS_RESET.  It is not a transport
 * and knows nothing of PCI, interrupts or what a request means.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "devices/virtio.h"

/* Ring layouts (2.6.5, 2.6.6, 2.6.8): sizes in bytes for a queue of n entries. */
#define DESC_SIZE 16
#define AVAIL_RING 4 /* le16 flags, le16 idx, le16 ring[n] */
#define USED_RING 4  /* le16 flags, le16 idx, { le32 id, le32 len } ring[n] */
#define USED_ELEM 8

struct vdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

void virtq_reset(struct virtq *vq)
{
	memset(vq, 0, sizeof(*vq));
	vq->size = VIRTQ_MAX_SIZE;
	vq->msix_vector = VIRTIO_MSI_NO_VECTOR;
}

/* [gpa, gpa + len) aligned and inside one region the device may read (or write). */
static bool range_ok(const struct gmem *mem, uint64_t gpa, uint64_t len, uint64_t align, bool write)
{
	return mem && gpa % align == 0 && gmem_contains(mem, gpa, len, write);
}

/* A copy of guest RAM where gmem_translate_read gives no pointer (no host mapping). */
static int copy_in(const struct gmem *mem, uint64_t gpa, void *buf, size_t len)
{
	return gmem_contains(mem, gpa, len, false) ? gmem_read(mem, gpa, buf, len) : -EIO;
}

static void release_bounces(struct virtq_req *req)
{
	for (unsigned i = 0; i < req->nr_bounce; i++)
		g_free(req->iov[req->bounce[i].iov].iov_base);
	req->nr_bounce = 0;
	req->bounce_bytes = 0;
}

int virtq_check(const struct virtq *vq, const struct gmem *mem)
{
	uint64_t n = vq->size;

	/*
	 * Alignment: descriptor table 16, available ring 2, used ring 4 (2.6, table).  The
	 * device only reads the first two ("driver area") and writes the third (2.6).
	 */
	if (!range_ok(mem, vq->desc, DESC_SIZE * n, 16, false) ||
	    !range_ok(mem, vq->avail, AVAIL_RING + 2 * n + 2, 2, false) ||
	    !range_ok(mem, vq->used, USED_RING + USED_ELEM * n + 2, 4, true))
		return -EINVAL;
	return 0;
}

/* A le16 in guest RAM, read with acquire semantics (the driver publishes with a barrier). */
static int load16(const struct gmem *mem, uint64_t gpa, uint16_t *v)
{
	const uint16_t *p = mem ? gmem_translate_read(mem, gpa, 2) : NULL;

	if (!p && mem && gpa % 2 == 0 && copy_in(mem, gpa, v, 2) == 0) {
		*v = le16toh(*v); /* a DMA_READ reply: ordered by its round trip */
		return 0;
	}
	if (!p || (uintptr_t)p % 2)
		return -EIO;
	*v = le16toh(__atomic_load_n(p, __ATOMIC_ACQUIRE));
	return 0;
}

static int read_desc(const struct gmem *mem, uint64_t table, unsigned i, struct vdesc *d)
{
	uint8_t raw[DESC_SIZE];
	uint64_t gpa = table + (uint64_t)i * DESC_SIZE;
	const void *p = gmem_translate_read(mem, gpa, DESC_SIZE);

	if (p)
		memcpy(raw, p, sizeof(raw)); /* one snapshot: the guest may rewrite it meanwhile */
	else if (copy_in(mem, gpa, raw, sizeof(raw)) < 0)
		return -EIO;
	memcpy(&d->addr, raw, 8);
	memcpy(&d->len, raw + 8, 4);
	memcpy(&d->flags, raw + 12, 2);
	memcpy(&d->next, raw + 14, 2);
	d->addr = le64toh(d->addr);
	d->len = le32toh(d->len);
	d->flags = le16toh(d->flags);
	d->next = le16toh(d->next);
	return 0;
}

/*
 * A buffer without a host mapping: a heap copy, filled now if the device reads it.
 * Bounded by VIRTQ_BOUNCE_MAX per chain so a guest cannot make the process allocate
 * VIRTQ_MAX_BYTES.
 */
static void *bounce_buf(const struct gmem *mem, struct virtq_req *req, const struct vdesc *d)
{
	bool writable = d->flags & VIRTQ_DESC_F_WRITE;
	void *buf;

	if (!gmem_contains(mem, d->addr, d->len, writable) ||
	    req->bounce_bytes + d->len > VIRTQ_BOUNCE_MAX)
		return NULL;
	buf = writable ? g_try_malloc0(d->len) : g_try_malloc(d->len);
	if (!buf)
		return NULL;
	if (!writable && gmem_read(mem, d->addr, buf, d->len) < 0) {
		g_free(buf);
		return NULL;
	}
	req->bounce[req->nr_bounce++] = (struct virtq_bounce){req->nr_out + req->nr_in, d->addr};
	req->bounce_bytes += d->len;
	return buf;
}

/*
 * A host pointer to a buffer: writable RAM for a device-writable buffer, any RAM for a
 * device-readable one.  A readable buffer in a read-only mapping is PROT_READ: the
 * device only ever reads the out iovecs (virtq_req_read; virtq_req_slice of the readable
 * part, which virtio-blk hands to pwritev).
 */
static void *buf_translate(const struct gmem *mem, const struct vdesc *d)
{
	if (d->flags & VIRTQ_DESC_F_WRITE)
		return gmem_translate(mem, d->addr, d->len);
	return (void *)gmem_translate_read(mem, d->addr, d->len);
}

/* Add one buffer to the request, in order: readable ones first (2.6.4.2). */
static int add_buf(const struct gmem *mem, struct virtq_req *req, const struct vdesc *d)
{
	unsigned n = req->nr_out + req->nr_in;
	uint64_t *total = d->flags & VIRTQ_DESC_F_WRITE ? &req->in_len : &req->out_len;
	void *hva;

	if (!(d->flags & VIRTQ_DESC_F_WRITE) && req->nr_in) {
		g_debug("virtq: readable descriptor after a writable one");
		return -EIO;
	}
	if (d->len == 0)
		return 0; /* nothing to transfer; not an error */
	hva = n < VIRTQ_MAX_SIZE ? buf_translate(mem, d) : NULL;
	if (!hva && n < VIRTQ_MAX_SIZE && req->out_len + req->in_len + d->len <= VIRTQ_MAX_BYTES)
		hva = bounce_buf(mem, req, d);
	if (!hva) {
		g_debug("virtq: buffer 0x%" G_GINT64_MODIFIER "x+0x%x outside guest RAM", d->addr,
			d->len);
		return -EIO;
	}
	if (req->out_len + req->in_len + d->len > VIRTQ_MAX_BYTES) {
		g_debug("virtq: chain longer than %u bytes", VIRTQ_MAX_BYTES);
		return -EIO;
	}
	*total += d->len;
	req->iov[n] = (struct iovec){.iov_base = hva, .iov_len = d->len};
	if (d->flags & VIRTQ_DESC_F_WRITE)
		req->nr_in++;
	else
		req->nr_out++;
	return 0;
}

/* Switch the walk to an indirect table (2.6.5.3.1); `d` is the indirect descriptor. */
static int enter_indirect(const struct virtq *vq, const struct gmem *mem, const struct vdesc *d,
			  uint64_t *table, unsigned *tsize)
{
	if (!vq->indirect || d->flags & VIRTQ_DESC_F_NEXT) {
		g_debug("virtq: indirect descriptor not negotiated or with NEXT");
		return -EIO;
	}
	if (d->len == 0 || d->len % DESC_SIZE || d->len / DESC_SIZE > VIRTQ_MAX_SIZE ||
	    !range_ok(mem, d->addr, d->len, 1, false)) {
		g_debug("virtq: bad indirect table 0x%" G_GINT64_MODIFIER "x+0x%x", d->addr,
			d->len);
		return -EIO;
	}
	*table = d->addr;
	*tsize = d->len / DESC_SIZE;
	return 0;
}

/*
 * Walk the chain at `head`.  At most vq->size descriptors in all (a driver MUST NOT
 * make a longer chain, 2.6.5.2), so a loop ends as an error, never a hang.
 */
static int walk_chain(const struct virtq *vq, const struct gmem *mem, uint16_t head,
		      struct virtq_req *req)
{
	uint64_t table = vq->desc;
	unsigned tsize = vq->size, idx = head;
	bool indirect = false;
	struct vdesc d;

	for (unsigned count = 1;; count++) {
		if (count > vq->size || read_desc(mem, table, idx, &d) < 0) {
			g_debug("virtq: chain at %u loops, is too long or leaves RAM", head);
			return -EIO;
		}
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			if (indirect) {
				g_debug("virtq: nested indirect table"); /* 2.6.5.3.1 */
				return -EIO;
			}
			if (enter_indirect(vq, mem, &d, &table, &tsize) < 0)
				return -EIO;
			indirect = true;
			idx = 0;
			continue;
		}
		if (add_buf(mem, req, &d) < 0)
			return -EIO;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		idx = d.next;
		if (idx >= tsize) {
			g_debug("virtq: next index %u beyond table of %u", idx, tsize);
			return -EIO;
		}
	}
}

int virtq_pop(struct virtq *vq, const struct gmem *mem, struct virtq_req *req)
{
	uint16_t avail_idx, head;
	uint64_t slot;

	if (load16(mem, vq->avail + 2, &avail_idx) < 0)
		return -EIO;
	if ((uint16_t)(avail_idx - vq->last_avail) > vq->size) {
		g_debug("virtq: avail index jumped from %u to %u", vq->last_avail, avail_idx);
		return -EIO;
	}
	if (avail_idx == vq->last_avail)
		return 0;
	slot = vq->avail + AVAIL_RING + 2ull * (vq->last_avail % vq->size);
	if (load16(mem, slot, &head) < 0)
		return -EIO;
	if (head >= vq->size) {
		g_debug("virtq: head %u beyond queue size %u", head, vq->size);
		return -EIO;
	}
	vq->last_avail++;
	req->head = head;
	req->nr_out = req->nr_in = 0;
	req->out_len = req->in_len = 0;
	req->nr_bounce = 0;
	req->bounce_bytes = 0;
	if (walk_chain(vq, mem, head, req) < 0) {
		release_bounces(req);
		return -EIO;
	}
	return 1;
}

/* The first len writable bytes back to guest RAM where they sit in copies. */
static int write_back(const struct gmem *mem, struct virtq_req *req, uint64_t len)
{
	uint64_t off = 0;
	unsigned b = 0;

	for (unsigned i = req->nr_out; i < req->nr_out + req->nr_in && off < len; i++) {
		uint64_t n = MIN(req->iov[i].iov_len, len - off);

		while (b < req->nr_bounce && req->bounce[b].iov < i)
			b++;
		if (b < req->nr_bounce && req->bounce[b].iov == i &&
		    gmem_write(mem, req->bounce[b].gpa, req->iov[i].iov_base, n) < 0)
			return -EIO;
		off += n;
	}
	return 0;
}

/* The used ring element and index, by copies (no host mapping), element first. */
static int push_copy(const struct gmem *mem, uint64_t elem, uint64_t idx_gpa, const uint8_t *e,
		     uint16_t idx)
{
	if (!gmem_contains(mem, elem, USED_ELEM, true) || idx_gpa % 2 ||
	    gmem_write(mem, elem, e, USED_ELEM) < 0 || gmem_write(mem, idx_gpa, &idx, 2) < 0)
		return -EIO;
	return 0;
}

int virtq_req_complete(struct virtq_req *req, const struct gmem *mem, uint32_t len)
{
	int ret = 0;

	if (req->nr_bounce)
		ret = mem ? write_back(mem, req, len) : -EIO;
	release_bounces(req);
	return ret;
}

int virtq_push(struct virtq *vq, const struct gmem *mem, uint16_t head, uint32_t len)
{
	uint64_t elem = vq->used + USED_RING + (uint64_t)USED_ELEM * (vq->used_idx % vq->size);
	uint32_t id32 = htole32(head), len32 = htole32(len);
	uint8_t *e = mem ? gmem_translate(mem, elem, USED_ELEM) : NULL;
	uint16_t *idx = mem ? gmem_translate(mem, vq->used + 2, 2) : NULL;

	if (mem && (!e || !idx)) { /* no host mapping: by copies, the element first */
		uint8_t copy[USED_ELEM];

		memcpy(copy, &id32, 4);
		memcpy(copy + 4, &len32, 4);
		if (push_copy(mem, elem, vq->used + 2, copy, htole16((uint16_t)(vq->used_idx + 1))))
			return -EIO;
		vq->used_idx++;
		return 0;
	}
	if (!e || !idx || (uintptr_t)idx % 2)
		return -EIO;
	memcpy(e, &id32, 4);
	memcpy(e + 4, &len32, 4);
	vq->used_idx++;
	/* The element must be visible before the index that publishes it (2.6.8.2). */
	__atomic_store_n(idx, htole16(vq->used_idx), __ATOMIC_RELEASE);
	return 0;
}

bool virtq_want_irq(const struct virtq *vq, const struct gmem *mem)
{
	uint16_t flags;

	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* used idx store before the flags load */
	if (load16(mem, vq->avail, &flags) < 0)
		return true;
	return !(flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

/* Copy between buf and the iov range [first, first + n) starting `off` bytes in. */
static size_t iov_copy(const struct iovec *iov, unsigned n, uint64_t off, void *buf, size_t len,
		       bool to_iov)
{
	size_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		size_t chunk;

		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		chunk = MIN(iov[i].iov_len - off, len - done);
		if (to_iov)
			memcpy((char *)iov[i].iov_base + off, (char *)buf + done, chunk);
		else
			memcpy((char *)buf + done, (char *)iov[i].iov_base + off, chunk);
		done += chunk;
		off = 0;
	}
	return done;
}

size_t virtq_req_read(const struct virtq_req *req, uint64_t off, void *buf, size_t len)
{
	return iov_copy(req->iov, req->nr_out, off, buf, len, false);
}

size_t virtq_req_write(struct virtq_req *req, uint64_t off, const void *buf, size_t len)
{
	return iov_copy(req->iov + req->nr_out, req->nr_in, off, (void *)buf, len, true);
}

int virtq_req_slice(const struct virtq_req *req, bool writable, uint64_t skip, uint64_t len,
		    struct iovec *dst)
{
	const struct iovec *iov = writable ? req->iov + req->nr_out : req->iov;
	unsigned n = writable ? req->nr_in : req->nr_out, out = 0;
	uint64_t total = writable ? req->in_len : req->out_len, end;

	if (__builtin_add_overflow(skip, len, &end) || end > total)
		return -EINVAL;
	for (unsigned i = 0; i < n && len; i++) {
		uint64_t chunk;

		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		chunk = MIN(iov[i].iov_len - skip, len);
		dst[out++] = (struct iovec){(char *)iov[i].iov_base + skip, chunk};
		len -= chunk;
		skip = 0;
	}
	return out;
}
