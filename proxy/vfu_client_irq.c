// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfu_client_irq: the client half of VFIO_USER_DEVICE_SET_IRQS (spec
 * "VFIO_USER_DEVICE_SET_IRQS"): hands a remote device the eventfds pcifn made for its
 * interrupts.  A range is cut into messages that carry at most the peer's
 * max_msg_fds fds, and a run of -1 entries becomes a message without fds (the spec's
 * de-assign).  What the eventfds are for is pciirq.c's business.
 */
#include <errno.h>

#include "proxy/vfu_client.h"

static int vfu_client_irq_msg(struct vfu_client *c, uint32_t flags, unsigned index, unsigned start,
			      unsigned count, const int *fds, unsigned nr_fds)
{
	uint8_t buf[sizeof(struct vfu_irq_set)];
	struct vfu_irq_set got;
	const uint8_t *data;
	struct vfu_msg reply;
	int len, ret;

	len = vfu_irq_set_encode(flags, index, start, count, NULL, nr_fds, buf, sizeof(buf));
	if (len < 0)
		return len;
	ret = vfu_client_call(c, VFU_CMD_DEVICE_SET_IRQS, buf, (size_t)len, fds, nr_fds,
		       &reply);
	if (ret < 0)
		return ret;
	ret = vfu_irq_set_decode(&reply, true, &got, &data);
	vfu_msg_clear(&reply);
	if (ret < 0) {
		g_warning("%s: remote sent a malformed SET_IRQS reply", c->id);
		return -EPROTO;
	}
	return 0;
}

int vfu_client_set_irqs(void *be, unsigned index, bool unmask, unsigned start, unsigned count,
			const int *fds)
{
	struct vfu_client *c = be;
	uint32_t flags = VFU_IRQ_SET_DATA_EVENTFD |
			 (unmask ? VFU_IRQ_SET_ACTION_UNMASK : VFU_IRQ_SET_ACTION_TRIGGER);
	unsigned max = MIN(c->peer_max_fds, VFU_MAX_FDS);

	for (unsigned done = 0; done < count;) {
		bool none = fds[done] < 0;
		unsigned n = 1;
		int ret;

		/* A run of fds (at most max per message) or a run of -1 (no fds at all). */
		while (done + n < count && (fds[done + n] < 0) == none && (none || n < max))
			n++;
		if (!none && max == 0)
			return -ENOTSUP; /* the peer takes no fds */
		ret = vfu_client_irq_msg(c, flags, index, start + done, n, none ? NULL : fds + done,
					 none ? 0 : n);
		if (ret < 0)
			return ret;
		done += n;
	}
	return 0;
}
