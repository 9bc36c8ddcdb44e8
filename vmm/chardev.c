// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * chardev: where the serial port's and debug console's output goes ("stdio",
 * "file:PATH" or "none", as in QEMU).  Output only: mpvmm does not feed input to
 * the guest.  Not a general character-device layer.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "vmm/vmm.h"

int chardev_parse(const char *opt, const char *val, struct chardev_opt *out, GError **err)
{
	struct chardev_opt c = {.kind = CHARDEV_NONE};

	if (strcmp(val, "stdio") == 0) {
		c.kind = CHARDEV_STDIO;
	} else if (strncmp(val, "file:", 5) == 0 && val[5]) {
		c.kind = CHARDEV_FILE;
		c.path = g_strdup(val + 5);
	} else if (strcmp(val, "none") != 0) {
		g_set_error(err, VMM_ERROR, EINVAL,
			    "%s %s: unknown backend; use stdio, "
			    "file:PATH or none",
			    opt, val);
		return -EINVAL;
	}
	g_free(out->path);
	*out = c;
	return 0;
}

int chardev_open(const char *opt, const struct chardev_opt *c, int *fd, GError **err)
{
	switch (c->kind) {
	case CHARDEV_NONE:
		*fd = -1;
		return 0;
	case CHARDEV_STDIO:
		*fd = STDOUT_FILENO;
		return 0;
	case CHARDEV_FILE:
		break;
	}
	/* Truncate, as QEMU's file backend does. */
	*fd = open(c->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (*fd < 0) {
		int ret = -errno;

		g_set_error(err, VMM_ERROR, -ret, "%s file:%s: cannot open for writing: %s", opt,
			    c->path, g_strerror(-ret));
		return ret;
	}
	return 0;
}

void chardev_close(int fd)
{
	if (fd > STDERR_FILENO)
		close(fd);
}

void chardev_write(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (fd >= 0 && len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}
