// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hotplug_qmp: the QMP commands device_add and device_del (docs/qmp.md, "Hot-plug"),
 * QEMU's argument names.  device_add takes driver=pci-proxy-dev, id, an optional
 * bus (a pcie-root-port id) and where the device is: socket=FDNAME (a name given with
 * getfd on this monitor) or socket=PATH (a remote listening there), or rid=PROCESS
 * with remote-driver=TYPE and the device's own properties, forwarded to that class
 * process.  It checks the arguments and finds the channel; hotplug.c does the plugging.
 * Runs on the monitor thread.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "protocol/protocol.h"
#include "vmm/vmm.h"

/* The properties device_add knows itself; with rid= every other one is the device's. */
static const char *const hp_own_props[] = {"driver",	    "id", "bus", "socket", "rid",
					   "remote-driver", NULL};

static bool hp_own(const char *key)
{
	for (unsigned i = 0; hp_own_props[i]; i++) {
		if (strcmp(key, hp_own_props[i]) == 0)
			return true;
	}
	return false;
}

static const char *hp_str(json_object *args, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(args, key, &v) ? json_object_get_string(v) : NULL;
}

/* A getfd'd fd must be a connected AF_UNIX stream socket (vfio-user). */
static int hp_check_sock(int fd, const char *name, GError **err)
{
	int domain = 0, type = 0;
	socklen_t len = sizeof(int);
	struct stat st;

	if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 && domain == AF_UNIX &&
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM)
		return 0;
	close(fd);
	return qmp_error_set(err, -ENOTSOCK, QMP_ERROR_GENERIC,
			     "socket=%s: the fd given with getfd is not an AF_UNIX stream "
			     "socket; pass one end of socketpair(AF_UNIX, SOCK_STREAM)",
			     name);
}

/* socket=FDNAME when this session holds that getfd name, else socket=PATH. */
static int hp_socket(struct qmp_session *s, const char *val, int *sock, GError **err)
{
	int fd;

	if (!val || !*val)
		return qmp_error_set(err, -EINVAL, QMP_ERROR_GENERIC,
				     "socket is empty; give a getfd name or a socket path");
	fd = qmp_session_take_fd(s, val);
	if (fd >= 0) {
		*sock = fd;
		return hp_check_sock(fd, val, err);
	}
	return hotplug_dial(val, sock, err);
}

/*
 * The rid= form: class process rid creates the device from remote-driver and the other
 * properties (rproc.c) and hands us mpvmm's end of its new channel.
 */
static int hp_rid(struct machine *m, struct qmp_session *s, json_object *args, const char *id,
		  int *sock, GError **err)
{
	const char *rid = hp_str(args, "rid");
	json_object *props = json_object_new_object();
	g_autoptr(GError) why = NULL;
	int ret;

	json_object_object_foreach(args, key, val)
	{
		if (strcmp(key, "remote-driver") == 0 || !hp_own(key))
			json_object_object_add(props, key, json_object_get(val));
	}
	ret = rproc_device_add(m, rid, id, props, s, sock, &why);
	json_object_put(props);
	if (ret == -ENOENT) /* no such process (rproc.c says which) */
		return qmp_error_set(err, ret, QMP_ERROR_DEVICE_NOT_FOUND, "%s",
				     why ? why->message : "no such remote-process");
	if (ret < 0)
		return qmp_error_set(err, ret, QMP_ERROR_GENERIC, "%s",
				     why ? why->message : g_strerror(-ret));
	return 0;
}

/* Which of socket= and rid= was given, and nothing that belongs to the other. */
static int hp_check_form(json_object *args, const char *id, GError **err)
{
	bool sock = hp_str(args, "socket"), rid = hp_str(args, "rid");

	if (sock == rid)
		return qmp_error_set(err, -EINVAL, QMP_ERROR_GENERIC,
				     "device_add id=%s: give exactly one of socket=FDNAME|PATH "
				     "and rid=PROCESS",
				     id);
	if (rid && !hp_str(args, "remote-driver"))
		return qmp_error_set(err, -EINVAL, QMP_ERROR_GENERIC,
				     "device_add id=%s: rid= needs remote-driver=TYPE, the device "
				     "type the class process creates",
				     id);
	json_object_object_foreach(args, key, val)
	{
		if (!json_object_is_type(val, json_type_string) && hp_own(key))
			return qmp_error_set(err, -EINVAL, QMP_ERROR_GENERIC,
					     "Invalid parameter type for '%s', expected: string",
					     key);
		if (sock && (!hp_own(key) || strcmp(key, "remote-driver") == 0))
			return qmp_error_set(err, -EINVAL, QMP_ERROR_GENERIC,
					     "Parameter '%s' is unexpected: with socket= the "
					     "device's properties are set where it was created",
					     key);
	}
	return 0;
}

static int hp_device_add(void *opaque, struct qmp_session *s, json_object *args, json_object **ret,
			 GError **err)
{
	struct machine *m = opaque;
	const char *driver = hp_str(args, "driver"), *id = hp_str(args, "id");
	const char *bus = hp_str(args, "bus"), *rid;
	int sock, r;

	(void)ret;
	if (strcmp(driver, DEVOPT_PROXY_TYPE) != 0)
		return qmp_error_set(err, -EINVAL, QMP_ERROR_GENERIC,
				     "'%s' is not a valid device model name for device_add; "
				     "mpvmm hot-plugs driver=%s",
				     driver, DEVOPT_PROXY_TYPE);
	if (!devopt_id_valid(id))
		return qmp_error_set(err, -EINVAL, QMP_ERROR_GENERIC,
				     "Invalid id '%s'; an id starts with a letter and has at most "
				     "%u letters, digits, '-', '.' or '_'",
				     id, DEVOPT_ID_MAX);
	r = hp_check_form(args, id, err);
	if (r == 0)
		r = hotplug_check(m->hotplug, bus, id, err);
	if (r < 0)
		return r;
	rid = hp_str(args, "rid");
	if (rid)
		r = hp_rid(m, s, args, id, &sock, err);
	else
		r = hp_socket(s, hp_str(args, "socket"), &sock, err);
	if (r < 0)
		return r;
	r = hotplug_add(m->hotplug, bus, id, rid, sock, err);
	if (r < 0 && rid && rproc_device_del(m, rid, id, NULL) < 0) /* undo it there too */
		g_warning("%s: remote-process '%s' keeps the device of a failed device_add", id,
			  rid);
	return r;
}

static int hp_device_del(void *opaque, struct qmp_session *s, json_object *args, json_object **ret,
			 GError **err)
{
	struct machine *m = opaque;

	(void)s;
	(void)ret;
	return hotplug_del(m->hotplug, hp_str(args, "id"), err);
}

static const struct qmp_arg hp_add_args[] = {
	{"driver", QMP_ARG_STR, false},
	{"id", QMP_ARG_STR, false},
	{"bus", QMP_ARG_STR, true},
	{"socket", QMP_ARG_STR, true},
	{"rid", QMP_ARG_STR, true},
	{"remote-driver", QMP_ARG_STR, true},
	{NULL, 0, false},
};

static const struct qmp_arg hp_del_args[] = {
	{"id", QMP_ARG_STR, false},
	{NULL, 0, false},
};

const struct qmp_command hotplug_qmp_commands[] = {
	{"device_add", hp_device_add, hp_add_args, true},
	{"device_del", hp_device_del, hp_del_args, false},
	{NULL, NULL, NULL, false},
};
