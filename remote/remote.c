// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * remote: the device-class process.  Creates the devices named on the command line,
 * gives each its channel (socket), and runs one GLib main loop that serves them all.
 * It exits cleanly on SIGTERM or SIGINT, or once every channel has closed (only
 * inherited connections close; a listening channel keeps accepting).  It does not
 * parse options (main.c) or messages (vfu_server.c).
 */
#include <errno.h>
#include <signal.h>

#include <glib-unix.h>

#include "remote/remote.h"

/*
 * Adaptive polling: after serving a request, keep polling without sleeping for this
 * long before blocking in poll().  A guest's next BAR access usually arrives within
 * one VM exit (~10-20 us here), and a sleep/wake-up pair costs more than the whole
 * round trip with an awake server.  Costs at most this much CPU after each burst.
 */
#define REMOTE_POLL_US 50

struct remote {
	GMainContext *ctx;
	bool quit;
	struct channel **ch;
	struct remote_irq **irq; /* ch[i]'s device's interrupts, destroyed after it */
	unsigned nr;   /* channels created */
	unsigned live; /* channels that can still serve */
	guint sig_src[2];
};

void remote_devopt_clear(struct remote_devopt *o)
{
	g_clear_pointer(&o->type, g_free);
	g_clear_pointer(&o->id, g_free);
	g_clear_pointer(&o->socket, g_free);
	g_clear_pointer(&o->props, json_object_put);
	o->fd = -1;
}

static void remote_channel_closed(void *opaque, struct channel *ch)
{
	struct remote *r = opaque;

	g_info("%s: connection closed", channel_id(ch));
	if (--r->live == 0) {
		g_info("every device channel has closed; exiting");
		r->quit = true;
	}
}

static gboolean remote_on_signal(gpointer opaque)
{
	struct remote *r = opaque;

	g_info("signal received; exiting");
	r->quit = true;
	return G_SOURCE_CONTINUE;
}

static int remote_add(struct remote *r, const struct remote_devopt *o, GError **err)
{
	struct dev_env env = { .mem = NULL }; /* DMA comes in a later issue */
	g_autofree char *msg = NULL;
	struct dev *dev;
	int ret;

	/* The interrupts exist before the device, which gets them in its env. */
	ret = remote_irq_create(o->id, &r->irq[r->nr]);
	if (ret < 0)
		return ret;
	env.irq = remote_irq_get(r->irq[r->nr]);
	ret = dev_create(o->type, o->id, &env, o->props, &dev, &msg);
	if (ret < 0) {
		g_set_error(err, REMOTE_ERROR, 0, "%s", msg);
		g_clear_pointer(&r->irq[r->nr], remote_irq_destroy);
		return ret;
	}
	ret = remote_irq_bind(r->irq[r->nr], &dev->cfg);
	if (ret < 0) {
		g_set_error(err, REMOTE_ERROR, 0, "%s: out of memory for its interrupts", o->id);
		dev_destroy(dev);
		g_clear_pointer(&r->irq[r->nr], remote_irq_destroy);
		return ret;
	}
	ret = channel_create(o, dev, remote_channel_closed, r, &r->ch[r->nr], err);
	if (ret < 0) { /* the channel destroyed the device */
		g_clear_pointer(&r->irq[r->nr], remote_irq_destroy);
		return ret;
	}
	r->nr++;
	r->live++;
	return 0;
}

int remote_create(const struct remote_devopt *opts, unsigned nr, struct remote **out,
		  GError **err)
{
	struct remote *r = g_new0(struct remote, 1);
	int ret;

	signal(SIGPIPE, SIG_IGN); /* a vanished peer is an error return, not a signal */
	r->ctx = g_main_context_ref(g_main_context_default());
	r->sig_src[0] = g_unix_signal_add(SIGTERM, remote_on_signal, r);
	r->sig_src[1] = g_unix_signal_add(SIGINT, remote_on_signal, r);
	r->ch = g_new0(struct channel *, nr);
	r->irq = g_new0(struct remote_irq *, nr);
	for (unsigned i = 0; i < nr; i++) {
		ret = remote_add(r, &opts[i], err);
		if (ret < 0) {
			remote_destroy(r);
			return ret;
		}
	}
	*out = r;
	return 0;
}

int remote_run(struct remote *r)
{
	gint64 last = g_get_monotonic_time();

	/*
	 * A GLib main loop with a busy-poll phase: see REMOTE_POLL_US.  Owning the context
	 * for the whole run saves GLib an acquire/release (and a self-wakeup) per
	 * iteration.
	 */
	if (!g_main_context_acquire(r->ctx))
		return -EBUSY;
	while (r->live && !r->quit) {
		bool served = false;

		for (unsigned i = 0; i < r->nr; i++)
			served |= channel_poll(r->ch[i]);
		if (served || g_main_context_iteration(r->ctx, FALSE)) {
			last = g_get_monotonic_time();
			continue;
		}
		if (g_get_monotonic_time() - last < REMOTE_POLL_US)
			continue;
		g_main_context_iteration(r->ctx, TRUE);
		last = g_get_monotonic_time();
	}
	g_main_context_release(r->ctx);
	return 0;
}

void remote_destroy(struct remote *r)
{
	for (unsigned i = 0; i < r->nr; i++)
		channel_destroy(r->ch[i]);
	for (unsigned i = 0; i < r->nr; i++)
		remote_irq_destroy(r->irq[i]);
	g_free(r->irq);
	for (unsigned i = 0; i < G_N_ELEMENTS(r->sig_src); i++)
		g_source_remove(r->sig_src[i]);
	g_free(r->ch);
	g_main_context_unref(r->ctx);
	g_free(r);
}
