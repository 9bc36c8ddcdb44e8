// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * report.c: results as TAP (Test Anything Protocol 13) on the console, so the same
 * stream on debugcon is both the human log and what the host test parses:
 * "ok N - name", "not ok N - name", "# comment", and the plan "1..N" at the end.
 * It decides nothing about exiting: report_summary() returns the code for main().
 */
#include "guest.h"

static unsigned report_nr, report_failed;

static void report_line(const char *status, const char *directive, const char *fmt, va_list ap)
{
	printf("%s %u - ", status, ++report_nr);
	vprintf(fmt, ap);
	printf("%s\n", directive);
}

bool report(bool pass, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report_line(pass ? "ok" : "not ok", "", fmt, ap);
	va_end(ap);
	if (!pass)
		report_failed++;
	return pass;
}

void report_skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report_line("ok", " # SKIP", fmt, ap);
	va_end(ap);
}

void report_note(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

unsigned report_failures(void)
{
	return report_failed;
}

int report_summary(void)
{
	printf("1..%u\n", report_nr);
	printf("# %u passed, %u failed\n", report_nr - report_failed, report_failed);
	if (report_failed > GUEST_EXIT_MAX_FAILURES)
		return GUEST_EXIT_MAX_FAILURES;
	return (int)report_failed;
}
