/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmm: the mpvmm executable's internals, one header for the folder.
 *
 * mpvmm is a thin KVM VMM: it parses a QEMU-like command line (options.c, devopt.c),
 * creates guest RAM (memory/), loads a PVH ELF (pvh.c), creates the VM and its vCPUs
 * (kvm.c) and runs one thread per vCPU (vcpu.c).  A vCPU's port I/O goes through a
 * small dispatch table (ioport.c) to the platform devices (serial.c, debugcon.c,
 * debugexit.c) and the PCI host bridge (pcihost.c); its MMIO goes to the host
 * bridge (ECAM window, BARs).  PCI functions are struct pcifn (proxy/): remote ones
 * from proxy_connect(), in-process ones from localdev.c.  machine.c wires it all up
 * and owns shutdown.  Nothing here is a library for other folders; the unit tests
 * link it to test the pieces that need no KVM.
 *
 * Threads: everything is built by the main thread before the vCPU threads start;
 * after that the ioport table and the host bridge's function list are read-only.
 * Device handlers are called on vCPU threads and lock their own state.
 */
#ifndef MPVMM_VMM_H
#define MPVMM_VMM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <glib.h>
#include <json-c/json.h>

#include "memory/memory.h"
#include "protocol/protocol.h"
#include "proxy/proxy.h"

/* Exit statuses besides the guest's own (isa-debug-exit: (v << 1) | 1, always odd). */
#define VMM_EXIT_STOPPED 0	/* SIGINT/SIGTERM, or every vCPU halted */
#define VMM_EXIT_SETUP 2	/* bad option, unreadable kernel, device or KVM setup failed */
#define VMM_EXIT_GUEST_FAILED 4 /* triple fault, KVM internal error, failed entry */

/* Guest-physical layout (docs/vmm.md). */
#define VMM_ECAM_BASE 0xb0000000ULL
#define VMM_ECAM_SIZE 0x10000000ULL /* 256 buses x 1 MiB */
#define VMM_RAM_BELOW_4G VMM_ECAM_BASE

/* ---- options.c: the command line ---- */

/* GError domain for every human-facing error in vmm/; the code is a positive errno. */
#define VMM_ERROR (vmm_error_quark())
GQuark vmm_error_quark(void);

enum chardev_kind { CHARDEV_NONE, CHARDEV_STDIO, CHARDEV_FILE };

struct chardev_opt {
	enum chardev_kind kind;
	char *path; /* CHARDEV_FILE only, owned */
};

struct blockdevs;
struct rproc_opt;

/* One -device.  type is "pci-proxy-dev" or a type in dev_table. */
struct devopt {
	char *type;
	char *id;	    /* never NULL after devopt_parse (generated if optional) */
	char *socket_path;  /* pci-proxy-dev socket=PATH, else NULL */
	int socket_fd;	    /* pci-proxy-dev socket=N (checked open, AF_UNIX), else -1 */
	bool dma_message;   /* pci-proxy-dev dma=message: guest RAM by DMA_READ/DMA_WRITE */
	char *rid; /* pci-proxy-dev rid=: the remote-process hosting it (props then hold
		    * remote-driver and the properties forwarded to it), else NULL */
	json_object *props; /* in-process device: the other properties, as strings */
};

enum vmm_action { VMM_RUN, VMM_HELP, VMM_VERSION, VMM_DEVICE_HELP };

struct vmm_opts {
	enum vmm_action action;
	char *help_type; /* VMM_DEVICE_HELP: NULL lists types, else that type's properties */
	uint64_t ram_size;
	unsigned smp;
	char *kernel;
	char *append; /* NULL when -append was not given */
	struct chardev_opt serial, debugcon;
	bool no_reboot;
	bool no_acpi;	    /* -machine acpi=off */
	unsigned nr_initrd; /* -initrd FILE[,FILE...]: Multiboot modules */
	char **initrd;	    /* "PATH[ ARGS]" each, owned */
	unsigned nr_devices;
	struct devopt *devices;
	unsigned nr_rprocs;
	struct rproc_opt *rprocs; /* -object remote-process, in command-line order */
	struct blockdevs *blockdevs; /* -blockdev nodes (devices/blockdev.c); NULL if none */
	unsigned nr_qmp;	     /* -qmp unix:PATH,server=on,wait=off */
	char **qmp;		     /* the socket paths, owned */
	bool start_paused;	     /* -S */
};

#define VMM_RAM_DEFAULT (128ULL << 20)
#define VMM_RAM_MIN (2ULL << 20)
#define VMM_RAM_MAX (1ULL << 40)
#define VMM_SMP_MAX 255 /* xAPIC ids */
#define VMM_CMDLINE_MAX 4095

/* Parse argv; on error *err says which option, why, and how to fix it.  -EINVAL. */
int options_parse(int argc, char **argv, struct vmm_opts *o, GError **err);
void options_free(struct vmm_opts *o);
void options_print_help(FILE *f);
/* "128M", "1G", "4096K", "2T", "65536B"; no suffix = `unit` bytes.  -EINVAL, -ERANGE. */
int options_parse_size(const char *s, uint64_t unit, uint64_t *out);
/* Decimal unsigned, no sign, no junk.  -EINVAL, -ERANGE (> max). */
int options_parse_uint(const char *s, uint64_t max, uint64_t *out);

/* ---- devopt.c: -device strings and device help ---- */

#define DEVOPT_PROXY_TYPE "pci-proxy-dev"
#define DEVOPT_ID_MAX 64

/*
 * Parse "TYPE,prop=val,...".  *help is set (and d left empty) for "help" and
 * "TYPE,help".  `index` makes a default id ("TYPE.index") for in-process devices.
 * The socket fd is checked (open, a socket, AF_UNIX, not 0-2) but not yet owned.
 */
int devopt_parse(const char *arg, unsigned index, struct devopt *d, bool *help, char **type,
		 GError **err);
void devopt_clear(struct devopt *d);
/* A device id: a letter, then at most DEVOPT_ID_MAX letters, digits, '-', '.', '_'. */
bool devopt_id_valid(const char *id);
/* -device help (type NULL) or -device TYPE,help.  -ENOENT for an unknown type. */
int devopt_print_help(FILE *f, const char *type, GError **err);

/* ---- chardev.c: output backends for serial and debugcon ---- */

int chardev_parse(const char *opt, const char *val, struct chardev_opt *out, GError **err);
/* Open the backend: *fd = -1 (none), 1 (stdio, not owned) or a new file fd. */
int chardev_open(const char *opt, const struct chardev_opt *c, int *fd, GError **err);
void chardev_close(int fd);
/* Write all of buf; errors are dropped (a guest must not stop on a full disk). */
void chardev_write(int fd, const void *buf, size_t len);

/* ---- ioport.c: the port-I/O dispatch table ---- */

struct ioport_ops {
	/* off is relative to the range base; size 1, 2 or 4.  NULL read = all-ones. */
	uint32_t (*read)(void *opaque, uint16_t off, unsigned size);
	void (*write)(void *opaque, uint16_t off, unsigned size, uint32_t val); /* NULL: drop */
};

#define IOPORT_MAX_RANGES 16

struct ioport_range {
	uint16_t base, len;
	const struct ioport_ops *ops;
	void *opaque;
};

struct ioport_table {
	unsigned nr;
	struct ioport_range r[IOPORT_MAX_RANGES];
};

/* -EINVAL (empty or wrapping range), -EEXIST (overlap), -ENOSPC. */
int ioport_register(struct ioport_table *t, uint16_t base, uint16_t len,
		    const struct ioport_ops *ops, void *opaque);
/* true when one range holds [port, port+size); false leaves *val untouched. */
bool ioport_read(const struct ioport_table *t, uint16_t port, unsigned size, uint32_t *val);
bool ioport_write(const struct ioport_table *t, uint16_t port, unsigned size, uint32_t val);

/* ---- serial.c, debugcon.c, debugexit.c: the platform devices ---- */

#define SERIAL_COM1 0x3f8
#define DEBUGCON_PORT 0xe9
#define DEBUGEXIT_PORT 0xf4

struct serial;
/* A 16550A at `base` writing transmitted bytes to out_fd (-1: discarded; not owned). */
int serial_create(struct ioport_table *io, uint16_t base, int out_fd, struct serial **out);
void serial_destroy(struct serial *s);

/* Port `port` streams written bytes to fd (-1: discarded; not owned); reads give 0xe9. */
struct debugcon {
	int fd;
};
int debugcon_create(struct ioport_table *io, uint16_t port, struct debugcon *dc);

typedef void (*debugexit_fn)(void *ctx, int status);
struct debugexit {
	debugexit_fn exit;
	void *ctx;
};
/* A write of v to [port, port+4) calls exit(ctx, ((v << 1) | 1) & 0xff). */
int debugexit_create(struct ioport_table *io, uint16_t port, struct debugexit *de);

/* ---- pcihost.c: PCI host bridge, bus 0 ---- */

#define PCIHOST_SLOTS 32
#define PCIHOST_CFG_ADDR 0xcf8

struct pcihost;
/* Registers 0xcf8-0xcff.  Slot 0 is the host bridge itself (8086:29c0). */
int pcihost_create(struct ioport_table *io, uint64_t ecam_base, struct pcihost **out);
/* Destroys every attached function. */
void pcihost_destroy(struct pcihost *h);
/* Takes ownership of fn (destroyed on failure too); *slot gets its device number. */
int pcihost_attach(struct pcihost *h, struct pcifn *fn, unsigned *slot);
/* Config access to bus/dev/fn/reg; unclaimed reads are all-ones. */
uint32_t pcihost_cfg_read(struct pcihost *h, unsigned bus, unsigned dev, unsigned fn, uint32_t reg,
			  unsigned size);
void pcihost_cfg_write(struct pcihost *h, unsigned bus, unsigned dev, unsigned fn, uint32_t reg,
		       unsigned size, uint32_t val);
/* A guest MMIO (ECAM or a memory BAR) or port access (an I/O BAR); false = unclaimed. */
bool pcihost_mmio(struct pcihost *h, uint64_t addr, unsigned len, bool write, uint64_t *val);
bool pcihost_pio(struct pcihost *h, uint16_t port, unsigned len, bool write, uint64_t *val);

/*
 * A PCI-to-PCI bridge in a bus-0 slot (rootport.c).  Called on vCPU threads (and by
 * firmware.c before they start); the bridge locks its own state.  Sizes and registers
 * are already checked (1/2/4 bytes, aligned, reg < 4096).
 */
struct pcihost_bridge_ops {
	uint32_t (*cfg_read)(void *bridge, uint32_t reg, unsigned size);
	void (*cfg_write)(void *bridge, uint32_t reg, unsigned size, uint32_t val);
	/* A config cycle to bus > 0: true when the bus is behind this bridge (handled). */
	bool (*bus_cfg)(void *bridge, unsigned bus, unsigned dev, unsigned fn, uint32_t reg,
			unsigned size, bool write, uint32_t *val);
	/* A memory (io false) or port access nobody on bus 0 claimed: true if forwarded. */
	bool (*access)(void *bridge, bool io, uint64_t addr, unsigned len, bool write,
		       uint64_t *val);
	void (*destroy)(void *bridge); /* by pcihost_destroy() */
};
/* Put a bridge in the first free slot (before the vCPUs start).  -ENOSPC. */
int pcihost_attach_bridge(struct pcihost *h, const struct pcihost_bridge_ops *ops, void *bridge,
			  unsigned *slot);

/* ---- rootport.c: PCIe root ports with native hot-plug slots (docs/platform.md) ---- */

#define ROOTPORT_TYPE "pcie-root-port"
#define ROOTPORT_UNPLUG_TIMEOUT_MS 10000 /* > Linux pciehp's 5 s attention-button delay */

struct machine;
struct rootport;
/*
 * -device pcie-root-port,id=ID[,chassis=N][,slot=N][,x-unplug-timeout=MS] (props: the
 * other properties as strings): a bridge in the next free bus-0 slot, its slot empty
 * and powered off.  Needs m->pci and m->irq; owned by m->pci from then on.
 */
int rootport_create(struct machine *m, const char *id, json_object *props, struct rootport **out,
		    GError **err);
const char *rootport_id(const struct rootport *rp);
unsigned rootport_slot(const struct rootport *rp); /* its bus-0 device number */
unsigned rootport_unplug_timeout_ms(const struct rootport *rp);
/*
 * Called on a vCPU thread, no lock held, when the guest turns the power of the occupied
 * slot off (Power Controller Control, PCIe 3.0 7.8.10): the device may be removed.
 */
typedef void (*rootport_power_off_fn)(void *ctx, struct rootport *rp);
void rootport_set_hook(struct rootport *rp, rootport_power_off_fn fn, void *ctx);
/*
 * Put fn (owned from now on, destroyed on error too) into the empty slot: Presence
 * Detect State and Changed, the hot-plug interrupt.  -EBUSY when occupied.
 */
int rootport_plug(struct rootport *rp, struct pcifn *fn);
/*
 * The plugged function's id, or NULL; *powered (may be NULL) tells the slot's power.
 * The id lives until rootport_unplug(): only the thread that plugs and unplugs may use it.
 */
const char *rootport_child(struct rootport *rp, bool *powered);
/* Attention Button Pressed and the hot-plug interrupt (a request to release the device). */
void rootport_press_button(struct rootport *rp);
/*
 * Take the device out: presence and link drop (PDC, DLLSC, interrupt).  The function is
 * reset (its doorbells leave KVM) and destroyed at once, or by the last vCPU still
 * inside it when it leaves.
 */
void rootport_unplug(struct rootport *rp);

/* ---- hotplug.c: PCIe native hot-plug of pci-proxy-devs into root ports ---- */

/*
 * Concurrency rule for devices that come and go while the vCPUs run: the bus-0
 * function list (pcihost) stays read-only after start; only the slot of a root port
 * changes.  A vCPU reaches a hot-plugged function only through rootport.c, which hands
 * it a reference taken under the port's lock and dropped after the access; unplugging
 * clears the slot under that lock and drops the slot's reference, and whoever drops
 * the last one resets and destroys the function.  So no vCPU ever touches a freed
 * pcifn, and no vCPU access waits for the monitor or the monitor for a vCPU.
 */
struct hotplug;
/*
 * After the devices are created (it hooks every root port).  A device that leaves for
 * good is announced with monitor_emit(DEVICE_DELETED {"device", "path"}).  0.
 */
int hotplug_create(struct machine *m, struct hotplug **out);
/* After the monitor thread and the vCPUs are gone.  NULL is a no-op. */
void hotplug_destroy(struct hotplug *hp);
/* device_add and device_del (hotplug_qmp.c), served by monitor.c. */
extern const struct qmp_command hotplug_qmp_commands[];
/*
 * Connect a pci-proxy-dev `id` over sock (taken, closed on error) and plug it into root
 * port `bus` (NULL: the first empty one).  Errors are QMP_ERROR (DeviceNotFound for an
 * unknown bus; GenericError otherwise: duplicate id, full port, failed handshake, which
 * leave the slot empty).  rid: the remote-process that created it (device_add rid=),
 * told to delete it when it leaves (rproc_device_del), or NULL.  Call on the monitor's
 * thread, as every call here.
 */
int hotplug_add(struct hotplug *hp, const char *bus, const char *id, const char *rid, int sock,
		GError **err);
/* hotplug_add()'s checks of bus and id alone, before a channel is opened. */
int hotplug_check(struct hotplug *hp, const char *bus, const char *id, GError **err);
/*
 * Ask the guest to release `id` (attention button) and return; the device goes when
 * the guest powers its slot off, or after the port's unplug timeout; at once if the
 * slot is off.  DeviceNotFound for an unknown id, GenericError for a device that
 * cannot be hot-unplugged or is already going.
 */
int hotplug_del(struct hotplug *hp, const char *id, GError **err);
/* A socket connected to a remote listening at path.  QMP_ERROR GenericError. */
int hotplug_dial(const char *path, int *sock, GError **err);
/*
 * For query-pci: the id of the device in root port rp's slot, or NULL (empty), and its
 * BAR sizes (size[i] 0: none; all 0 when empty), as pcifn_bar_sizes() gave them when it
 * was plugged.  The id lives until the next device_add or removal: monitor thread only.
 */
const char *hotplug_child_info(struct hotplug *hp, struct rootport *rp,
			       uint64_t size[PCIFN_NUM_BARS]);

/* ---- ioeventfd.c: doorbells as KVM ioeventfds ---- */

struct machine;
/*
 * Register fn's doorbells (pcifn_ioeventfds) as KVM ioeventfds at their BARs' current
 * addresses and follow the BARs from now on (pcifn_set_bar_hook).  After kvm_open().
 */
void ioeventfd_attach(struct machine *m, struct pcifn *fn);

/* ---- vmirq.c: GSI routing, irqfds and MSI injection; pcifn_irq_ops for KVM ---- */

struct vmirq;
int vmirq_create(struct vmirq **out);
/* KVM exists: make the INTx irqfds asked for so far, and every later one at once. */
int vmirq_start(struct vmirq *q, int vm_fd);
/* The VM fd is about to close: later calls fail with -ENODEV. */
void vmirq_stop(struct vmirq *q);
void vmirq_destroy(struct vmirq *q);
/* The GSIs INTA#..INTD# of slot are wired to (the PIIX swizzle onto GSI 10 and 11). */
void vmirq_intx_gsi(unsigned slot, unsigned gsi[4]);
extern const struct pcifn_irq_ops vmirq_ops;

/* ---- localirq.c: the struct irq of in-process models (eventfds, as a remote's) ---- */

struct irq;
int localirq_create(struct irq **out);
void localirq_destroy(struct irq *irq); /* NULL is a no-op */
/* The pcifn backend's set_irqs (fds are dup'ed).  -EINVAL, -ENOMEM. */
int localirq_set_irqs(struct irq *irq, unsigned index, bool unmask, unsigned start,
		      unsigned count, const int *fds);

/* ---- localdev.c: a devices/ model run in-process, as a pcifn backend ---- */

/*
 * Open the in-process devices' backends before any is created: the -blockdev images
 * (drive=NODE becomes fd=N; every node must be used).  Errors name the option.
 */
int localdev_backends(const struct vmm_opts *o, GError **err);
int localdev_create(const char *type, const char *id, json_object *props, struct gmem *mem,
		    struct pcifn **out, GError **err);

/* ---- pvh.c: PVH ELF loader (xen/include/public/arch-x86/hvm/start_info.h) ---- */

#define PVH_INFO_GPA 0x6000ULL	  /* hvm_start_info, then the memory map */
#define PVH_CMDLINE_GPA 0x7000ULL /* command line, NUL-terminated */
#define PVH_INFO_END 0x8000ULL

struct pvh_range {
	uint64_t addr, size;
};

/* The 32-bit flat protected-mode entry state; Multiboot uses it too (multiboot.c). */
struct pvh_boot {
	uint32_t entry;	     /* XEN_ELFNOTE_PHYS32_ENTRY, or the Multiboot entry */
	uint32_t start_info; /* guest-physical, for %ebx (hvm_start_info or multiboot info) */
	uint32_t magic;	     /* %eax: 0 for PVH, MB_BOOTLOADER_MAGIC for Multiboot */
};

/*
 * Validate the whole image, then load its PT_LOAD segments into mem and write
 * hvm_start_info, the memory map (RAM from mem, `reserved` ranges) and cmdline (NULL:
 * none).  On error nothing has been written and *err names the problem.
 */
int pvh_load(struct gmem *mem, const void *elf, size_t len, const char *cmdline,
	     const struct pvh_range *reserved, unsigned nr_reserved, struct pvh_boot *boot,
	     GError **err);
int pvh_load_file(struct gmem *mem, const char *path, const char *cmdline,
		  const struct pvh_range *reserved, unsigned nr_reserved, struct pvh_boot *boot,
		  GError **err);
/* After pvh_load: tell the guest where the ACPI RSDP is (hvm_start_info.rsdp_paddr). */
int pvh_set_rsdp(struct gmem *mem, uint64_t rsdp);
/* 1 when elf is an ELF64 with a XEN_ELFNOTE_PHYS32_ENTRY note, else 0 (*why says why). */
int pvh_probe(const void *elf, size_t len, GError **why);

/* ---- multiboot.c: Multiboot v1 loader (Multiboot Specification 0.6.96) ---- */

#define MB_BOOTLOADER_MAGIC 0x2BADB002u
#define MB_INFO_GPA 0x8000ULL /* multiboot info, memory map, module list, strings */
#define MB_INFO_END 0x10000ULL
#define MB_MAX_MODULES 32

struct mb_module {
	const void *data; /* not owned */
	size_t len;
	const char *string; /* the module's command line, e.g. "initrd.img arg" */
};

/* 1 with *off at a valid header, -EBADMSG with *off at a bad-checksum one, 0 if none. */
int multiboot_find(const void *img, size_t len, size_t *off);
/*
 * Validate the kernel (ELF32, or the a.out-kludge fields), the modules (placed
 * page-aligned after the kernel) and the info area, then load them and write the
 * multiboot info at MB_INFO_GPA.  On error nothing has been written; -ENOEXEC.
 */
int multiboot_load(struct gmem *mem, const void *img, size_t len, const char *cmdline,
		   const struct mb_module *mods, unsigned nr_mods, const struct pvh_range *reserved,
		   unsigned nr_reserved, struct pvh_boot *boot, GError **err);

/* ---- mbinfo.c: the multiboot information structure (Multiboot 0.6.96, 3.3) ---- */

#define MBINFO_MAX_RESERVED 16

struct mbinfo_args {
	const char *cmdline; /* NULL: none (flag bit 2 clear) */
	const struct mb_module *mods;
	const uint32_t *mod_start; /* where the loader put each module */
	unsigned nr_mods;
	const struct pvh_range *reserved; /* reported reserved besides the BIOS area */
	unsigned nr_reserved;
};

/*
 * Format the info area into area (MB_INFO_END - MB_INFO_GPA bytes, guest address
 * MB_INFO_GPA; the multiboot_info at its start).  -ENOSPC when the command line, the
 * strings and the memory map do not fit; -EINVAL for too many modules or ranges.
 */
int mbinfo_build(uint8_t *area, const struct gmem *mem, const struct mbinfo_args *a);

/* ---- boot.c: -kernel and -initrd: read the files, pick PVH or Multiboot ---- */

/*
 * A whole regular file of at most max bytes (refused early: it could not load) into a
 * new g_malloc'd *data; opt ("-kernel") names the option in errors.
 */
int boot_read_file(const char *opt, const char *path, uint64_t max, char **data, size_t *len,
		   GError **err);

/* Reserved ranges the memory maps report besides the BIOS area (ECAM). */
int boot_load(struct gmem *mem, const char *kernel, const char *cmdline, char *const *initrd,
	      unsigned nr_initrd, const struct pvh_range *reserved, unsigned nr_reserved,
	      struct pvh_boot *boot, GError **err);

/* ---- fwcfg.c: QEMU's fw_cfg, traditional port-I/O interface (docs/platform.md) ---- */

#define FWCFG_PORT 0x510 /* selector (16-bit write); data at 0x511 (8-bit read) */
#define FWCFG_SIGNATURE 0x0000
#define FWCFG_ID 0x0001
#define FWCFG_RAM_SIZE 0x0003
#define FWCFG_NB_CPUS 0x0005
#define FWCFG_MAX_CPUS 0x000f
#define FWCFG_MAX_RAM 0x0011 /* kvm-unit-tests' lib/x86/fwcfg.h; QEMU's KERNEL_DATA */
#define FWCFG_FILE_DIR 0x0019
#define FWCFG_FILE_FIRST 0x0020
#define FWCFG_MAX_ITEMS 32

struct fwcfg;
/*
 * RAM_SIZE is mem's size (-m), MAX_RAM the first address above its highest region,
 * NB_CPUS and MAX_CPUS smp (-smp).  mem is only read here, not kept.
 */
int fwcfg_create(struct ioport_table *io, const struct gmem *mem, unsigned smp, struct fwcfg **out);
void fwcfg_destroy(struct fwcfg *f);
/* A read-only file item (before the vCPUs start).  -EINVAL (name), -EEXIST, -ENOSPC. */
int fwcfg_add_file(struct fwcfg *f, const char *name, const void *data, size_t len);

/* ---- firmware.c: SeaBIOS-style PCI resource assignment at machine start ---- */

#define FIRMWARE_PCI_MEM32_BASE 0xc0000000ULL /* 32-bit PCI hole, above the ECAM window */
#define FIRMWARE_PCI_MEM32_END 0xfec00000ULL  /* IOAPIC, HPET, LAPIC, BIOS above */
#define FIRMWARE_PCI_IO_BASE 0xc000u
#define FIRMWARE_PCI_IO_END 0x10000u
#define FIRMWARE_PCI_MEM64_MIN (256ULL << 20) /* 64-bit BARs this large go above 4G */

/*
 * Size every BAR of every function on bus 0 through config cycles, assign them
 * (largest first, naturally aligned; I/O from 0xc000, memory in the 32-bit hole,
 * large 64-bit BARs from high_base up), enable I/O, memory and bus mastering, and
 * set the interrupt line from the pin (PIIX routing: PIRQ (slot + pin - 1) & 3 ->
 * IRQ 10, 10, 11, 11).  -ENOSPC with *err when a space is exhausted.
 */
int firmware_assign_pci(struct pcihost *h, uint64_t high_base, GError **err);

/* ---- acpi.c: ACPI tables in the BIOS area, the PM timer block (docs/platform.md) ---- */

#define ACPI_PM_BASE 0x600	   /* PM1a_EVT 0x600, PM1a_CNT 0x604, PM_TMR 0x608 */
#define ACPI_PM_TIMER_HZ 3579545   /* ACPI 6.4, 4.8.3.3 */
#define ACPI_TABLES_GPA 0xe0000ULL /* the RSDP first, then the tables */
#define ACPI_TABLES_END 0xf0000ULL
#define ACPI_SCI_IRQ 9

struct acpi_pm {
	struct timespec start; /* CLOCK_MONOTONIC at creation: the timer's zero */
};
int acpi_pm_create(struct ioport_table *io, struct acpi_pm *pm);
/* The PM timer's 24-bit count now. */
uint32_t acpi_pm_timer(const struct acpi_pm *pm);
/* RSDP at ACPI_TABLES_GPA, then RSDT, XSDT, FADT, FACS, DSDT, MADT (nr_cpus LAPICs), MCFG. */
int acpi_build(struct gmem *mem, unsigned nr_cpus, uint64_t ecam_base, uint64_t ecam_size);

/* ---- kvm.c: the VM and vCPU file descriptors ---- */

struct kvm_cpuid2;
struct kvm_run;

struct kvm {
	int sys_fd, vm_fd;
	int run_size;
	struct kvm_cpuid2 *cpuid; /* from KVM_GET_SUPPORTED_CPUID */
};

int kvm_open(struct kvm *k, unsigned nr_vcpus, GError **err);
int kvm_map_gmem(struct kvm *k, const struct gmem *mem, GError **err);
void kvm_close(struct kvm *k);

/* ---- vcpu.c: vCPU threads and the KVM_RUN loop ---- */

struct machine;

struct vcpu {
	unsigned index;
	int fd;
	struct kvm_run *run;
	int run_size;
	pthread_t thread;
	bool started;
	struct machine *m;
	/* Exits to this process (KVM_RUN returns), by kind; read after the thread ends. */
	uint64_t exits, exits_io, exits_mmio;
	/* Pausing (vcpus_pause), under m->pause.lock: the thread is in its run loop. */
	bool live;
	pthread_t self;
};

int vcpu_create(struct kvm *k, unsigned index, struct machine *m, struct vcpu *v, GError **err);
/* 32-bit flat protected mode at entry, %ebx = start_info (PVH ABI). */
int vcpu_set_pvh_state(struct vcpu *v, const struct pvh_boot *boot, GError **err);
int vcpu_start(struct vcpu *v);
/* Make a running KVM_RUN return; the thread then sees machine_stopping(). */
void vcpu_kick(struct vcpu *v);
/* Join by the CLOCK_REALTIME deadline; -ETIMEDOUT if the thread is stuck (in a device). */
int vcpu_join(struct vcpu *v, const struct timespec *deadline);
void vcpu_destroy(struct vcpu *v);
/* Print registers to stderr (failure reports). */
void vcpu_dump(struct vcpu *v);

/*
 * Pausing the vCPUs (QMP stop, cont, system_reset; -S).  A vCPU thread checks
 * `requested` before each KVM_RUN and parks on the condvar while it is set; a pause
 * kicks the threads out of KVM_RUN and waits until every live thread is parked.
 */
#define VCPU_PAUSE_TIMEOUT_MS 5000
struct vcpu_pause {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool requested;	 /* vCPUs must park (written under lock, read atomically) */
	unsigned live;	 /* vCPU threads in their run loop */
	unsigned parked; /* of which parked */
};
/* Before any vCPU starts (machine_create). */
void vcpus_pause_init(struct vcpu_pause *p, bool paused);
void vcpus_pause_fini(struct vcpu_pause *p);
/*
 * Park every vCPU (not from a vCPU thread).  Returns when all live threads are parked:
 * 0, or -ETIMEDOUT after VCPU_PAUSE_TIMEOUT_MS (a thread stuck in a device; it parks
 * when it comes back).  Threads not started yet park before their first KVM_RUN.
 */
int vcpus_pause(struct machine *m);
/* Let the vCPUs run again. */
void vcpus_resume(struct machine *m);
/*
 * Reset state (QMP system_reset): vcpus_snapshot() saves each vCPU's registers, FPU,
 * LAPIC, MP state and pending events before it first runs; vcpus_restore() puts them
 * back, with the vCPUs parked.  -errno from KVM.
 */
struct vcpu_snapshot;
int vcpus_snapshot(struct machine *m);
int vcpus_restore(struct machine *m);

/* ---- machine.c: the whole VM ---- */

struct machine {
	const struct vmm_opts *opts;
	struct gmem *mem;
	struct kvm kvm;
	struct ioport_table io;
	int serial_fd;
	struct serial *serial;
	struct debugcon dcon;
	struct debugexit dexit;
	struct pcihost *pci;
	struct vmirq *irq; /* interrupt routing, shared by every function */
	struct rprocs *rprocs; /* class processes spawned for this VM (rproc.c) */
	struct pcifn *fn[PCIHOST_SLOTS]; /* attached functions, owned by pci */
	unsigned nr_fn;
	struct rootport *rp[PCIHOST_SLOTS]; /* -device pcie-root-port, owned by pci */
	unsigned nr_rp;
	struct fwcfg *fwcfg;
	struct acpi_pm pm;
	struct vcpu *vcpus;
	unsigned nr_vcpus;
	unsigned running; /* vCPU threads that have not halted for good */
	int stop_efd;	  /* eventfd: a vCPU asked to stop */
	bool stopping;	  /* atomic */
	int status;	  /* atomic; exit status once stopping */
	bool stuck;	  /* a vCPU thread did not stop: machine_destroy() must not free */
	struct vcpu_pause pause;	 /* stop/cont (vcpu.c) */
	struct vcpu_snapshot *snapshot; /* reset state, one per vCPU (vcpus_snapshot) */
	int runstate;			 /* enum vmm_runstate, atomic (monitor.c) */
	int stop_signal;		 /* the signal that stopped the VM, or 0 */
	unsigned fn_slot[PCIHOST_SLOTS]; /* bus-0 device number of fn[i] */
	struct qmp_pci *qmp_pci;	 /* query-pci's BAR sizes (qmp_pci_probe) */
	struct monitor *mon;		 /* QMP monitors, NULL without -qmp */
	struct qmp_server *qmp;		 /* the monitors' server, NULL without -qmp */
	struct hotplug *hotplug;	 /* device_add/device_del into root ports */
};

int machine_create(const struct vmm_opts *o, struct machine **out, GError **err);
/*
 * Start the vCPUs and wait for the end; returns the exit status.  A vCPU thread that
 * does not stop within VMM_STOP_TIMEOUT_S (blocked on a hung remote device) is left
 * behind with a message, and the machine is marked stuck.
 */
#define VMM_STOP_TIMEOUT_S 5
int machine_run(struct machine *m);
void machine_destroy(struct machine *m);
/* Ask to stop with `status`; the first request wins.  Any thread. */
void machine_stop(struct machine *m, int status);
bool machine_stopping(const struct machine *m);

/* ---- monitor.c, qmp_cmds.c, qmp_reset.c: QMP monitors (-qmp, -S; docs/qmp.md) ---- */

/* What query-status reports. */
enum vmm_runstate {
	VMM_RS_PRELAUNCH, /* -S, never continued */
	VMM_RS_RUNNING,
	VMM_RS_PAUSED,
	VMM_RS_SHUTDOWN, /* the VM is ending */
};
/* "prelaunch", "running", "paused", "shutdown" (QEMU's RunState names). */
const char *monitor_runstate_name(enum vmm_runstate rs);

/* -qmp VAL: "unix:PATH,server=on,wait=off" -> *path (g_malloc'd).  Errors name -qmp. */
int monitor_parse_opt(const char *val, char **path, GError **err);

/*
 * The command tables mpvmm serves after the built-ins (protocol.h): vmm_qmp_commands
 * and one table per subsystem, listed in monitor.c's monitor_tables (add yours there,
 * one line).  A command's opaque is the struct machine; it runs on the monitor thread.
 */
extern const struct qmp_command vmm_qmp_commands[];

struct monitor;
/*
 * Listen on every -qmp path and start the monitor thread, with its own GMainContext
 * (end of machine_create, before the vCPUs run).  Without -qmp: 0, nothing made.  Sets
 * m->mon and m->qmp.  *err names the -qmp path.
 */
int monitor_create(struct machine *m, GError **err);
/* Deliver pending events, stop the thread, close and unlink the sockets. */
void monitor_destroy(struct machine *m);
/*
 * Broadcast an event (any thread; data NULL or taken).  No-op without -qmp, or once
 * monitor_destroy() ran; a thread that may emit must have stopped before it
 * (machine_destroy() calls it after the vCPUs are joined).
 */
void monitor_emit(struct machine *m, const char *event, json_object *data);
/*
 * The VM is ending with `status` (machine_run, after every vCPU stopped): runstate
 * shutdown and the SHUTDOWN event, unless the quit command already sent it.
 */
void monitor_vm_ended(struct machine *m, int status);
/* SHUTDOWN {"guest", "reason"} and runstate shutdown (any thread). */
void monitor_emit_shutdown(struct machine *m, bool guest, const char *reason);
/* The quit command: SHUTDOWN (host-qmp-quit), then machine_stop() with status 0. */
void monitor_quit(struct machine *m);
/*
 * query-pci (qmp_pci.c).  qmp_pci_probe() sizes bus 0's BARs through config cycles,
 * as firmware does: only before the vCPUs run (monitor_create) or while they are
 * parked.  The command reads everything else live.
 */
struct qmp_pci;
int qmp_pci_probe(struct machine *m);
int qmp_query_pci(void *opaque, struct qmp_session *s, json_object *args, json_object **ret,
		  GError **err);
/* Reset the machine (system_reset): qmp_reset.c.  Monitor thread.  *err for QMP. */
int monitor_reset(struct machine *m, GError **err);

/* ---- rproc*.c: class processes mpvmm spawns itself (-object remote-process) ---- */

#define RPROC_TYPE "remote-process"

/* One -object remote-process (or object-add), checked for form; nothing started. */
struct rproc_opt {
	char *id;
	char *cls;     /* "storage", "net" or "misc" */
	char *binary;  /* NULL: mpvmm-<cls> next to the mpvmm executable, then in $PATH */
	char *sandbox; /* "on", "off", "log", or NULL: the class binary's default */
	int64_t uid, gid; /* -1: the class binary's default */
};

/*
 * "remote-process,id=ID,class=C[,binary=PATH][,sandbox=on|off|log][,uid=N][,gid=N]"
 * (-object).  Errors name the option and the fix.  -EINVAL.
 */
int rproc_opt_parse(const char *arg, struct rproc_opt *o, GError **err);
/*
 * object-add's arguments ({"qom-type", "id", props...}, strings or integers); binary
 * is refused (a QMP client may not choose the program mpvmm runs).  -EINVAL.
 */
int rproc_opt_from_json(json_object *args, struct rproc_opt *o, GError **err);
void rproc_opt_clear(struct rproc_opt *o);

struct rprocs;
struct qmp_session;
struct qmp_command;

/*
 * The VM's class processes and the thread that watches them: a process that dies is
 * reaped and logged once, with its exit status or signal and the devices it took down
 * (their proxies fail on their own); the VM runs on.  -errno.
 */
int rprocs_create(struct rprocs **out);
/* Stop every process (SIGTERM, then SIGKILL after 2 s), reap it, join the thread. */
void rprocs_destroy(struct rprocs *ps); /* NULL is a no-op */
/*
 * Spawn o's class binary with one end of a new control socketpair as --control=3 (and
 * --sandbox/--uid/--gid when given), wait for its QMP greeting and negotiate.  Any
 * thread.  Errors name the process, the binary and the cause; -EEXIST for an id in use.
 */
int rproc_spawn(struct rprocs *ps, const struct rproc_opt *o, GError **err);
/* object-del: stop and reap it.  -ENOENT; -EBUSY while it runs and hosts devices. */
int rproc_remove(struct rprocs *ps, const char *id, GError **err);
/* query-remote-processes: [{id, pid, class, devices, sandbox, health}] (docs/qmp.md). */
json_object *rprocs_query(struct rprocs *ps);

/*
 * Make class process `rid` host device `id`: a new socketpair, one end passed to the
 * process with getfd, the device described as JSON in device_add on its control
 * channel; *sock_out is mpvmm's end (caller owns it: proxy_connect() it).  props: the
 * device's properties: "remote-driver" (its type in the class process, required), its
 * own properties (strings, integers or booleans, forwarded), and its backend:
 * virtio-blk's drive=FDNAME, an fd fdsrc received with getfd (taken), or on the command
 * line (fdsrc NULL) the fd= a -blockdev's drive=NODE became (not taken); virtio-rng's
 * /dev/urandom, opened here.  Any thread; calls are serialized.  -ENOENT (no such
 * process), -ESRCH (it has died), -EINVAL (bad props), -EBADF (no fd of that getfd
 * name in fdsrc), -EREMOTEIO (the process refused: its message is in *err); another
 * -errno when its control channel broke (-ECONNRESET, -ETIMEDOUT after 5 s, -EPROTO).
 */
int rproc_device_add(struct machine *m, const char *rid, const char *id, json_object *props,
		     struct qmp_session *fdsrc, int *sock_out, GError **err);
/*
 * Have class process `rid` destroy device `id` and its end of the device's channel
 * (device_del); a dead process only forgets it.  -ENOENT (no process, or no such device
 * in it), -EREMOTEIO.
 */
int rproc_device_del(struct machine *m, const char *rid, const char *id, GError **err);

/* object-add / object-del of qom-type remote-process, query-remote-processes.  The
 * commands' opaque is the struct machine. */
extern const struct qmp_command rproc_qmp_commands[];

/* ---- rproc_qmp.c: the QMP client of a class process's control channel ---- */

#define RQMP_TIMEOUT_MS 5000 /* for the greeting, and for each reply */

struct rqmp;
/* Read the greeting and negotiate on fd (taken, also on failure).  -errno, *err. */
int rqmp_connect(int fd, struct rqmp **out, GError **err);
/*
 * Execute cmd with args (taken; NULL: none) and fd (>= 0: sent with SCM_RIGHTS, not
 * taken); *ret (may be NULL) gets the "return" value.  -EREMOTEIO with the error's desc
 * in *err; other -errno when the channel broke (it stays broken).
 */
int rqmp_call(struct rqmp *c, const char *cmd, json_object *args, int fd, json_object **ret,
	      GError **err);
bool rqmp_broken(const struct rqmp *c);
void rqmp_close(struct rqmp *c); /* NULL is a no-op */

#endif
