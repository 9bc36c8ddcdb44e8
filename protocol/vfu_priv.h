/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internal to protocol/: what vfu_call.c needs from vfu_msg.c beyond the public API.
 * Not a public header; nothing outside protocol/ includes it.
 */
#ifndef MPVMM_PROTOCOL_VFU_PRIV_H
#define MPVMM_PROTOCOL_VFU_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include "protocol/protocol.h"

/*
 * vfu_recv(), reading the header and up to hint - VFU_HDR_SIZE payload bytes with the
 * first recvmsg (hint is clamped to [VFU_HDR_SIZE, VFU_HDR_SIZE + VFU_MSG_INLINE]).
 * Only for a reader that knows no second message can follow before it asks again (a
 * client waiting for the reply to its only outstanding command): if the message is
 * shorter than hint and another one is queued behind it, the first recvmsg reads into
 * that one and the result is -EPROTO.  With nowait, -EAGAIN when nothing has arrived
 * yet (the first recvmsg uses MSG_DONTWAIT); once a message has started, it is read
 * whole.
 */
int vfu_recv_hint(int sock, struct vfu_msg *msg, size_t max_size, size_t hint, bool nowait);

/*
 * vfu_decode.c's shared checks, for the decoders in other files (vfu_dma.c): log why a
 * message is refused and return -EPROTO; check the header's command, type and error
 * flag; check the exact payload length and fd count (-EBADMSG for the fds).
 */
int vfu_bad(const struct vfu_msg *m, const char *why);
int vfu_expect_hdr(const struct vfu_msg *m, uint16_t cmd, bool reply);
int vfu_expect_size(const struct vfu_msg *m, size_t len, unsigned nr_fds);
int vfu_expect(const struct vfu_msg *m, uint16_t cmd, bool reply, size_t len, unsigned nr_fds);

#endif
