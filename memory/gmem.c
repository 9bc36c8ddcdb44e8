// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * gmem: guest RAM regions backed by memfds, and the one checked path from a
 * guest-physical range to a host pointer.  Not a memory allocator for anything else.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "memory/memory.h"

#define GMEM_PAGE 4096ULL

static int gmem_add_memfd(struct gmem *mem, uint64_t gpa, uint64_t size)
{
	void *hva;
	int fd, ret;

	fd = memfd_create("mpvmm-ram", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0) {
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
		munmap(mem->region[i].hva, mem->region[i].size);
		if (mem->region[i].fd >= 0)
			close(mem->region[i].fd);
	}
	free(mem);
}

int gmem_add_region(struct gmem *mem, uint64_t gpa, uint64_t size, int fd, uint64_t fd_offset,
		    void *hva)
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
	mem->region[mem->nr_regions++] = (struct gmem_region){
		.gpa = gpa, .size = size, .fd = fd, .fd_offset = fd_offset, .hva = hva,
	};
	return 0;
}

void *gmem_translate(const struct gmem *mem, uint64_t gpa, uint64_t len)
{
	uint64_t end;

	if (len == 0 || __builtin_add_overflow(gpa, len, &end))
		return NULL;
	for (unsigned i = 0; i < mem->nr_regions; i++) {
		const struct gmem_region *r = &mem->region[i];

		/* r->gpa + r->size cannot overflow: gmem_add_region checked it. */
		if (gpa >= r->gpa && end <= r->gpa + r->size)
			return (uint8_t *)r->hva + (gpa - r->gpa);
	}
	return NULL;
}

int gmem_read(const struct gmem *mem, uint64_t gpa, void *buf, size_t len)
{
	void *src = gmem_translate(mem, gpa, len);

	if (!src)
		return -EFAULT;
	memcpy(buf, src, len);
	return 0;
}

int gmem_write(const struct gmem *mem, uint64_t gpa, const void *buf, size_t len)
{
	void *dst = gmem_translate(mem, gpa, len);

	if (!dst)
		return -EFAULT;
	memcpy(dst, buf, len);
	return 0;
}

uint64_t gmem_size(const struct gmem *mem)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < mem->nr_regions; i++)
		total += mem->region[i].size;
	return total;
}
