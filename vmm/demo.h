/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * demo: mpvmm with no arguments (demo.c).  Internal to the mpvmm executable; not part
 * of vmm_lib, because it needs the guest image embedded at build time.
 */
#ifndef MPVMM_VMM_DEMO_H
#define MPVMM_VMM_DEMO_H

#include "vmm/vmm.h"

struct demo {
	GPid remote_pid;
	char *remote_path;
	int guest_fd; /* memfd holding the guest image, named as -kernel */
};

/* Start the remote and fill *o as if the demo command line had been given. */
int demo_setup(struct demo *d, struct vmm_opts *o, GError **err);
/*
 * Reap the remote and say what happened.  status is mpvmm's exit status; returns the
 * demo's: 0 when the guest passed (status 1), else status.
 */
int demo_finish(struct demo *d, int status);

#endif
