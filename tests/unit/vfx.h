/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfx: the fixture of the vfu_server unit tests: a pci-testdev "t0" served by a
 * vfu_server on one end of a socketpair, and helpers that send raw vfio-user messages
 * on the other end (so malformed ones can be built) and check the replies.  Helpers
 * assert instead of returning errors.  Test code only.
 */
#ifndef MPVMM_TESTS_VFX_H
#define MPVMM_TESTS_VFX_H

#include <glib.h>

#include "protocol/protocol.h"
#include "remote/remote.h"

struct vfx {
	struct dev *dev;
	struct vfu_server *srv;
	int cli, srv_sock; /* client end, server end of the socketpair */
	uint16_t id;       /* msg_id of the last message sent */
};

/* GTest fixture setup/teardown. */
void vfx_setup(struct vfx *f, gconstpointer data);
void vfx_teardown(struct vfx *f, gconstpointer data);

/* Send a raw message: header fields as given (size = 16 + len unless size != 0). */
void vfx_raw_send(struct vfx *f, uint16_t cmd, uint32_t flags, uint32_t error, uint32_t size,
		  const void *p, size_t len, const int *fds, unsigned nr_fds);

/*
 * Let the server handle one message; keep = whether it must keep the connection.  A
 * dropped connection is logged exactly once, as a warning naming the device.
 */
void vfx_serve(struct vfx *f, bool keep);

/* The next reply: for the last message sent, of command cmd; returns its error. */
uint32_t vfx_get_reply(struct vfx *f, uint16_t cmd, struct vfu_msg *m);

/* Serve one message and expect an error reply err without payload. */
void vfx_expect_error(struct vfx *f, uint16_t cmd, uint32_t err, bool keep);

/* A well-formed request whose reply must succeed; reply payload in m. */
void vfx_request(struct vfx *f, uint16_t cmd, const void *p, size_t len, struct vfu_msg *m);

/* VERSION with our capabilities, the given major and device id (NULL: none). */
void vfx_send_version(struct vfx *f, uint16_t major, const char *device_id);

/* VERSION naming "t0", which must succeed. */
void vfx_handshake(struct vfx *f);

/* REGION_READ/WRITE of count <= 256 bytes that must succeed. */
void vfx_access_ok(struct vfx *f, uint32_t region, uint64_t off, uint32_t count, bool write,
		   uint8_t *data);
/* The same for count <= 8, value little endian. */
uint64_t vfx_rd(struct vfx *f, uint32_t region, uint64_t off, uint32_t count);
void vfx_wr(struct vfx *f, uint32_t region, uint64_t off, uint32_t count, uint64_t v);

/* Send a region access that must fail with err (keep: connection stays up). */
void vfx_access_bad(struct vfx *f, bool write, uint64_t off, uint32_t region, uint32_t count,
		    uint32_t err, bool keep);

#endif
