// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tu: process and socket helpers for integration tests (see tu.h).  Test code only:
 * every helper asserts on failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/tu.h"

const char *tu_bin(const char *env)
{
	const char *p = g_getenv(env);

	if (!p)
		g_error("environment variable %s is not set (run through meson test)", env);
	return p;
}

char *tu_guest(const char *name)
{
	return g_strdup_printf("%s/%s.elf", tu_bin("GUEST_DIR"), name);
}

bool tu_skip_without_kvm(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		g_test_skip("/dev/kvm is not available");
		return true;
	}
	close(fd);
	return false;
}

void tu_socketpair(int sv[2])
{
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
}

/*
 * In the child: die with the test process, so a test that fails (g_error aborts it)
 * leaves no VMM or QEMU behind spinning on a guest that waits forever.
 */
static void tu_child_setup(gpointer parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != (pid_t)GPOINTER_TO_INT(parent)) /* it died before the prctl */
		_exit(127);
}

void tu_spawn(char **argv, const int *fds, unsigned nr, bool capture, struct tu_proc *p)
{
	g_autoptr(GError) err = NULL;
	int targets[16];

	g_assert_cmpuint(nr, <=, G_N_ELEMENTS(targets));
	for (unsigned i = 0; i < nr; i++)
		targets[i] = 3 + (int)i;
	p->out_fd = p->err_fd = -1;
	if (!g_spawn_async_with_pipes_and_fds(
		    NULL, (const char *const *)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
		    tu_child_setup, GINT_TO_POINTER((int)getpid()), -1, -1, -1, fds, targets, nr,
		    &p->pid, NULL, capture ? &p->out_fd : NULL, capture ? &p->err_fd : NULL, &err))
		g_error("spawn %s: %s", argv[0], err->message);
}

int tu_wait(struct tu_proc *p, unsigned timeout_s)
{
	int status = 0;

	for (unsigned ms = 0; ms < timeout_s * 1000; ms += 10) {
		pid_t r = waitpid(p->pid, &status, WNOHANG);

		g_assert_cmpint(r, >=, 0);
		if (r == p->pid)
			return status;
		g_usleep(10000);
	}
	kill(p->pid, SIGKILL);
	waitpid(p->pid, &status, 0);
	g_error("pid %d did not exit within %u s", p->pid, timeout_s);
	return status;
}

char *tu_slurp(int fd)
{
	GString *s = g_string_new(NULL);
	char buf[4096];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		g_assert_cmpint(n, >, 0);
		g_string_append_len(s, buf, n);
	}
	return g_string_free(s, FALSE);
}

void tu_wait_line(int fd, const char *needle, unsigned timeout_s)
{
	GString *s = g_string_new(NULL);
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;

	while (!strstr(s->str, needle)) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		gint64 left = deadline - g_get_monotonic_time();
		char c;

		if (left <= 0)
			g_error("no line containing '%s' within %u s; got:\n%s", needle,
				timeout_s, s->str);
		if (poll(&pfd, 1, (int)(left / 1000)) <= 0)
			continue;
		if (read(fd, &c, 1) != 1)
			g_error("EOF before a line containing '%s'; got:\n%s", needle, s->str);
		g_string_append_c(s, c);
	}
	g_string_free(s, TRUE);
}

unsigned tu_count(const char *haystack, const char *needle)
{
	unsigned n = 0;

	for (const char *p = haystack; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

pid_t tu_server_pid(pid_t pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/task/%d/children", pid, pid);

	/* The sandbox's reaper has exactly one child, from the fork after the namespaces. */
	for (int i = 0; i < 500; i++) {
		g_autofree char *text = NULL;
		pid_t child;

		if (!g_file_get_contents(path, &text, NULL, NULL))
			return pid; /* gone: the caller's next step reports it */
		child = (pid_t)atoi(text);
		if (child > 0)
			return child;
		g_usleep(10000);
	}
	return pid;
}
