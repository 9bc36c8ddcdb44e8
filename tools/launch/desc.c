// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * desc: the VM description (docs/launch.md) parsed into struct launch_vm.  Every member
 * is checked here, before anything is started: its type, that it is known, that what is
 * required is there, ids (unique in the VM), classes, and that each device belongs to
 * its process's class.  Each error names the member by its path
 * ("processes[1].devices[0].id"), the reason and the fix.  It does not check what
 * mpvmm or the class processes check themselves (sizes, the kernel's format, files).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "devices/virtio.h"
#include "tools/launch/jfield.h"

G_DEFINE_QUARK(mpvmm - launch - error - quark, launch_error)

static const char *const class_names[LAUNCH_NR_CLASSES] = {"misc", "storage", "net"};

/* The devices each class process hosts (remote/misc.c, storage.c, net.c) and their
 * properties beyond type and id.  One table, so a new device is added in one place. */
struct dev_type {
	const char *type;
	enum launch_class cls;
	const char *const *props;
};
static const char *const blk_props[] = {"drive", "num-queues", NULL};
static const char *const no_props[] = {NULL};
static const struct dev_type dev_types[] = {
	{"pci-testdev", LAUNCH_MISC, no_props},
	{"virtio-rng", LAUNCH_MISC, no_props},
	{"virtio-blk", LAUNCH_STORAGE, blk_props},
};

const char *launch_class_name(enum launch_class cls)
{
	return class_names[cls];
}

static const struct dev_type *dev_type_find(const char *type)
{
	for (size_t i = 0; i < G_N_ELEMENTS(dev_types); i++) {
		if (!strcmp(dev_types[i].type, type))
			return &dev_types[i];
	}
	return NULL;
}

static void device_free(struct launch_device *d)
{
	g_free(d->type);
	g_free(d->id);
	g_ptr_array_unref(d->props);
	g_free(d);
}

static void blockdev_free(struct launch_blockdev *b)
{
	g_free(b->node);
	g_free(b->filename);
	g_free(b);
}

static void proc_free(struct launch_proc *p)
{
	g_free(p->binary);
	g_free(p->sandbox);
	g_free(p->context);
	g_ptr_array_unref(p->blockdevs);
	g_ptr_array_unref(p->devices);
	g_free(p);
}

void launch_vm_free(struct launch_vm *vm)
{
	if (!vm)
		return;
	g_free(vm->name);
	g_free(vm->vmm.binary);
	g_free(vm->vmm.context);
	g_ptr_array_unref(vm->vmm.args);
	g_ptr_array_unref(vm->procs);
	g_free(vm->selinux.user);
	g_free(vm->selinux.role);
	g_free(vm->selinux.sock_context);
	if (vm->selinux.lock_fd >= 0)
		close(vm->selinux.lock_fd);
	g_free(vm);
}

/* The class process's blockdev named @node, or NULL. */
static struct launch_blockdev *blockdev_find(struct launch_proc *p, const char *node)
{
	for (unsigned i = 0; i < p->blockdevs->len; i++) {
		struct launch_blockdev *b = p->blockdevs->pdata[i];

		if (!strcmp(b->node, node))
			return b;
	}
	return NULL;
}

/* A device's properties beyond type and id, checked against its type (dev_types). */
static int device_props(struct launch_proc *p, struct launch_device *d, json_object *o,
			const struct dev_type *t, const char *what, const char *path, GError **err)
{
	g_autofree char *drive = NULL;
	struct launch_blockdev *b;
	bool present;
	int64_t n;

	if (t->props != blk_props)
		return 0;
	if (jfield_id(o, "drive", true, what, path, &drive, err) < 0)
		return -EINVAL;
	b = blockdev_find(p, drive);
	if (!b)
		return jfield_fail(err, what, path,
				   "drive \"%s\" is not a blockdev of this "
				   "process; add {\"node-name\": \"%s\", \"filename\": ...} to its "
				   "\"blockdevs\"",
				   drive, drive);
	if (b->used)
		return jfield_fail(err, what, path,
				   "drive \"%s\" is used by another device; give "
				   "each device its own blockdev",
				   drive);
	b->used = true;
	g_ptr_array_add(d->props, g_strdup_printf("drive=%s", drive));
	/* at most one doorbell eventfd per queue in one vfio-user reply (devices/virtio.h) */
	if (jfield_int(o, "num-queues", 1, VIRTIO_BLK_MAX_QUEUES, what, path, &n, &present, err) <
	    0)
		return -EINVAL;
	if (present)
		g_ptr_array_add(d->props, g_strdup_printf("num-queues=%" G_GINT64_FORMAT, n));
	return 0;
}

/* Is @id the id of a device of the VM, or of @p (not yet in the VM), other than @self? */
static bool id_taken(const struct launch_vm *vm, const struct launch_proc *p,
		     const struct launch_device *self, const char *id)
{
	for (unsigned i = 0; i <= vm->procs->len; i++) {
		const struct launch_proc *q = i < vm->procs->len ? vm->procs->pdata[i] : p;

		for (unsigned j = 0; j < q->devices->len; j++) {
			const struct launch_device *d = q->devices->pdata[j];

			if (d != self && d->id && !strcmp(d->id, id))
				return true;
		}
	}
	return false;
}

static int parse_device(struct launch_vm *vm, struct launch_proc *p, json_object *o,
			const char *what, const char *path, GError **err)
{
	struct launch_device *d = g_new0(struct launch_device, 1);
	const char *known[8] = {"type", "id"};
	const struct dev_type *t;

	d->props = g_ptr_array_new_with_free_func(g_free);
	d->vmm_fd = d->dev_fd = -1;
	g_ptr_array_add(p->devices, d);
	if (jfield_str(o, "type", true, false, what, path, &d->type, err) < 0)
		return -EINVAL;
	t = dev_type_find(d->type);
	if (!t)
		return jfield_fail(err, what, path,
				   "unknown device type \"%s\"; types: pci-testdev,"
				   " virtio-rng (class misc), virtio-blk (class storage)",
				   d->type);
	if (t->cls != p->cls)
		return jfield_fail(err, what, path,
				   "a %s device belongs to a %s process, not to "
				   "this %s one; move it to the process of class \"%s\"",
				   d->type, launch_class_name(t->cls), launch_class_name(p->cls),
				   launch_class_name(t->cls));
	for (unsigned i = 0; t->props[i]; i++)
		known[2 + i] = t->props[i];
	if (jfield_keys(o, what, path, known, err) < 0 ||
	    jfield_id(o, "id", true, what, path, &d->id, err) < 0)
		return -EINVAL;
	if (id_taken(vm, p, d, d->id))
		return jfield_fail(err, what, path,
				   "id \"%s\" is used by another device of this "
				   "VM; give each device its own id",
				   d->id);
	return device_props(p, d, o, t, what, path, err);
}

static int parse_blockdev(struct launch_proc *p, json_object *o, const char *what, const char *path,
			  GError **err)
{
	static const char *const known[] = {"node-name", "filename", "read-only", NULL};
	struct launch_blockdev *b = g_new0(struct launch_blockdev, 1);
	g_autofree char *node = NULL;

	if (jfield_keys(o, what, path, known, err) < 0 ||
	    jfield_id(o, "node-name", true, what, path, &node, err) < 0) {
		blockdev_free(b);
		return -EINVAL;
	}
	if (blockdev_find(p, node)) {
		blockdev_free(b);
		return jfield_fail(err, what, path,
				   "node-name \"%s\" is used twice in this "
				   "process; give each blockdev its own name",
				   node);
	}
	b->node = g_steal_pointer(&node);
	g_ptr_array_add(p->blockdevs, b);
	if (jfield_str(o, "filename", true, false, what, path, &b->filename, err) < 0 ||
	    !jfield_bool(o, "read-only", what, path, false, &b->read_only, err))
		return -EINVAL;
	return 0;
}

/* Call @fn for each object of the array member @key of @o; @required: non-empty. */
typedef int (*launch_elem_fn)(struct launch_vm *vm, struct launch_proc *p, json_object *o,
			      const char *what, const char *path, GError **err);

static int parse_array(struct launch_vm *vm, struct launch_proc *p, json_object *o, const char *key,
		       bool required, launch_elem_fn fn, const char *what, const char *path,
		       GError **err)
{
	g_autofree char *apath = *path ? g_strdup_printf("%s.%s", path, key) : g_strdup(key);
	json_object *a;

	if (jfield_get(o, key, json_type_array, required, what, path, &a, err) < 0)
		return -EINVAL;
	if (!a)
		return 0;
	if (required && json_object_array_length(a) == 0)
		return jfield_fail(err, what, apath, "is empty; give at least one");
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *e = json_object_array_get_idx(a, i);
		g_autofree char *epath = g_strdup_printf("%s[%zu]", apath, i);

		if (!json_object_is_type(e, json_type_object))
			return jfield_fail(err, what, epath, "is %s, expected object",
					   json_type_to_name(json_object_get_type(e)));
		if (fn(vm, p, e, what, epath, err) < 0)
			return -EINVAL;
	}
	return 0;
}

static int device_elem(struct launch_vm *vm, struct launch_proc *p, json_object *o,
		       const char *what, const char *path, GError **err)
{
	return parse_device(vm, p, o, what, path, err);
}

static int blockdev_elem(struct launch_vm *vm, struct launch_proc *p, json_object *o,
			 const char *what, const char *path, GError **err)
{
	return parse_blockdev(p, o, what, path, err);
}

/* The process's class: known, and the VM's only process of that class. */
static int parse_class(struct launch_vm *vm, struct launch_proc *p, json_object *o,
		       const char *what, const char *path, GError **err)
{
	g_autofree char *cls = NULL;

	if (jfield_str(o, "class", true, false, what, path, &cls, err) < 0)
		return -EINVAL;
	for (p->cls = 0; p->cls < LAUNCH_NR_CLASSES; p->cls++) {
		if (!strcmp(cls, class_names[p->cls]))
			break;
	}
	if (p->cls == LAUNCH_NR_CLASSES)
		return jfield_fail(err, what, path,
				   "unknown class \"%s\"; classes: misc, storage, net", cls);
	for (unsigned i = 0; i < vm->procs->len; i++) {
		if (((struct launch_proc *)vm->procs->pdata[i])->cls == p->cls)
			return jfield_fail(err, what, path,
					   "a second process of class \"%s\"; one VM has one "
					   "process per class: put all its %s devices in one",
					   cls, cls);
	}
	return 0;
}

/*
 * "uid" and "gid": the ids the process runs as.  0 is root and UINT32_MAX is (uid_t)-1,
 * "unchanged" to setresuid(): neither is an id of its own (as remote/sandbox.c's --uid).
 */
static int parse_proc_ids(struct launch_proc *p, json_object *o, const char *what, const char *path,
			  GError **err)
{
	bool present; /* absent: -1 stays (jfield_int leaves it) */

	if (jfield_int(o, "uid", 1, LAUNCH_ID_MAX_VALUE, what, path, &p->uid, &present, err) < 0 ||
	    jfield_int(o, "gid", 1, LAUNCH_ID_MAX_VALUE, what, path, &p->gid, &present, err) < 0)
		return -EINVAL;
	return 0;
}

/* Members of a process other than its class and devices. */
static int parse_proc_opts(struct launch_proc *p, json_object *o, const char *what,
			   const char *path, GError **err)
{
	if (jfield_str(o, "binary", false, true, what, path, &p->binary, err) < 0 ||
	    jfield_str(o, "sandbox", false, false, what, path, &p->sandbox, err) < 0 ||
	    parse_proc_ids(p, o, what, path, err) < 0)
		return -EINVAL;
	if (p->sandbox && strcmp(p->sandbox, "on") && strcmp(p->sandbox, "log") &&
	    strcmp(p->sandbox, "off"))
		return jfield_fail(err, what, path, "sandbox \"%s\": use on, log or off",
				   p->sandbox);
	if (p->cls != LAUNCH_STORAGE && json_object_object_get_ex(o, "blockdevs", NULL))
		return jfield_fail(err, what, path, "blockdevs: only a storage process has images");
	return 0;
}

static int parse_proc(struct launch_vm *vm, struct launch_proc *unused, json_object *o,
		      const char *what, const char *path, GError **err)
{
	static const char *const known[] = {"class", "binary",	  "sandbox", "uid",
					    "gid",   "blockdevs", "devices", NULL};
	struct launch_proc *p = g_new0(struct launch_proc, 1);

	p->blockdevs = g_ptr_array_new_with_free_func((GDestroyNotify)blockdev_free);
	p->devices = g_ptr_array_new_with_free_func((GDestroyNotify)device_free);
	p->uid = p->gid = -1;
	if (jfield_keys(o, what, path, known, err) < 0 ||
	    parse_class(vm, p, o, what, path, err) < 0 ||
	    parse_proc_opts(p, o, what, path, err) < 0 ||
	    parse_array(vm, p, o, "blockdevs", false, blockdev_elem, what, path, err) < 0 ||
	    parse_array(vm, p, o, "devices", true, device_elem, what, path, err) < 0)
		goto out_free;
	for (unsigned i = 0; i < p->blockdevs->len; i++) {
		struct launch_blockdev *b = p->blockdevs->pdata[i];

		if (!b->used) {
			jfield_fail(err, what, path,
				    "blockdev \"%s\" is not used by any device; name it in a "
				    "device's \"drive\" or remove it",
				    b->node);
			goto out_free;
		}
	}
	g_ptr_array_add(vm->procs, p);
	return 0;
out_free:
	proc_free(p);
	return -EINVAL;
}

/* The vmm object: mpvmm's options, turned into its arguments in the schema's order. */
static int parse_vmm(struct launch_vm *vm, json_object *o, const char *what, GError **err)
{
	static const char *const known[] = {"binary",	"kernel",    "append",	"initrd",
					    "memory",	"smp",	     "machine", "serial",
					    "debugcon", "no-reboot", NULL};
	/* member, mpvmm option; strings, in the order they are passed */
	static const char *const opts[][2] = {
		{"memory", "-m"},	   {"kernel", "-kernel"},   {"append", "-append"},
		{"initrd", "-initrd"},	   {"machine", "-machine"}, {"serial", "-serial"},
		{"debugcon", "-debugcon"},
	};
	bool present, no_reboot;
	int64_t smp;

	if (jfield_keys(o, what, "vmm", known, err) < 0 ||
	    jfield_str(o, "binary", false, true, what, "vmm", &vm->vmm.binary, err) < 0)
		return -EINVAL;
	for (size_t i = 0; i < G_N_ELEMENTS(opts); i++) {
		char *v;

		if (jfield_str(o, opts[i][0], !strcmp(opts[i][0], "kernel"), true, what, "vmm", &v,
			       err) < 0)
			return -EINVAL;
		if (v) {
			g_ptr_array_add(vm->vmm.args, g_strdup(opts[i][1]));
			g_ptr_array_add(vm->vmm.args, v);
		}
	}
	if (jfield_int(o, "smp", 1, 255, what, "vmm", &smp, &present, err) < 0 ||
	    !jfield_bool(o, "no-reboot", what, "vmm", false, &no_reboot, err))
		return -EINVAL;
	if (present) {
		g_ptr_array_add(vm->vmm.args, g_strdup("-smp"));
		g_ptr_array_add(vm->vmm.args, g_strdup_printf("%" G_GINT64_FORMAT, smp));
	}
	if (no_reboot)
		g_ptr_array_add(vm->vmm.args, g_strdup("-no-reboot"));
	return 0;
}

/* SELinux user and role names: what a context allows there. */
static int selinux_name(json_object *o, const char *key, const char *what, char **out, GError **err)
{
	if (jfield_str(o, key, false, false, what, "selinux", out, err) < 0)
		return -EINVAL;
	if (*out &&
	    strspn(*out, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") !=
		    strlen(*out))
		return jfield_fail(err, what, "selinux",
				   "%s \"%s\" is not a SELinux name (letters, "
				   "digits, _)",
				   key, *out);
	return 0;
}

static int parse_selinux(struct launch_vm *vm, json_object *o, const char *what, GError **err)
{
	static const char *const known[] = {"label", "categories", "user", "role", NULL};
	g_autofree char *cats = NULL;

	if (jfield_keys(o, what, "selinux", known, err) < 0 ||
	    !jfield_bool(o, "label", what, "selinux", true, &vm->selinux.label, err) ||
	    jfield_str(o, "categories", false, true, what, "selinux", &cats, err) < 0 ||
	    selinux_name(o, "user", what, &vm->selinux.user, err) < 0 ||
	    selinux_name(o, "role", what, &vm->selinux.role, err) < 0)
		return -EINVAL;
	if (cats && strcmp(cats, "auto") && launch_label_parse_pair(cats, vm->selinux.cat) < 0)
		return jfield_fail(err, what, "selinux",
				   "categories \"%s\": use \"auto\" or "
				   "\"cN,cM\" with N < M <= %d",
				   cats, LAUNCH_CAT_MAX);
	return 0;
}

static int parse_top(struct launch_vm *vm, json_object *root, const char *what, GError **err)
{
	static const char *const known[] = {"name", "vmm", "processes", "selinux", NULL};
	json_object *o;

	if (!json_object_is_type(root, json_type_object))
		return jfield_fail(err, what, "", "the description is %s, expected an object",
				   json_type_to_name(json_object_get_type(root)));
	if (jfield_keys(root, what, "", known, err) < 0 ||
	    jfield_id(root, "name", false, what, "", &vm->name, err) < 0 ||
	    jfield_get(root, "vmm", json_type_object, true, what, "", &o, err) < 0 ||
	    parse_vmm(vm, o, what, err) < 0 ||
	    parse_array(vm, NULL, root, "processes", true, parse_proc, what, "", err) < 0 ||
	    jfield_get(root, "selinux", json_type_object, false, what, "", &o, err) < 0)
		return -EINVAL;
	return o ? parse_selinux(vm, o, what, err) : 0;
}

int launch_desc_parse(const char *json, const char *what, struct launch_vm **out, GError **err)
{
	struct json_tokener *tok = json_tokener_new();
	struct launch_vm *vm = g_new0(struct launch_vm, 1);
	json_object *root;
	size_t used;
	int ret;

	vm->vmm.args = g_ptr_array_new_with_free_func(g_free);
	vm->procs = g_ptr_array_new_with_free_func((GDestroyNotify)proc_free);
	vm->selinux.cat[0] = vm->selinux.cat[1] = -1;
	vm->sigfd = -1;
	vm->selinux.lock_fd = -1;
	root = json_tokener_parse_ex(tok, json, -1);
	used = json_tokener_get_parse_end(tok);
	if (!root || json[used + strspn(json + used, " \t\r\n")]) {
		enum json_tokener_error e = json_tokener_get_error(tok);

		ret = jfield_fail(err, what, "", "not valid JSON at byte %zu: %s", used,
				  root			       ? "text after the description"
				  : e == json_tokener_continue ? "the document ends too early"
							       : json_tokener_error_desc(e));
	} else {
		ret = parse_top(vm, root, what, err);
	}
	json_object_put(root);
	json_tokener_free(tok);
	if (ret < 0) {
		launch_vm_free(vm);
		return ret;
	}
	*out = vm;
	return 0;
}
