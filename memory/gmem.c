// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * gmem: guest RAM regions backed by memfds, and the one checked path from a
 * guest-physical range to a host pointer (gmem_lookup).  In a device process the
 * regions are the VMM's memfds, mapped and unmapped as vfio-user DMA_MAP/DMA_UNMAP
 * say, or regions the VMM shared without an fd, which have no host mapping and are
 * copied through a per-region access function (the remote's DMA_READ/DMA_WRITE
 * messages; this file knows nothing of sockets).  Every change of the map is announced
 * to the registered listeners (gmem_listen).  Not a memory allocator for anything else.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "memory/memory.h"

#define GMEM_PAGE 4096ULL

struct gmem_listener {
	gmem_listen_fn fn;
	void *ctx;
};

/*
 * The lock orders map changes, their announcements and (un)registration: a change and
 * its calls happen under it, so a replay in gmem_listen sees a consistent map.
 */
struct gmem_listeners {
	pthread_mutex_t lock;
	unsigned nr, cap;
	struct gmem_listener *l;
};

static struct gmem *gmem_alloc(void)
{
	struct gmem *mem = calloc(1, sizeof(*mem));

	if (!mem)
		return NULL;
	mem->listeners = calloc(1, sizeof(*mem->listeners));
	if (!mem->listeners) {
		free(mem);
		return NULL;
	}
	pthread_mutex_init(&mem->listeners->lock, NULL);
	return mem;
}

static void gmem_lock(const struct gmem *mem)
{
	pthread_mutex_lock(&mem->listeners->lock);
}

static void gmem_unlock(const struct gmem *mem)
{
	pthread_mutex_unlock(&mem->listeners->lock);
}

/* With the lock held: tell every listener about r (return values do not count here). */
static void gmem_announce(const struct gmem *mem, const struct gmem_region *r,
			  enum gmem_change what)
{
	const struct gmem_listeners *ls = mem->listeners;

	for (unsigned i = 0; i < ls->nr; i++)
		ls->l[i].fn(ls->l[i].ctx, r, what);
}

int gmem_listen(const struct gmem *mem, gmem_listen_fn fn, void *ctx)
{
	struct gmem_listeners *ls = mem->listeners;
	int ret = 0;

	gmem_lock(mem);
	for (unsigned i = 0; i < mem->nr_regions && ret >= 0; i++)
		ret = fn(ctx, &mem->region[i], GMEM_LISTED);
	if (ret >= 0 && ls->nr == ls->cap) {
		unsigned cap = ls->cap ? 2 * ls->cap : 8;
		struct gmem_listener *l = realloc(ls->l, cap * sizeof(*l));

		if (l) {
			ls->l = l;
			ls->cap = cap;
		} else {
			ret = -ENOMEM;
		}
	}
	if (ret >= 0)
		ls->l[ls->nr++] = (struct gmem_listener){fn, ctx};
	gmem_unlock(mem);
	return ret < 0 ? ret : 0;
}

void gmem_unlisten(const struct gmem *mem, gmem_listen_fn fn, void *ctx)
{
	struct gmem_listeners *ls = mem->listeners;

	gmem_lock(mem);
	for (unsigned i = 0; i < ls->nr; i++) {
		if (ls->l[i].fn == fn && ls->l[i].ctx == ctx) {
			ls->l[i] = ls->l[--ls->nr];
			break;
		}
	}
	gmem_unlock(mem);
}

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
	mem = gmem_alloc();
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
	pthread_mutex_destroy(&mem->listeners->lock);
	free(mem->listeners->l);
	free(mem->listeners);
	free(mem);
}

int gmem_create_empty(struct gmem **out)
{
	*out = gmem_alloc();
	return *out ? 0 : -ENOMEM;
}

/* With the lock held: r enters the map, and the listeners hear of it. */
static void gmem_insert(struct gmem *mem, const struct gmem_region *r)
{
	mem->region[mem->nr_regions] = *r;
	gmem_announce(mem, &mem->region[mem->nr_regions++], GMEM_ADDED);
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
	int ret;

	if (!hva)
		return -EINVAL;
	gmem_lock(mem);
	ret = gmem_check_free(mem, gpa, size);
	if (ret == 0)
		gmem_insert(mem, &(struct gmem_region){.gpa = gpa,
						       .size = size,
						       .fd = fd,
						       .fd_offset = fd_offset,
						       .hva = hva});
	gmem_unlock(mem);
	return ret;
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
	    __builtin_add_overflow(fd_offset, size, &end) || end > INT64_MAX || size > SIZE_MAX)
		return -EINVAL;
	gmem_lock(mem);
	ret = gmem_check_free(mem, gpa, size);
	if (ret == 0)
		ret = gmem_check_fd(fd, end);
	if (ret < 0)
		goto unlock;
	hva = mmap(NULL, size, prot, MAP_SHARED | MAP_NORESERVE, fd, (off_t)fd_offset);
	if (hva == MAP_FAILED) {
		ret = -errno;
		goto unlock;
	}
	gmem_insert(mem, &(struct gmem_region){.gpa = gpa,
					       .size = size,
					       .fd = fd,
					       .fd_offset = fd_offset,
					       .hva = hva,
					       .readonly = !writable});
unlock:
	gmem_unlock(mem);
	return ret;
}

int gmem_add_access_region(struct gmem *mem, uint64_t gpa, uint64_t size, bool writable,
			   gmem_access_fn access, void *ctx)
{
	int ret;

	if (gpa % GMEM_PAGE || size % GMEM_PAGE || !access)
		return -EINVAL;
	gmem_lock(mem);
	ret = gmem_check_free(mem, gpa, size);
	if (ret == 0)
		gmem_insert(mem, &(struct gmem_region){.gpa = gpa,
						       .size = size,
						       .fd = -1,
						       .readonly = !writable,
						       .access = access,
						       .access_ctx = ctx});
	gmem_unlock(mem);
	return ret;
}

int gmem_remove_region(struct gmem *mem, uint64_t gpa, uint64_t size)
{
	int ret = -ENOENT;

	gmem_lock(mem);
	for (unsigned i = 0; i < mem->nr_regions; i++) {
		struct gmem_region *r = &mem->region[i];

		if (r->gpa != gpa || r->size != size)
			continue;
		/* Listeners withdraw it from their users while it is still mapped. */
		gmem_announce(mem, r, GMEM_REMOVED);
		if (r->hva)
			munmap(r->hva, r->size);
		if (r->fd >= 0)
			close(r->fd);
		mem->region[i] = mem->region[--mem->nr_regions];
		ret = 0;
		break;
	}
	gmem_unlock(mem);
	return ret;
}

/* The one checked lookup: the region holding all of [gpa, gpa + len), or NULL. */
static const struct gmem_region *gmem_lookup(const struct gmem *mem, uint64_t gpa, uint64_t len,
					     uint64_t *off)
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
