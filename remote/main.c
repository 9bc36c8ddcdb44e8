// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * main: the command line of a device-class process (mpvmm-misc, mpvmm-storage,
 * mpvmm-net).  Parses and checks every option strictly, prints help, has the class open
 * its backends (misc.c, storage.c, net.c), hands the device list to remote.c, and
 * confines the process (sandbox.c) before it serves.  This file serves any class.
 * It does not open sockets or create devices itself.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "remote/remote.h"

#define REMOTE_ID_MAX 64

static const char usage[] =
	"Usage: %1$s -device TYPE,id=ID,socket=FD|PATH [-device ...]\n"
	"       %1$s -device help | -device TYPE,help | --help | -version\n"
	"%2$s"
	"       --sandbox=on|log|off  confinement (default on; log: seccomp logs, never kills)\n"
	"       --uid=N --gid=N       the ids to run as when started as root (default: user\n"
	"                             and group mpvmm-CLASS, else 65100 + class index)\n"
	"       --control=FD          serve QMP on FD, an inherited connected socket (mpvmm's\n"
	"                             control channel: device_add, device_del, query-*);\n"
	"                             the process then needs no -device and exits when FD\n"
	"                             closes\n"
	"       -qmp unix:PATH,server=on,wait=off  serve QMP on a listening socket too\n"
	"\n"
	"Emulates each device in this process and serves it over vfio-user on its own\n"
	"socket, for an mpvmm -device pci-proxy-dev,id=ID,socket=... to connect to.\n"
	"  socket=FD    an inherited, connected AF_UNIX stream socket (a socketpair end)\n"
	"  socket=PATH  listen at PATH; serve one client at a time, then accept again\n"
	"               (a path made only of digits must be written ./123)\n"
	"Exits on SIGTERM or SIGINT, or when every inherited socket has closed.\n"
	"Debug output: G_MESSAGES_DEBUG=remote,devices,proto\n";

static void print_types(void)
{
	if (!dev_table[0]) {
		printf("Device types: none (mpvmm-%s hosts no device yet)\n", remote_class.name);
		return;
	}
	printf("Device types:\n");
	for (unsigned i = 0; dev_table[i]; i++)
		printf("  %-20s %s\n", dev_table[i]->type, dev_table[i]->desc);
}

static void print_type_help(const struct dev_ops *ops)
{
	printf("%s options:\n", ops->type);
	printf("  id=<string>          device id; the pci-proxy-dev must use the same id\n");
	printf("  socket=<fd|path>     inherited connected socket, or a path to listen on\n");
	for (const char *p = ops->props; p && *p;) {
		const char *eol = strchrnul(p, '\n');

		printf("  %.*s\n", (int)(eol - p), p);
		p = *eol ? eol + 1 : eol;
	}
}

static bool id_valid(const char *id)
{
	size_t len = strlen(id);

	return len > 0 && len <= REMOTE_ID_MAX &&
	       strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") ==
		       len;
}

/* socket=N with N all digits is an fd (1), anything else a path (0); -EINVAL if N > INT_MAX. */
static int parse_fd(const char *s, int *fd)
{
	guint64 v;

	if (!*s || strspn(s, "0123456789") != strlen(s))
		return 0;
	if (!g_ascii_string_to_unsigned(s, 10, 0, INT_MAX, &v, NULL))
		return -EINVAL;
	*fd = (int)v;
	return 1;
}

/* One "key=value" of a -device option. */
static int parse_prop(struct remote_devopt *o, const char *kv, GError **err)
{
	const char *eq = strchr(kv, '=');
	g_autofree char *key = eq ? g_strndup(kv, eq - kv) : NULL;
	const char *val = eq ? eq + 1 : NULL;

	if (!eq || eq == kv) {
		g_set_error(err, REMOTE_ERROR, 0, "-device %s: '%s' is not of the form "
			    "name=value", o->type, kv);
		return -EINVAL;
	}
	if ((!strcmp(key, "id") && o->id) || (!strcmp(key, "socket") && o->socket) ||
	    json_object_object_get_ex(o->props, key, NULL)) {
		g_set_error(err, REMOTE_ERROR, 0, "-device %s: '%s' given twice", o->type, key);
		return -EINVAL;
	}
	if (!strcmp(key, "id"))
		o->id = g_strdup(val);
	else if (!strcmp(key, "socket"))
		o->socket = g_strdup(val);
	else
		json_object_object_add(o->props, key, json_object_new_string(val));
	return 0;
}

/* Check what a device option needs before any device or socket exists. */
static int check_devopt(struct remote_devopt *o, GError **err)
{
	if (!o->id || !id_valid(o->id)) {
		g_set_error(err, REMOTE_ERROR, 0, "-device %s: %s%s%s; add id=NAME (1 to %d of "
			    "A-Z a-z 0-9 _ . -)", o->type, o->id ? "invalid id '" : "missing id",
			    o->id ? o->id : "", o->id ? "'" : "", REMOTE_ID_MAX);
		return -EINVAL;
	}
	if (!o->socket || !*o->socket) {
		g_set_error(err, REMOTE_ERROR, 0, "%s '%s': missing socket; add socket=FD (an "
			    "inherited connected socket) or socket=PATH (a path to listen on)",
			    o->type, o->id);
		return -EINVAL;
	}
	if (parse_fd(o->socket, &o->fd) < 0) {
		g_set_error(err, REMOTE_ERROR, 0, "%s '%s': socket=%s is not a valid fd number",
			    o->type, o->id, o->socket);
		return -EINVAL;
	}
	return 0;
}

/* -device TYPE with a TYPE this class does not host: say which it does, if any. */
static int unknown_type(const char *type, GError **err)
{
	g_autofree char *types = dev_valid_types();

	if (!*types) {
		g_set_error(err, REMOTE_ERROR, 0,
			    "-device: unknown device type '%s'; mpvmm-%s hosts no device "
			    "types yet",
			    type, remote_class.name);
		return -ENOENT;
	}
	g_set_error(err, REMOTE_ERROR, 0,
		    "-device: unknown device type '%s'; valid types: %s (see -device help)", type,
		    types);
	return -ENOENT;
}

/*
 * Parse "TYPE,key=value,...".  *help_ops is set for "help" (NULL: list types) and
 * "TYPE,help"; then the rest of the option is not checked.
 */
static int parse_device(const char *arg, struct remote_devopt *o, bool *help,
			const struct dev_ops **help_ops, GError **err)
{
	g_auto(GStrv) parts = g_strsplit(arg, ",", -1);
	const struct dev_ops *ops;
	int ret;

	o->fd = -1;
	o->type = g_strdup(parts[0] ? parts[0] : "");
	*help = !strcmp(o->type, "help");
	if (*help) {
		*help_ops = NULL;
		return 0;
	}
	ops = dev_find(o->type);
	if (!ops)
		return unknown_type(o->type, err);
	for (unsigned i = 1; parts[i]; i++) {
		if (!strcmp(parts[i], "help")) {
			*help = true;
			*help_ops = ops;
			return 0;
		}
	}
	o->props = json_object_new_object();
	for (unsigned i = 1; parts[i]; i++) {
		ret = parse_prop(o, parts[i], err);
		if (ret < 0)
			return ret;
	}
	return check_devopt(o, err);
}

/* No two devices may share an id or a socket. */
static int check_unique(const struct remote_devopt *opts, unsigned nr, GError **err)
{
	for (unsigned i = 0; i < nr; i++) {
		for (unsigned j = 0; j < i; j++) {
			if (!strcmp(opts[i].id, opts[j].id)) {
				g_set_error(err, REMOTE_ERROR, 0, "-device: id '%s' is used twice; "
					    "give each device its own id", opts[i].id);
				return -EINVAL;
			}
			if (!strcmp(opts[i].socket, opts[j].socket)) {
				g_set_error(err, REMOTE_ERROR, 0, "-device: '%s' and '%s' both use "
					    "socket=%s; give each device its own socket",
					    opts[j].id, opts[i].id, opts[i].socket);
				return -EINVAL;
			}
		}
	}
	return 0;
}

static int fail(const char *prog, GError *err)
{
	fprintf(stderr, "%s: %s\n", prog, err->message);
	g_error_free(err);
	return 1;
}

/*
 * Confine the process, watch for signals, arm a test hook if one was asked for, and
 * then say so once: the state line means "ready for signals".
 */
static int confine(struct remote *r, const struct sandbox_opts *so, struct sandbox *sb,
		   GError **err)
{
	json_object *state;
	int ret = sandbox_enter(so, remote_class.name, sb, err);

	if (ret < 0)
		return ret;
	remote_watch_signals(r);
	sandbox_hook_arm(sb);
	state = sandbox_state(sb);
	g_info("sandbox: %s", json_object_to_json_string_ext(state, JSON_C_TO_STRING_PLAIN));
	json_object_put(state);
	return 0;
}

/* query-sandbox of the control channel. */
static json_object *sandbox_json(void *sb)
{
	return sandbox_state(sb);
}

/* --control's fd is an inherited socket that no -device may use too. */
static int check_control(const struct control_opts *co, const struct remote_devopt *opts,
			 unsigned nr, GError **err)
{
	for (unsigned i = 0; co->fd >= 0 && i < nr; i++) {
		if (opts[i].fd == co->fd) {
			g_set_error(err, REMOTE_ERROR, 0, "-device %s: socket=%d is the control "
				    "channel (--control=%d); give the device its own socket",
				    opts[i].id, co->fd, co->fd);
			return -EINVAL;
		}
	}
	return co->fd >= 0 ? control_check_fd(co->fd, err) : 0;
}

static int run(const char *prog, struct remote_devopt *opts, unsigned nr,
	       struct class_backends **cb, const struct sandbox_opts *so,
	       const struct control_opts *co)
{
	struct control *c = NULL;
	struct sandbox sb;
	GError *err = NULL;
	struct remote *r;
	int status;

	if (nr == 0 && co->fd < 0 && !co->nr_paths) {
		fprintf(stderr, "%s: no devices; add -device TYPE,id=ID,socket=FD|PATH "
			"(see --help)\n", prog);
		return 1;
	}
	if (check_unique(opts, nr, &err) < 0 || check_control(co, opts, nr, &err) < 0)
		return fail(prog, err);
	/* Inherited fds first: nothing of ours is open yet to be mistaken for one. */
	for (unsigned i = 0; i < nr; i++) {
		if (opts[i].fd >= 0 && channel_check_fd(&opts[i], &err) < 0)
			return fail(prog, err);
	}
	/* Open the backends: before any sandbox, after the inherited fds were checked. */
	if ((remote_class.resolve && remote_class.resolve(*cb, opts, nr, &err) < 0) ||
	    remote_create(opts, nr, &r, &err) < 0)
		return fail(prog, err);
	/* Each device holds its own duplicate of its backend. */
	if (*cb)
		g_clear_pointer(cb, remote_class.backends_free);
	/* The control channel's sockets exist before the sandbox (it forks, then pivots). */
	if (control_start(r, co, MPVMM_VERSION, &c, &err) < 0 || confine(r, so, &sb, &err) < 0) {
		control_destroy(c);
		remote_destroy(r);
		return fail(prog, err);
	}
	if (c)
		control_set_sandbox(c, sandbox_json, &sb);
	status = remote_run(r);
	control_destroy(c);
	remote_destroy(r);
	return status;
}

int main(int argc, char **argv)
{
	g_autofree struct remote_devopt *opts = g_new0(struct remote_devopt, argc);
	g_autofree char *prog = g_path_get_basename(argv[0]);
	struct class_backends *cb = remote_class.backends_new ? remote_class.backends_new() : NULL;
	struct sandbox_opts so = { .mode = REMOTE_SANDBOX_DEFAULT, .uid = -1, .gid = -1 };
	struct control_opts co = CONTROL_OPTS_INIT;
	const struct dev_ops *help_ops = NULL;
	GError *err = NULL;
	int status = -1;
	unsigned nr = 0;
	bool help = false;
	int ret;

	for (int i = 1; i < argc && !help && status < 0; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--help") || !strcmp(a, "-help") || !strcmp(a, "-h")) {
			printf(usage, prog, remote_class.usage);
			status = 0;
		} else if (!strcmp(a, "-version") || !strcmp(a, "--version")) {
			printf("%s %s\n", prog, MPVMM_VERSION);
			status = 0;
		} else if ((ret = control_parse(&co, a, i + 1 < argc ? argv[i + 1] : NULL,
					       &err)) != 0) {
			if (ret < 0)
				status = fail(prog, err);
			i += ret > 1 ? 1 : 0;
		} else if ((ret = sandbox_parse(&so, a, &err)) != 0) {
			if (ret < 0)
				status = fail(prog, err);
		} else if (remote_class.parse &&
			   (ret = remote_class.parse(cb, a, i + 1 < argc ? argv[i + 1] : NULL,
						     &err)) != 0) {
			if (ret < 0)
				status = fail(prog, err);
			i++;
		} else if (strcmp(a, "-device") != 0) {
			fprintf(stderr, "%s: unknown option '%s' (see --help)\n", prog, a);
			status = 1;
		} else if (i + 1 >= argc) {
			fprintf(stderr, "%s: %s needs an argument (see --help)\n", prog, a);
			status = 1;
		} else if (parse_device(argv[++i], &opts[nr++], &help, &help_ops, &err) < 0) {
			status = fail(prog, err);
		}
	}
	if (status < 0 && help && help_ops)
		print_type_help(help_ops);
	else if (status < 0 && help)
		print_types();
	if (status < 0)
		status = help ? 0 : run(prog, opts, nr, &cb, &so, &co);
	if (cb)
		remote_class.backends_free(cb);
	sandbox_opts_clear(&so);
	control_opts_clear(&co);
	for (unsigned i = 0; i < nr; i++)
		remote_devopt_clear(&opts[i]);
	return status;
}
