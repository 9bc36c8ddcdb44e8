// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sandbox_ns: layer 2 of the sandbox (docs/security.md).  New user, mount, net, pid,
 * ipc and uts namespaces; the root becomes an empty tmpfs, remounted read-only, and
 * the host's file system is detached.  A new pid namespace only holds the caller's
 * children, so the process forks once: the child is pid 1 there and serves the
 * devices; the parent stays a minimal reaper that forwards SIGTERM and SIGINT and
 * ends the way the child ended (an exit status, or the same fatal signal, so that
 * whoever started us sees a seccomp kill as death by SIGSYS).  The reaper is the one
 * place outside main() that ends the process itself: it holds nothing else.
 * It does not choose ids (sandbox.c) nor load seccomp filters (seccomp.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/close_range.h>

#include "remote/remote.h"

#define SANDBOX_NS_FLAGS                                                                           \
	(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS)

/* The mount point of the new root before pivot_root; any directory every host has. */
#define SANDBOX_NEWROOT "/tmp"

static int sandbox_write(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	n = n < 0 ? -errno : n == (ssize_t)strlen(text) ? 0 : -EIO;
	close(fd);
	return (int)n;
}

/* The namespaces; our uid and gid map to themselves (a one-id map needs no privilege). */
static int sandbox_unshare(struct sandbox *sb, GError **err)
{
	g_autofree char *uid_map = g_strdup_printf("%u %u 1\n", geteuid(), geteuid());
	g_autofree char *gid_map = g_strdup_printf("%u %u 1\n", getegid(), getegid());
	int ret;

	if (unshare(SANDBOX_NS_FLAGS) < 0) {
		int e = errno;

		g_set_error(err, REMOTE_ERROR, 0,
			    "sandbox namespaces: cannot create user, "
			    "mount, net, pid, ipc and uts namespaces: %s (is user.max_user_"
			    "namespaces 0, or are user namespaces disabled for this uid?); use "
			    "--sandbox=off to run unconfined",
			    g_strerror(e));
		return -e;
	}
	sb->ns = SANDBOX_NS_FLAGS;
	/* /proc/self/{uid,gid}_map belong to root while we are not dumpable (after setuid). */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	ret = sandbox_write("/proc/self/setgroups", "deny");
	if (ret >= 0)
		ret = sandbox_write("/proc/self/uid_map", uid_map);
	if (ret >= 0)
		ret = sandbox_write("/proc/self/gid_map", gid_map);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (ret < 0)
		g_set_error(err, REMOTE_ERROR, 0,
			    "sandbox namespaces: cannot map uid %u gid %u "
			    "into the new user namespace: %s; use --sandbox=off to run "
			    "unconfined",
			    geteuid(), getegid(), g_strerror(-ret));
	return ret;
}

/* An empty tmpfs becomes / (pivot_root), the host's tree is detached, / goes read-only. */
static int sandbox_pivot(struct sandbox *sb, GError **err)
{
	const char *step = "make / private";

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		goto fail;
	step = "mount a tmpfs on " SANDBOX_NEWROOT;
	if (mount("mpvmm-root", SANDBOX_NEWROOT, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "size=4k,nr_inodes=2,mode=0555") < 0)
		goto fail;
	step = "pivot_root into it";
	if (chdir(SANDBOX_NEWROOT) < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
		goto fail;
	/* pivot_root(".", ".") stacks the old root on the new one: detach it. */
	step = "detach the host's file system";
	if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		goto fail;
	step = "remount the new root read-only";
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) < 0)
		goto fail;
	sb->root_pivoted = true;
	return 0;
fail:
	g_set_error(err, REMOTE_ERROR, 0,
		    "sandbox root: cannot %s: %s; use --sandbox=off to "
		    "run unconfined",
		    step, g_strerror(errno));
	return -errno;
}

/* The reaper's loop: the signals it waits for are blocked since before the fork. */
static G_NORETURN void sandbox_reap(pid_t child, const sigset_t *set)
{
	int status = 0, sig;

	for (;;) {
		sig = sigwaitinfo(set, NULL);
		if (sig == SIGTERM || sig == SIGINT)
			kill(child, sig);
		else if (sig == SIGCHLD && waitpid(child, &status, WNOHANG) == child)
			break;
	}
	if (WIFEXITED(status))
		_exit(WEXITSTATUS(status));
	sig = WTERMSIG(status);
	signal(sig, SIG_DFL);
	sigprocmask(SIG_SETMASK, &(sigset_t){0}, NULL);
	raise(sig);
	_exit(128 + sig);
}

/* The parent: hold no fd but stdio (so peers see the child's death), confine, reap. */
static G_NORETURN void sandbox_reaper(struct sandbox *sb, pid_t child, const sigset_t *set)
{
	GError *err = NULL;

	syscall(SYS_close_range, 3, ~0u, 0);
	if (sandbox_finish(sb, true, &err) < 0) {
		fprintf(stderr, "%s\n", err->message);
		kill(child, SIGKILL);
		_exit(1);
	}
	sandbox_reap(child, set);
}

int sandbox_ns_enter(struct sandbox *sb, GError **err)
{
	sigset_t set, old;
	pid_t child;
	int ret = sandbox_unshare(sb, err);

	if (ret >= 0)
		ret = sandbox_pivot(sb, err);
	if (ret < 0)
		return ret;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old);
	child = fork();
	if (child < 0) {
		ret = -errno;
		sigprocmask(SIG_SETMASK, &old, NULL);
		g_set_error(err, REMOTE_ERROR, 0,
			    "sandbox pid namespace: cannot fork its first "
			    "process: %s; use --sandbox=off to run unconfined",
			    g_strerror(-ret));
		return ret;
	}
	if (child > 0)
		sandbox_reaper(sb, child, &set);
	/* pid 1 of the new namespace: die with the reaper, e.g. when it is SIGKILLed. */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return 0;
}
