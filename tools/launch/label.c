// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * label: SELinux for the launcher (tools/selinux/mpvmm.te is the policy).  When the
 * description asks for labels, it refuses to go on unless SELinux is enabled, picks the
 * VM's category pair cN,cM (N < M, from c0..c1023, held by no running mpvmm process:
 * their contexts are read from /proc and a colliding pick is retried, as sVirt does),
 * computes the contexts of mpvmm (mpvmm_t), of each class process (mpvmm_CLASS_t) and of
 * the sockets (mpvmm_t), all at s0:cN,cM, and labels every image mpvmm_image_t:s0:cN,cM
 * (read-only ones too).  An image labeled for another running VM is refused.
 * Launchers on one host take LAUNCH_LOCK (flock) from reading the running pairs until
 * their mpvmm runs with its pair, so two cannot pick the same one.
 * It does not load policy or label the kernel; it sets no context for processes it
 * does not start.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <selinux/context.h>
#include <selinux/selinux.h>

#include "tools/launch/launch.h"

#define LAUNCH_PICK_TRIES 1024

/* "N" with 0 <= N <= LAUNCH_CAT_MAX, no sign, no leading zero; the rest in *end. */
static int parse_cat(const char *s, const char **end)
{
	int v = 0;

	if (*s != 'c' || s[1] < '0' || s[1] > '9' || (s[1] == '0' && s[2] >= '0' && s[2] <= '9'))
		return -EINVAL;
	for (s++; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (*s - '0');
		if (v > LAUNCH_CAT_MAX)
			return -ERANGE;
	}
	*end = s;
	return v;
}

int launch_label_parse_pair(const char *s, int cat[2])
{
	const char *p;
	int a = parse_cat(s, &p), b;

	if (a < 0 || *p != ',')
		return -EINVAL;
	b = parse_cat(p + 1, &p);
	if (b < 0 || *p || a >= b)
		return -EINVAL;
	cat[0] = a;
	cat[1] = b;
	return 0;
}

int launch_label_context_pair(const char *context, int cat[2])
{
	const char *p = context;

	for (int colons = 0; p && colons < 3; colons++) {
		p = strchr(p, ':');
		if (p)
			p++;
	}
	if (!p || strncmp(p, "s0:", 3) || launch_label_parse_pair(p + 3, cat) < 0)
		return -ENOENT;
	return 0;
}

static bool pair_used(const int *used, unsigned nr, int a, int b)
{
	for (unsigned i = 0; i < nr; i++) {
		if (used[2 * i] == a && used[2 * i + 1] == b)
			return true;
	}
	return false;
}

/* A set of pairs: key a * 1024 + b + 1 (never 0, which GHashTable cannot tell from none). */
static gpointer pair_key(int a, int b)
{
	return GINT_TO_POINTER(a * (LAUNCH_CAT_MAX + 1) + b + 1);
}

int launch_label_pick_pair(const int *used, unsigned nr_used, GRand *rand, int cat[2])
{
	g_autoptr(GHashTable) taken = g_hash_table_new(NULL, NULL);

	for (unsigned i = 0; i < nr_used; i++)
		g_hash_table_add(taken, pair_key(used[2 * i], used[2 * i + 1]));
	for (unsigned i = 0; i < LAUNCH_PICK_TRIES; i++) {
		int a = g_rand_int_range(rand, 0, LAUNCH_CAT_MAX + 1);
		int b = g_rand_int_range(rand, 0, LAUNCH_CAT_MAX + 1);

		if (a == b || g_hash_table_contains(taken, pair_key(MIN(a, b), MAX(a, b))))
			continue;
		cat[0] = MIN(a, b);
		cat[1] = MAX(a, b);
		return 0;
	}
	/* Nearly all pairs are taken: look for a free one in order. */
	for (int a = 0; a < LAUNCH_CAT_MAX; a++) {
		for (int b = a + 1; b <= LAUNCH_CAT_MAX; b++) {
			if (!g_hash_table_contains(taken, pair_key(a, b))) {
				cat[0] = a;
				cat[1] = b;
				return 0;
			}
		}
	}
	return -ENOSPC;
}

/* The pairs of every running process whose type starts with mpvmm_. */
static GArray *running_pairs(void)
{
	GArray *used = g_array_new(FALSE, FALSE, sizeof(int));
	GDir *dir = g_dir_open("/proc", 0, NULL);
	const char *name;

	while (dir && (name = g_dir_read_name(dir))) {
		char *con = NULL;
		int cat[2];
		context_t c;

		if (strspn(name, "0123456789") != strlen(name) ||
		    getpidcon((pid_t)atoi(name), &con) < 0)
			continue;
		c = context_new(con);
		if (c && g_str_has_prefix(context_type_get(c), "mpvmm_") &&
		    launch_label_context_pair(con, cat) == 0)
			g_array_append_vals(used, cat, 2);
		if (c)
			context_free(c);
		freecon(con);
	}
	if (dir)
		g_dir_close(dir);
	return used;
}

/* user:role:type:s0:cN,cM, checked against the loaded policy. */
static char *make_context(const char *user, const char *role, const char *type, const int cat[2],
			  GError **err)
{
	char *con = g_strdup_printf("%s:%s:%s:s0:c%d,c%d", user, role, type, cat[0], cat[1]);

	if (security_check_context(con) < 0) {
		g_set_error(err, LAUNCH_ERROR, 0,
			    "selinux: the loaded policy rejects the context "
			    "%s; is the mpvmm module installed (semodule -i mpvmm.pp) and may "
			    "user %s have role %s and role %s type %s? (docs/security.md)",
			    con, user, role, role, type);
		g_free(con);
		return NULL;
	}
	return con;
}

/* Label one image mpvmm_image_t:s0:cN,cM, keeping its SELinux user. */
static int label_image(const char *path, const int cat[2], const GArray *used, GError **err)
{
	char *old = NULL;
	g_autofree char *con = NULL;
	const char *user = "system_u";
	context_t c = NULL;
	int theirs[2], ret;

	if (getfilecon(path, &old) < 0) {
		ret = -errno;
		g_set_error(err, LAUNCH_ERROR, 0, "selinux: cannot read the label of image %s: %s",
			    path, g_strerror(-ret));
		return ret;
	}
	c = context_new(old);
	if (c)
		user = context_user_get(c);
	if (c && !strcmp(context_type_get(c), "mpvmm_image_t") &&
	    launch_label_context_pair(old, theirs) == 0 &&
	    (theirs[0] != cat[0] || theirs[1] != cat[1]) &&
	    pair_used((const int *)(const void *)used->data, used->len / 2, theirs[0], theirs[1])) {
		g_set_error(err, LAUNCH_ERROR, 0,
			    "selinux: image %s is labeled %s, the categories "
			    "of a running VM: an image serves one VM at a time; stop that VM or "
			    "use a copy",
			    path, old);
		ret = -EBUSY;
		goto out;
	}
	con = g_strdup_printf("%s:object_r:mpvmm_image_t:s0:c%d,c%d", user, cat[0], cat[1]);
	ret = setfilecon(path, con) < 0 ? -errno : 0;
	if (ret < 0)
		g_set_error(err, LAUNCH_ERROR, 0, "selinux: cannot label image %s %s: %s", path,
			    con, g_strerror(-ret));
out:
	if (c)
		context_free(c);
	freecon(old);
	return ret;
}

/* The contexts of every process and of the sockets, for the VM's pair. */
static int make_contexts(struct launch_vm *vm, GError **err)
{
	const char *user = vm->selinux.user, *role = vm->selinux.role;
	const int *cat = vm->selinux.cat;
	char *self = NULL;
	context_t c = NULL;
	int ret = -EINVAL;

	if ((!user || !role) && getcon(&self) == 0)
		c = context_new(self);
	if (c) {
		user = user ? user : context_user_get(c);
		role = role ? role : context_role_get(c);
	}
	if (!user || !role) {
		g_set_error(err, LAUNCH_ERROR, 0,
			    "selinux: cannot read the launcher's own context;"
			    " give \"user\" and \"role\" in \"selinux\"");
		goto out;
	}
	vm->vmm.context = make_context(user, role, "mpvmm_t", cat, err);
	vm->selinux.sock_context = vm->vmm.context ? g_strdup(vm->vmm.context) : NULL;
	for (unsigned i = 0; vm->vmm.context && i < vm->procs->len; i++) {
		struct launch_proc *p = vm->procs->pdata[i];
		g_autofree char *type = g_strdup_printf("mpvmm_%s_t", launch_class_name(p->cls));

		p->context = make_context(user, role, type, cat, err);
		if (!p->context)
			goto out;
	}
	ret = vm->vmm.context ? 0 : -EINVAL;
out:
	if (c)
		context_free(c);
	freecon(self);
	return ret;
}

/* The VM's pair: the one asked for, if free, or a free one picked at random. */
static int choose_pair(struct launch_vm *vm, const GArray *used, GError **err)
{
	const int *u = (const int *)(const void *)used->data;
	int *cat = vm->selinux.cat;
	g_autoptr(GRand) rand = NULL;

	if (cat[0] >= 0) {
		if (!pair_used(u, used->len / 2, cat[0], cat[1]))
			return 0;
		g_set_error(err, LAUNCH_ERROR, 0,
			    "selinux: categories c%d,c%d are those of a "
			    "running mpvmm process; give another pair or \"auto\"",
			    cat[0], cat[1]);
		return -EBUSY;
	}
	rand = g_rand_new(); /* seeded from /dev/urandom */
	if (launch_label_pick_pair(u, used->len / 2, rand, cat) < 0) {
		g_set_error(err, LAUNCH_ERROR, 0, "selinux: every category pair is in use");
		return -ENOSPC;
	}
	return 0;
}

/* Take LAUNCH_LOCK; it is released once mpvmm runs (or the launch failed). */
static int lock(struct launch_vm *vm, GError **err)
{
	int fd = open(LAUNCH_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	int ret;

	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		ret = -errno;
		g_set_error(err, LAUNCH_ERROR, 0,
			    "selinux: cannot lock %s to pick the VM's "
			    "categories: %s",
			    LAUNCH_LOCK, g_strerror(-ret));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	vm->selinux.lock_fd = fd;
	return 0;
}

void launch_label_unlock(struct launch_vm *vm)
{
	if (vm->selinux.lock_fd >= 0) {
		close(vm->selinux.lock_fd);
		vm->selinux.lock_fd = -1;
	}
}

int launch_label_prepare(struct launch_vm *vm, GError **err)
{
	g_autoptr(GArray) used = NULL;
	int ret;

	if (!vm->selinux.label)
		return 0;
	if (is_selinux_enabled() <= 0) {
		g_set_error(err, LAUNCH_ERROR, 0,
			    "selinux: the description asks for SELinux labels"
			    " (\"selinux\": {\"label\": true}) but SELinux is not enabled on this "
			    "host (no /sys/fs/selinux); nothing was started.  Run on a host with "
			    "SELinux enabled, or set \"label\": false (docs/security.md)");
		return -EOPNOTSUPP;
	}
	ret = lock(vm, err);
	if (ret < 0)
		return ret;
	used = running_pairs();
	ret = choose_pair(vm, used, err);
	if (ret >= 0)
		ret = make_contexts(vm, err);
	for (unsigned i = 0; ret >= 0 && i < vm->procs->len; i++) {
		struct launch_proc *p = vm->procs->pdata[i];

		for (unsigned j = 0; ret >= 0 && j < p->blockdevs->len; j++) {
			struct launch_blockdev *b = p->blockdevs->pdata[j];

			ret = label_image(b->filename, vm->selinux.cat, used, err);
		}
	}
	if (ret >= 0)
		g_info("%s: SELinux categories c%d,c%d", vm->name ? vm->name : "vm",
		       vm->selinux.cat[0], vm->selinux.cat[1]);
	return ret;
}

int launch_label_sockcreate(const char *context)
{
	if (!context && is_selinux_enabled() <= 0)
		return 0;
	return setsockcreatecon_raw(context) < 0 ? -errno : 0;
}

int launch_label_exec(const char *context)
{
	return setexeccon_raw(context) < 0 ? -errno : 0;
}
