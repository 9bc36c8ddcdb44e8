/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmm-guest: a tiny PVH guest for test-vmm.c that checks mpvmm's boot ABI and
 * platform from the inside.  It stays in 32-bit protected mode (the PVH entry state:
 * flat segments, paging off, %ebx = hvm_start_info) and picks a mode from the first
 * byte of its command line:
 *   x  check start_info and its memory map, print a line, exit with 0x2a
 *   p  check the PCI host bridge (type-1, ECAM), a pci-testdev at 00:01.0, unclaimed
 *      ports and MMIO, the UART and debugcon registers; exit 0 when all pass
 *   t  triple fault (ud2 with an empty IDT)
 *   h  say "halting", then halt forever with interrupts off (the host stops it)
 * A failed check exits with its own code (0x10..), so the VMM's status names it.
 * Not the guest runtime of tests/guest: this one has no long mode, IDT or C.
 */
	.section .note.Xen, "a", @note
	.balign 4
	.long 4, 4, 18		/* namesz, descsz, XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long _start

	.text
	.code32
	.globl _start
_start:
	mov $0x80000, %esp
	mov 24(%ebx), %eax	/* cmdline_paddr (low half) */
	test %eax, %eax
	jz mode_info
	movzbl (%eax), %eax
	cmp $'p', %al
	je mode_pci
	cmp $'t', %al
	je mode_triple
	cmp $'h', %al
	je mode_halt
	jmp mode_info

/* exit(%al) through isa-debug-exit */
exit:
	mov $0xf4, %dx
	out %al, %dx
1:	hlt
	jmp 1b

/* if (%eax != %ecx) exit(code) */
.macro CHECK code
	cmp %ecx, %eax
	je 9f
	mov $\code, %al
	jmp exit
9:
.endm

/* Print the NUL-terminated string at %esi to the UART (polling LSR.THRE) and debugcon. */
puts:
	lodsb
	test %al, %al
	jz 2f
	mov %al, %ah
	mov $0x3fd, %dx
1:	in %dx, %al
	test $0x20, %al
	jz 1b
	mov %ah, %al
	mov $0x3f8, %dx
	out %al, %dx
	mov $0xe9, %dx
	out %al, %dx
	jmp puts
2:	ret

mode_info:
	mov (%ebx), %eax
	mov $0x336ec578, %ecx
	CHECK 0x10
	mov 4(%ebx), %eax
	mov $1, %ecx
	CHECK 0x11
	mov 48(%ebx), %eax	/* memmap_entries: low RAM, VGA hole, RAM, ECAM */
	mov $4, %ecx
	CHECK 0x12
	mov 40(%ebx), %edi	/* memmap_paddr; entries are 24 bytes */
	mov 8(%edi), %eax	/* [0] size */
	mov $0xa0000, %ecx
	CHECK 0x13
	mov 16(%edi), %eax	/* [0] type */
	mov $1, %ecx
	CHECK 0x14
	mov 72(%edi), %eax	/* [3] addr */
	mov $0xb0000000, %ecx
	CHECK 0x15
	mov 88(%edi), %eax	/* [3] type: reserved */
	mov $2, %ecx
	CHECK 0x16
	mov $hello, %esi
	call puts
	mov $0x2a, %al
	jmp exit

mode_triple:
	lidt null_idt
	ud2

mode_halt:
	mov $halting, %esi
	call puts
	cli
1:	hlt
	jmp 1b

/* %eax = config dword at type-1 address %eax */
cfg_read:
	mov $0xcf8, %dx
	out %eax, %dx
	mov $0xcfc, %dx
	in %dx, %eax
	ret

mode_pci:
	mov $0x80000000, %eax	/* 00:00.0 vendor/device */
	call cfg_read
	mov $0x29c08086, %ecx
	CHECK 0x20
	mov $0xcf8, %dx		/* CONFIG_ADDRESS reads back */
	in %dx, %eax
	mov $0x80000000, %ecx
	CHECK 0x21
	mov $0x80000008, %eax	/* class code byte at lane 3 of 0x08 */
	mov $0xcf8, %dx
	out %eax, %dx
	mov $0xcff, %dx
	xor %eax, %eax
	in %dx, %al
	mov $0x06, %ecx
	CHECK 0x22
	mov $0xcfe, %dx		/* 16-bit read of lanes 2-3 */
	xor %eax, %eax
	in %dx, %ax
	mov $0x0600, %ecx
	CHECK 0x23
	mov $0x00000000, %eax	/* enable bit clear: all-ones */
	call cfg_read
	mov $0xffffffff, %ecx
	CHECK 0x24
	mov 0xb0000000, %eax	/* ECAM 00:00.0 */
	mov $0x29c08086, %ecx
	CHECK 0x25
	mov 0xb0008000, %eax	/* ECAM 00:01.0: pci-testdev */
	mov $0x00051b36, %ecx
	CHECK 0x26
	mov 0xb0100000, %eax	/* ECAM bus 1 */
	mov $0xffffffff, %ecx
	CHECK 0x27
	mov 0xb0010000, %eax	/* ECAM 00:02.0: absent */
	CHECK 0x28
	mov 0xd0000000, %eax	/* unclaimed MMIO */
	CHECK 0x29
	mov $0x510, %dx		/* unclaimed port */
	in %dx, %eax
	CHECK 0x2a
	movl $0xffffffff, 0xb0008010	/* size BAR0 of pci-testdev through ECAM */
	mov 0xb0008010, %eax
	mov $0xfffff000, %ecx
	CHECK 0x2b
	mov $0x80000810, %eax	/* the same register through type-1 */
	call cfg_read
	CHECK 0x2c
	jmp uart_checks

uart_checks:
	mov $0x3fd, %dx		/* LSR: THRE and TEMT */
	in %dx, %al
	and $0x60, %eax
	mov $0x60, %ecx
	CHECK 0x30
	mov $0x3ff, %dx		/* scratch register */
	mov $0x5a, %al
	out %al, %dx
	xor %eax, %eax
	in %dx, %al
	mov $0x5a, %ecx
	CHECK 0x31
	mov $0x3fb, %dx		/* LCR.DLAB, then DLL reads back */
	mov $0x80, %al
	out %al, %dx
	mov $0x3f8, %dx
	mov $0x01, %al
	out %al, %dx
	xor %eax, %eax
	in %dx, %al
	mov $0x01, %ecx
	CHECK 0x32
	mov $0x3fb, %dx
	mov $0x03, %al
	out %al, %dx
	mov $0xe9, %dx		/* debugcon reads 0xe9 */
	xor %eax, %eax
	in %dx, %al
	mov $0xe9, %ecx
	CHECK 0x33
	mov $0, %al
	jmp exit

	.section .rodata
hello:
	.asciz "hello from the vmm test guest\n"
halting:
	.asciz "halting\n"
	.balign 8
null_idt:
	.word 0
	.long 0
