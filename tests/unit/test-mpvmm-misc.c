// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Tests of the mpvmm-misc executable as a process (no VM, no privileges): help and
 * version output, a clear error and exit status 1 for each kind of bad option, two
 * devices in one process on their own sockets (a wrong device id on one channel does
 * not disturb the other), exit when every inherited socket has closed, and a clean
 * exit on SIGTERM that removes the listening socket.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "protocol/protocol.h"
#include "tests/lib/tu.h"

/* Run mpvmm-misc with args (NULL-terminated) and fds as 3, 4, ...; return exit status. */
static int run(const char *const *args, const int *fds, unsigned nr, char **out, char **err)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	struct tu_proc p;
	int status;

	g_ptr_array_add(argv, (char *)tu_bin("MPVMM_MISC"));
	for (unsigned i = 0; args[i]; i++)
		g_ptr_array_add(argv, (char *)args[i]);
	g_ptr_array_add(argv, NULL);
	tu_spawn((char **)argv->pdata, fds, nr, true, &p);
	*out = tu_slurp(p.out_fd);
	*err = tu_slurp(p.err_fd);
	status = tu_wait(&p, 10);
	close(p.out_fd);
	close(p.err_fd);
	g_assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void expect_output(const char *const *args, const char *needle)
{
	g_autofree char *out = NULL, *err = NULL;

	g_assert_cmpint(run(args, NULL, 0, &out, &err), ==, 0);
	g_assert_nonnull(strstr(out, needle));
}

static void test_help(void)
{
	expect_output((const char *const[]){ "--help", NULL }, "Usage: mpvmm-misc -device");
	expect_output((const char *const[]){ "-version", NULL }, "mpvmm-misc 0.");
	expect_output((const char *const[]){ "-device", "help", NULL }, "pci-testdev");
	expect_output((const char *const[]){ "-device", "pci-testdev,help", NULL }, "socket=");
	expect_output((const char *const[]){ "-device", "pci-testdev,id=x,help", NULL }, "id=");
}

static void test_bad_options(void)
{
	static const struct {
		const char *args[5];
		const char *needle;
	} bad[] = {
		{ { NULL }, "no devices" },
		{ { "-x" }, "unknown option '-x'" },
		{ { "-device" }, "-device needs an argument" },
		{ { "-device", "foo,id=a,socket=3" }, "unknown device type 'foo'; valid types: "
						      "pci-testdev" },
		{ { "-device", "" }, "unknown device type ''" },
		{ { "-device", "pci-testdev,socket=3" }, "missing id" },
		{ { "-device", "pci-testdev,id=t 0,socket=3" }, "invalid id 't 0'" },
		{ { "-device", "pci-testdev,id=t0" }, "missing socket" },
		{ { "-device", "pci-testdev,id=t0,socket=" }, "missing socket" },
		{ { "-device", "pci-testdev,id=t0,socket=9" }, "not an open file descriptor" },
		{ { "-device", "pci-testdev,id=t0,socket=1" }, "not a stream socket" },
		{ { "-device", "pci-testdev,id=t0,socket=99999999999" }, "not a valid fd" },
		{ { "-device", "pci-testdev,id=t0,socket=/nonexistent/s" }, "cannot listen" },
		{ { "-device", "pci-testdev,id=t0,socket=/x,membar=1" },
		  "pci-testdev 't0': unknown property 'membar'" },
		{ { "-device", "pci-testdev,id=t0,id=t1,socket=3" }, "'id' given twice" },
		{ { "-device", "pci-testdev,id=t0,,socket=3" }, "not of the form name=value" },
		{ { "-device", "pci-testdev,id=t0,socket=/a", "-device",
		    "pci-testdev,id=t0,socket=/b" }, "id 't0' is used twice" },
		{ { "-device", "pci-testdev,id=t0,socket=/a", "-device",
		    "pci-testdev,id=t1,socket=/a" }, "both use socket=/a" },
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autofree char *out = NULL, *err = NULL;
		g_autofree char *line = g_strjoinv(" ", (char **)bad[i].args);

		g_test_message("args: %s", line);
		g_assert_cmpint(run(bad[i].args, NULL, 0, &out, &err), ==, 1);
		g_assert_nonnull(strstr(err, "mpvmm-misc: "));
		if (!strstr(err, bad[i].needle))
			g_error("expected '%s' in: %s", bad[i].needle, err);
	}
}

static int handshake(int sock, const char *id, uint16_t *next_id)
{
	struct vfu_caps caps = { .major = VFU_VERSION_MAJOR, .minor = VFU_VERSION_MINOR,
				 .max_msg_fds = 1, .max_data_xfer_size = 4096,
				 .device_id = (char *)id };
	g_autofree uint8_t *p = NULL;
	struct vfu_caps theirs;
	struct vfu_msg reply;
	size_t len;
	int ret;

	g_assert_cmpint(vfu_version_encode(&caps, &p, &len), ==, 0);
	ret = vfu_call(sock, next_id, VFU_CMD_VERSION, p, len, NULL, 0, &reply);
	if (ret < 0)
		return ret;
	ret = vfu_version_decode(reply.payload, reply.len, &theirs);
	vfu_msg_clear(&reply);
	if (ret == 0)
		ret = vfu_version_check(&caps, &theirs);
	vfu_caps_clear(&theirs);
	return ret;
}

static uint32_t cfg_read32(int sock, uint16_t *next_id, uint64_t off)
{
	struct vfu_region_access req = { .offset = off, .region = VFU_PCI_CONFIG_REGION,
					 .count = 4 }, got;
	const uint8_t *data;
	struct vfu_msg reply;
	uint32_t v;

	g_assert_cmpint(vfu_call(sock, next_id, VFU_CMD_REGION_READ, &req, sizeof(req), NULL, 0,
				 &reply), ==, 0);
	g_assert_cmpint(vfu_region_access_decode(&reply, true, false, &got, &data), ==, 0);
	memcpy(&v, data, 4);
	vfu_msg_clear(&reply);
	return v;
}

static void test_two_devices(void)
{
	static const char *const args[] = { "-device", "pci-testdev,id=a,socket=3", "-device",
					    "pci-testdev,id=b,socket=4", NULL };
	g_autofree char *err = NULL;
	uint16_t ida = 0, idb = 0;
	int a[2], b[2], fds[2], status;
	struct tu_proc p;
	char c;

	tu_socketpair(a);
	tu_socketpair(b);
	fds[0] = a[1];
	fds[1] = b[1];
	{
		const char *argv[] = { tu_bin("MPVMM_MISC"), args[0], args[1], args[2], args[3],
				       NULL };

		tu_spawn((char **)argv, fds, 2, true, &p);
	}
	close(a[1]);
	close(b[1]);
	/* Channel a is asked for device b: its reply names a, then it is closed. */
	g_assert_cmpint(handshake(a[0], "b", &ida), ==, -ENODEV);
	g_assert_cmpint(read(a[0], &c, 1), ==, 0);
	close(a[0]);
	/* Channel b is unaffected. */
	g_assert_cmpint(handshake(b[0], "b", &idb), ==, 0);
	g_assert_cmphex(cfg_read32(b[0], &idb, 0), ==, 0x00051b36);
	/* Its last channel gone, the process exits cleanly. */
	close(b[0]);
	status = tu_wait(&p, 10);
	err = tu_slurp(p.err_fd);
	close(p.out_fd);
	close(p.err_fd);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
	g_assert_nonnull(strstr(err, "client expects device 'b', but this socket serves 'a'"));
}

static void test_sigterm(void)
{
	g_autofree char *dir = g_dir_make_tmp("mpvmm-misc-XXXXXX", NULL);
	g_autofree char *sock = g_build_filename(dir, "t0.sock", NULL);
	g_autofree char *opt = g_strdup_printf("pci-testdev,id=t0,socket=%s", sock);
	/*
	 * Removing the socket file at exit needs the host's file system, which a sandboxed
	 * process no longer sees (it leaves the file, which the next start removes:
	 * tests/integration/test-sandbox.c): this checks the unconfined path.
	 */
	const char *argv[] = { tu_bin("MPVMM_MISC"), "--sandbox=off", "-device", opt, NULL };
	struct stat st = { 0 };
	struct tu_proc p;
	uint16_t id = 0;
	int status, fd;

	tu_spawn((char **)argv, NULL, 0, false, &p);
	for (int i = 0; i < 1000 && stat(sock, &st) != 0; i++) /* 10 s, for valgrind runs */
		g_usleep(10000);
	g_assert_true(S_ISSOCK(st.st_mode));
	{
		g_autofree char *addr = g_strdup(sock);
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		g_strlcpy(sa.sun_path, addr, sizeof(sa.sun_path));
		g_assert_cmpint(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
	}
	g_assert_cmpint(handshake(fd, "t0", &id), ==, 0);
	kill(p.pid, SIGTERM);
	status = tu_wait(&p, 10);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
	g_assert_false(g_file_test(sock, G_FILE_TEST_EXISTS));
	close(fd);
	g_rmdir(dir);
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/remote/mpvmm-misc/help", test_help);
	g_test_add_func("/remote/mpvmm-misc/bad-options", test_bad_options);
	g_test_add_func("/remote/mpvmm-misc/two-devices", test_two_devices);
	g_test_add_func("/remote/mpvmm-misc/sigterm", test_sigterm);
	return g_test_run();
}
