// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * devopt: the -device option.  Parses "TYPE,prop=val,..." strictly (known type, no
 * empty or repeated property, a well-formed id, a socket that is an open AF_UNIX
 * stream socket or a usable path) and prints -device help and -device TYPE,help.
 * Types are pci-proxy-dev (a device in another process, proxy/) and the in-process
 * models in dev_table (localdev.c).  Creating the devices is machine.c's job;
 * unknown properties of an in-process model are rejected by dev_create().
 * There is no ",," escape: a socket path cannot contain a comma.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "devices/devices.h"
#include "vmm/vmm.h"

static int dev_error(GError **err, int code, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static int dev_error(GError **err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	g_propagate_error(err, g_error_new_valist(VMM_ERROR, code, fmt, ap));
	va_end(ap);
	return -code;
}

bool devopt_id_valid(const char *id)
{
	size_t len = strlen(id);

	if (len == 0 || len > DEVOPT_ID_MAX || !g_ascii_isalpha(id[0]))
		return false;
	for (size_t i = 1; i < len; i++) {
		if (!g_ascii_isalnum(id[i]) && !strchr("-._", id[i]))
			return false;
	}
	return true;
}

/* An inherited fd must be open, a socket, AF_UNIX and SOCK_STREAM (vfio-user). */
static int devopt_check_fd(const char *arg, int fd, GError **err)
{
	int domain = 0, type = 0;
	socklen_t len = sizeof(int);
	struct stat st;

	if (fd <= STDERR_FILENO)
		return dev_error(err, EINVAL,
				 "-device %s: fd %d is stdin, stdout or stderr; pass "
				 "the socket as fd 3 or above",
				 arg, fd);
	if (fcntl(fd, F_GETFD) < 0 || fstat(fd, &st) < 0)
		return dev_error(err, EBADF,
				 "-device %s: fd %d is not open; socket=N names a "
				 "socket fd mpvmm inherits from its parent (or give a socket path)",
				 arg, fd);
	if (!S_ISSOCK(st.st_mode))
		return dev_error(err, ENOTSOCK,
				 "-device %s: fd %d is not a socket; pass one end "
				 "of socketpair(AF_UNIX, SOCK_STREAM)",
				 arg, fd);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 || domain != AF_UNIX ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM)
		return dev_error(err, EPROTOTYPE,
				 "-device %s: fd %d is not an AF_UNIX stream "
				 "socket; pass one end of socketpair(AF_UNIX, SOCK_STREAM)",
				 arg, fd);
	return 0;
}

/* socket=N (all digits: an inherited fd) or socket=PATH. */
static int devopt_socket(const char *arg, const char *val, struct devopt *d, GError **err)
{
	struct sockaddr_un sun;
	uint64_t fd;
	int ret;

	if (g_ascii_isdigit(val[0])) {
		ret = options_parse_uint(val, INT_MAX, &fd);
		if (ret == -ERANGE)
			return dev_error(err, EINVAL,
					 "-device %s: socket=%s is not a valid fd "
					 "number",
					 arg, val);
		if (ret == 0) {
			ret = devopt_check_fd(arg, (int)fd, err);
			if (ret == 0)
				d->socket_fd = (int)fd;
			return ret;
		}
	}
	if (!*val)
		return dev_error(err, EINVAL,
				 "-device %s: empty socket; give socket=N (an "
				 "inherited fd) or socket=PATH",
				 arg);
	if (strlen(val) >= sizeof(sun.sun_path))
		return dev_error(err, ENAMETOOLONG,
				 "-device %s: socket path is longer than %zu "
				 "bytes; use a shorter (e.g. relative) path",
				 arg, sizeof(sun.sun_path) - 1);
	d->socket_path = g_strdup(val);
	return 0;
}

/* One "key=val" of an already-typed devopt. */
static int devopt_prop(const char *arg, const char *key, const char *val, struct devopt *d,
		       GError **err)
{
	bool proxy = strcmp(d->type, DEVOPT_PROXY_TYPE) == 0;

	if (strcmp(key, "id") == 0) {
		if (!devopt_id_valid(val))
			return dev_error(err, EINVAL,
					 "-device %s: invalid id '%s'; an id starts "
					 "with a letter and has at most %u letters, digits, '-', "
					 "'.' or '_'",
					 arg, val, DEVOPT_ID_MAX);
		d->id = g_strdup(val);
		return 0;
	}
	if (proxy && strcmp(key, "socket") == 0)
		return devopt_socket(arg, val, d, err);
	if (proxy && strcmp(key, "rid") == 0) {
		d->rid = g_strdup(val);
		return 0;
	}
	if (proxy && strcmp(key, "dma") == 0) { /* the proxy's, also with rid= */
		if (strcmp(val, "fd") && strcmp(val, "message"))
			return dev_error(err, EINVAL,
					 "-device %s: dma=%s is neither fd (the remote maps guest "
					 "RAM's memfds) nor message (it copies by DMA_READ/"
					 "DMA_WRITE); use dma=fd or dma=message",
					 arg, val);
		d->dma_message = strcmp(val, "message") == 0;
		return 0;
	}
	if (proxy && d->rid) { /* after rid=: remote-driver and the device's own properties */
		json_object_object_add(d->props, key, json_object_new_string(val));
		return 0;
	}
	if (proxy)
		return dev_error(err, EINVAL,
				 "-device %s: unknown property '%s'; %s takes id and "
				 "socket, and optionally dma (see -device %s,help)",
				 arg, key, d->type, d->type);
	if (strcmp(key, "socket") == 0)
		return dev_error(
			err, EINVAL,
			"-device %s: socket= is for pci-proxy-dev; %s runs "
			"inside mpvmm (use -device pci-proxy-dev,id=ID,socket=... to reach "
			"a remote one)",
			arg, d->type);
	json_object_object_add(d->props, key, json_object_new_string(val));
	return 0;
}

static int devopt_type(const char *arg, const char *type, GError **err)
{
	if (!*type)
		return dev_error(err, EINVAL, "-device %s: missing device type; see -device help",
				 arg);
	if (strcmp(type, DEVOPT_PROXY_TYPE) != 0 && strcmp(type, ROOTPORT_TYPE) != 0 &&
	    !dev_find(type))
		return dev_error(err, ENOENT,
				 "-device %s: unknown device type '%s'; see -device "
				 "help",
				 arg, type);
	return 0;
}

/* Properties after the type; sets *help on a "help" item. */
static int devopt_props(const char *arg, char **items, struct devopt *d, bool *help, GError **err)
{
	for (unsigned i = 1; items[i]; i++) {
		char *eq = strchr(items[i], '=');

		if (strcmp(items[i], "help") == 0) {
			*help = true;
			return 0;
		}
		if (!eq || eq == items[i])
			return dev_error(err, EINVAL,
					 "-device %s: '%s' is not a property; write "
					 "name=value (see -device %s,help)",
					 arg, items[i], d->type);
		*eq = '\0';
		for (unsigned j = 1; j < i; j++) {
			if (strncmp(items[j], items[i], (size_t)(eq - items[i]) + 1) == 0)
				return dev_error(err, EINVAL,
						 "-device %s: property '%s' given "
						 "twice",
						 arg, items[i]);
		}
		if (devopt_prop(arg, items[i], eq + 1, d, err) < 0)
			return -EINVAL;
	}
	return 0;
}

static int devopt_finish(const char *arg, unsigned index, struct devopt *d, GError **err)
{
	if (strcmp(d->type, DEVOPT_PROXY_TYPE) != 0) {
		if (!d->id)
			d->id = g_strdup_printf("%s.%u", d->type, index);
		return 0;
	}
	if (!d->id)
		return dev_error(err, EINVAL,
				 "-device %s: missing id; add id=NAME, the id of the "
				 "device on the remote side",
				 arg);
	if (d->rid && (d->socket_fd >= 0 || d->socket_path))
		return dev_error(err, EINVAL,
				 "-device %s: socket= and rid= exclude each other; with "
				 "rid= mpvmm makes the device's socket itself",
				 arg);
	if (d->rid && !json_object_object_get_ex(d->props, "remote-driver", NULL))
		return dev_error(err, EINVAL,
				 "-device %s: missing remote-driver; add remote-driver=TYPE, "
				 "the device type in remote-process %s",
				 arg, d->rid);
	if (d->rid)
		return 0;
	if (d->socket_fd < 0 && !d->socket_path)
		return dev_error(err, EINVAL,
				 "-device %s: missing socket; add socket=N (an "
				 "inherited fd) or socket=PATH (a listening remote)",
				 arg);
	return 0;
}

int devopt_parse(const char *arg, unsigned index, struct devopt *d, bool *help, char **type,
		 GError **err)
{
	g_auto(GStrv) items = g_strsplit(arg, ",", -1);
	int ret;

	memset(d, 0, sizeof(*d));
	d->socket_fd = -1;
	*help = false;
	*type = NULL;
	if (items[0] && strcmp(items[0], "help") == 0 && !items[1]) {
		*help = true;
		return 0;
	}
	ret = devopt_type(arg, items[0] ? items[0] : "", err);
	if (ret < 0)
		return ret;
	d->type = g_strdup(items[0]);
	d->props = json_object_new_object();
	ret = devopt_props(arg, items, d, help, err);
	if (ret == 0 && *help)
		*type = g_strdup(d->type);
	else if (ret == 0)
		ret = devopt_finish(arg, index, d, err);
	if (ret < 0 || *help)
		devopt_clear(d);
	return ret;
}

void devopt_clear(struct devopt *d)
{
	g_free(d->type);
	g_free(d->id);
	g_free(d->socket_path);
	g_free(d->rid);
	json_object_put(d->props);
	memset(d, 0, sizeof(*d));
	d->socket_fd = -1;
}

static void devopt_print_props(FILE *f, const char *props)
{
	g_auto(GStrv) lines = g_strsplit(props ? props : "", "\n", -1);

	for (unsigned i = 0; lines[i]; i++) {
		if (*lines[i])
			fprintf(f, "  %s\n", lines[i]);
	}
}

int devopt_print_help(FILE *f, const char *type, GError **err)
{
	const struct dev_ops *ops;

	if (!type) {
		fprintf(f, "Device types:\n  %-16s %s\n", DEVOPT_PROXY_TYPE,
			"a PCI device emulated in another process, reached over vfio-user");
		fprintf(f, "  %-16s %s\n", ROOTPORT_TYPE,
			"a PCI Express root port with a hot-plug slot (device_add bus=ID)");
		for (unsigned i = 0; dev_table[i]; i++)
			fprintf(f, "  %-16s %s (in-process)\n", dev_table[i]->type,
				dev_table[i]->desc);
		fprintf(f, "Use -device TYPE,help for a type's properties.\n");
		return 0;
	}
	fprintf(f, "%s properties:\n", type);
	if (strcmp(type, DEVOPT_PROXY_TYPE) == 0) {
		fprintf(f, "  id=string: the device's id; must name the device the remote serves "
			   "(required)\n"
			   "  rid=string: instead of socket=, host the device in this -object "
			   "remote-process (mpvmm makes its socket)\n"
			   "  remote-driver=type: with rid=, the device type in that process; "
			   "properties after rid= go to the device (drive=NODE for virtio-blk)\n"
			   "  socket=fd|path: an inherited AF_UNIX stream socket fd (3 or above), "
			   "or the path a remote listens on (required)\n"
			   "  dma=fd|message: how the remote reaches guest RAM: fd maps the "
			   "VMM's memfds (default, fastest); message sends no fd, so the remote "
			   "holds no guest RAM mapping and copies every access with vfio-user "
			   "DMA_READ/DMA_WRITE (slower: a round trip per 4 KiB)\n");
		return 0;
	}
	if (strcmp(type, ROOTPORT_TYPE) == 0) {
		fprintf(f, "  id=string: the port's id, the bus= of device_add (default %s.N)\n"
			   "  chassis=0..255: accepted for QEMU compatibility\n"
			   "  slot=0..8191: the physical slot number (default: the port's device "
			   "number on bus 0)\n"
			   "  x-unplug-timeout=ms: how long device_del waits for the guest to "
			   "power the slot off (default %u, at most 600000)\n",
			type, ROOTPORT_UNPLUG_TIMEOUT_MS);
		return 0;
	}
	ops = dev_find(type);
	if (!ops)
		return dev_error(err, ENOENT,
				 "-device %s,help: unknown device type '%s'; see "
				 "-device help",
				 type, type);
	fprintf(f,
		"  id=string: the device's id (default %s.N, N its position among the "
		"-device options)\n",
		type);
	devopt_print_props(f, ops->props);
	return 0;
}
