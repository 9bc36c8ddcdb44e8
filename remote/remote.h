/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internal to remote/: the pieces of a device-class process such as mpvmm-misc.  Not
 * a library header for other folders.
 *
 *   main.c        command line -> struct remote_devopt list (no sockets, no devices)
 *   remote.c      the process: creates devices and channels (at start and at run time),
 *                 runs the GLib main loop, exits on SIGTERM/SIGINT, when every channel
 *                 has closed, or when the control channel closes
 *   control.c     the QMP control channel (--control=FD, -qmp unix:PATH): query-status,
 *                 query-devices, device_add, device_del, query-sandbox, getfd, closefd
 *   channel.c     one device's socket: an inherited connected fd, or a listening path
 *                 that accepts one client at a time
 *   vfu_server.c  the vfio-user server of one connection: validates each request and
 *                 turns it into config-space and dev_* calls
 *   irq.c         a device's interrupts: the eventfds SET_IRQS gives, signalled by
 *                 irq_raise()/irq_set_intx()
 *   dmamap.c      DMA_MAP/DMA_UNMAP into the connection's gmem
 *   dma_msg.c     guest RAM shared without an fd, reached by DMA_READ/DMA_WRITE
 *   misc.c, storage.c, net.c  one per executable: the class's device table, its own
 *                 options and backends (struct remote_class)
 *   sandbox.c     confinement in order (docs/security.md), --uid/--gid/--sandbox, state
 *   sandbox_ns.c  namespaces, the empty read-only root, the pid-namespace reaper
 *   seccomp.c     the per-class syscall allowlists
 *   sandbox_hook.c  test builds only (-Dtest_hooks): --x-test-forbidden
 *
 * Threads: everything runs on the main-loop thread (GLib's worker thread, started
 * after the sandbox, only dispatches unix signals).
 */
#ifndef MPVMM_REMOTE_H
#define MPVMM_REMOTE_H

#include <glib.h>
#include <json-c/json.h>

#include "devices/devices.h"
#include "protocol/protocol.h"

/* One -device option, parsed and checked for form, not yet created. */
struct remote_devopt {
	char *type;
	char *id;
	char *socket;        /* as given: decimal fd or path */
	int fd;              /* >= 0 when socket is an fd number, else -1 */
	json_object *props;  /* remaining properties as strings (owned) */
};

void remote_devopt_clear(struct remote_devopt *o);

/* --- doorbells.c --------------------------------------------------------------- */
struct doorbells;

/*
 * One eventfd per doorbell of dev (dev->doorbells) when the device has ops->doorbell,
 * each watched in the thread-default GLib main context.  Doorbells that do not lie
 * inside their BAR are skipped with a warning.  -errno from eventfd().
 */
int doorbells_create(struct dev *dev, struct doorbells **out);
void doorbells_destroy(struct doorbells *db); /* NULL is a no-op */
/* Deliver every ring waiting on the eventfds without blocking; true if one fired. */
bool doorbells_poll(struct doorbells *db);
/*
 * The GET_REGION_IO_FDS sub-regions of BAR `region` (at most VFU_IO_FDS_MAX and
 * VFU_MAX_FDS; fd_index i is fds[i], one eventfd each, still owned by db).  Returns n.
 */
unsigned doorbells_io_fds(const struct doorbells *db, uint32_t region,
			  struct vfu_ioeventfd *subs, int *fds);

/* --- dma_msg.c ----------------------------------------------------------------- */
struct dma_msg;

/*
 * Guest RAM reached by DMA_READ/DMA_WRITE messages on one connection's socket (sock and
 * id borrowed, they outlive it).  Chunks are at most VFU_MAX_DATA_XFER bytes and the
 * client's max_data_xfer_size (dma_msg_set_max_xfer, from its VERSION).
 */
int dma_msg_create(const char *id, int sock, struct dma_msg **out);
void dma_msg_destroy(struct dma_msg *dm); /* logs the message counts (g_info) if any */
void dma_msg_set_max_xfer(struct dma_msg *dm, uint64_t client_max);
/* How long to wait for each reply (default 10000 ms) before the client counts as gone. */
void dma_msg_set_timeout(struct dma_msg *dm, int ms);
/*
 * The gmem_access_fn of a message-backed region (ctx: the dma_msg).  0; -EFAULT when
 * the client answered with an error; -EIO once the connection is broken (a malformed
 * or foreign reply, a second client command while one is kept, EOF, no reply within
 * 10 s), after which dma_msg_error() is that cause and the connection must be closed.
 */
int dma_msg_access(void *ctx, uint64_t gpa, void *buf, uint64_t len, bool write);
int dma_msg_error(const struct dma_msg *dm);
/* Commands sent so far: DMA_READ and DMA_WRITE messages. */
void dma_msg_count(const struct dma_msg *dm, uint64_t *reads, uint64_t *writes);
/*
 * A client command that arrived while we waited for a DMA reply, to be served before
 * the socket is read again (NULL if none); then dma_msg_pending_done() frees it.
 */
struct vfu_msg *dma_msg_pending(struct dma_msg *dm);
void dma_msg_pending_done(struct dma_msg *dm);

/* --- dmamap.c ------------------------------------------------------------------ */
/*
 * DMA_MAP / DMA_UNMAP already decoded: map d's fd (m->fds[0], taken on success) into
 * mem, or without an fd record a region reached through dm's messages, or remove the
 * exact mapping.  -errno for the error reply: -EEXIST (overlap), -ENOSPC, -EPERM (fd
 * not sealed against shrinking), -EINVAL (fd too small), -ENOENT (unmap of nothing
 * mapped).
 */
int dmamap_map(struct gmem *mem, struct dma_msg *dm, const char *id, struct vfu_msg *m,
	       const struct vfu_dma_map *d);
int dmamap_unmap(struct gmem *mem, const char *id, const struct vfu_dma_unmap *d);

/* --- irq.c -------------------------------------------------------------------- */
struct remote_irq;

/*
 * A device's interrupts: create it before the device (its struct irq goes in
 * dev_env.irq), then bind it to the device's config space, which sets the counts
 * GET_IRQ_INFO reports: INTx 1 if the interrupt pin is 1..4, MSI and MSI-X from their
 * capabilities.  Owns every eventfd it is given; destroy after the device.
 */
int remote_irq_create(const char *id, struct remote_irq **out);
struct irq *remote_irq_get(struct remote_irq *ri);
/* The remote_irq behind a device's env.irq, or NULL (no irq, or another kind). */
struct remote_irq *remote_irq_from(struct irq *irq);
int remote_irq_bind(struct remote_irq *ri, const struct pcicfg *cfg);
void remote_irq_destroy(struct remote_irq *ri);
/* VFIO_USER_DEVICE_GET_IRQ_INFO flags and count of an index (0, 0 when absent). */
void remote_irq_info(const struct remote_irq *ri, uint32_t index, uint32_t *flags,
		     uint32_t *count);
/*
 * A SET_IRQS request already checked by vfu_irq_set_decode().  -EINVAL when the index
 * lacks the range or the action (MASK/UNMASK of MSI and MSI-X, an eventfd on MASK).
 * fds kept are set to -1 in fds[]; the caller closes the rest.  ri may be NULL.
 */
int remote_irq_set(struct remote_irq *ri, const struct vfu_irq_set *s, const uint8_t *bools,
		   int *fds, unsigned nr_fds);
/* Device reset: the INTx line is low and unmasked; eventfds stay. */
void remote_irq_reset(struct remote_irq *ri);
/* After a config write: assert a high INTx line the guest just stopped disabling. */
void remote_irq_update(struct remote_irq *ri);

/* --- vfu_server.c ------------------------------------------------------------- */
struct vfu_server;

/*
 * Serve vfio-user for `dev` (borrowed) on the connected stream socket `sock`
 * (borrowed: the caller closes it after vfu_server_destroy).  Fresh per connection:
 * the client must start with VERSION.
 */
int vfu_server_create(struct dev *dev, int sock, struct vfu_server **out);
void vfu_server_destroy(struct vfu_server *srv);

/*
 * Receive one request and answer it.  Returns 0 to keep the connection, or -errno
 * when it must be closed: the peer went away (-ECONNRESET), a send failed, or the
 * request was malformed (logged once, answered with an error reply where one can be
 * addressed, -EPROTO).  With nowait, -EAGAIN at once when no request has started
 * arriving (the remote's busy-poll phase).
 */
int vfu_server_handle(struct vfu_server *srv, bool nowait);
/* Deliver pending doorbell rings (the remote's busy-poll phase); true if one fired. */
bool vfu_server_poll_doorbells(struct vfu_server *srv);

/* --- channel.c ---------------------------------------------------------------- */
struct channel;
typedef void (*channel_closed_fn)(void *opaque, struct channel *ch);

/*
 * socket=N: N must be an open, connected AF_UNIX stream socket; made close-on-exec.
 * Call before anything opens an fd of its own (GLib's main loop and signal sources
 * do), or a number that was never inherited may name one of ours.
 */
int channel_check_fd(const struct remote_devopt *o, GError **err);

/*
 * Serve `dev` (owned by the channel from now on, also on failure) on o->fd (checked
 * with channel_check_fd() already) or by listening on o->socket.  `closed` is called,
 * from the main loop, when a channel can serve no more: its inherited connection
 * closed.  A listening channel never closes.  Errors are for a human.
 */
int channel_create(const struct remote_devopt *o, struct dev *dev, channel_closed_fn closed,
		   void *opaque, struct channel **out, GError **err);
void channel_destroy(struct channel *ch);
const char *channel_id(const struct channel *ch);
/*
 * Serve one request if one is waiting on the channel's connection, without blocking
 * (the busy-poll phase of remote_run()).  true if a request was served.
 */
bool channel_poll(struct channel *ch);

/* --- entropy.c ---------------------------------------------------------------- */
/*
 * For a virtio-rng option: open /dev/urandom into *fd if it is still -1 (the caller
 * closes it once the devices exist) and set the option's fd property to it.
 */
int entropy_resolve(struct remote_devopt *o, int *fd, GError **err);

/* --- remote.c ----------------------------------------------------------------- */
struct remote;

/* Create every device and channel (nr may be 0); nothing is left behind on failure. */
int remote_create(const struct remote_devopt *opts, unsigned nr, struct remote **out,
		  GError **err);
/*
 * One more device and its channel, at run time (the control channel's device_add).
 * o->fd, when >= 0, is taken on success and on failure alike (the channel closes it).
 * -EEXIST when the id is in use; else dev_create()'s or channel_create()'s error.
 */
int remote_device_add(struct remote *r, const struct remote_devopt *o, GError **err);
/* Destroy a device, its channel (closing its socket) and its interrupts.  -ENOENT. */
int remote_device_del(struct remote *r, const char *id);
/* query-devices: [{"id", "type", "channel": "connected" | "closed" | "listening"}]. */
json_object *remote_devices_json(const struct remote *r);
/*
 * With a control channel the process runs with any number of devices (none too) and
 * does not exit when they close; the control channel ends it with remote_stop().
 */
void remote_set_controlled(struct remote *r, bool controlled);
/* Make remote_run() return at its next iteration.  Main-loop thread. */
void remote_stop(struct remote *r);
/*
 * Handle SIGTERM and SIGINT from now on (remote_run() does it too).  Starts GLib's
 * worker thread: call after sandbox_enter().  Until then pid 1 of a pid namespace
 * ignores them.
 */
void remote_watch_signals(struct remote *r);
/* Run until SIGTERM/SIGINT or until every channel has closed; returns the exit status. */
int remote_run(struct remote *r);
void remote_destroy(struct remote *r);

/* --- the class: misc.c, storage.c or net.c, one per executable ---------------- */
struct class_backends;

/*
 * What makes mpvmm-misc, mpvmm-storage and mpvmm-net differ besides dev_table: the
 * class's own command-line options and the backends they open (before the sandbox).
 * NULL hooks mean the class has none.
 */
struct remote_class {
	const char *name;  /* "misc", "storage", "net": picks the seccomp allowlist */
	const char *usage; /* --help lines of the class's own options, "" if none */
	struct class_backends *(*backends_new)(void);
	void (*backends_free)(struct class_backends *b); /* closes what it opened */
	/* opt is a class option: use arg -> 1; not a class option -> 0; bad -> -errno. */
	int (*parse)(struct class_backends *b, const char *opt, const char *arg, GError **err);
	/* Open the backends and hand each device its own (props); after channel_check_fd. */
	int (*resolve)(struct class_backends *b, struct remote_devopt *opts, unsigned nr,
		       GError **err);
};

extern const struct remote_class remote_class;

/* --- sandbox.c, sandbox_ns.c, seccomp.c: confinement (docs/security.md) -------- */
enum sandbox_mode { SANDBOX_ON, SANDBOX_LOG, SANDBOX_OFF };

/* What --uid, --gid, --sandbox asked for; filled by sandbox_parse(). */
struct sandbox_opts {
	enum sandbox_mode mode;
	long long uid, gid; /* -1: the class default (see sandbox_default_id()) */
	char *forbidden;    /* --x-test-forbidden=ACTION (test_hooks builds), or NULL */
};

/* The state the process reached; filled by sandbox_enter(), read by sandbox_state(). */
struct sandbox {
	const char *class;
	enum sandbox_mode mode;
	bool uid_set;       /* false: not root, the uid/gid step was skipped */
	unsigned long ns;   /* CLONE_NEW* flags of the namespaces entered */
	bool root_pivoted;  /* in an empty read-only tmpfs root */
	bool rlimits;       /* NOFILE, NPROC, CORE=0 set */
	bool caps_dropped;  /* every capability set and the bounding set empty */
	bool seccomp;       /* the class allowlist is loaded */
	const char *forbidden; /* armed test hook, or NULL */
};

/*
 * --uid=N, --gid=N, --sandbox=on|log|off (and --x-test-forbidden=ACTION in test_hooks
 * builds): 1 if arg was one of them, 0 if not, -EINVAL with a message for a bad value.
 */
int sandbox_parse(struct sandbox_opts *o, const char *arg, GError **err);
void sandbox_opts_clear(struct sandbox_opts *o);

/*
 * Confine this process, in the order of docs/security.md: uid/gid, namespaces with a
 * pid namespace and an empty read-only root, rlimits, capabilities, NO_NEW_PRIVS,
 * seccomp.  Call with every fd and backend acquired and no thread started (GLib's
 * worker thread starts with the first unix signal source: remote_run() adds them).
 * Forks once: returns 0 in the child, which is pid 1 of the new pid namespace and
 * serves; the parent never returns (it reaps the child and exits as it did, see
 * sandbox_ns.c).  With mode off only sb is filled.  Errors name the layer and the fix.
 */
int sandbox_enter(const struct sandbox_opts *o, const char *class, struct sandbox *sb,
		  GError **err);

/*
 * The sandbox state of this process as a new JSON object (the caller owns it): class,
 * mode, uid, gid, uid-step, namespaces, root, rlimits, caps-effective, caps-bounding,
 * no-new-privs, seccomp.  Live values where the kernel reports them to a confined
 * process (ids, capget, PR_GET_*), recorded ones otherwise.  For QMP query-sandbox.
 */
json_object *sandbox_state(const struct sandbox *sb);

/*
 * sandbox_ns.c: layer 2 (user, mnt, net, pid, ipc, uts namespaces, pivot_root into an
 * empty read-only tmpfs) and the fork into the pid namespace.  Returns 0 in the
 * child; the parent confines itself (sandbox_finish(reaper)) and reaps, never returning.
 */
int sandbox_ns_enter(struct sandbox *sb, GError **err);
/* sandbox.c: layers 3 to 6 for the serving process or, with reaper, the reaper. */
int sandbox_finish(struct sandbox *sb, bool reaper, GError **err);

/* seccomp.c: load the allowlist of `class` (mode on: kill-process; log: log). */
int seccomp_apply(const char *class, enum sandbox_mode mode);
/* seccomp.c: the tiny allowlist of the pid-namespace reaper (sandbox_ns.c). */
int seccomp_apply_reaper(enum sandbox_mode mode);

/*
 * sandbox_hook.c (test_hooks builds) / sandbox_nohook.c: arm the forbidden action a
 * test asked for; SIGUSR1 makes the serving process attempt it.  No-op without one.
 */
int sandbox_hook_parse(struct sandbox_opts *o, const char *arg, GError **err);
void sandbox_hook_arm(const struct sandbox *sb);

/* --- control.c ---------------------------------------------------------------- */
struct control;

/*
 * The control channel's QMP server for r (which from now on runs with any number of
 * devices, none too).  version: "MAJOR.MINOR.MICRO" for the greeting.  Serves nothing
 * until control_adopt() or control_listen().  -ENOMEM.
 */
int control_create(struct remote *r, const char *version, struct control **out);
/*
 * --control=FD: fd must be an open, connected AF_UNIX stream socket; made close-on-exec.
 * Call before anything opens an fd of its own (as channel_check_fd()).
 */
int control_check_fd(int fd, GError **err);
/* Serve QMP on the checked fd (taken); when it closes, remote_run() returns. */
int control_adopt(struct control *c, int fd, GError **err);
/* -qmp unix:PATH,server=on,wait=off: listen at path too (any number of clients). */
int control_listen(struct control *c, const char *path, GError **err);
void control_destroy(struct control *c); /* closes every client; NULL is a no-op */
/* query-sandbox's answer: a new object, or NULL while not confined ({"enabled": false}). */
typedef json_object *(*control_sandbox_fn)(void *ctx);
void control_set_sandbox(struct control *c, control_sandbox_fn fn, void *ctx);

/* The command line's control options. */
#define CONTROL_QMP_MAX 4
struct control_opts {
	int fd; /* --control=FD, else -1 */
	unsigned nr_paths;
	char *paths[CONTROL_QMP_MAX]; /* -qmp unix:PATH,server=on,wait=off */
};
#define CONTROL_OPTS_INIT { .fd = -1 }
/*
 * One argument of main()'s loop (next: the one after it, or NULL): 0 not ours, 1 used
 * arg, 2 used arg and next; -EINVAL with *err.
 */
int control_parse(struct control_opts *co, const char *arg, const char *next, GError **err);
void control_opts_clear(struct control_opts *co);
/*
 * The control channel the options ask for (*out NULL when none): adopt --control's fd
 * (checked already with control_check_fd()) and listen on each -qmp path.
 */
int control_start(struct remote *r, const struct control_opts *co, const char *version,
		  struct control **out, GError **err);

#define REMOTE_ERROR g_quark_from_static_string("mpvmm-remote-error")

#endif
