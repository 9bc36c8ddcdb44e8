// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * seccomp: the syscall allowlists of the device-class processes, layer 6 of the
 * sandbox (docs/security.md), built with libseccomp.  Every class gets the common
 * list; mpvmm-storage adds its image I/O, mpvmm-misc and mpvmm-net add nothing; the
 * pid-namespace reaper has a short list of its own.  Anything not listed kills the
 * whole process (SIGSYS), or with --sandbox=log is logged by the kernel's audit
 * subsystem and allowed.  Every fd a class needs is open before the filter loads, so
 * no list has open, socket, execve, ptrace or fork; new fds only arrive over sockets
 * (SCM_RIGHTS) and from eventfd2.  It does not apply the other layers (sandbox.c).
 * Each entry says why the process needs it; x86-64 syscall numbers (the VMM is
 * x86-64 only, and any other architecture's calls are killed: bad-arch action).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>

#include <seccomp.h>

#include "remote/remote.h"

/* Allowed with any arguments, in every class. */
static const int seccomp_common[] = {
	SCMP_SYS(read),		   /* eventfds (doorbells, GLib wake-ups), /dev/urandom */
	SCMP_SYS(write),	   /* eventfds (interrupts, wake-ups), log lines on stderr */
	SCMP_SYS(writev),	   /* GLib's log writer */
	SCMP_SYS(recvmsg),	   /* vfio-user requests, with fds (SCM_RIGHTS: DMA_MAP memfds) */
	SCMP_SYS(sendmsg),	   /* vfio-user replies */
	SCMP_SYS(recvfrom),	   /* recv() of vfio-user payloads */
	SCMP_SYS(sendto),	   /* send() of vfio-user replies */
	SCMP_SYS(accept4),	   /* socket=PATH: the next client on the listening socket */
	SCMP_SYS(shutdown),	   /* closing a connection */
	SCMP_SYS(getsockopt),	   /* SO_TYPE check of a socket received at run time */
	SCMP_SYS(getsockname),	   /* AF_UNIX check of a socket received at run time */
	SCMP_SYS(getpeername),	   /* connected check of a socket received at run time */
	SCMP_SYS(close),	   /* fds of closed connections, unmapped regions */
	SCMP_SYS(poll),		   /* GLib main loop */
	SCMP_SYS(ppoll),	   /* GLib main loop (some builds) */
	SCMP_SYS(eventfd2),	   /* GLib wake-ups of new main contexts and its worker */
	SCMP_SYS(munmap),	   /* DMA_UNMAP, free() */
	SCMP_SYS(brk),		   /* malloc */
	SCMP_SYS(madvise),	   /* free() returning memory */
	SCMP_SYS(mremap),	   /* realloc of large blocks */
	SCMP_SYS(futex),	   /* GLib and glibc locks */
	SCMP_SYS(set_robust_list), /* a new thread (GLib's worker) */
	SCMP_SYS(rseq),		   /* a new thread registers its rseq area */
	SCMP_SYS(rt_sigaction),	   /* GLib's unix signal sources (SIGTERM, SIGINT) */
	SCMP_SYS(rt_sigprocmask),  /* GLib, thread creation, raise() */
	SCMP_SYS(rt_sigreturn),	   /* return from a signal handler */
	SCMP_SYS(sigaltstack),	   /* thread exit */
	SCMP_SYS(restart_syscall), /* a poll interrupted by a signal */
	SCMP_SYS(clock_gettime),   /* g_get_monotonic_time without the vDSO */
	SCMP_SYS(gettimeofday),	   /* g_get_real_time (log timestamps) without the vDSO */
	SCMP_SYS(time),		   /* time() without the vDSO */
	SCMP_SYS(clock_nanosleep), /* g_usleep */
	SCMP_SYS(nanosleep),	   /* g_usleep (older glibc) */
	SCMP_SYS(sched_yield),	   /* GLib lock back-off */
	SCMP_SYS(getpid),	   /* raise(), GLib */
	SCMP_SYS(gettid),	   /* raise(), GLib */
	SCMP_SYS(getuid),	   /* sandbox_state() */
	SCMP_SYS(getgid),	   /* sandbox_state() */
	SCMP_SYS(geteuid),	   /* sandbox_state() */
	SCMP_SYS(getegid),	   /* sandbox_state() */
	SCMP_SYS(capget),	   /* sandbox_state(): the effective set */
	SCMP_SYS(getrandom),	   /* GLib hash-table seeds */
	SCMP_SYS(fstat),	   /* DMA_MAP: the size of a memfd */
	SCMP_SYS(newfstatat),	   /* fstat() in glibc 2.33+ (AT_EMPTY_PATH) */
	SCMP_SYS(exit),		   /* a thread ends */
	SCMP_SYS(exit_group),	   /* the process ends */
};

/* mpvmm-storage: I/O on the images opened by -blockdev. */
static const int seccomp_storage[] = {
	SCMP_SYS(preadv),    /* virtio-blk reads into guest buffers */
	SCMP_SYS(pwritev),   /* virtio-blk writes from guest buffers */
	SCMP_SYS(pread64),   /* preadv of a single buffer */
	SCMP_SYS(pwrite64),  /* pwritev of a single buffer */
	SCMP_SYS(fdatasync), /* virtio-blk FLUSH */
	SCMP_SYS(fallocate), /* virtio-blk DISCARD and WRITE_ZEROES */
};

/* The pid-namespace reaper (sandbox_ns.c) only waits, forwards and exits. */
static const int seccomp_reaper[] = {
	SCMP_SYS(rt_sigtimedwait), /* sigwaitinfo() for SIGTERM, SIGINT, SIGCHLD */
	SCMP_SYS(wait4),	   /* reap the child */
	SCMP_SYS(kill),		   /* forward SIGTERM/SIGINT to the child */
	SCMP_SYS(rt_sigaction),	   /* reset the child's fatal signal before raising it */
	SCMP_SYS(rt_sigprocmask),  /* unblock it */
	SCMP_SYS(rt_sigreturn),	   /* return from a signal handler */
	SCMP_SYS(getpid),	   /* raise() */
	SCMP_SYS(gettid),	   /* raise() */
	SCMP_SYS(tgkill),	   /* raise() */
	SCMP_SYS(restart_syscall), /* an interrupted wait */
	SCMP_SYS(exit_group),	   /* exit with the child's status */
};

static int seccomp_add_list(scmp_filter_ctx ctx, const int *nrs, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		int ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nrs[i], 0);

		if (ret < 0)
			return ret;
	}
	return 0;
}

/* prctl only to read our own state, and the name GLib gives its worker thread. */
static int seccomp_add_prctl(scmp_filter_ctx ctx)
{
	static const int ops[] = {PR_GET_SECCOMP, PR_GET_NO_NEW_PRIVS, PR_CAPBSET_READ, PR_SET_NAME,
				  PR_GET_DUMPABLE};
	int ret = 0;

	for (unsigned i = 0; ret >= 0 && i < G_N_ELEMENTS(ops); i++)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
				       SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)ops[i]));
	return ret;
}

/*
 * fcntl only for fd flags, status flags and seals (DMA_MAP checks them), and
 * F_DUPFD_CLOEXEC: a device created at run time through the control channel (device_add)
 * keeps its own duplicate of the backend fd it was passed, as at start.  A duplicate
 * reaches nothing the process did not hold already; RLIMIT_NOFILE bounds the count.
 */
static int seccomp_add_fcntl(scmp_filter_ctx ctx)
{
	static const int cmds[] = {F_GETFD, F_SETFD,	 F_GETFL,
				   F_SETFL, F_GET_SEALS, F_DUPFD_CLOEXEC};
	int ret = 0;

	for (unsigned i = 0; ret >= 0 && i < G_N_ELEMENTS(cmds); i++)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
				       SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)cmds[i]));
	return ret;
}

/* The argument-filtered calls every class needs. */
static int seccomp_add_filtered(scmp_filter_ctx ctx)
{
	int ret;

	/* mmap of DMA_MAP memfds and malloc arenas, mprotect of thread stacks: never PROT_EXEC. */
	ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
			       SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (ret >= 0)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				       SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	/* clone only for threads (GLib's worker); a fork lacks CLONE_THREAD and dies. */
	if (ret >= 0)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
				       SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
	/* clone3's flags sit in memory a filter cannot read: ENOSYS makes glibc use clone. */
	if (ret >= 0)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	/* abort() and raise() signal this process only (pid 1 in its pid namespace). */
	if (ret >= 0)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
				       SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
	/* A listening channel's socket file cannot be removed from an empty root: fail it. */
	if (ret >= 0)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(unlink), 0);
	/*
	 * No class issues an ioctl itself.  GLib's log writer asks whether stderr is a
	 * terminal (isatty: TCGETS) to colour its lines: "not a terminal", from the filter.
	 */
	if (ret >= 0)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOTTY), SCMP_SYS(ioctl), 1,
				       SCMP_A1(SCMP_CMP_EQ, TCGETS));
	if (ret >= 0)
		ret = seccomp_add_prctl(ctx);
	if (ret >= 0)
		ret = seccomp_add_fcntl(ctx);
	return ret;
}

static int seccomp_load_ctx(scmp_filter_ctx ctx)
{
	int ret = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);

	/* Every thread gets the filter, or the load fails (no unconfined thread left). */
	if (ret >= 0)
		ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (ret >= 0)
		ret = seccomp_load(ctx);
	seccomp_release(ctx);
	return ret;
}

static scmp_filter_ctx seccomp_new(enum sandbox_mode mode)
{
	return seccomp_init(mode == SANDBOX_LOG ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS);
}

int seccomp_apply(const char *class, enum sandbox_mode mode)
{
	scmp_filter_ctx ctx = seccomp_new(mode);
	int ret;

	if (!ctx)
		return -ENOMEM;
	ret = seccomp_add_list(ctx, seccomp_common, G_N_ELEMENTS(seccomp_common));
	if (ret >= 0)
		ret = seccomp_add_filtered(ctx);
	/* misc and net need nothing beyond the common list; storage its image I/O. */
	if (ret >= 0 && !strcmp(class, "storage"))
		ret = seccomp_add_list(ctx, seccomp_storage, G_N_ELEMENTS(seccomp_storage));
	if (ret < 0) {
		seccomp_release(ctx);
		return ret;
	}
	return seccomp_load_ctx(ctx);
}

int seccomp_apply_reaper(enum sandbox_mode mode)
{
	scmp_filter_ctx ctx = seccomp_new(mode);
	int ret;

	if (!ctx)
		return -ENOMEM;
	ret = seccomp_add_list(ctx, seccomp_reaper, G_N_ELEMENTS(seccomp_reaper));
	if (ret < 0) {
		seccomp_release(ctx);
		return ret;
	}
	return seccomp_load_ctx(ctx);
}
