// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * demo: what `mpvmm` does when run with no arguments.  It boots the demo guest built
 * into the binary (tests/guest/pci-testdev.elf) with its pci-testdev served by a
 * separate mpvmm-misc process that mpvmm starts and joins with a socketpair, shows
 * what the guest did (its serial output) and which process served the device, and how
 * that process is confined (uid, namespaces, seccomp, read from /proc).  It
 * builds an ordinary command line for options_parse(), so the demo runs exactly the
 * code paths a user's command line does.  Not a general process launcher.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vmm/demo.h"

extern const unsigned char demo_guest_elf[], demo_guest_elf_end[];

#define DEMO_REMOTE "mpvmm-misc"
#define DEMO_ID "demo0"

/* mpvmm-misc beside this binary (installed), in the build tree, or on PATH. */
static char *demo_find_remote(void)
{
	g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
	g_autofree char *dir = self ? g_path_get_dirname(self) : NULL;
	const char *rel[] = { DEMO_REMOTE, "../remote/" DEMO_REMOTE };

	for (unsigned i = 0; dir && i < G_N_ELEMENTS(rel); i++) {
		char *p = g_canonicalize_filename(rel[i], dir);

		if (g_file_test(p, G_FILE_TEST_IS_EXECUTABLE))
			return p;
		g_free(p);
	}
	return g_find_program_in_path(DEMO_REMOTE);
}

static int demo_guest_fd(GError **err)
{
	size_t len = (size_t)(demo_guest_elf_end - demo_guest_elf);
	int fd = memfd_create("mpvmm-demo-guest", MFD_CLOEXEC);

	if (fd < 0 || write(fd, demo_guest_elf, len) != (ssize_t)len) {
		g_set_error(err, VMM_ERROR, errno, "demo: cannot stage the built-in guest: %s",
			    g_strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int demo_spawn_remote(struct demo *d, int fd, GError **err)
{
	g_autofree char *remote = demo_find_remote();
	const char *argv[] = { remote, "-device", "pci-testdev,id=" DEMO_ID ",socket=3", NULL };
	int targets[] = { 3 };

	if (!remote) {
		g_set_error(err, VMM_ERROR, ENOENT, "demo: cannot find %s beside mpvmm or on "
			    "PATH; build the whole tree (ninja -C build)", DEMO_REMOTE);
		return -ENOENT;
	}
	if (!g_spawn_async_with_pipes_and_fds(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
					      NULL, NULL, -1, -1, -1, &fd, targets, 1,
					      &d->remote_pid, NULL, NULL, NULL, err))
		return -ECHILD;
	d->remote_path = g_steal_pointer(&remote);
	return 0;
}

/* One field of /proc/PID/status ("" if absent; g_free). */
static char *demo_status(pid_t pid, const char *field)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/status", pid);
	g_autofree char *text = NULL, *key = g_strdup_printf("\n%s:\t", field);
	const char *p;

	if (!g_file_get_contents(path, &text, NULL, NULL) || !(p = strstr(text, key)))
		return g_strdup("");
	p += strlen(key);
	return g_strndup(p, strchrnul(p, '\n') - p);
}

/*
 * The remote confines itself, then serves from its only child (pid 1 of its own pid
 * namespace, docs/security.md): wait up to 2 s for that child's seccomp filter.
 */
static void demo_show_sandbox(pid_t pid)
{
	static const char *const ns[] = { "user", "mnt", "net", "pid", "ipc", "uts" };
	g_autofree char *kids_path = g_strdup_printf("/proc/%d/task/%d/children", pid, pid);
	g_autofree char *uid = NULL, *nnp = NULL, *seccomp = NULL, *cap = NULL;
	pid_t server = 0;

	for (int i = 0; i < 200; i++, g_usleep(10000)) {
		g_autofree char *kids = NULL, *mode = NULL;

		if (g_file_get_contents(kids_path, &kids, NULL, NULL))
			server = (pid_t)atoi(kids);
		mode = server > 0 ? demo_status(server, "Seccomp") : NULL;
		if (mode && !strcmp(mode, "2"))
			break;
	}
	if (server <= 0) {
		printf("mpvmm demo: the remote runs unconfined (no sandboxed child).\n");
		return;
	}
	uid = demo_status(server, "Uid");
	uid[strcspn(uid, "\t")] = '\0'; /* real uid; the others match it */
	cap = demo_status(server, "CapEff");
	nnp = demo_status(server, "NoNewPrivs");
	seccomp = demo_status(server, "Seccomp");
	printf("mpvmm demo: it serves from its child pid %d: uid %s, CapEff %s, NoNewPrivs %s, "
	       "Seccomp %s (2: filter)\n", server, uid, cap, nnp, seccomp);
	for (unsigned i = 0; i < G_N_ELEMENTS(ns); i++) {
		g_autofree char *theirs_path = g_strdup_printf("/proc/%d/ns/%s", server, ns[i]);
		g_autofree char *ours_path = g_strdup_printf("/proc/self/ns/%s", ns[i]);
		g_autofree char *theirs = g_file_read_link(theirs_path, NULL);
		g_autofree char *ours = g_file_read_link(ours_path, NULL);

		printf("mpvmm demo:   %-4s namespace %s (mpvmm's: %s)\n", ns[i],
		       theirs ? theirs : "?", ours ? ours : "?");
	}
}

int demo_setup(struct demo *d, struct vmm_opts *o, GError **err)
{
	int sv[2], guest_fd, ret;

	memset(d, 0, sizeof(*d));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		g_set_error(err, VMM_ERROR, errno, "demo: socketpair: %s", g_strerror(errno));
		return -errno;
	}
	guest_fd = demo_guest_fd(err);
	ret = guest_fd < 0 ? -EIO : demo_spawn_remote(d, sv[1], err);
	close(sv[1]);
	if (ret == 0) {
		g_autofree char *kernel = g_strdup_printf("/proc/self/fd/%d", guest_fd);
		g_autofree char *dev = g_strdup_printf("pci-proxy-dev,id=" DEMO_ID ",socket=%d",
						       sv[0]);
		char *argv[] = { "mpvmm", "-m", "64M", "-kernel", kernel, "-serial", "stdio",
				 "-device", dev, NULL };

		ret = options_parse(G_N_ELEMENTS(argv) - 1, argv, o, err);
	}
	if (ret < 0) {
		close(sv[0]);
		if (guest_fd >= 0)
			close(guest_fd);
		return ret;
	}
	d->guest_fd = guest_fd;
	printf("mpvmm demo: no options given, so booting the built-in demo guest.\n"
	       "mpvmm demo: VMM pid %d; device '%s' (pci-testdev 1b36:0005) is served by a "
	       "separate process: %s, pid %d, over a vfio-user socketpair.\n", getpid(), DEMO_ID,
	       d->remote_path, d->remote_pid);
	demo_show_sandbox(d->remote_pid);
	printf("mpvmm demo: guest serial output follows.\n\n");
	fflush(stdout);
	return 0;
}

int demo_finish(struct demo *d, int status)
{
	int rstatus = 0;

	if (d->remote_pid > 0) {
		/* The remote exits by itself once its only channel closed; give it a moment. */
		for (int i = 0; i < 200 && waitpid(d->remote_pid, &rstatus, WNOHANG) == 0; i++)
			g_usleep(10000);
		if (waitpid(d->remote_pid, &rstatus, WNOHANG) == 0) {
			kill(d->remote_pid, SIGTERM);
			waitpid(d->remote_pid, &rstatus, 0);
		}
	}
	printf("\nmpvmm demo: guest %s (mpvmm exit status %d%s).\n",
	       status == 1 ? "passed every check" : "FAILED", status,
	       status == 1 ? ": the guest wrote 0 to isa-debug-exit" : "");
	printf("mpvmm demo: device '%s' was served by %s (pid %d), which exited with %s %d.\n",
	       DEMO_ID, d->remote_path, d->remote_pid,
	       WIFEXITED(rstatus) ? "status" : "signal",
	       WIFEXITED(rstatus) ? WEXITSTATUS(rstatus) : WTERMSIG(rstatus));
	/* Say plainly why, where the guest could never have run. */
	if (status != 1 && access("/dev/kvm", R_OK | W_OK) < 0)
		printf("mpvmm demo: the guest never ran: /dev/kvm cannot be opened here (%s), "
		       "and mpvmm needs KVM.\n", g_strerror(errno));
	if (d->guest_fd >= 0)
		close(d->guest_fd);
	g_free(d->remote_path);
	return status == 1 ? 0 : status;
}
