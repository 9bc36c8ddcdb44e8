// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfu_irqs: VFIO_USER_DEVICE_SET_IRQS (spec "VFIO_USER_DEVICE_SET_IRQS"), the one
 * variable-format interrupt message.  The same form rules are checked when a client
 * builds a request and when a server receives one, so neither end can send what the
 * other refuses.  Whether an index supports an action, and how many sub-indexes it
 * has, is the server's business (remote/irq.c), not this file's.
 */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "protocol/protocol.h"

static int irqs_bad(const char *why)
{
	g_debug("DEVICE_SET_IRQS: %s", why);
	return -EPROTO;
}

/* Exactly one bit of `group` set in flags. */
static bool irqs_one_of(uint32_t flags, uint32_t group)
{
	uint32_t v = flags & group;

	return v && !(v & (v - 1));
}

static int irqs_check_data(const struct vfu_irq_set *s, const uint8_t *data, size_t data_len,
			   unsigned nr_fds)
{
	uint32_t d = s->flags & VFU_IRQ_SET_DATA_MASK;

	if (d != VFU_IRQ_SET_DATA_EVENTFD && nr_fds)
		return irqs_bad("fds without DATA_EVENTFD");
	/* Spec: "If no file descriptors are provided, this de-assigns" the range. */
	if (d == VFU_IRQ_SET_DATA_EVENTFD && nr_fds && nr_fds != s->count)
		return irqs_bad("number of fds is neither 0 nor count");
	if (d != VFU_IRQ_SET_DATA_BOOL) {
		if (data_len)
			return irqs_bad("data bytes without DATA_BOOL");
		return 0;
	}
	if (data_len != s->count)
		return irqs_bad("DATA_BOOL without exactly count bytes");
	for (size_t i = 0; i < data_len; i++) {
		if (data[i] > 1)
			return irqs_bad("DATA_BOOL byte neither 0 nor 1");
	}
	return 0;
}

int vfu_irq_set_check(const struct vfu_irq_set *s, const uint8_t *data, size_t data_len,
		      unsigned nr_fds)
{
	uint32_t known = VFU_IRQ_SET_DATA_MASK | VFU_IRQ_SET_ACTION_MASK_ALL, end;
	size_t len = sizeof(*s) + data_len;

	if (s->flags & ~known)
		return irqs_bad("unknown flags");
	if (!irqs_one_of(s->flags, VFU_IRQ_SET_DATA_MASK) ||
	    !irqs_one_of(s->flags, VFU_IRQ_SET_ACTION_MASK_ALL))
		return irqs_bad("not exactly one DATA and one ACTION flag");
	if (s->index >= VFU_PCI_NUM_IRQS)
		return irqs_bad("index out of range");
	if (s->count > VFU_IRQ_SET_MAX_COUNT || __builtin_add_overflow(s->start, s->count, &end))
		return irqs_bad("start + count too large");
	if (s->count == 0 &&
	    (s->start || s->flags != (VFU_IRQ_SET_DATA_NONE | VFU_IRQ_SET_ACTION_TRIGGER)))
		return irqs_bad("count 0 other than DATA_NONE|ACTION_TRIGGER at start 0");
	/* Spec "argsz is the size of the VFIO IRQ set request payload, including data". */
	if (s->argsz != len &&
	    !((s->flags & VFU_IRQ_SET_DATA_EVENTFD) && s->argsz == sizeof(*s) + 4ull * s->count))
		return irqs_bad("argsz is not the payload size");
	return irqs_check_data(s, data, data_len, nr_fds);
}

int vfu_irq_set_encode(uint32_t flags, uint32_t index, uint32_t start, uint32_t count,
		       const uint8_t *bools, unsigned nr_fds, void *buf, size_t buf_len)
{
	size_t data_len = (flags & VFU_IRQ_SET_DATA_BOOL) ? count : 0;
	struct vfu_irq_set s = {.flags = flags, .index = index, .start = start, .count = count};

	if (count > VFU_IRQ_SET_MAX_COUNT || buf_len < sizeof(s) + data_len || (data_len && !bools))
		return -EINVAL;
	s.argsz = (uint32_t)(sizeof(s) + data_len);
	if (vfu_irq_set_check(&s, bools, data_len, nr_fds) < 0)
		return -EINVAL;
	memcpy(buf, &s, sizeof(s));
	if (data_len)
		memcpy((uint8_t *)buf + sizeof(s), bools, data_len);
	return (int)(sizeof(s) + data_len);
}

static bool irqs_hdr_ok(const struct vfu_msg *m, bool reply)
{
	uint32_t type = reply ? VFU_F_TYPE_REPLY : VFU_F_TYPE_COMMAND;

	return m->hdr.cmd == VFU_CMD_DEVICE_SET_IRQS && (m->hdr.flags & VFU_F_TYPE_MASK) == type &&
	       !(m->hdr.flags & VFU_F_ERROR) && m->hdr.size == VFU_HDR_SIZE + m->len;
}

int vfu_irq_set_decode(const struct vfu_msg *m, bool reply, struct vfu_irq_set *out,
		       const uint8_t **data)
{
	struct vfu_irq_set s;
	int ret;

	*data = NULL;
	if (!irqs_hdr_ok(m, reply))
		return irqs_bad("wrong command, type or size");
	if (reply) {
		if (m->nr_fds)
			return -EBADMSG;
		return m->len ? irqs_bad("reply with a payload") : 0;
	}
	if (m->len < sizeof(s))
		return irqs_bad("payload shorter than the fixed part");
	memcpy(&s, m->payload, sizeof(s));
	if (m->nr_fds && !(s.flags & VFU_IRQ_SET_DATA_EVENTFD))
		return -EBADMSG;
	ret = vfu_irq_set_check(&s, m->payload + sizeof(s), m->len - sizeof(s), m->nr_fds);
	if (ret < 0)
		return ret;
	*out = s;
	if (s.flags & VFU_IRQ_SET_DATA_BOOL)
		*data = m->payload + sizeof(s);
	return 0;
}
