// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * main: mpvmm's entry point.  Parses the command line (options.c), answers -h,
 * -version and -device help, else builds the machine, runs it and exits with its
 * status (docs/vmm.md, "EXIT STATUS").  The only place that calls exit paths.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "vmm/demo.h"

static int main_info(const struct vmm_opts *o)
{
	g_autoptr(GError) err = NULL;

	switch (o->action) {
	case VMM_HELP:
		options_print_help(stdout);
		return 0;
	case VMM_VERSION:
		printf("mpvmm %s\n", MPVMM_VERSION);
		return 0;
	default:
		if (devopt_print_help(stdout, o->help_type, &err) == 0)
			return 0;
		g_printerr("mpvmm: %s\n", err->message);
		return VMM_EXIT_SETUP;
	}
}

int main(int argc, char **argv)
{
	g_autoptr(GError) err = NULL;
	struct vmm_opts o;
	struct demo demo = { .guest_fd = -1 };
	struct machine *m;
	int status, ret;

	/* A closed output pipe or remote socket is an error to handle, not a death. */
	signal(SIGPIPE, SIG_IGN);
	/* No arguments at all: the built-in demo (docs/vmm.md, "DEMO"). */
	ret = argc == 1 ? demo_setup(&demo, &o, &err) : options_parse(argc, argv, &o, &err);
	if (ret < 0) {
		g_printerr("mpvmm: %s\n", err->message);
		options_free(&o);
		return VMM_EXIT_SETUP;
	}
	if (o.action != VMM_RUN) {
		status = main_info(&o);
	} else if (machine_create(&o, &m, &err) < 0) {
		g_printerr("mpvmm: %s\n", err->message);
		status = VMM_EXIT_SETUP;
	} else {
		status = machine_run(m);
		machine_destroy(m);
	}
	if (argc == 1)
		status = demo_finish(&demo, status);
	options_free(&o);
	fflush(stdout);
	return status;
}
