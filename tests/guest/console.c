// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * console.c: the guest's only output.  Every byte goes to the debugcon port 0xe9 (a
 * plain byte stream the host reads as TAP) and, when a 16550 answers at 0x3f8, to the
 * serial line with "\n" expanded to "\r\n".  Output only: nothing here reads input or
 * takes interrupts.
 */
#include "guest.h"

/* 16550 registers (offsets from GUEST_SERIAL_PORT) and bits. */
#define UART_THR 0
#define UART_IER 1
#define UART_DLL 0
#define UART_DLM 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_LCR_8N1 0x03
#define UART_LCR_DLAB 0x80
#define UART_MCR_DTR_RTS 0x03
#define UART_LSR_THRE 0x20

/*
 * A transmitter that stays busy this long is treated as gone, so output never hangs
 * (an emulated 16550 is never busy; a poll costs one VM exit, ~16 us under PVM).
 */
#define UART_POLL_LIMIT 1000

static bool uart_present;

void console_init(void)
{
	uint8_t lsr = inb(GUEST_SERIAL_PORT + UART_LSR);

	/*
	 * An idle 16550 has an empty transmitter.  All-ones means nothing decodes the port
	 * (QEMU -serial none); zero is a VMM answering unclaimed reads with zeros.
	 */
	if (lsr == 0xff || !(lsr & UART_LSR_THRE))
		return;
	outb(0, GUEST_SERIAL_PORT + UART_IER);
	outb(UART_LCR_DLAB, GUEST_SERIAL_PORT + UART_LCR);
	outb(1, GUEST_SERIAL_PORT + UART_DLL); /* 115200 baud */
	outb(0, GUEST_SERIAL_PORT + UART_DLM);
	outb(UART_LCR_8N1, GUEST_SERIAL_PORT + UART_LCR);
	outb(0, GUEST_SERIAL_PORT + UART_FCR);
	outb(UART_MCR_DTR_RTS, GUEST_SERIAL_PORT + UART_MCR);
	uart_present = true;
}

static void uart_putc(char c)
{
	unsigned i;

	for (i = 0; i < UART_POLL_LIMIT; i++)
		if (inb(GUEST_SERIAL_PORT + UART_LSR) & UART_LSR_THRE)
			break;
	if (i == UART_POLL_LIMIT) {
		uart_present = false;
		return;
	}
	outb((uint8_t)c, GUEST_SERIAL_PORT + UART_THR);
}

void console_putc(char c)
{
	outb((uint8_t)c, GUEST_DEBUGCON_PORT);
	if (!uart_present)
		return;
	if (c == '\n')
		uart_putc('\r');
	uart_putc(c);
}

void console_write(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		console_putc(s[i]);
}
