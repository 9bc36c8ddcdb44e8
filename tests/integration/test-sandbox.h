/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-sandbox.h: what test-sandbox.c (status, modes, options) shares with
 * test-sandbox-forbidden.c (the forbidden actions): starting a class process and
 * waiting until it is confined, and ending it.  Helpers assert instead of returning
 * errors (tests/lib/tu.h).
 */
#ifndef MPVMM_TESTS_SANDBOX_H
#define MPVMM_TESTS_SANDBOX_H

#include "tests/lib/tu.h"

/* The class process's state line (G_MESSAGES_DEBUG=remote): it is confined. */
#define STATE_LINE "sandbox: {"

/*
 * Start a class process (argv) with fds as 3, 4, ...; return once it logged its
 * sandbox state, i.e. is confined.  The stdout pipe is not read after that: the
 * process logs little more than a pipe holds.
 */
void start_confined(const char *const *argv, const int *fds, unsigned nr, struct tu_proc *p);
/* Wait for p (timeout_s at most), close its pipes; returns its wait status. */
int end_proc(struct tu_proc *p, unsigned timeout_s);
/* Register /sandbox/forbidden*: (test-sandbox-forbidden.c). */
void sandbox_forbidden_add_tests(void);

#endif
