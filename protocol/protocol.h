/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * protocol: the vfio-user wire protocol (QEMU docs/interop/vfio-user.rst), both ends.
 *
 * This module frames messages on a connected AF_UNIX SOCK_STREAM socket, passes fds,
 * encodes requests and replies, and validates every field of every message it
 * decodes, whichever side received it.  It holds no device or VMM state: the client
 * (proxy/) and server (remote/) decide what a valid message means for them.
 * docs/protocol.md lists the spec sections implemented, our limits and extensions.
 *
 * Errors: functions return >= 0 on success or -errno:
 *   -EPROTO      malformed message (bad size, type, flags, field out of range), or a
 *                message cut short by EOF;
 *   -ECONNRESET  peer closed the socket (EOF at a message boundary) or reset it;
 *   -EMSGSIZE    message larger than the receiver's limit;
 *   -EBADMSG     unexpected fds, or fds truncated (MSG_CTRUNC);
 *   -EINVAL      caller passed bad arguments;
 *   other        the syscall's errno (-EPIPE when sending to a closed peer).
 * Every failure of vfu_recv() except -EAGAIN leaves the stream unusable: close it.
 * Rejections are logged with g_debug() in domain "proto" (G_MESSAGES_DEBUG=proto);
 * this module never logs above debug level, the caller logs once.
 *
 * Ownership: a received struct vfu_msg owns its payload and fds until vfu_msg_clear();
 * a consumer that keeps an fd sets its slot to -1 first.  A struct vfu_msg must not be
 * copied by value: its payload may point into its own inline buffer.
 * Threads: none of this is thread-safe per socket; callers serialize.
 */
#ifndef MPVMM_PROTOCOL_H
#define MPVMM_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>
#include <json-c/json.h>

/* Spec "Header": every message starts with these 16 bytes, host (little) endian. */
struct vfu_hdr {
	uint16_t msg_id;
	uint16_t cmd;
	uint32_t size; /* whole message, header included */
	uint32_t flags;
	uint32_t error; /* errno, valid in a reply with VFU_F_ERROR; 0 in a command */
} __attribute__((packed));

#define VFU_HDR_SIZE 16u
#define VFU_F_TYPE_MASK 0xfu
#define VFU_F_TYPE_COMMAND 0u
#define VFU_F_TYPE_REPLY 1u
#define VFU_F_NO_REPLY (1u << 4)
#define VFU_F_ERROR (1u << 5)

/* Spec "Commands".  14 is unassigned. */
enum vfu_cmd {
	VFU_CMD_VERSION = 1,
	VFU_CMD_DMA_MAP = 2,
	VFU_CMD_DMA_UNMAP = 3,
	VFU_CMD_DEVICE_GET_INFO = 4,
	VFU_CMD_DEVICE_GET_REGION_INFO = 5,
	VFU_CMD_DEVICE_GET_REGION_IO_FDS = 6,
	VFU_CMD_DEVICE_GET_IRQ_INFO = 7,
	VFU_CMD_DEVICE_SET_IRQS = 8,
	VFU_CMD_REGION_READ = 9,
	VFU_CMD_REGION_WRITE = 10,
	VFU_CMD_DMA_READ = 11,
	VFU_CMD_DMA_WRITE = 12,
	VFU_CMD_DEVICE_RESET = 13,
	VFU_CMD_REGION_WRITE_MULTI = 15,
	VFU_CMD_DEVICE_FEATURE = 16,
	VFU_CMD_MIG_DATA_READ = 17,
	VFU_CMD_MIG_DATA_WRITE = 18,
	VFU_CMD_MAX, /* one past the highest command number the spec defines */
};

/* Limits we advertise and enforce (spec "Version": max_msg_fds, max_data_xfer_size). */
#define VFU_MAX_FDS 8u
#define VFU_MAX_DATA_XFER 4096u
#define VFU_MAX_MSG (VFU_HDR_SIZE + 64u + VFU_MAX_DATA_XFER)
#define VFU_VERSION_MAJOR 0
#define VFU_VERSION_MINOR 1
/* What a peer that omits a capability is assumed to support (spec "Version"). */
#define VFU_DEFAULT_MAX_MSG_FDS 1u
#define VFU_DEFAULT_MAX_DATA_XFER 1048576u
/* Device ids (our extension): 1..VFU_DEVICE_ID_MAX printable ASCII chars, no space. */
#define VFU_DEVICE_ID_MAX 128u

/* PCI region and IRQ indices (linux/vfio.h, which the spec reuses) */
#define VFU_PCI_BAR0_REGION 0u
#define VFU_PCI_ROM_REGION 6u
#define VFU_PCI_CONFIG_REGION 7u
#define VFU_PCI_NUM_REGIONS 9u
#define VFU_PCI_INTX_IRQ 0u
#define VFU_PCI_MSI_IRQ 1u
#define VFU_PCI_MSIX_IRQ 2u
#define VFU_PCI_NUM_IRQS 5u

/* VFIO_DEVICE_FLAGS_* and VFIO_REGION_INFO_FLAG_* / VFIO_IRQ_INFO_* */
#define VFU_DEV_FLAG_RESET (1u << 0)
#define VFU_DEV_FLAG_PCI (1u << 1)
#define VFU_REGION_READ (1u << 0)
#define VFU_REGION_WRITE (1u << 1)
#define VFU_REGION_MMAP (1u << 2)
#define VFU_REGION_CAPS (1u << 3)
#define VFU_IRQ_EVENTFD (1u << 0)
#define VFU_IRQ_MASKABLE (1u << 1)
#define VFU_IRQ_AUTOMASKED (1u << 2)
#define VFU_IRQ_NORESIZE (1u << 3)

/* Payloads up to this size are received without a heap allocation. */
#define VFU_MSG_INLINE 64u

/* A received message. */
struct vfu_msg {
	struct vfu_hdr hdr;
	uint8_t *payload; /* hdr.size - VFU_HDR_SIZE bytes, owned (may point at inline_buf) */
	size_t len;
	int fds[VFU_MAX_FDS];
	unsigned nr_fds;
	uint8_t inline_buf[VFU_MSG_INLINE] __attribute__((aligned(8))); /* private */
};

/*
 * Send one message: header (size and flags filled in from len and the arguments),
 * payload and up to VFU_MAX_FDS fds in one sendmsg (MSG_NOSIGNAL); a short send (signal,
 * full non-blocking socket) is completed before returning.  flags is the type plus
 * VFU_F_NO_REPLY (command) or VFU_F_ERROR (reply; then len must be 0).  -EINVAL for
 * bad flags or too many fds, -EMSGSIZE if the message exceeds VFU_MAX_MSG.  The fds
 * stay the caller's.
 */
int vfu_send(int sock, uint16_t msg_id, uint16_t cmd, uint32_t flags, uint32_t error,
	     const void *payload, size_t len, const int *fds, unsigned nr_fds);

/*
 * Receive one whole message: at most two recvmsg calls when the peer sent it with one
 * sendmsg (header, then payload), never a byte of the next message.  Rejects EOF inside a message, size < VFU_HDR_SIZE,
 * size > max_size (-EMSGSIZE), unknown type or flag bits, a command with VFU_F_ERROR or
 * a non-zero error field, a reply with VFU_F_NO_REPLY, an error reply with a payload,
 * MSG_CTRUNC and more than VFU_MAX_FDS fds (-EBADMSG).  fds arrive with
 * MSG_CMSG_CLOEXEC.  The command number is not checked: a server answers unknown
 * commands with an error reply (ENOSYS).
 * On a non-blocking socket, -EAGAIN if no byte of a message is there yet; once a
 * message has started it waits for the rest.
 * On error nothing is left allocated or open; msg->hdr holds the received header if
 * all of it arrived (so a server can send an error reply before closing), else zeros.
 */
int vfu_recv(int sock, struct vfu_msg *msg, size_t max_size);
/* vfu_recv() that returns -EAGAIN at once, on any socket, if no byte has arrived yet. */
int vfu_recv_nowait(int sock, struct vfu_msg *msg, size_t max_size);
/* Free the payload and close the fds; idempotent, safe on a zeroed msg. */
void vfu_msg_clear(struct vfu_msg *msg);
/*
 * The message must carry exactly nr fds: 0 if so (the fds stay in msg), else every fd
 * of msg is closed and -EBADMSG returned.  Use nr = 0 for a message that takes none.
 */
int vfu_msg_expect_fds(struct vfu_msg *msg, unsigned nr);

/* --- VERSION (spec "VFIO_USER_VERSION") ------------------------------------------ */
struct vfu_caps {
	uint16_t major, minor;
	uint32_t max_msg_fds;
	uint64_t max_data_xfer_size;
	/* Extension "mpvmm.device-id" (docs/protocol.md): the id the client expects / the
	 * server's device has.  NULL when absent.  Owned by the struct after decode (it is
	 * only read by encode). */
	char *device_id;
};
/*
 * payload = u16 major, u16 minor, NUL-terminated JSON
 * {"capabilities": {"max_msg_fds", "max_data_xfer_size", "mpvmm": {"device-id"}}}.
 * *payload is g_malloc'ed, the caller g_free()s it.  -EINVAL for a malformed
 * device_id, -EMSGSIZE if the result would not fit in VFU_MAX_MSG.
 */
int vfu_version_encode(const struct vfu_caps *caps, uint8_t **payload, size_t *len);
/*
 * Strict: the JSON, if present, must fill the rest of the payload and end with its
 * only NUL, parse (json-c strict mode), be an object, and every capability the spec
 * defines must have the right type and range; unknown capabilities are ignored.
 * Absent capabilities get the spec's defaults.  The version numbers are not judged
 * here (see vfu_version_check()).  Overwrites *caps; on error *caps holds nothing.
 */
int vfu_version_decode(const uint8_t *payload, size_t len, struct vfu_caps *caps);
/*
 * Client side, spec "VFIO_USER_VERSION" rules for the reply to our proposal:
 * -EPROTONOSUPPORT if the major differs, -EPROTO if the minor is higher than proposed,
 * -ENODEV if we proposed a device id and the reply names none or another one.
 */
int vfu_version_check(const struct vfu_caps *proposed, const struct vfu_caps *reply);
void vfu_caps_clear(struct vfu_caps *caps);

/* --- DEVICE_GET_INFO / GET_REGION_INFO / GET_IRQ_INFO -------------------------- */
struct vfu_device_info {
	uint32_t argsz, flags, num_regions, num_irqs;
} __attribute__((packed));

struct vfu_region_info {
	uint32_t argsz, flags, index, cap_offset;
	uint64_t size, offset;
} __attribute__((packed));

struct vfu_irq_info {
	uint32_t argsz, flags, index, count;
} __attribute__((packed));

/* --- DEVICE_SET_IRQS (spec "VFIO_USER_DEVICE_SET_IRQS") ------------------------ */
struct vfu_irq_set {
	uint32_t argsz, flags, index, start, count;
	/* DATA_BOOL: count bytes of 0/1 follow; DATA_EVENTFD: the fds ride in SCM_RIGHTS */
} __attribute__((packed));

/* VFIO_IRQ_SET_* (linux/vfio.h): exactly one DATA and one ACTION bit per request. */
#define VFU_IRQ_SET_DATA_NONE (1u << 0)
#define VFU_IRQ_SET_DATA_BOOL (1u << 1)
#define VFU_IRQ_SET_DATA_EVENTFD (1u << 2)
#define VFU_IRQ_SET_ACTION_MASK (1u << 3)
#define VFU_IRQ_SET_ACTION_UNMASK (1u << 4)
#define VFU_IRQ_SET_ACTION_TRIGGER (1u << 5)
#define VFU_IRQ_SET_DATA_MASK 0x7u
#define VFU_IRQ_SET_ACTION_MASK_ALL 0x38u
/* Most sub-indexes of one IRQ index (MSI-X: 2048 table entries, PCI 3.0 6.8.2.3). */
#define VFU_IRQ_SET_MAX_COUNT 2048u

/*
 * The form rules of a SET_IRQS request, shared by both ends (docs/protocol.md):
 * flags exactly one DATA and one ACTION bit and nothing else; index < VFU_PCI_NUM_IRQS;
 * start + count without overflow, count <= VFU_IRQ_SET_MAX_COUNT; count 0 only with
 * DATA_NONE, start 0 and ACTION_TRIGGER (the spec's "disable all interrupts of the
 * index"); DATA_EVENTFD with no fd (de-assign the range) or exactly count fds;
 * DATA_NONE and DATA_EVENTFD carry no data bytes, DATA_BOOL exactly count bytes each
 * 0 or 1; argsz equal to the payload size (for DATA_EVENTFD also 20 + 4 * count, the
 * kernel struct's size that QEMU's client sends).  0 or -EPROTO.
 */
int vfu_irq_set_check(const struct vfu_irq_set *s, const uint8_t *data, size_t data_len,
		      unsigned nr_fds);
/*
 * Build a request payload (struct plus DATA_BOOL bytes) into buf, after
 * vfu_irq_set_check() (-EINVAL if it fails or buf is too small); argsz is filled in.
 * Returns the payload length.
 */
int vfu_irq_set_encode(uint32_t flags, uint32_t index, uint32_t start, uint32_t count,
		       const uint8_t *bools, unsigned nr_fds, void *buf, size_t buf_len);
/*
 * Request: the rules above, with m->nr_fds as the fds (*data points at the DATA_BOOL
 * bytes inside m, else NULL).  Reply: no payload, no fds.  -EPROTO, -EBADMSG for fds
 * on a reply or on a request that is not DATA_EVENTFD.
 */
int vfu_irq_set_decode(const struct vfu_msg *m, bool reply, struct vfu_irq_set *out,
		       const uint8_t **data);

/* --- REGION_READ / REGION_WRITE (spec "VFIO_USER_REGION_READ") ----------------- */
struct vfu_region_access {
	uint64_t offset;
	uint32_t region;
	uint32_t count;
	/* data follows (write request, read reply) */
} __attribute__((packed));

/*
 * Decoders: check a message's header (command number, command or reply type, no error
 * flag), payload length, fds and fields, and copy it out.  `reply` selects the
 * direction (request as the server sees it, or reply as the client sees it).  All
 * return 0 or -EPROTO (-EBADMSG for a wrong number of fds).  Rules (docs/protocol.md):
 *  - request: payload is exactly the struct, argsz >= its size, every field other
 *    than argsz and index is 0, no fds;
 *  - reply: payload is exactly the struct (we always request argsz = its size),
 *    argsz >= its size, no unknown flag bits; region info: argsz > size only with
 *    VFU_REGION_CAPS and a cap_offset inside argsz, one fd iff VFU_REGION_MMAP;
 *    device info: VFU_DEV_FLAG_PCI needs num_regions >= VFU_PCI_NUM_REGIONS.
 * Range checks that need device knowledge (region index < num_regions, offset+count
 * within region size) are done by the caller with vfu_range_ok().
 */
int vfu_device_info_decode(const struct vfu_msg *m, bool reply, struct vfu_device_info *out);
int vfu_region_info_decode(const struct vfu_msg *m, bool reply, struct vfu_region_info *out);
int vfu_irq_info_decode(const struct vfu_msg *m, bool reply, struct vfu_irq_info *out);
/*
 * count must be 1..VFU_MAX_DATA_XFER, offset + count must not wrap, and the payload
 * must be exactly 16 bytes plus count bytes of data for a write request / read reply
 * (data then points into m->payload), 16 bytes otherwise (*data = NULL).
 */
int vfu_region_access_decode(const struct vfu_msg *m, bool reply, bool write,
			     struct vfu_region_access *out, const uint8_t **data);
/* DEVICE_RESET (spec "VFIO_USER_DEVICE_RESET"): no payload, no fds either way. */
int vfu_reset_decode(const struct vfu_msg *m, bool reply);

/* --- DMA_MAP / DMA_UNMAP (spec "VFIO_USER_DMA_MAP", "VFIO_USER_DMA_UNMAP") ------- */
#define VFU_DMA_MAP_READ (1u << 0)
#define VFU_DMA_MAP_WRITE (1u << 1)
#define VFU_DMA_UNMAP_GET_DIRTY_BITMAP (1u << 0) /* not supported: refused */
#define VFU_DMA_UNMAP_ALL (1u << 1)              /* not supported: refused */
#define VFU_DMA_PAGE 4096u /* "pgsizes" default: 4 KiB pages only */

struct vfu_dma_map {
	uint32_t argsz, flags;
	uint64_t offset;  /* into the fd; 0 when no fd (not mappable) */
	uint64_t address; /* client DMA (guest-physical) address */
	uint64_t size;
} __attribute__((packed));

struct vfu_dma_unmap {
	uint32_t argsz, flags;
	uint64_t address, size;
} __attribute__((packed));

/*
 * DMA_MAP.  Request: payload exactly 32 bytes, argsz == 32 (no reply payload), flags
 * READ and/or WRITE and nothing else, READ set; address, offset and size multiples of
 * VFU_DMA_PAGE, size > 0, address + size and offset + size do not wrap; zero or one fd,
 * and offset 0 without one.  The fd stays in m.  Reply: no payload, no fds.
 */
int vfu_dma_map_decode(const struct vfu_msg *m, bool reply, struct vfu_dma_map *out);
/*
 * DMA_UNMAP.  Request: payload exactly 24 bytes, argsz >= 24, flags 0 (-EOPNOTSUPP for
 * GET_DIRTY_BITMAP or ALL, which we do not implement: answer with an error and carry
 * on; -EPROTO for unknown bits), size > 0, address and size page multiples, no wrap,
 * no fds.  Reply: the request's 24 bytes echoed (the caller compares), argsz >= 24.
 */
int vfu_dma_unmap_decode(const struct vfu_msg *m, bool reply, struct vfu_dma_unmap *out);

/* --- DMA_READ / DMA_WRITE (server to client, spec "VFIO_USER_DMA_READ") ---------- */
struct vfu_dma_access {
	uint64_t address;
	uint64_t count; /* 8 bytes in every direction, as libvfio-user's struct */
	/* data follows (write request, read reply) */
} __attribute__((packed));

/*
 * count 1..VFU_MAX_DATA_XFER, address + count does not wrap, payload exactly 16 +
 * count bytes for a write request / read reply (*data points into m), 16 otherwise
 * (*data = NULL); no fds.  Whether the range is mapped is the receiver's check.
 */
int vfu_dma_access_decode(const struct vfu_msg *m, bool reply, bool write,
			  struct vfu_dma_access *out, const uint8_t **data);
/*
 * Server side: m is the reply to our DMA_READ (write false) / DMA_WRITE command `id` of
 * [address, address + count).  It must be a reply with that id and command, no fds
 * (-EBADMSG), and either an error (-errno; -EIO for error 0; -EPROTO above 4095) or the
 * decoder's payload with address and count echoed (*data: the read data).  0 or -errno;
 * -EPROTO/-EBADMSG mean the connection is unusable.
 */
int vfu_dma_reply_check(const struct vfu_msg *m, uint16_t id, bool write, uint64_t address,
			uint64_t count, const uint8_t **data);

/* --- DEVICE_GET_REGION_IO_FDS (spec "VFIO_USER_DEVICE_GET_REGION_IO_FDS") -------- */
#define VFU_IO_FD_TYPE_IOEVENTFD 0u
#define VFU_IO_FD_DATAMATCH (1u << 0) /* KVM_IOEVENTFD_FLAG_DATAMATCH */
#define VFU_IO_FDS_MAX 16u            /* sub-regions per region we send and accept */

struct vfu_region_io_fds {
	uint32_t argsz, flags, index, count;
	/* sub-regions follow in a reply */
} __attribute__((packed));

/* Sub-region, ioeventfd type: 40 bytes. */
struct vfu_ioeventfd {
	uint64_t offset, size;
	uint32_t fd_index, type, flags, padding;
	uint64_t datamatch;
} __attribute__((packed));

/*
 * Request: 16 bytes, argsz >= 16, flags and count 0, no fds (index < num_regions is
 * the server's check).  Reply: flags 0, count <= VFU_IO_FDS_MAX, payload exactly 16 +
 * 40 * count and argsz equal to it (we always ask for VFU_IO_FDS_MAX entries, so the
 * whole array must be there); each sub-region of type ioeventfd, flags only DATAMATCH,
 * padding 0, size 1, 2, 4 or 8, offset + size does not wrap, datamatch 0 without
 * DATAMATCH and fitting in size bytes with it, fd_index < the fds received; every fd
 * received is used by some sub-region (count 0: no fds).  The sub-regions are copied
 * to subs[VFU_IO_FDS_MAX]; the fds stay in m.  Offsets within the region are the
 * caller's check.
 */
int vfu_region_io_fds_decode(const struct vfu_msg *m, bool reply, struct vfu_region_io_fds *out,
			     struct vfu_ioeventfd *subs);
/* offset + count <= size without overflow, count > 0. */
bool vfu_range_ok(uint64_t offset, uint64_t count, uint64_t size);

/* --- Client side: one request, one reply ----------------------------------------- */
/*
 * Send a command and wait for its reply (waiting also on a non-blocking socket).
 * Checks that the reply is a reply with our msg_id and cmd; fds on the reply of a
 * command whose reply takes none (all but GET_REGION_INFO and GET_REGION_IO_FDS) are
 * closed.  A reply whose size the request fixes (device/region/IRQ info, REGION_READ of
 * up to VFU_MSG_INLINE bytes, REGION_WRITE) is read with a single recvmsg; this relies
 * on the server sending nothing but the reply, as the spec's one-command-at-a-time
 * client on a socket without server-to-client commands implies.  Returns:
 *   0            reply filled (caller decodes it and calls vfu_msg_clear());
 *   -hdr.error   for an error reply (-EIO if the peer sent error 0, -EPROTO if the
 *                error is not an errno value, i.e. >= 4096);
 *   -EPROTO      malformed, oversized or mismatched reply, or unexpected fds: the
 *                connection is unusable, as with -ECONNRESET and -EPIPE;
 *   other        from vfu_send()/vfu_recv().
 * *next_id is incremented.  reply is filled only on success (zeroed otherwise).
 */
int vfu_call(int sock, uint16_t *next_id, uint16_t cmd, const void *req, size_t len,
	     const int *fds, unsigned nr_fds, struct vfu_msg *reply);

/*
 * Server-to-client DMA (spec "VFIO_USER_DMA_READ" / "VFIO_USER_DMA_WRITE"), for a client
 * that mapped memory without an fd.  read copies count bytes of client memory at addr
 * into buf, write the other way; each returns 0 or -errno (-EFAULT: the range is not
 * one the client exported), which becomes the error reply.  Called on the caller's
 * thread, from inside vfu_call_dma().
 */
struct vfu_dma_handler {
	int (*read)(void *ctx, uint64_t addr, void *buf, uint64_t count);
	int (*write)(void *ctx, uint64_t addr, const void *buf, uint64_t count);
	void *ctx;
};

/*
 * vfu_call() that also serves DMA_READ/DMA_WRITE commands arriving before the reply
 * (any number of them; a command with No_reply gets none).  With dma NULL it is
 * vfu_call(): a server-to-client command is -EPROTO.  With dma set, every message is
 * read header first (no size hint: a DMA command may precede the reply), a malformed
 * DMA command is -EPROTO and any other server-to-client command is -EPROTO too.
 */
int vfu_call_dma(int sock, uint16_t *next_id, const struct vfu_dma_handler *dma, uint16_t cmd,
		 const void *req, size_t len, const int *fds, unsigned nr_fds,
		 struct vfu_msg *reply);

/*
 * Client side: serve one DMA_READ/DMA_WRITE command m (the caller saw its type and
 * command) through dma and send the reply (none for No_reply).  -EPROTO for a malformed
 * command or one with fds (closed); the send's -errno.  Used by vfu_call_dma() and by a
 * client that reads its socket while no call is in flight.
 */
int vfu_dma_serve(int sock, const struct vfu_dma_handler *dma, struct vfu_msg *m);

/* Spec name without the VFIO_USER_ prefix ("REGION_READ"), or "UNKNOWN". Static. */
const char *vfu_cmd_name(uint16_t cmd);

/* ================================================================================== */
/*
 * QMP: the QEMU Machine Protocol (QEMU docs/interop/qmp-spec.rst), server side.
 *
 * A struct qmp_session is one client's protocol state, independent of the transport:
 * bytes (and SCM_RIGHTS fds) go in with qmp_session_input(), whole messages (JSON plus
 * "\r\n", as QEMU sends them) come out through a write callback.  json-c parses and
 * builds every message; the parser is a streaming json_tokener, so pipelined messages
 * and messages split across reads both work.  A struct qmp_server is the GLib glue:
 * unix listening sockets and adopted connected sockets, one session per client, event
 * broadcast.  Neither knows what a command does: commands come in NULL-name-terminated
 * tables of struct qmp_command, and a server or session takes a NULL-terminated list
 * of such tables, so each subsystem adds its own table without touching another's.
 * Built in (always present): qmp_capabilities, query-version, query-commands, getfd,
 * closefd.  docs/qmp.md documents every command and the limits below.
 *
 * Wire rules implemented (spec section "QMP Specification"): greeting
 * {"QMP": {"version": {"qemu": {"micro", "minor", "major"}, "package"}, "capabilities": []}};
 * before qmp_capabilities every command but qmp_capabilities gets CommandNotFound
 * "Expecting capabilities negotiation with 'qmp_capabilities'"; a message must be an
 * object with "execute" (string), optional "arguments" (object) and optional "id" (any
 * JSON value, echoed in the reply); any other member is refused as QEMU does ("QMP input
 * member 'X' is unexpected").  Arguments are checked against the command's struct
 * qmp_arg list before the command runs, with QEMU's messages ("Parameter 'X' is
 * missing", "Parameter 'X' is unexpected", "Invalid parameter type for 'X', expected:
 * string").  Events {"event", "data"?, "timestamp": {"seconds", "microseconds"}} go only
 * to negotiated sessions.
 * Limits (our decisions, docs/qmp.md): one message is at most QMP_MSG_MAX bytes
 * counted from its first non-blank byte; a longer one is answered with GenericError and
 * the connection is closed (no resync is possible inside an unbounded string).
 * Malformed JSON is answered with GenericError "JSON parse error, ..."; the input is
 * then skipped up to the next newline and parsing starts afresh (QEMU resyncs too).
 * Nesting deeper than QMP_DEPTH_MAX is a parse error.
 *
 * fds: fds received with input (qmp_session_input()) wait in a per-session queue of at
 * most QMP_FDS_MAX (more are closed); a command takes one with qmp_session_take_msg_fd()
 * (getfd does).  fds that came with bytes of a message belong to it: once the session
 * is idle at a message boundary (all input so far consumed) those nobody took are
 * closed, so an fd sent with a message that does not expect it is closed after that
 * message runs.  fds that came on blanks alone (one call whose bytes are all blanks
 * between messages: QEMU's Python QMP send_fd_scm() sends an fd on one ' ' and then the
 * getfd) stay queued, through commands that take no fd, until a command takes them or
 * newer fds replace them (closed), as QEMU's chardev keeps them.  getfd stores the fd
 * under a name in the session's named-fd table (at most QMP_NAMED_FDS_MAX names; a
 * name reused closes the old fd, as in QEMU); qmp_session_take_fd() moves one out of it
 * (device_add socket=FDNAME); closefd closes one.  Everything is closed with the
 * session.
 *
 * Threads: a session is used by one thread at a time, the one that feeds it input;
 * commands run on it, synchronously, in order.  A server and its sessions live on the
 * thread iterating the server's GMainContext; only qmp_server_emit_event() may be
 * called from any thread.
 */
#define QMP_MSG_MAX (1u << 20)	     /* bytes in one inbound message: 1 MiB is accepted */
#define QMP_DEPTH_MAX 64	     /* JSON nesting depth */
#define QMP_FDS_MAX 8		     /* received fds waiting for a command */
#define QMP_NAMED_FDS_MAX 64	     /* getfd names per session */
#define QMP_FDNAME_MAX 128	     /* bytes in a getfd name */
#define QMP_OUT_MAX (16u << 20)	     /* queued output per client before it is dropped */
#define QMP_LISTEN_MAX 16	     /* listening sockets per server */
#define QMP_CLIENTS_MAX 64	     /* connected clients per server; more are closed */

/* GError domain for command failures; the code is an enum qmp_error_class. */
#define QMP_ERROR (qmp_error_quark())
GQuark qmp_error_quark(void);

/* The "class" member of an error reply (QEMU qapi/error.json ErrorClass). */
enum qmp_error_class {
	QMP_ERROR_GENERIC,	    /* "GenericError" */
	QMP_ERROR_COMMAND_NOT_FOUND, /* "CommandNotFound" */
	QMP_ERROR_DEVICE_NOT_FOUND,  /* "DeviceNotFound" */
};
/* "GenericError", ...; "GenericError" for an unknown value.  Static. */
const char *qmp_error_class_name(int cls);
/* Set *err (may be NULL) to QMP_ERROR/cls with the formatted desc; returns ret (< 0). */
int qmp_error_set(GError **err, int ret, enum qmp_error_class cls, const char *fmt, ...)
	G_GNUC_PRINTF(4, 5);

enum qmp_arg_type {
	QMP_ARG_STR,	/* JSON string; "expected: string" */
	QMP_ARG_INT,	/* JSON integer (no fraction); "expected: integer" */
	QMP_ARG_BOOL,	/* true/false; "expected: boolean" */
	QMP_ARG_NUMBER, /* integer or fraction; "expected: number" */
	QMP_ARG_OBJECT, /* JSON object; "expected: object" */
	QMP_ARG_ANY,	/* anything, null included */
};

/* One named argument; a command's list ends with a NULL name. */
struct qmp_arg {
	const char *name;
	enum qmp_arg_type type;
	bool optional;
};

struct qmp_session;

/*
 * A command.  opaque is the server's (or session's) opaque; args is always an object
 * (empty when the message had no "arguments"), already checked against the command's
 * struct qmp_arg list, and owned by the caller (json_object_get() to keep a part).  On
 * success return >= 0 and optionally set *ret to a new reference (the "return" value;
 * left NULL means {}).  On failure return -errno and set *err in domain QMP_ERROR with
 * an enum qmp_error_class code (qmp_error_set()); an unset *err or another domain
 * becomes GenericError with the message (or strerror).  *ret is dropped on failure.
 */
typedef int (*qmp_cmd_fn)(void *opaque, struct qmp_session *s, json_object *args,
			  json_object **ret, GError **err);

struct qmp_command {
	const char *name;
	qmp_cmd_fn fn;
	const struct qmp_arg *args; /* NULL-name-terminated; NULL: takes no argument */
	bool extra_args;	    /* arguments besides `args` are passed on unchecked */
};

/* The "version" member of the greeting and of query-version. */
struct qmp_version {
	int major, minor, micro;
	const char *package; /* copied */
};

/*
 * Output of a session: one whole message per call (JSON text then "\r\n").  Return 0,
 * or -errno to make qmp_session_input() fail with it (the transport is gone).
 */
typedef int (*qmp_write_fn)(void *ctx, const char *buf, size_t len);

/*
 * A new session that has not yet sent its greeting.  tables: NULL-terminated list of
 * command tables, not copied (keep them alive; static const in practice); a name found
 * in two tables resolves to the first, built-ins first.  opaque is passed to every
 * command.  -ENOMEM.
 */
int qmp_session_create(const struct qmp_command *const *tables, void *opaque,
		       const struct qmp_version *ver, qmp_write_fn write, void *write_ctx,
		       struct qmp_session **out);
/* Send the greeting.  The write callback's error. */
int qmp_session_greet(struct qmp_session *s);
/*
 * Feed the bytes of one read (any split) and the fds that arrived with them (ownership
 * taken: queued or closed, also on failure; which fds wait for a later command: "fds"
 * above).  Runs every command completed by these bytes.  Returns 0, -EMSGSIZE after
 * answering an oversized message, or the write callback's error; after a failure the
 * session only waits to be destroyed.
 */
int qmp_session_input(struct qmp_session *s, const char *buf, size_t len, int *fds,
		      unsigned nr_fds);
/* Closes every fd it holds.  NULL is a no-op. */
void qmp_session_destroy(struct qmp_session *s);
bool qmp_session_negotiated(const struct qmp_session *s);
/* Send an event now (dropped unless negotiated).  data: NULL or taken. */
int qmp_session_send_event(struct qmp_session *s, const char *name, json_object *data);
/* For a command: the oldest fd received and not yet taken (caller owns it), or -ENOENT. */
int qmp_session_take_msg_fd(struct qmp_session *s);
/* For a command: move the named fd out of the getfd table (caller owns it), or -ENOENT. */
int qmp_session_take_fd(struct qmp_session *s, const char *name);
/* Store fd under name (taken; replaces and closes an older one). -ENOSPC, -EINVAL. */
int qmp_session_put_fd(struct qmp_session *s, const char *name, int fd);

/* ---- qmp_server: GLib glue, unix sockets ---- */

struct qmp_server;
/* Called on the server's thread when an adopted connection ends (EOF or error). */
typedef void (*qmp_closed_fn)(void *ctx);

struct qmp_server_cfg {
	const struct qmp_command *const *tables; /* as qmp_session_create() */
	void *opaque;
	struct qmp_version version;
	GMainContext *ctx; /* where sockets are watched; NULL: the global default */
};

/* Nothing is watched yet.  The cfg strings are copied, the tables not.  -ENOMEM. */
int qmp_server_create(const struct qmp_server_cfg *cfg, struct qmp_server **out);
/*
 * Listen on a unix socket at path (an existing socket file there is replaced, as QEMU
 * does; any other file is refused with -EEXIST) and serve every client that connects.
 * The file is unlinked by qmp_server_destroy().  *err names the path and the fix.
 */
int qmp_server_listen(struct qmp_server *srv, const char *path, GError **err);
/*
 * Serve one already-connected stream socket (taken; closed on failure too), e.g. an
 * inherited control channel.  closed (may be NULL) is called when it ends, after the
 * client is freed; it may quit the main loop but must not destroy the server.
 * -ENOTSOCK (not a stream socket), -EMFILE (QMP_CLIENTS_MAX reached).
 */
int qmp_server_adopt(struct qmp_server *srv, int fd, qmp_closed_fn closed, void *closed_ctx);
/*
 * Broadcast an event to every negotiated session, timestamped now.  Any thread; data is
 * NULL or taken.  On the server's thread (inside a command) it is written at once, so it
 * precedes the command's reply, as in QEMU; from another thread it is queued and written
 * from the server's context, in emission order.  Every emitting thread must be done
 * before qmp_server_destroy().
 */
void qmp_server_emit_event(struct qmp_server *srv, const char *name, json_object *data);
/* Connected clients now (server's thread). */
unsigned qmp_server_nr_clients(const struct qmp_server *srv);
/*
 * Deliver queued events, flush what can be written (waiting up to ~1 s in all), close
 * every client and listening socket and unlink the socket files.  Call on the server's thread, or after
 * that thread stopped iterating the context.  NULL is a no-op.
 */
void qmp_server_destroy(struct qmp_server *srv);

#endif
