/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * start.S: PVH entry of every guest ELF.  The loader (QEMU's PVH option ROM or mpvmm)
 * enters _start32 in 32-bit protected mode, paging off, %ebx = physical address of
 * struct hvm_start_info (Xen docs/misc/pvh.pandoc).  This file loads its own GDT,
 * clears .bss, identity-maps the first 4 GiB with 2 MiB pages (the top GiB uncached,
 * for PCI BARs, IOAPIC and LAPIC), enters long mode and calls guest_start().  It also
 * holds the 256 IDT entry stubs.  It does no C-level setup: that is guest.c.
 */

#define CS64 0x08
#define DS 0x10
#define CS32 0x18

#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)
#define CR0_PE (1 << 0)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)

/* Page-table entry bits (Intel SDM vol. 3, 4.5). */
#define PTE_P 0x01
#define PTE_RW 0x02
#define PTE_PWT 0x08
#define PTE_PCD 0x10
#define PTE_PS 0x80

/* ELF note read by PVH loaders: XEN_ELFNOTE_PHYS32_ENTRY (xen/include/public/elfnote.h). */
	.section .note.Xen, "a", @note
	.balign 4
	.long 4				/* namesz: "Xen\0" */
	.long 4				/* descsz */
	.long 18			/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.balign 4
	.long _start32

	.section .text.entry, "ax", @progbits
	.code32
	.globl _start32
_start32:
	cli
	cld
	lgdt gdt_desc
	ljmp $CS32, $1f
1:	movl $DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs

	/* Zero .bss (page tables and stack live there); %ebx is kept for guest_start. */
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	shrl $2, %ecx
	xorl %eax, %eax
	rep stosl

	/* PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 2 MiB pages. */
	movl $pdpt + (PTE_P | PTE_RW), pml4
	movl $pd + (PTE_P | PTE_RW), %eax
	xorl %ecx, %ecx
2:	movl %eax, pdpt(, %ecx, 8)
	addl $4096, %eax
	incl %ecx
	cmpl $4, %ecx
	jne 2b

	xorl %ecx, %ecx
3:	movl %ecx, %eax
	shll $21, %eax
	orl $(PTE_P | PTE_RW | PTE_PS), %eax
	cmpl $1536, %ecx		/* 3 GiB and up: MMIO, uncached */
	jb 4f
	orl $(PTE_PCD | PTE_PWT), %eax
4:	movl %eax, pd(, %ecx, 8)
	incl %ecx
	cmpl $2048, %ecx
	jne 3b

	movl $pml4, %eax
	movl %eax, %cr3
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | CR0_PE), %eax
	movl %eax, %cr0
	ljmp $CS64, $long_mode

	.code64
long_mode:
	lgdt gdt_desc			/* the same table, now with its 64-bit base */
	movl $DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	movq $stack_top, %rsp
	movl %ebx, %edi
	call guest_start
5:	cli
	hlt
	jmp 5b

/*
 * IDT stubs: one 16-byte stub per vector, so idt.c finds stub v at idt_stubs + 16 * v.
 * Vectors whose exceptions push an error code (SDM vol. 3, 6.15) skip the dummy push.
 */
	.text
	.balign 16
	.globl idt_stubs
idt_stubs:
	vec = 0
	.rept 256
	.balign 16
	.if !(vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 || vec == 30)
	pushq $0
	.endif
	pushq $vec
	jmp idt_common
	vec = vec + 1
	.endr

idt_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi			/* struct idt_frame * */
	movq %rsp, %rbx
	andq $-16, %rsp			/* SysV ABI call alignment */
	call idt_dispatch
	movq %rbx, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp			/* vector and error code */
	iretq

	.section .rodata
	.balign 16
gdt:
	.quad 0
	.quad 0x00af9b000000ffff	/* CS64: 64-bit code, DPL 0 */
	.quad 0x00cf93000000ffff	/* DS: flat 4 GiB data */
	.quad 0x00cf9b000000ffff	/* CS32: flat 32-bit code */
gdt_end:
	.balign 8
gdt_desc:
	.word gdt_end - gdt - 1
	.quad gdt			/* lgdt in 32-bit mode reads only the low 4 bytes */

	.bss
	.balign 4096
pml4:	.skip 4096
pdpt:	.skip 4096
pd:	.skip 4 * 4096
	.balign 16
	.skip 16384
stack_top:

	.section .note.GNU-stack, "", @progbits
