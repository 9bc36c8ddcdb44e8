// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-hotplug: PCIe native hot-plug end to end on KVM.  mpvmm runs hotplug.elf (a
 * pciehp-like guest driver, tests/guest/hotplug.c) behind -device pcie-root-port; the
 * test drives QMP device_add / device_del with a pci-testdev served by a real
 * mpvmm-misc, reached by getfd (SCM_RIGHTS) or by socket path, and checks what the
 * guest reports (TAP on debugcon) and what QMP answers: the error classes, a full port,
 * a guest that never releases its device (the unplug timeout), a device process that
 * dies or goes silent during the handshake (the VM runs on), and 100 plug/unplug
 * cycles while another device does I/O, with mpvmm's and mpvmm-misc's open fds and RSS
 * compared before and after; and the same guest under QEMU 7.2.  The virtio-blk
 * hot-plug tests are in test-hotplug-blk.c, the harness (VMM process, QMP client) in
 * test-hotplug-vm.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/integration/test-hotplug.h"

/*
 * query-pci with pci-testdev `id` in port `port` (the guest has it working): the port
 * and the device carry their ids, and the device, on the port's secondary bus, its
 * BARs as QEMU lists them: 4 KiB of memory, decoded inside the port's memory window,
 * and 256 bytes of I/O (devices/pci_testdev.c).
 */
static void hp_check_query_pci(struct hp_vm *vm, const char *port, const char *id)
{
	json_object *br, *d, *r = hp_query_pci_slot(vm, port, id, &d, &br), *regs;
	json_object *mem, *io, *win;

	g_assert_true(json_object_object_get_ex(d, "regions", &regs));
	g_assert_cmpuint(json_object_array_length(regs), ==, 2);
	mem = json_object_array_get_idx(regs, 0);
	io = json_object_array_get_idx(regs, 1);
	g_assert_cmpint(hp_int(mem, "bar"), ==, 0);
	g_assert_cmpstr(json_object_get_string(json_object_object_get(mem, "type")), ==, "memory");
	g_assert_cmpint(hp_int(mem, "size"), ==, 4096);
	win = json_object_object_get(json_object_object_get(br, "bus"), "memory_range");
	g_assert_cmpint(hp_int(mem, "address"), >=, hp_int(win, "base"));
	g_assert_cmpint(hp_int(mem, "address") + 4095, <=, hp_int(win, "limit"));
	g_assert_cmpint(hp_int(io, "bar"), ==, 1);
	g_assert_cmpstr(json_object_get_string(json_object_object_get(io, "type")), ==, "io");
	g_assert_cmpint(hp_int(io, "size"), ==, 256);
	json_object_put(r);
}

/* Does mpvmm (pid) run a thread named comm? */
static bool hp_has_thread(pid_t pid, const char *comm)
{
	g_autofree char *dir = g_strdup_printf("/proc/%d/task", (int)pid);
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *t;

	while (d && (t = g_dir_read_name(d))) {
		g_autofree char *path = g_build_filename(dir, t, "comm", NULL);
		g_autofree char *name = NULL;

		if (g_file_get_contents(path, &name, NULL, NULL) && g_str_has_prefix(name, comm))
			return true;
	}
	return false;
}

/*
 * A real mpvmm-misc dying mid-handshake: stopped while it listens, so mpvmm's connect
 * succeeds (the kernel queues it) but VERSION gets no answer; killed once mpvmm's
 * hotplug-connect thread is waiting for that answer (the thread exists only after the
 * connect).  device_add fails at once on the dead channel, not by the 5 s timeout.
 */
static void hp_real_remote_dies(struct hp_vm *vm)
{
	g_autofree char *sock = g_build_filename(vm->dir, "dies.sock", NULL);
	g_autofree char *cmd = g_strdup_printf(
		ADD("\"driver\": \"pci-proxy-dev\", \"id\": \"hp\", \"socket\": \"%s\""), sock);
	struct tu_proc dying;
	json_object *r, *e, *v;
	const char *desc;
	int status;

	hp_remote("hp", sock, &dying);
	g_assert_cmpint(kill(dying.pid, SIGSTOP), ==, 0);
	g_assert_cmpint(write(vm->qmp, cmd, strlen(cmd)), ==, (ssize_t)strlen(cmd));
	for (int i = 0; i < 1000 && !hp_has_thread(vm->p.pid, "hotplug-connec"); i++)
		g_usleep(5000);
	g_assert_true(hp_has_thread(vm->p.pid, "hotplug-connec"));
	g_assert_cmpint(kill(dying.pid, SIGKILL), ==, 0);
	while (r = hp_qmp_read(vm), json_object_object_get_ex(r, "event", NULL))
		g_ptr_array_add(vm->events, r);
	g_assert_true(json_object_object_get_ex(r, "error", &e));
	g_assert_true(json_object_object_get_ex(e, "desc", &v));
	desc = json_object_get_string(v);
	if (!g_str_has_prefix(desc, "device_add id=hp: the device did not connect: ") ||
	    strstr(desc, "within"))
		g_error("device_add to a process killed mid-handshake: %s", desc);
	json_object_put(r);
	status = tu_wait(&dying, 10);
	g_assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

/*
 * Plug by path into a named port, by getfd into the first free one (the remote holds
 * only that connection and must exit once mpvmm closes it: the device was torn down),
 * and by path into the second port; the guest drives each through MSI.  query-pci
 * shows the first one, with its id and BARs, behind rp0.
 */
static void test_path_and_getfd(void)
{
	struct hp_vm vm = {0};
	struct tu_proc remote, fdremote;
	g_autofree char *sock = NULL, *args = NULL;
	int sv[2];

	if (tu_skip_without_kvm())
		return;
	hp_vm_start(&vm, "cycles=3",
		    (const char *const[]){"-device", "pcie-root-port,id=rp0", "-device",
					  "pcie-root-port,id=rp1,slot=9", NULL});
	sock = g_build_filename(vm.dir, "hp.sock", NULL);
	hp_remote("hp", sock, &remote);
	args = g_strdup_printf(ADD("\"driver\": \"pci-proxy-dev\", \"id\": \"hp\", "
				   "\"bus\": \"rp0\", \"socket\": \"%s\""),
			       sock);
	hp_ok(&vm, args); /* hp_cycle(1), with query-pci while the guest uses the device */
	hp_wait_out(&vm, "# HOTPLUG ready cycle=1 ");
	hp_check_query_pci(&vm, "rp0", "hp");
	hp_ok(&vm, DEL("hp"));
	hp_wait_deleted(&vm, "hp");
	hp_wait_out(&vm, "# HOTPLUG removed cycle=1 ");
	g_assert_nonnull(strstr(vm.out->str, "presence detected in slot 1"));

	tu_socketpair(sv);
	tu_spawn((char *[]){(char *)tu_bin("MPVMM_MISC"), "-device", "pci-testdev,id=fdhp,socket=3",
			    NULL},
		 &sv[1], 1, false, &fdremote);
	close(sv[1]);
	json_object_put(hp_qmp_fd(&vm,
				  "{\"execute\": \"getfd\", \"arguments\": "
				  "{\"fdname\": \"chan\"}}",
				  sv[0]));
	close(sv[0]);
	hp_cycle(&vm, 2, "fdhp", ", \"socket\": \"chan\"");
	g_assert_cmpint(tu_wait(&fdremote, 10), ==, 0); /* its only channel closed */

	g_free(args);
	args = g_strdup_printf(", \"bus\": \"rp1\", \"socket\": \"%s\"", sock);
	hp_cycle(&vm, 3, "hp", args);
	g_assert_nonnull(strstr(vm.out->str, "presence detected in slot 9"));
	hp_vm_end(&vm);
	hp_vm_free(&vm);
	hp_stop(&remote);
}

/* Every refusal of device_add / device_del, each with its class and reason. */
static void test_errors(void)
{
	struct hp_vm vm = {0};
	struct tu_proc remote;
	g_autofree char *sock = NULL, *ok = NULL, *full = NULL, *wrong = NULL;
	int pfd[2];

	if (tu_skip_without_kvm())
		return;
	hp_vm_start(&vm, "cycles=1",
		    (const char *const[]){"-device", "pci-testdev,id=t0", "-device",
					  "pcie-root-port,id=rp0", NULL});
	sock = g_build_filename(vm.dir, "hp.sock", NULL);
	hp_remote("hp", sock, &remote);
	hp_fails(&vm,
		 ADD("\"driver\": \"pci-proxy-dev\", \"id\": \"a\", \"bus\": \"nope\", "
		     "\"socket\": \"/x\""),
		 "DeviceNotFound", "Bus 'nope' not found");
	hp_fails(&vm,
		 ADD("\"driver\": \"pci-proxy-dev\", \"id\": \"a\", \"bus\": \"t0\", "
		     "\"socket\": \"/x\""),
		 "DeviceNotFound", "Bus 't0' not found");
	hp_fails(&vm, ADD("\"driver\": \"virtio-blk\", \"id\": \"a\", \"socket\": \"/x\""),
		 "GenericError", "not a valid device model");
	hp_fails(&vm, ADD("\"driver\": \"pci-proxy-dev\", \"id\": \"1a\", \"socket\": \"/x\""),
		 "GenericError", "Invalid id");
	hp_fails(&vm, ADD("\"driver\": \"pci-proxy-dev\", \"socket\": \"/x\""), "GenericError",
		 "Parameter 'id' is missing");
	hp_fails(&vm, ADD("\"driver\": \"pci-proxy-dev\", \"id\": 5, \"socket\": \"/x\""),
		 "GenericError", "Invalid parameter type for 'id'");
	hp_fails(&vm, ADD("\"driver\": \"pci-proxy-dev\", \"id\": \"t0\", \"socket\": \"/x\""),
		 "GenericError", "Duplicate device ID 't0'");
	hp_fails(&vm, ADD("\"driver\": \"pci-proxy-dev\", \"id\": \"rp0\", \"socket\": \"/x\""),
		 "GenericError", "Duplicate device ID 'rp0'");
	hp_fails(&vm, ADD("\"driver\": \"pci-proxy-dev\", \"id\": \"a\""), "GenericError",
		 "exactly one of socket");
	hp_fails(&vm,
		 ADD("\"driver\": \"pci-proxy-dev\", \"id\": \"a\", \"socket\": \"/x\", "
		     "\"rid\": \"p\""),
		 "GenericError", "exactly one of socket");
	hp_fails(&vm,
		 ADD("\"driver\": \"pci-proxy-dev\", \"id\": \"a\", \"socket\": \"/x\", "
		     "\"speed\": \"9\""),
		 "GenericError", "Parameter 'speed' is unexpected");
	hp_fails(&vm, ADD("\"driver\": \"pci-proxy-dev\", \"id\": \"a\", \"rid\": \"p\""),
		 "GenericError", "remote-driver");
	hp_fails(&vm,
		 ADD("\"driver\": \"pci-proxy-dev\", \"id\": \"a\", \"rid\": \"p\", "
		     "\"remote-driver\": \"pci-testdev\""),
		 "DeviceNotFound", "rid=p names no remote-process");
	hp_fails(&vm, ADD("\"driver\": \"pci-proxy-dev\", \"id\": \"a\", \"socket\": \"\""),
		 "GenericError", "socket is empty");
	hp_fails(&vm,
		 ADD("\"driver\": \"pci-proxy-dev\", \"id\": \"a\", "
		     "\"socket\": \"/nonexistent/x.sock\""),
		 "GenericError", "cannot connect");
	g_assert_cmpint(pipe2(pfd, O_CLOEXEC), ==, 0);
	json_object_put(hp_qmp_fd(&vm,
				  "{\"execute\": \"getfd\", \"arguments\": "
				  "{\"fdname\": \"pipe\"}}",
				  pfd[0]));
	close(pfd[0]);
	close(pfd[1]);
	hp_fails(&vm, ADD("\"driver\": \"pci-proxy-dev\", \"id\": \"a\", \"socket\": \"pipe\""),
		 "GenericError", "not an AF_UNIX stream socket");
	/* The remote hosts "hp", not "other": the handshake says so. */
	wrong = g_strdup_printf(ADD("\"driver\": \"pci-proxy-dev\", \"id\": \"other\", "
				    "\"socket\": \"%s\""),
				sock);
	hp_fails(&vm, wrong, "GenericError", "socket is connected to device 'hp', not 'other'");
	hp_fails(&vm, DEL("nope"), "DeviceNotFound", "Device 'nope' not found");
	hp_fails(&vm, DEL("t0"), "GenericError", "does not support hot-plug");
	hp_fails(&vm, DEL("rp0"), "GenericError", "cannot be deleted");

	/* No bus: the first empty port.  Then the port is full, and no port is free. */
	ok = g_strdup_printf(ADD("\"driver\": \"pci-proxy-dev\", \"id\": \"hp\", "
				 "\"socket\": \"%s\""),
			     sock);
	hp_ok(&vm, ok);
	hp_wait_out(&vm, "# HOTPLUG ready cycle=1 ");
	full = g_strdup_printf(ADD("\"driver\": \"pci-proxy-dev\", \"id\": \"hp2\", "
				   "\"bus\": \"rp0\", \"socket\": \"%s\""),
			       sock);
	hp_fails(&vm, full, "GenericError", "Bus 'rp0' is full: its slot holds 'hp'");
	hp_fails(&vm, ok, "GenericError", "Duplicate device ID 'hp'");
	g_free(ok);
	ok = g_strdup_printf(ADD("\"driver\": \"pci-proxy-dev\", \"id\": \"hp2\", "
				 "\"socket\": \"%s\""),
			     sock);
	hp_fails(&vm, ok, "GenericError", "No free hot-plug slot");
	hp_ok(&vm, "{\"execute\": \"query-status\"}"); /* the VM runs on */
	hp_ok(&vm, DEL("hp"));
	hp_wait_deleted(&vm, "hp");
	hp_vm_end(&vm);
	hp_vm_free(&vm);
	hp_stop(&remote);
}

/*
 * A guest that ignores the attention button: device_del returns at once, a second one
 * is refused while the first waits, and after the port's x-unplug-timeout the device is
 * removed anyway; the guest sees the surprise removal.
 */
static void test_timeout(void)
{
	struct hp_vm vm = {0};
	struct tu_proc remote;
	g_autofree char *sock = NULL, *add = NULL;
	gint64 t0, waited;

	if (tu_skip_without_kvm())
		return;
	hp_vm_start(&vm, "cycles=1 release=0",
		    (const char *const[]){"-device", "pcie-root-port,id=rp0,x-unplug-timeout=400",
					  NULL});
	sock = g_build_filename(vm.dir, "hp.sock", NULL);
	hp_remote("hp", sock, &remote);
	add = g_strdup_printf(ADD("\"driver\": \"pci-proxy-dev\", \"id\": \"hp\", "
				  "\"socket\": \"%s\""),
			      sock);
	hp_ok(&vm, add);
	hp_wait_out(&vm, "# HOTPLUG ready cycle=1 ");
	t0 = g_get_monotonic_time();
	hp_ok(&vm, DEL("hp"));
	hp_fails(&vm, DEL("hp"), "GenericError", "already being deleted");
	hp_wait_deleted(&vm, "hp");
	waited = (g_get_monotonic_time() - t0) / 1000;
	g_assert_cmpint(waited, >=, 400);
	hp_wait_out(&vm, "# HOTPLUG removed cycle=1 ");
	g_assert_nonnull(strstr(vm.out->str, "cycle 1: slot 1 is empty"));
	hp_vm_end(&vm);
	g_assert_nonnull(strstr(vm.err->str, "did not power slot 'rp0' off within 400 ms"));
	hp_vm_free(&vm);
	hp_stop(&remote);
}

/*
 * A device process that dies after reading the first handshake message, one that
 * never answers (the 5 s handshake bound), and a real mpvmm-misc killed while mpvmm
 * waits for its answer: device_add fails cleanly each time, the slot stays empty (a
 * real device then goes into it) and the VM runs on.
 */
static void test_handshake_fails(void)
{
	struct hp_vm vm = {0};
	struct tu_proc remote;
	g_autofree char *sock = NULL, *args = NULL;
	int sv[2], status;
	pid_t child;

	if (tu_skip_without_kvm())
		return;
	hp_vm_start(&vm, "cycles=1",
		    (const char *const[]){"-device", "pcie-root-port,id=rp0", NULL});
	tu_socketpair(sv);
	child = fork();
	g_assert_cmpint(child, >=, 0);
	if (child == 0) { /* the device process: reads the VERSION header, then dies */
		char hdr[16];

		close(sv[0]);
		_exit(read(sv[1], hdr, sizeof(hdr)) == sizeof(hdr) ? 3 : 4);
	}
	close(sv[1]);
	json_object_put(hp_qmp_fd(&vm,
				  "{\"execute\": \"getfd\", \"arguments\": "
				  "{\"fdname\": \"dies\"}}",
				  sv[0]));
	close(sv[0]);
	hp_fails(&vm, ADD("\"driver\": \"pci-proxy-dev\", \"id\": \"hp\", \"socket\": \"dies\""),
		 "GenericError", "device_add id=hp: the device did not connect");
	g_assert_cmpint(waitpid(child, &status, 0), ==, child);
	g_assert_cmpint(WEXITSTATUS(status), ==, 3); /* it died mid-handshake, as meant */

	tu_socketpair(sv); /* a device process that never answers: we hold its end */
	json_object_put(hp_qmp_fd(&vm,
				  "{\"execute\": \"getfd\", \"arguments\": "
				  "{\"fdname\": \"mute\"}}",
				  sv[0]));
	close(sv[0]);
	hp_fails(&vm, ADD("\"driver\": \"pci-proxy-dev\", \"id\": \"hp\", \"socket\": \"mute\""),
		 "GenericError", "device_add id=hp: the device did not connect");
	close(sv[1]);
	hp_ok(&vm, "{\"execute\": \"query-status\"}");

	hp_real_remote_dies(&vm);

	sock = g_build_filename(vm.dir, "hp.sock", NULL);
	hp_remote("hp", sock, &remote);
	args = g_strdup_printf(", \"bus\": \"rp0\", \"socket\": \"%s\"", sock);
	hp_cycle(&vm, 1, "hp", args);
	hp_vm_end(&vm);
	hp_vm_free(&vm);
	hp_stop(&remote);
}

/*
 * device_add rid=: the class process started with -object remote-process creates the
 * device (a bad remote-driver is refused and leaves the slot empty); device_del makes
 * it delete the device again (query-remote-processes lists none).
 */
static void test_rid(void)
{
	struct hp_vm vm = {0};
	g_autofree char *obj =
		g_strdup_printf("remote-process,id=p0,class=misc,binary=%s", tu_bin("MPVMM_MISC"));

	if (tu_skip_without_kvm())
		return;
	hp_vm_start(
		&vm, "cycles=1",
		(const char *const[]){"-object", obj, "-device", "pcie-root-port,id=rp0", NULL});
	hp_fails(&vm,
		 ADD("\"driver\": \"pci-proxy-dev\", \"id\": \"hp\", \"rid\": \"p0\", "
		     "\"remote-driver\": \"no-such-device\""),
		 "GenericError", "no-such-device");
	/* fd= would name one of the process's own fds: mpvmm passes backends itself. */
	hp_fails(&vm,
		 ADD("\"driver\": \"pci-proxy-dev\", \"id\": \"hp\", \"rid\": \"p0\", "
		     "\"remote-driver\": \"pci-testdev\", \"fd\": \"3\""),
		 "GenericError",
		 "remote-process p0: device_add hp: fd= is not a property of pci-testdev; "
		 "mpvmm passes a device's backend itself");
	hp_ok(&vm, ADD("\"driver\": \"pci-proxy-dev\", \"id\": \"hp\", \"bus\": \"rp0\", "
		       "\"rid\": \"p0\", \"remote-driver\": \"pci-testdev\""));
	hp_wait_out(&vm, "# HOTPLUG ready cycle=1 ");
	g_assert_cmpuint(hp_rproc_devices(&vm), ==, 1);
	hp_ok(&vm, DEL("hp"));
	hp_wait_deleted(&vm, "hp");
	hp_wait_out(&vm, "# HOTPLUG removed cycle=1 ");
	g_assert_cmpuint(hp_rproc_devices(&vm), ==, 0);
	hp_vm_end(&vm);
	hp_vm_free(&vm);
}

/* The hot-plug interrupt as INTx (the guest leaves MSI off): IOAPIC pin, level. */
static void test_intx(void)
{
	struct hp_vm vm = {0};
	struct tu_proc remote;
	g_autofree char *sock = NULL, *args = NULL;

	if (tu_skip_without_kvm())
		return;
	hp_vm_start(&vm, "cycles=2 intx=1",
		    (const char *const[]){"-device", "pcie-root-port,id=rp0", NULL});
	sock = g_build_filename(vm.dir, "hp.sock", NULL);
	hp_remote("hp", sock, &remote);
	args = g_strdup_printf(", \"socket\": \"%s\"", sock);
	hp_cycle(&vm, 1, "hp", args);
	hp_cycle(&vm, 2, "hp", args);
	hp_vm_end(&vm);
	g_assert_nonnull(strstr(vm.out->str, "hot-plug INTx interrupts for 2 cycles"));
	hp_vm_free(&vm);
	hp_stop(&remote);
}

/* -device pcie-root-port properties are checked: mpvmm refuses to start (status 2). */
static void test_bad_options(void)
{
	static const char *const bad[][2] = {
		{"pcie-root-port,id=rp0,slot=8192", "slot=8192 is not a number from 0 to 8191"},
		{"pcie-root-port,id=rp0,chassis=x", "chassis=x is not a number"},
		{"pcie-root-port,id=rp0,x-unplug-timeout=600001", "from 0 to 600000"},
		{"pcie-root-port,id=rp0,bus=pcie.0", "unknown property 'bus'"},
		{"pcie-root-port,id=rp0,socket=/x", "socket= is for pci-proxy-dev"},
	};
	g_autofree char *elf = tu_guest("hotplug");

	for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
		char *argv[] = {(char *)tu_bin("MPVMM"), "-kernel", elf, "-device",
				(char *)bad[i][0],	 NULL};
		struct tu_proc p;
		g_autofree char *out = NULL, *err = NULL;
		int status;

		tu_spawn(argv, NULL, 0, true, &p);
		out = tu_slurp(p.out_fd);
		err = tu_slurp(p.err_fd);
		status = tu_wait(&p, 10);
		close(p.out_fd);
		close(p.err_fd);
		g_assert_true(WIFEXITED(status));
		g_assert_cmpint(WEXITSTATUS(status), ==, 2);
		if (!strstr(err, bad[i][1]))
			g_error("-device %s: '%s' does not say '%s'", bad[i][0], err, bad[i][1]);
	}
}

/*
 * The same guest under QEMU 7.2 -M q35 with its pcie-root-port and its own pci-testdev,
 * hot-plugged by the same QMP commands: the guest is not tuned to mpvmm.  QEMU's root
 * port signals by MSI-X, which the guest does not drive, so it polls (poll=1); q35's
 * default ACPI hot-plug is turned off so the port does native hot-plug.
 */
static void test_qemu(void)
{
	struct hp_vm vm = {.qemu = true, .driver = "pci-testdev"};

	if (tu_skip_without_kvm())
		return;
	if (!hp_have_qemu())
		return;
	hp_vm_start(&vm, "cycles=2 poll=1",
		    (const char *const[]){"-accel", "kvm", "-M", "q35", "-display", "none",
					  "-no-reboot", "-global",
					  "ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off",
					  "-device",
					  "pcie-root-port,id=rp0,chassis=1,slot=3,"
					  "io-reserve=4K",
					  "-device", "isa-debug-exit,iobase=0xf4,iosize=4", NULL});
	hp_cycle(&vm, 1, "hp1", ", \"bus\": \"rp0\"");
	/* The last one without waiting for DEVICE_DELETED: QEMU emits it after finalizing
	 * the device, and may already have exited with the guest by then. */
	hp_ok(&vm, ADD("\"driver\": \"pci-testdev\", \"id\": \"hp2\", \"bus\": \"rp0\""));
	hp_wait_out(&vm, "# HOTPLUG ready cycle=2 ");
	hp_ok(&vm, DEL("hp2"));
	hp_vm_end(&vm);
	hp_vm_free(&vm);
}

static unsigned hp_nr_fds(GPid pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/fd", pid);
	GDir *d = g_dir_open(path, 0, NULL);
	unsigned n = 0;

	g_assert_nonnull(d);
	while (g_dir_read_name(d))
		n++;
	g_dir_close(d);
	return n;
}

static unsigned long hp_rss_kb(GPid pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/status", pid), *text = NULL;
	const char *line;

	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	line = strstr(text, "VmRSS:");
	g_assert_nonnull(line);
	return strtoul(line + 6, NULL, 10);
}

/* fd counts settle once the remote has closed its side: wait up to 2 s for `want`. */
static unsigned hp_fds_settle(GPid pid, unsigned want)
{
	unsigned n = hp_nr_fds(pid);

	for (int i = 0; i < 200 && n != want; i++) {
		g_usleep(10000);
		n = hp_nr_fds(pid);
	}
	return n;
}

#define LOOP_WARMUP 5
#define LOOP_CYCLES 100

/*
 * 100 plug/unplug cycles while the guest keeps a bus-0 pci-testdev (same mpvmm-misc)
 * busy: mpvmm's and mpvmm-misc's open fds must come back exactly to what they were
 * after the warm-up cycles, their RSS within HP_RSS_SLACK_KB, and every doorbell
 * registration must have succeeded (a stale KVM ioeventfd would collide).
 */
static void test_loop(void)
{
	struct hp_vm vm = {0};
	struct tu_proc remote;
	g_autofree char *dir = g_dir_make_tmp("hotplug-remote-XXXXXX", NULL);
	g_autofree char *t0 = g_build_filename(dir, "t0.sock", NULL);
	g_autofree char *hp = g_build_filename(dir, "hp.sock", NULL);
	g_autofree char *d0 = g_strdup_printf("pci-testdev,id=t0,socket=%s", t0);
	g_autofree char *d1 = g_strdup_printf("pci-testdev,id=hp,socket=%s", hp);
	g_autofree char *t0dev = g_strdup_printf("pci-proxy-dev,id=t0,socket=%s", t0);
	g_autofree char *args = g_strdup_printf(", \"bus\": \"rp0\", \"socket\": \"%s\"", hp);
	unsigned vm_fds = 0, rm_fds = 0;
	unsigned long vm_rss = 0, rm_rss = 0;
	gint64 start;
	pid_t server;

	if (tu_skip_without_kvm())
		return;
	tu_spawn((char *[]){(char *)tu_bin("MPVMM_MISC"), "-device", d0, "-device", d1, NULL}, NULL,
		 0, false, &remote);
	for (int i = 0; i < 500 && !g_file_test(hp, G_FILE_TEST_EXISTS); i++)
		g_usleep(10000);
	server = tu_server_pid(remote.pid);	   /* the sandboxed process serving the devices */
	g_setenv("G_MESSAGES_DEBUG", "vmm", TRUE); /* doorbell registrations are debug lines */
	hp_vm_start(
		&vm, "cycles=100 traffic=1",
		(const char *const[]){"-device", t0dev, "-device", "pcie-root-port,id=rp0", NULL});
	g_unsetenv("G_MESSAGES_DEBUG");
	start = g_get_monotonic_time();
	for (unsigned c = 1; c <= LOOP_CYCLES; c++) {
		hp_cycle(&vm, c, "hp", args);
		if (c != LOOP_WARMUP)
			continue;
		vm_fds = hp_nr_fds(vm.p.pid);
		rm_fds = hp_fds_settle(server, hp_nr_fds(server));
		vm_rss = hp_rss_kb(vm.p.pid);
		rm_rss = hp_rss_kb(server);
	}
	g_test_message("%u cycles in %.1f s", LOOP_CYCLES, (g_get_monotonic_time() - start) / 1e6);
	g_test_message("mpvmm: %u fds, RSS %lu -> %lu KiB; mpvmm-misc: %u fds, RSS %lu -> %lu KiB",
		       vm_fds, vm_rss, hp_rss_kb(vm.p.pid), rm_fds, rm_rss, hp_rss_kb(server));
	g_assert_cmpuint(hp_fds_settle(vm.p.pid, vm_fds), ==, vm_fds);
	g_assert_cmpuint(hp_fds_settle(server, rm_fds), ==, rm_fds);
	g_assert_cmpuint(hp_rss_kb(vm.p.pid), <=, vm_rss + HP_RSS_SLACK_KB);
	g_assert_cmpuint(hp_rss_kb(server), <=, rm_rss + HP_RSS_SLACK_KB);
	hp_vm_end(&vm);
	/* GLib writes info and debug lines to stdout, with the guest's TAP. */
	g_assert_cmpuint(tu_count(vm.out->str, "hp: deleted"), ==, LOOP_CYCLES);
	g_assert_null(strstr(vm.out->str, "not registered"));
	g_assert_nonnull(strstr(vm.out->str, "traffic: "));
	hp_vm_free(&vm);
	hp_stop(&remote);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/hotplug/path-and-getfd", test_path_and_getfd);
	g_test_add_func("/hotplug/errors", test_errors);
	g_test_add_func("/hotplug/timeout", test_timeout);
	g_test_add_func("/hotplug/handshake-fails", test_handshake_fails);
	g_test_add_func("/hotplug/rid", test_rid);
	hp_blk_add_tests(); /* test-hotplug-blk.c */
	g_test_add_func("/hotplug/intx", test_intx);
	g_test_add_func("/hotplug/bad-options", test_bad_options);
	g_test_add_func("/hotplug/qemu", test_qemu);
	g_test_add_func("/hotplug/loop", test_loop);
	return g_test_run();
}
