// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * boot: what -kernel and -initrd name.  It reads the kernel (at most the guest RAM
 * size) and the modules, decides the boot protocol from the file itself -- a PVH
 * ELF (an ELF64 with a XEN_ELFNOTE_PHYS32_ENTRY note) first, then a Multiboot v1
 * header in the first 8 KiB -- and hands the bytes to pvh.c or multiboot.c, which
 * validate everything before writing guest RAM.  It parses no image format itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/vmm.h"

/* Read exactly size bytes; -EIO if the file shrank. */
static int boot_read_all(int fd, char *buf, size_t size)
{
	size_t done = 0;

	while (done < size) {
		ssize_t n = read(fd, buf + done, size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	return 0;
}

int boot_read_file(const char *opt, const char *path, uint64_t max, char **data, size_t *len,
		   GError **err)
{
	g_autofree char *buf = NULL;
	struct stat st;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		ret = -errno;
		g_set_error(err, VMM_ERROR, -ret, "%s %s: %s", opt, path, g_strerror(-ret));
		goto close_fd;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		ret = -EFBIG;
		/* -initrd: max is what the kernel's earlier modules left of RAM */
		g_set_error(err, VMM_ERROR, EFBIG,
			    "%s %s: not a regular file of at most the guest RAM %s (%" PRIu64
			    " MiB); give a larger -m",
			    opt, path, strcmp(opt, "-initrd") ? "size" : "the earlier modules left",
			    max >> 20);
		goto close_fd;
	}
	buf = g_malloc((size_t)st.st_size + 1);
	ret = boot_read_all(fd, buf, (size_t)st.st_size);
	if (ret < 0) {
		g_set_error(err, VMM_ERROR, -ret, "%s %s: read failed: %s", opt, path,
			    ret == -EIO ? "file shrank while reading" : g_strerror(-ret));
		goto close_fd;
	}
	*data = g_steal_pointer(&buf);
	*len = (size_t)st.st_size;
close_fd:
	if (fd >= 0)
		close(fd);
	return ret;
}

/*
 * "PATH[ ARGS]": the file is PATH, the module's string the whole entry (as GRUB does).
 * Together the modules may not exceed guest RAM: nothing larger could load.
 */
static int boot_read_modules(struct gmem *mem, char *const *initrd, unsigned nr,
			     struct mb_module *mods, char **bufs, GError **err)
{
	uint64_t left = gmem_size(mem);

	for (unsigned i = 0; i < nr; i++) {
		g_autofree char *path = g_strndup(initrd[i], strcspn(initrd[i], " "));
		int ret = boot_read_file("-initrd", path, left, &bufs[i], &mods[i].len, err);

		if (ret < 0)
			return ret;
		mods[i].data = bufs[i];
		mods[i].string = initrd[i];
		left -= mods[i].len;
	}
	return 0;
}

static int boot_multiboot(struct gmem *mem, const char *kernel, const char *img, size_t len,
			  const char *cmdline, char *const *initrd, unsigned nr_initrd,
			  const struct pvh_range *reserved, unsigned nr_reserved,
			  struct pvh_boot *boot, GError **err)
{
	struct mb_module mods[MB_MAX_MODULES] = {{0}};
	char *bufs[MB_MAX_MODULES] = {NULL};
	int ret;

	if (nr_initrd > MB_MAX_MODULES) {
		g_set_error(err, VMM_ERROR, E2BIG, "-initrd: %u modules; at most %d", nr_initrd,
			    MB_MAX_MODULES);
		return -E2BIG;
	}
	ret = boot_read_modules(mem, initrd, nr_initrd, mods, bufs, err);
	if (ret == 0) {
		ret = multiboot_load(mem, img, len, cmdline, mods, nr_initrd, reserved, nr_reserved,
				     boot, err);
		if (ret < 0)
			g_prefix_error(err, "-kernel %s: ", kernel);
	}
	for (unsigned i = 0; i < nr_initrd; i++)
		g_free(bufs[i]);
	return ret;
}

int boot_load(struct gmem *mem, const char *kernel, const char *cmdline, char *const *initrd,
	      unsigned nr_initrd, const struct pvh_range *reserved, unsigned nr_reserved,
	      struct pvh_boot *boot, GError **err)
{
	g_autoptr(GError) why = NULL;
	g_autofree char *img = NULL;
	size_t len = 0, off;
	int ret;

	ret = boot_read_file("-kernel", kernel, gmem_size(mem), &img, &len, err);
	if (ret < 0)
		return ret;
	if (pvh_probe(img, len, &why)) {
		if (nr_initrd) {
			g_set_error(err, VMM_ERROR, EINVAL,
				    "-initrd: %s is a PVH kernel; mpvmm passes modules to "
				    "Multiboot kernels only",
				    kernel);
			return -EINVAL;
		}
		ret = pvh_load(mem, img, len, cmdline, reserved, nr_reserved, boot, err);
		if (ret < 0)
			g_prefix_error(err, "-kernel %s: ", kernel);
		return ret;
	}
	if (multiboot_find(img, len, &off) != 0)
		return boot_multiboot(mem, kernel, img, len, cmdline, initrd, nr_initrd, reserved,
				      nr_reserved, boot, err);
	g_set_error(err, VMM_ERROR, ENOEXEC,
		    "-kernel %s: not a PVH ELF (no XEN_ELFNOTE_PHYS32_ENTRY note) nor a Multiboot "
		    "v1 kernel (no header in the first 8 KiB)%s%s%s",
		    kernel, why ? " [" : "", why ? why->message : "", why ? "]" : "");
	return -ENOEXEC;
}
