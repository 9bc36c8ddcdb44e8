// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-hotplug-blk: part of test-hotplug.  A virtio-blk hot-added by QMP device_add
 * into an mpvmm-storage process mpvmm spawned, its image opened by the test and passed
 * by getfd as a management stack does, and the same guest against QEMU 7.2's own
 * virtio-blk-pci; hotplug.elf blk=SECTORS writes and reads back a sector per cycle,
 * and the image is checked byte for byte afterwards.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "tests/integration/test-hotplug.h"

#define HP_BLK_SECTORS 2048u
#define HP_BLK_CYCLES 2u

/* Byte i of the sector cycle K writes: hp_blk_byte() of tests/guest/hotplug.c. */
static uint8_t hp_blk_byte(unsigned cycle, unsigned i)
{
	return (uint8_t)(cycle * 31u + i * 7u + (i >> 8));
}

/* query-pci: id sits in rp0's slot as vendor:device. */
static void hp_check_pci_id(struct hp_vm *vm, const char *id, int vendor, int device)
{
	json_object *br, *d, *r = hp_query_pci_slot(vm, "rp0", id, &d, &br), *ids;

	g_assert_true(json_object_object_get_ex(d, "id", &ids));
	g_assert_cmpint(hp_int(ids, "vendor"), ==, vendor);
	g_assert_cmpint(hp_int(ids, "device"), ==, device);
	json_object_put(r);
}

/* The image after the guest's cycles: its sectors 1..HP_BLK_CYCLES, zeroes elsewhere. */
static void hp_blk_check_image(const char *img)
{
	g_autofree uint8_t *data = NULL;
	gsize len;

	g_assert_true(g_file_get_contents(img, (char **)&data, &len, NULL));
	g_assert_cmpuint(len, ==, HP_BLK_SECTORS * 512);
	for (gsize i = 0; i < len; i++) {
		unsigned sector = (unsigned)(i / 512);
		uint8_t want = sector >= 1 && sector <= HP_BLK_CYCLES
				       ? hp_blk_byte(sector, (unsigned)(i % 512))
				       : 0;

		if (data[i] != want)
			g_error("%s: byte %zu (sector %u) is 0x%02x, want 0x%02x", img, i, sector,
				data[i], want);
	}
}

/*
 * device_add rid= of a virtio-blk into an mpvmm-storage process, as a management stack
 * does it: the image is opened here and passed by getfd, and drive= names it (the
 * sandboxed process never sees a path).  In each cycle K the guest reads the disk's
 * capacity, writes sector K and reads it back; query-pci shows 1af4:1042 behind rp0;
 * device_del releases it and the process drops it.  A drive= naming no passed fd, a
 * missing drive and one that is not a name are refused first.  Afterwards the image
 * holds the guest's sectors and zeroes elsewhere.
 */
static void test_virtio_blk(void)
{
	struct hp_vm vm = {0};
	g_autofree char *obj = g_strdup_printf("remote-process,id=s0,class=storage,binary=%s",
					       tu_bin("MPVMM_STORAGE"));
	g_autofree char *img = NULL;
	int fd;

	if (tu_skip_without_kvm())
		return;
	hp_vm_start(
		&vm, "cycles=2 blk=2048",
		(const char *const[]){"-object", obj, "-device", "pcie-root-port,id=rp0", NULL});
	img = g_build_filename(vm.dir, "disk.img", NULL);
	fd = open(img, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, HP_BLK_SECTORS * 512), ==, 0);
	hp_fails(&vm,
		 ADD("\"driver\": \"pci-proxy-dev\", \"id\": \"vd\", \"bus\": \"rp0\", "
		     "\"rid\": \"s0\", \"remote-driver\": \"virtio-blk\", \"drive\": \"nope\""),
		 "GenericError",
		 "remote-process s0: device_add vd: drive: file descriptor named 'nope' "
		 "not found; pass it with getfd");
	/* No drive, and a drive that is not a name: refused before the process sees them. */
	hp_fails(&vm,
		 ADD("\"driver\": \"pci-proxy-dev\", \"id\": \"vd\", \"bus\": \"rp0\", "
		     "\"rid\": \"s0\", \"remote-driver\": \"virtio-blk\""),
		 "GenericError",
		 "remote-process s0: device_add vd: virtio-blk needs drive=FDNAME, an open "
		 "image passed first with getfd");
	hp_fails(&vm,
		 ADD("\"driver\": \"pci-proxy-dev\", \"id\": \"vd\", \"bus\": \"rp0\", "
		     "\"rid\": \"s0\", \"remote-driver\": \"virtio-blk\", \"drive\": 3"),
		 "GenericError", "virtio-blk needs drive=FDNAME");
	g_assert_cmpuint(hp_rproc_devices(&vm), ==, 0);
	for (unsigned c = 1; c <= HP_BLK_CYCLES; c++) {
		g_autofree char *ready = g_strdup_printf("# HOTPLUG ready cycle=%u ", c);
		g_autofree char *removed = g_strdup_printf("# HOTPLUG removed cycle=%u ", c);
		json_object *r = hp_qmp_fd(&vm,
					   "{\"execute\": \"getfd\", \"arguments\": "
					   "{\"fdname\": \"disk\"}}",
					   fd);

		g_assert_true(json_object_object_get_ex(r, "return", NULL));
		json_object_put(r);
		hp_ok(&vm, ADD("\"driver\": \"pci-proxy-dev\", \"id\": \"vd\", "
			       "\"bus\": \"rp0\", \"rid\": \"s0\", "
			       "\"remote-driver\": \"virtio-blk\", \"drive\": \"disk\""));
		hp_wait_out(&vm, ready);
		hp_check_pci_id(&vm, "vd", 0x1af4, 0x1042);
		g_assert_cmpuint(hp_rproc_devices(&vm), ==, 1);
		hp_ok(&vm, DEL("vd"));
		hp_wait_deleted(&vm, "vd");
		hp_wait_out(&vm, removed);
		g_assert_cmpuint(hp_rproc_devices(&vm), ==, 0);
	}
	hp_vm_end(&vm);
	close(fd);
	hp_blk_check_image(img);
	unlink(img);
	hp_vm_free(&vm);
}

/*
 * The same guest and image check under QEMU 7.2 with its own virtio-blk-pci hot-added
 * into a q35 root port: with KVM where there is one, else under TCG, so the guest's
 * virtio-blk hot-plug path is checked against QEMU's device even without /dev/kvm.
 */
static void test_virtio_blk_qemu(void)
{
	struct hp_vm vm = {.qemu = true, .driver = "virtio-blk-pci"};
	g_autofree char *dir = g_dir_make_tmp("hotplug-blk-XXXXXX", NULL);
	g_autofree char *img = g_build_filename(dir, "disk.img", NULL);
	g_autofree char *bd = g_strdup_printf("driver=file,node-name=d0,filename=%s", img);
	int fd, kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (kvm >= 0)
		close(kvm);
	if (!hp_have_qemu())
		return;
	fd = open(img, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, HP_BLK_SECTORS * 512), ==, 0);
	close(fd);
	hp_vm_start(&vm, "cycles=2 blk=2048 poll=1",
		    (const char *const[]){
			    "-accel", kvm >= 0 ? "kvm" : "tcg", "-M", "q35", "-display", "none",
			    "-no-reboot", "-global",
			    "ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off", "-device",
			    "pcie-root-port,id=rp0,chassis=1,slot=3,io-reserve=4K", "-blockdev", bd,
			    "-device", "isa-debug-exit,iobase=0xf4,iosize=4", NULL});
	hp_cycle(&vm, 1, "vd1", ", \"bus\": \"rp0\", \"drive\": \"d0\"");
	/* As in test_qemu: the last one without waiting for DEVICE_DELETED. */
	hp_ok(&vm, ADD("\"driver\": \"virtio-blk-pci\", \"id\": \"vd2\", \"bus\": \"rp0\", "
		       "\"drive\": \"d0\""));
	hp_wait_out(&vm, "# HOTPLUG ready cycle=2 ");
	hp_ok(&vm, DEL("vd2"));
	hp_vm_end(&vm);
	hp_blk_check_image(img);
	unlink(img);
	rmdir(dir);
	hp_vm_free(&vm);
}

void hp_blk_add_tests(void)
{
	g_test_add_func("/hotplug/virtio-blk", test_virtio_blk);
	g_test_add_func("/hotplug/virtio-blk-qemu", test_virtio_blk_qemu);
}
