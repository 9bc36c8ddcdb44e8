/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * guest.h: the whole API of the freestanding guest runtime in tests/guest/.  A guest
 * program includes only this header and defines main(); the runtime boots it through
 * the PVH entry (start.S), in 64-bit long mode with the first 4 GiB identity-mapped,
 * and exits the VM with main()'s return value through isa-debug-exit.
 *
 * It is not a libc and not an OS: one CPU, interrupts off, no heap, no timers.  Every
 * function may be called from main() and from an interrupt handler, never concurrently.
 * Output goes to the 16550 at 0x3f8 (when present) and to the debugcon port 0xe9.
 */
#ifndef GUEST_H
#define GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define __printf(a, b) __attribute__((format(printf, a, b)))
#define __noreturn __attribute__((noreturn))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Negative errno values returned by runtime functions (Linux numbering). */
#define ENODEV 19
#define EINVAL 22
#define ENOSPC 28
#define ERANGE 34
#define E2BIG 7

/*
 * Exit codes written to isa-debug-exit; QEMU and mpvmm exit with status (code << 1) | 1,
 * so a full pass is status 1.  1..GUEST_EXIT_MAX_FAILURES counts failed checks.
 */
#define GUEST_EXIT_PASS 0
#define GUEST_EXIT_MAX_FAILURES 0x7d
#define GUEST_EXIT_ABORT 0x7e	  /* guest_abort(): a precondition failed, "Bail out!" */
#define GUEST_EXIT_EXCEPTION 0x7f /* unexpected CPU exception or interrupt */

#define GUEST_DEBUG_EXIT_PORT 0xf4
#define GUEST_DEBUGCON_PORT 0xe9
#define GUEST_SERIAL_PORT 0x3f8

/* Provided by each program; its return value is passed to guest_exit(). */
int main(void);

/* ---- guest.c: lifecycle and the PVH start_info ---- */

/* Xen public/arch-x86/hvm/start_info.h, version 1 (memmap fields). */
#define HVM_START_MAGIC 0x336ec578
struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type; /* 1 = RAM (E820 numbering) */
	uint32_t reserved;
};

/* The start_info the loader passed in %ebx (already checked for its magic). */
const struct hvm_start_info *guest_start_info(void);
/* Write @code to isa-debug-exit; if that does not stop the VM, halt forever. */
__noreturn void guest_exit(unsigned code);
/* Print "Bail out! <message>" and exit with GUEST_EXIT_ABORT. */
__noreturn __printf(1, 2) void guest_abort(const char *fmt, ...);

/* ---- console.c and format.c: output on serial and debugcon ---- */

void console_putc(char c);
void console_write(const char *s, size_t len);
/* Formats: %d %i %u %x %X %p %s %c %%, flags '-' '0', a width, length l ll z h. */
__printf(1, 2) int printf(const char *fmt, ...);
__printf(1, 0) int vprintf(const char *fmt, va_list ap);
/* Always NUL-terminates when size > 0; returns the untruncated length. */
__printf(3, 4) int snprintf(char *buf, size_t size, const char *fmt, ...);
__printf(3, 0) int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

/* ---- report.c: TAP results ("ok N - name", "not ok N - name", "# note", "1..N") ---- */

/* Print one result line and count it; returns @pass. */
__printf(2, 3) bool report(bool pass, const char *fmt, ...);
/* A passing line with a "# SKIP" directive. */
__printf(1, 2) void report_skip(const char *fmt, ...);
/* A "# " comment line; the message should not end with a newline. */
__printf(1, 2) void report_note(const char *fmt, ...);
unsigned report_failures(void);
/* Print the plan "1..N" and a summary; return the exit code for main(). */
int report_summary(void);

/* ---- cmdline.c: key=value options from the PVH command line (-append) ---- */

#define CMDLINE_MAX_LEN 1024
#define CMDLINE_MAX_OPTS 32
struct cmdline {
	char buf[CMDLINE_MAX_LEN];
	unsigned nr;
	const char *key[CMDLINE_MAX_OPTS];
	const char *val[CMDLINE_MAX_OPTS]; /* "" for a bare "key" */
};

/*
 * Split @s at blanks into "key=value" or "key" options, copying into @cl.
 * -E2BIG: longer than CMDLINE_MAX_LEN - 1 or more than CMDLINE_MAX_OPTS options;
 * -EINVAL: an empty key ("=x").  @cl is left empty on error.
 */
int cmdline_parse(struct cmdline *cl, const char *s);
/* The value of the last option named @key, or NULL if absent. */
const char *cmdline_get(const struct cmdline *cl, const char *key);
/*
 * @key as a decimal or 0x-hex number in [0, @max]; @def when absent.
 * -EINVAL: not a number (or a bare key); -ERANGE: above @max or overflows.
 */
int cmdline_ulong(const struct cmdline *cl, const char *key, unsigned long def, unsigned long max,
		  unsigned long *out);
/* The runtime's parsed command line. */
const struct cmdline *guest_cmdline(void);
/* cmdline_ulong() on the guest's command line; a bad value is a guest_abort(). */
unsigned long guest_opt_ulong(const char *key, unsigned long def, unsigned long max);

/* ---- string.c ---- */

void *memset(void *s, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strstr(const char *haystack, const char *needle);
/* Whole-string decimal or 0x-hex; -EINVAL if empty or not a number, -ERANGE on overflow. */
int str_to_ulong(const char *s, unsigned long *out);

/* ---- port I/O and MMIO (value first, as in Linux) ---- */

static inline void outb(uint8_t v, uint16_t port)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t v, uint16_t port)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint32_t v, uint16_t port)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* MMIO: @addr is a guest-physical address below 4 GiB (identity-mapped, uncached
 * above 3 GiB).  Each accessor is exactly one load or store of its width. */
static inline uint8_t readb(uint64_t addr)
{
	return *(const volatile uint8_t *)(uintptr_t)addr;
}

static inline uint16_t readw(uint64_t addr)
{
	return *(const volatile uint16_t *)(uintptr_t)addr;
}

static inline uint32_t readl(uint64_t addr)
{
	return *(const volatile uint32_t *)(uintptr_t)addr;
}

static inline uint64_t readq(uint64_t addr)
{
	return *(const volatile uint64_t *)(uintptr_t)addr;
}

static inline void writeb(uint8_t v, uint64_t addr)
{
	*(volatile uint8_t *)(uintptr_t)addr = v;
}

static inline void writew(uint16_t v, uint64_t addr)
{
	*(volatile uint16_t *)(uintptr_t)addr = v;
}

static inline void writel(uint32_t v, uint64_t addr)
{
	*(volatile uint32_t *)(uintptr_t)addr = v;
}

static inline void writeq(uint64_t v, uint64_t addr)
{
	*(volatile uint64_t *)(uintptr_t)addr = v;
}

/* ---- pci.c: bus 0 through configuration mechanism #1 (0xcf8/0xcfc) ---- */

#define PCI_MAX_FNS 64
#define PCI_MEM_WINDOW_BASE 0xe0000000u
#define PCI_MEM_WINDOW_END 0xfec00000u /* IOAPIC, LAPIC and BIOS lie above */
#define PCI_IO_WINDOW_BASE 0xc000u
#define PCI_IO_WINDOW_END 0x10000u

struct pci_bar {
	uint64_t addr; /* assigned address or port; 0 when the BAR is not implemented */
	uint64_t size; /* 0 when not implemented */
	bool io;
	bool is64; /* a 64-bit memory BAR; the next slot is its upper half */
	bool prefetch;
};

struct pci_fn {
	uint16_t bdf; /* bus << 8 | device << 3 | function */
	uint16_t vendor, device;
	uint8_t revision, header_type;
	uint32_t class_code; /* class << 16 | subclass << 8 | prog-if */
	struct pci_bar bar[6];
};

uint8_t pci_cfg_readb(uint16_t bdf, unsigned off);
uint16_t pci_cfg_readw(uint16_t bdf, unsigned off);
uint32_t pci_cfg_readl(uint16_t bdf, unsigned off);
void pci_cfg_writeb(uint16_t bdf, unsigned off, uint8_t v);
void pci_cfg_writew(uint16_t bdf, unsigned off, uint16_t v);
void pci_cfg_writel(uint16_t bdf, unsigned off, uint32_t v);

/*
 * Enumerate bus 0 (every slot, and functions 1-7 of multi-function devices), size
 * every BAR of each type-0 function, assign memory BARs upward from
 * PCI_MEM_WINDOW_BASE and I/O BARs upward from PCI_IO_WINDOW_BASE (each aligned to its
 * size), disable expansion ROMs and enable memory/I/O decoding.  Returns the number
 * of functions found; -ENOSPC if a window is exhausted (the BAR is left unassigned
 * and decoding of that function off).  Call once.
 */
int pci_init(void);
/* The @index-th function with these IDs (0 = first), or NULL. */
const struct pci_fn *pci_find(uint16_t vendor, uint16_t device, unsigned index);
/* One "# " line per function and per implemented BAR. */
void pci_print(void);

/* A PCI-to-PCI bridge on bus 0 as programmed (by firmware); limits are inclusive. */
struct pci_bridge {
	uint16_t bdf;
	uint8_t secondary, subordinate;
	uint64_t io_base, io_limit; /* a window is closed when base > limit */
	uint64_t mem_base, mem_limit;
	uint64_t pref_base, pref_limit;
};

/* The bridges (header type 1) pci_init() found on bus 0, at most @max; how many. */
unsigned pci_bridges(struct pci_bridge *br, unsigned max);
/*
 * Read the IDs of the function at @bdf (any bus) and size its BARs, decoding turned
 * off, without assigning them (bridges: IDs only).  -ENODEV when nothing answers.
 */
int pci_probe(uint16_t bdf, struct pci_fn *fn);
/*
 * Place @fn's BARs (after pci_probe) at size-aligned addresses from *@mem below
 * @mem_end and from *@io below @io_end, advancing both, then enable decoding.  -ENOSPC.
 */
int pci_place(struct pci_fn *fn, uint64_t *mem, uint64_t mem_end, uint64_t *io, uint64_t io_end);
/* Where pci_init()'s allocators stand: bus 0's BARs lie below these, from the bases. */
void pci_alloc_next(uint64_t *mem, uint64_t *io);

/* ---- idt.c: exceptions and interrupt vectors ---- */

struct idt_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error; /* error is 0 for vectors without an error code */
	uint64_t rip, cs, rflags, rsp, ss;
};

typedef void (*idt_handler_fn)(struct idt_frame *frame);

/*
 * Without a handler, the LAPIC spurious vector and the 8259's spurious IRQ7/IRQ15
 * (vectors 0x27, 0x2f; the runtime remaps and masks both PICs) are ignored.  A program
 * enabling the LAPIC should put IDT_SPURIOUS_VECTOR in its spurious-vector register.
 */
#define IDT_SPURIOUS_VECTOR 0xff

/*
 * Route vector @vector (32-255) to @fn, or back to the default (report and exit with
 * GUEST_EXIT_EXCEPTION) with NULL.  The handler must send its own EOI.  -EINVAL for
 * an exception vector.  CPU exceptions (0-31) always report and exit.
 */
int idt_set_handler(unsigned vector, idt_handler_fn fn);

/* Runtime internals, called from start.S and guest.c only. */
void guest_start(uint32_t start_info_paddr);
void idt_init(void);
void idt_dispatch(struct idt_frame *frame);
void console_init(void);

#endif /* GUEST_H */
