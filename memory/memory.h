/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * memory: guest RAM as fd-backed regions.
 *
 * The VMM creates guest RAM as memfd regions (gmem_create) so the same pages can be
 * mapped by KVM and, later, by device processes.  Every access a device or the VMM
 * makes on behalf of a guest goes through gmem_translate(), which checks the
 * guest-physical range against the regions with overflow-safe arithmetic.  This
 * module knows nothing about KVM or sockets.
 *
 * In a device process the regions come and go with the VMM's vfio-user DMA_MAP and
 * DMA_UNMAP (gmem_map_fd, gmem_remove_region); a region mapped without write access is
 * refused by gmem_translate and gmem_write and served by gmem_translate_read.
 *
 * In the VMM every change of the map is announced to listeners (gmem_listen): each
 * pci-proxy-dev function registers one, which tells its remote with DMA_UNMAP and
 * DMA_MAP (proxy/vfu_dma.c).
 *
 * Threads: in the VMM a gmem is built before vCPUs start; after that
 * gmem_translate/gmem_read/gmem_write may be called from any thread.  The map has no
 * reader lock: whoever changes it after start must first stop every thread that
 * translates through it (vCPUs paused); the listeners run on the changing thread.
 * A device process changes its gmem only on the thread that runs its devices.
 */
#ifndef MPVMM_MEMORY_H
#define MPVMM_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GMEM_MAX_REGIONS 8

/*
 * Access to a region that has no host mapping (a device process reaching guest RAM
 * the VMM shared without an fd, by vfio-user DMA_READ/DMA_WRITE messages): copy len
 * bytes at guest-physical gpa into buf (write false) or from it (write true).  The
 * range is already checked to lie inside the region.  Returns 0 or -errno (-EIO: the
 * transport failed).  Called on the thread that called gmem_read/gmem_write.
 */
typedef int (*gmem_access_fn)(void *ctx, uint64_t gpa, void *buf, uint64_t len, bool write);

struct gmem_region {
	uint64_t gpa;  /* guest-physical base */
	uint64_t size; /* bytes, page multiple */
	int fd;	       /* memfd owned by the gmem, or -1 for anonymous memory */
	uint64_t fd_offset;
	void *hva;     /* host mapping, MAP_SHARED of fd; NULL for a region reached by access */
	bool readonly; /* mapped PROT_READ: refused by gmem_translate/gmem_write */
	gmem_access_fn access; /* set iff hva is NULL: every access is a copy through it */
	void *access_ctx;
};

struct gmem_listeners; /* gmem.c: who hears of map changes, and their lock */

struct gmem {
	unsigned nr_regions;
	struct gmem_region region[GMEM_MAX_REGIONS];
	struct gmem_listeners *listeners; /* made with the gmem; not part of the map */
};

/*
 * Create guest RAM of `size` bytes as memfd-backed regions laid out like a PC:
 * [0, min(size, below_4g)) and, if size exceeds below_4g, the rest from 4 GiB.
 * `below_4g` is where the PCI hole starts (e.g. 0xc0000000).
 * Returns 0, -EINVAL (size 0 or not page aligned), -ENOMEM, or another -errno.
 */
__attribute__((warn_unused_result)) int gmem_create(uint64_t size, uint64_t below_4g,
						    struct gmem **out);
void gmem_destroy(struct gmem *mem);

/* An empty gmem, to be filled with gmem_map_fd (device processes).  0 or -ENOMEM. */
__attribute__((warn_unused_result)) int gmem_create_empty(struct gmem **out);

/*
 * Adopt an existing writable mapping (tests).  On success the gmem owns fd and hva
 * (munmap/close at destroy).  -EINVAL (size 0, wrap), -EEXIST (overlap), -ENOSPC.
 */
int gmem_add_region(struct gmem *mem, uint64_t gpa, uint64_t size, int fd, uint64_t fd_offset,
		    void *hva);

/*
 * mmap [fd_offset, fd_offset + size) of fd MAP_SHARED, PROT_READ plus PROT_WRITE if
 * writable, at guest-physical gpa.  On success the gmem owns fd; on failure the caller
 * still does.  gpa, size and fd_offset must be page multiples, size > 0, nothing may
 * wrap (-EINVAL); fd must be a memfd sealed with F_SEAL_SHRINK (-EPERM otherwise: a
 * file that can shrink under the mapping would fault us) and hold fd_offset + size
 * bytes (-EINVAL); -EEXIST if it overlaps a region, -ENOSPC when GMEM_MAX_REGIONS are
 * in use; mmap's errno otherwise (e.g. -EACCES for a read-only fd mapped writable).
 * gmem_create's memfds are sealed so.
 */
int gmem_map_fd(struct gmem *mem, uint64_t gpa, uint64_t size, int fd, uint64_t fd_offset,
		bool writable);

/*
 * A region without a host mapping (vfio-user DMA_MAP without an fd): gmem_translate
 * never returns a pointer into it; gmem_read/gmem_write copy through access(ctx, ...),
 * gmem_write only if writable.  gpa and size page multiples, size > 0, no wrap
 * (-EINVAL); -EEXIST on overlap, -ENOSPC when full.  ctx is borrowed: it must outlive
 * the region.
 */
int gmem_add_access_region(struct gmem *mem, uint64_t gpa, uint64_t size, bool writable,
			   gmem_access_fn access, void *ctx);

/*
 * Remove the region that is exactly [gpa, gpa + size) (vfio-user DMA_UNMAP: "must
 * match exactly a previous mapping"): tell the listeners (GMEM_REMOVED), then munmap it
 * and close its fd.  -ENOENT otherwise.  Pointers from gmem_translate into it are
 * dangling afterwards.
 */
int gmem_remove_region(struct gmem *mem, uint64_t gpa, uint64_t size);

/*
 * Host address of [gpa, gpa+len) if the whole range lies inside one writable region,
 * else NULL (a range past RAM, wrapping around 2^64, straddling two regions even if
 * they are adjacent, or in a read-only region).  len 0 is rejected.  Never touches
 * memory.  gmem_translate_read also accepts read-only regions, for reading only.
 */
void *gmem_translate(const struct gmem *mem, uint64_t gpa, uint64_t len);
const void *gmem_translate_read(const struct gmem *mem, uint64_t gpa, uint64_t len);

/*
 * [gpa, gpa+len) lies wholly inside one region (writable, if write), mapped or not:
 * what gmem_read/gmem_write would accept.  For callers that fall back to copies where
 * gmem_translate gives no pointer.
 */
bool gmem_contains(const struct gmem *mem, uint64_t gpa, uint64_t len, bool write);

/*
 * Copy to/from guest RAM; -EFAULT when the range is not wholly inside one region (or,
 * for gmem_write, the region is read-only).  In a region without a host mapping the
 * copy goes through its access function, whose -errno is returned.
 */
int gmem_read(const struct gmem *mem, uint64_t gpa, void *buf, size_t len);
int gmem_write(const struct gmem *mem, uint64_t gpa, const void *buf, size_t len);

/*
 * Map changes.  A listener hears of every region that enters the map (GMEM_ADDED,
 * after gmem_add_region/gmem_map_fd/gmem_add_access_region put it there) and of every
 * region that leaves it (GMEM_REMOVED, from gmem_remove_region BEFORE the region is
 * unmapped and its fd closed, so the listener can withdraw it from its users first);
 * GMEM_LISTED is gmem_listen's replay of the regions already there.  Called
 * synchronously on the thread that changes the map (or calls gmem_listen), with the
 * listener lock held: a listener must not change the map or call gmem_listen or
 * gmem_unlisten.  r is valid only during the call.  The return value counts only for
 * GMEM_LISTED; a change happens whatever its listeners return, so a listener handles
 * its own failures then.
 */
enum gmem_change { GMEM_LISTED, GMEM_ADDED, GMEM_REMOVED };
typedef int (*gmem_listen_fn)(void *ctx, const struct gmem_region *r, enum gmem_change what);

/*
 * Register fn(ctx) and replay the map to it at once: one GMEM_LISTED call per region now
 * in the map, under the same lock as later changes, so it misses no change and sees
 * none twice.  If a replay call returns < 0 the listener is not registered and that value is
 * returned; -ENOMEM.  Registering does not change the map, hence the const gmem.  Any
 * thread (the VMM's main thread, its hot-plug thread).
 */
int gmem_listen(const struct gmem *mem, gmem_listen_fn fn, void *ctx);

/*
 * Unregister (fn, ctx), if registered.  On return no call of it runs or will run, so ctx
 * may be freed.  Must not be called from a listener.  Every listener must be gone before
 * gmem_destroy.
 */
void gmem_unlisten(const struct gmem *mem, gmem_listen_fn fn, void *ctx);

/* Total RAM bytes. */
uint64_t gmem_size(const struct gmem *mem);

#endif
