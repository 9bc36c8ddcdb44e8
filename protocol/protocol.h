/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * protocol: the vfio-user wire protocol (QEMU docs/interop/vfio-user.rst), both ends.
 *
 * This module frames messages on a connected AF_UNIX SOCK_STREAM socket, passes fds,
 * encodes requests and replies, and validates every field of every message it
 * decodes, whichever side received it.  It holds no device or VMM state: the client
 * (proxy/) and server (remote/) decide what a valid message means for them.
 *
 * Errors: functions return >= 0 on success or -errno:
 *   -EPROTO      malformed message (bad size, type, flags, field out of range);
 *   -ECONNRESET  peer closed the socket (EOF) or reset it;
 *   -EMSGSIZE    message larger than the receiver's limit;
 *   -EBADMSG     unexpected fds, or fds truncated (MSG_CTRUNC);
 *   -EINVAL      caller passed bad arguments;
 *   other        the syscall's errno.
 * A reply with the error flag set is returned as -hdr.error by vfu_call().
 *
 * Ownership: a received struct vfu_msg owns its payload and fds until vfu_msg_clear();
 * a consumer that keeps an fd sets its slot to -1 first.
 * Threads: none of this is thread-safe per socket; callers serialize.
 */
#ifndef MPVMM_PROTOCOL_H
#define MPVMM_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Spec "Header": every message starts with these 16 bytes, host (little) endian. */
struct vfu_hdr {
	uint16_t msg_id;
	uint16_t cmd;
	uint32_t size; /* whole message, header included */
	uint32_t flags;
	uint32_t error; /* errno, valid in a reply with VFU_F_ERROR */
} __attribute__((packed));

#define VFU_HDR_SIZE 16u
#define VFU_F_TYPE_MASK 0xfu
#define VFU_F_TYPE_COMMAND 0u
#define VFU_F_TYPE_REPLY 1u
#define VFU_F_NO_REPLY (1u << 4)
#define VFU_F_ERROR (1u << 5)

/* Spec "Commands" */
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
	VFU_CMD_MAX,
};

/* Limits we advertise and enforce (spec "Version": max_msg_fds, max_data_xfer_size). */
#define VFU_MAX_FDS 8u
#define VFU_MAX_DATA_XFER 4096u
#define VFU_MAX_MSG (VFU_HDR_SIZE + 64u + VFU_MAX_DATA_XFER)
#define VFU_VERSION_MAJOR 0
#define VFU_VERSION_MINOR 1

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

/* A received message. */
struct vfu_msg {
	struct vfu_hdr hdr;
	uint8_t *payload; /* hdr.size - VFU_HDR_SIZE bytes, owned */
	size_t len;
	int fds[VFU_MAX_FDS];
	unsigned nr_fds;
};

/*
 * Send one message: header (size and flags filled in from len and the arguments),
 * payload and up to VFU_MAX_FDS fds in one sendmsg (MSG_NOSIGNAL).
 */
int vfu_send(int sock, uint16_t msg_id, uint16_t cmd, uint32_t flags, uint32_t error,
	     const void *payload, size_t len, const int *fds, unsigned nr_fds);

/*
 * Receive one whole message (blocking).  Rejects a truncated header (EOF inside it),
 * size < VFU_HDR_SIZE, size > max_size, unknown type bits, MSG_CTRUNC; fds arrive with
 * MSG_CMSG_CLOEXEC.  On error nothing is left allocated or open.
 */
int vfu_recv(int sock, struct vfu_msg *msg, size_t max_size);
void vfu_msg_clear(struct vfu_msg *msg);
/* Close every fd of msg; -EBADMSG if there were any (for commands that take none). */
int vfu_msg_expect_fds(struct vfu_msg *msg, unsigned nr);

/* --- VERSION (spec "Version") ------------------------------------------------- */
struct vfu_caps {
	uint16_t major, minor;
	uint32_t max_msg_fds;
	uint64_t max_data_xfer_size;
	/* Extension "mpvmm.device-id" (docs/protocol.md): the id the client expects / the
	 * server's device has.  NULL when absent.  Owned by the struct. */
	char *device_id;
};
/* payload = u16 major, u16 minor, NUL-terminated JSON {"capabilities": {...}} */
int vfu_version_encode(const struct vfu_caps *caps, uint8_t **payload, size_t *len);
/* Strict: JSON must parse, be an object, types right; unknown capabilities ignored. */
int vfu_version_decode(const uint8_t *payload, size_t len, struct vfu_caps *caps);
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

/* --- REGION_READ / REGION_WRITE (spec "VFIO_USER_REGION_READ") ----------------- */
struct vfu_region_access {
	uint64_t offset;
	uint32_t region;
	uint32_t count;
	/* data follows (write request, read reply) */
} __attribute__((packed));

/*
 * Decoders: check a payload's length and fields and copy it out.  `reply` selects the
 * direction (request as the server sees it, or reply as the client sees it).
 * Range checks that need device knowledge (region index < num_regions, offset+count
 * within region size) are done by the caller with vfu_range_ok().
 */
int vfu_device_info_decode(const struct vfu_msg *m, bool reply, struct vfu_device_info *out);
int vfu_region_info_decode(const struct vfu_msg *m, bool reply, struct vfu_region_info *out);
int vfu_irq_info_decode(const struct vfu_msg *m, bool reply, struct vfu_irq_info *out);
/* data points into m->payload (count bytes) for a write request / read reply. */
int vfu_region_access_decode(const struct vfu_msg *m, bool reply, bool write,
			     struct vfu_region_access *out, const uint8_t **data);
/* offset + count <= size without overflow, count > 0. */
bool vfu_range_ok(uint64_t offset, uint64_t count, uint64_t size);

/* --- Client side: one request, one reply ----------------------------------------- */
/*
 * Send a command and wait for its reply: checks reply type, msg_id and cmd match, and
 * returns -hdr.error for an error reply (-EPROTO if error is 0 or absurd).
 * *next_id is incremented.  reply is filled only on success.
 */
int vfu_call(int sock, uint16_t *next_id, uint16_t cmd, const void *req, size_t len,
	     const int *fds, unsigned nr_fds, struct vfu_msg *reply);

const char *vfu_cmd_name(uint16_t cmd);

#endif
