// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * selftest.c: tests of the guest runtime itself, run as a guest: the formatter, the
 * string helpers, command-line parsing (with every rejection path), a LAPIC self-IPI
 * through the IDT, and the CPU mappings start.S set up.  It needs
 * no device.  Option fault=1 ends with a ud2, fault=2 with a read of an unmapped
 * address, so the host can check that an exception is reported and exits with
 * GUEST_EXIT_EXCEPTION.
 */
#include "guest.h"

#define SELFTEST_VECTOR 0x80

static volatile unsigned irq_hits;
static volatile uint64_t irq_rax;

static void selftest_fmt(const char *want, const char *got)
{
	report(!strcmp(want, got), "format '%s' (got '%s')", want, got);
}

static void selftest_format(void)
{
	char buf[64];
	int n;

	snprintf(buf, sizeof(buf), "%d %i %u", -42, 7, 4000000000u);
	selftest_fmt("-42 7 4000000000", buf);
	snprintf(buf, sizeof(buf), "%x %X %lx %p", 0xbeefu, 0xbeefu, 0x123456789abcul,
		 (void *)0x1000);
	selftest_fmt("beef BEEF 123456789abc 0x1000", buf);
	snprintf(buf, sizeof(buf), "[%5d|%-5d|%05x|%3s|%-3s|%c]", 42, 42, 0xab, "a", "b", 'z');
	selftest_fmt("[   42|42   |000ab|  a|b  |z]", buf);
	snprintf(buf, sizeof(buf), "%ld %lu %zu %%", -9223372036854775807l - 1,
		 18446744073709551615ul, (size_t)3);
	selftest_fmt("-9223372036854775808 18446744073709551615 3 %", buf);
	n = snprintf(buf, 8, "%s", "truncated output");
	report(n == 16 && !strcmp(buf, "truncat"),
	       "snprintf truncates and returns the full length");
	n = snprintf(NULL, 0, "%u", 12345u);
	report(n == 5, "snprintf(NULL, 0) returns the length (%d)", n);
}

static void selftest_string(void)
{
	char a[16] = "abcdef";
	unsigned long v = 0;

	memmove(a + 2, a, 6);
	report(!memcmp(a, "ababcdef", 8), "memmove handles overlap");
	report(strcmp("abc", "abd") < 0 && strcmp("b", "a") > 0 && !strcmp("x", "x"),
	       "strcmp orders");
	report(strstr("find the needle", "needle") && !strstr("abc", "abd"), "strstr");
	report(!str_to_ulong("0x1F", &v) && v == 31, "str_to_ulong hex");
	report(!str_to_ulong("18446744073709551615", &v) && v == ~0ul, "str_to_ulong max");
	report(str_to_ulong("18446744073709551616", &v) == -ERANGE,
	       "str_to_ulong overflow: -ERANGE");
	report(str_to_ulong("", &v) == -EINVAL && str_to_ulong("0x", &v) == -EINVAL &&
		       str_to_ulong("12a", &v) == -EINVAL && str_to_ulong("-1", &v) == -EINVAL,
	       "str_to_ulong rejects empty, bare 0x, trailing junk and signs: -EINVAL");
}

static void selftest_cmdline_bad(struct cmdline *cl)
{
	static char big[CMDLINE_MAX_LEN + 8];
	unsigned long v;
	int r;

	memset(big, 'a', sizeof(big) - 1);
	report(cmdline_parse(cl, big) == -E2BIG && cl->nr == 0, "cmdline too long: -E2BIG");
	for (unsigned i = 0; i <= CMDLINE_MAX_OPTS; i++)
		memcpy(big + 2 * i, "a ", 2);
	big[2 * (CMDLINE_MAX_OPTS + 1)] = '\0';
	r = cmdline_parse(cl, big);
	report(r == -E2BIG && cl->nr == 0, "cmdline with %u options: -E2BIG (%d)",
	       CMDLINE_MAX_OPTS + 1, r);
	report(cmdline_parse(cl, "a=1 =2") == -EINVAL && cl->nr == 0, "empty key: -EINVAL");
	cmdline_parse(cl, "n=12x big=0x10000000000000000 flag lim=11");
	report(cmdline_ulong(cl, "n", 0, 100, &v) == -EINVAL, "non-numeric value: -EINVAL");
	report(cmdline_ulong(cl, "big", 0, ~0ul, &v) == -ERANGE, "overflowing value: -ERANGE");
	report(cmdline_ulong(cl, "flag", 0, 100, &v) == -EINVAL, "bare key as number: -EINVAL");
	report(cmdline_ulong(cl, "lim", 0, 10, &v) == -ERANGE, "value above max: -ERANGE");
}

static void selftest_cmdline(void)
{
	static struct cmdline cl;
	unsigned long v = 0;

	int r = cmdline_parse(&cl, "  bench=20000\tbar=1 verbose x=a=b bar=0x0 ");

	report(r == 0 && cl.nr == 5, "cmdline parses 5 options (%d, %u)", r, cl.nr);
	report(cmdline_get(&cl, "verbose") && !strcmp(cmdline_get(&cl, "verbose"), ""),
	       "bare key has an empty value");
	report(!strcmp(cmdline_get(&cl, "x"), "a=b"), "value keeps later '='");
	report(!cmdline_get(&cl, "missing"), "missing key: NULL");
	report(!cmdline_ulong(&cl, "bar", 5, 1, &v) && v == 0, "last duplicate wins");
	report(!cmdline_ulong(&cl, "bench", 5, 100000, &v) && v == 20000, "decimal value");
	report(!cmdline_ulong(&cl, "missing", 5, 10, &v) && v == 5, "missing key: default");
	report(!cmdline_parse(&cl, "") && cl.nr == 0, "empty cmdline");
	selftest_cmdline_bad(&cl);
	report_note("guest command line has %u options", guest_cmdline()->nr);
}

/* xAPIC registers (SDM vol. 3, 11.4.1 and 11.6.1). */
#define LAPIC_BASE 0xfee00000ull
#define LAPIC_VERSION 0x030
#define LAPIC_EOI 0x0b0
#define LAPIC_SVR 0x0f0
#define LAPIC_SVR_ENABLE 0x100
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_ASSERT 0x4000
#define LAPIC_ICR_SELF 0x40000
#define IRQ_SPIN_LIMIT 100000000ul

static void selftest_irq_handler(struct idt_frame *f)
{
	irq_hits++;
	irq_rax = f->vector;
	writel(0, LAPIC_BASE + LAPIC_EOI);
}

/*
 * A fixed self-IPI through the LAPIC, taken with interrupts briefly on.  (A software
 * "int $n" would be simpler, but PVM's instruction emulator cannot run it.)  %rax holds
 * a marker across the interrupt, so the stubs must restore it.
 */
static void selftest_irq(void)
{
	uint64_t rax = 0x1234, spins = IRQ_SPIN_LIMIT;
	uint32_t ver = readl(LAPIC_BASE + LAPIC_VERSION);

	if (!report((ver & 0xff) >= 0x10 && ver != 0xffffffffu,
		    "LAPIC at 0xfee00000 is mapped and integrated (version 0x%x)", ver))
		return;
	idt_set_handler(SELFTEST_VECTOR, selftest_irq_handler);
	writel(readl(LAPIC_BASE + LAPIC_SVR) | LAPIC_SVR_ENABLE | IDT_SPURIOUS_VECTOR,
	       LAPIC_BASE + LAPIC_SVR);
	writel(LAPIC_ICR_SELF | LAPIC_ICR_ASSERT | SELFTEST_VECTOR, LAPIC_BASE + LAPIC_ICR_LO);
	__asm__ volatile("sti\n"
			 "1: cmpl $0, %[hits]\n"
			 "jne 2f\n"
			 "pause\n"
			 "dec %[spins]\n"
			 "jnz 1b\n"
			 "2: cli"
			 : "+a"(rax), [spins] "+c"(spins)
			 : [hits] "m"(irq_hits)
			 : "memory", "cc");
	idt_set_handler(SELFTEST_VECTOR, NULL);
	report(irq_hits == 1 && irq_rax == SELFTEST_VECTOR && rax == 0x1234,
	       "self-IPI on vector 0x%x runs its handler once and returns with registers intact "
	       "(hits %u)",
	       SELFTEST_VECTOR, irq_hits);
}

static void selftest_cpu(void)
{
	uint64_t cr0, cr4;

	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	report((cr0 & 0x80000001u) == 0x80000001u && (cr4 & 0x20), "paging and PAE on");
	report(idt_set_handler(14, selftest_irq_handler) == -EINVAL &&
		       idt_set_handler(256, selftest_irq_handler) == -EINVAL,
	       "idt_set_handler rejects exception and out-of-range vectors");
	selftest_irq();
	report(guest_start_info()->magic == HVM_START_MAGIC, "start_info magic");
}

int main(void)
{
	selftest_format();
	selftest_string();
	selftest_cmdline();
	selftest_cpu();
	switch (guest_opt_ulong("fault", 0, 2)) {
	case 1:
		report_note("executing ud2: expect a #UD report and exit code 0x%x",
			    GUEST_EXIT_EXCEPTION);
		__asm__ volatile("ud2");
		break;
	case 2:
		report_note("reading 4 GiB, past the identity map: expect a #PF report");
		readl(1ull << 32);
		break;
	}
	return report_summary();
}
