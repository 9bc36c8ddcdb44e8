// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * serial: a 16550A UART, enough for a polling driver.  Transmitted bytes go to the
 * output fd at once (the transmitter is always empty: LSR.THRE and LSR.TEMT stay set);
 * the divisor latch, IER, LCR, MCR and scratch registers read back what was written;
 * loopback mode (MCR bit 4) feeds transmitted bytes back to RBR and the modem outputs
 * back to MSR.  It has no input from the host and raises no interrupt (IER is only
 * stored).  Register map: National Semiconductor PC16550D data sheet, table II.
 */
#include <errno.h>
#include <stdlib.h>

#include "vmm/vmm.h"

enum {
	UART_RBR_THR = 0, /* DLL when LCR.DLAB */
	UART_IER = 1,	  /* DLM when LCR.DLAB */
	UART_IIR_FCR = 2,
	UART_LCR = 3,
	UART_MCR = 4,
	UART_LSR = 5,
	UART_MSR = 6,
	UART_SCR = 7,
};

#define UART_LCR_DLAB 0x80
#define UART_MCR_LOOP 0x10
#define UART_LSR_DR 0x01
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
#define UART_IIR_NONE 0x01
#define UART_IIR_FIFO 0xc0
#define UART_FCR_ENABLE 0x01
#define UART_FCR_CLEAR_RX 0x02
#define UART_MSR_LINES 0xb0 /* DCD, DSR, CTS: a connected terminal */

struct serial {
	pthread_mutex_t lock;
	int out_fd;
	uint8_t rbr, ier, lcr, mcr, lsr, scr, dll, dlm;
	bool fifo;
};

/* MSR in loopback: CTS = RTS, DSR = DTR, RI = OUT1, DCD = OUT2 (16550D, MCR bit 4). */
static uint8_t serial_msr(const struct serial *s)
{
	uint8_t m = s->mcr;

	if (!(s->mcr & UART_MCR_LOOP))
		return UART_MSR_LINES;
	return (uint8_t)(((m & 0x02) << 3) | ((m & 0x01) << 5) | ((m & 0x04) << 4) |
			 ((m & 0x08) << 4));
}

static uint8_t serial_read_reg(struct serial *s, unsigned reg)
{
	bool dlab = s->lcr & UART_LCR_DLAB;
	uint8_t v;

	switch (reg) {
	case UART_RBR_THR:
		if (dlab)
			return s->dll;
		v = s->rbr;
		s->lsr &= (uint8_t)~UART_LSR_DR;
		return v;
	case UART_IER:
		return dlab ? s->dlm : s->ier;
	case UART_IIR_FCR:
		return UART_IIR_NONE | (s->fifo ? UART_IIR_FIFO : 0);
	case UART_LCR:
		return s->lcr;
	case UART_MCR:
		return s->mcr;
	case UART_LSR:
		return s->lsr | UART_LSR_THRE | UART_LSR_TEMT;
	case UART_MSR:
		return serial_msr(s);
	default:
		return s->scr;
	}
}

static void serial_transmit(struct serial *s, uint8_t byte)
{
	if (s->mcr & UART_MCR_LOOP) {
		s->rbr = byte;
		s->lsr |= UART_LSR_DR;
		return;
	}
	chardev_write(s->out_fd, &byte, 1);
}

static void serial_write_reg(struct serial *s, unsigned reg, uint8_t v)
{
	bool dlab = s->lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_RBR_THR:
		if (dlab)
			s->dll = v;
		else
			serial_transmit(s, v);
		break;
	case UART_IER:
		if (dlab)
			s->dlm = v;
		else
			s->ier = v & 0x0f;
		break;
	case UART_IIR_FCR:
		s->fifo = v & UART_FCR_ENABLE;
		if (v & UART_FCR_CLEAR_RX)
			s->lsr &= (uint8_t)~UART_LSR_DR;
		break;
	case UART_LCR:
		s->lcr = v;
		break;
	case UART_MCR:
		s->mcr = v & 0x1f;
		break;
	case UART_SCR:
		s->scr = v;
		break;
	default: /* LSR and MSR are read-only */
		break;
	}
}

/* Wider accesses are split into byte accesses of consecutive registers. */
static uint32_t serial_read(void *opaque, uint16_t off, unsigned size)
{
	struct serial *s = opaque;
	uint32_t val = 0;

	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < size; i++)
		val |= (uint32_t)serial_read_reg(s, off + i) << (8 * i);
	pthread_mutex_unlock(&s->lock);
	return val;
}

static void serial_write(void *opaque, uint16_t off, unsigned size, uint32_t val)
{
	struct serial *s = opaque;

	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < size; i++)
		serial_write_reg(s, off + i, (uint8_t)(val >> (8 * i)));
	pthread_mutex_unlock(&s->lock);
}

static const struct ioport_ops serial_ops = {
	.read = serial_read,
	.write = serial_write,
};

int serial_create(struct ioport_table *io, uint16_t base, int out_fd, struct serial **out)
{
	struct serial *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	s->out_fd = out_fd;
	s->dll = 0x0c; /* 9600 baud (1.8432 MHz / 16 / 12) until the guest sets one */
	ret = ioport_register(io, base, 8, &serial_ops, s);
	if (ret < 0) {
		serial_destroy(s);
		return ret;
	}
	*out = s;
	return 0;
}

void serial_destroy(struct serial *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s);
}
