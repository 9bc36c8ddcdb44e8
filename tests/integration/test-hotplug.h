/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-hotplug.h: the harness of test-hotplug.c (test-hotplug-vm.c): a VMM (mpvmm, or
 * QEMU 7.2) running hotplug.elf with a QMP connection, the guest's TAP and the VMM's
 * log collected as they come, and the plug/unplug steps as assertions.  Helpers assert
 * instead of returning errors (tests/lib/tu.h).
 */
#ifndef MPVMM_TESTS_HOTPLUG_H
#define MPVMM_TESTS_HOTPLUG_H

#include <json-c/json.h>
#include <stdbool.h>

#include "tests/lib/tu.h"

#define HP_TIMEOUT_S 30
/* RSS may move by allocator slack (glib slices, malloc arenas) between two samples. */
#define HP_RSS_SLACK_KB 512

struct hp_vm {
	char *dir, *qmp_path;
	struct tu_proc p;
	GString *out, *err; /* the guest's TAP (debugcon) and mpvmm's log so far */
	int qmp;
	GString *qbuf;	    /* QMP bytes not yet split into lines */
	GPtrArray *events;  /* events seen while waiting for replies */
	bool qemu;	    /* QEMU 7.2 instead of mpvmm (argv[0], -m) */
	const char *driver; /* what device_add plugs: pci-proxy-dev unless set */
};

#define ADD(args) "{\"execute\": \"device_add\", \"arguments\": {" args "}}"
#define DEL(id) "{\"execute\": \"device_del\", \"arguments\": {\"id\": \"" id "\"}}"

/* Read whatever the VMM wrote within ms milliseconds. */
void hp_pump(struct hp_vm *vm, int ms);
/* Wait until the guest printed needle (fails the test after HP_TIMEOUT_S). */
void hp_wait_out(struct hp_vm *vm, const char *needle);
/* The next QMP message (one line). */
json_object *hp_qmp_read(struct hp_vm *vm);
/* Send cmd (with fd by SCM_RIGHTS if >= 0); the reply, events set aside in vm->events. */
json_object *hp_qmp_fd(struct hp_vm *vm, const char *cmd, int fd);
json_object *hp_qmp(struct hp_vm *vm, const char *cmd);
/* cmd must succeed; or fail with class cls and a description containing what. */
void hp_ok(struct hp_vm *vm, const char *cmd);
void hp_fails_fd(struct hp_vm *vm, const char *cmd, int fd, const char *cls, const char *what);
void hp_fails(struct hp_vm *vm, const char *cmd, const char *cls, const char *what);
/* DEVICE_DELETED of id with its QOM path, seen already or arriving. */
void hp_wait_deleted(struct hp_vm *vm, const char *id);
/* Start the VMM (vm->qemu: QEMU) with hotplug.elf's options and extra arguments. */
void hp_vm_start(struct hp_vm *vm, const char *append, const char *const *extra);
/* The guest exits by itself with every check passed. */
void hp_vm_end(struct hp_vm *vm);
void hp_vm_free(struct hp_vm *vm);
/* mpvmm-misc serving pci-testdev id on socket path (waits for the file); SIGTERM it. */
void hp_remote(const char *id, const char *path, struct tu_proc *p);
void hp_stop(struct tu_proc *p);
/* device_add id (args: more members), the guest's ready line, device_del, the event. */
void hp_cycle(struct hp_vm *vm, unsigned cycle, const char *id, const char *args);
/* Member key of o, which must be there, as an integer. */
int64_t hp_int(json_object *o, const char *key);
/*
 * query-pci: device id in the slot of root port `port`, on its secondary bus, slot 0
 * (asserted).  Returns the reply (json_object_put it); *dev the device, *bridge the
 * port's pci_bridge, both inside the reply.
 */
json_object *hp_query_pci_slot(struct hp_vm *vm, const char *port, const char *id,
			       json_object **dev, json_object **bridge);
/* query-remote-processes: exactly one process; how many devices it hosts. */
size_t hp_rproc_devices(struct hp_vm *vm);
/* Is QEMU installed?  (Skips the test when it is not.) */
bool hp_have_qemu(void);
/* test-hotplug-blk.c: register its tests. */
void hp_blk_add_tests(void);

#endif
