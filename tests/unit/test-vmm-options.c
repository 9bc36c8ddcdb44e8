// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of mpvmm's command line (vmm/options.c, vmm/devopt.c, vmm/chardev.c,
 * and the property check of vmm/localdev.c): sizes, counts, every option's bad
 * values, -device strings and their socket checks with real fds.  Each error must
 * name the option and say how to fix it.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vmm/vmm.h"

/* Parse a NULL-terminated argv (argv[0] added); returns the result, *msg the error. */
static int parse(struct vmm_opts *o, char **msg, const char *first, ...)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autoptr(GError) err = NULL;
	va_list ap;
	int ret;

	g_ptr_array_add(argv, "mpvmm");
	va_start(ap, first);
	for (const char *a = first; a; a = va_arg(ap, const char *))
		g_ptr_array_add(argv, (char *)a);
	va_end(ap);
	g_ptr_array_add(argv, NULL);
	ret = options_parse((int)argv->len - 1, (char **)argv->pdata, o, &err);
	*msg = err ? g_strdup(err->message) : NULL;
	g_assert_true((ret < 0) == (err != NULL));
	return ret;
}

/* The options must fail with a message containing both needles. */
#define assert_fails(needle1, needle2, ...)                                                        \
	do {                                                                                       \
		struct vmm_opts o_;                                                                \
		g_autofree char *m_ = NULL;                                                        \
		const char *const n_[] = {needle1, needle2, NULL};                                 \
		g_assert_cmpint(parse(&o_, &m_, __VA_ARGS__, NULL), ==, -EINVAL);                  \
		for (unsigned i_ = 0; n_[i_]; i_++)                                                \
			if (!strstr(m_, n_[i_]))                                                   \
				g_error("'%s' lacks '%s'", m_, n_[i_]);                            \
		options_free(&o_);                                                                 \
	} while (0)

static void test_size(void)
{
	const struct {
		const char *s;
		int ret;
		uint64_t val;
	} cases[] = {
		{"128", 0, 128ULL << 20},
		{"128M", 0, 128ULL << 20},
		{"1G", 0, 1ULL << 30},
		{"1g", 0, 1ULL << 30},
		{"4096K", 0, 4ULL << 20},
		{"2T", 0, 2ULL << 40},
		{"65536B", 0, 65536},
		{"0", 0, 0},
		{"", -EINVAL, 0},
		{"M", -EINVAL, 0},
		{"12Q", -EINVAL, 0},
		{"1.5G", -EINVAL, 0},
		{"-1", -EINVAL, 0},
		{"+1", -EINVAL, 0},
		{" 1", -EINVAL, 0},
		{"1 ", -EINVAL, 0},
		{"1MB", -EINVAL, 0},
		{"0x10", -EINVAL, 0},
		{"18446744073709551615B", 0, UINT64_MAX},
		{"18446744073709551616B", -ERANGE, 0},
		{"17179869184G", -ERANGE, 0}, /* 2^34 G = 2^64 */
		{"99999999999999999999999", -ERANGE, 0},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		uint64_t v = 0;

		g_assert_cmpint(options_parse_size(cases[i].s, 1ULL << 20, &v), ==, cases[i].ret);
		if (cases[i].ret == 0)
			g_assert_cmpuint(v, ==, cases[i].val);
	}
}

static void test_uint(void)
{
	uint64_t v;

	g_assert_cmpint(options_parse_uint("255", 255, &v), ==, 0);
	g_assert_cmpuint(v, ==, 255);
	g_assert_cmpint(options_parse_uint("256", 255, &v), ==, -ERANGE);
	g_assert_cmpint(options_parse_uint("007", 255, &v), ==, 0);
	g_assert_cmpuint(v, ==, 7);
	g_assert_cmpint(options_parse_uint("", 255, &v), ==, -EINVAL);
	g_assert_cmpint(options_parse_uint("1x", 255, &v), ==, -EINVAL);
	g_assert_cmpint(options_parse_uint("-1", 255, &v), ==, -EINVAL);
	g_assert_cmpint(options_parse_uint("99999999999999999999", UINT64_MAX, &v), ==, -ERANGE);
}

static void test_defaults(void)
{
	g_autofree char *msg = NULL;
	struct vmm_opts o;

	g_assert_cmpint(parse(&o, &msg, "-kernel", "k.elf", NULL), ==, 0);
	g_assert_cmpint(o.action, ==, VMM_RUN);
	g_assert_cmpuint(o.ram_size, ==, 128ULL << 20);
	g_assert_cmpuint(o.smp, ==, 1);
	g_assert_cmpstr(o.kernel, ==, "k.elf");
	g_assert_null(o.append);
	g_assert_cmpint(o.serial.kind, ==, CHARDEV_STDIO);
	g_assert_cmpint(o.debugcon.kind, ==, CHARDEV_NONE);
	g_assert_cmpuint(o.nr_devices, ==, 0);
	options_free(&o);
}

static void test_all(void)
{
	g_autofree char *msg = NULL;
	struct vmm_opts o;

	g_assert_cmpint(parse(&o, &msg, "-m", "1G", "-smp", "4", "--kernel", "k", "-append", "",
			      "-serial", "file:/tmp/x", "-debugcon", "stdio", "-no-reboot",
			      "-device", "pci-testdev", "-device", "pci-testdev,id=b", NULL),
			==, 0);
	g_assert_cmpuint(o.ram_size, ==, 1ULL << 30);
	g_assert_cmpuint(o.smp, ==, 4);
	g_assert_cmpstr(o.append, ==, "");
	g_assert_cmpint(o.serial.kind, ==, CHARDEV_FILE);
	g_assert_cmpstr(o.serial.path, ==, "/tmp/x");
	g_assert_cmpint(o.debugcon.kind, ==, CHARDEV_STDIO);
	g_assert_true(o.no_reboot);
	g_assert_cmpuint(o.nr_devices, ==, 2);
	g_assert_cmpstr(o.devices[0].id, ==, "pci-testdev.0"); /* generated */
	g_assert_cmpstr(o.devices[1].id, ==, "b");
	g_assert_cmpint(o.devices[0].socket_fd, ==, -1);
	options_free(&o);
}

static void test_info_actions(void)
{
	g_autofree char *m1 = NULL, *m2 = NULL, *m3 = NULL, *m4 = NULL;
	struct vmm_opts o;

	/* Help wins over anything after it, even a bad option. */
	g_assert_cmpint(parse(&o, &m1, "-h", "-m", "bogus", NULL), ==, 0);
	g_assert_cmpint(o.action, ==, VMM_HELP);
	options_free(&o);
	g_assert_cmpint(parse(&o, &m2, "-version", NULL), ==, 0);
	g_assert_cmpint(o.action, ==, VMM_VERSION);
	options_free(&o);
	g_assert_cmpint(parse(&o, &m3, "-device", "help", NULL), ==, 0);
	g_assert_cmpint(o.action, ==, VMM_DEVICE_HELP);
	g_assert_null(o.help_type);
	options_free(&o);
	g_assert_cmpint(parse(&o, &m4, "-device", "pci-proxy-dev,help", NULL), ==, 0);
	g_assert_cmpint(o.action, ==, VMM_DEVICE_HELP);
	g_assert_cmpstr(o.help_type, ==, "pci-proxy-dev");
	options_free(&o);
}

static void test_bad_options(void)
{
	assert_fails("-m 12Q", "K, M or G", "-m", "12Q", "-kernel", "k");
	assert_fails("-m 1K", "too small", "-m", "1K", "-kernel", "k");
	assert_fails("-m 2T", "too large", "-m", "2T", "-kernel", "k");
	assert_fails("-m 99999999999999999999", "too large", "-m", "99999999999999999999");
	assert_fails("-m 4097K", "4K page", "-m", "4097K");
	assert_fails("-smp 0", "1 to 255", "-smp", "0");
	assert_fails("-smp 256", "1 to 255", "-smp", "256");
	assert_fails("-smp 2x", "1 to 255", "-smp", "2x");
	assert_fails("-kernel", "missing argument", "-kernel");
	assert_fails("-kernel: empty", "PVH", "-kernel", "");
	assert_fails("-bogus", "unknown option", "-bogus");
	assert_fails("'stray'", "unexpected argument", "stray");
	assert_fails("-m", "more than once", "-m", "1G", "-m", "2G");
	assert_fails("-serial tcp:1", "stdio, file:PATH or none", "-serial", "tcp:1");
	assert_fails("-serial file:", "stdio, file:PATH or none", "-serial", "file:");
	assert_fails("-debugcon x", "stdio, file:PATH or none", "-debugcon", "x");
	assert_fails("-kernel FILE", "no guest", "-m", "64M");
}

static void test_append_too_long(void)
{
	g_autofree char *s = g_strnfill(VMM_CMDLINE_MAX + 1, 'a');
	g_autofree char *ok = g_strnfill(VMM_CMDLINE_MAX, 'a');
	g_autofree char *msg = NULL;
	struct vmm_opts o;

	assert_fails("-append", "4095", "-kernel", "k", "-append", s);
	g_assert_cmpint(parse(&o, &msg, "-kernel", "k", "-append", ok, NULL), ==, 0);
	options_free(&o);
}

static void test_initrd_machine(void)
{
	g_autofree char *m = NULL;
	g_autofree char *many = NULL;
	g_autofree char *longmod = g_strnfill(VMM_CMDLINE_MAX + 1, 'm');
	struct vmm_opts o;

	g_assert_cmpint(parse(&o, &m, "-kernel", "k", "-initrd", "a.bin x=1,b.bin", "-machine",
			      "pc,acpi=off", NULL),
			==, 0);
	g_assert_cmpuint(o.nr_initrd, ==, 2);
	g_assert_cmpstr(o.initrd[0], ==, "a.bin x=1");
	g_assert_cmpstr(o.initrd[1], ==, "b.bin");
	g_assert_true(o.no_acpi);
	options_free(&o);
	g_assert_cmpint(parse(&o, &m, "-kernel", "k", "-machine", "acpi=on", NULL), ==, 0);
	g_assert_false(o.no_acpi);
	g_assert_cmpuint(o.nr_initrd, ==, 0);
	options_free(&o);
	assert_fails("-initrd", "no file name", "-kernel", "k", "-initrd", "a.bin,,b.bin");
	assert_fails("-initrd", "no file name", "-kernel", "k", "-initrd", "");
	assert_fails("-initrd", "no file name", "-kernel", "k", "-initrd", " args");
	assert_fails("-initrd", "longer than", "-kernel", "k", "-initrd", longmod);
	many = g_strjoinv(",",
			  (char *[]){"m", "m", "m", "m", "m", "m", "m", "m", "m", "m", "m", "m",
				     "m", "m", "m", "m", "m", "m", "m", "m", "m", "m", "m", "m",
				     "m", "m", "m", "m", "m", "m", "m", "m", "m", NULL});
	assert_fails("-initrd", "at most 32", "-kernel", "k", "-initrd", many);
	assert_fails("-machine q35", "not supported", "-kernel", "k", "-machine", "q35");
	assert_fails("'acpi=maybe'", "acpi=on|off", "-kernel", "k", "-machine", "acpi=maybe");
	assert_fails("'pc'", "not supported", "-kernel", "k", "-machine", "acpi=on,pc");
	assert_fails("-initrd", "more than once", "-kernel", "k", "-initrd", "a", "-initrd", "b");
}

static void test_device_bad(void)
{
	assert_fails("unknown device type 'foo'", "-device help", "-device", "foo");
	assert_fails("missing device type", "see -device help", "-device", ",id=a");
	assert_fails("missing id", "id=NAME", "-device", "pci-proxy-dev,socket=/x");
	assert_fails("missing socket", "socket=N", "-device", "pci-proxy-dev,id=t0");
	assert_fails("unknown property 'fd'", "id and socket", "-device",
		     "pci-proxy-dev,id=t0,fd=3");
	assert_fails("invalid id '1a'", "starts with a letter", "-device", "pci-testdev,id=1a");
	assert_fails("invalid id 'a b'", "starts with a letter", "-device", "pci-testdev,id=a b");
	assert_fails("invalid id ''", "starts with a letter", "-device", "pci-testdev,id=");
	assert_fails("property 'id' given twice", "pci-testdev,id=a,id=b", "-device",
		     "pci-testdev,id=a,id=b");
	assert_fails("'' is not a property", "name=value", "-device", "pci-testdev,,id=a");
	assert_fails("'x' is not a property", "name=value", "-device", "pci-testdev,x");
	assert_fails("'=1' is not a property", "name=value", "-device", "pci-testdev,=1");
	assert_fails("socket= is for pci-proxy-dev", "runs inside mpvmm", "-device",
		     "pci-testdev,socket=3");
	assert_fails("empty socket", "socket=PATH", "-device", "pci-proxy-dev,id=t0,socket=");
	assert_fails("not a valid fd", "socket=99999999999", "-device",
		     "pci-proxy-dev,id=t0,socket=99999999999");
	assert_fails("stdin, stdout or stderr", "fd 3 or above", "-device",
		     "pci-proxy-dev,id=t0,socket=1");
	assert_fails("already used", "own id", "-kernel", "k", "-device", "pci-testdev,id=a",
		     "-device", "pci-testdev,id=a");
	assert_fails("dma=shm is neither fd", "use dma=fd or dma=message", "-device",
		     "pci-proxy-dev,id=t0,socket=/x,dma=shm");
	assert_fails("dma=", "use dma=fd or dma=message", "-device",
		     "pci-proxy-dev,id=t0,socket=/x,dma=");
}

/* dma=fd|message: how a remote reaches guest RAM (default fd). */
static void test_device_dma(void)
{
	g_autofree char *msg = NULL;
	struct vmm_opts o;

	g_assert_cmpint(parse(&o, &msg, "-kernel", "k", "-device",
			      "pci-proxy-dev,id=t0,socket=/x,dma=message", "-device",
			      "pci-proxy-dev,id=t1,socket=/y,dma=fd", "-device",
			      "pci-proxy-dev,id=t2,socket=/z", NULL),
			==, 0);
	g_assert_true(o.devices[0].dma_message);
	g_assert_false(o.devices[1].dma_message);
	g_assert_false(o.devices[2].dma_message);
	options_free(&o);
	/* In a class process mpvmm starts: dma= is the proxy's, not a device property. */
	g_assert_cmpint(parse(&o, &msg, "-kernel", "k", "-object",
			      "remote-process,id=r0,class=misc", "-device",
			      "pci-proxy-dev,id=t3,rid=r0,remote-driver=pci-testdev,dma=message",
			      NULL),
			==, 0);
	g_assert_true(o.devices[0].dma_message);
	g_assert_null(json_object_object_get(o.devices[0].props, "dma"));
	options_free(&o);
}

static void test_device_long_id(void)
{
	g_autofree char *id = g_strnfill(DEVOPT_ID_MAX + 1, 'a');
	g_autofree char *arg = g_strdup_printf("pci-testdev,id=%s", id);
	g_autofree char *path = g_strnfill(108, 'p');
	g_autofree char *parg = g_strdup_printf("pci-proxy-dev,id=t0,socket=%s", path);

	assert_fails("invalid id", "at most 64", "-device", arg);
	assert_fails("socket path is longer", "shorter", "-device", parg);
}

/* socket=N: open, a socket, AF_UNIX, SOCK_STREAM; two devices cannot share one. */
static void test_device_socket_fd(void)
{
	int sv[2], dg[2], p[2], inet;
	g_autofree char *a = NULL, *b = NULL, *c = NULL, *d = NULL, *e = NULL, *msg = NULL;
	struct vmm_opts o;

	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, dg), ==, 0);
	g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
	inet = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	g_assert_cmpint(inet, >=, 0);
	a = g_strdup_printf("pci-proxy-dev,id=t0,socket=%d", sv[0]);
	g_assert_cmpint(parse(&o, &msg, "-kernel", "k", "-device", a, NULL), ==, 0);
	g_assert_cmpint(o.devices[0].socket_fd, ==, sv[0]);
	g_assert_null(o.devices[0].socket_path);
	options_free(&o);
	b = g_strdup_printf("pci-proxy-dev,id=t1,socket=%d", sv[0]);
	assert_fails("already used by device 't0'", "own socket", "-kernel", "k", "-device", a,
		     "-device", b);
	c = g_strdup_printf("pci-proxy-dev,id=t0,socket=%d", p[0]);
	assert_fails("is not a socket", "socketpair", "-device", c);
	d = g_strdup_printf("pci-proxy-dev,id=t0,socket=%d", dg[0]);
	assert_fails("not an AF_UNIX stream socket", "socketpair", "-device", d);
	e = g_strdup_printf("pci-proxy-dev,id=t0,socket=%d", inet);
	assert_fails("not an AF_UNIX stream socket", "socketpair", "-device", e);
	close(sv[1]);
	close(sv[0]);
	assert_fails("is not open", "inherits", "-device", a);
	close(dg[0]);
	close(dg[1]);
	close(p[0]);
	close(p[1]);
	close(inet);
}

static void test_device_socket_path(void)
{
	g_autofree char *msg = NULL;
	struct vmm_opts o;

	g_assert_cmpint(parse(&o, &msg, "-kernel", "k", "-device",
			      "pci-proxy-dev,id=t0,socket=/run/t0.sock", "-device",
			      "pci-proxy-dev,id=t1,socket=3x", NULL),
			==, 0);
	g_assert_cmpstr(o.devices[0].socket_path, ==, "/run/t0.sock");
	g_assert_cmpint(o.devices[0].socket_fd, ==, -1);
	g_assert_cmpstr(o.devices[1].socket_path, ==, "3x"); /* not all digits: a path */
	options_free(&o);
}

static void test_device_props(void)
{
	g_autofree char *msg = NULL;
	struct vmm_opts o;
	json_object *v;

	g_assert_cmpint(
		parse(&o, &msg, "-kernel", "k", "-device", "pci-testdev,id=a,foo=bar", NULL), ==,
		0);
	g_assert_true(json_object_object_get_ex(o.devices[0].props, "foo", &v));
	g_assert_cmpstr(json_object_get_string(v), ==, "bar");
	g_assert_false(json_object_object_get_ex(o.devices[0].props, "id", &v));
	options_free(&o);
}

/* Unknown properties of an in-process model are refused when it is created. */
static void test_localdev_unknown_prop(void)
{
	json_object *props = json_object_new_object();
	g_autoptr(GError) err = NULL;
	struct pcifn *fn = NULL;

	json_object_object_add(props, "foo", json_object_new_string("bar"));
	g_assert_cmpint(localdev_create("pci-testdev", "a", props, NULL, &fn, &err), ==, -EINVAL);
	g_assert_nonnull(strstr(err->message, "unknown property 'foo'"));
	g_assert_nonnull(strstr(err->message, "-device pci-testdev"));
	json_object_put(props);
	props = json_object_new_object();
	g_assert_cmpint(localdev_create("pci-testdev", "a", props, NULL, &fn, NULL), ==, 0);
	g_assert_cmpstr(pcifn_id(fn), ==, "a");
	pcifn_destroy(fn);
	json_object_put(props);
}

static char *help_text(const char *type, int *ret)
{
	g_autoptr(GError) err = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	*ret = devopt_print_help(f, type, &err);
	fclose(f);
	if (*ret < 0)
		g_assert_nonnull(strstr(err->message, "unknown device type"));
	return buf;
}

static void test_device_help(void)
{
	g_autofree char *all = NULL, *proxy = NULL, *local = NULL, *bad = NULL;
	int ret;

	all = help_text(NULL, &ret);
	g_assert_cmpint(ret, ==, 0);
	g_assert_nonnull(strstr(all, "pci-proxy-dev"));
	g_assert_nonnull(strstr(all, "pci-testdev"));
	proxy = help_text("pci-proxy-dev", &ret);
	g_assert_nonnull(strstr(proxy, "socket=fd|path"));
	g_assert_nonnull(strstr(proxy, "dma=fd|message"));
	g_assert_nonnull(strstr(proxy, "DMA_READ/DMA_WRITE"));
	local = help_text("pci-testdev", &ret);
	g_assert_nonnull(strstr(local, "id=string"));
	bad = help_text("nope", &ret);
	g_assert_cmpint(ret, ==, -ENOENT);
}

static void test_help_text(void)
{
	g_autofree char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	options_print_help(f);
	fclose(f);
	for (const char *o = "-m\0-smp\0-kernel\0-append\0-serial\0-debugcon\0-device\0-no-reboot\0"
			     "-version\0";
	     *o; o += strlen(o) + 1)
		g_assert_nonnull(strstr(buf, o));
}

/* -blockdev: every malformed form is refused while parsing, naming the option. */
static void test_blockdev_bad(void)
{
	assert_fails("-blockdev", "driver 'qcow2'", "-blockdev",
		     "driver=qcow2,node-name=d,filename=x");
	assert_fails("-blockdev", "missing filename", "-blockdev", "driver=file,node-name=d");
	assert_fails("-blockdev", "missing driver", "-blockdev", "node-name=d,filename=x");
	assert_fails("-blockdev", "unknown property 'cache'", "-blockdev",
		     "driver=file,node-name=d,filename=x,cache=none");
	assert_fails("-blockdev", "given twice", "-blockdev",
		     "driver=file,node-name=d,node-name=e,filename=x");
	assert_fails("-blockdev", "invalid node-name", "-blockdev",
		     "driver=file,node-name=9d,filename=x");
	assert_fails("-blockdev", "read-only must be on or off", "-blockdev",
		     "driver=file,node-name=d,filename=x,read-only=yes");
	assert_fails("node-name 'd' is used twice", NULL, "-blockdev",
		     "driver=file,node-name=d,filename=x", "-blockdev",
		     "driver=file,node-name=d,filename=y");
}

/* Parse, then open the in-process backends; returns localdev_backends()'s result. */
static int backends(struct vmm_opts *o, char **msg, const char *bd, const char *dev)
{
	g_autoptr(GError) err = NULL;
	int ret;

	g_assert_cmpint(parse(o, msg, "-kernel", "k", "-blockdev", bd, "-device", dev, NULL), ==,
			0);
	ret = localdev_backends(o, &err);
	*msg = err ? g_strdup(err->message) : NULL;
	return ret;
}

#define assert_backend_fails(needle, bd, dev)                                                      \
	do {                                                                                       \
		struct vmm_opts o_;                                                                \
		g_autofree char *m_ = NULL;                                                        \
		g_assert_cmpint(backends(&o_, &m_, bd, dev), <, 0);                                \
		if (!strstr(m_, needle))                                                           \
			g_error("'%s' lacks '%s'", m_, needle);                                    \
		options_free(&o_);                                                                 \
	} while (0)

/* drive=NODE becomes fd=N; a missing, unused, unopenable or hand-given backend fails. */
static void test_localdev_backends(void)
{
	g_autofree char *img = NULL, *bd = NULL, *ro = NULL, *msg = NULL;
	int fd = g_file_open_tmp("mpvmm-opt-XXXXXX.img", &img, NULL);
	struct vmm_opts o;
	json_object *v;

	g_assert_cmpint(fd, >=, 0);
	close(fd);
	bd = g_strdup_printf("driver=file,node-name=d0,filename=%s", img);
	ro = g_strdup_printf("driver=file,node-name=d0,filename=%s,read-only=on", img);
	g_assert_cmpint(backends(&o, &msg, bd, "virtio-blk,id=b,drive=d0"), ==, 0);
	g_assert_true(json_object_object_get_ex(o.devices[0].props, "fd", &v));
	g_assert_false(json_object_object_get_ex(o.devices[0].props, "drive", &v));
	options_free(&o);
	g_assert_cmpint(backends(&o, &msg, ro, "virtio-blk,id=b,drive=d0"), ==, 0);
	g_assert_true(json_object_object_get_ex(o.devices[0].props, "read-only", &v));
	g_assert_cmpstr(json_object_get_string(v), ==, "on");
	options_free(&o);
	assert_backend_fails("is not used by any -device", bd, "pci-testdev,id=t");
	assert_backend_fails("missing drive", bd, "virtio-blk,id=b");
	assert_backend_fails("is not a -blockdev node-name", bd, "virtio-blk,id=b,drive=d1");
	assert_backend_fails("fd= is set by the process", bd, "virtio-blk,id=b,drive=d0,fd=1");
	assert_backend_fails("but drive 'd0' is read-only", ro,
			     "virtio-blk,id=b,drive=d0,read-only=off");
	assert_backend_fails("cannot open '/nonexistent/x'",
			     "driver=file,node-name=d0,filename=/nonexistent/x",
			     "virtio-blk,id=b,drive=d0");
	assert_backend_fails("is not a regular file", "driver=file,node-name=d0,filename=/dev/null",
			     "virtio-blk,id=b,drive=d0");
	unlink(img);
}

/* mpvmm opens /dev/urandom for an in-process virtio-rng; fd= by hand is refused. */
static void test_localdev_rng(void)
{
	json_object *props = json_object_new_object();
	g_autoptr(GError) err = NULL;
	struct pcifn *fn = NULL;

	json_object_object_add(props, "fd", json_object_new_string("0"));
	g_assert_cmpint(localdev_create("virtio-rng", "r", props, NULL, &fn, &err), ==, -EINVAL);
	g_assert_nonnull(strstr(err->message, "fd= is set by mpvmm"));
	json_object_put(props);
	props = json_object_new_object();
	g_assert_cmpint(localdev_create("virtio-rng", "r", props, NULL, &fn, NULL), ==, 0);
	g_assert_false(json_object_object_get_ex(props, "fd", NULL));
	pcifn_destroy(fn);
	json_object_put(props);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vmm/options/size", test_size);
	g_test_add_func("/vmm/options/uint", test_uint);
	g_test_add_func("/vmm/options/defaults", test_defaults);
	g_test_add_func("/vmm/options/all", test_all);
	g_test_add_func("/vmm/options/info-actions", test_info_actions);
	g_test_add_func("/vmm/options/bad", test_bad_options);
	g_test_add_func("/vmm/options/append-too-long", test_append_too_long);
	g_test_add_func("/vmm/options/help", test_help_text);
	g_test_add_func("/vmm/options/initrd-machine", test_initrd_machine);
	g_test_add_func("/vmm/devopt/bad", test_device_bad);
	g_test_add_func("/vmm/devopt/long", test_device_long_id);
	g_test_add_func("/vmm/devopt/dma", test_device_dma);
	g_test_add_func("/vmm/devopt/socket-fd", test_device_socket_fd);
	g_test_add_func("/vmm/devopt/socket-path", test_device_socket_path);
	g_test_add_func("/vmm/devopt/props", test_device_props);
	g_test_add_func("/vmm/devopt/help", test_device_help);
	g_test_add_func("/vmm/localdev/unknown-prop", test_localdev_unknown_prop);
	g_test_add_func("/vmm/options/blockdev-bad", test_blockdev_bad);
	g_test_add_func("/vmm/localdev/backends", test_localdev_backends);
	g_test_add_func("/vmm/localdev/virtio-rng", test_localdev_rng);
	return g_test_run();
}
