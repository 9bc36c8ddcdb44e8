// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * remote: the device-class process.  Creates the devices named on the command line,
 * and at run time those its control channel asks for (control.c), gives each its
 * channel (socket), and runs one GLib main loop that serves them all.  It exits
 * cleanly on SIGTERM or SIGINT; without a control channel also once every channel has
 * closed (only inherited connections close; a listening channel keeps accepting); with
 * one, when the control channel says so (remote_stop()).  It does not parse options
 * (main.c), QMP (control.c) or vfio-user messages (vfu_server.c).
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>

#include "remote/remote.h"

/*
 * Adaptive polling: after serving a request, keep polling without sleeping for this
 * long before blocking in poll().  A guest's next BAR access usually arrives within
 * one VM exit (~10-20 us here), and a sleep/wake-up pair costs more than the whole
 * round trip with an awake server.  Costs at most this much CPU after each burst.
 */
#define REMOTE_POLL_US 50

/* One hosted device: its channel (which owns the device) and its interrupts. */
struct remote_dev {
	char *type;
	struct channel *ch;
	struct remote_irq *irq; /* destroyed after the channel, which destroys the device */
	bool inherited;		/* socket=FD: closes for good when the peer leaves */
	bool closed;		/* that inherited connection has closed */
};

struct remote {
	GMainContext *ctx;
	bool quit;
	GPtrArray *devs; /* struct remote_dev, in creation order */
	unsigned live;	 /* inherited channels that can still serve */
	bool controlled; /* a control channel decides when to exit, not the devices */
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

/*
 * Without a control channel the process ends once no device can be reached any more:
 * every inherited connection closed and no device listens on a path.
 */
static bool remote_done(const struct remote *r)
{
	if (r->controlled || r->live)
		return false;
	for (unsigned i = 0; i < r->devs->len; i++) {
		if (!((struct remote_dev *)g_ptr_array_index(r->devs, i))->inherited)
			return false;
	}
	return true;
}

static void remote_channel_closed(void *opaque, struct channel *ch)
{
	struct remote *r = opaque;

	g_info("%s: connection closed", channel_id(ch));
	for (unsigned i = 0; i < r->devs->len; i++) {
		struct remote_dev *d = g_ptr_array_index(r->devs, i);

		if (d->ch == ch && !d->closed) {
			d->closed = true;
			r->live--;
		}
	}
	if (remote_done(r)) {
		g_info("every device channel has closed; exiting");
		r->quit = true;
	}
}

static void remote_dev_free(gpointer p)
{
	struct remote_dev *d = p;

	channel_destroy(d->ch);
	remote_irq_destroy(d->irq);
	g_free(d->type);
	g_free(d);
}

static struct remote_dev *remote_find(const struct remote *r, const char *id, unsigned *index)
{
	for (unsigned i = 0; i < r->devs->len; i++) {
		struct remote_dev *d = g_ptr_array_index(r->devs, i);

		if (!strcmp(channel_id(d->ch), id)) {
			if (index)
				*index = i;
			return d;
		}
	}
	return NULL;
}

static gboolean remote_on_signal(gpointer opaque)
{
	struct remote *r = opaque;

	g_info("signal received; exiting");
	r->quit = true;
	return G_SOURCE_CONTINUE;
}

/* The device and its interrupts, before it has a channel. */
static int remote_new_dev(const struct remote_devopt *o, struct remote_irq **irq,
			  struct dev **dev, GError **err)
{
	struct dev_env env = { .mem = NULL }; /* each connection maps its own guest RAM */
	g_autofree char *msg = NULL;
	int ret;

	/* The interrupts exist before the device, which gets them in its env. */
	ret = remote_irq_create(o->id, irq);
	if (ret < 0) {
		g_set_error(err, REMOTE_ERROR, 0, "%s: out of memory for its interrupts", o->id);
		return ret;
	}
	env.irq = remote_irq_get(*irq);
	ret = dev_create(o->type, o->id, &env, o->props, dev, &msg);
	if (ret < 0)
		g_set_error(err, REMOTE_ERROR, 0, "%s", msg);
	else if ((ret = remote_irq_bind(*irq, &(*dev)->cfg)) < 0) {
		g_set_error(err, REMOTE_ERROR, 0, "%s: out of memory for its interrupts", o->id);
		dev_destroy(*dev);
	}
	if (ret < 0)
		g_clear_pointer(irq, remote_irq_destroy);
	return ret;
}

int remote_device_add(struct remote *r, const struct remote_devopt *o, GError **err)
{
	struct remote_dev *d;
	struct dev *dev;
	int ret;

	if (remote_find(r, o->id, NULL)) {
		g_set_error(err, REMOTE_ERROR, 0, "Duplicate ID '%s' for device; give each "
			    "device its own id", o->id);
		if (o->fd >= 0)
			close(o->fd);
		return -EEXIST;
	}
	d = g_new0(struct remote_dev, 1);
	ret = remote_new_dev(o, &d->irq, &dev, err);
	if (ret < 0 && o->fd >= 0)
		close(o->fd);
	if (ret == 0) {
		ret = channel_create(o, dev, remote_channel_closed, r, &d->ch, err);
		if (ret < 0) /* the channel destroyed the device and closed o->fd */
			g_clear_pointer(&d->irq, remote_irq_destroy);
	}
	if (ret < 0) {
		g_free(d);
		return ret;
	}
	d->type = g_strdup(o->type);
	d->inherited = o->fd >= 0;
	g_ptr_array_add(r->devs, d);
	if (d->inherited)
		r->live++;
	g_info("%s: %s created", o->id, o->type);
	return 0;
}

int remote_device_del(struct remote *r, const char *id)
{
	struct remote_dev *d;
	unsigned i;

	d = remote_find(r, id, &i);
	if (!d)
		return -ENOENT;
	if (d->inherited && !d->closed)
		r->live--;
	g_ptr_array_remove_index(r->devs, i); /* closes its channel, then its interrupts */
	g_info("%s: deleted", id);
	if (remote_done(r))
		r->quit = true;
	return 0;
}

json_object *remote_devices_json(const struct remote *r)
{
	json_object *list = json_object_new_array();

	for (unsigned i = 0; i < r->devs->len; i++) {
		const struct remote_dev *d = g_ptr_array_index(r->devs, i);
		json_object *o = json_object_new_object();
		const char *state = !d->inherited ? "listening" : d->closed ? "closed" : "connected";

		json_object_object_add(o, "id", json_object_new_string(channel_id(d->ch)));
		json_object_object_add(o, "type", json_object_new_string(d->type));
		json_object_object_add(o, "channel", json_object_new_string(state));
		json_object_array_add(list, o);
	}
	return list;
}

void remote_set_controlled(struct remote *r, bool controlled)
{
	r->controlled = controlled;
}

void remote_stop(struct remote *r)
{
	r->quit = true;
	g_main_context_wakeup(r->ctx);
}

int remote_create(const struct remote_devopt *opts, unsigned nr, struct remote **out,
		  GError **err)
{
	struct remote *r = g_new0(struct remote, 1);
	int ret;

	signal(SIGPIPE, SIG_IGN); /* a vanished peer is an error return, not a signal */
	r->ctx = g_main_context_ref(g_main_context_default());
	r->devs = g_ptr_array_new_with_free_func(remote_dev_free);
	for (unsigned i = 0; i < nr; i++) {
		ret = remote_device_add(r, &opts[i], err);
		if (ret < 0) {
			remote_destroy(r);
			return ret;
		}
	}
	*out = r;
	return 0;
}

/*
 * The first unix signal source starts GLib's worker thread: only after the sandbox
 * (sandbox_enter() must fork and unshare while single-threaded).
 */
void remote_watch_signals(struct remote *r)
{
	if (!r->sig_src[0]) {
		r->sig_src[0] = g_unix_signal_add(SIGTERM, remote_on_signal, r);
		r->sig_src[1] = g_unix_signal_add(SIGINT, remote_on_signal, r);
	}
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
	remote_watch_signals(r);
	while (!r->quit && !remote_done(r)) {
		bool served = false;

		for (unsigned i = 0; i < r->devs->len; i++)
			served |= channel_poll(((struct remote_dev *)g_ptr_array_index(r->devs, i))->ch);
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
	g_ptr_array_free(r->devs, TRUE);
	for (unsigned i = 0; i < G_N_ELEMENTS(r->sig_src); i++)
		if (r->sig_src[i])
			g_source_remove(r->sig_src[i]);
	g_main_context_unref(r->ctx);
	g_free(r);
}
