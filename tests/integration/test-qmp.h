/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-qmp: helpers shared by the QMP integration tests (test-qmp.c, test-qmp-vm.c,
 * test-qmp-qemu.c): start a real mpvmm with QMP sockets in a temporary directory,
 * its debug console in a file, and read what the guest printed.
 */
#ifndef MPVMM_TEST_QMP_INTEGRATION_H
#define MPVMM_TEST_QMP_INTEGRATION_H

#include "tests/lib/tu.h"
#include "tests/unit/test-qmp-client.h"

struct vm {
	struct tu_proc p;
	char *dir;
	char *sock[2]; /* -qmp paths (sock[1] NULL unless two monitors) */
	char *dc;      /* the guest's debug console (a file) */
	int misc_fd;   /* our end of a remote's socketpair, or -1 */
	struct tu_proc misc;
};

struct vm_cfg {
	const char *guest;  /* "bar-bench" */
	const char *append; /* NULL: none */
	bool paused;	    /* -S */
	bool two_monitors;
	bool remote; /* also a pci-proxy-dev t1 served by mpvmm-misc */
};

void vm_start(struct vm *vm, const struct vm_cfg *cfg);
/* Wait for the exit (timeout_s), return the status; clean the directory. */
int vm_wait(struct vm *vm, unsigned timeout_s);
/* What the guest printed so far. */
char *vm_console(const struct vm *vm);
/* Wait until the console holds `needle` n times. */
void vm_wait_console(const struct vm *vm, const char *needle, unsigned n, unsigned timeout_s);
/* Connect to monitor i and negotiate. */
struct tq *vm_client(const struct vm *vm, unsigned i);
/* The number of fds mpvmm has open. */
unsigned vm_nr_fds(const struct vm *vm);

#endif
