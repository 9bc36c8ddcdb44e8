// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * guest.c: the C side of boot and exit.  guest_start() runs once, from start.S in
 * long mode: it brings up the console and IDT, checks the PVH start_info, parses the
 * command line and calls main().  guest_exit() ends the VM through isa-debug-exit.
 * This is not a loader: start_info is only read, never relocated or extended.
 */
#include "guest.h"

static const struct hvm_start_info *start_info;
static struct cmdline cmdline;

const struct hvm_start_info *guest_start_info(void)
{
	return start_info;
}

const struct cmdline *guest_cmdline(void)
{
	return &cmdline;
}

__noreturn void guest_exit(unsigned code)
{
	printf("# guest exit %u\n", code);
	/* QEMU's isa-debug-exit and mpvmm exit with status (code << 1) | 1. */
	outl(code, GUEST_DEBUG_EXIT_PORT);
	printf("# isa-debug-exit did not stop the VM; halting\n");
	for (;;)
		__asm__ volatile("cli; hlt");
}

__noreturn void guest_abort(const char *fmt, ...)
{
	va_list ap;

	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	guest_exit(GUEST_EXIT_ABORT);
}

unsigned long guest_opt_ulong(const char *key, unsigned long def, unsigned long max)
{
	unsigned long v;
	int r = cmdline_ulong(&cmdline, key, def, max, &v);

	if (r == -ERANGE)
		guest_abort("option %s=%s: out of range, at most %lu", key,
			    cmdline_get(&cmdline, key), max);
	if (r < 0)
		guest_abort("option %s=%s: not a number (decimal or 0x-hex)", key,
			    cmdline_get(&cmdline, key));
	return v;
}

/* The command line lies in guest RAM wherever the loader put it; copy it, bounded. */
static void guest_parse_cmdline(uint64_t paddr)
{
	char raw[CMDLINE_MAX_LEN];
	size_t i;
	int r;

	if (!paddr)
		return;
	if (paddr >= (1ull << 32) - CMDLINE_MAX_LEN)
		guest_abort("start_info cmdline_paddr 0x%lx is not below 4 GiB", paddr);
	for (i = 0; i < sizeof(raw) - 1 && readb(paddr + i); i++)
		raw[i] = (char)readb(paddr + i);
	raw[i] = '\0';
	if (readb(paddr + i))
		guest_abort("command line longer than %u bytes", CMDLINE_MAX_LEN - 1);
	r = cmdline_parse(&cmdline, raw);
	if (r < 0)
		guest_abort("command line '%s' rejected (%d): at most %u key[=value] options", raw,
			    r, CMDLINE_MAX_OPTS);
}

void guest_start(uint32_t start_info_paddr)
{
	const struct hvm_start_info *si;
	int code;

	console_init();
	idt_init();
	si = (const struct hvm_start_info *)(uintptr_t)start_info_paddr;
	if (!si || si->magic != HVM_START_MAGIC)
		guest_abort("no PVH start_info at 0x%x (magic 0x%x, want 0x%x)", start_info_paddr,
			    si ? si->magic : 0, HVM_START_MAGIC);
	start_info = si;
	guest_parse_cmdline(si->cmdline_paddr);
	printf("# PVH start_info v%u at 0x%x, %u memmap entries, %u options\n", si->version,
	       start_info_paddr, si->version >= 1 ? si->memmap_entries : 0, cmdline.nr);
	code = main();
	if (code < 0 || code > GUEST_EXIT_EXCEPTION)
		guest_abort("main() returned %d, not an exit code", code);
	guest_exit((unsigned)code);
}
