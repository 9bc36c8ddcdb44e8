// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * control: the QMP control channel of a device-class process.  mpvmm (or an operator)
 * drives the process through it: query-status, query-devices, device_add, device_del,
 * query-sandbox, and the built-in getfd/closefd that bring in each device's socket and
 * backends as fds (the process may be sandboxed: it never opens a path given here).
 * It is served on an inherited connected socket (--control=FD; the process exits when
 * it closes) and on listening unix sockets (-qmp unix:PATH).  The QMP wire protocol is
 * protocol/qmp*.c; creating and destroying devices is remote.c.  docs/remote.md has
 * the commands, their arguments and errors.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "remote/remote.h"

#define CONTROL_ID_MAX 64 /* as a -device id (main.c) */

struct control {
	struct remote *r;
	struct qmp_server *srv;
	control_sandbox_fn sandbox;
	void *sandbox_ctx;
};

/* Property values may be strings, integers or booleans; the device models take strings. */
static int control_prop_string(const char *key, json_object *v, char **out, GError **err)
{
	switch (json_object_get_type(v)) {
	case json_type_string:
		*out = g_strdup(json_object_get_string(v));
		return 0;
	case json_type_int:
		*out = g_strdup_printf("%" PRId64, json_object_get_int64(v));
		return 0;
	case json_type_boolean:
		*out = g_strdup(json_object_get_boolean(v) ? "on" : "off");
		return 0;
	default:
		return qmp_error_set(err, -EINVAL, QMP_ERROR_GENERIC,
				     "Invalid parameter type for '%s', expected: string", key);
	}
}

static json_object *control_fd_string(int fd)
{
	char num[16];

	snprintf(num, sizeof(num), "%d", fd);
	return json_object_new_string(num);
}

/* The property that names a driver's backend fd, or NULL: the only way a device gets one. */
static const char *control_backend_key(const char *driver)
{
	if (!strcmp(driver, "virtio-blk"))
		return "drive";
	if (!strcmp(driver, "virtio-rng"))
		return "rng";
	return NULL;
}

/*
 * The device's properties as the model takes them (strings), its backend fd taken out
 * of the session's getfd table into *backend (the model keeps a duplicate; the caller
 * closes it) and given to the model as fd=N.
 */
static int control_props(struct qmp_session *s, const char *driver, json_object *args,
			 json_object *props, int *backend, GError **err)
{
	const char *bkey = control_backend_key(driver);
	const char *name = NULL;

	json_object_object_foreach(args, key, v)
	{
		char *str = NULL;

		if (!strcmp(key, "driver") || !strcmp(key, "id") || !strcmp(key, "socket"))
			continue;
		if (!strcmp(key, "fd"))
			return qmp_error_set(
				err, -EINVAL, QMP_ERROR_GENERIC,
				"Parameter 'fd' is "
				"unexpected; pass the backend with getfd and %s=FDNAME",
				bkey ? bkey : "its property");
		if (control_prop_string(key, v, &str, err) < 0)
			return -EINVAL;
		if (bkey && !strcmp(key, bkey))
			name = json_object_get_string(v);
		else
			json_object_object_add(props, key, json_object_new_string(str));
		g_free(str);
	}
	if (bkey && !name)
		return qmp_error_set(err, -EINVAL, QMP_ERROR_GENERIC,
				     "Parameter '%s' is missing; "
				     "%s needs its backend passed with getfd as %s=FDNAME",
				     bkey, driver, bkey);
	if (!bkey)
		return 0;
	*backend = qmp_session_take_fd(s, name);
	if (*backend < 0)
		return qmp_error_set(err, -ENOENT, QMP_ERROR_GENERIC,
				     "%s: file descriptor named "
				     "'%s' not found; pass it first with getfd",
				     bkey, name);
	json_object_object_add(props, "fd", control_fd_string(*backend));
	return 0;
}

static bool control_id_valid(const char *id)
{
	size_t len = strlen(id);

	return len > 0 && len <= CONTROL_ID_MAX &&
	       strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") ==
		       len;
}

/* driver names a device this class hosts, id is well formed and free. */
static int control_check_device(const char *driver, const char *id, GError **err)
{
	if (!dev_find(driver)) {
		g_autofree char *types = dev_valid_types();

		return qmp_error_set(err, -ENOENT, QMP_ERROR_GENERIC,
				     "'%s' is not a valid device "
				     "model name; this process hosts: %s",
				     driver, *types ? types : "no device type yet");
	}
	if (!control_id_valid(id))
		return qmp_error_set(err, -EINVAL, QMP_ERROR_GENERIC,
				     "Parameter 'id' expects an "
				     "identifier (1 to %d of A-Z a-z 0-9 _ . -), not '%s'",
				     CONTROL_ID_MAX, id);
	return 0;
}

/* The device's channel: a connected unix stream socket passed with getfd. */
static int control_socket(struct qmp_session *s, struct remote_devopt *o, const char *name,
			  GError **err)
{
	GError *why = NULL;

	o->fd = qmp_session_take_fd(s, name);
	if (o->fd < 0)
		return qmp_error_set(err, -ENOENT, QMP_ERROR_GENERIC,
				     "socket: file descriptor "
				     "named '%s' not found; pass the device's socketpair end first "
				     "with getfd",
				     name);
	if (channel_check_fd(o, &why) < 0) {
		qmp_error_set(err, -EINVAL, QMP_ERROR_GENERIC, "%s", why->message);
		g_error_free(why);
		close(o->fd);
		o->fd = -1;
		return -EINVAL;
	}
	return 0;
}

/* Take the fd named by args[key] (if it is a name in the table) and close it. */
static void control_drop(struct qmp_session *s, json_object *args, const char *key)
{
	json_object *v;
	int fd;

	if (!key || !json_object_object_get_ex(args, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return;
	fd = qmp_session_take_fd(s, json_object_get_string(v));
	if (fd >= 0)
		close(fd);
}

static int control_device_add(void *opaque, struct qmp_session *s, json_object *args,
			      json_object **ret, GError **err)
{
	struct control *c = opaque;
	const char *driver = json_object_get_string(json_object_object_get(args, "driver"));
	const char *id = json_object_get_string(json_object_object_get(args, "id"));
	const char *sock = json_object_get_string(json_object_object_get(args, "socket"));
	struct remote_devopt o = {
		.type = (char *)driver, .id = (char *)id, .socket = (char *)sock, .fd = -1};
	int backend = -1, r;

	o.props = json_object_new_object();
	r = control_check_device(driver, id, err);
	if (r == 0)
		r = control_props(s, driver, args, o.props, &backend, err);
	if (r == 0)
		r = control_socket(s, &o, sock, err);
	if (r == 0) {
		GError *why = NULL;

		r = remote_device_add(c->r, &o, &why); /* takes o.fd */
		if (r < 0) {
			qmp_error_set(err, r, QMP_ERROR_GENERIC, "%s", why->message);
			g_error_free(why);
		}
	}
	if (backend >= 0) /* the model holds its own duplicate */
		close(backend);
	if (r < 0) { /* a failed device_add consumes its fds too, whatever step failed */
		control_drop(s, args, "socket");
		control_drop(s, args, control_backend_key(driver));
	}
	json_object_put(o.props);
	return r;
}

static int control_device_del(void *opaque, struct qmp_session *s, json_object *args,
			      json_object **ret, GError **err)
{
	struct control *c = opaque;
	const char *id = json_object_get_string(json_object_object_get(args, "id"));

	if (remote_device_del(c->r, id) < 0)
		return qmp_error_set(err, -ENOENT, QMP_ERROR_DEVICE_NOT_FOUND,
				     "Device '%s' not found", id);
	return 0;
}

static int control_query_devices(void *opaque, struct qmp_session *s, json_object *args,
				 json_object **ret, GError **err)
{
	struct control *c = opaque;

	*ret = remote_devices_json(c->r);
	return 0;
}

/* QEMU's StatusInfo shape: a class process is always running while it answers. */
static int control_query_status(void *opaque, struct qmp_session *s, json_object *args,
				json_object **ret, GError **err)
{
	*ret = json_object_new_object();
	json_object_object_add(*ret, "running", json_object_new_boolean(true));
	json_object_object_add(*ret, "singlestep", json_object_new_boolean(false));
	json_object_object_add(*ret, "status", json_object_new_string("running"));
	return 0;
}

static int control_query_sandbox(void *opaque, struct qmp_session *s, json_object *args,
				 json_object **ret, GError **err)
{
	struct control *c = opaque;

	*ret = c->sandbox ? c->sandbox(c->sandbox_ctx) : NULL;
	if (!*ret) { /* not confined (yet) */
		*ret = json_object_new_object();
		json_object_object_add(*ret, "enabled", json_object_new_boolean(false));
	}
	return 0;
}

static const struct qmp_arg control_device_add_args[] = {
	{"driver", QMP_ARG_STR, false},
	{"id", QMP_ARG_STR, false},
	{"socket", QMP_ARG_STR, false},
	{NULL},
};

static const struct qmp_arg control_id_arg[] = {
	{"id", QMP_ARG_STR, false},
	{NULL},
};

static const struct qmp_command control_commands[] = {
	{"query-status", control_query_status, NULL, false},
	{"query-devices", control_query_devices, NULL, false},
	{"device_add", control_device_add, control_device_add_args, true},
	{"device_del", control_device_del, control_id_arg, false},
	{"query-sandbox", control_query_sandbox, NULL, false},
	{NULL},
};

static const struct qmp_command *const control_tables[] = {control_commands, NULL};

/* "0.1.0" -> 0, 1, 0; missing parts are 0. */
static void control_version(const char *version, struct qmp_version *v)
{
	unsigned parts[3] = {0};

	sscanf(version, "%u.%u.%u", &parts[0], &parts[1], &parts[2]);
	*v = (struct qmp_version){.major = (int)parts[0],
				  .minor = (int)parts[1],
				  .micro = (int)parts[2],
				  .package = "mpvmm"};
}

void control_set_sandbox(struct control *c, control_sandbox_fn fn, void *ctx)
{
	c->sandbox = fn;
	c->sandbox_ctx = ctx;
}

int control_create(struct remote *r, const char *version, struct control **out)
{
	struct control *c = g_new0(struct control, 1);
	struct qmp_server_cfg cfg = {.tables = control_tables, .opaque = c};
	int ret;

	control_version(version, &cfg.version);
	c->r = r;
	ret = qmp_server_create(&cfg, &c->srv);
	if (ret < 0) {
		g_free(c);
		return ret;
	}
	remote_set_controlled(r, true);
	*out = c;
	return 0;
}

static void control_closed(void *ctx)
{
	struct control *c = ctx;

	g_info("control channel closed; exiting");
	remote_stop(c->r);
}

int control_check_fd(int fd, GError **err)
{
	struct remote_devopt o = {.type = "--control", .id = "channel", .fd = fd};
	int ret = channel_check_fd(&o, NULL);
	const char *why = ret == -EBADF	     ? "is not an open file descriptor"
			  : ret == -ENOTSOCK ? "is not a stream socket"
					     : "is not a connected AF_UNIX socket";

	if (ret < 0)
		g_set_error(err, REMOTE_ERROR, 0, "--control=%d: fd %d %s; pass one end of "
			    "socketpair(AF_UNIX, SOCK_STREAM) as that fd", fd, fd, why);
	return ret;
}

int control_adopt(struct control *c, int fd, GError **err)
{
	int ret = qmp_server_adopt(c->srv, fd, control_closed, c);

	if (ret < 0)
		g_set_error(err, REMOTE_ERROR, 0, "--control=%d: cannot serve QMP on it: %s", fd,
			    g_strerror(-ret));
	return ret;
}

int control_listen(struct control *c, const char *path, GError **err)
{
	return qmp_server_listen(c->srv, path, err);
}

void control_destroy(struct control *c)
{
	if (!c)
		return;
	qmp_server_destroy(c->srv);
	g_free(c);
}

/* "unix:PATH,server=on,wait=off" (QEMU's -qmp; "server" and "nowait" also accepted). */
static int control_qmp_path(const char *val, char **path, GError **err)
{
	g_auto(GStrv) parts = g_strsplit(val, ",", -1);
	bool server = false, nowait = false;

	if (!g_str_has_prefix(parts[0], "unix:") || !parts[0][5]) {
		g_set_error(err, REMOTE_ERROR, 0,
			    "-qmp %s: only unix:PATH,server=on,wait=off is "
			    "supported",
			    val);
		return -EINVAL;
	}
	for (unsigned i = 1; parts[i]; i++) {
		if (!strcmp(parts[i], "server=on") || !strcmp(parts[i], "server"))
			server = true;
		else if (!strcmp(parts[i], "wait=off") || !strcmp(parts[i], "nowait"))
			nowait = true;
		else {
			g_set_error(err, REMOTE_ERROR, 0,
				    "-qmp %s: '%s' is not supported; use "
				    "-qmp unix:PATH,server=on,wait=off",
				    val, parts[i]);
			return -EINVAL;
		}
	}
	if (!server || !nowait) {
		g_set_error(err, REMOTE_ERROR, 0,
			    "-qmp %s: the process only listens without "
			    "waiting; add server=on,wait=off",
			    val);
		return -EINVAL;
	}
	*path = g_strdup(parts[0] + 5);
	return 0;
}

int control_parse(struct control_opts *co, const char *arg, const char *next, GError **err)
{
	guint64 fd;

	if (g_str_has_prefix(arg, "--control=")) {
		if (co->fd >= 0 ||
		    !g_ascii_string_to_unsigned(arg + 10, 10, 3, G_MAXINT, &fd, NULL)) {
			g_set_error(err, REMOTE_ERROR, 0,
				    "%s: %s; give --control=FD once, FD an "
				    "inherited connected socket (3 or above)",
				    arg, co->fd >= 0 ? "given twice" : "not an fd number");
			return -EINVAL;
		}
		co->fd = (int)fd;
		return 1;
	}
	if (strcmp(arg, "-qmp") != 0)
		return 0;
	if (!next) {
		g_set_error(err, REMOTE_ERROR, 0,
			    "-qmp needs an argument: "
			    "unix:PATH,server=on,wait=off");
		return -EINVAL;
	}
	if (co->nr_paths >= CONTROL_QMP_MAX) {
		g_set_error(err, REMOTE_ERROR, 0, "-qmp: at most %d monitors", CONTROL_QMP_MAX);
		return -EINVAL;
	}
	return control_qmp_path(next, &co->paths[co->nr_paths++], err) < 0 ? -EINVAL : 2;
}

void control_opts_clear(struct control_opts *co)
{
	for (unsigned i = 0; i < co->nr_paths; i++)
		g_free(co->paths[i]);
	*co = (struct control_opts){.fd = -1};
}

int control_start(struct remote *r, const struct control_opts *co, const char *version,
		  struct control **out, GError **err)
{
	struct control *c;
	int ret;

	*out = NULL;
	if (co->fd < 0 && !co->nr_paths)
		return 0;
	ret = control_create(r, version, &c);
	if (ret < 0) {
		g_set_error(err, REMOTE_ERROR, 0, "control channel: %s", g_strerror(-ret));
		return ret;
	}
	if (co->fd >= 0)
		ret = control_adopt(c, co->fd, err);
	for (unsigned i = 0; ret == 0 && i < co->nr_paths; i++)
		ret = control_listen(c, co->paths[i], err);
	if (ret < 0) {
		control_destroy(c);
		return ret;
	}
	*out = c;
	return 0;
}
