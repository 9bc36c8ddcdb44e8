// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of remote/control.c, the QMP control channel of a class process, over a
 * real socketpair: the process (remote.c's main loop with no device) runs on a thread
 * of this test, the test is its QMP client (tests/unit/test-qmp-client.c, which shares
 * no code with the server).  Every command, every bad argument with its error, fds
 * passed with getfd and consumed by device_add, device_add then device_del (the
 * device's socket closes), a vfio-user handshake on a device created at run time, a
 * -qmp listening socket, the option parser, and the process ending when its control
 * channel closes.  No fd may leak.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "protocol/protocol.h"
#include "remote/remote.h"
#include "tests/unit/test-qmp-client.h"

const struct dev_ops *const dev_table[] = {&pci_testdev_ops, &virtio_blk_ops, &virtio_rng_ops,
					   NULL};

struct rc {
	struct remote *r;
	struct control *c;
	GThread *thread;
	struct tq *q;
	int status;
};

static gpointer rc_main(gpointer opaque)
{
	struct rc *rc = opaque;

	rc->status = remote_run(rc->r);
	return NULL;
}

static json_object *rc_sandbox(void *ctx)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "enabled", json_object_new_boolean(true));
	json_object_object_add(o, "seccomp", json_object_new_string(ctx));
	return o;
}

/* A process with no device and a control channel on a socketpair, negotiated. */
static void rc_start(struct rc *rc, bool sandbox)
{
	json_object *greeting;
	int sv[2];

	memset(rc, 0, sizeof(*rc));
	g_assert_cmpint(remote_create(NULL, 0, &rc->r, NULL), ==, 0);
	g_assert_cmpint(control_create(rc->r, "1.2.3", &rc->c), ==, 0);
	if (sandbox)
		control_set_sandbox(rc->c, rc_sandbox, "filter");
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	g_assert_cmpint(control_check_fd(sv[1], NULL), ==, 0);
	g_assert_cmpint(control_adopt(rc->c, sv[1], NULL), ==, 0);
	rc->thread = g_thread_new("remote", rc_main, rc);
	rc->q = tq_open_fd(sv[0]);
	greeting = tq_negotiate(rc->q);
	g_assert_cmpint(json_object_get_int(tq_get(greeting, "QMP.version.qemu.major")), ==, 1);
	g_assert_cmpint(json_object_get_int(tq_get(greeting, "QMP.version.qemu.minor")), ==, 2);
	g_assert_cmpint(json_object_get_int(tq_get(greeting, "QMP.version.qemu.micro")), ==, 3);
	json_object_put(greeting);
}

/* Close the control channel: the process must end by itself. */
static void rc_stop(struct rc *rc)
{
	tq_close(rc->q);
	g_thread_join(rc->thread);
	g_assert_cmpint(rc->status, ==, 0);
	control_destroy(rc->c);
	remote_destroy(rc->r);
}

static void expect_error(struct rc *rc, const char *cmd, const char *cls, const char *needle)
{
	json_object *reply = tq_cmd(rc->q, cmd);
	const char *desc = tq_str(reply, "error.desc");

	tq_assert_error(reply, cls, NULL);
	if (!strstr(desc, needle))
		g_error("%s: error '%s' does not contain '%s'", cmd, desc, needle);
	json_object_put(reply);
}

static void expect_ok(struct rc *rc, const char *cmd)
{
	json_object *reply = tq_cmd(rc->q, cmd);

	tq_assert_return(reply);
	json_object_put(reply);
}

/* getfd NAME with fd attached. */
static void getfd(struct rc *rc, const char *name, int fd)
{
	g_autofree char *cmd = g_strdup_printf(
		"{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"%s\"}}", name);
	json_object *reply;

	tq_send_fds(rc->q, cmd, &fd, 1);
	reply = tq_reply(rc->q);
	tq_assert_return(reply);
	json_object_put(reply);
}

/* A socketpair: sv[1] goes to the process as NAME, sv[0] is returned. */
static int pass_socket(struct rc *rc, const char *name)
{
	int sv[2];

	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	getfd(rc, name, sv[1]);
	close(sv[1]);
	return sv[0];
}

/* query-devices as "id:type:channel,..." */
static char *devices(struct rc *rc)
{
	json_object *reply = tq_cmd(rc->q, "{\"execute\": \"query-devices\"}");
	json_object *list = tq_assert_return(reply);
	GString *s = g_string_new(NULL);

	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *d = json_object_array_get_idx(list, i);

		g_string_append_printf(s, "%s%s:%s:%s", i ? "," : "", tq_str(d, "id"),
				       tq_str(d, "type"), tq_str(d, "channel"));
	}
	json_object_put(reply);
	return g_string_free(s, FALSE);
}

/* A vfio-user VERSION handshake with device `id` on sock: the device is being served. */
static void assert_serves(int sock, const char *id)
{
	struct vfu_caps caps = {.major = VFU_VERSION_MAJOR,
				.minor = VFU_VERSION_MINOR,
				.max_msg_fds = 1,
				.max_data_xfer_size = 4096,
				.device_id = (char *)id};
	struct pollfd p = {.fd = sock, .events = POLLIN};
	g_autofree uint8_t *payload = NULL;
	struct vfu_msg m;
	size_t len;

	g_assert_cmpint(vfu_version_encode(&caps, &payload, &len), ==, 0);
	g_assert_cmpint(
		vfu_send(sock, 1, VFU_CMD_VERSION, VFU_F_TYPE_COMMAND, 0, payload, len, NULL, 0),
		==, 0);
	g_assert_cmpint(poll(&p, 1, 5000), ==, 1);
	g_assert_cmpint(vfu_recv(sock, &m, VFU_MAX_MSG), ==, 0);
	g_assert_false(m.hdr.flags & VFU_F_ERROR);
	g_assert_cmpuint(m.hdr.cmd, ==, VFU_CMD_VERSION);
	vfu_msg_clear(&m);
}

/* The process closed its end of sock. */
static void assert_closed(int sock)
{
	struct pollfd p = {.fd = sock, .events = POLLIN};
	char c;

	g_assert_cmpint(poll(&p, 1, 5000), ==, 1);
	g_assert_cmpint(recv(sock, &c, 1, MSG_DONTWAIT), ==, 0);
}

static void test_queries(void)
{
	g_autofree char *devs = NULL;
	unsigned fds = tq_count_fds();
	json_object *reply;
	struct rc rc;

	rc_start(&rc, false);
	reply = tq_cmd(rc.q, "{\"execute\": \"query-status\", \"id\": 7}");
	g_assert_true(json_object_get_boolean(tq_get(tq_assert_return(reply), "running")));
	g_assert_cmpstr(tq_str(reply, "return.status"), ==, "running");
	g_assert_cmpint(json_object_get_int(tq_get(reply, "id")), ==, 7);
	json_object_put(reply);
	devs = devices(&rc);
	g_assert_cmpstr(devs, ==, "");
	reply = tq_cmd(rc.q, "{\"execute\": \"query-sandbox\"}");
	g_assert_false(json_object_get_boolean(tq_get(tq_assert_return(reply), "enabled")));
	json_object_put(reply);
	reply = tq_cmd(rc.q, "{\"execute\": \"query-commands\"}");
	g_assert_nonnull(strstr(json_object_to_json_string(reply), "\"device_add\""));
	g_assert_nonnull(strstr(json_object_to_json_string(reply), "\"query-sandbox\""));
	json_object_put(reply);
	expect_error(&rc, "{\"execute\": \"query-status\", \"arguments\": {\"x\": 1}}",
		     "GenericError", "Parameter 'x' is unexpected");
	expect_error(&rc, "{\"execute\": \"stop\"}", "CommandNotFound", "stop");
	rc_stop(&rc);
	g_assert_cmpuint(tq_count_fds(), ==, fds);
}

static void test_sandbox_state(void)
{
	json_object *reply;
	struct rc rc;

	rc_start(&rc, true);
	reply = tq_cmd(rc.q, "{\"execute\": \"query-sandbox\"}");
	g_assert_true(json_object_get_boolean(tq_get(tq_assert_return(reply), "enabled")));
	g_assert_cmpstr(tq_str(reply, "return.seccomp"), ==, "filter");
	json_object_put(reply);
	rc_stop(&rc);
}

/* Two devices at run time, served; device_del closes exactly its own socket. */
static void test_add_del(void)
{
	unsigned fds = tq_count_fds();
	char *devs;
	struct rc rc;
	int t0, t1;

	rc_start(&rc, false);
	t0 = pass_socket(&rc, "s0");
	t1 = pass_socket(&rc, "s1");
	expect_ok(&rc, "{\"execute\": \"device_add\", \"arguments\": {\"driver\": "
		       "\"pci-testdev\", \"id\": \"t0\", \"socket\": \"s0\"}}");
	expect_ok(&rc, "{\"execute\": \"device_add\", \"arguments\": {\"driver\": "
		       "\"pci-testdev\", \"id\": \"t1\", \"socket\": \"s1\"}}");
	devs = devices(&rc);
	g_assert_cmpstr(devs, ==, "t0:pci-testdev:connected,t1:pci-testdev:connected");
	g_free(devs);
	assert_serves(t0, "t0");
	assert_serves(t1, "t1");
	/* device_add consumed the names */
	expect_error(&rc, "{\"execute\": \"closefd\", \"arguments\": {\"fdname\": \"s0\"}}",
		     "GenericError", "s0");
	expect_ok(&rc, "{\"execute\": \"device_del\", \"arguments\": {\"id\": \"t0\"}}");
	assert_closed(t0);
	devs = devices(&rc);
	g_assert_cmpstr(devs, ==, "t1:pci-testdev:connected");
	g_free(devs);
	/* the peer leaving closes the channel; the device stays until device_del */
	close(t1);
	for (unsigned i = 0; i < 500; i++) {
		devs = devices(&rc);
		if (!strcmp(devs, "t1:pci-testdev:closed"))
			break;
		g_clear_pointer(&devs, g_free);
		g_usleep(10000);
	}
	g_assert_cmpstr(devs, ==, "t1:pci-testdev:closed");
	g_free(devs);
	expect_ok(&rc, "{\"execute\": \"device_del\", \"arguments\": {\"id\": \"t1\"}}");
	close(t0);
	rc_stop(&rc);
	g_assert_cmpuint(tq_count_fds(), ==, fds);
}

#define ADD(args) "{\"execute\": \"device_add\", \"arguments\": {" args "}}"

/* Every bad device_add and device_del gets its own error; nothing is created. */
static void test_bad_args(void)
{
	unsigned fds = tq_count_fds();
	char *devs;
	struct rc rc;
	int efd, t0;

	rc_start(&rc, false);
	expect_error(&rc, ADD("\"driver\": \"pci-testdev\", \"id\": \"t0\""), "GenericError",
		     "Parameter 'socket' is missing");
	expect_error(&rc, ADD("\"socket\": \"s\", \"id\": \"t0\""), "GenericError",
		     "Parameter 'driver' is missing");
	expect_error(&rc, ADD("\"driver\": 5, \"id\": \"t0\", \"socket\": \"s\""), "GenericError",
		     "Invalid parameter type for 'driver', expected: string");
	expect_error(&rc, ADD("\"driver\": \"pci-testdev\", \"id\": [], \"socket\": \"s\""),
		     "GenericError", "Invalid parameter type for 'id', expected: string");
	expect_error(&rc, ADD("\"driver\": \"nic\", \"id\": \"t0\", \"socket\": \"s\""),
		     "GenericError",
		     "'nic' is not a valid device model name; this process hosts: "
		     "pci-testdev, virtio-blk, virtio-rng");
	expect_error(&rc, ADD("\"driver\": \"pci-testdev\", \"id\": \"a b\", \"socket\": \"s\""),
		     "GenericError", "Parameter 'id' expects an identifier");
	expect_error(&rc, ADD("\"driver\": \"pci-testdev\", \"id\": \"t0\", \"socket\": \"s\""),
		     "GenericError", "socket: file descriptor named 's' not found");
	expect_error(&rc,
		     ADD("\"driver\": \"pci-testdev\", \"id\": \"t0\", \"socket\": \"s\", "
			 "\"x\": {}"),
		     "GenericError", "Invalid parameter type for 'x', expected: string");
	expect_error(&rc,
		     ADD("\"driver\": \"pci-testdev\", \"id\": \"t0\", \"socket\": \"s\", "
			 "\"fd\": \"3\""),
		     "GenericError", "Parameter 'fd' is unexpected");
	expect_error(&rc, ADD("\"driver\": \"virtio-blk\", \"id\": \"b0\", \"socket\": \"s\""),
		     "GenericError", "Parameter 'drive' is missing");
	expect_error(&rc,
		     ADD("\"driver\": \"virtio-blk\", \"id\": \"b0\", \"socket\": \"s\", "
			 "\"drive\": \"img\""),
		     "GenericError", "drive: file descriptor named 'img' not found");
	expect_error(&rc, ADD("\"driver\": \"virtio-rng\", \"id\": \"r0\", \"socket\": \"s\""),
		     "GenericError", "Parameter 'rng' is missing");
	/* a refused device_add consumes the fds it names, whichever check failed */
	close(pass_socket(&rc, "s"));
	expect_error(&rc, ADD("\"driver\": \"nic\", \"id\": \"t0\", \"socket\": \"s\""),
		     "GenericError", "'nic' is not a valid device model name");
	expect_error(&rc, "{\"execute\": \"closefd\", \"arguments\": {\"fdname\": \"s\"}}",
		     "GenericError", "s");
	close(pass_socket(&rc, "s"));
	getfd(&rc, "img", 0);
	expect_error(&rc, ADD("\"driver\": \"virtio-blk\", \"id\": \"b 0\", \"socket\": \"s\", "
			      "\"drive\": \"img\""), "GenericError", "Parameter 'id' expects");
	expect_error(&rc, "{\"execute\": \"closefd\", \"arguments\": {\"fdname\": \"img\"}}",
		     "GenericError", "img");
	expect_error(&rc, "{\"execute\": \"closefd\", \"arguments\": {\"fdname\": \"s\"}}",
		     "GenericError", "s");
	/* an fd that is not a socket */
	efd = eventfd(0, EFD_CLOEXEC);
	getfd(&rc, "e", efd);
	close(efd);
	expect_error(&rc, ADD("\"driver\": \"pci-testdev\", \"id\": \"t0\", \"socket\": \"e\""),
		     "GenericError", "is not a stream socket");
	/* a property the model does not know: the model's own message; the fd is consumed */
	close(pass_socket(&rc, "s"));
	expect_error(&rc,
		     ADD("\"driver\": \"pci-testdev\", \"id\": \"t0\", \"socket\": \"s\", "
			 "\"colour\": \"red\""),
		     "GenericError", "colour");
	expect_error(&rc, "{\"execute\": \"closefd\", \"arguments\": {\"fdname\": \"s\"}}",
		     "GenericError", "s");
	/* duplicate id */
	t0 = pass_socket(&rc, "s");
	expect_ok(&rc, ADD("\"driver\": \"pci-testdev\", \"id\": \"t0\", \"socket\": \"s\""));
	close(pass_socket(&rc, "s"));
	expect_error(&rc, ADD("\"driver\": \"pci-testdev\", \"id\": \"t0\", \"socket\": \"s\""),
		     "GenericError", "Duplicate ID 't0' for device");
	devs = devices(&rc);
	g_assert_cmpstr(devs, ==, "t0:pci-testdev:connected");
	g_free(devs);
	expect_error(&rc, "{\"execute\": \"device_del\", \"arguments\": {\"id\": \"t9\"}}",
		     "DeviceNotFound", "Device 't9' not found");
	expect_error(&rc, "{\"execute\": \"device_del\"}", "GenericError",
		     "Parameter 'id' is missing");
	expect_error(&rc, "{\"execute\": \"device_del\", \"arguments\": {\"id\": 1}}",
		     "GenericError", "Invalid parameter type for 'id', expected: string");
	rc_stop(&rc); /* destroys t0 with the process */
	assert_closed(t0);
	close(t0);
	g_assert_cmpuint(tq_count_fds(), ==, fds);
}

/* Backends come as fds: an image for virtio-blk (typed properties too), /dev/urandom. */
static void test_backends(void)
{
	g_autofree char *path = NULL;
	unsigned fds = tq_count_fds();
	int img, rng, b0, r0;
	struct rc rc;
	char *devs;

	img = g_file_open_tmp("mpvmm-ctl-XXXXXX", &path, NULL);
	g_assert_cmpint(img, >=, 0);
	g_assert_cmpint(ftruncate(img, 1 << 20), ==, 0);
	rng = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	g_assert_cmpint(rng, >=, 0);
	rc_start(&rc, false);
	b0 = pass_socket(&rc, "b0.sock");
	getfd(&rc, "b0.drive", img);
	expect_ok(&rc, ADD("\"driver\": \"virtio-blk\", \"id\": \"b0\", \"socket\": \"b0.sock\", "
			   "\"drive\": \"b0.drive\", \"read-only\": true, \"num-queues\": 2"));
	r0 = pass_socket(&rc, "r0.sock");
	getfd(&rc, "r0.rng", rng);
	expect_ok(&rc, ADD("\"driver\": \"virtio-rng\", \"id\": \"r0\", \"socket\": \"r0.sock\", "
			   "\"rng\": \"r0.rng\""));
	devs = devices(&rc);
	g_assert_cmpstr(devs, ==, "b0:virtio-blk:connected,r0:virtio-rng:connected");
	g_free(devs);
	assert_serves(b0, "b0");
	assert_serves(r0, "r0");
	expect_error(&rc, "{\"execute\": \"closefd\", \"arguments\": {\"fdname\": \"b0.drive\"}}",
		     "GenericError", "b0.drive");
	/* a bad typed property: the model refuses it */
	close(pass_socket(&rc, "b1.sock"));
	getfd(&rc, "b1.drive", img);
	expect_error(&rc,
		     ADD("\"driver\": \"virtio-blk\", \"id\": \"b1\", \"socket\": "
			 "\"b1.sock\", \"drive\": \"b1.drive\", \"num-queues\": 0"),
		     "GenericError", "virtio-blk 'b1': cannot create the device");
	expect_ok(&rc, "{\"execute\": \"device_del\", \"arguments\": {\"id\": \"b0\"}}");
	assert_closed(b0);
	rc_stop(&rc);
	assert_closed(r0);
	close(b0);
	close(r0);
	close(img);
	close(rng);
	g_unlink(path);
	g_assert_cmpuint(tq_count_fds(), ==, fds);
}

/* -qmp unix:PATH: a second monitor, any number of clients, next to --control. */
static void test_listen(void)
{
	g_autofree char *dir = g_dir_make_tmp("mpvmm-ctl-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "qmp.sock", NULL);
	struct control_opts co = CONTROL_OPTS_INIT;
	GError *err = NULL;
	json_object *reply;
	struct tq *q;
	struct rc rc;

	rc_start(&rc, false);
	co.paths[co.nr_paths++] = g_strdup(path);
	g_assert_cmpint(control_listen(rc.c, path, &err), ==, 0);
	q = tq_connect(path, 5);
	json_object_put(tq_negotiate(q));
	reply = tq_cmd(q, "{\"execute\": \"query-devices\"}");
	g_assert_cmpuint(json_object_array_length(tq_assert_return(reply)), ==, 0);
	json_object_put(reply);
	tq_close(q); /* a listening client leaving does not end the process */
	expect_ok(&rc, "{\"execute\": \"query-status\"}");
	rc_stop(&rc);
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
	control_opts_clear(&co);
	g_rmdir(dir);
}

static void expect_parse(const char *arg, const char *next, int want, const char *needle)
{
	struct control_opts co = CONTROL_OPTS_INIT;
	GError *err = NULL;
	int ret = control_parse(&co, arg, next, &err);

	g_assert_cmpint(ret, ==, want);
	if (needle) {
		g_assert_nonnull(err);
		if (!strstr(err->message, needle))
			g_error("'%s %s': '%s' lacks '%s'", arg, next, err->message, needle);
		g_error_free(err);
	} else {
		g_assert_null(err);
	}
	control_opts_clear(&co);
}

static void test_options(void)
{
	struct control_opts co = CONTROL_OPTS_INIT;

	expect_parse("-device", "x", 0, NULL);
	expect_parse("--control=7", NULL, 1, NULL);
	expect_parse("--control=2", NULL, -EINVAL, "not an fd number");
	expect_parse("--control=x", NULL, -EINVAL, "not an fd number");
	expect_parse("--control=", NULL, -EINVAL, "not an fd number");
	expect_parse("--control=99999999999", NULL, -EINVAL, "not an fd number");
	expect_parse("-qmp", "unix:/tmp/q,server=on,wait=off", 2, NULL);
	expect_parse("-qmp", "unix:/tmp/q,server,nowait", 2, NULL);
	expect_parse("-qmp", NULL, -EINVAL, "needs an argument");
	expect_parse("-qmp", "tcp:1:2,server=on,wait=off", -EINVAL, "only unix:PATH");
	expect_parse("-qmp", "unix:,server=on,wait=off", -EINVAL, "only unix:PATH");
	expect_parse("-qmp", "unix:/tmp/q", -EINVAL, "add server=on,wait=off");
	expect_parse("-qmp", "unix:/tmp/q,server=on,wait=on", -EINVAL, "'wait=on'");
	g_assert_cmpint(control_parse(&co, "--control=5", NULL, NULL), ==, 1);
	g_assert_cmpint(control_parse(&co, "--control=6", NULL, NULL), ==, -EINVAL);
	for (unsigned i = 0; i < CONTROL_QMP_MAX; i++)
		g_assert_cmpint(control_parse(&co, "-qmp", "unix:/q,server=on,wait=off", NULL), ==,
				2);
	g_assert_cmpint(control_parse(&co, "-qmp", "unix:/q,server=on,wait=off", NULL), ==,
			-EINVAL);
	g_assert_cmpint(co.fd, ==, 5);
	g_assert_cmpstr(co.paths[0], ==, "/q");
	control_opts_clear(&co);
	g_assert_cmpint(co.fd, ==, -1);
	g_assert_cmpint(control_check_fd(0x7ffffff0, NULL), ==, -EBADF);
}

int main(int argc, char **argv)
{
	struct rc warm;

	g_test_init(&argc, &argv, NULL);
	/*
	 * GLib opens a few fds once per process (the default context's wake-up eventfd,
	 * the unix-signal pipe and its worker thread): open them before any test counts.
	 */
	rc_start(&warm, false);
	rc_stop(&warm);
	g_test_add_func("/remote/control/queries", test_queries);
	g_test_add_func("/remote/control/sandbox-state", test_sandbox_state);
	g_test_add_func("/remote/control/add-del", test_add_del);
	g_test_add_func("/remote/control/bad-args", test_bad_args);
	g_test_add_func("/remote/control/backends", test_backends);
	g_test_add_func("/remote/control/listen", test_listen);
	g_test_add_func("/remote/control/options", test_options);
	return g_test_run();
}
