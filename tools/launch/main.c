// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mpvmm-launch: start one VM from its JSON description (docs/launch.md): the class
 * processes, then mpvmm; wait for mpvmm and exit with its status.  --dry-run prints the
 * command lines instead (the standalone recipe for this VM) and starts nothing.
 * This file is the command line only; see launch.h for the pieces.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tools/launch/launch.h"

#define LAUNCH_EXIT_START 2 /* as mpvmm's "could not start" */

static const char usage[] =
	"Usage: mpvmm-launch [--dry-run] VM.json\n"
	"       mpvmm-launch --help | --version\n"
	"\n"
	"Starts one VM from its description: a device-class process per class the VM uses\n"
	"(mpvmm-misc, mpvmm-storage, mpvmm-net), each hosting that VM's devices of its class,\n"
	"and mpvmm, connected by one socketpair per device.  Waits for mpvmm, forwarding\n"
	"SIGINT and SIGTERM, stops the class processes and exits with mpvmm's status (2 if\n"
	"the VM could not be started).  Under SELinux, \"selinux\": {\"label\": true} runs\n"
	"each process in its domain with the VM's own categories and labels the images.\n"
	"  --dry-run  check the description, print the command lines, start nothing\n"
	"The schema: docs/launch.md.  Debug output: G_MESSAGES_DEBUG=all\n";

static void print_dry_run(const struct launch_vm *vm)
{
	g_autoptr(GPtrArray) vargv = launch_vmm_argv(vm);
	g_autofree char *vcmd = launch_argv_string(vargv);
	int fd = 3;

	for (unsigned i = 0; i < vm->procs->len; i++) {
		const struct launch_proc *p = vm->procs->pdata[i];
		g_autoptr(GPtrArray) argv = launch_proc_argv(p);
		g_autofree char *cmd = launch_argv_string(argv);
		uid_t uid = geteuid();
		gid_t gid = getegid();

		/* the ids it would run under: its own when this launcher is root, else ours */
		if (uid == 0)
			launch_proc_ids(p, &uid, &gid);
		printf("# %s process, uid %u gid %u: socket fds 3..%u are the peers of mpvmm's "
		       "fds %d..%d\n",
		       launch_class_name(p->cls), uid, gid, 2 + p->devices->len, fd,
		       fd + (int)p->devices->len - 1);
		printf("%s\n", cmd);
		fd += (int)p->devices->len;
	}
	printf("%s\n", vcmd);
}

static int run(const char *path, bool dry_run)
{
	g_autofree char *json = NULL;
	struct launch_vm *vm = NULL;
	GError *err = NULL;
	int status = LAUNCH_EXIT_START;

	if (!g_file_get_contents(path, &json, NULL, &err) ||
	    launch_desc_parse(json, path, &vm, &err) < 0)
		goto out;
	if (dry_run) {
		print_dry_run(vm);
		status = 0;
		goto out;
	}
	/* Everything is checked, and the labels set, before anything starts. */
	if (launch_check_ids(vm, &err) < 0 || launch_label_prepare(vm, &err) < 0)
		goto out;
	if (launch_start(vm, &err) < 0) {
		launch_label_unlock(vm);
		launch_stop(vm);
		goto out;
	}
	/* mpvmm runs with the VM's categories: another launcher now sees them */
	launch_label_unlock(vm);
	status = launch_wait(vm);
out:
	if (err) {
		fprintf(stderr, "mpvmm-launch: %s\n", err->message);
		g_error_free(err);
	}
	launch_vm_free(vm);
	return status;
}

int main(int argc, char **argv)
{
	bool dry_run = false;
	const char *path = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("%s", usage);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf("mpvmm-launch %s\n", MPVMM_VERSION);
			return 0;
		} else if (!strcmp(argv[i], "--dry-run")) {
			dry_run = true;
		} else if (argv[i][0] == '-' || path) {
			fprintf(stderr, "mpvmm-launch: unexpected argument '%s' (see --help)\n",
				argv[i]);
			return LAUNCH_EXIT_START;
		} else {
			path = argv[i];
		}
	}
	if (!path) {
		fprintf(stderr, "mpvmm-launch: no VM description given (see --help)\n");
		return LAUNCH_EXIT_START;
	}
	return run(path, dry_run);
}
