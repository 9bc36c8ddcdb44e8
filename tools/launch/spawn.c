// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * spawn: the processes of one VM.  One socketpair per device; each class process gets
 * its devices' ends as fds 3, 4, ..., mpvmm gets the other ends; each child runs in its
 * SELinux context when one was computed (label.c).  Run as root, the launcher switches
 * each class process to its own uid and gid before execve: the process then never holds
 * root, and its sandbox's uid step (which SELinux would deny it: no capability) has
 * nothing to do (docs/security.md).  Then it waits for mpvmm, forwarding
 * SIGINT and SIGTERM to it, and stops the class processes: they exit by themselves once
 * mpvmm's sockets close; any still running after a grace period gets SIGTERM, then
 * SIGKILL.  Signals arrive through a signalfd, so there is no handler and no global.
 * It does not restart anything, and does not talk vfio-user.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "remote/class_ids.h"
#include "tools/launch/launch.h"

#define LAUNCH_GRACE_MS 3000 /* for class processes to leave after mpvmm */
#define LAUNCH_TERM_MS 2000  /* after SIGTERM, before SIGKILL */

/* What a child reports up its pipe when it cannot exec: the step and -errno. */
enum child_step { CHILD_SETUP, CHILD_IDS, CHILD_EXEC };
struct child_report {
	int step;
	int err;
};

/* The ids a child switches to before execve; NULL: it keeps the launcher's. */
struct child_ids {
	uid_t uid;
	gid_t gid;
};

/* The description's ids, else the class's own, as the class binary picks them. */
void launch_proc_ids(const struct launch_proc *p, uid_t *uid, gid_t *gid)
{
	const char *cls = launch_class_name(p->cls);

	*uid = p->uid >= 0 ? (uid_t)p->uid : class_default_uid(cls);
	*gid = p->gid >= 0 ? (gid_t)p->gid : class_default_gid(cls);
}

/*
 * In the child: @fds[i] becomes fd 3 + i; everything else of ours is CLOEXEC.  Each is
 * first moved above the target range so no target clobbers a source (@fds is the
 * child's own copy of the array, so it is rewritten in place).
 */
static int child_place_fds(int *fds, unsigned nr)
{
	for (unsigned i = 0; i < nr; i++) {
		fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3 + (int)nr);
		if (fds[i] < 0)
			return -errno;
	}
	for (unsigned i = 0; i < nr; i++) {
		if (dup2(fds[i], 3 + (int)i) < 0)
			return -errno;
	}
	return 0;
}

/* In the child: no supplementary groups, then the gid, then the uid (it cannot come back). */
static int child_switch_ids(const struct child_ids *ids)
{
	if (setgroups(0, NULL) < 0 || setresgid(ids->gid, ids->gid, ids->gid) < 0 ||
	    setresuid(ids->uid, ids->uid, ids->uid) < 0)
		return -errno;
	return 0;
}

/*
 * In the child: set up, then exec; on failure send the step and -errno up @report and
 * exit 127.  The exec context is set before the ids change: it is the task's own
 * attribute, which a setuid() does not reset.
 */
static void child_run(char **argv, int *fds, unsigned nr, const char *context,
		      const struct child_ids *ids, const sigset_t *mask, int report)
{
	struct child_report r = {CHILD_SETUP, 0};

	r.err = sigprocmask(SIG_SETMASK, mask, NULL) < 0 ? -errno : 0;
	if (r.err >= 0)
		r.err = child_place_fds(fds, nr);
	if (r.err >= 0 && context)
		r.err = launch_label_exec(context);
	if (r.err >= 0 && ids) {
		r.step = CHILD_IDS;
		r.err = child_switch_ids(ids);
	}
	if (r.err >= 0) {
		r.step = CHILD_EXEC;
		execvp(argv[0], argv);
		r.err = -errno;
	}
	if (write(report, &r, sizeof(r)) < 0)
		_exit(126);
	_exit(127);
}

/* A child's report of why it did not exec, as a message for people. */
static void spawn_error(const char *cmd, const struct child_report *r, const char *context,
			const struct child_ids *ids, GError **err)
{
	if (r->step == CHILD_IDS)
		g_set_error(err, LAUNCH_ERROR, 0,
			    "cannot switch to uid %u gid %u to run %s: %s; "
			    "check the process's \"uid\" and \"gid\"",
			    ids->uid, ids->gid, cmd, g_strerror(-r->err));
	else
		g_set_error(err, LAUNCH_ERROR, 0,
			    "cannot run %s: %s; check the \"binary\" member or PATH%s%s", cmd,
			    g_strerror(-r->err),
			    ids ? " (and that the process's uid may execute it)" : "",
			    context ? " and that the SELinux context is allowed" : "");
}

/* Start @argv with @fds as 3, 4, ..., as @ids (NULL: ours); *pid on success. */
static int spawn(GPtrArray *argv, int *fds, unsigned nr, const char *context,
		 const struct child_ids *ids, const sigset_t *mask, pid_t *pid, GError **err)
{
	g_autofree char *cmd = launch_argv_string(argv);
	struct child_report r = {0};
	int pipefd[2];
	ssize_t n;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	*pid = fork();
	if (*pid == 0)
		child_run((char **)argv->pdata, fds, nr, context, ids, mask, pipefd[1]);
	close(pipefd[1]);
	if (*pid < 0) {
		r.err = -errno;
		close(pipefd[0]);
		g_set_error(err, LAUNCH_ERROR, 0, "cannot fork for %s: %s", cmd,
			    g_strerror(-r.err));
		return r.err;
	}
	/* EOF: exec succeeded (the pipe was CLOEXEC); else the child's report */
	do {
		n = read(pipefd[0], &r, sizeof(r));
	} while (n < 0 && errno == EINTR);
	close(pipefd[0]);
	if (n != sizeof(r))
		return 0;
	waitpid(*pid, NULL, 0);
	*pid = 0;
	spawn_error(cmd, &r, context, ids, err);
	return r.err;
}

static int start_proc(struct launch_vm *vm, struct launch_proc *p, GError **err)
{
	g_autoptr(GPtrArray) argv = launch_proc_argv(p);
	g_autofree int *fds = g_new(int, p->devices->len + 1);
	int ret;

	struct child_ids ids;

	launch_proc_ids(p, &ids.uid, &ids.gid);
	for (unsigned i = 0; i < p->devices->len; i++)
		fds[i] = ((struct launch_device *)p->devices->pdata[i])->dev_fd;
	/* Not root: the launcher's own ids (launch_check_ids() checked the description's). */
	ret = spawn(argv, fds, p->devices->len, p->context, geteuid() == 0 ? &ids : NULL,
		    &vm->oldmask, &p->pid, err);
	for (unsigned i = 0; i < p->devices->len; i++) {
		struct launch_device *d = p->devices->pdata[i];

		close(d->dev_fd);
		d->dev_fd = -1;
	}
	if (ret >= 0)
		g_info("%s: started %s (pid %d, uid %u, gid %u)", vm->name ? vm->name : "vm",
		       (char *)argv->pdata[0], p->pid, geteuid() == 0 ? ids.uid : geteuid(),
		       geteuid() == 0 ? ids.gid : getegid());
	return ret;
}

/*
 * Not run as root, the launcher cannot switch ids: a process's "uid" or "gid" other than
 * its own is refused before anything starts (the class process would refuse it too,
 * but only once started).
 */
int launch_check_ids(const struct launch_vm *vm, GError **err)
{
	if (geteuid() == 0)
		return 0;
	for (unsigned i = 0; i < vm->procs->len; i++) {
		const struct launch_proc *p = vm->procs->pdata[i];
		bool uid = p->uid >= 0 && (uid_t)p->uid != geteuid();
		const char *key = uid ? "uid" : "gid";

		if (!uid && (p->gid < 0 || (gid_t)p->gid == getegid()))
			continue;
		g_set_error(err, LAUNCH_ERROR, 0,
			    "processes[%u]: \"%s\" %" G_GINT64_FORMAT ": mpvmm-launch runs as "
			    "uid %u gid %u, not root, and cannot start a process under other ids; "
			    "run it as root or remove \"%s\"; nothing was started",
			    i, key, uid ? p->uid : p->gid, geteuid(), getegid(), key);
		return -EPERM;
	}
	return 0;
}

static int start_vmm(struct launch_vm *vm, GError **err)
{
	g_autoptr(GPtrArray) argv = launch_vmm_argv(vm);
	g_autoptr(GArray) fds = g_array_new(FALSE, FALSE, sizeof(int));
	int ret;

	for (unsigned i = 0; i < vm->procs->len; i++) {
		struct launch_proc *p = vm->procs->pdata[i];

		for (unsigned j = 0; j < p->devices->len; j++)
			g_array_append_val(fds,
					   ((struct launch_device *)p->devices->pdata[j])->vmm_fd);
	}
	ret = spawn(argv, (int *)fds->data, fds->len, vm->vmm.context, NULL, &vm->oldmask,
		    &vm->vmm.pid, err);
	for (unsigned i = 0; i < vm->procs->len; i++) {
		struct launch_proc *p = vm->procs->pdata[i];

		for (unsigned j = 0; j < p->devices->len; j++) {
			struct launch_device *d = p->devices->pdata[j];

			close(d->vmm_fd);
			d->vmm_fd = -1;
		}
	}
	if (ret >= 0)
		g_info("%s: started %s (pid %d)", vm->name ? vm->name : "vm",
		       (char *)argv->pdata[0], vm->vmm.pid);
	return ret;
}

/* A socketpair per device, created in the VM's socket context when there is one. */
static int make_sockets(struct launch_vm *vm, GError **err)
{
	int ret = launch_label_sockcreate(vm->selinux.sock_context);

	for (unsigned i = 0; ret >= 0 && i < vm->procs->len; i++) {
		struct launch_proc *p = vm->procs->pdata[i];

		for (unsigned j = 0; ret >= 0 && j < p->devices->len; j++) {
			struct launch_device *d = p->devices->pdata[j];
			int sv[2];

			ret = socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ? -errno
											 : 0;
			if (ret >= 0) {
				d->vmm_fd = sv[0];
				d->dev_fd = sv[1];
			}
		}
	}
	if (vm->selinux.sock_context && launch_label_sockcreate(NULL) < 0 && ret >= 0)
		ret = -errno;
	if (ret < 0)
		g_set_error(err, LAUNCH_ERROR, 0, "cannot create the device sockets%s: %s",
			    vm->selinux.sock_context ? " (SELinux socket context)" : "",
			    g_strerror(-ret));
	return ret;
}

int launch_start(struct launch_vm *vm, GError **err)
{
	sigset_t mask;
	int ret;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &mask, &vm->oldmask) < 0)
		return -errno;
	vm->sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (vm->sigfd < 0) {
		ret = -errno;
		g_set_error(err, LAUNCH_ERROR, 0, "signalfd: %s", g_strerror(-ret));
		return ret;
	}
	ret = make_sockets(vm, err);
	for (unsigned i = 0; ret >= 0 && i < vm->procs->len; i++)
		ret = start_proc(vm, vm->procs->pdata[i], err);
	if (ret >= 0)
		ret = start_vmm(vm, err);
	return ret;
}

/* Reap whatever has exited; mpvmm's wait status goes to *status. */
static void reap(struct launch_vm *vm, int *status)
{
	const char *name = vm->name ? vm->name : "vm";
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (pid == vm->vmm.pid) {
			*status = st;
			vm->vmm.pid = 0;
			continue;
		}
		for (unsigned i = 0; i < vm->procs->len; i++) {
			struct launch_proc *p = vm->procs->pdata[i];

			if (p->pid != pid)
				continue;
			p->pid = 0;
			if (WIFSIGNALED(st))
				g_message("%s: mpvmm-%s (pid %d) was killed by signal %d", name,
					  launch_class_name(p->cls), pid, WTERMSIG(st));
			else
				g_info("%s: mpvmm-%s (pid %d) exited with status %d", name,
				       launch_class_name(p->cls), pid, WEXITSTATUS(st));
		}
	}
}

static unsigned nr_running(const struct launch_vm *vm)
{
	unsigned n = vm->vmm.pid != 0;

	for (unsigned i = 0; i < vm->procs->len; i++)
		n += ((struct launch_proc *)vm->procs->pdata[i])->pid != 0;
	return n;
}

/* Wait up to @ms (-1: no limit) for a signal; forward SIGINT and SIGTERM to mpvmm. */
static void wait_signal(struct launch_vm *vm, int ms, int *status)
{
	struct pollfd pfd = {.fd = vm->sigfd, .events = POLLIN};
	struct signalfd_siginfo si;

	if (poll(&pfd, 1, ms) > 0 && read(vm->sigfd, &si, sizeof(si)) == sizeof(si) &&
	    si.ssi_signo != SIGCHLD && vm->vmm.pid) {
		g_info("forwarding signal %u to mpvmm (pid %d)", si.ssi_signo, vm->vmm.pid);
		kill(vm->vmm.pid, (int)si.ssi_signo);
	}
	reap(vm, status);
}

static void signal_all(struct launch_vm *vm, int sig)
{
	if (vm->vmm.pid)
		kill(vm->vmm.pid, sig);
	for (unsigned i = 0; i < vm->procs->len; i++) {
		struct launch_proc *p = vm->procs->pdata[i];

		if (p->pid)
			kill(p->pid, sig);
	}
}

/* Wait until nothing runs or @ms pass. */
static void wait_all(struct launch_vm *vm, int ms, int *status)
{
	gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;
	gint64 now;

	reap(vm, status);
	while (nr_running(vm) && (now = g_get_monotonic_time()) < end)
		wait_signal(vm, (int)((end - now + 999) / 1000), status);
}

/* Give everything @grace_ms to leave, then SIGTERM, then SIGKILL; reap all. */
static void stop_all(struct launch_vm *vm, int grace_ms, int *status)
{
	wait_all(vm, grace_ms, status);
	if (nr_running(vm)) {
		signal_all(vm, SIGTERM);
		wait_all(vm, LAUNCH_TERM_MS, status);
	}
	if (nr_running(vm)) {
		g_warning("processes still running %d ms after SIGTERM: killing them",
			  LAUNCH_TERM_MS);
		signal_all(vm, SIGKILL);
		wait_all(vm, 60000, status);
	}
}

static void close_sockets(struct launch_vm *vm)
{
	for (unsigned i = 0; i < vm->procs->len; i++) {
		struct launch_proc *p = vm->procs->pdata[i];

		for (unsigned j = 0; j < p->devices->len; j++) {
			struct launch_device *d = p->devices->pdata[j];

			if (d->vmm_fd >= 0)
				close(d->vmm_fd);
			if (d->dev_fd >= 0)
				close(d->dev_fd);
			d->vmm_fd = d->dev_fd = -1;
		}
	}
}

static void close_sigfd(struct launch_vm *vm)
{
	if (vm->sigfd >= 0) {
		close(vm->sigfd);
		vm->sigfd = -1;
		sigprocmask(SIG_SETMASK, &vm->oldmask, NULL);
	}
}

int launch_wait(struct launch_vm *vm)
{
	int status = 0;

	reap(vm, &status);
	while (vm->vmm.pid)
		wait_signal(vm, -1, &status);
	/* The class processes exit once mpvmm's sockets are closed; give them time. */
	stop_all(vm, LAUNCH_GRACE_MS, &status);
	close_sigfd(vm);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

void launch_stop(struct launch_vm *vm)
{
	int status = 0;

	/* Without their sockets' peers the class processes leave by themselves. */
	close_sockets(vm);
	if (vm->sigfd >= 0)
		stop_all(vm, LAUNCH_GRACE_MS, &status);
	close_sigfd(vm);
}
