// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * idt.c: the 64-bit IDT.  All 256 vectors point at the stubs in start.S, which save the
 * registers and call idt_dispatch().  A CPU exception, or an interrupt nobody asked
 * for, prints the vector, RIP and error code and ends the VM with GUEST_EXIT_EXCEPTION;
 * a vector given a handler with idt_set_handler() runs it and returns.  It masks the
 * legacy 8259 PICs but does not program the LAPIC or IOAPIC: a program that wants
 * interrupts does that itself.
 */
#include "guest.h"

#define IDT_GATE_INTR 0x8e /* present, DPL 0, 64-bit interrupt gate (SDM vol. 3, 6.14.1) */
#define IDT_CS64 0x08	   /* code selector set up by start.S */
#define IDT_STUB_SIZE 16
#define IDT_PIC_BASE 0x20

struct idt_gate {
	uint16_t off_lo;
	uint16_t sel;
	uint8_t ist;
	uint8_t type;
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t zero;
} __attribute__((packed));

extern const char idt_stubs[];

static struct idt_gate idt[256] __attribute__((aligned(16)));
static idt_handler_fn idt_handlers[256];
static bool idt_in_fatal;

static const char *const idt_names[32] = {
	"#DE divide error",
	"#DB debug",
	"NMI",
	"#BP breakpoint",
	"#OF overflow",
	"#BR bound range",
	"#UD invalid opcode",
	"#NM no FPU",
	"#DF double fault",
	"coprocessor overrun",
	"#TS invalid TSS",
	"#NP segment not present",
	"#SS stack fault",
	"#GP general protection",
	"#PF page fault",
	"reserved",
	"#MF x87 error",
	"#AC alignment check",
	"#MC machine check",
	"#XM SIMD error",
	"#VE virtualization",
	"#CP control protection",
};

/*
 * Firmware leaves the 8259 pair delivering IRQ0 (the PIT) on vector 8, which would
 * look like a double fault at the first sti.  Move them to 0x20-0x2f and mask every
 * line (8259A datasheet, ICW1-ICW4 then OCW1); only their spurious IRQ7/IRQ15 can
 * still arrive, and idt_dispatch() ignores those.
 */
static void idt_pic_disable(void)
{
	static const uint8_t icw[2][3] = {{IDT_PIC_BASE, 0x04, 0x01},
					  {IDT_PIC_BASE + 8, 0x02, 0x01}};

	for (unsigned i = 0; i < 2; i++) {
		uint16_t port = i ? 0xa0 : 0x20;

		outb(0x11, port); /* ICW1: edge, cascade, ICW4 follows */
		for (unsigned k = 0; k < 3; k++)
			outb(icw[i][k], port + 1);
		outb(0xff, port + 1); /* OCW1: mask all */
	}
}

void idt_init(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) desc = {sizeof(idt) - 1, (uintptr_t)idt};

	for (unsigned v = 0; v < ARRAY_SIZE(idt); v++) {
		uintptr_t stub = (uintptr_t)idt_stubs + (uintptr_t)v * IDT_STUB_SIZE;

		idt[v] = (struct idt_gate){
			.off_lo = (uint16_t)stub,
			.sel = IDT_CS64,
			.type = IDT_GATE_INTR,
			.off_mid = (uint16_t)(stub >> 16),
			.off_hi = (uint32_t)(stub >> 32),
		};
	}
	__asm__ volatile("lidt %0" : : "m"(desc));
	idt_pic_disable();
}

int idt_set_handler(unsigned vector, idt_handler_fn fn)
{
	if (vector < 32 || vector >= ARRAY_SIZE(idt_handlers))
		return -EINVAL;
	idt_handlers[vector] = fn;
	return 0;
}

static __noreturn void idt_fatal(const struct idt_frame *f)
{
	const char *name = "interrupt";
	uint64_t cr2;

	/* A fault while reporting a fault: the console itself is broken, just stop. */
	if (idt_in_fatal)
		guest_exit(GUEST_EXIT_EXCEPTION);
	idt_in_fatal = true;
	if (f->vector < 32)
		name = idt_names[f->vector] ? idt_names[f->vector] : "reserved";
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	printf("Bail out! unexpected %s: vector %lu at rip 0x%lx, error code 0x%lx\n", name,
	       f->vector, f->rip, f->error);
	printf("# cr2 0x%lx rsp 0x%lx rflags 0x%lx cs 0x%lx\n", cr2, f->rsp, f->rflags, f->cs);
	printf("# rax 0x%lx rbx 0x%lx rcx 0x%lx rdx 0x%lx rsi 0x%lx rdi 0x%lx\n", f->rax, f->rbx,
	       f->rcx, f->rdx, f->rsi, f->rdi);
	guest_exit(GUEST_EXIT_EXCEPTION);
}

void idt_dispatch(struct idt_frame *frame)
{
	idt_handler_fn fn = NULL;

	if (frame->vector >= 32 && frame->vector < ARRAY_SIZE(idt_handlers))
		fn = idt_handlers[frame->vector];
	if (!fn && (frame->vector == IDT_PIC_BASE + 7 || frame->vector == IDT_PIC_BASE + 15 ||
		    frame->vector == IDT_SPURIOUS_VECTOR))
		return; /* spurious: no EOI (8259A datasheet; SDM vol. 3, 11.9) */
	if (!fn)
		idt_fatal(frame);
	fn(frame);
}
