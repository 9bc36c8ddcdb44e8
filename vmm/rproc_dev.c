// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rproc_dev: a device hosted by a class process mpvmm spawned (-device
 * pci-proxy-dev,rid=..., or device_add with rid=).  mpvmm makes the device's
 * socketpair, passes one end and the device's backend to the process with getfd on
 * its control channel, then sends the device's description as JSON in device_add; the
 * process never opens a path.  Wire format (docs/remote.md):
 *   getfd {"fdname": "ID.sock"} + fd;  getfd {"fdname": "ID.drive"} + fd (virtio-blk);
 *   device_add {"driver": TYPE, "id": ID, "socket": "ID.sock", "drive": "ID.drive",
 *               ...the device's other properties}
 * It does not connect the proxy (machine.c, hotplug) or spawn processes (rproc.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "protocol/protocol.h"
#include "vmm/rproc_priv.h"

#define RPROC_ENTROPY "/dev/urandom"

/* A backend fd to pass: fd, and whether we own it (close after passing). */
struct rproc_backend {
	const char *key; /* "drive" or "rng", NULL: none */
	int fd;
	bool owned;
};

/* Properties that belong to pci-proxy-dev itself, not to the remote device. */
static bool rproc_proxy_key(const char *key)
{
	static const char *const keys[] = {"driver", "id",  "rid", "remote-driver", "bus", "addr",
					   "socket", "dma", NULL};

	return g_strv_contains(keys, key);
}

/* virtio-blk's drive: an fd named in fdsrc (taken), or the -blockdev's fd=N (borrowed). */
static int rproc_drive(json_object *props, struct qmp_session *fdsrc, const char *id,
		       struct rproc_backend *b, GError **err)
{
	json_object *v;
	guint64 n;

	b->key = "drive";
	if (fdsrc) {
		const char *name = json_object_object_get_ex(props, "drive", &v) &&
						   json_object_is_type(v, json_type_string)
					   ? json_object_get_string(v)
					   : NULL;

		if (!name)
			return qmp_error_set(err, -EINVAL, QMP_ERROR_GENERIC,
					     "virtio-blk needs drive=FDNAME, an open image "
					     "passed first with getfd");
		b->fd = qmp_session_take_fd(fdsrc, name);
		b->owned = true;
		if (b->fd < 0)
			return qmp_error_set(err, -EBADF, QMP_ERROR_GENERIC,
					     "drive: file descriptor named '%s' not found; "
					     "pass it with getfd",
					     name);
		return 0;
	}
	/* The command line: localdev_backends() turned drive=NODE into the node's fd. */
	if (!json_object_object_get_ex(props, "fd", &v) ||
	    !g_ascii_string_to_unsigned(json_object_get_string(v), 10, 0, G_MAXINT, &n, NULL)) {
		g_set_error(err, VMM_ERROR, EINVAL,
			    "virtio-blk needs drive=NODE and a -blockdev "
			    "driver=file,node-name=NODE,filename=PATH");
		return -EINVAL;
	}
	b->fd = (int)n;
	return 0;
}

static int rproc_backend(const char *driver, json_object *props, struct qmp_session *fdsrc,
			 const char *id, struct rproc_backend *b, GError **err)
{
	*b = (struct rproc_backend){.fd = -1};
	if (!strcmp(driver, "virtio-blk"))
		return rproc_drive(props, fdsrc, id, b, err);
	if (json_object_object_get_ex(props, "fd", NULL)) {
		g_set_error(err, VMM_ERROR, EINVAL,
			    "fd= is not a property of %s; mpvmm passes "
			    "a device's backend itself",
			    driver);
		return -EINVAL;
	}
	if (strcmp(driver, "virtio-rng") != 0)
		return 0;
	b->key = "rng";
	b->owned = true;
	b->fd = open(RPROC_ENTROPY, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (b->fd < 0) {
		int e = errno;

		g_set_error(err, VMM_ERROR, e, "cannot open %s: %s", RPROC_ENTROPY, g_strerror(e));
		return -e;
	}
	return 0;
}

/* device_add's arguments: the driver, id, fd names, and the device's own properties. */
static json_object *rproc_add_args(const char *driver, const char *id, json_object *props,
				   const struct rproc_backend *b)
{
	json_object *a = json_object_new_object();
	g_autofree char *sock = g_strdup_printf("%s.sock", id);

	json_object_object_add(a, "driver", json_object_new_string(driver));
	json_object_object_add(a, "id", json_object_new_string(id));
	json_object_object_add(a, "socket", json_object_new_string(sock));
	json_object_object_foreach(props, key, v)
	{
		if (rproc_proxy_key(key) || !strcmp(key, "fd") || (b->key && !strcmp(key, b->key)))
			continue;
		json_object_object_add(a, key, json_object_get(v));
	}
	if (b->key) {
		g_autofree char *name = g_strdup_printf("%s.%s", id, b->key);

		json_object_object_add(a, b->key, json_object_new_string(name));
	}
	return a;
}

static int rproc_getfd(struct rproc *p, const char *id, const char *suffix, int fd, GError **err)
{
	json_object *a = json_object_new_object();
	g_autofree char *name = g_strdup_printf("%s.%s", id, suffix);

	json_object_object_add(a, "fdname", json_object_new_string(name));
	return rqmp_call(p->qmp, "getfd", a, fd, NULL, err);
}

/* Pass the remote's end and the backend, then device_add (lock held). */
static int rproc_send_device(struct rproc *p, const char *driver, const char *id,
			     json_object *props, const struct rproc_backend *b, int remote_end,
			     GError **err)
{
	int ret = rproc_getfd(p, id, "sock", remote_end, err);

	if (ret == 0 && b->key)
		ret = rproc_getfd(p, id, b->key, b->fd, err);
	if (ret == 0)
		ret = rqmp_call(p->qmp, "device_add", rproc_add_args(driver, id, props, b), -1,
				NULL, err);
	/* device_add consumed the names it used; getfd's that got no further are closed */
	if (ret < 0 && !rqmp_broken(p->qmp)) {
		json_object *a = json_object_new_object();
		g_autofree char *name = g_strdup_printf("%s.sock", id);

		json_object_object_add(a, "fdname", json_object_new_string(name));
		rqmp_call(p->qmp, "closefd", a, -1, NULL, NULL);
	}
	return ret;
}

/* The process to host a device: it exists and runs (lock held). */
static struct rproc *rproc_host(struct rprocs *ps, const char *rid, const char *id, GError **err)
{
	struct rproc *p = rproc_find(ps, rid);
	g_autofree char *how = NULL;

	if (!p) {
		g_set_error(err, VMM_ERROR, ENOENT,
			    "%s: rid=%s names no remote-process; create "
			    "it with -object remote-process,id=%s,class=... or object-add",
			    id, rid, rid);
		return NULL;
	}
	if (p->health == RPROC_RUNNING && p->qmp && !rqmp_broken(p->qmp))
		return p;
	how = rproc_health_text(p);
	g_set_error(err, VMM_ERROR, ESRCH,
		    "%s: remote-process %s (pid %d) %s; it cannot host "
		    "devices any more (object-del it and object-add a new one)",
		    id, rid, p->pid, p->health == RPROC_RUNNING ? "lost its control channel" : how);
	return NULL;
}

static int rproc_add_locked(struct rproc *p, const char *id, json_object *props,
			    struct qmp_session *fdsrc, int *sock_out, GError **err)
{
	json_object *v;
	const char *driver = json_object_object_get_ex(props, "remote-driver", &v) &&
					     json_object_is_type(v, json_type_string)
				     ? json_object_get_string(v)
				     : NULL;
	struct rproc_backend b;
	int sv[2], ret;

	if (!driver) {
		g_set_error(err, VMM_ERROR, EINVAL,
			    "missing remote-driver; add "
			    "remote-driver=TYPE, the device type in remote-process %s",
			    p->id);
		return -EINVAL;
	}
	ret = rproc_backend(driver, props, fdsrc, id, &b, err);
	if (ret < 0)
		return ret;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		ret = -errno;
		g_set_error(err, VMM_ERROR, -ret, "socketpair: %s", g_strerror(-ret));
	} else {
		ret = rproc_send_device(p, driver, id, props, &b, sv[1], err);
		close(sv[1]);
		if (ret < 0)
			close(sv[0]);
		else
			*sock_out = sv[0];
	}
	if (b.owned && b.fd >= 0)
		close(b.fd);
	return ret;
}

int rproc_device_add(struct machine *m, const char *rid, const char *id, json_object *props,
		     struct qmp_session *fdsrc, int *sock_out, GError **err)
{
	struct rprocs *ps = m->rprocs;
	GError *why = NULL;
	struct rproc *p;
	int ret;

	g_mutex_lock(&ps->lock);
	p = rproc_host(ps, rid, id, &why);
	if (!p) {
		g_mutex_unlock(&ps->lock);
		ret = -why->code;
		g_propagate_error(err, why);
		return ret;
	}
	ret = rproc_add_locked(p, id, props, fdsrc, sock_out, &why);
	if (ret == 0)
		g_ptr_array_add(p->devices, g_strdup(id));
	g_mutex_unlock(&ps->lock);
	if (ret < 0) {
		g_set_error(err, why->domain, why->code, "remote-process %s: device_add %s: %s",
			    rid, id, why->message);
		g_error_free(why);
	}
	return ret;
}

int rproc_device_del(struct machine *m, const char *rid, const char *id, GError **err)
{
	struct rprocs *ps = m->rprocs;
	GError *why = NULL;
	struct rproc *p;
	json_object *a;
	unsigned i;
	int ret = 0;

	g_mutex_lock(&ps->lock);
	p = rproc_find(ps, rid);
	if (!p || !g_ptr_array_find_with_equal_func(p->devices, id, g_str_equal, &i)) {
		g_mutex_unlock(&ps->lock);
		g_set_error(err, VMM_ERROR, ENOENT, "%s: remote-process '%s' %s", id, rid,
			    p ? "hosts no such device" : "does not exist");
		return -ENOENT;
	}
	if (p->health == RPROC_RUNNING && p->qmp && !rqmp_broken(p->qmp)) {
		a = json_object_new_object();
		json_object_object_add(a, "id", json_object_new_string(id));
		ret = rqmp_call(p->qmp, "device_del", a, -1, NULL, &why);
	}
	if (ret == -EREMOTEIO) { /* the process refused: the device is still there */
		g_set_error(err, VMM_ERROR, EREMOTEIO, "remote-process %s: device_del %s: %s", rid,
			    id, why->message);
	} else {
		if (ret < 0) /* the process or its channel is gone, and the device with it */
			g_warning("remote-process %s: device_del %s: %s", rid, id, why->message);
		g_ptr_array_remove_index(p->devices, i);
		ret = 0;
	}
	g_mutex_unlock(&ps->lock);
	g_clear_error(&why);
	return ret;
}
