// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sandbox: confines a device-class process once it holds every fd and backend it
 * will open itself (docs/security.md).  The layers, in order: its own uid/gid, new
 * namespaces with an empty read-only root (sandbox_ns.c), rlimits, no capabilities,
 * NO_NEW_PRIVS, the class's seccomp allowlist (seccomp.c).  Also the --uid, --gid and
 * --sandbox options and the state report.  It does not choose what a class may call
 * (seccomp.c) nor run the pid-namespace reaper (sandbox_ns.c).
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include <cap-ng.h>

#include "remote/class_ids.h"
#include "remote/remote.h"

/* Descriptors a class process may hold: devices' sockets, eventfds, DMA_MAP memfds. */
#define SANDBOX_NOFILE 1024
/* Tasks per uid in the process's own user namespace: its threads and the reaper. */
#define SANDBOX_NPROC 16

static const char *const sandbox_modes[] = {"on", "log", "off"};

static int sandbox_parse_id(const char *name, const char *val, long long *out, GError **err)
{
	guint64 v;

	/* 0 is root and (uid_t)-1 means "unchanged" to setresuid(): neither is an id. */
	if (!g_ascii_string_to_unsigned(val, 10, 1, UINT32_MAX - 1, &v, NULL)) {
		g_set_error(err, REMOTE_ERROR, 0,
			    "--%s=%s: not a valid id; give a number from "
			    "1 to %u (an unprivileged %s of its own for this class)",
			    name, val, UINT32_MAX - 1, name);
		return -EINVAL;
	}
	*out = (long long)v;
	return 1;
}

int sandbox_parse(struct sandbox_opts *o, const char *arg, GError **err)
{
	if (g_str_has_prefix(arg, "--uid="))
		return sandbox_parse_id("uid", arg + 6, &o->uid, err);
	if (g_str_has_prefix(arg, "--gid="))
		return sandbox_parse_id("gid", arg + 6, &o->gid, err);
	if (g_str_has_prefix(arg, "--sandbox=")) {
		for (unsigned i = 0; i < G_N_ELEMENTS(sandbox_modes); i++) {
			if (!strcmp(arg + 10, sandbox_modes[i])) {
				o->mode = i;
				return 1;
			}
		}
		g_set_error(err, REMOTE_ERROR, 0,
			    "--sandbox=%s: unknown mode; use on (the "
			    "default), log (seccomp logs instead of killing) or off",
			    arg + 10);
		return -EINVAL;
	}
	return sandbox_hook_parse(o, arg, err);
}

void sandbox_opts_clear(struct sandbox_opts *o)
{
	g_clear_pointer(&o->forbidden, g_free);
}

/* Layer 1: the class's own uid and gid, no supplementary groups; skipped when not root. */
static int sandbox_ids(const struct sandbox_opts *o, struct sandbox *sb, GError **err)
{
	/* Without --uid/--gid: the class's own (class_ids.h). */
	uid_t uid = o->uid >= 0 ? (uid_t)o->uid : class_default_uid(sb->class);
	gid_t gid = o->gid >= 0 ? (gid_t)o->gid : class_default_gid(sb->class);

	if (geteuid() != 0) {
		if ((o->uid >= 0 && (uid_t)o->uid != geteuid()) ||
		    (o->gid >= 0 && (gid_t)o->gid != getegid())) {
			g_set_error(err, REMOTE_ERROR, 0,
				    "sandbox uid/gid: --uid/--gid need root "
				    "(running as uid %u); start as root or drop the options",
				    geteuid());
			return -EPERM;
		}
		return 0;
	}
	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
	    setresuid(uid, uid, uid) < 0) {
		int e = errno;

		g_set_error(err, REMOTE_ERROR, 0,
			    "sandbox uid/gid: cannot switch to uid %u gid "
			    "%u: %s; give other ids with --uid/--gid, or --sandbox=off to run "
			    "unconfined",
			    uid, gid, g_strerror(e));
		return -e;
	}
	sb->uid_set = true;
	return 0;
}

/* Layer 3: no more fds than a class needs, a few tasks, no core dumps (they hold guest data). */
static int sandbox_rlimits(struct sandbox *sb, GError **err)
{
	static const struct {
		int res;
		const char *name;
		rlim_t max;
	} lims[] = {
		{RLIMIT_NOFILE, "NOFILE", SANDBOX_NOFILE},
		{RLIMIT_NPROC, "NPROC", SANDBOX_NPROC},
		{RLIMIT_CORE, "CORE", 0},
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(lims); i++) {
		struct rlimit rl;

		if (getrlimit(lims[i].res, &rl) < 0)
			return -errno;
		/* Only lower: never raise a limit someone set tighter. */
		rl.rlim_max = MIN(rl.rlim_max, lims[i].max);
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(lims[i].res, &rl) < 0) {
			int e = errno;

			g_set_error(err, REMOTE_ERROR, 0,
				    "sandbox rlimits: cannot set RLIMIT_%s: "
				    "%s; use --sandbox=off to run unconfined",
				    lims[i].name, g_strerror(e));
			return -e;
		}
	}
	sb->rlimits = true;
	return 0;
}

/* Layers 4 and 5: no capability in any set nor the bounding set; no gaining any by exec. */
static int sandbox_caps(struct sandbox *sb, GError **err)
{
	capng_clear(CAPNG_SELECT_ALL);
	if (capng_apply(CAPNG_SELECT_ALL) != 0) {
		g_set_error(err, REMOTE_ERROR, 0,
			    "sandbox capabilities: libcap-ng cannot drop "
			    "the capability and bounding sets; use --sandbox=off to run "
			    "unconfined");
		return -EPERM;
	}
	sb->caps_dropped = true;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		int e = errno;

		g_set_error(err, REMOTE_ERROR, 0,
			    "sandbox no_new_privs: PR_SET_NO_NEW_PRIVS "
			    "failed: %s; use --sandbox=off to run unconfined",
			    g_strerror(e));
		return -e;
	}
	return 0;
}

/* Layers 3 to 6, in the serving child and (with the reaper's allowlist) the reaper. */
int sandbox_finish(struct sandbox *sb, bool reaper, GError **err)
{
	int ret = sandbox_rlimits(sb, err);

	if (ret >= 0)
		ret = sandbox_caps(sb, err);
	if (ret >= 0) {
		ret = reaper ? seccomp_apply_reaper(sb->mode) : seccomp_apply(sb->class, sb->mode);
		if (ret < 0)
			g_set_error(err, REMOTE_ERROR, 0,
				    "sandbox seccomp: cannot load the %s "
				    "allowlist: %s; use --sandbox=off to run unconfined",
				    reaper ? "reaper" : sb->class, g_strerror(-ret));
	}
	sb->seccomp = ret >= 0;
	return ret;
}

int sandbox_enter(const struct sandbox_opts *o, const char *class, struct sandbox *sb, GError **err)
{
	int ret;

	memset(sb, 0, sizeof(*sb));
	sb->class = class;
	sb->mode = o->mode;
	sb->forbidden = o->forbidden;
	if (o->mode == SANDBOX_OFF)
		return 0;
	/*
	 * Log lines carry local time.  Without TZ, glibc re-reads /etc/localtime at every
	 * localtime(); with TZ naming that file it reads it once, here, while it can.
	 */
	if (!g_getenv("TZ"))
		g_setenv("TZ", ":/etc/localtime", TRUE);
	tzset();
	/* GLib reads charset.alias and glibc the gconv cache on first use: use them now. */
	g_get_charset(NULL);
	g_free(g_locale_from_utf8("mpvmm", -1, NULL, NULL, NULL));
	ret = sandbox_ids(o, sb, err);
	if (ret >= 0)
		ret = sandbox_ns_enter(sb, err); /* forks: the reaper does not return */
	if (ret >= 0)
		ret = sandbox_finish(sb, false, err);
	return ret;
}

static json_object *sandbox_ns_names(unsigned long ns)
{
	static const struct {
		unsigned long flag;
		const char *name;
	} names[] = {
		{CLONE_NEWUSER, "user"}, {CLONE_NEWNS, "mnt"},	{CLONE_NEWNET, "net"},
		{CLONE_NEWPID, "pid"},	 {CLONE_NEWIPC, "ipc"}, {CLONE_NEWUTS, "uts"},
	};
	json_object *a = json_object_new_array();

	for (unsigned i = 0; i < G_N_ELEMENTS(names); i++)
		if (ns & names[i].flag)
			json_object_array_add(a, json_object_new_string(names[i].name));
	return a;
}

/* Capability masks from the kernel itself: capget() and PR_CAPBSET_READ, no /proc. */
static void sandbox_caps_now(uint64_t *eff, uint64_t *bnd)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2] = {{0}};

	*eff = 0;
	*bnd = 0;
	if (syscall(SYS_capget, &hdr, data) == 0)
		*eff = data[0].effective | (uint64_t)data[1].effective << 32;
	for (int cap = 0; cap < 64; cap++) {
		int r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);

		if (r < 0) /* EINVAL past the kernel's last capability */
			break;
		*bnd |= (uint64_t)(r == 1) << cap;
	}
}

json_object *sandbox_state(const struct sandbox *sb)
{
	json_object *o = json_object_new_object();
	int seccomp = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
	uint64_t eff, bnd;

	sandbox_caps_now(&eff, &bnd);
	json_object_object_add(o, "class", json_object_new_string(sb->class));
	json_object_object_add(o, "mode", json_object_new_string(sandbox_modes[sb->mode]));
	json_object_object_add(o, "uid", json_object_new_int64(getuid()));
	json_object_object_add(o, "gid", json_object_new_int64(getgid()));
	json_object_object_add(o, "uid-step",
			       json_object_new_string(sb->uid_set ? "applied"
						      : sb->mode == SANDBOX_OFF
							      ? "off"
							      : "skipped: not started as root"));
	json_object_object_add(o, "namespaces", sandbox_ns_names(sb->ns));
	json_object_object_add(
		o, "root",
		json_object_new_string(sb->root_pivoted ? "empty read-only tmpfs" : "host"));
	json_object_object_add(o, "rlimits", json_object_new_boolean(sb->rlimits));
	json_object_object_add(o, "caps-effective", json_object_new_uint64(eff));
	json_object_object_add(o, "caps-bounding", json_object_new_uint64(bnd));
	json_object_object_add(
		o, "no-new-privs",
		json_object_new_boolean(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1));
	json_object_object_add(o, "seccomp",
			       json_object_new_string(seccomp != 2 ? "none"
						      : sb->mode == SANDBOX_LOG
							      ? "filter, log"
							      : "filter, kill-process"));
	if (sb->forbidden)
		json_object_object_add(o, "x-test-forbidden",
				       json_object_new_string(sb->forbidden));
	return o;
}
