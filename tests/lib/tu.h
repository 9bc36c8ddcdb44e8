/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tu: helpers for integration tests and benchmarks that run real mpvmm, remote and
 * QEMU processes.  Helpers assert instead of returning errors (like the KVM
 * selftests' vm_ioctl()).  Binary paths come from the environment meson sets:
 * MPVMM, MPVMM_MISC, GUEST_DIR.
 */
#ifndef MPVMM_TESTS_TU_H
#define MPVMM_TESTS_TU_H

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

/* Path of a built binary or guest ("pci-testdev" -> $GUEST_DIR/pci-testdev.elf). */
const char *tu_bin(const char *env);
char *tu_guest(const char *name);

/* Skip the current test (returns true) when /dev/kvm cannot be opened. */
bool tu_skip_without_kvm(void);

/* A connected AF_UNIX stream socketpair, both ends CLOEXEC. */
void tu_socketpair(int sv[2]);

struct tu_proc {
	GPid pid;
	int out_fd; /* stdout pipe, -1 if not captured */
	int err_fd; /* stderr pipe, -1 if not captured */
};

/*
 * Spawn argv with fds[i] (i < nr) made available as fd 3 + i in the child; capture
 * stdout/stderr when asked.  The caller's copies of fds are NOT closed.  The child
 * gets SIGKILL when the test process dies (PR_SET_PDEATHSIG), so a failed test leaves
 * no VMM behind.
 */
void tu_spawn(char **argv, const int *fds, unsigned nr, bool capture, struct tu_proc *p);

/* Wait for exit within timeout_s (killing with SIGKILL on timeout and failing the test). */
int tu_wait(struct tu_proc *p, unsigned timeout_s);

/* Read a pipe to EOF into a string (g_free). */
char *tu_slurp(int fd);

/* Read lines from fd until one contains needle (or timeout_s passes: test fails). */
void tu_wait_line(int fd, const char *needle, unsigned timeout_s);

/*
 * The process that serves devices in a class process started as pid: with the sandbox
 * on that is its only child, pid 1 of its own pid namespace (the parent only reaps);
 * unconfined (--sandbox=off, the default of sanitizer builds), pid itself, after
 * waiting 5 s for a fork that does not come.
 */
pid_t tu_server_pid(pid_t pid);

/* Count occurrences of needle in haystack. */
unsigned tu_count(const char *haystack, const char *needle);

#endif
