/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * launch: tools/mpvmm-launch, the standalone launcher (issue 4, part 2a).  It reads one
 * VM's description in JSON (docs/launch.md), starts one device-class process per class
 * the VM uses (each hosting all of that VM's devices of its class) and mpvmm, connects
 * each pci-proxy-dev to its device over its own socketpair, waits for mpvmm, returns
 * its exit status and tears the class processes down.  Under SELinux it runs each
 * process in its domain with the VM's own category pair, creates the sockets with that
 * context and labels the images (label.c).
 * It is not a daemon and does not manage several VMs: one run is one VM, and devices of
 * different VMs never share a process.  It does not parse the class processes' or
 * mpvmm's option values beyond what the description's schema says; they check them.
 *
 * Files: desc.c (JSON -> struct launch_vm, every field checked), argv.c (command lines),
 * spawn.c (sockets, processes, waiting), label.c (SELinux), main.c (command line).
 * Errors for people are GErrors in LAUNCH_ERROR naming the JSON field, the reason and the
 * fix; functions return 0 or -errno.  Single-threaded.
 */
#ifndef MPVMM_TOOLS_LAUNCH_H
#define MPVMM_TOOLS_LAUNCH_H

#include <glib.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <signal.h>
#include <sys/types.h>

#define LAUNCH_ERROR (launch_error_quark())
GQuark launch_error_quark(void);

#define LAUNCH_ID_MAX 64
#define LAUNCH_CAT_MAX 1023 /* categories c0..c1023 (the MCS policies' range) */
/* Serializes launchers from picking a pair until their mpvmm runs with it. */
#define LAUNCH_LOCK "/run/lock/mpvmm-launch.lock"

enum launch_class {
	LAUNCH_MISC,
	LAUNCH_STORAGE,
	LAUNCH_NET,
	LAUNCH_NR_CLASSES,
};

struct launch_blockdev {
	char *node;	/* node-name */
	char *filename; /* the image */
	bool read_only;
	bool used; /* named by a device's drive= */
};

struct launch_device {
	char *type;
	char *id;
	GPtrArray *props; /* "key=value" strings (g_free), passed on as given */
	int vmm_fd;	  /* socketpair end for mpvmm, -1 until created */
	int dev_fd;	  /* socketpair end for the class process */
};

/* The ids a class process runs as: 1 to UINT32_MAX - 1, as remote/sandbox.c's --uid/--gid. */
#define LAUNCH_ID_MAX_VALUE (UINT32_MAX - 1)

struct launch_proc {
	enum launch_class cls;
	char *binary;	      /* NULL: mpvmm-CLASS from PATH */
	char *sandbox;	      /* --sandbox= value, NULL: the process's default */
	int64_t uid, gid;     /* from the description (passed as --uid/--gid), -1: none */
	GPtrArray *blockdevs; /* struct launch_blockdev * */
	GPtrArray *devices;   /* struct launch_device * */
	char *context;	      /* SELinux exec context, NULL: none */
	pid_t pid;	      /* 0 until started, again 0 once reaped */
};

struct launch_vmm {
	char *binary;	 /* NULL: mpvmm from PATH */
	GPtrArray *args; /* mpvmm's options from the description, in order (g_free) */
	char *context;
	pid_t pid;
};

struct launch_selinux {
	bool label;	    /* the description asks for labels */
	int cat[2];	    /* c<cat[0]>,c<cat[1]>, cat[0] < cat[1]; -1: pick one */
	char *user;	    /* NULL: the launcher's own */
	char *role;	    /* NULL: the launcher's own */
	char *sock_context; /* the socketpairs' context */
	int lock_fd;	    /* LAUNCH_LOCK held from the pick to mpvmm's exec, or -1 */
};

struct launch_vm {
	char *name;
	struct launch_vmm vmm;
	GPtrArray *procs; /* struct launch_proc * */
	struct launch_selinux selinux;
	int sigfd;	  /* signalfd for SIGCHLD, SIGINT, SIGTERM (spawn.c), -1 before */
	sigset_t oldmask; /* the signal mask before launch_start() */
};

/* desc.c: the description. */
const char *launch_class_name(enum launch_class cls);
/* Parse and check a whole description (@what names it in messages, e.g. its path). */
int launch_desc_parse(const char *json, const char *what, struct launch_vm **out, GError **err);
void launch_vm_free(struct launch_vm *vm);

/* argv.c: the command lines, fds numbered as the children will see them (3, 4, ...). */
GPtrArray *launch_vmm_argv(const struct launch_vm *vm);
GPtrArray *launch_proc_argv(const struct launch_proc *p);
/* The shell-quoted command line (for --dry-run and messages). */
char *launch_argv_string(const GPtrArray *argv);

/* spawn.c: sockets and processes.  Run as root, the launcher starts each class process
 * under its uid and gid (the description's, else the class's default: those of the user
 * and group mpvmm-CLASS, else 65100 + the class's index: remote/class_ids.h), switched in
 * the child before execve, so it never runs as root; otherwise under the launcher's own. */
int launch_start(struct launch_vm *vm, GError **err);
/* The uid and gid a launcher run as root gives class process @p. */
void launch_proc_ids(const struct launch_proc *p, uid_t *uid, gid_t *gid);
/* Not run as root: refuse a process's "uid"/"gid" other than ours (-EPERM). */
int launch_check_ids(const struct launch_vm *vm, GError **err);
/* Wait for mpvmm (forwarding SIGINT/SIGTERM), stop the rest; mpvmm's exit code. */
int launch_wait(struct launch_vm *vm);
/* Stop and reap whatever was started (after a failed start). */
void launch_stop(struct launch_vm *vm);

/* label.c: SELinux.  Fails unless SELinux is enabled; picks the category pair (unused
 * by any running mpvmm process), computes every context and labels the images. */
int launch_label_prepare(struct launch_vm *vm, GError **err);
/* Release the category lock launch_label_prepare() took (once mpvmm runs, or on failure). */
void launch_label_unlock(struct launch_vm *vm);
/* Parse "cN,cM" (N < M <= LAUNCH_CAT_MAX). */
int launch_label_parse_pair(const char *s, int cat[2]);
/* The pair of a context whose level is exactly s0:cN,cM; -ENOENT for any other. */
int launch_label_context_pair(const char *context, int cat[2]);
/* Pick a pair in c0..c1023 that no entry of @used (pairs, 2 ints each) holds. */
int launch_label_pick_pair(const int *used, unsigned nr_used, GRand *rand, int cat[2]);
/* The context of the sockets the thread creates next (NULL: the default again). */
int launch_label_sockcreate(const char *context);
/* The context of the thread's next execve (in a child; NULL: none). */
int launch_label_exec(const char *context);

#endif
