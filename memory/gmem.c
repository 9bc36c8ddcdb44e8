// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * gmem: guest RAM regions backed by memfds, and the one checked path from a
 * guest-physical range to a host pointer (gmem_lookup).  In a device process the
 * regions are the VMM's memfds, mapped and unmapped as vfio-user DMA_MAP/DMA_UNMAP
 * say, or regions the VMM shared without an fd, which have no host mapping and are
 * copied through a per-region access function (the remote's DMA_READ/DMA_WRITE
 * messages; this file knows nothing of sockets).  Not a memory allocator for anything
 * else.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "memory/memory.h"

#define GMEM_PAGE 4096ULL

static int gmem_add_memfd(struct gmem *mem, uint64_t gpa, uint64_t size)
{
	void *hva;
	int fd, ret;

	fd = memfd_create("mpvmm-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	/* Sealed against shrinking, so a device process may map it (gmem_map_fd). */
	if (ftruncate(fd, (off_t)size) < 0 || fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) < 0) {
		ret = -errno;
		goto close_fd;
	}
	hva = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
	if (hva == MAP_FAILED) {
		ret = -errno;
		goto close_fd;
	}
	ret = gmem_add_region(mem, gpa, size, fd, 0, hva);
	if (ret < 0)
		goto unmap;
	return 0;
unmap:
	munmap(hva, size);
close_fd:
	close(fd);
	return ret;
}

int gmem_create(uint64_t size, uint64_t below_4g, struct gmem **out)
{
	uint64_t low = size < below_4g ? size : below_4g;
	struct gmem *mem;
	int ret;

	if (size == 0 || size % GMEM_PAGE || below_4g % GMEM_PAGE || below_4g > (4ULL << 30))
		return -EINVAL;
	mem = calloc(1, sizeof(*mem));
	if (!mem)
		return -ENOMEM;
	ret = gmem_add_memfd(mem, 0, low);
	if (ret == 0 && size > low)
		ret = gmem_add_memfd(mem, 4ULL << 30, size - low);
	if (ret < 0) {
		gmem_destroy(mem);
		return ret;
	}
	*out = mem;
	return 0;
}

void gmem_destroy(struct gmem *mem)
{
	if (!mem)
		return;
	for (unsigned i = 0; i < mem->nr_regions; i++) {
		if (mem->region[i].hva)
			munmap(mem->region[i].hva, mem->region[i].size);
		if (mem->region[i].fd >= 0)
			close(mem->region[i].fd);
	}
	free(mem);
}

int gmem_create_empty(struct gmem **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

/* Room for [gpa, gpa + size): -ENOSPC, -EINVAL (empty or wrapping), -EEXIST (overlap). */
static int gmem_check_free(const struct gmem *mem, uint64_t gpa, uint64_t size)
{
	uint64_t end;

	if (mem->nr_regions == GMEM_MAX_REGIONS)
		return -ENOSPC;
	if (size == 0 || __builtin_add_overflow(gpa, size, &end))
		return -EINVAL;
	for (unsigned i = 0; i < mem->nr_regions; i++) {
		const struct gmem_region *r = &mem->region[i];

		if (gpa < r->gpa + r->size && r->gpa < end)
			return -EEXIST;
	}
	return 0;
}

int gmem_add_region(struct gmem *mem, uint64_t gpa, uint64_t size, int fd, uint64_t fd_offset,
		    void *hva)
{
	int ret = hva ? gmem_check_free(mem, gpa, size) : -EINVAL;

	if (ret < 0)
		return ret;
	mem->region[mem->nr_regions++] = (struct gmem_region){
		.gpa = gpa, .size = size, .fd = fd, .fd_offset = fd_offset, .hva = hva,
	};
	return 0;
}

/*
 * A mapping past the end of its file faults (SIGBUS) on access, so the fd must be a
 * memfd sealed against shrinking and at least `end` bytes long: the peer that sent it
 * cannot pull the pages away later.
 */
static int gmem_check_fd(int fd, uint64_t end)
{
	struct stat st;
	int seals = fcntl(fd, F_GET_SEALS);

	if (seals < 0)
		return errno == EINVAL ? -EPERM : -errno;
	if (!(seals & F_SEAL_SHRINK))
		return -EPERM;
	if (fstat(fd, &st) < 0)
		return -errno;
	return (uint64_t)st.st_size >= end ? 0 : -EINVAL;
}

int gmem_map_fd(struct gmem *mem, uint64_t gpa, uint64_t size, int fd, uint64_t fd_offset,
		bool writable)
{
	int prot = PROT_READ | (writable ? PROT_WRITE : 0);
	uint64_t end;
	void *hva;
	int ret;

	if (gpa % GMEM_PAGE || size % GMEM_PAGE || fd_offset % GMEM_PAGE || fd < 0 ||
	    __builtin_add_overflow(fd_offset, size, &end) || end > INT64_MAX ||
	    size > SIZE_MAX)
		return -EINVAL;
	ret = gmem_check_free(mem, gpa, size);
	if (ret == 0)
		ret = gmem_check_fd(fd, end);
	if (ret < 0)
		return ret;
	hva = mmap(NULL, size, prot, MAP_SHARED | MAP_NORESERVE, fd, (off_t)fd_offset);
	if (hva == MAP_FAILED)
		return -errno;
	mem->region[mem->nr_regions++] = (struct gmem_region){
		.gpa = gpa, .size = size, .fd = fd, .fd_offset = fd_offset, .hva = hva,
		.readonly = !writable,
	};
	return 0;
}

int gmem_add_access_region(struct gmem *mem, uint64_t gpa, uint64_t size, bool writable,
			   gmem_access_fn access, void *ctx)
{
	int ret;

	if (gpa % GMEM_PAGE || size % GMEM_PAGE || !access)
		return -EINVAL;
	ret = gmem_check_free(mem, gpa, size);
	if (ret < 0)
		return ret;
	mem->region[mem->nr_regions++] = (struct gmem_region){
		.gpa = gpa, .size = size, .fd = -1, .readonly = !writable,
		.access = access, .access_ctx = ctx,
	};
	return 0;
}

int gmem_remove_region(struct gmem *mem, uint64_t gpa, uint64_t size)
{
	for (unsigned i = 0; i < mem->nr_regions; i++) {
		struct gmem_region *r = &mem->region[i];

		if (r->gpa != gpa || r->size != size)
			continue;
		if (r->hva)
			munmap(r->hva, r->size);
		if (r->fd >= 0)
			close(r->fd);
		mem->region[i] = mem->region[--mem->nr_regions];
		return 0;
	}
	return -ENOENT;
}

/* The one checked lookup: the region holding all of [gpa, gpa + len), or NULL. */
static const struct gmem_region *gmem_lookup(const struct gmem *mem, uint64_t gpa,
					     uint64_t len, uint64_t *off)
{
	uint64_t end;

	if (len == 0 || __builtin_add_overflow(gpa, len, &end))
		return NULL;
	for (unsigned i = 0; i < mem->nr_regions; i++) {
		const struct gmem_region *r = &mem->region[i];

		/* r->gpa + r->size cannot overflow: gmem_check_free checked it. */
		if (gpa >= r->gpa && end <= r->gpa + r->size) {
			*off = gpa - r->gpa;
			return r;
		}
	}
	return NULL;
}

void *gmem_translate(const struct gmem *mem, uint64_t gpa, uint64_t len)
{
	uint64_t off;
	const struct gmem_region *r = gmem_lookup(mem, gpa, len, &off);

	return r && r->hva && !r->readonly ? (uint8_t *)r->hva + off : NULL;
}

const void *gmem_translate_read(const struct gmem *mem, uint64_t gpa, uint64_t len)
{
	uint64_t off;
	const struct gmem_region *r = gmem_lookup(mem, gpa, len, &off);

	return r && r->hva ? (const uint8_t *)r->hva + off : NULL;
}

bool gmem_contains(const struct gmem *mem, uint64_t gpa, uint64_t len, bool write)
{
	uint64_t off;
	const struct gmem_region *r = gmem_lookup(mem, gpa, len, &off);

	return r && !(write && r->readonly);
}

int gmem_read(const struct gmem *mem, uint64_t gpa, void *buf, size_t len)
{
	uint64_t off;
	const struct gmem_region *r = gmem_lookup(mem, gpa, len, &off);

	if (!r)
		return -EFAULT;
	if (!r->hva)
		return r->access(r->access_ctx, gpa, buf, len, false);
	memcpy(buf, (const uint8_t *)r->hva + off, len);
	return 0;
}

int gmem_write(const struct gmem *mem, uint64_t gpa, const void *buf, size_t len)
{
	uint64_t off;
	const struct gmem_region *r = gmem_lookup(mem, gpa, len, &off);

	if (!r || r->readonly)
		return -EFAULT;
	if (!r->hva)
		return r->access(r->access_ctx, gpa, (void *)buf, len, true);
	memcpy((uint8_t *)r->hva + off, buf, len);
	return 0;
}

uint64_t gmem_size(const struct gmem *mem)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < mem->nr_regions; i++)
		total += mem->region[i].size;
	return total;
}
