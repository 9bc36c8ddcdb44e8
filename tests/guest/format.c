// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * format.c: printf-style formatting into a buffer or onto the console.  A deliberately
 * small subset: %d %i %u %x %X %p %s %c %%, the flags '-' and '0', a decimal width, and
 * the length modifiers h, l, ll and z.  No floating point, precision or positional
 * arguments; an unknown conversion is copied through verbatim.
 */
#include "guest.h"

struct fmt_sink {
	char *buf; /* NULL: write to the console */
	size_t size;
	size_t len; /* bytes produced so far, including any that did not fit */
};

struct fmt_spec {
	bool left, zero;
	unsigned width;
	unsigned lng; /* number of 'l' (a 'z' counts as one) */
};

static void fmt_put(struct fmt_sink *sk, char c)
{
	if (!sk->buf)
		console_putc(c);
	else if (sk->len + 1 < sk->size)
		sk->buf[sk->len] = c;
	sk->len++;
}

static void fmt_pad(struct fmt_sink *sk, char c, unsigned n)
{
	while (n--)
		fmt_put(sk, c);
}

static void fmt_str(struct fmt_sink *sk, const struct fmt_spec *sp, const char *s)
{
	size_t n;

	if (!s)
		s = "(null)";
	n = strlen(s);
	if (!sp->left && sp->width > n)
		fmt_pad(sk, ' ', sp->width - n);
	for (size_t i = 0; i < n; i++)
		fmt_put(sk, s[i]);
	if (sp->left && sp->width > n)
		fmt_pad(sk, ' ', sp->width - n);
}

static void fmt_num(struct fmt_sink *sk, const struct fmt_spec *sp, uint64_t v, unsigned base,
		    bool neg, bool upper, const char *prefix)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	unsigned n = 0, len, plen = neg + (unsigned)strlen(prefix);

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	len = n + plen;
	if (!sp->left && !sp->zero && sp->width > len)
		fmt_pad(sk, ' ', sp->width - len);
	if (neg)
		fmt_put(sk, '-');
	while (*prefix)
		fmt_put(sk, *prefix++);
	if (!sp->left && sp->zero && sp->width > len)
		fmt_pad(sk, '0', sp->width - len);
	while (n)
		fmt_put(sk, tmp[--n]);
	if (sp->left && sp->width > len)
		fmt_pad(sk, ' ', sp->width - len);
}

static const char *fmt_parse_spec(const char *f, struct fmt_spec *sp)
{
	*sp = (struct fmt_spec){0};
	for (;; f++) {
		if (*f == '-')
			sp->left = true;
		else if (*f == '0')
			sp->zero = true;
		else
			break;
	}
	while (*f >= '0' && *f <= '9' && sp->width < 1000)
		sp->width = sp->width * 10 + (unsigned)(*f++ - '0');
	for (;; f++) {
		if (*f == 'l' || *f == 'z')
			sp->lng++;
		else if (*f != 'h')
			break;
	}
	return f;
}

static void fmt_conv(struct fmt_sink *sk, const struct fmt_spec *sp, char c, va_list *ap)
{
	int64_t s;
	uint64_t u;

	switch (c) {
	case 'd':
	case 'i':
		s = sp->lng ? va_arg(*ap, long) : va_arg(*ap, int);
		u = s < 0 ? -(uint64_t)s : (uint64_t)s;
		fmt_num(sk, sp, u, 10, s < 0, false, "");
		break;
	case 'u':
	case 'x':
	case 'X':
		u = sp->lng ? va_arg(*ap, unsigned long) : va_arg(*ap, unsigned int);
		fmt_num(sk, sp, u, c == 'u' ? 10 : 16, false, c == 'X', "");
		break;
	case 'p':
		fmt_num(sk, sp, (uintptr_t)va_arg(*ap, void *), 16, false, false, "0x");
		break;
	case 's':
		fmt_str(sk, sp, va_arg(*ap, const char *));
		break;
	case 'c':
		fmt_put(sk, (char)va_arg(*ap, int));
		break;
	case '%':
		fmt_put(sk, '%');
		break;
	default:
		fmt_put(sk, '%');
		if (c)
			fmt_put(sk, c);
	}
}

static int fmt_core(struct fmt_sink *sk, const char *f, va_list ap)
{
	struct fmt_spec sp;
	va_list aq;

	va_copy(aq, ap);
	while (*f) {
		if (*f != '%') {
			fmt_put(sk, *f++);
			continue;
		}
		f = fmt_parse_spec(f + 1, &sp);
		fmt_conv(sk, &sp, *f, &aq);
		if (*f)
			f++;
	}
	va_end(aq);
	if (sk->buf && sk->size)
		sk->buf[sk->len < sk->size ? sk->len : sk->size - 1] = '\0';
	return sk->len > INT32_MAX ? INT32_MAX : (int)sk->len;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	char dummy;
	struct fmt_sink sk = {.buf = size ? buf : &dummy, .size = size};

	return fmt_core(&sk, fmt, ap);
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int vprintf(const char *fmt, va_list ap)
{
	struct fmt_sink sk = {.buf = NULL};

	return fmt_core(&sk, fmt, ap);
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}
