// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfu_decode: per-message validation of the fixed-format vfio-user messages, in both
 * directions (a request as the server sees it, a reply as the client sees it).  Each
 * decoder checks the header it is given, the exact payload length, the fds, the argsz
 * rules (spec "Message sizes") and every field the spec constrains, then copies the
 * message out.  It knows nothing of a particular device: index and range checks against
 * the device's layout are the caller's, with vfu_range_ok().
 */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "protocol/protocol.h"
#include "protocol/vfu_priv.h"

#define VFU_DEV_FLAGS_KNOWN (VFU_DEV_FLAG_RESET | VFU_DEV_FLAG_PCI)
#define VFU_REGION_FLAGS_KNOWN (VFU_REGION_READ | VFU_REGION_WRITE | VFU_REGION_MMAP | \
				VFU_REGION_CAPS)
#define VFU_IRQ_FLAGS_KNOWN (VFU_IRQ_EVENTFD | VFU_IRQ_MASKABLE | VFU_IRQ_AUTOMASKED | \
			     VFU_IRQ_NORESIZE)

int vfu_bad(const struct vfu_msg *m, const char *why)
{
	g_debug("msg %u %s %s: %s", m->hdr.msg_id, vfu_cmd_name(m->hdr.cmd),
		(m->hdr.flags & VFU_F_TYPE_MASK) == VFU_F_TYPE_REPLY ? "reply" : "request", why);
	return -EPROTO;
}

/* The header is what the caller decodes: this command, this direction, no error flag. */
int vfu_expect_hdr(const struct vfu_msg *m, uint16_t cmd, bool reply)
{
	uint32_t type = reply ? VFU_F_TYPE_REPLY : VFU_F_TYPE_COMMAND;

	if (m->hdr.cmd != cmd)
		return vfu_bad(m, "unexpected command");
	/* Error replies carry no payload; vfu_call() turns them into -errno. */
	if ((m->hdr.flags & VFU_F_TYPE_MASK) != type || (m->hdr.flags & VFU_F_ERROR))
		return vfu_bad(m, "wrong message type");
	return 0;
}

/* The payload is exactly len bytes and exactly nr_fds fds came with it. */
int vfu_expect_size(const struct vfu_msg *m, size_t len, unsigned nr_fds)
{
	if (m->len != len || m->hdr.size != VFU_HDR_SIZE + len)
		return vfu_bad(m, "wrong payload size");
	if (m->nr_fds != nr_fds) {
		vfu_bad(m, "wrong number of fds");
		return -EBADMSG;
	}
	return 0;
}

int vfu_expect(const struct vfu_msg *m, uint16_t cmd, bool reply, size_t len,
	       unsigned nr_fds)
{
	return vfu_expect_hdr(m, cmd, reply) ?: vfu_expect_size(m, len, nr_fds);
}

/*
 * Spec "Message sizes": in a request argsz is the largest reply payload the client
 * accepts, at least the fixed reply struct; in a reply it is the size the full reply
 * needs, never less than the struct.  We always request exactly the struct, so a reply
 * payload is exactly the struct and any excess is announced by argsz only.
 */
static int vfu_argsz_ok(const struct vfu_msg *m, uint32_t argsz, size_t fixed)
{
	if (argsz < fixed)
		return vfu_bad(m, "argsz smaller than the fixed reply");
	return 0;
}

int vfu_device_info_decode(const struct vfu_msg *m, bool reply, struct vfu_device_info *out)
{
	struct vfu_device_info d;
	int ret;

	ret = vfu_expect(m, VFU_CMD_DEVICE_GET_INFO, reply, sizeof(d), 0);
	if (ret < 0)
		return ret;
	memcpy(&d, m->payload, sizeof(d));
	ret = vfu_argsz_ok(m, d.argsz, sizeof(d));
	if (ret < 0)
		return ret;
	/* Spec "VFIO_USER_DEVICE_GET_INFO": request fields other than argsz are zero. */
	if (!reply && (d.flags || d.num_regions || d.num_irqs))
		return vfu_bad(m, "non-zero request field");
	if (reply && (d.flags & ~VFU_DEV_FLAGS_KNOWN))
		return vfu_bad(m, "unknown device flags");
	/* Spec "Device-Specific Regions": a PCI device has at least the 9 PCI regions. */
	if (reply && (d.flags & VFU_DEV_FLAG_PCI) && d.num_regions < VFU_PCI_NUM_REGIONS)
		return vfu_bad(m, "PCI device with fewer than 9 regions");
	*out = d;
	return 0;
}

/* Spec "VFIO_USER_DEVICE_GET_REGION_INFO", reply: flags, caps and the mmap fd agree. */
static int vfu_region_info_reply_ok(const struct vfu_msg *m, const struct vfu_region_info *r)
{
	if (r->flags & ~VFU_REGION_FLAGS_KNOWN)
		return vfu_bad(m, "unknown region flags");
	if (m->nr_fds != ((r->flags & VFU_REGION_MMAP) ? 1u : 0u)) {
		vfu_bad(m, "mmap fd and VFIO_REGION_INFO_FLAG_MMAP disagree");
		return -EBADMSG;
	}
	if (!(r->flags & VFU_REGION_CAPS)) {
		if (r->argsz != sizeof(*r) || r->cap_offset)
			return vfu_bad(m, "argsz or cap_offset without VFIO_REGION_INFO_FLAG_CAPS");
		return 0;
	}
	/* cap_offset is relative to the struct: past it, with room for a cap header. */
	if (r->cap_offset < sizeof(*r) || r->cap_offset > r->argsz ||
	    r->argsz - r->cap_offset < 8)
		return vfu_bad(m, "cap_offset outside argsz");
	return 0;
}

int vfu_region_info_decode(const struct vfu_msg *m, bool reply, struct vfu_region_info *out)
{
	struct vfu_region_info r;
	int ret;

	/* The fd count of a reply depends on its flags: checked below. */
	ret = vfu_expect(m, VFU_CMD_DEVICE_GET_REGION_INFO, reply, sizeof(r),
			 reply ? m->nr_fds : 0);
	if (ret < 0)
		return ret;
	memcpy(&r, m->payload, sizeof(r));
	ret = vfu_argsz_ok(m, r.argsz, sizeof(r));
	if (ret < 0)
		return ret;
	if (reply) {
		ret = vfu_region_info_reply_ok(m, &r);
		if (ret < 0)
			return ret;
	} else if (r.flags || r.cap_offset || r.size || r.offset) {
		/* "index ... is the only field that is required to be set" */
		return vfu_bad(m, "non-zero request field");
	}
	*out = r;
	return 0;
}

int vfu_irq_info_decode(const struct vfu_msg *m, bool reply, struct vfu_irq_info *out)
{
	struct vfu_irq_info i;
	int ret;

	ret = vfu_expect(m, VFU_CMD_DEVICE_GET_IRQ_INFO, reply, sizeof(i), 0);
	if (ret < 0)
		return ret;
	memcpy(&i, m->payload, sizeof(i));
	ret = vfu_argsz_ok(m, i.argsz, sizeof(i));
	if (ret < 0)
		return ret;
	if (!reply && (i.flags || i.count))
		return vfu_bad(m, "non-zero request field");
	if (reply && (i.flags & ~VFU_IRQ_FLAGS_KNOWN))
		return vfu_bad(m, "unknown IRQ flags");
	*out = i;
	return 0;
}

/*
 * Spec "VFIO_USER_REGION_READ" / "VFIO_USER_REGION_WRITE": data follows the 16-byte
 * header in a write request and a read reply; count bytes of it, no more, no less.
 * Spec "Read and Write Operations": count <= the receiver's max_data_xfer_size.
 */
int vfu_region_access_decode(const struct vfu_msg *m, bool reply, bool write,
			     struct vfu_region_access *out, const uint8_t **data)
{
	uint16_t cmd = write ? VFU_CMD_REGION_WRITE : VFU_CMD_REGION_READ;
	bool has_data = write != reply;
	struct vfu_region_access a;
	uint64_t end;
	int ret;

	ret = vfu_expect_hdr(m, cmd, reply);
	if (ret < 0)
		return ret;
	if (m->len < sizeof(a))
		return vfu_bad(m, "payload shorter than offset, region, count");
	memcpy(&a, m->payload, sizeof(a));
	if (a.count == 0 || a.count > VFU_MAX_DATA_XFER)
		return vfu_bad(m, "count is 0 or above max_data_xfer_size");
	ret = vfu_expect_size(m, sizeof(a) + (has_data ? a.count : 0), 0);
	if (ret < 0)
		return ret;
	if (__builtin_add_overflow(a.offset, (uint64_t)a.count, &end))
		return vfu_bad(m, "offset + count wraps");
	*out = a;
	*data = has_data ? m->payload + sizeof(a) : NULL;
	return 0;
}

int vfu_reset_decode(const struct vfu_msg *m, bool reply)
{
	return vfu_expect(m, VFU_CMD_DEVICE_RESET, reply, 0, 0);
}

bool vfu_range_ok(uint64_t offset, uint64_t count, uint64_t size)
{
	uint64_t end;

	return count > 0 && !__builtin_add_overflow(offset, count, &end) && end <= size;
}
