// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sandbox_hook: test-only (built with -Dtest_hooks=true, never in a release build).
 * --x-test-forbidden=ACTION arms an action the sandbox forbids; on SIGUSR1 the
 * serving process attempts it, while it serves a running VM, so a test can prove the
 * attempt kills the process with SIGSYS and the VM survives (docs/security.md).  If
 * the attempt returns (--sandbox=log or off), the result is logged and serving goes on.
 * It is not a way to weaken the sandbox: the action runs after every layer is on.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <glib-unix.h>

#include "remote/remote.h"

/*
 * Every action but "raw-clock" is forbidden.  raw-clock is the control: the clock
 * calls glibc makes as real system calls where the host's clocksource has no vDSO
 * support (hpet, acpi_pm), which every class must survive.
 */
static const char *const hook_actions[] = {"open",   "socket",	  "execve",
					   "ptrace", "mmap-exec", "mprotect-exec",
					   "fork",   "ioctl",	  "raw-clock"};

int sandbox_hook_parse(struct sandbox_opts *o, const char *arg, GError **err)
{
	const char *val;

	if (!g_str_has_prefix(arg, "--x-test-forbidden="))
		return 0;
	val = arg + strlen("--x-test-forbidden=");
	for (unsigned i = 0; i < G_N_ELEMENTS(hook_actions); i++) {
		if (!strcmp(val, hook_actions[i])) {
			g_free(o->forbidden);
			o->forbidden = g_strdup(val);
			return 1;
		}
	}
	g_set_error(err, REMOTE_ERROR, 0,
		    "--x-test-forbidden=%s: unknown action; use open, socket, execve, "
		    "ptrace, mmap-exec, mprotect-exec, fork, ioctl or raw-clock",
		    val);
	return -EINVAL;
}

/*
 * mprotect-exec: make an existing mapping executable.  The page is mapped without
 * PROT_EXEC first (allowed), so the mprotect is what the filter sees and kills.
 */
static long hook_mprotect_exec(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long r;

	if (p == MAP_FAILED)
		return -1;
	r = mprotect(p, 4096, PROT_READ | PROT_EXEC);
	munmap(p, 4096); /* reached only when the sandbox let it live */
	return r;
}

/* raw-clock: the vDSO's three clock calls, made as real system calls. */
static long hook_raw_clock(void)
{
	struct timespec ts;
	struct timeval tv;

	if (syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts) < 0 ||
	    syscall(SYS_gettimeofday, &tv, NULL) < 0 || syscall(SYS_time, NULL) < 0)
		return -1;
	return 0;
}

/* The attempt itself; returns what the call returned when the sandbox let it live. */
static long hook_attempt(const char *action)
{
	char *const argv[] = {"/bin/true", NULL};
	int n = 0;
	long r = -ENOSYS;

	if (!strcmp(action, "open"))
		r = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
	else if (!strcmp(action, "socket"))
		r = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	else if (!strcmp(action, "execve"))
		r = execve(argv[0], argv, NULL);
	else if (!strcmp(action, "ptrace"))
		r = ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	else if (!strcmp(action, "mmap-exec"))
		r = (long)mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			       0);
	else if (!strcmp(action, "mprotect-exec"))
		r = hook_mprotect_exec();
	else if (!strcmp(action, "fork"))
		r = fork();
	else if (!strcmp(action, "ioctl")) /* harmless, but no class needs it: only TCGETS is */
		r = ioctl(STDERR_FILENO, FIONREAD, &n);
	else if (!strcmp(action, "raw-clock"))
		r = hook_raw_clock();
	if (r == 0 && !strcmp(action, "fork"))
		_exit(0); /* the child of an allowed fork (sandbox off) */
	return r;
}

static gboolean hook_fire(gpointer opaque)
{
	const char *action = opaque;
	long r;

	g_info("x-test-forbidden: attempting %s", action);
	r = hook_attempt(action);
	g_warning("x-test-forbidden: %s was not killed: returned %ld (%s)", action, r,
		  r < 0 ? g_strerror(errno) : "success");
	if (r > 0 && !strcmp(action, "fork"))
		waitpid((pid_t)r, NULL, 0);
	return G_SOURCE_REMOVE;
}

void sandbox_hook_arm(const struct sandbox *sb)
{
	if (sb->forbidden)
		g_unix_signal_add(SIGUSR1, hook_fire, (gpointer)sb->forbidden);
}
