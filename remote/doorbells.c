// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * doorbells: the eventfds behind a device's doorbells (dev->doorbells) on one vfio-user
 * connection.  The server hands them to the client with DEVICE_GET_REGION_IO_FDS (spec
 * "VFIO_USER_DEVICE_GET_REGION_IO_FDS", ioeventfd sub-regions); the VMM registers them
 * as KVM ioeventfds, so a guest write to a doorbell wakes this process without a VMM
 * exit to userspace.  Each eventfd is watched in the GLib main loop and also drained
 * (doorbells_poll) before every BAR access is served, so a guest that rings and then
 * reads a register sees the ring's effect.  Every write is delivered: an eventfd counts
 * writes, and ops->doorbell runs once per write counted (at most DOORBELLS_BURST per
 * drain; the rest of a flood is dropped with a debug line).  This file does not parse
 * messages; vfu_server.c does.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <glib-unix.h>

#include "devices/virtio.h"
#include "remote/remote.h"

#define DOORBELLS_BURST 65536u

/* Every virtio-blk queue's doorbell fits in one GET_REGION_IO_FDS reply (virtio.h). */
G_STATIC_ASSERT(VIRTIO_BLK_MAX_QUEUES <= MIN(VFU_IO_FDS_MAX, VFU_MAX_FDS));

struct doorbell_fd {
	struct doorbells *db;
	unsigned index; /* in dev->doorbells */
	guint src;
};

struct doorbells {
	struct dev *dev;
	unsigned nr;
	struct doorbell_fd *ent;
	struct pollfd *pfd;
};

/* A device's declaration is trusted code, but check it against its own BARs once. */
static bool doorbell_valid(const struct dev *dev, const struct dev_doorbell *d)
{
	uint64_t end;

	return d->bar < PCI_NUM_BARS && dev->cfg.bar[d->bar].size &&
	       (d->size == 1 || d->size == 2 || d->size == 4 || d->size == 8) &&
	       !__builtin_add_overflow(d->off, (uint64_t)d->size, &end) &&
	       end <= dev->cfg.bar[d->bar].size &&
	       (d->size == 8 || !d->datamatch || !(d->data >> (8 * d->size)));
}

/* Deliver what eventfd i counted; true if anything was there. */
static bool doorbell_fire(struct doorbells *db, unsigned i)
{
	uint64_t n = 0;

	if (read(db->pfd[i].fd, &n, sizeof(n)) != sizeof(n) || n == 0)
		return false;
	if (n > DOORBELLS_BURST) {
		g_debug("%s: doorbell %u rung %" G_GUINT64_FORMAT " times at once; delivering %u",
			db->dev->id, i, n, DOORBELLS_BURST);
		n = DOORBELLS_BURST;
	}
	while (n--)
		db->dev->ops->doorbell(db->dev, db->ent[i].index);
	return true;
}

static gboolean doorbell_on_ready(gint fd, GIOCondition cond, gpointer opaque)
{
	struct doorbell_fd *e = opaque;

	doorbell_fire(e->db, (unsigned)(e - e->db->ent));
	return G_SOURCE_CONTINUE;
}

int doorbells_create(struct dev *dev, struct doorbells **out)
{
	struct doorbells *db = g_new0(struct doorbells, 1);
	unsigned n = dev->ops->doorbell ? dev->nr_doorbells : 0;

	db->dev = dev;
	db->ent = g_new0(struct doorbell_fd, n);
	db->pfd = g_new0(struct pollfd, n);
	for (unsigned i = 0; i < n; i++) {
		int fd;

		if (!doorbell_valid(dev, &dev->doorbells[i])) {
			g_warning(
				"%s: doorbell %u is not a 1, 2, 4 or 8-byte access inside its BAR; "
				"not offered",
				dev->id, i);
			continue;
		}
		fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (fd < 0) {
			int ret = -errno;

			doorbells_destroy(db);
			return ret;
		}
		db->ent[db->nr] = (struct doorbell_fd){.db = db, .index = i};
		db->pfd[db->nr] = (struct pollfd){.fd = fd, .events = POLLIN};
		db->ent[db->nr].src =
			g_unix_fd_add(fd, G_IO_IN, doorbell_on_ready, &db->ent[db->nr]);
		db->nr++;
	}
	*out = db;
	return 0;
}

void doorbells_destroy(struct doorbells *db)
{
	if (!db)
		return;
	for (unsigned i = 0; i < db->nr; i++) {
		g_source_remove(db->ent[i].src);
		close(db->pfd[i].fd);
	}
	g_free(db->ent);
	g_free(db->pfd);
	g_free(db);
}

bool doorbells_poll(struct doorbells *db)
{
	bool fired = false;

	if (!db || db->nr == 0 || poll(db->pfd, db->nr, 0) <= 0)
		return false;
	for (unsigned i = 0; i < db->nr; i++) {
		if (db->pfd[i].revents & POLLIN)
			fired |= doorbell_fire(db, i);
	}
	return fired;
}

/*
 * The sub-regions of BAR `region`, at most VFU_IO_FDS_MAX and VFU_MAX_FDS (one eventfd
 * each): a doorbell beyond that is not offered and keeps arriving as REGION_WRITE,
 * which the device handles the same way, but through the VMM.  No device declares
 * that many in one BAR: virtio-blk's num-queues is capped for this (virtio.h).
 */
unsigned doorbells_io_fds(const struct doorbells *db, uint32_t region, struct vfu_ioeventfd *subs,
			  int *fds)
{
	unsigned n = 0;

	for (unsigned i = 0; db && i < db->nr && n < MIN(VFU_IO_FDS_MAX, VFU_MAX_FDS); i++) {
		const struct dev_doorbell *d = &db->dev->doorbells[db->ent[i].index];

		if (d->bar != region)
			continue;
		subs[n] = (struct vfu_ioeventfd){
			.offset = d->off,
			.size = d->size,
			.fd_index = n,
			.type = VFU_IO_FD_TYPE_IOEVENTFD,
			.flags = d->datamatch ? VFU_IO_FD_DATAMATCH : 0,
			.datamatch = d->datamatch ? d->data : 0,
		};
		fds[n++] = db->pfd[i].fd;
	}
	return n;
}
