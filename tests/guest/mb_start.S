/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mb_start.S: Multiboot v1 entry of multiboot.elf.  It holds the Multiboot header
 * (Multiboot Specification 0.6.96, 3.1) and mb_entry, where a Multiboot loader (QEMU's
 * -kernel, GRUB, mpvmm) enters in 32-bit protected mode, paging off, %eax = 0x2BADB002
 * and %ebx = the physical address of the multiboot information (spec 3.2).  mb_entry
 * saves both for the program (mb_boot_magic, mb_boot_info), hands the runtime a
 * minimal PVH start_info carrying only the command line, and joins start.S's _start32.
 * It does not check or copy the information structure: that is the program's test.
 * Built with -DMB_AOUT, the header also carries the a.out-kludge address fields (flag
 * bit 16), for multiboot-aout.elf.
 */

#define MB_HEADER_MAGIC 0x1badb002
#define MB_BOOT_MAGIC 0x2badb002
#define MB_PAGE_ALIGN (1 << 0)	/* align modules on 4 KiB */
#define MB_MEMORY_INFO (1 << 1)	/* want mem_* and the memory map */
#define MB_AOUT_KLUDGE (1 << 16)	/* load by the address fields, not the ELF headers */
#ifdef MB_AOUT
#define MB_HEADER_FLAGS (MB_PAGE_ALIGN | MB_MEMORY_INFO | MB_AOUT_KLUDGE)
#else
#define MB_HEADER_FLAGS (MB_PAGE_ALIGN | MB_MEMORY_INFO)
#endif
#define MB_LOAD_ADDR 0x100000	/* guest.ld: the image starts at 1 MiB */

#define MBI_FLAG_CMDLINE (1 << 2)
#define MBI_CMDLINE 16		/* offset of cmdline in the information structure */

#define HVM_START_MAGIC 0x336ec578
#define SI_CMDLINE_PADDR 24	/* offset of cmdline_paddr in struct hvm_start_info */

	/* The header must lie in the first 8 KiB of the file, 4-byte aligned (spec 3.1.1). */
	.section .text.entry, "ax", @progbits
	.balign 4
mb_header:
	.long MB_HEADER_MAGIC
	.long MB_HEADER_FLAGS
	.long -(MB_HEADER_MAGIC + MB_HEADER_FLAGS)
#ifdef MB_AOUT
	/* Spec 3.1.3: the file from the header on is the image from header_addr on, up to
	 * load_end_addr; zeros up to bss_end_addr.  guest.ld lays the file out that way. */
	.long mb_header			/* header_addr */
	.long MB_LOAD_ADDR		/* load_addr */
	.long __bss_start		/* load_end_addr: .data ends where .bss starts */
	.long __bss_end			/* bss_end_addr */
	.long mb_entry			/* entry_addr */
#endif

	.code32
	.globl mb_entry
mb_entry:
	cli
	movl %eax, mb_boot_magic
	movl %ebx, mb_boot_info
	xorl %ecx, %ecx
	cmpl $MB_BOOT_MAGIC, %eax
	jne 1f				/* not Multiboot: leave %ebx alone, no command line */
	testl $MBI_FLAG_CMDLINE, (%ebx)
	jz 1f
	movl MBI_CMDLINE(%ebx), %ecx
1:	movl %ecx, mb_start_info + SI_CMDLINE_PADDR
	movl $mb_start_info, %ebx
	jmp _start32			/* start.S: GDT, .bss, paging, long mode, guest_start */

	/* In .data, not .bss: _start32 clears .bss. */
	.data
	.balign 8
	.globl mb_boot_magic, mb_boot_info
mb_boot_magic:
	.long 0
mb_boot_info:
	.long 0
mb_start_info:				/* struct hvm_start_info, version 1, no memory map */
	.long HVM_START_MAGIC, 1, 0, 0
	.quad 0, 0, 0, 0		/* modlist, cmdline (set above), rsdp, memmap */
	.long 0, 0

	.section .note.GNU-stack, "", @progbits
