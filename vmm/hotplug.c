// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hotplug: the policy of PCIe native hot-plug (PCIe Base Spec 3.0, 6.7) on the root
 * ports of rootport.c while the vCPUs run.  Adding connects a pci-proxy-dev to its
 * remote (proxy_connect), wires its interrupts and doorbells, and plugs it into an
 * empty slot, which raises Presence Detect Changed; the guest then powers the slot on
 * and the link comes up.  Removing presses the slot's attention button and waits
 * until the guest turns the slot's power off, or until the port's unplug timeout
 * passes (then the device is taken out from under the guest: a surprise removal);
 * either way the function is destroyed, which closes its channel so that the remote
 * tears its device down, and DEVICE_DELETED is sent.  A guest that powers
 * an occupied slot off on its own gets the same removal.
 *
 * It is not the QMP command layer (hotplug_qmp.c) and not the slot model (rootport.c).
 * Everything here runs on the thread of one GMainContext, the one the first call came
 * from (the monitor's); the only other-thread entry is the root ports' power-off hook,
 * called on a vCPU thread, which hands over to that context.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "protocol/protocol.h"
#include "vmm/vmm.h"

#define HOTPLUG_HANDSHAKE_TIMEOUT_S 5 /* a remote that stops answering fails device_add */

struct hotplug_port {
	struct hotplug *hp;
	struct rootport *rp;
	GSource *timeout; /* device_del waiting for the guest, else NULL */
	char *rid;	  /* the class process that made the plugged device, or NULL */
	uint64_t bar_size[PCIFN_NUM_BARS]; /* the plugged device's, for query-pci */
};

struct hotplug {
	struct machine *m;
	GMainContext *ctx; /* the monitor's, from the first call on; NULL before */
	struct hotplug_port port[PCIHOST_SLOTS];
};

static void hotplug_power_off(void *ctx, struct rootport *rp);

int hotplug_create(struct machine *m, struct hotplug **out)
{
	struct hotplug *hp = g_new0(struct hotplug, 1);

	hp->m = m;
	for (unsigned i = 0; i < m->nr_rp; i++) {
		hp->port[i] = (struct hotplug_port){.hp = hp, .rp = m->rp[i]};
		rootport_set_hook(m->rp[i], hotplug_power_off, &hp->port[i]);
	}
	*out = hp;
	return 0;
}

void hotplug_destroy(struct hotplug *hp)
{
	if (!hp)
		return;
	for (unsigned i = 0; i < hp->m->nr_rp; i++) {
		rootport_set_hook(hp->port[i].rp, NULL, NULL);
		if (hp->port[i].timeout) {
			g_source_destroy(hp->port[i].timeout);
			g_source_unref(hp->port[i].timeout);
		}
		g_free(hp->port[i].rid);
	}
	if (hp->ctx)
		g_main_context_unref(hp->ctx);
	g_free(hp);
}

static void hotplug_bind(struct hotplug *hp)
{
	if (!hp->ctx)
		hp->ctx = g_main_context_ref_thread_default();
}

static struct hotplug_port *hotplug_find_child(struct hotplug *hp, const char *id)
{
	for (unsigned i = 0; i < hp->m->nr_rp; i++) {
		const char *child = rootport_child(hp->port[i].rp, NULL);

		if (child && strcmp(child, id) == 0)
			return &hp->port[i];
	}
	return NULL;
}

/* A device id in use: a bus-0 function, a root port, or a hot-added device. */
static bool hotplug_id_used(struct hotplug *hp, const char *id)
{
	for (unsigned i = 0; i < hp->m->nr_fn; i++) {
		if (strcmp(pcifn_id(hp->m->fn[i]), id) == 0)
			return true;
	}
	for (unsigned i = 0; i < hp->m->nr_rp; i++) {
		if (strcmp(rootport_id(hp->m->rp[i]), id) == 0)
			return true;
	}
	return hotplug_find_child(hp, id) != NULL;
}

/* The port for bus= (NULL: the first empty one); errors as device_add reports them. */
static struct hotplug_port *hotplug_pick_port(struct hotplug *hp, const char *bus, GError **err)
{
	for (unsigned i = 0; i < hp->m->nr_rp; i++) {
		struct hotplug_port *p = &hp->port[i];
		const char *child = rootport_child(p->rp, NULL);

		if (bus && strcmp(bus, rootport_id(p->rp)) != 0)
			continue;
		if (!child)
			return p;
		if (bus) {
			qmp_error_set(err, -EBUSY, QMP_ERROR_GENERIC,
				      "Bus '%s' is full: its slot holds '%s'; device_del it first "
				      "or give another bus=",
				      bus, child);
			return NULL;
		}
	}
	if (bus)
		qmp_error_set(err, -ENODEV, QMP_ERROR_DEVICE_NOT_FOUND,
			      "Bus '%s' not found; bus= names a -device %s", bus, ROOTPORT_TYPE);
	else
		qmp_error_set(err, -ENOSPC, QMP_ERROR_GENERIC,
			      "No free hot-plug slot: every -device %s is occupied (%u); start "
			      "mpvmm with more, or device_del one",
			      ROOTPORT_TYPE, hp->m->nr_rp);
	return NULL;
}

/* A handshake run on its own thread, so that the monitor can give up on it. */
struct hotplug_conn {
	char *id;
	int sock;
	const struct gmem *mem;
	struct pcifn *fn;
	GError *err;
	int ret;
	GMutex lock;
	GCond cond;
	bool done;
};

static gpointer hotplug_conn_thread(gpointer data)
{
	struct hotplug_conn *c = data;

	c->ret = proxy_connect(c->id, c->sock, c->mem, &c->fn, &c->err); /* owns sock */
	g_mutex_lock(&c->lock);
	c->done = true;
	g_cond_signal(&c->cond);
	g_mutex_unlock(&c->lock);
	return NULL;
}

/*
 * proxy_connect() with a bound: a remote silent for HOTPLUG_HANDSHAKE_TIMEOUT_S gets its
 * socket shut down (through a duplicate: shutdown acts on the socket, whoever holds
 * it), which ends the handshake's blocking waits with an error.  *timed_out tells.
 */
static int hotplug_connect_bounded(struct hotplug_conn *c, bool *timed_out)
{
	gint64 end = g_get_monotonic_time() + HOTPLUG_HANDSHAKE_TIMEOUT_S * G_USEC_PER_SEC;
	int watch = fcntl(c->sock, F_DUPFD_CLOEXEC, 3);
	GThread *t;

	*timed_out = false;
	if (watch < 0) {
		close(c->sock);
		return -errno;
	}
	g_mutex_init(&c->lock);
	g_cond_init(&c->cond);
	t = g_thread_new("hotplug-connect", hotplug_conn_thread, c);
	g_mutex_lock(&c->lock);
	while (!c->done && g_cond_wait_until(&c->cond, &c->lock, end))
		;
	if (!c->done) {
		*timed_out = true;
		shutdown(watch, SHUT_RDWR);
	}
	g_mutex_unlock(&c->lock);
	g_thread_join(t);
	close(watch);
	if (*timed_out && c->ret == 0) { /* finished just as its socket was shut down */
		pcifn_destroy(c->fn);
		c->ret = -ETIMEDOUT;
	}
	g_mutex_clear(&c->lock);
	g_cond_clear(&c->cond);
	return c->ret;
}

/* The function, its interrupts wired (INTx: the port's pins, 7.3.1) and doorbells. */
static int hotplug_connect(struct hotplug_port *p, const char *id, int sock, struct pcifn **out,
			   GError **err)
{
	struct machine *m = p->hp->m;
	struct hotplug_conn c = {.id = g_strdup(id), .sock = sock, .mem = m->mem};
	bool timed_out;
	unsigned gsi[4];
	int ret;

	ret = hotplug_connect_bounded(&c, &timed_out);
	if (ret < 0 && timed_out)
		qmp_error_set(err, ret, QMP_ERROR_GENERIC,
			      "device_add id=%s: the device did not connect: it did not answer "
			      "the handshake within %d s; is its process stopped or hung?",
			      id, HOTPLUG_HANDSHAKE_TIMEOUT_S);
	else if (ret < 0)
		qmp_error_set(err, ret, QMP_ERROR_GENERIC,
			      "device_add id=%s: the device did not connect: %s", id,
			      c.err ? c.err->message : g_strerror(-ret));
	g_clear_error(&c.err);
	g_free(c.id);
	if (ret < 0)
		return ret;
	*out = c.fn;
	vmirq_intx_gsi(rootport_slot(p->rp), gsi);
	ret = pcifn_irq_setup(*out, &vmirq_ops, m->irq, gsi);
	if (ret < 0) {
		pcifn_destroy(*out);
		return qmp_error_set(err, ret, QMP_ERROR_GENERIC,
				     "device_add id=%s: the device's interrupt capabilities are "
				     "malformed (%s); it cannot be plugged",
				     id, g_strerror(-ret));
	}
	ioeventfd_attach(m, *out);
	return 0;
}

int hotplug_check(struct hotplug *hp, const char *bus, const char *id, GError **err)
{
	if (hotplug_id_used(hp, id))
		return qmp_error_set(err, -EEXIST, QMP_ERROR_GENERIC,
				     "Duplicate device ID '%s'; choose another id", id);
	return hotplug_pick_port(hp, bus, err) ? 0 : -ENODEV;
}

int hotplug_add(struct hotplug *hp, const char *bus, const char *id, const char *rid, int sock,
		GError **err)
{
	struct hotplug_port *p;
	struct pcifn *fn;
	int ret;

	hotplug_bind(hp);
	if (hotplug_id_used(hp, id)) {
		close(sock);
		return qmp_error_set(err, -EEXIST, QMP_ERROR_GENERIC,
				     "Duplicate device ID '%s'; choose another id", id);
	}
	p = hotplug_pick_port(hp, bus, err);
	if (!p) {
		close(sock);
		return -ENODEV;
	}
	ret = hotplug_connect(p, id, sock, &fn, err);
	if (ret < 0)
		return ret;
	pcifn_bar_sizes(fn, p->bar_size);
	ret = rootport_plug(p->rp, fn); /* the port is empty: checked on this thread */
	if (ret < 0)
		return qmp_error_set(err, ret, QMP_ERROR_GENERIC, "device_add id=%s: %s", id,
				     g_strerror(-ret));
	p->rid = g_strdup(rid);
	return 0;
}

const char *hotplug_child_info(struct hotplug *hp, struct rootport *rp,
			       uint64_t size[PCIFN_NUM_BARS])
{
	for (unsigned i = 0; i < hp->m->nr_rp; i++) {
		const char *id;

		if (hp->port[i].rp != rp)
			continue;
		id = rootport_child(rp, NULL);
		if (id) {
			memcpy(size, hp->port[i].bar_size, sizeof(hp->port[i].bar_size));
			return id;
		}
	}
	memset(size, 0, PCIFN_NUM_BARS * sizeof(size[0]));
	return NULL;
}

/* A connected socket to a listening remote at path. */
int hotplug_dial(const char *path, int *sock, GError **err)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path))
		return qmp_error_set(err, -ENAMETOOLONG, QMP_ERROR_GENERIC,
				     "socket path '%s' is longer than %zu bytes; use a shorter "
				     "path",
				     path, sizeof(sun.sun_path) - 1);
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return qmp_error_set(err, -errno, QMP_ERROR_GENERIC, "socket: %s",
				     g_strerror(errno));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int e = errno;

		close(fd);
		return qmp_error_set(err, -e, QMP_ERROR_GENERIC,
				     "cannot connect to '%s': %s; is the device's process "
				     "listening there?",
				     path, g_strerror(e));
	}
	*sock = fd;
	return 0;
}

/* Take the device out of p's slot and report it gone. */
static void hotplug_finish(struct hotplug_port *p)
{
	g_autofree char *id = g_strdup(rootport_child(p->rp, NULL));
	g_autofree char *path = NULL;
	json_object *data;

	if (p->timeout) {
		g_source_destroy(p->timeout);
		g_source_unref(p->timeout);
		p->timeout = NULL;
	}
	if (!id)
		return;		/* already gone (a power-off and the timeout raced) */
	rootport_unplug(p->rp); /* resets and destroys it: the remote sees the channel close */
	if (p->rid) {		/* and its class process forgets it */
		g_autoptr(GError) e = NULL;

		if (rproc_device_del(p->hp->m, p->rid, id, &e) < 0)
			g_warning("%s: remote-process '%s' did not delete it: %s", id, p->rid,
				  e ? e->message : "unknown error");
		g_clear_pointer(&p->rid, g_free);
	}
	g_info("%s: deleted", id);
	data = json_object_new_object();
	json_object_object_add(data, "device", json_object_new_string(id));
	path = g_strdup_printf("/machine/peripheral/%s", id); /* QEMU's QOM path */
	json_object_object_add(data, "path", json_object_new_string(path));
	monitor_emit(p->hp->m, "DEVICE_DELETED", data);
}

static gboolean hotplug_timeout(gpointer data)
{
	struct hotplug_port *p = data;

	g_warning("%s: the guest did not power slot '%s' off within %u ms of the attention "
		  "button; removing the device anyway",
		  rootport_child(p->rp, NULL), rootport_id(p->rp),
		  rootport_unplug_timeout_ms(p->rp));
	hotplug_finish(p);
	return G_SOURCE_REMOVE;
}

static gboolean hotplug_powered_off(gpointer data)
{
	struct hotplug_port *p = data;
	bool powered;

	/* Still off and still occupied: the guest released it (or powered it off itself). */
	if (rootport_child(p->rp, &powered) && !powered)
		hotplug_finish(p);
	return G_SOURCE_REMOVE;
}

/* vCPU thread: over to the monitor's context, where ports change. */
static void hotplug_power_off(void *ctx, struct rootport *rp)
{
	struct hotplug_port *p = ctx;

	(void)rp;
	GSource *idle;

	if (!p->hp->ctx)
		return;
	/* Not g_main_context_invoke(): it may run the function here, on the vCPU thread. */
	idle = g_idle_source_new();
	g_source_set_callback(idle, hotplug_powered_off, p, NULL);
	g_source_attach(idle, p->hp->ctx);
	g_source_unref(idle);
}

/* The reply to device_del of a device that is not a hot-plugged one. */
static int hotplug_not_found(struct hotplug *hp, const char *id, GError **err)
{
	for (unsigned i = 0; i < hp->m->nr_fn; i++) {
		if (strcmp(pcifn_id(hp->m->fn[i]), id) == 0)
			return qmp_error_set(err, -EBUSY, QMP_ERROR_GENERIC,
					     "Device '%s' is on bus 0, which does not support "
					     "hot-plug; only devices added with device_add can be "
					     "deleted",
					     id);
	}
	for (unsigned i = 0; i < hp->m->nr_rp; i++) {
		if (strcmp(rootport_id(hp->m->rp[i]), id) == 0)
			return qmp_error_set(err, -EBUSY, QMP_ERROR_GENERIC,
					     "Device '%s' is a %s given at start; root ports "
					     "cannot be deleted",
					     id, ROOTPORT_TYPE);
	}
	return qmp_error_set(err, -ENODEV, QMP_ERROR_DEVICE_NOT_FOUND, "Device '%s' not found", id);
}

int hotplug_del(struct hotplug *hp, const char *id, GError **err)
{
	struct hotplug_port *p;
	bool powered;

	hotplug_bind(hp);
	p = hotplug_find_child(hp, id);
	if (!p)
		return hotplug_not_found(hp, id, err);
	if (p->timeout)
		return qmp_error_set(err, -EINPROGRESS, QMP_ERROR_GENERIC,
				     "Device '%s' is already being deleted: waiting for the guest "
				     "to power slot '%s' off",
				     id, rootport_id(p->rp));
	rootport_child(p->rp, &powered);
	if (!powered) { /* the guest is not using it: nothing to wait for (as QEMU) */
		hotplug_finish(p);
		return 0;
	}
	p->timeout = g_timeout_source_new(rootport_unplug_timeout_ms(p->rp));
	g_source_set_callback(p->timeout, hotplug_timeout, p, NULL);
	g_source_attach(p->timeout, hp->ctx);
	rootport_press_button(p->rp);
	g_info("%s: attention button of '%s' pressed", id, rootport_id(p->rp));
	return 0;
}
