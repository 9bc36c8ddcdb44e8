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
 * Threads: a gmem is built before vCPUs start; after that it is read-only and
 * gmem_translate/gmem_read/gmem_write may be called from any thread.
 */
#ifndef MPVMM_MEMORY_H
#define MPVMM_MEMORY_H

#include <stddef.h>
#include <stdint.h>

#define GMEM_MAX_REGIONS 8

struct gmem_region {
	uint64_t gpa;   /* guest-physical base */
	uint64_t size;  /* bytes, page multiple */
	int fd;         /* memfd owned by the gmem, or -1 for anonymous memory */
	uint64_t fd_offset;
	void *hva;      /* host mapping, MAP_SHARED of fd */
};

struct gmem {
	unsigned nr_regions;
	struct gmem_region region[GMEM_MAX_REGIONS];
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

/* Adopt an existing mapping (tests, remote side). The gmem takes ownership of fd. */
int gmem_add_region(struct gmem *mem, uint64_t gpa, uint64_t size, int fd,
		    uint64_t fd_offset, void *hva);

/*
 * Host address of [gpa, gpa+len) if the whole range lies inside one region, else NULL.
 * len 0 is rejected.  Never touches memory.
 */
void *gmem_translate(const struct gmem *mem, uint64_t gpa, uint64_t len);

/* Copy to/from guest RAM; -EFAULT when the range is not wholly inside one region. */
int gmem_read(const struct gmem *mem, uint64_t gpa, void *buf, size_t len);
int gmem_write(const struct gmem *mem, uint64_t gpa, const void *buf, size_t len);

/* Total RAM bytes. */
uint64_t gmem_size(const struct gmem *mem);

#endif
