// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * blockdev: the -blockdev options, in QEMU's style:
 * `-blockdev driver=file,node-name=NODE,filename=PATH[,read-only=on|off]`, shared by
 * the block device-class process (mpvmm-storage) and mpvmm's in-VMM baseline.
 * Parses each strictly, opens the files when the process says so (before any sandbox
 * exists: device models never open files), and turns a device's `drive=NODE` into the
 * `fd=N` and `read-only=` properties the device model takes; it also refuses a
 * virtio-blk's num-queues above VIRTIO_BLK_MAX_QUEUES with a message that says why.
 * A node backs exactly one device, and every node must be used.  It does not create
 * devices or keep the files open after they are created (each device holds its own
 * duplicate).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/devices.h"
#include "devices/virtio.h"

#define BLOCKDEV_NODE_MAX 64

struct blockdev {
	char *node, *filename;
	bool read_only;
	int fd;
	char *user; /* id of the device using it */
};

struct blockdevs {
	GPtrArray *nodes; /* struct blockdev */
};

static void blockdev_free(gpointer p)
{
	struct blockdev *b = p;

	if (b->fd >= 0)
		close(b->fd);
	g_free(b->node);
	g_free(b->filename);
	g_free(b->user);
	g_free(b);
}

struct blockdevs *blockdevs_new(void)
{
	struct blockdevs *bds = g_new0(struct blockdevs, 1);

	bds->nodes = g_ptr_array_new_with_free_func(blockdev_free);
	return bds;
}

void blockdevs_free(struct blockdevs *bds)
{
	if (!bds)
		return;
	g_ptr_array_free(bds->nodes, TRUE);
	g_free(bds);
}

static struct blockdev *blockdev_find(const struct blockdevs *bds, const char *node)
{
	for (unsigned i = 0; i < bds->nodes->len; i++) {
		struct blockdev *b = g_ptr_array_index(bds->nodes, i);

		if (!strcmp(b->node, node))
			return b;
	}
	return NULL;
}

GQuark blockdev_error_quark(void)
{
	return g_quark_from_static_string("mpvmm-blockdev-error");
}

static bool node_valid(const char *s)
{
	size_t len = strlen(s);

	return len > 0 && len <= BLOCKDEV_NODE_MAX && g_ascii_isalpha(s[0]) &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") ==
		       len;
}

/* The key=value pairs of one -blockdev, each key known and given at most once. */
static int blockdev_split(const char *arg, GHashTable *kv, GError **err)
{
	static const char *const keys[] = {"driver", "node-name", "filename", "read-only"};
	g_auto(GStrv) parts = g_strsplit(arg, ",", -1);

	for (unsigned i = 0; parts[i]; i++) {
		char *eq = strchr(parts[i], '=');

		if (!eq || eq == parts[i]) {
			g_set_error(err, BLOCKDEV_ERROR, 0,
				    "-blockdev %s: '%s' is not of the form name=value", arg,
				    parts[i]);
			return -EINVAL;
		}
		*eq = '\0';
		if (!g_strv_contains(keys, parts[i])) {
			g_set_error(err, BLOCKDEV_ERROR, 0,
				    "-blockdev %s: unknown property '%s'; valid: driver, "
				    "node-name, filename, read-only",
				    arg, parts[i]);
			return -EINVAL;
		}
		if (!g_hash_table_insert(kv, g_strdup(parts[i]), g_strdup(eq + 1))) {
			g_set_error(err, BLOCKDEV_ERROR, 0, "-blockdev %s: '%s' given twice", arg,
				    parts[i]);
			return -EINVAL;
		}
	}
	return 0;
}

static int blockdev_fill(struct blockdev *b, const char *arg, GHashTable *kv, GError **err)
{
	const char *driver = g_hash_table_lookup(kv, "driver");
	const char *ro = g_hash_table_lookup(kv, "read-only");
	const char *missing = !driver ? "driver=file" : NULL;

	if (driver && strcmp(driver, "file") != 0) {
		g_set_error(err, BLOCKDEV_ERROR, 0,
			    "-blockdev %s: driver '%s' is not supported; the only driver is "
			    "'file' (a raw image)",
			    arg, driver);
		return -EINVAL;
	}
	if (ro && strcmp(ro, "on") != 0 && strcmp(ro, "off") != 0) {
		g_set_error(err, BLOCKDEV_ERROR, 0,
			    "-blockdev %s: read-only must be on or off, not '%s'", arg, ro);
		return -EINVAL;
	}
	b->node = g_strdup(g_hash_table_lookup(kv, "node-name"));
	b->filename = g_strdup(g_hash_table_lookup(kv, "filename"));
	b->read_only = ro && !strcmp(ro, "on");
	if (!missing && !b->node)
		missing = "node-name";
	if (!missing && (!b->filename || !*b->filename))
		missing = "filename";
	if (missing) {
		g_set_error(err, BLOCKDEV_ERROR, 0,
			    "-blockdev %s: missing %s; the form is "
			    "driver=file,node-name=NODE,filename=PATH[,read-only=on]",
			    arg, missing);
		return -EINVAL;
	}
	return 0;
}

static int blockdev_check_node(const struct blockdevs *bds, const struct blockdev *b,
			       const char *arg, GError **err)
{
	if (!node_valid(b->node)) {
		g_set_error(err, BLOCKDEV_ERROR, 0,
			    "-blockdev %s: invalid node-name '%s' (1 to %d of A-Z a-z 0-9 _ . -, "
			    "starting with a letter)",
			    arg, b->node, BLOCKDEV_NODE_MAX);
		return -EINVAL;
	}
	if (blockdev_find(bds, b->node)) {
		g_set_error(err, BLOCKDEV_ERROR, 0,
			    "-blockdev: node-name '%s' is used twice; give each -blockdev its "
			    "own node-name",
			    b->node);
		return -EINVAL;
	}
	return 0;
}

int blockdev_parse(struct blockdevs *bds, const char *arg, GError **err)
{
	g_autoptr(GHashTable) kv = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	struct blockdev *b = g_new0(struct blockdev, 1);
	int ret;

	b->fd = -1;
	ret = blockdev_split(arg, kv, err);
	if (ret == 0)
		ret = blockdev_fill(b, arg, kv, err);
	if (ret == 0)
		ret = blockdev_check_node(bds, b, arg, err);
	if (ret < 0) {
		blockdev_free(b);
		return ret;
	}
	g_ptr_array_add(bds->nodes, b);
	return 0;
}

static int blockdev_open(struct blockdev *b, GError **err)
{
	struct stat st;

	b->fd = open(b->filename, (b->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOCTTY);
	if (b->fd < 0) {
		int e = errno;

		g_set_error(err, BLOCKDEV_ERROR, 0,
			    "-blockdev node '%s': cannot open '%s' for %s: "
			    "%s%s",
			    b->node, b->filename,
			    b->read_only ? "reading"
					 : "reading and "
					   "writing",
			    g_strerror(e),
			    e == EACCES && !b->read_only ? " (add read-only=on to use it read-only)"
							 : "");
		return -e;
	}
	if (fstat(b->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		g_set_error(err, BLOCKDEV_ERROR, 0,
			    "-blockdev node '%s': '%s' is not a regular "
			    "file (only raw image files are supported)",
			    b->node, b->filename);
		return -EINVAL;
	}
	return 0;
}

int blockdevs_open(struct blockdevs *bds, GError **err)
{
	for (unsigned i = 0; i < bds->nodes->len; i++) {
		int ret = blockdev_open(g_ptr_array_index(bds->nodes, i), err);

		if (ret < 0)
			return ret;
	}
	return 0;
}

/* The device an option describes: its type, id and properties (strings). */
struct blockdev_user {
	const char *type, *id;
	json_object *props;
};

static const char *opt_prop(const struct blockdev_user *o, const char *name)
{
	json_object *v;

	return json_object_object_get_ex(o->props, name, &v) ? json_object_get_string(v) : NULL;
}

static int blockdev_bind(struct blockdev *b, const struct blockdev_user *o, GError **err)
{
	const char *ro = opt_prop(o, "read-only");
	g_autofree char *fd = NULL;

	if (b->user) {
		g_set_error(err, BLOCKDEV_ERROR, 0,
			    "%s '%s': drive '%s' is already used by '%s'; a "
			    "node backs one device",
			    o->type, o->id, b->node, b->user);
		return -EINVAL;
	}
	if (ro && !strcmp(ro, "off") && b->read_only) {
		g_set_error(err, BLOCKDEV_ERROR, 0,
			    "%s '%s': read-only=off, but drive '%s' is "
			    "read-only",
			    o->type, o->id, b->node);
		return -EINVAL;
	}
	b->user = g_strdup(o->id);
	fd = g_strdup_printf("%d", b->fd);
	json_object_object_del(o->props, "drive");
	json_object_object_add(o->props, "fd", json_object_new_string(fd));
	if (!ro && b->read_only)
		json_object_object_add(o->props, "read-only", json_object_new_string("on"));
	return 0;
}

/*
 * A virtio-blk's num-queues, refused here where the message can say why (the model
 * refuses the same values with a bare -EINVAL; see VIRTIO_BLK_MAX_QUEUES).
 */
static int blockdev_check_queues(const struct blockdev_user *o, GError **err)
{
	const char *s = opt_prop(o, "num-queues");

	if (!s || g_ascii_string_to_unsigned(s, 10, 1, VIRTIO_BLK_MAX_QUEUES, NULL, NULL))
		return 0;
	g_set_error(err, BLOCKDEV_ERROR, 0,
		    "%s '%s': num-queues=%s is not from 1 to %u: a device process gets each "
		    "queue's doorbell as an eventfd, and one vfio-user GET_REGION_IO_FDS reply "
		    "carries at most %u of them (the in-VMM device has the same limit)",
		    o->type, o->id, s, VIRTIO_BLK_MAX_QUEUES, VIRTIO_BLK_MAX_QUEUES);
	return -EINVAL;
}

/*
 * drive=NODE becomes fd=N (and read-only=on for a read-only node).  virtio-blk needs a
 * drive; nobody may give fd= by hand, since the number would name one of our fds.
 */
int blockdev_resolve(struct blockdevs *bds, const char *type, const char *id, json_object *props,
		     GError **err)
{
	const struct blockdev_user user = {.type = type, .id = id, .props = props};
	const struct blockdev_user *o = &user;
	const char *drive = opt_prop(o, "drive");
	struct blockdev *b;

	if (opt_prop(o, "fd")) {
		g_set_error(err, BLOCKDEV_ERROR, 0,
			    "%s '%s': fd= is set by the process; use "
			    "drive=NODE with a -blockdev instead",
			    o->type, o->id);
		return -EINVAL;
	}
	if (!drive && strcmp(o->type, "virtio-blk") != 0)
		return 0;
	if (!strcmp(o->type, "virtio-blk") && blockdev_check_queues(o, err) < 0)
		return -EINVAL;
	if (!drive || !*drive) {
		g_set_error(err, BLOCKDEV_ERROR, 0,
			    "%s '%s': missing drive; add drive=NODE and "
			    "-blockdev driver=file,node-name=NODE,filename=PATH",
			    o->type, o->id);
		return -EINVAL;
	}
	b = blockdev_find(bds, drive);
	if (!b) {
		g_set_error(err, BLOCKDEV_ERROR, 0,
			    "%s '%s': drive '%s' is not a -blockdev "
			    "node-name",
			    o->type, o->id, drive);
		return -ENOENT;
	}
	return blockdev_bind(b, o, err);
}

int blockdevs_check_used(const struct blockdevs *bds, GError **err)
{
	for (unsigned i = 0; i < bds->nodes->len; i++) {
		const struct blockdev *b = g_ptr_array_index(bds->nodes, i);

		if (!b->user) {
			g_set_error(err, BLOCKDEV_ERROR, 0,
				    "-blockdev node '%s' is not used by any "
				    "-device; add drive=%s to one, or remove it",
				    b->node, b->node);
			return -EINVAL;
		}
	}
	return 0;
}
